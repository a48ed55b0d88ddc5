"""cxsim-calibrate: a transaction log in, a market preset, a per-customer table and a report
out; bad logs refused with one line and nothing written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import cxsim
from cxsim import calibration
from cxsim.calibration import calibrate, write
from cxsim.config import DAYS_PER_YEAR, to_config
from tests.validation.cdnow import cdnow_log

END = "1997-09-30"
PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("log") / "cdnow.csv"
    cdnow_log().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def found(cdnow_csv) -> calibration.Calibration:
    return cxsim.calibrate(cdnow_csv, END, replications=4)


def test_the_fit_is_the_papers(found):
    (fit,) = found.fits
    for name, value in PAPER.items():
        assert getattr(fit.repeat_buying, name) == pytest.approx(value, abs=5e-4)
    assert (fit.spend.p, fit.spend.q, fit.spend.gamma) == pytest.approx((6.25, 3.74, 15.44),
                                                                       abs=5e-3)
    assert fit.customers == 2357 and fit.spenders == 946


def test_the_preset_carries_the_fits_in_years(found):
    (segment,) = found.market["segments"].values()
    assert segment["purchase_rate"]["alpha_years"] == pytest.approx(
        PAPER["alpha"] * 7 / DAYS_PER_YEAR, rel=1e-3)
    assert segment["mean_days_between_needs"] is None and segment["order_value"] is None
    assert segment["dropout_after"] == "repeat_purchase"
    cfg = to_config(cxsim.compose(["market.size=100"]))
    plain = cxsim.config.as_plain(cfg)
    plain["market"] = found.market
    assert to_config(plain).market.size == 2357


def test_a_fitted_preset_outside_the_configs_bounds_is_refused(found):
    """A degenerate fit (here r beyond its bound) must not become a preset that cannot run."""
    market = yaml.safe_load(yaml.safe_dump(found.market))
    market["segments"]["customers"]["purchase_rate"]["r"] = 2e6
    with pytest.raises(cxsim.ConfigError, match=r"the fitted preset: market\.segments\."
                       r"customers\.purchase_rate\.r must be in"):
        calibration.checked_preset(market)
    assert calibration.checked_preset(found.market) is found.market


def test_the_customer_table_is_the_papers_arithmetic(found):
    """Fader, Hardie & Lee's customer (x = 2, t_x = 30.43, T = 38.86 weeks) expects 1.226
    purchases in the next 39 weeks; the table's figures follow from the same functions."""
    table = found.customers
    assert len(table) == 2357 and table.customer.is_unique
    assert ((table.probability_active > 0) & (table.probability_active <= 1)).all()
    assert (table.probability_active[table.repeat_purchases == 0] == 1).all()
    assert (table.expected_clv >= 0).all() and (table.expected_spend > 0).all()
    assert cxsim.bgnbd.conditional_expected_repeats(39, 2, 30.43, 38.86, *PAPER.values()) == \
        pytest.approx(1.226, abs=1e-3)
    holdout = found.totals.set_index("period").loc["holdout"]
    assert holdout.expected_given_history == pytest.approx(
        table.expected_holdout_purchases.sum())
    assert holdout.actual == 1882 == table.holdout_purchases.sum()


def test_the_check_compares_the_log_the_model_and_the_simulation(found):
    weekly = found.weekly
    assert len(weekly) == 78 and weekly.actual.iloc[-1] == 2457 + 1882
    assert (np.diff(weekly.simulated) >= 0).all() and (weekly.simulated_low <= weekly.simulated
                                                       ).all()
    assert found.counts.actual.sum() == found.counts.expected.sum().round() == 2357
    assert found.counts.simulated.sum() == pytest.approx(2357)
    totals = found.totals.set_index("period")
    assert totals.loc["calibration", "actual"] == 2457
    assert totals.simulated.between(0.8 * totals.actual, 1.2 * totals.actual).all()


def test_the_command_writes_a_preset_that_runs(cdnow_csv, tmp_path):
    preset = tmp_path / "configs" / "mine.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "cxsim.calibration", str(cdnow_csv), "--end", END,
         "--out", str(preset), "--results", str(tmp_path / "out"), "-n", "2"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "r 0.243, alpha 4.414" in done.stdout
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "customers.parquet", "weekly.csv", "counts.csv", "holdout.csv", "totals.csv",
        "cohort.csv", "fit.json", "report.html", "repeat_purchases.png"}
    page = (tmp_path / "out" / "report.html").read_text()
    assert "cumulative repeat purchases by week" in page and "cdnow.csv" in page
    market = yaml.safe_load(preset.read_text())
    results = cxsim.run(to_config({**cxsim.config.as_plain(to_config(cxsim.compose(
        ["sim.years=0.5"]))), "market": {**market, "size": 400}}))
    assert results.summary.purchases_total.sum() > 0


def test_the_shipped_cdnow_preset_runs():
    """configs/market/cdnow.yaml is cxsim-calibrate's output on the CDNOW sample."""
    cfg = to_config(cxsim.compose(["market=cdnow", "market.size=500", "sim.years=0.5"]))
    assert cfg.market.segments["customers"].purchase_rate.r == pytest.approx(PAPER["r"], abs=5e-4)
    assert cxsim.run(cfg).summary.purchases_total.sum() > 0


def test_a_segmented_log_gets_one_fit_per_segment(tmp_path):
    log = cdnow_log().copy()
    log["tier"] = np.where(log.customer % 2 == 0, "even", "odd")
    path = tmp_path / "tiers.parquet"
    log.to_parquet(path)
    found = calibrate(path, END, segment="tier", replications=2)
    assert [f.name for f in found.fits] == ["even", "odd"]
    shares = [s["share"] for s in found.market["segments"].values()]
    assert sum(shares) == pytest.approx(1.0) and found.market["size"] == 2357
    assert set(found.cohort.segment) == {"even", "odd"}
    assert found.totals.simulated.notna().all()


