"""Sweeps: how a job of ``cxsim --multirun`` is named, and ``cxsim-collect``.

A job of a sweep is identified by the hash of its overrides
(:func:`override_hash`), not by Hydra's job number: ``cxsim`` names each job
directory ``SWEEP_DIR/<hash>``, so the same job lands in the same directory
whatever order, launcher or machine runs it, and a sweep re-run with the same
command finds the jobs already done. A job directory is, at any moment, in one
of three states:

``complete``
    ``meta.json`` is present (it is written last, after every table) and
    names the job.
``failed``
    a ``FAILED`` file holds the one-line reason; the job's result files were
    removed.
``incomplete``
    neither: the job is running, or was killed (even by ``kill -9``) before
    it finished. Tables are written under temporary names and moved into
    place, so what is there is whole, but without ``meta.json`` it is not a
    result.

:func:`collect` (and the ``cxsim-collect SWEEP_DIR`` command) merges the
complete jobs of a sweep into one tidy table, one row per job, replication and
firm for the per-firm summary, with the swept parameters as columns, and lists
every job that is failed, incomplete or missing (expected from the sweep's
``multirun.yaml`` but never started), instead of dropping it silently::

    cxsim-collect multirun/sweep-3f2a9c1b7e4d            # summary
    cxsim-collect multirun/sweep-3f2a9c1b7e4d --table timeseries --out results/

writes ``sweep_<table>.parquet``, ``sweep_<table>.csv`` and
``sweep_failed.csv`` (the jobs that are not complete; only a header when there
are none). Exit status 0 when every job is complete, 1 when some are not (the
table of the others is still written), 2 on bad input (one line on stderr,
``cxsim-collect: error: ...``, nothing written).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cxsim.commandline import Parser, fail
from cxsim.errors import ConfigError
from cxsim.files import atomic_write
from cxsim.simulation.results import TABLES

__all__ = [
    "FAILED",
    "STATUSES",
    "Sweep",
    "collect",
    "expand_sweep",
    "job_status",
    "main",
    "override_hash",
]

PROG = "cxsim-collect"
FAILED = "FAILED"
"""Name of the failure marker in a job directory: one line, the reason."""
META = "meta.json"
"""Written last by :meth:`cxsim.Results.save`: its presence marks a complete result."""
STATUSES = ("complete", "failed", "incomplete", "missing")
"""States of a job in :attr:`Sweep.jobs`."""
_JOB_COLUMNS = ["job", "status", "overrides", "reason", "directory"]


def override_hash(overrides: Sequence[str]) -> str:
    """A job's identity: a short hash of its overrides, in any order.

    ``["seed=1", "market.size=200"]`` and ``["market.size=200", "seed=1"]``
    are the same job. The overrides are taken as written by Hydra's sweeper
    (``key=value``), so ``market.size=200`` and ``market.size=0200`` are not
    the same job, and a journey file named by path is the same job even if
    the file changed.
    """
    text = json.dumps(sorted(str(o) for o in overrides))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def expand_sweep(overrides: Sequence[str], params: dict[str, Any] | None = None
                 ) -> list[list[str]]:
    """The jobs of a sweep: one override list per job, as Hydra's basic sweeper makes them.

    *params* are ``hydra.sweeper.params`` (key -> sweep), which the basic
    sweeper puts before the command line's overrides. Raises Hydra's
    exceptions for what the basic sweeper cannot expand (interval sweeps,
    ``glob``, syntax errors).
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    lines = [f"{k}={v}" for k, v in (params or {}).items()] + list(overrides)
    parsed = OverridesParser.create().parse_overrides(lines)
    (batch,) = BasicSweeper.split_arguments(parsed, None)
    return [list(job) for job in batch]


def job_status(directory: Path, job: str | None = None) -> tuple[str, str]:
    """``(status, reason)`` of a job directory: complete, failed or incomplete.

    Complete means ``meta.json`` loads and, if *job* is given, names that job.
    """
    if (directory / FAILED).is_file():
        reason = (directory / FAILED).read_text(errors="replace").strip()
        return "failed", " ".join(reason.split()) or "no reason recorded"
    meta = _meta(directory)
    if meta is None:
        return "incomplete", "no meta.json: killed, still running, or never finished"
    if job is not None and meta.get("job_id") != job:
        return "incomplete", f"meta.json names job {meta.get('job_id')!r}, not {job!r}"
    return "complete", ""


