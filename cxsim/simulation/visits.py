"""Visits one at a time, compiled: the walks that reach a staffed touchpoint, and its queue.

Where a walk meets staff it meets other clients, so from there it goes on
one step at a time in time order, which a day's batch on arrays cannot do
(``cxsim.simulation.walks``). Done in Python, with one SimPy event per arrival, that
loop cost most of a run: about 8 microseconds a visit, 80% of a 10,000-client
run's time (``docs/scaling.md``). Here it runs compiled (numba): the
walks in flight, their events on one heap ordered as SimPy orders them (by
time, then by when they were scheduled), the stations' FIFO queues, the
walks' ends, their clients' next needs and the needs that fall on the same
day. Python is called back only where the model needs it: before a client
whose last walk may have made it leave joins a queue, the loop stops and
the calendar evaluates first (``cxsim.simulation.calendar``).

The draws are the walk's own keyed sequence (``cxsim.streams``, the same
SplitMix64, compiled), so a walk goes the same way here as on
arrays or in a reference walk one step at a time.

The state is numpy arrays held by :class:`Visits`: the walks in flight, their
events, their visits and the clients' columns are each one array of records
(:data:`WALK`, ``heaps.EVENT``, :data:`VISIT`, :data:`CLIENT`), and the running
counts one record (:data:`TALLY`), which the loop updates in place. The
entry points take them grouped in named tuples (:class:`World`,
:class:`Flight`), which numba caches on disk as plain tuples (a ``jitclass``
would be compiled again at every start), and unpack them once: a tuple of
arrays handed from one compiled function to another takes and releases a
reference to each of its arrays, an atomic operation, and that had cost the
loop most of its time. The helpers take single arrays and records.

Nothing grows inside the loop: it stops and asks (:data:`GROW`) before an
event could run out of walk slots, events or visits, and Python makes room.
A stretch longer than the free visits left is walked on as any other and its
visits stored once there is room (:func:`refill`, from its draws), so the run
is the same whatever room it started with.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from cxsim.model.psychology import patience
from cxsim.simulation.heaps import EVENT, pop, push, schedule, serve
from cxsim.simulation.walks import EXIT, STAFFED, Routes, WalkTable, edge, edge_delay, walk_on
from cxsim.streams import Salt, Walk, compiled_key, compiled_salted, compiled_uniform

__all__ = ["Visits"]

_NEED_GAP, _CHURN, _STEPS = int(Walk.NEED_GAP), int(Walk.CHURN), int(Walk.STEPS)
_PATIENCE = int(Salt.PATIENCE)
_patience = njit(cache=True, inline="always")(patience)

# a walk's pending event: its arrival at a staffed touchpoint, its end, or the moment its
# client stops waiting for a staffed touchpoint (reneges)
ARRIVE, END, RENEGE = 0, 1, 2
CHECKED, FLUSHED, COMPLETED, REDO = 1, 2, 4, 8  # a walk's flags; REDO: its stretch unstored
# why the loop returned
DONE, EVALUATE, GROW = 0, 1, 2
NONE = (-1.0, np.uint64(0))  # no need today

WALK = np.dtype([
    ("client", np.int64), ("firm", np.int64), ("need_at", np.float64), ("key", np.uint64),
    ("position", np.int64), ("node", np.int64), ("kind", np.int64), ("flags", np.int64),
    ("ended", np.float64), ("head", np.int64), ("tail", np.int64), ("length", np.int64),
    ("churn", np.float64), ("left", np.float64), ("redo_node", np.int64),
    ("redo_position", np.int64), ("redo_time", np.float64), ("stamp", np.int64),
    ("stack", np.int64), ("finished", np.int64)], align=True)
"""One slot per walk in flight or ended and not yet handed out: its columns (its visits a
list in the pool from ``head`` to ``tail``; ``left``: when it left its last visit;
``redo_*``: where a stretch not yet stored began; ``stamp``: the call of :func:`collect`
or :func:`hold` that first saw it ended, -1 before). Two stacks share the slots' rows:
``stack[:free]`` the unused slots and ``finished[:finished]`` the ended walks, in the
order they ended (counts in :data:`TALLY`)."""

VISIT = np.dtype([("node", np.int64), ("wait", np.float64), ("link", np.int64)], align=True)
"""Every walk's visits as linked lists; the unused ones are a list too."""

