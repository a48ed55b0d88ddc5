"""The calibration report: the fitted market, and how it buys against the log it came from.

Three pictures, as in Fader, Hardie & Lee (2005): the weekly cumulative
repeat purchases (the log, the BG/NBD's expectation, and cxsim simulating
the fitted market with its 95% band) through the calibration period and
the holdout; the customers by repeat purchases in calibration; and the
holdout purchases by calibration count, actual against expected.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cxsim.report.charts import COLOURS  # noqa: E402
from cxsim.report.page import Chart, Page, chart_from_figure, table_from_frame  # noqa: E402

__all__ = ["calibration_page", "calibration_sentences", "weekly_figure"]

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
    return f"{100 * (simulated / actual - 1):+.1f}%" if actual else "n/a"


def calibration_sentences(calibration) -> list[str]:
    """The fits and the totals, said plainly."""
    meta, totals = calibration.meta, calibration.totals.set_index("period")
    out = [f"{meta['customers']:,} customers of {meta['log']}, calibrated on their purchases "
           f"to {meta['calibration_end']} ({meta['calibration_weeks']:.0f} weeks) and checked "
           f"on the {meta['holdout_weeks']:.0f} weeks after."]
    for f in calibration.fits:
        b, s = f.repeat_buying, f.spend
        out.append(
            f"{f.name}: while active a customer buys at a rate λ ~ Gamma(r = {b.r:.3f}, "
            f"α = {b.alpha:.3f} weeks), a mean of {52.18 * b.r / b.alpha:.2f} purchases a year, "
            f"and after each repeat purchase drops out with probability p ~ Beta(a = {b.a:.3f}, "
            f"b = {b.b:.3f}), a mean of {b.a / (b.a + b.b):.1%}; it spends Gamma–Gamma "
            f"(p = {s.p:.2f}, q = {s.q:.2f}, γ = {s.gamma:.2f}), {s.mean_spend:,.2f} a purchase "
            "on average.")
    for period in totals.index:
        row = totals.loc[period]
        sentence = (f"{period.capitalize()}: {row.actual:,.0f} repeat purchases in the log, "
                    f"{row.expected:,.0f} expected by the BG/NBD "
                    f"({_percent(row.expected, row.actual)})")
        if "simulated" in totals:
            sentence += (f", {row.simulated:,.0f} in cxsim's fitted market "
                         f"({_percent(row.simulated, row.actual)}; 95% of replications "
                         f"{row.simulated_low:,.0f} to {row.simulated_high:,.0f})")
        out.append(sentence + ".")
    zero = meta.get("zero_spend_transactions", 0)
    if zero:
        out.append(f"{zero:,} calibration transactions spent nothing: counted as purchases, "
                   "left out of the spend averages.")
    return out


def _fit_table(calibration):
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
    raw = pd.DataFrame(rows, columns=["segment", "parameter", "estimate", "standard error"])
    shown = raw.assign(estimate=raw.estimate.map(lambda v: f"{v:,.4g}"),
                       **{"standard error": raw["standard error"].map(
                           lambda v: "" if np.isnan(v) else f"{v:.3g}")})
    return table_from_frame("Fitted parameters (maximum likelihood)", shown,
                            "Standard errors from the observed information, by the delta "
                            "method.", "fit", "fit.csv", raw)


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda c: c.map(lambda v: f"{v:,.2f}" if isinstance(v, float) and
                                       not np.isnan(v) else ("" if isinstance(v, float)
                                                             else v)))


def calibration_page(calibration, preset: str, command: str = "") -> Page:
    """The report of a :class:`cxsim.calibrate.Calibration`."""
    meta = calibration.meta
    tables = [
        _fit_table(calibration),
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
    return Page(
        title=f"cxsim: a market calibrated to {meta['log']}",
        subtitle=(f"preset market={preset}; {meta['customers']:,} customers; "
                  + (f"{n} simulated replications" if n else "no simulation")),
        answer=calibration_sentences(calibration),
        tables=tables,
        charts=charts,
        command=command,
        provenance=[("log", meta["log"]), ("calibration end", meta["calibration_end"]),
                    ("seed", str(meta["seed"])),
                    ("expected CLV", f"margin {meta['margin']:g}, discount rate "
                     f"{meta['discount_rate']:g} a year, {meta['clv_years']} years")],
    )
