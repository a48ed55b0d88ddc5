"""Issue 31, section 3: cxsim and SIMOD side by side on BPIC 2012, same split, same measures.

Run with cxsim's interpreter (``make bench-discovery`` makes the side environment first)::

    .venv/bin/python benchmarks/discovery/run.py [--replications 20] [--no-simod] [--no-write]

What it does, in ``benchmarks/discovery/out/`` (git-ignored):

1. reads ``data/eventlogs/BPI_Challenge_2012.xes.gz`` and discovers cxsim's journey from the
   cases that start before the split (2012-01-15, as in the README), timed;
2. writes the logs every tool reads, as activity-instance CSVs (``case_id, activity,
   resource, start_time, end_time, outcome``; a staffed visit from its START to its COMPLETE,
   a milestone at its COMPLETE, as :func:`cxsim.data.discovery.case_visits` reads a log):
   ``early.csv`` (every early case: SIMOD's training log), ``later.csv`` (every later case:
   SIMOD's test log, so it simulates as many cases from the split), ``early_ended.csv`` (the
   early cases with an outcome), ``floor.csv`` (as many of them as the later period has
   ended, drawn at random) and ``actual.csv`` (the later cases with an outcome);
3. simulates cxsim's journey on the later cases' arrivals, cut at the log's last event,
   *replications* times, with ``sim.record_visits`` (``cxsim_<i>.csv``), timed;
4. runs SIMOD 5.2.1's command line in the side environment, twice (``SIMOD_VARIANTS``:
   without and with its extraneous-delay discovery): discovery on ``early.csv`` with a small
   budget (``SIMOD_BUDGET``), then *replications* simulations of the later period, each cut
   at the log's last event like cxsim's (``simod_<i>.csv``, ``simod_delays_<i>.csv``), timed;
5. measures every simulated log against ``actual.csv`` twice: with cxsim's own functions
   (:mod:`cxsim.data.discovery_check`) and with ``log-distance-measures`` in the side
   environment (``ldm_side.py``), on the same files; prints the table and appends it to
   ``benchmarks/RESULTS.md`` (the next free table number, 14 or above) unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = HERE / "out"
SIDE = HERE / ".venv" / "bin" / "python"
LOG = ROOT / "data" / "eventlogs" / "BPI_Challenge_2012.xes.gz"
SPLIT = "2012-01-15"
REPLICATIONS = 20
FLOOR_SEED = 2012
COLUMNS = ["case_id", "activity", "resource", "start_time", "end_time", "outcome"]


def _stamp(ns: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(np.asarray(ns, dtype="int64"), utc=True)).dt.strftime(
        "%Y-%m-%dT%H:%M:%S.%f+00:00")


def write_instances(path: Path, case, activity, resource, start_ns, end_ns, outcome) -> int:
    """An activity-instance log as CSV, ordered by case then start; its case count."""
    frame = pd.DataFrame({"case_id": np.asarray(case).astype(str), "activity": activity,
                          "resource": pd.Series(resource).fillna("unrecorded").astype(str)
                          .to_numpy(), "start": np.asarray(start_ns, dtype="int64"),
                          "end": np.asarray(end_ns, dtype="int64"), "outcome": outcome})
    frame = frame.sort_values(["case_id", "start", "end"], kind="stable")
    frame["start_time"] = _stamp(frame.start.to_numpy()).to_numpy()
    frame["end_time"] = _stamp(frame.end.to_numpy()).to_numpy()
    text = frame[COLUMNS].to_csv(index=False)
    if not path.exists() or path.read_text() != text:  # unchanged: keep its measures' cache
        path.write_text(text)
    return int(frame.case_id.nunique())


def read_cases(path: Path):
    """A CSV written by :func:`write_instances` as :mod:`cxsim.data.discovery_check` reads
    cases (days), with each case's outcome (its ``outcome`` column)."""
    from cxsim.data.discovery_check import _cases

    frame = pd.read_csv(path, dtype={"case_id": str})
    start = pd.to_datetime(frame.start_time, utc=True, format="ISO8601")
    end = pd.to_datetime(frame.end_time, utc=True, format="ISO8601")
    day = 86_400e9
    outcome = frame.groupby("case_id", sort=True).outcome.first().astype(str)
    return _cases(frame.case_id.to_numpy(), frame.activity.to_numpy(), _ns(start) / day,
                  _ns(end) / day, outcome)


