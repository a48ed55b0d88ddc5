"""Configuration: dataclasses registered with Hydra's ConfigStore, and their validation.

Units are fixed: time in days (``sim.years`` and ``sim.warmup_years`` in years),
money per purchase, rates per year where the key says ``_per_year``,
probabilities and shares in [0, 1]. The YAML files in ``configs/`` mirror
these defaults group by group. Every field names its meaning and its
source or reason beside its default, as its ``doc``: the house rule's
one-line comment, now one text that code reads too (:func:`doc_of`), so a
lever's tooltip is its declaration, never a second copy. Values are checked
once, by :func:`validate`, before a run starts. Each numeric setting
declares the values it may take beside its default (:func:`within`; other
fields: :func:`described`): lower bounds from what the quantity means,
upper bounds where the model stops meaning anything (a purchase worth more
than 1e9, a need once a century), so every total the run computes stays
finite. The what-if page builds its inputs from the same bounds
(:func:`bounds_of`).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig, ListConfig, OmegaConf

from cxsim.errors import ConfigError
from cxsim.fields import Bounds, bounds_of, describe, described, doc_of, within
from cxsim.journey import MAX_CLIENTS, MAX_STAFF, NAME_PATTERN
from cxsim.network import NetworkConfig, validate_network

__all__ = [
    "SegmentConfig",
    "PurchaseRateConfig",
    "DropoutConfig",
    "SpendConfig",
    "DROPOUT_AFTER",
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
    "group_options",
    "Bounds",
    "within",
    "described",
    "bounds_of",
    "doc_of",
    "describe",
    "MAX_CLIENTS",
    "MAX_SEED",
    "firm_labels",
]

MAX_SEED = 2**63 - 1  # seeds are stored as signed 64-bit integers (Parquet)
MAX_MONTHS = 100_000  # more than any horizon: sim.years <= 200 at sim.days_per_month >= 1
MAX_SAMPLES = 2_400  # monthly samples of a run: 200 years of 30.4375-day months
MAX_MESSAGES = 700  # a Poisson count inverted from exp(-rate), which underflows past ~745


def _check_section(key: str, section: Any, skip: tuple[str, ...] = ()) -> None:
    """Every bounded field of the dataclass *section*, at config key *key*."""
    for f in fields(section):
        bounds = f.metadata.get("bounds")
        value = getattr(section, f.name)
        if bounds is not None and f.name not in skip and value is not None:
            bounds.check(f"{key}.{f.name}" if key else f.name, value)


@dataclass
class PurchaseRateConfig:
    """How often a segment's clients buy, client by client: while a client is alive its needs
    come at Poisson rate λ, and λ ~ Gamma(r, α) across clients (the BG/NBD of Fader, Hardie &
    Lee 2005). Rates are per year, so α is in years."""

    r: float = within(1.0, "(0, 1e6]", doc="the Gamma's shape; 1: exponential spread of rates")
    alpha_years: float = within(0.125, "(0, 1e6]", doc=(
        "the Gamma's rate, in years: mean λ = r / α, 8 needs a year as a 45-day segment"))

    @property
    def mean_days_between_needs(self) -> float:
        """Days between needs at the mean rate r / α per year."""
        return DAYS_PER_YEAR * self.alpha_years / self.r


@dataclass
class DropoutConfig:
    """Each client's own chance of leaving after a purchase, p ~ Beta(a, b) across a
    segment's clients (BG/NBD; Fader, Hardie & Lee 2005); the baseline the emotions move,
    in place of ``psychology.base_churn``."""

    a: float = within(1.0, "(0, 1e6]", doc="the Beta's first shape")
    b: float = within(19.0, "(0, 1e6]", doc=(
        "the Beta's second shape; mean a / (a + b) = 0.05, base_churn's"))

    @property
    def mean(self) -> float:
        """The mean dropout a / (a + b)."""
        return self.a / (self.a + self.b)


@dataclass
class SpendConfig:
    """Spend per purchase, client by client (the Gamma–Gamma of Colombo & Jiang 1999 and
    Fader, Hardie & Lee 2005, JMR 42(4)): a client's purchases are Gamma(p, ν), ν ~ Gamma(q,
    γ) across clients; mean spend p·γ / (q − 1) at price level 1."""

    p: float = within(6.0, "(0, 1e6]", doc="shape of one client's spends; CDNOW's is about 6")
    q: float = within(4.0, "(1, 1e6]", doc="shape of ν across clients; above 1, a finite mean")
    gamma: float = within(50.0, "(0, 1e9]", doc="rate's scale: mean spend p·γ/(q−1) = 100")

    @property
    def mean(self) -> float:
        """The mean spend per purchase p γ / (q − 1), at price level 1."""
        return self.p * self.gamma / (self.q - 1.0)


DROPOUT_AFTER = ("walk", "repeat_purchase")
"""Which walks a client may leave after: any walk, or (BG/NBD) only a completed one that
is not its relationship's first purchase."""


