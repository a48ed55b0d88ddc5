"""The engine on small markets: it runs, it is reproducible, it respects its inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import cxsim
from cxsim.config import to_config
from cxsim.simulation.engine import simulate_replications
from cxsim.simulation.results import TABLES
from cxsim.streams import KEYED, STREAMS, client_streams, root_seed, spawn_streams, stream_keys
from tests.validation.conftest import within_bound


def _frames(results):
    return {name: getattr(results, name) for name in ("timeseries", "clients", "touchpoints",
                                                      "summary")}


def test_same_seed_gives_identical_results(small_cfg):
    a, b = cxsim.run(small_cfg), cxsim.run(small_cfg)
    for name, frame in _frames(a).items():
        pd.testing.assert_frame_equal(frame, _frames(b)[name], check_exact=True)


def test_booking_evaluated_walks_early_changes_no_figure(small_cfg, monkeypatch):
    """A large market books its ledgers before the month's sample; the books must not care."""
    at_samples = cxsim.run(small_cfg)
    monkeypatch.setattr("cxsim.simulation.books.LEDGER_VISITS", 50)
    early = cxsim.run(small_cfg)
    for name, frame in _frames(at_samples).items():
        pd.testing.assert_frame_equal(frame, _frames(early)[name], check_exact=False,
                                      rtol=1e-9)


def test_growing_the_walks_in_flight_changes_no_figure(small_cfg, monkeypatch):
    """The compiled loop (cxsim.simulation.visits) starts with room for 256 walks in flight and
    4,096 visits and doubles what fills up. Started with room for one of each, its slots, heap,
    buffers and visit pool grow many times, and keeping only 2 free visits, many stretches find
    too little room and are stored later from their draws; the run must not notice."""
    roomy = cxsim.run(small_cfg)
    monkeypatch.setattr("cxsim.simulation.visits.Visits.START", (1, 1))
    monkeypatch.setattr("cxsim.simulation.visits.Visits.ROOM", 2)
    grown = cxsim.run(small_cfg)
    for name, frame in _frames(roomy).items():
        pd.testing.assert_frame_equal(frame, _frames(grown)[name], check_exact=True)



LOOPS = """
    name: loops
    reference_clients: 500
    entry: faq
    exits: [done]
    touchpoints:
      faq: {stage: awareness, channel: web, service_days: 0.01, base_quality: 0.7}
      desk: {stage: purchase, channel: phone, staffed: true, staff: 2, service_days: 0.2,
             base_quality: 0.7}
      help: {stage: support, channel: web, service_days: 0.01, base_quality: 0.7}
      done: {stage: renewal, channel: web, service_days: 0.01, base_quality: 0.7}
    edges:
      - {from: faq, to: faq, probability: 0.85, delay_days: 0.01}
      - {from: faq, to: desk, probability: 0.15, delay_days: 0.1}
      - {from: desk, to: help, probability: 1.0, delay_days: 0.1}
      - {from: help, to: help, probability: 0.8, delay_days: 0.01}
      - {from: help, to: done, probability: 0.2, delay_days: 0.01}
"""


def test_stretches_stored_later_change_no_figure(tmp_path, monkeypatch):
    """Unstaffed loops make stretches of many visits. Keeping only 2 free visits before each
    event, a stretch often finds too little room: it is walked on, and its visits are stored
    once the pool has grown, walked again from its draws. The run must not notice."""
    from tests.conftest import write_journey

    path = write_journey(tmp_path, "loops", LOOPS)
    cfg = cxsim.compose(["scenario=solo", f"firms.acme.journey={path}", "market.size=500",
                         "sim.years=0.5", "sim.record_journeys=true"])
    roomy = cxsim.run(cfg)
    refills = []
    refill = cxsim.simulation.visits.refill
    monkeypatch.setattr("cxsim.simulation.visits.refill",
                        lambda *a: refills.append(1) or refill(*a))
    monkeypatch.setattr("cxsim.simulation.visits.Visits.START", (1, 1))
    monkeypatch.setattr("cxsim.simulation.visits.Visits.ROOM", 2)
    tight = cxsim.run(cfg)
    assert refills  # the path was taken
    for name, frame in {**_frames(roomy), "journeys": roomy.journeys}.items():
        other = tight.journeys if name == "journeys" else _frames(tight)[name]
        pd.testing.assert_frame_equal(frame, other, check_exact=True)

SIDE_BY_SIDE = {
    "duel, returns, journeys": ["market.size=700", "sim.years=1", "market.return_per_year=1",
                                "sim.record_journeys=true"],
    "solo, complete network": ["scenario=solo", "market.size=500", "sim.years=1",
                               "network=complete"],
    "recurring_b2b, shock and workshop": [
        "market=recurring_b2b", "market.size=600", "sim.years=1", "+events.s.kind=shock",
        "+events.s.start_month=3", "+events.s.months=3", "+events.s.need_rate_factor=0.7",
        "+events.w.kind=workshop", "+events.w.start_month=5", "+events.w.firm=client_first"],
}