def _ns(stamps: pd.Series) -> np.ndarray:
    """Integer nanoseconds (pandas 3 may parse to microseconds)."""
    return stamps.dt.as_unit("ns").astype("int64").to_numpy()


def prepare(replications: int) -> dict:
    """Discovery, the four real logs, cxsim's simulated logs; facts and timings."""
    from cxsim.data.discovery import case_outcomes, case_visits, discover
    from cxsim.data.eventlog import read_event_log
    from cxsim.discover_cli import write

    OUT.mkdir(parents=True, exist_ok=True)
    facts: dict = {}
    t0 = time.perf_counter()
    events = read_event_log(LOG)
    facts["read_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = discover(events, SPLIT, name="bpic2012_bench")
    journey, cohort = OUT / "bpic2012_bench.yaml", OUT / "bpic2012_bench_cohort.csv"
    write(found, journey, cohort)
    facts["cxsim_discovery_s"] = time.perf_counter() - t0

    split = pd.Timestamp(SPLIT, tz="UTC")
    last = events.timestamp.max()
    facts["split"] = str(split)
    facts["log_end"] = str(last)
    first = events.groupby("case", sort=False).timestamp.min()
    kinds = found.outcome_activities
    outcome = case_outcomes(events, **{k: [a for a, v in kinds.items() if v == k]
                                       for k in ("purchase", "no_purchase", "walk_away")})
    visits = case_visits(events, found.staffed_activities)
    visits["outcome"] = outcome.reindex(visits.case.to_numpy()).to_numpy()
    early_case = first.index[first < split]
    is_early = visits.case.isin(early_case)
    ended = visits.outcome != "censored"
    for name, rows in (("early", is_early), ("later", ~is_early),
                       ("early_ended", is_early & ended), ("actual", ~is_early & ended)):
        part = visits[rows]
        facts[f"{name}_cases"] = write_instances(
            OUT / f"{name}.csv", part.case, part.activity, part.resource, part.start, part.end,
            part.outcome)
    # The floor: as many early cases as the later period has ended, drawn at random (n-gram
    # counts are absolute, so a log twice the size is far by its size alone).
    ended_early = visits.case[is_early & ended].unique()
    sample = np.random.default_rng(FLOOR_SEED).choice(
        ended_early, size=min(facts["actual_cases"], ended_early.size), replace=False)
    part = visits[visits.case.isin(sample)]
    facts["floor_cases"] = write_instances(OUT / "floor.csv", part.case, part.activity,
                                           part.resource, part.start, part.end, part.outcome)

    import cxsim
    from cxsim.config import DAYS_PER_YEAR, to_config
    from cxsim.data.discovery import run_overrides
    from cxsim.data.discovery_check import later_period_days
    from cxsim.simulation.experiment import simulated

    cut_days = later_period_days(events, split)
    overrides = [o for o in run_overrides(found, journey, cohort) if not o.startswith("sim.")]
    overrides += [f"sim.years={cut_days / DAYS_PER_YEAR!r}", "sim.record_visits=true"]
    virtual = {"arrival", "purchase", "no_purchase", "walk_away", "end"} - set(
        found.activity_names)
    names = pd.Series(found.activity_names)
    t0 = time.perf_counter()
    runs = list(simulated(to_config(cxsim.compose(overrides)), replications))
    facts["cxsim_simulation_s"] = time.perf_counter() - t0
    day = 86_400e9
    for i, run in enumerate(runs):
        v = run.visits
        touchpoint = v.touchpoint.astype(str).to_numpy()
        real = ~np.isin(touchpoint, sorted(virtual))
        case_outcome = v.groupby("case", sort=True).outcome.first().astype(str)
        case = v.case.to_numpy()[real]
        write_instances(OUT / f"cxsim_{i}.csv", case, names.reindex(touchpoint[real]).to_numpy(),
                        np.where(np.isin(touchpoint[real], list(found.staffed)), "staff", None),
                        split.value + v.start.to_numpy()[real] * day,
                        split.value + v.end.to_numpy()[real] * day,
                        case_outcome.reindex(case).to_numpy())
    facts["replications"] = replications
    facts["outcome_activities"] = {k: v for k, v in kinds.items()}
    return facts


# --- SIMOD, in the side environment -----------------------------------------------------

SIMOD_BUDGET = {
    "control_flow": {"optimization_metric": "three_gram_distance", "num_iterations": 3,
                     "num_evaluations_per_iteration": 1, "gateway_probabilities": "discovery",
                     "mining_algorithm": "sm1"},
    "resource_model": {"optimization_metric": "circadian_emd", "num_iterations": 3,
                       "num_evaluations_per_iteration": 1,
                       "discover_prioritization_rules": False,
                       "discover_batching_rules": False},
    "case_arrival": {"num_iterations": 1, "num_evaluations_per_iteration": 1},
}
"""SIMOD's optimisation budget here: 3 hyperopt trials for control flow (Split Miner 1's
eta and epsilon, gateway probabilities discovered) and 3 for the resource model, one
simulation per trial, 1 for the case arrivals; no batching, prioritisation or
data-attribute discovery (SIMOD's defaults are 10 trials each, 3 simulations per trial)."""

SIMOD_VARIANTS = {
    "simod": ("SIMOD", {}),
    "simod_delays": ("SIMOD + extraneous delays", {"extraneous_activity_delays": {
        "optimization_metric": "relative_event_distribution",
        "discovery_method": "eclipse-aware", "num_iterations": 1,
        "num_evaluations_per_iteration": 1}}),
}
"""The two SIMOD runs: without and with its extraneous-delay discovery (the waits between
activities no resource explains: in BPIC 2012, mostly the customer's), one trial."""

SIMOD_BUDGET_TEXT = ("control flow 3 trials (Split Miner 1, eta and epsilon searched, "
                     "gateway probabilities discovered), resource model 3 trials, case "
                     "arrivals 1 trial, one simulation per trial; *+ extraneous delays* adds "
                     "one trial of SIMOD's extraneous-delay discovery (eclipse-aware); no "
                     "batching, prioritisation or data attributes (SIMOD's defaults: 10 "
                     "trials, 3 simulations each)")


def simod_config(replications: int, variant: str) -> str:
    """SIMOD's configuration (version 5.2): train on ``early.csv``, test on ``later.csv``."""
    import yaml

    config = {
        "version": 5.2,
        "common": {"train_log_path": "early.csv", "test_log_path": "later.csv",
                   "log_ids": {"case": "case_id", "activity": "activity",
                               "resource": "resource", "start_time": "start_time",
                               "end_time": "end_time"},
                   "num_final_evaluations": replications,
                   "evaluation_metrics": ["two_gram_distance", "three_gram_distance",
                                          "cycle_time_emd"],
                   "discover_data_attributes": False, "clean_intermediate_files": True},
        "preprocessing": {"multitasking": False, "enable_time_concurrency_threshold": 0.5},
        **SIMOD_BUDGET, **SIMOD_VARIANTS[variant][1],
    }
    return yaml.safe_dump(config, sort_keys=False)


def run_simod(replications: int, variant: str) -> dict:
    """Discovery and the final simulations by SIMOD's command line, in ``out/<variant>``."""
    import shutil

    (OUT / f"{variant}_config.yml").write_text(simod_config(replications, variant))
    shutil.rmtree(OUT / variant, ignore_errors=True)
    t0 = time.perf_counter()
    with open(OUT / f"{variant}.log", "w") as log:
        done = subprocess.run([str(SIDE.parent / "simod"), "-c", f"{variant}_config.yml",
                               "-o", variant], cwd=OUT, stdout=log, stderr=subprocess.STDOUT,
                              check=False)
    seconds = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"SIMOD exited {done.returncode}: see out/{variant}.log")
    return {f"{variant}_wall_s": seconds}