@dataclass
class SegmentConfig:
    """A group of clients who want and behave alike."""

    share: float = within(1.0, "[0, 1]", doc=(
        "share of the market's clients; one segment by default"))
    mean_days_between_needs: float | None = within(45.0, "(0, 36525]", doc=(
        "days; a B2B account needs something ~8x a year; null when purchase_rate spreads the "
        "rate across clients"))
    purchase_rate: PurchaseRateConfig | None = described(None, doc=(
        "rate per client ~ Gamma; none: every client needs every mean_days_between_needs"))
    dropout: DropoutConfig | None = described(None, doc=(
        "per-client dropout ~ Beta; none: psychology.base_churn"))
    dropout_after: str = described("walk", doc="walk (any) or repeat_purchase (BG/NBD's rule)")
    order_value: float | None = within(100.0, "[0, 1e9]", doc=(
        "money per purchase at price level 1; a unit, scale freely; null when spend spreads it "
        "across clients and purchases"))
    spend: SpendConfig | None = described(None, doc=(
        "Gamma–Gamma spend; none: every purchase is order_value"))
    margin: float = within(0.3, "[0, 1]", doc=(
        "share of the order value kept; typical services gross margin"))
    emotional_weight: float = within(0.8, "[0, 1]", doc=(
        "weight of how the firm feels against what it offers, in choosing it; seed 000: "
        '"as much as 80% of the decision" is emotional'))
    switching_cost: float = within(0.5, "[0, 50]", doc=(
        "churn-logit units; seed 002: switching is costly for clients"))
    initial_expectation: float = within(0.65, "[0, 1]", doc=(
        "quality in [0, 1] a new client expects; near base quality"))
    social_influence: float = within(1.0, "[0, 100]", doc=(
        'messages a promoter passes on per journey; seed 001 "influence"'))
    identifiability: float = within(0.8, "[0, 1]", doc=(
        "seed 001: can the firm recognise and personalise for them"))
    needs: dict[str, float] = described(default_factory=lambda: {
        "price": 0.3, "speed": 0.2, "assortment": 0.2, "relationship": 0.3,
    }, doc='seed 001 "what core clients always want"; weights summing to 1')


@dataclass
class MarketConfig:
    """Who the clients are and how they respond to a firm's acquisition spend."""

    label: str = described("the market", doc=(
        "its name in reports and pages; each shipped preset names its own"))
    currency: str = described("$", doc=(
        "written before money in reports and pages; amounts are per purchase"))
    size: int = within(10_000, f"[1, {MAX_CLIENTS}] integer", doc=(
        "clients; small enough for a demo in seconds"))
    segments: dict[str, SegmentConfig] = described(
        default_factory=lambda: {"core": SegmentConfig()},
        doc="its groups of clients, by name; their shares sum to 1")
    organic_acquisition_per_year: float = within(0.05, "[0, 365]", doc=(
        "per prospect; word of mouth and search, no spend"))
    max_paid_acquisition_per_year: float = within(1.0, "[0, 365]", doc=(
        "per prospect; at saturation paid contacts reach a prospect about once a year, so spend, "
        "not word of mouth, leads the first year"))
    acquisition_spend_scale: float = within(100.0, "(0, 1e9]", doc=(
        "money per prospect per year for 63% of the max; about what a balanced firm's default "
        "budget spends, so spend still matters at the margin"))
    return_per_year: float = within(0.5, "[0, 365]", doc=(
        "a client who left the category is a prospect again in ~2 years"))
    first_need_at_acquisition: bool = described(True, doc=(
        "an acquired client buys at once (first purchase)"))
    heterogeneity: bool = described(True, doc=(
        "false: every client at its segment's mean purchase rate, dropout and spend (a control: "
        "what the spread across clients does)"))
    cohort: Any = described(None, doc=(
        "who joins when, instead of a starting split: a CSV or Parquet file with one row per "
        "client (acquired_day, and firm with several firms) or a list of days"))
    warning_ratio: float = within(2.0, "[0, 100]", doc=(
        "detractors tell ~2x as many as promoters; TARP (1986)"))
    referral_conversion: float = within(0.1, "[0, 1]", doc=(
        "chance one recommendation turns a prospect into a client"))
    message_attitude_shift: float = within(0.1, "[0, 2]", doc="attitude moved by one message heard")
    choice_sharpness: float = within(5.0, "[0, 1000]", doc=(
        "logit scale of the choice between firms; chosen, not fitted"))
    sales_pressure_revenue_gain: float = within(0.1, "[0, 10]", doc=(
        "order value added at full sales pressure; upsell"))
    contact_salience: float = within(0.3, "[0, 10]", doc=(
        "utility of being the firm whose sales contact prompts a choice"))


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

    label: str | None = described(None, doc=(
        'its name in reports and pages; unset: its strategy in words, "the sales-focused firm" '
        "(firm_labels)"))
    journey: str = described("professional_services", doc=(
        "shipped journey name or a YAML/GraphML path"))
    strategy: str = described("balanced", doc="preset in configs/strategy/")
    funding: str = described("aligned", doc="preset in configs/funding/")
    org: str | None = described(None, doc=(
        "preset in configs/org/; unset: the strategy preset's org"))
    price_level: float = within(1.0, "(0, 100]", doc="multiplies the segment's order value")
    initial_share: float = within(0.3, "[0, 1]", doc=(
        "share of the market already its clients at day 0"))
    onboarding_cost: float = within(50.0, "[0, 1e9]", doc=(
        "money per new client; seed 002: costly for the provider"))
    growth_target: float = within(0.05, "(-1, 100]", doc=(
        "sales target: last year's quarter x (1 + this)"))
    scale_staff: bool = described(True, doc=(
        "scale journey staff by market.size / reference_clients"))
    staff: dict[str, int] = described(default_factory=dict, doc="absolute staff per touchpoint")
    cx_split: dict[str, float] = described(default_factory=dict, doc=(
        "day-0 CX money per touchpoint, as weights; empty: money follows expected visits (no "
        "touchpoint favoured)"))
    # levers from the strategy preset
    communication: float | None = within(None, "[0, 1]", doc=(
        "clarity and cadence of the client message"))
    metric: str | None = described(None, doc="what management steers by: sales, nps or clv")
    incentive: str | None = described(None, doc=(
        "what the front line is paid on: transactions, measured_nps, clv"))
    incentive_granularity: float | None = within(None, "[0, 1]", doc=(
        "1: on the employee's own clients; seed 001"))
    acquisition_share: float | None = within(None, "[0, 1]", doc=(
        "declared share of the budget for acquisition"))
    sales_pressure: float | None = within(None, "[0, 1]", doc=(
        "push at staffed touchpoints: revenue now, worse feelings"))
    offer: dict[str, float] | None = described(None, doc=(
        "speed, assortment, relationship levels in [0, 1]"))
    reallocation: float | None = within(None, "[0, 1]", doc=(
        "CX money moved to the worst touchpoints per quarter"))
    execution: float | None = within(None, "[0, 1]", doc=(
        "seed 000: share of the strategy's gap closed per year"))
    will: float | None = within(None, "[0, 1]", doc=(
        "seed 003: front line's ownership of the strategy at day 0"))
    power: float | None = within(None, "[0, 1]", doc=(
        "seed 003: tools and autonomy; chance a failure is recovered"))
    being: float | None = within(None, "[0, 1]", doc="seed 003: feeling valued at day 0")
    listening: float | None = within(None, "[0, 1]", doc=(
        "seed 004: share of clients the firm hears"))
    # from the funding preset
    budget_share: float | None = within(None, "[0, 1]", doc=(
        "acquisition + CX budget as a share of revenue"))
    alignment: float | None = within(None, "[0, 1]", doc=(
        "1: budget split as the strategy declares; seed 000"))
    # from the org preset
    cx_floor: float | None = within(None, "[0, 1]", doc=(
        "CX budget kept at least this share of last year's mean"))
    org_culture: float | None = within(None, "[0, 1]", doc=(
        "client orientation the org chart gives culture"))


