r"""A journey simulated, its visits read as an event log, and the journey discovered back.

Generating a log from a known model and asking whether discovery recovers that model is
the rediscoverability test of process discovery (van der Aalst 2016, *Process Mining*,
2nd ed., on the quality of discovered models); simulating a discovered model and comparing
it with a log is how discovered business-process simulation models are assessed
(Camargo, Dumas & González-Rojas 2020, SIMOD). Here the known model's figures are
recovered one by one, each against its own standard error.

Here the known model is a journey with loops, staffed touchpoints with queues, and three
labelled exits. cxsim runs it with ``sim.record_visits``; each staffed visit becomes a
START and a COMPLETE event, every other one a COMPLETE (``visits_to_events``), and
``cxsim.data.discovery.discover`` reads the cases that start before a split. Each
discovered figure is held to the journey's within 4 of its own standard errors:

- an edge's probability (binomial SE from the departures);
- an edge's mean delay: from one visit's end to the next visit's start, which in a log
  includes the wait in the queue before the START (a log records no arrival) and a
  milestone's own time (it is logged when reached, at its end); the expected value adds
  the mean wait the run recorded (``Results.visits.wait``) at the target over the same
  transitions of the early cases, or the milestone's mean visit time;
- a staffed touchpoint's mean service time.

Staff are estimated as the busy hours over the working hours (around the clock here:
168 a week), rounded up: the offered load :math:`a = \lambda / \mu` rounded up, which is
the number of servers :math:`c` exactly when the utilisation :math:`a / c` exceeds
:math:`(c - 1) / c`; it is held exact where the utilisation is at least 0.8 (and shown
to fall short where it is low). The negative control: a log of another journey (more
loops, slower calls) fails the same check against the known journey, while passing it
against its own.

References
----------
Camargo, M., Dumas, M. & González-Rojas, O. (2020). Automated discovery of business
process simulation models from event logs. *Decision Support Systems* 134, 113284.
van der Aalst, W. M. P. (2016). *Process Mining: Data Science in Action*, 2nd ed.
Springer.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

import cxsim
from cxsim.data.discovery import discover
from cxsim.data.eventlog import visits_to_events

ORIGIN = pd.Timestamp("2020-01-01", tz="UTC")
SPLIT_DAY = 150.0
MILESTONE_DAYS = 1e-4
STAFF = {"call": 6, "review": 2}
OUTCOME = {"approve": "purchase", "decline": "no_purchase", "cancel": "walk_away"}
TRUTH = {
    "routes": {  # touchpoint -> [(next, probability, delay in days)]
        "apply": [("call", 0.7, 1.0), ("review", 0.3, 0.5)],
        "call": [("call", 0.25, 2.0), ("review", 0.55, 0.8), ("cancel", 0.2, 1.5)],
        "review": [("approve", 0.5, 0.3), ("decline", 0.35, 0.2), ("cancel", 0.15, 1.0)],
    },
    "service": {"call": 0.01, "review": 0.009},
}
OTHER = {  # the negative control: the same touchpoints, another journey
    "routes": {
        "apply": [("call", 0.6, 1.5), ("review", 0.4, 0.5)],
        "call": [("call", 0.35, 3.0), ("review", 0.45, 0.8), ("cancel", 0.2, 1.5)],
        "review": [("approve", 0.5, 0.3), ("decline", 0.35, 0.2), ("cancel", 0.15, 1.0)],
    },
    "service": {"call": 0.015, "review": 0.009},
}


def journey_mapping(truth: dict) -> dict:
    """*truth* as a journey: milestones of 1e-4 days, the staffed touchpoints' queues."""
    touchpoints = {}
    for name in ("apply", "call", "review", *OUTCOME):
        fields = {"stage": "purchase", "channel": "web", "base_quality": 0.7,
                  "failure_probability": 0.0,
                  "service_days": truth["service"].get(name, MILESTONE_DAYS)}
        if name in STAFF:
            fields.update(staffed=True, staff=STAFF[name])
        if name in OUTCOME:
            fields["outcome"] = OUTCOME[name]
        touchpoints[name] = fields
    return {"name": "loans", "reference_clients": 3000, "entry": "apply",
            "exits": list(OUTCOME), "touchpoints": touchpoints,
            "edges": [{"from": s, "to": t, "probability": p, "delay_days": d}
                      for s, routes in truth["routes"].items() for t, p, d in routes]}


