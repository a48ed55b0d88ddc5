"""The crossover, one definition: the month from which the mean shares stay crossed, claimed
only when the paired 95% interval says so, and apart from it the month the lead is sure from.

Synthetic leads whose answer is known, then the words, the chart and the studio's chart
that show them, then a small real run with its negative control.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import cxsim
from cxsim.report import answer, charts
from cxsim.report.run import leading, page_of, run_sentences
from cxsim.simulation.experiment import Ensemble
from cxsim.simulation.results import Crossover, crossover, crossover_month, month_number, sure_month
from cxsim.studio import answer as studio_answer

# four replications' offsets around the mean: mean 0, sample std 0.1, so a mean
# of +-1 is far from 0 at any usual level and a mean of 0 has its CI across 0
_OFFSETS = np.array([-3.0, -1.0, 1.0, 3.0])
SPREAD = (0.1 * _OFFSETS / _OFFSETS.std(ddof=1))[:, None]
DAYS_PER_MONTH = 30.4375


def paired(means) -> np.ndarray:
    """One row per replication, one column per month, with the given mean per month."""
    return np.asarray(means, dtype=float)[None, :] + SPREAD


def test_spread_is_what_the_cases_assume():
    rows = paired([0.0, 1.0])
    assert rows.shape == (4, 2)
    assert np.allclose(rows.mean(axis=0), [0.0, 1.0])
    assert np.allclose(rows.std(axis=0, ddof=1), 0.1)


# ------------------------------------------------------------ the mean crossing
@pytest.mark.parametrize(("means", "month"), [
    ([-1, -1, -1, -1, -1, 1, 1, 1, 1], 5),          # crosses once
    ([-1, -1, 1, 1, -1, -1, 1, 1, 1], 6),           # twice up: the last crossing counts
    ([-1, 1, -1, 1, -1, 1, 1, 1, 1], 5),            # back and forth: the last crossing
    ([-1, -1, 1, 1, 1, 1, -1, -1, 1], 8),           # up, down, up only in the last month
    ([1, 1, 1, 1], 0),                              # above from the first month: led
    ([-1, -1, -1, -1], None),                       # never
    ([-1, -1, 1, 1, 1, -1], None),                  # crosses, then falls back by the horizon
    ([-1, 1, 1, 0, 1, 1], 4),                       # a mean of exactly 0 is not above
    ([-1, 1, 1, 1, 1, 0], None),                    # ... in the last month
])
def test_the_crossover_is_the_month_the_means_stay_crossed_from(means, month):
    assert crossover_month(paired(means)) == month
    assert crossover_month(paired(means) * 50) == month  # the spread plays no part


def test_the_mean_crossing_does_not_wait_for_the_interval():
    """Means just above 0 with a wide spread: the means have crossed, the CI spans 0."""
    rows = np.array([-1.0, 0.05, 0.05, 0.05])[None, :] + SPREAD
    assert crossover_month(rows) == 1 and sure_month(rows) is None


# ------------------------------------------------------- the month it is sure
@pytest.mark.parametrize(("means", "month"), [
    ([-1, -1, -1, -1, -1, 1, 1, 1, 1], 5),          # crosses once
    ([-1, -1, 1, 1, -1, -1, 1, 1, 1], 6),           # twice up: the last crossing counts
    ([-1, -1, 1, 1, 1, 1, -1, -1, 1], 8),           # up, down, up only in the last month
    ([1, 1, 1, 1], 0),                              # above from the first month
    ([-1, -1, -1, -1], None),                       # never
    ([-1, -1, 1, 1, 1, -1], None),                  # crosses, then falls back by the horizon
    ([-1, 1, 1, 0, 1, 1], 4),                       # the mean touches 0: the CI spans 0 there
    ([-1, 1, 1, 1, 1, 0], None),                    # ... in the last month
])
def test_sure_from_the_month_the_lower_bound_stays_above_zero(means, month):
    assert sure_month(paired(means)) == month


def test_a_lower_bound_exactly_zero_is_not_above():
    """Touching 0 is not being above it: the bound must be strictly positive."""
    same = np.tile([1.0, 1.0, 0.0, 1.0, 1.0], (3, 1))  # no spread: the bound is the mean
    assert sure_month(same) == 3
    assert sure_month(np.tile([1.0, 1.0, 1.0, 0.0], (3, 1))) is None


def test_the_interval_comes_from_the_spread_across_replications():
    """Same means, different spreads: only the narrow spread is sure."""
    means = np.array([-0.5, 0.05, 0.05, 0.05])
    narrow = means[None, :] + SPREAD * 0.1  # sample std 0.01: lower bound > 0
    wide = means[None, :] + SPREAD  # sample std 0.1: the CI spans 0
    assert sure_month(narrow) == 1
    assert sure_month(wide) is None
    assert crossover_month(narrow) == crossover_month(wide) == 1


def test_the_level_sets_the_interval():
    """Mean 0.1, sample std 0.1, 4 replications (t = 2): above 0 at 80%, not at 90%."""
    rows = paired([-1.0, 0.1, 0.1])
    t = 0.1 / (0.1 / np.sqrt(4))
    assert stats.t.ppf(0.90, 3) < t < stats.t.ppf(0.95, 3)
    assert sure_month(rows, level=0.80) == 1
    assert sure_month(rows, level=0.90) is None
    assert sure_month(rows) is None  # 95% by default
    assert crossover(rows, level=0.80).claimed and not crossover(rows).claimed


def test_rows_are_replications_and_columns_months():
    """Transposing the input changes the answer: the CI is taken down each column."""
    rows = np.array([[-1.0, 1.0, 1.0], [-1.2, 1.1, 0.9], [-0.8, 0.9, 1.1]])
    assert sure_month(rows) == 1 and crossover_month(rows) == 1
    assert sure_month(rows.T) is None  # three "months" of mixed sign
    assert crossover_month(rows.T) == 0  # its columns' means, 1/3, 4/15 and 2/5, all above 0
    assert sure_month(rows.tolist()) == 1  # any array-like


def test_paired_differences_not_the_firms_separately():
    """Common random numbers: the spread of each firm is wide, that of the difference narrow."""
    rng = np.random.default_rng(1)
    common = rng.normal(0.0, 1.0, size=(8, 6))  # shared by both firms in each replication
    a = 0.5 + common + rng.normal(0.0, 0.01, size=(8, 6))
    b = 0.3 + common + rng.normal(0.0, 0.01, size=(8, 6))
    assert sure_month(a - b) == 0


def test_one_replication_has_no_interval_and_claims_no_crossover():
    one = np.array([[-1.0, 1.0, 1.0]])
    assert sure_month(one) is None
    found = crossover(one)
    assert (found.month, found.crossed, found.claimed) == (1, True, False)


# ---------------------------------------------------------- the two together
@pytest.mark.parametrize(("means", "month", "sure", "was_behind", "claimed", "led"), [
    ([-1, -1, 0.05, 0.1, 1, 1], 2, 4, True, True, False),    # the means first, then sure
    ([-1, -1, 1, 1, -1, -1, 1, 1, 1], 6, 6, True, True, False),  # several crossings: the last
    ([0.05, 0.3, 1, 1], 0, 1, False, False, True),           # led from the start
    ([-0.01, 0.3, 1, 1], 1, 1, False, False, False),         # level first: nothing crossed
    ([-1, -1, 0.05, 0.05], 2, None, True, False, False),     # crossed, never sure
    ([-1, -1, 1, 1, -1], None, None, False, False, False),   # behind at the end
])
def test_a_crossover_is_claimed_when_the_interval_says_it_exists(means, month, sure, was_behind,
                                                                  claimed, led):
    found = crossover(paired(means))
    assert (found.month, found.sure, found.was_behind) == (month, sure, was_behind)
    assert (found.claimed, found.led_from_start) == (claimed, led)
    assert found.replications == 4


def test_sure_is_never_before_the_crossover_and_never_without_one():
    """On random leads of every shape: a sure month implies a mean crossing at or before it."""
    rng = np.random.default_rng(7)
    seen = {"sure after": 0, "same month": 0, "crossed, not sure": 0}
    for _ in range(2000):
        n, months = rng.integers(2, 9), rng.integers(1, 13)
        trend = np.cumsum(rng.normal(0.0, 1.0, months))
        lead = trend[None, :] + rng.normal(0.0, rng.uniform(0.1, 3.0), (n, months))
        found = crossover(lead)
        if found.sure is not None:
            assert found.month is not None and found.sure >= found.month
            seen["sure after" if found.sure > found.month else "same month"] += 1
        elif found.crossed:
            seen["crossed, not sure"] += 1
        if found.claimed:
            assert found.crossed and found.was_behind
    assert min(seen.values()) > 50, seen  # every case was met, not only the easy one


def test_a_lead_that_is_noise_is_rarely_claimed_and_a_real_one_nearly_always():
    """The claim's error rates: no lead at all (the negative control) against a lead that
    truly goes from -0.5 to +0.5 points over 24 months, both with noise of sd 1, 10 pairs."""
    rng = np.random.default_rng(11)
    true = np.linspace(-0.5, 0.5, 24)
    null = [crossover(rng.normal(0.0, 1.0, (10, 24))).claimed for _ in range(500)]
    real = [crossover(true + rng.normal(0.0, 0.3, (10, 24))).claimed for _ in range(500)]
    assert np.mean(null) < 0.05 and np.mean(real) > 0.95
    months = [month_number(crossover(true + rng.normal(0.0, 0.3, (10, 24))).month)
              for _ in range(200)]
    assert abs(np.median(months) - month_number(12)) <= 1  # where the true lead passes 0


# ------------------------------------------------------------------- numbering
def test_months_are_numbered_from_one_for_display_only():
    assert month_number(0) == 1 and month_number(np.int64(59)) == 60
    found = Crossover(month=4, sure=6, was_behind=True, replications=10)
    text = answer.crossover("b", "a", found, 24, 10)
    assert "at month 5 of 24" in text and "sure from month 7" in text


@pytest.mark.parametrize(("found", "says", "never"), [
    (Crossover(4, 6, True, 10), "b overtakes a in share at month 5 of 24", "no crossover"),
    (Crossover(0, 2, False, 10), "b leads a in share in every month", "overtakes"),
    (Crossover(0, None, False, 10), "the lead is not sure", "overtakes"),
    (Crossover(3, 5, False, 10), "a was never ahead beyond chance", "overtakes"),
    (Crossover(3, None, True, 10), "passes a's at month 4 of 24 and stays ahead, but no "
     "crossover is claimed", "overtakes"),
    (Crossover(None, None, False, 10), "no crossover", "overtakes"),
    (Crossover(3, None, False, 1), "no crossover is claimed", "overtakes"),
])
def test_the_words_say_what_was_found(found, says, never):
    text = answer.crossover("b", "a", found, 24, found.replications)
    assert says in text and never not in text


# ----------------------------------------------------------- the chart
def duel_frames(lead: np.ndarray, days_per_month: float = DAYS_PER_MONTH
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A two-firm run's summary and timeseries whose share lead of ``b`` over ``a`` is
    *lead* (points; rows replications, columns months), months at their ends."""
    n, months = lead.shape
    rows = []
    for r in range(n):
        for m in range(months):
            for firm, sign in (("a", -1), ("b", 1)):
                rows.append({"replication": r, "firm": firm, "month": m,
                             "t_days": (m + 1) * days_per_month,
                             "share": 0.5 + sign * lead[r, m] / 200})
    ts = pd.DataFrame(rows)
    last = ts[ts.month == months - 1]
    summary = last.rename(columns={"share": "share_final"})[["replication", "firm",
                                                             "share_final"]]
    summary = summary.assign(clv_final_year=1000 * summary.share_final)  # run_sentences's
    return summary.reset_index(drop=True), ts


