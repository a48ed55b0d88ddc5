"""The engine against the reference walk (``tests/reference_walk.py``) on small markets.

The engine batches, buffers and computes ahead for speed; the reference does
the same model the textbook way (one SimPy process per client, one event per
touchpoint). Their random streams differ, so they are compared statistically:
R replications of each, and for every quantity the Welch statistic

    z = (mean_engine - mean_reference) / sqrt(se_engine^2 + se_reference^2)

must stay below the Student-t quantile (Welch-Satterthwaite degrees of
freedom) at ``1 - ALPHA / (2 m)``: Bonferroni over all *m* comparisons of the
file, so the family-wise false-alarm rate is at most ``ALPHA`` whatever the
streams. Compared per scenario: visits per touchpoint, mean wait at each
staffed touchpoint, mean affect per touchpoint, purchases per client and
churn in each month. Quantities with too little data (a touchpoint with
fewer than ``MIN_VISITS`` visits per replication, a month with fewer than
``MIN_CHURN`` churns per replication, no variation at all) are skipped but
still counted in *m*, which only makes the test more conservative; at least
80% of them must be made, so the test cannot pass by skipping.

A last test shows the threshold has teeth: a reference with no loss
aversion, or with half the staff at one touchpoint, fails it. Measured
otherwise (R as below): one fewer of 11 delivery staff, expectation_rate 0.3
instead of 0.2 or kano_weak 0.5 instead of 0.4 fail it too; loss_aversion 2.0
instead of 2.25, or base_churn 0.06 instead of 0.05, do not (monthly churn
counts are small). R = 12 and 10 keep the file near 40 s on one core.
Word of mouth, where the engine has it, is switched off: the reference has none.
"""

from __future__ import annotations

import dataclasses
import math
from functools import cache

import numpy as np
import pytest
from scipy.special import stdtrit

import cxsim
from cxsim.config import Config, config_dir, to_config
from cxsim.model.journey import load_journey
from tests.reference_walk import simulate_reference

ALPHA = 0.01  # family-wise false-alarm rate of the whole file
MIN_VISITS = 30  # per replication, for a touchpoint's mean wait and mean affect
MIN_CHURN = 1.0  # mean churns per replication, for a month's churn

# One firm as its strategy declares it (no quarterly review), gaining clients
# only organically, and no clients returning from outside the category: the
# reference models neither management nor returns.
STATIC = ["scenario=solo", "management.review=false", "firms.acme.acquisition_share=0",
          "market.return_per_year=0"]

# Two small markets with real queues and several touchpoints. Professional
# services: staff cut so that three desks run at utilisation ~0.55-0.8;
# subscription: a loop, a delighter and a warm-up, its chat at ~0.2.
SCENARIOS = {
    "professional_services": (12, [
        *STATIC, "firms.acme.journey=professional_services", "market.size=1500", "sim.years=1",
        "+firms.acme.staff.account_manager=2", "+firms.acme.staff.strategy_session=3",
        "+firms.acme.staff.delivery=11",
    ]),
    "subscription": (10, [
        *STATIC, "firms.acme.journey=subscription", "market.size=800", "sim.years=1",
        "sim.warmup_years=0.25", "market.segments.core.mean_days_between_needs=20",
        "firms.acme.initial_share=0.5",
    ]),
}
TEETH_REPLICATIONS = 4


@cache
def scenario(name: str) -> Config:
    """The scenario's config, word of mouth off where the engine has it (the reference has none)."""
    has_network = "network" in {f.name for f in dataclasses.fields(Config)}
    return to_config(cxsim.compose(SCENARIOS[name][1] + ["network.kind=none"] * has_network))


def n_comparisons(cfg: Config) -> int:
    """Comparisons made for one scenario, whether or not the data allow them."""
    journey = load_journey(next(iter(cfg.firms.values())).journey, config_dir() / "journey")
    months = max(1, math.ceil(cfg.sim.years * 365.25 / cfg.sim.days_per_month - 1e-9))
    return 2 * journey.n_touchpoints + int(journey.staffed.sum()) + 1 + months


@cache
def family_size() -> int:
    """*m*: every comparison of the file, for the Bonferroni correction."""
    return sum(n_comparisons(scenario(name)) for name in SCENARIOS)


