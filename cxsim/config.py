"""Configuration: dataclasses registered with Hydra's ConfigStore, and their validation.

Units are fixed: time in days (``sim.years`` and ``sim.warmup_years`` in years),
money per purchase, rates per year where the key says ``_per_year``,
probabilities and shares in [0, 1]. The YAML files in ``configs/`` mirror
these defaults group by group; every default names its source or reason.
Values are checked once, by :func:`validate`, before a run starts.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, OmegaConf

from cxsim.errors import ConfigError
from cxsim.network import NetworkConfig, validate_network

__all__ = [
    "SegmentConfig",
    "MarketConfig",
    "FirmConfig",
    "PsychologyConfig",
    "SimConfig",
    "ManagementConfig",
    "EventConfig",
    "ExperimentConfig",
    "Config",
    "DAYS_PER_YEAR",
    "NEEDS",
    "METRICS",
    "INCENTIVES",
    "PRESET_GROUPS",
    "register_configs",
    "to_config",
    "validate",
    "config_hash",
    "as_plain",
    "config_dir",
    "compose",
    "apply_presets",
    "preset_names",
]


@dataclass
class SegmentConfig:
    """A group of clients who want and behave alike."""

    share: float = 1.0  # share of the market's clients; one segment by default
    mean_days_between_needs: float = 45.0  # days; a B2B account needs something ~8x a year
    order_value: float = 100.0  # money per purchase at price level 1; a unit, scale freely
    margin: float = 0.3  # share of the order value kept; typical services gross margin
    emotional_weight: float = 0.8  # seed 000: "as much as 80% of the decision" is emotional
    switching_cost: float = 0.5  # churn-logit units; seed 002: switching is costly for clients
    initial_expectation: float = 0.65  # quality in [0, 1] a new client expects; near base quality
    social_influence: float = 1.0  # messages a promoter passes on per journey; seed 001 "influence"
    identifiability: float = 0.8  # seed 001: can the firm recognise and personalise for them
    needs: dict[str, float] = field(default_factory=lambda: {
        "price": 0.3, "speed": 0.2, "assortment": 0.2, "relationship": 0.3,
    })  # seed 001 "what core clients always want"; weights summing to 1


@dataclass
class MarketConfig:
    """Who the clients are and how they respond to a firm's acquisition spend."""

    size: int = 10_000  # clients; small enough for a demo in seconds
    segments: dict[str, SegmentConfig] = field(default_factory=lambda: {"core": SegmentConfig()})
    organic_acquisition_per_year: float = 0.05  # per prospect; word of mouth and search, no spend
    max_paid_acquisition_per_year: float = 1.0  # per prospect; at saturation paid contacts reach
    # a prospect about once a year, so spend, not word of mouth, leads the first year
    acquisition_spend_scale: float = 100.0  # money per prospect per year for 63% of the max;
    # about what a balanced firm's default budget spends, so spend still matters at the margin
    return_per_year: float = 0.5  # a client who left the category is a prospect again in ~2 years
    first_need_at_acquisition: bool = True  # an acquired client buys at once (first purchase)
    warning_ratio: float = 2.0  # detractors tell ~2x as many as promoters; TARP (1986)
    referral_conversion: float = 0.1  # chance one recommendation turns a prospect into a client
    message_attitude_shift: float = 0.1  # attitude moved by one message heard
    choice_sharpness: float = 5.0  # logit scale of the choice between firms; chosen, not fitted
    sales_pressure_revenue_gain: float = 0.1  # order value added at full sales pressure; upsell
    contact_salience: float = 0.3  # utility of being the firm whose sales contact prompts a choice


DAYS_PER_YEAR = 365.25
"""Julian year: every ``_per_year`` key is converted to days with it."""
NEEDS = ("price", "speed", "assortment", "relationship")
"""What a segment's clients always want (seed 001); the offer's attributes match them."""
METRICS = {"sales": 0.0, "nps": 0.8, "clv": 1.0}
"""KPIs management can steer by, with their client orientation (culture's target)."""
INCENTIVES = {"transactions": 0.0, "measured_nps": 0.6, "clv": 1.0}
"""What the front line can be paid on, with their client orientation."""
PRESET_GROUPS = ("strategy", "funding", "org")
"""Firm presets: YAML files ``configs/<group>/<name>.yaml`` filling a firm's unset levers."""


