"""The engine reduced to the BG/NBD is the BG/NBD: a simulated CDNOW against the closed form.

With the emotions off, one firm, nobody returning to the market, a
one-touchpoint journey that never fails, each of the 2,357 CDNOW customers
joining on the day of its first purchase (``market.cohort``), needs at a
rate λ ~ Gamma(r, α) per client and a dropout p ~ Beta(a, b) per client that
can follow only a repeat purchase, the engine is the model Fader, Hardie &
Lee (2005) fit. So its cumulative repeat purchases, week by week, must be
the cohort's sum of E[X(t)] (their eq. 7, each customer's t counted from its
own first purchase), and the spread of repeat purchases per customer in the
39 calibration weeks the sum of P(X(t) = x) (eq. 8), at the paper's
estimates r = 0.243, α = 4.414 weeks, a = 0.793, b = 2.426.

The negative control runs the same market with every client at the mean
rate r / α and the mean dropout a / (a + b) (``market.heterogeneity=false``):
the comparison must then fail.

Reference: Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting
your customers" the easy way: an alternative to the Pareto/NBD model.
*Marketing Science* 24(2), 275-284.
"""

from __future__ import annotations

import numpy as np
import pytest

import cxsim
from cxsim.config import DAYS_PER_YEAR, to_config
from cxsim.data.bgnbd import count_probability, expected_repeats
from cxsim.data.calibration import repeat_purchases
from cxsim.simulation.experiment import simulated
from tests.validation.cdnow import CALIBRATION_END, FIRST_DAY, cdnow_log

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # alpha in weeks
WEEKS = 78
CALIBRATION_DAYS = (CALIBRATION_END - FIRST_DAY).days + 1  # 273: the 39 weeks
REPLICATIONS = 100
FROM_WEEK = 6  # before it the cohort has made fewer than 300 repeat purchases
WEEKLY_BOUND = 0.05  # 4 SE must lie within 5% of E[X(t)] from week 6 on (measured: 4.0% to 1.7%)
COUNT_BOUND = 0.10  # and within 10% of each count's expectation (0.7% for x = 0 to 7.9%, x = 6)
COUNTS = 7  # P(X = 0..6) and P(X >= 7)


def _first_days() -> np.ndarray:
    log = cdnow_log()
    return (log.groupby("customer").date.min() - FIRST_DAY).dt.days.to_numpy(float)


def _simulate(first_days: np.ndarray, journey, heterogeneity: bool,
              replications: int = REPLICATIONS) -> list[cxsim.Results]:
    r, alpha, a, b = PAPER.values()
    cfg = to_config(cxsim.compose([
        "scenario=solo", f"firms.acme.journey={journey}", "firms.acme.initial_share=0",
        "network=none", f"market.size={first_days.size}",
        f"sim.years={WEEKS * 7 / DAYS_PER_YEAR}", "management.review=false",
        "market.return_per_year=0", "psychology.emotions=false",
        "market.segments.core.mean_days_between_needs=null",
        f"market.segments.core.purchase_rate={{r: {r}, alpha_years: {alpha * 7 / DAYS_PER_YEAR}}}",
        f"market.segments.core.dropout={{a: {a}, b: {b}}}",
        "market.segments.core.dropout_after=repeat_purchase",
        f"market.heterogeneity={str(heterogeneity).lower()}", "sim.record_journeys=true",
    ]))
    cfg.market.cohort = first_days.tolist()
    return list(simulated(cfg, replications))


def _measure(runs: list[cxsim.Results], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per replication, the cumulative repeat purchases at each week's end, and the
    customers with 0..6 and 7+ repeat purchases in the calibration weeks."""
    weekly = np.empty((len(runs), WEEKS))
    counts = np.empty((len(runs), COUNTS + 1))
    for i, results in enumerate(runs):
        days, clients = repeat_purchases(results)
        weekly[i] = np.searchsorted(np.sort(days), 7.0 * np.arange(1, WEEKS + 1))
        per_client = np.bincount(clients[days < CALIBRATION_DAYS], minlength=size)
        counts[i] = np.bincount(np.minimum(per_client, COUNTS), minlength=COUNTS + 1)
    return weekly, counts


def _model(first_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The closed forms summed over the cohort."""
    weekly = np.array([expected_repeats(np.maximum(7.0 * w - first_days, 0.0) / 7.0,
                                        *PAPER.values()).sum() for w in range(1, WEEKS + 1)])
    age = (CALIBRATION_DAYS - first_days) / 7.0
    counts = np.array([count_probability(x, age, *PAPER.values()).sum() for x in range(COUNTS)])
    return weekly, np.append(counts, first_days.size - counts.sum())


def _misses(estimates: np.ndarray, truth: np.ndarray, bound: float) -> np.ndarray:
    """Where the replications' mean is more than 4 SE from the closed form, with the 4 SE
    checked to lie within *bound* of it."""
    four_se = 4.0 * estimates.std(axis=0, ddof=1) / np.sqrt(len(estimates))
    assert (four_se <= bound * truth).all(), "too few replications for the stated bound"
    return np.abs(estimates.mean(axis=0) - truth) > four_se


@pytest.fixture(scope="module")
def cohort() -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    days = _first_days()
    return days, _model(days)


def test_the_simulated_cdnow_is_the_bgnbd(cohort, one_touchpoint):
    days, (weekly_truth, count_truth) = cohort
    weekly, counts = _measure(_simulate(days, one_touchpoint(False), True), days.size)
    start = FROM_WEEK - 1
    assert not _misses(weekly[:, start:], weekly_truth[start:], WEEKLY_BOUND).any(), "E[X(t)]"
    assert not _misses(counts, count_truth, COUNT_BOUND).any(), "P(X(39 weeks) = x)"


def test_without_heterogeneity_the_same_comparison_fails(cohort, one_touchpoint):
    """Negative control: every client at the mean rate and dropout buys differently (far
    fewer never buy again, nobody buys a dozen times), so both checks above must miss; the
    misses are hundreds of SE, so 20 replications show them."""
    days, (weekly_truth, count_truth) = cohort
    n = 20
    weekly, counts = _measure(_simulate(days, one_touchpoint(False), False, n), days.size)
    four_se = 4.0 * weekly.std(axis=0, ddof=1) / np.sqrt(n)
    assert (np.abs(weekly.mean(axis=0) - weekly_truth) > four_se)[FROM_WEEK - 1:].mean() > 0.9
    assert (np.abs(counts.mean(axis=0) - count_truth) > 4.0 * counts.std(axis=0, ddof=1)
            / np.sqrt(n)).sum() >= 5
