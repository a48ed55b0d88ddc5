"""The stylised facts of the source articles: emergent results with negative controls.

Each test states a claim, the mechanism it should come from, and at least
one negative control: the same scenario with that mechanism removed by a
config key, where the effect must vanish (its CI covers 0, or in the
claimed direction it is at most a quarter of the effect). Scenarios run R
paired replications: replication *i* of every scenario uses the same root
seed, so they share their random streams (common random numbers) and are
compared by paired differences with 95% Student-t intervals. Nothing here,
and no code path in cxsim, knows which firm should win: the presets differ
only in their levers (``configs/strategy``) and the markets only in their
segments (``configs/market``).

Every test hands its measured rows to ``facts.record``, which checks that
the table in ``docs/model.md`` ("What emerges, from what, and what kills
it") shows the same numbers; ``make facts`` refreshes that table.

Sizes are reduced honestly (1,500 clients; 4 years, R = 20 for the markets,
10 for the exception's factors one at a time; 3 years, R = 10 for the
paired lever tests) so the file stays within the
suite's budget. Each row carries the pairs a 5% test needs for 90% power at
the effect and spread measured, and the tests assert R is at least that.
Every row says how its verdict is held: asserted here, only reported, or
an identity (a control that is 0 by construction, with the reason).
"""

from __future__ import annotations

import fcntl
import hashlib

import numpy as np
import pandas as pd
import pytest

import cxsim
from cxsim.simulation.experiment import Ensemble
from cxsim.simulation.results import crossover, crossover_month, month_number
from tests.facts import ASSERTED, REPORTED, Estimate, Row, identity, ratio, record

R = 20
LEVER_R = 10
FACTOR_R = 10  # each factor of the exception alone
EQUAL_R = 40  # the referral effect with equal budgets: 20 pairs put its power need at 58
SMALL = ["market.size=1500", "sim.years=4"]
B2B = [*SMALL, "market=recurring_b2b"]
SEGMENT = "market.segments.b2b"
RARE = f"{SEGMENT}.mean_days_between_needs=365"
ANONYMOUS = f"{SEGMENT}.identifiability=0.1"
SILENT = f"{SEGMENT}.social_influence=0.05"
LEVER = ["market.size=1500", "sim.years=3", "market=recurring_b2b"]
SHOCK = ["+events.crash.kind=shock", "+events.crash.start_month=12", "+events.crash.months=6"]
SHOCK_MONTHS = slice(12, 18)
EQUAL_BUDGETS = ("firms.sales_first.acquisition_share=0.5",
                 "firms.client_first.acquisition_share=0.5")