@dataclass
class FirmConfig:
    """One firm: its journey map, prices, budgets, levers and front line.

    A lever left unset (``None``) takes its value from the firm's presets:
    ``strategy`` (the six levers of seed 001, execution, the front line),
    ``funding`` (budget size and alignment, seed 000) and ``org`` (seed 001's
    org chart). Any single lever can still be set directly.
    """

    journey: str = "professional_services"  # shipped journey name or a YAML/GraphML path
    strategy: str = "balanced"  # preset in configs/strategy/
    funding: str = "aligned"  # preset in configs/funding/
    org: str | None = None  # preset in configs/org/; unset: the strategy preset's org
    price_level: float = 1.0  # multiplies the segment's order value
    initial_share: float = 0.3  # share of the market already its clients at day 0
    onboarding_cost: float = 50.0  # money per new client; seed 002: costly for the provider
    growth_target: float = 0.05  # sales target: last year's quarter x (1 + this)
    scale_staff: bool = True  # scale journey staff by market.size / reference_clients
    staff: dict[str, int] = field(default_factory=dict)  # absolute staff per touchpoint
    cx_split: dict[str, float] = field(default_factory=dict)  # day-0 CX money per touchpoint,
    #   as weights; empty: money follows expected visits (no touchpoint favoured)
    # levers from the strategy preset
    communication: float | None = None  # clarity and cadence of the client message, [0, 1]
    metric: str | None = None  # what management steers by: sales, nps or clv
    incentive: str | None = None  # what the front line is paid on: transactions, measured_nps, clv
    incentive_granularity: float | None = None  # 1: on the employee's own clients; seed 001
    acquisition_share: float | None = None  # declared share of the budget for acquisition
    sales_pressure: float | None = None  # push at staffed touchpoints: revenue now, worse feelings
    offer: dict[str, float] | None = None  # speed, assortment, relationship levels in [0, 1]
    reallocation: float | None = None  # CX money moved to the worst touchpoints per quarter
    execution: float | None = None  # seed 000: share of the strategy's gap closed per year
    will: float | None = None  # seed 003: front line's ownership of the strategy at day 0
    power: float | None = None  # seed 003: tools and autonomy; chance a failure is recovered
    being: float | None = None  # seed 003: feeling valued at day 0
    listening: float | None = None  # seed 004: share of clients the firm hears, [0, 1]
    # from the funding preset
    budget_share: float | None = None  # acquisition + CX budget as a share of revenue
    alignment: float | None = None  # 1: budget split as the strategy declares; seed 000
    # from the org preset
    cx_floor: float | None = None  # CX budget kept at least this share of last year's mean
    org_culture: float | None = None  # client orientation the org chart gives culture, [0, 1]


@dataclass
class PsychologyConfig:
    """Parameters of the client's equations in ``cxsim.psychology``."""

    emotions: bool = True  # false: churn is the constant base_churn (validation tests)
    loss_aversion: float = 2.25  # Tversky & Kahneman (1992)
    affect_sensitivity: float = 3.0  # a 0.2 shortfall feels like -0.87; chosen for spread
    affect_level_weight: float = 0.5  # weight of quality itself; Anderson & Sullivan (1993)
    reference_quality: float = 0.5  # quality that feels neutral once expected; scale midpoint
    perception_noise_sd: float = 0.08  # quality units; visit-to-visit variation
    funding_gain: float = 0.1  # quality added at full CX funding
    wait_penalty: float = 0.3  # quality lost to a long wait; Maister (1985)
    wait_tolerance_days: float = 0.02  # about 30 minutes before a wait really hurts
    failure_penalty: float = 0.4  # quality lost when a visit fails
    recovery_share: float = 0.6  # share of it a recovery wins back; Matos et al. (2007)
    kano_strong: float = 1.5  # weight of a hygiene shortfall / delighter excess; Kano (1984)
    kano_weak: float = 0.4  # weight of hygiene excess / delighter shortfall; Kano (1984)
    expectation_rate: float = 0.2  # drift of expectation toward experience; Helson (1964)
    initial_trust: float = 0.5  # a new client's trust; neutral
    trust_gain: float = 0.1  # trust gained per good journey; Slovic (1993): slow to build
    trust_loss: float = 0.4  # trust lost per bad journey; Slovic (1993): quick to lose
    attitude_rate: float = 0.3  # weight of the latest journey in attitude
    nps_neutral: float = 7.5  # answer of a neutral client: a passive; Reichheld (2003)
    nps_slope: float = 5.0  # answer points per unit of latent satisfaction
    nps_noise_sd: float = 1.0  # answer points; survey noise
    base_churn: float = 0.05  # per purchase for a neutral client; ~30% a year at 8 needs
    churn_memory_weight: float = 1.5  # churn-logit per unit of remembered affect
    churn_trust_weight: float = 2.0  # churn-logit per unit of trust
    personal_gain: float = 0.1  # quality added by a relationship offer to a recognised client
    frontline_gain: float = 0.2  # quality per unit of front-line will and skill above 0.5
    pressure_quality_cost: float = 0.1  # quality lost at a staffed visit at full sales pressure


