"""A what-if as the studio page holds it: a setting both scenarios share, and B's changes.

Everything here is cxsim's own override syntax, so the page, its URL, the
``cxsim-compare`` command it offers and the comparison it runs are one and
the same what-if. The levers' choices and bounds come from the config's own
presets and declared bounds (``cxsim.config``), never from a second copy.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cxsim.config import (
    INCENTIVES,
    Bounds,
    Config,
    EventConfig,
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
from cxsim.files import atomic_write
from cxsim.journey import load_journey
from cxsim.report.comparison import compare_command
from cxsim.scenario import validate

__all__ = ["CHOICES", "EVENTS", "NUMBERS", "SEGMENT_LEVERS", "UPLOADS", "Setting", "WhatIf",
           "lever_bounds", "save_journey"]

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
EVENTS = ("shock", "workshop")
"""What scenario B may add: a revenue shock to the market, or a front-line workshop (seed 003),
with the event's own defaults (``configs``: ``EventConfig``) from the month chosen."""
UPLOADS = Path("studio-journeys")
"""Where the page keeps uploaded journeys (under the folder it was started in), each named by
its content's hash: the command it offers points there."""
MAX_UPLOAD = 1_000_000  # bytes; the shipped journeys are about 3 KB
LIVE_SIZE = {"clients": 2_000, "years": 2.0, "replications": 10}
"""The page's default size: a first answer within 5 s of Run and 10 pairs within 20 s on 2
cores (``benchmarks/RESULTS.md`` table 10; at 3 years the first answer took 5.3-5.8 s).
The trainer's story runs at least ``make demo``'s 5 years: the crossover needs them."""


def lever_bounds(lever: str) -> Bounds:
    """The declared bounds of a firm's or a segment's numeric lever, or of a size."""
    for section in (FirmConfig, SegmentConfig, MarketConfig, SimConfig, EventConfig):
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


@functools.cache
def firms() -> tuple[str, ...]:
    """The firms of the default scenario (the duel), in config order."""
    return tuple(to_config(compose()).firms)


@functools.lru_cache(maxsize=32)
def segments(market: str) -> dict[str, dict[str, float]]:
    """Each segment of a market preset and the value of each of its :data:`SEGMENT_LEVERS`
    it sets (a calibrated segment spreads its rate across clients: no one number to move)
    (read once per server: a page reads them at every change; do not modify)."""
    cfg = to_config(compose([f"market={market}"]))
    return {name: {lever: float(getattr(segment, lever)) for lever in SEGMENT_LEVERS
                   if getattr(segment, lever) is not None}
            for name, segment in cfg.market.segments.items()}


@dataclass
class WhatIf:
    """A setting, and what scenario B changes: ``changes[firm][lever] = value``, and an
    optional event ``(kind, start month, firm or None)``."""

    setting: Setting = field(default_factory=Setting)
    changes: dict[str, dict[str, object]] = field(default_factory=dict)
    event: tuple[str, int, str | None] | None = None

    def b_overrides(self) -> list[str]:
        out = []
        for firm, levers in self.changes.items():
            for lever, value in levers.items():
                text = f"{value:g}" if isinstance(value, float) else str(value)
                out.append(f"firms.{firm}.{lever}={text}")
        if self.event is not None:
            kind, month, firm = self.event
            out += [f"+events.b_{kind}.kind={kind}", f"+events.b_{kind}.start_month={month}"]
            if kind == "workshop" and firm is not None:
                out.append(f"+events.b_{kind}.firm={firm}")
        return out

    @staticmethod
    def scenario(overrides: list[str], journey_dir: Path | None = None) -> Config:
        """One scenario composed from *overrides* and validated (journeys included)."""
        return validate(to_config(compose(overrides)), journey_dir or config_dir() / "journey")

    def configs(self, journey_dir: Path | None = None) -> tuple[Config, Config]:
        """Both scenarios composed and validated (journeys, staff and names included).

        Raises
        ------
        ConfigError
            Naming the key and the rule broken, as ``cxsim-compare`` would.
        """
        common = self.setting.overrides()
        a = self.scenario(common, journey_dir)
        b = self.scenario(common + self.b_overrides(), journey_dir)
        replications = self.setting.replications
        if isinstance(replications, bool) or not isinstance(replications, int) or not (
                2 <= replications <= 1000):
            raise ConfigError("replications", "must be an integer in [2, 1000] (a paired CI "
                              "needs two pairs)", replications)
        return a, b

    def command(self, workers: int = 2, out: str = "studio-comparison") -> str:
        """The ``cxsim-compare`` command line that runs this comparison exactly."""
        return compare_command(self.setting.overrides(), [], self.b_overrides(),
                               self.setting.replications, "--workers", str(workers), "--out",
                               out)


def save_journey(data: bytes, folder: Path = UPLOADS) -> Path:
    """Keep an uploaded YAML journey if it is a valid one; return where it is.

    Parsed as data only (YAML's safe loader, no tags), validated like any
    journey, and written under *folder* with a name made from its content's
    hash, never from the uploader's file name.

    Raises
    ------
    ConfigError
        Naming the rule the upload breaks (nothing is kept).
    """
    if len(data) > MAX_UPLOAD:
        raise ConfigError("uploaded journey", f"must be at most {MAX_UPLOAD:,} bytes", len(data))
    path = folder / f"journey-{hashlib.sha256(data).hexdigest()[:12]}.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
    try:
        load_journey(str(path), config_dir() / "journey")
    except ConfigError:
        path.unlink(missing_ok=True)
        raise
    return path
