"""The report's charts: matplotlib figures of an ensemble, with CI bands, titles and units.

Each function takes tidy frames (one row per replication, firm and month,
or per replication and firm) and returns a :class:`~cxsim.report.page.Chart`
whose alt text says what the chart shows. Months are placed at their end,
in months of ``sim.days_per_month`` days (``t_days / days_per_month``), so
the first month sits at 1: its number (:func:`cxsim.simulation.results.month_number`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cxsim.report.page import Chart, chart_from_figure  # noqa: E402
from cxsim.simulation.delivery_gap import BAIN_AGREE, BAIN_BELIEVE  # noqa: E402
from cxsim.simulation.results import Crossover, mean_ci, month_number, monthly_band  # noqa: E402

__all__ = ["share_over_time", "mark_crossover", "clv_by_firm", "nps_three_ways", "nps_lines",
           "believe_and_agree",
           "spend_by_quarter", "acquisitions_by_source", "difference_over_time", "colours",
           "firm_of"]

COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
           "#666666", "#1f78b4", "#b15928")
"""One per firm: ColorBrewer's Dark2 (colour-blind-safe, the first six a duel or comparison
uses), then two of its Paired for an industry of ten."""
FEW = 4
"""Bars per chart whose names fit slanted a little; more are turned further."""


def _ticks(ax, x: np.ndarray, labels: Sequence[str]) -> None:
    ax.set_xticks(x, [plain(label) for label in labels], rotation=15 if len(labels) <= FEW
                  else 50, ha="right", fontsize=None if len(labels) <= FEW else 7)


def firm_of(label: str) -> str:
    """The firm a line or bar is about: its label after a scenario's or market's prefix
    ("B: the sales-focused firm")."""
    return str(label).rsplit(": ", 1)[-1]


def colours(labels: Sequence[str]) -> list[str]:
    """One colour per firm, whatever the prefix: the k-th firm named is drawn in the k-th
    colour in every chart of a page (its pages list firms in one order)."""
    firms = list(dict.fromkeys(firm_of(label) for label in labels))
    return [COLOURS[firms.index(firm_of(label)) % len(COLOURS)] for label in labels]


def _style(label: str) -> str:
    """Scenario B dashed beside scenario A's solid line, so the two can be told apart."""
    return "--" if str(label).startswith("B: ") else "-"


def plain(text: str) -> str:
    """*text* as matplotlib shows it literally: a "$" would start mathematical notation."""
    return str(text).replace("$", r"\$")


def _lines(series: dict[str, pd.DataFrame], column: str, scale: float, days_per_month: float,
           ax) -> None:
    for colour, (label, frame) in zip(colours(list(series)), series.items()):
        band = monthly_band(frame, column, (), scale).sort_values("month")
        x = band.month.map(frame.groupby("month").t_days.first()) / days_per_month
        ax.plot(x, band["mean"], color=colour, ls=_style(label), label=plain(label))
        if band["ci_low"].notna().any():
            ax.fill_between(x, band["ci_low"], band["ci_high"], color=colour, alpha=0.2, lw=0)


def mark_crossover(ax, crossing: Crossover | None, x_of: Callable[[int], float]) -> str:
    """Mark on *ax* the crossover (dashed) and the month its lead is sure from (dotted).

    The crossover is drawn only when claimed (:attr:`Crossover.claimed`: the
    interval says the lead is real), so a chance crossing of the means, as
    early pairs give, draws nothing. *x_of* places a month index on the x
    axis; the labels number months with :func:`~cxsim.simulation.results.month_number`,
    as the x axis does. Returns the words that say what is marked.
    """
    if crossing is None:
        return ""
    words = []
    if crossing.claimed:
        number = month_number(crossing.month)
        ax.axvline(x_of(crossing.month), color="0.3", ls="--", lw=1,
                   label=f"crossover, month {number}")
        words.append(f"The dashed line marks the crossover at month {number}: from then on the "
                     "leader's mean share stays ahead.")
    if crossing.sure is not None:  # then the mean lead is above 0 from the crossover on
        number = month_number(crossing.sure)
        ax.axvline(x_of(crossing.sure), color="0.3", ls=":", lw=1.2,
                   label=f"lead sure from month {number}")
        words.append(f"The dotted line marks month {number}, from which the 95% CI of the "
                     "paired lead stays above 0.")
    return "".join(" " + w for w in words)


