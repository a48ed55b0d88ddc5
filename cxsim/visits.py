"""Visits one at a time, compiled: the walks that reach a staffed touchpoint, and its queue.

Where a walk meets staff it meets other clients, so from there it goes on
one step at a time in time order, which a day's batch on arrays cannot do
(``cxsim.walks``). Done in Python, with one SimPy event per arrival, that
loop cost most of a run: about 8 microseconds a visit, 80% of a 10,000-client
run's time (``docs/scaling.md``). Here it runs compiled (numba): the
walks in flight, their events on one heap ordered as SimPy orders them (by
time, then by when they were scheduled), the stations' FIFO queues, the
walks' ends, their clients' next needs and the needs that fall on the same
day. Python is called back only where the model needs it: before a client
whose last walk may have made it leave joins a queue, the loop stops and
the calendar evaluates first (``cxsim.calendar``).

The draws are the walk's own keyed sequence (``cxsim.streams``, the same
SplitMix64, compiled), so a walk goes the same way here as on
arrays or in a reference walk one step at a time.

All state is in numpy arrays held by :class:`Visits`; the compiled functions
take them as tuples and grow what fills up.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from cxsim.streams import Walk, compiled_key, compiled_uniform
from cxsim.walks import EXIT, STAFFED, Routes, WalkTable, edge, walk_on

__all__ = ["Visits"]

_NEED_GAP, _CHURN, _STEPS = int(Walk.NEED_GAP), int(Walk.CHURN), int(Walk.STEPS)

ARRIVE, END = 0, 1  # a walk's pending event: its arrival at a staffed touchpoint, or its end
CHECKED, FLUSHED, COMPLETED = 1, 2, 4  # a walk's flags
# a walk's columns (one slot per walk in flight; FREE_SLOTS stacks the unused)
CLIENT, FIRM, NEED_AT, KEY, POSITION, NODE, KIND, FLAGS, ENDED, HEAD, TAIL, LENGTH, CHURN, \
    FREE_SLOTS = range(14)
# a client's columns
FIRM_OF, UNRESOLVED, CHURN_BOUND, NEED_MEAN, WALK_NUMBER, NEXT_NEED, NEED_FIRM, NEED_KEY, \
    STREAM = range(9)
# the counters
HEAP, SEQUENCE, FREE, FINISHED, LATER, POOL = range(6)
# why the loop returned
DONE, EVALUATE, GROW = 0, 1, 2
NONE = (-1.0, np.uint64(0))  # no need today


# ------------------------------------------------------------------ the event heap
@njit(cache=True)
def _before(times, order, i, j):
    return times[i] < times[j] or (times[i] == times[j] and order[i] < order[j])


@njit(cache=True)
def _swap(heap, i, j):
    times, orders, slots = heap
    times[i], times[j] = times[j], times[i]
    orders[i], orders[j] = orders[j], orders[i]
    slots[i], slots[j] = slots[j], slots[i]


@njit(cache=True)
def _push(heap, counters, t, order, slot):
    times, orders, slots = heap
    i = counters[HEAP]
    counters[HEAP] = i + 1
    times[i], orders[i], slots[i] = t, order, slot
    while i > 0:
        parent = (i - 1) // 2
        if not _before(times, orders, i, parent):
            break
        _swap(heap, i, parent)
        i = parent


@njit(cache=True)
def _pop(heap, counters):
    times, orders, slots = heap
    n = counters[HEAP] - 1
    counters[HEAP] = n
    _swap(heap, 0, n)
    i = 0
    while True:
        low, left, right = i, 2 * i + 1, 2 * i + 2
        if left < n and _before(times, orders, left, low):
            low = left
        if right < n and _before(times, orders, right, low):
            low = right
        if low == i:
            break
        _swap(heap, i, low)
        i = low
    return times[n], orders[n], slots[n]


@njit(cache=True)
def _schedule(heap, counters, now, delay, slot):
    """As SimPy's ``Environment.schedule``: at ``now + delay``, after all scheduled before."""
    order = counters[SEQUENCE]
    counters[SEQUENCE] = order + 1
    _push(heap, counters, now + delay, order, slot)


