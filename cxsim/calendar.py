"""The calendar: needs, walks and the staffed touchpoints where clients meet.

A need is private to its client, so it is not an event: when a walk ends,
the next need's day is drawn and the need waits in the calendar (one day
and key per client) for its day's batch. At the start of each day every
need of the day is walked together on arrays (``cxsim.walks.stretch``) up
to its first staffed touchpoint; from there a walk goes on one step at a
time, with one SimPy event per arrival at a staffed touchpoint, because
the queue there is shared and the moment of arrival matters to everyone
in it. Arrivals come in time order, so the client's wait and end of
service follow at once (FIFO, :class:`Station`). An unstaffed stretch is
computed in one step, with at most one event where it ends.

Finished walks wait here for their evaluation (:meth:`Calendar.finished`).
One decision cannot wait: whether a client about to join a queue is still
a client. Its churn draw is made when its last walk ends; only when that
draw falls below the highest churn probability any walk can produce
(:func:`churn_bounds`) does the walk ask for the evaluation first.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_right
from collections.abc import Callable
from itertools import chain

import numpy as np
import simpy

from cxsim import psychology as psy
from cxsim.config import Config
from cxsim.market import ClientState, Segments
from cxsim.months import Months
from cxsim.streams import Walk, key, keys, positions, uniform
from cxsim.walks import Routes, WalkTable, stretch

__all__ = ["Calendar", "PerClient", "Station", "churn_bounds"]


class PerClient:
    """One number per client, read one at a time (``one``: an ``array.array``, whose items
    are Python numbers, fast in the per-visit loop) or many at once (``all``: a numpy view
    of the same memory)."""

    __slots__ = ("one", "all")

    def __init__(self, values: np.ndarray, typecode: str) -> None:
        self.one = array(typecode, np.ascontiguousarray(values).tobytes())
        self.all = np.frombuffer(self.one, dtype=values.dtype)


def churn_bounds(cfg: Config, segments: Segments) -> np.ndarray:
    """Per segment, the highest churn probability any walk can produce.

    A walk's churn is decided by a uniform draw *u* made when it ends,
    against a probability known only once the walk is evaluated. If *u*
    is at or above this bound the client stays whatever the walk felt
    like, so its next walk need not wait for the evaluation. Memory is at
    least -1 and trust at least 0, and churn falls with both.
    """
    p = cfg.psychology
    switching = segments.switching_cost
    if p.emotions:
        bound = psy.churn_probability(np.full(switching.shape, -1.0), np.zeros(switching.shape),
                                      p.base_churn, p.churn_memory_weight,
                                      p.churn_trust_weight, switching)
    else:
        bound = np.full(switching.shape, p.base_churn)
    return bound + 1e-12


class Station:
    """Staff at one touchpoint: a FIFO queue in which a client's service start is known
    the moment it arrives.

    With first-come-first-served and service times drawn by the client's own
    key, client *n* starts at ``max(arrival, earliest time a server frees)``
    (the Kiefer-Wolfowitz recursion for the G/G/c queue; Kiefer & Wolfowitz
    1955), so one event per visit (the arrival) is enough: O(log c) per
    visit, nothing to release. *area* is the time-integral of the queue length
    over the measured window: the sum of the waiting intervals clipped to it.
    """

    __slots__ = ("free", "area")

    def __init__(self, capacity: int) -> None:
        self.free = [0.0] * capacity  # heap: when each server is next free
        self.area = 0.0


class _Walk:
    """One client walking one journey: where it is, what it drew, what it met.

    A walk has at most one event pending at a time (its arrival at a staffed
    touchpoint, or its end): a SimPy ``Timeout`` whose value is the walk, made
    once and scheduled again for each later step (:meth:`Calendar._at`).
    """

    __slots__ = ("client", "firm", "need_at", "nodes", "waits", "key", "position",
                 "draws", "next", "node", "ended_at", "completed", "checked", "churn_draw",
                 "event")

    def __init__(self, client: int, firm: int, need_at: float, key: int,
                 nodes: list[int], position: int = Walk.STEPS, draws: list[float] | None = None
                 ) -> None:
        self.node = -1
        self.checked = False
        self.client = client
        self.firm = firm
        self.need_at = need_at
        self.nodes = nodes
        self.waits: list[float] = []
        self.key = key  # seeds the walk's draws (cxsim.streams)
        self.position = position  # where draws[0] is in the walk's sequence
        self.draws = [] if draws is None else draws  # the sequence from there, as needed
        self.next = 0  # index in draws of the walk's next draw
        self.event: simpy.Timeout | None = None


class Calendar:
    """Needs, walks and stations of one run.

    Parameters
    ----------
    env : the run's SimPy environment.
    routes : every firm's touchpoints as one routing table.
    entries : each firm's entry touchpoint (global node number).
    capacity : staff per touchpoint (0 where unstaffed).
    state : the clients; a walk goes on only while ``state.firm`` is its firm.
    need_mean : per client, mean days between needs.
    churn_bound : per client, :func:`churn_bounds` of its segment.
    months : the month grid (horizon, warm-up, shocks that slow needs).
    walk_key : the run's ``walks`` stream.
    evaluate : called before a walk whose client may have churned joins a queue.
    """

    def __init__(self, env: simpy.Environment, routes: Routes, entries: list[int],
                 capacity: np.ndarray, state: ClientState, need_mean: np.ndarray,
                 churn_bound: np.ndarray, months: Months, walk_key: int,
                 evaluate: Callable[[], None]) -> None:
        self.env = env
        self._routes = routes
        self._node_info = routes.info
        self._staffed = routes.staffed.tolist()
        self._service = routes.service.tolist()
        self._entry = entries
        self._entries = np.array(entries, dtype=np.int64)
        self.stations = [Station(int(c)) if staffed else None
                         for c, staffed in zip(capacity, self._staffed)]
        self.state = state
        self.months = months
        self._horizon = months.horizon
        self._warmup = months.warmup
        self._walk_stream = walk_key
        self._flush = evaluate
        size = state.size
        self.walk_numbers = PerClient(np.zeros(size, dtype=np.uint32), "I")
        self._need_mean = PerClient(need_mean.astype(float), "d")
        self._churn_bound = PerClient(churn_bound.astype(float), "d")
        self._unresolved = PerClient(np.zeros(size, dtype=np.uint8), "B")  # may churn
        # per client, the day of its next need and that walk's firm and key
        self._next_need = np.full(size, np.inf)
        self._need_firm = np.zeros(size, dtype=np.int16)
        self._need_key = np.zeros(size, dtype=np.uint64)
        self._today = -1  # the last day whose needs have been walked
        self._ended: list[_Walk] = []  # walks over by now, awaiting evaluation
        self._ending: list[tuple[float, int, _Walk]] = []  # heap: walks that end later
        self._ending_count = 0  # ties in the heap break by order of arrival
        self._pending: list[WalkTable] = []  # walks walked in a batch, ended or ending
        self._later: list[tuple[int, int, float]] = []  # walks ending after today: next needs

    def void_need(self, client: int) -> None:
        """Forget *client*'s planned need (it was for a firm it has left)."""
        self._next_need[client] = np.inf

    def walk_day(self, day: int) -> None:
        """Walk every need of *day* together up to its first staffed touchpoint.

        The batch runs before any of its walks' events, which are all today
        or later; a walk that meets no staffed touchpoint needs no event at
        all (:meth:`_walk_batch`).
        """
        self._today = day
        due = np.flatnonzero(self._next_need < day + 1)
        if due.size:
            need = self._next_need[due]
            self._next_need[due] = np.inf
            firms = self._need_firm[due].astype(np.int64)
            still = self.state.firm[due] == firms
            if not still.all():
                due, need, firms = due[still], need[still], firms[still]
            self._walk_batch(due, firms, self._need_key[due], need)

    def finished(self, now: float) -> WalkTable | None:
        """Every walk over by day *now* not yet handed out, as one table."""
        tables = []
        walks, self._ended = self._ended, []
        ending = self._ending
        while ending and ending[0][0] <= now:
            walks.append(heapq.heappop(ending)[2])
        if walks:
            tables.append(self._table(walks))
        if self._pending:
            pending = WalkTable.concat(self._pending)
            due = pending.ended <= now
            if due.all():
                tables.append(pending)
                self._pending = []
            else:
                if due.any():
                    tables.append(pending.take(due))
                self._pending = [pending.take(~due)]
        if not tables:
            return None
        table = WalkTable.concat(tables)
        clients = table.client
        np.subtract.at(self._unresolved.all,
                       clients[table.churn_draw < self._churn_bound.all[clients]], 1)
        return table

    def start_walk(self, client: int, firm: int, t: float, need_now: bool = False) -> None:
        """The client's next need arises after day *t* (at *t* with *need_now*).

        The walk's key (its client and walk number) seeds every draw the walk
        makes, the gap to its need first; a shock slows needs from the month
        *t* is in. A need on a day still to come waits in the calendar for
        that day's batch (:meth:`walk_day`); one on today is walked now.
        """
        number = self.walk_numbers.one[client]
        self.walk_numbers.one[client] = number + 1
        seed = key(self._walk_stream, client, number)
        if not need_now:
            gap = -math.log1p(-uniform(seed, Walk.NEED_GAP)) * self._need_mean.one[client]
            if self.months.shocked:
                gap *= self.months.need_slowdown.item(self.months.of(t))
            t += gap
        if t >= self._horizon:
            return
        if t >= self._today + 1:
            self._next_need[client] = t
            self._need_firm[client] = firm
            self._need_key[client] = seed
        else:
            self._walk_now(client, firm, t, seed)

    def _walk_now(self, client: int, firm: int, t: float, seed: int) -> None:
        """A need today, after the day's batch: walked one step at a time from the entry."""
        self._stretch(_Walk(client, firm, t, seed, []), self._entry[firm], t)

    def plan_needs(self, clients: np.ndarray, firms: np.ndarray, after: np.ndarray) -> None:
        """:meth:`start_walk` for distinct *clients* whose walks ended at days *after*."""
        numbers = self.walk_numbers.all[clients]
        self.walk_numbers.all[clients] = numbers + 1
        seeds = keys(self._walk_stream, clients, numbers)
        gap = -np.log1p(-positions(seeds, Walk.NEED_GAP)) * self._need_mean.all[clients]
        if self.months.shocked:
            gap *= self.months.need_slowdown[self.months.index(after)]
        need = after + gap
        later = need >= self._today + 1
        planned = later & (need < self._horizon)
        at = clients[planned]
        self._next_need[at] = need[planned]
        self._need_firm[at] = firms[planned]
        self._need_key[at] = seeds[planned]
        if not later.all():
            for client, firm, t, seed in zip(clients[~later].tolist(), firms[~later].tolist(),
                                             need[~later].tolist(), seeds[~later].tolist()):
                self._walk_now(client, firm, t, seed)

    def plan_later(self) -> None:
        """The next needs of the walks that ended after the day they were walked on."""
        if not self._later:
            return
        clients, firms, ended = (np.array(column) for column in zip(*self._later))
        self._later = []
        still = self.state.firm[clients] == firms
        clients, firms, ended = clients[still], firms[still], ended[still]
        last = clients.size - 1 - np.unique(clients[::-1], return_index=True)[1]
        if last.size < clients.size:  # a client back with its firm within a day: its last walk
            clients, firms, ended = clients[last], firms[last], ended[last]
        self.plan_needs(clients, firms, ended)

    def _walk_batch(self, clients: np.ndarray, firms: np.ndarray, seeds: np.ndarray,
                    times: np.ndarray) -> None:
        """Walk distinct clients' needs from their entries (``cxsim.walks.stretch``).

        A walk that reaches a staffed touchpoint goes on alone, from its
        arrival event; one that ends on the way is buffered for evaluation
        and its client's next need is drawn at once.
        """
        walked = stretch(self._routes, seeds, self._entries[firms], times)
        counts = np.bincount(walked.visit_walk, minlength=clients.size)
        arrived = walked.node >= 0
        if arrived.any():
            bounds = np.concatenate(([0], np.cumsum(counts))).tolist()
            timeout, arrive = self.env.timeout, self._on_arrive
            now = self.env.now
            visited = walked.visit_nodes.tolist()
            at = np.flatnonzero(arrived)
            position = walked.position[at]
            ahead = walked.draws[at].tolist()
            for i, client, firm, need, seed, start, draws, node, t in zip(
                    at.tolist(), clients[at].tolist(), firms[at].tolist(), times[at].tolist(),
                    seeds[at].tolist(), position.tolist(), ahead, walked.node[at].tolist(),
                    walked.time[at].tolist()):
                walk = _Walk(client, firm, need, seed, visited[bounds[i]:bounds[i + 1]], start,
                             draws[start - Walk.STEPS:])
                walk.node = node
                walk.event = timeout(t - now, walk)
                walk.event.callbacks.append(arrive)
        if arrived.all():
            return
        over = ~arrived
        clients, firms, seeds = clients[over], firms[over], seeds[over]
        ended = walked.time[over]
        churn_draw = positions(seeds, Walk.CHURN)
        self._unresolved.all[clients[churn_draw < self._churn_bound.all[clients]]] += 1
        nodes = walked.visit_nodes[over[walked.visit_walk]]
        self._pending.append(WalkTable(
            clients, firms, seeds, times[over], ended, walked.completed[over], churn_draw,
            counts[over], nodes, np.zeros(nodes.size)))
        self.plan_needs(clients, firms, ended)

    def _still_walking(self, walk: _Walk) -> bool:
        """Before a walk first meets a queue: is its client still the firm's client?

        Only a pending walk whose churn draw could go either way needs
        evaluating first (see :func:`churn_bounds`).
        """
        client = walk.client
        if self._unresolved.one[client]:
            self._flush()
        walk.checked = True
        return self.state.firm[client] == walk.firm

    def _stretch(self, walk: _Walk, node: int, t: float) -> None:
        """Walk from *node* at day *t* through unstaffed touchpoints in one step."""
        info = self._node_info
        log1p = math.log1p
        draws = walk.draws
        i = walk.next
        nodes = walk.nodes
        outcome = 0  # 0: staffed touchpoint reached, 1: exit, 2: abandoned
        while True:
            staffed, mean, is_exit, sure, nexts, cum, delays = info[node]
            if staffed:
                break
            nodes.append(node)
            t -= mean * log1p(-(draws[i] if i < len(draws) else self._more(walk)))
            i += 1
            if is_exit:
                outcome = 1
                break
            if sure:
                node = nexts[0]
                t += delays[0]
                continue
            k = bisect_right(cum, draws[i] if i < len(draws) else self._more(walk))
            i += 1
            if k == len(nexts):
                outcome = 2
                break
            node = nexts[k]
            t += delays[k]
        walk.next = i
        if outcome:
            return self._walk_over(walk, t, outcome == 1)
        walk.node = node
        self._at(walk, max(t - self.env.now, 0.0), self._on_arrive)

    def _at(self, walk: _Walk, delay: float, handler: Callable[[simpy.Timeout], None]) -> None:
        """Schedule *walk*'s next event *delay* days from now, to be handled by *handler*.

        Its ``Timeout`` is made at its first event and, once processed, scheduled
        again (``Environment.schedule``) with a new callback list: one object per
        walk instead of one per staffed visit.
        """
        event = walk.event
        if event is None:
            walk.event = event = self.env.timeout(delay, walk)
            event.callbacks.append(handler)
        else:
            event.callbacks = [handler]
            self.env.schedule(event, simpy.events.NORMAL, delay)

    def _more(self, walk: _Walk) -> float:
        """The walk's next draw once those computed ahead are used up."""
        draws = walk.draws
        u = uniform(walk.key, walk.position + len(draws))
        draws.append(u)
        return u

    def _on_arrive(self, event: simpy.Timeout) -> None:
        """A walk reaches a staffed touchpoint: queue, service and the rest of its stretch.

        Arrivals come in time order, so the station knows at once when this
        client's service starts and ends; the walk goes on from there.
        """
        walk = event.value
        if not walk.checked and not self._still_walking(walk):
            return
        now = self.env.now
        node = walk.node
        station = self.stations[node]
        free = station.free
        start = free[0] if free[0] > now else now
        draws, i = walk.draws, walk.next
        walk.next = i + 2
        u = draws[i] if i < len(draws) else self._more(walk)
        done = start - self._service[node] * math.log1p(-u)
        heapq.heapreplace(free, done)
        if start > now:
            low = now if now > self._warmup else self._warmup
            high = start if start < self._horizon else self._horizon
            if high > low:
                station.area += high - low
        walk.nodes.append(node)
        walk.waits.append(start - now)
        _, _, is_exit, sure, nexts, cum, delays = self._node_info[node]
        if is_exit:
            return self._end(walk, done, True)
        if sure:
            k = 0
            walk.next = i + 1
        else:
            k = bisect_right(cum, draws[i + 1] if i + 1 < len(draws) else self._more(walk))
        if k == len(nexts):
            return self._end(walk, done, False)
        node = nexts[k]
        if self._staffed[node]:
            walk.node = node
            self._at(walk, done + delays[k] - now, self._on_arrive)
            return
        self._stretch(walk, node, done + delays[k])

    def _walk_over(self, walk: _Walk, t: float, completed: bool) -> None:
        """The walk ends at day *t* >= now, in an unstaffed stretch.

        A walk that has had an event (it met a queue) ends at once: nobody can
        observe the rest, and the flush waits until *t* has come. A walk that
        has had none ends with an event, its only one, so that the client's
        next walk starts from there and not from now.
        """
        if walk.checked:
            self._end(walk, t, completed)
            return
        walk.completed = completed
        self._at(walk, max(t - self.env.now, 0.0), self._on_end)

    def _on_end(self, event: simpy.Timeout) -> None:
        """The only event of a walk that met no queue.

        Its client may still have an unevaluated walk before it; both wait for
        the next flush, which evaluates them in order. Walks of a client known
        to have left are dropped here.
        """
        walk = event.value
        if self.state.firm[walk.client] == walk.firm:
            self._end(walk, self.env.now, walk.completed)

    def _end(self, walk: _Walk, t: float, completed: bool) -> None:
        """A walk is over: buffer it for evaluation and start the client's next one."""
        walk.ended_at = t
        walk.completed = completed
        if t > self.env.now:
            self._ending_count += 1
            heapq.heappush(self._ending, (t, self._ending_count, walk))
        else:
            self._ended.append(walk)
        walk.draws = None  # its draws are spent; it may wait weeks for its evaluation
        client = walk.client
        draw = walk.churn_draw = uniform(walk.key, Walk.CHURN)
        if draw < self._churn_bound.one[client]:
            self._unresolved.one[client] += 1
        if t >= self._today + 1:  # its next need is planned with the others at the day's start
            self._later.append((client, walk.firm, t))
        else:
            self.start_walk(client, walk.firm, t)

    def _table(self, walks: list[_Walk]) -> WalkTable:
        """Walks that went on one at a time, as columns."""
        n = len(walks)
        lengths = np.fromiter((len(w.nodes) for w in walks), np.int64, n)
        nodes = np.fromiter(chain.from_iterable(w.nodes for w in walks), np.int64,
                            int(lengths.sum()))
        waits = np.zeros(nodes.size)
        waits[self._routes.staffed[nodes]] = list(chain.from_iterable(w.waits for w in walks))
        return WalkTable(
            np.fromiter((w.client for w in walks), np.int64, n),
            np.fromiter((w.firm for w in walks), np.int64, n),
            np.array([w.key for w in walks], dtype=np.uint64),
            np.fromiter((w.need_at for w in walks), float, n),
            np.fromiter((w.ended_at for w in walks), float, n),
            np.fromiter((w.completed for w in walks), bool, n),
            np.fromiter((w.churn_draw for w in walks), float, n),
            lengths, nodes, waits)
