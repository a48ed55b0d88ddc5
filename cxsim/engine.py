"""The orchestrator: SimPy keeps the time; the rooms below hold the model.

One replication of one scenario is wired from these rooms, each one concern:

* ``cxsim.calendar`` — needs, walks and the staffed touchpoints where
  clients queue (the only per-visit events);
* ``cxsim.evaluation`` — finished walks and the client state in, a record
  of decisions out (how it felt, the answer, what was paid, churn);
* ``cxsim.acquisition`` and ``cxsim.word_of_mouth`` — how prospects are won:
  the pool's hazard clock, the choice among firms, referrals;
* ``cxsim.books`` and ``cxsim.months`` — the monthly, segment and
  touchpoint books, and the month grid they share;
* ``cxsim.firm`` and ``cxsim.psychology`` — every equation, called here and
  never rewritten.

Which events exist, and why nothing else needs one
--------------------------------------------------
An event is scheduled only where one client's timing can affect another's,
or where the run must look at the state. The run's own events are SimPy's:

* **start of a day** — word of mouth about the walks evaluated since the
  day before; the day's marketing conversions (the hazards change only at
  reviews, a prospect's choice only with word of mouth, so a day's
  conversions are known at its start); then every need that arises that
  day, walked together on arrays up to its first staffed touchpoint;
* **monthly sample** (and, every third month, the firms' quarterly
  review), and the workshops of ``events``.

The walks' events are the calendar's, on its own compiled heap
(``cxsim.visits``), which each of the run's events first brings up to its
time (:meth:`cxsim.calendar.Calendar.advance`), in the order SimPy would:

* **arrival at a staffed touchpoint** — the queue is shared, so the moment
  of arrival matters to everyone in it;
* **end of a walk** that meets no staffed touchpoint and started after its
  day's batch: its client's next walk starts from there.

Finished walks are evaluated in batches (a *flush*): at the start of each
day when clients talk, before each monthly sample and workshop, at the
horizon, and whenever a client who may have churned is about to join a
queue. The result is the same as evaluating each walk as it ends.

Randomness: what is drawn once at set-up (population, network) comes from
generators spawned in a fixed order (:data:`STREAMS`); every draw made as
the run goes is keyed by its client and event (:data:`KEYED`,
``cxsim.streams``, whose enums name each draw's place). So adding a
mechanism never shifts another's draws, and two scenarios compared on one
seed give each client the same numbers for as long as the lever leaves its
path alone.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import simpy

from cxsim.acquisition import ProspectPool, choose
from cxsim.books import MONTHS_PER_QUARTER, Books
from cxsim.calendar import Calendar, churn_bounds
from cxsim.config import DAYS_PER_YEAR, Config, config_dir, config_hash
from cxsim.errors import ConfigError
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
from cxsim.scenario import validate
from cxsim.streams import Salt, keys, uniforms
from cxsim.walks import Routes
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
        self.network = build_network(cfg.network, cfg.market.size, rng["network"])
        self._talking = cfg.network.kind != "none" and bool(
            (self.segments.social_influence > 0).any())
        self._outbox: list[tuple[np.ndarray, ...]] = []

        self.months = months = Months(cfg)
        self.touchpoints = Touchpoints.of(self.firms)
        routes, entries = Routes.of([f.journey for f in self.firms])
        segment = self.state.segment
        self.calendar = Calendar(
            routes, entries, np.concatenate([f.capacity for f in self.firms]),
            self.state, self.segments.mean_days_between_needs[segment],
            churn_bounds(cfg, self.segments)[segment], months, self._keys["walks"],
            self._flush)
        self.books = Books(len(self.firms), len(self.segments.names),
                           self.touchpoints.firm.size, months)
        self.pool = ProspectPool(self.state.size, self._keys["acquisition"],
                                 self.calendar.walk_numbers)
        self.pool.enter(self.state.prospects(), 0.0)
        self._journal: list[dict[str, np.ndarray]] = []
        self._start_budgets()

    def _normal_revenue(self) -> np.ndarray:
        """Per firm, what its active clients bring in a normal quarter (no shock, no upsell)."""
        state, segs = self.state, self.segments
        active = state.firm >= 0
        segment = state.segment[active]
        firms = state.firm[active]
        quarter = MONTHS_PER_QUARTER * self.months.days
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
        self.calendar.advance(self.env.now)
        self._flush()
        workshop = event.value
        for firm in self.firms:
            if workshop.firm is None or workshop.firm == firm.name:
                firm.workshop(workshop.will, workshop.power, workshop.being)
        self._refresh_firms()

    def _on_day(self, event: simpy.Event) -> None:
        """Start of a day: word of mouth about the walks evaluated since yesterday, the
        day's marketing conversions, then every need of the day walked together up
        to its first staffed touchpoint.

        The batch runs before any of its walks' events, which are all today
        or later (:meth:`cxsim.calendar.Calendar.walk_day`).
        """
        day = event.value
        self.calendar.advance(day)
        if self._talking and day >= 1:
            self._flush()
            if self._outbox:
                self._talk()
        self.calendar.plan_later()
        month = int(day // self.months.days)
        if self.months.sample_time(month) <= day:  # that sample was taken at the day's start
            month += 1
        self._acquire_until(min(day + 1, self.months.sample_time(month)))
        self.calendar.walk_day(day)
        if day + 1 < self.months.horizon:
            self.env.timeout(1.0, value=day + 1).callbacks.append(self._on_day)

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
        self.calendar.void_need(client)  # a need planned for its old firm is void
        self.calendar.start_walk(client, firm, t, need_now)

    # ------------------------------------------------------- batch psychology
    def _flush(self) -> None:
        """Evaluate every walk that has ended, in vectorised passes.

        A client's walks are evaluated in the order it walked them: the
        first pending walk of every client in one pass, then the second, and
        so on; a walk whose client left after an earlier one is dropped.
        """
        table = self.calendar.finished()
        if table is None:
            return
        for walks in in_walk_order(table):
            decisions = evaluate(walks, self.state, self.segments, self.touchpoints, self.levers,
                                 self.cfg, self.months, self.relationships.acquired_at)
            if decisions is not None:
                self._apply(decisions)

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
        month = event.value
        self.calendar.advance(self.env.now)
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
        chance = -math.expm1(-rate * self.months.days / DAYS_PER_YEAR)
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
        self.calendar.plan_needs(clients, firms, np.zeros(clients.size))
        env.timeout(0.0, value=0).callbacks.append(self._on_day)
        for month, workshop in self.months.workshops:
            env.timeout(month * self.months.days,
                        value=workshop).callbacks.append(self._on_workshop)
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
        months = self.months
        measured = months.horizon - months.warmup
        capacity = self.calendar.capacity
        mean_queue = np.where(self.touchpoints.staffed, self.calendar.queue_area / measured,
                              np.nan)
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
            month_days=months.days,
            horizon_days=months.horizon,
            warmup_days=months.warmup,
            monthly=self.books.monthly,
            segment_monthly=self.books.segment_monthly,
            segment_names=list(self.segments.names),
            relationships=self.relationships.columns(),
            touchpoints={
                "firm": self.touchpoints.firm,
                "touchpoint": [tp for f in self.firms for tp in f.journey.touchpoints],
                "stage": [s for f in self.firms for s in f.journey.stages],
                "channel": [c for f in self.firms for c in f.journey.channels],
                "staffed": self.touchpoints.staffed,
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
    if isinstance(replication, bool) or not isinstance(replication, int) or replication < 0:
        raise ConfigError("replication", "must be an integer >= 0", replication)
    folder = journey_dir or config_dir() / "journey"
    engine = Engine(validate(cfg, folder), replication, folder)
    return engine.run(progress)