@pytest.fixture
def drawn(monkeypatch) -> list:
    """The figures the charts draw, kept instead of turned into PNG."""
    figures = []

    def keep(fig, alt, caption):
        figures.append((fig, alt, caption))
        return (alt, caption)

    monkeypatch.setattr(charts, "chart_from_figure", keep)
    yield figures
    for fig, *_ in figures:
        charts.plt.close(fig)


def marks(ax) -> dict[str, float]:
    """The chart's vertical lines by their legend label."""
    return {line.get_label(): float(line.get_xdata()[0]) for line in ax.lines
            if line.get_linestyle() in ("--", ":")}


def first_for_good(ax) -> float:
    """The x from which the second firm's plotted mean line stays above the first's."""
    a, b = (line for line in ax.lines if line.get_linestyle() == "-")
    x, above = np.asarray(a.get_xdata()), np.asarray(b.get_ydata()) > np.asarray(a.get_ydata())
    return float(x[np.flatnonzero(~above)[-1] + 1] if (~above).any() else x[0])


def test_the_label_sits_at_its_line_and_both_at_the_texts_month(drawn):
    """The chart's dashed line is where its mean lines cross for good, its label and the
    sentence give that month's number as the x axis shows it: one month, three places."""
    lead = paired([-1, -1, -0.5, 1, -1, 0.05, 0.1, 1, 1, 1])
    summary, ts = duel_frames(lead)
    leader, other, by_month, found = leading(summary, ts)
    assert (leader, found.month, found.sure) == ("b", 5, 7)
    charts.share_over_time({f: ts[ts.firm == f] for f in ("a", "b")}, DAYS_PER_MONTH, found)
    fig, alt, caption = drawn[-1]
    ax = fig.axes[0]
    shown = marks(ax)
    assert shown == {"crossover, month 6": 6.0, "lead sure from month 8": 8.0}
    assert first_for_good(ax) == 6.0
    sentence = run_sentences(summary, ts)[-1]
    assert "B overtakes a in share at month 6 of 10" in sentence  # a sentence opens in capitals
    assert "sure from month 8" in sentence
    assert "crossover at month 6" in caption and "crossover at month 6" in alt


