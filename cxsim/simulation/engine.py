"""The orchestrator: SimPy keeps the time; the rooms below decide, the engine applies.

``cxsim.simulation.calendar`` holds needs, walks and queues; ``cxsim.simulation.evaluation`` turns
finished walks and the client state into a record of decisions (how it felt,
the answer, what was paid, churn, the switcher's new firm, who talks and how;
monthly, who returns); ``cxsim.simulation.acquisition`` and ``cxsim.simulation.word_of_mouth`` win
prospects; ``cxsim.model.market`` and ``cxsim.simulation.books`` apply each record and make the
``Results``. The equations are ``cxsim.model.psychology``'s and ``cxsim.model.firm``'s, the
draws ``cxsim.streams``'s (keyed by client and event): none is written here.

An event exists only where one client's timing can affect another's, or
where the run must look at the state: the **start of a day** (yesterday's
word of mouth, the day's arrivals and marketing conversions, then every need
of the day walked up to its first staffed touchpoint), the **monthly
sample** (each third one the firms' review) and the **workshops**. Arrivals
at staffed touchpoints are the calendar's, on its compiled heap, brought up
to each event's time in SimPy's order. Finished walks are evaluated in
batches (each day when clients talk, before a sample or workshop, and before
a client who may have churned joins a queue): the same as one by one.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import simpy

from cxsim.config import Config, config_dir
from cxsim.errors import ConfigError
from cxsim.model import market
from cxsim.model.cohort import Arrivals, load_cohort
from cxsim.model.firm import Firm, normal_revenue
from cxsim.model.market import ClientState, Relationships, Segments
from cxsim.model.months import Months
from cxsim.model.network import SocialNetwork, build_network
from cxsim.simulation.acquisition import Pools
from cxsim.simulation.books import MONTHS_PER_QUARTER, Books
from cxsim.simulation.calendar import Calendar, churn_bounds
from cxsim.simulation.evaluation import (
    Decisions,
    Levers,
    Touchpoints,
    evaluate,
    in_walk_order,
    returning,
    surveys,
)
from cxsim.simulation.results import Results
from cxsim.simulation.walks import Routes
from cxsim.simulation.word_of_mouth import deliver
from cxsim.streams import root_seed, run_keys, spawn_streams
from cxsim.validate import Loaded, load

__all__ = ["Engine", "simulate", "simulate_replications"]


class Engine:
    """Replications of one scenario side by side: replication ``i`` holds clients ``i *
    size ..`` and firms ``i * F ..``, with its own population, network, pool and keyed
    draws, so its results are its own run's, bit for bit; the day's work is paid once.

    Parameters
    ----------
    cfg : a validated :class:`cxsim.config.Config`.
    replications : replication indices (root seed ``SeedSequence(cfg.seed, spawn_key=(i,))``).
    journey_dir : folder of the shipped journey maps.
    loaded : what :func:`cxsim.validate.load` read for *cfg* (journeys, cohort); unset: they
        are read here.
    """

    def __init__(self, cfg: Config, replications: Sequence[int], journey_dir: Path,
                 loaded: Loaded | None = None) -> None:
        self.cfg, self.replications = cfg, list(replications)
        roots = [root_seed(cfg.seed, i) for i in self.replications]
        rngs = [spawn_streams(root) for root in roots]
        self.n_firms = len(cfg.firms)  # per replication
        self.firms = [Firm(name, f, cfg, journey_dir, None if loaded is None else
                           loaded.journeys[name])
                      for _ in roots for name, f in cfg.firms.items()]
        self._onboarding_cost = np.array([f.cfg.onboarding_cost for f in self.firms])
        self._price = np.array([f.cfg.price_level for f in self.firms])
        self.segments = segments = Segments(cfg)
        cohort = load_cohort(cfg) if loaded is None else loaded.cohort
        self.state = state = ClientState.side_by_side([
            ClientState(cfg, segments, rng["population"],
                        None if cohort is None else cohort.segment) for rng in rngs])
        self._arrivals = None
        if cohort is not None:
            state.firm[:] = market.NOT_YET
            self._arrivals = Arrivals(cohort, state.first_firm(np.arange(state.size)))
        self.relationships = Relationships(state.size * 2)
        self.env = simpy.Environment()
        self._keys = run_keys(roots, cfg.market.size)
        self.network = SocialNetwork.side_by_side([
            build_network(cfg.network, cfg.market.size, rng["network"]) for rng in rngs])
        self._talking = cfg.network.kind != "none" and bool(
            (segments.social_influence > 0).any())
        self._outbox: list[tuple[np.ndarray, ...]] = []
        self.months = months = Months(cfg)
        self.touchpoints = Touchpoints.of(self.firms)
        routes, entries = Routes.of([f.journey for f in self.firms])
        self.calendar = Calendar(
            routes, entries, np.concatenate([f.capacity for f in self.firms]), state,
            state.need_mean, churn_bounds(cfg, state, segments), months, self._keys["walks"],
            self._evaluate_before_queue)
        self.books = Books(len(self.firms), len(segments.names), self.touchpoints.firm.size,
                           months, len(roots), cfg.sim.record_journeys,
                           routes if cfg.sim.record_visits else None)
        self.pools = Pools(len(roots), cfg.market.size, self._keys["acquisition"],
                           self.calendar.walk_numbers)
        self.pools.enter(state.prospects(), self.env.now)
        self._normal_cycles = np.array([f.normal_cycle() for f in self.firms]).T
        for firm, revenue in zip(self.firms, self._normal_revenue().tolist()):
            firm.start(revenue)
        self.pools.set_hazards(self.firms, self.cfg, self.env.now)
        self._refresh_firms()

    def _normal_revenue(self) -> np.ndarray:
        state = self.state
        active = state.firm >= 0
        return normal_revenue(state.firm[active], state.order_value[active],
                              state.need_mean[active], self._price, self._normal_cycles,
                              MONTHS_PER_QUARTER * self.months.days, len(self.firms))

    def _refresh_firms(self) -> None:
        """Read the firms' levers and front line anew (after a review or a workshop)."""
        self.levers = Levers.of(self.firms, self.cfg, self.touchpoints, self.segments)

    def _review(self, month: int) -> None:
        """End of a quarter: each firm reviews its budgets and front line (``Firm.review``)."""
        normal = self._normal_revenue()
        seen, visits = self.books.seen_since_review()
        for f, firm in enumerate(self.firms):
            revenue, kpi = self.books.quarter(f, month, firm.cfg.metric,
                                              self.cfg.sim.discount_rate)
            nodes = self.touchpoints.firm == f
            firm.review(revenue, float(normal[f]), kpi, seen[nodes], visits[nodes])
        self._refresh_firms()
        self.pools.set_hazards(self.firms, self.cfg, self.env.now)

    def _on_workshop(self, event: simpy.Event) -> None:
        self.calendar.advance(self.env.now)
        self._flush()
        for firm in self.firms:
            if event.value.firm in (None, firm.name):
                firm.workshop(event.value.will, event.value.power, event.value.being)
        self._refresh_firms()

    def _on_day(self, event: simpy.Event) -> None:
        """Start of a day: yesterday's word of mouth, the day's arrivals and conversions,
        then every need of the day walked together to its first staffed touchpoint."""
        day = event.value
        self.calendar.advance(day)
        if self._talking and day >= 1:
            self._flush()
            if self._outbox:
                self._talk()
        self.calendar.plan_later()
        self._win_until(min(day + 1, self.months.next_sample(day)))
        self.calendar.walk_day(day)
        if day + 1 < self.months.horizon:
            self.env.timeout(1.0, value=day + 1).callbacks.append(self._on_day)

    def _win_until(self, end: float) -> None:
        """The cohort clients due, then the prospects marketing wins, before day *end*
        (never past the next monthly sample: each client change is booked at its time)."""
        due = None if self._arrivals is None else self._arrivals.until(end)
        if due is not None:
            self._acquire(*due, market.SOURCE_INITIAL)
        won = self.pools.wins(end, self.env.now, self.state, self.segments,
                              self.levers.rational_value, self.cfg.market)
        if won is not None:
            clients, exposed, firms, when = won
            self.state.aware[clients, exposed] = True
            self._acquire(clients, firms, when, market.SOURCE_MARKETING)

    def _acquire(self, clients: np.ndarray, firms: np.ndarray, t: np.ndarray, source: int
                 ) -> None:
        """Distinct *clients* become the clients of *firms* at days *t*, in this order."""
        state = self.state
        self.pools.won(clients, state.firm)
        state.join(clients, firms, self.relationships.add(clients, firms, t, source))
        self.books.acquired(firms, state.segment[clients], t, source,
                            self._onboarding_cost[firms])
        need_now = self.cfg.market.first_need_at_acquisition and source != market.SOURCE_SWITCH
        self.calendar.void_needs(clients)  # a need planned for its old firm is void
        self.calendar.plan_needs(clients, firms, t, need_now)

    def _evaluate_before_queue(self, client: int) -> None:
        """*client*, who may have left, is about to join a queue: evaluate its
        replication's ended walks (the others' wait for their own moments)."""
        first = self.state.replication(client) * self.state.block
        self._flush(range(first, first + self.state.block))

    def _flush(self, clients: range | None = None) -> None:
        """Evaluate and apply every walk that has ended (of *clients* only, if given), each
        client's walks in the order it walked them (``evaluation.in_walk_order``)."""
        table = self.calendar.finished(clients)
        if table is None:
            return
        for walks in in_walk_order(table):
            decided = evaluate(walks, self.state, self.segments, self.touchpoints, self.levers,
                               self.cfg, self.months, self.relationships)
            if decided is not None:
                self._apply(decided)

    def _apply(self, d: Decisions) -> None:
        """Apply a record of decisions: state, relationships, books, word of mouth, switches."""
        walks, state = d.walks, self.state
        clients, firms, churned = walks.client, walks.firm, d.churned
        state.apply(clients, firms, d.expectation, d.trust, d.attitude, d.memory, d.answer)
        if self._talking:
            talks = d.talks
            self._outbox.append((clients[talks], firms[talks], d.praise[talks],
                                 walks.key[talks]))
        self.relationships.record(state.relationship[clients], d.purchased, d.revenue,
                                  d.margin, d.clv, churned, walks.ended)
        state.leave(clients[churned], firms[churned])
        self.books.record(d)
        moves = d.moves_to >= 0  # dated when it left the old firm, in the same month's books
        if moves.any():
            self._acquire(clients[moves], d.moves_to[moves], walks.ended[moves],
                          market.SOURCE_SWITCH)

    def _talk(self) -> None:
        """Deliver yesterday's word of mouth; the prospects it persuades join now."""
        senders, firms, praise, seeds = (np.concatenate(column) for column in zip(*self._outbox))
        self._outbox = []
        joined = deliver(senders, firms, praise, seeds, self.state, self.segments, self.network,
                         self.cfg.market)
        if joined is not None:
            clients, firms = joined
            self._acquire(clients, firms, np.full(clients.size, float(self.env.now)),
                          market.SOURCE_REFERRAL)

    def _on_sample(self, event: simpy.Event) -> None:
        month, state = event.value, self.state
        self.calendar.advance(self.env.now)
        self._flush()
        self.books.book()
        back = returning(state.firm, self._keys["returns"], month,
                         self.cfg.market.return_per_year, self.months.days)
        state.firm[back] = market.PROSPECT
        returned = self.pools.enter(back, self.env.now)
        if self.cfg.market.return_per_year > 0.0:
            self.books.returned(month, returned)
        self.books.sample(month, state, self.pools.sizes, self.firms)
        self.books.surveyed(month, surveys(state, self._keys["surveys"], month, self.levers,
                                           self.cfg.market.study_sample, len(self.firms)))
        if self.cfg.management.review and (month + 1) % MONTHS_PER_QUARTER == 0:
            self._review(month)
        if self._progress is not None:
            self._progress(self.months.sample_time(month))
        self._win_until(min(math.floor(self.env.now) + 1, self.months.sample_time(month + 1)))

    def run(self, progress: Callable[[float], None] | None = None) -> list[Results]:
        """Simulate the horizon and return each replication's results, in order."""
        self._progress, env, state = progress, self.env, self.state
        clients = np.flatnonzero(state.firm >= 0)
        firms = state.firm[clients].astype(np.int64)
        state.join(clients, firms, self.relationships.add(clients, firms, 0.0,
                                                          market.SOURCE_INITIAL))
        self.calendar.plan_needs(clients, firms, np.zeros(clients.size))
        env.timeout(0.0, value=0).callbacks.append(self._on_day)
        for month, workshop in self.months.workshops:
            env.timeout(month * self.months.days, value=workshop).callbacks.append(
                self._on_workshop)
        last = None
        for month in range(self.months.n):
            last = env.timeout(self.months.sample_time(month), value=month)
            last.callbacks.append(self._on_sample)
        collecting = gc.isenabled()
        gc.disable()  # the loop makes many short-lived, acyclic objects: nothing to collect
        try:
            env.run(until=last)
        finally:
            if collecting:
                gc.enable()
        return self.books.results(
            self.cfg, self.replications, self.firms, list(self.segments.names),
            self.relationships.columns(), self.touchpoints.firm, self.touchpoints.staffed,
            self.calendar.capacity, self.calendar.queue_area, self.pools.sizes)


def simulate(cfg: Config, replication: int = 0, journey_dir: Path | None = None,
             progress: Callable[[float], None] | None = None,
             loaded: Loaded | None = None) -> Results:
    """Run replication *replication* of *cfg* (validated here) and return its results."""
    return simulate_replications(cfg, [replication], journey_dir, progress, loaded)[0]


def simulate_replications(cfg: Config, replications: Sequence[int],
                          journey_dir: Path | None = None,
                          progress: Callable[[float], None] | None = None,
                          loaded: Loaded | None = None) -> list[Results]:
    """Run *replications* of *cfg* (validated here) side by side in one engine; each
    one's results equal :func:`simulate`'s for it. *progress* gets the simulated day.
    *loaded*: :func:`cxsim.validate.load`'s pass over *cfg*, already made (nothing is
    validated or read again)."""
    for replication in replications:
        if isinstance(replication, bool) or not isinstance(replication, int) or replication < 0:
            raise ConfigError("replication", "must be an integer >= 0", replication)
    folder = journey_dir or config_dir() / "journey"
    loaded = loaded or load(cfg, folder)
    engine = Engine(loaded.cfg, replications, folder, loaded)
    return engine.run(progress)