def engine_statistics(results: cxsim.Results) -> dict:
    """The engine's Results in the reference's format."""
    tp = results.touchpoints
    return {
        "touchpoints": tp.touchpoint.tolist(),
        "visits": tp.visits.to_numpy(float),
        "mean_wait": np.where(tp.staffed, tp.mean_wait, np.nan),
        "mean_affect": tp.mean_affect.to_numpy(float),
        "purchases_per_client": results.clients.purchases.sum() / len(results.clients),
        "churned": results.timeseries.churned.to_numpy(float),
    }


@cache
def replications(name: str, reference: bool, perturbation: str = "") -> list[dict]:
    """R replications of a scenario: the engine's (``cxsim.run``) or the reference's."""
    reps, _ = SCENARIOS[name]
    cfg = scenario(name)
    if not reference:
        return [engine_statistics(cxsim.run(cfg, replication=i)) for i in range(reps)]
    if perturbation:
        cfg, reps = PERTURBATIONS[perturbation](cfg), TEETH_REPLICATIONS
    return [simulate_reference(cfg, seed=i) for i in range(reps)]


def compare(engine: list[dict], reference: list[dict]) -> list[tuple[str, float, float]]:
    """(quantity, z, critical value) for every comparison the data allow."""
    assert engine[0]["touchpoints"] == reference[0]["touchpoints"]
    names = engine[0]["touchpoints"]

    def stack(reps: list[dict], key: str) -> np.ndarray:
        return np.array([np.atleast_1d(r[key]) for r in reps], dtype=float)

    def label(key: str, k: int) -> str:
        if key == "churned":
            return f"churned[month {k}]"
        return key if key == "purchases_per_client" else f"{key}[{names[k]}]"

    visits = np.vstack([stack(engine, "visits"), stack(reference, "visits")]).min(axis=0)

    quantile = 1.0 - ALPHA / (2 * family_size())
    out = []
    for key in ("visits", "mean_wait", "mean_affect", "purchases_per_client", "churned"):
        a, b = stack(engine, key), stack(reference, key)
        for k in range(a.shape[1]):
            x, y = a[:, k], b[:, k]
            if np.isnan(x).any() or np.isnan(y).any():
                continue  # unstaffed (no wait) or never visited
            if key in ("mean_wait", "mean_affect") and visits[k] < MIN_VISITS:
                continue
            if key == "churned" and min(x.mean(), y.mean()) < MIN_CHURN:
                continue
            ve, vr = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
            if ve + vr == 0.0:
                continue
            df = (ve + vr) ** 2 / (ve**2 / (x.size - 1) + vr**2 / (y.size - 1))
            z = (x.mean() - y.mean()) / math.sqrt(ve + vr)
            out.append((label(key, k), z, float(stdtrit(df, quantile))))
    return out


def report(rows: list[tuple[str, float, float]]) -> str:
    return "\n".join(f"{label:40s} z = {z:+7.3f}  (|z| < {crit:.2f})" for label, z, crit in rows)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_agrees_with_reference_walk(name):
    rows = compare(replications(name, reference=False), replications(name, reference=True))
    assert len(rows) >= 0.8 * n_comparisons(scenario(name)), report(rows)
    failed = [row for row in rows if abs(row[1]) >= row[2]]
    assert not failed, f"engine and reference disagree (m = {family_size()}):\n{report(failed)}"


def _no_loss_aversion(cfg: Config) -> Config:
    return dataclasses.replace(cfg, psychology=dataclasses.replace(cfg.psychology,
                                                                   loss_aversion=1.0))


def _half_the_delivery_staff(cfg: Config) -> Config:
    (name, firm), = cfg.firms.items()
    staff = {**firm.staff, "delivery": firm.staff["delivery"] // 2}
    return dataclasses.replace(cfg, firms={name: dataclasses.replace(firm, staff=staff)})


PERTURBATIONS = {"no_loss_aversion": _no_loss_aversion,
                 "half_the_delivery_staff": _half_the_delivery_staff}


@pytest.mark.slow
@pytest.mark.parametrize("perturbation", list(PERTURBATIONS))
def test_a_wrong_reference_fails_the_comparison(perturbation):
    name = "professional_services"
    rows = compare(replications(name, reference=False),
                   replications(name, reference=True, perturbation=perturbation))
    assert any(abs(z) >= crit for _, z, crit in rows), report(rows)
