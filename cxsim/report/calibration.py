"""The calibration report: the fitted market, and how it buys against the log it came from.

The answer says the fit in words (a typical customer's rate, dropout and
spend, in the market's currency) and flags a fit the log cannot support;
the numbers and the Greek follow. Three pictures, as in Fader, Hardie & Lee
(2005): the weekly cumulative
repeat purchases (the log, the BG/NBD's expectation, and cxsim simulating
the fitted market with its 95% band) through the calibration period and
the holdout; the customers by repeat purchases in calibration; and the
holdout purchases by calibration count, actual against expected.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cxsim.report.answer import NO_DATA  # noqa: E402
from cxsim.report.charts import COLOURS  # noqa: E402
from cxsim.report.page import Chart, Page, chart_from_figure, table_from_frame  # noqa: E402

__all__ = ["calibration_page", "calibration_sentences", "fit_in_words", "weekly_figure"]

ACTUAL, MODEL, SIMULATED = "0.15", COLOURS[2], COLOURS[0]


def weekly_figure(weekly: pd.DataFrame, calibration_weeks: float):
    """The tracking plot (Fader et al. 2005, Fig. 3) as a matplotlib figure."""
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(weekly.week, weekly.actual, color=ACTUAL, lw=2, label="actual (the log)")
    ax.plot(weekly.week, weekly.expected, color=MODEL, ls="--", label="BG/NBD expectation")
    simulated = "simulated" in weekly
    if simulated:
        ax.plot(weekly.week, weekly.simulated, color=SIMULATED, label="cxsim, fitted market")
        ax.fill_between(weekly.week, weekly.simulated_low, weekly.simulated_high,
                        color=SIMULATED, alpha=0.2, lw=0, label="cxsim, 95% of replications")
    ax.axvline(calibration_weeks, color="0.4", ls=":", lw=1, label="end of calibration")
    ax.set_xlabel("week (from the log's first day)")
    ax.set_ylabel("cumulative repeat purchases")
    ax.set_title("Repeat purchases, week by week")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _weekly_chart(weekly: pd.DataFrame, calibration_weeks: float) -> Chart:
    simulated = "simulated" in weekly
    return chart_from_figure(
        weekly_figure(weekly, calibration_weeks),
        "Line chart of cumulative repeat purchases by week: the log, the BG/NBD's expectation"
        + (" and cxsim's simulation of the fitted market with a 95% band" if simulated else "")
        + "; a dotted line marks the end of calibration.",
        "Left of the dotted line the model was fitted; right of it, it forecasts."
        + (" The band holds 95% of the simulated markets." if simulated else ""))


def _counts_chart(counts: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(8, 4))
    x = np.arange(len(counts))
    simulated = "simulated" in counts
    width = 0.27 if simulated else 0.4
    ax.bar(x - width, counts.actual, width, color=ACTUAL, label="actual")
    ax.bar(x, counts.expected, width, color=MODEL, label="BG/NBD")
    if simulated:
        ax.bar(x + width, counts.simulated, width, color=SIMULATED, label="cxsim (mean)",
               yerr=[counts.simulated - counts.simulated_low,
                     counts.simulated_high - counts.simulated], capsize=2)
    ax.set_xticks(x, counts.repeat_purchases)
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("customers")
    ax.set_title("Customers by repeat purchases")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return chart_from_figure(
        fig, "Bar chart of the number of customers with 0 to 6 and 7 or more repeat purchases "
        "in calibration: actual, BG/NBD" + (" and cxsim" if simulated else "") + ".",
        "Whiskers on cxsim's bars span 95% of the replications." if simulated else "")


def _holdout_chart(holdout: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(holdout.repeat_purchases, holdout.actual, color=ACTUAL, marker="o", label="actual")
    ax.plot(holdout.repeat_purchases, holdout.expected, color=MODEL, marker="s", ls="--",
            label="BG/NBD, given each customer's history")
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("holdout purchases per customer")
    ax.set_title("Holdout purchases by calibration count")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return chart_from_figure(fig, "Line chart of mean holdout purchases per customer by "
                             "calibration count, actual and expected.",
                             "Expected: Fader, Hardie & Lee (2005) eq. 10 for each customer.")


def _percent(simulated: float, actual: float) -> str:
    return f"{100 * (simulated / actual - 1):+.1f}%" if actual else NO_DATA


def _figure(x: float) -> str:
    """*x* to two significant digits, as a reader says it: 0.47, 2.1, 12, 1,200."""
    rounded = float(f"{x:.2g}")
    return f"{rounded:,.0f}" if rounded >= 10 else f"{rounded:g}"


def _money(amount: float, currency: str) -> str:
    """An amount with its currency before it: whole units from 10 up, cents below; a space
    after a symbol of letters (CHF 20, $20)."""
    figure = f"{amount:,.0f}" if amount >= 10 else f"{amount:,.2f}"
    return f"{currency}{' ' if currency[-1:].isalpha() else ''}{figure}"


def _how_often(per_year: float) -> str:
    """A purchase rate in words: "about 2.9 times a year", "about once every 2.1 years"; a
    median that underflows (r near 0) is "less than once every 10,000 years"."""
    if not per_year >= 1e-4:
        return "less than once every 10,000 years"
    if per_year >= 1.05:
        return f"about {_figure(per_year)} times a year"
    if per_year >= 0.95:
        return "about once a year"
    return f"about once every {_figure(1.0 / per_year)} years"


def fit_in_words(calibration, typicals: list) -> list[str]:
    """The fit as a reader asks for it, one sentence per segment, then what "typical" is;
    *typicals*: each fit's :class:`cxsim.data.calibration.Typical`, whose definitions these are."""
    currency = calibration.market["currency"]
    several = len(calibration.fits) > 1
    out, means = [], []
    for f, t in zip(calibration.fits, typicals):
        low, high = (_money(v, currency) for v in t.spend_quartiles)
        who = f"In segment {f.name}, a typical customer" if several else "A typical customer"
        out.append(f"{who} buys {_how_often(t.purchases_per_year)} while it keeps buying; "
                   f"about {_figure(100 * t.dropout)}% stop for good after each repeat "
                   f"purchase; half of them average between {low} and {high} a purchase.")
        means.append(_figure(t.mean_purchases_per_year)
                     + (" purchases a year" if not means else "")
                     + (f" in {f.name}" if several else ""))
    out.append("Typical is the median customer: half buy more often, half less. The mean is "
               f"higher, pulled up by a few frequent buyers: {', '.join(means)}.")
    return out