@dataclass
class SimConfig:
    """Horizon, discounting and output options."""

    years: float = 5.0  # horizon; long enough for relationships to show
    warmup_years: float = 0.0  # statistics leave out this start-up period
    discount_rate: float = 0.1  # per year, continuous; a typical cost of capital
    days_per_month: float = 30.4375  # 365.25 / 12: the metric sampling period
    record_journeys: bool = False  # keep one row per journey in Results.journeys


@dataclass
class ManagementConfig:
    """The quarterly review and the front line's dynamics, shared by all firms."""

    review: bool = True  # false: budgets and front line stay as at day 0 (validation tests)
    funding_half_share: float = 0.05  # CX spend / revenue giving half the funding effect
    misaligned_cx_share: float = 0.2  # CX share of an unaligned budget: where money always went
    split_reversion: float = 0.5  # per quarter, budget split drifts back to the declared one
    cut_sensitivity: float = 2.0  # share of CX moved to acquisition per unit of sales shortfall
    max_cut: float = 0.5  # at most this share of the CX budget moved in one quarter
    kpi_steer: float = 0.05  # budget share moved to CX when an NPS/CLV firm's KPI falls
    culture_lag_quarters: float = 4.0  # seed 001: culture follows the other levers, slowly
    initial_culture: float = 0.5  # every firm starts from the same history
    initial_capability: float = 0.5  # touchpoints as built at day 0: the funding level of 5%
    initial_pressure: float = 0.25  # sales pressure at day 0: the balanced preset's
    initial_speed: float = 0.6  # speed delivered at day 0: the balanced preset's
    initial_assortment: float = 0.55  # assortment delivered at day 0: the balanced preset's
    initial_relationship: float = 0.5  # relationship delivered at day 0: the balanced preset's
    initial_power: float = 0.5  # recovery chance at day 0: the balanced preset's
    nps_coaching: float = 0.5  # chance a front line paid on measured NPS lifts an answer
    survey_floor: float = 0.1  # share of clients heard with no listening at all
    incentive_motivation: float = 0.2  # will added by granular client incentives (SMART "A")
    base_turnover: float = 0.05  # staff leaving per quarter when fully valued
    turnover_sensitivity: float = 0.15  # extra turnover per quarter at being 0; seed 003
    new_hire_skill: float = 0.3  # skill of a newcomer: staff who leave take their skill
    learning_rate: float = 0.1  # skill gap closed per quarter on the job
    initial_skill: float = 0.6  # near the steady state at being 0.5
    being_rate: float = 0.5  # being's gap to its target closed per quarter


@dataclass
class EventConfig:
    """A scheduled event: a revenue ``shock`` or a front-line ``workshop`` (seed 003)."""

    kind: str = "shock"  # shock or workshop
    start_month: int = 12  # first month it acts, 0-based
    months: int = 6  # how long a shock lasts
    order_value_factor: float = 0.7  # shock: multiplies order values
    need_rate_factor: float = 0.8  # shock: multiplies how often needs arise
    firm: str | None = None  # workshop: which firm (unset: all)
    will: float = 0.2  # workshop: added to will
    power: float = 0.1  # workshop: added to power
    being: float = 0.2  # workshop: added to being


@dataclass
class ExperimentConfig:
    """How a job of the ``cxsim`` command runs its scenario (``docs/scaling.md``)."""

    replications: int = 1  # replication i on SeedSequence(seed, spawn_key=(i,)), as replicate()
    report: bool | None = None  # report.html in the run's folder; unset: yes, but not per
    #   job of a -m sweep (thousands of Morris jobs would each pay for one)


