"""The ``cxsim`` command: a Hydra app with clear errors and a progress bar.

Exit status 0 on success, 2 on bad input (one line on stderr, no traceback,
no output that looks like a finished result).

Every run the command line asks for (each job of a ``--multirun`` sweep too)
is composed and validated, journeys included, *before* Hydra starts: bad input
never creates Hydra's ``outputs/`` or ``multirun/`` folder. Command lines that
run nothing cxsim can check beforehand (``--info``, ``--cfg``, another config
via ``-cp``/``-cn``/``-cd``) skip cxsim's checks; the run itself still
validates before it writes a result. Every command line but ``--help``,
``--hydra-help`` and ``--shell-completion`` is then composed as Hydra will
compose it, Hydra's own settings included, before Hydra starts: Hydra's own
usage errors (an unknown option, config name or launcher, a bad ``hydra.*``
value, a bad override under ``--cfg``) are one line and exit status 2 too,
not Hydra's several lines and exit status 1.

A run (a job) runs ``experiment.replications`` replications, replication i
on ``SeedSequence(seed, spawn_key=(i,))`` as :func:`cxsim.replicate` does, and
saves them together: each table holds every replication's rows (they carry
``replication``), ``meta.json`` lists the runs. It writes its figures, then its
tables, then ``meta.json``, last; if anything fails, it removes what it wrote
and leaves a ``FAILED`` file with the one-line reason instead. So a job
directory holds complete results, or a failure marker, or (while running or
after ``kill -9``) neither: never half a result that looks whole.

Sweeps (``--multirun``) scale out through any Hydra launcher
(``hydra/launcher=joblib``, ``ray``, ``submitit_slurm``; ``docs/scaling.md``).
A job is identified by the hash of its overrides
(:func:`cxsim.collect.override_hash`), and its directory is named by it:
``SWEEP_DIR/<hash>``. Unless the command line sets ``hydra.sweep.dir``,
``SWEEP_DIR`` is ``multirun/sweep-<hash of the sweep's jobs>`` under the
working directory, so the same command finds the same directory again: a
re-run skips the jobs already complete (``cxsim: job ... is complete,
skipped``) and redoes the failed and unfinished ones. ``cxsim-collect
SWEEP_DIR`` merges a sweep into one table.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import fields
from pathlib import Path
from typing import NoReturn

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from cxsim.collect import FAILED, expand_sweep, job_status, override_hash
from cxsim.commandline import fail
from cxsim.config import (
    DAYS_PER_YEAR,
    Config,
    compose,
    config_dir,
    group_options,
    register_configs,
    to_config,
)
from cxsim.errors import ConfigError
from cxsim.files import write_text
from cxsim.overrides import override_error, preset_files
from cxsim.simulation.results import TABLES, Results

__all__ = ["main"]

SWEEP_ROOT = "multirun"
"""Folder, under the working directory, of the sweeps that name no ``hydra.sweep.dir``."""
RESOLVER = "cxsim.job"
"""OmegaConf resolver naming a job's directory: the hash of the job's overrides."""
_SUBDIR = "${" + RESOLVER + ":${hydra.overrides.task}}"
_SUMMARY_METRICS = ("share_final", "clv_mean", "clv_final_year", "retention_annual", "nps_true")
"""Metrics the console shows, mean and 95% CI, for a run of several replications."""


def _fail(error: ConfigError | str) -> NoReturn:
    fail("cxsim", str(error))


def _check(overrides: list[str]) -> None:
    """Compose and validate one run (journeys and staff included, no engine built); exit 2
    if it is bad."""
    from cxsim.validate import validate

    try:
        validate(compose(overrides))
    except ConfigError as error:
        _fail(error)


def _is_hydra_override(override: str) -> bool:
    key = override.split("=", 1)[0].lstrip("+~")
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def _parse(argv: list[str]) -> argparse.Namespace | None:
    """Hydra's reading of *argv*; None if there is nothing cxsim can check.

    None for help and information options, for another config (``-cp``, ``-cn``,
    ``-cd``, ``--experimental-rerun``) and for command lines Hydra itself
    rejects (:func:`_preflight` reports those, in one line).
    """
    from hydra._internal.utils import get_args_parser

    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            args = get_args_parser().parse_args(argv)
    except SystemExit:
        return None
    if (args.help or args.hydra_help or args.cfg or args.info or args.shell_completion
            or args.config_path or args.config_name or args.config_dir
            or args.experimental_rerun):
        return None
    return args


def _runs(argv: list[str]) -> list[list[str]] | None:
    """The override lists of the runs *argv* asks for; None if there is nothing to check.

    ``hydra.*`` overrides are left to Hydra.
    """
    args = _parse(argv)
    if args is None:
        return None
    overrides = [o for o in args.overrides if not _is_hydra_override(o)]
    if not args.multirun:
        return [overrides]
    other_sweeper = any(o.split("=", 1)[0].lstrip("+~") == "hydra/sweeper"
                        for o in args.overrides)
    return None if other_sweeper else _sweep(overrides)


def _sweep(overrides: list[str]) -> list[list[str]]:
    """Expand comma, ``range``, ``choice`` and ``glob`` sweeps into jobs, as Hydra's basic
    sweeper does; a sweep it cannot run, or one of no job, is bad input (exit 2)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Glob

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:  # a syntax error: composing the raw overrides names it
        return [overrides]
    lines = []
    for override, line in zip(parsed, overrides):
        if override.is_sweep_override() and not override.is_discrete_sweep():
            _fail(ConfigError(f"override '{line}'", "is an interval sweep, which the basic "
                              "sweeper cannot run (give a list, range() or choice(), or "
                              "choose a sweeper with hydra/sweeper=...)"))
        if isinstance(override.value(), Glob):
            line = _globbed(override, line)
        lines.append(line)
    jobs = expand_sweep(lines)
    if not jobs:
        _fail(ConfigError("overrides", "make a sweep of no job"))
    return jobs


