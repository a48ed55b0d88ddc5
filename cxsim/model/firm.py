"""A firm: its levers, journey, front line, budgets and quarterly management.

The rules are pure functions, like the client's equations; :class:`Firm`
holds one firm's state and applies them at each quarterly review. The
engine calls them and never re-implements them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cxsim.config import DAYS_PER_YEAR, INCENTIVES, METRICS, NEEDS, Config, FirmConfig
from cxsim.model.journey import Journey, load_journey
from cxsim.model.psychology import clv_estimate, nps_from_counts

__all__ = [
    "Firm", "acquisition_hazard", "funding_level", "node_funding", "staff_capacity",
    "price_attribute", "rational_value", "declared_cx_share", "culture_target", "approach",
    "execution_rate", "will_target", "being_target", "staff_turnover", "update_skill",
    "frontline_level",
    "effective_pressure", "coaching_probability", "survey_share", "reviewed_split",
    "floored_cx_budget", "reallocated_weights", "frontline_quality_shift", "upsell_factor",
    "measured_kpi", "perception_noise", "personal_relationship", "personal_quality",
    "walk_revenue", "normal_revenue",
]


def acquisition_hazard(
    spend_per_prospect_year: float,
    organic_per_year: float,
    max_paid_per_year: float,
    spend_scale: float,
) -> float:
    """Per-prospect conversion hazard per day bought by acquisition spend.

    ``h = (organic + max_paid * (1 - exp(-spend / scale))) / 365.25``: a
    concave response with diminishing returns, the shape most advertising
    response studies find (Simon & Arndt 1980); ``scale`` is the spend that
    buys 63% of the maximum paid rate.

    References
    ----------
    Simon, J. L. & Arndt, J. (1980). The shape of the advertising response
    function. *Journal of Advertising Research* 20(4), 11-28.
    """
    paid = max_paid_per_year * -math.expm1(-spend_per_prospect_year / spend_scale)
    return (organic_per_year + paid) / DAYS_PER_YEAR


def funding_level(cx_spend_share: float | np.ndarray, half_share: float = 0.05
                  ) -> float | np.ndarray:
    """CX funding level in [0, 1) from CX spend as a share of the clients' normal revenue.

    ``share / (share + half_share)``: half the attainable funding effect at
    ``half_share`` of revenue (5%, a common CX budget; seed 000 asks that the
    strategy be "funded accordingly"), with diminishing returns beyond.
    """
    return cx_spend_share / (cx_spend_share + half_share)


def node_funding(intensity: float, weights: np.ndarray, half_share: float) -> np.ndarray:
    """Funding level at each touchpoint: the firm's CX intensity times its spend per visit there.

    *weights* is each touchpoint's share of CX money over its share of visits
    (1 everywhere when money follows visits); the response saturates per
    touchpoint, so moving money helps only where it is scarce or where a
    shortfall weighs most (peak-end, hygiene).
    """
    return funding_level(intensity * np.asarray(weights, dtype=float), half_share)


def price_attribute(price_level: float) -> float:
    """How well a price level serves the need for low prices: 0.5 at level 1, 0 at level 2."""
    return min(max(1.0 - price_level / 2.0, 0.0), 1.0)


def rational_value(needs: np.ndarray, price_level: float, offer: dict[str, float],
                   identifiability: np.ndarray) -> np.ndarray:
    """Per segment, how well the offer fits what its clients always want (seed 001).

    ``sum_k needs_k * attribute_k`` over price, speed, assortment and
    relationship; a relationship can be delivered only to a client the firm
    recognises, so it counts times the segment's identifiability.
    """
    levels = np.array([price_attribute(price_level), offer.get("speed", 0.0),
                       offer.get("assortment", 0.0), offer.get("relationship", 0.0)])
    attributes = np.tile(levels, (len(identifiability), 1))
    attributes[:, 3] *= identifiability
    return (np.asarray(needs) * attributes).sum(axis=1)


def declared_cx_share(acquisition_share: float, alignment: float, misaligned_cx_share: float
                      ) -> float:
    """Share of the budget that goes to the experience: as declared, or where it always went.

    Seed 000: a strategy "not funded as declared" is a common failure;
    *alignment* blends the declared split with a sales-led one.
    """
    return alignment * (1.0 - acquisition_share) + (1.0 - alignment) * misaligned_cx_share


def culture_target(communication: float, metric: float, incentive: float, cx_share: float,
                   sales_pressure: float, org: float) -> float:
    """The client orientation the other five levers of seed 001 point to, in [0, 1].

    The mean of communication, the metric's and the incentive's orientation
    (``cxsim.config.METRICS``, ``INCENTIVES``), the strategy's (CX share of
    the budget and the absence of sales pressure) and the org chart's
    (``org_culture``, from the org preset). Culture is not a setting: it
    moves toward this, with a lag.
    """
    strategy = (cx_share + 1.0 - sales_pressure) / 2.0
    return (communication + metric + incentive + strategy + org) / 5.0


def approach(value: float, target: float, rate: float) -> float:
    """One quarter of first-order adjustment: close share *rate* of the gap."""
    return value + rate * (target - value)


def execution_rate(execution: float) -> float:
    """Share of the gap to the declared strategy closed per quarter, from the yearly share.

    Seed 000: collaborative input, change management and a communication
    cadence decide how fast a strategy reaches the front line; money moves at
    once, behaviour and touchpoints at this pace.
    """
    return 1.0 - (1.0 - execution) ** 0.25


def will_target(culture: float, communication: float, motivated: bool, granularity: float,
                motivation: float) -> float:
    """Seed 003's Will: ownership follows culture, heard as clearly as it is communicated.

    Granular incentives on clients (NPS, CLV) add *motivation* x granularity
    (seed 001: goals must be attainable by those assigned).
    """
    target = culture * (0.5 + 0.5 * communication)
    if motivated:
        target += motivation * granularity
    return min(max(target, 0.0), 1.0)


def being_target(culture: float, funding: float) -> float:
    """Seed 003's Being: staff feel valued in a client culture that is funded."""
    return (culture + funding) / 2.0


