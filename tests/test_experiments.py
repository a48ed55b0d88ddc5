"""Each experiment in ``experiments/`` end to end at its tiny size.

``run.py --tiny`` runs every cell of the experiment at 300 clients (one year;
two for ``org_chart``, whose shock lasts to month 17) with 2 replications,
then writes the tidy table, the timeseries, the figures and ``summary.md``.
The numbers are noise at this size; what is checked is the plumbing: one
row per cell x replication x firm, the parameters as columns, common random
numbers across cells, the figures, and a summary that quotes the table.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from markupsafe import escape

import cxsim
from cxsim.config import to_config
from cxsim.report.experiment import answer_bullets
from experiments import common

ROOT = Path(__file__).resolve().parents[1] / "experiments"
FIRMS = {"sales_first", "client_first"}
REPLICATIONS = 2

pytestmark = pytest.mark.xdist_group("experiments")  # one worker runs them all


def _firm(table: pd.DataFrame, firm: str, **params) -> pd.DataFrame:
    rows = table[table.firm == firm]
    for column, value in params.items():
        rows = rows[rows[column] == value]
    return rows


def _tvr(table: pd.DataFrame) -> list[str]:
    share = _firm(table, "client_first", market="recurring_b2b").share_final
    return [common.fmt_ci(common.ci(share), "%", 100), "crossover"]


def _funding(table: pd.DataFrame) -> list[str]:
    clv = _firm(table, "client_first", cx_share=0.01, org="cco").clv_final_year
    return [common.fmt_ci(common.ci(clv)), "extra margin per extra CX dollar", "| 15% | no_cco |"]


def _org(table: pd.DataFrame) -> list[str]:
    diff = common.cell_difference(table, "clv_final_year", "sales_first", "cco", "no_cco")
    return [common.fmt_ci(common.ci(diff)), "CX spend during the shock"]


def _referral(table: pd.DataFrame) -> list[str]:
    share = _firm(table, "client_first", network="small_world",
                  social_influence=1.5).referral_share
    return [common.fmt_ci(common.ci(share), "%", 100), "Without a network nobody is referred"]


def _where(table: pd.DataFrame) -> list[str]:
    cell = table[(table.days_between_needs == 15) & (table.social_influence == 0.05)]
    diff = common.firm_difference(cell, "clv_final_year", "client_first", "sales_first")
    return [common.num(common.ci(diff.difference)[0]), "relationship focus wins in"]


def _cdnow(table: pd.DataFrame) -> list[str]:
    share = _firm(table, "client_first", cell="cdnow").share_final
    return [common.fmt_ci(common.ci(share), "%", 100), "calibration/report.html"]


EXPERIMENTS: dict[str, tuple[list[str], list[str], Callable[[pd.DataFrame], list[str]]]] = {
    # name: (parameter columns, figures, the key numbers and words summary.md must quote)
    "transaction_vs_relationship": (["market"], ["share_over_time.png", "clv.png"], _tvr),
    "funding_scenarios": (["cx_share", "org", "budget_share", "acquisition_share"],
                          ["clv_and_share.png", "returns.png"], _funding),
    "org_chart": (["org"], ["cx_spend.png", "outcomes.png"], _org),
    "referral_networks": (["network", "social_influence"], ["referrals.png"], _referral),
    "where_relationship_wins": (["days_between_needs", "social_influence"], ["heatmap.png"],
                                _where),
    "calibrated_cdnow": (["market"], ["share_over_time.png", "clv.png"], _cdnow),
}


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_experiment_runs_end_to_end_at_tiny_size(name, tmp_path):
    params, figures, key_phrases = EXPERIMENTS[name]
    shipped = ROOT.parent / "configs" / "market" / "cdnow.yaml"
    before = shipped.read_bytes()
    run = importlib.import_module(f"experiments.{name}.run")
    run.main(["--tiny", "--out", str(tmp_path), "--quiet"])
    exp = common.load(ROOT / name)
    if name == "calibrated_cdnow":  # it calibrates first, into its output, not configs/
        assert shipped.read_bytes() == before and (tmp_path / "cdnow.yaml").is_file()
        assert "cumulative repeat purchases by week" in (
            tmp_path / "calibration" / "report.html").read_text()

    table = pd.read_parquet(tmp_path / "table.parquet")
    assert len(table) == len(exp.cells) * REPLICATIONS * len(FIRMS)
    assert set(params) <= set(table.columns)
    assert {"cell", "replication", "firm", "clv_final_year", "share_final", "referral_share",
            "return_on_cx_spend", "growth"} <= set(table.columns)
    assert not table.duplicated(["cell", "replication", "firm"]).any()
    assert set(table.cell) == {c.name for c in exp.cells}
    assert set(table.firm) == FIRMS
    # common random numbers: every cell runs replications 0..n-1 from one seed
    assert table.seed.nunique() == 1
    assert table.groupby("cell").replication.agg(lambda r: sorted(set(r))).map(
        lambda r: r == list(range(REPLICATIONS))).all()
    assert len(pd.read_csv(tmp_path / "table.csv")) == len(table)

    series = pd.read_parquet(tmp_path / "timeseries.parquet")
    months = series.month.nunique()
    assert len(series) == len(table) * months
    assert set(params) <= set(series.columns)

    for figure in figures:
        assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    text = (tmp_path / "summary.md").read_text()
    assert "95% CI" in text
    for phrase in key_phrases(table):
        assert phrase in text, f"summary.md of {name} should quote {phrase!r}"
    meta = json.loads((tmp_path / "run.json").read_text())
    assert meta["tiny"] and meta["replications"] == REPLICATIONS
    assert meta["market_size"] == 300
    page = (tmp_path / "report.html").read_text()
    for sentence in answer_bullets(text):
        assert escape(sentence) in page, f"report.html of {name} should state {sentence!r}"
    for figure in figures:
        assert f"Figure {Path(figure).stem.replace('_', ' ')}" in page


def test_replot_redraws_from_the_saved_tables(tmp_path):
    run = importlib.import_module("experiments.transaction_vs_relationship.run")
    run.main(["--tiny", "--out", str(tmp_path), "--quiet"])
    before = (tmp_path / "summary.md").read_text()
    (tmp_path / "summary.md").unlink()
    (tmp_path / "clv.png").unlink()
    run.main(["--tiny", "--out", str(tmp_path), "--replot"])
    assert (tmp_path / "summary.md").read_text() == before
    assert (tmp_path / "clv.png").is_file()


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_cell_is_a_valid_cxsim_config_at_full_size(name):
    """The README command (no --tiny) must not fail on a cell after hours of others."""
    exp = common.load(ROOT / name)
    seeds = {to_config(cxsim.compose([*exp.common, *cell.overrides])).seed
             for cell in exp.cells}
    assert len(seeds) == 1


@pytest.mark.parametrize("end", [0, 1])
def test_every_morris_bound_is_a_valid_cxsim_config(end):
    """Every design point lies inside the bounds, and each key's rule is a range: the corners do."""
    exp = common.load(ROOT / "sensitivity")
    bounds = exp.spec["morris"]["parameters"]
    to_config(cxsim.compose([*exp.common, *(f"{k}={v[end]!r}" for k, v in bounds.items())]))
    for cell in exp.cells:
        for key, (low, high) in bounds.items():
            value = cell.params[exp.spec["columns"].get(key, key)]
            assert low <= value <= high


