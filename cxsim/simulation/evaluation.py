"""Evaluation: how finished walks felt, and what each client decides because of it.

A walk's visits depend on the client's expectation, which changes only
when a walk is evaluated, so finished walks wait and are evaluated together
with the functions of ``cxsim.model.psychology``: one walk per client per pass
(:func:`in_walk_order`), each pass a function from the walks, the client
state and the firms' levers to a record of :class:`Decisions`: the new
state of each client, its answer, whether it was heard, what it paid,
whether it churned and where it goes, who talks and whether with praise.
Once a month :func:`returning` decides who comes back to the market and
:func:`surveys` who is asked about which firm, and what they answer. The
engine applies the records; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxsim.config import DAYS_PER_YEAR, Config
from cxsim.model import psychology as psy
from cxsim.model.firm import (
    Firm,
    frontline_quality_shift,
    perception_noise,
    personal_quality,
    personal_relationship,
    rational_value,
    upsell_factor,
    walk_revenue,
)
from cxsim.model.journey import PURCHASE, WALK_AWAY
from cxsim.model.market import GONE, ClientState, Relationships, Segments
from cxsim.model.months import Months
from cxsim.schema import ANSWER_CLASSES, SURVEYS
from cxsim.simulation.acquisition import choose
from cxsim.simulation.walks import WalkTable
from cxsim.streams import Salt, Survey, keys, normals, uniforms

__all__ = ["Touchpoints", "Levers", "Decisions", "Surveyed", "evaluate", "in_walk_order",
           "returning", "surveys"]

FINISHED_WALKS, TRANSACTIONAL, RELATIONAL, MARKET = range(len(SURVEYS))


@dataclass
class Touchpoints:
    """Every firm's touchpoints as one set of arrays (global node numbers, firm by firm)."""

    firm: np.ndarray
    base_quality: np.ndarray
    hygiene: np.ndarray
    delighter: np.ndarray
    cost: np.ndarray
    failure: np.ndarray
    staffed: np.ndarray
    outcome: np.ndarray  # how a walk ending at an exit here ends (``journey.OUTCOMES``)

    @classmethod
    def of(cls, firms: list[Firm]) -> Touchpoints:
        def cat(attr: str) -> np.ndarray:
            return np.concatenate([getattr(f.journey, attr) for f in firms])

        return cls(
            np.concatenate([np.full(f.journey.n_touchpoints, i, dtype=np.int64)
                            for i, f in enumerate(firms)]),
            cat("base_quality"), cat("hygiene"), cat("delighter"), cat("cost_per_visit"),
            cat("failure_probability"), cat("staffed"), cat("outcome"))


@dataclass
class Levers:
    """The firms' levers and front line as the evaluation reads them: per touchpoint
    (funding, quality shift, perception noise, recovery) and per firm; changed at reviews
    and workshops only."""

    funding: np.ndarray
    shift: np.ndarray
    noise_sd: np.ndarray
    recovery: np.ndarray
    price: np.ndarray
    upsell: np.ndarray
    coaching: np.ndarray
    personal: np.ndarray
    survey_share: np.ndarray
    asks: np.ndarray  # per firm: its survey's position in SURVEYS
    response: np.ndarray  # firm x answer class: the chance an asked client answers
    survey_sample: np.ndarray
    rational_value: np.ndarray  # segment x firm: the offer as delivered so far, not declared

    @classmethod
    def of(cls, firms: list[Firm], cfg: Config, touchpoints: Touchpoints,
           segments: Segments) -> Levers:
        p = cfg.psychology
        node_firm = touchpoints.firm
        per_firm = np.array([frontline_quality_shift(f.frontline, f.pressure, p.frontline_gain,
                                                     p.pressure_quality_cost) for f in firms])
        gain = cfg.market.sales_pressure_revenue_gain
        return cls(
            funding=np.concatenate([f.capability for f in firms]),
            shift=np.where(touchpoints.staffed, per_firm[node_firm], 0.0),
            noise_sd=np.array([perception_noise(p.perception_noise_sd, f.being)
                               for f in firms])[node_firm],
            recovery=np.array([f.power for f in firms])[node_firm],
            price=np.array([f.cfg.price_level for f in firms]),
            upsell=np.array([upsell_factor(gain, f.pressure) for f in firms]),
            coaching=np.array([f.coaching for f in firms]),
            personal=np.array([personal_relationship(f.offer["relationship"], f.will)
                               for f in firms]),
            survey_share=np.array([f.survey_share for f in firms]),
            asks=np.array([SURVEYS.index(f.cfg.asks) for f in firms]),
            response=np.array([[f.cfg.response[c] for c in ANSWER_CLASSES] for f in firms]),
            survey_sample=np.array([f.cfg.survey_sample for f in firms]),
            rational_value=np.column_stack([
                rational_value(segments.needs, f.cfg.price_level, f.offer,
                               segments.identifiability) for f in firms]))


