r"""A staffed touchpoint whose clients renege, against the Erlang-A queue (M/M/c+M).

Poisson arrivals at rate :math:`\lambda`, :math:`c` servers with exponential service
at rate :math:`\mu`, FIFO, and each waiting client leaving when its exponential
patience (rate :math:`\theta`) runs out: the number in the system is a birth-death
process with birth rate :math:`\lambda` and death rate
:math:`\min(n, c)\mu + (n - c)^+\theta` in state :math:`n` (Palm 1943). Its stationary
distribution :math:`\pi` gives the time-average number waiting
:math:`L_q = \sum_n (n - c)^+ \pi_n` and, as waiting clients leave at rate
:math:`\theta` each, the share of arrivals who abandon,
:math:`P(\text{Ab}) = \theta L_q / \lambda` (Mandelbaum & Zeltyn 2007, section 3;
Garnett, Mandelbaum & Reiman 2002). The chain is solved numerically, truncated where
the mass left is below 1e-12.

The engine's two figures are measured independently: the share of walks that ended at
the walk-away exit, not served (the journey records), and the station's time-average
queue (each client's time in the queue, including the time of those who left). With
:math:`\rho = 1` the queue is stable only because clients leave.

References
----------
Palm, C. (1943). Intensitätsschwankungen im Fernsprechverkehr. *Ericsson Technics* 44.
Garnett, O., Mandelbaum, A. & Reiman, M. (2002). Designing a call center with impatient
customers. *Manufacturing & Service Operations Management* 4(3), 208-227.
Mandelbaum, A. & Zeltyn, S. (2007). Service engineering in action: the Palm/Erlang-A
queue, with applications to call centers. In *Advances in Services Innovations*, 17-45.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.validation.conftest import replicate, within_bound

CLIENTS = 20_000
SERVERS = 2
SERVICE_DAYS = 0.01
PATIENCE_DAYS = 0.01
ARRIVALS_PER_DAY = SERVERS / SERVICE_DAYS  # utilisation 1: stable only through reneging
HORIZON_MARGIN_DAYS = 1.0


def erlang_a(arrivals: float, servers: int, service_days: float, patience_days: float
             ) -> tuple[float, float]:
    """The share of arrivals who abandon and the time-average number waiting in M/M/c+M."""
    mu, theta = 1.0 / service_days, 1.0 / patience_days
    n = np.arange(1, 2000)
    deaths = np.minimum(n, servers) * mu + np.maximum(n - servers, 0) * theta
    weights = np.concatenate(([1.0], np.cumprod(arrivals / deaths)))
    assert weights[-1] / weights.sum() < 1e-12  # truncation
    pi = weights / weights.sum()
    waiting = float(np.maximum(np.arange(pi.size) - servers, 0) @ pi)
    return theta * waiting / arrivals, waiting


def _write(tmp_path, patience_days: float):
    path = tmp_path / "impatient.yaml"
    path.write_text(
        "name: impatient\nreference_clients: 1\nentry: desk\nexits: [desk, gone]\n"
        "touchpoints:\n"
        "  desk:\n    stage: support\n    channel: phone\n    staffed: true\n"
        f"    staff: {SERVERS}\n    patience_days: {patience_days}\n"
        f"    service_days: {SERVICE_DAYS}\n    base_quality: 0.7\n"
        "    failure_probability: 0.0\n"
        "  gone:\n    stage: support\n    channel: phone\n    service_days: 1.0e-9\n"
        "    base_quality: 0.7\n    failure_probability: 0.0\n    outcome: walk_away\n")
    return path


@pytest.mark.validation
def test_abandonment_and_queue_match_erlang_a(tmp_path) -> None:
    path = _write(tmp_path, PATIENCE_DAYS)
    runs = replicate([
        f"firms.acme.journey={path}", "network=none", "firms.acme.scale_staff=false",
        f"market.size={CLIENTS}",
        f"market.segments.core.mean_days_between_needs={CLIENTS / ARRIVALS_PER_DAY}",
        "firms.acme.initial_share=1", "firms.acme.acquisition_share=0", "scenario=solo",
        "management.review=false", "market.return_per_year=0",
        "market.organic_acquisition_per_year=0", "psychology.emotions=false",
        "psychology.base_churn=0", "sim.years=0.5", "sim.warmup_years=0.05",
        "sim.record_journeys=true"], 10)
    abandon, waiting = erlang_a(ARRIVALS_PER_DAY, SERVERS, SERVICE_DAYS, PATIENCE_DAYS)
    shares = []
    for results in runs:
        walks = results.journeys
        inside = (walks.need_at >= results.meta["warmup_days"]) & (
            walks.need_at < results.meta["horizon_days"] - HORIZON_MARGIN_DAYS)
        shares.append(float((~walks.completed[inside]).mean()))  # gone, not served
    shares = np.array(shares)
    share, share_4se = within_bound(shares, abandon, 0.05)
    queue, _ = within_bound(np.array([r.touchpoints.iloc[0].mean_queue_length for r in runs]),
                            waiting, 0.05)
    # the control: twice the patience is another queue, and the measurement tells them apart
    other, _ = erlang_a(ARRIVALS_PER_DAY, SERVERS, SERVICE_DAYS, 2 * PATIENCE_DAYS)
    assert abs(share - other) > share_4se, (share, other, share_4se)
    print(f"P(abandon) {share:.4f} +- {share_4se:.4f} (Erlang-A {abandon:.4f}; with twice "
          f"the patience {other:.4f}); L_q {queue:.4f} (Erlang-A {waiting:.4f})")