def _globbed(override, line: str) -> str:
    """A ``glob()`` override as the list of config group options it selects."""
    options = group_options(override.key_or_group.replace(".", "/"))
    if options is None:
        _fail(ConfigError(f"override '{line}'", f"globs '{override.key_or_group}', which is "
                          "not a config group (glob() selects a group's options)"))
    chosen = override.value().filter(options)
    if not chosen:
        _fail(ConfigError(f"override '{line}'", "selects no option of its config group"))
    return f"{line.split('=', 1)[0]}={','.join(chosen)}"


def _check_output_dir(argv: list[str]) -> None:
    """Exit 2 if the folder the run or sweep would write to cannot be created: the one a
    ``hydra.run.dir`` / ``hydra.sweep.dir`` override names (up to its first ``${``), or
    else the working directory."""
    args = _parse(argv)
    key = "hydra.sweep.dir" if args is not None and args.multirun else "hydra.run.dir"
    named = next((o.split("=", 1)[1] for o in argv if o.split("=", 1)[0].lstrip("+~") == key),
                 None)
    folder = Path(named.split("${", 1)[0].strip("'\"") or ".") if named else Path.cwd()
    existing = folder.absolute()
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:  # a probe that leaves no trace: permissions alone do not say (root, /proc)
        os.rmdir(tempfile.mkdtemp(prefix=".cxsim-probe-", dir=existing))
    except OSError as error:
        where = f"{key} '{named}'" if named else f"working directory '{folder}'"
        _fail(ConfigError(where, f"cannot be written to ({error.strerror})"))


def _arguments(argv: list[str]) -> argparse.Namespace:
    """Hydra's reading of *argv*; a usage error (an unknown option) is one line, exit 2."""
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()
    parser.prog = "cxsim"
    parser.error = _fail  # type: ignore[method-assign]
    return parser.parse_args(argv)


