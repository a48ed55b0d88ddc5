"""The one validation pass: a scenario is checked whole before anything is built.

:func:`validate` types the config, fills presets, checks every value
against the bounds declared beside it and the rules between values
(``cxsim.config``), then loads each firm's journey (``cxsim.journey``,
which checks the map) and checks that the staff and CX money it names fall
on touchpoints of that journey. The ``cxsim`` command runs it on every job
of a sweep before Hydra starts, without building an engine or a network.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from cxsim.config import Config, FirmConfig, config_dir, to_config
from cxsim.errors import ConfigError
from cxsim.journey import Journey, load_journey

__all__ = ["validate", "check_journey_names"]


def validate(cfg: Config | DictConfig | dict, journey_dir: Path | None = None) -> Config:
    """The validated :class:`~cxsim.config.Config` of *cfg*; raise :class:`ConfigError`
    naming the key, file or touchpoint and the rule broken."""
    cfg = to_config(cfg)
    folder = journey_dir or config_dir() / "journey"
    for name, firm in cfg.firms.items():
        check_journey_names(name, firm, load_journey(firm.journey, folder))
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
