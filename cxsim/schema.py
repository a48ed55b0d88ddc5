"""The scenario's typed sections: what a run can be told, each field declared once.

Units are fixed: time in days (``sim.years`` and ``sim.warmup_years`` in years),
money per purchase, rates per year where the key says ``_per_year``,
probabilities and shares in [0, 1]. The YAML files in ``configs/`` mirror
these defaults group by group. Every field names its meaning and its source
or reason beside its default, as its ``doc`` (:func:`cxsim.fields.doc_of`), and
each numeric setting the values it may take (:func:`cxsim.fields.within`):
lower bounds from what the quantity means, upper bounds where the model stops
meaning anything (a purchase worth more than 1e9, a need once a century), so
every total the run computes stays finite. Kept apart from composing
(:mod:`cxsim.config`) and from the rules between values (:mod:`cxsim.rules`)
so that both can read it without importing each other; :mod:`cxsim.config`
re-exports every name, and stays where callers import it from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cxsim.fields import described, within

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
    "SURVEYS",
    "ANSWER_CLASSES",
    "Config",
    "DAYS_PER_YEAR",
    "NEEDS",
    "METRICS",
    "INCENTIVES",
    "PRESET_GROUPS",
    "MAX_CLIENTS",
    "MAX_SEED",
    "MAX_MONTHS",
]

MAX_SEED = 2**63 - 1  # seeds are stored as signed 64-bit integers (Parquet)
MAX_MONTHS = 100_000  # more than any horizon: sim.years <= 200 at sim.days_per_month >= 1


NAME_PATTERN = r"^[A-Za-z0-9_\-]+$"
"""Pattern touchpoint, firm, segment and shipped journey names must match."""
MAX_STAFF = 100_000  # people at one touchpoint, in a journey and in firms.<name>.staff
MAX_CLIENTS = 100_000_000  # a hundred times the largest market benchmarked (1M, make bench):
#   market.size and a journey's reference_clients
MAX_NETWORK_SIZE = int(np.iinfo(np.int32).max)  # a network's client ids are int32
KINDS = ("small_world", "scale_free", "complete", "none", "file")
"""The valid values of ``NetworkConfig.kind``."""


@dataclass
class NetworkConfig:
    """Who can talk to whom: the word-of-mouth network of the market's clients.

    Mirrored by ``configs/network/{small_world,scale_free,complete,none,file}.yaml``.
    ``mean_degree`` is used by ``small_world`` and ``scale_free``,
    ``rewire_probability`` by ``small_world`` and ``path`` by ``file``; the
    other kinds ignore them.

    The default is a small world because word of mouth travels both through
    dense clusters of strong ties and through a few weak ties that bridge
    them [3]_; ten ties per client is the ``k`` of Watts and Strogatz's own
    experiments [1]_ and lies between the support-clique (~5) and
    sympathy-group (~15) layers of personal networks [2]_.

    References
    ----------
    .. [1] D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world'
       networks", *Nature* 393, 440-442, 1998.
    .. [2] W.-X. Zhou, D. Sornette, R. A. Hill and R. I. M. Dunbar, "Discrete
       hierarchical organization of social group sizes", *Proc. R. Soc. B* 272,
       439-444, 2005.
    .. [3] J. Goldenberg, B. Libai and E. Muller, "Talk of the network: a
       complex systems look at the underlying process of word-of-mouth",
       *Marketing Letters* 12(3), 211-223, 2001.
    """

    kind: str = described("small_world", doc=(
        "the network's shape; the default small world: clustered strong ties + weak-tie "
        "shortcuts; Goldenberg et al. 2001"))
    mean_degree: int = within(10, f"[0, {MAX_NETWORK_SIZE}] integer", doc=(
        "ties per client: k=10 of Watts & Strogatz (1998); Dunbar layers 5-15"))
    rewire_probability: float = within(0.1, "[0, 1]", doc=(
        "chance a tie's far end is rewired to a random client (small_world); Watts & "
        "Strogatz (1998): still clustered, paths already short"))
    path: str = described("", doc=(
        "GraphML (.graphml/.xml) or edge list (.csv/.txt/.edges) for kind=file"))



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
    study_sample: float = within(0.05, "(0, 1]", doc=(
        "the industry study: share of the clients who ever dealt with a firm asked each "
        "month, current or former, all answering (Baehre et al. 2022: NPS among all "
        "potential customers is the one that predicts growth)"))


DAYS_PER_YEAR = 365.25
"""Julian year: every ``_per_year`` key is converted to days with it."""
NEEDS = ("price", "speed", "assortment", "relationship")
"""What a segment's clients always want (seed 001); the offer's attributes match them."""
METRICS = {"sales": 0.0, "nps": 0.8, "clv": 1.0}
"""KPIs management can steer by, with their client orientation (culture's target)."""
INCENTIVES = {"transactions": 0.0, "measured_nps": 0.6, "clv": 1.0}
"""What the front line can be paid on, with their client orientation."""
SURVEYS = ("finished_walks", "transactional", "relational", "market")
"""Who a firm's own survey asks: after each walk, after each purchase, its current clients
each month, or everyone who ever dealt with it each month."""
ANSWER_CLASSES = ("detractor", "passive", "promoter")
"""The classes of an answer (0-6, 7-8, 9-10) a survey's response chance depends on."""
PRESET_GROUPS = ("strategy", "funding", "org", "survey")
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
    survey: str = described("finished_walks", doc=(
        "preset in configs/survey/: how the firm measures its own NPS"))
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
    # from the survey preset
    asks: str | None = described(None, doc=(
        "who the firm's own survey asks: finished_walks, transactional (buyers only), "
        "relational (current clients, monthly) or market (anyone who dealt with it, monthly)"))
    response: dict[str, float] | None = described(None, doc=(
        "chance an asked client answers, by what it would answer: detractor, passive, "
        "promoter, each in [0, 1]"))
    survey_sample: float | None = within(None, "[0, 1]", doc=(
        "relational and market surveys: share of the clients they may ask, asked each month"))
    # from the org preset
    cx_floor: float | None = within(None, "[0, 1]", doc=(
        "CX budget kept at least this share of last year's mean"))
    org_culture: float | None = within(None, "[0, 1]", doc=(
        "client orientation the org chart gives culture"))


@dataclass
class PsychologyConfig:
    """Parameters of the client's equations in ``cxsim.model.psychology``."""

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
    record_visits: bool = described(False, doc=(
        "keep one row per visit in Results.visits: the run as an event log (case, touchpoint, "
        "start, end, outcome), to discover a journey back from or compare with a firm's log"))


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

