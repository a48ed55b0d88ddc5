"""The HTML report: its sentences, its numbers, its escaping and its bad input."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cxsim
from cxsim.files import atomic_write
from cxsim.report import answer, summary_table, write_report
from cxsim.report.page import render
from cxsim.report.run import KPIS, kpi_frame, page_of, run_sentences
from cxsim.simulation.experiment import Ensemble
from cxsim.simulation.results import Crossover, Results
from tests.reports import HOSTILE, hostile
from tests.reports import duel as finished_duel

E = answer.Estimate


# ---------------------------------------------------------------- sentences
def test_an_interval_that_straddles_zero_is_no_difference():
    text = answer.difference("b", "CLV now", E(3.0, -2.0, 8.0, 10), "", 0)
    assert "not distinguishable from no difference" in text
    assert "95% CI -2 to 8" in text
    sure = answer.difference("b", "CLV now", E(5.0, 2.0, 8.0, 10), "", 0)
    assert sure.startswith("b raises CLV now by 5") and "not distinguishable" not in sure
    lower = answer.difference("b", "CLV now", E(-5.0, -8.0, -2.0, 10), "", 0)
    assert lower.startswith("b lowers CLV now by 5 (95% CI -8 to -2)")


def test_a_nan_metric_is_said_to_be_unknown():
    assert "no data behind it" in answer.difference("b", "NPS", E(math.nan), "", 1)
    assert answer.interval(E(math.nan)) == "no data" == answer.number(math.nan)
    assert "no data behind it" in answer.lead("NPS", {"a": E(math.nan)}, None)


def test_one_replication_claims_no_interval():
    text = answer.difference("b", "CLV now", E(5.0, math.nan, math.nan, 1), "", 0)
    assert "single replication" in text and "CI" not in text
    assert answer.interval(E(5.0)) == "5 (one replication: no interval)"
    alone = answer.crossover("a", "b", Crossover(3, None, False, 1), 24, 1)
    assert "no crossover is claimed" in alone and "single replication" in alone
    lead = answer.lead("share", {"a": E(60.0), "b": E(40.0)}, E(20.0), " points", 1)
    assert "single replication" in lead


def test_a_tie_names_no_leader():
    tie = answer.lead("share", {"a": E(50.0, 49, 51, 5), "b": E(50.0, 49, 51, 5)},
                      E(0.0, -1.0, 1.0, 5), " points", 1)
    assert "not distinguishable from no difference" in tie and "leads" not in tie
    assert "level" in answer.lead("share", {"a": E(50.0), "b": E(50.0)}, E(0.0))


def test_two_firms_name_the_leader_with_the_interval_in_its_favour():
    text = answer.lead("share", {"a": E(40.0, 39, 41, 5), "b": E(60.0, 59, 61, 5)},
                       E(-20.0, -22.0, -18.0, 5), " points", 1)
    assert text == "b leads a on share by 20.0 points (95% CI 18.0 to 22.0)."


def test_one_firm_is_described_not_compared():
    text = answer.lead("share", {"solo": E(70.0, 68.0, 72.0, 4)}, None, "%", 1)
    assert text == "solo's share is 70.0% (95% CI 68.0 to 72.0)."


# ---------------------------------------------------------- pages from runs
@pytest.fixture(scope="module")
def duel() -> Results:
    return finished_duel()


def test_the_kpi_table_shows_the_ensembles_means_and_intervals(duel):
    shown, raw = kpi_frame(duel.summary)
    table = Ensemble(duel.summary, duel.timeseries).table()
    for kpi in KPIS:
        for firm in ("sales_first", "client_first"):
            row = table[(table.firm == firm) & (table.metric == kpi.column)].iloc[0]
            value = raw[(raw.firm == firm) & (raw.kpi == kpi.name)].iloc[0]
            assert value["mean"] == pytest.approx(kpi.scale * row["mean"], nan_ok=True)
            assert value["ci_low"] == pytest.approx(kpi.scale * row["ci_low"], nan_ok=True)
            cell = shown.loc[shown[""] == kpi.name, firm].item()
            expected = answer.interval(E(kpi.scale * row["mean"], kpi.scale * row["ci_low"],
                                         kpi.scale * row["ci_high"], 3), kpi.unit, kpi.digits,
                                       "$" if kpi.money else "")
            assert cell == expected
        assert shown.loc[shown[""] == kpi.name, "what it means"].item() == kpi.meaning


def test_the_answer_follows_the_paired_share_difference(duel):
    s = duel.summary.pivot(index="replication", columns="firm", values="share_final")
    gap = 100 * (s.client_first - s.sales_first)
    sentences = run_sentences(duel.summary, duel.timeseries)
    mean, low, high = cxsim.simulation.results.mean_ci(gap.to_numpy())
    leader = "client_first" if mean > 0 else "sales_first"
    assert sentences[0].startswith("Bottom line: ")
    if low > 0 or high < 0:
        assert sentences[1].startswith(f"{leader} leads")
        assert f"by {abs(mean):.1f} points" in sentences[1]
        assert f"{leader} ends" in sentences[0]
    else:
        assert "not distinguishable from no difference" in sentences[1]
        assert "market shares are not distinguishable" in sentences[0] or (
            "neither firm ends ahead" in sentences[0])


@pytest.mark.parametrize(("share", "value", "expected"), [
    (E(8, 5, 11, 6), E(40, 10, 70, 6), "Bottom line: the relationship-focused firm ends "
     "ahead, with more of the market (54% against 46%) and more value per client ($400 "
     "against $360 per client)."),
    (E(-8, -11, -5, 6), E(40, 10, 70, 6), "Bottom line: the sales-focused firm ends with more "
     "of the market (46% against 54%), the relationship-focused firm with more value per "
     "client ($400 against $360 per client)."),
    (E(1, -2, 4, 6), E(-40, -70, -10, 6), "Bottom line: the sales-focused firm ends with more "
     "value per client ($360 against $400 per client); their market shares are not "
     "distinguishable (54% against 46%)."),
    (E(1, -2, 4, 6), E(5, -20, 30, 6), "Bottom line: neither firm ends ahead with 95% "
     "confidence, on market share (54% against 46%) or on the value of a client ($400 "
     "against $360 per client)."),
])
def test_the_bottom_line_claims_a_lead_only_where_the_interval_excludes_0(share, value,
                                                                          expected):
    from cxsim.report.run import bottom_line

    firms = ("the relationship-focused firm", "the sales-focused firm")
    shares = dict(zip(firms, (E(54, 52, 56, 6), E(46, 44, 48, 6))))
    values = dict(zip(firms, (E(400, 380, 420, 6), E(360, 340, 380, 6))))
    assert answer.capital(bottom_line(shares, share, values, value)) == expected


def _bottom_line(b: dict, clients: int = 500, years: float = 2.0, n: int = 4):
    """The comparison's bottom line, and the paired measured and true NPS moves, of B
    against A (the sales-focused firm surveying after purchases, as the studio sets it)."""
    from cxsim.report.comparison import (
        Compared,
        _paired,
        comparison_bottom_line,
        comparison_meta,
        headline_chart,
    )
    from cxsim.studio.what_if import Setting, WhatIf

    what_if = WhatIf(Setting(clients=clients, years=years, replications=n), b,
                     a={"sales_first": {"survey": "transactional"}})
    a_cfg, b_cfg = what_if.configs()
    compared = Compared(cxsim.compare(a_cfg, b_cfg, n, progress=False), comparison_meta(
        what_if.common_overrides(), what_if.a_overrides(), what_if.b_overrides(), n, a_cfg,
        b_cfg))
    return (comparison_bottom_line(compared), _paired(compared, "nps_measured", "sales_first"),
            _paired(compared, "nps_true", "sales_first"), headline_chart(compared).alt)


def test_the_bottom_line_says_a_survey_lever_moves_measured_nps_not_the_clients():
    """Everyone answering the sales-focused firm's survey (the pleased answered more in A)
    lowers its measured NPS beyond chance and leaves its clients as they were (true NPS the
    same in every pair): the bottom line says so, and says it is the survey; every share is
    the same, so the headline chart is measured NPS. The control: better execution moves
    true and measured NPS together, and the bottom line names both, without the survey's
    clause, over the share chart."""
    line, measured, true, chart = _bottom_line({"sales_first": {"response": "everyone"}})
    assert chart.startswith("Measured NPS, B minus A, over time")  # the share is flat at 0
    assert measured.high < 0 and true.low <= 0 <= true.high
    assert line.startswith(f"Bottom line: for the sales-focused firm, B lowers measured NPS by "
                           f"{abs(measured.mean):.1f} while its true NPS is the same in every "
                           "pair: what changed is who its survey hears, not how its clients "
                           "feel")
    assert "true NPS by" not in line
    line, measured, true, chart = _bottom_line({"sales_first": {"execution": 0.2}})
    assert chart.startswith("Market share, B minus A, over time")
    assert measured.low > 0 and true.low > 0
    assert f"raises true NPS by {true.mean:.1f}" in line
    assert f"raises measured NPS by {measured.mean:.1f}" in line
    assert "same in every pair" not in line and "survey" not in line


def test_a_hostile_name_is_text_never_markup(duel):
    html = render(page_of(hostile(duel, touchpoint="delivery")))
    for name in HOSTILE:
        assert name not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()


# ---------------------------------------------------------------- bad input
def report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cxsim.report.cli", *args],
                          capture_output=True, text=True)


@pytest.mark.parametrize("make, rule", [
    (lambda d: d / "missing", "does not exist"),
    (lambda d: (d / "a.parquet").write_text("x") and d, "no finished result"),
    (lambda d: (d / "FAILED").write_text("boom") and d, "failed run"),
    (lambda d: (d / "comparison.parquet").write_text("x") and d, "unfinished comparison"),
    (lambda d: (d / "table.csv").write_text("x") and d, "no finished result"),
    (lambda d: d, "is not a cxsim run, comparison or experiment"),
])
def test_bad_paths_get_one_line_and_nothing_written(tmp_path, make, rule):
    target = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    done = report(str(target))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and rule in done.stderr
    assert done.stderr.startswith("cxsim-report: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def _garble(path: Path) -> None:
    path.write_bytes(b"PAR1 this is no table PAR1")


_EXPLOIT = "!!python/object/apply:os.system ['echo ran > {}']\n"


@pytest.mark.parametrize("damage, says", [
    (lambda d: _garble(d / "summary.parquet"), "summary.parquet is not a readable Parquet table"),
    (lambda d: _garble(d / "timeseries.parquet"),
     "timeseries.parquet is not a readable Parquet table"),
    (lambda d: (d / "meta.json").write_text("[1, 2]"), "meta.json must hold a JSON object; "
     "got [1, 2]"),
    (lambda d: (d / "meta.json").write_text('{"run_id": '), "meta.json is not valid JSON"),
    (lambda d: (d / "config.yaml").write_text(_EXPLOIT.format(d / "ran")),
     "config.yaml is not valid YAML (could not determine a constructor for the tag "
     "'tag:yaml.org,2002:python/object/apply:os.system'"),
    (lambda d: (d / "config.yaml").unlink(), "config.yaml is missing"),
    (lambda d: [p.unlink() for p in d.iterdir() if p.name != "meta.json"],
     "config.yaml is missing"),
    (lambda d: (d / "clients.parquet").unlink(), "clients.parquet is missing"),
    (lambda d: (d / "timeseries.parquet").write_bytes((d / "summary.parquet").read_bytes()),
     "timeseries.parquet is not a cxsim timeseries table (it has no column 'abandoned')"),
    (lambda d: (d / "config.yaml").write_text("seed: 0\n"),
     "config.yaml must hold the run's 'sim' section, as cxsim saves it"),
    (lambda d: (d / "config.yaml").write_text("sim: {years: 1}\nmarket: 3\n"),
     "config.yaml must hold the run's 'market' section, as cxsim saves it"),
    (lambda d: (d / "config.yaml").write_text("sim: {years: 1}\nmarket: {}\nfirms: {}\n"),
     "config.yaml must hold the run's sim.days_per_month as a number, as cxsim saves it; "
     "got None"),
])
def test_a_damaged_run_folder_is_one_line_naming_the_file(duel, tmp_path, damage, says):
    run = tmp_path / "run"
    duel.save(run)
    damage(run)
    before = sorted(p.name for p in run.iterdir())
    done = report(str(run))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"cxsim-report: error: {run / says.split()[0]}")
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert sorted(p.name for p in run.iterdir()) == before  # nothing written, no code ran


@pytest.mark.parametrize("name, text, says", [
    ("comparison.json", '{"seed": 1', "comparison.json is not valid JSON"),
    ("comparison.json", '"a"', "comparison.json must hold a JSON object; got 'a'"),
    ("run.json", "", "run.json is not valid JSON"),
])
def test_a_damaged_marker_is_one_line_naming_the_file(tmp_path, name, text, says):
    (tmp_path / name).write_text(text)
    done = report(str(tmp_path))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"cxsim-report: error: {tmp_path / name} ")
    assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == [name]


def test_a_write_that_fails_leaves_no_half_file(tmp_path):
    def broken(path: Path) -> None:
        path.write_text("<html>half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "report.html", broken)
    assert list(tmp_path.iterdir()) == []


def test_a_saved_run_reports_from_its_folder(duel, tmp_path):
    """A run writes exactly the columns ``Results.load`` demands of each table."""
    from cxsim.simulation.results import COLUMNS

    for table, columns in COLUMNS.items():
        assert set(getattr(duel, table).columns) == columns, table
    duel.save(tmp_path / "run")
    out = write_report(tmp_path / "run", tmp_path / "page.html")
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "The answer" in html
    assert "http://" not in html and "https://" not in html


def test_two_identical_runs_write_the_same_page_but_for_its_written_time(tmp_path):
    """Byte for byte, charts included (matplotlib's SVG ids were random per save); only the
    provenance's "written" cell, the time the result was written, is masked."""
    written = re.compile(r'(<td class="name">written</td><td class="name">)[^<]*(</td>)')
    pages = []
    for name in ("a", "b"):
        cxsim.run(cxsim.compose(["market.size=300", "sim.years=0.5"])).save(tmp_path / name)
        html = write_report(tmp_path / name).read_text(encoding="utf-8")
        masked, count = written.subn(r"\1WRITTEN\2", html)
        assert count == 1 and "data:image/svg+xml" in html
        pages.append(masked)
    assert pages[0] == pages[1]


def test_the_demo_prints_both_markets_and_writes_its_report(tmp_path):
    done = subprocess.run([sys.executable, "-m", "cxsim.demo", "--clients", "300", "--years",
                           "1.5", "--replications", "2", "--workers", "1", "--out",
                           str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("- ")]
    assert lines.pop(0).startswith("- Bottom line: among recurring business clients, ")
    assert [line.split(" (")[0] for line in lines] == ["- Recurring business clients",
                                                       "- One-off consumers"]
    assert all("Bottom line: " in line and "_" not in line for line in lines)  # no config keys
    page = (tmp_path / "report.html").read_text()
    assert "Market share over time: One-off consumers" in page


def test_an_experiments_answer_comes_from_its_summary():
    from cxsim.report.experiment import answer_bullets

    with_answer = ("# T\n\nSize.\n\n## Answer\n\nThe best is **better**: 5 (95% CI 1 to 9).\n"
                   "It holds.\n\n| a | b |\n| --- | --- |\n\n- one `bullet`\n  continued\n\n"
                   "## How to read it\n\n- not this\n")
    assert answer_bullets(with_answer) == ["The best is better: 5 (95% CI 1 to 9). It holds.",
                                           "one bullet continued"]
    by_section = ("# T\n\nSize.\n\n- first\n\n## rule\n\n- a\n- b\n\n## How to read it\n\n"
                  "- not this\n")
    assert answer_bullets(by_section) == ["first", "rule: a", "rule: b"]


@pytest.mark.parametrize("overrides, says", [
    (["scenario=solo"], "The balanced firm ends with"),
    (["market.organic_acquisition_per_year=0", "network=none",
      "firms.client_first.initial_share=0", "firms.client_first.budget_share=0"],
     "single replication"),
])
def test_a_page_renders_for_one_firm_one_replication_and_a_firm_without_clients(overrides, says):
    results = cxsim.run(cxsim.compose(["market.size=300", "sim.years=0.5", *overrides]))
    html = render(page_of(results))
    assert says in html and "The answer" in html
    if "firms.client_first.initial_share=0" in overrides:
        assert results.summary.set_index("firm").loc["client_first", "active_final"] == 0
        assert "no data" in html and "not estimable" not in html
        printed = summary_table(results)
        assert "no data" in printed and "nan" not in printed.lower()
        figures = html[:html.index(">written</td>")]  # provenance is filled when written
        assert not re.search(r">\s*(nan|NaN|n/a)?\s*</td>", figures), "a blank or nan cell"
    assert "(one replication: no interval)" in html


# ---------------------------------------------------------------- an industry
def test_an_industry_page_answers_with_the_delivery_gap_and_a_row_per_firm(tmp_path):
    """Three firms or more: the first screen is who believes and whose clients agree (read
    from the saved summary, not written in), and the key figures are a row per firm."""
    from cxsim.report.run import run_page
    from cxsim.simulation.delivery_gap import believe_and_agree
    from cxsim.simulation.results import mean_ci

    done = subprocess.run([sys.executable, "-m", "cxsim", "scenario=industry", "market.size=1000",
                           "sim.years=1", "experiment.replications=2",
                           f"hydra.run.dir={tmp_path}/run"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page = run_page(tmp_path / "run")
    summary = Results.load(tmp_path / "run").summary
    believe = mean_ci(100 * believe_and_agree(summary).believe.to_numpy())
    expected = answer.interval(E(*believe, 2), "%", 0)
    assert page.title == "An industry of 10 firms"
    assert page.answer[0].startswith(f"Bottom line: by their own surveys {expected} of the 10 "
                                     "firms believe")
    assert [t.title for t in page.tiles][:2] == ["Firms that believe they are above the "
                                                 "industry", "Firms whose clients agree"]
    kpis = page.tables[0]
    assert kpis.columns[0] == "firm" and len(kpis.rows) == 10
    assert "NPS by the industry study" in kpis.columns
    assert "Bain's 80%" in page.headline.alt
