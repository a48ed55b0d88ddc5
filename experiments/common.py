"""What every experiment shares: its YAML, its cells on common random numbers, one tidy table.

An experiment is a folder with ``experiment.yaml``, ``run.py`` and ``README.md``.
The YAML holds the question, ``common`` overrides (Hydra override strings, as
:func:`cxsim.compose` takes them and as a user would pass them to ``cxsim``),
the cells — ``cells`` (name -> list of overrides), ``grid``
(parameter -> values, expanded as a product) or ``morris`` (parameter ->
``[low, high]``, sampled as Morris trajectories by SALib) — the number of
``replications`` and the ``tiny`` overrides and replications used by
``--tiny`` (the test suite's size; ``tiny.trajectories`` for ``morris``).

A grid parameter is either a config key with a list of values
(``network: [small_world, none]`` gives ``network=small_world``, ...) or a
label with a mapping from each value to its overrides, for a parameter that
is set through several keys (``cx_share: {0.01: [a=1, b=2], ...}``).
``columns`` renames parameters in the table (``{market.segments.core.social_influence:
social_influence}``).

Every cell runs replications 0..n-1 with :func:`cxsim.replicate` from the
same seed, so replication *i* of every cell starts from the same root
``SeedSequence(seed, spawn_key=(i,))``: common random numbers, and
differences between cells (or between firms within a run) are compared
pair by pair.

Outputs in ``--out``: ``table.parquet`` and ``table.csv`` (one row per cell x
replication x firm: the cell, its parameters, every summary metric, plus
``active_start`` and ``growth``), ``timeseries.parquet`` (one row per cell x
replication x firm x month) and, written last, ``run.json`` (what ran, how
long it took). A directory without ``run.json`` is not a finished result.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import yaml
from tqdm import tqdm

import cxsim
from cxsim.commandline import Parser, fail
from cxsim.config import to_config
from cxsim.files import atomic_write, write_text
from cxsim.report import answer, write_report
from cxsim.report.charts import mark_crossover
from cxsim.report.run import leading
from cxsim.simulation.results import Crossover, mean_ci, month_number, monthly_band

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file-only backend)

__all__ = ["LEVEL", "FIRM_COLORS", "Cell", "Experiment", "Outcome", "load", "execute", "ci",
           "fmt_ci", "num", "pct", "by_cell", "firm_difference", "cell_difference", "band",
           "series", "crossover", "CROSSOVER_NOTE", "share_panels", "save_figure", "size_note",
           "write_text", "atomic_write", "fail", "Parser", "morris_problem", "plt"]

LEVEL = 0.95
"""Confidence level of every interval the experiments report."""

FIRM_COLORS = {"sales_first": "#d95f02", "client_first": "#1b9e77"}
"""The default duel's firms in every figure: sales focus orange, relationship focus green."""


@dataclass(frozen=True)
class Cell:
    """One scenario of an experiment: its name, overrides and parameter values."""

    name: str
    overrides: tuple[str, ...]
    params: dict[str, Any]


@dataclass
class Experiment:
    """An experiment as its ``experiment.yaml`` declares it."""

    name: str
    directory: Path
    question: str
    common: list[str]
    cells: list[Cell]
    replications: int
    tiny: list[str]
    tiny_replications: int
    spec: dict[str, Any]

    @property
    def params(self) -> list[str]:
        """Parameter columns of the table, in the order the cells declare them."""
        seen: dict[str, None] = {}
        for cell in self.cells:
            seen.update(dict.fromkeys(cell.params))
        return list(seen)


@dataclass
class Outcome:
    """What :func:`execute` returns: the tables, where they are, and how they were made."""

    experiment: Experiment
    table: pd.DataFrame
    timeseries: pd.DataFrame
    out: Path
    meta: dict[str, Any]


# ----------------------------------------------------------------- the YAML
def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _value(override: str) -> Any:
    """The value of ``key=value`` as YAML reads it (``0.5`` a float, ``cco`` a string); a
    mapping or list as it was written (a table column holds one value, not a structure)."""
    text = override.split("=", 1)[1] if "=" in override else None
    try:
        value = yaml.safe_load(text) if text is not None else None
    except yaml.YAMLError:
        return text
    return text if isinstance(value, (dict, list)) else value


