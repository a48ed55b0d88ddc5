"""Conservation: no client or money appears or vanishes, with two firms competing."""

from __future__ import annotations

import numpy as np
import pytest

import cxsim

# The default two-firm market, with switching, returns to the market and word of
# mouth; no sales pressure, so every purchase is worth exactly the order value.
NO_UPSELL = ["management.initial_pressure=0", "firms.sales_first.sales_pressure=0",
             "firms.sales_first.incentive=clv", "firms.client_first.sales_pressure=0"]


@pytest.fixture(scope="module")
def results():
    return cxsim.run(cxsim.compose(["market.size=3000", "sim.years=2", "seed=11", *NO_UPSELL]))


@pytest.mark.validation
def test_stock_flow_each_month_for_each_firm(results):
    ts, clients = results.timeseries, results.clients
    for firm, rows in ts.groupby("firm"):
        active = rows.active_clients.to_numpy()
        initial = ((clients.firm == firm) & (clients.source == "initial")).sum()
        previous = np.concatenate([[initial], active[:-1]])
        assert np.array_equal(active, previous + rows.acquisitions.to_numpy()
                              - rows.churned.to_numpy()), firm
    assert ts.acquisitions_switch.sum() > 0 and ts.returned.sum() > 0  # both flows exercised


@pytest.mark.validation
def test_every_client_is_in_exactly_one_state(results):
    ts = results.timeseries
    size = results.config["market"]["size"]
    by_month = ts.groupby("month")
    active = by_month.active_clients.sum()
    assert np.all(active + by_month.prospects.first() + by_month.left_market.first() == size)
    clients = results.clients
    open_rows = clients[clients.churned_at.isna()]
    assert open_rows.client.is_unique
    assert len(open_rows) == active.iloc[-1]
    assert (clients.churned_at.dropna() >= clients.acquired_at[clients.churned_at.notna()]).all()


@pytest.mark.validation
def test_money_in_timeseries_equals_money_in_clients(results):
    ts, clients = results.timeseries, results.clients
    assert ts.revenue.sum() == pytest.approx(clients.revenue.sum(), rel=1e-12)
    assert ts.margin.sum() == pytest.approx(clients.margin.sum(), rel=1e-12)
    assert ts.purchases.sum() == clients.purchases.sum()
    assert (clients.clv <= clients.margin + 1e-9).all()
    order_value = results.config["market"]["segments"]["core"]["order_value"]
    assert clients.revenue.sum() == pytest.approx(order_value * clients.purchases.sum())


@pytest.mark.validation
def test_budgets_are_spent_as_set(results):
    """Each quarter's spend is the budget set from the quarter before: budget_share x revenue."""
    ts = results.timeseries
    cfg = cxsim.config.to_config(cxsim.compose(["market.size=3000", "sim.years=2", *NO_UPSELL]))
    for firm, rows in ts.groupby("firm"):
        spend = (rows.cx_spend + rows.acquisition_spend).to_numpy().reshape(-1, 3).sum(axis=1)
        revenue = rows.revenue.to_numpy().reshape(-1, 3).sum(axis=1)
        share = cfg.firms[firm].budget_share
        floor = cfg.firms[firm].cx_floor
        if floor == 0:  # without a CCO the budget is exactly the share of revenue
            assert spend[1:] == pytest.approx(share * revenue[:-1], rel=1e-9), firm
        else:  # a CCO may defend CX spend above it, never below
            assert np.all(spend[1:] >= share * revenue[:-1] * (1 - 1e-9)), firm


@pytest.mark.validation
def test_segments_add_up_to_their_firm():
    """Per firm and month, the segment rows sum to the firm's row (a mixed market), and their
    active clients to the count the client ledger gives at the month's end: clients acquired
    by then and not yet churned, two bookkeepings kept apart in the engine."""
    results = cxsim.run(cxsim.compose(["market=mixed", "market.size=1500", "sim.years=1"]))
    ts, segments = results.timeseries, results.segments
    assert set(segments.segment) == {"b2b", "consumer"}
    summed = segments.groupby(["firm", "month"], sort=False)[
        ["active_clients", "acquisitions", "churned", "purchases", "revenue"]].sum()
    mine = ts.set_index(["firm", "month"]).loc[summed.index]
    for column in summed.columns:
        assert np.allclose(summed[column], mine[column]), column
    for firm, rows in ts.groupby("firm"):
        ledger = results.clients[results.clients.firm == firm]
        active = [((ledger.acquired_at <= day) & ~(ledger.churned_at <= day)).sum()
                  for day in rows.t_days]
        by_segment = segments[segments.firm == firm].groupby("month").active_clients.sum()
        assert np.array_equal(by_segment.to_numpy(), active), firm