def _write_log(tmp_path: Path, rows: list[tuple], name: str = "log.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, columns=["customer", "date", "amount"]).to_csv(path, index=False)
    return path


GOOD = [(1, "2020-01-01", 10), (1, "2020-02-01", 12), (2, "2020-01-05", 5),
        (2, "2020-03-01", 7), (3, "2020-01-09", 9), (3, "2020-06-01", 3)]
BAD_LOGS = {
    "unparseable date": ([*GOOD, (4, "yesterday", 1)], "column 'date', row 7"),
    "negative amount": ([*GOOD, (4, "2020-01-02", -1)], "column 'amount', row 7"),
    "missing amount": ([*GOOD, (4, "2020-01-02", None)], "column 'amount', row 7"),
    "one customer": ([(1, "2020-01-01", 1), (1, "2020-02-01", 1), (1, "2020-07-01", 1)],
                     "at least two customers"),
    "no repeat purchase": ([(1, "2020-01-01", 1), (2, "2020-02-01", 1), (3, "2020-07-01", 1)],
                           "no repeat purchase"),
}


@pytest.mark.parametrize("case", list(BAD_LOGS))
def test_a_bad_log_is_one_line_and_nothing_written(tmp_path, capsys, case):
    rows, message = BAD_LOGS[case]
    _assert_refused(tmp_path, [str(_write_log(tmp_path, rows)), "--end", "2020-03-31"], message,
                    capsys=capsys)


def test_the_console_command_refuses_without_a_traceback(tmp_path):
    rows, message = BAD_LOGS["negative amount"]
    _assert_refused(tmp_path, [str(_write_log(tmp_path, rows)), "--end", "2020-03-31"], message,
                    in_process=False)


@pytest.mark.parametrize(("extra", "message"), [
    (["--end", "2019-12-01"], "must not be before the log's first purchase"),
    (["--end", "2021-01-01"], "must not be after the log's last purchase"),
    (["--end", "2020-03-31", "--amount-column", "spend"], "column 'spend'"),
    (["--end", "2020-03-31", "--out-name"], "unrecognized arguments"),
])
def test_bad_flags_are_one_line_and_nothing_written(tmp_path, capsys, extra, message):
    _assert_refused(tmp_path, [str(_write_log(tmp_path, GOOD)), *extra], message,
                    capsys=capsys)


def test_a_preset_name_that_is_no_name_is_refused(tmp_path, capsys):
    _assert_refused(tmp_path, [str(_write_log(tmp_path, GOOD)), "--end", "2020-03-31"],
                    "--out must be a .yaml file whose name is a preset name",
                    out=tmp_path / "my market.yaml", capsys=capsys)


def test_a_fit_that_does_not_converge_is_refused(tmp_path, monkeypatch, capsys):
    def diverge(*args, **kwargs):
        raise ValueError("no maximum")

    monkeypatch.setattr(calibration.bgnbd, "fit", diverge)
    _assert_refused(tmp_path, [str(_write_log(tmp_path, GOOD)), "--end", "2020-03-31"],
                    "the BG/NBD fit does not converge", capsys=capsys)


def _assert_refused(tmp_path: Path, args: list[str], message: str, out: Path | None = None,
                    in_process: bool = True, capsys=None) -> None:
    """The command exits 2 with one line naming *message*, and writes nothing: in this
    process (quick), or as the console would run it (a fresh interpreter, no traceback)."""
    out = out or tmp_path / "preset" / "mine.yaml"
    argv = [*args, "--out", str(out), "--results", str(tmp_path / "results"), "-n", "1"]
    if in_process:
        with pytest.raises(SystemExit) as exit_info:
            calibration.main(argv)
        assert exit_info.value.code == 2
        stderr = capsys.readouterr().err if capsys is not None else None
    else:
        done = subprocess.run([sys.executable, "-m", "cxsim.calibration", *argv],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done.stderr
        stderr = done.stderr
    if stderr is not None:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cxsim-calibrate: error: ")
        assert message in lines[0], lines[0]
    assert not out.exists() and not (tmp_path / "results").exists()


def test_written_files_come_whole(found, tmp_path):
    written = write(found, tmp_path / "p.yaml", tmp_path / "r", "cxsim-calibrate ...")
    assert written[-1] == tmp_path / "p.yaml"
    assert not list(tmp_path.rglob(".*.partial"))


@pytest.mark.parametrize(("options", "message"), [
    ({"replications": -1}, "replications must be an integer >= 0"),
    ({"seed": 1.5}, "seed must be an integer >= 0"),
    ({"discount_rate": float("nan")}, "discount_rate must be a number in [0, 10]"),
    ({"margin": 11}, "margin must be a number in [0, 10]"),
])
def test_bad_options_of_the_api_name_themselves(tmp_path, options, message):
    with pytest.raises(cxsim.ConfigError, match=re.escape(message)):
        cxsim.calibrate(_write_log(tmp_path, GOOD), "2020-03-31", **options)


def test_a_segment_that_cannot_name_a_preset_segment_is_refused(tmp_path, capsys):
    path = tmp_path / "log.csv"
    pd.DataFrame({"customer": [r[0] for r in GOOD], "date": [r[1] for r in GOOD],
                  "amount": [r[2] for r in GOOD], "tier": ["gold tier"] * len(GOOD)}
                 ).to_csv(path, index=False)
    _assert_refused(tmp_path, [str(path), "--end", "2020-03-31", "--segment-column", "tier"],
                    "segment column values must be names", capsys=capsys)
