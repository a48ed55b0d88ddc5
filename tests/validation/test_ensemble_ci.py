r"""Coverage of the Ensemble's 95% CI, against a mean known in closed form.

The setting is that of ``test_clv.py``: emotions off, so a client churns with
constant probability :math:`c` after each purchase; needs arrive after
exponential gaps of rate :math:`\lambda`; each purchase pays margin :math:`m`,
discounted continuously at rate :math:`\delta` to the acquisition date. The
expected CLV of a client is (derivation in ``test_clv.py``)

.. math::
    E[\mathrm{CLV}] = \frac{m\,g}{1 - (1-c)\,g\,\lambda/(\lambda+\delta)},
    \qquad g = \frac{1}{1 + \delta s},

the continuous-time form of the geometric-retention CLV of Gupta & Lehmann
(2003) and Berger & Nasr (1998). In that setting (``test_clv._overrides``)
every client is acquired in the first days and nobody returns after leaving,
so a replication's ``clv_mean`` (the mean CLV of its clients) has that
expectation, up to what the horizon censors (below 0.1% here).

An Ensemble of a few replications gives a Student-t 95% interval for it.
Over 100 independent ensembles (seeds 0..99) the interval must cover the
truth in 88% to 99% of them: an interval too narrow fails as surely as one
too wide. With 3 replications per ensemble, a normal quantile in place of
Student t's would cover about 81%.

References
----------
Berger, P. D. & Nasr, N. I. (1998). Customer lifetime value: marketing
models and applications. *Journal of Interactive Marketing* 12(1), 17-30.
Gupta, S. & Lehmann, D. R. (2003). Customers as assets. *Journal of
Interactive Marketing* 17(1), 9-24.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import cxsim
from cxsim.config import to_config
from tests.validation.test_clv import SERVICE_DAYS, _overrides, closed_form_clv

CHURN, DAYS_BETWEEN, DISCOUNT, MARGIN = 0.2, 30.0, 0.1, 30.0
ENSEMBLES, REPLICATIONS = 100, 3


@pytest.mark.validation
@pytest.mark.slow
def test_ensemble_ci_covers_the_closed_form_clv(one_touchpoint):
    path = one_touchpoint(staffed=False, service_days=SERVICE_DAYS)
    # CLV left after 3 years: at most exp(-(c*lambda + delta) * 3 years) * m / c = 0.05% of E[CLV]
    cfg = to_config(cxsim.compose(_overrides(path, CHURN, DAYS_BETWEEN, DISCOUNT, 3.0, 200)))
    truth = closed_form_clv(MARGIN, CHURN, DAYS_BETWEEN, DISCOUNT)
    covered = []
    for seed in range(ENSEMBLES):
        ensemble = cxsim.replicate(dataclasses.replace(cfg, seed=seed), REPLICATIONS,
                                   progress=False)
        row = ensemble.table(["clv_mean"]).iloc[0]
        assert row.n == REPLICATIONS
        covered.append(row.ci_low <= truth <= row.ci_high)
    coverage = float(np.mean(covered))
    assert 0.88 <= coverage <= 0.99, f"95% CI covered E[CLV] = {truth:.4g} in {coverage:.0%}"