@dataclass
class Config:
    """A whole scenario: the market, its firms, the client model and the run."""

    seed: int = 0  # root of all random streams
    market: MarketConfig = field(default_factory=MarketConfig)
    firms: dict[str, FirmConfig] = field(default_factory=lambda: {"acme": FirmConfig()})
    network: NetworkConfig = field(default_factory=NetworkConfig)
    psychology: PsychologyConfig = field(default_factory=PsychologyConfig)
    management: ManagementConfig = field(default_factory=ManagementConfig)
    events: dict[str, EventConfig] = field(default_factory=dict)
    sim: SimConfig = field(default_factory=SimConfig)
    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)


@dataclass
class _OpenMarket(MarketConfig):
    segments: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Schema(Config):
    """What Hydra composes: ``Config`` with open ``market.segments`` and ``firms``.

    Hydra's ``+`` cannot create an entry in a mapping of dataclasses, so a new
    segment or firm (``+firms.beta.journey=subscription``) is composed as a
    plain mapping and typed and checked by :func:`to_config`.
    """

    market: _OpenMarket = field(default_factory=_OpenMarket)
    firms: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Any] = field(default_factory=dict)


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore as ``cxsim_schema``."""
    ConfigStore.instance().store(name="cxsim_schema", node=_Schema)


def to_config(cfg: Config | DictConfig | dict) -> Config:
    """Turn a composed config into validated dataclasses."""
    if not isinstance(cfg, Config):
        try:
            base = OmegaConf.structured(Config)
            base.firms, base.events, base.market.segments = {}, {}, {}  # mappings: no union
            merged = OmegaConf.merge(base, cfg)
            cfg = OmegaConf.to_object(merged)
        except Exception as exc:  # omegaconf raises several types
            reason = _omegaconf_reason(exc)
            raise ConfigError(_omegaconf_key(exc), f"is invalid: {reason}") from None
    apply_presets(cfg)
    validate(cfg)
    return cfg


_LEVERS = {f.name for f in fields(FirmConfig)} - {
    "journey", "strategy", "funding", "org", "price_level", "initial_share", "onboarding_cost",
    "growth_target", "scale_staff", "staff", "cx_split"}


def preset_names(group: str) -> list[str]:
    """Names of the shipped presets of *group* (``strategy``, ``funding`` or ``org``)."""
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml"))


def _load_preset(firm_name: str, group: str, name: Any) -> dict[str, Any]:
    import yaml

    key = f"firms.{firm_name}.{group}"
    _name(key, name)
    path = config_dir() / group / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(key, f"names no {group} preset (available: "
                          f"{', '.join(preset_names(group))})", name)
    values = yaml.safe_load(path.read_text()) or {}
    allowed = _LEVERS | ({"org"} if group == "strategy" else set())
    for lever in values:
        if lever not in allowed:
            raise ConfigError(f"preset file {group}/{name}.yaml", f"sets '{lever}', which is "
                              "not a firm lever")
    return values


def apply_presets(cfg: Config) -> None:
    """Fill every firm's unset levers from its strategy, funding and org presets.

    A lever set on the firm wins over any preset; the org preset is the one
    the firm names, or else the one its strategy names.
    """
    for name, firm in cfg.firms.items():
        strategy = _load_preset(name, "strategy", firm.strategy)
        if firm.org is None:
            firm.org = strategy.pop("org", "no_cco")
        else:
            strategy.pop("org", None)
        values = {**strategy, **_load_preset(name, "funding", firm.funding),
                  **_load_preset(name, "org", firm.org)}
        for lever, value in values.items():
            if getattr(firm, lever) is None:
                setattr(firm, lever, dict(value) if isinstance(value, dict) else value)


def _omegaconf_key(exc: Exception) -> str:
    key = getattr(exc, "full_key", None)
    return f"config key '{key}'" if key else "config"


def _omegaconf_reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text


def _number(key: str, value: Any, low: float | None = None, high: float | None = None,
            low_open: bool = False, high_open: bool = False, integer: bool = False) -> None:
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"must be {kind}", value)
    if integer and not isinstance(value, int):
        raise ConfigError(key, "must be an integer", value)
    if not math.isfinite(value):
        raise ConfigError(key, "must be finite", value)
    lo = "(" if low_open else "["
    hi = ")" if high_open else "]"
    rng = f"{lo}{'-inf' if low is None else low}, {'inf' if high is None else high}{hi}"
    if low is not None and (value < low or (low_open and value == low)):
        raise ConfigError(key, f"must be in {rng}", value)
    if high is not None and (value > high or (high_open and value == high)):
        raise ConfigError(key, f"must be in {rng}", value)


_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


def _name(key: str, name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(key, "must be a name of letters, digits, '_' or '-'", name)


def validate(cfg: Config) -> None:
    """Check every value's range and the rules between values; raise ConfigError."""
    _number("seed", cfg.seed, 0, integer=True)
    m = cfg.market
    _number("market.size", m.size, 1, integer=True)
    if not m.segments:
        raise ConfigError("market.segments", "must name at least one segment", {})
    for name, seg in m.segments.items():
        _name(f"market.segments.{name}", name)
        k = f"market.segments.{name}"
        _number(f"{k}.share", seg.share, 0, 1)
        _number(f"{k}.mean_days_between_needs", seg.mean_days_between_needs, 0, low_open=True)
        _number(f"{k}.order_value", seg.order_value, 0)
        _number(f"{k}.margin", seg.margin, 0, 1)
        _number(f"{k}.emotional_weight", seg.emotional_weight, 0, 1)
        _number(f"{k}.switching_cost", seg.switching_cost, 0)
        _number(f"{k}.initial_expectation", seg.initial_expectation, 0, 1)
        _number(f"{k}.social_influence", seg.social_influence, 0)
        _number(f"{k}.identifiability", seg.identifiability, 0, 1)
        for need, weight in seg.needs.items():
            if need not in NEEDS:
                raise ConfigError(f"{k}.needs.{need}", f"is not a need (needs: {', '.join(NEEDS)})")
            _number(f"{k}.needs.{need}", weight, 0, 1)
        if abs(sum(seg.needs.values()) - 1.0) > 1e-6:
            raise ConfigError(f"{k}.needs", "must sum to 1", round(sum(seg.needs.values()), 9))
    total = sum(s.share for s in m.segments.values())
    if abs(total - 1.0) > 1e-6:
        raise ConfigError("market.segments.*.share", "must sum to 1", round(total, 9))
    _number("market.organic_acquisition_per_year", m.organic_acquisition_per_year, 0)
    _number("market.max_paid_acquisition_per_year", m.max_paid_acquisition_per_year, 0)
    _number("market.acquisition_spend_scale", m.acquisition_spend_scale, 0, low_open=True)
    if not isinstance(m.first_need_at_acquisition, bool):
        raise ConfigError("market.first_need_at_acquisition", "must be true or false",
                          m.first_need_at_acquisition)
    _number("market.warning_ratio", m.warning_ratio, 0)
    _number("market.referral_conversion", m.referral_conversion, 0, 1)
    _number("market.message_attitude_shift", m.message_attitude_shift, 0, 2)
    _number("market.choice_sharpness", m.choice_sharpness, 0)
    _number("market.return_per_year", m.return_per_year, 0)
    _number("market.sales_pressure_revenue_gain", m.sales_pressure_revenue_gain, 0)
    _number("market.contact_salience", m.contact_salience, 0)

    if not cfg.firms:
        raise ConfigError("firms", "must name at least one firm", {})
    for name, firm in cfg.firms.items():
        _name(f"firms.{name}", name)
        k = f"firms.{name}"
        if not isinstance(firm.journey, str) or not firm.journey.strip():
            raise ConfigError(f"{k}.journey", "must be a journey name or a file path", firm.journey)
        _number(f"{k}.price_level", firm.price_level, 0, low_open=True)
        _number(f"{k}.initial_share", firm.initial_share, 0, 1)
        _number(f"{k}.onboarding_cost", firm.onboarding_cost, 0)
        _number(f"{k}.growth_target", firm.growth_target, -1, low_open=True)
        for lever in sorted(_LEVERS - {"metric", "incentive", "offer"}):
            value = getattr(firm, lever)
            if value is None:
                raise ConfigError(f"{k}.{lever}", "is not set by the firm or its presets")
            _number(f"{k}.{lever}", value, 0, 1)
        for lever, names in (("metric", METRICS), ("incentive", INCENTIVES)):
            if getattr(firm, lever) not in names:
                raise ConfigError(f"{k}.{lever}", f"must be one of {', '.join(names)}",
                                  getattr(firm, lever))
        if firm.offer is None:
            raise ConfigError(f"{k}.offer", "is not set by the firm or its presets")
        for attribute, level in firm.offer.items():
            if attribute not in NEEDS[1:]:
                raise ConfigError(f"{k}.offer.{attribute}", "is not an offer attribute "
                                  f"({', '.join(NEEDS[1:])}; price comes from price_level)")
            _number(f"{k}.offer.{attribute}", level, 0, 1)
        for tp, staff in firm.staff.items():
            _number(f"{k}.staff.{tp}", staff, 1, integer=True)
        for tp, weight in firm.cx_split.items():
            _number(f"{k}.cx_split.{tp}", weight, 0)
        if firm.cx_split and sum(firm.cx_split.values()) <= 0:
            raise ConfigError(f"{k}.cx_split", "must give some touchpoint a weight above 0")
    initial = sum(f.initial_share for f in cfg.firms.values())
    if initial > 1.0 + 1e-9:
        raise ConfigError("firms.*.initial_share", "must sum to at most 1", round(initial, 9))

    p = cfg.psychology
    for f in fields(PsychologyConfig):
        value = getattr(p, f.name)
        if f.name == "emotions":
            if not isinstance(value, bool):
                raise ConfigError("psychology.emotions", "must be true or false", value)
            continue
        _number(f"psychology.{f.name}", value, 0)
    for key in ("initial_trust", "expectation_rate", "attitude_rate", "recovery_share",
                "reference_quality",
                "base_churn", "trust_gain", "trust_loss"):
        _number(f"psychology.{key}", getattr(p, key), 0, 1)
    _number("psychology.nps_neutral", p.nps_neutral, 0, 10)
    _number("psychology.wait_tolerance_days", p.wait_tolerance_days, 0, low_open=True)
    _number("psychology.loss_aversion", p.loss_aversion, 1)

    for f in fields(ManagementConfig):
        if f.name == "review":
            if not isinstance(cfg.management.review, bool):
                raise ConfigError("management.review", "must be true or false",
                                  cfg.management.review)
            continue
        _number(f"management.{f.name}", getattr(cfg.management, f.name), 0)
    for key in ("misaligned_cx_share", "split_reversion", "max_cut", "kpi_steer",
                "initial_culture", "initial_capability", "initial_pressure", "initial_speed",
                "initial_assortment", "initial_relationship", "initial_power", "nps_coaching",
                "survey_floor", "base_turnover", "new_hire_skill", "learning_rate",
                "initial_skill", "being_rate"):
        _number(f"management.{key}", getattr(cfg.management, key), 0, 1)
    _number("management.culture_lag_quarters", cfg.management.culture_lag_quarters, 0,
            low_open=True)
    _number("management.funding_half_share", cfg.management.funding_half_share, 0,
            low_open=True)
    if cfg.management.base_turnover + cfg.management.turnover_sensitivity > 1:
        raise ConfigError("management.turnover_sensitivity",
                          "plus base_turnover must be at most 1 (a share of staff per quarter)")

    validate_network(cfg.network, m.size)
    _number("experiment.replications", cfg.experiment.replications, 1, integer=True)
    if cfg.experiment.report is not None and not isinstance(cfg.experiment.report, bool):
        raise ConfigError("experiment.report", "must be true, false or null",
                          cfg.experiment.report)

    s = cfg.sim
    _number("sim.years", s.years, 0, 200, low_open=True)
    _number("sim.warmup_years", s.warmup_years, 0)
    if s.warmup_years >= s.years:
        raise ConfigError("sim.warmup_years", f"must be less than sim.years ({s.years})",
                          s.warmup_years)
    _number("sim.discount_rate", s.discount_rate, 0)
    _number("sim.days_per_month", s.days_per_month, 1)
    months = math.ceil(s.years * 365.25 / s.days_per_month - 1e-9)
    for name, event in cfg.events.items():
        k = f"events.{name}"
        _name(k, name)
        if event.kind not in ("shock", "workshop"):
            raise ConfigError(f"{k}.kind", "must be shock or workshop", event.kind)
        _number(f"{k}.start_month", event.start_month, 0, months - 1, integer=True)
        _number(f"{k}.months", event.months, 1, integer=True)
        if event.kind == "shock" and event.start_month + event.months > months:
            raise ConfigError(f"{k}", f"must end within the horizon of {months} months "
                              "(start_month + months)", event.start_month + event.months)
        _number(f"{k}.order_value_factor", event.order_value_factor, 0)
        _number(f"{k}.need_rate_factor", event.need_rate_factor, 0, low_open=True)
        for lever in ("will", "power", "being"):
            _number(f"{k}.{lever}", getattr(event, lever), -1, 1)
        if event.firm is not None and event.firm not in cfg.firms:
            raise ConfigError(f"{k}.firm", f"names no firm (firms: {', '.join(cfg.firms)})",
                              event.firm)


