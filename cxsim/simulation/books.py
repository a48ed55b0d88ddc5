"""The books: what happened, per firm, segment, month and touchpoint, and the run's
:class:`~cxsim.simulation.results.Results` made from them (:meth:`Books.results`).

Each record of decisions (``cxsim.simulation.evaluation.Decisions``) is written to
ledgers (columns, appended per evaluation) and summed into the monthly and
touchpoint books only when someone reads them: at a sample, a review or the
end (and sooner in a large market, to hold the ledgers' memory down).
Summing a month's walks at once instead of at every evaluation is one
``bincount`` per book instead of hundreds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from cxsim.config import Config, config_hash
from cxsim.model.firm import Firm, measured_kpi
from cxsim.model.market import (
    GONE,
    SOURCE_MARKETING,
    SOURCE_REFERRAL,
    SOURCE_SWITCH,
    ClientState,
)
from cxsim.model.months import Months
from cxsim.model.psychology import nps_classes
from cxsim.simulation.results import Results
from cxsim.simulation.walks import Routes, visit_times

if TYPE_CHECKING:
    from cxsim.simulation.evaluation import Decisions, Surveyed

__all__ = ["Books", "MONTHLY", "SEGMENT_MONTHLY", "TOUCHPOINT", "JOURNAL", "VISITS"]

MONTHLY = ("acquisitions", "acquisitions_marketing", "acquisitions_referral",
           "acquisitions_switch", "churned", "purchases", "abandoned", "revenue", "margin",
           "cost_to_serve", "onboarding_cost", "acquisition_spend", "nps_answers", "promoters",
           "detractors", "active_clients", "prospects", "left_market", "mean_memory",
           "mean_trust", "mean_expectation", "cx_spend", "returned", "nps_surveyed",
           "promoters_measured", "detractors_measured", "culture", "will", "power", "being",
           "skill", "funding", "cx_budget_split", "survey_invited", "nps_market_answers",
           "promoters_market", "detractors_market")
"""Per firm and month."""
SEGMENT_MONTHLY = ("active_clients", "acquisitions", "churned", "purchases", "revenue",
                   "margin", "nps_answers", "promoters", "detractors")
"""Per firm, segment and month."""
TOUCHPOINT = ("visits", "waited", "wait_sum", "affect_sum", "quality_sum", "failures",
              "recoveries")
"""Per touchpoint, over the measured window (after the warm-up)."""
LEVERS = ("culture", "will", "power", "being", "skill", "funding")
"""A firm's state read at each sample."""
MONTHS_PER_QUARTER = 3
_SOURCE_COLUMNS = {SOURCE_MARKETING: "acquisitions_marketing",
                   SOURCE_REFERRAL: "acquisitions_referral", SOURCE_SWITCH: "acquisitions_switch"}
JOURNAL = ("client", "firm", "need_at", "ended_at", "completed", "visits", "memory", "nps",
           "churned")
"""Per evaluated walk, when ``sim.record_journeys`` asks for the journeys."""
VISITS = ("case", "client", "firm", "touchpoint", "start", "end", "wait", "outcome")
"""Per visit of an evaluated walk, when ``sim.record_visits`` asks for the visits."""
WALK_OUTCOMES = ("purchase", "no_purchase", "walk_away")
"""A walk's outcome as the visits table names it (``cxsim.model.journey.OUTCOMES``)."""
LEDGER_VISITS = 250_000  # evaluated visits held per replication before booking them (~10 MB)


