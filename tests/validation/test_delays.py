r"""An edge's varying delay against the distribution it names: a Weibull, or quantiles.

An edge with ``delay_days`` :math:`m` and ``delay_shape`` :math:`k` delays a client by a
Weibull draw of shape :math:`k` and scale :math:`m / \Gamma(1 + 1/k)`, whose mean is
:math:`m` (Weibull 1951; Johnson, Kotz & Balakrishnan 1994, *Continuous Univariate
Distributions* vol. 1, ch. 21: :math:`E X = \lambda\Gamma(1 + 1/k)`). The delays are
read back from the run's per-visit output, the time from the end of one visit to the
start of the next, and tested against that distribution (Kolmogorov-Smirnov) and its
mean; the control, an exponential delay of the same mean, must be rejected. An edge
with ``delay_quantiles`` :math:`q_0 \le \dots \le q_K` draws from the quantile function
linear between them, :math:`F^{-1}(u) = q_j + (uK - j)(q_{j+1} - q_j)` with
:math:`j = \lfloor uK \rfloor` (inversion, Devroye 1986, *Non-Uniform Random Variate
Generation*, II.2), whose distribution function is the inverse interpolation and whose
mean is the mean of the trapezoids.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from scipy import stats

import cxsim
from tests.validation.conftest import within_bound

MEAN_DAYS, SHAPE = 2.0, 0.7


def _delays(tmp_path, delay: dict | None = None) -> np.ndarray:
    def touchpoint() -> dict:
        return {"stage": "use", "channel": "web", "service_days": 0.001, "base_quality": 0.7,
                "failure_probability": 0.0}

    path = tmp_path / "delayed.yaml"
    path.write_text(yaml.safe_dump({
        "name": "delayed", "entry": "ask", "exits": ["answer"],
        "touchpoints": {"ask": touchpoint(), "answer": touchpoint()},
        "edges": [{"from": "ask", "to": "answer", "probability": 1.0,
                   **(delay or {"delay_days": MEAN_DAYS, "delay_shape": SHAPE})}]}))
    results = cxsim.run(cxsim.compose([
        f"firms.acme.journey={path}", "scenario=solo", "market.size=3000", "sim.years=1",
        "sim.warmup_years=0", "sim.record_visits=true"]))
    v = results.visits
    first, second = v[v.touchpoint == "ask"], v[v.touchpoint == "answer"]
    both = second.set_index("case").start - first.set_index("case").end
    return both.dropna().to_numpy()


@pytest.mark.validation
def test_edge_delays_are_weibull_with_the_edges_mean(tmp_path) -> None:
    delays = _delays(tmp_path)
    assert delays.size > 5000
    scale = MEAN_DAYS / math.gamma(1 + 1 / SHAPE)
    fit = stats.kstest(delays, stats.weibull_min(SHAPE, scale=scale).cdf)
    control = stats.kstest(delays, stats.expon(scale=MEAN_DAYS).cdf)
    assert fit.pvalue > 1e-3, fit
    assert control.pvalue < 1e-6, control
    # the mean, in batches (walks are independent draws)
    within_bound(np.array([b.mean() for b in np.array_split(delays, 20)]), MEAN_DAYS, 0.1)


QUANTILES = [0.0, 0.1, 0.5, 0.6, 4.0]  # a short wait mostly, a long one sometimes


def _piecewise_cdf(x: np.ndarray) -> np.ndarray:
    """The distribution whose quantile function is linear between QUANTILES."""
    levels = np.linspace(0.0, 1.0, len(QUANTILES))
    return np.interp(x, QUANTILES, levels)


@pytest.mark.validation
def test_edge_delays_follow_the_edges_quantiles(tmp_path) -> None:
    delays = _delays(tmp_path, {"delay_quantiles": QUANTILES})
    mean = sum(a + b for a, b in zip(QUANTILES, QUANTILES[1:])) / (2 * (len(QUANTILES) - 1))
    fit = stats.kstest(delays, _piecewise_cdf)
    control = stats.kstest(delays, stats.expon(scale=mean).cdf)
    assert fit.pvalue > 1e-3, fit
    assert control.pvalue < 1e-6, control
    assert delays.min() >= 0.0 and delays.max() <= QUANTILES[-1]
    within_bound(np.array([b.mean() for b in np.array_split(delays, 20)]), mean, 0.1)