def test_a_grid_expands_as_a_product_with_labelled_values():
    exp = common.load(ROOT / "funding_scenarios")
    assert len(exp.cells) == 5 * 2
    cell = exp.cells[0]
    assert cell.name == "cx_share=0.01,org=cco"
    assert cell.params == {"cx_share": 0.01, "org": "cco", "budget_share": 0.07,
                           "acquisition_share": 0.857143}
    # budget_share x acquisition_share holds acquisition at 6% of revenue in every cell
    for c in exp.cells:
        acquisition = c.params["budget_share"] * c.params["acquisition_share"]
        assert acquisition == pytest.approx(0.06, abs=1e-6)
        assert c.params["budget_share"] - acquisition == pytest.approx(c.params["cx_share"])


def test_a_bad_override_fails_before_anything_runs(tmp_path, capsys):
    run = importlib.import_module("experiments.org_chart.run")
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--tiny", "--out", str(tmp_path), "market.size=-5"])
    assert exit_info.value.code == 2
    assert "market.size must be in [1, 100,000,000]; got -5" in capsys.readouterr().err
    assert not (tmp_path / "run.json").exists()


# ------------------------------------------------ sensitivity (Morris, SALib)
def test_sensitivity_runs_a_morris_design_end_to_end(tmp_path):
    run = importlib.import_module("experiments.sensitivity.run")
    run.main(["--tiny", "--out", str(tmp_path), "--quiet"])
    exp = common.load(ROOT / "sensitivity", tiny=True)
    names = list(exp.spec["columns"].values())
    k = len(names)
    table = pd.read_parquet(tmp_path / "table.parquet")
    assert len(exp.cells) == exp.spec["tiny"]["trajectories"] * (k + 1)
    assert len(common.load(ROOT / "sensitivity").cells) == exp.spec["morris"]["trajectories"] * (
        k + 1)
    assert len(table) == len(exp.cells) * exp.tiny_replications * len(FIRMS)
    # a Morris trajectory changes exactly one parameter per step
    points = table.drop_duplicates("point").sort_values("point")[names].to_numpy()
    for start in range(0, len(points), k + 1):
        steps = np.diff(points[start:start + k + 1], axis=0) != 0
        assert (steps.sum(axis=1) == 1).all() and (steps.sum(axis=0) == 1).all()
    for metric in ("clv_final_year", "share_final"):
        ranked = pd.read_csv(tmp_path / f"morris_{metric}.csv")
        assert sorted(ranked.parameter) == sorted(names)
        assert (ranked.mu_star >= 0).all() and ranked.mu_star.is_monotonic_decreasing
    assert (tmp_path / "morris.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (tmp_path / "summary.md").read_text()
    assert ranked.parameter.iloc[0] in text and "μ*" in text


def test_sensitivity_finds_the_one_parameter_that_matters(tmp_path):
    """The analysis on a table whose output depends on one parameter only (no simulation)."""
    run = importlib.import_module("experiments.sensitivity.run")
    exp = common.load(ROOT / "sensitivity", tiny=True)
    rows = []
    for cell in exp.cells:
        gap = 1000.0 * cell.params["social_influence"]  # only word of mouth moves the gap
        for firm, value in (("sales_first", 0.0), ("client_first", gap)):
            rows.append({"cell": cell.name, "replication": 0, "firm": firm, **cell.params,
                         "clv_final_year": value, "share_final": value / 1e4})
    outcome = common.Outcome(exp, pd.DataFrame(rows), pd.DataFrame(), tmp_path, {})
    found = run.analyse(outcome)
    ranked = found["clv_final_year"]
    assert ranked.parameter.iloc[0] == "social_influence"
    # SALib's effect is per whole range: the gap moves 1000 per unit over a range of 1.5
    assert ranked.mu_star.iloc[0] == pytest.approx(1000.0 * 1.5)
    assert (ranked.mu_star.iloc[1:] == 0).all()


# ------------------------------------------------ funding optimizer (Optuna)
def test_funding_optimizer_searches_resumes_and_compares(tmp_path, capsys):
    run = importlib.import_module("experiments.funding_optimizer.run")
    found = run.main(["--tiny", "--out", str(tmp_path), "--quiet"])
    trials = pd.read_csv(tmp_path / "trials.csv")
    assert len(trials) == 3
    shares = trials[[c for c in trials.columns if c.startswith("share_")]]
    assert shares.shape[1] == len(found["touchpoints"]) == 7
    assert np.allclose(shares.sum(axis=1), 1.0)
    assert trials.value.max() == pytest.approx(trials.value.iloc[found["best_trial"]])
    comparison = pd.read_csv(tmp_path / "comparison.csv")
    row = comparison[comparison.metric == "clv_final_year"].iloc[0]
    assert row.n == 2 and row.ci_low <= row["diff"] <= row.ci_high
    assert (tmp_path / "optimizer.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "paired difference" in (tmp_path / "summary.md").read_text()
    assert json.loads((tmp_path / "run.json").read_text())["trials"] == 3

    # the same command with more trials resumes the study: the first three are kept
    run.main(["--tiny", "--out", str(tmp_path), "--quiet", "--trials", "4"])
    again = pd.read_csv(tmp_path / "trials.csv")
    assert len(again) == 4
    assert again.value.iloc[:3].tolist() == trials.value.tolist()

    # a study of other settings is not mixed in
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--tiny", "--out", str(tmp_path), "--quiet", "market.size=400"])
    assert exit_info.value.code == 2
    assert "holds a study of other settings" in capsys.readouterr().err


# ------------------------------------------------------------- the delivery gap (ten firms)
def test_the_delivery_gap_experiment_runs_end_to_end_at_tiny_size(tmp_path):
    run = importlib.import_module("experiments.delivery_gap.run")
    run.main(["--tiny", "--out", str(tmp_path), "--quiet"])
    exp = common.load(ROOT / "delivery_gap", tiny=True)
    firms = set(cxsim.compose(exp.common).firms)
    assert len(firms) == 10
    table = pd.read_parquet(tmp_path / "table.parquet")
    assert len(table) == len(exp.cells) * REPLICATIONS * len(firms)
    assert set(table.firm) == firms and table.seed.nunique() == 1
    assert set(table.survey) == set(run.LABELS)
    assert table["firms.alder.response"].dropna().str.startswith("{detractor:").all()
    for figure in ("believe_agree.png", "nps_three_ways.png", "response_sweep.png"):
        assert (tmp_path / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    from cxsim.simulation.delivery_gap import believe_and_agree
    as_firms = believe_and_agree(table[table.survey == run.AS_FIRMS])
    text = (tmp_path / "summary.md").read_text()
    assert common.fmt_ci(common.ci(as_firms.believe), "%", 100) in text
    page = (tmp_path / "report.html").read_text()
    for sentence in answer_bullets(text):
        assert escape(sentence) in page


# ------------------------------------------------------ BPIC 2012's journey (an event log)
def test_the_bpic2012_journey_experiment_runs_end_to_end_at_tiny_size(tmp_path):
    """Discover, check, then the what-if, on every tenth case of BPIC 2012 with two
    replications: the check's page, the paired effects of both levers, and the summary
    quoting them."""
    run = importlib.import_module("experiments.bpic2012_journey.run")
    found = run.main(["--tiny", "--out", str(tmp_path), "--quiet"])
    assert (tmp_path / "check" / "report.html").is_file()
    assert json.loads((tmp_path / "check" / "fit.json").read_text())["replications"] == 2
    table = pd.read_csv(tmp_path / "table.csv")
    assert set(table.cell) == set(run.CELLS) and len(table) == 2 * len(run.CELLS)
    assert ((table.walk_away_share > 0) & (table.walk_away_share < 1)).all()
    effects = pd.read_csv(tmp_path / "effects.csv")
    assert set(effects.cell) == {"two_more_staff", "faster_call_back"}
    assert set(effects.measure) == set(run.MEASURES)
    staffed = yaml.safe_load((tmp_path / "journey" / "bpic2012_two_more_staff.yaml")
                             .read_text())["touchpoints"][run.CALL_BACK]["staff"]
    base = yaml.safe_load((tmp_path / "journey" / "bpic2012_as_discovered.yaml")
                          .read_text())["touchpoints"][run.CALL_BACK]["staff"]
    assert staffed == base + run.EXTRA_STAFF
    faster = effects.set_index(["cell", "measure"]).loc[("faster_call_back",
                                                         "cycle_mean_hours")]
    assert faster.difference < 0  # a faster call-back shortens the mean case
    text = (tmp_path / "summary.md").read_text()
    assert all(run._said(row) in text for row in effects.itertuples())
    assert (tmp_path / "effects.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((tmp_path / "run.json").read_text())["tiny"] and found["table"] is not None
    market = pd.read_csv(tmp_path / "market_effects.csv")
    assert set(market.measure) == set(run.MARKET_MEASURES)
    assert set(market.cell) == {"two_more_staff", "faster_call_back"}
    levels = pd.read_csv(tmp_path / "market.csv")
    assert (levels.clv_mean > 0).all() and levels.walk_away_share.between(0, 1).all()
    assert all(run._said(row) in text for row in market.itertuples())


def test_the_bpic2012_patience_study_runs_end_to_end_at_tiny_size(tmp_path):
    """The slope of cancellations against the wait for an offer, actual and simulated with
    and without reneging, on every tenth case: the calibration picks the grid's closest
    pair, the reneging journey carries it, and the control carries no patience."""
    study = importlib.import_module("experiments.bpic2012_journey.patience")
    found = study.main(["--tiny", "--out", str(tmp_path), "--quiet"])
    calibration = pd.read_csv(tmp_path / "calibration.csv")
    simulated_rows = calibration[calibration.row == "simulated"]
    assert len(simulated_rows) == len(study.TINY["patience"]) * len(study.TINY["scale"])
    best = simulated_rows.iloc[simulated_rows.distance.argmin()]
    assert (best.patience_days, best.walk_away_scale) == (found["best"]["patience_days"],
                                                          found["best"]["walk_away_scale"])
    journeys = {p.stem: yaml.safe_load(p.read_text())
                for p in (tmp_path / "journey").glob("bpic2012_*.yaml")}
    patient = [tp.get("patience_days") for tp in journeys["bpic2012_with_reneging"]
               ["touchpoints"].values() if "patience_days" in tp]
    assert patient and set(patient) == {best.patience_days}
    assert not any("patience_days" in tp for tp in journeys["bpic2012_without_reneging"]
                   ["touchpoints"].values())
    slopes = pd.read_csv(tmp_path / "slopes.csv").set_index("who")
    assert list(slopes.index) == ["actual", "with reneging", "without reneging",
                                  "without reneging, mean delays"]
    assert slopes.loc["actual", "offered"] > 100 and slopes.notna().q1.all()
    assert "points per doubling" in (tmp_path / "summary.md").read_text()
    assert (tmp_path / "slopes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_wait_slope_is_measured_as_defined():
    """offer_cases and slopes on a hand-made log: waits, calls before the offer, quarters,
    and a slope of 100 points per doubling where a doubled wait always cancels."""
    study = importlib.import_module("experiments.bpic2012_journey.patience")
    began = pd.Series(0.0, index=range(8))
    case = np.repeat(np.arange(8), 2)
    activity = np.tile([study.COMPLETING, study.OFFER], 8)
    wait = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    hours = np.column_stack([wait / 2, wait]).ravel()
    outcome = pd.Series(["purchase"] * 4 + ["walk_away"] * 4, index=range(8))
    cases = study.offer_cases(began, case, activity, hours, outcome)
    assert cases.wait_hours.tolist() == wait.tolist() and (cases.calls == 1).all()
    figures = study.slopes(cases)
    assert figures["slope"] == pytest.approx(100.0)  # one doubling: 0 -> 1, i.e. 100 points
    assert [figures[f"q{i}"] for i in range(1, 5)] == [0.0, 0.0, 1.0, 1.0]
