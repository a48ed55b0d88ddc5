"""A what-if as the studio page holds it: a setting both scenarios share, and B's changes.

Everything here is cxsim's own override syntax, so the page, its URL, the
``cxsim-compare`` command it offers and the comparison it runs are one and
the same what-if. The levers' choices and bounds come from the config's own
presets and declared bounds (``cxsim.config``), never from a second copy.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy import stats

from cxsim.config import (
    INCENTIVES,
    Bounds,
    Config,
    DropoutConfig,
    EventConfig,
    FirmConfig,
    MarketConfig,
    PurchaseRateConfig,
    SegmentConfig,
    SimConfig,
    SpendConfig,
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
from cxsim.rules import check_spread
from cxsim.validate import validate

__all__ = ["ANSWERS", "CHOICES", "EVENTS", "FITTED", "LEVER_WORDS", "NUMBERS", "OLD_LINK_KEYS",
           "OUT", "SEGMENT_LEVERS", "UPLOADS", "Event", "Fitted", "Setting", "WhatIf", "firm_names",
           "firms", "fitted_overrides", "fitted_problem", "lever_bounds", "levers_of",
           "market_currency", "market_label", "market_names", "preset_levers", "read_presets",
           "save_journey", "segments", "stop_within", "uploaded_journey_label",
           "uploaded_journey_problem"]

ANSWERS = {
    "everyone": {"detractor": 1.0, "passive": 1.0, "promoter": 1.0},  # survey/finished_walks
    "a third, alike": {"detractor": 0.3, "passive": 0.3, "promoter": 0.3},  # survey/market
    "the pleased more": {"detractor": 0.1, "passive": 0.2, "promoter": 0.3},  # transactional
}
"""Who answers a firm's survey, by name: the chance an asked client answers, by what it would
say (``FirmConfig.response``), as the survey presets set it. Apart from who is asked (the
survey), it says how much of a firm's view of itself is who bothers to answer."""
CUSTOM_ANSWERS = "as configured"
"""What the page shows for a ``response`` none of :data:`ANSWERS` is (not a choice)."""
CHOICES = {
    "strategy": tuple(group_options("strategy")),
    "funding": tuple(group_options("funding")),
    "org": tuple(group_options("org")),
    "incentive": tuple(INCENTIVES),
    "survey": tuple(group_options("survey")),
    "response": tuple(ANSWERS),
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


@dataclass(frozen=True)
class Fitted:
    """A lever of a segment's fitted distribution in a strategist's words: its mean.

    *mean* reads it from the config section named *section*; *keys* gives the section's
    settings that set the mean to a value and keep the spread (the one definition of each
    conversion); *words* is its name on the page and *meaning* its tooltip."""

    section: str
    words: str
    meaning: str
    mean: Callable[[object], float]
    keys: Callable[[object, float], dict[str, float]]
    unit: str = ""  # written after its value: "%"


def _per_year(rate: PurchaseRateConfig) -> float:
    """Purchases per client per year: the mean rate r / α."""
    return rate.r / rate.alpha_years


def _at_per_year(rate: PurchaseRateConfig, per_year: float) -> dict[str, float]:
    """α for a mean rate of *per_year*, r kept (the spread's shape)."""
    return {"alpha_years": rate.r / per_year if per_year != 0 else math.inf}


def _percent(dropout: DropoutConfig) -> float:
    """The chance of stopping after a repeat purchase, in percent: the mean a / (a + b)."""
    return 100.0 * dropout.mean


def _at_percent(dropout: DropoutConfig, percent: float) -> dict[str, float]:
    """a and b for a mean chance of *percent* %, a + b kept (how alike the clients are)."""
    total, chance = dropout.a + dropout.b, percent / 100.0
    return {"a": chance * total, "b": (1.0 - chance) * total}


def _at_spend(spend: SpendConfig, mean: float) -> dict[str, float]:
    """γ for a mean spend per purchase of *mean*, p and q kept."""
    return {"gamma": mean * (spend.q - 1.0) / spend.p}


FITTED = {
    "purchases_per_year": Fitted(
        "purchase_rate", "purchases per client per year",
        "how often the average client buys while still a client (the fitted rate's mean "
        "r / alpha); moving it changes purchase_rate.alpha_years, the spread across clients "
        "(r) is kept", _per_year, _at_per_year),
    "stopping_percent": Fitted(
        "dropout", "chance of stopping after a repeat purchase",
        "the average client's chance, in percent, of leaving for good after each repeat "
        "purchase (the fitted mean a / (a + b)), before the firm's service moves it; moving "
        "it changes dropout.a and dropout.b, keeping a + b", _percent, _at_percent, "%"),
    "spend_per_purchase": Fitted(
        "spend", "spend per purchase",
        "money the average client spends per purchase at price level 1 (the fitted mean "
        "p gamma / (q - 1)); moving it scales spend.gamma, p and q kept",
        lambda s: s.mean, _at_spend),
}
"""The levers of a calibrated segment's fitted distributions, each its mean, by key (a link
of the page before the percent named the chance ``repeat_dropout``, from 0 to 1:
:data:`OLD_LINK_KEYS`)."""
OLD_LINK_KEYS = {"repeat_dropout": ("stopping_percent", 100.0)}
"""A segment lever an older link names, by that name: today's lever and what its value is
multiplied by."""


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

    def overrides(self, skip: frozenset = frozenset()) -> list[str]:
        """The setting as overrides, but the segments' levers in *skip* ((segment, lever)
        pairs: those scenario B sets again, which then are A's own)."""
        out = [f"market={self.market}", f"market.size={self.clients}",
               f"sim.years={self.years:g}"]
        out += self.segment_overrides({segment: {k: v for k, v in levers.items()
                                                 if (segment, k) not in skip}
                                       for segment, levers in self.segments.items()})
        if self.journey is not None:
            out += [f"firms.{firm}.journey={self.journey}" for firm in firms()]
        return out

    def segment_overrides(self, segments: dict[str, dict[str, float]]) -> list[str]:
        """Segment levers (``segments[segment][lever] = value``) in this setting's market as
        its config's own settings: a :data:`FITTED` lever as the settings it moves."""
        out = []
        for segment, levers in segments.items():
            for lever, value in levers.items():
                if lever in FITTED:  # exactly: what the page checks is what runs
                    out += [f"market.segments.{segment}.{k}={float(v)!r}" for k, v in
                            fitted_overrides(self.market, segment, lever, value).items()]
                else:
                    out.append(f"market.segments.{segment}.{lever}={value:g}")
        return out

    def segment_words(self, segments: dict[str, dict[str, float]]) -> dict[str, str]:
        """Each of :meth:`segment_overrides` as a person reads its lever: "the b2b segment's
        purchases per client per year: 3.5" (a fitted lever's two settings say it once)."""
        out = {}
        for segment, levers in segments.items():
            for lever, value in levers.items():
                fitted = FITTED.get(lever)
                name, unit = (fitted.words, fitted.unit) if fitted else (
                    lever.replace("_", " "), "")
                words = f"the {segment} segment's {name}: {value:.3g}{unit}"
                out.update(dict.fromkeys(self.segment_overrides({segment: {lever: value}}),
                                         words))
        return out


LEVER_WORDS = {"strategy": "strategy", "funding": "funding", "org": "org chart",
               "incentive": "front line paid on", "budget_share": "budget, share of revenue",
               "listening": "listening", "execution": "execution",
               "price_level": "price level", "survey": "how it measures its NPS",
               "response": "who answers its survey"}
"""A firm's levers as the page names them (their meanings: the config's declarations)."""


@functools.lru_cache(maxsize=64)
def _scenario(overrides: tuple[str, ...] = ()) -> Config:
    """A scenario as configured under *overrides*: composed once per server (Hydra takes
    about 0.15 s), whichever menu or lever asks (cached; do not modify)."""
    return to_config(compose(list(overrides)))


def firms() -> tuple[str, ...]:
    """The firms of the default scenario (the duel), in config order."""
    return tuple(_scenario().firms)


def firm_names() -> dict[str, str]:
    """The default scenario's firms by their display names (:func:`cxsim.config.firm_labels`)."""
    return firm_labels(_scenario().firms)


@functools.lru_cache(maxsize=64)
def levers_of(overrides: tuple[str, ...]) -> dict[str, dict[str, object]]:
    """Each firm's levers of :data:`CHOICES` and :data:`NUMBERS` as the presets resolve
    them under *overrides* (a page asks at every change: cached; do not modify)."""
    return {name: {lever: _answers_name(firm.response) if lever == "response"
                   else getattr(firm, lever) for lever in (*CHOICES, *NUMBERS)}
            for name, firm in _scenario(overrides).firms.items()}


def _answers_name(response: dict[str, float] | None) -> str:
    """The name in :data:`ANSWERS` of a firm's ``response``."""
    return next((name for name, rates in ANSWERS.items() if rates == response),
                CUSTOM_ANSWERS)


@functools.cache
def market_names() -> dict[str, str]:
    """The market presets as a menu shows them: by their names, the preset's key after
    (two presets may share a name), to their keys."""
    names = {}
    for key in group_options("market"):
        label = market_label(key)
        names[f"{label[:1].upper()}{label[1:]} ({key})"] = key
    return names


def read_presets() -> None:
    """Compose every preset the page's menus and levers start from (about 2 s, once per
    server): the server does it as it starts, so its first page need not."""
    market_names()
    preset_levers()
    for key in group_options("market"):
        segments(key)


def preset_levers() -> dict[str, dict[str, object]]:
    """Each firm's levers as the default scenario's presets set them: scenario A's start."""
    return levers_of(())


def _market_config(market: str) -> MarketConfig:
    """A market preset as configured (do not modify)."""
    return _scenario((f"market={market}",)).market


def _segment_configs(market: str) -> dict[str, SegmentConfig]:
    """A market preset's segments as configured (do not modify)."""
    return dict(_market_config(market).segments)


def market_currency(market: str) -> str:
    """The money symbol of a market preset, as its pages write money."""
    return _market_config(market).currency


def market_label(market: str) -> str:
    """The name of a market preset (a shipped one or a file), as its reports call it."""
    return _market_config(market).label


@functools.lru_cache(maxsize=32)
def segments(market: str) -> dict[str, dict[str, float]]:
    """Each segment of a market preset and the value of each of its :data:`SEGMENT_LEVERS`
    it sets, then of each of the :data:`FITTED` levers its fitted distributions give (a
    calibrated segment spreads its rate across clients: its lever is the rate's mean)
    (read once per server: a page reads them at every change; do not modify)."""
    out = {}
    for name, segment in _segment_configs(market).items():
        levers = {lever: float(getattr(segment, lever)) for lever in SEGMENT_LEVERS
                  if getattr(segment, lever) is not None}
        levers.update({lever: float(fitted.mean(getattr(segment, fitted.section)))
                       for lever, fitted in FITTED.items()
                       if getattr(segment, fitted.section) is not None})
        out[name] = levers
    return out


def fitted_overrides(market: str, segment: str, lever: str, value: float) -> dict[str, float]:
    """The settings of *segment* of *market* (``purchase_rate.alpha_years``...) that give the
    :data:`FITTED` *lever* the mean *value*, its spread kept."""
    fitted = FITTED[lever]
    section = getattr(_segment_configs(market)[segment], fitted.section)
    return {f"{fitted.section}.{key}": x for key, x in fitted.keys(section, value).items()}


def _moved(market: str, segment: str, levers: dict[str, float]) -> SegmentConfig:
    """*segment* of *market* with its :data:`FITTED` *levers* set."""
    seg = _segment_configs(market)[segment]
    for lever, value in levers.items():
        if lever in FITTED:
            fitted = FITTED[lever]
            section = getattr(seg, fitted.section)
            seg = replace(seg, **{fitted.section: replace(section,
                                                         **fitted.keys(section, value))})
    return seg


def fitted_problem(market: str, segment: str, lever: str, value: float) -> str:
    """Why *value* cannot be the :data:`FITTED` *lever* of *segment*: the config's own
    one-line message for the settings it writes ("" if none)."""
    try:
        check_spread(f"market.segments.{segment}", _moved(market, segment, {lever: value}))
    except ConfigError as error:
        return str(error)
    return ""


QUANTILE_NODES = 200


def stop_within(rate: PurchaseRateConfig, dropout: DropoutConfig, years: float = 1.0) -> float:
    """The share of a segment's clients who stop within *years* of joining, at the fitted
    purchase rate and dropout, by the BG/NBD's rule (a client may stop only after a repeat
    purchase), before the firm's service moves anyone's chance.

    A client buying at rate λ a year who stops after each repeat purchase with chance p
    stops within t years with probability 1 − exp(−λ p t): its stopping purchases are a
    Poisson process of rate λ p. Over λ ~ Gamma(r, α) this is exactly 1 − (α / (α + p t))^r;
    over p ~ Beta(a, b) it is averaged numerically, by Gauss–Legendre quadrature on the
    Beta's quantiles (200 nodes; within 1e-6 of adaptive quadrature on cdnow's fit). The
    mean client's 1 − (1 − p̄)^(λ̄ t) is not this: it ignores how much clients differ.
    """
    nodes, weights = np.polynomial.legendre.leggauss(QUANTILE_NODES)
    p = stats.beta.ppf((nodes + 1.0) / 2.0, dropout.a, dropout.b)
    alpha = rate.alpha_years
    stay = np.sum(weights / 2.0 * (alpha / (alpha + p * years)) ** rate.r)
    return float(min(max(1.0 - stay, 0.0), 1.0))


def stopping(market: str, segment: str, levers: dict[str, float]) -> float | None:
    """:func:`stop_within` a year for *segment* of *market* with its :data:`FITTED` *levers*
    set (None where it has no fitted purchase rate and dropout, or a value is invalid)."""
    try:
        seg = _moved(market, segment, levers)
        check_spread(f"market.segments.{segment}", seg)
    except (ConfigError, ZeroDivisionError):
        return None
    if seg.purchase_rate is None or seg.dropout is None:
        return None
    return stop_within(seg.purchase_rate, seg.dropout)


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
                if lever == "response":
                    text = "{" + ",".join(f"{k}:{v!r}" for k, v in ANSWERS[value].items()) + "}"
                out.append(f"firms.{firm}.{lever}={text}")
    return out


@dataclass
class WhatIf:
    """A setting; what scenario B changes (``changes[firm][lever] = value``), an optional
    event in B and B's own values of the segments' levers (``segments[segment][lever]``);
    what scenario A changes from the presets (``a``) and an event in A.

    B starts as A: a lever A sets and B leaves is common to both (``--common``); a lever
    both set is A's in ``--a`` and B's in ``--b`` (a segment's lever too, A's value being
    the setting's).
    """

    setting: Setting = field(default_factory=Setting)
    changes: dict[str, dict[str, object]] = field(default_factory=dict)
    event: Event | None = None
    a: dict[str, dict[str, object]] = field(default_factory=dict)
    a_event: Event | None = None
    segments: dict[str, dict[str, float]] = field(default_factory=dict)

    def _both(self) -> frozenset:
        return frozenset((f, lever) for f, levers in self.changes.items() for lever in levers)

    def _both_segments(self) -> frozenset:
        return frozenset((s, lever) for s, levers in self.segments.items() for lever in levers)

    def common_overrides(self) -> list[str]:
        """The setting, and what A sets that B leaves as in A."""
        return (self.setting.overrides(self._both_segments())
                + _firm_overrides(self.a, self._both()))

    def a_overrides(self) -> list[str]:
        """What only A sets: its levers B changes again, and its event."""
        both, again = self._both(), self._both_segments()
        out = _firm_overrides({f: {k: v for k, v in levers.items() if (f, k) in both}
                               for f, levers in self.a.items()})
        out += self.setting.segment_overrides({
            s: {k: v for k, v in levers.items() if (s, k) in again}
            for s, levers in self.setting.segments.items()})
        return out + (self.a_event.overrides("a") if self.a_event else [])

    def words(self) -> dict[str, str]:
        """The segments' levers and who answers a firm's survey, in A and B, as the page
        names them, by override (what :func:`cxsim.report.comparison.in_words` cannot say: it
        knows no fitted lever, and a survey's response is a mapping)."""
        names = firm_names()
        answers = {override: f"{names.get(firm, firm)}'s survey answered by: {levers['response']}"
                   for changes in (self.a, self.changes) for firm, levers in changes.items()
                   if "response" in levers
                   for override in _firm_overrides({firm: {"response": levers["response"]}})}
        return {**answers, **self.setting.segment_words(self.setting.segments),
                **self.setting.segment_words(self.segments)}

    def b_overrides(self) -> list[str]:
        """What B changes: its levers, its segments' and its event."""
        return (_firm_overrides(self.changes) + self.setting.segment_overrides(self.segments)
                + (self.event.overrides("b") if self.event else []))

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


def uploaded_journey_problem(journey: str) -> str:
    """Why *journey* cannot be used as an uploaded journey ('' if it can): it must be one this
    studio kept in :data:`UPLOADS` (:func:`save_journey`'s name, by its content's hash) and be
    there still. A link or a kept what-if names it: never any other path."""
    if not re.fullmatch(rf"{re.escape(UPLOADS.as_posix())}/journey-[0-9a-f]{{12}}\.yaml",
                        journey):
        return "is not one this page uploaded"
    if not Path(journey).is_file():
        return "is no longer in this folder"
    return ""


@functools.lru_cache(maxsize=64)
def uploaded_journey_label(journey: str) -> str:
    """An uploaded or discovered journey as the journey menu names it: its own name, then
    "uploaded here" and the start of its file's hash (its file is named by its content, so
    the label never changes; read once per server)."""
    try:
        name = load_journey(journey, config_dir() / "journey").name
    except ConfigError:  # changed by hand since: a run on it says why, beside Run
        name = "a journey"
    return f"{name} (uploaded here, {Path(journey).stem[8:14]})"


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
