"""The client's equations: pure, vectorised functions of numpy arrays.

One call serves a batch of clients or visits. The engine calls these
functions and never re-implements them. Scales: quality, expectation and
trust live in [0, 1]; affect, memory and attitude in [-1, 1]; the NPS answer
is an integer 0-10.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import gammaincinv

__all__ = [
    "perceived_quality",
    "patience",
    "failure_outcome",
    "disconfirmation",
    "affect",
    "kano_shape",
    "hygiene_met",
    "peak_end_memory",
    "adapt_expectation",
    "update_trust",
    "update_attitude",
    "nps_answer",
    "coached_answer",
    "coached",
    "nps_classes",
    "answer_class",
    "responds",
    "word_of_mouth",
    "message_attitude_shift",
    "nps_from_counts",
    "churn_probability",
    "walk_churn",
    "return_chance",
    "choice_utility",
    "logit_choice",
    "referral_persuasion",
    "discounted",
    "clv_estimate",
]


def patience(mean_days, u):
    """How long a client will wait for a staffed touchpoint before it leaves, in days.

    Exponential with mean *mean_days*, drawn by inversion from the uniform *u*: the
    patience of the Erlang-A queue (Palm 1943; Mandelbaum & Zeltyn 2007, "Service
    engineering in action: the Palm/Erlang-A queue"), which Brown et al. (2005, *JASA*
    100, "Statistical analysis of a telephone call center") found close to a call
    centre's measured patience. One definition for arrays and for the compiled walk loop
    (``cxsim.simulation.visits``), which compiles this function.
    """
    return -mean_days * np.log1p(-u)


def perceived_quality(
    base_quality: np.ndarray,
    funding: np.ndarray | float,
    wait_days: np.ndarray,
    noise: np.ndarray,
    funding_gain: float,
    wait_penalty: float,
    wait_tolerance_days: float,
) -> np.ndarray:
    """Quality a client perceives at a visit, in [0, 1].

    ``q = base + funding_gain * funding - wait_penalty * (1 - exp(-wait / tolerance)) + noise``,
    clipped to [0, 1]. Waiting hurts with diminishing marginal effect: the
    first minutes in a queue cost most (Maister 1985); *funding* in [0, 1] is
    the firm's CX funding level (see ``cxsim.model.firm.funding_level``).

    References
    ----------
    Maister, D. H. (1985). The psychology of waiting lines. In Czepiel,
    Solomon & Surprenant (eds.), *The Service Encounter*, 113-123.
    """
    with np.errstate(over="ignore"):  # a tolerance of 1e-320 days: every wait is intolerable
        wait_cost = wait_penalty * -np.expm1(-np.asarray(wait_days) / wait_tolerance_days)
    q = np.asarray(base_quality) + funding_gain * np.asarray(funding) - wait_cost + noise
    return np.clip(q, 0.0, 1.0)


def failure_outcome(
    quality: np.ndarray,
    failed: np.ndarray,
    recovered: np.ndarray,
    failure_penalty: float,
    recovery_share: float,
) -> np.ndarray:
    """Quality after a service failure and, maybe, its recovery.

    A failure costs *failure_penalty*; a recovered failure gives back
    *recovery_share* of it. With ``recovery_share`` < 1 a recovered failure
    is still worse than no failure: the service-recovery paradox is weak
    and unreliable in the data (Matos, Henrique & Rossi 2007).

    References
    ----------
    Matos, C. A., Henrique, J. L. & Rossi, C. A. V. (2007). Service recovery
    paradox: a meta-analysis. *Journal of Service Research* 10(1), 60-77.
    """
    loss = failure_penalty * np.asarray(failed, dtype=float)
    loss = loss * (1.0 - recovery_share * np.asarray(recovered, dtype=float))
    return np.clip(quality - loss, 0.0, 1.0)


def disconfirmation(quality: np.ndarray, expectation: np.ndarray) -> np.ndarray:
    """Perceived minus expected quality: positive exceeds, negative falls short.

    References
    ----------
    Oliver, R. L. (1980). A cognitive model of the antecedents and
    consequences of satisfaction decisions. *Journal of Marketing Research*
    17(4), 460-469.
    """
    return np.asarray(quality) - np.asarray(expectation)


def affect(
    disconfirmation: np.ndarray,
    quality: np.ndarray,
    loss_aversion: float,
    sensitivity: float,
    level_weight: float,
    reference_quality: float,
) -> np.ndarray:
    """How a visit felt, in (-1, 1): surprise, with losses weighing more, plus level.

    ``affect = tanh(sensitivity * (v(d) + level_weight * (quality - reference)))``
    with ``v(d) = d`` for gains and ``loss_aversion * d`` for losses. The
    surprise term is Oliver's disconfirmation; the level term is his
    expectation (assimilation) effect: once expectations have adapted, good
    service still feels good. The tanh keeps feelings bounded.

    References
    ----------
    Tversky, A. & Kahneman, D. (1992). Advances in prospect theory:
    cumulative representation of uncertainty. *Journal of Risk and
    Uncertainty* 5(4), 297-323 (loss aversion of about 2.25).
    Oliver, R. L. (1980), see :func:`disconfirmation`. Anderson, E. W. &
    Sullivan, M. W. (1993). The antecedents and consequences of customer
    satisfaction for firms. *Marketing Science* 12(2), 125-143.
    """
    d = np.asarray(disconfirmation, dtype=float)
    value = np.where(d < 0.0, loss_aversion * d, d)
    value = value + level_weight * (np.asarray(quality) - reference_quality)
    return np.tanh(sensitivity * value)


def kano_shape(
    felt: np.ndarray,
    hygiene: np.ndarray,
    delighter: np.ndarray,
    basics_met: np.ndarray,
    strong: float,
    weak: float,
) -> np.ndarray:
    """Weigh a visit's affect by the touchpoint's kind.

    Hygiene touchpoints: a shortfall weighs *strong*, excellence only *weak*.
    Delighters: the reverse, and their upside counts only when the journey's
    basics were met (*basics_met*); neutral touchpoints pass unchanged.
    Results are clipped to [-1, 1].

    References
    ----------
    Kano, N., Seraku, N., Takahashi, F. & Tsuji, S. (1984). Attractive
    quality and must-be quality. *Journal of the Japanese Society for
    Quality Control* 14(2), 39-48. Herzberg, F. (1966). *Work and the
    Nature of Man*. World Publishing.
    """
    felt = np.asarray(felt, dtype=float)
    positive = felt > 0.0
    weight = np.ones_like(felt)
    weight = np.where(hygiene, np.where(positive, weak, strong), weight)
    delight_up = np.where(basics_met, strong, 0.0)
    weight = np.where(delighter, np.where(positive, delight_up, weak), weight)
    return np.clip(weight * felt, -1.0, 1.0)


def hygiene_met(
    disconfirmation: np.ndarray, hygiene: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """Per journey: did every hygiene visit meet its expectation?

    *starts* are the offsets of each journey's first visit in the flat visit
    arrays (journeys are contiguous and non-empty). Returns one bool per
    journey, broadcast back to its visits by the caller with ``np.repeat``.
    """
    shortfall = (np.asarray(disconfirmation) < 0.0) & np.asarray(hygiene)
    return np.logical_or.reduceat(shortfall, starts) == 0


def peak_end_memory(affect: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Remembered affect per journey: mean of its most intense and its last visit.

    *affect* holds the visits of several journeys back to back; *starts* the
    offset of each journey's first visit. Duration and the average play no
    part: that is the point of the peak-end rule.

    References
    ----------
    Fredrickson, B. L. & Kahneman, D. (1993). Duration neglect in
    retrospective evaluations of affective episodes. *J. Pers. Soc. Psychol.*
    65(1), 45-55. Kahneman, D., Fredrickson, B. L., Schreiber, C. A. &
    Redelmeier, D. A. (1993). When more pain is preferred to less.
    *Psychological Science* 4(6), 401-405.
    """
    affect = np.asarray(affect, dtype=float)
    starts = np.asarray(starts)
    if starts.size == 0:
        return np.zeros(0)
    highest = np.maximum.reduceat(affect, starts)
    lowest = np.minimum.reduceat(affect, starts)
    peak = np.where(-lowest > highest, lowest, highest)
    ends = np.append(starts[1:], affect.size) - 1
    return 0.5 * (peak + affect[ends])


