"""Reading an event log: every format to one table, and every bad log to one line."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pandas as pd
import pytest

from cxsim.data.eventlog import COLUMNS, LIFECYCLES, read_event_log
from cxsim.errors import ConfigError

EVENTS = pd.DataFrame({
    "case": ["c1", "c1", "c1", "c2", "c2"],
    "activity": ["apply", "call", "call", "apply", "decline"],
    "timestamp": ["2020-01-01T09:00:00+01:00", "2020-01-01T10:00:00+01:00",
                  "2020-01-01T10:30:00+01:00", "2020-01-02T08:00:00+00:00",
                  "2020-01-03T08:00:00+00:00"],
    "lifecycle": ["complete", "start", "complete", "complete", "complete"],
    "resource": ["system", "ann", "ann", "system", "bob"],
})
UTC = pd.to_datetime(EVENTS.timestamp, utc=True, format="ISO8601")


def xes_text(events: pd.DataFrame, head: str = "", case_key: str = "concept:name") -> str:
    """A minimal XES document of *events* (one trace per case, in order of appearance)."""
    lines = ['<?xml version="1.0" encoding="UTF-8" ?>', head,
             '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">',
             '<global scope="event"><string key="concept:name" value="UNKNOWN"/></global>']
    for case, trace in events.groupby("case", sort=False):
        lines.append(f'<trace><string key="{case_key}" value="{case}"/>')
        lines.append('<date key="REG_DATE" value="1970-01-01T00:00:00.000+01:00"/>')
        for row in trace.itertuples():
            lines.append(
                f'<event><string key="concept:name" value="{row.activity}"/>'
                f'<date key="time:timestamp" value="{row.timestamp}"/>'
                + (f'<string key="lifecycle:transition" value="{row.lifecycle.upper()}"/>'
                   if "lifecycle" in events else "")
                + f'<string key="org:resource" value="{row.resource}"/>'
                '<string key="other" value="ignored"><string key="nested" value="x"/></string>'
                "</event>")
        lines.append("</trace>")
    lines.append("</log>")
    return "\n".join(lines)


def write(events: pd.DataFrame, path: Path) -> Path:
    """*events* written to *path* in the format its suffix says."""
    name = path.name
    if name.endswith(".xes.gz"):
        with gzip.open(path, "wt", encoding="utf-8") as stream:
            stream.write(xes_text(events))
    elif name.endswith(".xes"):
        path.write_text(xes_text(events), encoding="utf-8")
    elif name.endswith(".parquet"):
        events.to_parquet(path, index=False)
    else:
        events.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("name", ["log.csv", "log.parquet", "log.xes", "log.xes.gz"])
def test_every_format_reads_to_the_same_table(tmp_path, name):
    log = read_event_log(write(EVENTS, tmp_path / name))
    assert list(log.columns) == list(COLUMNS)
    assert log.case.tolist() == EVENTS.case.tolist()
    assert log.activity.tolist() == EVENTS.activity.tolist()
    assert log.timestamp.dt.tz is not None and str(log.timestamp.dt.tz) == "UTC"
    assert (log.timestamp == UTC).all()  # offsets applied: 09:00+01:00 is 08:00 UTC
    assert log.lifecycle.tolist() == EVENTS.lifecycle.tolist()
    assert log.resource.tolist() == EVENTS.resource.tolist()
    assert log.attrs["lifecycle"] and log.attrs["file"] == name


def test_parquet_timestamps_keep_their_type_and_naive_ones_are_utc(tmp_path):
    events = EVENTS.assign(timestamp=UTC.dt.tz_localize(None))
    log = read_event_log(write(events, tmp_path / "log.parquet"))
    assert (log.timestamp == UTC).all()
    csv = read_event_log(write(events, tmp_path / "log.csv"))
    assert (csv.timestamp == UTC).all()


def test_a_log_without_lifecycle_or_resource_is_all_complete(tmp_path):
    log = read_event_log(write(EVENTS.drop(columns=["lifecycle", "resource"]),
                               tmp_path / "log.csv"))
    assert set(log.lifecycle) == {"complete"} and not log.attrs["lifecycle"]
    assert log.resource.isna().all()
    xes = tmp_path / "log.xes"
    xes.write_text(xes_text(EVENTS.drop(columns=["lifecycle"])))
    assert not read_event_log(xes).attrs["lifecycle"]


def test_columns_and_keys_are_named_by_the_caller(tmp_path):
    renamed = EVENTS.rename(columns={"case": "ticket", "activity": "step", "timestamp": "at"})
    log = read_event_log(write(renamed, tmp_path / "log.csv"), case="ticket", activity="step",
                         timestamp="at")
    assert log.case.tolist() == EVENTS.case.tolist()
    xes = tmp_path / "log.xes"
    xes.write_text(xes_text(EVENTS, case_key="ticket:id"))
    assert read_event_log(xes, case="ticket:id").case.tolist() == EVENTS.case.tolist()


def test_lifecycle_values_are_the_xes_standard_model():
    assert {"schedule", "start", "complete", "suspend", "resume", "ate_abort"} <= set(LIFECYCLES)


def one_line(tmp_path, events_or_text, name: str, **columns) -> str:
    """The message of the ConfigError reading the log raises; it is one line."""
    path = tmp_path / name
    if isinstance(events_or_text, str):
        path.write_text(events_or_text, encoding="utf-8")
    else:
        write(events_or_text, path)
    with pytest.raises(ConfigError) as error:
        read_event_log(path, **columns)
    message = str(error.value)
    assert "\n" not in message and name in message
    return message


def test_a_missing_column_is_named_with_the_columns_there(tmp_path):
    message = one_line(tmp_path, EVENTS.drop(columns=["timestamp"]), "log.csv")
    assert "has no column 'timestamp' (columns: case, activity, lifecycle, resource)" in message
    message = one_line(tmp_path, EVENTS, "log.parquet", lifecycle="transition")
    assert "has no column 'transition'" in message
    assert "key 'time:stamp' is on no event" in one_line(tmp_path, xes_text(EVENTS), "log.xes",
                                                          timestamp="time:stamp")


def test_an_unreadable_timestamp_names_its_row(tmp_path):
    events = EVENTS.copy()
    events.loc[3, "timestamp"] = "yesterday"
    message = one_line(tmp_path, events, "log.csv")
    assert re.search(r"column 'timestamp', row 4 must be an ISO 8601 timestamp .*'yesterday'",
                     message)
    assert "key 'time:timestamp', row 4 must be an ISO 8601" in one_line(
        tmp_path, events, "log.xes")
    events.loc[3, "timestamp"] = ""
    assert "column 'timestamp', row 4 must not be empty" in one_line(tmp_path, events, "e.csv")
    events.loc[3, "timestamp"] = "2262-04-12"  # found by the fuzz: a traceback before
    assert "column 'timestamp', row 4 must lie between 1678 and 2261" in one_line(
        tmp_path, events, "far.csv")


def test_an_unknown_lifecycle_names_its_row_and_the_known_ones(tmp_path):
    events = EVENTS.copy()
    events.loc[2, "lifecycle"] = "finished"
    message = one_line(tmp_path, events, "log.csv")
    assert "column 'lifecycle', row 3 must be a lifecycle transition of the XES standard" in message
    assert "schedule, assign" in message and "got 'finished'" in message
    assert "row 3 must be a lifecycle transition" in one_line(tmp_path, events, "log.xes.gz")


def test_an_empty_case_or_activity_names_its_row(tmp_path):
    events = EVENTS.copy()
    events.loc[1, "activity"] = ""
    assert "column 'activity', row 2 must not be empty" in one_line(tmp_path, events, "log.csv")


def test_a_case_of_one_event_names_its_row_and_the_case(tmp_path):
    events = pd.concat([EVENTS, EVENTS.iloc[[0]].assign(case="c3")], ignore_index=True)
    message = one_line(tmp_path, events, "log.csv")
    assert "column 'case', row 6 must not hold a case of one event" in message
    assert message.endswith("got 'c3'")
    assert "row 6 must not hold a case of one event" in one_line(tmp_path, events, "log.xes")


def test_an_empty_log_is_refused(tmp_path):
    assert "holds no events" in one_line(tmp_path, EVENTS.iloc[:0], "log.csv")
    assert "is empty" in one_line(tmp_path, "", "empty.csv")
    empty = '<?xml version="1.0"?><log xes.version="1.0"></log>'
    assert "holds no trace" in one_line(tmp_path, empty, "log.xes")
    traces = '<?xml version="1.0"?><log><trace><string key="concept:name" value="a"/></trace></log>'
    assert "holds no events" in one_line(tmp_path, traces, "traces.xes")


XXE = """<?xml version="1.0"?>
<!DOCTYPE log [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<log><trace><string key="concept:name" value="&secret;"/><event>
<string key="concept:name" value="a"/><date key="time:timestamp" value="2020-01-01"/>
</event></trace></log>"""

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE log [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<log><trace><string key="concept:name" value="&lol9;"/></trace></log>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE log SYSTEM "http://example.invalid/log.dtd">
<log></log>"""


@pytest.mark.parametrize("text", [XXE, LAUGHS, EXTERNAL_DTD], ids=["xxe", "billion-laughs",
                                                                   "external-dtd"])
@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz"])
def test_a_document_type_is_refused_before_any_entity(tmp_path, text, name):
    """No DTD: so no external entity is read and no entity is expanded."""
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt") as stream:
            stream.write(text)
    else:
        path.write_text(text)
    with pytest.raises(ConfigError, match="declares a document type") as error:
        read_event_log(path)
    assert "root:" not in str(error.value) and "lollol" not in str(error.value)


def test_broken_xml_and_unknown_files_are_one_line(tmp_path):
    assert "is not well-formed XML" in one_line(tmp_path, "<log><trace></log>", "bad.xes")
    assert "must be an .xes" in one_line(tmp_path, "a,b", "log.json")
    with pytest.raises(ConfigError, match="does not exist"):
        read_event_log(tmp_path / "nowhere.csv")
    (tmp_path / "fake.xes.gz").write_bytes(b"not gzip")
    with pytest.raises(ConfigError, match="fake.xes.gz' cannot be read"):
        read_event_log(tmp_path / "fake.xes.gz")