@pytest.fixture(scope="session")
def runs(tmp_path_factory, worker_id):
    """Replications 0..n-1 of a scenario, run once per test session, whichever worker asks.

    Several facts share a scenario (recurring_b2b is the reference of
    three), so ensembles are kept as Parquet in a folder the session's
    workers share; a lock makes a worker that asks second wait for the
    first one's run instead of repeating it.
    """
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if worker_id != "master" else base) / "stylised_facts"
    folder.mkdir(exist_ok=True)

    def get(*overrides: str, n: int = R) -> Ensemble:
        key = hashlib.sha256(repr((overrides, n)).encode()).hexdigest()[:16]
        path = folder / key
        with open(folder / f"{key}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (path / "timeseries.parquet").is_file():
                ensemble = cxsim.replicate(cxsim.compose(list(overrides)), n, progress=False)
                path.mkdir()
                ensemble.summary.to_parquet(path / "summary.parquet")
                ensemble.timeseries.to_parquet(path / "timeseries.parquet")
        return Ensemble(pd.read_parquet(path / "summary.parquet"),
                        pd.read_parquet(path / "timeseries.parquet"))

    return get


def series(ensemble: Ensemble, firm: str, column: str) -> np.ndarray:
    """One row per replication, one column per month."""
    rows = ensemble.timeseries[ensemble.timeseries.firm == firm]
    return rows.pivot(index="replication", columns="month", values=column).to_numpy()


def summary(ensemble: Ensemble, firm: str, column: str) -> np.ndarray:
    """One value per replication, in replication order."""
    rows = ensemble.summary[ensemble.summary.firm == firm]
    return rows.sort_values("replication")[column].to_numpy()


def lead(results) -> dict[str, np.ndarray]:
    """Per replication, the relationship-focused firm's lead over the sales-focused one."""
    share = 100 * (series(results, "client_first", "share")
                   - series(results, "sales_first", "share"))

    def gap(column: str) -> np.ndarray:
        return summary(results, "client_first", column) - summary(results, "sales_first", column)

    return {
        "share_by_month": share,
        "share_first_year": share[:, :12].mean(axis=1),
        "share_final_year": share[:, -12:].mean(axis=1),
        "clv_final_year": gap("clv_final_year"),
        "referrals": 100 * gap("referrals_per_client_year"),
        "referral_share": 100 * gap("referral_share"),
    }


def vanished(control: Estimate, effect: Estimate) -> bool:
    """The claimed effect is gone: CI covers 0, or in its direction at most 25% of it."""
    return control.covers_zero or np.sign(effect.mean) * control.mean <= 0.25 * abs(effect.mean)


def powered(effect: Estimate) -> int:
    """Pairs needed for 90% power; the test's pairs must be at least that."""
    needed = effect.pairs_for_power()
    assert effect.n >= needed, f"{effect.n} pairs, {needed} needed for 90% power: {effect}"
    return needed


# ------------------------------------------------------------- the crossover
CROSSOVER_MECHANISMS = ("trust (asymmetric; in churn), memory (in churn), referrals and the "
                        "acquisition split vs. the execution and culture lags")


def test_recurring_b2b_sales_lead_early_relationship_wins_later(runs):
    """Seed 001's rule: transactions pay first, relationships win where clients recur and talk.

    Mechanism: the relationship firm's better journeys become trust and
    memory, which keep clients (lower churn), and promoters' referrals; the
    sales firm buys more new clients, and the relationship firm's strategy
    reaches the front line only at the execution rate, its culture only at
    the culture lag. Which of these carries how much is
    :func:`test_the_crossover_decomposed`'s. Control: the same strategy for
    both firms (nothing to win by).
    """
    b2b = lead(runs(*B2B))
    same = lead(runs(*B2B, "firms.sales_first.strategy=relationship_focused"))
    early, early_same = Estimate.of(b2b["share_first_year"]), Estimate.of(same["share_first_year"])
    late, late_same = Estimate.of(b2b["share_final_year"]), Estimate.of(same["share_final_year"])
    clv, clv_same = Estimate.of(b2b["clv_final_year"]), Estimate.of(same["clv_final_year"])
    crossing, crossing_same = crossover(b2b["share_by_month"]), crossover(same["share_by_month"])

    assert early.below_zero, f"sales focus should lead months 1-12: {early}"
    assert late.above_zero, f"relationship focus should lead the final year: {late}"
    assert clv.above_zero, f"relationship focus should have the higher final-year CLV: {clv}"
    assert crossing.claimed and crossing.sure < b2b["share_by_month"].shape[1] - 12
    for control in (early_same, late_same, clv_same):
        assert control.covers_zero, f"identical firms must differ by nothing: {control}"
    assert not crossing_same.claimed and crossing_same.sure is None

    mechanism = CROSSOVER_MECHANISMS
    record("crossover", [
        Row("crossover", "sales focus leads the first year's share (pp)", mechanism,
            early.text(), R, powered(early), "identical firms", early_same.text(), "holds",
            ASSERTED),
        Row("crossover", "relationship focus leads the final year's share (pp)", mechanism,
            late.text(), R, powered(late), "identical firms", late_same.text(), "holds",
            ASSERTED),
        Row("crossover", "relationship focus has the higher CLV now ($ a client)", mechanism,
            clv.text(0), R, powered(clv), "identical firms", clv_same.text(0), "holds",
            ASSERTED),
        Row("crossover", "share crosses over (month the means stay crossed from; month the CI "
            "stays above 0 from)", mechanism, f"month {month_number(crossing.month)}; sure from "
            f"month {month_number(crossing.sure)}", R, None, "identical firms", "never", "holds",
            ASSERTED),
    ])


def crossing_months(share_by_month: np.ndarray) -> np.ndarray:
    """Per replication, the month (1 first) from which its lead stays above 0.

    A replication whose lead is not above 0 in its last month counts as
    the month after the horizon, so every pair has a month to compare.
    """
    months = share_by_month.shape[1]
    found = (crossover_month(row[None, :]) for row in share_by_month)
    return np.array([months + 1 if month is None else month_number(month) for month in found],
                    dtype=float)


def share_of(without: np.ndarray, whole: np.ndarray) -> Estimate:
    """A mechanism's share of an effect, ``1 - without / whole``, with its paired CI."""
    r = ratio(without, whole)
    return Estimate(1 - r.mean, 1 - r.high, 1 - r.low, r.n, r.sd)


SHARE_BOUND = 0.15
"""A mechanism claimed to carry none of a measure: its share's CI lies within +-0.15."""
MEASURES = {"final": "of the final-year lead", "clv": "of CLV now",
            "first": "of the first-year lead", "crossing": "of the crossover month"}
CARRIES, HOLDS_BACK, NONE = 1, -1, 0
VERDICTS = {CARRIES: "carries it", HOLDS_BACK: "holds it back",
            NONE: f"none (within ±{SHARE_BOUND})"}
REMOVALS = {
    # name: (what the mechanism is, how it is removed, overrides, claim per measure)
    "trust asymmetry": (
        "trust lost 4x as fast as it is won (trust_loss 0.4, trust_gain 0.1)",
        "symmetric trust: trust_loss = trust_gain = 0.1", ["psychology.trust_loss=0.1"],
        {"final": CARRIES, "clv": CARRIES}),
    "trust in churn": (
        "trust lowers churn (churn_trust_weight 2)", "churn_trust_weight = 0",
        ["psychology.churn_trust_weight=0"], {"final": CARRIES, "clv": CARRIES}),
    "memory in churn": (
        "remembered experience lowers churn (churn_memory_weight 1.5)",
        "churn_memory_weight = 0", ["psychology.churn_memory_weight=0"],
        {"final": CARRIES, "clv": CARRIES}),
    "referrals": (
        "promoters' referrals win clients (referral_conversion 0.1)",
        "referral_conversion = 0; the network on, warnings and attitude still travel",
        ["market.referral_conversion=0"], {"final": CARRIES, "clv": NONE}),
    "acquisition split": (
        "the sales firm spends 70% of its budget on acquisition, the relationship firm 30%",
        "both firms at acquisition_share 0.5", list(EQUAL_BUDGETS),
        {"final": CARRIES, "clv": CARRIES, "first": CARRIES, "crossing": CARRIES}),
    "execution lag": (
        "a strategy reaches touchpoints and front line at the execution rate (0.5, 0.7 a year)",
        "execution = 1 for both firms",
        ["firms.sales_first.execution=1", "firms.client_first.execution=1"],
        {"final": HOLDS_BACK, "clv": NONE, "first": CARRIES, "crossing": CARRIES}),
    "culture lag": (
        "culture follows the levers slowly (culture_lag_quarters 4)",
        "culture_lag_quarters = 0.01 (its bound is open at 0: culture follows at once)",
        ["management.culture_lag_quarters=0.01"],
        {"final": HOLDS_BACK, "clv": NONE, "first": CARRIES, "crossing": CARRIES}),
}


def test_the_crossover_decomposed(runs):
    """Each mechanism the crossover names, removed alone: its share of the effect.

    A share is ``1 - (effect without it) / (effect)``, per measure, with a
    paired delta-method CI at 20 pairs; shares need not sum to 1, since the
    mechanisms interact. What each row claims is asserted: a mechanism that
    carries a measure has a share whose CI lies above 0; one that holds it
    back, below 0 (removing the lags *widens* the final lead); one claimed
    to carry none of it, a CI within +-0.15. Measured at R = 20 pairs, the
    final-year lead's shares were 0.45 (trust asymmetry), 0.28 (trust in
    churn), 0.35 (memory in churn), 0.10 (referrals), 0.18 (acquisition
    split), -0.23 (execution lag), -0.13 (culture lag). The sales firm's
    early lead is the acquisition split's and the execution lag's. The
    claims are findings, locked here against regression, not tuning targets.
    """
    whole = lead(runs(*B2B))
    whole["crossing"] = crossing_months(whole["share_by_month"])
    rows = []
    for name, (mechanism, removal, overrides, claims) in REMOVALS.items():
        without = lead(runs(*B2B, *overrides))
        without["crossing"] = crossing_months(without["share_by_month"])
        keys = {"final": "share_final_year", "clv": "clv_final_year",
                "first": "share_first_year", "crossing": "crossing"}
        shares, left = [], []
        for measure, claim in claims.items():
            share = share_of(without[keys[measure]], whole[keys[measure]])
            if claim == CARRIES:
                assert share.above_zero, f"{name} should carry the lead {measure}: {share}"
            elif claim == HOLDS_BACK:
                assert share.below_zero, f"{name} should hold back the lead {measure}: {share}"
            else:
                assert -SHARE_BOUND < share.low and share.high < SHARE_BOUND, (
                    f"{name} should carry none of the lead {measure}: {share}")
            shares.append(share.text(2))
            left.append(Estimate.of(without[keys[measure]]).text(0 if measure == "clv" else 1))
        rows.append(Row(
            "crossover_mechanisms",
            f"{name}: its share " + "; ".join(MEASURES[measure] for measure in claims),
            mechanism, "; ".join(shares), R, None, removal, "; ".join(left),
            "; ".join(VERDICTS[claim] for claim in claims.values()), ASSERTED))
    record("crossover_mechanisms", rows)


# ------------------------------------------------------------- the exception
def test_the_exception_from_the_seeds_three_factors_alone(runs):
    """Seed 001's exception: where clients are hard to identify, rarely return and do not
    influence others, relationship focus does not pay.

    Start from recurring_b2b and change only those three factors
    (identifiability 0.9 -> 0.1, days between needs 30 -> 365, social
    influence 1.5 -> 0.05); needs, the relationship need of 0.4 included,
    and everything else stay. The claim: the relationship firm's share lead
    is significantly below zero, and its CLV-now advantage is under a tenth
    of the B2B one (a paired ratio with its delta-method CI). Its control is
    recurring_b2b itself, none of the three factors.

    Each factor alone, on the first 10 of B2B's pairs: each moves the lead
    below B2B's (the paired difference's CI lies below 0), so each does
    something; rarity alone is enough (lead not above 0, CLV ratio under a
    tenth), anonymity alone and silence alone are not. Those verdicts are
    findings, locked here against regression, not tuning targets.
    """
    factors = {"rare": RARE, "anonymous": ANONYMOUS, "silent": SILENT}
    enough_alone = {"rare": True, "anonymous": False, "silent": False}
    three = lead(runs(*B2B, *factors.values()))
    alone = {name: lead(runs(*B2B, override, n=FACTOR_R)) for name, override in factors.items()}
    b2b = lead(runs(*B2B))  # asked last: another test may be running it (see ``runs``)
    share, share_b2b = Estimate.of(three["share_final_year"]), Estimate.of(b2b["share_final_year"])
    clv, clv_b2b = ratio(three["clv_final_year"], b2b["clv_final_year"]), Estimate.of(
        b2b["clv_final_year"])
    assert share.below_zero, f"the sales firm should lead the final year: {share}"
    assert clv.high < 0.1, f"CLV-now advantage should be under a tenth of B2B's: {clv}"

    mechanism = "identifiability, purchase frequency, social influence"
    control = "none of the three (recurring_b2b)"
    rows = [
        Row("exception", "relationship firm's final-year share lead, three factors (pp)",
            mechanism, share.text(), R, powered(share), control, share_b2b.text(),
            "holds: sales focus leads", ASSERTED),
        Row("exception", "its CLV-now advantage as a share of B2B's, three factors",
            mechanism, clv.text(3), R, None, f"{control}: its own CLV-now advantage, $ a client",
            clv_b2b.text(0), "holds: under 0.1", ASSERTED),
    ]
    for name, override in factors.items():
        share_alone = Estimate.of(alone[name]["share_final_year"])
        below_b2b = Estimate.of(alone[name]["share_final_year"]
                                - b2b["share_final_year"][:FACTOR_R])
        clv_alone = ratio(alone[name]["clv_final_year"], b2b["clv_final_year"][:FACTOR_R])
        enough = not share_alone.above_zero and clv_alone.high < 0.1
        assert below_b2b.below_zero, f"{name} alone should lower the lead below B2B's: {below_b2b}"
        assert enough == enough_alone[name], (
            f"{name} alone: enough {enough}, found {enough_alone[name]} before: {share_alone}, "
            f"CLV ratio {clv_alone}")
        rows.append(Row(
            "exception", f"{name} alone ({override.removeprefix(SEGMENT + '.')}): share lead (pp); "
            f"minus B2B's (pp); CLV-now ratio to B2B", mechanism,
            f"{share_alone.text()}; {below_b2b.text()}; {clv_alone.text(3)}", FACTOR_R, None,
            control, share_b2b.text(), "lowers the lead; " + (
                "enough alone" if enough else "not enough alone"), ASSERTED))
    record("exception", rows)


def test_the_exception_preset_is_recurring_b2b_with_the_three_factors():
    """``market=one_off_consumer``, which the demo and the experiments use, is the market above."""
    from omegaconf import OmegaConf

    def market(*overrides: str) -> dict:
        plain = OmegaConf.to_container(cxsim.compose(list(overrides)).market)
        plain["segments"] = list(plain["segments"].values())
        return plain

    assert market("market=one_off_consumer") == market("market=recurring_b2b", RARE, ANONYMOUS,
                                                       SILENT, "market.label=one-off consumers")


# ------------------------------------------------------------- word of mouth
def test_relationship_focus_wins_more_by_referral(runs):
    """Promoters refer: each of the client-focused firm's clients brings more clients by referral.

    Measured as referral acquisitions per active client-year
    (``referrals_per_client_year``), which a budget split cannot move, unlike
    the share of new clients who came by referral (``referral_share``): a
    firm that spends less on marketing wins a larger share by referral
    whatever its clients say. Mechanism: better journeys make more
    promoters, and promoters talk. Control: NPS answers decoupled from
    experience (``psychology.nps_slope=0``) make the difference vanish.
    Equal acquisition budgets remove the budget confound of the old measure,
    which then vanishes; they also give the client-focused firm less CX
    money and the sales-focused one more, so they weaken the mechanism too.
    The new measure's difference is then smaller: 20 pairs put the pairs it
    needs at 58, 100 pairs at 32 (+0.37 [+0.24, +0.49]); it runs at 40 and
    is asserted above 0 (both sides of the interval checked).
    """
    decoupled = lead(runs(*B2B, "psychology.nps_slope=0"))
    equal = lead(runs(*B2B, *EQUAL_BUDGETS, n=EQUAL_R))
    b2b = lead(runs(*B2B))  # asked last: another test may be running it (see ``runs``)
    talk, talk_decoupled = Estimate.of(b2b["referrals"]), Estimate.of(decoupled["referrals"])
    talk_equal = Estimate.of(equal["referrals"])
    share, share_equal = Estimate.of(b2b["referral_share"]), Estimate.of(equal["referral_share"])
    assert talk.above_zero, f"referrals per 100 client-years, client_first - sales_first: {talk}"
    assert vanished(talk_decoupled, talk), f"NPS decoupled from experience: {talk_decoupled}"
    assert talk_equal.above_zero, f"with equal acquisition budgets: {talk_equal}"
    assert vanished(share_equal, share), f"the old measure with equal budgets: {share_equal}"

    mechanism = "better journeys, more promoters; promoters talk"
    decoupled_text = "NPS decoupled from experience (nps_slope=0)"
    record("referral", [
        Row("referral", "more referral acquisitions per 100 client-years", mechanism,
            talk.text(2), R, powered(talk), decoupled_text, talk_decoupled.text(2), "holds",
            ASSERTED),
        Row("referral", "... with equal acquisition budgets (the confound removed)", mechanism,
            talk_equal.text(2), EQUAL_R, powered(talk_equal), decoupled_text,
            talk_decoupled.text(2), "holds", ASSERTED),
        Row("referral", "higher referral share of new clients (pp; the old measure)",
            "the budget split as much as talk", share.text(), R, powered(share),
            "equal acquisition budgets", share_equal.text(),
            "confounded: shrinks to a quarter or less", ASSERTED),
    ])


def test_without_a_network_nobody_is_referred(runs):
    """Plumbing, not a finding: referrals travel only along the network, so none without one."""
    plain = runs(*B2B, "network=none", n=2)
    for firm in ("sales_first", "client_first"):
        assert series(plain, firm, "acquisitions_referral").sum() == 0
        assert np.all(summary(plain, firm, "referrals_per_client_year") == 0)
    with_network = runs(*B2B)
    referred = Estimate.of(sum(series(with_network, firm, "acquisitions_referral").sum(axis=1)
                               for firm in ("sales_first", "client_first")))
    assert referred.above_zero
    record("network", [
        Row("network", "clients referred over 4 years, both firms", "referrals travel along "
            "the network", referred.text(0), R, None, "no network (network=none), 2 pairs", "0",
            "holds", identity("the engine does not talk without a network")),
    ])


# --------------------------------------------------------- the org chart
FLOOR = "firms.sales_first.cx_floor=0.95"
CULTURE = "firms.sales_first.org_culture=1.0"


def lever(runs, *overrides: str) -> Ensemble:
    """The sales-focused firm (no CCO) with *overrides*, 3 years of recurring_b2b."""
    return runs(*LEVER, *overrides, n=LEVER_R)


def change(a: Ensemble, b: Ensemble, column: str, months: slice | None = None) -> np.ndarray:
    """Per replication, the sales-focused firm's *column* in *a* minus in *b*."""
    if months is None:
        return summary(a, "sales_first", column) - summary(b, "sales_first", column)
    return (series(a, "sales_first", column)[:, months].mean(axis=1)
            - series(b, "sales_first", column)[:, months].mean(axis=1))


def test_a_cco_floor_protects_cx_spend_through_a_shock(runs):
    """Seed 001, "org chart is destiny": the first of a CCO's two channels, the CX floor.

    A 2x2 on common random numbers: the CCO's floor (``cx_floor`` 0.95 or 0,
    the culture it brings left at no_cco's) x a six-month revenue shock or
    none. Claim: the floor keeps CX spend up during the shock; control: the
    same months without a shock, where the sales side cuts nothing. The
    floor lifts final-year CLV with a shock and without one (asserted).
    Third claim, the one the org-chart story tells: the floor's CLV gain
    comes from protecting spend *through the shock*, the difference of the
    two lifts. It is reported, not asserted: it does not hold.
    """
    base, floor = lever(runs), lever(runs, FLOOR)
    base_shock, floor_shock = lever(runs, *SHOCK), lever(runs, *SHOCK, FLOOR)
    cx = Estimate.of(change(floor_shock, base_shock, "cx_spend", SHOCK_MONTHS))
    cx_calm = Estimate.of(change(floor, base, "cx_spend", SHOCK_MONTHS))
    clv = Estimate.of(change(floor_shock, base_shock, "clv_final_year"))
    clv_calm = Estimate.of(change(floor, base, "clv_final_year"))
    through_shock = Estimate.of(change(floor_shock, base_shock, "clv_final_year")
                                - change(floor, base, "clv_final_year"))
    assert cx.above_zero, f"CX spend a month during the shock, floor - none: {cx}"
    assert vanished(cx_calm, cx), f"the same months without a shock: {cx_calm}"
    assert clv.above_zero and clv_calm.above_zero, f"the floor's CLV gain: {clv}, {clv_calm}"

    mechanism = "cx_floor: CX budget kept at 95% of last year's mean"
    record("cco_floor", [
        Row("cco_floor", "a CX floor keeps CX spend up during a revenue shock ($ a month)",
            mechanism, cx.text(0), LEVER_R, powered(cx), "no shock (same months)",
            cx_calm.text(0), "holds", ASSERTED),
        Row("cco_floor", "the floor lifts final-year CLV ($ a client), with a shock", mechanism,
            clv.text(0), LEVER_R, powered(clv), "no shock", clv_calm.text(0),
            "holds, with and without a shock", ASSERTED),
        Row("cco_floor", "the floor's CLV gain comes through the shock (lift with a shock "
            "minus lift without)", mechanism, through_shock.text(0), LEVER_R, None,
            "no shock", clv_calm.text(0),
            "holds" if through_shock.above_zero else "does not hold: the floor lifts CLV as "
            "much without a shock; it binds on ordinary missed targets", REPORTED),
    ])


def test_a_cco_lifts_clv_through_culture(runs):
    """The CCO's second channel: the org chart's pull on culture (``org_culture`` 1 vs 0.3).

    The floor left at no_cco's (0). Mechanism: culture's target rises, and
    the front line's will and being follow it; will adds quality at staffed
    visits (``psychology.frontline_gain``) and carries the relationship to
    recognised clients (``personal_gain``), being steadies quality (the
    perception noise falls with it). Control, a partial knockout: will's two
    gains at 0, the perception noise kept, so only consistency is left.
    What stays is asserted above 0 (consistency carries part); for true NPS
    the part that goes is asserted above 0 too (will's gains carry part).
    Measured: about half the NPS gain stays, three quarters of the CLV gain.
    For CLV the part that goes is reported: about a fifth of the gain,
    +6 [-4, +16] at 10 pairs, which would need some 60 pairs to be seen.
    """
    base, culture = lever(runs), lever(runs, CULTURE)
    no_gains = ("psychology.frontline_gain=0", "psychology.personal_gain=0")
    base_knocked, culture_knocked = lever(runs, *no_gains), lever(runs, CULTURE, *no_gains)
    rows = []
    for column, label, digits, gains_asserted in (
            ("nps_true", "true NPS", 1, True),
            ("clv_final_year", "final-year CLV ($ a client)", 0, False)):
        whole = change(culture, base, column)
        left = change(culture_knocked, base_knocked, column)
        effect, kept = Estimate.of(whole), Estimate.of(left)
        gains = Estimate.of(whole - left)
        assert effect.above_zero, f"{label}, org_culture 1 - 0.3: {effect}"
        assert kept.above_zero, f"{label}, consistency alone: {kept}"
        if gains_asserted:
            assert gains.above_zero, f"{label}, will's gains' part: {gains}"
        stays = ratio(left, whole)
        rows.append(Row(
            "cco_culture", f"the org chart's culture lifts {label}",
            "culture -> will and being -> quality, relationship, consistency", effect.text(digits),
            LEVER_R, powered(effect), "will's gains off (frontline_gain = personal_gain = 0), "
            "consistency kept", kept.text(digits),
            f"holds; {stays.text(2)} of it stays through consistency, will's gains carry "
            f"{gains.text(digits)}", ASSERTED if gains_asserted else
            f"{ASSERTED}; will's gains' part {REPORTED}"))
    record("cco_culture", rows)


# ------------------------------------------------------- a KPI as surrogate
PAID_ON_NPS = ("firms.sales_first.metric=nps", "firms.sales_first.incentive=measured_nps")
UNCOACHED = "management.nps_coaching=0"
LISTENING_IDENTITY = "coaching_probability has a factor 1 - listening"


def test_coaching_measured_nps_is_a_rule_and_what_follows_from_it(runs):
    """Seed 000: a KPI paid on becomes a surrogate.

    That a front line paid on measured NPS lifts the answers it is paid on
    is a *rule* of the model (``cxsim.model.firm.coaching_probability``), tested
    here as one: the perception gap (measured minus true NPS) opens with
    coaching and not without (``management.nps_coaching=0``), and not when
    the firm observes rather than asks (``listening=1``). The emergent
    question is what follows: a firm that steers by the inflated measure
    (``metric=nps``), does it end with a different true NPS, retention or
    CLV? Those are measured and reported, not assumed.
    """
    coached, uncoached = lever(runs, *PAID_ON_NPS), lever(runs, *PAID_ON_NPS, UNCOACHED)
    listening = "firms.sales_first.listening=1"
    coached_observed = lever(runs, *PAID_ON_NPS, listening)
    uncoached_observed = lever(runs, *PAID_ON_NPS, listening, UNCOACHED)
    gap = Estimate.of(change(coached, uncoached, "perception_gap"))
    gap_observed = Estimate.of(change(coached_observed, uncoached_observed, "perception_gap"))
    assert gap.above_zero, f"perception gap, coached - uncoached: {gap}"
    assert vanished(gap_observed, gap), f"a firm that observes: {gap_observed}"

    rows = [Row("coaching", "paying on measured NPS inflates the measure (gap, NPS points)",
                "rule: coached answers (+2 to a heard answer <= 8)", gap.text(), LEVER_R,
                powered(gap), "a firm that observes (listening=1)", gap_observed.text(),
                "holds (a rule)",
                identity(LISTENING_IDENTITY))]
    for column, label, digits in (("nps_true", "true NPS", 1),
                                  ("retention_annual", "annual retention (pp)", 2),
                                  ("clv_final_year", "final-year CLV ($ a client)", 0)):
        scale = 100 if column == "retention_annual" else 1
        effect = Estimate.of(scale * change(coached, uncoached, column))
        control = Estimate.of(scale * change(coached_observed, uncoached_observed, column))
        rows.append(Row(
            "coaching", f"steering by the inflated measure changes {label}",
            "metric=nps reads the coached answers", effect.text(digits), LEVER_R, None,
            "a firm that observes (listening=1)", control.text(digits),
            "emerges" if not effect.covers_zero else "no measurable consequence",
            f"{REPORTED}; control an {identity(LISTENING_IDENTITY)}"))
    record("coaching", rows)


# ------------------------------------------------------------- the delivery gap
INDUSTRY = ["scenario=industry", "market.size=3000", "sim.years=3"]
INDUSTRY_FIRMS = tuple(cxsim.compose(INDUSTRY).firms)
EVERYONE = "{detractor:1,passive:1,promoter:1}"
BY_FEELING = "{detractor:0.1,passive:0.2,promoter:0.3}"  # configs/survey/transactional.yaml


def every_firm(**settings: str) -> list[str]:
    """The same setting for each firm of the industry."""
    return [f"firms.{firm}.{key}={value}" for firm in INDUSTRY_FIRMS
            for key, value in settings.items()]


UNBIASED = every_firm(survey="market", response=EVERYONE)
SURVIVORS = [*every_firm(survey="transactional", response=EVERYONE),
             "management.nps_coaching=0"]
FEELING = every_firm(survey="market", response=BY_FEELING)
SURVIVORS_COACHED = every_firm(survey="transactional", response=EVERYONE)


def gaps(runs, *overrides: str) -> pd.DataFrame:
    """Per replication: the benchmark, who believes, whose clients agree, and the gap."""
    from cxsim.simulation.delivery_gap import believe_and_agree

    return believe_and_agree(runs(*INDUSTRY, *overrides).summary)


def industry_mean(runs, column: str, *overrides: str) -> np.ndarray:
    """Per replication, *column* of the summary averaged over the industry's firms."""
    table = runs(*INDUSTRY, *overrides).summary
    return table.groupby("replication", sort=True)[column].mean().to_numpy()


SURVIVORSHIP = "survivorship alone (asked after a purchase, everyone answering, no coaching)"


def test_the_delivery_gap_emerges_from_how_firms_listen(runs):
    """Seed 000: 80% of firms believe they deliver a superior experience, 8% of their clients
    agree (Bain 2005). Ten firms, one benchmark (the industry study's mean NPS over the final
    year); a firm believes when its own survey's NPS is above it, its clients agree when the
    study's is. Each firm surveys as most do: after a purchase, answered more by the pleased,
    coached where the front line is paid on measured NPS. Control: each firm's own survey an
    independent market-wide sample in which everyone answers (as large as the study's, so
    the two measures are equally noisy: a noisier own measure regresses toward half the
    firms believing, which would read as a gap of its own).

    A survey after walks never asks a former client, so survivorship alone leaves a gap
    (``test_the_delivery_gap_decomposed``); the gap as firms survey must exceed it, paired
    per replication, or the claim would rest on survivorship alone. Control: the same firms
    surveying as most do with everyone answering (response by feeling removed, coaching
    kept), where the excess over survivorship vanishes.
    """
    biased, control = gaps(runs), gaps(runs, *UNBIASED)
    gap, control_gap = Estimate.of(biased.gap), Estimate.of(control.gap)
    assert gap.above_zero, f"believe - agree, as firms survey: {gap}"
    assert control_gap.covers_zero, f"believe - agree, unbiased own survey: {control_gap}"
    survivors = gaps(runs, *SURVIVORS).gap.to_numpy()
    beyond = Estimate.of(biased.gap.to_numpy() - survivors)
    beyond_control = Estimate.of(gaps(runs, *SURVIVORS_COACHED).gap.to_numpy() - survivors)
    assert beyond.above_zero, f"the gap as firms survey - {SURVIVORSHIP}: {beyond}"
    assert vanished(beyond_control, beyond), (
        f"the same with everyone answering - {SURVIVORSHIP}: {beyond_control}")
    believe, agree = Estimate.of(biased.believe), Estimate.of(biased.agree)
    record("delivery_gap", [
        Row("delivery_gap", "more firms believe they are above the industry's NPS than "
            "their clients say (share of firms; Bain: 80% believe, 8% of customers agree)",
            "survivorship, response by feeling, coaching", gap.text(2), R, powered(gap),
            "own survey an independent market-wide sample, everyone answering",
            control_gap.text(2), "emerges", ASSERTED),
        Row("delivery_gap", "share of firms that believe / whose clients agree",
            "as above", f"{believe.text(2)} / {agree.text(2)}", R, None,
            "the unbiased own survey", f"{Estimate.of(control.believe).text(2)} / "
            f"{Estimate.of(control.agree).text(2)}", "measured", REPORTED),
        Row("delivery_gap", "share of the industry study's answers from promoters (beside "
            "Bain's 8% of customers: another unit and another question)", "the clients' "
            "answers (nps_neutral, nps_slope)", Estimate.of(biased.promoters).text(2), R, None,
            "—", "—", "a description, not a test", REPORTED)])


def test_the_delivery_gap_decomposed(runs):
    """Each mechanism of the gap alone, from the unbiased survey: its gap and its share of the
    whole (a paired delta-method ratio). Coaching needs a survey at the counter, so it is
    measured on top of survivorship. Reported, including a mechanism that adds nothing."""
    whole = gaps(runs).gap
    control = Estimate.of(gaps(runs, *UNBIASED).gap)
    survivors = gaps(runs, *SURVIVORS).gap
    alone = {SURVIVORSHIP: survivors,
             "response by feeling alone (market-wide sample)": gaps(runs, *FEELING).gap,
             "coaching on top of survivorship": gaps(runs, *SURVIVORS_COACHED).gap - survivors}
    rows = []
    for mechanism, values in alone.items():
        part, share = Estimate.of(values), ratio(values, whole)
        rows.append(Row("delivery_gap_mechanisms", f"the gap from {mechanism}; share of the "
                        "whole gap", mechanism, f"{part.text(2)}; share {share.text(2)}", R,
                        None, "the unbiased own survey", control.text(2),
                        "carries part of it" if part.above_zero else "none measurable",
                        REPORTED))
    record("delivery_gap_mechanisms", rows)


def test_steering_by_the_biased_measure(runs):
    """Seed 000, "be cautious that the measurements do not become a surrogate for the actual
    strategy": every firm steers by its own NPS (metric=nps), surveying as most do, against
    the same firms steering by the market-wide sample. Paired, per replication the mean over
    the ten firms; reported as measured, including no effect."""
    steer = every_firm(metric="nps")
    rows = []
    for column, label, scale, digits in (
            ("cx_spend_total", "CX spend over the run ($ a firm)", 1, 0),
            ("nps_true", "true NPS", 1, 2),
            ("retention_annual", "annual retention (pp)", 100, 2),
            ("clv_final_year", "CLV now ($ a client)", 1, 0)):
        effect = Estimate.of(scale * (industry_mean(runs, column, *steer)
                                      - industry_mean(runs, column, *steer, *UNBIASED)))
        rows.append(Row(
            "delivery_gap_steering", f"firms steering by their own NPS (metric=nps), surveying "
            f"as most do vs. by a market-wide sample: {label}", "the biased measure as the KPI",
            effect.text(digits), R, None, "—", "—",
            "measurable" if not effect.covers_zero else "no measurable consequence", REPORTED))
    record("delivery_gap_steering", rows)
