"""The check of a discovered journey on the log's later cases (``cxsim-discover --check``):
its measures on hand-made cases, a known journey's log, and the command's bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cxsim import discover_cli
from cxsim.data.discovery import discover
from cxsim.data.discovery_check import (
    Cases,
    check,
    compared,
    in_progress,
    ngram_distance,
    plan,
    replicate,
)
from tests.test_discover import FLAGS, OUTCOMES, SPLIT, TRUTH, generate

ROOT = Path(__file__).resolve().parents[1]


def cases(*sequences: str) -> Cases:
    """Cases of one-letter activities, e.g. ``cases("ab", "ac")``."""
    case = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    activity = np.array([a for s in sequences for a in s], dtype=object)
    return Cases(case, activity, pd.Series(["purchase"] * len(sequences)),
                 np.ones(len(sequences)))


def test_ngram_distance_counts_padded_ngrams() -> None:
    assert ngram_distance(cases("ab", "abc"), cases("abc", "ab"), 2) == 0.0
    assert ngram_distance(cases("ab"), cases("cd"), 3) == 1.0
    # 2-grams (start,a) (a,b) (b,end) against (start,a) (a,c) (c,end): 4 differ of 3 + 3
    assert ngram_distance(cases("ab"), cases("ac"), 2) == pytest.approx(4 / 6)
    # 3-grams of "aab" padded: (s,s,a) (s,a,a) (a,a,b) (a,b,e) (b,e,e); of "ab": (s,s,a)
    # (s,a,b) (a,b,e) (b,e,e): 3 in common, 2 + 1 differ of 5 + 4
    assert ngram_distance(cases("aab"), cases("ab"), 3) == pytest.approx(3 / 9)


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    folder = tmp_path_factory.mktemp("check")
    log = generate(TRUTH)
    found = discover(log, SPLIT, name="known", **OUTCOMES)
    files = discover_cli.write(found, folder / "known.yaml", folder / "known.csv")
    return log, found, files, check(log, found, SPLIT, files[1], files[0], replications=5)


def test_a_known_journey_fits_its_later_cases(known) -> None:
    log, found, files, result = known
    s = result.summary.set_index("measure")
    for outcome in ("purchase", "no_purchase", "walk_away"):
        assert abs(s.loc[f"share_{outcome}", "mean"] - s.loc[f"share_{outcome}", "actual"]) \
            < 0.03
    assert s.loc["ngram_2_distance", "mean"] < 0.05 and s.loc["ngram_3_distance", "mean"] < 0.05
    assert abs(s.loc["activities_per_case", "mean"] / s.loc["activities_per_case", "actual"]
               - 1) < 0.03
    assert s.loc["cycle_time_emd_hours", "mean"] > 0
    assert len(result.replications) == 5
    assert set(result.activities.activity) == {"apply", "call", "review", "approve", "decline",
                                               "cancel"}


def test_a_check_run_in_parts_in_any_order_is_the_whole_check(known) -> None:
    """The studio streams a check: replications run in parts on two workers, arriving in
    any order. Their tables must be the command's, to the bit; the first parts must be the
    check of that many replications (a first look, not a different check)."""
    log, found, files, whole = known
    planned = plan(log, found, SPLIT, files[1], files[0])
    parts = [replicate(planned, found, [3, 4]), replicate(planned, found, [0, 2]),
             replicate(planned, found, [1])]
    streamed = compared(planned, found, [r for part in parts for r in part])
    for table in ("summary", "replications", "activities", "waits", "in_progress"):
        pd.testing.assert_frame_equal(getattr(streamed, table), getattr(whole, table))
    assert streamed.facts == whole.facts
    first = compared(planned, found, parts[1] + parts[2])  # replications 0, 2 and 1
    three = check(log, found, SPLIT, files[1], files[0], replications=3)
    pd.testing.assert_frame_equal(first.summary, three.summary)
    assert first.facts["replications"] == 3
    assert not first.summary.equals(whole.summary)  # a part is not yet the whole


def test_the_check_writes_fit_json_and_csvs(known, tmp_path) -> None:
    result = known[3]
    paths = result.write(tmp_path / "fit")
    assert [p.name for p in paths] == ["fit.json", "fit_summary.csv", "fit_replications.csv",
                                       "fit_activities.csv", "fit_waits.csv",
                                       "fit_in_progress.csv"]
    fit = json.loads(paths[0].read_text())
    assert fit["replications"] == 5 and "cycle_time_q50_hours" in fit["measures"]
    assert fit["measures"]["ngram_2_distance"]["actual_in_band"] is None


def test_the_command_checks_and_refuses_a_bad_n(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    generate(TRUTH, cases=600).to_csv("log.csv", index=False)
    argv = ["log.csv", "--split", str(SPLIT.date()), "--out", "j/known.yaml", *FLAGS]
    with pytest.raises(SystemExit) as stop:
        discover_cli.main([*argv, "--check", "-n", "1"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "-n" in err and "a band needs two runs" in err
    assert not (tmp_path / "j").exists()
    late = ["log.csv", "--split", "2020-04-01", "--out", "j/known.yaml", *FLAGS, "--check"]
    with pytest.raises(SystemExit) as stop:
        discover_cli.main(late)
    assert stop.value.code == 2 and not (tmp_path / "j").exists()
    assert capsys.readouterr().err.strip().startswith(
        "cxsim-discover: error: --check needs a later period of at least 31 days")
    discover_cli.main([*argv, "--check", "-n", "2", "--check-out", "fit"])
    out = capsys.readouterr().out
    assert "Check on the" in out and (tmp_path / "fit" / "fit.json").is_file()
    assert (tmp_path / "fit" / "report.html").is_file() and "fit/report.html" in out


def test_waits_and_cases_in_progress_are_measured_on_both_sides(known) -> None:
    """The log's wait before a staffed START (from its SCHEDULE or the step before) and the
    simulated one (the edge's delay plus the queue) agree on a known journey, whose log has
    the same waits by construction; cases in progress agree within 10%."""
    s = known[3].summary.set_index("measure")
    assert abs(s.loc["wait_mean_hours", "mean"] / s.loc["wait_mean_hours", "actual"] - 1) < 0.1
    assert abs(s.loc["in_progress_mean", "mean"] / s.loc["in_progress_mean", "actual"] - 1) \
        < 0.1
    waits = known[3].waits
    assert set(waits.activity) == {"call", "review"} and (waits.actual_visits > 0).all()
    assert (waits.queue_mean_hours >= 0).all() and (waits.queue_mean_hours < waits["mean"]).all()
    series = known[3].in_progress
    assert series.day.iloc[0] == 0 and (series.band_low <= series.band_high).all()


def test_cases_in_progress_counts_begun_and_not_ended() -> None:
    c = Cases(np.array([0, 1]), np.array(["a", "b"], dtype=object),
              pd.Series(["purchase", "purchase"]), np.ones(2), began=np.array([0.5, 1.5]),
              ended=np.array([2.5, 1.7]))
    assert in_progress(c, np.array([0.0, 1.0, 1.6, 2.0, 3.0])).tolist() == [0, 1, 2, 1, 0]


def test_the_page_says_the_fit_first_and_what_a_log_without_outcomes_cannot_tell(known) -> None:
    """The answer leads with the outcome shares' largest gap and the median cycle time; a log
    holding no outcome activity (the help desk's) says that only the timing compares."""
    from dataclasses import replace

    from cxsim.report.discovery import check_page, share_gap_points
    from cxsim.report.page import render

    _, found, _, result = known
    page = check_page(result, found, "cxsim-discover log.csv")
    assert page.answer[0].startswith("The simulated journey reproduces the later cases' "
                                     f"outcome shares within "
                                     f"{share_gap_points(result.summary):.1f} percentage points")
    assert [t.title for t in page.tiles][0] == "Outcome shares" and len(page.charts) == 4
    bare = check_page(result, replace(found, outcome_activities={}))
    assert bare.answer[0].startswith("The log records no outcome, so only the timing and the "
                                     "paths can be compared: cycle times are ")
    assert bare.answer[1].startswith("Outcome shares are not measured")
    assert bare.tiles[0].value == "not measured" and not bare.warnings
    assert "<script" not in render(bare)


HELPDESK = ROOT / "data" / "eventlogs" / "helpdesk.xes.gz"
HELPDESK_SPLIT = "2012-04-01"  # a quarter's start leaving about a third of the tickets later


@pytest.mark.skipif(not HELPDESK.is_file(), reason="the help desk log is not in this checkout")
def test_the_help_desk_page_says_what_a_log_without_lifecycle_or_outcomes_cannot_show(
        tmp_path) -> None:
    """The help desk log (one timestamp per event, no outcome activity) checked at 3
    replications: the page says in words that service times and staff are not observable and
    that outcome shares are not measured, shows no outcome or wait rows (a 100% share and an
    empty wait say nothing), no waits table or chart and no fit_waits.csv, and does give the
    cycle-time quantiles, activities per case and n-gram distances, actual against simulated."""
    from cxsim.data.eventlog import read_event_log
    from cxsim.report.discovery import NO_OUTCOMES, NO_SERVICE, check_page, duration
    from cxsim.report.page import render

    events = read_event_log(HELPDESK)
    found = discover(events, HELPDESK_SPLIT, name="helpdesk")
    assert not found.service_time and not found.outcome_activities and not found.staffed
    files = discover_cli.write(found, tmp_path / "helpdesk.yaml", tmp_path / "helpdesk.csv")
    result = check(events, found, HELPDESK_SPLIT, files[1], files[0], replications=3)
    assert result.facts["later_cases_ended"] == 1592
    assert not result.facts["outcomes_observed"] and not result.facts["service_times_observed"]
    written = [p.name for p in result.write(tmp_path / "fit")]
    assert "fit_waits.csv" not in written and "fit_in_progress.csv" in written
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())["measures"]
    assert fit["wait_mean_hours"]["actual"] is None  # not measured: neither in nor out
    assert fit["wait_mean_hours"]["actual_in_band"] is None
    assert fit["share_purchase"]["actual_in_band"] is None  # 100% on both sides says nothing
    printed = discover_cli.check_text(result)  # what the command prints says the same
    assert "outcome shares: not measured" in printed and "share_purchase" not in printed
    assert "waits before staffed work: not observable" in printed and "nan" not in printed
    assert "cycle_time_q50_hours: actual" in printed

    page = check_page(result, found, "cxsim-discover helpdesk.xes.gz")
    s = result.summary.set_index("measure")
    answer = " ".join(page.answer)
    assert page.answer[0].startswith("The log records no outcome")
    assert NO_OUTCOMES in page.answer and NO_SERVICE in page.answer
    assert "Service times and staff are not observable in this log" in answer
    assert "Outcome shares are not measured" in answer and "every case" in answer
    assert "percentage points" not in answer and "Before staffed work starts" not in answer
    assert not page.warnings
    for q in (10, 50, 90):  # each cycle-time quantile, actual and simulated, in words
        row = s.loc[f"cycle_time_q{q}_hours"]
        assert duration(row["actual"]) in answer and duration(row["mean"]) in answer
    assert 30 * 24 < s.loc["cycle_time_q50_hours", "actual"] < 60 * 24  # tickets take weeks
    assert f"{s.loc['activities_per_case', 'actual']:.1f} activities in the log" in answer
    assert f"n-gram distance of {s.loc['ngram_2_distance', 'mean']:.2f}" in answer
    tiles = {t.title: t.value for t in page.tiles}
    assert tiles["Outcome shares"] == "not measured"
    assert tiles["Service times and staff"] == "not in the log"
    assert "vs" in tiles["Median cycle time"] and "days" in tiles["Median cycle time"]

    measures = page.tables[0]
    html = render(page)
    assert "share ending in a purchase" not in html and "100.0%" not in html
    assert "wait before staffed work: mean" not in html
    assert "Not shown, as the log does not record them: outcome shares" in html
    for name in ("cycle time: median (hours)", "activities per case",
                 "2-gram distance of activity sequences"):
        assert name in html, name
    assert measures is not None and "Waits before staffed work" not in html
    assert "quantiles of cycle time" in page.headline.alt  # not the outcome shares' bars
    assert not any("ending in a purchase" in c.alt for c in page.charts)
    assert len(page.charts) == 2  # activities per case and cases in progress: no waits chart
