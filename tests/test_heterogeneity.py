"""Clients who differ within a segment (BG/NBD rates and dropout, Gamma–Gamma spend), and
cohorts that join on their own days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cxsim
from cxsim.config import DAYS_PER_YEAR, to_config
from cxsim.model.market import ClientState, Segments
from cxsim.model.psychology import purchase_spend
from cxsim.simulation.engine import simulate_replications
from cxsim.simulation.results import TABLES
from tests.validation.conftest import within_bound

SMALL = ["market.size=600", "sim.years=1"]
RATE, ALPHA_YEARS, A, B, P, Q, GAMMA = 2.0, 0.25, 1.5, 20.0, 6.0, 4.0, 45.0
SPREAD = ["market.segments.core.mean_days_between_needs=null",
          f"market.segments.core.purchase_rate={{r: {RATE}, alpha_years: {ALPHA_YEARS}}}",
          f"market.segments.core.dropout={{a: {A}, b: {B}}}",
          "market.segments.core.order_value=null",
          f"market.segments.core.spend={{p: {P}, q: {Q}, gamma: {GAMMA}}}"]


def _same(a: cxsim.Results, b: cxsim.Results) -> None:
    """Every table equal, bit for bit, but for the columns naming the config."""
    for name in TABLES:
        if getattr(a, name) is not None:
            mine, theirs = (getattr(r, name).drop(columns=["run_id", "config_hash"],
                                                  errors="ignore") for r in (a, b))
            pd.testing.assert_frame_equal(mine, theirs, check_exact=True, obj=name)


def test_without_heterogeneity_a_spread_segment_is_the_fixed_one_at_its_means():
    """``market.heterogeneity=false`` puts every client at the mean rate r / α, dropout
    a / (a + b) and spend p γ / (q - 1): the run equals the fixed segment's with those
    values, table for table (emotions, two firms, word of mouth all on)."""
    mean = cxsim.run(cxsim.compose([*SMALL, *SPREAD, "market.heterogeneity=false"]))
    fixed = cxsim.run(cxsim.compose([
        *SMALL,
        f"market.segments.core.mean_days_between_needs={DAYS_PER_YEAR * ALPHA_YEARS / RATE!r}",
        f"psychology.base_churn={A / (A + B)!r}",
        f"market.segments.core.order_value={P * GAMMA / (Q - 1.0)!r}"]))
    _same(mean, fixed)


def test_each_client_draws_its_own_rate_dropout_and_spend():
    """The set-up draws follow Gamma(r, α) per year, Beta(a, b) and p / Gamma(q, γ): their
    means and the rates' variance r / α² within 4 SE (bounds 2-5%)."""
    cfg = to_config(cxsim.compose(["market.size=200000", "network=none", *SPREAD]))
    state = ClientState(cfg, Segments(cfg), np.random.default_rng(7))
    rate = DAYS_PER_YEAR / state.need_mean
    within_bound(rate, RATE / ALPHA_YEARS, 0.02)
    within_bound((rate - RATE / ALPHA_YEARS) ** 2, RATE / ALPHA_YEARS**2, 0.05)
    within_bound(state.dropout, A / (A + B), 0.02)
    within_bound(state.order_value, P * GAMMA / (Q - 1.0), 0.02)
    assert (state.spend_shape == P).all()


def test_a_purchase_spends_a_gamma_draw_around_its_clients_mean():
    u = np.random.default_rng(1).random(200_000)
    mean = np.full(u.size, 30.0)
    spent = purchase_spend(mean, np.full(u.size, P), u)
    within_bound(spent, 30.0, 0.01)
    within_bound((spent - 30.0) ** 2, 30.0**2 / P, 0.03)
    assert purchase_spend(mean, np.zeros(u.size), u) is mean


