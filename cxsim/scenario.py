"""The one validation pass: a scenario is checked whole before anything is built.

:func:`validate` types the config, fills presets, checks every value
against the bounds declared beside it and the rules between values
(``cxsim.config``), then loads each firm's journey (``cxsim.journey``,
which checks the map) and checks that the staff and CX money it names fall
on touchpoints of that journey, and reads the cohort if there is one
(``cxsim.cohort``). The ``cxsim`` command runs it on every job
of a sweep before Hydra starts, without building an engine or a network.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from cxsim.cohort import load_cohort
from cxsim.config import Config, FirmConfig, config_dir, to_config
from cxsim.errors import ConfigError
from cxsim.journey import Journey, load_journey

__all__ = ["validate", "check_journey_names", "check_memory", "available_memory"]

BYTES_PER_CLIENT = 1_200  # peak memory per client, network included: make bench, table 3
#   (0.8-1.1 KB per client from 100k to 1M clients), with a margin
BASELINE_BYTES = 300 * 2**20  # imports and fixed costs (table 2's baseline), with a margin


def validate(cfg: Config | DictConfig | dict, journey_dir: Path | None = None) -> Config:
    """The validated :class:`~cxsim.config.Config` of *cfg*; raise :class:`ConfigError`
    naming the key, file or touchpoint and the rule broken."""
    cfg = to_config(cfg)
    check_memory(cfg.market.size)
    folder = journey_dir or config_dir() / "journey"
    for name, firm in cfg.firms.items():
        check_journey_names(name, firm, load_journey(firm.journey, folder))
    load_cohort(cfg)
    return cfg


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
