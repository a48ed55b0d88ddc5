"""Property tests of the client's equations in cxsim.model.psychology.

Each function is pure and vectorised, so the tests check the *shape* of each
equation (bounds, monotonicity, special cases, asymmetries) on random batches,
and compare the two ragged-journey reductions with plain Python loops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cxsim.model import psychology as psy

TOL = 1e-12  # slack for rounding in monotonicity checks
N = 8  # batch size of the vectorised tests


def fl(lo: float, hi: float) -> st.SearchStrategy[float]:
    """Finite floats in [lo, hi]."""
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def vec(lo: float, hi: float, n: int = N) -> st.SearchStrategy[np.ndarray]:
    """A float64 batch of *n* finite values in [lo, hi]."""
    return hnp.arrays(np.float64, n, elements=fl(lo, hi))


def flags(n: int = N) -> st.SearchStrategy[np.ndarray]:
    """A boolean batch of *n* values."""
    return hnp.arrays(np.bool_, n, elements=st.booleans())


@st.composite
def ordered(draw, lo: float, hi: float, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """Two batches with ``low <= high`` elementwise."""
    a, b = draw(vec(lo, hi, n)), draw(vec(lo, hi, n))
    return np.minimum(a, b), np.maximum(a, b)


UNIT = vec(0.0, 1.0)
SIGNED = vec(-1.0, 1.0)
PSY = settings(deadline=None, max_examples=100)


def nondecreasing(low: np.ndarray, high: np.ndarray) -> bool:
    return bool(np.all(high >= low - TOL))


# --------------------------------------------------------------------------- #
# perceived_quality
# --------------------------------------------------------------------------- #

QUALITY_PARAMS = st.tuples(fl(0.0, 0.5), fl(0.0, 1.0), fl(1e-3, 10.0))


@PSY
@given(base=UNIT, funding=UNIT, wait=vec(0.0, 100.0), noise=vec(-0.5, 0.5),
       params=QUALITY_PARAMS)
def test_perceived_quality_bounded(base, funding, wait, noise, params):
    q = psy.perceived_quality(base, funding, wait, noise, *params)
    assert q.shape == (N,)
    assert np.all((q >= 0.0) & (q <= 1.0))


@PSY
@given(base=UNIT, funding=UNIT, waits=ordered(0.0, 100.0), noise=vec(-0.5, 0.5),
       params=QUALITY_PARAMS)
def test_perceived_quality_nonincreasing_in_wait(base, funding, waits, noise, params):
    short, long_ = waits
    q_short = psy.perceived_quality(base, funding, short, noise, *params)
    q_long = psy.perceived_quality(base, funding, long_, noise, *params)
    assert nondecreasing(q_long, q_short)


@PSY
@given(bases=ordered(0.0, 1.0), fundings=ordered(0.0, 1.0), wait=vec(0.0, 100.0),
       noise=vec(-0.5, 0.5), params=QUALITY_PARAMS)
def test_perceived_quality_nondecreasing_in_base_and_funding(bases, fundings, wait, noise,
                                                            params):
    (b_lo, b_hi), (f_lo, f_hi) = bases, fundings
    q = psy.perceived_quality(b_lo, f_lo, wait, noise, *params)
    assert nondecreasing(q, psy.perceived_quality(b_hi, f_lo, wait, noise, *params))
    assert nondecreasing(q, psy.perceived_quality(b_lo, f_hi, wait, noise, *params))


@PSY
@given(base=UNIT, funding=UNIT, params=QUALITY_PARAMS)
def test_perceived_quality_without_wait_or_noise(base, funding, params):
    gain = params[0]
    q = psy.perceived_quality(base, funding, np.zeros(N), np.zeros(N), *params)
    np.testing.assert_allclose(q, np.clip(base + gain * funding, 0.0, 1.0), rtol=0, atol=TOL)


@PSY
@given(base=UNIT, funding=UNIT, wait=vec(0.0, 100.0), params=QUALITY_PARAMS)
def test_perceived_quality_wait_costs_at_most_the_penalty(base, funding, wait, params):
    gain, penalty, _ = params
    q = psy.perceived_quality(base, funding, wait, np.zeros(N), *params)
    floor = np.clip(base + gain * funding - penalty, 0.0, 1.0)
    assert np.all(q >= floor - TOL)


def test_perceived_quality_scalar_funding_and_hand_value():
    # one tolerance of waiting costs (1 - 1/e) of the penalty
    q = psy.perceived_quality(np.array([0.6]), 0.5, np.array([0.02]), np.array([0.0]),
                              0.1, 0.3, 0.02)
    assert q[0] == pytest.approx(0.6 + 0.05 - 0.3 * (1.0 - math.exp(-1.0)))


# --------------------------------------------------------------------------- #
# failure_outcome
# --------------------------------------------------------------------------- #

FAILURE_PARAMS = st.tuples(fl(0.0, 1.0), fl(0.0, 1.0))


@PSY
@given(quality=UNIT, failed=flags(), recovered=flags(), params=FAILURE_PARAMS)
def test_failure_outcome_bounded_and_never_improves(quality, failed, recovered, params):
    out = psy.failure_outcome(quality, failed, recovered, *params)
    assert out.shape == (N,)
    assert np.all((out >= 0.0) & (out <= 1.0))
    assert np.all(out <= quality + TOL)


@PSY
@given(quality=UNIT, recovered=flags(), params=FAILURE_PARAMS)
def test_failure_outcome_no_failure_unchanged(quality, recovered, params):
    out = psy.failure_outcome(quality, np.zeros(N, bool), recovered, *params)
    np.testing.assert_array_equal(out, quality)


@PSY
@given(quality=UNIT, params=FAILURE_PARAMS)
def test_failure_outcome_recovery_between_failure_and_none(quality, params):
    penalty, share = params
    yes, no = np.ones(N, bool), np.zeros(N, bool)
    unrecovered = psy.failure_outcome(quality, yes, no, *params)
    recovered = psy.failure_outcome(quality, yes, yes, *params)
    assert nondecreasing(unrecovered, recovered)
    assert nondecreasing(recovered, quality)
    np.testing.assert_allclose(unrecovered, np.clip(quality - penalty, 0.0, 1.0), atol=TOL)
    np.testing.assert_allclose(recovered, np.clip(quality - penalty * (1 - share), 0.0, 1.0),
                               atol=TOL)


# --------------------------------------------------------------------------- #
# disconfirmation
# --------------------------------------------------------------------------- #


@PSY
@given(quality=UNIT, expectation=UNIT)
def test_disconfirmation_is_difference_and_antisymmetric(quality, expectation):
    d = psy.disconfirmation(quality, expectation)
    np.testing.assert_array_equal(d, quality - expectation)
    np.testing.assert_array_equal(psy.disconfirmation(expectation, quality), -d)
    np.testing.assert_array_equal(psy.disconfirmation(quality, quality), np.zeros(N))
    assert np.all(np.sign(d) == np.sign(quality - expectation))


# --------------------------------------------------------------------------- #
# affect
# --------------------------------------------------------------------------- #

# loss_aversion, sensitivity, level_weight, reference: small enough that tanh
# never saturates to exactly +-1 in float64 (|argument| <= 3 * (2.5 + 1) = 10.5).
AFFECT_PARAMS = st.tuples(fl(1.0, 2.5), fl(0.0, 3.0), fl(0.0, 1.0), fl(0.0, 1.0))


@PSY
@given(d=SIGNED, quality=UNIT, params=AFFECT_PARAMS)
def test_affect_bounded_open_interval(d, quality, params):
    a = psy.affect(d, quality, *params)
    assert a.shape == (N,)
    assert np.all(np.abs(a) < 1.0)


@PSY
@given(ds=ordered(-1.0, 1.0), quality=UNIT, params=AFFECT_PARAMS)
def test_affect_nondecreasing_in_disconfirmation(ds, quality, params):
    lo, hi = ds
    assert nondecreasing(psy.affect(lo, quality, *params), psy.affect(hi, quality, *params))


@PSY
@given(d=SIGNED, qs=ordered(0.0, 1.0), params=AFFECT_PARAMS)
def test_affect_nondecreasing_in_quality(d, qs, params):
    lo, hi = qs
    assert nondecreasing(psy.affect(d, lo, *params), psy.affect(d, hi, *params))


@PSY
@given(d=vec(0.0, 1.0), quality=UNIT, loss_aversion=fl(1.0, 2.5), sensitivity=fl(0.0, 3.0),
       reference=fl(0.0, 1.0))
def test_affect_loss_aversion(d, quality, loss_aversion, sensitivity, reference):
    gain = psy.affect(d, quality, loss_aversion, sensitivity, 0.0, reference)
    loss = psy.affect(-d, quality, loss_aversion, sensitivity, 0.0, reference)
    assert np.all(gain >= 0.0) and np.all(loss <= 0.0)
    assert np.all(np.abs(loss) >= np.abs(gain))


@PSY
@given(d=vec(0.01, 1.0), loss_aversion=fl(1.1, 2.5), sensitivity=fl(0.1, 3.0))
def test_affect_loss_aversion_strict(d, loss_aversion, sensitivity):
    gain = psy.affect(d, 0.5, loss_aversion, sensitivity, 0.0, 0.5)
    loss = psy.affect(-d, 0.5, loss_aversion, sensitivity, 0.0, 0.5)
    assert np.all(np.abs(loss) > np.abs(gain))


@PSY
@given(reference=fl(0.0, 1.0), params=AFFECT_PARAMS)
def test_affect_zero_when_as_expected_at_reference(reference, params):
    loss_aversion, sensitivity, level_weight, _ = params
    a = psy.affect(np.zeros(N), np.full(N, reference), loss_aversion, sensitivity,
                   level_weight, reference)
    np.testing.assert_array_equal(a, np.zeros(N))


def test_affect_hand_value():
    # a 0.2 shortfall at the reference, defaults: tanh(-3 * 2.25 * 0.2)
    a = psy.affect(np.array([-0.2, 0.2]), np.array([0.5, 0.5]), 2.25, 3.0, 0.5, 0.5)
    np.testing.assert_allclose(a, [math.tanh(-1.35), math.tanh(0.6)])


# --------------------------------------------------------------------------- #
# kano_shape
# --------------------------------------------------------------------------- #

KANO_WEIGHTS = st.tuples(fl(0.0, 3.0), fl(0.0, 3.0))


@PSY
@given(felt=SIGNED, hygiene=flags(), delighter=flags(), basics=flags(), weights=KANO_WEIGHTS)
def test_kano_bounded_and_keeps_sign(felt, hygiene, delighter, basics, weights):
    out = psy.kano_shape(felt, hygiene, delighter, basics, *weights)
    assert out.shape == (N,)
    assert np.all((out >= -1.0) & (out <= 1.0))
    assert np.all((np.sign(out) == np.sign(felt)) | (out == 0.0))


@PSY
@given(felt=SIGNED, basics=flags(), weights=KANO_WEIGHTS)
def test_kano_neutral_passes_through(felt, basics, weights):
    no = np.zeros(N, bool)
    np.testing.assert_array_equal(psy.kano_shape(felt, no, no, basics, *weights), felt)


@PSY
@given(x=vec(0.0, 1.0), basics=flags(), weights=KANO_WEIGHTS)
def test_kano_hygiene_shortfall_outweighs_excess(x, basics, weights):
    strong, weak = max(weights), min(weights)
    yes, no = np.ones(N, bool), np.zeros(N, bool)
    up = psy.kano_shape(x, yes, no, basics, strong, weak)
    down = psy.kano_shape(-x, yes, no, basics, strong, weak)
    np.testing.assert_allclose(up, np.clip(weak * x, -1, 1), atol=TOL)
    np.testing.assert_allclose(down, np.clip(-strong * x, -1, 1), atol=TOL)
    assert np.all(np.abs(down) >= np.abs(up))


@PSY
@given(x=vec(0.0, 1.0), weights=KANO_WEIGHTS)
def test_kano_delighter_upside_needs_basics(x, weights):
    strong, weak = weights
    yes, no = np.ones(N, bool), np.zeros(N, bool)
    # upside: strong when the basics were met, nothing otherwise
    np.testing.assert_array_equal(psy.kano_shape(x, no, yes, no, strong, weak), np.zeros(N))
    np.testing.assert_allclose(psy.kano_shape(x, no, yes, yes, strong, weak),
                               np.clip(strong * x, -1, 1), atol=TOL)
    # downside: weak whatever the basics
    for basics in (yes, no):
        np.testing.assert_allclose(psy.kano_shape(-x, no, yes, basics, strong, weak),
                                   np.clip(-weak * x, -1, 1), atol=TOL)


@PSY
@given(felt=SIGNED, hygiene=flags(), delighter=flags(), basics=flags(), weights=KANO_WEIGHTS)
def test_kano_matches_elementwise_rule(felt, hygiene, delighter, basics, weights):
    strong, weak = weights
    out = psy.kano_shape(felt, hygiene, delighter, basics, strong, weak)
    for i in range(N):
        f = felt[i]
        if delighter[i]:
            w = (strong if basics[i] else 0.0) if f > 0 else weak
        elif hygiene[i]:
            w = weak if f > 0 else strong
        else:
            w = 1.0
        assert out[i] == pytest.approx(min(1.0, max(-1.0, w * f)), abs=TOL)


# --------------------------------------------------------------------------- #
# ragged journeys: hygiene_met and peak_end_memory
# --------------------------------------------------------------------------- #


def flatten(journeys: list[list]) -> tuple[list, np.ndarray]:
    """Flat visits and the offsets of each journey's first visit."""
    flat = [v for j in journeys for v in j]
    lengths = np.array([len(j) for j in journeys], dtype=np.int64)
    starts = np.zeros(len(journeys), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return flat, starts


DISCONF = st.one_of(st.just(0.0), fl(-1.0, 1.0))
HYGIENE_JOURNEYS = st.lists(st.lists(st.tuples(DISCONF, st.booleans()), min_size=1,
                                     max_size=8), min_size=1, max_size=10)
AFFECTS = st.one_of(st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0]), fl(-1.0, 1.0))
AFFECT_JOURNEYS = st.lists(st.lists(AFFECTS, min_size=1, max_size=8), min_size=1,
                           max_size=10)