@dataclass
class Decisions:
    """What a pass of evaluation decided, per walk (and per visit where said)."""

    walks: WalkTable  # the walks whose clients were still the firm's clients
    segment: np.ndarray
    month: np.ndarray
    expectation: np.ndarray
    trust: np.ndarray
    attitude: np.ndarray
    memory: np.ndarray
    answer: np.ndarray
    heard: np.ndarray  # the firm hears of the walk: its touchpoints' detail (listening)
    invited: np.ndarray  # ... and its survey asks the client
    answered: np.ndarray  # ... who answers
    measured: np.ndarray  # the answer as the firm records it (coached or not)
    revenue: np.ndarray
    margin: np.ndarray
    clv: np.ndarray  # the margin discounted to the relationship's start
    churned: np.ndarray
    moves_to: np.ndarray  # the firm a churned client switches to; -1: none (or it stayed)
    talks: np.ndarray  # who tells its neighbours about the firm
    praise: np.ndarray  # ... with praise (else a warning)
    cost: np.ndarray  # cost to serve the walk
    felt: np.ndarray  # per visit
    quality: np.ndarray  # per visit
    failed: np.ndarray  # per visit
    recovered: np.ndarray  # per visit
    purchased: np.ndarray  # the walk ended at a purchase exit
    abandoned: np.ndarray  # ... ran out of out-probability or ended at a walk-away exit


