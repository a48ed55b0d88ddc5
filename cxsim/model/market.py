"""The market: segments and the clients' state, one numpy array per attribute.

A client is an index ``0 .. size-1``. Its segment never changes; its firm,
expectation, trust, attitude (one column per firm) and last NPS answer do.
Nothing here is one Python object per client, so a market of a million
clients is a few dozen megabytes.
"""

from __future__ import annotations

import numpy as np

from cxsim.config import DAYS_PER_YEAR, NEEDS, Config

__all__ = [
    "PROSPECT", "GONE", "NOT_YET", "SOURCES", "SOURCE_INITIAL", "SOURCE_MARKETING",
    "SOURCE_REFERRAL", "SOURCE_SWITCH", "Segments", "ClientState", "Relationships",
    "segment_counts",
]

PROSPECT = -1
"""``ClientState.firm`` of a client who is no firm's client yet."""
GONE = -2
"""``ClientState.firm`` of a client who has left the category."""
NOT_YET = -3
"""``ClientState.firm`` of a cohort's client before its day (``cxsim.model.cohort``)."""


def segment_counts(shares: np.ndarray, size: int) -> np.ndarray:
    """Whole clients per segment, by largest remainder, summing to *size*."""
    exact = np.asarray(shares, dtype=float) * size
    counts = np.floor(exact).astype(np.int64)
    short = size - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:short]] += 1
    return counts


class Segments:
    """Per-segment parameters as arrays, indexed by segment id (config order).

    A segment's purchase rate, dropout and spend are its clients' means; where it
    declares a distribution across clients and ``market.heterogeneity`` is on,
    ``rate``, ``dropout`` and ``spend`` hold it and each client draws its own
    (:class:`ClientState`).
    """

    def __init__(self, cfg: Config) -> None:
        segs = cfg.market.segments
        self.names: tuple[str, ...] = tuple(segs)
        self.share = np.array([s.share for s in segs.values()])
        self.margin = np.array([s.margin for s in segs.values()])
        self.emotional_weight = np.array([s.emotional_weight for s in segs.values()])
        self.switching_cost = np.array([s.switching_cost for s in segs.values()])
        self.social_influence = np.array([s.social_influence for s in segs.values()])
        self.initial_expectation = np.array([s.initial_expectation for s in segs.values()])
        self.identifiability = np.array([s.identifiability for s in segs.values()])
        self.needs = np.array([[s.needs.get(k, 0.0) for k in NEEDS] for s in segs.values()])
        self.repeat_only = np.array([s.dropout_after == "repeat_purchase" for s in segs.values()])
        spread = cfg.market.heterogeneity
        self.rate = [s.purchase_rate if spread else None for s in segs.values()]
        self.dropout = [s.dropout if spread else None for s in segs.values()]
        self.spend = [s.spend if spread else None for s in segs.values()]
        base = cfg.psychology.base_churn
        self.mean_days_between_needs = np.array([
            s.mean_days_between_needs if s.purchase_rate is None
            else s.purchase_rate.mean_days_between_needs for s in segs.values()])
        self.mean_dropout = np.array([base if s.dropout is None else s.dropout.mean
                                      for s in segs.values()])
        self.order_value = np.array([s.order_value if s.spend is None else s.spend.mean
                                     for s in segs.values()])