def test_the_label_follows_the_month_length(drawn):
    """Months of 7 days: the x axis still counts months, and the line sits at its number."""
    summary, ts = duel_frames(paired([-1, -1, 1, 1]), days_per_month=7.0)
    found = leading(summary, ts)[3]
    charts.share_over_time({f: ts[ts.firm == f] for f in ("a", "b")}, 7.0, found)
    assert marks(drawn[-1][0].axes[0]) == {"crossover, month 3": 3.0,
                                           "lead sure from month 3": 3.0}


def test_led_from_the_start_marks_no_crossover(drawn):
    summary, ts = duel_frames(paired([0.5, 1, 1, 1]))
    found = leading(summary, ts)[3]
    charts.share_over_time({f: ts[ts.firm == f] for f in ("a", "b")}, DAYS_PER_MONTH, found)
    assert marks(drawn[-1][0].axes[0]) == {"lead sure from month 1": 1.0}
    sentence = run_sentences(summary, ts)[-1]
    assert "nothing crosses over" in sentence and "overtakes" not in sentence


def test_the_studio_shows_the_crossover_once_the_interval_says_it_exists(drawn):
    """As pairs arrive: the first two already cross in their means (the same means as all
    eight), but their interval is wide; the studio's chart marks the crossover only with
    all pairs, at the month the means gave from the start."""
    means = np.array([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0])
    offsets = np.array([-0.9, 0.9, -0.05, 0.05, -0.05, 0.05, -0.05, 0.05])[:, None]
    summary, ts = duel_frames(means[None, :] + offsets)
    shown = []
    for pairs in (2, 8):
        ensemble = Ensemble(summary[summary.replication < pairs],
                            ts[ts.replication < pairs])
        found = leading(ensemble.summary, ensemble.timeseries)[3]
        studio_answer._shares(ensemble, DAYS_PER_MONTH, "A: ", "shares")
        shown.append((found.month, found.claimed, marks(drawn[-1][0].axes[0])))
    assert shown == [(3, False, {}),
                     (3, True, {"crossover, month 4": 4.0, "lead sure from month 4": 4.0})]


