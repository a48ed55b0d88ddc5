"""The Gamma–Gamma spend model (cxsim.data.gammagamma) against the published CDNOW fit.

Fader, Hardie & Lee fit the model to the CDNOW sample (2,357 customers of the
first-quarter-1997 cohort) over the 39-week calibration period ending 1997-09-30:
the 946 customers with at least one repeat transaction, x their number of repeat
transactions and m the mean value of those (the first purchase excluded), a
customer's same-day purchases one transaction whose value is their sum. They
report p = 6.25, q = 3.74, γ = 15.44 (the note "The Gamma-Gamma model of
monetary value"; Fader, Hardie & Lee 2005, *JMR* 42(4)). The same fit of the
``lifetimes`` summary file, whose means are rounded to the cent, gives γ = 15.4477
(15.45); the unrounded means used here give 15.4435, the published 15.44.
The sample ships in the ``lifetimes`` distribution (the ``calibrate`` extra); it
is read from the distribution's files, its code is not used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.optimize import minimize

from cxsim.data.gammagamma import Fit, expected_spend, fit, log_likelihood
from tests.validation.cdnow import CALIBRATION_END as END
from tests.validation.cdnow import cdnow_log

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """Per customer with x ≥ 1 in calibration: x, m, and the holdout mean value (NaN if
    the customer bought nothing after 1997-09-30); same-day purchases are one, summed."""
    days = cdnow_log().groupby(["customer", "date"], as_index=False).amount.sum()
    days = days.sort_values(["customer", "date"])
    calibration = days[days.date <= END]
    repeat = calibration[calibration.groupby("customer").cumcount() > 0].groupby("customer")
    out = pd.DataFrame({"x": repeat.size().astype(float), "m": repeat.amount.mean()})
    out["holdout"] = days[days.date > END].groupby("customer").amount.mean()
    return out


@pytest.fixture(scope="module")
def found(cdnow) -> Fit:
    return fit(cdnow.x, cdnow.m)


@pytest.mark.parametrize(("p", "q", "gamma", "x", "m"),
                         [(6.25, 3.74, 15.44, 1, 20.0), (6.25, 3.74, 15.44, 4, 55.3),
                          (0.8, 1.5, 2.0, 2, 0.7), (2.0, 9.0, 40.0, 12, 9.5)])
def test_the_likelihood_is_the_mixture_it_claims(p, q, gamma, x, m):
    """The closed form equals ∫ Gamma(m; p x, rate ν x) Gamma(ν; q, rate γ) dν, computed
    numerically: a check of the formula that owes nothing to the published numbers."""
    def integrand(nu: float) -> float:
        return (stats.gamma.pdf(m, a=p * x, scale=1 / (nu * x))
                * stats.gamma.pdf(nu, a=q, scale=1 / gamma))

    prior = stats.gamma(a=q, scale=1 / gamma)
    posterior = stats.gamma(a=p * x + q, scale=1 / (gamma + m * x))  # where the mass is
    breaks = sorted({prior.ppf(0.5), posterior.ppf(1e-6), posterior.ppf(0.5),
                     posterior.ppf(1 - 1e-6)})
    value = sum(integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-11, limit=200)[0]
                for lo, hi in zip([0.0, *breaks], [*breaks, np.inf]))
    assert float(log_likelihood(p, q, gamma, x, m)) == pytest.approx(np.log(value), abs=1e-8)


def test_expected_spend_is_the_posterior_mean():
    """E[Z | x, m] = p E[1/ν | x, m] with ν | x, m ~ Gamma(p x + q, γ + m x); x = 0 is the
    population mean p γ / (q - 1), and a Fit and a tuple give the same answer."""
    p, q, gamma = PUBLISHED.values()
    x, m = np.array([0.0, 1.0, 5.0]), np.array([99.0, 20.0, 55.0])
    posterior_mean_inverse = [stats.invgamma(a=p * xi + q, scale=gamma + mi * xi * (xi > 0)).mean()
                              for xi, mi in zip(x, m)]
    assert expected_spend((p, q, gamma), x, m) == pytest.approx(p * np.array(
        posterior_mean_inverse), rel=1e-12)
    as_fit = Fit(p, q, gamma, (0.0, 0.0, 0.0), 0.0)
    assert expected_spend(as_fit, x, m)[0] == pytest.approx(as_fit.mean_spend, rel=1e-12)
    assert Fit(1.0, 0.9, 1.0, (0.0, 0.0, 0.0), 0.0).mean_spend == np.inf


def test_the_cdnow_sample_is_the_papers(cdnow):
    assert len(cdnow) == 946 and (cdnow.x >= 1).all() and (cdnow.m > 0).all()


def test_the_fit_recovers_the_published_estimates(cdnow, found):
    for name, value in PUBLISHED.items():
        assert getattr(found, name) == pytest.approx(value, abs=0.005), name
    assert all(0 < se < value for se, value in zip(found.se, PUBLISHED.values()))
    at_published = log_likelihood(*PUBLISHED.values(), cdnow.x, cdnow.m).sum()
    assert found.log_likelihood - 0.01 < at_published <= found.log_likelihood


def test_a_model_without_heterogeneity_fits_worse(cdnow, found):
    """Negative control: with one ν for every customer (m ~ Gamma(p x, rate ν x), the
    Gamma–Gamma without its mixing distribution) the best fit is ≈ 262 log-likelihood
    units worse, so the heterogeneity in ν is doing the work the test above checks."""
    x, m = cdnow.x.to_numpy(), cdnow.m.to_numpy()

    def homogeneous(log_params: np.ndarray) -> float:
        p, nu = np.exp(log_params)
        return -float(stats.gamma.logpdf(m, a=p * x, scale=1 / (nu * x)).sum())

    best = minimize(homogeneous, np.zeros(2), method="Nelder-Mead",
                    options={"xatol": 1e-10, "fatol": 1e-10, "maxiter": 20_000})
    best = minimize(homogeneous, best.x, method="BFGS")
    assert -best.fun < found.log_likelihood - 200


def test_expected_spend_predicts_the_holdout_better(cdnow, found):
    """Out of sample: for the 491 of them who buy again between 1997-10-01 and
    1998-06-30, the conditional expected spend predicts their holdout mean value with
    a mean squared error of ≈ 787, against ≈ 1000 for the population mean and ≈ 879
    for their own calibration mean m (shrinkage beats both extremes)."""
    back = cdnow.dropna(subset=["holdout"])
    assert len(back) == 491

    def mse(prediction) -> float:
        return float(((back.holdout - prediction) ** 2).mean())

    model = mse(expected_spend(found, back.x, back.m))
    assert model < 0.85 * mse(found.mean_spend)
    assert model < 0.95 * mse(back.m)


def test_the_regrouped_sum_is_the_sum_of_the_formula():
    """The fit sums the likelihood regrouped by x (cxsim.data.gammagamma._Spends); it must be the
    per-customer formula's sum, or the fit would maximise something else."""
    from cxsim.data.gammagamma import _Spends

    rng = np.random.default_rng(3)
    x = rng.integers(1, 9, 500).astype(float)
    m = rng.gamma(3.0, 10.0, 500)
    for params in [(6.25, 3.74, 15.44), (0.8, 1.5, 2.0)]:
        assert _Spends.of(x, m).total(*params) == pytest.approx(
            log_likelihood(*params, x, m).sum(), rel=1e-12)
