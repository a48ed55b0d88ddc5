"""Reading and summarising a transaction log (cxsim.data.transactions).

The CDNOW sample (Fader, Hardie & Lee 2005: 2,357 customers, 39 calibration
weeks to 1997-09-30, holdout weeks 40-78) ships in the ``lifetimes``
distribution (the ``calibrate`` extra); only its data file is read.
:func:`synthetic_log` makes a log of any size; the 1,000,000-customer one
times the reading and summary (measured by hand, not asserted here).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxsim.data.transactions import Summary, read_log, summarise, weekly_repeat_purchases
from cxsim.errors import ConfigError
from tests.validation.cdnow import cdnow_path

END = "1997-09-30"


def synthetic_log(customers: int, seed: int = 0, start: str = "2024-01-01", days: int = 546,
                  cohort_days: int = 84, segments: bool = False) -> pd.DataFrame:
    """A log of about 3 purchases per customer, by date: first purchases spread over the
    first *cohort_days*, then a gamma-Poisson number of further ones (mean 2) uniform to
    day *days*; lognormal amounts in cents, 2% of them 0; ids ``C0000000``...; a
    ``segment`` column (``store`` for every third customer, else ``web``) if asked."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, cohort_days, customers)
    extra = rng.poisson(rng.gamma(0.5, 4.0, customers))
    owner = np.repeat(np.arange(customers), extra)
    later = first[owner] + (rng.random(owner.size) * (days - first[owner])).astype(np.int64)
    who = np.concatenate([np.arange(customers), owner])
    day = np.concatenate([first, later])
    amount = np.round(rng.lognormal(3.0, 0.8, who.size), 2)
    amount[rng.random(who.size) < 0.02] = 0.0
    ids = np.char.add("C", np.char.zfill(np.arange(customers).astype(str), 7)).astype(object)
    log = pd.DataFrame({"customer": ids[who],
                        "date": pd.Timestamp(start) + pd.to_timedelta(day, "D"),
                        "amount": amount})
    if segments:
        log["segment"] = np.where(np.arange(customers) % 3 == 0, "store", "web")[who]
    return log.sort_values("date", kind="stable", ignore_index=True)


def reference(log: pd.DataFrame, end: str) -> pd.DataFrame:
    """x, t_x, T (weeks), holdout and the spread of repeat spends (std / mean) by plain
    groupby, as tests/validation/test_bgnbd.py."""
    end = pd.Timestamp(end)
    days = log.groupby(["customer", "date"], as_index=False).amount.sum()
    first = days.groupby("customer").date.min()
    days = days[days.customer.map(first) <= end]
    calibration = days[days.date <= end].groupby("customer").date
    repeat = days[(days.date <= end) & (days.date > days.customer.map(first))
                  & (days.amount > 0)].groupby("customer").amount
    return pd.DataFrame({
        "x": calibration.size() - 1,
        "t_x": (calibration.max() - calibration.min()).dt.days / 7,
        "T": (end - calibration.min()).dt.days / 7,
        "holdout": days[days.date > end].groupby("customer").size(),
        "spread": repeat.std() / repeat.mean(),
    }).fillna({"holdout": 0}).sort_index()


# --- CDNOW -------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory) -> Path:
    """The CDNOW sample as a CSV with a header: customer,date,amount (dates as 19970101)."""
    raw = pd.read_csv(cdnow_path(), sep=r"\s+", header=None, dtype={"date": str},
                      names=["master", "customer", "date", "cds", "amount"])
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.csv"
    raw[["customer", "date", "amount"]].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def cdnow(cdnow_csv) -> tuple[pd.DataFrame, Summary]:
    log = read_log(cdnow_csv, date_format="%Y%m%d")
    return log, summarise(log, END)


def test_cdnow_summary_is_the_papers(cdnow):
    _, s = cdnow
    assert s.customer.size == 2357 and int(s.x.sum()) == 2457 and int((s.x == 0).sum()) == 1411
    assert s.T.max() <= 39.0 and s.dropped_new == 0
    assert np.all(s.t_x <= s.T) and np.all((s.t_x == 0) == (s.x == 0))
    assert np.array_equal(np.isnan(s.mean_value), s.x == 0)  # no repeat spends only 0 here
    assert int(s.zero_spend.sum()) == 8
    assert s.first.min() == np.datetime64("1997-01-01") and s.first.max() <= np.datetime64(
        "1997-03-31")


