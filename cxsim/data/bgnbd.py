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

The model's forecasts (eqs. 7, 8, 10 and the probability of being alive)
are here too, so the fit, the report and the validation of the engine read
one source.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
the easy way: an alternative to the Pareto/NBD model. *Marketing Science*
24(2), 275-284.
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2008). Computing P(alive) using
the BG/NBD model. Note, brucehardie.com/notes/021.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

__all__ = ["Fit", "fit", "maximise", "hessian", "distinct_rows", "log_likelihood",
           "expected_repeats", "count_probability", "probability_alive",
           "expected_repeats_if_alive", "conditional_expected_repeats"]


def _common(r, alpha, a, b, x):
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)


def _alive(r, alpha, a, b, x, T):
    return betaln(a, b + x) - (r + x) * np.log(alpha + T)


def _dropped(r, alpha, a, b, x, t_x):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x > 0, betaln(a + 1.0, b + x - 1.0) - (r + x) * np.log(alpha + t_x),
                        -np.inf)


def log_likelihood(r: float, alpha: float, a: float, b: float, x: np.ndarray,
                   t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's BG/NBD log-likelihood (module docstring; Fader et al. 2005, eq. 6)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    return (_common(r, alpha, a, b, x)
            + np.logaddexp(_alive(r, alpha, a, b, x, T), _dropped(r, alpha, a, b, x, t_x)))


def distinct_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """The distinct rows of equal-length *columns*: their values (one array per column), the
    row each input row is, and how many input rows each stands for (a lexsort: several
    times faster than ``np.unique(axis=0)`` on a million rows)."""
    order = np.lexsort(columns[::-1])
    ordered = [np.asarray(c)[order] for c in columns]
    new = np.ones(order.size, dtype=bool)
    new[1:] = np.any([c[1:] != c[:-1] for c in ordered], axis=0)
    starts = np.flatnonzero(new)
    at = np.empty(order.size, dtype=np.int64)
    at[order] = np.cumsum(new) - 1
    return tuple(c[starts] for c in ordered), at, np.diff(np.append(starts, order.size))


@dataclass(frozen=True)
class _Groups:
    """A log's customers as the likelihood needs them: each term of :func:`log_likelihood`
    depends on x, (x, T) or (x, t_x) only, so each is computed once per distinct value and
    gathered for each distinct (x, t_x, T), weighted by its customers."""

    weights: np.ndarray
    customers: float
    x: np.ndarray
    x_at: np.ndarray
    alive: tuple[np.ndarray, np.ndarray]
    alive_at: np.ndarray
    dropped: tuple[np.ndarray, np.ndarray]
    dropped_at: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray
           ) -> _Groups:
        (x, t_x, T), at, counts = distinct_rows(x, t_x, T)
        weights = (counts.astype(float) if weights is None
                   else np.bincount(at, weights, counts.size))
        (x_values,), x_at, _ = distinct_rows(x)
        alive, alive_at, _ = distinct_rows(x, T)
        dropped, dropped_at, _ = distinct_rows(x, t_x)
        return cls(weights, float(weights.sum()), x_values, x_at, alive, alive_at, dropped,
                   dropped_at)

    def total(self, r: float, alpha: float, a: float, b: float) -> float:
        """The weighted sum of :func:`log_likelihood`."""
        each = (_common(r, alpha, a, b, self.x)[self.x_at]
                + np.logaddexp(_alive(r, alpha, a, b, *self.alive)[self.alive_at],
                               _dropped(r, alpha, a, b, *self.dropped)[self.dropped_at]))
        return float(self.weights @ each)


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


def _negative(log_params: np.ndarray, groups: _Groups) -> float:
    """Minus the mean log-likelihood per customer: the optimiser's tolerances then mean the
    same for a log of a thousand customers and of a million."""
    with np.errstate(over="ignore", invalid="ignore"):
        value = -groups.total(*np.exp(log_params)) / groups.customers
    return value if np.isfinite(value) else np.inf