@PSY
@given(journeys=HYGIENE_JOURNEYS)
def test_hygiene_met_matches_loop(journeys):
    flat, starts = flatten(journeys)
    d = np.array([v[0] for v in flat])
    hygiene = np.array([v[1] for v in flat], dtype=bool)
    got = psy.hygiene_met(d, hygiene, starts)
    expected = [all(not (dv < 0.0 and h) for dv, h in j) for j in journeys]
    assert got.dtype == np.bool_
    assert got.tolist() == expected


def loop_peak_end(journey: list[float]) -> float:
    """Peak (largest |affect|; a tie goes to the positive visit) averaged with the end."""
    peak = max(journey, key=lambda v: (abs(v), v))
    return 0.5 * (peak + journey[-1])


@PSY
@given(journeys=AFFECT_JOURNEYS)
def test_peak_end_matches_loop(journeys):
    flat, starts = flatten(journeys)
    got = psy.peak_end_memory(np.array(flat), starts)
    assert got.shape == (len(journeys),)
    np.testing.assert_array_equal(got, [loop_peak_end(j) for j in journeys])
    assert np.all((got >= -1.0) & (got <= 1.0))


@PSY
@given(journeys=AFFECT_JOURNEYS, data=st.data())
def test_peak_end_duration_neglect(journeys, data):
    """Repeating a non-final visit, or reordering the visits before the end, changes nothing."""
    flat, starts = flatten(journeys)
    before = psy.peak_end_memory(np.array(flat), starts)
    k = data.draw(st.integers(0, len(journeys) - 1))
    j = journeys[k]
    assume(len(j) >= 2)
    i = data.draw(st.integers(0, len(j) - 2))
    times = data.draw(st.integers(1, 5))
    middle = data.draw(st.permutations(j[:-1] + [j[i]] * times))
    changed = journeys[:k] + [middle + [j[-1]]] + journeys[k + 1:]
    flat2, starts2 = flatten(changed)
    np.testing.assert_array_equal(psy.peak_end_memory(np.array(flat2), starts2), before)


