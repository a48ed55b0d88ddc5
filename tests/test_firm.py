"""The firm's rules (``cxsim/model/firm.py``) and how the engine applies them."""

from __future__ import annotations

import numpy as np
import pytest

import cxsim
from cxsim.config import to_config
from cxsim.model import firm as rules

TINY = ["market.size=1500", "sim.years=2"]


def test_culture_target_is_the_mean_client_orientation_of_five_levers():
    assert rules.culture_target(1.0, 1.0, 1.0, 1.0, 0.0, 1.0) == pytest.approx(1.0)
    assert rules.culture_target(0.0, 0.0, 0.0, 0.0, 1.0, 0.0) == pytest.approx(0.0)
    assert rules.culture_target(0.5, 0.0, 1.0, 0.6, 0.2, 0.3) == pytest.approx(
        (0.5 + 0.0 + 1.0 + 0.7 + 0.3) / 5)


def test_a_missed_target_cuts_cx_and_a_falling_kpi_restores_it():
    declared = 0.7
    assert rules.reviewed_split(0.7, declared, 0.5, 0.0, 2.0, 0.5, False, 0.05) == 0.7
    cut = rules.reviewed_split(0.7, declared, 0.5, 0.1, 2.0, 0.5, False, 0.05)
    assert cut == pytest.approx(0.7 * 0.8)
    deep = rules.reviewed_split(0.7, declared, 0.5, 0.9, 2.0, 0.5, False, 0.05)
    assert deep == pytest.approx(0.35)  # at most max_cut in a quarter
    assert rules.reviewed_split(0.5, declared, 0.5, 0.0, 2.0, 0.5, True, 0.05) == pytest.approx(
        0.6 + 0.05)


def test_a_cco_floor_keeps_cx_near_last_years_mean():
    history = [100.0, 110.0, 90.0, 100.0, 500.0]
    assert rules.floored_cx_budget(40.0, 0.95, history) == pytest.approx(0.95 * 200.0)
    assert rules.floored_cx_budget(400.0, 0.95, history) == 400.0
    assert rules.floored_cx_budget(40.0, 0.0, history) == 40.0


def test_money_moves_to_the_touchpoints_that_hurt():
    money = np.array([0.25, 0.25, 0.5])
    visits = np.array([10.0, 10.0, 20.0])
    seen = np.array([0.5, -0.5, 0.5])
    moved = rules.reallocated_weights(money, visits, seen, 0.2)
    assert moved.sum() == pytest.approx(1.0)
    assert moved[1] > money[1] and moved[0] < money[0]
    assert np.array_equal(rules.reallocated_weights(money, visits, seen, 0.0), money)
    unheard = rules.reallocated_weights(money, visits, np.full(3, np.nan), 0.2)
    assert np.array_equal(unheard, money)


def test_skill_is_lost_fast_and_rebuilt_slowly():
    """Staff who leave take their skill: a bad year costs more than a good year restores."""
    skill = 0.7
    for _ in range(4):  # a year of staff feeling unvalued
        skill = rules.update_skill(skill, rules.staff_turnover(0.0, 0.05, 0.15), 0.3, 0.1)
    low = skill
    for _ in range(4):  # a year of staff valued again
        skill = rules.update_skill(skill, rules.staff_turnover(1.0, 0.05, 0.15), 0.3, 0.1)
    assert low < 0.7 and skill < 0.7


