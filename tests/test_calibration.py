"""cxsim-calibrate: a transaction log in, a market preset, a per-customer table and a report
out; bad logs refused with one line and nothing written."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from markupsafe import escape
from scipy import stats

import cxsim
from cxsim import calibrate_cli
from cxsim.calibrate_cli import write
from cxsim.config import DAYS_PER_YEAR, config_dir, to_config
from cxsim.data import calibration
from cxsim.data.calibration import calibrate
from cxsim.report.calibration import _how_often, _money, fit_in_words
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
    assert (fit.spend_spread, fit.spread_customers) == (pytest.approx(0.4208, abs=1e-4), 507)


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
    assert cxsim.data.bgnbd.conditional_expected_repeats(39, 2, 30.43, 38.86, *PAPER.values()) == \
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


def test_a_check_run_in_parts_in_any_order_is_the_whole_check(found, cdnow_csv, tmp_path):
    """The studio streams a fit's check: the fit first, then its replications in parts on
    two workers, in any order. Joined, they are calibrate's check to the bit; the first
    parts are the check of that many replications."""
    fit = cxsim.calibrate(cdnow_csv, END, replications=0)
    assert "simulated" not in fit.weekly and fit.meta["replications"] == 0
    cfg = calibration.check_config(fit, tmp_path)
    parts = [calibration.simulate_check(cfg, fit, [2, 3]),
             calibration.simulate_check(cfg, fit, [0, 1])]
    whole = calibration.with_check(fit, parts)
    for table in ("weekly", "counts", "totals"):
        pd.testing.assert_frame_equal(getattr(whole, table), getattr(found, table))
    assert whole.meta["replications"] == found.meta["replications"] == 4
    first = calibration.with_check(fit, parts[1:])
    two = cxsim.calibrate(cdnow_csv, END, replications=2)
    pd.testing.assert_frame_equal(first.weekly, two.weekly)
    assert not first.weekly.equals(whole.weekly)  # a part is not yet the whole
    assert "simulated" not in fit.weekly  # the fit is left as it was


def test_the_command_writes_a_preset_that_runs(cdnow_csv, tmp_path):
    preset = tmp_path / "configs" / "mine.yaml"
    done = subprocess.run(
        [sys.executable, "-m", "cxsim.calibrate_cli", str(cdnow_csv), "--end", END,
         "--out", str(preset), "--results", str(tmp_path / "out"), "-n", "2"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr  # the negative control of the flags below
    assert done.stdout.startswith("customers of cdnow (2,357 customers of cdnow.csv):\nA "
                                  "typical customer buys about once every 2.1 years")
    assert "r 0.243, alpha 4.414" in done.stdout
    assert f"next: cxsim market={preset}  (the default duel" in done.stdout  # its file
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
    words = fit_in_words(found, calibration.typicals(found))
    assert [w.split(",")[0] for w in words[:2]] == [
        "In segment even", "In segment odd"] and words[0].startswith(
        "In segment even, a typical customer buys about once every 2.1 years")
    assert re.fullmatch(r"Typical .* buyers: 2\.9 purchases a year in even, 2\.9 in odd\.",
                        words[2])


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
    # a log past 100 years grew the weekly arrays to gigabytes (9999) or failed as sim.years
    "a date in year 9999": ([*GOOD, (4, "9999-12-31", 1)], "column 'date', row 7 must lie "
                            "within 100 years of the log's median date (2020-02-01): a log "
                            "spans at most 100 years; got '9999-12-31'"),
    "a date in year 1": ([(4, "0001-01-01", 1), *GOOD], "column 'date', row 1 must lie within "
                         "100 years of the log's median date (2020-01-09)"),
    "a log of 100.4 years": ([(1, "1921-01-01", 1), (1, "1921-02-01", 1), (2, "1971-01-01", 1),
                              (2, "2020-01-05", 1), (3, "2021-06-01", 1)],
                             "column 'date', row 5 must lie within 100 years"),
    # pandas reads "-1" as the year -1 (ISO 8601); with most dates there, naming the log's
    # median date raised NotImplementedError (Timestamp.date() before year 1)
    "dates in year -1": ([*GOOD[:2], (2, "-1", 1), (3, "-1", 1), (4, "-1", 1)],
                         "column 'date', row 3 must be a date from 0001-01-01 to 9999-12-31; "
                         "got '-1'"),
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


@pytest.mark.parametrize(("text", "message"), [
    ("customer,date,amount\n1,2020-01-01,1e308\n1,2020-01-01,1e308\n2,2020-01-02,5\n",
     "column 'amount', row 1 must be at most 1,000,000,000"),  # overflow in reduceat
    ("customer,date,amount\n1,2020-01-01,5,9\n1,2020-01-05,5\n2,2020-01-02,5\n",
     "log.csv', row 1 must have at most 3 fields, as the header has"),  # ParserWarning
    ("customer date amount\n\n1 2020-01-01 5 9 1\n1 2020-01-05 5\n2 2020-01-02 5\n",
     "log.csv', row 1 must have at most 3 fields, as the header has"),
])
def test_a_log_that_made_numpy_or_pandas_warn_is_one_line_without_warnings(tmp_path, text,
                                                                          message):
    """Nothing but the one line on stderr: a warning before it was noise, and pandas' one
    about a long first row meant a field silently dropped."""
    (tmp_path / "log.csv").write_text(text)
    _assert_refused(tmp_path, [str(tmp_path / "log.csv"), "--end", "2020-01-03"], message,
                    in_process=False)


def test_an_output_path_that_cannot_be_written_is_found_before_anything_is_written(
        found, cdnow_csv, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    for preset, results in ((tmp_path / "file" / "mine.yaml", tmp_path / "results"),
                            (tmp_path / "p" / "mine.yaml", tmp_path / "file" / "r")):
        with pytest.raises(OSError):
            write(found, preset, results)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
    _assert_refused(tmp_path, [str(cdnow_csv), "--end", END],
                    f"cannot write: Not a directory: {tmp_path / 'file'}",
                    out=tmp_path / "file" / "mine.yaml", capsys=capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--end", "2019-12-01"], "must not be before the log's first purchase"),
    (["--end", "2021-01-01"], "must not be after the log's last purchase"),
    (["--end", "-1"], "calibration_end must be a date from 0001-01-01 to 9999-12-31; "
                      "got '-1'"),  # was NotImplementedError from Timestamp.date()
    (["--end", "2020-03-31", "--amount-column", "spend"], "column 'spend'"),
    (["--end", "2020-03-31", "--out-name"], "unrecognized arguments"),
    (["--end", "2020-03-31", "--currency", "dollars"],
     "currency must be one line of 1 to 4 printable characters; got 'dollars'"),
    (["--end", "2020-03-31", "--label", " "],
     "label must be one line of 1 to 60 printable characters; got ' '"),
    (["--end", "2020-03-31", "--margin", "2"], "margin must be in [0, 1]; got 2.0"),
    (["--end", "2020-03-31", "--discount-rate", "0"],
     "discount_rate must be in [0.0001, 10]; got 0.0"),
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
                    "cannot be fitted: the BG/NBD fit does not converge", capsys=capsys)


def _assert_refused(tmp_path: Path, args: list[str], message: str, out: Path | None = None,
                    in_process: bool = True, capsys=None) -> None:
    """The command exits 2 with one line naming *message*, and writes nothing: in this
    process (quick), or as the console would run it (a fresh interpreter, no traceback)."""
    out = out or tmp_path / "preset" / "mine.yaml"
    argv = [*args, "--out", str(out), "--results", str(tmp_path / "results"), "-n", "1"]
    if in_process:
        with pytest.raises(SystemExit) as exit_info:
            calibrate_cli.main(argv)
        assert exit_info.value.code == 2
        stderr = capsys.readouterr().err if capsys is not None else None
    else:
        done = subprocess.run([sys.executable, "-m", "cxsim.calibrate_cli", *argv],
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
    ({"discount_rate": float("nan")}, "discount_rate must be finite; got nan"),
    ({"discount_rate": 0}, "discount_rate must be in [0.0001, 10]; got 0"),
    ({"margin": 11}, "margin must be in [0, 1]; got 11"),
    ({"margin": 1.5}, "margin must be in [0, 1]; got 1.5"),
    ({"currency": ""}, "currency must be one line of 1 to 4 printable characters"),
    ({"label": "x" * 61}, "label must be one line of 1 to 60 printable characters"),
])
def test_bad_options_of_the_api_name_themselves(tmp_path, options, message):
    """--margin and --discount-rate take the config's bounds (bounds_of), as a run would."""
    with pytest.raises(cxsim.ConfigError, match=re.escape(message)):
        cxsim.calibrate(_write_log(tmp_path, GOOD), "2020-03-31", **options)


