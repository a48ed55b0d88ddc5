"""Bad input, generated: a careless or hostile user's overrides, journeys, cohort files,
transaction logs, event logs, saved result folders and scenario pairs.

Each case mutates the valid tiny scenario (``TINY``) with one to three
overrides, replaces its journey with a mutated copy of a valid one, or sets
one to four settings at or just inside an end of their declared bounds
(valid but extreme: these reach a run); or it hands a command a generated
file or argument list: a cohort file to ``cxsim``, a transaction log to
``cxsim-calibrate``, an event log (CSV or XES, damaged: a missing column, an unreadable
timestamp, an unknown lifecycle, a case of one event, a split outside the log or leaving no
later case, an external entity, an entity-expansion bomb, truncated XML) to
``cxsim-discover``, a damaged copy of a saved run to ``cxsim-report``, a
pair of scenarios to ``cxsim-compare``. It is tried in a worker process
under a time and an address-space limit. A case must end in one of two ways:

* ``error``: a :class:`cxsim.ConfigError` whose message is one line and
  names a key, an override, a file or a touchpoint; from a command, exit
  status 2, one line on stderr, and nothing written where it was to write;
* ``result``: a finished run whose summary holds no infinite number; from a
  command, exit status 0 and on stderr nothing but the command's own
  one-line warnings.

Anything else is counted by kind: ``traceback`` (another exception, or a
command's other exit status), ``unclear`` (a ConfigError of several lines
or naming nothing, or a command's error after other lines on stderr, such
as a leaked warning), ``silent`` (a run that finished although an override
named no known setting: the default ran; a comparison of nothing),
``written`` (a command refused its input after writing part of its
output), ``infinite``, ``hang`` (over the time limit) and ``memory`` (the
worker died or ran out of memory). ``tests/test_fuzz.py`` runs a few hundred
cases in ``make test``; ``make fuzz`` runs thousands:

    .venv/bin/python tests/fuzz.py --cases 5000      # prints and writes outputs/fuzz.md

Each finding's input is kept, so it can be run again: under
``outputs/fuzz-findings/<kind>-<n>/`` (``traceback-1``, ``hang-2``...; the summary names
each folder) the case as ``case.json``, the generated files as the command read them
(``log.csv``, ``cohort.csv``, ``journey.yaml``...), and in ``command.txt`` the command line
or overrides with the line it ended in. One case again, in the same limited worker:

    .venv/bin/python tests/fuzz.py --replay outputs/fuzz-findings/traceback-1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import resource
import shutil
import sys
import tempfile
import warnings
from collections import Counter
from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TINY = ["scenario=solo", "market.size=150", "sim.years=0.1"]
SECONDS = 30  # per case: a tiny run takes well under a second
MEMORY = 3 * 2**30  # address space of the worker
OUTCOMES = ("error", "result", "traceback", "unclear", "silent", "written", "infinite", "hang",
            "memory")
GOOD = ("error", "result")

KNOWN = [
    "seed", "market.size", "market.segments.core.share",
    "market.segments.core.mean_days_between_needs", "market.segments.core.order_value",
    "market.segments.core.margin", "market.segments.core.social_influence",
    "market.segments.core.switching_cost", "market.segments.core.needs.price",
    "market.choice_sharpness", "market.return_per_year", "market.warning_ratio",
    "market.referral_conversion", "market.sales_pressure_revenue_gain",
    "firms.acme.price_level", "firms.acme.initial_share", "firms.acme.onboarding_cost",
    "firms.acme.growth_target", "firms.acme.listening", "firms.acme.will",
    "firms.acme.budget_share", "firms.acme.metric", "firms.acme.incentive",
    "firms.acme.strategy", "firms.acme.funding", "firms.acme.org", "firms.acme.journey",
    "firms.acme.survey", "firms.acme.asks", "firms.acme.response", "firms.acme.survey_sample",
    "market.study_sample",
    "psychology.base_churn", "psychology.loss_aversion", "psychology.nps_noise_sd",
    "psychology.wait_tolerance_days", "psychology.emotions", "management.review",
    "management.max_cut", "management.culture_lag_quarters", "sim.years",
    "sim.warmup_years", "sim.discount_rate", "sim.days_per_month", "network.mean_degree",
    "network.rewire_probability", "network.kind", "experiment.replications", "market",
    "network", "scenario",
]
ADDED = [  # keys that exist only once added with +
    "firms.acme.staff.support", "firms.acme.staff.nowhere", "firms.acme.cx_split.support",
    "firms.acme.cx_split.intake", "firms.acme.offer.speed", "firms.acme.offer.luxury",
    "events.e.kind", "events.e.start_month", "events.e.months", "events.e.order_value_factor",
    "events.e.need_rate_factor", "events.e.firm", "market.segments.vip.share",
]
UNKNOWN = ["psychology.base_chrun", "market.sise", "foo", "x._target_", "firms.acme.recovery",
           "sim.yeers", "market.segments.core.shares", "events.e.strength"]

NUMBERS = st.one_of(
    st.sampled_from([0, -1, 1, 2, 10**20, 2**63, 2**64, -(2**63), 2147483647]),
    st.sampled_from([0.0, -0.5, 0.5, 1.5, 1e308, -1e308, 1e-308, 5e-324]),
    st.sampled_from(["nan", "inf", "-inf", "1e309"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.integers(-10**6, 10**6),
)
WORDS = st.sampled_from([
    "''", "abc", "null", "true", "[1]", "{a: 1}", "'<img src=x onerror=alert(1)>'",
    "../../etc/passwd", "'acme\\n'", "glob(*)", "range(0,3)", "'${oc.env:HOME}'",
    "default", "cco", "nps", "shock", "small_world", "subscription",
    "transactional", "relational", "market", "finished_walks",
    "'{detractor: 0.1, passive: 0.2, promoter: 0.3}'", "'{detractor: 1, passive: 2, promoter: 1}'",
    "'{detractor: 0.5, promoter: 0.5}'", "'{detractor: 0.5, passive: 0.5, promoter: nan}'",
])


@dataclass(frozen=True)
class Case:
    overrides: tuple[str, ...]
    unknown: bool = False  # an override names no setting: an error is required
    journey: str | None = None  # YAML text of a mutated journey, written for the case
    surface: str = "run"  # run, cohort, transactions, eventlog, report or compare
    text: str = ""  # the generated file: a cohort, a transaction log or an event log
    arguments: tuple[str, ...] = ()  # the command's own arguments
    damage: tuple[tuple[str, str, str], ...] = ()  # report: (file, how, text) to a saved run
    pair: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # compare: a's and b's overrides


def _override(key: str, value: object, prefix: str) -> str:
    return f"{prefix}{key}={value}"


@st.composite
def override_cases(draw) -> Case:
    overrides, unknown = [], False
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["known", "known", "added", "unknown"]))
        value = draw(st.one_of(NUMBERS, WORDS))
        if kind == "known":
            key, prefix = draw(st.sampled_from(KNOWN)), draw(st.sampled_from(["", "", "++", "~"]))
        elif kind == "added":
            key, prefix = draw(st.sampled_from(ADDED)), draw(st.sampled_from(["+", "++"]))
        else:
            key, prefix = draw(st.sampled_from(UNKNOWN)), draw(st.sampled_from(["+", "++"]))
            unknown = True
        overrides.append(_override(key, value, prefix))
    return Case(tuple(overrides), unknown)


JOURNEY = {
    "name": "tiny", "entry": "start", "exits": ["done"],
    "touchpoints": {
        "start": {"stage": "awareness", "channel": "web", "service_days": 0.01,
                  "base_quality": 0.7},
        "desk": {"stage": "support", "channel": "phone", "staffed": True, "staff": 2,
                 "service_days": 0.05, "base_quality": 0.6},
        "done": {"stage": "renewal", "channel": "web", "service_days": 0.01,
                 "base_quality": 0.7},
    },
    "edges": [{"from": "start", "to": "desk", "probability": 0.9},
              {"from": "desk", "to": "done", "probability": 1.0}],
}
JOURNEY_VALUES = st.one_of(NUMBERS.map(lambda v: float(v) if isinstance(v, str) else v),
                           st.sampled_from([None, "", "desk", [1], {"a": 1}, True, "desk\n"]))


@st.composite
def journey_cases(draw) -> Case:
    data = yaml.safe_load(yaml.safe_dump(JOURNEY))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["touchpoint", "edge", "top", "add_edge", "rename",
                                      "patience"]))
        value = draw(JOURNEY_VALUES)
        touchpoints = data.get("touchpoints")
        edges = data.get("edges")
        nodes = list(touchpoints) if isinstance(touchpoints, dict) else []
        if where == "touchpoint" and nodes:
            tp = draw(st.sampled_from(nodes))
            field = draw(st.sampled_from(["service_days", "base_quality", "staff", "staffed",
                                          "hygiene", "delighter", "cost_per_visit",
                                          "failure_probability", "stage", "unknown_field",
                                          "patience_days", "outcome"]))
            if isinstance(touchpoints[tp], dict):
                touchpoints[tp][field] = value
        elif where == "edge" and isinstance(edges, list) and edges:
            edge = edges[draw(st.sampled_from(range(len(edges))))]
            if isinstance(edge, dict):
                edge[draw(st.sampled_from(["probability", "from", "to", "delay_days",
                                           "delay_shape", "delay_quantiles"]))] = value
        elif where == "top":
            data[draw(st.sampled_from(["name", "entry", "exits", "touchpoints", "edges",
                                       "reference_clients", "extra"]))] = value
        elif where == "add_edge" and nodes and isinstance(edges, list):
            edges.append({"from": draw(st.sampled_from(nodes)),
                          "to": draw(st.sampled_from(nodes)), "probability": value})
        elif where == "patience" and isinstance(touchpoints, dict) and \
                isinstance(touchpoints.get("desk"), dict) and \
                isinstance(touchpoints.get("done"), dict):  # reneging, its values drawn
            touchpoints["desk"]["patience_days"] = value
            touchpoints["done"]["outcome"] = "walk_away"
        elif where == "rename" and "desk" in nodes:
            touchpoints[str(value)] = touchpoints.pop("desk")
    return Case((), False, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _edges() -> list[tuple[str, list[float]]]:
    """Every bounded setting's key with values at its ends and just inside them."""
    import math

    from cxsim import config

    sections = [("market.segments.core", config.SegmentConfig), ("market", config.MarketConfig),
                ("firms.acme", config.FirmConfig), ("psychology", config.PsychologyConfig),
                ("management", config.ManagementConfig), ("sim", config.SimConfig),
                ("+events.e", config.EventConfig)]
    edges = []
    for key, section in sections:
        for f in fields(section):
            bounds = f.metadata.get("bounds")
            if bounds is None or f"{key}.{f.name}" in WORK:
                continue
            if bounds.integer:
                values = [bounds.low, bounds.low + 1, bounds.high - 1, bounds.high]
            else:
                values = [bounds.low, math.nextafter(bounds.low, math.inf),
                          math.nextafter(bounds.high, -math.inf), bounds.high,
                          bounds.low + (bounds.high - bounds.low) * 1e-6]
            values = [v for v in values if bounds.low <= v <= bounds.high
                      and not (bounds.low_open and v == bounds.low)
                      and not (bounds.high_open and v == bounds.high)]
            edges.append((f"{key}.{f.name}", values))
    return edges