def calibration_sentences(calibration, typicals: list) -> list[str]:
    """The answer: the fit in words, then how the fitted market buys against the log."""
    meta, totals = calibration.meta, calibration.totals.set_index("period")
    out = [*fit_in_words(calibration, typicals),
           f"Fitted on the purchases of {meta['customers']:,} customers in {meta['log']} to "
           f"{meta['calibration_end']} ({meta['calibration_weeks']:.0f} weeks), and checked "
           f"on the {meta['holdout_weeks']:.0f} weeks after."]
    when = {"calibration": f"In the {meta['calibration_weeks']:.0f} weeks it was fitted on",
            "holdout": f"In the {meta['holdout_weeks']:.0f} weeks after, which the fit did "
                       "not see"}
    for period in totals.index if meta["holdout_weeks"] else ["calibration"]:
        row = totals.loc[period]
        sentence = (f"{when[period]}, the customers made {row.actual:,.0f} repeat purchases; "
                    f"the model expected {row.expected:,.0f} "
                    f"({_percent(row.expected, row.actual)})")
        if "simulated" in totals:
            sentence += (f" and cxsim, simulating the fitted market, {row.simulated:,.0f} "
                         f"({_percent(row.simulated, row.actual)}; 95% of its runs "
                         f"{row.simulated_low:,.0f} to {row.simulated_high:,.0f})")
        out.append(sentence + ".")
    zero = meta.get("zero_spend_transactions", 0)
    if zero:
        out.append(f"{zero:,} calibration transactions spent nothing: counted as purchases, "
                   "left out of the spend averages.")
    return out


def _in_symbols(calibration, typicals: list) -> str:
    """The fits in the model's notation, and what the answer's words mean in it."""
    out = []
    for f, t in zip(calibration.fits, typicals):
        b, s = f.repeat_buying, f.spend
        out.append(
            f"{f.name}: while active a customer buys at a rate λ ~ Gamma(r = {b.r:.4g}, "
            f"α = {b.alpha:.4g} weeks), a mean r/α of {t.mean_purchases_per_year:.3g} "
            f"purchases a year, and after each repeat purchase drops out with probability "
            f"p ~ Beta(a = {b.a:.4g}, b = {b.b:.4g}), a mean of {b.a / (b.a + b.b):.1%}; it "
            f"spends Gamma(p = {s.p:,.4g}, ν) a purchase, ν ~ Gamma(q = {s.q:.4g}, γ = "
            f"{s.gamma:.4g}), {s.mean_spend:,.2f} a purchase on average (pγ/(q−1)).")
    return " ".join(out) + (
        " In the answer, a typical customer's rate is the median of λ; the share that stops "
        "is the mean of p, a/(a+b); half of them average between the quartiles of a "
        "customer's mean spend p/ν. Standard errors from the observed information, by the "
        "delta method. A spread of spend within a customer is a coefficient of variation; "
        "the log's is the median over its customers with two or more repeat purchases that "
        "spent something.")