LATER = np.dtype([("client", np.int64), ("firm", np.int64), ("day", np.float64)], align=True)
"""A walk that ended after the day it was walked on, to plan at the next day's start."""

CLIENT = np.dtype([
    ("unresolved", np.int32), ("walk_number", np.uint32), ("churn_bound", np.float64),
    ("need_mean", np.float64), ("next_need", np.float64), ("need_key", np.uint64),
    ("stream", np.uint64), ("need_firm", np.int16)], align=True)
"""Per client, what its walks need and its next need on a later day
(``cxsim.simulation.calendar``)."""

TALLY = np.dtype([("events", np.int64), ("scheduled", np.int64), ("free", np.int64),
                  ("finished", np.int64), ("later", np.int64), ("unused", np.int64),
                  ("room", np.int64), ("keep", np.int64), ("redo", np.int64),
                  ("calls", np.int64)])
"""Events on the heap, events ever scheduled, free walk slots, finished walks, later
walks, the first unused visit of the pool (-1: none), free visits, the free visits kept
before each event (:attr:`Visits.ROOM`), stretches unstored, calls that stamp walks."""

Clock = namedtuple("Clock", "horizon warmup days months")
"""The month grid as the loop needs it."""

Stations = namedtuple("Stations", "start free area")
"""Per touchpoint, its servers ``free[start[n]:start[n + 1]]`` (the day each is free, a
min-heap: the server free first is the first) and the time-integral of its queue over
the measured window."""

World = namedtuple("World", "routes entries firm clients slowdown clock stations")
"""What the loop reads, or updates in place: never replaced. ``firm`` is
``ClientState.firm``, read as the run changes it; ``slowdown`` the months' factor on the
gaps between needs (empty without a shock)."""

Flight = namedtuple("Flight", "walks events tally later pool scratch")
"""The walks in flight, their events, the running counts (:data:`TALLY`), the later walks,
the visits and a buffer for a stretch's visits; grown between calls."""

Arrivals = namedtuple("Arrivals", "client firm need key position node time left length "
                      "visited")
"""Walks of a day's batch that reached a staffed touchpoint, and their visits so far."""


# ------------------------------------------------------------------ walks and their visits
@njit(cache=True)
def _visit(walks, pool, tally, slot, node, wait):
    """Append a visit to the walk's list (the loop keeps room for it)."""
    v = tally.unused
    tally.unused = pool[v].link
    tally.room -= 1
    p = pool[v]
    p.node, p.wait, p.link = node, wait, -1
    w = walks[slot]
    if w.length == 0:
        w.head = v
    else:
        pool[w.tail].link = v
    w.tail = v
    w.length += 1


@njit(cache=True)
def _new_walk(walks, tally, client, firm, need_at, key, position):
    tally.free -= 1
    slot = walks[tally.free].stack
    w = walks[slot]
    w.client, w.firm, w.need_at, w.key, w.position = client, firm, need_at, key, position
    w.kind, w.flags, w.length = ARRIVE, 0, 0
    return slot


@njit(cache=True)
def _free_walk(walks, pool, tally, slot):
    """Return a walk's slot and its visits to their free lists."""
    w = walks[slot]
    v = w.head
    for _ in range(w.length):
        following = pool[v].link
        pool[v].link = tally.unused
        tally.unused = v
        v = following
    tally.room += w.length
    w.length = 0
    walks[tally.free].stack = slot
    tally.free += 1