def test_rational_value_counts_a_relationship_only_for_recognised_clients():
    needs = np.array([[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    value = rules.rational_value(needs, 1.0, {"relationship": 0.8},
                                 identifiability=np.array([0.5, 0.5]))
    assert value == pytest.approx([0.4, 0.5])


def test_execution_is_a_yearly_share_of_the_gap():
    rate = rules.execution_rate(0.75)
    gap = 1.0
    for _ in range(4):
        gap *= 1 - rate
    assert gap == pytest.approx(0.25)


def test_coaching_needs_an_incentive_on_measured_nps():
    assert rules.coaching_probability(False, 1.0, 0.0, 0.5) == 0.0
    assert rules.coaching_probability(True, 1.0, 0.0, 0.5) == 0.5
    assert rules.coaching_probability(True, 1.0, 1.0, 0.5) == 0.0


# ------------------------------------------------------------------ the engine


@pytest.fixture(scope="module")
def frozen():
    return cxsim.run(cxsim.compose([*TINY, "management.review=false"]))


def test_without_reviews_the_firm_stays_as_declared(frozen):
    ts = frozen.timeseries
    for _, rows in ts.groupby("firm"):
        for column in ("culture", "will", "power", "skill", "funding", "cx_budget_split"):
            assert rows[column].nunique() == 1, column
    assert (ts.cx_spend > 0).all()


def test_reviews_move_culture_toward_the_levers():
    ts = cxsim.run(cxsim.compose(TINY)).timeseries
    culture = ts.pivot(index="month", columns="firm", values="culture")
    assert culture.client_first.iloc[-1] > culture.client_first.iloc[0] == 0.5
    assert culture.sales_first.iloc[-1] < culture.sales_first.iloc[0] == 0.5


def test_a_shock_cuts_revenue_in_its_months_only():
    shock = ["+events.crash.kind=shock", "+events.crash.start_month=6", "+events.crash.months=3",
             "+events.crash.order_value_factor=0.5", "+events.crash.need_rate_factor=1"]
    base = cxsim.run(cxsim.compose([*TINY, "management.review=false"]))
    hit = cxsim.run(cxsim.compose([*TINY, "management.review=false", *shock]))
    ratio = (hit.timeseries.revenue / hit.timeseries.purchases).to_numpy().reshape(2, -1)
    normal = (base.timeseries.revenue / base.timeseries.purchases).to_numpy().reshape(2, -1)
    assert np.allclose(ratio[:, 6:9], 0.5 * normal[:, 6:9])
    assert np.allclose(ratio[:, :6], normal[:, :6])


def test_a_workshop_lifts_the_front_line_of_its_firm_only():
    workshop = ["+events.w.kind=workshop", "+events.w.start_month=4", "+events.w.firm=sales_first"]
    base = cxsim.run(cxsim.compose(TINY)).timeseries
    lifted = cxsim.run(cxsim.compose([*TINY, *workshop])).timeseries
    mine = (lifted.firm == "sales_first") & (lifted.month == 4)
    assert (lifted.will[mine].item() - base.will[mine].item()) == pytest.approx(0.2)
    other = (lifted.firm == "client_first") & (lifted.month == 4)
    assert lifted.will[other].item() == base.will[other].item()


def test_presets_fill_only_what_the_firm_leaves_unset():
    cfg = to_config(cxsim.compose(["firms.client_first.acquisition_share=0.55"]))
    firm = cfg.firms["client_first"]
    assert firm.acquisition_share == 0.55
    assert firm.metric == "clv" and firm.org == "cco" and firm.budget_share == 0.2
    assert to_config(cxsim.compose(["firms.client_first.org=no_cco"])).firms[
        "client_first"].cx_floor == 0.0


def test_cx_split_puts_the_money_where_it_says():
    """All CX money on delivery: funded there, unfunded elsewhere; default follows visits."""
    from cxsim.config import config_dir
    from cxsim.model.firm import Firm

    solo = [*TINY, "scenario=solo"]
    scenario = to_config(cxsim.compose([*solo, "+firms.acme.cx_split.delivery=2.5"]))
    firm = Firm("acme", scenario.firms["acme"], scenario, config_dir() / "journey")
    delivery = firm.journey.touchpoints.index("delivery")
    assert firm.money[delivery] == 1.0 and firm.money.sum() == 1.0
    firm.start(1_000_000.0)
    funded = firm.funded_level()
    assert funded[delivery] > 0 and np.delete(funded, delivery).max() == 0.0
    plain = to_config(cxsim.compose(solo))
    even = Firm("acme", plain.firms["acme"], plain, config_dir() / "journey")
    assert np.allclose(even.money, even.visit_share)


def test_the_offer_clients_weigh_is_the_one_delivered_so_far():
    """The declared offer reaches clients at the execution rate, from the shared history."""
    from cxsim.config import config_dir
    from cxsim.model.firm import Firm

    scenario = to_config(cxsim.compose([*TINY, "firms.client_first.execution=0.75"]))
    m = scenario.management
    firm = Firm("client_first", scenario.firms["client_first"], scenario,
                config_dir() / "journey")
    assert firm.offer == {"speed": m.initial_speed, "assortment": m.initial_assortment,
                          "relationship": m.initial_relationship}
    firm.start(1_000_000.0)
    unheard = np.full(firm.journey.n_touchpoints, np.nan)
    for _ in range(4):
        firm.review(1_000_000.0, 1_000_000.0, 0.0, unheard, np.zeros_like(unheard))
    declared = firm.declared_offer()
    assert declared["relationship"] == 0.8
    assert firm.offer["relationship"] == pytest.approx(
        declared["relationship"] - 0.25 * (declared["relationship"] - m.initial_relationship))
    frozen = to_config(cxsim.compose([*TINY, "management.review=false"]))
    stays = Firm("client_first", frozen.firms["client_first"], frozen, config_dir() / "journey")
    stays.start(1_000_000.0)
    assert stays.offer == stays.declared_offer()


def test_an_org_chart_pulls_culture_by_its_own_key():
    cco = to_config(cxsim.compose(["firms.sales_first.org=cco"])).firms["sales_first"]
    assert (cco.cx_floor, cco.org_culture) == (0.95, 1.0)
    culture_only = to_config(cxsim.compose(["firms.sales_first.org_culture=1.0"]))
    assert (culture_only.firms["sales_first"].cx_floor,
            culture_only.firms["sales_first"].org_culture) == (0.0, 1.0)


def test_perception_noise_halves_at_full_being():
    assert rules.perception_noise(0.1, 1.0) == pytest.approx(0.05)
    assert rules.perception_noise(0.1, 0.0) == pytest.approx(0.15)


def test_personal_quality_needs_identifiable_clients():
    gained = rules.personal_quality(0.2, np.array([0.5, 0.5]), np.array([0.0, 1.0]))
    assert gained.tolist() == [0.0, pytest.approx(0.1)]


def test_walk_revenue_is_paid_on_purchases_only():
    revenue = rules.walk_revenue(np.array([True, False]), np.array([100.0, 100.0]),
                                 np.array([1.1, 1.1]), np.array([1.0, 1.0]),
                                 np.array([0.5, 0.5]))
    assert revenue.tolist() == [pytest.approx(55.0), 0.0]


def test_normal_revenue_sums_each_firms_clients():
    cycles = np.array([[0.5, 1.0], [10.0, 0.0]])  # purchase chance, walk days per firm
    revenue = rules.normal_revenue(np.array([0, 0, 1]), np.array([100.0, 100.0, 50.0]),
                                   np.array([20.0, 20.0, 10.0]), np.array([1.0, 2.0]), cycles,
                                   90.0, 2)
    assert revenue == pytest.approx([2 * 100 * 0.5 * 90 / 30, 50 * 2 * 90 / 10])
