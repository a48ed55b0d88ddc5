"""A reference walk: the model of ``docs/model.md`` written the textbook way.

One SimPy process per client, one event per touchpoint, a ``simpy.Resource``
per staffed touchpoint, and each walk evaluated the moment it ends with the
functions of ``cxsim.model.psychology`` in the order the engine applies them. It
imports nothing from the engine (``cxsim.simulation.engine``, ``cxsim.model.market``,
``cxsim.simulation.results``): it is the spec in executable form, slow but obviously
right, for ``tests/test_differential.py`` to compare the engine with. Its
random streams are its own; only the statistics must agree.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from cxsim.config import Config, config_dir
from cxsim.model import psychology as psy
from cxsim.model.firm import (
    acquisition_hazard,
    declared_cx_share,
    effective_pressure,
    frontline_level,
    funding_level,
    staff_capacity,
)
from cxsim.model.journey import load_journey

DAYS_PER_YEAR = 365.25


def simulate_reference(cfg: Config, seed: int) -> dict:
    """Simulate one firm and one segment; return the statistics the engine's Results report.

    Returns ``touchpoints`` (names), ``visits``, ``mean_wait`` (NaN where
    unstaffed), ``mean_affect`` per touchpoint (walks that ended after the
    warm-up and by the horizon), ``purchases_per_client`` (purchases over
    every client ever acquired, initial ones included) and ``churned`` (per
    month of the walk's end).
    """
    assert len(cfg.firms) == 1 and len(cfg.market.segments) == 1, "one firm, one segment"
    # Nor does it model word of mouth or a delayed first need, should the engine gain them.
    assert getattr(getattr(cfg, "network", None), "kind", "none") == "none", "no word of mouth"
    assert getattr(cfg.market, "first_need_at_acquisition", True), "buys at acquisition"
    # The firm as its strategy declares it, for good: no quarterly review, no paid acquisition.
    assert not cfg.management.review and cfg.firms[next(iter(cfg.firms))].acquisition_share == 0
    (firm,) = cfg.firms.values()
    (segment,) = cfg.market.segments.values()
    p, sim, market = cfg.psychology, cfg.sim, cfg.market
    journey = load_journey(firm.journey, config_dir() / "journey")
    rng = np.random.default_rng(seed)
    env = simpy.Environment()

    scale = market.size / journey.reference_clients if firm.scale_staff else 1.0
    desks = {
        i: simpy.Resource(env, firm.staff.get(name, staff_capacity(int(journey.staff[i]), scale)))
        for i, name in enumerate(journey.touchpoints) if journey.staffed[i]
    }
    m = cfg.management
    split = declared_cx_share(firm.acquisition_share, firm.alignment, m.misaligned_cx_share)
    funding = funding_level(firm.budget_share * split, m.funding_half_share)
    pressure = effective_pressure(firm.sales_pressure, firm.incentive == "transactions",
                                  firm.incentive_granularity, m.incentive_motivation)
    staffed_shift = (p.frontline_gain * (frontline_level(firm.will, m.initial_skill) - 0.5)
                     - p.pressure_quality_cost * pressure)
    personal = (p.personal_gain * firm.offer.get("relationship", 0.0) * firm.will
                * segment.identifiability)
    shift = np.where(journey.staffed, staffed_shift, 0.0) + personal
    noise_sd = p.perception_noise_sd * (1.5 - firm.being)
    horizon, warmup = sim.years * DAYS_PER_YEAR, sim.warmup_years * DAYS_PER_YEAR
    n_months = max(1, math.ceil(horizon / sim.days_per_month - 1e-9))
    n = journey.n_touchpoints
    visits, wait_sum, affect_sum = np.zeros(n), np.zeros(n), np.zeros(n)
    churned = np.zeros(n_months)
    totals = {"clients": 0, "purchases": 0}

    def walk():
        """One walk from the entry: returns (touchpoints visited, waits, completed)."""
        node, nodes, waits = journey.entry, [], []
        while True:
            if journey.staffed[node]:
                arrived = env.now
                with desks[node].request() as turn:
                    yield turn
                    waits.append(env.now - arrived)
                    yield env.timeout(rng.exponential(journey.service_days[node]))
            else:
                waits.append(0.0)
                yield env.timeout(rng.exponential(journey.service_days[node]))
            nodes.append(node)
            if journey.is_exit[node]:
                return nodes, waits, True
            nxt = journey.step(node, rng.random())
            if nxt < 0:
                return nodes, waits, False  # abandoned: no purchase
            yield env.timeout(journey.delay_days[node][journey.next_touchpoints[node].index(nxt)])
            node = nxt

    def client(acquired: bool):
        """A client's life: needs, walks, feelings, purchases, until it churns."""
        totals["clients"] += 1
        expectation, trust, attitude = segment.initial_expectation, p.initial_trust, 0.0
        if not acquired:  # an acquired client buys at once
            yield env.timeout(rng.exponential(segment.mean_days_between_needs))
        while True:
            nodes, waits, completed = yield env.process(walk())
            nodes, waits, k = np.array(nodes), np.array(waits), len(nodes)
            start = np.zeros(1, dtype=np.int64)
            noise = rng.normal(0.0, noise_sd, k)
            quality = psy.perceived_quality(journey.base_quality[nodes] + shift[nodes], funding,
                                            waits, noise,
                                            p.funding_gain, p.wait_penalty, p.wait_tolerance_days)
            failed = rng.random(k) < journey.failure_probability[nodes]
            recovered = failed & (rng.random(k) < firm.power)
            quality = psy.failure_outcome(quality, failed, recovered, p.failure_penalty,
                                          p.recovery_share)
            gap = psy.disconfirmation(quality, expectation)
            felt = psy.affect(gap, quality, p.loss_aversion, p.affect_sensitivity,
                              p.affect_level_weight, p.reference_quality)
            hygiene, delighter = journey.hygiene[nodes], journey.delighter[nodes]
            basics = np.repeat(psy.hygiene_met(gap, hygiene, start), k)
            felt = psy.kano_shape(felt, hygiene, delighter, basics, p.kano_strong, p.kano_weak)
            memory = psy.peak_end_memory(felt, start)[0]
            expectation = psy.adapt_expectation(expectation, quality.mean(), p.expectation_rate)
            trust = psy.update_trust(trust, memory, p.trust_gain, p.trust_loss)
            attitude = psy.update_attitude(attitude, memory, p.attitude_rate)
            psy.nps_answer(memory, attitude, trust, rng.normal(0.0, p.nps_noise_sd),
                           p.nps_neutral, p.nps_slope)  # asked, not compared here
            totals["purchases"] += completed
            if env.now >= warmup:
                np.add.at(visits, nodes, 1.0)
                np.add.at(wait_sum, nodes, waits)
                np.add.at(affect_sum, nodes, felt)
            if p.emotions:
                churn = psy.churn_probability(memory, trust, p.base_churn, p.churn_memory_weight,
                                              p.churn_trust_weight, segment.switching_cost)
            else:
                churn = p.base_churn
            if rng.random() < churn:
                churned[min(int(env.now // sim.days_per_month), n_months - 1)] += 1
                return
            yield env.timeout(rng.exponential(segment.mean_days_between_needs))

    def acquisition():
        """Gillespie: the next conversion at the pool's total hazard, a prospect at random."""
        hazard = acquisition_hazard(0.0, market.organic_acquisition_per_year,
                                    market.max_paid_acquisition_per_year,
                                    market.acquisition_spend_scale)
        while prospects and hazard > 0.0:
            yield env.timeout(rng.exponential(1.0 / (hazard * len(prospects))))
            j = rng.integers(len(prospects))
            prospects[j] = prospects[-1]  # the chosen prospect leaves the pool
            prospects.pop()
            env.process(client(acquired=True))

    order = rng.permutation(market.size)
    n_initial = int(round(firm.initial_share * market.size))
    prospects = order[n_initial:].tolist()
    for _ in range(n_initial):
        env.process(client(acquired=False))
    env.process(acquisition())
    env.run(until=horizon)

    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "touchpoints": list(journey.touchpoints),
            "visits": visits,
            "mean_wait": np.where(journey.staffed, wait_sum / visits, np.nan),
            "mean_affect": affect_sum / visits,
            "purchases_per_client": totals["purchases"] / totals["clients"],
            "churned": churned,
        }