WORK = {"market.size", "sim.years", "sim.warmup_years"}  # their far ends ask for a huge run


@st.composite
def edge_cases(draw) -> Case:
    """Valid but extreme: one to four settings at or just inside an end of their bounds.
    Each must run to a finite result or be refused with its one line."""
    overrides = []
    for _ in range(draw(st.integers(1, 4))):
        key, values = draw(st.sampled_from(EDGES))
        if key.startswith("+events.e") and not any(o.startswith("+events.e.kind") for o in
                                                   overrides):
            overrides.append("+events.e.kind=" + draw(st.sampled_from(["shock", "workshop"])))
            if key != "+events.e.start_month":  # the default, month 12, is past TINY's horizon
                overrides.append("+events.e.start_month=0")
        overrides.append(f"{key}={draw(st.sampled_from(values))!r}")
    return Case(tuple(dict.fromkeys(overrides)))


EDGES = _edges()


# ------------------------------------------------------------- files and commands
CELLS = st.one_of(
    st.sampled_from(["", "nan", "inf", "-inf", "-1", "0", "1", "2.5", "1e308", "-1e308", "1e-320",
                     "99999999999999999999", "abc", "acme", "core", "nobody", "'", '"', "NULL",
                     "0x10", "1,5", "<b>x</b>", "${a}"]),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e4, max_value=1e4).map(str),
)
COHORT_COLUMNS = ["acquired_day", "acquired_day", "firm", "segment", "extra", "", "day"]