def adapt_expectation(expectation: np.ndarray, experienced: np.ndarray, rate: float) -> np.ndarray:
    """Expectation drifts toward what the client got (adaptation level).

    ``e' = e + rate * (experienced - e)`` with rate in [0, 1].

    References
    ----------
    Helson, H. (1964). *Adaptation-Level Theory*. Harper & Row. Oliver (1980),
    see :func:`disconfirmation`.
    """
    expectation = np.asarray(expectation, dtype=float)
    return expectation + rate * (np.asarray(experienced) - expectation)


def update_trust(trust: np.ndarray, memory: np.ndarray, gain: float, loss: float) -> np.ndarray:
    """Trust in [0, 1], lost quickly and rebuilt slowly.

    A good journey (memory > 0) closes ``gain * memory`` of the gap to 1; a bad
    one removes ``loss * |memory|`` of the trust held. With ``loss > gain``,
    at trust above ``gain / (gain + loss)`` a bad journey costs more than an
    equally good one earns: one bad journey undoes several good ones.

    References
    ----------
    Slovic, P. (1993). Perceived risk, trust, and democracy. *Risk Analysis*
    13(6), 675-682 (the asymmetry principle).
    """
    trust = np.asarray(trust, dtype=float)
    memory = np.asarray(memory, dtype=float)
    up = trust + gain * np.clip(memory, 0.0, None) * (1.0 - trust)
    down = trust + loss * np.clip(memory, None, 0.0) * trust
    return np.clip(np.where(memory >= 0.0, up, down), 0.0, 1.0)


