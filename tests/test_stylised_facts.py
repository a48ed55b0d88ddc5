"""The stylised facts of the source articles, as emergent results over paired replications.

Each scenario runs R replications; replication *i* of every scenario uses
the same root seed, so the scenarios share their random streams (common
random numbers) and are compared by paired differences. "Higher" means the
paired 95% Student-t interval excludes 0. Nothing here, and no code path in
cxsim, knows which firm should win: the presets differ only in their levers
(``configs/strategy``), and the markets only in their segments
(``configs/market``).

Sizes are reduced honestly (1,500 clients, 3-4 years, R = 20; 10 for the paired
lever tests) so the file stays within the suite's budget; the effects measured are many times their
interval's half-width (see the note in each test).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import cxsim
from cxsim.results import crossover_month, mean_ci

R = 20
LEVER_R = 10
"""The two lever tests compare one firm with itself on common random numbers (keyed draws,
``cxsim.streams``), so 10 pairs suffice: at 10, measured on 2026-11-23, CX during the shock
+192 [165, 219], final-year CLV +56 [40, 71], NPS inflation +7.1 [6.8, 7.3], perception gap
+9.1 [8.2, 9.9] -- each at least 8 standard errors from 0."""
SMALL = ["market.size=1500", "sim.years=4"]
SHOCK = ["+events.crash.kind=shock", "+events.crash.start_month=12", "+events.crash.months=6",
         "sim.years=3"]


@cache
def runs(*overrides: str, n: int = R) -> tuple[cxsim.Results, ...]:
    cfg = cxsim.compose([*SMALL, *overrides])
    return tuple(cxsim.run(cfg, replication=i) for i in range(n))


def series(results, firm: str, column: str) -> np.ndarray:
    """One row per replication, one column per month."""
    return np.array([r.timeseries.loc[r.timeseries.firm == firm, column].to_numpy()
                     for r in results])


def summary(results, firm: str, column: str) -> np.ndarray:
    return np.array([r.summary.set_index("firm").loc[firm, column] for r in results])


def ci(values: np.ndarray) -> tuple[float, float, float]:
    return mean_ci(np.asarray(values, dtype=float))


def advantage(market: str) -> dict[str, np.ndarray]:
    """Per replication, the relationship-focused firm's lead over the sales-focused one."""
    results = runs(f"market={market}")
    share = series(results, "client_first", "share") - series(results, "sales_first", "share")
    return {
        "share_by_month": share,
        "share_first_year": share[:, :12].mean(axis=1),
        "share_final_year": share[:, -12:].mean(axis=1),
        "clv_final_year": summary(results, "client_first", "clv_final_year")
        - summary(results, "sales_first", "clv_final_year"),
    }


@pytest.mark.xdist_group("markets")
def test_recurring_b2b_sales_lead_early_relationship_wins_later():
    """Seed 001's rule: transactions pay first, relationships win where clients recur and talk."""
    lead = advantage("recurring_b2b")
    early = ci(lead["share_first_year"])
    assert early[2] < 0, f"sales focus should lead months 1-12; client_first - sales_first {early}"
    late = ci(lead["share_final_year"])
    assert late[1] > 0, f"relationship focus should lead the final year; {late}"
    clv = ci(lead["clv_final_year"])
    assert clv[1] > 0, f"relationship focus should have the higher final-year CLV; {clv}"
    month = crossover_month(lead["share_by_month"])
    assert month is not None and 1 <= month < lead["share_by_month"].shape[1] - 12
    print(f"crossover month {month}; first-year share lead {early}; final-year {late}")


@pytest.mark.xdist_group("markets")
def test_one_off_consumers_are_the_exception():
    """Seed 001's exception: rare, anonymous, silent clients do not repay relationship focus."""
    b2b, retail = advantage("recurring_b2b"), advantage("one_off_consumer")
    for key in ("share_final_year", "clv_final_year"):
        none = ci(retail[key])
        assert none[1] <= 0, f"{key}: no significant advantage expected; {none}"
        gap = ci(b2b[key] - retail[key])
        assert gap[1] > 0, f"{key}: the advantage should be smaller than in recurring_b2b; {gap}"


@pytest.mark.xdist_group("markets")
def test_relationship_focus_wins_more_by_referral():
    """Promoters refer: the client-focused firm's new clients come more often by referral."""
    results = runs("market=recurring_b2b")
    lead = ci(summary(results, "client_first", "referral_share")
              - summary(results, "sales_first", "referral_share"))
    assert lead[1] > 0, f"referral share, client_first - sales_first: {lead}"


@pytest.mark.xdist_group("no_network")
def test_without_a_network_nobody_is_referred():
    results = runs("market=recurring_b2b", "network=none")
    for firm in ("sales_first", "client_first"):
        assert series(results, firm, "acquisitions_referral").sum() == 0
        assert np.all(summary(results, firm, "referral_share") == 0)


@pytest.mark.xdist_group("levers")
def test_a_cco_protects_cx_through_a_revenue_shock():
    """Seed 001: "org chart is destiny". Same sales-focused strategy, with and without a CCO."""
    without = runs("market=recurring_b2b", *SHOCK, "firms.sales_first.org=no_cco", n=LEVER_R)
    with_cco = runs("market=recurring_b2b", *SHOCK, "firms.sales_first.org=cco", n=LEVER_R)
    shock = slice(12, 18)
    cx = ci(series(with_cco, "sales_first", "cx_spend")[:, shock].mean(axis=1)
            - series(without, "sales_first", "cx_spend")[:, shock].mean(axis=1))
    assert cx[1] > 0, f"CX spend during the shock, cco - no_cco: {cx}"
    clv = ci(summary(with_cco, "sales_first", "clv_final_year")
             - summary(without, "sales_first", "clv_final_year"))
    assert clv[1] > 0, f"final-year CLV, cco - no_cco: {clv}"


@pytest.mark.xdist_group("levers")
def test_paying_on_measured_nps_inflates_the_measure():
    """Seed 000: a KPI paid on becomes a surrogate; measured NPS rises more than true NPS."""
    paid_per_sale = runs("market=recurring_b2b", "sim.years=3",
                         "firms.sales_first.incentive=transactions", n=LEVER_R)
    paid_on_nps = runs("market=recurring_b2b", "sim.years=3",
                       "firms.sales_first.incentive=measured_nps", n=LEVER_R)

    def change(column):
        return (summary(paid_on_nps, "sales_first", column)
                - summary(paid_per_sale, "sales_first", column))

    inflation = ci(change("nps_measured") - change("nps_true"))
    assert inflation[1] > 0, f"measured minus true NPS change: {inflation}"
    gap = ci(series(paid_on_nps, "sales_first", "perception_gap")[:, -12:].mean(axis=1)
             - series(paid_per_sale, "sales_first", "perception_gap")[:, -12:].mean(axis=1))
    assert gap[1] > 0, f"final-year perception gap grows: {gap}"