def _csv(header: list[str], rows: list[list[str]], separator: str = ",") -> str:
    lines = [separator.join(header), *(separator.join(row) for row in rows)]
    return "\n".join(lines) + "\n"


@st.composite
def cohort_cases(draw) -> Case:
    """A cohort file: its columns, repeated or missing, and cells of every kind."""
    header = draw(st.one_of(st.just(["acquired_day"]), st.just(["acquired_day", "firm"]),
                            st.lists(st.sampled_from(COHORT_COLUMNS), min_size=0, max_size=4)))
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        width = len(header) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        valid = {"acquired_day": st.integers(0, 30).map(str), "firm": st.just("acme"),
                 "segment": st.just("core")}
        rows.append([draw(st.one_of(*[valid.get(name, CELLS)] * 4, CELLS))
                     for name in (header + ["extra"])[:max(width, 0)]])
    separator = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    repeated = separator == "," and len(set(header)) < len(header)
    return Case((), unknown=repeated, surface="cohort", text=_csv(header, rows, separator))


DATES = st.one_of(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2000, 12, 31)).map(str),
    st.sampled_from(["9999-12-31", "0001-01-01", "1997-13-45", "19970101", "", "nan", "1e308",
                     "1997-02-30", "yesterday", "1677-09-21", "2262-04-12", "1997-01-01T25:00"]))
AMOUNTS = st.one_of(st.floats(min_value=0.01, max_value=500).map(lambda v: f"{v:.2f}"),
                    st.sampled_from(["1e308", "-5", "0", "nan", "", "abc", "inf", "1e-320"]))
LOG_COLUMNS = ["customer", "date", "amount", "segment", "customer", "extra"]


