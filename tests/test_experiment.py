"""Replications, paired comparisons on common random numbers, and ``cxsim-compare``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import cxsim
from cxsim.compare_cli import main
from cxsim.simulation.experiment import replicate_each
from cxsim.simulation.results import mean_ci

SMALL = ["market.size=300", "sim.years=1", "network=none"]
HEADLINE = ["clv_mean", "retention_annual", "nps_true", "active_final"]
TOTALS = ["revenue_total", "margin_total"]


@pytest.fixture(scope="module")
def small():
    return cxsim.compose(SMALL)


@pytest.fixture(scope="module")
def ensemble(small):
    return cxsim.replicate(small, 3, progress=False)


def _first_firm(cfg) -> str:
    return next(iter(cfg.firms))


def test_one_replication_is_run(small):
    ensemble = cxsim.replicate(small, 1, progress=False)
    results = cxsim.run(small)
    assert_frame_equal(ensemble.summary, results.summary)
    assert_frame_equal(ensemble.timeseries, results.timeseries)
    assert_frame_equal(ensemble.touchpoints, results.touchpoints)  # the report's journey maps


def test_replication_i_is_run_with_replication_i(small, ensemble):
    assert ensemble.n == 3
    last = ensemble.summary[ensemble.summary.replication == 2].reset_index(drop=True)
    assert_frame_equal(last, cxsim.run(small, replication=2).summary)


def test_workers_do_not_change_the_ensemble(small, ensemble):
    parallel = cxsim.replicate(small, 3, workers=2, progress=False)
    assert_frame_equal(parallel.summary, ensemble.summary)
    assert_frame_equal(parallel.timeseries, ensemble.timeseries)
    assert_frame_equal(parallel.touchpoints, ensemble.touchpoints)



def test_several_scenarios_on_one_set_of_workers_are_each_alone(small, ensemble):
    """What the demo runs: two markets' replications on one pool, each as replicate's."""
    other = cxsim.compose([*SMALL, "market=recurring_b2b"])
    both = replicate_each([small, other], 3, workers=2, progress=False)
    for got, alone in zip(both, (ensemble, cxsim.replicate(other, 3, progress=False))):
        assert_frame_equal(got.summary, alone.summary)
        assert_frame_equal(got.timeseries, alone.timeseries)
    assert not both[0].summary.equals(both[1].summary)

def test_table_is_mean_and_student_t_interval_per_firm(ensemble):
    table = ensemble.table()
    firms = list(ensemble.summary.firm.unique())
    assert list(table.firm.unique()) == firms
    assert "replication" not in set(table.metric) and "clv_ci_low" not in set(table.metric)
    row = table[(table.firm == firms[0]) & (table.metric == "margin_total")].iloc[0]
    values = ensemble.summary.loc[ensemble.summary.firm == firms[0], "margin_total"]
    assert (row["mean"], row.ci_low, row.ci_high) == pytest.approx(mean_ci(values.to_numpy()))
    assert row.n == 3


def test_timeseries_band_has_one_row_per_firm_and_month(ensemble):
    band = ensemble.timeseries_ci("active_clients")
    assert len(band) == ensemble.timeseries.groupby(["firm", "month"]).ngroups
    assert (band.n == 3).all()
    assert (band.ci_low <= band["mean"]).all() and (band["mean"] <= band.ci_high).all()


def test_same_scenario_twice_differs_by_exactly_zero(small):
    table = cxsim.compare(small, small, 3, progress=False).table()
    assert len(table) > 0
    for column in ("diff", "ci_low", "ci_high", "ci_width_paired"):
        assert (table[column] == 0).all(), column
    assert (table.mean_a == table.mean_b).all()


@pytest.fixture(scope="module")
def price_lever():
    """The default scenario, small, with and without a 10% higher price at one firm."""
    base = ["market.size=1000", "sim.years=1"]
    a = cxsim.compose(base)
    b = cxsim.compose(base + [f"firms.{_first_firm(a)}.price_level=1.1"])
    return cxsim.compare(a, b, 10, progress=False).table(HEADLINE + TOTALS)


def _narrowing(table: pd.DataFrame, metrics: list[str]) -> pd.Series:
    rows = table[table.metric.isin(metrics)].set_index(["firm", "metric"])
    return 1.0 - rows.ci_width_paired / rows.ci_width_independent


def test_the_lever_changes_something(price_lever):
    rows = price_lever[price_lever.metric == "revenue_total"]
    assert ((rows.ci_low > 0) | (rows.ci_high < 0)).any()


def test_pairing_narrows_the_ci_of_totals(price_lever):
    narrowing = _narrowing(price_lever, TOTALS)
    assert (narrowing > 0).all(), narrowing.round(2).to_dict()


def test_pairing_narrows_the_ci_by_30_percent(price_lever):
    narrowing = _narrowing(price_lever, HEADLINE + TOTALS)
    assert (narrowing >= 0.3).all(), narrowing.round(2).to_dict()


@pytest.mark.parametrize(("n", "workers", "message"), [
    (0, 1, "n must be an integer >= 1; got 0"),
    (2.5, 1, "n must be an integer >= 1; got 2.5"),
    (True, 1, "n must be an integer >= 1; got True"),
    (2, 0, "workers must be an integer >= 1; got 0"),
])
def test_bad_counts_raise_config_error(small, n, workers, message):
    with pytest.raises(cxsim.ConfigError, match=f"^{message}$"):
        cxsim.replicate(small, n, workers=workers)
    with pytest.raises(cxsim.ConfigError, match=f"^{message}$"):
        cxsim.compare(small, small, n, workers=workers)


def test_a_config_error_in_a_worker_reaches_the_caller(small):
    bad = cxsim.compose(SMALL + [f"firms.{_first_firm(small)}.journey=/no/such.yaml"])
    message = "^journey file '/no/such.yaml' does not exist$"
    with pytest.raises(cxsim.ConfigError, match=message):
        cxsim.replicate(bad, 2, workers=2, progress=False)


def test_compare_needs_one_seed(small):
    other = cxsim.compose(SMALL + ["seed=1"])
    with pytest.raises(cxsim.ConfigError, match="^seed must be the same"):
        cxsim.compare(small, other, 2)


def test_unknown_metric_raises_config_error(ensemble):
    with pytest.raises(cxsim.ConfigError, match="^metrics must name .*; got 'clv'$"):
        ensemble.table(["clv"])


def test_command_prints_and_saves_the_paired_table(small, tmp_path, capsys):
    lever = f"firms.{_first_firm(small)}.price_level=1.1"
    main(["--common", *SMALL, "--b", lever, "-n", "2", "--out", str(tmp_path / "out")])
    printed = capsys.readouterr().out
    assert "variance_reduction" in printed and "margin_total" in printed
    csv = pd.read_csv(tmp_path / "out" / "comparison.csv")
    parquet = pd.read_parquet(tmp_path / "out" / "comparison.parquet")
    assert list(parquet.columns[:10]) == [
        "firm", "metric", "mean_a", "mean_b", "diff", "ci_low", "ci_high", "ci_width_paired",
        "ci_width_independent", "variance_reduction"]
    assert np.allclose(csv["diff"], parquet["diff"])
    assert (parquet.n == 2).all()


@pytest.mark.parametrize(("argv", "message"), [
    (["--a", "market.sise=3"], "config key 'market.sise' is not a known setting"),
    (["--common", "market.size=-5"], "market.size must be in [1, 100,000,000]; got -5"),
    (["-n", "0"], "n must be an integer >= 1; got 0"),
    (["-n", "x"], "argument -n/--replications: invalid int value: 'x'"),
    (["--a", "seed=1"], "seed must be the same in both scenarios"),
])
def test_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cxsim-compare: error: {message}") and err.count("\n") == 1, err
    assert not out.exists()


def test_replications_run_side_by_side_in_bounded_chunks_for_the_workers():
    """Chunks cover the replications in order, hold at most BATCH_CLIENTS clients and
    BATCH_REPLICATIONS replications each, and are at least as many as the workers."""
    from cxsim.config import to_config
    from cxsim.simulation.experiment import BATCH_CLIENTS, BATCH_REPLICATIONS, chunks

    for size, n, workers in [(2_000, 10, 1), (2_000, 10, 2), (10_000, 10, 1), (50, 500, 1),
                             (100_000, 3, 2), (2_000, 1, 4)]:
        cfg = to_config(cxsim.compose([f"market.size={size}"]))
        cut = chunks(cfg, range(n), workers)
        assert [r for chunk in cut for r in chunk] == list(range(n))
        assert all(len(c) * size <= max(BATCH_CLIENTS, size) for c in cut)
        assert all(len(c) <= BATCH_REPLICATIONS for c in cut)
        assert len(cut) >= min(workers, n)
