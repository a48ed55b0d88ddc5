"""The ``cxsim`` command: a Hydra app with clear errors and a progress bar.

Exit status 0 on success, 2 on bad input (one line on stderr, no traceback,
no output that looks like a finished result).

Every run the command line asks for (each job of a ``--multirun`` sweep too)
is composed and validated, journeys included, *before* Hydra starts: bad input
never creates Hydra's ``outputs/`` or ``multirun/`` folder. Only command lines
that run nothing cxsim can check beforehand (``--help``, ``--info``, ``--cfg``,
another config via ``-cp``/``-cn``/``-cd``) go straight to Hydra; the run
itself still validates before it writes a result.
"""

from __future__ import annotations

import io
import itertools
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from tqdm import tqdm

from cxsim.config import compose, config_dir, register_configs, to_config
from cxsim.errors import ConfigError

__all__ = ["main"]


def _fail(error: ConfigError) -> None:
    message = " ".join(str(error).split())  # one line, whatever the message holds
    print(f"cxsim: error: {message}", file=sys.stderr)
    sys.exit(2)


def _check(overrides: list[str]) -> None:
    """Compose and validate one run (journeys and staff included); exit 2 if it is bad."""
    from cxsim.engine import Engine

    try:
        scenario = to_config(compose(overrides))
        Engine(scenario, 0, config_dir() / "journey")
    except ConfigError as error:
        _fail(error)


def _is_hydra_override(override: str) -> bool:
    key = override.split("=", 1)[0].lstrip("+~")
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def _runs(argv: list[str]) -> list[list[str]] | None:
    """The override lists of the runs *argv* asks for; None if there is nothing to check.

    None for help and information options, for another config (``-cp``, ``-cn``,
    ``-cd``, ``--experimental-rerun``) and for command lines Hydra itself
    rejects (it reports those). ``hydra.*`` overrides are left to Hydra.
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
    overrides = [o for o in args.overrides if not _is_hydra_override(o)]
    return _sweep(overrides) if args.multirun else [overrides]


def _sweep(overrides: list[str]) -> list[list[str]] | None:
    """Expand comma, ``range`` and ``choice`` sweeps into jobs, as Hydra's basic sweeper does."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception:  # a syntax error: composing the raw overrides names it
        return [overrides]
    axes: dict[str, list[str]] = {}
    try:
        for override in parsed:
            key = override.get_key_element()
            if override.is_sweep_override():
                if not override.is_discrete_sweep():
                    return [overrides]  # interval sweeps: composing says what is wrong
                axes[key] = [f"{key}={v}" for v in override.sweep_string_iterator()]
            else:
                axes[key] = [override.input_line]
    except Exception:  # e.g. glob() needs Hydra's config loader: each job checks itself
        return None
    return [list(job) for job in itertools.product(*axes.values())]


def _task(cfg: DictConfig) -> None:
    from cxsim.engine import simulate
    from cxsim.report import summary_table, write_figures

    try:
        scenario = to_config(cfg)
    except ConfigError as error:
        _fail(error)
    out = Path(HydraConfig.get().runtime.output_dir)
    horizon = scenario.sim.years * 365.25
    with tqdm(total=round(horizon), unit="day", desc="simulating", file=sys.stderr,
              disable=None) as bar:

        def advance(day: float) -> None:
            bar.update(round(day) - bar.n)

        try:
            results = simulate(scenario, progress=advance)
        except ConfigError as error:
            _fail(error)
    results.save(out)
    write_figures(results, out)
    print(summary_table(results))
    print(f"\noutputs: {out}")


def main() -> None:
    """Entry point of ``cxsim`` and ``python -m cxsim``."""
    register_configs()
    for overrides in _runs(sys.argv[1:]) or []:
        _check(overrides)
    app = hydra.main(config_path=str(config_dir()), config_name="config", version_base=None)(
        _task)
    app()
