"""Outcome-labelled exits: a walk ends in a purchase, a finished walk without one (a declined
loan) or a walk-away (a cancellation), and only a purchase pays.

The simulated test routes walks through a journey whose probabilities give each outcome's
share in closed form; with churn off every walk is an independent draw of the same routing,
so the shares are binomial and are held within 4 SE of the closed form.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import cxsim
from cxsim.errors import ConfigError
from cxsim.model.journey import (
    NO_PURCHASE,
    PURCHASE,
    WALK_AWAY,
    journey_from_mapping,
    journey_to_graphml,
    load_journey,
)

APPLY_TO_REVIEW = 0.8  # the rest of the walks abandon at apply
REVIEW = {"approve": 0.5, "decline": 0.3, "cancel": 0.2}
SHARES = {  # closed form: each walk's outcome
    "purchase": APPLY_TO_REVIEW * REVIEW["approve"],
    "no_purchase": APPLY_TO_REVIEW * REVIEW["decline"],
    "walk_away": (1 - APPLY_TO_REVIEW) + APPLY_TO_REVIEW * REVIEW["cancel"],
}


def labelled(outcomes: dict[str, str] | None = None) -> dict[str, Any]:
    """apply -> review -> approve | decline | cancel, with the exits' outcomes."""
    outcomes = {"approve": "purchase", "decline": "no_purchase", "cancel": "walk_away"} \
        if outcomes is None else outcomes

    def touchpoint(stage: str, **more: Any) -> dict[str, Any]:
        return {"stage": stage, "channel": "web", "service_days": 0.01, "base_quality": 0.7,
                "failure_probability": 0.0, **more}

    touchpoints = {"apply": touchpoint("purchase"),
                   "review": touchpoint("purchase", staffed=True, staff=50)}
    for name in REVIEW:
        extra = {"outcome": outcomes[name]} if name in outcomes else {}
        touchpoints[name] = touchpoint("purchase", **extra)
    return {
        "name": "loan", "reference_clients": 2000, "entry": "apply",
        "exits": list(REVIEW), "touchpoints": touchpoints,
        "edges": [{"from": "apply", "to": "review", "probability": APPLY_TO_REVIEW},
                  *({"from": "review", "to": k, "probability": p} for k, p in REVIEW.items())],
    }


def test_outcomes_compile_and_default_to_purchase() -> None:
    journey = journey_from_mapping(labelled(), "test")
    codes = {journey.touchpoints[i]: int(journey.outcome[i]) for i in journey.exits}
    assert codes == {"approve": PURCHASE, "decline": NO_PURCHASE, "cancel": WALK_AWAY}
    plain = journey_from_mapping(labelled({}), "test")
    assert (plain.outcome == PURCHASE).all()
    assert "outcome" not in plain.graph.nodes["approve"]  # an unlabelled journey reads as before


@pytest.mark.parametrize("value", ["refund", 1, None, True])
def test_unknown_outcome_is_refused(value: Any) -> None:
    data = labelled()
    data["touchpoints"]["decline"]["outcome"] = value
    with pytest.raises(ConfigError, match=r"touchpoint 'decline'.*outcome must be one of "
                                          r"purchase, no_purchase, walk_away"):
        journey_from_mapping(data, "test")


def test_outcome_on_a_non_exit_is_refused() -> None:
    data = labelled()
    data["touchpoints"]["review"]["outcome"] = "no_purchase"
    with pytest.raises(ConfigError, match=r"touchpoint 'review'.*outcome is only allowed on "
                                          r"an exit"):
        journey_from_mapping(data, "test")


def test_outcomes_survive_yaml_and_graphml(tmp_path: Path) -> None:
    path = tmp_path / "loan.yaml"
    path.write_text(yaml.safe_dump(labelled(), sort_keys=False))
    journey = load_journey(str(path), tmp_path)
    out = tmp_path / "loan.graphml"
    journey_to_graphml(journey, out)
    again = load_journey(str(out), tmp_path)
    assert again == journey
    assert list(again.outcome) == list(journey.outcome)
    bad = out.read_text().replace(">no_purchase<", ">declined<")
    (tmp_path / "bad.graphml").write_text(bad)
    with pytest.raises(ConfigError, match="outcome must be one of"):
        load_journey(str(tmp_path / "bad.graphml"), tmp_path)


def _run(tmp_path: Path, data: dict[str, Any], clients: int = 2000) -> cxsim.Results:
    path = tmp_path / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return cxsim.run(cxsim.compose([
        f"firms.acme.journey={path}", "scenario=solo", "network=none",
        "firms.acme.initial_share=1", "firms.acme.acquisition_share=0",
        "management.review=false", "market.return_per_year=0",
        "market.organic_acquisition_per_year=0", f"market.size={clients}",
        "market.segments.core.mean_days_between_needs=20", "psychology.emotions=false",
        "psychology.base_churn=0", "sim.years=1", "sim.warmup_years=0",
        "sim.record_journeys=true"]))


def test_simulated_outcome_shares_match_the_closed_form(tmp_path: Path) -> None:
    results = _run(tmp_path, labelled())
    ts, walks = results.timeseries, results.journeys
    n = len(walks)
    purchases, abandoned = int(ts.purchases.sum()), int(ts.abandoned.sum())
    assert purchases == int(walks.completed.sum())  # the journeys' completed: a purchase
    observed = {"purchase": purchases, "walk_away": abandoned,
                "no_purchase": n - purchases - abandoned}
    for outcome, share in SHARES.items():
        se = math.sqrt(share * (1 - share) / n)
        assert abs(observed[outcome] / n - share) <= 4 * se, (outcome, observed[outcome] / n)
    # revenue only from purchases: the same amount for each (one segment, no levers moving)
    paid = ts.revenue.to_numpy()
    assert paid.sum() > 0
    np.testing.assert_allclose(paid, ts.purchases.to_numpy() * paid.sum() / purchases,
                               rtol=1e-9)


def test_declined_and_cancelled_walks_pay_nothing(tmp_path: Path) -> None:
    data = labelled({"approve": "no_purchase", "decline": "no_purchase", "cancel": "walk_away"})
    results = _run(tmp_path, data, clients=500)
    ts = results.timeseries
    assert ts.purchases.sum() == 0 and ts.revenue.sum() == 0 and ts.margin.sum() == 0
    assert not results.journeys.completed.any()
    n = len(results.journeys)
    share = SHARES["walk_away"]
    assert abs(ts.abandoned.sum() / n - share) <= 4 * math.sqrt(share * (1 - share) / n)