def simod_logs(facts: dict, replications: int, variant: str) -> bool:
    """SIMOD's simulated logs as this benchmark's CSVs: each case's outcome from its last
    outcome activity (as the actual cases'), cases not ended by the log's last event
    left out (as cxsim's run is cut there and the actual censored cases are). False when
    the run wrote fewer logs."""
    kinds = facts["outcome_activities"]
    last = pd.Timestamp(facts["log_end"])
    found = sorted((OUT / variant).rglob("best_result/evaluation/simulated_log_*.csv"))
    if len(found) < replications:
        return False
    kept, cut, none = [], [], []
    for i, path in enumerate(found[:replications]):
        log = pd.read_csv(path, dtype={"case_id": str})
        start = pd.to_datetime(log.start_time, utc=True, format="ISO8601")
        end = pd.to_datetime(log.end_time, utc=True, format="ISO8601")
        log = log.assign(start=_ns(start), end=_ns(end))
        finish = log.groupby("case_id").end.transform("max")
        cut.append(int(log.case_id[finish > last.value].nunique()))
        log = log[finish <= last.value]
        kind = log.activity.map(kinds)
        marks = log[kind.notna()].sort_values(["case_id", "end"], kind="stable")
        outcome = marks.groupby("case_id").activity.last().map(kinds)
        outcome = outcome.reindex(log.case_id.unique()).fillna("none")
        none.append(int((outcome == "none").sum()))
        kept.append(write_instances(OUT / f"{variant}_{i}.csv", log.case_id,
                                    log.activity.to_numpy(), log.resource.to_numpy(),
                                    log.start.to_numpy(), log.end.to_numpy(),
                                    outcome.reindex(log.case_id).to_numpy()))
    facts[f"{variant}_cases_kept_mean"] = float(np.mean(kept))
    facts[f"{variant}_cases_cut_mean"] = float(np.mean(cut))
    facts[f"{variant}_cases_without_outcome_mean"] = float(np.mean(none))
    runtimes = {}
    for path in (OUT / variant).rglob("runtimes.json"):
        runtimes.update(json.loads(path.read_text()))
    facts[f"{variant}_runtimes"] = runtimes
    facts[f"{variant}_discovery_s"] = (runtimes.get("SIMOD_TOTAL_RUNTIME", float("nan"))
                                       + runtimes.get("preprocessing", 0.0))
    facts[f"{variant}_evaluation_s"] = runtimes.get("evaluate-final-BPS-model", float("nan"))
    # The simulations alone: from the parameters SIMOD writes just before them to the last
    # simulated log (its evaluation then computes its own measures, not timed here).
    parameters = [p for p in found[0].parent.parent.glob("*.json")
                  if p.name not in ("runtimes.json", "canonical_model.json")]
    if parameters:
        facts[f"{variant}_simulation_s"] = (max(p.stat().st_mtime for p in found)
                                            - parameters[0].stat().st_mtime)
    return True