def _fit_table(calibration, typicals: list):
    rows = []
    for f in calibration.fits:
        b, s = f.repeat_buying, f.spend
        for name, value, se in (("r", b.r, b.se[0]), ("α (weeks)", b.alpha, b.se[1]),
                                ("a", b.a, b.se[2]), ("b", b.b, b.se[3]),
                                ("spend p", s.p, s.se[0]), ("spend q", s.q, s.se[1]),
                                ("spend γ", s.gamma, s.se[2])):
            rows.append((f.name, name, value, se))
        rows.append((f.name, "BG/NBD log-likelihood", b.log_likelihood, np.nan))
        rows.append((f.name, "Gamma–Gamma log-likelihood", s.log_likelihood, np.nan))
        rows.append((f.name, "spread of spend within a customer, 1/√p", 1 / np.sqrt(s.p),
                     np.nan))
        rows.append((f.name, f"the log's (median over {f.spread_customers:,} customers)",
                     f.spend_spread, np.nan))
    raw = pd.DataFrame(rows, columns=["segment", "parameter", "estimate", "standard error"])
    shown = raw.assign(estimate=raw.estimate.map(lambda v: "" if np.isnan(v) else f"{v:,.4g}"),
                       **{"standard error": raw["standard error"].map(
                           lambda v: "" if np.isnan(v) else f"{v:.3g}")})
    return table_from_frame("Fitted parameters (maximum likelihood)", shown,
                            _in_symbols(calibration, typicals), "fit", "fit.csv", raw,
                            text_columns=2)


def _shown(value) -> str:
    """A preset's value in a cell: numbers to 4 digits, a mapping as key value pairs."""
    if isinstance(value, dict):
        return ", ".join(f"{key} {_shown(v)}" for key, v in value.items())
    if value is None:
        return "null"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _sources_table(calibration, sources: dict[str, str], preset: str):
    segments = calibration.market["segments"]
    rows = [(lever, source, *(_shown(segment.get(lever)) for segment in segments.values()))
            for lever, source in sources.items()]
    frame = pd.DataFrame(rows, columns=["lever", "from", *segments])
    return table_from_frame(
        "Where each segment lever comes from", frame,
        f"What the log cannot tell is the default market's guess: set it to what you know "
        f"(market.segments.<segment>.<lever>=..., or in {preset}.yaml).", "levers",
        "levers.csv", text_columns=2)


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda c: c.map(lambda v: f"{v:,.2f}" if isinstance(v, float) and
                                       not np.isnan(v) else ("" if isinstance(v, float)
                                                             else v)))


def calibration_page(calibration, preset: Path, command: str, typicals: list,
                     sources: dict[str, str], steps: list[tuple[str, str]]) -> Page:
    """The report of a :class:`cxsim.data.calibration.Calibration` whose preset is *preset*,
    with what the calibration says of it: each fit's typical customer, where each lever
    comes from, what to run next (the report draws; it decides none of them)."""
    meta, preset, label = calibration.meta, Path(preset), calibration.market["label"]
    tables = [
        _fit_table(calibration, typicals),
        table_from_frame("Repeat purchases: the log, the model and the simulated market",
                         _rounded(calibration.totals), "Expected: each customer's E[X(t)] "
                         "summed (eq. 7); given history: eq. 10.", "totals", "totals.csv",
                         calibration.totals),
        table_from_frame("Holdout purchases by calibration count", _rounded(calibration.holdout),
                         "Mean per customer.", "holdout", "holdout.csv", calibration.holdout),
    ]
    charts = [_weekly_chart(calibration.weekly, meta["calibration_weeks"]),
              _counts_chart(calibration.counts), _holdout_chart(calibration.holdout)]
    n = meta["replications"]
    run = next(command for _, command in steps if command.startswith("cxsim "))
    return Page(
        title=f"{label[:1].upper()}{label[1:]}: a market calibrated to {meta['log']}",
        subtitle=(f"preset market={preset.stem}; {meta['customers']:,} customers; "
                  + (f"{n} simulated replications" if n else "no simulation")),
        answer=[*calibration_sentences(calibration, typicals),
                f"Next: {run} runs the default duel among these customers; more commands "
                "below."],
        warnings=calibration.warnings,
        tables=tables,
        charts=charts,
        assumptions=[_sources_table(calibration, sources, preset.stem)],
        next_steps=steps,
        command=command,
        provenance=[("log", meta["log"]), ("calibration end", meta["calibration_end"]),
                    ("seed", str(meta["seed"])),
                    ("expected CLV", f"margin {meta['margin']:g}, discount rate "
                     f"{meta['discount_rate']:g} a year, {meta['clv_years']} years")],
    )