@dataclass
class PsychologyConfig:
    """Parameters of the client's equations in ``cxsim.psychology``."""

    emotions: bool = described(True, doc=(
        "false: churn is the constant base_churn (validation tests)"))
    loss_aversion: float = within(2.25, "[1, 100]", doc=(
        "how much more a shortfall against expectation weighs than an equal excess; Tversky & "
        "Kahneman (1992)"))
    affect_sensitivity: float = within(3.0, "[0, 100]", doc=(
        "steepness of feeling: a 0.2 shortfall feels like -0.87; chosen for spread"))
    affect_level_weight: float = within(0.5, "[0, 100]", doc=(
        "weight of quality itself; Anderson & Sullivan (1993)"))
    reference_quality: float = within(0.5, "[0, 1]", doc=(
        "quality that feels neutral once expected; scale midpoint"))
    perception_noise_sd: float = within(0.08, "[0, 10]", doc=(
        "quality units; visit-to-visit variation"))
    funding_gain: float = within(0.1, "[0, 10]", doc="quality added at full CX funding")
    wait_penalty: float = within(0.3, "[0, 10]", doc="quality lost to a long wait; Maister (1985)")
    wait_tolerance_days: float = within(0.02, "(0, 365]", doc=(
        "about 30 minutes before a wait really hurts"))
    failure_penalty: float = within(0.4, "[0, 10]", doc="quality lost when a visit fails")
    recovery_share: float = within(0.6, "[0, 1]", doc=(
        "share of it a recovery wins back; Matos et al. (2007)"))
    kano_strong: float = within(1.5, "[0, 100]", doc=(
        "weight of a hygiene shortfall / delighter excess; Kano (1984)"))
    kano_weak: float = within(0.4, "[0, 100]", doc=(
        "weight of hygiene excess / delighter shortfall; Kano (1984)"))
    expectation_rate: float = within(0.2, "[0, 1]", doc=(
        "drift of expectation toward experience; Helson (1964)"))
    initial_trust: float = within(0.5, "[0, 1]", doc="a new client's trust; neutral")
    trust_gain: float = within(0.1, "[0, 1]", doc=(
        "trust gained per good journey; Slovic (1993): slow to build"))
    trust_loss: float = within(0.4, "[0, 1]", doc=(
        "trust lost per bad journey; Slovic (1993): quick to lose"))
    attitude_rate: float = within(0.3, "[0, 100]", doc="weight of the latest journey in attitude")
    nps_neutral: float = within(7.5, "[0, 10]", doc=(
        "answer of a neutral client: a passive; Reichheld (2003)"))
    nps_slope: float = within(5.0, "[0, 100]", doc="answer points per unit of latent satisfaction")
    nps_noise_sd: float = within(1.0, "[0, 100]", doc="answer points; survey noise")
    base_churn: float = within(0.05, "[0, 1]", doc=(
        "per purchase for a neutral client; ~30% a year at 8 needs"))
    churn_memory_weight: float = within(1.5, "[0, 100]", doc=(
        "churn-logit per unit of remembered affect"))
    churn_trust_weight: float = within(2.0, "[0, 100]", doc="churn-logit per unit of trust")
    personal_gain: float = within(0.1, "[0, 10]", doc=(
        "quality added by a relationship offer to a recognised client"))
    frontline_gain: float = within(0.2, "[0, 10]", doc=(
        "quality per unit of front-line will and skill above 0.5"))
    pressure_quality_cost: float = within(0.1, "[0, 10]", doc=(
        "quality lost at a staffed visit at full sales pressure"))