def share_over_time(series: dict[str, pd.DataFrame], days_per_month: float,
                    crossover: Crossover | None = None, title: str = "Market share over time"
                    ) -> Chart:
    """Each firm's share of the active clients by month, 95% bands, the crossover marked."""
    fig, ax = plt.subplots(figsize=(8, 4))
    _lines(series, "share", 100.0, days_per_month, ax)
    first = next(iter(series.values()))
    end = first.groupby("month").t_days.first()
    mark = mark_crossover(ax, crossover, lambda month: end[month] / days_per_month)
    ax.set_xlabel(f"month ({days_per_month:g} days; 1 = the first)")
    ax.set_ylabel("share of active clients (%)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    names = ", ".join(series)
    return chart_from_figure(fig, f"{title}: line chart of the share of active clients by "
                             f"month for {names}, with 95% confidence bands.{mark}",
                             "Mean over replications; the band is the 95% CI." + mark)


def _bars(ax, labels: Sequence[str], stats: Sequence[tuple[float, float, float]]) -> None:
    x = np.arange(len(labels))
    means = np.array([s[0] for s in stats])
    low = np.array([s[0] - s[1] if np.isfinite(s[1]) else 0.0 for s in stats])
    high = np.array([s[2] - s[0] if np.isfinite(s[2]) else 0.0 for s in stats])
    ax.bar(x, np.nan_to_num(means), 0.6, yerr=[low, high], capsize=4, color=colours(labels),
           hatch=["//" if str(label).startswith("B: ") else "" for label in labels])
    _ticks(ax, x, labels)
    ax.grid(axis="y", alpha=0.3)


def clv_by_firm(summary: pd.DataFrame, label: str = "firm", currency: str = "$") -> Chart:
    """CLV now and CLV of new clients per firm (or scenario), with 95% CIs."""
    groups = list(dict.fromkeys(summary[label]))
    fig, axes = plt.subplots(1, 2, figsize=(9 if len(groups) <= FEW else 12, 3.8 if len(
        groups) <= FEW else 5))
    for ax, column, title in ((axes[0], "clv_final_year", "CLV now (final year)"),
                              (axes[1], "clv_mean", "CLV of clients won")):
        stats = [mean_ci(summary.loc[summary[label] == g, column].to_numpy(dtype=float))
                 for g in groups]
        _bars(ax, [str(g) for g in groups], stats)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(plain(f"{currency} per client"))
    fig.tight_layout()
    return chart_from_figure(fig, "Bar charts of CLV now and CLV of clients won per "
                             f"{label}, with 95% confidence intervals.",
                             "Error bars are 95% CIs over replications.")


NPS_WAYS = (("nps_true", "every client (true)", "#1b9e77"),
            ("nps_measured", "the firm's own survey", "#d95f02"),
            ("nps_market", "the industry study", "#7570b3"))
"""The three ways a page shows NPS: its column, what it is in words, its colour."""


def nps_three_ways(summary: pd.DataFrame, label: str = "firm") -> Chart:
    """NPS three ways per firm: every client's answer, what the firm's own survey hears, and
    what the industry study hears."""
    groups = list(dict.fromkeys(summary[label]))
    fig, ax = plt.subplots(figsize=(8 if len(groups) <= FEW else 11, 3.8 if len(
        groups) <= FEW else 5))
    x = np.arange(len(groups))
    ways = [way for way in NPS_WAYS if way[0] in summary]
    width = 0.8 / len(ways)
    for k, (column, name, colour) in enumerate(ways):
        stats = [mean_ci(summary.loc[summary[label] == g, column].to_numpy(dtype=float))
                 for g in groups]
        means = np.array([s[0] for s in stats])
        err = np.array([[s[0] - s[1], s[2] - s[0]] if np.isfinite(s[1]) else [0.0, 0.0]
                        for s in stats]).T
        ax.bar(x + (k - (len(ways) - 1) / 2) * width, np.nan_to_num(means), width, yerr=err,
               capsize=3, color=colour, label=name)
    _ticks(ax, x, [str(g) for g in groups])
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_ylabel("NPS (promoters % − detractors %)")
    ax.set_title("NPS three ways: what clients feel, what the firm hears, what a study hears")
    ax.grid(axis="y", alpha=0.3)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.25 * (high - low))  # room for the legend above the bars
    ax.legend(fontsize=8, ncols=len(ways), loc="upper center")
    fig.tight_layout()
    return chart_from_figure(fig, f"Grouped bars of NPS per {label} by every client, by the "
                             "firm's own survey and by the industry study, with 95% confidence "
                             "intervals.",
                             "The firm's own survey hears whom it asks and who answers, coached "
                             "where its front line is paid on it; the industry study asks "
                             "everyone who ever dealt with the firm, former clients too.")


