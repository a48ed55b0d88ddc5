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

The state is numpy arrays held by :class:`Visits`, grouped in named tuples
(:class:`World`: what the loop reads or updates in place; :class:`Flight`:
the walks in flight, their events and what they leave), which numba
compiles and caches on disk as it does plain tuples (a ``jitclass`` would be
compiled again at every start). The running counts are one record
(:data:`TALLY`) so the loop can update them in place. The helpers called
once a walk take the whole structures and are inlined (``inline="always"``):
called, each would take and release a reference to every array it is handed
(a few percent of a run); the per-visit ones take only what they touch.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from cxsim.model.psychology import patience
from cxsim.simulation.walks import EXIT, STAFFED, Routes, WalkTable, edge, edge_delay, walk_on
from cxsim.streams import Salt, Walk, compiled_key, compiled_salted, compiled_uniform

__all__ = ["Visits"]

_NEED_GAP, _CHURN, _STEPS = int(Walk.NEED_GAP), int(Walk.CHURN), int(Walk.STEPS)
_PATIENCE = int(Salt.PATIENCE)
_patience = njit(cache=True, inline="always")(patience)

# a walk's pending event: its arrival at a staffed touchpoint, its end, or the moment its
# client stops waiting for a staffed touchpoint (reneges)
ARRIVE, END, RENEGE = 0, 1, 2
CHECKED, FLUSHED, COMPLETED = 1, 2, 4  # a walk's flags
# why the loop returned
DONE, EVALUATE, GROW = 0, 1, 2
NONE = (-1.0, np.uint64(0))  # no need today

Walks = namedtuple("Walks", "client firm need_at key position node kind flags ended head tail "
                   "length churn left free")
"""One slot per walk in flight: its columns (its visits are a list in the :class:`Pool`
from ``head`` to ``tail``; ``left``: when it left its last visit); ``free`` stacks the
unused slots."""

Pool = namedtuple("Pool", "node wait link")
"""Every walk's visits as linked lists; the unused ones are a list too."""

Heap = namedtuple("Heap", "time order slot")
"""The walks' pending events, a binary heap by time, then order of scheduling."""

Clients = namedtuple("Clients", "firm unresolved churn_bound need_mean walk_number next_need "
                     "need_firm need_key stream")
"""Per client, what its walks need (``firm`` is ``ClientState.firm``, read as the run
changes it) and its next need on a later day (``cxsim.simulation.calendar``)."""

Clock = namedtuple("Clock", "horizon warmup days months slowdown")
"""The month grid as the loop needs it (``slowdown`` empty without a shock)."""

Stations = namedtuple("Stations", "start free area")
"""Per touchpoint, its servers ``free[start[n]:start[n + 1]]`` (the day each is free)
and the time-integral of its queue over the measured window."""

World = namedtuple("World", "routes entries clients clock stations")
"""What the loop reads, or updates in place: never replaced."""

Later = namedtuple("Later", "client firm day")
"""Walks that ended after the day they were walked on, to plan at the next day's start."""

Flight = namedtuple("Flight", "walks heap tally finished later")
"""The walks in flight, their events, the running counts (:data:`TALLY`), the slots of
those that ended (``finished``) and :class:`Later`; grown between calls."""

Arrivals = namedtuple("Arrivals", "client firm need key position node time left length "
                      "visited")
"""Walks of a day's batch that reached a staffed touchpoint, and their visits so far."""

TALLY = np.dtype([("events", np.int64), ("scheduled", np.int64), ("free", np.int64),
                  ("finished", np.int64), ("later", np.int64), ("unused", np.int64)])
"""Events on the heap, events ever scheduled, free walk slots, finished walks, later
walks, the first unused visit of the pool (-1: full)."""


# ------------------------------------------------------------------ the event heap
@njit(cache=True)
def _before(heap, i, j):
    time, order = heap.time, heap.order
    return time[i] < time[j] or (time[i] == time[j] and order[i] < order[j])


@njit(cache=True)
def _swap(heap, i, j):
    time, order, slot = heap
    time[i], time[j] = time[j], time[i]
    order[i], order[j] = order[j], order[i]
    slot[i], slot[j] = slot[j], slot[i]