def simulate(truth: dict, folder: Path) -> cxsim.Results:
    """3,000 clients needing the journey every 10 days for 0.6 years, none leaving."""
    path = folder / "loans.yaml"
    path.write_text(yaml.safe_dump(journey_mapping(truth), sort_keys=False))
    return cxsim.run(cxsim.compose([
        f"firms.acme.journey={path}", "scenario=solo", "network=none",
        "firms.acme.scale_staff=false", "firms.acme.initial_share=1",
        "firms.acme.acquisition_share=0", "management.review=false",
        "market.return_per_year=0", "market.organic_acquisition_per_year=0",
        "market.size=3000", "market.segments.core.mean_days_between_needs=10",
        "psychology.emotions=false", "psychology.base_churn=0", "sim.years=0.6",
        "sim.warmup_years=0", "sim.record_visits=true"]))


def discovered(results: cxsim.Results):
    log = visits_to_events(results.visits, set(STAFF), ORIGIN)
    return discover(log, ORIGIN + pd.Timedelta(days=SPLIT_DAY), working_hours_per_week=168.0,
                    purchase=["approve"], no_purchase=["decline"], walk_away=["cancel"])


def waits(results: cxsim.Results) -> pd.Series:
    """The mean wait the run recorded per transition (source, target) of the early cases."""
    v = results.visits
    early = v[v.groupby("case").start.transform("min") < SPLIT_DAY]
    case = early.case.to_numpy()
    same = case[1:] == case[:-1]
    touchpoint = early.touchpoint.astype(str).to_numpy()
    steps = pd.DataFrame({"source": touchpoint[:-1][same], "target": touchpoint[1:][same],
                          "wait": early.wait.to_numpy()[1:][same]})
    return steps.groupby(["source", "target"]).wait.mean()


def failures(found, truth: dict, results: cxsim.Results) -> list[str]:
    """Where the discovered journey differs from *truth* by more than 4 standard errors."""
    edges = found.edges.set_index(["source", "target"])
    tps = found.touchpoints.set_index("touchpoint")
    wait = waits(results)
    out = []
    for source, routes in truth["routes"].items():
        departures = tps.departures[source]
        for target, p, delay in routes:
            if (source, target) not in edges.index:
                out.append(f"{source}->{target} not discovered")
                continue
            row = edges.loc[(source, target)]
            se = math.sqrt(p * (1 - p) / departures)
            if abs(row.probability - p) > 4 * se:
                out.append(f"{source}->{target} probability {row.probability:.4f} vs {p} "
                           f"(SE {se:.4f})")
            expected = delay + (wait[(source, target)] if target in STAFF else MILESTONE_DAYS)
            if abs(row.delay_days - expected) > 4 * max(row.delay_se, 1e-6):
                out.append(f"{source}->{target} delay {row.delay_days:.4f} vs {expected:.4f} "
                           f"(SE {row.delay_se:.4f})")
    for name, days in truth["service"].items():
        row = tps.loc[name]
        if abs(row.service_days - days) > 4 * row.service_se:
            out.append(f"{name} service {row.service_days:.5f} vs {days} "
                       f"(SE {row.service_se:.5f})")
    return out


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    results = simulate(TRUTH, tmp_path_factory.mktemp("known"))
    return results, discovered(results)


@pytest.mark.validation
def test_a_simulated_journey_is_discovered_back(known) -> None:
    results, found = known
    print(found.edges.round(5).to_string())
    assert failures(found, TRUTH, results) == []
    assert found.journey["exits"] == ["purchase", "no_purchase", "walk_away"]
    assert found.outcomes["censored"] == 0 and found.dropped == ()
    shares = results.visits.groupby("case").outcome.first().value_counts(normalize=True)
    for outcome, share in found.outcome_shares().items():  # the later cases' too, roughly
        assert abs(shares[outcome] - share) < 0.02


@pytest.mark.validation
def test_staff_are_exact_where_utilisation_is_high(known) -> None:
    results, found = known
    visits = results.visits
    first = visits.groupby("case").start.transform("min")
    early = visits[first < SPLIT_DAY]
    busy = (early.end - early.start).groupby(early.touchpoint.astype(str)).sum()
    tps = found.touchpoints.set_index("touchpoint")
    high = 0
    for name, servers in STAFF.items():
        utilisation = busy[name] / (servers * SPLIT_DAY)
        print(f"{name}: utilisation {utilisation:.3f}, staff {servers}, "
              f"discovered {tps.staff[name]}")
        if utilisation >= 0.8:
            assert tps.staff[name] == servers
            high += 1
        else:  # below (c - 1) / c the busy hours say fewer than the staff there are
            assert tps.staff[name] < servers
    assert high >= 1


@pytest.mark.validation
def test_the_log_of_another_journey_fails_the_check(known, tmp_path) -> None:
    results = simulate(OTHER, tmp_path)
    found = discovered(results)
    wrong = failures(found, TRUTH, results)
    print("\n".join(wrong))
    assert len(wrong) >= 3
    assert failures(found, OTHER, results) == []