def nps_lines(series: dict[str, pd.DataFrame]) -> Chart:
    """Each firm's NPS over time, three ways, by quarter (answers pooled over its months, then
    the mean over replications): one small panel per firm."""
    n = len(series)
    cols = min(n, 5)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.4 * cols + 1, 2.3 * rows + 0.8),
                             sharex=True, sharey=True, squeeze=False)
    answers = {"nps_true": "nps_answers", "nps_measured": "nps_surveyed",
               "nps_market": "nps_market_answers"}
    for ax, (label, frame) in zip(axes.flat, series.items()):
        quarter = frame.month // 3
        for column, name, colour in NPS_WAYS:
            weights = frame[answers[column]]
            pooled = (frame[column].fillna(0.0) * weights).groupby(
                [frame.replication, quarter]).sum() / weights.groupby(
                [frame.replication, quarter]).sum()
            mean = pooled.groupby(level=1).mean()
            ax.plot((mean.index + 1) * 3, mean.to_numpy(),
                    color=colour, label=name, lw=1.4)
        ax.set_title(plain(label), fontsize=8)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("month (quarter's end)", fontsize=8)
    axes[0, 0].set_ylabel("NPS", fontsize=8)
    axes[0, 0].legend(fontsize=6, loc="lower left")
    fig.suptitle("Each firm's NPS by quarter: every client, its own survey, the industry study",
                 fontsize=10)
    fig.tight_layout()
    return chart_from_figure(fig, "Small line charts, one per firm, of true NPS, the firm's "
                             "own measured NPS and the industry study's NPS by quarter.",
                             "Answers pooled over each quarter's months, then the mean over "
                             "replications.")


def believe_and_agree(table: pd.DataFrame) -> Chart:
    """The delivery gap: the share of firms that believe they are above the industry's NPS,
    and of firms whose clients agree (*table*: ``cxsim.simulation.delivery_gap.
    believe_and_agree``, a row per replication), beside Bain's 80/8."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for k, (column, colour) in enumerate((("believe", "#d95f02"), ("agree", "#1b9e77"))):
        mean, low, high = (100 * v for v in mean_ci(table[column].to_numpy(dtype=float)))
        ax.bar(k, mean, 0.6, color=colour, capsize=4,
               yerr=[[mean - low], [high - mean]] if np.isfinite(low) else None)
        ax.text(k, 2, f"{mean:.0f}%", ha="center", color="white", fontsize=11,
                fontweight="bold")
    ax.axhline(100 * BAIN_BELIEVE, color="#d95f02", ls="--", lw=1,
               label="Bain 2005: 80% of firms believed")
    ax.axhline(100 * BAIN_AGREE, color="#1b9e77", ls="--", lw=1,
               label="Bain 2005: 8% of customers agreed")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_xticks([0, 1], ["believe they are\nabove the industry", "their clients\nagree"])
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(0, 125)
    ax.set_ylabel("share of firms (%)")
    ax.set_title("The delivery gap: what firms believe and what their clients say")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return chart_from_figure(fig, "Two bars: the share of firms whose own NPS is above the "
                             "industry study's mean, and the share whose NPS by the study is, "
                             "with dashed lines at Bain's 80% and 8%.",
                             "Bain's 8% is a share of customers; these bars are shares of "
                             "firms, so the units differ. Mean over replications with 95% CI.")


def spend_by_quarter(series: dict[str, pd.DataFrame], days_per_month: float) -> Chart:
    """CX and acquisition spend per quarter (mean over replications)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, column, title in ((axes[0], "cx_spend", "CX spend"),
                              (axes[1], "acquisition_spend", "Acquisition spend")):
        for colour, (label, frame) in zip(colours(list(series)), series.items()):
            quarter = frame.month // 3
            per = frame.assign(quarter=quarter).groupby(["replication", "quarter"])[column].sum()
            mean = per.groupby("quarter").mean()
            ax.plot(mean.index + 1, mean.to_numpy(), marker="o", ms=3, color=colour,
                    ls=_style(label), label=plain(label))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"quarter (3 months of {days_per_month:g} days)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("money per quarter")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return chart_from_figure(fig, "Line charts of CX spend and acquisition spend per quarter "
                             "for each " + ("firm" if len(series) else "series") + ".",
                             "Mean over replications.")