class ClientState:
    """The state of every client, sized for all firms of the market.

    Replications run side by side (:meth:`side_by_side`) put their clients
    on one axis and number their firms on one axis too (replication r's
    firm f is ``r * F + f``), while ``attitude``, ``aware`` and ``last_answer`` keep
    one column per firm of the market (:meth:`column`).

    ``last_answer`` is the answer a client gave about each firm after its last walk there,
    -1 if it never walked with it: one byte per client and firm, kept when the client
    leaves (surveys of former clients read it; choice reads ``aware``). It does not fade:
    a former client is asked what it last said.

    Parameters
    ----------
    cfg : the validated scenario.
    segments : its segments.
    population : the run's ``population`` random stream (segment draw and
        starting split).
    segment : each client's segment, when a cohort gives them (``cxsim.model.cohort``).
    """

    def __init__(self, cfg: Config, segments: Segments, population: np.random.Generator,
                 segment: np.ndarray | None = None) -> None:
        size = cfg.market.size
        n_firms = len(cfg.firms)
        counts = segment_counts(segments.share, size)
        self.segment = population.permutation(np.repeat(np.arange(counts.size), counts)).astype(
            np.int16
        )
        if segment is not None:  # a cohort's own segments
            self.segment = segment.astype(np.int16)
        self.firm = np.full(size, PROSPECT, dtype=np.int16)
        order = population.permutation(size)
        start = 0
        for f, firm in enumerate(cfg.firms.values()):
            k = int(round(firm.initial_share * size))
            self.firm[order[start : start + k]] = f
            start += k
        self.expectation = segments.initial_expectation[self.segment].astype(float)
        self.trust = np.full(size, cfg.psychology.initial_trust)
        self.attitude = np.zeros((size, n_firms))
        self.aware = np.zeros((size, n_firms), dtype=bool)
        mine = self.firm >= 0
        self.aware[np.flatnonzero(mine), self.firm[mine]] = True
        self.memory = np.zeros(size)
        self.nps = np.full(size, -1, dtype=np.int8)
        self.last_answer = np.full((size, n_firms), -1, dtype=np.int8)
        self.relationship = np.full(size, -1, dtype=np.int64)
        self.block = size  # clients per replication
        self._draw_habits(segments, population)

    def _draw_habits(self, segments: Segments, population: np.random.Generator) -> None:
        """Each client's mean days between needs, dropout per purchase and mean spend per
        purchase: its segment's, or its own draw where the segment spreads them.

        λ ~ Gamma(r, α) per year and p ~ Beta(a, b) (Fader, Hardie & Lee 2005, the
        BG/NBD); spend per purchase Gamma(p, ν) with ν ~ Gamma(q, γ) (the Gamma–Gamma),
        so a client's mean spend is p / ν and ``spend_shape`` keeps p for the draw of each
        purchase. Drawn after the segments and the split, segment by segment, so a
        market that declares no distribution draws nothing more.
        """
        segment = self.segment
        self.need_mean = segments.mean_days_between_needs[segment]
        self.dropout = segments.mean_dropout[segment]
        self.order_value = segments.order_value[segment]
        self.spend_shape = np.zeros(self.size)
        for s in range(len(segments.names)):
            mine = np.flatnonzero(segment == s)
            rate, dropout, spend = segments.rate[s], segments.dropout[s], segments.spend[s]
            if rate is not None:
                per_year = population.gamma(rate.r, 1.0 / rate.alpha_years, mine.size)
                with np.errstate(divide="ignore"):
                    self.need_mean[mine] = DAYS_PER_YEAR / per_year
            if dropout is not None:
                self.dropout[mine] = population.beta(dropout.a, dropout.b, mine.size)
            if spend is not None:
                self.order_value[mine] = spend.p / population.gamma(spend.q, 1.0 / spend.gamma,
                                                                     mine.size)
                self.spend_shape[mine] = spend.p

    _COLUMNS = ("segment", "firm", "expectation", "trust", "attitude", "aware", "memory", "nps",
                "last_answer", "relationship", "need_mean", "dropout", "order_value", "spend_shape")

    @classmethod
    def side_by_side(cls, states: list[ClientState]) -> ClientState:
        """The clients of several replications on one axis, block after block."""
        n_firms = states[0].attitude.shape[1]
        both = cls.__new__(cls)
        for name in cls._COLUMNS:
            setattr(both, name, np.concatenate([getattr(s, name) for s in states]))
        offsets = np.repeat(np.arange(len(states)) * n_firms, [s.size for s in states])
        mine = both.firm >= 0
        both.firm[mine] += offsets[mine].astype(both.firm.dtype)
        both.block = states[0].size
        return both

    @property
    def size(self) -> int:
        return self.firm.size

    def column(self, firms: np.ndarray | int) -> np.ndarray | int:
        """The column of ``attitude``, ``aware`` and ``last_answer`` that holds each firm."""
        return firms % self.attitude.shape[1]

    def replication(self, clients: np.ndarray | int) -> np.ndarray | int:
        """The position of each client's replication among those side by side."""
        return clients // self.block

    def first_firm(self, clients: np.ndarray) -> np.ndarray:
        """The number of the first firm of each client's replication."""
        return self.replication(clients) * self.attitude.shape[1]

    def prospects(self) -> np.ndarray:
        """Ids of the clients who are no firm's client yet."""
        return np.flatnonzero(self.firm == PROSPECT)

    def apply(self, clients: np.ndarray, firms: np.ndarray, expectation: np.ndarray,
              trust: np.ndarray, attitude: np.ndarray, memory: np.ndarray, answer: np.ndarray
              ) -> None:
        """An evaluation's new state of distinct *clients*, each after a walk with its firm."""
        self.expectation[clients] = expectation
        self.trust[clients] = trust
        self.attitude[clients, self.column(firms)] = attitude
        self.memory[clients] = memory
        self.nps[clients] = answer
        self.last_answer[clients, self.column(firms)] = answer

    def join(self, clients: np.ndarray, firms: np.ndarray, relationships: np.ndarray) -> None:
        """Distinct *clients* become clients of *firms*, in the *relationships* (rows) opened."""
        self.firm[clients] = firms
        self.aware[clients, self.column(firms)] = True
        self.relationship[clients] = relationships

    def leave(self, clients: np.ndarray, firms: np.ndarray) -> None:
        """*clients* leave *firms* and the category, and stop counting the firm among the
        ones they know (until they hear of it again)."""
        self.firm[clients] = GONE
        self.aware[clients, self.column(firms)] = False