def _log(seed: int, customers: int) -> list[dict[str, str]]:
    """A plausible transaction log of 1997, made from *seed*, that each case then damages.

    Buying as the BG/NBD has it and spending as the Gamma-Gamma has it, at CDNOW's
    published estimates (Fader, Hardie & Lee 2005: r 0.24, alpha 4.41 weeks, a 0.79,
    b 2.43; Fader, Hardie & Lee 2005b: p 6.25, q 3.74, gamma 15.44): each customer buys at
    its own weekly rate, may drop out after each purchase and spends around its own mean."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for customer in range(customers):
        rate, dropout = rng.gamma(0.24, 1 / 4.41), rng.beta(0.79, 2.43)
        scale = 1 / rng.gamma(3.74, 1 / 15.44)  # each purchase: gamma(p, scale)
        week = rng.uniform(0, 12)
        while week < 52:
            rows.append({"customer": str(customer),
                         "date": str(np.datetime64("1997-01-01") + int(7 * week)),
                         "amount": f"{rng.gamma(6.25, scale):.2f}",
                         "segment": "ab"[customer % 2], "extra": "x"})
            if rng.uniform() < dropout or rate == 0:
                break
            week += rng.exponential(1 / rate)
    return rows


@st.composite
def transaction_cases(draw) -> Case:
    """A transaction log, damaged in a few cells, its header or its rows, and the command's
    arguments (``cxsim-calibrate``)."""
    usual = ["customer", "date", "amount"]
    header = draw(st.sampled_from([usual] * 3 + [[*usual, "segment"], None] + [usual] * 3))
    if header is None:
        header = draw(st.lists(st.sampled_from(LOG_COLUMNS), min_size=0, max_size=5))
    rows = [[row[name] for name in header]
            for row in _log(draw(st.integers(0, 2**16)),
                            draw(st.sampled_from([1000, 300, 2, 50, 300, 1000])))]
    for _ in range(draw(st.integers(0, 3))):
        if rows and header:
            row, column = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(header) - 1))
            rows[row][column] = draw(st.one_of(DATES, AMOUNTS, CELLS))
    if rows and draw(st.integers(0, 7)) == 0:  # a ragged row
        rows[draw(st.integers(0, len(rows) - 1))].append(draw(CELLS))

    def mostly(usual: str, *others: str) -> str:  # the generator favours a list's ends
        return draw(st.sampled_from([usual] * 4 + list(others) + [usual] * 4))

    arguments = ["--end", mostly("1997-09-30", "1996-01-01", "9999-12-31", "0001-01-01", "x",
                                 "1998-12-31"),
                 "--out", mostly("mine.yaml", "/proc/nope/mine.yaml", "mine.txt", ".yaml",
                                 "nested/mine.yaml"),
                 "-n", mostly("0", "1", "-1", "x")]
    invalid = False
    for option, valid, wrong in (("--margin", ["0.3", "1", "0"], ["2", "-1", "nan"]),
                                 ("--discount-rate", ["0.1", "10"], ["0", "1e-5", "11", "nan"]),
                                 ("--currency", ["€"], ["${a}", "CHFXX", ""]),
                                 ("--segment-column", ["segment"], ["nope"]),
                                 ("--date-format", ["%Y-%m-%d"], ["%d", "%Q"])):
        if draw(st.sampled_from([False] * 3 + [True] + [False] * 3)):
            value = draw(st.sampled_from(valid + wrong))
            arguments += [option, value]
            invalid = invalid or value in wrong
    return Case((), unknown=invalid, surface="transactions", text=_csv(header, rows),
                arguments=tuple(arguments))


EVENT_COLUMNS = ["case", "activity", "timestamp", "lifecycle", "resource"]
SPLIT = "2020-03-01"
BAD_STAMPS = ["x", "", "2020-13-45T10:00:00", "yesterday", "1e400", "2020-02-30", "99999-01-01",
              "2020-01-01T25:00:00+00:00", "NaT", "0"]
BAD_LIFECYCLES = ["done", "", "START ", "Complete", "schedule", "x" * 300, "start\n", "None"]
DOCTYPES = {
    "xxe": '<!DOCTYPE log [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    "bomb": '<!DOCTYPE log [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    "external": '<!DOCTYPE log SYSTEM "http://example.invalid/log.dtd">',
}


def _event_log(seed: int, cases: int) -> list[dict[str, str]]:
    """A loan-like log: apply, a staffed call (SCHEDULE, START, COMPLETE) once or more, and
    an outcome (approve, decline, cancel); cases start over 120 days from 2020-01-01."""
    import numpy as np

    rng = np.random.default_rng(seed)
    origin = np.datetime64("2020-01-01T00:00:00", "s")
    rows = []
    for case in range(cases):
        t = float(rng.uniform(0, 120 * 86400))

        def add(activity: str, lifecycle: str, resource: str, at: float,
                name: str = f"c{case}") -> None:
            stamp = origin + np.timedelta64(int(at), "s")
            rows.append({"case": name, "activity": activity,
                         "timestamp": f"{stamp}+00:00", "lifecycle": lifecycle,
                         "resource": resource})

        add("apply", "complete", "system", t)
        for _ in range(int(rng.geometric(0.6))):
            t += float(rng.exponential(3600))
            add("call", "schedule", "system", t)
            t += float(rng.exponential(7200))
            who = str(rng.choice(["ann", "bob"]))
            add("call", "start", who, t)
            t += float(rng.exponential(600))
            add("call", "complete", who, t)
        t += float(rng.exponential(86400))
        add(str(rng.choice(["approve", "decline", "cancel"], p=[0.4, 0.35, 0.25])), "complete",
            "system", t)
    return rows


def _xes(header: list[str], rows: list[list[str]], head: str = "") -> str:
    """A small XES document of *rows* (one trace per case), keys by the XES standard."""
    from xml.sax.saxutils import quoteattr

    keys = {"activity": ("string", "concept:name"), "timestamp": ("date", "time:timestamp"),
            "lifecycle": ("string", "lifecycle:transition"),
            "resource": ("string", "org:resource")}
    lines = ['<?xml version="1.0" encoding="UTF-8" ?>', head,
             '<log xes.version="1.0" xmlns="http://www.xes-standard.org/">']
    traces: dict[str, list[list[str]]] = {}
    case = header.index("case") if "case" in header else None
    for row in rows:
        traces.setdefault(row[case] if case is not None else "t", []).append(row)
    for name, events in traces.items():
        lines.append("<trace>" + (f'<string key="concept:name" value={quoteattr(name)}/>'
                                  if case is not None else ""))
        for row in events:
            lines.append("<event>" + "".join(
                f"<{keys[c][0]} key=\"{keys[c][1]}\" value={quoteattr(v)}/>"
                for c, v in zip(header, row) if c in keys) + "</event>")
        lines.append("</trace>")
    lines.append("</log>")
    return "\n".join(lines)


@st.composite
def eventlog_cases(draw) -> Case:
    """An event log, CSV or XES, with one kind of damage or none, and the command's
    arguments (``cxsim-discover``, sometimes with a short ``--check``)."""
    rows = _event_log(draw(st.integers(0, 2**16)), draw(st.sampled_from([60, 200, 2, 200])))
    header = list(EVENT_COLUMNS)
    kind = draw(st.sampled_from(["none", "none", "missing", "stamp", "lifecycle", "one",
                                 "no_later", "outside", "xxe", "bomb", "external",
                                 "truncated", "cells"]))
    split = SPLIT
    if kind == "missing":
        header.remove(draw(st.sampled_from(["case", "activity", "timestamp"])))
    elif kind == "stamp":
        rows[draw(st.integers(0, len(rows) - 1))]["timestamp"] = draw(st.sampled_from(BAD_STAMPS))
    elif kind == "lifecycle":
        rows[draw(st.integers(0, len(rows) - 1))]["lifecycle"] = draw(
            st.sampled_from(BAD_LIFECYCLES))
    elif kind == "one":
        rows.append({**rows[draw(st.integers(0, len(rows) - 1))], "case": "lonely"})
    elif kind == "no_later":
        starts: dict[str, str] = {}
        for row in rows:
            starts[row["case"]] = min(starts.get(row["case"], row["timestamp"]), row["timestamp"])
        last = max(starts.values())
        split = draw(st.sampled_from([last[:19] + ".5+00:00", last[:10] + "T23:59:59+00:00"]))
    elif kind == "outside":
        split = draw(st.sampled_from(["2030-01-01", "1990-01-01", "x", "", "2020-13-01",
                                      "2020-01-01T00:00:00+00:00"]))
    elif kind == "cells":
        for _ in range(draw(st.integers(1, 3))):
            row = draw(st.integers(0, len(rows) - 1))
            rows[row][draw(st.sampled_from(EVENT_COLUMNS))] = draw(st.one_of(CELLS, DATES))
    table = [[row[c] for c in header] for row in rows]
    xes = kind in ("xxe", "bomb", "external", "truncated") or draw(st.booleans())
    if xes:
        text = _xes(header, table, DOCTYPES.get(kind, ""))
        if kind == "truncated":
            text = text[: draw(st.integers(0, len(text) - 1))]
        name = draw(st.sampled_from(["log.xes", "log.xes.gz"]))
    else:
        text, name = _csv(header, table), "log.csv"
    arguments = [name, "--split", split, "--out",
                 draw(st.sampled_from(["j/mine.yaml"] * 6 + ["bad name.yaml", "j/mine.txt"]))]
    if draw(st.integers(0, 5)) == 0:
        arguments += ["--check", "-n", draw(st.sampled_from(["2", "2", "1", "x"]))]
    return Case((), surface="eventlog", text=text, arguments=tuple(arguments))


SAVED = ["summary.parquet", "timeseries.parquet", "segments.parquet", "clients.parquet",
         "touchpoints.parquet", "journeys.parquet", "meta.json", "config.yaml",
         "comparison.json", "run.json", "summary.json"]
SAVED_TEXTS = ["", "[1, 2]", "{", "null", '{"run_id": 5}', "seed: 0\n", "sim: 3\n",
               "sim: {years: 1}\nmarket: {}\nfirms: {}\n",
               "!!python/object/apply:os.system ['echo ran']\n", '{"kind": "nope"}',
               "market: {size: -1}\nsim: {years: -1}\nfirms: {a: 1}\n", "\x00\x01\x02"]


@st.composite
def report_cases(draw) -> Case:
    """A saved run, damaged in one to three of its files (``cxsim-report``)."""
    damage = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(SAVED))
        how = draw(st.sampled_from(["delete", "garble", "truncate", "replace", "swap"]))
        damage.append((name, how, draw(st.sampled_from(SAVED_TEXTS))))
    return Case((), surface="report", damage=tuple(damage))


CHANGES = ["market.size=120", "firms.acme.budget_share=0.2", "psychology.base_churn=0.2",
           "seed=3", "scenario=solo", "scenario=duel", "market=one_off_consumer"]
NO_CHANGE = ["hydra.run.dir=x", "experiment.replications=3", "hydra.job.name=y",
             "experiment.workers=2", "hydra/launcher=joblib"]


@st.composite
def compare_cases(draw) -> Case:
    """A pair of scenarios (``cxsim-compare``): overrides of either side, the count."""
    pool = st.one_of(st.sampled_from(CHANGES), st.sampled_from(NO_CHANGE),
                     st.sampled_from(NO_CHANGE),
                     st.builds(_override, st.sampled_from(KNOWN + UNKNOWN),
                               st.one_of(NUMBERS, WORDS), st.just("")))
    a = draw(st.lists(pool, max_size=2))
    b = draw(st.lists(pool, max_size=2))
    arguments = ["--common", *TINY, *(["--a", *a] if a else []), *(["--b", *b] if b else []),
                 "-n", draw(st.sampled_from(["2", "2", "3", "1", "0", "-1", "x"]))]
    if draw(st.integers(0, 4)) == 0:
        arguments += ["--metrics", draw(st.sampled_from(["share_final", "nope", "firm"]))]
    return Case((), surface="compare", arguments=tuple(arguments), pair=(tuple(a), tuple(b)))



CASES = st.one_of(override_cases(), override_cases(), journey_cases(), edge_cases(),
                  cohort_cases(), transaction_cases(), eventlog_cases(), report_cases(),
                  compare_cases())


# ------------------------------------------------------------------ worker
def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _saved_run(folder: Path) -> Path:
    """A tiny run saved once per worker, copied for each report case."""
    import cxsim

    original = Path(tempfile.gettempdir()) / f"cxsim-fuzz-run-{__import__('os').getpid()}"
    if not (original / "meta.json").is_file():
        cxsim.run(cxsim.compose(TINY)).save(original)
    return Path(shutil.copytree(original, folder / "run"))


def _damaged(run: Path, damage: tuple[tuple[str, str, str], ...]) -> None:
    for name, how, text in damage:
        path = run / name
        if how == "delete":
            path.unlink(missing_ok=True)
        elif how == "garble" and path.is_file():
            data = bytearray(path.read_bytes())
            data[len(data) // 2:len(data) // 2 + 16] = b"\xff" * 16
            path.write_bytes(bytes(data))
        elif how == "truncate" and path.is_file():
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
        elif how == "replace":
            path.write_text(text)
        elif how == "swap":
            other = run / ("summary.parquet" if name != "summary.parquet" else "clients.parquet")
            if other.is_file():
                shutil.copyfile(other, path)


def _command(main, arguments: list[str], folder: Path, keep: set[str]) -> tuple[str, str]:
    """Run a console command's ``main`` in *folder*; its outcome by exit status and stderr."""
    import os

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                warnings.catch_warnings():
            warnings.simplefilter("always")  # each case sees a warning, not only the first
            main(arguments)
        status = 0
    except SystemExit as exit_:
        status = exit_.code if isinstance(exit_.code, int) else 1
    except MemoryError:
        return "memory", "MemoryError"
    except Exception as error:  # the point of the fuzz: anything else is a finding
        return "traceback", f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
    finally:
        os.chdir(here)
    lines = err.getvalue().strip().splitlines()
    left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and p.relative_to(folder).parts[0] not in keep)
    if status == 2:
        if len(lines) != 1 or ": error: " not in lines[0]:
            return "unclear", " / ".join(lines)[:200]
        if left:
            return "written", f"{lines[0][:120]}; left {left[:3]}"
        return "error", lines[0]
    if status != 0:
        return "traceback", f"exit {status}: {' / '.join(lines)[-200:]}"
    leaked = [line for line in lines if ": warning: " not in line]
    if leaked:  # a command's own warnings are lines of their own; anything else leaked
        return "unclear", "exit 0 with stderr: " + " / ".join(leaked)[:200]
    return "result", ""


