"""The Gamma–Gamma model of spend per transaction: its likelihood, its fit, and the
conditional expected spend it implies.

A customer's transaction values are Gamma(p, ν) (shape p, rate ν), so its mean
transaction value is p / ν; across customers ν ~ Gamma(q, γ) (shape q, rate γ).
The mean *m* of a customer's *x* repeat transactions is then Gamma(p x, ν x),
and integrating ν out gives the likelihood of (x, m) in closed form
(Colombo & Jiang 1999; Fader, Hardie & Lee 2005):

    L = Γ(p x + q) / (Γ(p x) Γ(q)) · γ^q m^(p x - 1) x^(p x) / (γ + m x)^(p x + q)

evaluated here in log space. It uses only customers with x ≥ 1, and *m* in
whatever currency unit is given; γ is in that unit. By conjugacy ν given (x, m)
is Gamma(p x + q, γ + m x), hence the conditional expected spend below.

References
----------
Colombo, R. & Jiang, W. (1999). A stochastic RFM model. *Journal of Interactive
Marketing* 13(3), 2-12.

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: using iso-value
curves for customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from cxsim.data.bgnbd import maximise

__all__ = ["Fit", "expected_spend", "fit", "log_likelihood"]


def log_likelihood(p: float, q: float, gamma: float, x: np.ndarray,
                   mean_value: np.ndarray) -> np.ndarray:
    """Each customer's Gamma–Gamma log-likelihood of (x, m), x ≥ 1 (module docstring)."""
    x, m = (np.asarray(v, dtype=float) for v in (x, mean_value))
    px = p * x
    return (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
            + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * np.log(gamma + m * x))


@dataclass(frozen=True)
class Fit:
    """Maximum-likelihood estimates of (p, q, γ), their standard errors, and the
    total log-likelihood."""

    p: float
    q: float
    gamma: float
    se: tuple[float, float, float]
    log_likelihood: float

    @property
    def mean_spend(self) -> float:
        """Population mean of a customer's expected spend, E[p / ν] = p γ / (q - 1).

        It is infinite when q ≤ 1 (E[1 / ν] diverges), and returned as ``inf`` then.
        """
        return _population_mean(self.p, self.q, self.gamma)


def _population_mean(p: float, q: float, gamma: float) -> float:
    return p * gamma / (q - 1.0) if q > 1.0 else float("inf")


@dataclass(frozen=True)
class _Spends:
    """The customers' (x, m) as the summed likelihood needs them: every term of
    :func:`log_likelihood` but the last depends on x alone or sums to a constant, so a
    million customers cost one logarithm each per evaluation."""

    n: int
    x: np.ndarray  # distinct repeat counts
    count: np.ndarray  # customers with each
    x_each: np.ndarray  # per customer, x
    x_m: np.ndarray  # per customer, x m
    sum_x_log_m: float
    sum_log_m: float
    sum_x_log_x: float

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray) -> _Spends:
        distinct, count = np.unique(x, return_counts=True)
        log_m = np.log(m)
        return cls(x.size, distinct, count, x, x * m, float(x @ log_m), float(log_m.sum()),
                   float(x @ np.log(x)))

    def total(self, p: float, q: float, gamma: float) -> float:
        """``log_likelihood(p, q, gamma, x, m).sum()``, regrouped."""
        px = p * self.x
        by_x = self.count @ (gammaln(px + q) - gammaln(px))
        per_customer = (p * self.x_each + q) @ np.log(gamma + self.x_m)
        return float(by_x + self.n * (q * np.log(gamma) - gammaln(q)) + p * self.sum_x_log_m
                     - self.sum_log_m + p * self.sum_x_log_x - per_customer)


def _negative(log_params: np.ndarray, spends: _Spends) -> float:
    """Minus the mean log-likelihood per customer: the optimiser's tolerances then mean the
    same for a thousand customers and for a million."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = -spends.total(*np.exp(log_params)) / spends.n
    return value if np.isfinite(value) else np.inf


def fit(x: np.ndarray, mean_value: np.ndarray) -> Fit:
    """Fit the Gamma–Gamma by maximum likelihood, on log-parameters (so all stay positive).

    *x* is each customer's number of repeat transactions and *mean_value* their
    mean value; only customers with x ≥ 1 and a positive mean belong here (the
    caller filters), else the likelihood is undefined and a ValueError is raised.
    Standard errors as :func:`cxsim.data.bgnbd.maximise` gives them; a ValueError also
    when the optimiser finds no finite maximum.
    """
    x, m = (np.asarray(v, dtype=float) for v in (x, mean_value))
    if not (np.all(x >= 1) and np.all(m > 0)):
        raise ValueError("the Gamma-Gamma needs x >= 1 and a positive mean value per customer")
    spends = _Spends.of(x, m)
    params, se = maximise(lambda theta: _negative(theta, spends), 3, spends.n,
                          "the Gamma-Gamma likelihood has no finite maximum for these spends")
    return Fit(*params.tolist(), tuple(se.tolist()), spends.total(*params))


def expected_spend(fit_or_params: Fit | tuple[float, float, float], x: np.ndarray,
                   mean_value: np.ndarray) -> np.ndarray:
    """Each customer's expected mean transaction value given its (x, m):

        E[Z | x, m] = p (γ + m x) / (p x + q - 1)

    (Fader, Hardie & Lee 2005; ``conditional_expected_average_profit`` in
    ``lifetimes``), a weighted average of the population mean p γ / (q - 1) and
    the customer's own mean m, so a customer with few transactions is shrunk
    towards the population. For x = 0 (m is ignored) it is the population mean.
    Where p x + q ≤ 1 the expectation diverges and ``inf`` is returned.

    *fit_or_params* is a :class:`Fit` or a tuple (p, q, γ).
    """
    if isinstance(fit_or_params, Fit):
        p, q, gamma = fit_or_params.p, fit_or_params.q, fit_or_params.gamma
    else:
        p, q, gamma = fit_or_params
    x, m = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, mean_value)))
    m = np.where(x > 0, m, 0.0)  # x = 0: the posterior is the prior, whatever m is
    shape = p * x + q - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(shape > 0, p * (gamma + m * x) / shape, np.inf)