def test_the_experiments_mark_and_say_the_same_crossover(monkeypatch, tmp_path):
    """experiments/common.py: the share panels mark the report's months, and the summary's
    bullet is the report's sentence, for the firm ahead at the end (here ``b``)."""
    from experiments import common

    figures = []
    monkeypatch.setattr(common, "save_figure", lambda fig, out, name: figures.append(fig))
    lead = paired([-1, -1, -0.5, 1, -1, 0.05, 0.1, 1, 1, 1])
    summary, ts = duel_frames(lead)
    names = {"sales_first": "a", "client_first": "b"}  # the duel's firms, as the panels know them
    firm = {short: name for name, short in names.items()}
    summary, ts = (frame.assign(cell="rule", firm=frame.firm.map(firm)) for frame in (summary, ts))
    outcome = common.Outcome(None, summary, ts, tmp_path, {})
    found = common.crossover(outcome, "rule")
    assert found["leader"] == "client_first"
    assert found["text"] == run_sentences(summary, ts)[-1]
    assert found["bullet"].startswith("**Crossover at month 6**: client_first overtakes")
    common.share_panels(outcome, {"rule": found["crossover"]}, {}, list(names), "shares")
    try:
        ax = figures[0].axes[0]
        assert marks(ax) == {"crossover, month 6": 6.0, "lead sure from month 8": 8.0}
        assert first_for_good(ax) == 6.0
    finally:
        charts.plt.close(figures[0])