def staff_turnover(being: float, base: float, sensitivity: float) -> float:
    """Share of front-line staff leaving per quarter: more when they do not feel valued."""
    return base + sensitivity * (1.0 - being)


def update_skill(skill: float, turnover: float, new_hire_skill: float, learning_rate: float
                 ) -> float:
    """Skill after a quarter: leavers take theirs, newcomers learn on the job.

    Skill is lost as fast as staff leave and rebuilt at *learning_rate*: the
    hysteresis DESIGN.md asks for (damage outlasts its cause).
    """
    skill = skill * (1.0 - turnover) + turnover * new_hire_skill
    return skill + learning_rate * (1.0 - skill)


def frontline_level(will: float, skill: float) -> float:
    """What the front line brings to a staffed visit: its will and its skill, equally."""
    return (will + skill) / 2.0


def effective_pressure(sales_pressure: float, pays_transactions: bool, granularity: float,
                       motivation: float) -> float:
    """Sales pressure at the counter: the strategy's, plus what transaction pay adds."""
    extra = motivation * granularity if pays_transactions else 0.0
    return min(sales_pressure + extra, 1.0)


def coaching_probability(pays_measured_nps: bool, granularity: float, listening: float,
                         coaching: float) -> float:
    """Chance the front line lifts a surveyed answer it is paid on (seed 000's surrogate KPI).

    Only an incentive on *measured* NPS invites it; granular goals invite it
    more, and a firm that observes behaviour rather than asking is harder to
    game (seed 004), so it falls with listening.
    """
    if not pays_measured_nps:
        return 0.0
    return coaching * granularity * (1.0 - listening)


def survey_share(listening: float, floor: float) -> float:
    """Share of journeys the firm hears about (seed 004: listening)."""
    return floor + (1.0 - floor) * listening


def reviewed_split(split: float, declared: float, reversion: float, shortfall: float,
                   cut_sensitivity: float, max_cut: float, kpi_fell: bool, steer: float) -> float:
    """Next quarter's CX share of the budget.

    It drifts back toward the declared split; a missed sales target moves
    ``min(max_cut, cut_sensitivity * shortfall)`` of it to acquisition (the
    sales side's reflex); a firm steering by NPS or CLV whose measured KPI
    fell moves *steer* of the budget to CX.
    """
    split = approach(split, declared, reversion)
    if shortfall > 0.0:
        split *= 1.0 - min(max_cut, cut_sensitivity * shortfall)
    if kpi_fell:
        split += steer
    return min(max(split, 0.0), 1.0)


def floored_cx_budget(cx_budget: float, floor: float, history: list[float]) -> float:
    """With a CCO, CX spend is kept at *floor* times its mean over the last four quarters."""
    if floor <= 0.0 or not history:
        return cx_budget
    recent = history[-4:]
    return max(cx_budget, floor * sum(recent) / len(recent))