def test_peak_end_hand_examples():
    affect = np.array([0.2, -0.8, 0.1, 0.5, 0.6, -0.6, 0.3])
    starts = np.array([0, 3, 4])
    # journey 1: peak -0.8, end 0.1; journey 2: single visit; journey 3: tie 0.6 / -0.6 -> 0.6
    np.testing.assert_allclose(psy.peak_end_memory(affect, starts), [-0.35, 0.5, 0.45])


def test_peak_end_prefers_less_total_pain():
    """Kahneman et al. (1993): a longer episode with a milder end is remembered as better."""
    short = [-0.8, -0.8]
    long_ = [-0.8, -0.8, -0.4]
    got = psy.peak_end_memory(np.array(short + long_), np.array([0, 2]))
    assert got[1] > got[0]


# --------------------------------------------------------------------------- #
# adapt_expectation
# --------------------------------------------------------------------------- #


@PSY
@given(expectation=UNIT, experienced=UNIT, rate=fl(0.0, 1.0))
def test_adapt_expectation_moves_toward_experience(expectation, experienced, rate):
    out = psy.adapt_expectation(expectation, experienced, rate)
    lo = np.minimum(expectation, experienced)
    hi = np.maximum(expectation, experienced)
    assert np.all((out >= lo - TOL) & (out <= hi + TOL))
    assert np.all(np.abs(out - experienced) <= np.abs(expectation - experienced) + TOL)