# ------------------------------------------------------------------ walks and their visits
@njit(cache=True)
def _visit(walks, pool, counters, slot, node, wait):
    """Append a visit to the walk's list; the pool doubles when it is full."""
    nodes, waits, links = pool
    v = counters[POOL]
    if v < 0:
        old = nodes.size
        nodes, waits, links = (np.empty(2 * old, np.int64), np.empty(2 * old),
                               np.empty(2 * old, np.int64))
        nodes[:old], waits[:old], links[:old] = pool[0], pool[1], pool[2]
        links[old:] = np.arange(old + 1, 2 * old + 1)
        links[-1] = -1
        pool = (nodes, waits, links)
        v = old
    counters[POOL] = links[v]
    nodes[v], waits[v], links[v] = node, wait, -1
    if walks[LENGTH][slot] == 0:
        walks[HEAD][slot] = v
    else:
        links[walks[TAIL][slot]] = v
    walks[TAIL][slot] = v
    walks[LENGTH][slot] += 1
    return pool


@njit(cache=True)
def _new_walk(walks, counters, client, firm, need_at, key, position):
    counters[FREE] -= 1
    slot = walks[FREE_SLOTS][counters[FREE]]
    walks[CLIENT][slot], walks[FIRM][slot], walks[NEED_AT][slot] = client, firm, need_at
    walks[KEY][slot], walks[POSITION][slot] = key, position
    walks[KIND][slot], walks[FLAGS][slot], walks[LENGTH][slot] = ARRIVE, 0, 0
    return slot


@njit(cache=True)
def _free_walk(walks, pool, counters, slot):
    """Return a walk's slot and its visits to their free lists."""
    links = pool[2]
    v = walks[HEAD][slot]
    for _ in range(walks[LENGTH][slot]):
        following = links[v]
        links[v] = counters[POOL]
        counters[POOL] = v
        v = following
    walks[LENGTH][slot] = 0
    walks[FREE_SLOTS][counters[FREE]] = slot
    counters[FREE] += 1