# ----------------------------------------------------------- a real small run
def replications(overrides: list[str], n: int = 6) -> cxsim.Results:
    """*n* replications of one config, their tables combined as ``cxsim`` combines a job's."""
    cfg = cxsim.compose(["market=recurring_b2b", "market.size=2000", "sim.years=2", *overrides])
    runs = [cxsim.run(cfg, replication=i) for i in range(n)]
    tables = {name: pd.concat([getattr(r, name) for r in runs], ignore_index=True)
              for name in ("timeseries", "segments", "clients", "touchpoints", "summary")}
    return cxsim.Results(**tables, meta=runs[0].meta, config=runs[0].config)


@pytest.fixture(scope="module")
def b2b_runs() -> dict[str, cxsim.Results]:
    """Seed 001's rule at a small size, and its negative control: the same strategy for both
    firms (nothing to win by)."""
    return {"rule": replications([]),
            "same": replications(["firms.sales_first.strategy=relationship_focused"])}


def test_a_real_run_says_and_draws_one_crossover(b2b_runs, drawn):
    results = b2b_runs["rule"]
    leader, other, by_month, found = leading(results.summary, results.timeseries)
    assert (leader, other) == ("client_first", "sales_first")
    assert found.claimed and found.month < found.sure
    page = page_of(results)
    sentence = page.answer[-1]
    said = re.search(r"overtakes the sales-focused firm in share at month (\d+) of 24",
                     sentence)
    sure = re.search(r"sure from month (\d+)", sentence)
    assert said and sure, sentence
    lead, share = (next(fig.axes[0] for fig, *_ in drawn if fig.axes[0].get_title() == title)
                   for title in ("Market share lead over time", "Market share over time"))
    assert marks(lead) == marks(share)  # the headline marks the months the share chart does
    ax = share
    shown = marks(ax)
    assert shown[f"crossover, month {said[1]}"] == float(said[1]) == first_for_good(ax)
    assert shown[f"lead sure from month {sure[1]}"] == float(sure[1])
    assert int(said[1]) == month_number(crossover_month(by_month))


def test_a_real_run_of_identical_firms_claims_no_crossover(b2b_runs, drawn):
    results = b2b_runs["same"]
    assert not leading(results.summary, results.timeseries)[3].claimed
    page = page_of(results)
    assert "overtakes" not in page.answer[-1]
    assert not any(label.startswith("crossover") for label in marks(drawn[0][0].axes[0]))
