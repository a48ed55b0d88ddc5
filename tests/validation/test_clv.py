r"""CLV under constant retention: the engine against the closed form.

With the emotional machinery off, an acquired client buys at acquisition;
later needs arrive after exponential gaps with rate :math:`\lambda` (per
day), after each purchase the client churns with constant probability
:math:`c`, each purchase pays margin :math:`m`, and payments are discounted
continuously at rate :math:`\delta` (per day) to the acquisition date. The
k-th purchase (k = 0, 1, ...) happens only if the client survived k churn
decisions, probability :math:`(1-c)^k`, at a time that is the sum of k
exponential gaps plus k + 1 walk durations S. Since
:math:`E[e^{-\delta\,\mathrm{Exp}(\lambda)}] = \lambda/(\lambda+\delta)` and
:math:`g = E[e^{-\delta S}] = 1/(1 + \delta s)` for an exponential walk of mean
s,

.. math::
    E[\mathrm{CLV}] = \sum_k m\,g\,\bigl((1-c)\,g\,\lambda/(\lambda+\delta)\bigr)^k
    = \frac{m\,g}{1 - (1-c)\,g\,\lambda/(\lambda+\delta)},

which for s -> 0 is :math:`m / (1 - (1-c)\lambda/(\lambda+\delta))`, the
continuous-time form of the geometric-retention CLV :math:`m\,r/(1+d-r)` of
Gupta & Lehmann (2003) and Berger & Nasr (1998).

References
----------
Berger, P. D. & Nasr, N. I. (1998). Customer lifetime value: marketing
models and applications. *Journal of Interactive Marketing* 12(1), 17-30.
Gupta, S. & Lehmann, D. R. (2003). Customers as assets. *Journal of
Interactive Marketing* 17(1), 9-24.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tests.validation.conftest import replicate, within_bound

SERVICE_DAYS = 0.001


def closed_form_clv(margin: float, churn: float, days_between: float, discount_per_year: float,
                    service_days: float = SERVICE_DAYS) -> float:
    """Expected CLV of the module docstring (rates per day inside)."""
    lam = 1.0 / days_between
    delta = discount_per_year / 365.25
    g = 1.0 / (1.0 + delta * service_days)
    return margin * g / (1.0 - (1.0 - churn) * g * lam / (lam + delta))


def _overrides(path, churn, days_between, discount, years, clients):
    return [
        f"firms.acme.journey={path}",
        "network=none",
        f"market.size={clients}",
        f"sim.years={years}",
        f"sim.discount_rate={discount}",
        f"market.segments.core.mean_days_between_needs={days_between}",
        "market.segments.core.order_value=100",
        "market.segments.core.margin=0.3",
        "firms.acme.initial_share=0",
        "firms.acme.acquisition_share=0",
        "scenario=solo",
        "management.review=false",
        "market.return_per_year=0",
        "firms.acme.sales_pressure=0",
        "market.organic_acquisition_per_year=50",
        "psychology.emotions=false",
        f"psychology.base_churn={churn}",
    ]


# Horizons leave the value after the horizon below 0.1% of the CLV: for a
# client acquired in year one, what remains after tau years is at most
# exp(-(c*lambda + delta) * tau) * m / c.
CASES = [
    # yearly needs, 30% discount: delta/lambda = 0.3, so the timing of needs matters
    pytest.param(0.2, 365.0, 0.30, 30.0, 3000, 10, id="yearly-needs-30pct-discount"),
    # monthly needs, 10% discount
    pytest.param(0.1, 30.0, 0.10, 8.0, 3000, 10, id="monthly-needs-10pct-discount"),
]


@pytest.mark.validation
@pytest.mark.parametrize(("churn", "days_between", "discount", "years", "clients", "reps"), CASES)
def test_mean_clv_matches_closed_form(one_touchpoint, churn, days_between, discount, years,
                                      clients, reps):
    path = one_touchpoint(staffed=False, service_days=SERVICE_DAYS)
    runs = replicate(_overrides(path, churn, days_between, discount, years, clients), reps)
    truth = closed_form_clv(30.0, churn, days_between, discount)
    per_run = []
    for results in runs:
        early = results.clients[(results.clients.source == "marketing")
                                & (results.clients.acquired_at <= 365.25)]
        assert len(early) > 0.99 * clients
        per_run.append(early.clv.mean())
    within_bound(np.array(per_run), truth, 0.03)


@pytest.mark.validation
def test_gaps_between_needs_are_exponential(one_touchpoint):
    """Kolmogorov-Smirnov: the idle time from one walk's end to the next need is Exp(mean)."""
    path = one_touchpoint(staffed=False)
    overrides = _overrides(path, 0.05, 30.0, 0.1, 2.0, 2000) + ["sim.record_journeys=true"]
    (results,) = replicate(overrides, 1)
    walks = results.journeys.sort_values(["client", "need_at"])
    same = walks.client.to_numpy()[1:] == walks.client.to_numpy()[:-1]
    # a gap is seen only if the next need falls before the horizon: keep walks
    # ending 10 mean gaps before it, so the censoring is below exp(-10)
    early = walks.ended_at.to_numpy()[:-1] < results.meta["horizon_days"] - 300.0
    gaps = (walks.need_at.to_numpy()[1:] - walks.ended_at.to_numpy()[:-1])[same & early]
    assert gaps.size > 5000
    result = stats.kstest(gaps, stats.expon(scale=30.0).cdf)
    assert result.pvalue > 0.001, result
    # and not any distribution passes: a 10% wrong mean is rejected
    assert stats.kstest(gaps, stats.expon(scale=33.0).cdf).pvalue < 0.001