@dataclass
class Sweep:
    """A collected sweep: the merged table and the state of every job.

    ``table`` has one row per complete job and row of its table (for
    ``summary``: replication and firm), with ``job`` (the override hash), the
    swept parameters (one column per swept key, typed when the values are
    numbers or booleans), ``overrides`` (the job's overrides, space-separated)
    and the table's own columns. ``jobs`` has one row per job: ``job``,
    ``status`` (one of :data:`STATUSES`), ``overrides``, ``reason`` and
    ``directory`` (relative to the sweep directory; empty when missing).
    """

    directory: Path
    table_name: str
    table: pd.DataFrame
    jobs: pd.DataFrame
    note: str = ""

    @property
    def problems(self) -> pd.DataFrame:
        """The jobs that are not complete."""
        return self.jobs[self.jobs.status != "complete"].reset_index(drop=True)

    def write(self, out: str | os.PathLike | None = None) -> list[Path]:
        """Write ``sweep_<table>.parquet``, ``.csv`` and ``sweep_failed.csv`` into *out*.

        *out* defaults to the sweep directory. Each file is written under a
        temporary name and moved into place.
        """
        out = Path(out) if out is not None else self.directory
        out.mkdir(parents=True, exist_ok=True)
        stem = f"sweep_{self.table_name}"
        files = [
            (f"{stem}.parquet", lambda p: self.table.to_parquet(p, index=False)),
            (f"{stem}.csv", lambda p: self.table.to_csv(p, index=False)),
            ("sweep_failed.csv", lambda p: self.problems.to_csv(p, index=False)),
        ]
        written = []
        for name, write in files:
            written.append(atomic_write(out / name, write))
        return written


def collect(sweep_dir: str | os.PathLike, table: str = "summary") -> Sweep:
    """Merge the complete jobs of the sweep in *sweep_dir* into one table.

    *table* is one of the result tables (``summary`` by default,
    ``timeseries``, ``segments``, ``touchpoints``, ``clients``,
    ``journeys``). The jobs the sweep should have are read from its
    ``multirun.yaml`` (the command line's overrides, expanded as Hydra's basic
    sweeper does); job directories found beside them are collected too. Rows
    come in the sweep's job order, so the table does not depend on which
    launcher ran the jobs or when. Raises :class:`ConfigError` if *sweep_dir*
    is not a sweep directory or *table* is not a result table.
    """
    root = Path(sweep_dir)
    if table not in TABLES:
        raise ConfigError("--table", f"must be one of {', '.join(TABLES)}", table)
    if not root.is_dir():
        raise ConfigError(f"sweep directory '{root}'", "does not exist or is not a directory")
    manifest = root / "multirun.yaml"
    found = _job_dirs(root)
    if not manifest.is_file() and not found:
        raise ConfigError(f"'{root}'", "is not a cxsim sweep directory (no multirun.yaml and "
                          "no job directories with .hydra/, meta.json or FAILED)")
    expected, axes, note = _expected_jobs(manifest) if manifest.is_file() else ([], [], "")

    jobs: dict[str, dict[str, Any]] = {}
    for overrides in expected:
        jobs[override_hash(overrides)] = {
            "overrides": overrides, "status": "missing", "directory": "",
            "reason": "expected from multirun.yaml, no job directory"}
    for directory in found:
        overrides = _overrides_of(directory)
        job = _job_of(directory, overrides)
        status, reason = job_status(directory, job if overrides is not None else None)
        entry = jobs.get(job)
        if entry is not None and entry["status"] == "complete":
            continue  # a second directory of a job already collected
        if entry is not None and overrides is None:
            overrides = entry["overrides"]
        jobs[job] = {"overrides": overrides or [], "status": status, "reason": reason,
                     "directory": directory.relative_to(root).as_posix()}

    order = list(jobs)  # expected jobs in sweep order, then the others by overrides
    extra = sorted(order[len(expected):], key=lambda j: (" ".join(jobs[j]["overrides"]), j))
    order = order[:len(expected)] + extra

    frames = []
    for job in order:
        entry = jobs[job]
        if entry["status"] != "complete":
            continue
        path = root / entry["directory"] / f"{table}.parquet"
        try:
            frame = pd.read_parquet(path)
        except FileNotFoundError:
            entry.update(status="failed", reason=f"complete, but has no {table}.parquet")
            continue
        except Exception as exc:  # pyarrow raises several types for a damaged file
            entry.update(status="failed", reason=f"cannot read {table}.parquet: {_line(exc)}")
            continue
        frames.append((job, entry["overrides"], frame))

    merged = _merge(frames, axes)
    jobs_table = pd.DataFrame(
        [{"job": j, "status": jobs[j]["status"], "overrides": " ".join(jobs[j]["overrides"]),
          "reason": jobs[j]["reason"], "directory": jobs[j]["directory"]} for j in order],
        columns=_JOB_COLUMNS)
    return Sweep(root, table, merged, jobs_table, note)