# --- the measures, twice ------------------------------------------------------------------

CROSS = ("ngram_2_distance", "ngram_3_distance", "cycle_time_emd_hours")
"""The measures both implementations compute (the rest have no counterpart in the other)."""
TOLERANCE = 1e-6
DATED = ("ldm_absolute_event_emd_hours", "ldm_case_arrival_emd_hours")
"""Measures of absolute dates: the floor, from an earlier period, has none comparable."""


def side_measures(logs: dict[str, str], cache: str) -> dict:
    """``log-distance-measures`` on *logs* against ``actual.csv`` (``ldm_side.py`` in the
    side environment), kept in ``out/<cache>.json``."""
    path = OUT / f"{cache}.json"
    newest = max((OUT / p).stat().st_mtime for p in [*logs.values(), "actual.csv"])
    if path.exists() and path.stat().st_mtime > newest:
        try:
            cached = json.loads(path.read_text())
        except json.JSONDecodeError:
            cached = {}
        if set(cached) == set(logs):
            return cached
    job = json.dumps({"original": "actual.csv", "simulated": logs})
    done = subprocess.run([str(SIDE), str(HERE / "ldm_side.py")], input=job, cwd=OUT,
                          capture_output=True, text=True, check=True)
    path.write_text(done.stdout)
    return json.loads(done.stdout)