def _overrides(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of override strings; got {value!r}")
    return tuple(value)


def morris_problem(spec: dict[str, Any]) -> dict[str, Any]:
    """SALib's problem from the ``morris`` block: the config keys and their bounds."""
    bounds = spec["morris"]["parameters"]
    return {"num_vars": len(bounds), "names": list(bounds),
            "bounds": [[float(low), float(high)] for low, high in bounds.values()]}


def _morris_cells(spec: dict[str, Any], tiny: bool) -> list[Cell]:
    """One cell per point of Morris (1991) trajectories, sampled by SALib (Herman & Usher 2017).

    The design's own seed makes the points the same on every run; each
    point's values are passed as overrides with ``repr`` (exact round trip).
    """
    from SALib.sample import morris as morris_sample

    block = spec["morris"]
    trajectories = (spec.get("tiny") or {}).get("trajectories") if tiny else None
    points = morris_sample.sample(morris_problem(spec), int(trajectories or block["trajectories"]),
                                  num_levels=int(block.get("levels", 4)),
                                  seed=int(block.get("seed", 0)))
    rename = spec.get("columns") or {}
    cells = []
    for i, values in enumerate(points):
        overrides = tuple(f"{key}={float(v)!r}" for key, v in zip(block["parameters"], values))
        params = {"point": i, **{rename.get(k, k): float(v)
                                 for k, v in zip(block["parameters"], values)}}
        cells.append(Cell(f"point={i:03d}", overrides, params))
    return cells


def _cells(spec: dict[str, Any], path: Path, tiny: bool = False) -> list[Cell]:
    rename = spec.get("columns") or {}
    if sum(form in spec for form in ("cells", "grid", "morris")) != 1:
        raise ValueError(f"{path} must have exactly one of 'cells', 'grid' and 'morris'")
    if "morris" in spec:
        return _morris_cells(spec, tiny)
    if "cells" in spec:
        cells = []
        for name, overrides in spec["cells"].items():
            overrides = _overrides(overrides, f"{path}: cells.{name}")
            params = {rename.get(_key(o), _key(o)): _value(o) for o in overrides}
            cells.append(Cell(str(name), overrides, params))
        return cells
    axes = []
    for param, values in spec["grid"].items():
        label = rename.get(param, param)
        if isinstance(values, dict):  # value -> its overrides
            axes.append([(label, value, _overrides(o, f"{path}: grid.{param}.{value}"))
                         for value, o in values.items()])
        elif isinstance(values, list) and values:  # a config key and its values
            axes.append([(label, value, (f"{param}={value}",)) for value in values])
        else:
            raise ValueError(f"{path}: grid.{param} must be a list of values or a mapping "
                             f"from values to overrides; got {values!r}")
    cells = []
    for combo in itertools.product(*axes):
        params = {label: value for label, value, _ in combo}
        overrides = tuple(o for _, _, group in combo for o in group)
        for o in overrides:  # keys set through a labelled value get their own column too
            params.setdefault(rename.get(_key(o), _key(o)), _value(o))
        name = ",".join(f"{label}={value}" for label, value, _ in combo)
        cells.append(Cell(name, overrides, params))
    return cells


def load(directory: str | os.PathLike, tiny: bool = False) -> Experiment:
    """Read ``experiment.yaml`` in *directory* (with *tiny*, the test size's cells)."""
    directory = Path(directory).resolve()
    path = directory / "experiment.yaml"
    spec = yaml.safe_load(path.read_text())
    small = spec.get("tiny") or {}
    return Experiment(
        name=str(spec.get("name", directory.name)),
        directory=directory,
        question=" ".join(str(spec.get("question", "")).split()),
        common=list(_overrides(spec.get("common") or [], f"{path}: common")),
        cells=_cells(spec, path, tiny),
        replications=int(spec.get("replications", 10)),
        tiny=list(_overrides(small.get("overrides") or [], f"{path}: tiny.overrides")),
        tiny_replications=int(small.get("replications", 2)),
        spec=spec,
    )


# --------------------------------------------------------------- arguments

def _parser(exp: Experiment) -> argparse.ArgumentParser:
    parser = Parser(prog=f"experiments/{exp.directory.name}/run.py",
                     description=exp.question or None)
    parser.add_argument("overrides", nargs="*", metavar="OVERRIDE",
                        help="extra Hydra overrides applied to every cell, last "
                        "(e.g. market.size=2000)")
    parser.add_argument("--replications", "-n", type=int, default=None,
                        help=f"replications per cell (default {exp.replications}; "
                        f"{exp.tiny_replications} with --tiny)")
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output directory (default results/ beside run.py; "
                        "results-tiny/ with --tiny)")
    parser.add_argument("--tiny", action="store_true",
                        help=f"the test size: {' '.join(exp.tiny)}")
    parser.add_argument("--replot", action="store_true",
                        help="redraw figures and summary.md from the tables in --out "
                        "without running anything")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


# ----------------------------------------------------------------- running
def _with_params(frame: pd.DataFrame, cell: Cell, overrides: list[str]) -> pd.DataFrame:
    front = {"cell": cell.name, **cell.params}
    extra = pd.DataFrame({k: [v] * len(frame) for k, v in front.items()}, index=frame.index)
    out = pd.concat([extra, frame], axis=1)
    out["overrides"] = " ".join(overrides)
    return out


def _growth(summary: pd.DataFrame, timeseries: pd.DataFrame) -> pd.DataFrame:
    """Add ``active_start`` (clients at day 0) and ``growth`` (active_final / start - 1)."""
    first = timeseries[timeseries.month == 0].set_index(["replication", "firm"])
    start = first.active_clients - first.acquisitions + first.churned
    keys = pd.MultiIndex.from_frame(summary[["replication", "firm"]])
    summary = summary.copy()
    summary["active_start"] = start.reindex(keys).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        summary["growth"] = summary.active_final / summary.active_start - 1.0
    return summary


def _tidy(frames: list[pd.DataFrame], params: list[str]) -> pd.DataFrame:
    """Concatenate, and give each parameter column one type (Parquet needs it)."""
    table = pd.concat(frames, ignore_index=True)
    for column in params:
        values = table[column].dropna()
        kinds = {type(v) for v in values}
        if len(kinds) > 1 and not kinds <= {int, float}:
            table[column] = table[column].map(lambda v: v if v is None else str(v))
    return table


def _run(exp: Experiment, args: argparse.Namespace, prog: str
         ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    n = args.replications
    base = [*exp.common, *(exp.tiny if args.tiny else []), *args.overrides]
    scenarios = []
    try:
        for cell in exp.cells:
            # cell overrides before the tiny and extra ones: tiny shrinks, never re-sweeps
            overrides = [*exp.common, *cell.overrides, *(exp.tiny if args.tiny else []),
                         *args.overrides]
            scenarios.append((cell, overrides, to_config(cxsim.compose(overrides))))
    except cxsim.ConfigError as exc:
        fail(prog, f"cell '{cell.name}': {exc}")
    seeds = {cfg.seed for _, _, cfg in scenarios}
    if len(seeds) > 1:
        fail(prog, f"every cell must have the same seed (common random numbers); got {seeds}")
    summaries, series = [], []
    started = time.time()
    with tqdm(total=len(scenarios) * n, unit="run", desc=exp.name, file=sys.stderr,
              disable=args.quiet) as bar:
        for k, (cell, overrides, cfg) in enumerate(scenarios):
            bar.set_postfix_str(cell.name)
            t0 = time.time()
            try:  # errors only the engine can see (e.g. staff at an unknown touchpoint)
                ensemble = cxsim.replicate(cfg, n, workers=args.workers, progress=False)
            except cxsim.ConfigError as exc:
                bar.close()
                fail(prog, f"cell '{cell.name}': {exc}")
            summary = _growth(ensemble.summary, ensemble.timeseries)
            summaries.append(_with_params(summary, cell, overrides))
            series.append(_with_params(ensemble.timeseries, cell, overrides))
            bar.update(n)
            if not args.quiet:
                bar.write(f"  cell {k + 1}/{len(scenarios)} {cell.name}: {n} replications "
                          f"in {time.time() - t0:.0f} s", file=sys.stderr)
    first = scenarios[0][2]
    meta = {
        "experiment": exp.name,
        "question": exp.question,
        "replications": n,
        "workers": args.workers,
        "tiny": bool(args.tiny),
        "overrides": base,
        "cells": {cell.name: list(cell.overrides) for cell in exp.cells},
        "seed": first.seed,
        "market_size": first.market.size,
        "years": first.sim.years,
        "cxsim_version": cxsim.__version__,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
        "wall_seconds": round(time.time() - started, 1),
        "runs": len(scenarios) * n,
    }
    return _tidy(summaries, exp.params), _tidy(series, exp.params), meta


def execute(directory: str | os.PathLike, argv: Sequence[str] | None = None) -> Outcome:
    """Parse *argv*, run (or with ``--replot`` read) the experiment in *directory*.

    Returns its :class:`Outcome`; the caller draws the figures and writes
    ``summary.md`` into ``outcome.out``.
    """
    exp = load(directory)
    parser = _parser(exp)
    args = parser.parse_intermixed_args(sys.argv[1:] if argv is None else list(argv))
    if args.tiny:
        exp = load(directory, tiny=True)
    if args.replications is None:
        args.replications = exp.tiny_replications if args.tiny else exp.replications
    for name in ("replications", "workers"):
        if getattr(args, name) < 1:
            fail(parser.prog, f"--{name} must be >= 1; got {getattr(args, name)}")
    out = args.out or exp.directory / ("results-tiny" if args.tiny else "results")
    out = Path(out)
    if args.replot:
        if not (out / "run.json").is_file():
            fail(parser.prog, f"{out} holds no finished run (no run.json)")
        meta = json.loads((out / "run.json").read_text())
        return Outcome(exp, pd.read_parquet(out / "table.parquet"),
                       pd.read_parquet(out / "timeseries.parquet"), out, meta)
    table, series, meta = _run(exp, args, parser.prog)
    out.mkdir(parents=True, exist_ok=True)
    (out / "run.json").unlink(missing_ok=True)
    atomic_write(out / "table.parquet", lambda p: table.to_parquet(p, index=False))
    atomic_write(out / "table.csv", lambda p: table.to_csv(p, index=False))
    atomic_write(out / "timeseries.parquet", lambda p: series.to_parquet(p, index=False))
    write_text(out / "run.json", json.dumps(meta, indent=2) + "\n")
    return Outcome(exp, table, series, out, meta)


def main(directory: str | os.PathLike, argv: Sequence[str] | None,
         analyse: Callable[[Outcome], Any], figures: Sequence[Callable[[Outcome, Any], Any]],
         summary: Callable[[Outcome, Any], str]) -> Outcome:
    """Run an experiment, then its analysis, figures and ``summary.md``: every run.py's main."""
    outcome = execute(directory, argv)
    found = analyse(outcome)
    for draw in figures:
        draw(outcome, found)
    write_text(outcome.out / "summary.md", summary(outcome, found))
    write_report(outcome.out)  # report.html from the summary, tables and figures above
    print(f"wrote {outcome.out}", file=sys.stderr)
    return outcome


# -------------------------------------------------------------- statistics
def ci(values: Any) -> tuple[float, float, float]:
    """Mean and 95% Student-t interval of the finite *values*."""
    values = np.asarray(values, dtype=float)
    return mean_ci(values[np.isfinite(values)], LEVEL)


def num(x: float, digits: int = 3) -> str:
    """A number for a reader: thousands separators for large ones, else *digits* significant."""
    if not np.isfinite(x):
        return "n/a"
    if abs(x) >= 10 ** digits:
        return f"{x:,.0f}"
    text = f"{x:.{digits}g}"
    return f"{float(text):,.0f}" if "e" in text else text


def pct(x: float, digits: int = 1) -> str:
    """A share as a percentage."""
    return "n/a" if not np.isfinite(x) else f"{100 * x:.{digits}f}%"


def fmt_ci(stats: Sequence[float], unit: str = "", scale: float = 1.0,
           digits: int = 3) -> str:
    """``12.3 (95% CI 10.1 to 14.5)``; *scale* 100 with unit ``" pp"`` for share points."""
    mean, low, high = (float(s) * scale for s in stats[:3])
    if not np.isfinite(low):
        return f"{num(mean, digits)}{unit} (no CI: one replication)"
    return f"{num(mean, digits)}{unit} (95% CI {num(low, digits)} to {num(high, digits)}{unit})"


def by_cell(table: pd.DataFrame, metric: str, by: Sequence[str] = ("cell", "firm")
            ) -> pd.DataFrame:
    """Mean, 95% CI and n of *metric* per group of *by* (groups in table order)."""
    rows = []
    for key, group in table.groupby(list(by), sort=False):
        mean, low, high = ci(group[metric])
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "mean": mean, "ci_low": low, "ci_high": high,
                     "n": int(np.isfinite(group[metric].to_numpy(dtype=float)).sum())})
    return pd.DataFrame(rows)