def test_a_segment_that_cannot_name_a_preset_segment_is_refused(tmp_path, capsys):
    path = tmp_path / "log.csv"
    pd.DataFrame({"customer": [r[0] for r in GOOD], "date": [r[1] for r in GOOD],
                  "amount": [r[2] for r in GOOD], "tier": ["gold tier"] * len(GOOD)}
                 ).to_csv(path, index=False)
    _assert_refused(tmp_path, [str(path), "--end", "2020-03-31", "--segment-column", "tier"],
                    "segment column values must be names", capsys=capsys)


# --- the fit in words ----------------------------------------------------------------------


def test_the_fit_in_words_is_the_median_rate_the_mean_dropout_and_the_middle_half_of_spend(
        found):
    """CDNOW: the median λ is 0.47 a year (the mean r/α 2.87), a/(a+b) 24.6%, and the
    quartiles of a customer's mean spend p/ν, an inverse Gamma(q, pγ), $20.07 and $41.49."""
    (fit,) = found.fits
    b, s = fit.repeat_buying, fit.spend
    typical = calibration.typical(fit)
    weeks_a_year = DAYS_PER_YEAR / 7
    assert typical.purchases_per_year == pytest.approx(
        stats.gamma(b.r, scale=1 / b.alpha).median() * weeks_a_year)
    assert typical.mean_purchases_per_year == pytest.approx(2.87, abs=0.005)
    assert typical.dropout == pytest.approx(stats.beta(b.a, b.b).mean())
    assert typical.spend_quartiles == pytest.approx(
        tuple(stats.invgamma(s.q, scale=s.p * s.gamma).ppf([0.25, 0.75])))
    words = fit_in_words(found, calibration.typicals(found))
    assert words[0] == ("A typical customer buys about once every 2.1 years while it keeps "
                        "buying; about 25% stop for good after each repeat purchase; half of "
                        "them average between $20 and $41 a purchase.")
    assert "2.9 purchases a year" in words[1]
    in_francs = dataclasses.replace(found, market={**found.market, "currency": "CHF"})
    francs = fit_in_words(in_francs, calibration.typicals(in_francs))
    assert "between CHF 20 and CHF 41 a purchase" in francs[0]