@PSY
@given(expectation=UNIT, experienced=UNIT)
def test_adapt_expectation_rate_extremes(expectation, experienced):
    np.testing.assert_array_equal(psy.adapt_expectation(expectation, experienced, 0.0),
                                  expectation)
    np.testing.assert_allclose(psy.adapt_expectation(expectation, experienced, 1.0),
                               experienced, rtol=0, atol=TOL)


# --------------------------------------------------------------------------- #
# update_trust
# --------------------------------------------------------------------------- #

RATES = st.tuples(fl(0.0, 1.0), fl(0.0, 1.0))


@PSY
@given(trust=UNIT, memory=SIGNED, rates=RATES)
def test_trust_bounded(trust, memory, rates):
    out = psy.update_trust(trust, memory, *rates)
    assert out.shape == (N,)
    assert np.all((out >= 0.0) & (out <= 1.0))


@PSY
@given(trust=UNIT, memories=ordered(-1.0, 1.0), rates=RATES)
def test_trust_nondecreasing_in_memory(trust, memories, rates):
    lo, hi = memories
    assert nondecreasing(psy.update_trust(trust, lo, *rates), psy.update_trust(trust, hi, *rates))


@PSY
@given(trust=UNIT, rates=RATES)
def test_trust_neutral_journey_unchanged(trust, rates):
    np.testing.assert_array_equal(psy.update_trust(trust, np.zeros(N), *rates), trust)