def fit(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray | None = None
        ) -> Fit:
    """Fit the BG/NBD by maximum likelihood, on log-parameters (so all stay positive).

    *weights* counts the customers each (x, t_x, T) stands for (default one
    each). The sum runs over distinct values (:class:`_Groups`), so a log of a
    million customers costs what its few hundred thousand distinct histories
    cost (:func:`maximise`). Raises ValueError when the optimiser finds no
    finite maximum.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    groups = _Groups.of(x, t_x, T, weights)
    params, se = maximise(lambda theta: _negative(theta, groups), 4, groups.customers,
                          "the BG/NBD likelihood has no finite maximum for this log")
    return Fit(*params.tolist(), tuple(se.tolist()), groups.total(*params))


def maximise(mean_negative, n: int, customers: float, failure: str
             ) -> tuple[np.ndarray, np.ndarray]:
    """The maximum-likelihood parameters and their standard errors, given minus the mean
    log-likelihood per customer as a function of the *n* log-parameters.

    Nelder–Mead from 0 (every parameter 1), then BFGS; the standard errors come from
    the inverse of the observed information (the Hessian of the negative total
    log-likelihood, by central differences) on the natural scale, by the delta method:
    se(θ) = θ · se(log θ). ValueError(*failure*) when no finite maximum is found.
    """
    with np.errstate(all="ignore"):  # searches probe where it is undefined; judged below
        found = minimize(mean_negative, np.zeros(n), method="Nelder-Mead",
                         options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 20_000,
                                  "maxfev": 40_000})
        found = minimize(mean_negative, found.x, method="BFGS")
    theta = found.x
    if not (np.isfinite(found.fun) and np.all(np.abs(theta) < 30)):
        raise ValueError(failure)
    information = customers * hessian(mean_negative, theta)
    with np.errstate(invalid="ignore"):
        se_log = np.sqrt(np.diag(np.linalg.inv(information)))
    params = np.exp(theta)
    return params, params * se_log


def hessian(f, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
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


def expected_repeats(t: np.ndarray, r: float, alpha: float, a: float, b: float) -> np.ndarray:
    """E[X(t)], the expected repeat purchases of a new customer within *t* of its first
    (Fader et al. 2005, eq. 7)."""
    t = np.asarray(t, dtype=float)
    ratio = alpha / (alpha + t)
    return (a + b - 1.0) / (a - 1.0) * (
        1.0 - ratio ** r * hyp2f1(r, b, a + b - 1.0, t / (alpha + t)))


def count_probability(x: int, t: np.ndarray, r: float, alpha: float, a: float, b: float
                      ) -> np.ndarray:
    """P(X(t) = x), the chance of exactly *x* repeat purchases within *t* (eq. 8)."""
    t = np.asarray(t, dtype=float)
    log_alive = np.log(alpha / (alpha + t))
    log_buy = np.log(np.where(t > 0, t / (alpha + t), 1.0))
    term = np.exp(betaln(a, b + x) - betaln(a, b) + gammaln(r + x) - gammaln(r)
                  - gammaln(x + 1.0) + r * log_alive + x * log_buy)
    if x == 0:
        return term
    partial = sum(np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1.0) + r * log_alive
                         + j * log_buy) for j in range(x))
    return term + np.exp(betaln(a + 1.0, b + x - 1.0) - betaln(a, b)) * (1.0 - partial)


def probability_alive(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, r: float, alpha: float,
                      a: float, b: float) -> np.ndarray:
    """P(alive | x, t_x, T): a customer with no repeat purchase has not dropped out
    (Fader, Hardie & Lee 2008, eq. 2)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(x > 0, np.exp(np.log(a) - np.log(np.maximum(b + x - 1.0, 1e-300))
                                      + (r + x) * np.log((alpha + T) / (alpha + t_x))), 0.0)
    return 1.0 / (1.0 + odds)


def expected_repeats_if_alive(t: np.ndarray | float, x: np.ndarray, T: np.ndarray, r: float,
                              alpha: float, a: float, b: float) -> np.ndarray:
    """E[Y(t) | x, T, still alive at T]: eq. 10 without its probability of being alive,
    which alone depends on t_x (so a table of customers computes this once per (x, T))."""
    x, T = (np.asarray(v, dtype=float) for v in (x, T))
    t = np.asarray(t, dtype=float)
    return (a + b + x - 1.0) / (a - 1.0) * (
        1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x)
        * hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + T + t)))


def conditional_expected_repeats(t: np.ndarray | float, x: np.ndarray, t_x: np.ndarray,
                                 T: np.ndarray, r: float, alpha: float, a: float, b: float
                                 ) -> np.ndarray:
    """E[Y(t) | x, t_x, T], a customer's expected purchases in the *t* after *T* (eq. 10)."""
    return (expected_repeats_if_alive(t, x, T, r, alpha, a, b)
            * probability_alive(x, t_x, T, r, alpha, a, b))
