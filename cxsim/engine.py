"""The event loop: SimPy orchestrates time; the equations live elsewhere.

Which events exist, and why nothing else needs one
--------------------------------------------------
An event is scheduled only where one client's timing can affect another's,
or where the run must look at the state:

* **arrival at a staffed touchpoint** — the queue there is shared, so the
  moment of arrival matters to everyone in it. Arrivals come in time order,
  so the client's wait and end of service follow at once (FIFO,
  :class:`_Station`): the end of service needs no event of its own, and the
  walk goes on from there;
* **start of a day** — word of mouth about the walks evaluated since the
  day before; the day's marketing conversions, each dated when the prospect
  pool's hazard clock reaches that prospect's own threshold
  (:meth:`Engine._build_clock`: the hazards change only at reviews, a
  prospect's choice only with word of mouth, so a day's conversions are
  known at its start); then every need that arises that day, walked
  together on arrays (``cxsim.walks``) up to its first staffed touchpoint;
* **end of a walk** that meets no staffed touchpoint and started after its
  day's batch (a need less than a day after the last walk, or a first need
  at acquisition): its client's next walk starts from there;
* **monthly sample**, and the workshops of ``events``.

Nothing else needs an event. A need is private to its client, so it is not
one: when a walk ends, the next need's day is drawn and the need waits in
a calendar (one day and key per client) for its day's batch. An unstaffed
stretch (route choices, delays, self-service time) is computed in one step,
with at most one event where it ends; a walk that meets no staffed
touchpoint in a batch needs no event at all, its end is buffered for the
evaluation and its next need drawn at once. A need planned for a client
who has meanwhile left is dropped when its day comes.

How a visit felt is computed later, in batches (a *flush*): a walk's
visits depend on the client's expectation, which changes only when a walk
is evaluated, so finished walks wait in a buffer and are evaluated together
with the functions of ``cxsim.psychology``, each client's walks in the order
it walked them: at the start of each day when clients talk, before each
monthly sample and at the horizon. The result is the same as evaluating
each walk as it ends; the monthly books are summed at the samples. One
decision cannot wait:
whether a client who is about to join a queue is still a client. Its churn
draw is made when its last walk ends; only when that draw falls below the
highest churn probability any walk can produce is the buffer flushed first.

Randomness: what is drawn once at set-up (population, network) comes from
generators spawned in a fixed order (:data:`STREAMS`); every draw made as
the run goes is keyed by its client and event (:data:`KEYED`,
``cxsim.streams``): a walk's need gap, times, routes, perceptions, churn
draw, NPS noise, survey, word of mouth and switch choice all derive from
the key (client, walk number). So adding a mechanism never shifts another's
draws, and two scenarios compared on one seed give each client the same
numbers for as long as the lever leaves its path alone.
"""

from __future__ import annotations

import gc
import heapq
import math
from array import array
from bisect import bisect_right
from collections.abc import Callable
from itertools import chain
from pathlib import Path

import numpy as np
import simpy

from cxsim import psychology as psy
from cxsim.acquisition import ProspectPool, choose
from cxsim.books import MONTHS_PER_QUARTER, Books
from cxsim.config import DAYS_PER_YEAR, Config, config_hash, to_config
from cxsim.evaluation import Decisions, Levers, Touchpoints, evaluate, in_walk_order
from cxsim.firm import Firm, measured_kpi
from cxsim.market import (
    GONE,
    PROSPECT,
    SOURCE_INITIAL,
    SOURCE_MARKETING,
    SOURCE_REFERRAL,
    SOURCE_SWITCH,
    ClientState,
    Relationships,
    Segments,
)
from cxsim.months import Months
from cxsim.network import build_network
from cxsim.results import Results
from cxsim.streams import (
    Salt,
    Walk,
    key,
    keys,
    positions,
    uniform,
    uniforms,
)
from cxsim.walks import Routes, WalkTable, stretch
from cxsim.word_of_mouth import deliver