@PSY
@given(trust=UNIT, m=vec(0.0, 1.0), rates=RATES)
def test_trust_closes_gap_or_removes_share(trust, m, rates):
    """Good: closes gain*m of the gap to 1; bad: removes loss*m of the trust held."""
    gain, loss = rates
    np.testing.assert_allclose(psy.update_trust(trust, m, gain, loss),
                               trust + gain * m * (1.0 - trust), atol=TOL)
    np.testing.assert_allclose(psy.update_trust(trust, -m, gain, loss),
                               trust * (1.0 - loss * m), atol=TOL)
    # so full trust survives any good journey and zero trust any bad one
    np.testing.assert_array_equal(psy.update_trust(np.ones(N), m, gain, loss), np.ones(N))
    np.testing.assert_array_equal(psy.update_trust(np.zeros(N), -m, gain, loss), np.zeros(N))


@PSY
@given(m=vec(0.01, 1.0), trust=fl(0.5, 1.0), gain=fl(0.0, 0.9), extra=fl(0.01, 0.5))
def test_trust_lost_faster_than_gained(m, trust, gain, extra):
    """Slovic: from trust >= 0.5, with loss > gain, a bad journey costs more than a good gains."""
    loss = min(1.0, gain + extra)
    t = np.full(N, trust)
    gained = psy.update_trust(t, m, gain, loss) - t
    lost = t - psy.update_trust(t, -m, gain, loss)
    assert np.all(lost >= gained - TOL)
    if trust == 0.5:
        assert np.all(lost > gained)


@PSY
@given(m=vec(0.0, 1.0), gain=fl(0.0, 0.5), loss=fl(0.0, 1.0))
def test_trust_bad_then_good_ends_lower(m, gain, loss):
    """From 0.5, one bad then one equally good journey leaves trust lower.

    This needs ``gain * (1 + loss) < loss`` (e.g. the defaults 0.1 / 0.4), not
    just ``loss > gain``: the good journey closes a share of a gap the bad one
    widened.
    """
    assume(gain * (1.0 + loss) < loss)
    t0 = np.full(N, 0.5)
    t1 = psy.update_trust(t0, -m, gain, loss)
    t2 = psy.update_trust(t1, m, gain, loss)
    assert np.all(t2 <= t0 + TOL)
    # and good then bad too, for any loss > gain
    t3 = psy.update_trust(psy.update_trust(t0, m, gain, loss), -m, gain, loss)
    assert np.all(t3 <= t0 + TOL)


