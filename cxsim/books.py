"""The books: what happened, per firm, segment, month and touchpoint, and the run's
:class:`~cxsim.results.Results` made from them.

Evaluated walks are written to ledgers (columns, appended per evaluation)
and summed into the monthly and touchpoint books only when someone reads
them: at a sample, a review or the end (and sooner in a large market, to
hold the ledgers' memory down). Summing a month's walks at once instead of
at every evaluation is one ``bincount`` per book instead of hundreds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cxsim.months import Months

__all__ = ["Books", "MONTHLY", "SEGMENT_MONTHLY", "TOUCHPOINT"]

MONTHLY = ("acquisitions", "acquisitions_marketing", "acquisitions_referral",
           "acquisitions_switch", "churned", "purchases", "abandoned", "revenue", "margin",
           "cost_to_serve", "onboarding_cost", "acquisition_spend", "nps_answers", "promoters",
           "detractors", "active_clients", "prospects", "left_market", "mean_memory",
           "mean_trust", "mean_expectation", "cx_spend", "returned", "nps_surveyed",
           "promoters_measured", "detractors_measured", "culture", "will", "power", "being",
           "skill", "funding", "cx_budget_split")
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
LEDGER_VISITS = 250_000  # evaluated visits held per replication before booking them (~10 MB)


class Books:
    """Monthly, segment and touchpoint books of one run (of its *replications* side by side,
    whose firms and touchpoints are numbered on one axis).

    *seen_affect* and *seen_visits* hold, per touchpoint, the affect of the
    visits of walks the firm heard about since its last review: what its
    quarterly reallocation can see.
    """

    def __init__(self, n_firms: int, n_segments: int, n_nodes: int, months: Months,
                 replications: int = 1) -> None:
        self.months = months
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

    def acquired(self, firms: np.ndarray, segments: np.ndarray, t: np.ndarray,
                 source_column: str | None, onboarding_cost: np.ndarray) -> None:
        """Clients won by *firms* at days *t* (one each), each costing its onboarding; counted
        by source too unless *source_column* is None (a cohort's clients joining)."""
        m = self.months.index(t)
        for name in ("acquisitions", source_column)[: 1 if source_column is None else 2]:
            np.add.at(self.monthly[name], (firms, m), 1)
        np.add.at(self.segment_monthly["acquisitions"], (firms, segments, m), 1)
        np.add.at(self.monthly["onboarding_cost"], (firms, m), onboarding_cost)

    def record(self, walks: tuple[np.ndarray, ...], visits: tuple[np.ndarray, ...]) -> None:
        """Ledger one evaluation: per walk (cell, completed, revenue, margin, churned, answer,
        surveyed, measured answer, cost to serve) and per visit (node, walk lengths, surveyed,
        ended, wait, affect, quality, failed, recovered)."""
        self._walks.append(walks)
        self._visits.append(visits)
        self._held += visits[0].size
        if self._held > self._limit:
            self.book()

    def cell(self, firms: np.ndarray, segments: np.ndarray, months: np.ndarray) -> np.ndarray:
        """Flat index of (firm, segment, month) in the segment books."""
        return (firms * self.shape[1] + segments) * self.shape[2] + months

    def book(self) -> None:
        """Sum the ledgers into the books."""
        self._held = 0
        if self._walks:
            cells, completed, revenue, margin, churned, answers, surveyed, measured, cost = (
                np.concatenate(column) for column in zip(*self._walks))
            self._walks = []
            size = math.prod(self.shape)

            def count(weights: np.ndarray | None) -> np.ndarray:
                return np.bincount(cells, weights, size).reshape(self.shape)

            for name, weights in (("purchases", completed), ("revenue", revenue),
                                  ("margin", margin), ("churned", churned),
                                  ("nps_answers", None), ("promoters", answers >= 9),
                                  ("detractors", answers <= 6)):
                by_segment = count(weights)
                self.segment_monthly[name] += by_segment
                self.monthly[name] += by_segment.sum(axis=1)
            for name, weights in (("abandoned", ~completed), ("cost_to_serve", cost),
                                  ("nps_surveyed", surveyed),
                                  ("promoters_measured", surveyed & (measured >= 9)),
                                  ("detractors_measured", surveyed & (measured <= 6))):
                self.monthly[name] += count(weights).sum(axis=1)
        if self._visits:
            nodes, lengths, surveyed, ended, waits, felt, quality, failed, recovered = (
                np.concatenate(column) for column in zip(*self._visits))
            self._visits = []
            n = self.seen_affect.size
            seen = np.repeat(surveyed, lengths)
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

    def seen_since_review(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean affect and visits per touchpoint heard about since the last review; reset."""
        with np.errstate(invalid="ignore", divide="ignore"):
            seen = self.seen_affect / self.seen_visits
        visits = self.seen_visits.copy()
        self.seen_affect[:] = 0.0
        self.seen_visits[:] = 0.0
        return seen, visits

    def sample(self, month: int, firm: np.ndarray, segment: np.ndarray,
               means: dict[str, np.ndarray], prospects: int, left_market: int,
               firms: Sequence) -> None:
        """Month *month*'s sample of the clients (*firm* and *segment* per active client,
        *means* of its state) and of each firm's budgets and levers."""
        n_firms, n_segments, _ = self.shape
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
