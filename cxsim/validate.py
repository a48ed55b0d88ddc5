"""The one validation pass: a scenario is checked whole, and each file it names
loaded once, before anything is built.

:func:`load` types the config, fills presets and checks every value against
the bounds declared beside it and the rules between values, the network's
included (:func:`cxsim.config.to_config`); refuses a market too big for
memory; loads each firm's journey (:mod:`cxsim.model.journey`, which checks the map)
and checks that the staff and CX money it names fall on touchpoints of that
journey; and reads the cohort if there is one (:mod:`cxsim.model.cohort`). It
returns what it loaded (:class:`Loaded`), which the engine runs on instead
of reading the files again. The ``cxsim`` command runs the pass on every job
of a sweep before Hydra starts, without building an engine or a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import DictConfig

from cxsim.config import Config, FirmConfig, config_dir, to_config
from cxsim.errors import ConfigError
from cxsim.model.cohort import Cohort, load_cohort
from cxsim.model.journey import Journey, load_journey

__all__ = ["Loaded", "load", "validate", "check_journey_names", "check_memory",
           "available_memory"]

BYTES_PER_CLIENT = 1_200  # peak memory per client, network included: make bench, table 3
#   (0.8-1.1 KB per client from 100k to 1M clients), with a margin
BASELINE_BYTES = 300 * 2**20  # imports and fixed costs (table 2's baseline), with a margin


@dataclass(frozen=True)
class Loaded:
    """A scenario checked whole: its typed config, each firm's journey by firm name, and
    its cohort (None without one), handed on to the run so nothing is read twice."""

    cfg: Config
    journeys: dict[str, Journey]
    cohort: Cohort | None


def load(cfg: Config | DictConfig | dict, journey_dir: Path | None = None) -> Loaded:
    """What *cfg* names, validated and loaded; raise :class:`ConfigError` naming the key,
    file or touchpoint and the rule broken (the first one, in the order above)."""
    cfg = to_config(cfg)
    check_memory(cfg.market.size)
    folder = journey_dir or config_dir() / "journey"
    journeys = {}
    for name, firm in cfg.firms.items():
        journeys[name] = load_journey(firm.journey, folder)
        check_journey_names(name, firm, journeys[name])
    return Loaded(cfg, journeys, load_cohort(cfg))


def validate(cfg: Config | DictConfig | dict, journey_dir: Path | None = None) -> Config:
    """The validated :class:`~cxsim.config.Config` of *cfg* (:func:`load`'s checks), for
    callers that only need the config."""
    return load(cfg, journey_dir).cfg


def check_journey_names(name: str, firm: FirmConfig, journey: Journey) -> None:
    """The touchpoints firm *name* gives staff or CX money must be its journey's (and staff,
    staffed ones)."""
    for tp in firm.staff:
        if tp not in journey.touchpoints:
            raise ConfigError(f"firms.{name}.staff.{tp}",
                              f"names no touchpoint of journey '{journey.name}'")
        if not journey.staffed[journey.touchpoints.index(tp)]:
            raise ConfigError(f"firms.{name}.staff.{tp}", "names an unstaffed touchpoint")
    for tp in firm.cx_split:
        if tp not in journey.touchpoints:
            raise ConfigError(f"firms.{name}.cx_split.{tp}",
                              f"names no touchpoint of journey '{journey.name}'")


def available_memory() -> int | None:
    """Bytes of memory the system can give a new process now (Linux), or None if unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(size: int) -> None:
    """Refuse a market that cannot fit in memory before anything is allocated."""
    available = available_memory()
    needed = BASELINE_BYTES + size * BYTES_PER_CLIENT
    if available is not None and needed > available:
        raise ConfigError("market.size", f"needs about {needed / 2**30:.1f} GiB of memory "
                          f"({BYTES_PER_CLIENT:,} bytes per client), more than the "
                          f"{available / 2**30:.1f} GiB available", size)
