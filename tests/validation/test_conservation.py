"""Conservation: no client or money appears or vanishes."""

from __future__ import annotations

import numpy as np
import pytest

import cxsim


@pytest.fixture(scope="module")
def results():
    return cxsim.run(cxsim.compose(["market.size=3000", "sim.years=2", "seed=11"]))


@pytest.mark.validation
def test_stock_flow_each_month(results):
    ts = results.timeseries
    active = ts.active_clients.to_numpy()
    initial = (results.clients.source == "initial").sum()
    previous = np.concatenate([[initial], active[:-1]])
    assert np.array_equal(active, previous + ts.acquisitions.to_numpy() - ts.churned.to_numpy())


@pytest.mark.validation
def test_every_client_is_in_exactly_one_state(results):
    ts = results.timeseries
    size = results.config["market"]["size"]
    assert np.all(ts.active_clients + ts.prospects + ts.left_market == size)
    clients = results.clients
    open_rows = clients[clients.churned_at.isna()]
    assert open_rows.client.is_unique
    assert len(open_rows) == ts.active_clients.iloc[-1]
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
