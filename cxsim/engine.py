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
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import simpy

from cxsim.acquisition import ProspectPool, choose
from cxsim.books import MONTHS_PER_QUARTER, Books
from cxsim.calendar import Calendar, churn_bounds
from cxsim.cohort import Cohort, load_cohort
from cxsim.config import DAYS_PER_YEAR, Config, config_dir, config_hash
from cxsim.errors import ConfigError
from cxsim.evaluation import Decisions, Levers, Touchpoints, evaluate, in_walk_order
from cxsim.firm import Firm, measured_kpi
from cxsim.market import (
    GONE,
    NOT_YET,
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
from cxsim.network import SocialNetwork, build_network
from cxsim.results import Results
from cxsim.streams import Salt, client_streams, keys, uniforms
from cxsim.validate import Loaded, load
from cxsim.walks import Routes
from cxsim.word_of_mouth import deliver

__all__ = ["KEYED", "STREAMS", "root_seed", "spawn_streams", "stream_keys", "Engine", "simulate",
           "simulate_replications"]

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
    """Replications of one scenario, side by side.

    Each replication is a block of the clients' axis (replication ``i`` of
    the list holds clients ``i * size .. (i + 1) * size - 1`` and firms
    ``i * F .. (i + 1) * F - 1``) with its own population, network, firms,
    prospect pool and keyed draws (``streams.client_streams``); nothing
    links two blocks, and each block's events keep their order. So each
    replication's results are those of its own run, bit for bit, while the
    day's array work and the Python around it are paid once for all of them.

    Parameters
    ----------
    cfg : a validated :class:`cxsim.config.Config`.
    replications : replication indices; replication *i*'s root seed is
        ``SeedSequence(cfg.seed, spawn_key=(i,))``.
    journey_dir : folder of the shipped journey maps.
    loaded : what :func:`cxsim.validate.load` read for *cfg*; unset: the cohort is read here.
    """

    def __init__(self, cfg: Config, replications: Sequence[int], journey_dir: Path,
                 loaded: Loaded | None = None) -> None:
        self.cfg = cfg
        self.replications = list(replications)
        roots = [root_seed(cfg.seed, i) for i in self.replications]
        rngs = [spawn_streams(root) for root in roots]
        size = cfg.market.size
        self.blocks = [range(i * size, (i + 1) * size) for i in range(len(roots))]
        self.n_firms = len(cfg.firms)  # per replication
        self.firms = [Firm(name, f, cfg, journey_dir)
                      for _ in roots for name, f in cfg.firms.items()]
        self._onboarding_cost = np.array([f.cfg.onboarding_cost for f in self.firms])
        self.segments = Segments(cfg)
        cohort = load_cohort(cfg) if loaded is None else loaded.cohort
        self.state = ClientState.side_by_side([
            ClientState(cfg, self.segments, rng["population"],
                        None if cohort is None else cohort.segment) for rng in rngs])
        self._cohort = self._schedule(cohort)
        self.relationships = Relationships(self.state.size * 2)
        self.env = simpy.Environment()

        keyed = [stream_keys(root) for root in roots]
        self._keys = {name: np.concatenate([client_streams(k[name], block.start, size)
                                            for k, block in zip(keyed, self.blocks)])
                      for name in KEYED}
        self.network = SocialNetwork.side_by_side([build_network(cfg.network, size,
                                                                 rng["network"])
                                                   for rng in rngs])
        self._talking = cfg.network.kind != "none" and bool(
            (self.segments.social_influence > 0).any())
        self._outbox: list[tuple[np.ndarray, ...]] = []

        self.months = months = Months(cfg)
        self.touchpoints = Touchpoints.of(self.firms)
        routes, entries = Routes.of([f.journey for f in self.firms])
        self.calendar = Calendar(
            routes, entries, np.concatenate([f.capacity for f in self.firms]),
            self.state, self.state.need_mean, churn_bounds(cfg, self.state, self.segments),
            months, self._keys["walks"], self._evaluate_before_queue)
        self.books = Books(len(self.firms), len(self.segments.names),
                           self.touchpoints.firm.size, months, len(self.blocks))
        self.pools = [ProspectPool(self.state.size, self._keys["acquisition"],
                                   self.calendar.walk_numbers) for _ in self.blocks]
        for pool, prospects in zip(self.pools, self._by_block(self.state.prospects())):
            pool.enter(prospects, 0.0)
        self._journal: list[dict[str, np.ndarray]] = []
        self._start_budgets()

    def _schedule(self, cohort: Cohort | None) -> tuple[np.ndarray, ...] | None:
        """Every replication's cohort clients, waiting for their days: (day, client, firm),
        by day, a day's clients in client order."""
        if cohort is None:
            return None
        state = self.state
        state.firm[:] = NOT_YET
        n = len(self.blocks)
        day = np.tile(cohort.day, n)
        client = np.arange(state.size)
        firm = np.tile(cohort.firm, n) + state.first_firm(client)
        order = np.argsort(day, kind="stable")
        return day[order], client[order], firm[order]

    def _arrive_until(self, end: float) -> None:
        """The cohort clients whose day comes before *end* join their firms (*end* never
        passes the next monthly sample, as for :meth:`_acquire_until`)."""
        if self._cohort is None:
            return
        day, client, firm = self._cohort
        k = int(np.searchsorted(day, end, side="left"))
        if k:
            self._cohort = day[k:], client[k:], firm[k:]
            self._acquire(client[:k], firm[:k], day[:k], SOURCE_INITIAL)

    def _by_block(self, clients: np.ndarray) -> list[np.ndarray]:
        """*clients* split by replication, each part in the given order."""
        block = self.state.replication(clients)
        return [clients[block == i] for i in range(len(self.blocks))]

    def _per_firm(self, per_block: Sequence[int] | np.ndarray) -> np.ndarray:
        """A figure of each replication, repeated for each of its firms."""
        return np.repeat(np.asarray(per_block), self.n_firms)

    def _normal_revenue(self) -> np.ndarray:
        """Per firm, what its active clients bring in a normal quarter (no shock, no upsell)."""
        state = self.state
        active = state.firm >= 0
        firms = state.firm[active]
        quarter = MONTHS_PER_QUARTER * self.months.days
        cycles = self._normal_cycles
        price = np.array([f.cfg.price_level for f in self.firms])
        per_client = (state.order_value[active] * price[firms] * cycles[0][firms]
                      * quarter / (state.need_mean[active] + cycles[1][firms]))
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
        self._arrive_until(min(day + 1, self.months.sample_time(month)))
        self._acquire_until(min(day + 1, self.months.sample_time(month)))
        self.calendar.walk_day(day)
        if day + 1 < self.months.horizon:
            self.env.timeout(1.0, value=day + 1).callbacks.append(self._on_day)

    # ------------------------------------------------------------ acquisition
    def _set_hazards(self) -> None:
        """Each firm's per-prospect hazard for the quarter (``Firm.acquisition_hazard``)."""
        f = self.n_firms
        for i, pool in enumerate(self.pools):
            pool.set_hazards([firm.acquisition_hazard(self.cfg, pool.size)
                              for firm in self.firms[i * f:(i + 1) * f]], self.env.now)

    def _acquire_until(self, end: float) -> None:
        """Win every prospect whose threshold the pool's clock passes by day *end*.

        Nothing a prospect's choice depends on changes between two days
        (word of mouth comes at a day's start) or between two reviews (the
        hazards), so the day's marketing conversions are made together, each
        dated when the clock reaches its threshold. *end* never passes the
        next monthly sample: the books and the sample see each client change
        at its own time.
        """
        wins = []
        for pool in self.pools:
            won = pool.due(end, self.env.now, self.state.firm)
            if won is not None:
                wins.append((*won, *pool.reached(won[0])))
        if not wins:
            return
        clients, when, exposed, draws = (np.concatenate(column) for column in zip(*wins))
        self.state.aware[clients, exposed] = True
        firms = choose(self.state, self.segments, self.levers.rational_value, self.cfg.market,
                       clients, draws, contacted=exposed)
        self._acquire(clients, firms, when, SOURCE_MARKETING)

    def _acquire(self, clients: np.ndarray, firms: np.ndarray, t: np.ndarray, source: int
                 ) -> None:
        """Distinct *clients*, prospects or switchers, become the clients of *firms* at days
        *t*, in this order."""
        state = self.state
        prospects = clients[state.firm[clients] == PROSPECT]
        if prospects.size:
            won = np.bincount(state.replication(prospects), minlength=len(self.pools))
            for pool, n in zip(self.pools, won.tolist()):
                pool.size -= n
        state.firm[clients] = firms
        state.aware[clients, state.column(firms)] = True
        state.relationship[clients] = self.relationships.add(clients, firms, t, source)
        self.books.acquired(firms, state.segment[clients], t, _SOURCE_COLUMNS.get(source),
                            self._onboarding_cost[firms])
        need_now = self.cfg.market.first_need_at_acquisition and source != SOURCE_SWITCH
        self.calendar.void_needs(clients)  # a need planned for its old firm is void
        self.calendar.plan_needs(clients, firms, t, need_now)

    # ------------------------------------------------------- batch psychology
    def _evaluate_before_queue(self, client: int) -> None:
        """*client*, who may have left, is about to join a queue: evaluate its
        replication's ended walks (the others' wait for their own moments)."""
        self._flush(self.blocks[self.state.replication(client)])

    def _flush(self, clients: range | None = None) -> None:
        """Evaluate every walk that has ended (of *clients* only, if given), in
        vectorised passes.

        A client's walks are evaluated in the order it walked them: the
        first pending walk of every client in one pass, then the second, and
        so on; a walk whose client left after an earlier one is dropped.
        """
        table = self.calendar.finished(clients)
        if table is None:
            return
        for walks in in_walk_order(table):
            decisions = evaluate(walks, self.state, self.segments, self.touchpoints, self.levers,
                                 self.cfg, self.months, self.relationships)
            if decisions is not None:
                self._apply(decisions)

    def _apply(self, decided: Decisions) -> None:
        """Write what an evaluation decided: client state, relationships, churn and
        switching, the books' ledgers, word of mouth to deliver, the journal."""
        state, walks = self.state, decided.walks
        clients, firms, ended, completed = walks.client, walks.firm, walks.ended, walks.completed
        state.expectation[clients] = decided.expectation
        state.trust[clients] = decided.trust
        state.attitude[clients, state.column(firms)] = decided.attitude
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
            state.aware[leaving, state.column(firms[churned])] = False
            if self.n_firms > 1:
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
            clients, firms = joined
            self._acquire(clients, firms, np.full(clients.size, float(self.env.now)),
                          SOURCE_REFERRAL)

    def _switch(self, clients: np.ndarray, when: np.ndarray, seeds: np.ndarray) -> None:
        """Clients who left a firm move to another firm they know, or leave the market."""
        known = self.state.aware[clients].any(axis=1)
        if not known.any():
            return
        clients, when = clients[known], when[known]
        picks = choose(self.state, self.segments, self.levers.rational_value, self.cfg.market,
                       clients, uniforms(seeds[known], Salt.SWITCH, 0), outside=True)
        stay = picks >= 0  # dated when it left the old firm, in the same month's books
        if stay.any():
            self._acquire(clients[stay], picks[stay], when[stay], SOURCE_SWITCH)

    # --------------------------------------------------------------- samples
    def _on_sample(self, event: simpy.Event) -> None:
        month = event.value
        self.calendar.advance(self.env.now)
        self._flush()
        self.books.book()
        self._return_to_market(month)
        state = self.state
        active = state.firm >= 0
        gone = np.bincount(state.replication(np.flatnonzero(state.firm == GONE)),
                           minlength=len(self.blocks))
        self.books.sample(month, state.firm[active], state.segment[active],
                          {"mean_memory": state.memory[active],
                           "mean_trust": state.trust[active],
                           "mean_expectation": state.expectation[active]},
                          self._per_firm([pool.size for pool in self.pools]),
                          self._per_firm(gone), self.firms)
        if self.cfg.management.review and (month + 1) % MONTHS_PER_QUARTER == 0:
            self._review(month)
        if self._progress is not None:
            self._progress(self.months.sample_time(month))
        rest_of_day = min(math.floor(self.env.now) + 1, self.months.sample_time(month + 1))
        self._arrive_until(rest_of_day)
        self._acquire_until(rest_of_day)

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
        back = gone[uniforms(keys(self._keys["returns"][gone], gone, month), 0, 0) < chance]
        self.state.firm[back] = PROSPECT
        returned = []
        for pool, clients in zip(self.pools, self._by_block(back)):
            if clients.size:
                pool.enter(clients, self.env.now)
            returned.append(clients.size)
        self.books.monthly["returned"][:, month] = self._per_firm(returned)

    # ------------------------------------------------------------------- run
    def run(self, progress: Callable[[float], None] | None = None) -> list[Results]:
        """Simulate the horizon and return each replication's results, in order."""
        self._progress = progress
        env = self.env
        state = self.state
        clients = np.flatnonzero(state.firm >= 0)
        firms = state.firm[clients].astype(np.int64)
        state.relationship[clients] = self.relationships.add(clients, firms, 0.0,
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

    def _results(self) -> list[Results]:
        self.books.book()
        months = self.months
        measured = months.horizon - months.warmup
        capacity = self.calendar.capacity
        mean_queue = np.where(self.touchpoints.staffed, self.calendar.queue_area / measured,
                              np.nan)
        names = ("client", "firm", "need_at", "ended_at", "completed", "visits", "memory", "nps",
                 "churned")
        journal = None
        if self.cfg.sim.record_journeys:
            journal = {k: np.concatenate([j[k] for j in self._journal]) if self._journal
                       else np.array([]) for k in names}
        relationships = self.relationships.columns()
        node_firm = self.touchpoints.firm
        f = self.n_firms
        out = []
        for i, (replication, clients) in enumerate(zip(self.replications, self.blocks)):
            firms = slice(i * f, (i + 1) * f)
            nodes = (node_firm >= firms.start) & (node_firm < firms.stop)
            own = partial(_own_rows, clients=clients, first_firm=firms.start)

            out.append(Results.from_run(
                cfg=self.cfg,
                replication=replication,
                config_hash=config_hash(self.cfg),
                firm_names=[firm.name for firm in self.firms[firms]],
                months=self.months.n,
                month_days=months.days,
                horizon_days=months.horizon,
                warmup_days=months.warmup,
                monthly={k: v[firms] for k, v in self.books.monthly.items()},
                segment_monthly={k: v[firms] for k, v in self.books.segment_monthly.items()},
                segment_names=list(self.segments.names),
                relationships=own(relationships),
                touchpoints={
                    "firm": node_firm[nodes] - firms.start,
                    "touchpoint": [tp for firm in self.firms[firms]
                                   for tp in firm.journey.touchpoints],
                    "stage": [s for firm in self.firms[firms] for s in firm.journey.stages],
                    "channel": [c for firm in self.firms[firms] for c in firm.journey.channels],
                    "staffed": self.touchpoints.staffed[nodes],
                    "staff": capacity[nodes],
                    "mean_queue_length": mean_queue[nodes],
                    **{k: v[nodes] for k, v in self.books.touchpoint.items()},
                },
                journeys=None if journal is None else own(journal),
                prospects_final=self.pools[i].size,
            ))
        return out


def _own_rows(table: dict[str, np.ndarray], clients: range, first_firm: int
              ) -> dict[str, np.ndarray]:
    """The rows of *table* whose client is in *clients* (one replication's block), with
    that replication's own client and firm numbers."""
    rows = (table["client"] >= clients.start) & (table["client"] < clients.stop)
    mine = {k: v[rows] for k, v in table.items()}
    mine["client"] = mine["client"] - clients.start
    mine["firm"] = mine["firm"] - first_firm
    return mine


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
