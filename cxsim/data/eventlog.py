"""A firm's event log, read and checked: one row per event of a case.

Process-aware systems (CRM, ticketing, loan origination) record what happened to each
case as events: the case, the activity, when, its lifecycle transition (scheduled,
started, completed) and the resource who did it. :mod:`cxsim.data.discovery` turns such a
log into a journey; this module reads it from XES (the IEEE 1849 standard, plain or
gzipped), CSV or Parquet into one table, and refuses bad input with one
:class:`~cxsim.errors.ConfigError` naming the file, column, row or rule.

XES is XML, and XML from outside can attack its reader: an external entity reads a local
file or a URL into the document (XXE), nested entities expand a few hundred bytes into
gigabytes ("billion laughs"). An XES log needs neither, so a document type declaration is
refused outright, before any entity can be declared: the reader is the standard library's
expat with a handler that stops at ``<!DOCTYPE``, and parameter entities never parsed.
Chosen by measurement on BPIC 2012 (262,200 events, 74 MB of XML, gzipped; one core, the
best of two; each parse collecting every event's attributes):

- expat with handlers (this module): 1.9 s; 2.4 s with the timestamps and every check;
- ``lxml.etree.iterparse`` (``resolve_entities=False``, ``no_network=True``): 1.9 s;
- ``xml.etree.ElementTree.iterparse``: 2.6 s, and no hook to stop at a DTD;
- ``defusedxml.ElementTree.iterparse`` (``forbid_dtd=True``): 3.1 s;
- ``rustxes.import_xes``: 1.0 s, 1.3 s to a pandas table, but through polars, a large
  dependency, and it keeps a DTD's entity reference as literal text instead of refusing
  the file.

expat is as fast as lxml, refuses the DTD itself and needs no dependency; the read is a
quarter of the 10 s a whole discovery may take.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pandas as pd

from cxsim.errors import ConfigError

__all__ = ["COLUMNS", "LIFECYCLES", "XES_KEYS", "read_event_log", "visits_to_events"]

COLUMNS = ("case", "activity", "timestamp", "lifecycle", "resource")
"""The columns of the table :func:`read_event_log` returns, in order."""

XES_KEYS = {"case": "concept:name", "activity": "concept:name", "timestamp": "time:timestamp",
            "lifecycle": "lifecycle:transition", "resource": "org:resource"}
"""The XES standard keys each column is read from by default (the case's from the trace)."""

LIFECYCLES = ("schedule", "assign", "reassign", "start", "suspend", "resume", "withdraw",
              "ate_abort", "pi_abort", "autoskip", "manualskip", "complete", "unknown")
"""Lifecycle transitions a log may carry (lower case): the XES standard lifecycle model
(IEEE 1849-2016, the ``lifecycle`` extension's ``standard`` model). Discovery uses
``start`` and ``complete``; ``schedule`` and the others are read and counted, not routed."""

XES_SUFFIXES = (".xes", ".xes.gz")
CSV_SUFFIXES = (".csv", ".csv.gz", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


def read_event_log(path: Path | str, case: str | None = None, activity: str | None = None,
                   timestamp: str | None = None, lifecycle: str | None = None,
                   resource: str | None = None) -> pd.DataFrame:
    """Read and check an event log, one event a row.

    Parameters
    ----------
    path
        An XES file (``.xes`` or ``.xes.gz``), a CSV file (``.csv``, ``.csv.gz`` or
        ``.txt``, a header row first) or a Parquet file (``.parquet`` or ``.pq``).
    case, activity, timestamp, lifecycle, resource
        The keys (XES: the attribute keys; CSV and Parquet: the column names) holding
        each. By default XES's standard keys (:data:`XES_KEYS`: the trace's
        ``concept:name`` for the case), and for a table the column names ``case``,
        ``activity``, ``timestamp``, ``lifecycle`` and ``resource``. The lifecycle and
        resource are optional: a log without them reads as all ``complete`` and without
        resources (a named column that is missing is still an error).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``case`` and ``activity`` text, ``timestamp`` tz-aware
        UTC (``datetime64[ns, UTC]``; a timestamp without a zone is read as UTC),
        ``lifecycle`` lower-case text (one of :data:`LIFECYCLES`), ``resource`` text or
        missing. Rows stay in the file's order. ``attrs["lifecycle"]`` says whether the
        log carried lifecycle transitions, ``attrs["source"]`` names the file for messages
        and ``attrs["file"]`` is its name.

    Raises
    ------
    ConfigError
        If the file is missing, of an unknown suffix, unreadable or empty; if an XES file
        declares a document type (so no external entity or entity expansion is ever
        processed) or is not well-formed XML; if a column is missing (the message lists
        the file's columns); if a row has no case, no activity, a missing or unreadable
        timestamp, or a lifecycle value outside :data:`LIFECYCLES`; if a case has one event
        only (the message names its first row and the case). Rows are events numbered from
        1 in file order.
    """
    path = Path(path)
    source = f"event log '{path}'"
    if not path.is_file():
        raise ConfigError(source, "does not exist or is not a file")
    name = path.name.lower()
    keys = {"case": case, "activity": activity, "timestamp": timestamp,
            "lifecycle": lifecycle, "resource": resource}
    if name.endswith(XES_SUFFIXES):
        raw, named = _read_xes(path, source, keys)
    elif name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES):
        raw, named = _read_table(path, source, keys, name.endswith(PARQUET_SUFFIXES))
    else:
        raise ConfigError(source, "must be an .xes, .xes.gz, .csv, .csv.gz, .txt, .parquet "
                          "or .pq file", path.suffix)
    frame = _checked(raw, named, source)
    frame.attrs["file"] = path.name
    return frame


# --------------------------------------------------------------------------- #
# XES
# --------------------------------------------------------------------------- #


class _Refused(Exception):
    """Raised inside the expat handlers to stop the parse: *rule* says why."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


_NO_DTD = ("declares a document type (<!DOCTYPE>); refused: an XES log needs none, and a DTD "
           "is how external entities and entity-expansion bombs enter XML")


def _read_xes(path: Path, source: str, keys: dict) -> tuple[dict[str, list], dict[str, str]]:
    """The events of an XES file as columns of text, each event's attributes by key."""
    key = {column: keys[column] or XES_KEYS[column] for column in COLUMNS}
    columns: dict[str, list] = {column: [] for column in COLUMNS}
    case_key, event_keys = key["case"], {key[c]: c for c in COLUMNS if c != "case"}
    state = {"depth": 0, "trace": -1, "event": -1, "case": None, "values": {}, "traces": 0}

    def start(tag: str, attrs: dict) -> None:
        depth = state["depth"] = state["depth"] + 1
        if tag == "trace" and state["trace"] < 0:
            state["trace"], state["case"], state["traces"] = depth, None, state["traces"] + 1
            state["first"] = len(columns["activity"])
        elif tag == "event" and state["trace"] > 0 and state["event"] < 0:
            state["event"], state["values"] = depth, {}
        elif state["event"] > 0 and depth == state["event"] + 1:
            column = event_keys.get(attrs.get("key"))
            if column is not None:
                state["values"][column] = attrs.get("value")
        elif state["trace"] > 0 and state["event"] < 0 and depth == state["trace"] + 1:
            if attrs.get("key") == case_key:
                state["case"] = attrs.get("value")

    def end(tag: str) -> None:
        depth = state["depth"]
        state["depth"] = depth - 1
        if depth == state["event"]:
            values = state["values"]
            for column in COLUMNS[1:]:
                columns[column].append(values.get(column))
            state["event"] = -1
        elif depth == state["trace"]:
            n = len(columns["activity"]) - state["first"]
            columns["case"].extend([state["case"]] * n)
            state["trace"] = -1

    def refuse(*_args) -> None:
        raise _Refused(_NO_DTD)

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.buffer_text = True
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as stream:
            parser.ParseFile(stream)
    except _Refused as refused:
        raise ConfigError(source, refused.rule) from None
    except expat.ExpatError as error:
        raise ConfigError(source, f"is not well-formed XML ({expat.errors.messages[error.code]}"
                          f", line {error.lineno})") from None
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ConfigError(source, f"cannot be read ({error})") from None
    if not state["traces"]:
        raise ConfigError(source, "holds no trace (an XES log is traces of events)")
    named = {column: f"{source}, key '{key[column]}'" for column in COLUMNS}
    for column in ("lifecycle", "resource"):
        if keys[column] is None and all(v is None for v in columns[column]):
            columns[column] = None  # the log has none: complete events, no resources
    for column in COLUMNS:
        values = columns[column]
        if values and all(v is None for v in values):
            raise ConfigError(named[column], f"is on no {'trace' if column == 'case' else 'event'}"
                              " (name the log's key with the matching option)")
    return columns, named


# --------------------------------------------------------------------------- #
# CSV and Parquet
# --------------------------------------------------------------------------- #


def _read_table(path: Path, source: str, keys: dict,
                parquet: bool) -> tuple[dict[str, object], dict[str, str]]:
    """The named columns of a CSV or Parquet log."""
    try:
        table = pd.read_parquet(path) if parquet else pd.read_csv(path, dtype=str,
                                                                  keep_default_na=False,
                                                                  na_values=[""])
    except pd.errors.EmptyDataError:
        raise ConfigError(source, "is empty (no header row, no events)") from None
    except Exception as error:  # pandas and pyarrow raise many types
        raise ConfigError(source, f"cannot be read as a {'Parquet' if parquet else 'CSV'} "
                          f"table ({str(error).splitlines()[0]})") from None
    columns: dict[str, object] = {}
    named: dict[str, str] = {}
    for column in COLUMNS:
        name = keys[column] or column
        named[column] = f"{source}, column '{name}'"
        if name in table.columns:
            columns[column] = table[name]
        elif keys[column] is None and column in ("lifecycle", "resource"):
            columns[column] = None
        else:
            raise ConfigError(source, f"has no column '{name}' (columns: "
                              f"{', '.join(map(str, table.columns))})")
    return columns, named


# --------------------------------------------------------------------------- #
# Checks shared by every format
# --------------------------------------------------------------------------- #


def _checked(raw: dict, named: dict[str, str], source: str) -> pd.DataFrame:
    """The table of *raw* columns with every rule checked; *named* says where each came
    from, for the messages."""
    n = len(raw["activity"])
    if n == 0:
        raise ConfigError(source, "holds no events (an empty log has no journey to discover)")
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    for column in ("case", "activity"):
        values = pd.Series(raw[column], dtype=object)
        missing = values.isna() | (values.astype(str).str.strip() == "")
        _first_bad(missing, named[column], "must not be empty")
        frame[column] = values.astype(str)
    frame["timestamp"] = _timestamps(pd.Series(raw["timestamp"]), named["timestamp"])
    if raw["lifecycle"] is None:
        frame["lifecycle"] = "complete"
        lifecycle = False
    else:
        values = pd.Series(raw["lifecycle"], dtype=object)
        text = values.where(values.isna(), values.astype(str).str.strip().str.lower())
        _first_bad(text.isna(), named["lifecycle"], "must not be empty")
        unknown = ~text.isin(LIFECYCLES)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise ConfigError(f"{named['lifecycle']}, row {row + 1}",
                              f"must be a lifecycle transition of the XES standard model "
                              f"({', '.join(LIFECYCLES)})", values.iloc[row])
        frame["lifecycle"] = text.astype(str)
        lifecycle = True
    events = frame.case.map(frame.case.value_counts())
    if (events == 1).any():  # a walk is what follows its first step: one event shows none
        row = int(np.flatnonzero(events.to_numpy() == 1)[0])
        raise ConfigError(f"{named['case']}, row {row + 1}",
                          "must not hold a case of one event (a case is a walk: its first "
                          "event and at least one after it)", frame.case.iloc[row])
    frame["resource"] = (pd.Series(pd.NA, index=frame.index, dtype=object)
                         if raw["resource"] is None
                         else pd.Series(raw["resource"], dtype=object).astype("string"))
    frame.attrs["lifecycle"] = lifecycle
    frame.attrs["source"] = source
    return frame


def _first_bad(bad: pd.Series, where: str, rule: str) -> None:
    """A ConfigError naming the first row where *bad* holds, if any."""
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ConfigError(f"{where}, row {row + 1}", rule)


def _timestamps(values: pd.Series, where: str) -> pd.Series:
    """*values* as UTC timestamps; a missing or unreadable one is an error naming its row."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        stamps = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        stamps = values.dt.tz_localize("UTC")
    else:
        _first_bad(values.isna(), where, "must not be empty (a timestamp)")
        text = values.astype(str)
        try:
            stamps = pd.to_datetime(text, utc=True, format="ISO8601")
        except (ValueError, OverflowError):
            stamps = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
            row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
            raise ConfigError(f"{where}, row {row + 1}", "must be an ISO 8601 timestamp "
                              "(e.g. 2011-10-01T00:38:44.546+02:00)", text.iloc[row]) from None
    _first_bad(stamps.isna(), where, "must not be empty (a timestamp)")
    outside = (stamps < pd.Timestamp.min.tz_localize("UTC")) | (
        stamps > pd.Timestamp.max.tz_localize("UTC"))
    if outside.any():  # nanosecond times, as the log's arithmetic needs, span 1677 to 2262
        row = int(np.flatnonzero(outside.to_numpy())[0])
        raise ConfigError(f"{where}, row {row + 1}", "must lie between 1678 and 2261 (a "
                          "timestamp to the nanosecond)", str(values.iloc[row]))
    return stamps.astype("datetime64[ns, UTC]").reset_index(drop=True)


def visits_to_events(visits: pd.DataFrame, staffed: set[str] | frozenset[str],
                     origin: pd.Timestamp | str = "2020-01-01") -> pd.DataFrame:
    """A run's visits (``Results.visits``) as an event log in this module's columns.

    A staffed touchpoint's visit is worked on by someone, so it becomes a START at its
    start and a COMPLETE at its end, as a firm's system records a case handled; any
    other visit is one COMPLETE at its end (a milestone reached). The wait before a
    START is not an event: in a firm's log it hides in the time between events, and so
    it does here. Days become timestamps from *origin* (UTC).

    Parameters
    ----------
    visits : pandas.DataFrame
        ``case``, ``touchpoint``, ``start``, ``end`` (days), as ``Results.visits`` has them.
    staffed : set of str
        The staffed touchpoints' names.
    origin : pandas.Timestamp or str
        The day 0 of the run.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, ordered by case and time; ``resource`` is ``staff`` for
        a staffed visit and empty otherwise.
    """
    origin = pd.Timestamp(origin)
    origin = origin.tz_localize("UTC") if origin.tzinfo is None else origin.tz_convert("UTC")
    touchpoint = visits.touchpoint.astype(str).to_numpy()
    worked = np.isin(touchpoint, sorted(staffed))
    case = visits.case.to_numpy()
    parts = [(case[worked], touchpoint[worked], visits.start.to_numpy()[worked], "start"),
             (case, touchpoint, visits.end.to_numpy(), "complete")]
    frame = pd.DataFrame({
        "case": np.concatenate([p[0] for p in parts]),
        "activity": np.concatenate([p[1] for p in parts]),
        "day": np.concatenate([p[2] for p in parts]),
        "lifecycle": np.repeat([p[3] for p in parts], [p[0].size for p in parts]),
        "resource": np.concatenate([np.where(worked[worked], "staff", None),
                                    np.where(worked, "staff", None)]),
        "order": np.concatenate([2 * np.flatnonzero(worked), 2 * np.arange(case.size) + 1]),
    }).sort_values(["case", "day", "order"], kind="stable")
    frame["timestamp"] = origin + pd.to_timedelta(frame.pop("day"), unit="D")
    frame = frame.drop(columns="order").reset_index(drop=True)[list(COLUMNS)]
    frame.attrs["lifecycle"] = True
    frame.attrs["file"] = "a simulated run's visits"
    return frame