@njit(cache=True)
def _push(heap, tally, t, order, slot):
    i = tally.events
    tally.events = i + 1
    heap.time[i], heap.order[i], heap.slot[i] = t, order, slot
    while i > 0:
        parent = (i - 1) // 2
        if not _before(heap, i, parent):
            break
        _swap(heap, i, parent)
        i = parent


@njit(cache=True)
def _pop(heap, tally):
    n = tally.events - 1
    tally.events = n
    _swap(heap, 0, n)
    i = 0
    while True:
        low, left, right = i, 2 * i + 1, 2 * i + 2
        if left < n and _before(heap, left, low):
            low = left
        if right < n and _before(heap, right, low):
            low = right
        if low == i:
            break
        _swap(heap, i, low)
        i = low
    return heap.time[n], heap.order[n], heap.slot[n]


@njit(cache=True)
def _schedule(heap, tally, now, delay, slot):
    """As SimPy's ``Environment.schedule``: at ``now + delay``, after all scheduled before."""
    order = tally.scheduled
    tally.scheduled = order + 1
    _push(heap, tally, now + delay, order, slot)


# ------------------------------------------------------------------ walks and their visits
@njit(cache=True)
def _visit(walks, pool, tally, slot, node, wait):
    """Append a visit to the walk's list; the pool doubles when it is full."""
    v = tally.unused
    if v < 0:
        old = pool.node.size
        grown = Pool(np.empty(2 * old, np.int64), np.empty(2 * old), np.empty(2 * old, np.int64))
        grown.node[:old], grown.wait[:old], grown.link[:old] = pool.node, pool.wait, pool.link
        grown.link[old:] = np.arange(old + 1, 2 * old + 1)
        grown.link[-1] = -1
        pool = grown
        v = old
    tally.unused = pool.link[v]
    pool.node[v], pool.wait[v], pool.link[v] = node, wait, -1
    if walks.length[slot] == 0:
        walks.head[slot] = v
    else:
        pool.link[walks.tail[slot]] = v
    walks.tail[slot] = v
    walks.length[slot] += 1
    return pool


@njit(cache=True)
def _new_walk(walks, tally, client, firm, need_at, key, position):
    tally.free -= 1
    slot = walks.free[tally.free]
    walks.client[slot], walks.firm[slot], walks.need_at[slot] = client, firm, need_at
    walks.key[slot], walks.position[slot] = key, position
    walks.kind[slot], walks.flags[slot], walks.length[slot] = ARRIVE, 0, 0
    return slot


@njit(cache=True)
def _free_walk(walks, pool, tally, slot):
    """Return a walk's slot and its visits to their free lists."""
    v = walks.head[slot]
    for _ in range(walks.length[slot]):
        following = pool.link[v]
        pool.link[v] = tally.unused
        tally.unused = v
        v = following
    walks.length[slot] = 0
    walks.free[tally.free] = slot
    tally.free += 1