def test_trust_defaults_one_bad_undoes_several_good():
    t = np.array([0.5])
    bad = psy.update_trust(t, np.array([-0.5]), 0.1, 0.4)
    goods = t
    for _ in range(3):
        goods = psy.update_trust(goods, np.array([0.5]), 0.1, 0.4)
    assert (t - bad)[0] > (goods - t)[0]


# --------------------------------------------------------------------------- #
# update_attitude
# --------------------------------------------------------------------------- #


@PSY
@given(attitude=SIGNED, memory=SIGNED, rate=fl(0.0, 1.0))
def test_attitude_bounded_and_between(attitude, memory, rate):
    out = psy.update_attitude(attitude, memory, rate)
    assert np.all((out >= -1.0) & (out <= 1.0))
    lo, hi = np.minimum(attitude, memory), np.maximum(attitude, memory)
    assert np.all((out >= lo - TOL) & (out <= hi + TOL))


@PSY
@given(attitudes=ordered(-1.0, 1.0), memories=ordered(-1.0, 1.0), rate=fl(0.0, 1.0))
def test_attitude_monotone(attitudes, memories, rate):
    (a_lo, a_hi), (m_lo, m_hi) = attitudes, memories
    base = psy.update_attitude(a_lo, m_lo, rate)
    assert nondecreasing(base, psy.update_attitude(a_hi, m_lo, rate))
    assert nondecreasing(base, psy.update_attitude(a_lo, m_hi, rate))


@PSY
@given(attitude=SIGNED, memory=SIGNED)
def test_attitude_rate_extremes(attitude, memory):
    np.testing.assert_array_equal(psy.update_attitude(attitude, memory, 0.0), attitude)
    np.testing.assert_allclose(psy.update_attitude(attitude, memory, 1.0), memory, atol=TOL)


# --------------------------------------------------------------------------- #
# nps_answer, coached_answer and nps_from_counts
# --------------------------------------------------------------------------- #

NPS_PARAMS = st.tuples(fl(0.0, 10.0), fl(0.0, 10.0))


@PSY
@given(memory=SIGNED, attitude=SIGNED, trust=UNIT, noise=vec(-20.0, 20.0), params=NPS_PARAMS)
def test_nps_answer_integer_0_to_10(memory, attitude, trust, noise, params):
    out = psy.nps_answer(memory, attitude, trust, noise, *params)
    assert out.shape == (N,)
    assert np.issubdtype(out.dtype, np.integer)
    assert np.all((out >= 0) & (out <= 10))


@PSY
@given(ms=ordered(-1.0, 1.0), attitudes=ordered(-1.0, 1.0), trusts=ordered(0.0, 1.0),
       noise=vec(-3.0, 3.0), params=NPS_PARAMS)
def test_nps_answer_monotone(ms, attitudes, trusts, noise, params):
    (m_lo, m_hi), (a_lo, a_hi), (t_lo, t_hi) = ms, attitudes, trusts
    base = psy.nps_answer(m_lo, a_lo, t_lo, noise, *params).astype(int)
    for args in ((m_hi, a_lo, t_lo), (m_lo, a_hi, t_lo), (m_lo, a_lo, t_hi)):
        assert np.all(psy.nps_answer(*args, noise, *params).astype(int) >= base)


@PSY
@given(neutral=fl(0.0, 10.0), slope=fl(0.0, 10.0))
def test_nps_answer_neutral_client(neutral, slope):
    out = psy.nps_answer(np.zeros(N), np.zeros(N), np.full(N, 0.5), np.zeros(N), neutral, slope)
    assert np.all(out == round(neutral))


def test_nps_answer_hand_values():
    out = psy.nps_answer(np.array([0.0, 1.0, -1.0, 0.3]), np.array([0.0, 1.0, -1.0, 0.3]),
                         np.array([0.5, 1.0, 0.0, 0.65]), np.zeros(4), 7.5, 5.0)
    # 7.5 -> 8 (half to even); 12.5 -> 10; 2.5 -> 2; 7.5 + 5 * 0.3 = 9
    assert out.tolist() == [8, 10, 2, 9]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ([10, 9, 8, 7, 6, 0], 0.0),
        ([10, 10, 10], 100.0),
        ([0, 6, 3], -100.0),
        ([7, 8], 0.0),
        (list(range(11)), 100.0 * (2 - 7) / 11),
        ([9, 9, 9, 5], 50.0),
    ],
)
def test_nps_from_counts_hand_examples(answers, expected):
    assert psy.nps_from_counts(*counts(answers)) == pytest.approx(expected)