def test_cdnow_holdout_is_weeks_40_to_78(cdnow):
    _, s = cdnow
    assert s.holdout_weeks == 39.0  # 1997-10-01 .. 1998-06-30
    assert int(s.holdout.sum()) == 1882 and int((s.holdout > 0).sum()) == 684


def test_cdnow_summary_matches_a_plain_groupby(cdnow):
    log, s = cdnow
    ref = reference(log, END)
    assert list(ref.index) == list(s.customer)
    np.testing.assert_array_equal(s.x, ref.x)
    np.testing.assert_allclose(s.t_x, ref.t_x)
    np.testing.assert_allclose(s.T, ref["T"])
    np.testing.assert_array_equal(s.holdout, ref.holdout)
    np.testing.assert_allclose(s.spend_spread, ref.spread, rtol=1e-9)  # NaN where ref's is
    assert np.isfinite(s.spend_spread).sum() == (s.x >= 2).sum() == 507  # none spent 0


def test_cdnow_tracking_plot(cdnow):
    log, s = cdnow
    weekly = weekly_repeat_purchases(log, s, END, 78)
    assert weekly.shape == (78,) and np.all(np.diff(weekly) >= 0)
    assert weekly[38] == s.x.sum()  # week 39 ends on 1997-09-30
    assert weekly[-1] == s.x.sum() + s.holdout.sum()  # week 78 ends on 1998-06-30, the last day


def test_cdnow_whitespace_text_and_parquet_read_alike(cdnow, cdnow_csv, tmp_path):
    log, _ = cdnow
    raw = pd.read_csv(cdnow_csv, dtype={"customer": str, "date": str})
    raw.to_csv(tmp_path / "cdnow.txt", sep=" ", index=False)
    assert read_log(tmp_path / "cdnow.txt", date_format="%Y%m%d").equals(log)
    raw.assign(date=raw.date.astype(int)).to_parquet(tmp_path / "cdnow.parquet")
    from_parquet = read_log(tmp_path / "cdnow.parquet", date_format="%Y%m%d")
    np.testing.assert_array_equal(from_parquet.date, log.date)
    assert from_parquet.customer.equals(log.customer)


# --- same-day merging and zero amounts, by hand ------------------------------

TINY = """customer,date,amount,segment
A,2024-01-15,20.0,web
A,2024-01-01,10.0,web
B,2024-01-03,0,store
C,2024-01-10,7,web
A,2024-01-01,5.0,web
A,2024-01-08,0.0,web
D,2024-01-25,9,web
A,2024-01-29,8.0,web
C,2024-01-22,3,web
A,2024-01-15,4.0,web
B,2024-01-03,0.00,store
C,2024-02-05,6,web
"""


@pytest.fixture
def tiny(tmp_path) -> pd.DataFrame:
    path = tmp_path / "tiny.csv"
    path.write_text(TINY)
    return read_log(path, segment="segment")


def test_same_day_purchases_are_one_and_zero_amounts_count(tiny):
    s = summarise(tiny, "2024-01-22")
    # A: days 01-01 (10+5, first), 01-08 (0), 01-15 (20+4), then 01-29 in the holdout.
    # B: day 01-03 (0+0, first) only. C: 01-10 (first), 01-22 (3, the end day), 02-05.
    # D: first seen 01-25, after the end: dropped.
    assert list(s.customer) == ["A", "B", "C"] and s.dropped_new == 1
    assert list(s.segment) == ["web", "store", "web"]
    assert list(s.first) == list(np.array(["2024-01-01", "2024-01-03", "2024-01-10"],
                                          dtype="datetime64[D]"))
    np.testing.assert_array_equal(s.x, [2, 0, 1])
    np.testing.assert_allclose(s.t_x, [2.0, 0.0, 12 / 7])
    np.testing.assert_allclose(s.T, [3.0, 19 / 7, 12 / 7])
    np.testing.assert_allclose(s.mean_value, [24.0, np.nan, 3.0])
    np.testing.assert_array_equal(s.zero_spend, [1, 1, 0])
    np.testing.assert_array_equal(s.holdout, [1, 0, 1])
    assert s.holdout_weeks == 2.0  # 01-22 .. 02-05
    assert s.x.dtype.kind == "i" and s.first.dtype == np.dtype("datetime64[D]")


def test_tiny_tracking_plot_counts_repeats_by_week_from_the_logs_first_day(tiny):
    s = summarise(tiny, "2024-01-22")
    # weeks from 01-01: A 01-08 (wk 2), A 01-15 (3), C 01-22 (4), A 01-29 (5), C 02-05 (6)
    np.testing.assert_array_equal(weekly_repeat_purchases(tiny, s, "2024-01-22", 6),
                                  [0, 1, 2, 3, 4, 5])