def _preflight(argv: list[str]) -> None:
    """Compose the config as Hydra will, its own settings included, before Hydra starts.

    Hydra reports its own usage errors (a config name or a launcher it cannot find, a
    ``hydra.*`` value of the wrong type, a bad override under ``--cfg``) in 6 to 11 lines
    and exit status 1, the status of a job that failed; here they are one line and exit
    status 2, as every other bad input. Help and shell completion are left to Hydra.
    """
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_automatic_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra

    args = _arguments(argv)
    if args.help or args.hydra_help or args.shell_completion:
        return
    commands = (args.run, args.multirun, args.cfg is not None, args.info is not None)
    if sum(commands) > 1:  # Hydra's own checks of these two were tracebacks
        _fail("only one of --run, --multirun, --cfg and --info can be given")
    if args.resolve and args.cfg is None:
        _fail("--resolve can only be given with --cfg or --help")
    name = args.config_name or "config"
    try:
        path = create_automatic_config_search_path(
            __file__, None, args.config_path or str(config_dir()))
        if args.config_dir is not None:
            folder = os.path.abspath(args.config_dir)
            if not os.path.isdir(folder):
                raise ConfigError(f"config directory (-cd) '{args.config_dir}'",
                                  "does not exist")
            path.prepend(provider="command-line", path=f"file://{folder}",
                         anchor=SearchPathQuery(provider="schema"))
        hydra_app = Hydra.create_main_hydra2(task_name="cxsim", config_search_path=path)
        hydra_app.compose_config(name, args.overrides,
                                 run_mode=RunMode.MULTIRUN if args.multirun else RunMode.RUN,
                                 validate_sweep_overrides=not args.multirun)
    except ConfigError as error:
        _fail(error)
    except Exception as error:  # Hydra's and OmegaConf's many types
        _fail(_hydra_error(error, args, name))
    finally:
        GlobalHydra.instance().clear()


def _hydra_error(error: Exception, args: argparse.Namespace, name: str) -> ConfigError:
    """One line for an error of Hydra's own: what it names, the rule it states."""
    from hydra.errors import MissingConfigException

    text = str(error)
    if isinstance(error, MissingConfigException) and "primary config directory" in text.lower():
        return ConfigError(f"config path (-cp) '{args.config_path}'", "is not a folder of "
                           "configs")
    if isinstance(error, MissingConfigException) and "primary config" in text.lower():
        return ConfigError(f"config name (-cn) '{name}'", "names no config in the config "
                           "search path")
    return override_error(error, args.overrides)


def _quote(text: str) -> str:
    """*text* as a quoted Hydra override value."""
    return "'" + text.replace("'", "\\'") + "'"


def _sweep_location(argv: list[str], jobs: list[list[str]] | None) -> tuple[list[str], Path | None]:
    """Overrides that name a sweep's directories, unless the command line names them.

    The sweep directory is ``multirun/sweep-<hash>`` under the working
    directory, the hash taken over the jobs' own hashes (so ``seed=1,2`` and
    ``seed=range(1,3)`` are the same sweep); each job's subdirectory is the
    hash of its overrides. Returns the overrides to add and the sweep
    directory when cxsim chose it.
    """
    args = _parse(argv)
    if args is None or not args.multirun:
        return [], None
    keys = {o.split("=", 1)[0].lstrip("+~") for o in args.overrides}
    extra: list[str] = []
    where = None
    if "hydra.sweep.dir" not in keys:
        if jobs is not None:
            name = override_hash(sorted(override_hash(job) for job in jobs))
        else:
            name = override_hash([o for o in args.overrides if not _is_hydra_override(o)])
        where = Path.cwd() / SWEEP_ROOT / f"sweep-{name}"
        extra.append(f"hydra.sweep.dir={_quote(str(where))}")
    if "hydra.sweep.subdir" not in keys:
        extra.append(f"hydra.sweep.subdir={_quote(_SUBDIR)}")
    return extra, where


def _job_dir_name(overrides) -> str:
    """Resolver ``cxsim.job``: the directory name of a job, from its overrides."""
    return override_hash([str(o) for o in overrides])


# ------------------------------------------------------------------ one job
def _replications(scenario: Config) -> list[Results]:
    """Run replications 0..n-1 of *scenario* (side by side, ``experiment.simulated``) with a
    progress bar over simulated days."""
    from cxsim.simulation.experiment import simulated

    n = scenario.experiment.replications
    days = round(scenario.sim.years * DAYS_PER_YEAR)
    with tqdm(total=days * n, unit="day", desc="simulating", file=sys.stderr,
              disable=None) as bar:

        def advance(done: int, k: int, day: float) -> None:
            bar.update(done * days + round(day) * k - bar.n)

        runs = list(simulated(scenario, n, advance))
        bar.update(n * days - bar.n)
    return runs