def attempt_command(case: Case, folder: Path) -> tuple[str, str]:
    """A cohort file, transaction log, saved run or scenario pair handed to its command."""
    if case.surface == "cohort":
        path = folder / "cohort.csv"
        path.write_text(case.text)
        rows = max(1, case.text.count("\n") - 1)
        outcome = attempt(Case(("network=none", "firms.acme.initial_share=0",
                                f"market.size={rows}", f"market.cohort={path}"),
                               unknown=case.unknown))
        if outcome[0] == "silent":
            return "silent", "ran although the file names a column twice"
        return outcome
    if case.surface == "transactions":
        from cxsim.calibrate_cli import main

        (folder / "log.csv").write_text(case.text)
        outcome = _command(main, ["log.csv", *case.arguments], folder, {"log.csv"})
        if outcome[0] == "result" and case.unknown:
            return "silent", "ran although an argument is out of its bounds"
        return outcome
    if case.surface == "eventlog":
        import gzip

        from cxsim.discover_cli import main

        log = folder / case.arguments[0]
        data = case.text.encode("utf-8", "surrogatepass")
        log.write_bytes(gzip.compress(data, mtime=0) if log.suffix == ".gz" else data)
        outcome = _command(main, [*case.arguments, "--check-out", "fit"], folder, {log.name})
        fit = folder / "fit" / "fit.json"
        if outcome[0] == "result" and fit.is_file() and "Infinity" in fit.read_text():
            return "infinite", "an infinite number in fit.json"
        return outcome
    if case.surface == "report":
        from cxsim.report.cli import main

        run = _saved_run(folder)
        _damaged(run, case.damage)
        before = {p.name: p.stat().st_mtime_ns for p in run.iterdir()}
        outcome = _command(main, [str(run)], folder, {"run"})
        if outcome[0] != "result" and {p.name: p.stat().st_mtime_ns
                                       for p in run.iterdir()} != before:
            return "written", f"{outcome[1][:120]}; the run folder changed"
        return outcome
    from cxsim.compare_cli import main

    outcome = _command(main, [*case.arguments, "--out", "pair"], folder, set())
    if outcome[0] == "result":
        import pandas as pd

        table = pd.read_parquet(folder / "pair" / "comparison.parquet")
        if table.empty:
            return "silent", "an empty comparison"
        differ = set(case.pair[0]) ^ set(case.pair[1])
        if differ and differ <= set(NO_CHANGE) and not (table["diff"].abs() > 0).any():
            return "silent", f"every difference is 0: {sorted(differ)} changed nothing"
    return outcome