def firm_difference(table: pd.DataFrame, metric: str, b: str, a: str,
                    by: str = "cell") -> pd.DataFrame:
    """Per *by* and replication, *metric* of firm *b* minus firm *a* in the same run."""
    wide = table.pivot_table(index=[by, "replication"], columns="firm", values=metric,
                             sort=False)
    return (wide[b] - wide[a]).rename("difference").reset_index()


def cell_difference(table: pd.DataFrame, metric: str, firm: str, b: str, a: str
                    ) -> np.ndarray:
    """Per replication, *firm*'s *metric* in cell *b* minus cell *a* (paired by replication)."""
    mine = table[table.firm == firm].pivot_table(index="replication", columns="cell",
                                                 values=metric)
    return (mine[b] - mine[a]).to_numpy(dtype=float)


def band(timeseries: pd.DataFrame, metric: str, by: Sequence[str] = ("cell", "firm")
         ) -> pd.DataFrame:
    """Per group and month: mean of *metric* over replications with its 95% CI band
    (:func:`cxsim.simulation.results.monthly_band`)."""
    return monthly_band(timeseries, metric, by, level=LEVEL)


def series(timeseries: pd.DataFrame, metric: str, firm: str, cell: str) -> np.ndarray:
    """One row per replication, one column per month, of *firm*'s *metric* in *cell*."""
    mine = timeseries[(timeseries.cell == cell) & (timeseries.firm == firm)]
    return mine.pivot_table(index="replication", columns="month", values=metric).to_numpy()