def reallocated_weights(money: np.ndarray, visits: np.ndarray, seen_affect: np.ndarray,
                        rate: float) -> np.ndarray:
    """Move share *rate* of CX money toward the touchpoints that hurt most, as the firm sees them.

    Seed 004: find where clients depend on you most and it hurts. The target
    split puts money on touchpoints whose seen affect is below the
    visit-weighted mean, in proportion to the shortfall times the visits.
    """
    money = np.asarray(money, dtype=float)
    seen = np.where(np.isfinite(seen_affect), seen_affect, np.nan)
    if rate <= 0.0 or not np.isfinite(seen).any():
        return money
    heard = np.isfinite(seen) & (visits > 0)
    mean = np.average(seen[heard], weights=visits[heard])
    shortfall = np.where(heard, np.maximum(mean - np.nan_to_num(seen), 0.0), 0.0) * visits
    if shortfall.sum() <= 0.0:
        return money
    return (1.0 - rate) * money + rate * shortfall / shortfall.sum()


def frontline_quality_shift(frontline: float, pressure: float, gain: float,
                            pressure_cost: float) -> float:
    """Quality a staffed touchpoint gains from the front line: ``gain * (frontline - 0.5)``,
    less ``pressure_cost * pressure`` (a rushed, pushy visit is a worse one; seed 000)."""
    return gain * (frontline - 0.5) - pressure_cost * pressure


def upsell_factor(revenue_gain: float, pressure: float) -> float:
    """Order value multiplier from sales pressure: ``1 + revenue_gain * pressure``."""
    return 1.0 + revenue_gain * pressure


def perception_noise(noise_sd: float, being: float) -> float:
    """Spread of what clients perceive at a firm's touchpoints: ``noise_sd * (1.5 - being)``.

    Seed 003's Being: a front line that feels valued serves more evenly, so the
    experience varies less (half the base spread at being 1, 1.5 times at 0).
    """
    return noise_sd * (1.5 - being)


def personal_relationship(offer_relationship: float, will: float) -> float:
    """How personal a firm's service is: the relationship its offer promises
    (``offer["relationship"]``) times its front line's will to deliver it (seed 003: an
    offer staff do not want to keep is not kept)."""
    return offer_relationship * will


def personal_quality(gain: float, personal: np.ndarray, identifiability: np.ndarray
                     ) -> np.ndarray:
    """Quality a personal relationship adds to every visit: ``gain * personal *
    identifiability``; it pays only where the firm can tell its clients apart (seed 001)."""
    return gain * personal * identifiability


def walk_revenue(completed: np.ndarray, spend: np.ndarray, price: np.ndarray,
                 upsell: np.ndarray, order_factor: np.ndarray) -> np.ndarray:
    """What a walk pays the firm: its spend at the firm's price, lifted by sales pressure and
    scaled by the month's shocks; nothing unless it ended in a purchase."""
    return np.where(completed, spend * price * upsell * order_factor, 0.0)


def normal_revenue(firm: np.ndarray, order_value: np.ndarray, need_mean: np.ndarray,
                   price: np.ndarray, cycles: np.ndarray, days: float, n_firms: int
                   ) -> np.ndarray:
    """Per firm, what its active clients (*firm* of each, with its *order_value* and
    *need_mean*) bring in *days* with no shock and no upsell.

    A client buys ``cycles[0]`` times per walk (the journey's chance of a purchase) and
    starts a walk every ``need_mean + cycles[1]`` days (need gap plus the walk itself).
    """
    per_client = (order_value * price[firm] * cycles[0][firm]
                  * days / (need_mean + cycles[1][firm]))
    return np.bincount(firm, per_client, n_firms)


def measured_kpi(metric: str, revenue: float, promoters: float, detractors: float,
                 surveyed: float, margin: float, churned: float, active: float,
                 discount_rate: float) -> float:
    """The quarter's KPI a firm steers by, as it can measure it.

    ``nps``: measured NPS of the answers it heard (0 with none heard);
    ``clv``: :func:`cxsim.model.psychology.clv_estimate` from the quarter's margin
    and churn per active client (at least one); otherwise revenue.
    """
    if metric == "nps":
        return float(nps_from_counts(promoters, detractors, surveyed)) if surveyed else 0.0
    if metric == "clv":
        active = max(active, 1.0)
        return clv_estimate(margin / active, min(churned / active, 1.0), discount_rate)
    return revenue


def staff_capacity(journey_staff: int, scale: float) -> int:
    """Staff at a touchpoint for a market *scale* times the journey's reference size."""
    return max(1, int(round(journey_staff * scale)))