def attempt(case: Case) -> tuple[str, str]:
    """Run one case in this (limited) process; its outcome and a line about it."""
    import numpy as np

    import cxsim

    if case.surface != "run":
        with tempfile.TemporaryDirectory() as folder:
            return attempt_command(case, Path(folder))
    overrides = list(case.overrides)
    with tempfile.TemporaryDirectory() as folder:
        if case.journey is not None:
            path = Path(folder) / "journey.yaml"
            path.write_text(case.journey)
            overrides.append(f"firms.acme.journey={path}")
        try:
            results = cxsim.run(cxsim.compose([*TINY, *overrides]))
        except cxsim.ConfigError as error:
            text = str(error)
            if "\n" in text or not text.split(" ", 1)[0]:
                return "unclear", text
            return "error", text
        except MemoryError:
            return "memory", "MemoryError"
        except Exception as error:  # the point of the fuzz: anything else is a finding
            return "traceback", f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
    if case.unknown:
        return "silent", "ran although an override names no setting"
    numbers = results.summary.select_dtypes("number").to_numpy(dtype=float)
    if np.isinf(numbers).any():
        return "infinite", "an infinite number in the summary"
    return "result", ""


class Runner:
    """One worker process with the limits; replaced when a case kills or outlasts it."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._pool = self._start()

    def _start(self):
        pool = self._context.Pool(1, initializer=_limit, maxtasksperchild=200)
        pool.apply(attempt, (Case(()),))  # untimed: a cold numba cache compiles here
        return pool

    def __call__(self, case: Case) -> tuple[str, str]:
        job = self._pool.apply_async(attempt, (case,))
        try:
            return job.get(timeout=SECONDS)
        except multiprocessing.TimeoutError:
            outcome = ("hang", f"over {SECONDS} s")
        except Exception as error:  # the worker died (out of memory, killed)
            outcome = ("memory", f"worker died: {type(error).__name__}")
        self._pool.terminate()
        self._pool = self._start()
        return outcome

    def close(self) -> None:
        self._pool.terminate()


def explore(cases: int, seed: int = 0, findings: Path | None = None) -> Counter:
    """Outcomes of *cases* generated cases (reproducible by *seed*), with one example each.

    With *findings*, each case that ends in neither a clean error nor a finite result
    has its input kept in ``findings/<kind>-<n>/`` (:func:`keep_finding`; folders of such
    names from an earlier run are removed first); ``seen.findings`` lists them by kind."""
    runner, seen, surfaces = Runner(), Counter(), Counter()
    examples: dict[str, str] = {}
    kept: dict[str, list[Path]] = {}
    if findings is not None:
        _clear_findings(findings)

    @settings(max_examples=cases, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(CASES)
    def run(case: Case) -> None:
        outcome, line = runner(case)
        seen[outcome] += 1
        surfaces[case.surface, outcome] += 1
        if outcome not in GOOD:
            where = ""
            if findings is not None:
                folder = keep_finding(case, outcome, line, findings / f"{outcome}-{seen[outcome]}")
                kept.setdefault(outcome, []).append(folder)
                where = f" (kept in {folder})"
            examples.setdefault(outcome, f"{_shown(case)}: {line}{where}")

    try:
        run()
    finally:
        runner.close()
    seen.examples = examples  # type: ignore[attr-defined]
    seen.surfaces = surfaces  # type: ignore[attr-defined]
    seen.findings = kept  # type: ignore[attr-defined]
    return seen


# ---------------------------------------------------------------- findings kept
def _clear_findings(findings: Path) -> None:
    """Remove the finding folders (``<kind>-<n>`` holding a ``case.json``) of an earlier run,
    and nothing else, so the folder holds this run's findings only."""
    if not findings.is_dir():
        return
    for folder in findings.iterdir():
        kind, _, number = folder.name.rpartition("-")
        if kind in OUTCOMES and number.isdigit() and (folder / "case.json").is_file():
            shutil.rmtree(folder)