@pytest.mark.parametrize(("per_year", "words"), [
    (12.4, "about 12 times a year"), (2.87, "about 2.9 times a year"),
    (1.0, "about once a year"), (0.47, "about once every 2.1 years"),
    (0.0004, "about once every 2,500 years"), (0.0, "less than once every 10,000 years")])
def test_a_rate_is_said_as_a_reader_says_it(per_year, words):
    assert _how_often(per_year) == words


@pytest.mark.parametrize(("amount", "currency", "shown"), [
    (20.07, "$", "$20"), (4.349, "€", "€4.35"), (1234.5, "CHF", "CHF 1,234")])
def test_money_carries_the_markets_currency(amount, currency, shown):
    assert _money(amount, currency) == shown


def test_the_preset_names_its_market_and_its_money(found, tmp_path):
    assert (found.market["label"], found.market["currency"]) == ("customers of cdnow", "$")
    assert calibration.default_label(tmp_path / f"{'x' * 80}.csv") == (
        "customers of " + "x" * 46 + "…")
    log = _generated_log(tmp_path / "sales.csv", 60, seed=7)
    mine = cxsim.calibrate(log, "2024-06-30", replications=0, label="Acme's clients",
                           currency="€")
    assert (mine.market["label"], mine.market["currency"]) == ("Acme's clients", "€")
    write(mine, tmp_path / "acme.yaml", tmp_path / "acme")
    assert yaml.safe_load((tmp_path / "acme.yaml").read_text())["currency"] == "€"
    page = (tmp_path / "acme" / "report.html").read_text()
    assert "Acme&#39;s clients: a market calibrated to sales.csv" in page
    assert re.search(r"half of them average between €\d+ and €\d+ a purchase", page)


# --- where each lever comes from, and what to run next ---------------------------------------