@pytest.mark.parametrize("overrides", SIDE_BY_SIDE.values(), ids=SIDE_BY_SIDE.keys())
def test_replications_side_by_side_are_the_runs_alone(overrides):
    """One engine running replications 2, 0 and 5 side by side gives each one the results
    of its own run, bit for bit, every table."""
    cfg = to_config(cxsim.compose(overrides))
    together = simulate_replications(cfg, [2, 0, 5])
    for replication, results in zip([2, 0, 5], together):
        alone = cxsim.run(cfg, replication=replication)
        for name in TABLES:
            if getattr(alone, name) is not None:
                pd.testing.assert_frame_equal(getattr(results, name), getattr(alone, name),
                                              check_exact=True, obj=name)


def test_replications_side_by_side_need_each_their_own_keys(monkeypatch):
    """Negative control: were every block keyed as block 0, replications after the first
    would draw another client's numbers, and the comparison above would fail."""
    cfg = to_config(cxsim.compose(SIDE_BY_SIDE["duel, returns, journeys"]))
    monkeypatch.setattr("cxsim.streams.client_streams",
                        lambda stream, first, size: client_streams(stream, 0, size))
    second = simulate_replications(cfg, [2, 0])[1]
    assert not second.clients.equals(cxsim.run(cfg, replication=0).clients)


def test_different_seed_gives_different_results(small_cfg):
    other = cxsim.compose(["market.size=2000", "sim.years=1", "seed=1"])
    a, b = cxsim.run(small_cfg), cxsim.run(other)
    assert not a.clients.clv.equals(b.clients.clv)


def test_replication_zero_is_run_and_others_differ(small_cfg):
    zero = cxsim.run(small_cfg, replication=0)
    one = cxsim.run(small_cfg, replication=1)
    assert zero.meta["replication"] == 0 and one.meta["replication"] == 1
    assert not zero.timeseries.revenue.equals(one.timeseries.revenue)


_SCRIPT = """
import json, sys, cxsim
r = cxsim.run(cxsim.compose(["market.size=1500", "sim.years=0.5", "seed=3"]))
print(json.dumps({"clv": r.clients.clv.round(12).tolist(),
                  "revenue": r.timeseries.revenue.tolist(),
                  "affect": r.touchpoints.mean_affect.round(12).tolist()}))
"""


def test_identical_across_processes_with_different_hash_seeds():
    outputs = []
    for hash_seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                              text=True, check=True)
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]


def test_streams_are_spawned_in_a_fixed_order():
    first = spawn_streams(root_seed(5, 2))
    again = spawn_streams(root_seed(5, 2))
    assert list(first) == list(STREAMS)
    for name in STREAMS:
        assert first[name].random() == again[name].random()
    assert first["population"].random() != first["network"].random()
    keys = stream_keys(root_seed(5, 2))
    assert list(keys) == list(KEYED) and keys == stream_keys(root_seed(5, 2))
    assert len(set(keys.values())) == len(KEYED)


def test_visits_follow_the_journey_routing():
    """Visits per touchpoint per walk match the absorbing chain, over replications.

    Each replication gives, per touchpoint, visits per visit to the entry (one
    per walk) over the walks ended after warm-up; the SE is the spread of
    these ratios across replications, not a Poisson guess (with the chat ->
    app loop and a ratio of correlated counts, the spread measured was 0.3
    to 0.9 times the Poisson SE). The market is stationary (no acquisition, churn
    or talk, a warm-up longer than a walk): with a growing client base the
    horizon cuts off the long walks still under way and keeps the short ones,
    which biased app_use by -0.4% at one year (4.5 SE of 10 replications).
    """
    from cxsim.config import config_dir
    from cxsim.model.journey import load_journey

    cfg = cxsim.compose(["scenario=solo", "market.size=4000", "sim.years=1",
                         "sim.warmup_years=0.25", "firms.acme.journey=subscription",
                         "firms.acme.initial_share=1", "firms.acme.acquisition_share=0",
                         "market.organic_acquisition_per_year=0", "market.return_per_year=0",
                         "network=none", "psychology.emotions=false", "psychology.base_churn=0",
                         "management.review=false"])
    journey = load_journey("subscription", config_dir() / "journey")
    expected = journey.expected_visits()
    observed = []
    for replication in range(10):
        visits = cxsim.run(cfg, replication=replication).touchpoints.visits.to_numpy()
        observed.append(visits / visits[journey.entry])
    observed = np.array(observed)
    for node, name in enumerate(journey.touchpoints):
        if node == journey.entry:
            continue  # 1 by construction
        try:  # |mean - expected| <= 4 SE, and 4 SE within 3% of the expected visits
            within_bound(observed[:, node], expected[node], 0.03)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None


def test_more_staff_means_shorter_waits():
    base = ["scenario=solo", "market.size=3000", "sim.years=1", "firms.acme.journey=subscription"]
    lean = cxsim.run(cxsim.compose(base + ["+firms.acme.staff.support_chat=1"]))
    rich = cxsim.run(cxsim.compose(base + ["+firms.acme.staff.support_chat=6"]))
    wait = lambda r: r.touchpoints.set_index("touchpoint").mean_wait["support_chat"]  # noqa: E731
    assert wait(lean) > wait(rich)


def test_save_and_load_round_trip(small_cfg, tmp_path):
    results = cxsim.run(small_cfg)
    results.save(tmp_path / "run")
    back = cxsim.Results.load(tmp_path / "run")
    for name, frame in _frames(results).items():
        pd.testing.assert_frame_equal(frame, _frames(back)[name])
    assert back.meta == results.meta
    assert back.config == results.config


def test_the_version_is_the_packages():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert cxsim.__version__ == pyproject["project"]["version"]