def test_spread_clients_side_by_side_are_the_runs_alone(tmp_path):
    """Each replication draws its clients from its own population stream, so replications
    side by side are still the runs alone, cohort included."""
    days = np.sort(np.random.default_rng(0).uniform(0, 200, 400)).round(2)
    pd.DataFrame({"acquired_day": days,
                  "firm": np.where(np.arange(400) % 3, "client_first", "sales_first")}
                 ).to_csv(tmp_path / "cohort.csv", index=False)
    cfg = to_config(cxsim.compose([
        "market.size=400", "sim.years=1", *SPREAD, f"market.cohort={tmp_path / 'cohort.csv'}",
        "firms.client_first.initial_share=0", "firms.sales_first.initial_share=0",
        "market.segments.core.dropout_after=repeat_purchase"]))
    together = simulate_replications(cfg, [3, 0])
    for replication, results in zip([3, 0], together):
        _same(results, cxsim.run(cfg, replication=replication))


def test_a_cohort_joins_its_firms_on_its_days(tmp_path):
    days = [0.0, 0.5, 10.25, 40.0, 100.0]
    pd.DataFrame({"acquired_day": days, "firm": ["sales_first", "client_first"] * 2
                  + ["sales_first"]}).to_parquet(tmp_path / "cohort.parquet")
    results = cxsim.run(cxsim.compose([
        "market.size=5", "network=none", "sim.years=0.5", "sim.record_journeys=true",
        f"market.cohort={tmp_path / 'cohort.parquet'}", "firms.client_first.initial_share=0",
        "firms.sales_first.initial_share=0", "market.organic_acquisition_per_year=0",
        "market.max_paid_acquisition_per_year=0"]))
    first = results.clients.sort_values("acquired_at").drop_duplicates("client")
    assert first.acquired_at.tolist() == days
    assert first.source.tolist() == ["initial"] * 5
    assert first.firm.tolist() == ["sales_first", "client_first"] * 2 + ["sales_first"]
    walks = results.journeys.sort_values("need_at").drop_duplicates("client")
    assert walks.sort_values("client").need_at.tolist() == days  # the first purchase at once
    assert results.timeseries.acquisitions.sum() == 5


@pytest.mark.parametrize("rule", ["repeat_purchase", "walk"])
def test_dropout_after_a_repeat_purchase_only(rule):
    """With ``dropout_after=repeat_purchase`` nobody leaves after its first purchase; with
    ``walk`` (the negative control) many do."""
    results = cxsim.run(cxsim.compose([
        "scenario=solo", "market.size=3000", "network=none", "sim.years=1",
        "psychology.base_churn=0.3", "market.return_per_year=0",
        f"market.segments.core.dropout_after={rule}"]))
    left = results.clients[results.clients.churned_at.notna()]
    after_one = int((left.purchases <= 1).sum())
    if rule == "repeat_purchase":
        assert len(left) > 200 and after_one == 0
    else:
        assert after_one > 100


def test_a_cohort_client_counts_from_the_sample_after_its_day():
    """A client joining at day 30.6 is not among month 0's active clients (sampled at
    30.44), one joining at 30.2 is: arrivals are cut at samples as marketing's are."""
    results = cxsim.run(cxsim.compose([
        "scenario=solo", "market.size=4", "network=none", "sim.years=0.25",
        "market.cohort=[0, 30.2, 30.6, 61]", "firms.acme.initial_share=0",
        "psychology.base_churn=0", "psychology.emotions=false"]))
    assert results.timeseries.active_clients.tolist() == [2, 3, 4]
    assert results.timeseries.acquisitions.tolist() == [2, 1, 1]


def test_a_cohort_file_gives_each_client_its_segment(tmp_path):
    """Negative control built in: the mixed market's shares (40/60) would put 2 of 5 clients
    in b2b by draw; the file says 4."""
    pd.DataFrame({"acquired_day": [0.0, 1.0, 2.0, 3.0, 4.0],
                  "firm": ["client_first"] * 5,
                  "segment": ["b2b", "b2b", "b2b", "b2b", "consumer"]}
                 ).to_csv(tmp_path / "cohort.csv", index=False)
    results = cxsim.run(cxsim.compose([
        "market=mixed", "market.size=5", "network=none", "sim.years=0.2",
        f"market.cohort={tmp_path / 'cohort.csv'}", "firms.client_first.initial_share=0",
        "firms.sales_first.initial_share=0"]))
    joined = results.segments.groupby("segment").acquisitions.sum()
    assert joined.to_dict() == {"b2b": 4, "consumer": 1}