class Books:
    """Monthly, segment and touchpoint books of one run (of its *replications* side by side,
    whose firms and touchpoints are numbered on one axis).

    *seen_affect* and *seen_visits* hold, per touchpoint, the affect of the
    visits of walks the firm heard about since its last review: what its
    quarterly reallocation can see. With *journeys*, every evaluated walk is kept too; with
    *visits* (the routing table the walks were walked on), every visit of one, its times
    walked again at the end (``cxsim.simulation.walks.visit_times``).
    """

    def __init__(self, n_firms: int, n_segments: int, n_nodes: int, months: Months,
                 replications: int = 1, journeys: bool = False, visits: Routes | None = None
                 ) -> None:
        self.months = months
        self.journal: list[dict[str, np.ndarray]] | None = [] if journeys else None
        self._routes = visits
        self.visit_log: list[tuple[np.ndarray, ...]] | None = None if visits is None else []
        self._limit = LEDGER_VISITS * replications
        self.shape = (n_firms, n_segments, months.n)
        self.monthly = {name: np.zeros((n_firms, months.n)) for name in MONTHLY}
        self.segment_monthly = {name: np.zeros(self.shape) for name in SEGMENT_MONTHLY}
        self.touchpoint = {name: np.zeros(n_nodes) for name in TOUCHPOINT}
        self.seen_affect = np.zeros(n_nodes)
        self.seen_visits = np.zeros(n_nodes)
        self._walks: list[tuple[np.ndarray, ...]] = []
        self._visits: list[tuple[np.ndarray, ...]] = []
        self._held = 0

    def acquired(self, firms: np.ndarray, segments: np.ndarray, t: np.ndarray, source: int,
                 onboarding_cost: np.ndarray) -> None:
        """Clients won by *firms* at days *t* (one each), each costing its onboarding; counted
        by *source* too (``market.SOURCES``) unless a cohort's clients joining."""
        source_column = _SOURCE_COLUMNS.get(source)
        m = self.months.index(t)
        for name in ("acquisitions", source_column)[: 1 if source_column is None else 2]:
            np.add.at(self.monthly[name], (firms, m), 1)
        np.add.at(self.segment_monthly["acquisitions"], (firms, segments, m), 1)
        np.add.at(self.monthly["onboarding_cost"], (firms, m), onboarding_cost)

    def record(self, decided: Decisions) -> None:
        """Ledger one record of decisions, per walk and per visit (and its journeys)."""
        d, walks = decided, decided.walks
        self._walks.append((self.cell(walks.firm, d.segment, d.month), d.purchased,
                            d.abandoned, d.revenue, d.margin, d.churned, d.answer, d.invited,
                            d.answered, d.measured, d.cost))
        self._visits.append((walks.nodes, walks.lengths, d.heard, walks.ended, walks.waits,
                             d.felt, d.quality, d.failed, d.recovered))
        if self.journal is not None:
            self.journal.append({
                "client": walks.client, "firm": walks.firm, "need_at": walks.need_at,
                "ended_at": walks.ended, "completed": d.purchased, "visits": walks.lengths,
                "memory": d.memory, "nps": d.answer, "churned": d.churned})
        if self.visit_log is not None:
            outcome = np.where(d.purchased, 0, np.where(d.abandoned, 2, 1))
            self.visit_log.append((walks.client, walks.firm, walks.key, walks.need_at,
                                   walks.lengths, walks.nodes, walks.waits, outcome))
        self._held += walks.nodes.size
        if self._held > self._limit:
            self.book()

    def cell(self, firms: np.ndarray, segments: np.ndarray, months: np.ndarray) -> np.ndarray:
        """Flat index of (firm, segment, month) in the segment books."""
        return (firms * self.shape[1] + segments) * self.shape[2] + months

    def book(self) -> None:
        """Sum the ledgers into the books."""
        self._held = 0
        if self._walks:
            (cells, completed, abandoned, revenue, margin, churned, answers, invited, answered,
             measured, cost) = (np.concatenate(column) for column in zip(*self._walks))
            self._walks = []
            size = math.prod(self.shape)

            def count(weights: np.ndarray | None) -> np.ndarray:
                return np.bincount(cells, weights, size).reshape(self.shape)

            promoters, detractors = nps_classes(answers)
            promoters_measured, detractors_measured = nps_classes(measured)
            for name, weights in (("purchases", completed), ("revenue", revenue),
                                  ("margin", margin), ("churned", churned),
                                  ("nps_answers", None), ("promoters", promoters),
                                  ("detractors", detractors)):
                by_segment = count(weights)
                self.segment_monthly[name] += by_segment
                self.monthly[name] += by_segment.sum(axis=1)
            for name, weights in (("abandoned", abandoned), ("cost_to_serve", cost),
                                  ("survey_invited", invited), ("nps_surveyed", answered),
                                  ("promoters_measured", answered & promoters_measured),
                                  ("detractors_measured", answered & detractors_measured)):
                self.monthly[name] += count(weights).sum(axis=1)
        if self._visits:
            nodes, lengths, heard, ended, waits, felt, quality, failed, recovered = (
                np.concatenate(column) for column in zip(*self._visits))
            self._visits = []
            n = self.seen_affect.size
            seen = np.repeat(heard, lengths)
            self.seen_affect += np.bincount(nodes[seen], felt[seen], n)
            self.seen_visits += np.bincount(nodes[seen], minlength=n)
            counted = np.repeat(ended >= self.months.warmup, lengths)
            at = nodes[counted]
            stats = self.touchpoint
            stats["visits"] += np.bincount(at, minlength=n)
            for name, weights in (("waited", waits > 0.0), ("wait_sum", waits),
                                  ("affect_sum", felt), ("quality_sum", quality),
                                  ("failures", failed), ("recoveries", recovered)):
                stats[name] += np.bincount(at, weights[counted], n)

    def surveyed(self, month: int, surveys: Surveyed) -> None:
        """Month *month*'s periodic surveys: the firms' own (added to what their surveys after
        walks heard) and the industry study's."""
        m = self.monthly
        for name, counts in (("survey_invited", surveys.invited),
                             ("nps_surveyed", surveys.answered),
                             ("promoters_measured", surveys.promoters),
                             ("detractors_measured", surveys.detractors),
                             ("nps_market_answers", surveys.study_answers),
                             ("promoters_market", surveys.study_promoters),
                             ("detractors_market", surveys.study_detractors)):
            m[name][:, month] += counts

    def quarter(self, firm: int, month: int, metric: str, discount_rate: float
                ) -> tuple[float, float]:
        """Revenue of *firm* in the quarter ending with *month*, and the KPI it steers by
        as it measures it (``firm.measured_kpi``; *discount_rate* per year)."""
        m = self.monthly
        rate = discount_rate / 4.0  # a quarter's
        q = slice(month + 1 - MONTHS_PER_QUARTER, month + 1)
        revenue = float(m["revenue"][firm, q].sum())
        return revenue, measured_kpi(
            metric, revenue, m["promoters_measured"][firm, q].sum(),
            m["detractors_measured"][firm, q].sum(), m["nps_surveyed"][firm, q].sum(),
            float(m["margin"][firm, q].sum()), float(m["churned"][firm, q].sum()),
            float(m["active_clients"][firm, q].mean()), rate)

    def seen_since_review(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean affect and visits per touchpoint heard about since the last review; reset."""
        with np.errstate(invalid="ignore", divide="ignore"):
            seen = self.seen_affect / self.seen_visits
        visits = self.seen_visits.copy()
        self.seen_affect[:] = 0.0
        self.seen_visits[:] = 0.0
        return seen, visits

    def returned(self, month: int, clients: Sequence[int]) -> None:
        """*clients* of each replication came back to the market after month *month*."""
        self.monthly["returned"][:, month] = np.repeat(clients, self.shape[0] // len(clients))

    def sample(self, month: int, state: ClientState, prospects: Sequence[int],
               firms: Sequence[Firm]) -> None:
        """Month *month*'s sample of the clients (counts and mean state per firm), of each
        replication's *prospects* and of each firm's budgets and levers."""
        n_firms, n_segments, _ = self.shape
        active = state.firm >= 0
        firm, segment = state.firm[active], state.segment[active]
        means = {"mean_memory": state.memory[active], "mean_trust": state.trust[active],
                 "mean_expectation": state.expectation[active]}
        gone = np.bincount(state.replication(np.flatnonzero(state.firm == GONE)),
                           minlength=len(prospects))
        prospects = np.repeat(prospects, n_firms // len(prospects))
        left_market = np.repeat(gone, n_firms // len(gone))
        counts = np.bincount(firm, minlength=n_firms)
        m = self.monthly
        m["active_clients"][:, month] = counts
        self.segment_monthly["active_clients"][:, :, month] = np.bincount(
            firm * n_segments + segment, minlength=n_firms * n_segments).reshape(
            n_firms, n_segments)
        m["prospects"][:, month] = prospects
        m["left_market"][:, month] = left_market
        with np.errstate(invalid="ignore", divide="ignore"):
            for name, values in means.items():
                m[name][:, month] = np.bincount(firm, values, n_firms) / counts
        months = self.months
        share_of_quarter = min(months.days, months.horizon - month * months.days) / (
            MONTHS_PER_QUARTER * months.days)
        for f, one in enumerate(firms):
            m["cx_spend"][f, month] = one.cx_budget * share_of_quarter
            m["acquisition_spend"][f, month] = one.acquisition_budget * share_of_quarter
            for name in LEVERS:
                m[name][f, month] = getattr(one, name)
            m["cx_budget_split"][f, month] = one.split

    def results(self, cfg: Config, replications: Sequence[int], firms: Sequence[Firm],
                segment_names: list[str], relationships: dict[str, np.ndarray],
                node_firm: np.ndarray, staffed: np.ndarray, capacity: np.ndarray,
                queue_area: np.ndarray, prospects: Sequence[int]) -> list[Results]:
        """Each replication's :class:`Results` from the books of the run (*firms*, touchpoints
        and clients numbered on one axis, ``cfg.market.size`` clients per replication)."""
        self.book()
        months = self.months
        mean_queue = np.where(staffed, queue_area / (months.horizon - months.warmup), np.nan)
        journal = None
        if self.journal is not None:
            journal = {k: np.concatenate([j[k] for j in self.journal]) if self.journal
                       else np.array([]) for k in JOURNAL}
        visits = None if self.visit_log is None else self._visit_table(firms)
        f, size = len(cfg.firms), cfg.market.size
        out = []
        for i, replication in enumerate(replications):
            mine = slice(i * f, (i + 1) * f)
            nodes = (node_firm >= mine.start) & (node_firm < mine.stop)
            clients = range(i * size, (i + 1) * size)
            own = firms[mine]
            out.append(Results.from_run(
                cfg=cfg, replication=replication, config_hash=config_hash(cfg),
                firm_names=[firm.name for firm in own], months=months.n,
                month_days=months.days, horizon_days=months.horizon,
                warmup_days=months.warmup,
                monthly={k: v[mine] for k, v in self.monthly.items()},
                segment_monthly={k: v[mine] for k, v in self.segment_monthly.items()},
                segment_names=segment_names,
                relationships=_own_rows(relationships, clients, mine.start),
                touchpoints={
                    "firm": node_firm[nodes] - mine.start,
                    "touchpoint": [tp for firm in own for tp in firm.journey.touchpoints],
                    "stage": [s for firm in own for s in firm.journey.stages],
                    "channel": [c for firm in own for c in firm.journey.channels],
                    "staffed": staffed[nodes], "staff": capacity[nodes],
                    "mean_queue_length": mean_queue[nodes],
                    **{k: v[nodes] for k, v in self.touchpoint.items()},
                },
                journeys=None if journal is None else _own_rows(journal, clients, mine.start),
                prospects_final=prospects[i],
                visit_log=None if visits is None else _numbered(
                    _own_rows(visits, clients, mine.start)),
            ))
        return out

    def _visit_table(self, firms: Sequence[Firm]) -> dict[str, np.ndarray]:
        """Every visit of the evaluated walks, its times walked again, ordered by walk start."""
        empty = tuple(np.empty(0, dtype) for dtype in (np.int64, np.int64, np.uint64, float,
                                                       np.int64, np.int64, float, np.int64))
        client, firm, key, need_at, lengths, nodes, waits, outcome = (
            np.concatenate(column) for column in zip(*(self.visit_log or [empty])))
        start, end = visit_times(self._routes, key, need_at, lengths, nodes, waits)
        walk = np.repeat(np.arange(lengths.size), lengths)
        # walks by their start (the need), a walk's visits in the order made
        order = np.lexsort((np.arange(walk.size), walk, need_at[walk]))
        names, code = np.unique([tp for one in firms for tp in one.journey.touchpoints],
                                return_inverse=True)
        walk = walk[order]
        return {"walk": walk, "client": client[walk], "firm": firm[walk],
                "touchpoint": pd.Categorical.from_codes(code[nodes[order]], names),
                "start": start[order], "end": end[order], "wait": waits[order],
                "outcome": pd.Categorical.from_codes(outcome[walk], WALK_OUTCOMES)}


def _numbered(visits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One replication's visits with its walks numbered 0, 1, ... in order (the case)."""
    walk = visits.pop("walk")
    first = np.ones(walk.size, dtype=bool)
    first[1:] = walk[1:] != walk[:-1]
    return {"case": np.cumsum(first) - 1, **visits}


def _own_rows(table: dict[str, np.ndarray], clients: range, first_firm: int
              ) -> dict[str, np.ndarray]:
    """The rows of *table* whose client is in *clients* (one replication's block), with
    that replication's own client and firm numbers."""
    rows = (table["client"] >= clients.start) & (table["client"] < clients.stop)
    mine = {k: v[rows] for k, v in table.items()}
    mine["client"] = mine["client"] - clients.start
    mine["firm"] = mine["firm"] - first_firm
    return mine