class Firm:
    """One firm at run time: its levers, journey, front line and budgets.

    Parameters
    ----------
    name, cfg : the firm's name and its config entry (presets applied).
    scenario : the whole scenario (market size for staff scaling, management).
    journey_dir : where shipped journeys live.

    The state a quarterly :meth:`review` changes: ``culture``, ``will``,
    ``power``, ``being``, ``skill``, the budget ``split`` and the budgets,
    ``money`` (CX money per touchpoint, as shares) and ``capability`` (what
    the touchpoints deliver: it moves toward what the money buys at the
    speed of execution, seed 000, so CX spend pays off over quarters), and
    likewise the ``pressure`` and ``power`` the front line delivers and the
    ``offer`` (speed, assortment, relationship) clients see and choose by:
    every firm starts from the same history.
    """

    def __init__(self, name: str, cfg: FirmConfig, scenario: Config, journey_dir: Path,
                 journey: Journey | None = None) -> None:
        self.name = name
        self.cfg = cfg
        self.management = scenario.management
        self.journey: Journey = journey or load_journey(cfg.journey, journey_dir)
        scale = scenario.market.size / self.journey.reference_clients if cfg.scale_staff else 1.0
        capacity = np.zeros(self.journey.n_touchpoints, dtype=np.int64)
        for i in np.flatnonzero(self.journey.staffed):
            capacity[i] = staff_capacity(int(self.journey.staff[i]), scale)
        for tp, staff in cfg.staff.items():  # names checked by cxsim.validate
            capacity[self.journey.touchpoints.index(tp)] = staff
        self.capacity = capacity

        m = self.management
        self.metric_orientation = METRICS[cfg.metric]
        self.incentive_orientation = INCENTIVES[cfg.incentive]
        self.org_orientation = cfg.org_culture
        self.declared_pressure = effective_pressure(
            cfg.sales_pressure, cfg.incentive == "transactions", cfg.incentive_granularity,
            m.incentive_motivation)
        self.pressure = m.initial_pressure
        self.offer = {"speed": m.initial_speed, "assortment": m.initial_assortment,
                      "relationship": m.initial_relationship}
        self.execution_rate = execution_rate(cfg.execution)
        self.coaching = coaching_probability(cfg.incentive == "measured_nps",
                                             cfg.incentive_granularity, cfg.listening,
                                             m.nps_coaching)
        self.survey_share = survey_share(cfg.listening, m.survey_floor)
        self.declared_split = declared_cx_share(cfg.acquisition_share, cfg.alignment,
                                                m.misaligned_cx_share)
        self.split = self.declared_split
        self.culture = m.initial_culture
        self.will, self.being = cfg.will, cfg.being
        self.power = m.initial_power
        self.skill = m.initial_skill
        visits = self.journey.expected_visits()
        self.visit_share = visits / visits.sum() if visits.sum() > 0 else visits
        self.money = self._initial_money(cfg.cx_split)
        self.budget = self.cx_budget = self.acquisition_budget = 0.0
        self.intensity = cfg.budget_share * self.split
        self.capability = np.full(self.journey.n_touchpoints, m.initial_capability)
        self.revenue_history: list[float] = []
        self.cx_history: list[float] = []
        self.last_kpi: float | None = None

    def _initial_money(self, split: dict[str, float]) -> np.ndarray:
        """Day-0 shares of CX money per touchpoint: *split* (normalised) or the visit shares."""
        if not split:
            return self.visit_share.copy()
        money = np.zeros(self.journey.n_touchpoints)
        for tp, weight in split.items():
            money[self.journey.touchpoints.index(tp)] = weight
        return money / money.sum()

    def declared_offer(self) -> dict[str, float]:
        """The offer the strategy declares: speed, assortment and relationship levels."""
        return {attribute: self.cfg.offer.get(attribute, 0.0) for attribute in NEEDS[1:]}

    def set_budget(self, revenue: float) -> None:
        """Next quarter's budgets from a quarter's *revenue* (the CCO floor applied)."""
        self.budget = self.cfg.budget_share * revenue
        cx = floored_cx_budget(self.budget * self.split, self.cfg.cx_floor, self.cx_history)
        self.cx_budget = cx
        self.acquisition_budget = max(self.budget - cx, 0.0)
        self.cx_history.append(cx)

    def normal_cycle(self) -> tuple[float, float]:
        """Chance a walk ends in a purchase, and a walk's mean length in days with no queue.

        From the expected visits of the journey's absorbing chain: service
        time at each touchpoint and the delay on each edge taken.
        """
        j = self.journey
        visits = j.expected_visits()
        days = float(visits @ j.service_days)
        for i, (cumulative, delays) in enumerate(zip(j.cumulative_probability, j.delay_days)):
            probabilities = np.diff(np.concatenate([[0.0], cumulative]))
            days += visits[i] * float(probabilities @ np.asarray(delays))
        return float(visits[j.is_exit].sum()), days

    def start(self, normal_revenue: float) -> None:
        """Day 0: budgets from the revenue the firm's clients bring in a normal quarter."""
        self.set_budget(normal_revenue)
        self.intensity = self.cx_budget / normal_revenue if normal_revenue > 0 else 0.0
        if not self.management.review:  # the firm as its strategy declares it, for good
            self.intensity = self.cfg.budget_share * self.split
            self.capability = self.funded_level()
            self.pressure = self.declared_pressure
            self.offer = self.declared_offer()
            self.power = self.cfg.power

    @property
    def funding(self) -> float:
        """The firm's CX funding level (all touchpoints alike)."""
        return float(funding_level(self.intensity, self.management.funding_half_share))

    def funded_level(self) -> np.ndarray:
        """Funding level this quarter's CX money buys at each of its touchpoints."""
        weights = np.divide(self.money, self.visit_share, out=np.ones_like(self.money),
                            where=self.visit_share > 0)
        return node_funding(self.intensity, weights, self.management.funding_half_share)

    @property
    def frontline(self) -> float:
        return frontline_level(self.will, self.skill)

    def review(self, revenue: float, normal_revenue: float, kpi: float,
               seen_affect: np.ndarray, seen_visits: np.ndarray) -> None:
        """The quarterly review: budgets from revenue and KPI, then the front line moves.

        *revenue* is last quarter's; *normal_revenue* what the active clients
        would bring in a normal quarter (CX intensity is spend over it);
        *kpi* the steering metric as the firm measures it; *seen_affect* and
        *seen_visits* what it heard of each touchpoint.
        """
        cfg, m = self.cfg, self.management
        history = self.revenue_history
        shortfall = 0.0
        if len(history) >= 4 and history[-4] > 0:
            target = history[-4] * (1.0 + cfg.growth_target)
            shortfall = max(0.0, 1.0 - revenue / target)
        history.append(revenue)
        kpi_fell = (cfg.metric != "sales" and self.last_kpi is not None
                    and kpi < self.last_kpi)
        self.last_kpi = kpi
        self.split = reviewed_split(self.split, self.declared_split, m.split_reversion,
                                    shortfall, m.cut_sensitivity, m.max_cut, kpi_fell,
                                    m.kpi_steer)
        self.set_budget(revenue)
        self.intensity = self.cx_budget / normal_revenue if normal_revenue > 0 else 0.0
        self.money = reallocated_weights(self.money, seen_visits, seen_affect, cfg.reallocation)
        self.capability = approach(self.capability, self.funded_level(), self.execution_rate)
        self.pressure = approach(self.pressure, self.declared_pressure, self.execution_rate)
        declared = self.declared_offer()
        self.offer = {attribute: approach(level, declared[attribute], self.execution_rate)
                      for attribute, level in self.offer.items()}

        target = culture_target(cfg.communication, self.metric_orientation,
                                self.incentive_orientation, self.split, self.pressure,
                                self.org_orientation)
        self.culture = approach(self.culture, target,
                                1.0 - math.exp(-1.0 / m.culture_lag_quarters))
        motivated = cfg.incentive != "transactions"
        self.will = approach(self.will, will_target(
            self.culture, cfg.communication, motivated, cfg.incentive_granularity,
            m.incentive_motivation), self.execution_rate)
        self.being = approach(self.being, being_target(self.culture, self.funding), m.being_rate)
        turnover = staff_turnover(self.being, m.base_turnover, m.turnover_sensitivity)
        self.skill = update_skill(self.skill, turnover, m.new_hire_skill, m.learning_rate)
        self.power = approach(self.power, cfg.power, self.execution_rate)

    def workshop(self, will: float, power: float, being: float) -> None:
        """Seed 003: a workshop mobilises the front line at once; its effect then fades."""
        self.will = min(max(self.will + will, 0.0), 1.0)
        self.power = min(max(self.power + power, 0.0), 1.0)
        self.being = min(max(self.being + being, 0.0), 1.0)

    def acquisition_hazard(self, scenario: Config, prospects: int) -> float:
        """Per-prospect acquisition hazard per day while this quarter's budget lasts."""
        m = scenario.market
        spend = 4.0 * self.acquisition_budget / max(prospects, 1)
        return acquisition_hazard(spend, m.organic_acquisition_per_year,
                                  m.max_paid_acquisition_per_year, m.acquisition_spend_scale)