def counts(answers) -> tuple[int, int, int]:
    answers = np.asarray(answers)
    return int((answers >= 9).sum()), int((answers <= 6).sum()), answers.size


def test_nps_from_counts_of_no_answers_is_nan():
    assert math.isnan(psy.nps_from_counts(0, 0, 0))
    monthly = psy.nps_from_counts(np.array([3, 0]), np.array([1, 0]), np.array([5, 0]))
    assert monthly[0] == 40.0 and math.isnan(monthly[1])


def test_a_coached_answer_rises_by_two_up_to_ten_and_only_when_coached():
    answers = np.array([0, 6, 8, 9, 10, 7])
    coached = np.array([True, True, True, True, True, False])
    assert psy.coached_answer(answers, coached).tolist() == [2, 8, 10, 10, 10, 7]


@PSY
@given(answers=hnp.arrays(np.int8, st.integers(1, 50), elements=st.integers(0, 10)))
def test_nps_from_counts_matches_definition(answers):
    score = float(psy.nps_from_counts(*counts(answers)))
    values = answers.tolist()
    promoters = sum(v >= 9 for v in values)
    detractors = sum(v <= 6 for v in values)
    assert isinstance(score, float)
    assert -100.0 <= score <= 100.0
    assert score == pytest.approx(100.0 * (promoters - detractors) / len(values))


# --------------------------------------------------------------------------- #
# churn_probability
# --------------------------------------------------------------------------- #

BASE = fl(1e-6, 1.0 - 1e-6)
CHURN_WEIGHTS = st.tuples(fl(0.0, 5.0), fl(0.0, 5.0))


@PSY
@given(memory=SIGNED, trust=UNIT, base=fl(0.0, 1.0), weights=CHURN_WEIGHTS,
       switching=vec(0.0, 5.0))
def test_churn_in_unit_interval(memory, trust, base, weights, switching):
    p = psy.churn_probability(memory, trust, base, *weights, switching)
    assert np.all((p >= 0.0) & (p <= 1.0))


@PSY
@given(memories=ordered(-1.0, 1.0), trusts=ordered(0.0, 1.0), switches=ordered(0.0, 5.0),
       base=BASE, weights=CHURN_WEIGHTS)
def test_churn_nonincreasing(memories, trusts, switches, base, weights):
    (m_lo, m_hi), (t_lo, t_hi), (s_lo, s_hi) = memories, trusts, switches
    p = psy.churn_probability(m_lo, t_lo, base, *weights, s_lo)
    assert nondecreasing(psy.churn_probability(m_hi, t_lo, base, *weights, s_lo), p)
    assert nondecreasing(psy.churn_probability(m_lo, t_hi, base, *weights, s_lo), p)
    assert nondecreasing(psy.churn_probability(m_lo, t_lo, base, *weights, s_hi), p)


@PSY
@given(base=BASE, weights=CHURN_WEIGHTS)
def test_churn_neutral_client_is_base(base, weights):
    p = psy.churn_probability(np.zeros(N), np.full(N, 0.5), base, *weights, 0.0)
    np.testing.assert_allclose(p, base, rtol=1e-9, atol=1e-15)


@PSY
@given(memory=SIGNED, trust=UNIT, base=BASE)
def test_churn_emotions_off_is_constant_base(memory, trust, base):
    p = psy.churn_probability(memory, trust, base, 0.0, 0.0)
    assert p.shape == (N,)
    np.testing.assert_allclose(p, base, rtol=1e-9, atol=1e-15)


@PSY
@given(memory=SIGNED, trust=UNIT, weights=CHURN_WEIGHTS, switching=fl(0.0, 5.0))
def test_churn_degenerate_base(memory, trust, weights, switching):
    np.testing.assert_array_equal(
        psy.churn_probability(memory, trust, 0.0, *weights, switching), np.zeros(N))
    np.testing.assert_array_equal(
        psy.churn_probability(memory, trust, 1.0, *weights, switching), np.ones(N))