def test_each_lever_says_where_it_comes_from(found, tmp_path):
    """A lever called the default market's has the default market's value; the fitted ones
    are called the log's; the preset's comments and the page list both."""
    default = yaml.safe_load((config_dir() / "market" / "default.yaml").read_text())
    core = default["segments"]["core"]
    (segment,) = found.market["segments"].values()
    sources = calibration.lever_sources(found.market)
    assert set(sources) == set(segment) == set(core)
    defaults = [k for k, source in sources.items() if source == calibration.DEFAULT]
    assert {k for k in sources if segment[k] != core[k]} <= set(sources) - set(defaults)
    assert all(segment[k] == core[k] for k in defaults)
    assert {"purchase_rate", "dropout", "spend"} <= set(sources) - set(defaults)
    assert {"margin", "needs", "emotional_weight"} <= set(defaults)
    write(found, tmp_path / "cdnow.yaml", tmp_path / "out")
    text = (tmp_path / "cdnow.yaml").read_text()
    comments = " ".join(line for line in text.splitlines() if line.startswith("#"))
    for key, source in sources.items():
        assert key in comments and (source == calibration.DEFAULT or source in comments)
    assert yaml.safe_load(text) == found.market
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Where each segment lever comes from" in page
    assert all(str(escape(source)) in page for source in sources.values())


def test_the_next_step_is_a_command_on_the_fitted_market(found, tmp_path):
    shipped = calibrate_cli.next_steps(config_dir() / "market" / "cdnow.yaml", found.market)
    assert [command for _, command in shipped[:2]] == [
        "cxsim market=cdnow", "cxsim market=cdnow market.heterogeneity=false"]
    assert any(command.startswith("cxsim-compare --common market=cdnow ")
               for _, command in shipped)
    elsewhere = calibrate_cli.next_steps(tmp_path / "mine.yaml", found.market)
    assert elsewhere == [(what, command.replace("market=cdnow", f"market={tmp_path}/mine.yaml"))
                         for what, command in shipped]
    written = tmp_path / "mine.yaml"  # and the command runs as printed
    written.write_text((config_dir() / "market" / "cdnow.yaml").read_text())
    import cxsim
    words = elsewhere[1][1].split()[1:]
    assert cxsim.compose(words).market.heterogeneity is False


# --- a fit the log cannot support is flagged -------------------------------------------------


