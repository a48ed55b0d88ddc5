r"""A staffed touchpoint against queueing theory (M/M/c, Erlang C, Little's law).

Many clients each needing the touchpoint after exponential idle times form a
Poisson arrival stream (the finite-source correction is below 1e-3 here);
service is exponential with c servers. With offered load
:math:`a = \lambda/\mu` and utilisation :math:`\rho = a/c`, Erlang's C formula
gives the probability of waiting, the mean wait and the time-average number
waiting

.. math::
    C(c, a) = \frac{\frac{a^c}{c!}\frac{1}{1-\rho}}
              {\sum_{k<c}\frac{a^k}{k!} + \frac{a^c}{c!}\frac{1}{1-\rho}},
    \qquad W_q = \frac{C(c, a)}{c\mu - \lambda},
    \qquad L_q = C(c, a)\,\frac{\rho}{1-\rho},

and the time-average number in the system is :math:`L = L_q + a`. The two
closed forms obey Little's law :math:`L_q = \lambda W_q`; the engine's
figures are checked against each closed form separately, the waits from the
touchpoint table and the queue length from the journey records, so Little's
law is tested rather than assumed.

Why the queue length is measured independently of the waits: the station
keeps no queue (FIFO service starts follow from the Kiefer-Wolfowitz
recursion), and its own ``mean_queue_length`` is the sum of the clipped
waits over the window, :math:`\lambda W` by construction. Here the number
in the system :math:`N(t)` is rebuilt from the journey records alone, each
walk of the one-touchpoint journey being one visit that arrives at
``need_at`` and leaves at ``ended_at``, with no recorded wait used;
with FIFO and c servers a client waits only while every server is busy, so
the number waiting is :math:`\max(N(t) - c, 0)`, integrated exactly over
the window. It agrees with :math:`\lambda W` only if the station is work
conserving and serves at the rate it should, and it is compared with the
closed form, not with :math:`\lambda W`: a wrong number of servers, a wrong
service time or a lost client makes it fail.

References
----------
Erlang, A. K. (1917). Solution of some problems in the theory of
probabilities of significance in automatic telephone exchanges. *Elektroteknikeren* 13.
Little, J. D. C. (1961). A proof for the queuing formula L = lambda W.
*Operations Research* 9(3), 383-387.
Kleinrock, L. (1975). *Queueing Systems, Volume 1: Theory*. Wiley, section 3.5
(M/M/m: the probability of queueing and the mean number in queue).
Gross, D., Shortle, J. F., Thompson, J. M. & Harris, C. M. (2008).
*Fundamentals of Queueing Theory*, 4th ed., Wiley, section 2.3
(:math:`L_q = C(c, a)\rho/(1-\rho)` in their notation).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.validation.conftest import replicate, within_bound

CLIENTS = 20_000
SERVICE_DAYS = 0.01
SERVERS = 2
# walks still at the desk at the horizon are not evaluated, so not in the journey
# records: the queue length is integrated up to a day before it, when a client
# still there would have spent over 100 service times at the desk (probability
# below exp(-40) at these loads)
HORIZON_MARGIN_DAYS = 1.0


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C)."""
    rho = offered / servers
    top = offered**servers / math.factorial(servers) / (1.0 - rho)
    return top / (sum(offered**k / math.factorial(k) for k in range(servers)) + top)


def mean_number_waiting(servers: int, offered: float) -> float:
    r"""Time-average number waiting in M/M/c: :math:`L_q = C(c, a)\,\rho/(1-\rho)`."""
    rho = offered / servers
    return erlang_c(servers, offered) * rho / (1.0 - rho)


def time_average_numbers(arrived: np.ndarray, left: np.ndarray, servers: int, low: float,
                         high: float) -> tuple[float, float]:
    """Time averages over [low, high] of the number waiting and the number in the system.

    *arrived* and *left* are each visit's arrival and departure days. The number
    in the system N(t) steps up at each arrival and down at each departure;
    with FIFO and *servers* servers, max(N - servers, 0) of them wait.
    """
    times = np.concatenate([arrived, left])
    steps = np.concatenate([np.ones(arrived.size), -np.ones(left.size)])
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    in_system = np.cumsum(steps)[:-1]  # from times[k] to times[k + 1]
    span = np.diff(np.clip(times, low, high))
    waiting = np.maximum(in_system - servers, 0.0)
    return float(waiting @ span) / (high - low), float(in_system @ span) / (high - low)


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
        "sim.record_journeys=true",
    ]
    return arrivals_per_day, replicate(overrides, reps)


@pytest.mark.validation
@pytest.mark.parametrize(("utilisation", "years", "reps"), [(0.5, 1.0, 20), (0.8, 5.0, 12)])
def test_waits_and_queue_length_match_erlang_c(one_touchpoint, utilisation, years, reps):
    arrivals, runs = _runs(one_touchpoint, utilisation, years, reps)
    offered = arrivals * SERVICE_DAYS
    p_wait = erlang_c(SERVERS, offered)
    mean_wait = p_wait / (SERVERS / SERVICE_DAYS - arrivals)
    waiting = mean_number_waiting(SERVERS, offered)
    desk = [r.touchpoints.iloc[0] for r in runs]
    within_bound(np.array([d.mean_wait for d in desk]), mean_wait, 0.05)
    within_bound(np.array([d.share_waited for d in desk]), p_wait, 0.05)
    # the touchpoint table's queue length (lambda W by construction) against L_q
    within_bound(np.array([d.mean_queue_length for d in desk]), waiting, 0.05)

    # L_q and L from the journey records' arrival and departure days alone
    numbers = []
    for results in runs:
        walks = results.journeys
        assert (walks.visits == 1).all() and walks.completed.all()
        numbers.append(time_average_numbers(
            walks.need_at.to_numpy(), walks.ended_at.to_numpy(), SERVERS,
            results.meta["warmup_days"], results.meta["horizon_days"] - HORIZON_MARGIN_DAYS))
    numbers = np.array(numbers)
    queue, queue_4se = within_bound(numbers[:, 0], waiting, 0.05)
    system, system_4se = within_bound(numbers[:, 1], waiting + offered, 0.05)
    print(f"rho {utilisation}: L_q {queue:.4f} +- {queue_4se:.4f} (closed form {waiting:.4f}); "
          f"L {system:.4f} +- {system_4se:.4f} (closed form {waiting + offered:.4f})")