def crossover(outcome: Outcome, cell: str) -> dict[str, Any]:
    """The crossover in *cell* as a run's report finds and says it.

    The leader is the firm with the higher mean final share
    (:func:`cxsim.report.run.leading`); ``crossover`` is its
    :class:`cxsim.simulation.results.Crossover`, ``text`` the report's sentence
    (:func:`cxsim.report.answer.crossover`) and ``bullet`` that sentence
    after a bold headline for ``summary.md``.
    """
    table, ts = outcome.table, outcome.timeseries
    leader, other, lead, crossing = leading(table[table.cell == cell], ts[ts.cell == cell])
    text = answer.crossover(leader, other, crossing, lead.shape[1], crossing.replications)
    headline = (f"Crossover at month {month_number(crossing.month)}" if crossing.claimed
                else "No crossover")
    return {"leader": leader, "other": other, "crossover": crossing, "text": text,
            "bullet": f"**{headline}**: {text}"}


CROSSOVER_NOTE = (
    "Months are numbered from 1, as in the figures. The crossover is the month from which "
    "the leader's mean share stays ahead of the other's (the last crossing of the means), "
    "claimed only when the paired 95% CI of the lead was below 0 in some month before it and "
    "is above 0 in the last; the lead is sure from the month its CI stays above 0.")
