"""A what-if as the studio page holds it: a setting both scenarios share, and B's changes.

Everything here is cxsim's own override syntax, so the page, its URL, the
``cxsim-compare`` command it offers and the comparison it runs are one and
the same what-if. The levers' choices and bounds come from the config's own
presets and declared bounds (``cxsim.config``), never from a second copy.
"""

from __future__ import annotations

import functools
import hashlib
import shlex
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
    firm_labels,
    group_options,
    to_config,
)
from cxsim.errors import ConfigError
from cxsim.files import atomic_write
from cxsim.model.journey import load_journey
from cxsim.report.comparison import compare_command
from cxsim.validate import validate

__all__ = ["CHOICES", "EVENTS", "LEVER_WORDS", "NUMBERS", "OUT", "SEGMENT_LEVERS", "UPLOADS",
           "Event", "Setting", "WhatIf", "firm_names", "firms", "lever_bounds", "levers_of",
           "market_names", "preset_levers", "save_journey", "segments"]

CHOICES = {
    "strategy": tuple(group_options("strategy")),
    "funding": tuple(group_options("funding")),
    "org": tuple(group_options("org")),
    "incentive": tuple(INCENTIVES),
    "survey": tuple(group_options("survey")),
}
"""A firm's levers chosen by name in scenarios A and B, with their options."""
NUMBERS = ("budget_share", "listening", "execution", "price_level")
"""A firm's levers set by number in scenarios A and B (bounds: :func:`lever_bounds`)."""
SEGMENT_LEVERS = ("mean_days_between_needs", "social_influence", "identifiability")
"""The three levers of a segment that decide who wins (seed 001's rule and its exception)."""
EVENTS = ("shock", "workshop")
"""What a scenario may add: a revenue shock to the market (its months and order-value factor
set on the page) or a front-line workshop (seed 003) with ``EventConfig``'s own effects."""
UPLOADS = Path("studio-journeys")
"""Where the page keeps uploaded journeys (under the folder it was started in), each named by
its content's hash: the command it offers points there."""
OUT = '"$(mktemp -d)"'
"""Where the offered command writes: a new temporary folder (POSIX shells), not the folder
the studio was started in."""
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


LEVER_WORDS = {"strategy": "strategy", "funding": "funding", "org": "org chart",
               "incentive": "front line paid on", "budget_share": "budget, share of revenue",
               "listening": "listening", "execution": "execution",
               "price_level": "price level", "survey": "how it measures its NPS"}
"""A firm's levers as the page names them (their meanings: the config's declarations)."""


@functools.cache
def firms() -> tuple[str, ...]:
    """The firms of the default scenario (the duel), in config order."""
    return tuple(to_config(compose()).firms)


@functools.cache
def firm_names() -> dict[str, str]:
    """The default scenario's firms by their display names (:func:`cxsim.config.firm_labels`)."""
    return firm_labels(to_config(compose()).firms)