@dataclass
class SimConfig:
    """Horizon, discounting and output options."""

    years: float = within(5.0, "(0, 200]", doc="horizon; long enough for relationships to show")
    warmup_years: float = within(0.0, "[0, 200]", doc="statistics leave out this start-up period")
    discount_rate: float = within(0.1, "[0.0001, 10]", doc=(
        "per year, continuous; a typical cost of capital (a client never lost has a finite CLV "
        "only if the future is discounted, and 1 + d - 1 must not round to 0)"))
    days_per_month: float = within(30.4375, "[1, 366]", doc=(
        "365.25 / 12: the metric sampling period"))
    record_journeys: bool = described(False, doc="keep one row per journey in Results.journeys")


@dataclass
class ManagementConfig:
    """The quarterly review and the front line's dynamics, shared by all firms."""

    review: bool = described(True, doc=(
        "false: budgets and front line stay as at day 0 (validation tests)"))
    funding_half_share: float = within(0.05, "(0, 10]", doc=(
        "CX spend / revenue giving half the funding effect"))
    misaligned_cx_share: float = within(0.2, "[0, 1]", doc=(
        "CX share of an unaligned budget: where money always went"))
    split_reversion: float = within(0.5, "[0, 1]", doc=(
        "per quarter, budget split drifts back to the declared one"))
    cut_sensitivity: float = within(2.0, "[0, 100]", doc=(
        "share of CX moved to acquisition per unit of sales shortfall"))
    max_cut: float = within(0.5, "[0, 1]", doc=(
        "at most this share of the CX budget moved in one quarter"))
    kpi_steer: float = within(0.05, "[0, 1]", doc=(
        "budget share moved to CX when an NPS/CLV firm's KPI falls"))
    culture_lag_quarters: float = within(4.0, "(0, 400]", doc=(
        "seed 001: culture follows the other levers, slowly"))
    initial_culture: float = within(0.5, "[0, 1]", doc=(
        "client orientation of each firm's culture at day 0; every firm starts from the same "
        "history"))
    initial_capability: float = within(0.5, "[0, 1]", doc=(
        "touchpoints as built at day 0: the funding level of 5%"))
    initial_pressure: float = within(0.25, "[0, 1]", doc=(
        "sales pressure at day 0: the balanced preset's"))
    initial_speed: float = within(0.6, "[0, 1]", doc=(
        "speed delivered at day 0: the balanced preset's"))
    initial_assortment: float = within(0.55, "[0, 1]", doc=(
        "assortment delivered at day 0: the balanced preset's"))
    initial_relationship: float = within(0.5, "[0, 1]", doc=(
        "relationship delivered at day 0: the balanced preset's"))
    initial_power: float = within(0.5, "[0, 1]", doc=(
        "recovery chance at day 0: the balanced preset's"))
    nps_coaching: float = within(0.5, "[0, 1]", doc=(
        "chance a front line paid on measured NPS lifts an answer"))
    survey_floor: float = within(0.1, "[0, 1]", doc=(
        "share of clients heard with no listening at all"))
    incentive_motivation: float = within(0.2, "[0, 100]", doc=(
        'will added by granular client incentives (SMART "A")'))
    base_turnover: float = within(0.05, "[0, 1]", doc="staff leaving per quarter when fully valued")
    turnover_sensitivity: float = within(0.15, "[0, 1]", doc=(
        "extra turnover per quarter at being 0; seed 003"))
    new_hire_skill: float = within(0.3, "[0, 1]", doc=(
        "skill of a newcomer: staff who leave take their skill"))
    learning_rate: float = within(0.1, "[0, 1]", doc="skill gap closed per quarter on the job")
    initial_skill: float = within(0.6, "[0, 1]", doc=(
        "front line's skill at day 0; near the steady state at being 0.5"))
    being_rate: float = within(0.5, "[0, 1]", doc="being's gap to its target closed per quarter")


@dataclass
class EventConfig:
    """A scheduled event: a revenue ``shock`` or a front-line ``workshop`` (seed 003)."""

    kind: str = described("shock", doc="shock or workshop")
    start_month: int = within(12, f"[0, {MAX_MONTHS}] integer", doc="first month it acts, 0-based")
    months: int = within(6, f"[1, {MAX_MONTHS}] integer", doc="how long a shock lasts")
    order_value_factor: float = within(0.7, "[0, 100]", doc="shock: multiplies order values")
    need_rate_factor: float = within(0.8, "(0, 100]", doc="shock: multiplies how often needs arise")
    firm: str | None = described(None, doc="workshop: which firm (unset: all)")
    will: float = within(0.2, "[-1, 1]", doc="workshop: added to will")
    power: float = within(0.1, "[-1, 1]", doc="workshop: added to power")
    being: float = within(0.2, "[-1, 1]", doc="workshop: added to being")