def config_hash(cfg: Config) -> str:
    """A short, stable hash of the resolved config (same config, same hash)."""
    text = json.dumps(as_plain(cfg), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def as_plain(cfg: Config) -> dict:
    """The config as plain dicts and scalars (for JSON and YAML)."""
    assert is_dataclass(cfg)
    return asdict(cfg)


def config_dir() -> Path:
    """The bundled ``configs/`` folder: inside the wheel, or beside the source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "configs", here.parent / "configs"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise ConfigError("configs/config.yaml", "was not found beside the cxsim package")


def compose(overrides: list[str] | None = None) -> DictConfig:
    """Compose the bundled config with Hydra *overrides* (``["market.size=500"]``).

    Works from any working directory and when called repeatedly. Bad overrides
    and unknown config groups raise :class:`ConfigError`.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    overrides = list(overrides or [])
    try:
        if GlobalHydra.instance().is_initialized():
            return hydra_compose("config", overrides=overrides)
        with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
            return hydra_compose("config", overrides=overrides)
    except Exception as exc:  # Hydra and OmegaConf raise many types; name the override
        raise _override_error(exc, overrides) from None


def _unknown_field(key: str) -> bool:
    """Is *key* a setting no firm, segment or event has (``firms.acme.recovery``)?"""
    parts = key.split(".")
    for prefix, schema in ((["firms"], FirmConfig), (["market", "segments"], SegmentConfig),
                           (["events"], EventConfig)):
        n = len(prefix)
        if parts[:n] == prefix and len(parts) == n + 2:
            return parts[-1] not in {f.name for f in fields(schema)}
    return False


def _override_error(exc: Exception, overrides: list[str]) -> ConfigError:
    from hydra.errors import MissingConfigException

    text = " ".join(str(exc).split())
    if isinstance(exc, MissingConfigException):
        group = getattr(exc, "config_name", None) or ""
        options = getattr(exc, "options", None)
        culprit = next((o for o in overrides if o.split("=")[0].lstrip("+~") in text
                        or (group and o.startswith(group.split("/")[0]))), None)
        where = f"override '{culprit}'" if culprit else "config group"
        rule = "names no config in its group"
        if options:
            rule += f" (available: {', '.join(sorted(options))})"
        return ConfigError(where, rule)
    from hydra.errors import OverrideParseException

    if isinstance(exc, OverrideParseException):
        return ConfigError(f"override '{exc.override}'",
                           f"is not valid override syntax ({exc.message.splitlines()[0]})")
    cause = exc.__cause__ or exc
    key = getattr(cause, "full_key", None)
    reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    culprit = next((o for o in overrides if key and o.split("=")[0].lstrip("+~") == key), None)
    culprit = culprit or max((o for o in overrides if o in text), key=len, default=None)
    culprit = culprit or next(
        (o for o in overrides if o.split("=")[0].lstrip("+~") in text), None)
    if key and "not in struct" in reason and _unknown_field(key):
        return ConfigError(f"config key '{key}'", "is not a known setting")
    if key and "not in struct" in reason:
        return ConfigError(f"config key '{key}'", "does not exist (to add a new entry to a "
                           f"mapping, write '+{key}=...')")
    if key and "not in '" in reason:
        return ConfigError(f"config key '{key}'", "is not a known setting")
    if key:
        return ConfigError(f"config key '{key}'", f"is invalid: {reason}")
    where = f"override '{culprit}'" if culprit else "overrides"
    return ConfigError(where, f"is invalid: {text}")