def test_churn_hand_value():
    p = psy.churn_probability(np.array([-1.0]), np.array([0.5]), 0.05, 1.5, 2.0)
    expected = 1.0 / (1.0 + math.exp(-(math.log(0.05 / 0.95) + 1.5)))
    assert p[0] == pytest.approx(expected)


# --------------------------------------------------------------------------- #
# choice_utility
# --------------------------------------------------------------------------- #


@PSY
@given(attitude=SIGNED, value=SIGNED)
def test_choice_utility_default_weighting(attitude, value):
    u = psy.choice_utility(attitude, value, 0.8)
    np.testing.assert_allclose(u, 0.8 * attitude + 0.2 * value, atol=TOL)
    np.testing.assert_allclose(psy.choice_utility(attitude, value, 1.0), attitude, atol=TOL)
    np.testing.assert_allclose(psy.choice_utility(attitude, value, 0.0), value, atol=TOL)


@PSY
@given(attitudes=ordered(-1.0, 1.0), values=ordered(-1.0, 1.0), w=vec(0.0, 1.0),
       switching=vec(0.0, 2.0), is_switch=flags())
def test_choice_utility_monotone(attitudes, values, w, switching, is_switch):
    (a_lo, a_hi), (v_lo, v_hi) = attitudes, values
    u = psy.choice_utility(a_lo, v_lo, w, switching, is_switch)
    assert nondecreasing(u, psy.choice_utility(a_hi, v_lo, w, switching, is_switch))
    assert nondecreasing(u, psy.choice_utility(a_lo, v_hi, w, switching, is_switch))


@PSY
@given(attitude=SIGNED, value=SIGNED, w=fl(0.0, 1.0), switching=vec(0.0, 2.0),
       is_switch=flags())
def test_choice_utility_switching_cost_only_on_switch(attitude, value, w, switching,
                                                      is_switch):
    stay = psy.choice_utility(attitude, value, w)
    u = psy.choice_utility(attitude, value, w, switching, is_switch)
    np.testing.assert_array_equal(u[~is_switch], stay[~is_switch])
    np.testing.assert_allclose(u[is_switch], (stay - switching)[is_switch], atol=TOL)
    np.testing.assert_array_equal(psy.choice_utility(attitude, value, w, switching, False), stay)


def test_nps_classes_split_the_scale_at_9_and_6():
    answers = np.arange(11, dtype=np.int8)
    promoters, detractors = psy.nps_classes(answers)
    assert answers[promoters].tolist() == [9, 10]
    assert answers[detractors].tolist() == [0, 1, 2, 3, 4, 5, 6]


def test_word_of_mouth_promoters_praise_detractors_warn_passives_keep_quiet():
    answers = np.array([10, 9, 8, 7, 6, 0], dtype=np.int8)
    unused = np.full(answers.size, np.nan)
    talks, praise = psy.word_of_mouth(psy.Feelings(unused, unused, unused, answers), None)
    assert talks.tolist() == [True, True, False, False, True, True]
    assert praise[talks].tolist() == [True, True, False, False]


def test_coached_only_surveyed_non_promoters_under_the_probability():
    answers = np.array([8, 9, 8, 5], dtype=np.int8)
    surveyed = np.array([True, True, False, True])
    u = np.array([0.1, 0.1, 0.1, 0.9])
    assert psy.coached(surveyed, answers, u, 0.5).tolist() == [True, False, False, False]


def test_message_attitude_shift_is_symmetric():
    assert psy.message_attitude_shift(np.array([True, False]), 0.05).tolist() == [0.05, -0.05]


def test_walk_churn_without_emotions_is_the_dropout_whatever_the_walk():
    dropout = np.array([0.1, 0.3])
    off = psy.walk_churn(np.array([-1.0, 1.0]), np.array([0.0, 1.0]), dropout,
                         np.array([2.0, 2.0]), False, 1.5, 2.0)
    assert np.allclose(off, dropout)
    on = psy.walk_churn(np.array([-1.0, 1.0]), np.array([0.0, 1.0]), dropout,
                        np.array([0.0, 0.0]), True, 1.5, 2.0)
    assert on[0] > dropout[0] and on[1] < dropout[1]


def test_return_chance_is_poisson_in_the_window():
    assert psy.return_chance(0.0, 30.0, 365.0) == 0.0
    assert math.isclose(psy.return_chance(0.5, 365.0, 365.0), 1.0 - math.exp(-0.5))