@dataclass
class ExperimentConfig:
    """How a job of the ``cxsim`` command runs its scenario (``docs/scaling.md``)."""

    replications: int = within(1, "[1, 100000] integer", doc=(
        "replication i on SeedSequence(seed, spawn_key=(i,)), as replicate()"))
    report: bool | None = described(None, doc=(
        "report.html in the run's folder; unset: yes, but not per job of a -m sweep (thousands "
        "of Morris jobs would each pay for one)"))


@dataclass
class Config:
    """A whole scenario: the market, its firms, the client model and the run."""

    seed: int = within(0, f"[0, {MAX_SEED}] integer", doc="root of all random streams")
    market: MarketConfig = described(default_factory=MarketConfig, doc="the clients")
    firms: dict[str, FirmConfig] = described(default_factory=lambda: {"acme": FirmConfig()},
                                             doc="the firms competing for them, by name")
    network: NetworkConfig = described(default_factory=NetworkConfig,
                                       doc="who talks to whom: word of mouth")
    psychology: PsychologyConfig = described(default_factory=PsychologyConfig,
                                             doc="the client's equations")
    management: ManagementConfig = described(default_factory=ManagementConfig, doc=(
        "the quarterly review and the front line's dynamics, shared by all firms"))
    events: dict[str, EventConfig] = described(default_factory=dict, doc=(
        "scheduled revenue shocks and front-line workshops, by name; none by default"))
    sim: SimConfig = described(default_factory=SimConfig, doc="the run's horizon and output")
    experiment: ExperimentConfig = described(default_factory=ExperimentConfig, doc=(
        "how a job of the cxsim command runs the scenario"))


@dataclass
class _OpenMarket(MarketConfig):
    segments: dict[str, Any] = described(default_factory=dict,
                                         doc=doc_of(MarketConfig, "segments"))