def acquisitions_by_source(summary_ts: dict[str, pd.DataFrame]) -> Chart:
    """New clients over the run by source: marketing, referral, won from a rival."""
    labels = list(summary_ts)
    fig, ax = plt.subplots(figsize=(8, 3.8) if len(labels) <= FEW else (11, 5))
    sources = (("acquisitions_marketing", "marketing"), ("acquisitions_referral", "referral"),
               ("acquisitions_switch", "won from a rival"))
    bottom = np.zeros(len(labels))
    for k, (column, name) in enumerate(sources):
        values = np.array([frame.groupby("replication")[column].sum().mean()
                           for frame in summary_ts.values()])
        ax.bar(np.arange(len(labels)), values, 0.6, bottom=bottom, label=name,
               color=("#7570b3", "#1b9e77", "#e6ab02")[k])
        bottom += values
    _ticks(ax, np.arange(len(labels)), labels)
    ax.set_ylabel("clients acquired over the run")
    ax.set_title("Acquisitions by source")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return chart_from_figure(fig, "Stacked bars of clients acquired by marketing, by referral "
                             "and from a rival, per " + "firm.",
                             "Mean over replications.")


def difference_over_time(differences: dict[str, np.ndarray], owners: Sequence[str],
                         firms: Sequence[str], days_per_month: float, title: str,
                         ylabel: str, above: str, crossing: Crossover | None = None) -> Chart:
    """The difference that answers the question, month by month, with its 95% band: each
    entry is one replication per row and one month per column (a paired difference), drawn
    in the colour of the firm it is about (*owners*, one per entry, among the page's
    *firms* in their order); 0 is marked, so a change of a few tenths of a point can be
    seen where two near-identical share charts hide it. *above* says what above 0 means;
    *crossing*, if given, is marked as on the share chart (:func:`mark_crossover`)."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    drawn = [COLOURS[list(firms).index(owner) % len(COLOURS)] for owner in owners]
    for colour, (label, values) in zip(drawn, differences.items()):
        values = np.asarray(values, dtype=float)
        stats = np.array([mean_ci(values[:, m]) for m in range(values.shape[1])])
        x = np.arange(1, values.shape[1] + 1) * 1.0
        ax.plot(x, stats[:, 0], color=colour, label=plain(label))
        if np.isfinite(stats[:, 1]).any():
            ax.fill_between(x, stats[:, 1], stats[:, 2], color=colour, alpha=0.2, lw=0)
    ax.axhline(0.0, color="0.3", lw=1)
    mark = mark_crossover(ax, crossing, lambda month: month + 1.0)
    ax.set_xlabel(f"month ({days_per_month:g} days; 1 = the first)")
    ax.set_ylabel(ylabel)
    ax.set_title(plain(title))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    names = ", ".join(differences)
    return chart_from_figure(fig, f"{title}: line chart by month of {names}, with 95% "
                             f"confidence bands and the zero line.{mark}",
                             f"Above 0: {above}. Paired over replications on common random "
                             "numbers; the band is the 95% CI." + mark)