SOURCES = ("initial", "marketing", "referral", "switch")
"""How a relationship began: a client at day 0 (or on its cohort day), bought by spend,
referred, or won from a rival."""
SOURCE_INITIAL, SOURCE_MARKETING, SOURCE_REFERRAL, SOURCE_SWITCH = range(4)


class Relationships:
    """One row per client-firm relationship, in growable numpy columns.

    A client who leaves and later returns (or switches) starts a new row, so
    CLV is per relationship: the margin it actually paid.
    """

    def __init__(self, capacity: int) -> None:
        capacity = max(int(capacity), 16)
        self.n = 0
        self.client = np.empty(capacity, dtype=np.int64)
        self.firm = np.empty(capacity, dtype=np.int16)
        self.source = np.empty(capacity, dtype=np.int8)
        self.acquired_at = np.empty(capacity)
        self.churned_at = np.empty(capacity)
        self.purchases = np.empty(capacity, dtype=np.int64)
        self.revenue = np.empty(capacity)
        self.margin = np.empty(capacity)
        self.clv = np.empty(capacity)

    _COLUMNS = ("client", "firm", "source", "acquired_at", "churned_at", "purchases", "revenue",
                "margin", "clv")

    def add(self, clients: np.ndarray, firms: np.ndarray, t: np.ndarray | float, source: int
            ) -> np.ndarray:
        """Open a relationship for each client (with its firm, at its day *t*); return the
        rows, in the given order."""
        k = clients.size
        if self.n + k > self.client.size:
            for name in self._COLUMNS:
                old = getattr(self, name)
                new = np.empty(max(2 * old.size, self.n + k), dtype=old.dtype)
                new[: old.size] = old
                setattr(self, name, new)
        rows = slice(self.n, self.n + k)
        self.client[rows] = clients
        self.firm[rows] = firms
        self.source[rows] = source
        self.acquired_at[rows] = t
        self.churned_at[rows] = np.nan
        self.purchases[rows] = 0
        self.revenue[rows] = 0.0
        self.margin[rows] = 0.0
        self.clv[rows] = 0.0
        self.n += k
        return np.arange(rows.start, rows.stop)

    def record(self, rows: np.ndarray, completed: np.ndarray, revenue: np.ndarray,
               margin: np.ndarray, clv: np.ndarray, churned: np.ndarray, ended: np.ndarray
               ) -> None:
        """One walk of each relationship at distinct *rows*: its purchase, what it paid, and
        the day it ended where it churned."""
        self.purchases[rows] += completed
        self.revenue[rows] += revenue
        self.margin[rows] += margin
        self.clv[rows] += clv
        self.churned_at[rows[churned]] = ended[churned]

    def columns(self) -> dict[str, np.ndarray]:
        """The filled part of every column."""
        return {name: getattr(self, name)[: self.n] for name in self._COLUMNS}