@dataclass
class _Schema(Config):
    """What Hydra composes: ``Config`` with open ``market.segments`` and ``firms``.

    Hydra's ``+`` cannot create an entry in a mapping of dataclasses, so a new
    segment or firm (``+firms.beta.journey=subscription``) is composed as a
    plain mapping and typed and checked by :func:`to_config`.
    """

    market: _OpenMarket = described(default_factory=_OpenMarket, doc=doc_of(Config, "market"))
    firms: dict[str, Any] = described(default_factory=dict, doc=doc_of(Config, "firms"))
    events: dict[str, Any] = described(default_factory=dict, doc=doc_of(Config, "events"))


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore as ``cxsim_schema``."""
    ConfigStore.instance().store(name="cxsim_schema", node=_Schema)


def _shape_error(node: Any, section: type, prefix: str = "") -> ConfigError | None:
    """The first key of *node* the dataclass *section* (or one inside it) lacks, or the first
    mapping setting given something else.

    Hydra's ``+`` adds any key, and merging into the schema then drops what it
    does not know: a mistyped lever (``+psychology.base_chrun=0.9``) would run
    the default. Open mappings (firms, segments, events) are checked entry by
    entry against their own dataclass.
    """
    hints = get_type_hints(section)
    for key in node:
        if not isinstance(key, str) or key not in hints:
            return ConfigError(f"config key '{prefix}{key}'", "is not a known setting")
        kind, value = hints[key], node[key]
        args = get_args(kind)
        optional = [arg for arg in args if is_dataclass(arg)]
        if get_origin(kind) is not dict and optional:  # a section that may be null
            kind, args = optional[0], ()
        mapping = is_dataclass(kind) or get_origin(kind) is dict or dict in map(get_origin, args)
        if mapping and value is not None and not isinstance(value, Mapping):
            return ConfigError(f"config key '{prefix}{key}'", "must be a mapping of names to "
                               "values", _plain(value))
        if is_dataclass(kind) and value is not None:
            error = _shape_error(value, kind, f"{prefix}{key}.")
        elif get_origin(kind) is dict and is_dataclass(args[1]):
            error = next((found for name in value if isinstance(value[name], Mapping) and (
                found := _shape_error(value[name], args[1], f"{prefix}{key}.{name}."))), None)
        else:
            error = None
        if error is not None:
            return error
    return None


def _plain(value: Any) -> Any:
    return OmegaConf.to_container(value) if isinstance(value, DictConfig | ListConfig) else value


def to_config(cfg: Config | DictConfig | dict) -> Config:
    """Turn a composed config into validated dataclasses."""
    if not isinstance(cfg, Config):
        error = _shape_error(cfg, Config) if isinstance(cfg, Mapping) else None
        if error is not None:
            raise error
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
    "label", "journey", "strategy", "funding", "org", "price_level", "initial_share",
    "onboarding_cost", "growth_target", "scale_staff", "staff", "cx_split"}


def group_options(group: str) -> list[str] | None:
    """Names of the shipped options of config group *group* (``market``, ``strategy``, a
    ``a/b`` subgroup), or None if *group* is not one."""
    folder = config_dir() / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else None


def _load_preset(firm_name: str, group: str, name: Any) -> dict[str, Any]:
    import yaml

    key = f"firms.{firm_name}.{group}"
    _name(key, name)
    path = config_dir() / group / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(key, f"names no {group} preset (available: "
                          f"{', '.join(group_options(group))})", name)
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


_NAME = re.compile(NAME_PATTERN)  # the journey's rule for touchpoints, for every name


_NAME_RULE = "must be a name of letters, digits, '_' or '-'"


def _name(key: str, name: Any) -> None:
    """The value *name* of *key* (a preset's name) follows the rule for names."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(key, _NAME_RULE, name)


def _entry_name(section: str, name: Any) -> None:
    """An entry's name in *section* (a firm's, a segment's, an event's) follows the rule
    for names. The message shows a bad name escaped, ``firms.'acme\\n'``: a newline in
    it broke the message's one line."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"{section}.{name!r}", _NAME_RULE)


_SHARE = Bounds(0.0, 1.0)
_STAFF = Bounds.parse(f"[1, {MAX_STAFF}] integer")  # people at one touchpoint
_WEIGHT = Bounds.parse("[0, 1e6]")  # a touchpoint's share of CX money, before normalising


MAX_LABEL = 60  # characters of a display name: a table's header, a chart's legend
MAX_CURRENCY = 4  # characters of a currency symbol: "$", "€", "CHF"


def _label(key: str, value: Any, longest: int = MAX_LABEL) -> None:
    """A name a person reads: one line of printable text, not blank, not too long."""
    if not isinstance(value, str) or not value.strip() or len(value) > longest or any(
            not c.isprintable() for c in value):
        raise ConfigError(key, f"must be one line of 1 to {longest} printable characters",
                          value)


def firm_labels(firms: Mapping[str, Any]) -> dict[str, str]:
    """Each firm's display name, by its key: its own ``label``, else its strategy in words
    ("the sales-focused firm"); a strategy two firms share names both by their keys too
    ("the sales-focused firm (acme)"), so names stay unique within a scenario.

    *firms* maps keys to :class:`FirmConfig` or to their plain dicts (a saved config).
    """
    def get(firm: Any, name: str) -> Any:
        return firm.get(name) if isinstance(firm, Mapping) else getattr(firm, name)

    words = {key: f"the {str(get(f, 'strategy')).replace('_', '-')} firm"
             for key, f in firms.items()}
    taken = [words[k] for k, f in firms.items() if get(f, "label") is None]
    return {key: get(f, "label") or (words[key] if taken.count(words[key]) == 1
                                     else f"{words[key]} ({key})")
            for key, f in firms.items()}


def _flag(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(key, "must be true or false", value)


def _check_spread(k: str, seg: SegmentConfig) -> None:
    """A segment's purchase rate and spend: one fixed value or one distribution, not both."""
    for fixed, spread in (("mean_days_between_needs", "purchase_rate"),
                          ("order_value", "spend")):
        given = getattr(seg, fixed) is not None, getattr(seg, spread) is not None
        if all(given):
            raise ConfigError(f"{k}.{spread}", f"and {k}.{fixed} are both set: declare one "
                              f"(set {fixed} to null to spread it across clients)")
        if not any(given):
            raise ConfigError(f"{k}.{fixed}", f"must be set, or {spread} declared")
        if given[1]:
            _check_section(f"{k}.{spread}", getattr(seg, spread))
            section = getattr(seg, spread)
            mean = (section.mean_days_between_needs if isinstance(section, PurchaseRateConfig)
                    else section.mean)
            bounds = bounds_of(SegmentConfig, fixed)
            if not bounds.low < mean <= bounds.high:
                raise ConfigError(f"{k}.{spread}", f"must have a mean {fixed} in {bounds}, as "
                                  f"{fixed} itself", mean)
    if seg.dropout is not None:
        _check_section(f"{k}.dropout", seg.dropout)
    if seg.dropout_after not in DROPOUT_AFTER:
        raise ConfigError(f"{k}.dropout_after", f"must be one of {', '.join(DROPOUT_AFTER)}",
                          seg.dropout_after)


def validate(cfg: Config) -> None:
    """Check every value against its bounds and the rules between values; raise ConfigError."""
    _check_section("", cfg)
    m = cfg.market
    _check_section("market", m)
    if not m.segments:
        raise ConfigError("market.segments", "must name at least one segment", {})
    for name, seg in m.segments.items():
        k = f"market.segments.{name}"
        _entry_name("market.segments", name)
        _check_section(k, seg)
        for need, weight in seg.needs.items():
            if need not in NEEDS:
                raise ConfigError(f"{k}.needs.{need}", f"is not a need (needs: {', '.join(NEEDS)})")
            _SHARE.check(f"{k}.needs.{need}", weight)
        if abs(sum(seg.needs.values()) - 1.0) > 1e-6:
            raise ConfigError(f"{k}.needs", "must sum to 1", round(sum(seg.needs.values()), 9))
        _check_spread(k, seg)
        if seg.social_influence * max(m.warning_ratio, 1.0) > MAX_MESSAGES:
            raise ConfigError(f"{k}.social_influence", "times market.warning_ratio (what a "
                              f"detractor tells) must be at most {MAX_MESSAGES} messages a "
                              "journey", seg.social_influence * m.warning_ratio)
    total = sum(s.share for s in m.segments.values())
    if abs(total - 1.0) > 1e-6:
        raise ConfigError("market.segments.*.share", "must sum to 1", round(total, 9))
    _label("market.label", m.label)
    _label("market.currency", m.currency, MAX_CURRENCY)
    _flag("market.first_need_at_acquisition", m.first_need_at_acquisition)
    _flag("market.heterogeneity", m.heterogeneity)

    if not cfg.firms:
        raise ConfigError("firms", "must name at least one firm", {})
    for name, firm in cfg.firms.items():
        k = f"firms.{name}"
        _entry_name("firms", name)
        if not isinstance(firm.journey, str) or not firm.journey.strip():
            raise ConfigError(f"{k}.journey", "must be a journey name or a file path", firm.journey)
        for lever in sorted(_LEVERS):
            if getattr(firm, lever) is None:
                raise ConfigError(f"{k}.{lever}", "is not set by the firm or its presets")
        _check_section(k, firm)
        for lever, names in (("metric", METRICS), ("incentive", INCENTIVES)):
            if getattr(firm, lever) not in names:
                raise ConfigError(f"{k}.{lever}", f"must be one of {', '.join(names)}",
                                  getattr(firm, lever))
        for attribute, level in firm.offer.items():
            if attribute not in NEEDS[1:]:
                raise ConfigError(f"{k}.offer.{attribute}", "is not an offer attribute "
                                  f"({', '.join(NEEDS[1:])}; price comes from price_level)")
            _SHARE.check(f"{k}.offer.{attribute}", level)
        for tp, staff in firm.staff.items():
            _STAFF.check(f"{k}.staff.{tp}", staff)
        for tp, weight in firm.cx_split.items():
            _WEIGHT.check(f"{k}.cx_split.{tp}", weight)
        if firm.cx_split and sum(firm.cx_split.values()) <= 0:
            raise ConfigError(f"{k}.cx_split", "must give some touchpoint a weight above 0")
    for name, firm in cfg.firms.items():
        if firm.label is not None:
            _label(f"firms.{name}.label", firm.label)
    named = {}
    for name, label in firm_labels(cfg.firms).items():
        if label.casefold() in named:
            raise ConfigError(f"firms.{name}.label", f"must differ from firms."
                              f"{named[label.casefold()]}'s name (names tell firms apart)", label)
        named[label.casefold()] = name
    initial = sum(f.initial_share for f in cfg.firms.values())
    if initial > 1.0 + 1e-9:
        raise ConfigError("firms.*.initial_share", "must sum to at most 1", round(initial, 9))

    _flag("psychology.emotions", cfg.psychology.emotions)
    _check_section("psychology", cfg.psychology)
    _flag("management.review", cfg.management.review)
    _check_section("management", cfg.management)
    if cfg.management.base_turnover + cfg.management.turnover_sensitivity > 1:
        raise ConfigError("management.turnover_sensitivity",
                          "plus base_turnover must be at most 1 (a share of staff per quarter)")

    validate_network(cfg.network, m.size)
    _check_section("experiment", cfg.experiment)
    if cfg.experiment.report is not None and not isinstance(cfg.experiment.report, bool):
        raise ConfigError("experiment.report", "must be true, false or null",
                          cfg.experiment.report)

    s = cfg.sim
    _check_section("sim", s)
    _flag("sim.record_journeys", s.record_journeys)
    if s.warmup_years >= s.years:
        raise ConfigError("sim.warmup_years", f"must be less than sim.years ({s.years})",
                          s.warmup_years)
    if (s.years - s.warmup_years) * DAYS_PER_YEAR < s.days_per_month - 1e-9:
        raise ConfigError("sim.years", f"must exceed sim.warmup_years ({s.warmup_years}) by at "
                          f"least a month of sim.days_per_month ({s.days_per_month} days): the "
                          "results are monthly samples after the warm-up", s.years)
    months = math.ceil(s.years * DAYS_PER_YEAR / s.days_per_month - 1e-9)
    if months > MAX_SAMPLES:
        raise ConfigError("sim.days_per_month", f"must leave at most {MAX_SAMPLES:,} monthly "
                          f"samples over sim.years ({s.years:g}), the 200-year monthly grid: "
                          "each sample is a row per firm and segment, and a day's loop",
                          s.days_per_month)
    for name, event in cfg.events.items():
        k = f"events.{name}"
        _entry_name("events", name)
        if event.kind not in ("shock", "workshop"):
            raise ConfigError(f"{k}.kind", "must be shock or workshop", event.kind)
        _check_section(k, event)
        Bounds(0, months - 1, integer=True).check(f"{k}.start_month", event.start_month)
        if event.kind == "shock" and event.start_month + event.months > months:
            raise ConfigError(f"{k}", f"must end within the horizon of {months} months "
                              "(start_month + months)", event.start_month + event.months)
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
    if overrides is not None and (not isinstance(overrides, list | tuple) or not all(
            isinstance(o, str) for o in overrides)):
        raise ConfigError("overrides", "must be a list of override strings, e.g. "
                          "['market.size=500']", overrides)
    overrides = list(overrides or [])
    for override in overrides:
        key, _, value = override.partition("=")
        if key.startswith("~") and _needed(key.lstrip("~")):
            raise ConfigError(f"override '{override}'", "deletes a setting cxsim needs (it "
                              "would run on its default); give it a value instead")
        if "oc.env" in value.replace(" ", ""):
            raise ConfigError(f"override '{key}=...'", "may not read an environment variable "
                              "(oc.env): its value would be written into the run's "
                              "config.yaml and meta.json")
        if _INTERPOLATION.search(value) and not _is_hydra_key(key.lstrip("+~")):
            raise ConfigError(f"override '{override}'", "may not interpolate (${...}): a "
                              "config is data, and its saved config.yaml must mean what it "
                              "says; write the value itself")
        options = group_options(key.lstrip("+~"))
        if options is not None and value.strip() in ("null", "~", ""):
            raise ConfigError(f"override '{override}'", "must name an option of its config "
                              f"group (available: {', '.join(options)})")
    _check_values(overrides)
    try:
        if GlobalHydra.instance().is_initialized():
            return hydra_compose("config", overrides=overrides)
        with initialize_config_dir(config_dir=str(config_dir()), version_base=None):
            return hydra_compose("config", overrides=overrides)
    except Exception as exc:  # Hydra and OmegaConf raise many types; name the override
        raise _override_error(exc, overrides) from None


_INTERPOLATION = re.compile(r"(?<!\\)\$\{")
"""The start of an OmegaConf interpolation or resolver, ``${``, not escaped as ``\\${``."""


def _is_hydra_key(key: str) -> bool:
    """Is *key* Hydra's own (``hydra.run.dir``, ``hydra/launcher``), not cxsim's?"""
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))