@njit(cache=True)
def _plan(walks, clients, params, counters, client, firm, t, today, need_now):
    """``Calendar.plan_needs`` for one client: its next need after day *t* (at *t* with
    *need_now*). A need on a later day waits in the calendar; one today is returned
    with its walk's key, to be walked now (:data:`NONE` otherwise)."""
    horizon, days, months, slowdown = params[0], params[2], params[3], params[4]
    number = clients[WALK_NUMBER][client]
    clients[WALK_NUMBER][client] = number + 1
    seed = compiled_key(clients[STREAM][client], client, number)
    if not need_now:
        gap = -math.log1p(-compiled_uniform(seed, _NEED_GAP)) * clients[NEED_MEAN][client]
        if slowdown.size:
            gap *= slowdown[min(int(t // days), months - 1)]
        t += gap
    if t >= horizon:
        return NONE
    if t >= today + 1:
        clients[NEXT_NEED][client] = t
        clients[NEED_FIRM][client] = firm
        clients[NEED_KEY][client] = seed
        return NONE
    return t, seed


@njit(cache=True)
def _end(walks, clients, params, out, counters, slot, t, completed, today):
    """A walk is over at day *t*: out for evaluation; its client's next need planned
    (returned if it falls today, as :func:`_plan`)."""
    client, firm = walks[CLIENT][slot], walks[FIRM][slot]
    walks[ENDED][slot] = t
    if completed:
        walks[FLAGS][slot] |= COMPLETED
    else:
        walks[FLAGS][slot] &= ~COMPLETED
    draw = compiled_uniform(walks[KEY][slot], _CHURN)
    walks[CHURN][slot] = draw
    finished, later_client, later_firm, later_t = out
    finished[counters[FINISHED]] = slot
    counters[FINISHED] += 1
    if draw < clients[CHURN_BOUND][client]:
        clients[UNRESOLVED][client] += 1
    if t >= today + 1:  # planned with the others at the next day's start
        i = counters[LATER]
        later_client[i], later_firm[i], later_t[i] = client, firm, t
        counters[LATER] = i + 1
        return NONE
    return _plan(walks, clients, params, counters, client, firm, t, today, False)


@njit(cache=True)
def _stretch(routes, walks, pool, heap, counters, clients, params, out, now, slot, node, t,
             today):
    """Walk from *node* at day *t* through unstaffed touchpoints (``cxsim.walks.walk_on``);
    returns the pool and, if the walk ended and its client's next need falls today, that
    need."""
    where, node, t, position, n, visited = walk_on(
        routes[0], walks[KEY][slot], walks[POSITION][slot], node, t, np.empty(16, np.int64), 0)
    for v in range(n):
        pool = _visit(walks, pool, counters, slot, visited[v], 0.0)
    walks[POSITION][slot] = position
    if where == STAFFED:
        walks[NODE][slot] = node
        walks[KIND][slot] = ARRIVE
    elif walks[FLAGS][slot] & CHECKED:  # it met a queue: over now, evaluated once t has come
        return pool, _end(walks, clients, params, out, counters, slot, t, where == EXIT, today)
    else:  # it met none: its end is its only event
        if where == EXIT:
            walks[FLAGS][slot] |= COMPLETED
        walks[KIND][slot] = END
    _schedule(heap, counters, now, max(t - now, 0.0), slot)
    return pool, NONE


@njit(cache=True)
def _walk_now(routes, walks, pool, heap, counters, clients, params, out, now, client, firm,
              need, today):
    """A need today after the day's batch, walked from the entry (it meets no queue
    before its first event, so it cannot end here and start another)."""
    t, seed = need
    if t < 0.0:
        return pool
    slot = _new_walk(walks, counters, client, firm, t, seed, _STEPS)
    pool, _ = _stretch(routes, walks, pool, heap, counters, clients, params, out, now, slot,
                       routes[1][firm], t, today)
    return pool


@njit(cache=True)
def _has_room(walks, counters, out):
    return counters[FREE] >= 2 and counters[FINISHED] + 2 <= out[0].size and \
        counters[LATER] + 2 <= out[1].size


@njit(cache=True)
def advance(routes, walks, pool, heap, counters, clients, params, out, stations, until, today):
    """Process every walk event before day *until*, in time order.

    Returns why it stopped (:data:`DONE`; :data:`EVALUATE`: a client who may
    have left is about to join a queue, evaluate first and call again;
    :data:`GROW`: make room and call again), the time of the last event, the
    client of the walk that asks for the evaluation (-1 if none) and the
    visit pool.
    """
    staffed, service, is_exit, sure, degree, cumulative, following, delay = routes[0]
    free_start, free, area = stations
    horizon, warmup = params[0], params[1]
    now = -1.0
    while counters[HEAP] > 0 and heap[0][0] < until:
        if not _has_room(walks, counters, out):
            return GROW, now, -1, pool
        t, order, slot = _pop(heap, counters)
        now = t
        client, firm, flags = walks[CLIENT][slot], walks[FIRM][slot], walks[FLAGS][slot]
        if walks[KIND][slot] == END:  # a walk that met no queue; its client may have left
            if clients[FIRM_OF][client] == firm:
                need = _end(walks, clients, params, out, counters, slot, now,
                            flags & COMPLETED != 0, today)
                pool = _walk_now(routes, walks, pool, heap, counters, clients, params, out, now,
                                 client, firm, need, today)
            else:
                _free_walk(walks, pool, counters, slot)
            continue
        if not flags & CHECKED:  # before its first queue: is its client still a client?
            if clients[UNRESOLVED][client] and not flags & FLUSHED:
                walks[FLAGS][slot] = flags | FLUSHED
                _push(heap, counters, t, order, slot)
                return EVALUATE, now, client, pool
            walks[FLAGS][slot] = flags | CHECKED
            if clients[FIRM_OF][client] != firm:
                _free_walk(walks, pool, counters, slot)
                continue
        node = walks[NODE][slot]
        first = free_start[node]  # the server free first: FIFO (Kiefer-Wolfowitz)
        for s in range(first + 1, free_start[node + 1]):
            if free[s] < free[first]:
                first = s
        start = free[first] if free[first] > now else now
        i = walks[POSITION][slot]
        walks[POSITION][slot] = i + 2
        key = walks[KEY][slot]
        done = start - service[node] * math.log1p(-compiled_uniform(key, i))
        free[first] = done
        if start > now:
            low = now if now > warmup else warmup
            high = start if start < horizon else horizon
            if high > low:
                area[node] += high - low
        pool = _visit(walks, pool, counters, slot, node, start - now)
        k = 0
        ended = is_exit[node]
        if not ended:
            if sure[node]:
                walks[POSITION][slot] = i + 1
            else:
                k = edge(cumulative, degree, node, compiled_uniform(key, i + 1))
            ended = k == degree[node]
        if ended:
            need = _end(walks, clients, params, out, counters, slot, done, is_exit[node],
                        today)
        elif staffed[following[node, k]]:
            walks[NODE][slot] = following[node, k]
            _schedule(heap, counters, now, done + delay[node, k] - now, slot)
            continue
        else:
            pool, need = _stretch(routes, walks, pool, heap, counters, clients, params, out, now,
                                  slot, following[node, k], done + delay[node, k], today)
        pool = _walk_now(routes, walks, pool, heap, counters, clients, params, out, now, client,
                         firm, need, today)
    return DONE, now, -1, pool


@njit(cache=True)
def plan_needs(routes, walks, pool, heap, counters, clients, params, out, now, who, firms, after,
               today, need_now):
    """``Calendar.plan_needs``: each client's next need after its day in *after* (at it with
    *need_now*), walked now if it falls today."""
    for i in range(who.size):
        need = _plan(walks, clients, params, counters, who[i], firms[i], after[i], today,
                     need_now)
        pool = _walk_now(routes, walks, pool, heap, counters, clients, params, out, now, who[i],
                         firms[i], need, today)
    return pool


@njit(cache=True)
def arrive(walks, pool, heap, counters, now, clients, firms, needs, seeds, positions, nodes,
           times, lengths, visited):
    """Walks of a day's batch that reached a staffed touchpoint: in flight from there."""
    v = 0
    for w in range(clients.size):
        slot = _new_walk(walks, counters, clients[w], firms[w], needs[w], seeds[w], positions[w])
        for _ in range(lengths[w]):
            pool = _visit(walks, pool, counters, slot, visited[v], 0.0)
            v += 1
        walks[NODE][slot] = nodes[w]
        _schedule(heap, counters, now, times[w] - now, slot)
    return pool


@njit(cache=True)
def collect(walks, pool, counters, out, first, stop):
    """The walks that ended whose clients are *first* .. *stop* - 1, as the columns of a
    ``WalkTable``; their slots freed, the others' left in order."""
    finished = out[0]
    slots = np.empty(counters[FINISHED], np.int64)
    n = rest = 0
    for i in range(counters[FINISHED]):
        slot = finished[i]
        if first <= walks[CLIENT][slot] < stop:
            slots[n] = slot
            n += 1
        else:
            finished[rest] = slot
            rest += 1
    slots = slots[:n]
    lengths = walks[LENGTH][slots].copy()
    nodes, waits = np.empty(lengths.sum(), np.int64), np.empty(lengths.sum())
    v = 0
    for slot in slots:
        x = walks[HEAD][slot]
        for _ in range(walks[LENGTH][slot]):
            nodes[v], waits[v] = pool[0][x], pool[1][x]
            x = pool[2][x]
            v += 1
    columns = (walks[CLIENT][slots], walks[FIRM][slots], walks[KEY][slots],
               walks[NEED_AT][slots], walks[ENDED][slots],
               (walks[FLAGS][slots] & COMPLETED) != 0, walks[CHURN][slots], lengths, nodes, waits)
    for slot in slots:
        _free_walk(walks, pool, counters, slot)
    counters[FINISHED] = rest
    return columns


class Visits:
    """The walks in flight between staffed touchpoints, their events and the stations.

    Parameters
    ----------
    routes, entries : every firm's routing table and entry touchpoints (``Routes.of``).
    capacity : staff per touchpoint (0 where unstaffed).
    firm_of : ``ClientState.firm``, read as the run changes it.
    need_mean, churn_bound : per client (``cxsim.calendar``).
    months : the month grid.
    stream : per client, its word of the run's ``walks`` key (``streams.client_streams``).
    """

    START = (256, 4096)
    """Room at first for walks in flight and their visits; each doubles when full."""

    def __init__(self, routes: Routes, entries: list[int], capacity: np.ndarray,
                 firm_of: np.ndarray, need_mean: np.ndarray, churn_bound: np.ndarray, months,
                 stream: np.ndarray) -> None:
        size = firm_of.size
        self.routes = (routes.arrays, np.array(entries, dtype=np.int64))
        self.clients = (firm_of, np.zeros(size, np.int32), churn_bound.astype(float),
                        need_mean.astype(float), np.zeros(size, np.uint32),
                        np.full(size, np.inf), np.zeros(size, np.int16),
                        np.zeros(size, np.uint64), stream.astype(np.uint64))
        slowdown = months.need_slowdown if months.shocked else np.empty(0)
        self.params = (float(months.horizon), float(months.warmup), float(months.days),
                       int(months.n), slowdown)
        staff = np.where(routes.staffed, capacity, 0).astype(np.int64)
        self.stations = (np.concatenate(([0], np.cumsum(staff))), np.zeros(int(staff.sum())),
                         np.zeros(staff.size))
        self.counters = np.zeros(6, dtype=np.int64)
        walks, visits = self.START
        self.walks = self._slots(0, walks)
        self.heap = (np.empty(walks), np.empty(walks, np.int64), np.empty(walks, np.int64))
        links = np.arange(1, visits + 1)
        links[-1] = -1
        self.pool = (np.empty(visits, np.int64), np.empty(visits), links)
        self.out = (np.empty(walks, np.int64), np.empty(walks, np.int64),
                    np.empty(walks, np.int64), np.empty(walks))
        self.now = 0.0

    def _slots(self, old: int, new: int) -> tuple[np.ndarray, ...]:
        """Room for *new* walks in flight, keeping the *old* (the stack of free slots gains
        the new ones)."""
        kinds = [np.int64] * 14
        kinds[NEED_AT] = kinds[ENDED] = kinds[CHURN] = np.float64
        kinds[KEY] = np.uint64
        walks = tuple(np.zeros(new, kind) for kind in kinds)
        free = self.counters[FREE]
        if old:
            for column, before in zip(walks, self.walks):
                column[:old] = before
            walks[FREE_SLOTS][:free] = self.walks[FREE_SLOTS][:free]
        walks[FREE_SLOTS][free:free + new - old] = np.arange(old, new)
        self.counters[FREE] = free + new - old
        return walks

    def _make_room(self, walks: int = 2) -> None:
        """Grow what the next steps could fill: slots and heap, the buffers of ended walks."""
        counters = self.counters
        if counters[FREE] < walks:
            old = self.walks[0].size
            new = max(2 * old, old + walks)
            self.walks = self._slots(old, new)
            self.heap = tuple(np.concatenate((column, np.empty(new - old, column.dtype)))
                              for column in self.heap)
        if counters[FINISHED] + 2 > self.out[0].size or counters[LATER] + 2 > self.out[1].size:
            self.out = tuple(np.concatenate((column, np.empty(column.size, column.dtype)))
                             for column in self.out)

    def _state(self) -> tuple:
        return (self.routes, self.walks, self.pool, self.heap, self.counters, self.clients,
                self.params, self.out)

    def advance(self, until: float, today: int, evaluate) -> None:
        """Every walk event before day *until*, in time order; *evaluate* is called with
        the client (and :attr:`now` at the event) before a client who may have left joins
        a queue."""
        while True:
            why, now, client, self.pool = advance(*self._state(), self.stations, float(until),
                                                  int(today))
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
        self.pool = plan_needs(*self._state(), self.now, clients.astype(np.int64),
                               firms.astype(np.int64), np.asarray(after, dtype=float),
                               int(today), bool(need_now))

    def arrive(self, clients, firms, needs, seeds, positions, nodes, times, lengths, visited
               ) -> None:
        """Walks of a day's batch that reached a staffed touchpoint (``cxsim.walks``)."""
        self._make_room(clients.size + 2)
        self.pool = arrive(self.walks, self.pool, self.heap, self.counters, float(self.now),
                           clients.astype(np.int64), firms.astype(np.int64), needs,
                           seeds.astype(np.uint64), positions.astype(np.int64),
                           nodes.astype(np.int64), times, lengths.astype(np.int64),
                           visited.astype(np.int64))

    def collect(self, clients: range | None = None) -> WalkTable | None:
        """The walks that have ended (some may end later than now), as a table; only
        those of *clients* (a range of ids) if given."""
        if not self.counters[FINISHED]:
            return None
        first, stop = (0, self.clients[0].size) if clients is None else (clients.start,
                                                                         clients.stop)
        table = WalkTable(*collect(self.walks, self.pool, self.counters, self.out, first,
                                   stop))
        return table if len(table) else None

    def later(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Walks that ended after the day they were walked on: clients, firms, days."""
        n = int(self.counters[LATER])
        if not n:
            return None
        self.counters[LATER] = 0
        return tuple(column[:n].copy() for column in self.out[1:])