__all__ = ["KEYED", "STREAMS", "root_seed", "spawn_streams", "stream_keys", "Engine", "simulate"]

STREAMS = ("population", "network")
"""Generators spawned in this order from the run's root seed: what is drawn once, at set-up."""

KEYED = ("walks", "acquisition", "returns")
"""Keys of the draws made while the run goes on, one per client and event (``cxsim.streams``)."""

_SOURCE_COLUMNS = {SOURCE_MARKETING: "acquisitions_marketing",
                   SOURCE_REFERRAL: "acquisitions_referral",
                   SOURCE_SWITCH: "acquisitions_switch"}


def root_seed(seed: int, replication: int = 0) -> np.random.SeedSequence:
    """Root of replication *replication*: ``SeedSequence(seed, spawn_key=(replication,))``."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def _children(root: np.random.SeedSequence) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(
        root.entropy, spawn_key=root.spawn_key, pool_size=root.pool_size
    ).spawn(len(STREAMS) + len(KEYED))


def spawn_streams(root: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One generator per name in :data:`STREAMS`, always spawned in that order."""
    return {name: np.random.default_rng(child)
            for name, child in zip(STREAMS, _children(root))}


def stream_keys(root: np.random.SeedSequence) -> dict[str, int]:
    """One 64-bit key per name in :data:`KEYED`, spawned after :data:`STREAMS`."""
    children = _children(root)[len(STREAMS):]
    return {name: int(child.generate_state(1, np.uint64)[0])
            for name, child in zip(KEYED, children)}


class _Station:
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


class _Walk(simpy.Event):
    """One client walking one journey; also the walk's one pending event.

    A walk has at most one event scheduled at a time (its arrival at a
    staffed touchpoint, or its end), so the walk itself
    is scheduled with :meth:`simpy.Environment.schedule` and handed to the
    callback, instead of a new ``Timeout`` for every step.
    """

    __slots__ = ("callbacks", "client", "firm", "need_at", "nodes", "waits", "key", "position",
                 "draws", "next", "node", "ended_at", "completed", "checked", "churn_draw")
    _ok = True
    _defused = False

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