"""What every experiment that marks a crossover says it is (docs/model.md, section 8)."""


def share_panels(outcome: Outcome, crossovers: dict[str, Crossover], labels: dict[str, str],
                 firms: Sequence[str], title: str) -> None:
    """``share_over_time.png``: one panel per cell, each firm's market share by month (mean
    and 95% CI band), the crossover and the month its lead is sure from marked as the
    report's chart marks them (:func:`cxsim.report.charts.mark_crossover`)."""
    bands = band(outcome.timeseries, "share")
    cells = list(crossovers)
    fig, axes = plt.subplots(1, len(cells), figsize=(5.5 * len(cells), 4), sharey=True,
                             squeeze=False)
    for ax, cell in zip(axes[0], cells):
        for firm in firms:
            b = bands[(bands.cell == cell) & (bands.firm == firm)]
            color = FIRM_COLORS[firm]
            x = b.month.map(month_number)
            ax.plot(x, b["mean"], color=color, label=firm)
            ax.fill_between(x, b.ci_low, b.ci_high, color=color, alpha=0.25, lw=0)
        mark_crossover(ax, crossovers[cell], month_number)
        ax.set_title(labels.get(cell, cell), fontsize=10)
        ax.set_xlabel("month (1 = the first)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    axes[0][0].set_ylabel("market share (of active clients)")
    fig.suptitle(title, fontsize=11)
    save_figure(fig, outcome.out, "share_over_time.png")


def save_figure(fig: Any, out: Path, name: str) -> Path:
    """Save *fig* as ``out/name`` (PNG, 120 dpi) and close it."""
    path = out / name
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def size_note(meta: dict[str, Any]) -> str:
    """One line naming the size that produced a result."""
    years = meta["years"]
    note = (f"{meta['market_size']:,} clients, {num(years)} year{'' if years == 1 else 's'}, "
            f"{meta['replications']} replications per cell (common random numbers, seed "
            f"{meta['seed']}), {meta['runs']} runs in {num(meta['wall_seconds'] / 60, 2)} min "
            f"with {meta['workers']} worker(s)")
    return note + (" — the --tiny test size: numbers are noise" if meta.get("tiny") else "")