def own_measures(actual, path: Path) -> dict:
    """cxsim's measures of one log against the actual later cases
    (:mod:`cxsim.data.discovery_check`, as ``cxsim-discover --check`` computes them)."""
    from cxsim.data.discovery_check import _measures

    return _measures(actual, read_cases(path))


def measure_all(replications: int, simod: list[str]) -> tuple[dict, pd.DataFrame]:
    """Every log's measures by both implementations: one row per (tool, replication)."""
    actual = read_cases(OUT / "actual.csv")
    rows = []
    tools = ["cxsim", *simod]
    for tool in ["floor", "floor_all", *tools]:
        names = {"floor": "floor.csv"} if tool == "floor" else {
            "floor_all": "early_ended.csv"} if tool == "floor_all" else {
            f"{tool}_{i}": f"{tool}_{i}.csv" for i in range(replications)}
        side = side_measures(names, f"ldm_{tool}")
        for name, file in names.items():
            own = own_measures(actual, OUT / file)
            rows.append({"tool": tool, "log": name, **own,
                         **{f"ldm_{k}": v for k, v in side[name].items()}})
    truth = own_measures(actual, OUT / "actual.csv")
    return truth, pd.DataFrame(rows)


# --- the table ----------------------------------------------------------------------------

VALUE_MEASURES = {  # measure: (label, scale, decimals); the error is |value - actual|
    "share_purchase": ("purchase share (%)", 100.0, 1),
    "share_no_purchase": ("no-purchase share (%)", 100.0, 1),
    "share_walk_away": ("walk-away share (%)", 100.0, 1),
    "activities_per_case": ("activities per case", 1.0, 2),
    "cycle_time_q10_hours": ("cycle time 10% quantile (h)", 1.0, 3),
    "cycle_time_q50_hours": ("cycle time median (h)", 1.0, 2),
    "cycle_time_q90_hours": ("cycle time 90% quantile (h)", 1.0, 1),
}
DISTANCE_MEASURES = {  # measure: (label, decimals); a distance to the actual cases
    "ngram_2_distance": ("2-gram distance", 4),
    "ngram_3_distance": ("3-gram distance", 4),
    "cycle_time_emd_hours": ("cycle-time EMD (h)", 2),
    "ldm_cycle_time_emd_hour_bins": ("cycle-time EMD, 1-h bins (h; ldm only)", 2),
    "ldm_absolute_event_emd_hours": ("absolute event EMD, 1-h bins (h; ldm only)", 2),
    "ldm_circadian_event_emd": ("circadian event EMD (h; ldm only)", 3),
    "ldm_case_arrival_emd_hours": ("case arrival EMD, 1-h bins (h; ldm only)", 2),
}


def _ci(values: np.ndarray) -> tuple[float, float, float]:
    from cxsim.simulation.results import mean_ci

    return mean_ci(np.asarray(values, dtype=float))


