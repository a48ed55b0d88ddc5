"""The BG/NBD likelihood and fit (cxsim.data.bgnbd) against the paper's own figures.

Fader, Hardie & Lee (2005), "Counting your customers" the easy way,
*Marketing Science* 24(2), 275-284, fit the model to the CDNOW sample
(2,357 customers of the first-quarter-1997 cohort) over a 39-week
calibration period and report r = 0.243, α = 4.414, a = 0.793, b = 2.426 and
a log-likelihood of -9582.4. The sample ships in the ``lifetimes``
distribution (the ``calibrate`` extra); it is read from the distribution's
files, its code is not used.
"""

from __future__ import annotations

import numpy as np
import pytest

from cxsim.data.bgnbd import fit, log_likelihood
from tests.validation.cdnow import CALIBRATION_END as END
from tests.validation.cdnow import cdnow_log

PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_LL = -9582.4


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frequency, recency and age in weeks; a customer's same-day purchases are one."""
    log = cdnow_log()
    days = log[log.date <= END].drop_duplicates(["customer", "date"]).groupby("customer").date
    first, last, count = days.min(), days.max(), days.size()
    return ((count - 1).to_numpy(), ((last - first).dt.days / 7).to_numpy(),
            ((END - first).dt.days / 7).to_numpy())


def test_the_cdnow_sample_is_the_papers(cdnow):
    x, _, T = cdnow
    assert x.size == 2357 and int(x.sum()) == 2457 and (x == 0).sum() == 1411
    assert T.max() <= 39.0


def test_the_likelihood_at_the_papers_estimates_is_the_papers(cdnow):
    assert log_likelihood(*PAPER.values(), *cdnow).sum() == pytest.approx(PAPER_LL, abs=0.05)


def test_the_fit_recovers_the_papers_estimates(cdnow):
    found = fit(*cdnow)
    for name, value in PAPER.items():
        assert getattr(found, name) == pytest.approx(value, abs=5e-4), name
    assert found.log_likelihood == pytest.approx(PAPER_LL, abs=0.05)
    assert all(0 < se < value for se, value in zip(found.se, PAPER.values()))


def test_a_model_without_dropout_fits_worse(cdnow):
    """Negative control: with p near 0 (b huge: the NBD, customers who never leave) the
    best rate distribution still fits CDNOW far worse, so the likelihood's dropout term is
    doing the work the test above checks."""
    from scipy.optimize import minimize

    def nbd(log_params: np.ndarray) -> float:
        r, alpha = np.exp(log_params)
        return -float(log_likelihood(r, alpha, 1.0, 1e9, *cdnow).sum())

    best = minimize(nbd, np.zeros(2), method="Nelder-Mead")
    assert -best.fun < PAPER_LL - 50


def test_the_grouped_sum_is_the_sum_of_the_formula(cdnow):
    """The fit sums the likelihood over distinct histories (cxsim.data.bgnbd._Groups); it must be
    the per-customer formula's sum, weights included."""
    from cxsim.data.bgnbd import _Groups, distinct_rows

    x, t_x, T = cdnow
    weights = np.random.default_rng(1).integers(1, 4, x.size).astype(float)
    for params in [PAPER.values(), (1.2, 0.5, 2.0, 0.4)]:
        expected = weights @ log_likelihood(*params, x, t_x, T)
        assert _Groups.of(x.astype(float), t_x, T, weights).total(*params) == pytest.approx(
            expected, rel=1e-12)
    (values,), at, counts = distinct_rows(np.array([3.0, 1.0, 3.0, 2.0]))
    assert values.tolist() == [1, 2, 3] and at.tolist() == [2, 0, 2, 1]
    assert counts.tolist() == [1, 1, 2]
