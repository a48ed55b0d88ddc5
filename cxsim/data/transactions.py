"""A firm's transaction log, read and checked, and summarised for calibration.

The BG/NBD fit (:mod:`cxsim.data.bgnbd`) needs, per customer, the frequency *x*,
recency *t_x* and age *T* of a calibration period, and its check needs the
holdout that follows. This module turns a log of (customer, date, amount)
rows into those arrays, the way Fader, Hardie & Lee (2005) did for CDNOW:
one customer's purchases on one day are one transaction. Bad input fails
early, as a :class:`~cxsim.errors.ConfigError` naming the file, column, row
and rule.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from pandas.api import types

from cxsim.config import SegmentConfig, bounds_of
from cxsim.errors import ConfigError

__all__ = ["Summary", "log_columns", "log_dates", "read_log", "summarise",
           "weekly_repeat_purchases"]

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
COLUMNS = ("customer", "date", "amount")


def read_log(path: Path | str, customer: str = "customer", date: str = "date",
             amount: str = "amount", segment: str | None = None,
             date_format: str | None = None) -> pd.DataFrame:
    """Read and check a transaction log, one purchase a row.

    Parameters
    ----------
    path
        A CSV file (``.csv`` or ``.txt``: a header row, then comma-separated
        rows; a file whose first line has no comma but whitespace is read as
        whitespace-separated) or a Parquet file (``.parquet`` or ``.pq``).
    customer, date, amount, segment
        The names of the file's columns holding the customer id, the date of
        the purchase, the amount spent and, if given, the customer's segment.
        Other columns are ignored.
    date_format
        A ``strftime`` format for the dates, e.g. ``"%Y%m%d"`` for CDNOW's
        ``19970101``. Without it, ISO 8601 dates (``1997-01-01``, with or
        without a time) are read, else any one format pandas can infer from
        the first date. Parquet date and timestamp columns need none.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer`` (CSV: text, as written, so ``007`` stays
        ``007``; Parquet: the column's own type, integral floats as
        integers), ``date`` (datetime64, the time of day dropped; time zones
        dropped keeping the local date), ``amount`` (float) and, if *segment*
        is given, ``segment`` (text). Rows stay in the file's order.

    Raises
    ------
    ConfigError
        If the file is missing, empty, unreadable or of an unknown suffix; if
        a column is missing (the message lists the file's columns); or if a
        row has no customer id, no segment, a missing or unreadable date, a
        date before 0001-01-01 or after 9999-12-31 or more than 100 years from
        the log's median date, or an amount that is missing, not a number,
        infinite, negative or beyond any order value. The
        message names the file, the column and the row: rows are the data
        rows, numbered from 1 after the header (blank lines are skipped and
        not counted), so CSV row N is the file's line N + 1.
    """
    path = Path(path)
    source = f"transaction log '{path}'"
    names = {"customer": customer, "date": date, "amount": amount}
    if segment is not None:
        names["segment"] = segment
    raw = _read(path, source, list(dict.fromkeys(names.values())),
                {name for key, name in names.items() if key != "amount"})
    return _checked({key: raw[name] for key, name in names.items()},
                    {key: f"{source}, column '{name}'" for key, name in names.items()},
                    date_format)


def log_columns(path: Path | str) -> list[str]:
    """The columns of a transaction log, as :func:`read_log` reads it (a CSV's header, a
    Parquet file's schema): what a page offers to choose the customer, date and amount from.

    Raises
    ------
    ConfigError
        As :func:`read_log` for a file that is missing, empty, unreadable or of an unknown
        suffix.
    """
    path = Path(path)
    source = f"transaction log '{path}'"
    _read(path, source, [], set(), rows=False)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return [str(name) for name in pq.read_schema(path).names]
        except (pa.ArrowException, OSError) as exc:
            raise ConfigError(source, f"cannot be read as Parquet ({_line(exc)})") from None
    try:
        with path.open(encoding="utf-8-sig") as handle:
            head = handle.readline()
        sep = r"\s+" if "," not in head and len(head.split()) > 1 else ","
        found = pd.read_csv(path, sep=sep, nrows=0, skipinitialspace=True).columns
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as exc:
        raise ConfigError(source, f"cannot be read as CSV ({_line(exc)})") from None
    return [str(c) for c in found]


def log_dates(path: Path | str, date: str = "date",
              date_format: str | None = None) -> tuple[np.datetime64, np.datetime64]:
    """The first and last day of a transaction log's *date* column, read and checked as
    :func:`read_log` reads it: the range a calibration end must fall in.

    Raises
    ------
    ConfigError
        As :func:`read_log`, naming the file, the column and the first bad row.
    """
    path = Path(path)
    source = f"transaction log '{path}'"
    raw = _read(path, source, [date], {date})
    days = _days(_dates(raw[date], f"{source}, column '{date}'", date_format).to_numpy())
    return days.min(), days.max()


@dataclass(frozen=True, eq=False)
class Summary:
    """Per-customer calibration and holdout figures; one entry per customer, by id.

    Times (*t_x*, *T*, *holdout_weeks*) are in units of ``unit_days`` days:
    weeks by default. Only customers whose first purchase is on or before the
    calibration end are here.

    Attributes
    ----------
    customer : numpy.ndarray
        The ids, sorted (text ids as an object array).
    segment : numpy.ndarray or None
        Each customer's segment (object array of text), if the log has one.
    first : numpy.ndarray
        datetime64[D]: the day of the first purchase.
    x : numpy.ndarray
        int: repeat transactions (days with a purchase, the first excluded)
        on or before the calibration end.
    t_x : numpy.ndarray
        float: time from the first to the last calibration transaction (0 if
        *x* is 0).
    T : numpy.ndarray
        float: time from the first purchase to the calibration end.
    mean_value : numpy.ndarray
        float: mean amount of the repeat calibration transactions that spent
        something (amount > 0); NaN if there are none.
    spend_spread : numpy.ndarray
        float: the coefficient of variation (standard deviation, n - 1 in
        the denominator, over the mean) of the same transactions as
        *mean_value*; NaN with fewer than two. What the Gamma–Gamma's
        1/sqrt(p) claims for every customer.
    zero_spend : numpy.ndarray
        int: calibration transactions, the first included, with amount 0.
    holdout : numpy.ndarray
        int: transactions after the calibration end, to the log's last date.
    holdout_weeks : float
        Time from the calibration end to the log's last date (0 if equal).
    dropped_new : int
        Customers left out because their first purchase is after the
        calibration end.
    calibration_end : numpy.datetime64
        The last day of calibration (datetime64[D], inclusive).
    unit_days : float
        Days in the unit of time.
    """

    customer: np.ndarray
    segment: np.ndarray | None
    first: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    mean_value: np.ndarray
    spend_spread: np.ndarray
    zero_spend: np.ndarray
    holdout: np.ndarray
    holdout_weeks: float
    dropped_new: int
    calibration_end: np.datetime64
    unit_days: float


def summarise(log: pd.DataFrame, calibration_end: str | Date | pd.Timestamp,
              unit_days: float = 7.0) -> Summary:
    """Summarise a transaction log for the BG/NBD: frequency, recency, age, holdout.

    One customer's purchases on one day are one transaction, their amounts
    summed (Fader, Hardie & Lee 2005). A transaction of amount 0 is a
    transaction: it counts in *x* and *holdout*, not in *mean_value*, and in
    *zero_spend*. Times are measured from each customer's first purchase.

    Parameters
    ----------
    log
        A frame as :func:`read_log` returns: columns ``customer``, ``date``
        and ``amount``, optionally ``segment``. It is checked again (rows
        numbered from 1 in the frame's order).
    calibration_end
        The last day of the calibration period, inclusive (a time of day is
        dropped). It must lie between the log's first and last dates; equal
        to the last date leaves an empty holdout.
    unit_days
        Days in the unit of time of *t_x*, *T* and *holdout_weeks*.

    Returns
    -------
    Summary
        Customers whose first purchase is on or before *calibration_end*,
        sorted by id; the others are counted in ``dropped_new``.

    Raises
    ------
    ConfigError
        For a bad log (as :func:`read_log`), a customer with two segments, a
        calibration end that is not a date from 0001-01-01 to 9999-12-31 or
        lies before the log's first or after its last date, fewer than two
        customers in calibration, or no repeat purchase in calibration.
    """
    unit = _unit_days(unit_days)
    log = _frame(log)
    end = _day("calibration_end", calibration_end)
    merged = _merge(log)
    first_day, last_day = merged.origin, merged.origin + int(merged.day.max())
    if end < first_day:
        raise ConfigError("calibration_end", "must not be before the log's first purchase "
                          f"({first_day})", str(end))
    if end > last_day:
        raise ConfigError("calibration_end", "must not be after the log's last purchase "
                          f"({last_day}), or there is no holdout", str(end))
    end_offset = int((end - merged.origin).astype(np.int64))

    n = merged.ids.size
    cust, day, spent = merged.customer, merged.day, merged.amount
    first_of = merged.starts
    in_calibration = day <= end_offset
    n_calibration = np.bincount(cust[in_calibration], minlength=n)
    kept = n_calibration > 0
    n_kept = int(kept.sum())
    if n_kept < 2:
        raise ConfigError("transaction log", "needs at least two customers whose first "
                          f"purchase is on or before calibration_end {end}", n_kept)
    first = day[first_of]
    last = day[first_of + np.maximum(n_calibration, 1) - 1]
    repeat = in_calibration.copy()
    repeat[first_of] = False
    x = n_calibration - 1
    if int(x[kept].sum()) == 0:
        raise ConfigError("transaction log", "has no repeat purchase on or before "
                          f"calibration_end {end}, so repeat buying cannot be calibrated")
    paid = repeat & (spent > 0)
    value_sum = np.bincount(cust[paid], weights=spent[paid], minlength=n)
    value_count = np.bincount(cust[paid], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_value = np.where(value_count > 0, value_sum / value_count, np.nan)
        squares = np.bincount(cust[paid], weights=(spent[paid] - mean_value[cust[paid]]) ** 2,
                              minlength=n)  # about each customer's mean: no cancellation
        spend_spread = np.where(value_count > 1, np.sqrt(squares / (value_count - 1))
                                / mean_value, np.nan)
    zero = in_calibration & (spent == 0)
    zero_spend = np.bincount(cust[zero], minlength=n)
    holdout = np.bincount(cust[~in_calibration], minlength=n)

    segment = None
    if merged.segment is not None:
        segment = merged.segment[kept]
    return Summary(
        customer=merged.ids[kept],
        segment=segment,
        first=(merged.origin + first[kept]).astype("datetime64[D]"),
        x=x[kept].astype(np.int64),
        t_x=(last[kept] - first[kept]) / unit,
        T=(end_offset - first[kept]) / unit,
        mean_value=mean_value[kept],
        spend_spread=spend_spread[kept],
        zero_spend=zero_spend[kept].astype(np.int64),
        holdout=holdout[kept].astype(np.int64),
        holdout_weeks=float(int((last_day - end).astype(np.int64)) / unit),
        dropped_new=int(n - n_kept),
        calibration_end=end,
        unit_days=unit,
    )


def weekly_repeat_purchases(log: pd.DataFrame, summary: Summary,
                            calibration_end: str | Date | pd.Timestamp,
                            weeks: int) -> np.ndarray:
    """Cumulative repeat transactions week by week: the tracking plot (Fader et al. 2005, Fig. 3).

    Week *k* (k = 1 .. *weeks*) covers the days [7(k-1), 7k) counted from the
    log's first date (day 0), whatever ``summary.unit_days``. Entry k-1 of
    the result is the number of repeat transactions (a customer's purchases
    on one day are one transaction; each customer's first purchase is not a
    repeat) made by the customers in *summary* on days 0 .. 7k-1,
    calibration and holdout alike. If the calibration end is the last day of
    a week *k*, entry k-1 equals ``summary.x.sum()``.

    Parameters
    ----------
    log
        The log *summary* was made from.
    summary
        :func:`summarise` of *log*; its customers are counted.
    calibration_end
        The calibration end *summary* was made with (checked).
    weeks
        Number of weeks; week *weeks* must start on or before the log's last
        date (the last week may be partial).

    Returns
    -------
    numpy.ndarray
        int64, length *weeks*, non-decreasing.

    Raises
    ------
    ConfigError
        If *weeks* is not an integer >= 1 or runs past the log, or
        *calibration_end* is not the summary's.
    """
    if isinstance(weeks, bool) or not isinstance(weeks, int | np.integer) or weeks < 1:
        raise ConfigError("weeks", "must be an integer >= 1", weeks)
    end = _day("calibration_end", calibration_end)
    if end != summary.calibration_end:
        raise ConfigError("calibration_end", "must be the one the summary was made with "
                          f"({summary.calibration_end})", str(end))
    merged = _merge(_frame(log))
    span = int(merged.day.max())
    if 7 * (int(weeks) - 1) > span:
        raise ConfigError("weeks", f"must not run past the log's last date: the log covers "
                          f"{span + 1} days, {(span + 7) // 7} weeks", weeks)
    end_offset = int((end - merged.origin).astype(np.int64))
    counted = merged.day[merged.starts] <= end_offset  # the summary's customers
    if int(counted.sum()) != summary.customer.size:
        raise ConfigError("summary", "must be made from this log: it has "
                          f"{summary.customer.size} customers, the log {int(counted.sum())} "
                          f"first seen on or before {end}")
    repeat = counted[merged.customer]
    repeat[merged.starts] = False
    per_week = np.bincount(merged.day[repeat] // 7, minlength=int(weeks))[:int(weeks)]
    return np.cumsum(per_week).astype(np.int64)


# --- reading -----------------------------------------------------------------


def _read(path: Path, source: str, columns: list[str], text: set[str],
          rows: bool = True) -> pd.DataFrame | None:
    """The file's *columns*, as stored (CSV: the *text* columns as text); without *rows*,
    only the checks of the file itself (none is read)."""
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise ConfigError(source, "must be a CSV (.csv, .txt) or Parquet (.parquet, .pq) file",
                          path.suffix or "no suffix")
    if not path.is_file():
        raise ConfigError(source, "does not exist or is not a file")
    if path.stat().st_size == 0:
        raise ConfigError(source, "is empty: it has no header and no transactions")
    if not rows:
        return None
    if suffix in PARQUET_SUFFIXES:
        frame = _read_parquet(path, source, columns)
    else:
        frame = _read_csv(path, source, columns, text)
    if len(frame) == 0:
        raise ConfigError(source, "is empty: it has a header but no transactions")
    return frame


def _missing_columns(source: str, wanted: list[str], found: list[str]) -> None:
    for name in wanted:
        if name not in found:
            listed = ", ".join(repr(str(f)) for f in found) or "none"
            raise ConfigError(f"{source}, column '{name}'",
                              f"does not exist (the file's columns are: {listed})")


def _read_parquet(path: Path, source: str, columns: list[str]) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        _missing_columns(source, columns, list(schema.names))
        table = pq.read_table(path, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise ConfigError(source, f"cannot be read as Parquet ({_line(exc)})") from None
    return table.to_pandas(date_as_object=False)


def _read_csv(path: Path, source: str, columns: list[str], text: set[str]) -> pd.DataFrame:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            head = handle.readline()
        sep = r"\s+" if "," not in head and len(head.split()) > 1 else ","
        found = pd.read_csv(path, sep=sep, nrows=0, skipinitialspace=True).columns
        _missing_columns(source, columns, [str(c) for c in found])
        # all columns read (usecols would let a row with an extra field pass unseen);
        # index_col=False: a trailing separator on every line is not an index column
        with warnings.catch_warnings():
            # an extra field on the first row: pandas warns and drops it; it is an error
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(path, sep=sep, index_col=False, skipinitialspace=True,
                               dtype=dict.fromkeys(text, str), low_memory=False)[columns]
    except pd.errors.ParserWarning:
        row = _long_row(path, sep, len(found))
        raise ConfigError(f"{source}{'' if row is None else f', row {row}'}",
                          f"must have at most {len(found)} fields, as the header has") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as exc:
        raise ConfigError(source, f"cannot be read as CSV ({_line(exc)})") from None


def _long_row(path: Path, sep: str, width: int) -> int | None:
    """The first row (1 the first after the header; blank lines not counted) with a
    non-blank field beyond the header's *width*, or None."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = (csv.reader(handle, skipinitialspace=True) if sep == ","
                else (line.split() for line in handle))
        next(rows, None)
        number = 0
        for row in rows:
            if not any(field.strip() for field in row):
                continue
            number += 1
            if any(field.strip() for field in row[width:]):
                return number
    return None


def _line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# --- checking ----------------------------------------------------------------


def _checked(columns: dict[str, pd.Series], where: dict[str, str],
             date_format: str | None) -> pd.DataFrame:
    """The log's standard frame from its raw *columns*, each checked row by row."""
    out = {
        "customer": _ids(columns["customer"], where["customer"]),
        "date": _dates(columns["date"], where["date"], date_format),
        "amount": _amounts(columns["amount"], where["amount"]),
    }
    if "segment" in columns:
        out["segment"] = _labels(columns["segment"], where["segment"])
    return pd.DataFrame({key: value.reset_index(drop=True) for key, value in out.items()})


def _frame(log: pd.DataFrame) -> pd.DataFrame:
    """*log* checked as :func:`read_log`'s output (a hand-made frame is welcome)."""
    if not isinstance(log, pd.DataFrame):
        raise ConfigError("transaction log", "must be a pandas DataFrame (see read_log)",
                          type(log).__name__)
    names = [*COLUMNS, *(["segment"] if "segment" in log.columns else [])]
    _missing_columns("transaction log", names, [str(c) for c in log.columns])
    if len(log) == 0:
        raise ConfigError("transaction log", "is empty: it has no transactions")
    return _checked({name: log[name] for name in names},
                    {name: f"transaction log, column '{name}'" for name in names}, None)


def _first_bad(column: pd.Series, where: str, checks: list[tuple[np.ndarray, str]]) -> None:
    """Raise for the earliest row failing any check (the first listed check wins a tie)."""
    rows = [(int(np.argmax(bad)), i) for i, (bad, _) in enumerate(checks) if bad.any()]
    if rows:
        row, i = min(rows)
        value = column.iloc[row]
        if types.is_scalar(value) and pd.isna(value):
            raise ConfigError(f"{where}, row {row + 1}", checks[i][1] + " (it is empty)")
        raise ConfigError(f"{where}, row {row + 1}", checks[i][1], _plain(value))


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, so messages read ``5``, not ``np.int64(5)``."""
    return value.item() if isinstance(value, np.generic) else value


def _blank(column: pd.Series) -> np.ndarray:
    missing = column.isna().to_numpy()
    if types.is_string_dtype(column.dtype) or types.is_object_dtype(column.dtype):
        missing = missing | (column.astype(str).str.strip() == "").to_numpy()
    return missing


def _ids(column: pd.Series, where: str) -> pd.Series:
    _first_bad(column, where, [(_blank(column), "must have a customer id")])
    if types.is_float_dtype(column.dtype) and bool((column == np.floor(column)).all()):
        column = column.astype(np.int64)
    return column


def _labels(column: pd.Series, where: str) -> pd.Series:
    _first_bad(column, where, [(_blank(column), "must have a segment")])
    return column if types.is_string_dtype(column.dtype) else column.astype(str)


def _dates(column: pd.Series, where: str, date_format: str | None) -> pd.Series:
    missing = column.isna().to_numpy()
    _first_bad(column, where, [(missing, "must have a date")])
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return _span(column, column.dt.tz_localize(None).dt.normalize(), where)
    if types.is_datetime64_dtype(column.dtype):
        return _span(column, column.dt.normalize(), where)
    parsed = _parsed(column, where, date_format)
    return _span(column, parsed.dt.normalize(), where)


def _parsed(column: pd.Series, where: str, date_format: str | None) -> pd.Series:
    """A column of text (or of numbers such as 19970101) read as dates, each checked."""
    text = column
    if types.is_bool_dtype(column.dtype):
        _first_bad(column, where, [(np.ones(len(column), bool), "must be a date")])
    if types.is_numeric_dtype(column.dtype):  # 19970101 as a number
        whole = (column == np.floor(column)).to_numpy()
        _first_bad(column, where, [(~whole, "must be a date")])
        text = column.astype(np.int64).astype(str)
    if date_format is not None:
        parsed = _to_datetime(text, date_format)
        rule = f"must be a date in the format {date_format!r}"
    else:
        parsed = _to_datetime(text, "ISO8601")
        if parsed.isna().any():
            inferred = _to_datetime(text, None)
            if inferred.isna().sum() < parsed.isna().sum():
                parsed = inferred
        rule = "must be a date (ISO 8601 like 1997-01-31, or one format throughout; " \
               "else give date_format)"
    _first_bad(column, where, [(parsed.isna().to_numpy(), rule)])
    return parsed


FIRST_DAY, LAST_DAY = np.datetime64("0001-01-01", "D"), np.datetime64("9999-12-31", "D")
DAYS_RULE = f"must be a date from {FIRST_DAY} to {LAST_DAY}"
"""The days a date may be: those ISO 8601 writes with four digits and Python's ``date``
holds. pandas holds more at a unit coarser than ns (Parquet's, or text such as ``-1``,
which it reads as the year -1), but a day before year 1 or after 9999 is a typo."""

MAX_SPAN_YEARS = 100
"""The longest a log may span, first purchase to last: beyond it a date is a typo
(9999-12-31, year 1), and the weekly arrays of the fit and of the check grow with the span
(a log to 9999 ran for minutes and took 2.9 GB)."""


def _days(stamps: np.ndarray) -> np.ndarray:
    """*stamps* (datetime64 of any unit, no NaT) as the days they fall on (datetime64[D]),
    by integer floor division. Not a Timestamp's ``date()`` (it fails outside years 1 to
    9999, which pandas holds at a unit coarser than ns), nor a difference of Timestamps
    (beyond 292 years it overflows pandas' Timedelta), nor numpy's cast to days (at ns it
    overflows near 1677: 1677-09-22 became 2262-04-11)."""
    stamps = np.asarray(stamps)
    unit, count = np.datetime_data(stamps.dtype)
    per_day = np.timedelta64(1, "D") // np.timedelta64(count, unit)
    if per_day <= 1:
        return stamps.astype("datetime64[D]")
    return (stamps.view(np.int64) // per_day).astype("datetime64[D]")


def _span(column: pd.Series, dates: pd.Series, where: str) -> pd.Series:
    """*dates*, if each lies in years 1 to 9999 and they span at most MAX_SPAN_YEARS; else a
    ConfigError naming the first row outside those years, or the first row farther than
    MAX_SPAN_YEARS from the log's median date (or, if none is, the farthest)."""
    days = _days(dates.to_numpy())
    _first_bad(column, where, [((days < FIRST_DAY) | (days > LAST_DAY), DAYS_RULE)])
    offset = (days - days.min()).astype(np.int64)
    limit = MAX_SPAN_YEARS * 365.25
    if offset.max() <= limit:
        return dates
    median = np.sort(offset)[(len(offset) - 1) // 2]
    far = np.abs(offset - median)
    bad = far > limit
    if not bad.any():
        bad = far == far.max()
    _first_bad(column, where, [(bad, f"must lie within {MAX_SPAN_YEARS} years of the log's "
                                f"median date ({days.min() + median}): a log spans at most "
                                f"{MAX_SPAN_YEARS} years")])
    return dates


def _to_datetime(text: pd.Series, date_format: str | None) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        try:
            parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        except (ValueError, TypeError):
            return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return parsed


MAX_AMOUNT = bounds_of(SegmentConfig, "order_value").high
"""The largest amount a purchase may have: the config's bound on an order value. A log
beyond it fits no market cxsim can run, and sums of 1e308 overflowed to infinity."""


def _amounts(column: pd.Series, where: str) -> pd.Series:
    missing = column.isna().to_numpy()
    if types.is_bool_dtype(column.dtype):
        _first_bad(column, where, [(np.ones(len(column), bool), "must be a number")])
    if types.is_numeric_dtype(column.dtype):
        number = column.astype(float)
        not_number = np.zeros(len(column), bool)
    else:
        number = pd.to_numeric(column, errors="coerce").astype(float)
        not_number = number.isna().to_numpy() & ~missing
    values = number.to_numpy()
    with np.errstate(invalid="ignore"):
        _first_bad(column, where, [
            (missing, "must have an amount"),
            (not_number, "must be a number"),
            (np.isinf(values), "must be finite"),
            (values < 0, "must be >= 0"),
            (values > MAX_AMOUNT, f"must be at most {MAX_AMOUNT:,.0f} (the largest order "
             "value a market may have: market.segments.*.order_value)"),
        ])
    return number


def _unit_days(unit_days: float) -> float:
    try:
        unit = float(unit_days)
    except (TypeError, ValueError):
        unit = float("nan")
    if isinstance(unit_days, bool) or not np.isfinite(unit) or unit <= 0:
        raise ConfigError("unit_days", "must be a finite number > 0", unit_days)
    return unit


def _day(where: str, value: str | Date | pd.Timestamp) -> np.datetime64:
    """*value* as a day (datetime64[D]), a time of day dropped."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = pd.NaT
    if stamp is pd.NaT or isinstance(value, bool | int | float):
        raise ConfigError(where, "must be a date", value)
    if stamp.tzinfo is not None:  # its local date
        stamp = stamp.tz_localize(None)
    day = _days(stamp.to_datetime64())[()]
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ConfigError(where, DAYS_RULE, value)
    return day


# --- same-day merging --------------------------------------------------------


class _Merged(NamedTuple):
    """Transactions (a customer's day), sorted by customer then day."""

    ids: np.ndarray  # sorted customer ids; customer i is ids[i]
    segment: np.ndarray | None  # per customer
    customer: np.ndarray  # per transaction: index into ids
    day: np.ndarray  # per transaction: days since origin
    amount: np.ndarray  # per transaction: amounts of the day, summed
    starts: np.ndarray  # per customer: index of its first transaction
    origin: np.datetime64  # the log's first date


def _merge(log: pd.DataFrame) -> _Merged:
    """Merge each customer's same-day purchases, vectorised (no per-customer Python)."""
    try:
        codes, ids = pd.factorize(log["customer"], sort=True)
    except TypeError:
        raise ConfigError("transaction log, column 'customer'", "must hold ids of one kind "
                          "(all text or all numbers)") from None
    days = _days(log["date"].to_numpy())
    origin = days.min()
    day = (days - origin).astype(np.int64)
    span = int(day.max()) + 1
    key = codes.astype(np.int64) * span + day
    order = np.argsort(key, kind="stable")
    key = key[order]
    bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    merged_key = key[bounds]
    amount = np.add.reduceat(log["amount"].to_numpy(dtype=float)[order], bounds)
    customer = merged_key // span
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    segment = None
    if "segment" in log.columns:
        segment = _one_segment(log["segment"], codes, order, ids)
    return _Merged(np.asarray(ids.to_numpy()), segment, customer, merged_key % span, amount,
                   starts, origin)


def _one_segment(column: pd.Series, codes: np.ndarray, order: np.ndarray,
                 ids: pd.Index) -> np.ndarray:
    """Each customer's segment; a customer in two segments is an error."""
    seg_codes, labels = pd.factorize(column)
    seg, cust = seg_codes[order], codes[order]
    clash = np.flatnonzero((cust[1:] == cust[:-1]) & (seg[1:] != seg[:-1]))
    if clash.size:
        i = int(clash[0])
        raise ConfigError(f"transaction log, customer {_show(ids[cust[i]])}, column 'segment'",
                          "must be one segment per customer",
                          f"{labels[seg[i]]!r} and {labels[seg[i + 1]]!r}")
    per_customer = np.empty(ids.size, dtype=np.int64)
    per_customer[cust] = seg
    return np.asarray(labels.to_numpy(), dtype=object)[per_customer]


def _show(value: object) -> str:
    text = repr(_plain(value))
    return re.sub(r"\s+", " ", text)