def _input_files(case: Case) -> dict[str, bytes]:
    """The files the case hands its command or run, by name, as the worker writes them."""
    data = case.text.encode("utf-8", "surrogatepass")
    if case.surface == "transactions":
        return {"log.csv": data}
    if case.surface == "cohort":
        return {"cohort.csv": data}
    if case.surface == "eventlog":
        import gzip

        name = case.arguments[0]
        return {name: gzip.compress(data, mtime=0) if name.endswith(".gz") else data}
    if case.journey is not None:
        return {"journey.yaml": case.journey.encode("utf-8", "surrogatepass")}
    return {}


def _command_line(case: Case) -> str:
    """How to run the case by hand, from inside its finding's folder."""
    import shlex

    def line(*words: str) -> str:
        return shlex.join(words)

    if case.surface == "transactions":
        return line("cxsim-calibrate", "log.csv", *case.arguments)
    if case.surface == "eventlog":
        return line("cxsim-discover", *case.arguments, "--check-out", "fit")
    if case.surface == "compare":
        return line("cxsim-compare", *case.arguments, "--out", "pair")
    if case.surface == "report":
        damage = "; ".join(f"{how} {name}" + (f" with {text!r}" if how == "replace" else "")
                           for name, how, text in case.damage)
        return (f"# save a run of {line(*TINY)} to run/, then: {damage}\n"
                + line("cxsim-report", "run"))
    if case.surface == "cohort":
        rows = max(1, case.text.count("\n") - 1)
        return line("cxsim", *TINY, "network=none", "firms.acme.initial_share=0",
                    f"market.size={rows}", "market.cohort=cohort.csv")
    journey = ["firms.acme.journey=journey.yaml"] if case.journey is not None else []
    return line("cxsim", *TINY, *case.overrides, *journey)