def evaluate(walks: WalkTable, state: ClientState, segments: Segments,
             touchpoints: Touchpoints, levers: Levers, cfg: Config, months: Months,
             relationships: Relationships) -> Decisions | None:
    """Evaluate walks of distinct clients; None when none of their clients is still there.

    *relationships* gives each walk's relationship its start (for CLV) and its purchases so
    far (a segment whose clients leave only after a repeat purchase).
    """
    p = cfg.psychology
    stayed = state.firm[walks.client] == walks.firm
    if not stayed.all():
        if not stayed.any():
            return None
        walks = walks.take(stayed)
    clients, firms, seeds = walks.client, walks.firm, walks.key
    ended, lengths = walks.ended, walks.lengths
    nodes, waits = walks.nodes, walks.waits
    total = nodes.size
    starts = walks.starts()
    # an exit's outcome: a declined walk is finished but no purchase, a cancelled one abandoned
    outcome = touchpoints.outcome[nodes[starts + lengths - 1]]
    completed = walks.completed & (outcome == PURCHASE)
    abandoned = ~walks.completed | (outcome == WALK_AWAY)

    expectation = state.expectation[np.repeat(clients, lengths)]
    segment = state.segment[clients]
    visit_seeds = np.repeat(seeds, lengths)
    visit = np.arange(total) - np.repeat(starts, lengths)
    noise = normals(visit_seeds, Salt.PSYCHOLOGY, visit, levers.noise_sd[nodes])
    personal = personal_quality(p.personal_gain, levers.personal[firms],
                                segments.identifiability[segment])
    quality = psy.perceived_quality(
        touchpoints.base_quality[nodes] + levers.shift[nodes] + np.repeat(personal, lengths),
        levers.funding[nodes], waits, noise, p.funding_gain, p.wait_penalty,
        p.wait_tolerance_days,
    )
    u = uniforms(visit_seeds, Salt.FAILURE, 2 * visit + np.arange(2)[:, None])
    failed = u[0] < touchpoints.failure[nodes]
    recovered = failed & (u[1] < levers.recovery[nodes])
    quality = psy.failure_outcome(quality, failed, recovered, p.failure_penalty,
                                  p.recovery_share)
    gap = psy.disconfirmation(quality, expectation)
    felt = psy.affect(gap, quality, p.loss_aversion, p.affect_sensitivity,
                      p.affect_level_weight, p.reference_quality)
    hygiene, delighter = touchpoints.hygiene[nodes], touchpoints.delighter[nodes]
    basics = np.repeat(psy.hygiene_met(gap, hygiene, starts), lengths)
    felt = psy.kano_shape(felt, hygiene, delighter, basics, p.kano_strong, p.kano_weak)
    memory = psy.peak_end_memory(felt, starts)
    experienced = np.add.reduceat(quality, starts) / lengths

    new_expectation = psy.adapt_expectation(state.expectation[clients], experienced,
                                            p.expectation_rate)
    trust = psy.update_trust(state.trust[clients], memory, p.trust_gain, p.trust_loss)
    attitude = psy.update_attitude(state.attitude[clients, state.column(firms)], memory,
                                   p.attitude_rate)
    answers = psy.nps_answer(memory, attitude, trust, normals(seeds, Salt.NPS, 0, p.nps_noise_sd),
                             p.nps_neutral, p.nps_slope)
    u = uniforms(seeds, Salt.SURVEY, np.arange(3)[:, None])
    heard = u[0] < levers.survey_share[firms]
    asks = levers.asks[firms]
    invited = heard & ((asks == FINISHED_WALKS) | ((asks == TRANSACTIONAL) & completed))
    answered = invited & psy.responds(answers, u[2], levers.response[firms])
    measured = psy.coached_answer(
        answers, psy.coached(answered, answers, u[1], levers.coaching[firms]))

    month = months.index(ended)
    spend = state.order_value[clients]
    shape = state.spend_shape[clients]
    if shape.any():
        spend = psy.purchase_spend(spend, shape, uniforms(seeds, Salt.SPEND, 0))
    revenue = walk_revenue(completed, spend, levers.price[firms], levers.upsell[firms],
                           months.order_factor[month])
    margin = revenue * segments.margin[segment]
    rel = state.relationship[clients]
    clv = psy.discounted(margin, cfg.sim.discount_rate / DAYS_PER_YEAR,
                         ended - relationships.acquired_at[rel])
    churn_p = psy.walk_churn(memory, trust, state.dropout[clients],
                             segments.switching_cost[segment], p.emotions,
                             p.churn_memory_weight, p.churn_trust_weight)
    may_leave = ~segments.repeat_only[segment] | (completed & (relationships.purchases[rel] > 0))
    churned = (walks.churn_draw < churn_p) & may_leave
    moves_to = np.full(churned.size, -1, dtype=np.int64)
    if len(cfg.firms) > 1 and churned.any():
        leaving = np.flatnonzero(churned)
        moves_to[leaving] = _switch(clients[leaving], firms[leaving], seeds[leaving], state,
                                    segments, levers, cfg)
    talks, praise = psy.word_of_mouth(psy.Feelings(memory, trust, attitude, answers), p)
    return Decisions(
        walks, segment, month, new_expectation, trust, attitude, memory, answers, heard,
        invited, answered, measured, revenue, margin, clv, churned, moves_to, talks, praise,
        np.add.reduceat(touchpoints.cost[nodes], starts), felt, quality, failed, recovered,
        completed, abandoned)


def _switch(clients: np.ndarray, left: np.ndarray, seeds: np.ndarray, state: ClientState,
            segments: Segments, levers: Levers, cfg: Config) -> np.ndarray:
    """The firm each churned client moves to among the others it knows besides the one it
    *left* (by :func:`cxsim.simulation.acquisition.choose`, leaving the market an option), or -1."""
    aware = state.aware[clients]
    aware[np.arange(clients.size), state.column(left)] = False
    known = aware.any(axis=1)
    moves_to = np.full(clients.size, -1, dtype=np.int64)
    if known.any():
        moves_to[known] = choose(state, segments, levers.rational_value, cfg.market,
                                 clients[known], uniforms(seeds[known], Salt.SWITCH, 0),
                                 outside=True, aware=aware[known])
    return moves_to