@functools.lru_cache(maxsize=64)
def levers_of(overrides: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """Each firm's levers of :data:`CHOICES` and :data:`NUMBERS` as the presets resolve
    them under *overrides* (a page asks at every change: cached; do not modify)."""
    cfg = to_config(compose(list(overrides)))
    return {name: {lever: getattr(firm, lever) for lever in (*CHOICES, *NUMBERS)}
            for name, firm in cfg.firms.items()}


@functools.cache
def market_names() -> dict[str, str]:
    """The market presets as a menu shows them: by their names, the preset's key after
    (two presets may share a name), to their keys."""
    names = {}
    for key in group_options("market"):
        label = to_config(compose([f"market={key}"])).market.label
        names[f"{label[:1].upper()}{label[1:]} ({key})"] = key
    return names


def preset_levers() -> dict[str, dict[str, object]]:
    """Each firm's levers as the default scenario's presets set them: scenario A's start."""
    return levers_of(())


@functools.lru_cache(maxsize=32)
def segments(market: str) -> dict[str, dict[str, float]]:
    """Each segment of a market preset and the value of each of its :data:`SEGMENT_LEVERS`
    it sets (a calibrated segment spreads its rate across clients: no one number to move)
    (read once per server: a page reads them at every change; do not modify)."""
    cfg = to_config(compose([f"market={market}"]))
    return {name: {lever: float(getattr(segment, lever)) for lever in SEGMENT_LEVERS
                   if getattr(segment, lever) is not None}
            for name, segment in cfg.market.segments.items()}


@dataclass(frozen=True)
class Event:
    """A revenue shock or a front-line workshop in one scenario: from *start_month*
    (0-based, as ``events.*.start_month``), a shock for *months* months multiplying order
    values by *size*; a workshop at *firm* (None: every firm)."""

    kind: str
    start_month: int
    months: int = EventConfig.months
    size: float = EventConfig.order_value_factor
    firm: str | None = None

    def overrides(self, scenario: str) -> list[str]:
        key = f"+events.{scenario}_{self.kind}"
        out = [f"{key}.kind={self.kind}", f"{key}.start_month={self.start_month}"]
        if self.kind == "shock":
            out += [f"{key}.months={self.months}", f"{key}.order_value_factor={self.size:g}"]
        elif self.firm is not None:
            out.append(f"{key}.firm={self.firm}")
        return out


def _firm_overrides(changes: dict[str, dict[str, object]], skip=frozenset()) -> list[str]:
    out = []
    for firm, levers in changes.items():
        for lever, value in levers.items():
            if (firm, lever) not in skip:
                text = f"{value:g}" if isinstance(value, float) else str(value)
                out.append(f"firms.{firm}.{lever}={text}")
    return out


@dataclass
class WhatIf:
    """A setting; what scenario B changes (``changes[firm][lever] = value``) and an optional
    event in B; what scenario A changes from the presets (``a``) and an event in A.

    B starts as A: a lever A sets and B leaves is common to both (``--common``); a lever
    both set is A's in ``--a`` and B's in ``--b``.
    """

    setting: Setting = field(default_factory=Setting)
    changes: dict[str, dict[str, object]] = field(default_factory=dict)
    event: Event | None = None
    a: dict[str, dict[str, object]] = field(default_factory=dict)
    a_event: Event | None = None

    def _both(self) -> frozenset:
        return frozenset((f, lever) for f, levers in self.changes.items() for lever in levers)

    def common_overrides(self) -> list[str]:
        """The setting, and what A sets that B leaves as in A."""
        return self.setting.overrides() + _firm_overrides(self.a, self._both())

    def a_overrides(self) -> list[str]:
        """What only A sets: its levers B changes again, and its event."""
        both = self._both()
        out = _firm_overrides({f: {k: v for k, v in levers.items() if (f, k) in both}
                               for f, levers in self.a.items()})
        return out + (self.a_event.overrides("a") if self.a_event else [])

    def b_overrides(self) -> list[str]:
        """What B changes: its levers and its event."""
        return _firm_overrides(self.changes) + (self.event.overrides("b") if self.event
                                                 else [])

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
        common = self.common_overrides()
        a = self.scenario(common + self.a_overrides(), journey_dir)
        b = self.scenario(common + self.b_overrides(), journey_dir)
        replications = self.setting.replications
        if isinstance(replications, bool) or not isinstance(replications, int) or not (
                2 <= replications <= 1000):
            raise ConfigError("replications", "must be an integer in [2, 1000] (a paired CI "
                              "needs two pairs)", replications)
        return a, b

    def command(self, workers: int = 2, program: str = "cxsim-compare",
                out: str = OUT) -> str:
        """The ``cxsim-compare`` command line that runs this comparison exactly.

        *program* is how to call the command (its path, where the shell may not find it;
        shell-quoted here); *out* is shell text written as given (by default a new
        temporary folder, which the command names as it ends)."""
        words = compare_command(self.common_overrides(), self.a_overrides(),
                                self.b_overrides(), self.setting.replications, "--workers",
                                str(workers))
        return f"{shlex.quote(program)}{words.removeprefix('cxsim-compare')} --out {out}"


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