def update_attitude(attitude: np.ndarray, memory: np.ndarray, rate: float) -> np.ndarray:
    """Attitude toward the firm in [-1, 1]: an exponentially weighted memory of journeys.

    References
    ----------
    Fishbein, M. & Ajzen, I. (1975). *Belief, Attitude, Intention, and
    Behavior*. Addison-Wesley (attitude as accumulated evaluations).
    """
    attitude = np.asarray(attitude, dtype=float)
    return np.clip(attitude + rate * (np.asarray(memory) - attitude), -1.0, 1.0)


def nps_answer(
    memory: np.ndarray,
    attitude: np.ndarray,
    trust: np.ndarray,
    noise: np.ndarray,
    neutral: float,
    slope: float,
) -> np.ndarray:
    """The 0-10 answer to "how likely are you to recommend us?".

    ``round(neutral + slope * (memory + attitude + (2 * trust - 1)) / 3 + noise)``
    clipped to 0-10: a client with a neutral last journey, attitude and
    trust answers *neutral* (a passive at 7.5).

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. *Harvard
    Business Review* 81(12), 46-54.
    """
    latent = (np.asarray(memory) + np.asarray(attitude) + (2.0 * np.asarray(trust) - 1.0)) / 3.0
    score = np.rint(neutral + slope * latent + noise)
    return np.clip(score, 0, 10).astype(np.int8)


def coached_answer(answers: np.ndarray, coached: np.ndarray, lift: int = 2) -> np.ndarray:
    """The answer the firm records: a coached client's answer lifted by *lift*, at most 10.

    Seed 000: a front line paid on measured NPS asks for the score it needs,
    so the measure rises while the client's view (``answers``) does not.
    """
    return np.where(coached, np.minimum(answers + lift, 10), answers)


def coached(surveyed: np.ndarray, answers: np.ndarray, u: np.ndarray,
            probability: np.ndarray) -> np.ndarray:
    """Which surveyed answers the front line coaches: those of non-promoters (at most 8,
    where asking still pays, seed 000), each with the firm's *probability* (*u* uniform)."""
    return surveyed & ~nps_classes(answers)[0] & (u < probability)