def test_units_and_a_calibration_end_on_the_last_day(tiny):
    s = summarise(tiny, pd.Timestamp("2024-02-05 17:30"), unit_days=1.0)
    assert s.dropped_new == 0 and s.holdout.sum() == 0 and s.holdout_weeks == 0.0
    np.testing.assert_allclose(s.T[:3], [35, 33, 26])
    np.testing.assert_array_equal(s.x, [3, 0, 2, 0])


def test_a_hand_made_frame_is_summarised_like_a_read_one(tiny):
    frame = pd.DataFrame({"customer": [1, 1, 2, 2, 1], "amount": [1, 2, 3, 4, 5],
                          "date": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00",
                                                  "2024-01-02", "2024-01-09", "2024-01-20"],
                                                 format="ISO8601")})
    s = summarise(frame, "2024-01-10")
    np.testing.assert_array_equal(s.customer, [1, 2])
    np.testing.assert_array_equal(s.x, [0, 1])
    np.testing.assert_array_equal(s.holdout, [1, 0])


def test_synthetic_log_matches_a_plain_groupby(tmp_path):
    log = synthetic_log(2_000, seed=3, segments=True)
    log.to_parquet(tmp_path / "log.parquet")
    read = read_log(tmp_path / "log.parquet", segment="segment")
    s = summarise(read, "2024-09-29")
    ref = reference(read, "2024-09-29")
    assert list(ref.index) == list(s.customer) and s.dropped_new == 0
    np.testing.assert_array_equal(s.x, ref.x)
    np.testing.assert_allclose(s.t_x, ref.t_x)
    np.testing.assert_allclose(s.T, ref["T"])
    np.testing.assert_array_equal(s.holdout, ref.holdout)
    expected = np.where(np.arange(2_000) % 3 == 0, "store", "web")
    np.testing.assert_array_equal(s.segment, expected)
    weekly = weekly_repeat_purchases(read, s, "2024-09-29", 78)
    assert weekly[-1] == s.x.sum() + s.holdout.sum()


# --- bad input ---------------------------------------------------------------

GOOD = "customer,date,amount\nA,2024-01-01,1\nA,2024-01-05,2\nB,2024-01-02,3\n"


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name, text, kwargs, parts", [
    ("log.xlsx", GOOD, {}, ["log.xlsx", "must be a CSV", "'.xlsx'"]),
    ("log.csv", "", {}, ["log.csv", "is empty"]),
    ("log.csv", "customer,date,amount\n", {}, ["log.csv", "is empty", "no transactions"]),
    ("log.csv", GOOD.replace("amount", "spend"), {},
     ["column 'amount'", "does not exist", "'customer', 'date', 'spend'"]),
    ("log.csv", GOOD, {"segment": "tier"}, ["column 'tier'", "does not exist"]),
    ("log.csv", GOOD.replace("2024-01-05", "2024-13-45"), {},
     ["column 'date', row 2", "must be a date", "'2024-13-45'"]),
    ("log.csv", GOOD.replace("2024-01-05", "5 Jan"), {},
     ["column 'date', row 2", "must be a date", "'5 Jan'"]),
    ("log.csv", GOOD, {"date_format": "%Y%m%d"},
     ["column 'date', row 1", "format '%Y%m%d'", "'2024-01-01'"]),
    ("log.csv", GOOD.replace("2024-01-02", ""), {},
     ["column 'date', row 3", "must have a date", "empty"]),
    ("log.csv", GOOD.replace(",2\n", ",\n"), {},
     ["column 'amount', row 2", "must have an amount", "empty"]),
    ("log.csv", GOOD.replace(",2\n", ",NaN\n"), {}, ["column 'amount', row 2", "amount"]),
    ("log.csv", GOOD.replace(",3\n", ",-5\n"), {},
     ["column 'amount', row 3", "must be >= 0", "got -5"]),
    ("log.csv", GOOD.replace(",2\n", ",ten\n"), {},
     ["column 'amount', row 2", "must be a number", "'ten'"]),
    ("log.csv", GOOD.replace(",2\n", ",inf\n"), {}, ["column 'amount', row 2", "finite"]),
    ("log.csv", GOOD.replace("B,", ","), {},
     ["column 'customer', row 3", "must have a customer id"]),
    ("log.csv", "customer,date,amount,tier\nA,2024-01-01,1,gold\nB,2024-01-02,3,\n",
     {"segment": "tier"}, ["column 'tier', row 2", "must have a segment"]),
    ("log.csv", GOOD + "C,2024-01-03,1,extra\n", {}, ["log.csv", "cannot be read as CSV"]),
    ("log.parquet", "not parquet", {}, ["log.parquet", "cannot be read as Parquet"]),
])
def test_bad_files_name_the_file_column_row_and_rule(tmp_path, name, text, kwargs, parts):
    with pytest.raises(ConfigError) as caught:
        read_log(write(tmp_path, text, name), **kwargs)
    for part in parts:
        assert part in str(caught.value), (part, str(caught.value))


