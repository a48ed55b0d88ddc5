"""The BG/NBD model of repeat buying: its likelihood, written once, and its fit.

While alive, a customer buys at Poisson rate λ; after each repeat purchase
it drops out with probability p; across customers λ ~ Gamma(r, α) and
p ~ Beta(a, b). From a transaction log's frequency *x* (repeat purchases),
recency *t_x* (time of the last purchase) and age *T* (time since the first),
all measured from each customer's first purchase, the likelihood has a
closed form (Fader, Hardie & Lee 2005, eq. 6):

    L = B(a, b + x) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + T)^(r + x))
        + [x > 0] · B(a + 1, b + x - 1) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + t_x)^(r + x))

evaluated here in log space (``logaddexp`` of the two terms), so large counts
do not overflow. Time is in whatever unit *t_x* and *T* are given in; α is
in that unit.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
the easy way: an alternative to the Pareto/NBD model. *Marketing Science*
24(2), 275-284.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

__all__ = ["Fit", "fit", "log_likelihood"]


def log_likelihood(r: float, alpha: float, a: float, b: float, x: np.ndarray,
                   t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (module docstring; Fader et al. 2005, eq. 6)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    alive = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    with np.errstate(invalid="ignore", divide="ignore"):
        dropped = np.where(x > 0, betaln(a + 1.0, b + x - 1.0) - (r + x) * np.log(alpha + t_x),
                           -np.inf)
    return common + np.logaddexp(alive, dropped)


@dataclass(frozen=True)
class Fit:
    """Maximum-likelihood estimates of (r, α, a, b), their standard errors, and the
    total log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    se: tuple[float, float, float, float]
    log_likelihood: float


def _negative(log_params: np.ndarray, x, t_x, T) -> float:
    return -float(log_likelihood(*np.exp(log_params), x, t_x, T).sum())


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Fit:
    """Fit the BG/NBD by maximum likelihood, on log-parameters (so all stay positive).

    Standard errors come from the inverse of the observed information (the
    Hessian of the negative log-likelihood, by central differences) on the
    natural scale, by the delta method: se(θ) = θ · se(log θ).
    """
    start = np.zeros(4)
    found = minimize(_negative, start, args=(x, t_x, T), method="Nelder-Mead",
                     options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 20_000, "maxfev": 40_000})
    found = minimize(_negative, found.x, args=(x, t_x, T), method="BFGS")
    theta = found.x
    hessian = _hessian(lambda p: _negative(p, x, t_x, T), theta)
    with np.errstate(invalid="ignore"):
        se_log = np.sqrt(np.diag(np.linalg.inv(hessian)))
    params = np.exp(theta)
    return Fit(*params.tolist(), tuple((params * se_log).tolist()), -float(found.fun))


def _hessian(f, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of *f* at *theta*."""
    n = theta.size
    unit = np.eye(n) * step
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            di, dj = unit[i], unit[j]
            out[i, j] = (f(theta + di + dj) - f(theta + di - dj) - f(theta - di + dj)
                         + f(theta - di - dj)) / (4 * step * step)
    return out
