r"""Word of mouth on a fully mixed market against the Bass diffusion model.

One firm; every client a promoter (NPS answer 10); nobody churns; a
prospect converts by itself at hazard *p* (per year) and after a
recommendation. On a ``complete`` network each adopter needs the firm at
rate :math:`\lambda`, passes on *m* messages per journey to uniformly drawn
others, and each message converts a prospect with probability *c*; so a
prospect's referral hazard is :math:`q F` with :math:`q = \lambda m c` and F the
adopted share. The adopted share then follows Bass (1969):

.. math::
    F(t) = \frac{1 - e^{-(p+q)t}}{1 + (q/p)\,e^{-(p+q)t}},
    \qquad t_{50} = \frac{\ln(2 + q/p)}{p+q}.

On a ring lattice or a small-world network the same p and q diffuse more
slowly, since messages fall on neighbours who have already adopted
(Rahmandad & Sterman 2008).

References
----------
Bass, F. M. (1969). A new product growth for model consumer durables.
*Management Science* 15(5), 215-227.
Rahmandad, H. & Sterman, J. (2008). Heterogeneity and network structure in
the dynamics of diffusion: comparing agent-based and differential equation
models. *Management Science* 54(5), 998-1014.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.validation.conftest import replicate, within_bound

CLIENTS = 5000
NEEDS_PER_YEAR = 6.0
CONVERSION = 0.1


def bass(t: np.ndarray, p: float, q: float) -> np.ndarray:
    decay = np.exp(-(p + q) * t)
    return (1.0 - decay) / (1.0 + (q / p) * decay)


def _overrides(path, p: float, q: float, years: float, network: str) -> list[str]:
    influence = q / (NEEDS_PER_YEAR * CONVERSION)
    return [
        f"firms.acme.journey={path}",
        f"network={network}",
        f"market.size={CLIENTS}",
        f"sim.years={years}",
        "sim.days_per_month=7",
        f"market.segments.core.mean_days_between_needs={365.25 / NEEDS_PER_YEAR}",
        f"market.segments.core.social_influence={influence}",
        f"market.referral_conversion={CONVERSION}",
        f"market.organic_acquisition_per_year={p}",
        "market.first_need_at_acquisition=false",
        "firms.acme.initial_share=0",
        "firms.acme.acquisition_share=0",
        "scenario=solo",
        "management.review=false",
        "market.return_per_year=0",
        "market.message_attitude_shift=0",
        "psychology.emotions=false",
        "psychology.base_churn=0",
        "psychology.nps_neutral=10",
        "psychology.nps_slope=0",
        "psychology.nps_noise_sd=0",
    ]


def _adoption(runs) -> tuple[np.ndarray, np.ndarray]:
    """Days and adopted share at each sample, one row per replication."""
    days = runs[0].timeseries.t_days.to_numpy() / 365.25
    shares = np.array([r.timeseries.active_clients.to_numpy() / CLIENTS for r in runs])
    return days, shares


def _half_time(days: np.ndarray, share: np.ndarray) -> float:
    """First time the adopted share reaches 1/2, by linear interpolation."""
    k = int(np.argmax(share >= 0.5))
    assert share[k] >= 0.5, "the market never reached half adoption"
    if k == 0:
        return float(days[0])
    return float(np.interp(0.5, share[k - 1 : k + 1], days[k - 1 : k + 1]))


CASES = [pytest.param(0.3, 3.0, 1.5, id="p0.3-q3"), pytest.param(0.1, 2.0, 2.5, id="p0.1-q2")]


@pytest.mark.validation
@pytest.mark.parametrize(("p", "q", "years"), CASES)
def test_complete_network_follows_bass(one_touchpoint, p, q, years):
    path = one_touchpoint(staffed=False)
    runs = replicate(_overrides(path, p, q, years, "complete"), 24)
    days, shares = _adoption(runs)
    truth = bass(days, p, q)
    t50 = np.log(2.0 + q / p) / (p + q)
    for fraction in (0.5, 1.0, 1.5):
        k = int(np.argmin(np.abs(days - fraction * t50)))
        within_bound(shares[:, k], truth[k], 0.015 / truth[k])
    within_bound(np.array([_half_time(days, s) for s in shares]), t50, 0.03)
    assert all((r.clients.source == "referral").any() for r in runs)


@pytest.mark.validation
@pytest.mark.parametrize("network", ["ring_lattice", "small_world"])
def test_clustered_networks_diffuse_later(one_touchpoint, network):
    path = one_touchpoint(staffed=False)
    p, q, years = 0.3, 3.0, 2.0
    complete = _adoption(replicate(_overrides(path, p, q, years, "complete"), 8))
    clustered = _adoption(replicate(_overrides(path, p, q, years, network), 8))
    later = np.array([_half_time(clustered[0], s) for s in clustered[1]])
    earlier = np.array([_half_time(complete[0], s) for s in complete[1]])
    difference = later.mean() - earlier.mean()
    se = np.sqrt(later.var(ddof=1) / later.size + earlier.var(ddof=1) / earlier.size)
    assert difference > 4 * se, (difference, se)