def returning(firm: np.ndarray, stream: np.ndarray, month: int, rate_per_year: float,
              days: float) -> np.ndarray:
    """The clients gone from the category (*firm* GONE) who come back as prospects after
    month *month* (*days* long), at *rate_per_year*; keyed by client and month."""
    gone = np.flatnonzero(firm == GONE)
    if rate_per_year <= 0.0:
        return gone[:0]
    chance = psy.return_chance(rate_per_year, days, DAYS_PER_YEAR)
    return gone[uniforms(keys(stream[gone], gone, month), 0, 0) < chance]


@dataclass
class Surveyed:
    """A month's surveys of clients, per firm (numbered on one axis): what the firms' own
    relational and market surveys asked and heard, and what the industry study heard."""

    invited: np.ndarray
    answered: np.ndarray
    promoters: np.ndarray
    detractors: np.ndarray
    study_answers: np.ndarray
    study_promoters: np.ndarray
    study_detractors: np.ndarray


def surveys(state: ClientState, stream: np.ndarray, month: int, levers: Levers,
            study_sample: float, n_firms: int) -> Surveyed:
    """The month's periodic surveys: every client who ever walked with a firm may be asked
    about it (what it said after its last walk there, ``ClientState.last_answer``).

    The industry study asks each such (client, firm) pair with chance *study_sample*, and
    everyone asked answers. A firm whose own survey is ``relational`` asks its current
    clients, one that runs ``market`` asks current and former ones, each with its
    ``survey_sample`` and answering by the firm's ``response``. A periodic survey reaches
    the client away from the counter, so no front line coaches its answers. Keyed by
    client and month, so each study is its own sample.
    """
    clients, columns = np.nonzero(state.last_answer >= 0)
    firms = state.first_firm(clients) + columns
    answers = state.last_answer[clients, columns]
    promoters, detractors = psy.nps_classes(answers)
    k = keys(stream[clients], clients, month)

    def count(weights: np.ndarray) -> np.ndarray:
        return np.bincount(firms, weights, n_firms)

    asked = uniforms(k, Survey.STUDY, columns) < study_sample
    asks = levers.asks[firms]
    mine = np.flatnonzero((asks == MARKET)
                          | ((asks == RELATIONAL) & (state.firm[clients] == firms)))
    invited = np.zeros(clients.size, dtype=bool)
    answered = invited.copy()
    if mine.size:
        invited[mine] = uniforms(k[mine], Survey.INVITE, columns[mine]) < (
            levers.survey_sample[firms[mine]])
        answered[mine] = invited[mine] & psy.responds(
            answers[mine], uniforms(k[mine], Survey.RESPONSE, columns[mine]),
            levers.response[firms[mine]])
    return Surveyed(count(invited), count(answered), count(answered & promoters),
                    count(answered & detractors), count(asked), count(asked & promoters),
                    count(asked & detractors))


def in_walk_order(table: WalkTable) -> list[WalkTable]:
    """*table* cut into passes of distinct clients: each client's first walk (by end), then
    its second, and so on, so a client's walks are evaluated in the order it walked them.

    Within a pass the walks keep the table's order: a client's passes depend on its own
    walks only, not on how many another client has (replications side by side).
    """
    clients = table.client
    ranked = np.sort(clients)
    if not (ranked[1:] == ranked[:-1]).any():  # one walk per client: one pass
        return [table]
    order = np.argsort(table.ended, kind="stable")
    by_client = np.argsort(clients[order], kind="stable")
    grouped = clients[order][by_client]
    first = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    n = len(table)
    rank = np.empty(n, dtype=np.int64)
    rank[order[by_client]] = np.arange(n) - np.repeat(first, np.diff(np.append(first, n)))
    return [table.take(np.flatnonzero(rank == k)) for k in range(int(rank.max()) + 1)]