def test_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nowhere\.csv' does not exist"):
        read_log(tmp_path / "nowhere.csv")


def test_parquet_columns_are_checked_too(tmp_path):
    frame = pd.DataFrame({"id": [5, 5, 6], "day": pd.to_datetime(["2024-01-01"] * 3),
                          "spend": [1.0, -2.0, 3.0]})
    frame.to_parquet(tmp_path / "log.pq")
    with pytest.raises(ConfigError, match="column 'customer' does not exist.*'id', 'day', 'spend'"):
        read_log(tmp_path / "log.pq")
    with pytest.raises(ConfigError, match=r"column 'spend', row 2 must be >= 0; got -2\.0"):
        read_log(tmp_path / "log.pq", customer="id", date="day", amount="spend")
    frame.spend = frame.spend.abs()
    frame.to_parquet(tmp_path / "log.pq")
    log = read_log(tmp_path / "log.pq", customer="id", date="day", amount="spend")
    assert log.customer.dtype == np.int64 and list(log.columns) == ["customer", "date", "amount"]


@pytest.mark.parametrize("end, kwargs, parts", [
    ("2023-12-31", {}, ["calibration_end", "before the log's first purchase (2024-01-01)"]),
    ("2024-01-06", {}, ["calibration_end", "after the log's last purchase (2024-01-05)"]),
    ("soon", {}, ["calibration_end must be a date", "'soon'"]),
    ("2024-01-03", {"unit_days": 0}, ["unit_days must be a finite number > 0"]),
])
def test_bad_calibration_ends(tmp_path, end, kwargs, parts):
    log = read_log(write(tmp_path, GOOD))
    with pytest.raises(ConfigError) as caught:
        summarise(log, end, **kwargs)
    for part in parts:
        assert part in str(caught.value), (part, str(caught.value))


def test_a_calibration_end_outside_year_1_to_9999_is_refused_not_a_traceback(tmp_path):
    """pandas holds such days (at a unit coarser than ns) but Timestamp.date() cannot."""
    log = read_log(write(tmp_path, GOOD))
    for end in ("-1", pd.Timestamp(np.datetime64("-0001-06-30", "s")),
                np.datetime64("12000-01-01", "D")):
        with pytest.raises(ConfigError, match="calibration_end must be a date from 0001-01-01 "
                                              "to 9999-12-31"):
            summarise(log, end)
    # a time zone keeps its local date; a time of day is dropped
    tokyo = pd.Timestamp("2024-01-05T08:00", tz="Asia/Tokyo")  # 2024-01-04 in UTC
    assert summarise(log, tokyo).calibration_end == np.datetime64("2024-01-05")
    assert summarise(log, "2024-01-05T23:59:59.999").calibration_end == \
        np.datetime64("2024-01-05")


def _parquet_log(path: Path, dates: pa.Array) -> Path:
    pq.write_table(pa.table({"customer": ["A", "A", "B", "B", "C"], "date": dates,
                             "amount": [1.0, 2.0, 3.0, 4.0, 5.0]}), path)
    return path