class Engine:
    """One replication of one scenario.

    Parameters
    ----------
    cfg : a validated :class:`cxsim.config.Config`.
    replication : replication index *i*; its root seed is
        ``SeedSequence(cfg.seed, spawn_key=(i,))``.
    journey_dir : folder of the shipped journey maps.
    """

    def __init__(self, cfg: Config, replication: int, journey_dir: Path) -> None:
        self.cfg = cfg
        self.replication = replication
        self.root = root_seed(cfg.seed, replication)
        rng = spawn_streams(self.root)
        self.firms = [Firm(name, f, cfg, journey_dir) for name, f in cfg.firms.items()]
        self.segments = Segments(cfg)
        self.state = ClientState(cfg, self.segments, rng["population"])
        self.relationships = Relationships(cfg.market.size * 2)
        self.env = simpy.Environment()

        self._keys = stream_keys(self.root)
        self._walk_stream = self._keys["walks"]
        self._walks_started = array("I", bytes(4 * self.state.size))  # per client: walk numbers
        self._walk_numbers = np.frombuffer(self._walks_started, dtype=np.uint32)
        self.network = build_network(cfg.network, cfg.market.size, rng["network"])
        self._talking = cfg.network.kind != "none" and bool(
            (self.segments.social_influence > 0).any())
        self._outbox: list[tuple[np.ndarray, ...]] = []

        self.months = months = Months(cfg)
        self._horizon = months.horizon
        self._month = months.days
        self._warmup = months.warmup
        self._build_nodes()
        self.books = Books(len(self.firms), len(self.segments.names), self.n_nodes, months)

        size = self.state.size
        # per client, as a typed array (scalar reads give floats) and a numpy view of it
        self._need_mean = array("d", self.segments.mean_days_between_needs[
            self.state.segment].tobytes())
        self._need_means = np.frombuffer(self._need_mean)
        # the need calendar: per client, the day of its next need and that walk's firm and key
        self._next_need = np.full(size, np.inf)
        self._need_firm = np.zeros(size, dtype=np.int16)
        self._need_key = np.zeros(size, dtype=np.uint64)
        self._today = -1  # the last day whose needs have been walked
        self._ended: list[_Walk] = []  # walks over by now, awaiting evaluation
        self._ending: list[tuple[float, int, _Walk]] = []  # heap: walks that end later
        self._ending_count = 0  # ties in the heap break by order of arrival
        self._pending: list[WalkTable] = []  # walks walked in a batch, ended or ending
        self._later: list[tuple[int, int, float]] = []  # walks ending after today: next needs
        self._unresolved = bytearray(size)  # per client: pending walks that may churn
        self._unresolved_counts = np.frombuffer(self._unresolved, dtype=np.uint8)
        self._churn_bound = array("d", self._churn_bounds()[self.state.segment].tobytes())
        self._churn_bounds_of = np.frombuffer(self._churn_bound)
        self.pool = ProspectPool(size, self._keys["acquisition"], self._walk_numbers)
        self.pool.enter(self.state.prospects(), 0.0)
        self._journal: list[dict[str, np.ndarray]] = []
        self._start_budgets()

    # ----------------------------------------------------------------- set-up
    def _build_nodes(self) -> None:
        """Concatenate every firm's touchpoints into global node arrays."""
        offsets, n = [], 0
        for firm in self.firms:
            offsets.append(n)
            n += firm.journey.n_touchpoints
        self._offset = offsets
        self._entry = [off + f.journey.entry for off, f in zip(offsets, self.firms)]
        self.touchpoints = Touchpoints.of(self.firms)

        def cat(attr: str) -> np.ndarray:
            return np.concatenate([getattr(f.journey, attr) for f in self.firms])

        self._staffed = self.touchpoints.staffed.tolist()
        self._service = cat("service_days").tolist()
        self._entries = np.array(self._entry, dtype=np.int64)
        is_exit = cat("is_exit").tolist()
        following = [[off + k for k in nxt] for off, f in zip(offsets, self.firms)
                     for nxt in f.journey.next_touchpoints]
        cumulative = [list(c) for f in self.firms for c in f.journey.cumulative_probability]
        delays = [list(d) for f in self.firms for d in f.journey.delay_days]
        # one routing table, as arrays for the day's batch and as tuples per node for
        # the walks that go on one at a time (staffed, mean service days, is exit,
        # one sure edge, next nodes, cumulative probabilities, delays)
        self._routes = Routes(self._staffed, self._service, is_exit, following, cumulative,
                              delays)
        self._node_info = [
            (staffed, service, end, bool(sure), nxt, cum, d)
            for staffed, service, end, sure, nxt, cum, d in zip(
                self._staffed, self._service, is_exit, self._routes.sure.tolist(), following,
                cumulative, delays)]
        capacity = np.concatenate([f.capacity for f in self.firms])
        self._stations = [
            _Station(int(c)) if staffed else None for c, staffed in zip(capacity, self._staffed)
        ]
        self.n_nodes = n

    def _normal_revenue(self) -> np.ndarray:
        """Per firm, what its active clients bring in a normal quarter (no shock, no upsell)."""
        state, segs = self.state, self.segments
        active = state.firm >= 0
        segment = state.segment[active]
        firms = state.firm[active]
        quarter = MONTHS_PER_QUARTER * self._month
        cycles = self._normal_cycles
        price = np.array([f.cfg.price_level for f in self.firms])
        per_client = (segs.order_value[segment] * price[firms] * cycles[0][firms]
                      * quarter / (segs.mean_days_between_needs[segment] + cycles[1][firms]))
        return np.bincount(firms, per_client, len(self.firms))

    def _start_budgets(self) -> None:
        self._normal_cycles = np.array([f.normal_cycle() for f in self.firms]).T
        for firm, revenue in zip(self.firms, self._normal_revenue().tolist()):
            firm.start(revenue)
        self._set_hazards()
        self._refresh_firms()

    def _refresh_firms(self) -> None:
        """Read the firms' levers and front line anew (after a review or a workshop)."""
        self.levers = Levers.of(self.firms, self.cfg, self.touchpoints, self.segments)

    def _review(self, month: int) -> None:
        """End of a quarter: each firm reviews its budgets and front line (``Firm.review``)."""
        m = self.books.monthly
        quarter = slice(month + 1 - MONTHS_PER_QUARTER, month + 1)
        normal = self._normal_revenue()
        seen, visits = self.books.seen_since_review()
        rate = self.cfg.sim.discount_rate / 4.0
        for f, firm in enumerate(self.firms):
            revenue = float(m["revenue"][f, quarter].sum())
            kpi = measured_kpi(
                firm.cfg.metric, revenue, m["promoters_measured"][f, quarter].sum(),
                m["detractors_measured"][f, quarter].sum(), m["nps_surveyed"][f, quarter].sum(),
                float(m["margin"][f, quarter].sum()), float(m["churned"][f, quarter].sum()),
                float(m["active_clients"][f, quarter].mean()), rate)
            nodes = self.touchpoints.firm == f
            firm.review(revenue, float(normal[f]), kpi, seen[nodes], visits[nodes])
        self._refresh_firms()
        self._set_hazards()

    def _on_workshop(self, event: simpy.Event) -> None:
        self._flush()
        workshop = event._value
        for firm in self.firms:
            if workshop.firm is None or workshop.firm == firm.name:
                firm.workshop(workshop.will, workshop.power, workshop.being)
        self._refresh_firms()

    # ------------------------------------------------------------------ walks
    def _start_walk(self, client: int, firm: int, t: float, need_now: bool = False) -> None:
        """The client's next need arises after day *t* (at *t* with *need_now*).

        The walk's key (its client and walk number) seeds every draw the walk
        makes, the gap to its need first; a shock slows needs from the month
        *t* is in. A need on a day still to come waits in the calendar for
        that day's batch (:meth:`_on_day`); one on today is walked now.
        """
        number = self._walks_started[client]
        self._walks_started[client] = number + 1
        seed = key(self._walk_stream, client, number)
        if not need_now:
            gap = -math.log1p(-uniform(seed, Walk.NEED_GAP)) * self._need_mean[client]
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

    def _plan_needs(self, clients: np.ndarray, firms: np.ndarray, after: np.ndarray) -> None:
        """:meth:`_start_walk` for distinct *clients* whose walks ended at days *after*."""
        numbers = self._walk_numbers[clients]
        self._walk_numbers[clients] = numbers + 1
        seeds = keys(self._walk_stream, clients, numbers)
        gap = -np.log1p(-positions(seeds, Walk.NEED_GAP)) * self._need_means[clients]
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

    def _plan_later(self) -> None:
        """The next needs of the walks that ended after the day they were walked on."""
        clients, firms, ended = (np.array(column) for column in zip(*self._later))
        self._later = []
        still = self.state.firm[clients] == firms
        clients, firms, ended = clients[still], firms[still], ended[still]
        last = clients.size - 1 - np.unique(clients[::-1], return_index=True)[1]
        if last.size < clients.size:  # a client back with its firm within a day: its last walk
            clients, firms, ended = clients[last], firms[last], ended[last]
        self._plan_needs(clients, firms, ended)

    def _on_day(self, event: simpy.Event) -> None:
        """Start of a day: word of mouth about the walks evaluated since yesterday, the
        day's marketing conversions, then every need of the day walked together up
        to its first staffed touchpoint.

        The batch runs before any of its walks' events, which are all today
        or later; a walk that meets no staffed touchpoint needs no event at
        all (:meth:`_walk_batch`).
        """
        day = event._value
        if self._talking and day >= 1:
            self._flush()
            if self._outbox:
                self._talk()
        if self._later:
            self._plan_later()
        month = int(day // self._month)
        if self.months.sample_time(month) <= day:  # that sample was taken at the day's start
            month += 1
        self._acquire_until(min(day + 1, self.months.sample_time(month)))
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
        if day + 1 < self._horizon:
            self.env.timeout(1.0, value=day + 1).callbacks.append(self._on_day)

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
            env, arrive = self.env, [self._on_arrive]
            now = env.now
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
                walk.callbacks = arrive
                env.schedule(walk, simpy.events.NORMAL, t - now)
        if arrived.all():
            return
        over = ~arrived
        clients, firms, seeds = clients[over], firms[over], seeds[over]
        ended = walked.time[over]
        churn_draw = positions(seeds, Walk.CHURN)
        self._unresolved_counts[clients[churn_draw < self._churn_bounds_of[clients]]] += 1
        nodes = walked.visit_nodes[over[walked.visit_walk]]
        self._pending.append(WalkTable(
            clients, firms, seeds, times[over], ended, walked.completed[over], churn_draw,
            counts[over], nodes, np.zeros(nodes.size)))
        self._plan_needs(clients, firms, ended)

    def _still_walking(self, walk: _Walk) -> bool:
        """Before a walk first meets a queue: is its client still the firm's client?

        Only a pending walk whose churn draw could go either way needs
        evaluating first (see :meth:`_churn_bounds`).
        """
        client = walk.client
        if self._unresolved[client]:
            self._flush()
        walk.checked = True
        return self.state.firm[client] == walk.firm

    def _churn_bounds(self) -> np.ndarray:
        """Per segment, the highest churn probability any walk can produce.

        A walk's churn is decided by a uniform draw *u* made when it ends,
        against a probability known only once the walk is evaluated. If *u*
        is at or above this bound the client stays whatever the walk felt
        like, so its next walk need not wait for the evaluation. Memory is at
        least -1 and trust at least 0, and churn falls with both.
        """
        p = self.cfg.psychology
        switching = self.segments.switching_cost
        if p.emotions:
            bound = psy.churn_probability(np.full(switching.shape, -1.0), np.zeros(switching.shape),
                                          p.base_churn, p.churn_memory_weight,
                                          p.churn_trust_weight, switching)
        else:
            bound = np.full(switching.shape, p.base_churn)
        return bound + 1e-12

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
        walk.callbacks = [self._on_arrive]
        self.env.schedule(walk, simpy.events.NORMAL, max(t - self.env.now, 0.0))

    def _more(self, walk: _Walk) -> float:
        """The walk's next draw once those computed ahead are used up."""
        draws = walk.draws
        u = uniform(walk.key, walk.position + len(draws))
        draws.append(u)
        return u

    def _on_arrive(self, walk: _Walk) -> None:
        """A walk reaches a staffed touchpoint: queue, service and the rest of its stretch.

        Arrivals come in time order, so the station knows at once when this
        client's service starts and ends; the walk goes on from there.
        """
        if not walk.checked and not self._still_walking(walk):
            return
        now = self.env.now
        node = walk.node
        station = self._stations[node]
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
            walk.callbacks = [self._on_arrive]
            self.env.schedule(walk, simpy.events.NORMAL, done + delays[k] - now)
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
        walk.callbacks = [self._on_end]
        self.env.schedule(walk, simpy.events.NORMAL, max(t - self.env.now, 0.0))

    def _on_end(self, walk: _Walk) -> None:
        """The only event of a walk that met no queue.

        Its client may still have an unevaluated walk before it; both wait for
        the next flush, which evaluates them in order. Walks of a client known
        to have left are dropped here.
        """
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
        if draw < self._churn_bound[client]:
            self._unresolved[client] += 1
        if t >= self._today + 1:  # its next need is planned with the others at the day's start
            self._later.append((client, walk.firm, t))
        else:
            self._start_walk(client, walk.firm, t)

    # ------------------------------------------------------------ acquisition
    def _set_hazards(self) -> None:
        """Each firm's per-prospect hazard for the quarter (``Firm.acquisition_hazard``)."""
        self.pool.set_hazards([f.acquisition_hazard(self.cfg, self.pool.size)
                               for f in self.firms], self.env.now)

    def _acquire_until(self, end: float) -> None:
        """Win every prospect whose threshold the pool's clock passes by day *end*.

        Nothing a prospect's choice depends on changes between two days
        (word of mouth comes at a day's start) or between two reviews (the
        hazards), so the day's marketing conversions are made together, each
        dated when the clock reaches its threshold. *end* never passes the
        next monthly sample: the books and the sample see each client change
        at its own time.
        """
        won = self.pool.due(end, self.env.now, self.state.firm)
        if won is None:
            return
        clients, when = won
        exposed, draws = self.pool.reached(clients)
        self.state.aware[clients, exposed] = True
        firms = choose(self.state, self.segments, self.levers.rational_value, self.cfg.market,
                       clients, draws, contacted=exposed)
        for client, firm, t in zip(clients.tolist(), firms.tolist(), when.tolist()):
            self._acquire(client, firm, t, SOURCE_MARKETING)

    def _acquire(self, client: int, firm: int, t: float, source: int) -> None:
        """*client*, a prospect or a switcher, becomes *firm*'s client at day *t*."""
        state = self.state
        if state.firm[client] == PROSPECT:
            self.pool.size -= 1
        state.firm[client] = firm
        state.aware[client, firm] = True
        state.relationship[client] = self.relationships.add(client, firm, t, source)
        self.books.acquired(firm, state.segment[client], t, _SOURCE_COLUMNS[source],
                            self.firms[firm].cfg.onboarding_cost)
        need_now = self.cfg.market.first_need_at_acquisition and source != SOURCE_SWITCH
        self._next_need[client] = np.inf  # a need planned for its old firm is void
        self._start_walk(client, firm, t, need_now)

    # ------------------------------------------------------- batch psychology
    def _flush(self) -> None:
        """Evaluate every walk that has ended, in vectorised passes.

        A client's walks are evaluated in the order it walked them: the
        first pending walk of every client in one pass, then the second, and
        so on; a walk whose client left after an earlier one is dropped.
        """
        now = self.env.now
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
            return
        table = WalkTable.concat(tables)
        clients = table.client
        np.subtract.at(self._unresolved_counts,
                       clients[table.churn_draw < self._churn_bounds_of[clients]], 1)
        for walks in in_walk_order(table):
            decisions = evaluate(walks, self.state, self.segments, self.touchpoints, self.levers,
                                 self.cfg, self.months, self.relationships.acquired_at)
            if decisions is not None:
                self._apply(decisions)

    def _table(self, walks: list[_Walk]) -> WalkTable:
        """Walks that went on one at a time, as columns."""
        n = len(walks)
        lengths = np.fromiter((len(w.nodes) for w in walks), np.int64, n)
        nodes = np.fromiter(chain.from_iterable(w.nodes for w in walks), np.int64,
                            int(lengths.sum()))
        waits = np.zeros(nodes.size)
        waits[self.touchpoints.staffed[nodes]] = list(chain.from_iterable(w.waits for w in walks))
        return WalkTable(
            np.fromiter((w.client for w in walks), np.int64, n),
            np.fromiter((w.firm for w in walks), np.int64, n),
            np.array([w.key for w in walks], dtype=np.uint64),
            np.fromiter((w.need_at for w in walks), float, n),
            np.fromiter((w.ended_at for w in walks), float, n),
            np.fromiter((w.completed for w in walks), bool, n),
            np.fromiter((w.churn_draw for w in walks), float, n),
            lengths, nodes, waits)

    def _apply(self, decided: Decisions) -> None:
        """Write what an evaluation decided: client state, relationships, churn and
        switching, the books' ledgers, word of mouth to deliver, the journal."""
        state, walks = self.state, decided.walks
        clients, firms, ended, completed = walks.client, walks.firm, walks.ended, walks.completed
        state.expectation[clients] = decided.expectation
        state.trust[clients] = decided.trust
        state.attitude[clients, firms] = decided.attitude
        state.memory[clients] = decided.memory
        answers = decided.answer
        state.nps[clients] = answers
        if self._talking:
            loud = (answers >= 9) | (answers <= 6)
            self._outbox.append((clients[loud], firms[loud], answers[loud] >= 9,
                                 walks.key[loud]))
        rel = state.relationship[clients]
        rels = self.relationships
        rels.purchases[rel] += completed
        rels.revenue[rel] += decided.revenue
        rels.margin[rel] += decided.margin
        rels.clv[rel] += decided.clv
        churned = decided.churned
        rels.churned_at[rel[churned]] = ended[churned]
        leaving = clients[churned]
        if leaving.size:
            state.firm[leaving] = GONE
            state.aware[leaving, firms[churned]] = False
            if len(self.firms) > 1:
                self._switch(leaving, ended[churned], walks.key[churned])
        books = self.books
        books.record(
            (books.cell(firms, decided.segment, decided.month), completed, decided.revenue,
             decided.margin, churned, answers, decided.surveyed, decided.measured,
             decided.cost),
            (walks.nodes, walks.lengths, decided.surveyed, ended, walks.waits, decided.felt,
             decided.quality, decided.failed, decided.recovered))
        if self.cfg.sim.record_journeys:
            self._journal.append({
                "client": clients, "firm": firms, "need_at": walks.need_at, "ended_at": ended,
                "completed": completed, "visits": walks.lengths, "memory": decided.memory,
                "nps": answers, "churned": churned,
            })

    # ------------------------------------------------------------ word of mouth
    def _talk(self) -> None:
        """Deliver the word of mouth of the walks evaluated since yesterday
        (``cxsim.word_of_mouth``); the prospects it persuades join now."""
        senders, firms, praise, seeds = (np.concatenate(column) for column in zip(*self._outbox))
        self._outbox = []
        joined = deliver(senders, firms, praise, seeds, self.state, self.segments, self.network,
                         self.cfg.market)
        if joined is not None:
            now = self.env.now
            for client, firm in zip(joined[0].tolist(), joined[1].tolist()):
                self._acquire(client, firm, now, SOURCE_REFERRAL)

    def _switch(self, clients: np.ndarray, when: np.ndarray, seeds: np.ndarray) -> None:
        """Clients who left a firm move to another firm they know, or leave the market."""
        known = self.state.aware[clients].any(axis=1)
        if not known.any():
            return
        clients, when = clients[known], when[known]
        picks = choose(self.state, self.segments, self.levers.rational_value, self.cfg.market,
                       clients, uniforms(seeds[known], Salt.SWITCH, 0), outside=True)
        for client, firm, t in zip(clients.tolist(), picks.tolist(), when.tolist()):
            if firm >= 0:  # dated when it left the old firm, in the same month's books
                self._acquire(client, firm, t, SOURCE_SWITCH)

    # --------------------------------------------------------------- samples
    def _on_sample(self, event: simpy.Event) -> None:
        month = event._value
        self._flush()
        self.books.book()
        self._return_to_market(month)
        state = self.state
        active = state.firm >= 0
        self.books.sample(month, state.firm[active], state.segment[active],
                          {"mean_memory": state.memory[active],
                           "mean_trust": state.trust[active],
                           "mean_expectation": state.expectation[active]},
                          self.pool.size, np.count_nonzero(state.firm == GONE), self.firms)
        if self.cfg.management.review and (month + 1) % MONTHS_PER_QUARTER == 0:
            self._review(month)
        if self._progress is not None:
            self._progress(self.months.sample_time(month))
        self._acquire_until(min(math.floor(self.env.now) + 1,
                                self.months.sample_time(month + 1)))

    def _return_to_market(self, month: int) -> None:
        """Clients who left the category come back as prospects at ``market.return_per_year``.

        Checked once a month (a month is short beside the default two years
        away); a returning client remembers the firms it knew.
        """
        rate = self.cfg.market.return_per_year
        if rate <= 0.0:
            return
        gone = np.flatnonzero(self.state.firm == GONE)
        chance = -math.expm1(-rate * self._month / DAYS_PER_YEAR)
        back = gone[uniforms(keys(self._keys["returns"], gone, month), 0, 0) < chance]
        if back.size:
            self.state.firm[back] = PROSPECT
            self.pool.enter(back, self.env.now)
        self.books.monthly["returned"][:, month] = back.size

    # ------------------------------------------------------------------- run
    def run(self, progress: Callable[[float], None] | None = None) -> Results:
        """Simulate the horizon and return the results."""
        self._progress = progress
        env = self.env
        state = self.state
        clients = np.flatnonzero(state.firm >= 0)
        firms = state.firm[clients].astype(np.int64)
        for client, firm in zip(clients.tolist(), firms.tolist()):
            state.relationship[client] = self.relationships.add(client, firm, 0.0,
                                                                SOURCE_INITIAL)
        self._plan_needs(clients, firms, np.zeros(clients.size))
        env.timeout(0.0, value=0).callbacks.append(self._on_day)
        for month, workshop in self.months.workshops:
            env.timeout(month * self._month, value=workshop).callbacks.append(self._on_workshop)
        last = None
        for month in range(self.months.n):
            t = self.months.sample_time(month)
            last = env.timeout(t, value=month)
            last.callbacks.append(self._on_sample)
        collecting = gc.isenabled()
        gc.disable()  # the loop makes many short-lived, acyclic objects: nothing to collect
        try:
            env.run(until=last)
        finally:
            if collecting:
                gc.enable()
        return self._results()

    def _results(self) -> Results:
        self.books.book()
        measured = self._horizon - self._warmup
        mean_queue = np.array([
            s.area / measured if s is not None else np.nan for s in self._stations])
        capacity = np.array([len(s.free) if s is not None else 0 for s in self._stations])
        journal = None
        if self.cfg.sim.record_journeys:
            journal = {k: np.concatenate([j[k] for j in self._journal]) if self._journal
                       else np.array([]) for k in ("client", "firm", "need_at", "ended_at",
                                                   "completed", "visits", "memory", "nps",
                                                   "churned")}
        return Results.from_run(
            cfg=self.cfg,
            replication=self.replication,
            config_hash=config_hash(self.cfg),
            firm_names=[f.name for f in self.firms],
            months=self.months.n,
            month_days=self._month,
            horizon_days=self._horizon,
            warmup_days=self._warmup,
            monthly=self.books.monthly,
            segment_monthly=self.books.segment_monthly,
            segment_names=list(self.segments.names),
            relationships=self.relationships.columns(),
            touchpoints={
                "firm": self.touchpoints.firm,
                "touchpoint": [tp for f in self.firms for tp in f.journey.touchpoints],
                "stage": [s for f in self.firms for s in f.journey.stages],
                "channel": [c for f in self.firms for c in f.journey.channels],
                "staffed": np.array(self._staffed),
                "staff": capacity,
                "mean_queue_length": mean_queue,
                **self.books.touchpoint,
            },
            journeys=journal,
            prospects_final=self.pool.size,
        )


def simulate(cfg: Config, replication: int = 0, journey_dir: Path | None = None,
             progress: Callable[[float], None] | None = None) -> Results:
    """Run replication *replication* of *cfg* (validated here) and return its results."""
    from cxsim.config import config_dir

    cfg = to_config(cfg)
    engine = Engine(cfg, replication, journey_dir or config_dir() / "journey")
    return engine.run(progress)