def _generated_log(path: Path, customers: int, seed: int) -> Path:
    """A log told the BG/NBD's way: each customer joins in the first 12 weeks, buys at its
    own rate (Gamma(2, 8 weeks) a week) until, after a repeat purchase, it stops (its chance
    Beta(1, 4)), for 52 weeks; its purchases spend Gamma(6) around its own mean, lognormal
    around 33 across customers (its spends vary by 1/sqrt(6), 41%, within a customer)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(2.0, 1 / 8.0, customers)
    stop = rng.beta(1.0, 4.0, customers)
    mean_spend = rng.lognormal(3.5, 0.5, customers)
    rows = []
    for c in range(customers):
        day = int(rng.integers(0, 7 * 12))
        days = [day]
        while (day := day + int(7 * rng.exponential(1 / rate[c])) + 1) < 7 * 52:
            days.append(day)
            if rng.random() < stop[c]:
                break
        spent = rng.gamma(6.0, mean_spend[c] / 6.0, len(days))
        rows += [(c, str(np.datetime64("2024-01-01") + d), round(float(a), 2))
                 for d, a in zip(days, spent)]
    pd.DataFrame(rows, columns=["customer", "date", "amount"]).to_csv(path, index=False)
    return path


def test_a_spend_fit_that_leaves_a_customer_no_spread_is_flagged(tmp_path, capsys):
    """Rule (b), the reported bug: on this log the maximiser stops on the Gamma-Gamma's
    plateau towards p -> inf (p 94,780, γ 0.0008) where each customer's spends would vary by
    0.32%, while the log's vary by 35%. The result is written, exit 0, one line on stderr,
    the same line on the page above the answer, and in the preset."""
    log = _generated_log(tmp_path / "spends.csv", 1000, seed=1)
    out, results = tmp_path / "spends.yaml", tmp_path / "results"
    calibrate_cli.main([str(log), "--end", "2024-06-30", "--out", str(out), "--results",
                      str(results), "-n", "0"])
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("cxsim-calibrate: warning: segment 'customers': spend p ")
    warning = line.removeprefix("cxsim-calibrate: warning: ")
    (fit,) = json.loads((results / "fit.json").read_text())["fits"]
    p, spread = fit["gamma_gamma"]["p"], fit["spend_spread"]
    assert 1 / math.sqrt(p) < calibration.SPREAD_FLOOR * spread  # the rule, from the file
    assert f"vary by {1 / math.sqrt(p):.2%} (1/sqrt(p)), below 1% of the {spread:.0%}" in line
    assert all(se <= value for value, se in zip(
        [*(fit["bgnbd"][k] for k in "r alpha a b".split()),
         *(fit["gamma_gamma"][k] for k in ("p", "q", "gamma"))],
        [*fit["bgnbd"]["se"], *fit["gamma_gamma"]["se"]]))  # rule (a) holds: one line only
    page = (results / "report.html").read_text()
    assert page.index(str(escape(warning))) < page.index("The answer")
    assert f"# warning: {warning}" in out.read_text()


def test_a_parameter_the_log_cannot_pin_down_is_flagged(tmp_path):
    """Rule (a): 60 customers over 26 weeks leave the dropout's Beta(a, b) loose (standard
    errors of a and b above their estimates); the spend fit is sound."""
    found = calibrate(_generated_log(tmp_path / "small.csv", 60, seed=7), "2024-06-30",
                      replications=0)
    (fit,) = found.fits
    values = dataclasses.astuple(fit.repeat_buying)[:4] + (fit.spend.p, fit.spend.q,
                                                           fit.spend.gamma)
    loose = [name for name, value, se in zip(calibration._PARAMETERS, values,
                                             (*fit.repeat_buying.se, *fit.spend.se))
             if se > value]
    assert loose == ["a", "b"]
    (line,) = found.warnings
    assert line.startswith("segment 'customers': a standard error above its estimate: a ")
    assert f"b {fit.repeat_buying.b:.4g} (se {fit.repeat_buying.se[3]:.4g})" in line
    assert "spend" not in line and "pin them down" in line


def test_a_sound_fit_is_not_flagged(found, tmp_path):
    """Negative controls: CDNOW, and a larger log told the same way as the two above."""
    assert found.warnings == [] and found.meta["warnings"] == []
    larger = calibrate(_generated_log(tmp_path / "larger.csv", 1500, seed=1), "2024-06-30",
                       replications=0)
    assert larger.warnings == []
    assert larger.fits[0].spend.p == pytest.approx(6, rel=0.3)


def test_the_rules_draw_their_lines_where_they_say(found):
    """(a) a standard error equal to its estimate passes, above it or missing fails; (b) an
    implied spread just above 1% of the log's passes, just below it fails."""
    (fit,) = found.fits
    b, s = fit.repeat_buying, fit.spend
    assert calibration.implausible([dataclasses.replace(
        fit, repeat_buying=dataclasses.replace(b, se=(b.r, *b.se[1:])))]) == []
    (line,) = calibration.implausible([dataclasses.replace(
        fit, repeat_buying=dataclasses.replace(b, se=(b.r * 1.001, math.nan, *b.se[2:])))])
    assert "r 0.2426 (se 0.2428), alpha 4.414 (no standard error)" in line
    at_the_floor = dataclasses.replace(fit, spend_spread=0.999 / math.sqrt(s.p) / 0.01)
    assert calibration.implausible([at_the_floor]) == []
    below = dataclasses.replace(fit, spend_spread=1.001 / math.sqrt(s.p) / 0.01)
    (line,) = calibration.implausible([below])
    assert "spend p 6.25 says one customer's spends vary by 40.00% (1/sqrt(p))" in line


def test_a_fit_that_fails_leaves_no_warning_before_its_line(tmp_path):
    """Spend drawn alike for every customer: the Gamma-Gamma fit has no finite maximum, and
    its optimiser's numpy warnings (which leaked before the line) stay inside it."""
    rng = np.random.default_rng(5)
    rows = []
    for customer in range(200):
        first = rng.integers(0, 200)
        days = np.sort(first + np.concatenate([[0], rng.integers(1, 365 - first,
                                                                 rng.poisson(2))]))
        rows += [(customer, str(np.datetime64("1997-01-01") + int(day)),
                  f"{rng.gamma(2.0, 20.0) + 1:.2f}") for day in days]
    _assert_refused(tmp_path, [str(_write_log(tmp_path, rows)), "--end", "1997-06-30"],
                    "cannot be fitted: the Gamma-Gamma spend fit does not converge",
                    in_process=False)
