"""Word of mouth: promoters recommend, detractors warn, each to neighbours drawn at random.

A promoter sends Poisson(social influence) messages, a detractor
``warning_ratio`` times as many; each goes to a uniformly drawn neighbour,
so influence is a share of one's neighbours, not a count. A message makes
the hearer aware of the firm and moves its attitude; a recommended prospect
becomes a client with :func:`cxsim.model.psychology.referral_persuasion`. On a
complete network with every client a promoter and no attitude shift, a
prospect's referral hazard is ``need rate * influence * conversion * (share
adopted)``: the imitation term of Bass (1969).
"""

from __future__ import annotations

import numpy as np

from cxsim.config import MarketConfig
from cxsim.model import psychology as psy
from cxsim.model.market import PROSPECT, ClientState, Segments
from cxsim.model.network import SocialNetwork
from cxsim.streams import Salt, poissons, uniforms

__all__ = ["deliver"]


def deliver(senders: np.ndarray, firms: np.ndarray, praise: np.ndarray, seeds: np.ndarray,
            state: ClientState, segments: Segments, network: SocialNetwork,
            market: MarketConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """Deliver the messages of *senders* (about *firms*, praise or warning, keyed by the
    walk that moved them): attitudes and awareness change in *state*; returns the
    prospects persuaded to join and the firm each joins, or None."""
    rate = segments.social_influence[state.segment[senders]]
    counts = poissons(uniforms(seeds, Salt.TALK, 0),
                      np.where(praise, rate, rate * market.warning_ratio))
    if not counts.any():
        return None
    senders, firms, praise, seeds = (np.repeat(a, counts)
                                     for a in (senders, firms, praise, seeds))
    message = np.arange(senders.size) - np.repeat(np.cumsum(counts) - counts, counts)
    heard = network.neighbours_at(senders, uniforms(seeds, Salt.TALK, 1 + 2 * message))
    persuasion = uniforms(seeds, Salt.TALK, 2 + 2 * message)
    reached = heard >= 0
    heard, firms, praise = heard[reached], firms[reached], praise[reached]
    persuasion = persuasion[reached]
    shift = psy.message_attitude_shift(praise, market.message_attitude_shift)
    column = state.column(firms)
    np.add.at(state.attitude, (heard, column), shift)
    state.attitude[heard, column] = np.clip(state.attitude[heard, column], -1.0, 1.0)
    state.aware[heard, column] = True
    converts = praise & (state.firm[heard] == PROSPECT)
    converts &= persuasion < psy.referral_persuasion(market.referral_conversion,
                                                     state.attitude[heard, column])
    if not converts.any():
        return None
    who, first = np.unique(heard[converts], return_index=True)
    return who, firms[converts][first]