def _combine(runs: list[Results], job: str, overrides: list[str]) -> Results:
    """One Results for a job: the replications' rows together, the job in ``meta``."""
    first = runs[0]
    meta = dict(first.meta)
    listed = [{k: r.meta.get(k) for k in ("run_id", "replication", "spawn_key")} for r in runs]
    if len(runs) > 1:
        for key in ("run_id", "replication", "spawn_key"):
            meta.pop(key, None)
    meta.update(job_id=job, overrides=overrides, replications=len(runs), runs=listed)
    if len(runs) == 1:
        first.meta = meta
        return first
    tables = {}
    for f in fields(Results):
        if f.name in ("meta", "config"):
            continue
        frames = [getattr(r, f.name) for r in runs]
        tables[f.name] = (None if all(x is None for x in frames)
                          else pd.concat([x for x in frames if x is not None], ignore_index=True))
    return Results(**tables, meta=meta, config=first.config)


def _discard(out: Path, written: list[Path]) -> None:
    """Remove what a failed job wrote, so nothing in *out* looks like a result."""
    names = ["meta.json", "summary.json", "config.yaml", *(f"{t}.parquet" for t in TABLES)]
    for path in [*(out / n for n in names), *written, *out.glob(".*.partial")]:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _mark_failed(out: Path, reason: str) -> None:
    write_text(out / FAILED, reason + "\n")


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, ConfigError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _print_summary(runs: list[Results], results: Results) -> None:
    from cxsim.report import summary_table
    from cxsim.report.answer import NO_DATA
    from cxsim.simulation.experiment import Ensemble

    if len(runs) == 1:
        print(summary_table(results))
        return
    ensemble = Ensemble(results.summary, results.timeseries)
    metrics = [m for m in _SUMMARY_METRICS if m in ensemble.metrics()]
    with pd.option_context("display.width", 200, "display.max_columns", None,
                           "display.float_format", "{:.4g}".format):
        print(f"{len(runs)} replications: mean and 95% CI")
        print(ensemble.table(metrics).to_string(index=False, na_rep=NO_DATA))


def _task(cfg: DictConfig) -> None:
    from cxsim.report import write_figures

    hydra_cfg = HydraConfig.get()
    out = Path(hydra_cfg.runtime.output_dir)
    overrides = [str(o) for o in hydra_cfg.overrides.task]
    job = override_hash(overrides)
    sweeping = hydra_cfg.mode == RunMode.MULTIRUN
    if sweeping and job_status(out, job)[0] == "complete":
        print(f"cxsim: job {job} is complete, skipped: {out}")
        return
    (out / FAILED).unlink(missing_ok=True)
    written: list[Path] = []
    try:
        scenario = to_config(cfg)
        runs = _replications(scenario)
        results = _combine(runs, job, overrides)
        written = write_figures(runs[0], out)
        report = scenario.experiment.report
        if report or (report is None and not sweeping):
            from cxsim.report.page import write
            from cxsim.report.run import page_of

            written.append(write(page_of(results), out / "report.html"))
        results.save(out)  # tables, then meta.json last: a complete run has its report
    except Exception as error:
        _discard(out, written)
        reason = _reason(error)
        _mark_failed(out, reason)
        if isinstance(error, ConfigError) and not sweeping:
            _fail(error)
        print(f"cxsim: job {job} failed: {reason} ({out / FAILED})", file=sys.stderr)
        raise
    _print_summary(runs, results)
    print(f"\noutputs: {out}")


def main() -> None:
    """Entry point of ``cxsim`` and ``python -m cxsim``."""
    register_configs()
    argv = sys.argv[1:]
    runs = _runs(argv)
    for overrides in runs or []:
        _check(overrides)
    if runs is not None:
        _check_output_dir(argv)
    try:  # Hydra reads a preset named by its file from cxsim's folder of linked presets
        argv = preset_files(argv)
    except ConfigError as error:
        _fail(error)
    OmegaConf.register_new_resolver(RESOLVER, _job_dir_name, replace=True)
    extra, where = _sweep_location(argv, runs)
    _preflight([*argv, *extra])
    if where is not None:
        print(f"sweep: {where}")
    sys.argv = [sys.argv[0], *argv, *extra]
    app = hydra.main(config_path=str(config_dir()), config_name="config", version_base=None)(
        _task)
    app()