@pytest.mark.parametrize("dates, parts", [
    # most dates in year 12000 (Parquet timestamp[s]): the median was past datetime.date
    (pa.array(np.array(["2024-01-01", "12000-01-05", "12000-01-02", "12000-02-02",
                        "12000-01-09"], dtype="datetime64[s]"), pa.timestamp("s")),
     ["column 'date', row 2 must be a date from 0001-01-01 to 9999-12-31",
      "12000-01-05"]),
    # days before year 1 (Parquet date32, read as datetime64[ms])
    (pa.array([-800_000, -799_990, -799_995, -799_000, -799_980], pa.date32()),
     ["column 'date', row 1 must be a date from 0001-01-01 to 9999-12-31"]),
    # 1677 and 2262 at ns: their difference overflowed pandas' Timedelta
    (pa.array(np.array(["1677-09-22", "2024-01-05", "2024-01-02", "2024-02-02",
                        "2262-04-10"], dtype="datetime64[ns]"), pa.timestamp("ns")),
     ["column 'date', row 1 must lie within 100 years of the log's median date "
      "(2024-01-05)"]),
    # outside pandas' ns range, read at its own unit (s): the span rule, its median named
    (pa.array(np.array(["1500-01-01", "1500-01-05", "1500-01-02", "1500-02-02",
                        "2500-01-09"], dtype="datetime64[s]"), pa.timestamp("s")),
     ["column 'date', row 5 must lie within 100 years of the log's median date "
      "(1500-01-05)"]),
])
def test_parquet_dates_far_out_or_at_any_unit_are_one_clear_error(tmp_path, dates, parts):
    with pytest.raises(ConfigError) as caught:
        read_log(_parquet_log(tmp_path / "log.parquet", dates))
    assert "\n" not in str(caught.value)
    for part in parts:
        assert part in str(caught.value), (part, str(caught.value))


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_a_log_read_at_any_unit_summarises_alike(tmp_path, unit):
    """Dates stored at seconds, milliseconds, microseconds or nanoseconds, and in years
    beyond pandas' nanosecond range (1500), give the same summary."""
    days = ["2024-01-01", "2024-01-05", "2024-01-02", "2024-02-02", "2024-01-09"]
    summaries = []
    for year in ("2024", "1500"):
        stamps = np.array([d.replace("2024", year) for d in days], dtype=f"datetime64[{unit}]")
        if year == "1500" and unit == "ns":
            continue  # not representable at ns
        log = read_log(_parquet_log(tmp_path / f"{year}.parquet",
                                    pa.array(stamps, pa.timestamp(unit))))
        s = summarise(log, f"{year}-01-06")
        assert s.calibration_end == np.datetime64(f"{year}-01-06")
        assert s.first.min() == np.datetime64(f"{year}-01-01")
        summaries.append((list(s.x), list(s.t_x), list(s.T), list(s.holdout)))
    assert all(one == summaries[0] for one in summaries)


def test_a_single_customer_or_no_repeat_purchase_cannot_be_calibrated(tmp_path):
    log = read_log(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="needs at least two customers.*got 1"):
        summarise(log, "2024-01-01")
    with pytest.raises(ConfigError, match="has no repeat purchase on or before "
                                          "calibration_end 2024-01-04"):
        summarise(log, "2024-01-04")
    alone = read_log(write(tmp_path, "customer,date,amount\nA,2024-01-01,1\nA,2024-01-05,2\n"))
    with pytest.raises(ConfigError, match="at least two customers"):
        summarise(alone, "2024-01-05")


def test_a_customer_in_two_segments(tmp_path):
    text = "customer,date,amount,segment\nA,2024-01-01,1,web\nA,2024-01-05,2,store\n"
    log = read_log(write(tmp_path, text + "B,2024-01-02,1,web\n"), segment="segment")
    with pytest.raises(ConfigError, match="customer 'A', column 'segment' must be one segment "
                                          "per customer; got \"'web' and 'store'\""):
        summarise(log, "2024-01-05")


def test_a_hand_made_frame_is_checked(tmp_path):
    frame = pd.DataFrame({"customer": ["A", "B"], "date": pd.to_datetime(["2024-01-01", None]),
                          "amount": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="transaction log, column 'date', row 2 must have a "
                                          "date"):
        summarise(frame, "2024-01-01")
    with pytest.raises(ConfigError, match="column 'amount' does not exist"):
        summarise(frame.drop(columns="amount"), "2024-01-01")


def test_bad_tracking_plot_requests(tmp_path):
    log = read_log(write(tmp_path, GOOD))
    s = summarise(log, "2024-01-05")
    with pytest.raises(ConfigError, match="weeks must be an integer >= 1"):
        weekly_repeat_purchases(log, s, "2024-01-05", 0)
    with pytest.raises(ConfigError, match="weeks must not run past the log's last date"):
        weekly_repeat_purchases(log, s, "2024-01-05", 2)
    with pytest.raises(ConfigError, match="must be the one the summary was made with"):
        weekly_repeat_purchases(log, s, "2024-01-04", 1)
    np.testing.assert_array_equal(weekly_repeat_purchases(log, s, "2024-01-05", 1), [1])