def _needed(key: str) -> bool:
    """Is *key* one of cxsim's own settings or config groups, which ``~key`` may not delete?

    Deleting one ran the run on its default, silently (``~seed`` ran seed 0). An entry of
    a mapping of names the user chose (a firm, a segment, an event, a touchpoint's staff
    or CX weight) may be deleted: :func:`to_config` starts those empty. An entry of a
    mapping with default entries (a segment's ``needs``) would come back: it is needed.
    Keys under ``hydra`` are Hydra's own.
    """
    if _is_hydra_key(key):
        return False
    if group_options(key) is not None:
        return True
    found = _declared(key)
    return found is not None and found[1]


def _declared(key: str) -> tuple[Any, bool] | None:
    """The type the schema declares for config key *key* (an entry of a mapping: the
    mapping's value type), and whether it is needed (a setting, or an entry the mapping's
    default has); None if *key* is not in the schema."""
    kind: Any = Config
    default: Any = None
    needed = False
    for part in key.split("."):
        if is_dataclass(kind):
            field = next((f for f in fields(kind) if f.name == part), None)
            if field is None:
                return None
            kind = get_type_hints(kind)[part]
            default = (field.default_factory() if callable(field.default_factory)
                       else field.default)
            if get_origin(kind) is not dict:  # a section that may be null
                kind = next((arg for arg in get_args(kind) if is_dataclass(arg)), kind)
            needed = True
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
            needed = not is_dataclass(kind) and isinstance(default, Mapping) and part in default
            default = None
        else:
            return None
    return kind, needed


