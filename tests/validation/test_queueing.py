r"""A staffed touchpoint against queueing theory (M/M/c, Erlang C, Little's law).

Many clients each needing the touchpoint after exponential idle times form a
Poisson arrival stream (the finite-source correction is below 1e-3 here);
service is exponential with c servers. With offered load
:math:`a = \lambda/\mu` and utilisation :math:`\rho = a/c`, Erlang's C formula
gives the probability of waiting

.. math::
    C(c, a) = \frac{\frac{a^c}{c!}\frac{1}{1-\rho}}
              {\sum_{k<c}\frac{a^k}{k!} + \frac{a^c}{c!}\frac{1}{1-\rho}},
    \qquad W_q = \frac{C(c, a)}{c\mu - \lambda},

and Little's law :math:`L_q = \lambda W_q` links the time-average queue length
to the mean wait.

References
----------
Erlang, A. K. (1917). Solution of some problems in the theory of
probabilities of significance in automatic telephone exchanges. *Elektroteknikeren* 13.
Little, J. D. C. (1961). A proof for the queuing formula L = lambda W.
*Operations Research* 9(3), 383-387.
Gross, D., Shortle, J. F., Thompson, J. M. & Harris, C. M. (2008).
*Fundamentals of Queueing Theory*, 4th ed., Wiley, section 2.3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.validation.conftest import replicate, within_bound

CLIENTS = 20_000
SERVICE_DAYS = 0.01
SERVERS = 2


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C)."""
    rho = offered / servers
    top = offered**servers / math.factorial(servers) / (1.0 - rho)
    return top / (sum(offered**k / math.factorial(k) for k in range(servers)) + top)


def _runs(tmp_factory, utilisation: float, years: float, reps: int):
    arrivals_per_day = utilisation * SERVERS / SERVICE_DAYS
    path = tmp_factory(staffed=True, staff=SERVERS, service_days=SERVICE_DAYS)
    overrides = [
        f"firms.acme.journey={path}",
        "network=none",
        "firms.acme.scale_staff=false",
        f"market.size={CLIENTS}",
        f"market.segments.core.mean_days_between_needs={CLIENTS / arrivals_per_day}",
        "firms.acme.initial_share=1",
        "firms.acme.acquisition_share=0",
        "scenario=solo",
        "management.review=false",
        "market.return_per_year=0",
        "market.organic_acquisition_per_year=0",
        "psychology.emotions=false",
        "psychology.base_churn=0",
        f"sim.years={years}",
        "sim.warmup_years=0.05",
    ]
    return arrivals_per_day, replicate(overrides, reps)


@pytest.mark.validation
@pytest.mark.parametrize(("utilisation", "years", "reps"), [(0.5, 1.0, 20), (0.8, 5.0, 12)])
def test_waits_match_erlang_c_and_littles_law(one_touchpoint, utilisation, years, reps):
    arrivals, runs = _runs(one_touchpoint, utilisation, years, reps)
    offered = arrivals * SERVICE_DAYS
    p_wait = erlang_c(SERVERS, offered)
    mean_wait = p_wait / (SERVERS / SERVICE_DAYS - arrivals)
    desk = [r.touchpoints.iloc[0] for r in runs]
    within_bound(np.array([d.mean_wait for d in desk]), mean_wait, 0.05)
    within_bound(np.array([d.share_waited for d in desk]), p_wait, 0.05)
    for results, d in zip(runs, desk):
        measured_days = (results.meta["horizon_days"] - results.meta["warmup_days"])
        rate = d.visits / measured_days
        assert d.mean_queue_length == pytest.approx(rate * d.mean_wait, rel=0.02)