def nps_classes(answers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Promoters (answer 9-10) and detractors (0-6) among *answers*: Reichheld (2003)."""
    return answers >= 9, answers <= 6


def answer_class(answers: np.ndarray) -> np.ndarray:
    """0 for a detractor's answer (0-6), 1 for a passive's (7-8), 2 for a promoter's (9-10):
    the order of ``schema.ANSWER_CLASSES``."""
    promoters, detractors = nps_classes(answers)
    return np.where(promoters, 2, np.where(detractors, 0, 1))


def responds(answers: np.ndarray, u: np.ndarray, response: np.ndarray) -> np.ndarray:
    """Which asked clients answer a survey: each with the chance its survey gives its class
    of answer (*response*: one row of detractor, passive, promoter chances per client).

    That the chance rises with feeling is what Dellarocas & Wood (2008) found for feedback
    on eBay (satisfied traders report more often); its size, and its transfer to surveys,
    are assumptions of the survey presets.
    """
    return u < np.take_along_axis(response, answer_class(answers)[:, None], axis=1)[:, 0]


class Feelings(NamedTuple):
    """What a client carries out of a walk (one entry per walk evaluated), for the rules that
    decide what it does next."""

    memory: np.ndarray
    trust: np.ndarray
    attitude: np.ndarray
    answers: np.ndarray


def word_of_mouth(feelings: Feelings, settings: object) -> tuple[np.ndarray, np.ndarray]:
    """Who talks after a journey, and whether with praise: promoters praise, detractors
    warn, passives keep quiet (Reichheld 2003; seed 002).

    It is handed everything a client feels and the psychology settings
    (``cfg.psychology``), though today it reads the answers alone, so that a rule
    listening to something else changes here and nowhere else (``docs/model.md``,
    "Changing a mechanism").
    """
    promoters, detractors = nps_classes(feelings.answers)
    return promoters | detractors, promoters


def message_attitude_shift(praise: np.ndarray, shift: float) -> np.ndarray:
    """How a message moves its hearer's attitude: praise by +*shift*, a warning by
    -*shift* (one step each way; warnings weigh more by travelling further)."""
    return np.where(praise, shift, -shift)


def nps_from_counts(promoters: np.ndarray | float, detractors: np.ndarray | float,
                    answers: np.ndarray | float) -> np.ndarray | float:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6); NaN with no answers.

    ``100 * (promoters - detractors) / answers`` on counts, so monthly books
    and any window of them give the score of the answers they hold.

    References
    ----------
    Reichheld (2003), see :func:`nps_answer`.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * (np.asarray(promoters) - np.asarray(detractors)) / np.asarray(answers)


def churn_probability(
    memory: np.ndarray,
    trust: np.ndarray,
    base: np.ndarray | float,
    memory_weight: float,
    trust_weight: float,
    switching_cost: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Probability of leaving after a purchase.

    ``logit(p) = logit(base) - memory_weight * memory - trust_weight * (trust - 0.5)
    - switching_cost``: equal to *base* for a neutral memory at trust 0.5,
    falling with remembered experience, trust and the cost of switching
    (Burnham, Frels & Mahajan 2003). With both weights 0 and no switching
    cost it is the constant *base*. *base* is each client's own dropout where its
    segment spreads dropout across clients (BG/NBD's p), so the emotions move
    every client's logit by the same amount from its own baseline.

    References
    ----------
    Burnham, T. A., Frels, J. K. & Mahajan, V. (2003). Consumer switching
    costs. *Journal of the Academy of Marketing Science* 31(2), 109-126.
    Rust, R. T. & Zahorik, A. J. (1993). Customer satisfaction, customer
    retention, and market share. *Journal of Retailing* 69(2), 193-215.
    """
    base = np.asarray(base, dtype=float)
    with np.errstate(divide="ignore"):  # base 0 or 1: a logit of -inf or inf, p 0 or 1
        logit = np.log(base / (1.0 - base))
    logit = (
        logit
        - memory_weight * np.asarray(memory)
        - trust_weight * (np.asarray(trust) - 0.5)
        - np.asarray(switching_cost)
    )
    return 0.5 * (1.0 + np.tanh(0.5 * logit))


def walk_churn(memory: np.ndarray, trust: np.ndarray, dropout: np.ndarray,
               switching_cost: np.ndarray, emotions: bool, memory_weight: float,
               trust_weight: float) -> np.ndarray:
    """Churn after a walk: :func:`churn_probability`, or with *emotions* off the client's
    own *dropout* alone (memory, trust and switching cost weigh nothing: the control)."""
    if emotions:
        return churn_probability(memory, trust, dropout, memory_weight, trust_weight,
                                 switching_cost)
    return churn_probability(memory, trust, dropout, 0.0, 0.0)


def return_chance(rate_per_year: float, days: float, days_per_year: float) -> float:
    """Chance a client gone from the category comes back within *days*: a Poisson
    process of rate *rate_per_year*, ``1 - exp(-rate * days / days_per_year)``."""
    return -math.expm1(-rate_per_year * days / days_per_year)


def choice_utility(
    attitude: np.ndarray,
    rational_value: np.ndarray,
    emotional_weight: np.ndarray | float,
    switching_cost: np.ndarray | float = 0.0,
    is_switch: np.ndarray | bool = False,
) -> np.ndarray:
    """Utility of a firm to a client: mostly how it feels, partly what it offers.

    ``u = w_emo * attitude + (1 - w_emo) * rational_value - switching_cost * is_switch``.
    The segments' emotional weight defaults to 0.8 after seed 000 ("as much
    as 80% of the decision"); the switching cost follows seed 002. Firms
    compete through it once several share a market.
    """
    w = np.asarray(emotional_weight, dtype=float)
    return (
        w * np.asarray(attitude)
        + (1.0 - w) * np.asarray(rational_value)
        - np.asarray(switching_cost) * np.asarray(is_switch, dtype=float)
    )


def logit_choice(utility: np.ndarray, aware: np.ndarray, sharpness: float, draws: np.ndarray,
                 outside: bool = False) -> np.ndarray:
    """Index of the option each row picks, by multinomial logit over the options it knows.

    ``P(j) = exp(s u_j) / sum_k exp(s u_k)`` over the known options (McFadden
    1974), sampled by inverse transform with one uniform per row (*draws*).
    With *outside*, an option of utility 0 comes first and is returned as -1
    (leaving the market).

    References
    ----------
    McFadden, D. (1974). Conditional logit analysis of qualitative choice
    behavior. In P. Zarembka (ed.), *Frontiers in Econometrics*, 105-142.
    """
    scores = np.where(aware, sharpness * utility, -np.inf)
    if outside:
        scores = np.column_stack([np.zeros(len(scores)), scores])
    scores -= scores.max(axis=1, keepdims=True)
    cumulative = np.cumsum(np.exp(scores), axis=1)
    picks = (cumulative < (draws * cumulative[:, -1])[:, None]).sum(axis=1)
    return picks - 1 if outside else picks


def referral_persuasion(conversion: float, attitude: np.ndarray) -> np.ndarray:
    """Chance a recommended prospect becomes a client: ``conversion * (1 + attitude)``.

    A recommendation persuades in proportion to what the prospect already
    thinks of the firm (attitude in [-1, 1], after the message): word of
    mouth as the imitation term of Bass (1969), weighted by attitude.
    """
    return conversion * (1.0 + attitude)


def discounted(value: np.ndarray, rate_per_day: float, days: np.ndarray) -> np.ndarray:
    """*value* received *days* after acquisition, discounted continuously to that moment:
    a relationship's realised CLV is the sum of its discounted margins (Gupta & Lehmann 2003).
    """
    return value * np.exp(-rate_per_day * days)


def clv_estimate(margin_per_client: float, churn_rate: float, discount_rate: float) -> float:
    """Per-period CLV with constant retention: ``m * r / (1 + d - r)``, ``r = 1 - churn``.

    Gupta, S. & Lehmann, D. R. (2003). Customers as assets. *Journal of
    Interactive Marketing* 17(1), 9-24. What a firm steering by CLV reads,
    and the CLV now of a firm's final year.
    """
    retention = 1.0 - churn_rate
    return margin_per_client * retention / (1.0 + discount_rate - retention)


def purchase_spend(mean: np.ndarray, shape: np.ndarray, u: np.ndarray) -> np.ndarray:
    """What each purchase spends at price level 1: *mean*, or where *shape* > 0 a
    Gamma(shape, shape / mean) draw by inversion of the uniform *u*.

    The Gamma–Gamma model (Colombo & Jiang 1999; Fader, Hardie & Lee 2005):
    a client's purchases are Gamma(p, ν) around its own mean p / ν.

    References
    ----------
    Colombo, R. & Jiang, W. (1999). A stochastic RFM model. *Journal of
    Interactive Marketing* 13(3), 2-12.
    Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using
    iso-value curves for customer base analysis. *Journal of Marketing
    Research* 42(4), 415-430.
    """
    spread = shape > 0
    if not spread.any():
        return mean
    out = np.array(mean, dtype=float)
    out[spread] *= gammaincinv(shape[spread], u[spread]) / shape[spread]
    return out
