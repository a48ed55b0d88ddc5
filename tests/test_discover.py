"""Discovering a journey from an event log: a round trip from a known journey, the real logs,
and the command's bad input (one line, exit 2, nothing written)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cxsim
from cxsim import discover_cli
from cxsim.config import config_dir
from cxsim.data import discovery
from cxsim.data.discovery import case_outcomes, discover, journey_yaml
from cxsim.data.eventlog import read_event_log
from cxsim.errors import ConfigError
from cxsim.model.journey import journey_from_mapping, load_journey

ROOT = Path(__file__).resolve().parent.parent
BPIC = ROOT / "data" / "eventlogs" / "BPI_Challenge_2012.xes.gz"
HELPDESK = ROOT / "data" / "eventlogs" / "helpdesk.xes.gz"
START = pd.Timestamp("2020-01-01", tz="UTC")

# --------------------------------------------------------------------------- #
# A known journey, and event logs generated from it
# --------------------------------------------------------------------------- #

TRUTH = {
    "routes": {  # activity -> [(next activity, probability, mean delay in days)]
        "apply": [("call", 0.7, 1.0), ("review", 0.3, 0.5)],
        "call": [("call", 0.25, 2.0), ("review", 0.55, 0.8), ("cancel", 0.2, 1.5)],
        "review": [("approve", 0.5, 0.3), ("decline", 0.35, 0.2), ("cancel", 0.15, 1.0)],
    },
    "service": {"call": 0.01, "review": 0.02},  # staffed: mean START -> COMPLETE, days
}
OTHER = {  # the negative control: the same touchpoints, another journey
    "routes": {
        "apply": [("call", 0.6, 1.5), ("review", 0.4, 0.5)],
        "call": [("call", 0.35, 3.0), ("review", 0.45, 0.8), ("cancel", 0.2, 1.5)],
        "review": [("approve", 0.5, 0.3), ("decline", 0.35, 0.2), ("cancel", 0.15, 1.0)],
    },
    "service": {"call": 0.015, "review": 0.02},
}
OUTCOMES = {"purchase": ["approve"], "no_purchase": ["decline"], "walk_away": ["cancel"]}
FLAGS = ["--purchase", "approve", "--no-purchase", "decline", "--walk-away", "cancel"]
SPLIT = START + pd.Timedelta(days=70)


def generate(journey: dict, cases: int = 3000, seed: int = 1, days: float = 100.0,
             lifecycle: bool = True) -> pd.DataFrame:
    """An event log of *cases* walks of *journey*, arriving uniformly over *days*: exponential
    delays and service times with the journey's means, staffed visits as START and COMPLETE
    by one of three people, milestones as one COMPLETE."""
    rng = np.random.default_rng(seed)
    rows = []
    for number, arrival in enumerate(np.sort(rng.uniform(0, days, cases))):
        at, activity = arrival, "apply"
        while True:
            if activity in journey["service"]:
                who = f"clerk{rng.integers(3)}"
                end = at + rng.exponential(journey["service"][activity])
                rows.append((f"case{number}", activity, at, "start", who))
                rows.append((f"case{number}", activity, end, "complete", who))
            else:
                end = at
                rows.append((f"case{number}", activity, at, "complete", "system"))
            routes = journey["routes"].get(activity)
            if not routes:
                break
            k = rng.choice(len(routes), p=[p for _, p, _ in routes])
            activity, _, delay = routes[k]
            at = end + rng.exponential(delay)
    log = pd.DataFrame(rows, columns=["case", "activity", "day", "lifecycle", "resource"])
    log["timestamp"] = START + pd.to_timedelta(log.day, unit="D")
    log = log.drop(columns="day")
    return log if lifecycle else log[log.lifecycle == "complete"].drop(columns="lifecycle")


def failures(found, journey: dict) -> list[str]:
    """Where the discovered journey differs from *journey* by more than 4 standard errors:
    edge probabilities (a walk-away's through the cancel milestone to the walk_away exit),
    mean delays, mean service times."""
    edges = found.edges.set_index(["source", "target"])
    tps = found.touchpoints.set_index("touchpoint")
    out = []
    for source, routes in journey["routes"].items():
        departures = tps.departures[source]
        for target, p, delay in routes:
            se = math.sqrt(p * (1 - p) / departures)
            row = edges.loc[(source, target)]
            if abs(row.probability - p) > 4 * se:
                out.append(f"{source}->{target} probability {row.probability:.3f} vs {p}")
            if abs(row.delay_days - delay) > 4 * row.delay_se:
                out.append(f"{source}->{target} delay {row.delay_days:.3f} vs {delay}")
    for activity, days in journey["service"].items():
        row = tps.loc[activity]
        if abs(row.service_days - days) > 4 * row.service_se:
            out.append(f"{activity} service {row.service_days:.4f} vs {days}")
    return out


@pytest.fixture(scope="module")
def synthetic():
    return generate(TRUTH)


def test_a_known_journey_is_discovered_back_within_4_standard_errors(tmp_path, synthetic):
    path = tmp_path / "log.csv"
    synthetic.assign(timestamp=synthetic.timestamp.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")
                     ).to_csv(path, index=False)
    found = discover(path, SPLIT, name="known", **OUTCOMES)
    print(found.edges.round(4).to_string())
    assert failures(found, TRUTH) == []
    assert set(found.staffed) == {"call", "review"}
    assert found.journey["entry"] == "apply" and found.journey["exits"] == [
        "purchase", "no_purchase", "walk_away"]
    assert found.dropped == () and found.touchpoints.walk_aways.sum() == 0
    edges = found.edges.set_index(["source", "target"])
    assert edges.probability[("approve", "purchase")] == 1.0
    assert edges.probability[("decline", "no_purchase")] == 1.0
    assert edges.probability[("cancel", "walk_away")] == 1.0
    journey = journey_from_mapping(found.journey, "known")
    assert [journey.graph.nodes[e].get("outcome") for e in ("purchase", "no_purchase",
                                                            "walk_away")] == [
        "purchase", "no_purchase", "walk_away"]


def test_the_negative_control_from_another_journey_fails_the_check(synthetic):
    """The check can fail: a log of another journey (more loops, slower calls) is not
    discovered as the known one."""
    assert failures(discover(generate(OTHER, seed=2), SPLIT, **OUTCOMES), TRUTH)
    assert failures(discover(generate(OTHER, seed=2), SPLIT, **OUTCOMES), OTHER) == []


def test_staff_are_the_busy_hours_over_the_working_hours(synthetic):
    found = discover(synthetic, SPLIT, working_hours_per_week=2.0, **OUTCOMES)
    log = synthetic.assign(row=np.arange(len(synthetic)))
    first = log.groupby("case").timestamp.min()
    early = log[log.case.isin(first.index[first < SPLIT])]
    working = (SPLIT - log.timestamp.min()).total_seconds() / 86_400 / 7 * 2.0
    tps = found.touchpoints.set_index("touchpoint")
    for activity in ("call", "review"):
        rows = early[early.activity == activity].sort_values(["case", "timestamp", "row"])
        hours = (rows.timestamp[rows.lifecycle == "complete"].to_numpy()
                 - rows.timestamp[rows.lifecycle == "start"].to_numpy())
        busy = pd.to_timedelta(hours).total_seconds().to_numpy().sum() / 3600
        assert tps.staff[activity] == math.ceil(busy / working) > 1
    assert found.journey["reference_clients"] == len(found.cohort) == (first >= SPLIT).sum()


def test_censored_cases_are_left_out_and_never_walk_aways(synthetic):
    """Cut the log half a day after the split: cases not yet ended are censored."""
    cut = synthetic[synthetic.timestamp < SPLIT + pd.Timedelta(days=0.5)]
    found = discover(cut, SPLIT, **OUTCOMES)
    outcomes = case_outcomes(cut, **OUTCOMES)
    first = cut.groupby("case").timestamp.min()
    early = outcomes[first < SPLIT]
    assert found.outcomes["censored"] == (early == "censored").sum() > 10
    assert found.outcomes["walk_away"] == (early == "walk_away").sum()
    shares = found.outcome_shares()
    assert set(shares) == {"purchase", "no_purchase", "walk_away"}
    assert sum(shares.values()) == pytest.approx(1.0)
    edges = found.edges  # walk-aways are exactly the cases reaching the walk_away exit
    walked = edges.transitions[edges.target == "walk_away"].sum()
    assert walked == found.outcomes["walk_away"] and found.touchpoints.walk_aways.sum() == 0


def test_a_log_without_lifecycle_has_no_staff_and_says_so(tmp_path):
    generate(TRUTH, lifecycle=False).to_csv(tmp_path / "log.csv", index=False)
    found = discover(tmp_path / "log.csv", SPLIT, **OUTCOMES)
    assert found.staffed == () and not found.service_time
    assert any(note.startswith("service times and staffing") for note in found.not_modelled)
    journey_from_mapping(found.journey, "no lifecycle")


def test_a_log_without_outcomes_is_completed_walks_and_says_so(synthetic):
    found = discover(synthetic, SPLIT)  # BPIC's outcome activities: none in this log
    assert set(found.outcomes) == {"completed"} and found.journey["exits"] == ["end"]
    assert any(note.startswith("outcomes: the log holds none") for note in found.not_modelled)


def test_the_discovered_journey_loads_and_runs(tmp_path, synthetic):
    found = discover(synthetic, SPLIT, name="known", **OUTCOMES)
    journey = journey_from_mapping(found.journey, "discovered")
    visits = journey.expected_visits()
    purchase = visits[journey.index_of("purchase")]
    assert purchase == pytest.approx(found.outcome_shares()["purchase"], abs=0.03)
    files = discover_cli.write(found, tmp_path / "known.yaml", tmp_path / "known.csv")
    assert load_journey(str(files[1]), config_dir() / "journey") == journey
    results = cxsim.run(cxsim.compose(discovery.run_overrides(found, files[1], files[0])))
    assert results.summary.acquisitions_total.iloc[0] == len(found.cohort)
    assert results.summary.purchases_total.iloc[0] > 0


def test_every_field_the_log_lacks_is_listed(synthetic):
    found = discover(synthetic, SPLIT, **OUTCOMES)
    text = journey_yaml(found, "cxsim-discover log.csv --split 2020-03-11")
    for key in ("stage", "channel", "base_quality", "kind", "cost_per_visit",
                "failure_probability"):
        assert key in found.defaults and key in text.split("\nname:")[0]
    for thing in ("resource calendars", "batching", "weekday patterns", "case attributes"):
        assert any(note.startswith(thing) for note in found.not_modelled), thing
    assert not any("declined" in note for note in found.not_modelled)  # outcome-labelled exits


# --------------------------------------------------------------------------- #
# Bad input: one line naming the rule; the command exits 2 and writes nothing
# --------------------------------------------------------------------------- #


def test_a_split_outside_the_log_or_leaving_a_period_empty_is_refused(synthetic):
    with pytest.raises(ConfigError, match=r"split must fall inside the log"):
        discover(synthetic, "2019-01-01", **OUTCOMES)
    with pytest.raises(ConfigError, match=r"split must fall inside the log"):
        discover(synthetic, "2031-01-01", **OUTCOMES)
    last = synthetic.timestamp.max()
    with pytest.raises(ConfigError, match=r"split must leave a case after it"):
        discover(synthetic, last, **OUTCOMES)
    with pytest.raises(ConfigError, match=r"split must be a date"):
        discover(synthetic, "soon", **OUTCOMES)
    with pytest.raises(ConfigError, match=r"--purchase must name activities of the log"):
        discover(synthetic, SPLIT, purchase=["nothing"])


def bad_logs(tmp_path: Path, synthetic: pd.DataFrame) -> dict[str, tuple[Path, list, str]]:
    """Each bad log, the extra arguments, and what its one line must say."""
    from tests.test_eventlog import LAUGHS, XXE

    small = synthetic[synthetic.case.isin(["case0", "case1", "case2500"])]
    cases = {}
    for name, frame, extra, says in (
        ("missing.csv", small.drop(columns="activity"), [], "has no column 'activity'"),
        ("stamps.csv", small.assign(timestamp=["x"] * len(small)), [],
         "column 'timestamp', row 1 must be an ISO 8601 timestamp"),
        ("life.csv", small.assign(lifecycle=["done"] * len(small)), [],
         "column 'lifecycle', row 1 must be a lifecycle transition"),
        ("empty.csv", small.iloc[:0], [], "holds no events"),
        ("one.csv", pd.concat([small, small.iloc[:1].assign(case="lonely")]), [],
         f"column 'case', row {len(small) + 1} must not hold a case of one event"),
        ("split.csv", small, ["--split", "2030-01-01"], "split must fall inside the log"),
        ("late.csv", small[small.case != "case2500"],
         ["--split", str(small[small.case != "case2500"].timestamp.max())],
         "split must leave a case after it"),
    ):
        path = tmp_path / name
        frame.to_csv(path, index=False)
        cases[name] = (path, extra, says)
    for name, text in (("xxe.xes", XXE), ("laughs.xes", LAUGHS)):
        (tmp_path / name).write_text(text)
        cases[name] = (tmp_path / name, [], "declares a document type")
    return cases


def test_the_command_refuses_each_bad_log_in_one_line_and_writes_nothing(tmp_path, capsys,
                                                                          synthetic):
    out = tmp_path / "out"
    for name, (path, extra, says) in bad_logs(tmp_path, synthetic).items():
        args = [str(path), "--split", "2020-03-11", "--out", str(out / "j.yaml"),
                "--cohort", str(out / "c.csv"), *FLAGS, *extra]
        with pytest.raises(SystemExit) as exit_:
            discover_cli.main(args)
        err = capsys.readouterr().err
        assert exit_.value.code == 2, name
        assert err.count("\n") == 1 and err.startswith("cxsim-discover: error: "), err
        assert says in err and "Traceback" not in err, (name, err)
        assert not out.exists(), name


def test_the_command_refuses_bad_arguments_before_reading(tmp_path, capsys, synthetic):
    path = tmp_path / "log.csv"
    synthetic.head(50).to_csv(path, index=False)
    for args, says in ((["--out", str(tmp_path / "bad name.yaml")], "--out must be a .yaml"),
                       (["--out", str(tmp_path / "j.txt")], "--out must be a .yaml"),
                       (["--out", str(tmp_path / "j.yaml"), "--cohort", str(tmp_path / "c.x")],
                        "--cohort must be a .csv")):
        with pytest.raises(SystemExit) as exit_:
            discover_cli.main([str(path), "--split", "2020-01-05", *args])
        assert exit_.value.code == 2 and says in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def test_the_command_writes_the_journey_and_its_cohort_and_says_what_next(tmp_path, capsys,
                                                                            synthetic):
    path = tmp_path / "log.csv"
    synthetic.to_csv(path, index=False)
    out, cohort = tmp_path / "journeys" / "known.yaml", tmp_path / "arrivals.csv"
    discover_cli.main([str(path), "--split", "2020-03-11", "--out", str(out), "--cohort",
                       str(cohort), "--staffed", "call,review", *FLAGS])
    printed = capsys.readouterr().out
    assert "start before it and are discovered" in printed and "censored" in printed
    assert "Staffed: " in printed and "call (" in printed and "Not modelled:" in printed
    assert "next: cxsim scenario=solo firms.acme.journey=" in printed
    assert out.read_text().startswith("# Discovered by cxsim-discover from log.csv")
    assert pd.read_csv(cohort).columns.tolist() == ["acquired_day"]
    load_journey(str(out), config_dir() / "journey")


# --------------------------------------------------------------------------- #
# The real logs
# --------------------------------------------------------------------------- #


def run_first_days(found, folder: Path, days: float):
    """A run of the discovered journey on the cohort's first *days* of arrivals (a short
    horizon, to keep the test fast)."""
    import dataclasses

    first = dataclasses.replace(found, cohort=found.cohort[found.cohort.acquired_day < days])
    files = discover_cli.write(first, folder / "short.yaml", folder / "short.csv")
    return cxsim.run(cxsim.compose(discovery.run_overrides(first, files[1], files[0])))


@pytest.fixture(scope="module")
def bpic():
    return read_event_log(BPIC)


def test_bpic_2012_holds_the_facts_its_readme_states(bpic):
    assert len(bpic) == 262_200 and bpic.case.nunique() == 13_087
    assert bpic.lifecycle.value_counts().to_dict() == {"complete": 164_506, "start": 71_376,
                                                       "schedule": 26_318}
    assert bpic.resource.nunique() == 68
    # the last outcome activity of each case: the three never meet in one case
    assert case_outcomes(bpic).value_counts().to_dict() == {
        "no_purchase": 7_635, "walk_away": 2_807, "purchase": 2_246, "censored": 399}


def test_bpic_2012_is_discovered_loaded_and_run(tmp_path, bpic):
    began = time.perf_counter()
    found = discover(BPIC, "2012-01-15", name="bpic2012")
    print(f"BPIC 2012 read and discovered in {time.perf_counter() - began:.2f} s")
    assert found.counts["early_cases"] + found.counts["late_cases"] == 13_087
    assert found.counts["censored"] == found.outcomes["censored"]
    staffed = set(found.staffed)
    assert {"W_Nabellen_offertes", "W_Completeren_aanvraag", "W_Valideren_aanvraag"} <= staffed
    assert all(name.startswith("W_") for name in staffed)
    files = discover_cli.write(found, tmp_path / "bpic2012.yaml", tmp_path / "bpic2012.csv")
    journey = load_journey(str(files[1]), config_dir() / "journey")
    shares = found.outcome_shares()
    assert journey.expected_visits()[journey.index_of("purchase")] == pytest.approx(
        shares["purchase"], abs=0.01)
    results = run_first_days(found, tmp_path, 10)
    assert results.summary.purchases_total.iloc[0] > 0


def test_the_help_desk_log_has_no_service_time_and_runs(tmp_path):
    found = discover(HELPDESK, "2013-01-01", name="helpdesk")
    assert found.counts["cases"] == 4_580 and found.counts["events"] == 21_348
    assert not found.service_time and found.staffed == ()
    files = discover_cli.write(found, tmp_path / "helpdesk.yaml", tmp_path / "helpdesk.csv")
    journey = load_journey(str(files[1]), config_dir() / "journey")
    assert journey.exits == (journey.index_of("end"),)
    results = run_first_days(found, tmp_path, 30)
    assert results.summary.acquisitions_total.iloc[0] > 0


def test_an_activity_named_for_one_outcome_leaves_the_others_defaults(synthetic):
    """``--purchase A_DECLINED`` (say, a log where a declined offer is a sale elsewhere): the
    default no-purchase activity gives way instead of clashing."""
    log = synthetic.replace({"activity": {"decline": "A_DECLINED"}})
    outcomes = case_outcomes(log, purchase=["approve", "A_DECLINED"], walk_away=["cancel"])
    assert set(outcomes) == {"purchase", "walk_away"}
    with pytest.raises(ConfigError, match="must not name an activity already meaning purchase"):
        case_outcomes(log, purchase=["approve"], no_purchase=["approve"])


def test_the_studio_keeps_a_discovered_journey_like_any_upload(tmp_path, bpic):
    """A journey cxsim-discover wrote is an upload the what-if page accepts (checked, kept by
    its content's hash) and both firms of the duel can walk it in a comparison."""
    from cxsim.studio.what_if import save_journey

    found = discover(BPIC, "2012-01-15", name="bpic2012")
    files = discover_cli.write(found, tmp_path / "bpic2012.yaml", tmp_path / "bpic2012.csv")
    kept = save_journey(files[1].read_bytes(), tmp_path / "uploads")
    assert kept.parent == tmp_path / "uploads" and kept.name.startswith("journey-")
    both = [f"firms.{firm}.journey={kept}" for firm in ("sales_first", "client_first")]
    compared = cxsim.compare(cxsim.compose(["market.size=300", "sim.years=0.25"]),
                             cxsim.compose(["market.size=300", "sim.years=0.25", *both]), 2,
                             progress=False)
    walked = compared.b.summary.groupby("replication").purchases_total.sum()
    assert (walked > 0).all()
    assert set(compared.b.timeseries.firm) == {"sales_first", "client_first"}


def test_the_delays_spread_is_discovered_back_as_a_shape_or_quantiles(synthetic):
    """The generated delays are exponential: a Weibull of shape 1, median ln 2 x the mean
    (the MLE shape's asymptotic variance is 0.608 k**2 / n: Cohen 1965)."""
    weibull = discover(synthetic, SPLIT, delays="weibull", **OUTCOMES)
    quantiles = discover(synthetic, SPLIT, delays="quantiles", **OUTCOMES)
    edges = weibull.edges.set_index(["source", "target"])
    spread = {(e["from"], e["to"]): e for e in quantiles.journey["edges"]}
    checked = 0
    for source, routes in TRUTH["routes"].items():
        for target, _, delay in routes:
            row = edges.loc[(source, target)]
            n = row.transitions
            assert abs(row.delay_shape - 1.0) <= 4 * math.sqrt(0.608 / n), (source, target)
            q = spread[(source, target)]["delay_quantiles"]
            assert len(q) == discovery.QUANTILES and q[0] >= 0 and q == sorted(q)
            median_se = 1.0 / (2 * math.exp(-math.log(2)) / delay * math.sqrt(n))
            assert abs(q[10] - math.log(2) * delay) <= 4 * median_se, (source, target, q[10])
            checked += 1
    assert checked == 8
    # the control: gaps of another shape are told apart from an exponential's
    rng = np.random.default_rng(7)
    other = discovery.weibull_shape(rng.weibull(0.5, 2000))
    assert abs(other - 0.5) <= 4 * math.sqrt(0.608 * 0.25 / 2000) < abs(other - 1.0)
    for found in (weibull, quantiles):  # and both journeys load
        journey_from_mapping(found.journey, "discovered")
    assert "delay_quantiles" not in str(discover(synthetic, SPLIT, **OUTCOMES).journey)


def test_an_unknown_delays_choice_is_refused(synthetic):
    with pytest.raises(ConfigError, match="delays must be one of quantiles, weibull, mean"):
        discover(synthetic, SPLIT, delays="gamma", **OUTCOMES)
