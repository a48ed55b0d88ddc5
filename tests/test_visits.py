"""The per-visit output (``sim.record_visits``): the run as an event log, one row per visit.

Its times are walked again from each walk's keyed draws, need and waits
(``cxsim.simulation.walks.visit_times``), so the checks here hold the replay to the run: the
counts per touchpoint are the touchpoint table's, every walk's last end is the end the run
recorded, and the service times have the journey's means.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

import cxsim
from cxsim.simulation.experiment import simulated
from tests.test_outcomes import labelled

OVERRIDES = ["scenario=solo", "market.size=2000", "sim.years=1", "sim.warmup_years=0",
             "sim.record_visits=true", "sim.record_journeys=true"]


@pytest.fixture(scope="module")
def run() -> cxsim.Results:
    return cxsim.run(cxsim.compose(OVERRIDES))


def test_off_by_default_and_no_table() -> None:
    results = cxsim.run(cxsim.compose(["scenario=solo", "market.size=200", "sim.years=0.2"]))
    assert results.visits is None


def test_counts_per_touchpoint_are_the_touchpoint_tables(run: cxsim.Results) -> None:
    counted = run.visits.groupby("touchpoint", observed=True).size()
    table = run.touchpoints.set_index("touchpoint").visits
    assert counted.reindex(table.index, fill_value=0).tolist() == table.tolist()
    assert run.visits.case.nunique() == len(run.journeys)


def test_visits_are_in_time_order_and_end_where_the_walk_ended(run: cxsim.Results) -> None:
    v = run.visits
    assert (v.end >= v.start).all()
    same = v.case.to_numpy()[1:] == v.case.to_numpy()[:-1]
    assert (v.start.to_numpy()[1:][same] >= v.end.to_numpy()[:-1][same]).all()
    assert (np.diff(v.groupby("case", sort=True).start.first().to_numpy()) >= 0).all()
    walks = v.groupby("case").agg(client=("client", "first"), ended=("end", "last"))
    ours = walks.sort_values(["client", "ended"]).to_numpy()
    theirs = run.journeys[["client", "ended_at"]].sort_values(["client", "ended_at"]).to_numpy()
    np.testing.assert_array_equal(ours, theirs)  # the replay ends exactly where the run did


def test_service_times_have_the_journeys_means(run: cxsim.Results) -> None:
    journey = cxsim.model.journey.load_journey("professional_services",
                                               cxsim.config.config_dir() / "journey")
    v = run.visits.assign(service=run.visits.end - run.visits.start)
    checked = 0
    for name, group in v.groupby("touchpoint", observed=True):
        mean = journey.service_days[journey.index_of(name)]
        se = group.service.std(ddof=1) / math.sqrt(len(group))
        assert abs(group.service.mean() - mean) <= 4 * se, (name, group.service.mean(), mean)
        checked += bool(journey.staffed[journey.index_of(name)])
    assert checked >= 3  # staffed touchpoints among them


def test_each_walks_outcome_is_its_exits(tmp_path) -> None:
    path = tmp_path / "loan.yaml"
    path.write_text(yaml.safe_dump(labelled(), sort_keys=False))
    results = cxsim.run(cxsim.compose([
        f"firms.acme.journey={path}", "scenario=solo", "market.size=300", "sim.years=0.5",
        "sim.record_visits=true"]))
    last = results.visits.groupby("case").agg(touchpoint=("touchpoint", "last"),
                                              outcome=("outcome", "first"))
    expected = last.touchpoint.astype(str).map(
        {"approve": "purchase", "decline": "no_purchase", "cancel": "walk_away",
         "apply": "walk_away"})
    assert (last.outcome.astype(str) == expected).all()
    counts = last.outcome.value_counts()
    assert counts["purchase"] == results.timeseries.purchases.sum()
    assert counts["walk_away"] == results.timeseries.abandoned.sum()


def test_replications_side_by_side_and_saved(tmp_path) -> None:
    from cxsim.config import to_config

    cfg = to_config(cxsim.compose(["scenario=solo", "market.size=300", "sim.years=0.3",
                                   "sim.record_visits=true"]))
    both = list(simulated(cfg, 2))
    alone = cxsim.run(cfg, replication=1)
    pd.testing.assert_frame_equal(both[1].visits.drop(columns="run_id"),
                                  alone.visits.drop(columns="run_id"))
    assert both[0].visits.case.iloc[0] == 0 and both[1].visits.case.iloc[0] == 0
    folder = alone.save(tmp_path / "run")
    again = cxsim.Results.load(folder)
    pd.testing.assert_frame_equal(again.visits, alone.visits)
    plain = cxsim.run(cxsim.compose(["scenario=solo", "market.size=100", "sim.years=0.1"]))
    assert cxsim.Results.load(plain.save(tmp_path / "plain")).visits is None


def test_two_firms_and_a_warm_up() -> None:
    """Global node numbers of two firms, and the warm-up: the touchpoint table counts the
    visits of walks that end after it, the visits table every evaluated walk's."""
    results = cxsim.run(cxsim.compose(["scenario=duel", "market.size=1500", "sim.years=0.6",
                                       "sim.warmup_years=0.2", "sim.record_visits=true",
                                       "sim.record_journeys=true"]))
    v = results.visits
    assert set(v.firm.astype(str)) == set(results.summary.firm)
    warmup = results.meta["warmup_days"]
    ended = v.groupby("case").end.transform("last")
    counted = v[ended >= warmup].groupby(["firm", "touchpoint"], observed=True).size()
    table = results.touchpoints.set_index(["firm", "touchpoint"]).visits
    assert counted.reindex(table.index, fill_value=0).tolist() == table.tolist()
    walks = v.groupby("case").agg(client=("client", "first"), firm=("firm", "first"),
                                  ended=("end", "last"))
    ours = walks.assign(firm=walks.firm.astype(str)).sort_values(["client", "ended"])
    theirs = results.journeys[["client", "firm", "ended_at"]].sort_values(["client",
                                                                          "ended_at"])
    np.testing.assert_array_equal(ours.to_numpy(), theirs.to_numpy())
