"""Reneging and varying delays: who stops waiting, where it goes, and that a run still
replays exactly (``cxsim.model.journey``, Reneging; ``delay_shape`` on an edge)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import cxsim
from cxsim.errors import ConfigError
from cxsim.model.journey import journey_from_mapping
from cxsim.simulation.experiment import simulated
from tests.test_outcomes import labelled


def impatient(patience: float | None = 0.02, staff: int = 1, shape: float | None = 0.6,
              walk_away: bool = True) -> dict[str, Any]:
    """The loan journey with a review that keeps clients waiting: one reviewer, a
    Weibull delay before the review, and clients who wait *patience* days on average."""
    data = labelled() if walk_away else labelled({})
    review = data["touchpoints"]["review"]
    review["staff"] = staff
    if patience is not None:
        review["patience_days"] = patience
    if shape is not None:
        data["edges"][0].update(delay_days=0.05, delay_shape=shape)
    return data


def _run(data: dict[str, Any], tmp_path, *more: str) -> cxsim.Results:
    path = tmp_path / "loan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return cxsim.run(cxsim.compose([
        f"firms.acme.journey={path}", "scenario=solo", "market.size=600", "sim.years=0.3",
        "sim.warmup_years=0", "firms.acme.scale_staff=false", "sim.record_visits=true",
        "sim.record_journeys=true", *more]))


@pytest.fixture(scope="module")
def reneged(tmp_path_factory) -> cxsim.Results:
    return _run(impatient(), tmp_path_factory.mktemp("reneging"))


def test_a_client_who_stops_waiting_walks_away_at_the_walk_away_exit(reneged) -> None:
    v = reneged.visits
    after_apply = v[v.case.duplicated(keep="first")]
    gave_up = after_apply[(after_apply.touchpoint == "cancel") & (after_apply.wait > 0)]
    assert len(gave_up) > 20  # one reviewer for this many clients: a queue, and reneging
    # a reneging client went straight from applying to the walk-away exit: no review
    cases = v[v.case.isin(gave_up.case)].groupby("case").touchpoint.apply(
        lambda t: tuple(t.astype(str)))
    assert set(cases) == {("apply", "cancel")}
    assert (v[v.case.isin(gave_up.case)].groupby("case").outcome.first() == "walk_away").all()
    # the cancel edge itself is never waited on: without patience no visit there waits
    assert (after_apply[(after_apply.touchpoint == "cancel") & ~after_apply.case.isin(
        gave_up.case)].wait == 0).all()


def test_the_replay_ends_where_the_run_ended_with_reneging_and_varying_delays(reneged) -> None:
    v = reneged.visits
    assert (v.end >= v.start).all()
    walks = v.groupby("case").agg(client=("client", "first"), ended=("end", "last"))
    ours = walks.sort_values(["client", "ended"]).to_numpy()
    theirs = reneged.journeys[["client", "ended_at"]].sort_values(["client", "ended_at"])
    np.testing.assert_array_equal(ours, theirs.to_numpy())


def test_a_reneging_client_takes_no_server_and_waits_its_patience(reneged) -> None:
    v = reneged.visits
    gave_up = v[(v.touchpoint == "cancel") & (v.wait > 0)]
    served = v[v.touchpoint == "review"]
    # one reviewer: services never overlap, so no one who left was served
    spans = served.sort_values("start")[["start", "end"]].to_numpy()
    assert (spans[1:, 0] >= spans[:-1, 1] - 1e-12).all()
    # exponential patience, mean 0.02 days: the mean wait of those who gave up is below
    # it (those with long patience were served), and every one waited a positive time
    assert 0 < gave_up.wait.mean() < 0.02


def test_without_patience_no_one_reneges_and_the_queue_is_longer(tmp_path, reneged) -> None:
    patient = _run(impatient(patience=None), tmp_path)
    v = patient.visits
    assert not ((v.touchpoint == "cancel") & (v.wait > 0)).any()
    waits = lambda r: r.visits[r.visits.touchpoint == "review"].wait.mean()  # noqa: E731
    assert waits(patient) > 2 * waits(reneged)


def test_patience_needs_a_walk_away_exit_which_no_edge_need_reach() -> None:
    with pytest.raises(ConfigError, match=r"touchpoint 'review'.*patience_days needs an exit "
                                          r"labelled 'outcome: walk_away'"):
        journey_from_mapping(impatient(walk_away=False), "loan.yaml")
    data = impatient()
    data["edges"] = [e for e in data["edges"] if e["to"] != "cancel"]
    assert data["edges"][-1]["to"] == "decline"
    data["edges"][-1]["probability"] += 0.2  # review -> decline takes cancel's share
    journey = journey_from_mapping(data, "loan.yaml")
    assert journey.walk_away_exit == journey.index_of("cancel")
    data["touchpoints"]["review"].pop("patience_days")
    with pytest.raises(ConfigError, match="not reachable from the entry 'apply'.*cancel"):
        journey_from_mapping(data, "loan.yaml")


def test_side_by_side_equals_alone(tmp_path) -> None:
    path = tmp_path / "loan.yaml"
    path.write_text(yaml.safe_dump(impatient(), sort_keys=False))
    cfg = cxsim.compose([f"firms.acme.journey={path}", "scenario=solo", "market.size=300",
                         "sim.years=0.2", "firms.acme.scale_staff=false"])
    from cxsim.config import to_config
    together = list(simulated(to_config(cfg), 2))
    for i in range(2):
        alone = cxsim.run(cfg, replication=i)
        pd.testing.assert_frame_equal(alone.timeseries, together[i].timeseries)


@pytest.mark.parametrize(("where", "key", "value", "rule"), [
    ("apply", "patience_days", 0.5, "only allowed when staffed is true"),
    ("review", "patience_days", 0.0, r"patience_days must be in \(0, 3650\]"),
    ("review", "patience_days", "long", "patience_days must be a number"),
])
def test_bad_patience_is_one_line_naming_the_touchpoint(where, key, value, rule) -> None:
    data = impatient()
    data["touchpoints"][where][key] = value
    with pytest.raises(ConfigError, match=rf"touchpoint '{where}'.*{rule}") as caught:
        journey_from_mapping(data, "loan.yaml")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [0.0, 25.0, -1.0, True])
def test_bad_delay_shape_is_one_line_naming_the_edge(value) -> None:
    data = impatient(shape=value)
    with pytest.raises(ConfigError, match=r"edge 'apply' -> 'review'.*delay_shape") as caught:
        journey_from_mapping(data, "loan.yaml")
    assert "\n" not in str(caught.value)


def test_shape_and_patience_are_kept_only_when_given() -> None:
    plain = journey_from_mapping(labelled(), "test")
    assert "delay_shape" not in plain.graph.edges["apply", "review"]
    assert "patience_days" not in plain.graph.nodes["review"]
    assert (plain.patience_days == 0).all() and plain.walk_away_exit == plain.index_of("cancel")
    shaped = journey_from_mapping(impatient(), "test")
    assert shaped.delay_shape[shaped.index_of("apply")] == [0.6]
    assert shaped.patience_days[shaped.index_of("review")] == 0.02
    assert shaped != plain


@pytest.mark.parametrize(("change", "rule"), [
    ({"delay_quantiles": [0.0, 1.0], "delay_days": 0.5}, "delay_quantiles and delay_days "
                                                           "exclude each other"),
    ({"delay_quantiles": [0.0, 1.0], "delay_shape": 0.5}, "delay_quantiles and delay_shape "
                                                            "exclude each other"),
    ({"delay_quantiles": [2.0, 1.0]}, "delay_quantiles must not decrease"),
    ({"delay_quantiles": [1.0]}, "delay_quantiles must be a list of 2 to 101"),
    ({"delay_quantiles": "0, 1"}, "delay_quantiles must be a list of 2 to 101"),
    ({"delay_quantiles": [0.0, -1.0]}, r"delay_quantiles must be in \[0, 3650\]"),
])
def test_bad_delay_quantiles_are_one_line_naming_the_edge(change, rule) -> None:
    data = impatient(shape=None)
    data["edges"][0].update(change)
    with pytest.raises(ConfigError, match=rf"edge 'apply' -> 'review'.*{rule}") as caught:
        journey_from_mapping(data, "loan.yaml")
    assert "\n" not in str(caught.value)


def test_quantiles_set_the_edges_mean_and_survive_graphml(tmp_path) -> None:
    from cxsim.model.journey import journey_to_graphml, load_journey
    data = impatient(shape=None)
    data["edges"][0]["delay_quantiles"] = [0.0, 0.01, 0.02, 0.5]
    journey = journey_from_mapping(data, "loan.yaml")
    assert journey.delay_days[journey.index_of("apply")][0] == pytest.approx(0.28 / 3)
    journey_to_graphml(journey, tmp_path / "loan.graphml")
    assert load_journey(str(tmp_path / "loan.graphml"), tmp_path) == journey
