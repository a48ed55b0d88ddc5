"""Acquisition: the prospect pool's hazard clock, and the choice among firms a client knows.

Every prospect has its own exponential clock on one shared hazard clock.
Between two reviews each prospect's marketing hazard is the same (the sum
of the firms' hazards per day), so the pool's cumulative hazard is a line;
a prospect entering the pool draws an Exp(1) threshold above the line's
current level and is won when the line reaches it. This is the pool's
Gillespie process, but a prospect's threshold belongs to it (keyed by
client and walk number): a lever that changes the hazard changes *when*
each prospect is won, not *who* comes next.
"""

from __future__ import annotations

import numpy as np

from cxsim.config import Config, MarketConfig
from cxsim.model import psychology as psy
from cxsim.model.firm import Firm
from cxsim.model.market import PROSPECT, ClientState, Segments
from cxsim.streams import Prospect, keys, uniforms

__all__ = ["ProspectPool", "Pools", "choose"]


class ProspectPool:
    """The prospects in line to be won by marketing, ordered by threshold.

    *key* holds each client's word of the run's acquisition stream
    (``streams.client_streams``); *walk_numbers* the clients' walk
    counters (a prospect's draws are keyed by its client and walk number, so
    a client who returns to the market draws anew).
    """

    def __init__(self, size: int, key: np.ndarray, walk_numbers: np.ndarray) -> None:
        self.key = key
        self.walk_numbers = walk_numbers
        self.size = 0  # prospects in the pool
        self._level = 0.0
        self._day = 0.0
        self.rate = 0.0
        self.hazards: list[float] = []
        self._trigger = np.full(size, np.inf)
        self._queue = np.empty(0, dtype=np.int64)  # prospects by threshold, from _head on
        self._queue_level = np.empty(0)
        self._head = 0

    def level(self, now: float) -> float:
        """The pool's cumulative hazard at day *now*."""
        return self._level + self.rate * (now - self._day)

    def set_hazards(self, hazards: list[float], now: float) -> None:
        """Each firm's per-prospect hazard from day *now* on: the clock's slope changes."""
        self._level = self.level(now)
        self._day = now
        self.hazards = hazards
        self.rate = sum(hazards)

    def enter(self, clients: np.ndarray, now: float) -> None:
        """*clients* become prospects at day *now*, each with its own threshold."""
        numbers = self.walk_numbers[clients]
        threshold = -np.log1p(-uniforms(keys(self.key[clients], clients, numbers), 0,
                                        Prospect.THRESHOLD))
        level = self.level(now) + threshold
        self._trigger[clients] = level
        self.size += clients.size
        queue = np.concatenate([self._queue[self._head:], clients])
        levels = np.concatenate([self._queue_level[self._head:], level])
        order = np.argsort(levels, kind="stable")
        self._queue, self._queue_level, self._head = queue[order], levels[order], 0

    def due(self, end: float, now: float, firm: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray] | None:
        """Prospects whose thresholds the clock passes from *now* to day *end*, and when.

        *firm* is every client's firm: a client who left the pool another way
        (a referral) or re-entered it since is skipped.
        """
        if self.rate <= 0.0 or end <= now:
            return None
        head = self._head
        top = self._level + self.rate * (end - self._day)
        stop = head + int(np.searchsorted(self._queue_level[head:], top, side="right"))
        if stop == head:
            return None
        self._head = stop
        clients, levels = self._queue[head:stop], self._queue_level[head:stop]
        won = (firm[clients] == PROSPECT) & (self._trigger[clients] == levels)
        clients, levels = clients[won], levels[won]
        if not clients.size:
            return None
        return clients, np.maximum(self._day + (levels - self._level) / self.rate, now)

    def reached(self, clients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Which firm's marketing reached each won prospect, and its uniform for choosing."""
        seeds = keys(self.key[clients], clients, self.walk_numbers[clients])
        exposed = np.searchsorted(np.cumsum(self.hazards),
                                  uniforms(seeds, 0, Prospect.EXPOSURE) * self.rate,
                                  side="right")
        return np.minimum(exposed, len(self.hazards) - 1), uniforms(seeds, 0, Prospect.CHOICE)


def choose(state: ClientState, segments: Segments, rational_value: np.ndarray,
           market: MarketConfig, clients: np.ndarray, draws: np.ndarray, outside: bool = False,
           contacted: np.ndarray | None = None, aware: np.ndarray | None = None
           ) -> np.ndarray:
    """Firm each client picks among those it knows, by logit on utility.

    *rational_value* is per segment and firm (every replication's firms); a
    client chooses among its own replication's. With *outside*, leaving the
    market is an option of utility 0 and is returned as -1. A switch costs
    the segment's switching cost (seed 002). The firm whose sales contact
    prompted each choice (*contacted*, a column of ``state.attitude``) gains
    ``market.contact_salience``: it is in the room when the client decides. *aware*
    (per client and firm) replaces ``state.aware[clients]`` where given.
    """
    segment = state.segment[clients]
    weight = segments.emotional_weight[segment][:, None]
    first = state.first_firm(clients)
    columns = first[:, None] + np.arange(state.attitude.shape[1])
    offer = rational_value[segment[:, None], columns]
    utility = psy.choice_utility(state.attitude[clients], offer, weight,
                                 segments.switching_cost[segment][:, None], outside)
    if contacted is not None:
        utility[np.arange(len(clients)), contacted] += market.contact_salience
    known = state.aware[clients] if aware is None else aware
    picks = psy.logit_choice(utility, known, market.choice_sharpness, draws,
                             outside)
    return np.where(picks >= 0, picks + first, picks)



class Pools:
    """Each replication's :class:`ProspectPool`, side by side (clients on one axis,
    *block* clients per replication)."""

    def __init__(self, n: int, block: int, key: np.ndarray, walk_numbers: np.ndarray) -> None:
        self.block = block
        self.pools = [ProspectPool(n * block, key, walk_numbers) for _ in range(n)]

    @property
    def sizes(self) -> list[int]:
        """Prospects in each replication's pool."""
        return [pool.size for pool in self.pools]

    def enter(self, clients: np.ndarray, now: float) -> list[int]:
        """*clients* become prospects at day *now*, each in its replication's pool; how many
        enter each."""
        block = clients // self.block
        mine = [clients[block == i] for i in range(len(self.pools))]
        for pool, prospects in zip(self.pools, mine):
            if prospects.size:
                pool.enter(prospects, now)
        return [prospects.size for prospects in mine]

    def won(self, clients: np.ndarray, firm: np.ndarray) -> None:
        """*clients* are won (by marketing, a referral, a switch or a cohort's day): the
        prospects among them (by each client's *firm*) leave their pools."""
        prospects = clients[firm[clients] == PROSPECT]
        won = np.bincount(prospects // self.block, minlength=len(self.pools))
        for pool, n in zip(self.pools, won.tolist()):
            pool.size -= n

    def set_hazards(self, firms: list[Firm], scenario: Config, now: float) -> None:
        """Each firm's per-prospect hazard from day *now* on (``Firm.acquisition_hazard``),
        *firms* replication after replication."""
        f = len(firms) // len(self.pools)
        for i, pool in enumerate(self.pools):
            pool.set_hazards([firm.acquisition_hazard(scenario, pool.size)
                              for firm in firms[i * f:(i + 1) * f]], now)

    def wins(self, end: float, now: float, state: ClientState, segments: Segments,
             rational_value: np.ndarray, market: MarketConfig) -> tuple[np.ndarray, ...] | None:
        """Every prospect whose threshold its pool's clock passes from *now* to day *end*:
        the clients, the firm (column) whose marketing reached each, the firm each picks
        knowing that one too, and when; None if none."""
        wins = []
        for pool in self.pools:
            won = pool.due(end, now, state.firm)
            if won is not None:
                wins.append((*won, *pool.reached(won[0])))
        if not wins:
            return None
        clients, when, exposed, draws = (np.concatenate(column) for column in zip(*wins))
        aware = state.aware[clients]
        aware[np.arange(clients.size), exposed] = True
        firms = choose(state, segments, rational_value, market, clients, draws,
                       contacted=exposed, aware=aware)
        return clients, exposed, firms, when