@njit(cache=True)
def _plan(clients, slowdown, clock, client, firm, t, today, need_now):
    """``Calendar.plan_needs`` for one client: its next need after day *t* (at *t* with
    *need_now*). A need on a later day waits in the calendar; one today is returned
    with its walk's key, to be walked now (:data:`NONE` otherwise)."""
    c = clients[client]
    number = c.walk_number
    c.walk_number = number + 1
    seed = compiled_key(c.stream, client, number)
    if not need_now:
        gap = -math.log1p(-compiled_uniform(seed, _NEED_GAP)) * c.need_mean
        if slowdown.size:
            gap *= slowdown[min(int(t // clock.days), clock.months - 1)]
        t += gap
    if t >= clock.horizon:
        return NONE
    if t >= today + 1:
        c.next_need = t
        c.need_firm = firm
        c.need_key = seed
        return NONE
    return t, seed


@njit(cache=True)
def _end(walks, later, tally, clients, slowdown, clock, slot, t, completed, today):
    """A walk is over at day *t*: out for evaluation; its client's next need planned
    (returned if it falls today, as :func:`_plan`)."""
    w = walks[slot]
    client, firm = w.client, w.firm
    w.ended = t
    w.flags = w.flags | COMPLETED if completed else w.flags & ~COMPLETED
    draw = compiled_uniform(w.key, _CHURN)
    w.churn = draw
    w.stamp = -1
    walks[tally.finished].finished = slot
    tally.finished += 1
    c = clients[client]
    if draw < c.churn_bound:
        c.unresolved += 1
    if t >= today + 1:  # planned with the others at the next day's start
        entry = later[tally.later]
        entry.client, entry.firm, entry.day = client, firm, t
        tally.later += 1
        return NONE
    return _plan(clients, slowdown, clock, client, firm, t, today, False)


@njit(cache=True)
def _gives_up(mean, key, position, left):
    """When a client who began to wait at *left* for a touchpoint of mean patience *mean*
    stops waiting (its draw at *position* of the walk's patience sequence)."""
    return left + _patience(mean, compiled_salted(key, _PATIENCE, position))


@njit(cache=True)
def _toward(walks, events, tally, points, now, slot, node, t, left):
    """The walk, which left its last visit at *left*, reaches staffed *node* at *t*: its
    arrival scheduled, or the moment it stops waiting if its patience runs out first."""
    w = walks[slot]
    w.node, w.left = node, left
    kind, when = ARRIVE, t
    mean = points[node].patience
    if mean > 0.0:
        gives_up = _gives_up(mean, w.key, w.position, left)
        if t > gives_up:
            kind, when = RENEGE, gives_up
    w.kind = kind
    schedule(events, tally, now, max(when - now, 0.0), slot)


@njit(cache=True)
def _renege(walks, pool, later, tally, clients, slowdown, clock, points, slot, now, today):
    """The client stops waiting at *now*: it walks at once to the journey's walk-away
    exit, its wait the visit's. Returns, as :func:`_end`, its next need if that falls
    today."""
    w = walks[slot]
    goes_to = points[w.node].renege_to
    _visit(walks, pool, tally, slot, goes_to, now - w.left)
    i = w.position  # an exit's visit: its service, as walk_on draws it
    w.position = i + 1
    done = now - points[goes_to].service * math.log1p(-compiled_uniform(w.key, i))
    return _end(walks, later, tally, clients, slowdown, clock, slot, done, True, today)


@njit(cache=True)
def _stretch(walks, events, pool, later, tally, scratch, clients, slowdown, clock, points,
             edges, qvalues, now, slot, node, t, today):
    """Walk from *node* at day *t* through unstaffed touchpoints
    (``cxsim.simulation.walks.walk_on``); returns, if the walk ended and its client's next
    need falls today, that need."""
    w = walks[slot]
    start = w.position
    where, node_reached, t_reached, left, position, n, visited = walk_on(
        points, edges, qvalues, w.key, start, node, t, scratch, 0)
    if n > tally.room:  # stored by refill, before anything reads the walk's visits
        w.flags = w.flags | REDO
        w.redo_node, w.redo_position, w.redo_time = node, start, t
        tally.redo += 1
    else:
        for v in range(n):
            _visit(walks, pool, tally, slot, visited[v], 0.0)
    w.position = position
    if where == STAFFED:
        _toward(walks, events, tally, points, now, slot, node_reached, t_reached, left)
        return NONE
    if w.flags & CHECKED:  # it met a queue: over now, evaluated once t has come
        return _end(walks, later, tally, clients, slowdown, clock, slot, t_reached,
                    where == EXIT, today)
    if where == EXIT:  # it met none: its end is its only event
        w.flags = w.flags | COMPLETED
    w.kind = END
    schedule(events, tally, now, max(t_reached - now, 0.0), slot)
    return NONE


@njit(cache=True)
def _walk_now(walks, events, pool, later, tally, scratch, clients, slowdown, clock, points,
              edges, qvalues, entries, now, client, firm, need, today):
    """A need today after the day's batch, walked from the entry (it meets no queue
    before its first event, so it cannot end here and start another)."""
    t, seed = need
    if t < 0.0:
        return
    slot = _new_walk(walks, tally, client, firm, t, seed, _STEPS)
    _stretch(walks, events, pool, later, tally, scratch, clients, slowdown, clock, points,
             edges, qvalues, now, slot, entries[firm], t, today)


@njit(cache=True)
def advance(world, flight, until, today):
    """Process every walk event before day *until*, in time order.

    Returns why it stopped (:data:`DONE`; :data:`EVALUATE`: a client who may
    have left is about to join a queue, evaluate first and call again;
    :data:`GROW`: make room and call again), the time of the last event and
    the client of the walk that asks for the evaluation (-1 if none).
    """
    points, edges, qvalues = world.routes
    entries, firm_of, clients, slowdown, clock = (world.entries, world.firm, world.clients,
                                                  world.slowdown, world.clock)
    starts, free, area = world.stations
    walks, events, later, pool, scratch = (flight.walks, flight.events, flight.later,
                                           flight.pool, flight.scratch)
    tally = flight.tally[0]
    now = -1.0
    while tally.events > 0 and events[0].time < until:
        if tally.free < 2 or tally.later + 2 > later.size or tally.room < tally.keep or \
                tally.redo:
            return GROW, now, -1
        t, order, slot = pop(events, tally)
        now = t
        w = walks[slot]
        client, firm, flags, kind = w.client, w.firm, w.flags, w.kind
        if kind != ARRIVE:  # an end, or a client who stopped waiting; it may have left
            if firm_of[client] != firm:
                _free_walk(walks, pool, tally, slot)
                continue
            if kind == END:
                need = _end(walks, later, tally, clients, slowdown, clock, slot, now,
                            flags & COMPLETED != 0, today)
            else:
                need = _renege(walks, pool, later, tally, clients, slowdown, clock, points,
                               slot, now, today)
            _walk_now(walks, events, pool, later, tally, scratch, clients, slowdown, clock,
                      points, edges, qvalues, entries, now, client, firm, need, today)
            continue
        if not flags & CHECKED:  # before its first queue: is its client still a client?
            if clients[client].unresolved and not flags & FLUSHED:
                w.flags = flags | FLUSHED
                push(events, tally, t, order, slot)
                return EVALUATE, now, client
            w.flags = flags | CHECKED
            if firm_of[client] != firm:
                _free_walk(walks, pool, tally, slot)
                continue
        node = w.node
        point = points[node]
        first = starts[node]
        start = free[first] if free[first] > now else now
        i = w.position
        key = w.key
        mean = point.patience
        gives_up = _gives_up(mean, key, i, w.left) if mean > 0.0 else np.inf
        if start > now:  # the queue's time-integral, up to the start or the client leaving
            low = now if now > clock.warmup else clock.warmup
            high = min(start, gives_up, clock.horizon)
            if high > low:
                area[node] += high - low
        if start > gives_up:  # it leaves the queue when its patience runs out; no server
            w.kind = RENEGE
            schedule(events, tally, now, gives_up - now, slot)
            continue
        w.position = i + 2
        done = start - point.service * math.log1p(-compiled_uniform(key, i))
        serve(free, first, starts[node + 1] - first, done)
        _visit(walks, pool, tally, slot, node, start - now)
        k = 0
        ended = point.is_exit
        if not ended:
            if point.sure:
                w.position = i + 1
            else:
                k = edge(points, edges, node, compiled_uniform(key, i + 1))
            ended = k == point.degree
        if ended:
            need = _end(walks, later, tally, clients, slowdown, clock, slot, done,
                        point.is_exit, today)
        else:
            following = edges[node, k].following
            arrives = done + edge_delay(edges, qvalues, node, k, key, i)
            if points[following].staffed:
                _toward(walks, events, tally, points, now, slot, following, arrives, done)
                continue
            need = _stretch(walks, events, pool, later, tally, scratch, clients, slowdown,
                            clock, points, edges, qvalues, now, slot, following, arrives, today)
        _walk_now(walks, events, pool, later, tally, scratch, clients, slowdown, clock,
                  points, edges, qvalues, entries, now, client, firm, need, today)
    return DONE, now, -1


@njit(cache=True)
def plan_needs(world, flight, now, who, firms, after, today, need_now):
    """``Calendar.plan_needs``: each client's next need after its day in *after* (at it with
    *need_now*), walked now if it falls today."""
    points, edges, qvalues = world.routes
    entries, clients, slowdown, clock = world.entries, world.clients, world.slowdown, world.clock
    walks, events, later, pool, scratch = (flight.walks, flight.events, flight.later,
                                           flight.pool, flight.scratch)
    tally = flight.tally[0]
    for i in range(who.size):
        need = _plan(clients, slowdown, clock, who[i], firms[i], after[i], today, need_now)
        _walk_now(walks, events, pool, later, tally, scratch, clients, slowdown, clock,
                  points, edges, qvalues, entries, now, who[i], firms[i], need, today)


@njit(cache=True)
def arrive(world, flight, now, batch):
    """Walks of a day's batch (:class:`Arrivals`) that reached a staffed touchpoint: in
    flight from there."""
    points = world.routes.touchpoints
    walks, events, pool = flight.walks, flight.events, flight.pool
    tally = flight.tally[0]
    client, firm, need, key, position = (batch.client, batch.firm, batch.need, batch.key,
                                         batch.position)
    node, time, left, length, visited = (batch.node, batch.time, batch.left, batch.length,
                                         batch.visited)
    v = 0
    for w in range(client.size):
        slot = _new_walk(walks, tally, client[w], firm[w], need[w], key[w], position[w])
        for _ in range(length[w]):
            _visit(walks, pool, tally, slot, visited[v], 0.0)
            v += 1
        _toward(walks, events, tally, points, now, slot, node[w], time[w], left[w])


@njit(cache=True)
def refill(world, flight):
    """Store the visits of the stretches that found too little room (:data:`REDO`),
    walked again from where each began; False if there is still too little."""
    points, edges, qvalues = world.routes
    walks, pool, scratch = flight.walks, flight.pool, flight.scratch
    tally = flight.tally[0]
    for slot in range(walks.size):
        w = walks[slot]
        if w.flags & REDO:
            where, node, t, left, position, n, visited = walk_on(
                points, edges, qvalues, w.key, w.redo_position, w.redo_node, w.redo_time,
                scratch, 0)
            if n > tally.room:
                return False
            for v in range(n):
                _visit(walks, pool, tally, slot, visited[v], 0.0)
            w.flags = w.flags & ~REDO
            tally.redo -= 1
    return True


@njit(cache=True)
def hold(flight, client, firm, key, need_at, ended, completed, churn, lengths, nodes):
    """Walks of a day's batch that met no staff: ended, to be handed out with the others
    once their end has come (:func:`collect`)."""
    walks, pool = flight.walks, flight.pool
    tally = flight.tally[0]
    tally.calls += 1
    v = 0
    for j in range(client.size):
        slot = _new_walk(walks, tally, client[j], firm[j], need_at[j], key[j], _STEPS)
        for _ in range(lengths[j]):
            _visit(walks, pool, tally, slot, nodes[v], 0.0)
            v += 1
        w = walks[slot]
        w.ended, w.churn, w.stamp = ended[j], churn[j], tally.calls
        w.flags = COMPLETED if completed[j] else 0
        walks[tally.finished].finished = slot
        tally.finished += 1


@njit(cache=True)
def collect(flight, first, stop, now):
    """The walks over by *now* whose clients are *first* .. *stop* - 1, as the columns of a
    ``WalkTable``, in the order the calendar came to see them: by the call that first saw
    each ended (:func:`hold`, or this one for the walks of these clients), then in the
    order they ended. Their slots are freed; the other ended walks stay, in order."""
    walks, pool = flight.walks, flight.pool
    tally = flight.tally[0]
    tally.calls += 1
    slots = np.empty(tally.finished, np.int64)
    stamps = np.empty(tally.finished, np.int64)
    n = rest = 0
    for i in range(tally.finished):
        slot = walks[i].finished
        w = walks[slot]
        if first <= w.client < stop:
            if w.stamp < 0:
                w.stamp = tally.calls
            if w.ended <= now:
                slots[n], stamps[n] = slot, w.stamp
                n += 1
                continue
        walks[rest].finished = slot
        rest += 1
    slots = slots[:n][np.argsort(stamps[:n], kind="mergesort")]
    client, firm = np.empty(n, np.int64), np.empty(n, np.int64)
    key, need_at = np.empty(n, np.uint64), np.empty(n)
    ended, churn = np.empty(n), np.empty(n)
    completed, lengths = np.empty(n, np.bool_), np.empty(n, np.int64)
    total = 0
    for j in range(n):
        w = walks[slots[j]]
        client[j], firm[j], key[j], need_at[j] = w.client, w.firm, w.key, w.need_at
        ended[j], churn[j], lengths[j] = w.ended, w.churn, w.length
        completed[j] = w.flags & COMPLETED != 0
        total += w.length
    nodes, waits = np.empty(total, np.int64), np.empty(total)
    v = 0
    for j in range(n):
        w = walks[slots[j]]
        x = w.head
        for _ in range(w.length):
            nodes[v], waits[v] = pool[x].node, pool[x].wait
            x = pool[x].link
            v += 1
    for j in range(n):
        _free_walk(walks, pool, tally, slots[j])
    tally.finished = rest
    return client, firm, key, need_at, ended, completed, churn, lengths, nodes, waits


class Visits:
    """The walks in flight between staffed touchpoints, their events and the stations.

    Parameters
    ----------
    routes, entries : every firm's routing table and entry touchpoints (``Routes.of``).
    capacity : staff per touchpoint (0 where unstaffed).
    firm_of : ``ClientState.firm``, read as the run changes it.
    need_mean, churn_bound : per client (``cxsim.simulation.calendar``).
    months : the month grid.
    stream : per client, its word of the run's ``walks`` key (``streams.client_streams``).
    """

    START = (256, 4096)
    """Room at first for walks in flight and their visits; each doubles when full."""

    ROOM = 256
    """Free visits kept before each event: a longer stretch is stored by :func:`refill`."""

    def __init__(self, routes: Routes, entries: list[int], capacity: np.ndarray,
                 firm_of: np.ndarray, need_mean: np.ndarray, churn_bound: np.ndarray, months,
                 stream: np.ndarray) -> None:
        clients = np.zeros(firm_of.size, CLIENT)
        clients["churn_bound"] = churn_bound
        clients["need_mean"] = need_mean
        clients["next_need"] = np.inf
        clients["stream"] = stream
        slowdown = months.need_slowdown if months.shocked else np.empty(0)
        clock = Clock(float(months.horizon), float(months.warmup), float(months.days),
                      int(months.n))
        staff = np.where(routes.arrays.touchpoints["staffed"], capacity, 0).astype(np.int64)
        stations = Stations(np.concatenate(([0], np.cumsum(staff))), np.zeros(int(staff.sum())),
                            np.zeros(staff.size))
        self.world = World(routes.arrays, np.array(entries, dtype=np.int64), firm_of, clients,
                           np.asarray(slowdown, dtype=float), clock, stations)
        walks, visits = self.START
        tally = np.zeros(1, TALLY)
        tally["unused"], tally["room"], tally["keep"] = 0, visits, self.ROOM
        pool = np.zeros(visits, VISIT)
        pool["link"] = np.arange(1, visits + 1)
        pool["link"][-1] = -1
        self.flight = Flight(self._slots(tally[0], None, walks), np.zeros(walks, EVENT), tally,
                             np.zeros(walks, LATER), pool, np.empty(64, np.int64))
        self.now = 0.0

    @staticmethod
    def _slots(tally, old: np.ndarray | None, new: int) -> np.ndarray:
        """Room for *new* walks in flight, keeping the *old* (the stack of free slots gains
        the new ones)."""
        walks = np.zeros(new, WALK)
        free, size = int(tally["free"]), 0
        if old is not None:
            size = old.size
            walks[:size] = old
        walks["stack"][free:free + new - size] = np.arange(size, new)
        tally["free"] = free + new - size
        return walks

    def _make_room(self, walks: int = 2, visits: int = 0) -> None:
        """Grow what the next steps could fill: walk slots and their events, the later
        walks, the visits (at least :attr:`ROOM` free besides *visits*)."""
        flight = self.flight
        tally = flight.tally[0]
        if tally["free"] < walks:
            old = flight.walks.size
            new = max(2 * old, old + walks)
            events = np.zeros(new, EVENT)
            events[:old] = flight.events
            flight = flight._replace(walks=self._slots(tally, flight.walks, new), events=events)
        if tally["later"] + 2 > flight.later.size:
            later = np.zeros(2 * flight.later.size, LATER)
            later[:flight.later.size] = flight.later
            flight = flight._replace(later=later)
        self.flight = flight
        while tally["redo"] and not refill(self.world, self.flight):
            self.flight = self._more_visits(self.flight)
        while tally["room"] < self.ROOM + visits:
            self.flight = self._more_visits(self.flight)

    @staticmethod
    def _more_visits(flight: Flight) -> Flight:
        """Twice the visit pool: the new visits join the front of the free list."""
        tally = flight.tally[0]
        old = flight.pool.size
        pool = np.zeros(2 * old, VISIT)
        pool[:old] = flight.pool
        pool["link"][old:] = np.arange(old + 1, 2 * old + 1)
        pool["link"][-1] = tally["unused"]
        tally["unused"] = old
        tally["room"] += old
        return flight._replace(pool=pool)

    def advance(self, until: float, today: int, evaluate) -> None:
        """Every walk event before day *until*, in time order; *evaluate* is called with
        the client (and :attr:`now` at the event) before a client who may have left joins
        a queue."""
        while True:
            why, now, client = advance(self.world, self.flight, float(until), int(today))
            if why == GROW or self.flight.tally[0]["redo"]:  # redo: its last event's stretch
                self._make_room()
            if why == EVALUATE:
                self.now = float(now)
                evaluate(int(client))
            elif why == DONE:
                break
        self.now = float(until)

    def plan_needs(self, clients: np.ndarray, firms: np.ndarray, after: np.ndarray,
                   today: int, need_now: bool) -> None:
        """``Calendar.plan_needs``: each client's next need, walked now if it falls today."""
        self._make_room(clients.size + 2)
        plan_needs(self.world, self.flight, self.now, clients.astype(np.int64),
                   firms.astype(np.int64), np.asarray(after, dtype=float), int(today),
                   bool(need_now))
        if self.flight.tally[0]["redo"]:
            self._make_room()

    def arrive(self, clients, firms, needs, seeds, positions, nodes, times, left, lengths,
               visited) -> None:
        """Walks of a day's batch that reached a staffed touchpoint (``cxsim.simulation.walks``)."""
        self._make_room(clients.size + 2, visited.size)
        batch = Arrivals(clients.astype(np.int64), firms.astype(np.int64), needs,
                         seeds.astype(np.uint64), positions.astype(np.int64),
                         nodes.astype(np.int64), times, left, lengths.astype(np.int64),
                         visited.astype(np.int64))
        arrive(self.world, self.flight, float(self.now), batch)

    def hold(self, table: WalkTable) -> None:
        """Walks of a day's batch that met no staff, ended (:func:`hold`)."""
        self._make_room(len(table) + 2, table.nodes.size)
        hold(self.flight, table.client.astype(np.int64), table.firm.astype(np.int64),
             table.key.astype(np.uint64), table.need_at, table.ended, table.completed,
             table.churn_draw, table.lengths.astype(np.int64), table.nodes.astype(np.int64))

    def collect(self, now: float, clients: range | None = None) -> WalkTable | None:
        """The walks over by *now*, as a table (:func:`collect`); only those of *clients*
        (a range of ids) if given."""
        if not self.flight.tally[0]["finished"]:
            return None
        first, stop = (0, self.world.firm.size) if clients is None else (
            clients.start, clients.stop)
        table = WalkTable(*collect(self.flight, first, stop, float(now)))
        return table if len(table) else None

    def later(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Walks that ended after the day they were walked on: clients, firms, days."""
        tally = self.flight.tally[0]
        n = int(tally["later"])
        if not n:
            return None
        tally["later"] = 0
        later = self.flight.later[:n]
        return later["client"].copy(), later["firm"].copy(), later["day"].copy()