# ------------------------------------------------------------------ reading
def _meta(directory: Path) -> dict | None:
    try:
        meta = json.loads((directory / META).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _job_dirs(root: Path) -> list[Path]:
    """Subdirectories of *root* that a job of a sweep has started in."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
                  and any((p / name).exists() for name in (".hydra", META, FAILED)))


def _overrides_of(directory: Path) -> list[str] | None:
    """The job's overrides: from meta.json, else Hydra's ``.hydra/overrides.yaml``."""
    meta = _meta(directory)
    if meta is not None and isinstance(meta.get("overrides"), list):
        return [str(o) for o in meta["overrides"]]
    path = directory / ".hydra" / "overrides.yaml"
    try:
        import yaml

        overrides = yaml.safe_load(path.read_text())
    except (OSError, ValueError):
        return None
    return [str(o) for o in overrides] if isinstance(overrides, list) else None


def _job_of(directory: Path, overrides: list[str] | None) -> str:
    if overrides is not None:
        return override_hash(overrides)
    meta = _meta(directory)
    if meta is not None and isinstance(meta.get("job_id"), str):
        return meta["job_id"]
    return directory.name


def _expected_jobs(manifest: Path) -> tuple[list[list[str]], list[str], str]:
    """Jobs, swept keys and a note from a sweep's ``multirun.yaml``."""
    from omegaconf import OmegaConf

    try:
        cfg = OmegaConf.load(manifest)
        overrides = OmegaConf.to_container(OmegaConf.select(cfg, "hydra.overrides.task"))
        params = OmegaConf.select(cfg, "hydra.sweeper.params")
        params = OmegaConf.to_container(params) if params is not None else None
    except Exception as exc:  # omegaconf and yaml raise several types
        raise ConfigError(f"sweep file '{manifest}'", f"cannot be read ({_line(exc)})") from None
    if not isinstance(overrides, list):
        raise ConfigError(f"sweep file '{manifest}'", "has no list hydra.overrides.task")
    try:
        expected = expand_sweep([str(o) for o in overrides], params)
    except Exception as exc:  # what only Hydra's own config loader can expand (glob)
        return [], [], (f"the sweep's jobs cannot be listed from multirun.yaml "
                        f"({_line(exc)}): missing jobs are not reported")
    axes = _swept_keys([str(o) for o in overrides], params)
    return expected, axes, ""


def _swept_keys(overrides: list[str], params: dict[str, Any] | None) -> list[str]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    lines = [f"{k}={v}" for k, v in (params or {}).items()] + overrides
    parsed = OverridesParser.create().parse_overrides(lines)
    return [_column(o.get_key_element()) for o in parsed if o.is_sweep_override()]


# ------------------------------------------------------------------ merging
def _column(key: str) -> str:
    """Column name of an override key: without ``+``, ``++`` or ``~``."""
    return key.lstrip("+~")


def _values(overrides: list[str]) -> dict[str, Any]:
    """Key -> typed value of each override of one job (later ones win)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    values: dict[str, Any] = {}
    for override in OverridesParser.create().parse_overrides(overrides):
        value = override.value()
        if not isinstance(value, bool | int | float | str) and value is not None:
            value = override.get_value_element_as_str()
        values[_column(override.get_key_element())] = value
    return values


def _typed(values: list[Any]) -> list[Any] | pd.Series:
    """One column's values: numbers or booleans as such, anything mixed as text."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(values, dtype="boolean")
    if present and all(isinstance(v, int | float) and not isinstance(v, bool)
                       for v in present):
        return pd.to_numeric(pd.Series(values, dtype=object))
    return pd.Series([None if v is None else str(v) for v in values], dtype=object)


def _merge(frames: list[tuple[str, list[str], pd.DataFrame]], axes: list[str]) -> pd.DataFrame:
    """Concatenate the jobs' tables with ``job``, the swept parameters and ``overrides``."""
    values = [_values(overrides) for _, overrides, _ in frames]
    keys = list(dict.fromkeys(axes + [k for v in values for k in v]))
    swept = [k for k in keys if k in axes or len({repr(v.get(k)) for v in values}) > 1]
    parts = []
    for (job, overrides, frame), job_values in zip(frames, values):
        head = {"job": job, **{k: job_values.get(k) for k in swept},
                "overrides": " ".join(overrides)}
        parts.append((head, frame))
    if not parts:
        return pd.DataFrame(columns=["job", *swept, "overrides"])
    n = [len(frame) for _, frame in parts]
    columns: dict[str, Any] = {"job": [h["job"] for h, _ in parts]}
    for k in swept:
        columns[k] = [h[k] for h, _ in parts]
    columns["overrides"] = [h["overrides"] for h, _ in parts]
    head = pd.DataFrame({k: _typed(v) if k in swept else v for k, v in columns.items()})
    head = head.loc[head.index.repeat(n)].reset_index(drop=True)
    body = pd.concat([frame for _, frame in parts], ignore_index=True)
    clash = [c for c in head.columns if c in body.columns]
    # a swept key that is also a result column (``seed``) is kept once, from the results
    head = head.drop(columns=[c for c in clash if c != "job"])
    return pd.concat([head, body], axis=1)


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ------------------------------------------------------------------ command
def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Merge the jobs of a cxsim sweep "
                     "(cxsim --multirun ...) into one table, and list the jobs that failed, "
                     "did not finish or never started.")
    parser.add_argument("sweep_dir", type=Path, metavar="SWEEP_DIR",
                        help="the sweep directory (printed by cxsim --multirun)")
    parser.add_argument("--table", default="summary", choices=TABLES,
                        help="result table to merge (default: summary, one row per "
                        "job x replication x firm)")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for the merged files (default: SWEEP_DIR)")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-collect``; *argv* defaults to ``sys.argv[1:]``."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.out is not None and args.out.exists() and not args.out.is_dir():
            raise ConfigError("--out", "must be a directory", str(args.out))
        sweep = collect(args.sweep_dir, args.table)
    except ConfigError as error:
        fail(PROG, str(error))
    try:
        written = sweep.write(args.out)
    except OSError as error:
        fail(PROG, f"cannot write to {str(args.out or args.sweep_dir)!r}: "
              f"{error.strerror or error}")
    jobs = sweep.jobs
    problems = sweep.problems
    complete = int((jobs.status == "complete").sum())
    if sweep.note:
        print(f"{PROG}: note: {sweep.note}", file=sys.stderr)
    if len(problems):
        print(f"{PROG}: {len(problems)} of {len(jobs)} jobs not complete "
              f"(listed in {written[2]}):", file=sys.stderr)
        for row in problems.itertuples():
            print(f"  {row.status:<10} {row.job}  {row.overrides}"
                  + (f"  -- {row.reason}" if row.reason else ""), file=sys.stderr)
    print(f"collected {len(sweep.table)} rows from {complete} of {len(jobs)} jobs")
    print(f"outputs: {written[0]} {written[1]}")
    sys.exit(1 if len(problems) else 0)


if __name__ == "__main__":
    main()