@njit(cache=True, inline="always")
def _plan(world, client, firm, t, today, need_now):
    """``Calendar.plan_needs`` for one client: its next need after day *t* (at *t* with
    *need_now*). A need on a later day waits in the calendar; one today is returned
    with its walk's key, to be walked now (:data:`NONE` otherwise)."""
    clients, clock = world.clients, world.clock
    number = clients.walk_number[client]
    clients.walk_number[client] = number + 1
    seed = compiled_key(clients.stream[client], client, number)
    if not need_now:
        gap = -math.log1p(-compiled_uniform(seed, _NEED_GAP)) * clients.need_mean[client]
        if clock.slowdown.size:
            gap *= clock.slowdown[min(int(t // clock.days), clock.months - 1)]
        t += gap
    if t >= clock.horizon:
        return NONE
    if t >= today + 1:
        clients.next_need[client] = t
        clients.need_firm[client] = firm
        clients.need_key[client] = seed
        return NONE
    return t, seed


@njit(cache=True, inline="always")
def _end(world, flight, slot, t, completed, today):
    """A walk is over at day *t*: out for evaluation; its client's next need planned
    (returned if it falls today, as :func:`_plan`)."""
    walks, tally, later = flight.walks, flight.tally[0], flight.later
    client, firm = walks.client[slot], walks.firm[slot]
    walks.ended[slot] = t
    if completed:
        walks.flags[slot] |= COMPLETED
    else:
        walks.flags[slot] &= ~COMPLETED
    draw = compiled_uniform(walks.key[slot], _CHURN)
    walks.churn[slot] = draw
    flight.finished[tally.finished] = slot
    tally.finished += 1
    if draw < world.clients.churn_bound[client]:
        world.clients.unresolved[client] += 1
    if t >= today + 1:  # planned with the others at the next day's start
        i = tally.later
        later.client[i], later.firm[i], later.day[i] = client, firm, t
        tally.later = i + 1
        return NONE
    return _plan(world, client, firm, t, today, False)


@njit(cache=True)
def _gives_up(mean, key, position, left):
    """When a client who began to wait at *left* for a touchpoint of mean patience *mean*
    stops waiting (its draw at *position* of the walk's patience sequence)."""
    return left + _patience(mean, compiled_salted(key, _PATIENCE, position))


@njit(cache=True, inline="always")
def _toward(world, flight, now, slot, node, t, left):
    """The walk, which left its last visit at *left*, reaches staffed *node* at *t*: its
    arrival scheduled, or the moment it stops waiting if its patience runs out first."""
    walks = flight.walks
    walks.node[slot], walks.left[slot] = node, left
    kind, when = ARRIVE, t
    mean = world.routes.patience[node]
    if mean > 0.0:
        gives_up = _gives_up(mean, walks.key[slot], walks.position[slot], left)
        if t > gives_up:
            kind, when = RENEGE, gives_up
    walks.kind[slot] = kind
    _schedule(flight.heap, flight.tally[0], now, max(when - now, 0.0), slot)


@njit(cache=True)
def _renege(world, flight, pool, slot, now, today):
    """The client stops waiting at *now*: it walks at once to the journey's walk-away
    exit, its wait the visit's. Returns the pool and, as :func:`_end`, its next need if
    that falls today."""
    walks, tally = flight.walks, flight.tally[0]
    service = world.routes.service
    goes_to = world.routes.renege_to[walks.node[slot]]
    pool = _visit(walks, pool, tally, slot, goes_to, now - walks.left[slot])
    i = walks.position[slot]  # an exit's visit: its service, as walk_on draws it
    walks.position[slot] = i + 1
    done = now - service[goes_to] * math.log1p(-compiled_uniform(walks.key[slot], i))
    return pool, _end(world, flight, slot, done, True, today)


@njit(cache=True, inline="always")
def _stretch(world, flight, pool, now, slot, node, t, today):
    """Walk from *node* at day *t* through unstaffed touchpoints
    (``cxsim.simulation.walks.walk_on``); returns the pool and, if the walk ended and its
    client's next need falls today, that need."""
    walks, tally = flight.walks, flight.tally[0]
    where, node, t, left, position, n, visited = walk_on(
        world.routes, walks.key[slot], walks.position[slot], node, t, np.empty(16, np.int64), 0)
    for v in range(n):
        pool = _visit(walks, pool, tally, slot, visited[v], 0.0)
    walks.position[slot] = position
    if where == STAFFED:
        _toward(world, flight, now, slot, node, t, left)
        return pool, NONE
    if walks.flags[slot] & CHECKED:  # it met a queue: over now, evaluated once t has come
        return pool, _end(world, flight, slot, t, where == EXIT, today)
    if where == EXIT:  # it met none: its end is its only event
        walks.flags[slot] |= COMPLETED
    walks.kind[slot] = END
    _schedule(flight.heap, tally, now, max(t - now, 0.0), slot)
    return pool, NONE


@njit(cache=True, inline="always")
def _walk_now(world, flight, pool, now, client, firm, need, today):
    """A need today after the day's batch, walked from the entry (it meets no queue
    before its first event, so it cannot end here and start another)."""
    t, seed = need
    if t < 0.0:
        return pool
    slot = _new_walk(flight.walks, flight.tally[0], client, firm, t, seed, _STEPS)
    pool, _ = _stretch(world, flight, pool, now, slot, world.entries[firm], t, today)
    return pool


@njit(cache=True)
def advance(world, flight, pool, until, today):
    """Process every walk event before day *until*, in time order.

    Returns why it stopped (:data:`DONE`; :data:`EVALUATE`: a client who may
    have left is about to join a queue, evaluate first and call again;
    :data:`GROW`: make room and call again), the time of the last event, the
    client of the walk that asks for the evaluation (-1 if none) and the
    visit pool.
    """
    routes = world.routes
    staffed, service, is_exit, sure = routes.staffed, routes.service, routes.is_exit, routes.sure
    degree, cumulative, following = routes.degree, routes.cumulative, routes.following
    clients, clock, stations = world.clients, world.clock, world.stations
    walks, heap, tally = flight.walks, flight.heap, flight.tally[0]
    now = -1.0
    while tally.events > 0 and heap.time[0] < until:
        if tally.free < 2 or tally.finished + 2 > flight.finished.size or \
                tally.later + 2 > flight.later.client.size:
            return GROW, now, -1, pool
        t, order, slot = _pop(heap, tally)
        now = t
        client, firm, flags = walks.client[slot], walks.firm[slot], walks.flags[slot]
        kind = walks.kind[slot]
        if kind != ARRIVE:  # an end, or a client who stopped waiting; it may have left
            if clients.firm[client] != firm:
                _free_walk(walks, pool, tally, slot)
                continue
            if kind == END:
                need = _end(world, flight, slot, now, flags & COMPLETED != 0, today)
            else:
                pool, need = _renege(world, flight, pool, slot, now, today)
            pool = _walk_now(world, flight, pool, now, client, firm, need, today)
            continue
        if not flags & CHECKED:  # before its first queue: is its client still a client?
            if clients.unresolved[client] and not flags & FLUSHED:
                walks.flags[slot] = flags | FLUSHED
                _push(heap, tally, t, order, slot)
                return EVALUATE, now, client, pool
            walks.flags[slot] = flags | CHECKED
            if clients.firm[client] != firm:
                _free_walk(walks, pool, tally, slot)
                continue
        node = walks.node[slot]
        free = stations.free
        first = stations.start[node]  # the server free first: FIFO (Kiefer-Wolfowitz)
        for s in range(first + 1, stations.start[node + 1]):
            if free[s] < free[first]:
                first = s
        start = free[first] if free[first] > now else now
        i = walks.position[slot]
        key = walks.key[slot]
        mean = routes.patience[node]
        gives_up = _gives_up(mean, key, i, walks.left[slot]) if mean > 0.0 else np.inf
        if start > now:  # the queue's time-integral, up to the start or the client leaving
            low = now if now > clock.warmup else clock.warmup
            high = min(start, gives_up, clock.horizon)
            if high > low:
                stations.area[node] += high - low
        if start > gives_up:  # it leaves the queue when its patience runs out; no server
            walks.kind[slot] = RENEGE
            _schedule(heap, tally, now, gives_up - now, slot)
            continue
        walks.position[slot] = i + 2
        done = start - service[node] * math.log1p(-compiled_uniform(key, i))
        free[first] = done
        pool = _visit(walks, pool, tally, slot, node, start - now)
        k = 0
        ended = is_exit[node]
        if not ended:
            if sure[node]:
                walks.position[slot] = i + 1
            else:
                k = edge(cumulative, degree, node, compiled_uniform(key, i + 1))
            ended = k == degree[node]
        if ended:
            need = _end(world, flight, slot, done, is_exit[node], today)
        elif staffed[following[node, k]]:
            _toward(world, flight, now, slot, following[node, k],
                    done + edge_delay(routes, node, k, key, i), done)
            continue
        else:
            pool, need = _stretch(world, flight, pool, now, slot, following[node, k],
                                  done + edge_delay(routes, node, k, key, i), today)
        pool = _walk_now(world, flight, pool, now, client, firm, need, today)
    return DONE, now, -1, pool


@njit(cache=True)
def plan_needs(world, flight, pool, now, who, firms, after, today, need_now):
    """``Calendar.plan_needs``: each client's next need after its day in *after* (at it with
    *need_now*), walked now if it falls today."""
    for i in range(who.size):
        need = _plan(world, who[i], firms[i], after[i], today, need_now)
        pool = _walk_now(world, flight, pool, now, who[i], firms[i], need, today)
    return pool


@njit(cache=True)
def arrive(world, flight, pool, now, batch):
    """Walks of a day's batch (:class:`Arrivals`) that reached a staffed touchpoint: in
    flight from there."""
    walks, tally = flight.walks, flight.tally[0]
    v = 0
    for w in range(batch.client.size):
        slot = _new_walk(walks, tally, batch.client[w], batch.firm[w], batch.need[w],
                         batch.key[w], batch.position[w])
        for _ in range(batch.length[w]):
            pool = _visit(walks, pool, tally, slot, batch.visited[v], 0.0)
            v += 1
        _toward(world, flight, now, slot, batch.node[w], batch.time[w], batch.left[w])
    return pool


@njit(cache=True)
def collect(flight, pool, first, stop):
    """The walks that ended whose clients are *first* .. *stop* - 1, as the columns of a
    ``WalkTable``; their slots freed, the others' left in order."""
    walks, tally, finished = flight.walks, flight.tally[0], flight.finished
    slots = np.empty(tally.finished, np.int64)
    n = rest = 0
    for i in range(tally.finished):
        slot = finished[i]
        if first <= walks.client[slot] < stop:
            slots[n] = slot
            n += 1
        else:
            finished[rest] = slot
            rest += 1
    slots = slots[:n]
    lengths = walks.length[slots].copy()
    nodes, waits = np.empty(lengths.sum(), np.int64), np.empty(lengths.sum())
    v = 0
    for slot in slots:
        x = walks.head[slot]
        for _ in range(walks.length[slot]):
            nodes[v], waits[v] = pool.node[x], pool.wait[x]
            x = pool.link[x]
            v += 1
    columns = (walks.client[slots], walks.firm[slots], walks.key[slots], walks.need_at[slots],
               walks.ended[slots], (walks.flags[slots] & COMPLETED) != 0, walks.churn[slots],
               lengths, nodes, waits)
    for slot in slots:
        _free_walk(walks, pool, tally, slot)
    tally.finished = rest
    return columns


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

    _KINDS = Walks(np.int64, np.int64, float, np.uint64, np.int64, np.int64, np.int64, np.int64,
                   float, np.int64, np.int64, np.int64, float, float, np.int64)

    def __init__(self, routes: Routes, entries: list[int], capacity: np.ndarray,
                 firm_of: np.ndarray, need_mean: np.ndarray, churn_bound: np.ndarray, months,
                 stream: np.ndarray) -> None:
        size = firm_of.size
        clients = Clients(firm_of, np.zeros(size, np.int32), churn_bound.astype(float),
                          need_mean.astype(float), np.zeros(size, np.uint32),
                          np.full(size, np.inf), np.zeros(size, np.int16),
                          np.zeros(size, np.uint64), stream.astype(np.uint64))
        slowdown = months.need_slowdown if months.shocked else np.empty(0)
        clock = Clock(float(months.horizon), float(months.warmup), float(months.days),
                      int(months.n), slowdown)
        staff = np.where(routes.staffed, capacity, 0).astype(np.int64)
        stations = Stations(np.concatenate(([0], np.cumsum(staff))), np.zeros(int(staff.sum())),
                            np.zeros(staff.size))
        self.world = World(routes.arrays, np.array(entries, dtype=np.int64), clients, clock,
                           stations)
        walks, visits = self.START
        tally = np.zeros(1, TALLY)
        self.flight = Flight(self._slots(tally[0], None, walks),
                             Heap(np.empty(walks), np.empty(walks, np.int64),
                                  np.empty(walks, np.int64)),
                             tally, np.empty(walks, np.int64),
                             Later(np.empty(walks, np.int64), np.empty(walks, np.int64),
                                   np.empty(walks)))
        links = np.arange(1, visits + 1)
        links[-1] = -1
        self.pool = Pool(np.empty(visits, np.int64), np.empty(visits), links)
        self.now = 0.0

    @classmethod
    def _slots(cls, tally, old: Walks | None, new: int) -> Walks:
        """Room for *new* walks in flight, keeping the *old* (the stack of free slots gains
        the new ones)."""
        walks = Walks(*(np.zeros(new, kind) for kind in cls._KINDS))
        free, size = int(tally["free"]), 0
        if old is not None:
            size = old.client.size
            for column, before in zip(walks, old):
                column[:size] = before
            walks.free[:free] = old.free[:free]
        walks.free[free:free + new - size] = np.arange(size, new)
        tally["free"] = free + new - size
        return walks

    def _make_room(self, walks: int = 2) -> None:
        """Grow what the next steps could fill: slots and heap, the buffers of ended walks."""
        flight = self.flight
        tally = flight.tally[0]
        if tally["free"] < walks:
            old = flight.walks.client.size
            new = max(2 * old, old + walks)
            flight = flight._replace(
                walks=self._slots(tally, flight.walks, new),
                heap=Heap(*(np.concatenate((column, np.empty(new - old, column.dtype)))
                            for column in flight.heap)))
        if tally["finished"] + 2 > flight.finished.size or \
                tally["later"] + 2 > flight.later.client.size:
            flight = flight._replace(
                finished=np.concatenate((flight.finished, np.empty_like(flight.finished))),
                later=Later(*(np.concatenate((column, np.empty_like(column)))
                              for column in flight.later)))
        self.flight = flight

    def advance(self, until: float, today: int, evaluate) -> None:
        """Every walk event before day *until*, in time order; *evaluate* is called with
        the client (and :attr:`now` at the event) before a client who may have left joins
        a queue."""
        while True:
            why, now, client, self.pool = advance(self.world, self.flight, self.pool,
                                                  float(until), int(today))
            if why == GROW:
                self._make_room()
            elif why == EVALUATE:
                self.now = float(now)
                evaluate(int(client))
            else:
                break
        self.now = float(until)

    def plan_needs(self, clients: np.ndarray, firms: np.ndarray, after: np.ndarray,
                   today: int, need_now: bool) -> None:
        """``Calendar.plan_needs``: each client's next need, walked now if it falls today."""
        self._make_room(clients.size + 2)
        self.pool = plan_needs(self.world, self.flight, self.pool, self.now,
                               clients.astype(np.int64), firms.astype(np.int64),
                               np.asarray(after, dtype=float), int(today), bool(need_now))

    def arrive(self, clients, firms, needs, seeds, positions, nodes, times, left, lengths,
               visited) -> None:
        """Walks of a day's batch that reached a staffed touchpoint (``cxsim.simulation.walks``)."""
        self._make_room(clients.size + 2)
        batch = Arrivals(clients.astype(np.int64), firms.astype(np.int64), needs,
                         seeds.astype(np.uint64), positions.astype(np.int64),
                         nodes.astype(np.int64), times, left, lengths.astype(np.int64),
                         visited.astype(np.int64))
        self.pool = arrive(self.world, self.flight, self.pool, float(self.now), batch)

    def collect(self, clients: range | None = None) -> WalkTable | None:
        """The walks that have ended (some may end later than now), as a table; only
        those of *clients* (a range of ids) if given."""
        if not self.flight.tally[0]["finished"]:
            return None
        first, stop = (0, self.world.clients.firm.size) if clients is None else (
            clients.start, clients.stop)
        table = WalkTable(*collect(self.flight, self.pool, first, stop))
        return table if len(table) else None

    def later(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Walks that ended after the day they were walked on: clients, firms, days."""
        tally = self.flight.tally[0]
        n = int(tally["later"])
        if not n:
            return None
        tally["later"] = 0
        return tuple(column[:n].copy() for column in self.flight.later)