def _closer(errors: dict[str, np.ndarray]) -> str:
    """The tool with the lowest mean error when its 95% CI lies below every other's."""
    if len(errors) < 2:
        return ""
    ci = {t: _ci(e) for t, e in errors.items()}
    best = min(ci, key=lambda t: ci[t][0])
    if all(ci[best][2] < ci[t][1] for t in ci if t != best):
        return LABELS[best]
    return "neither (CIs overlap)"


LABELS = {"cxsim": "cxsim", **{k: v[0] for k, v in SIMOD_VARIANTS.items()}}


def table(truth: dict, rows: pd.DataFrame, facts: dict) -> str:
    """The markdown table: per measure, actual, floor, each tool, closer, cross-check."""
    floor = rows[rows.tool == "floor"].iloc[0]
    every = rows
    rows = rows[~rows.tool.isin(("floor", "floor_all"))]
    tools = [t for t in LABELS if (rows.tool == t).any()]
    head = ["measure", "actual (later cases)", "floor (early cases)",
            *[f"{LABELS[t]} mean [95% CI]" for t in tools], "closer", "cross-check"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def cell(values, scale, d):
        m, lo, hi = _ci(values * scale)
        return f"{m:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"

    for m, (label, scale, d) in VALUE_MEASURES.items():
        cells = [label, f"{truth[m] * scale:.{d}f}", f"{floor[m] * scale:.{d}f}"]
        errors = {}
        for tool in tools:
            values = rows[rows.tool == tool][m].to_numpy()
            errors[tool] = np.abs(values - truth[m]) * scale
            within = ""
            if m.startswith("share_"):
                within = "; within 3 points: " + (
                    "yes" if abs(values.mean() - truth[m]) * 100 <= 3 else "no")
            cells.append(cell(values, scale, d) + within)
        cells.append(_closer(errors))
        cells.append("no counterpart in log-distance-measures")
        lines.append("| " + " | ".join(cells) + " |")
    for m, (label, d) in DISTANCE_MEASURES.items():
        cells = [label, "0", "n/a (an earlier period's dates)" if m in DATED
                 else f"{floor[m]:.{d}f}"]
        errors = {tool: rows[rows.tool == tool][m].to_numpy() for tool in tools}
        cells += [cell(errors[tool], 1.0, d) for tool in tools]
        cells.append(_closer(errors))
        if m in CROSS:
            gap = np.abs(every[m] - every[f"ldm_{m}"]).max()
            agree = "agrees" if gap <= TOLERANCE else "DISAGREES"
            cells.append(f"{agree}: max abs difference {gap:.1e} over {len(every)} logs")
        elif m == "ldm_cycle_time_emd_hour_bins":
            gap = np.abs(every[m] - every["cycle_time_emd_hours"]).max()
            cells.append(f"differs from cxsim's undiscretised EMD by up to {gap:.3f} h "
                         "(1-hour bins)")
        else:
            cells.append("cxsim does not compute it")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _floor_all(rows: pd.DataFrame) -> str:
    row = rows[rows.tool == "floor_all"].iloc[0]
    return (f"{row.ngram_2_distance:.4f} and {row.ngram_3_distance:.4f} (2- and 3-gram), "
            f"{row.cycle_time_emd_hours:.2f} h (cycle-time EMD)")


def _bench_helpers():
    import importlib.util

    spec = importlib.util.spec_from_file_location("cxsim_bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def section(truth: dict, rows: pd.DataFrame, facts: dict, number: int) -> str:
    bench = _bench_helpers()
    date = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    t = facts
    simod_line = " ".join(
        f"{LABELS[v]}: discovery {t[v + '_discovery_s']:.0f} s (its preprocessing "
        f"included), {t['replications']} simulations "
        f"{t.get(v + '_simulation_s', float('nan')):.0f} s (2 Prosimos workers; with "
        f"SIMOD's own evaluation {t[v + '_evaluation_s']:.0f} s); "
        f"{t[v + '_cases_kept_mean']:,.0f} cases per log "
        f"ended by the log's last event ({t[v + '_cases_cut_mean']:,.0f} cut), "
        f"{t[v + '_cases_without_outcome_mean']:,.1f} with no outcome activity."
        for v in SIMOD_VARIANTS if f"{v}_discovery_s" in t) or "SIMOD: not run."
    return f"""
## {number}. SIMOD side by side

<!-- kept: simod, by benchmarks/discovery/run.py (make bench-discovery), not make bench -->
Issue 31, section 3. BPIC 2012, split {SPLIT} (the README's): discovered on the
{t['early_cases']:,} early cases, compared with the {t['actual_cases']:,} later cases that
ended by the log's last event ({t['later_cases'] - t['actual_cases']:,} censored, left out);
{t['replications']} simulated logs per tool, each cut at the log's last event. Measured
{date} UTC, commit {bench.git_commit()}, {bench.machine()}.
cxsim: discovery {t['cxsim_discovery_s']:.1f} s (log read {t['read_s']:.1f} s),
{t['replications']} simulations {t['cxsim_simulation_s']:.1f} s. {simod_line}
SIMOD's budget: {SIMOD_BUDGET_TEXT}.
*floor*: {t['floor_cases']:,} of the early cases that ended (drawn at random, as many as
the later ones) measured against the later cases as if they were a simulation; all
{t['early_ended_cases']:,} of them are {_floor_all(rows)} away (the n-gram distance counts
n-grams, so a log twice the size is far by its size alone).
For a value (share, activities per case, quantile) *closer* compares each replication's
|value - actual|; for a distance, the distance itself: the lower mean with non-overlapping
95% CIs (Student t over the replications). *cross-check*: cxsim's implementation
(`cxsim.data.discovery_check`) against `log-distance-measures` 2.2.0 on the same {len(rows)}
CSV logs (both floors, cxsim's and SIMOD's), tolerance {TOLERANCE:g}.

{table(truth, rows, facts)}
"""


def next_number(text: str) -> int:
    import re

    numbers = [int(n) for n in re.findall(r"^## (\d+)\.", text, flags=re.M)]
    return max(14, max(numbers, default=0) + 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", "-n", type=int, default=REPLICATIONS)
    parser.add_argument("--no-simod", action="store_true", help="cxsim and the floor only")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse out/'s logs and SIMOD's run (measures and table only)")
    parser.add_argument("--no-write", action="store_true", help="print, do not append")
    args = parser.parse_args(argv)
    if not SIDE.exists():
        sys.exit("no side environment: run `make bench-discovery`")
    facts_path = OUT / "facts.json"
    variants = [] if args.no_simod else list(SIMOD_VARIANTS)
    if args.reuse and facts_path.exists():
        facts = json.loads(facts_path.read_text())
    else:
        facts = prepare(args.replications)
        for variant in variants:
            facts.update(run_simod(args.replications, variant))
        facts_path.write_text(json.dumps(facts, indent=1, default=str))
    variants = [v for v in variants if simod_logs(facts, facts["replications"], v)]
    version = subprocess.run([str(SIDE), "-c", "import importlib.metadata as m; "
                              "print(m.version('simod'), m.version('log-distance-measures'))"],
                             capture_output=True, text=True)
    facts["versions_side"] = version.stdout.strip()
    truth, rows = measure_all(facts["replications"], variants)
    rows.to_csv(OUT / "measures.csv", index=False)
    facts_path.write_text(json.dumps(facts, indent=1, default=str))
    results = ROOT / "benchmarks" / "RESULTS.md"
    text = results.read_text()
    block = section(truth, rows, facts, next_number(text))
    print(block)
    if not args.no_write:
        results.write_text(text.rstrip("\n") + "\n" + block)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