_NOT_EMPTY = {
    (Config, "firms"): "must name at least one firm ({} changes nothing: the default firms "
                       "would run)",
    (MarketConfig, "segments"): "must name at least one segment ({} changes nothing: the "
                                "default segment would run)",
    (SegmentConfig, "needs"): "must weigh at least one need ({} changes nothing: the default "
                              "needs would run)",
    (FirmConfig, "offer"): "must give at least one offer attribute ({} would set every "
                           "attribute to 0, not the presets' offer)",
}
"""Mappings an override may not empty: merged into the config, ``{}`` changes nothing (or,
for an offer, hides the presets'). ``staff`` and ``cx_split`` are empty by default."""


def _check_values(overrides: list[str]) -> None:
    """What composing hides, checked on the overrides themselves: a boolean setting takes
    true or false only (OmegaConf turned 2, 'yes' or '1' into true before any check could
    see it: ``management.review=2`` ran with reviews), and a mapping of :data:`_NOT_EMPTY`
    may not be set to ``{}``."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for line in overrides:
        try:
            parsed = parser.parse_overrides([line])[0]
        except Exception:  # a syntax error: composing names it
            continue
        if not parsed.is_sweep_override() and not parsed.is_delete():
            _check_value(parsed.key_or_group, parsed.value())


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, dict):
        parent, _, last = key.rpartition(".")
        owner = _declared(parent)[0] if parent and _declared(parent) else Config
        if not value and (owner, last) in _NOT_EMPTY:
            raise ConfigError(key, _NOT_EMPTY[owner, last], {})
        for name, item in value.items():
            _check_value(f"{key}.{name}", item)
        return
    found = _declared(key)
    kind = found[0] if found else None
    if kind is bool:
        _flag(key, value)
    elif bool in get_args(kind) and value is not None and not isinstance(value, bool):
        raise ConfigError(key, "must be true, false or null", value)


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
