"""The ``cxsim`` command: a Hydra app with clear errors and a progress bar.

Exit status 0 on success, 2 on bad input (one line on stderr, no traceback,
no output that looks like a finished result).
"""

from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from tqdm import tqdm

from cxsim.config import compose, config_dir, register_configs, to_config
from cxsim.errors import ConfigError

__all__ = ["main"]


def _fail(error: ConfigError) -> None:
    print(f"cxsim: error: {error}", file=sys.stderr)
    sys.exit(2)


def _check(cfg: DictConfig | None, overrides: list[str]) -> None:
    """Compose and validate everything (journeys included) before Hydra writes anything."""
    from cxsim.engine import Engine

    try:
        scenario = to_config(cfg if cfg is not None else compose(overrides))
        Engine(scenario, 0, config_dir() / "journey")
    except ConfigError as error:
        _fail(error)


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
    args = sys.argv[1:]
    plain = [a for a in args if not a.startswith("-") and not a.startswith("hydra")]
    if not any(a in ("-m", "--multirun", "--help", "-h", "--hydra-help", "--info",
                     "--cfg", "-c") or a.startswith("--info") for a in args):
        _check(None, plain)
    app = hydra.main(config_path=str(config_dir()), config_name="config", version_base=None)(
        _task)
    app()