def keep_finding(case: Case, outcome: str, line: str, folder: Path) -> Path:
    """Keep a finding's input in *folder* (made afresh): ``case.json`` (the case, whole,
    with its outcome), the generated files the case hands its command or run, and
    ``command.txt`` (the command line, run from the folder, and how it ended)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    record = {"outcome": outcome, "line": line, "case": asdict(case)}
    (folder / "case.json").write_text(json.dumps(record, indent=2) + "\n")
    for name, data in _input_files(case).items():
        (folder / name).write_bytes(data)
    (folder / "command.txt").write_text(
        f"# {outcome}: {' '.join(line.split())}\n# again, in the fuzz's limited worker: "
        f"python tests/fuzz.py --replay {folder}\n{_command_line(case)}\n",
        errors="surrogatepass")
    return folder


def load_finding(folder: Path) -> Case:
    """The case kept in *folder* by :func:`keep_finding`."""
    data = json.loads((Path(folder) / "case.json").read_text())["case"]
    data["overrides"] = tuple(data["overrides"])
    data["arguments"] = tuple(data["arguments"])
    data["damage"] = tuple(tuple(d) for d in data["damage"])
    data["pair"] = tuple(tuple(side) for side in data["pair"])
    return Case(**data)


def _shown(case: Case) -> str:
    """A case in a line: its overrides, or its surface and arguments."""
    if case.surface == "run":
        return str(case.overrides or "journey")
    return f"{case.surface} {' '.join(case.arguments)} {case.damage or ''}".strip()[:200]


SURFACES = {"run": "overrides, journeys, settings at their bounds (cxsim)",
            "cohort": "cohort files (market.cohort)", "transactions": "transaction logs "
            "(cxsim-calibrate)", "eventlog": "event logs (cxsim-discover)",
            "report": "saved result folders (cxsim-report)",
            "compare": "scenario pairs (cxsim-compare)"}


def table(seen: Counter) -> str:
    """Outcomes by kind, with an example of each finding; then by surface; then the folders
    where the findings' inputs are kept, if they were."""
    lines = ["| outcome | cases | example |", "|---|---|---|"]
    for outcome in OUTCOMES:
        example = getattr(seen, "examples", {}).get(outcome, "")
        lines.append(f"| {outcome} | {seen[outcome]:,} | {example.replace('|', '/')} |")
    surfaces = getattr(seen, "surfaces", Counter())
    lines += ["", "| surface | cases | " + " | ".join(OUTCOMES) + " |",
              "|---" * (len(OUTCOMES) + 2) + "|"]
    for surface, words in SURFACES.items():
        counts = [surfaces[surface, outcome] for outcome in OUTCOMES]
        lines.append(f"| {words} | {sum(counts):,} | "
                     + " | ".join(f"{count:,}" for count in counts) + " |")
    kept = getattr(seen, "findings", {})
    if kept:
        lines += ["", "Each finding's input is kept (case.json, the generated files, "
                  "command.txt); replay one with `python tests/fuzz.py --replay FOLDER`:", ""]
        lines += [f"- {outcome}: " + ", ".join(f"`{folder}`" for folder in kept[outcome])
                  for outcome in OUTCOMES if outcome in kept]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Bad input, generated (make fuzz).")
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("outputs/fuzz.md"))
    parser.add_argument("--findings", type=Path, default=None,
                        help="where each finding's input is kept (default: fuzz-findings "
                             "beside --out)")
    parser.add_argument("--replay", type=Path, default=None, metavar="FOLDER",
                        help="run the case kept in FOLDER again and print how it ends")
    args = parser.parse_args()
    if args.replay is not None:
        runner = Runner()
        try:
            outcome, line = runner(load_finding(args.replay))
        finally:
            runner.close()
        print(f"{outcome}: {line}" if line else outcome)
        sys.exit(0 if outcome in GOOD else 1)
    findings = args.findings or args.out.parent / "fuzz-findings"
    seen = explore(args.cases, findings=findings)
    text = (f"# Fuzz of bad input: {sum(seen.values()):,} cases\n\n"
            f"{table(seen)}\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    bad = sum(seen[o] for o in OUTCOMES if o not in GOOD)
    print(f"{bad} cases ended neither in a clean error nor a finite result; written to "
          f"{args.out}" + (f"; their inputs kept in {findings}/<kind>-<n>/" if bad else ""))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
