"""A what-if as the studio page holds it: a setting both scenarios share, and B's changes.

Everything here is cxsim's own override syntax, so the page, its URL, the
``cxsim-compare`` command it offers and the comparison it runs are one and
the same what-if. The levers' choices and bounds come from the config's own
presets and declared bounds (``cxsim.config``), never from a second copy.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from cxsim.config import (
    INCENTIVES,
    Bounds,
    Config,
    FirmConfig,
    MarketConfig,
    SegmentConfig,
    SimConfig,
    bounds_of,
    compose,
    config_dir,
    group_options,
    to_config,
)
from cxsim.errors import ConfigError
from cxsim.scenario import validate

__all__ = ["CHOICES", "NUMBERS", "SEGMENT_LEVERS", "Setting", "WhatIf", "lever_bounds"]

CHOICES = {
    "strategy": tuple(group_options("strategy")),
    "funding": tuple(group_options("funding")),
    "org": tuple(group_options("org")),
    "incentive": tuple(INCENTIVES),
}
"""A firm's levers chosen by name in scenario B, with their options."""
NUMBERS = ("budget_share", "listening", "execution", "price_level")
"""A firm's levers set by number in scenario B (bounds: :func:`lever_bounds`)."""
SEGMENT_LEVERS = ("mean_days_between_needs", "social_influence", "identifiability")
"""The three levers of a segment that decide who wins (seed 001's rule and its exception)."""
LIVE_SIZE = {"clients": 2_000, "years": 3.0, "replications": 10}
"""The page's default size: a first answer in seconds, 10 pairs in about 10 s on 2 cores
(``benchmarks/RESULTS.md``, the studio's rows)."""


def lever_bounds(lever: str) -> Bounds:
    """The declared bounds of a firm's or a segment's numeric lever, or of a size."""
    for section in (FirmConfig, SegmentConfig, MarketConfig, SimConfig):
        bounds = bounds_of(section, lever)
        if bounds is not None:
            return bounds
    raise KeyError(lever)


@dataclass
class Setting:
    """What both scenarios share: the market preset and its segments' levers, the journey,
    the size and the number of paired replications."""

    market: str = "recurring_b2b"
    segments: dict[str, dict[str, float]] = field(default_factory=dict)  # changed levers only
    journey: str | None = None  # a shipped journey or a file for every firm; None: the preset's
    clients: int = LIVE_SIZE["clients"]
    years: float = LIVE_SIZE["years"]
    replications: int = LIVE_SIZE["replications"]

    def overrides(self) -> list[str]:
        out = [f"market={self.market}", f"market.size={self.clients}",
               f"sim.years={self.years:g}"]
        for segment, levers in self.segments.items():
            out += [f"market.segments.{segment}.{k}={v:g}" for k, v in levers.items()]
        if self.journey is not None:
            out += [f"firms.{firm}.journey={self.journey}" for firm in firms()]
        return out


def firms() -> list[str]:
    """The firms of the default scenario (the duel), in config order."""
    return list(to_config(compose()).firms)


def segments(market: str) -> dict[str, dict[str, float]]:
    """Each segment of a market preset and the value of each of its :data:`SEGMENT_LEVERS`."""
    cfg = to_config(compose([f"market={market}"]))
    return {name: {lever: float(getattr(segment, lever)) for lever in SEGMENT_LEVERS}
            for name, segment in cfg.market.segments.items()}


@dataclass
class WhatIf:
    """A setting, and what scenario B changes: ``changes[firm][lever] = value``."""

    setting: Setting = field(default_factory=Setting)
    changes: dict[str, dict[str, object]] = field(default_factory=dict)

    def b_overrides(self) -> list[str]:
        out = []
        for firm, levers in self.changes.items():
            for lever, value in levers.items():
                text = f"{value:g}" if isinstance(value, float) else str(value)
                out.append(f"firms.{firm}.{lever}={text}")
        return out

    def configs(self, journey_dir: Path | None = None) -> tuple[Config, Config]:
        """Both scenarios composed and validated (journeys, staff and names included).

        Raises
        ------
        ConfigError
            Naming the key and the rule broken, as ``cxsim-compare`` would.
        """
        common = self.setting.overrides()
        folder = journey_dir or config_dir() / "journey"
        a = validate(to_config(compose(common)), folder)
        b = validate(to_config(compose(common + self.b_overrides())), folder)
        replications = self.setting.replications
        if isinstance(replications, bool) or not isinstance(replications, int) or not (
                2 <= replications <= 1000):
            raise ConfigError("replications", "must be an integer in [2, 1000] (a paired CI "
                              "needs two pairs)", replications)
        return a, b

    def command(self, workers: int = 2, out: str = "studio-comparison") -> str:
        """The ``cxsim-compare`` command line that runs this comparison exactly."""
        words = ["cxsim-compare", "--common", *self.setting.overrides()]
        if self.changes:
            words += ["--b", *self.b_overrides()]
        words += ["-n", str(self.setting.replications), "--workers", str(workers), "--out", out]
        return shlex.join(words)
