"""The report's charts: matplotlib figures of an ensemble, with CI bands, titles and units.

Each function takes tidy frames (one row per replication, firm and month,
or per replication and firm) and returns a :class:`~cxsim.report.page.Chart`
whose alt text says what the chart shows. Months are placed at their end,
in months of ``sim.days_per_month`` days (``t_days / days_per_month``).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cxsim.report.page import Chart, chart_from_figure  # noqa: E402
from cxsim.results import mean_ci  # noqa: E402

__all__ = ["share_over_time", "clv_by_firm", "nps_true_and_measured", "spend_by_quarter",
           "acquisitions_by_source"]

COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")
"""Colour-blind-safe (ColorBrewer Dark2), one per firm or scenario."""


def _band(frame: pd.DataFrame, column: str, scale: float) -> pd.DataFrame:
    rows = []
    for (month, t_days), group in frame.groupby(["month", "t_days"], sort=True):
        mean, low, high = mean_ci(scale * group[column].to_numpy(dtype=float))
        rows.append((month, t_days, mean, low, high))
    return pd.DataFrame(rows, columns=["month", "t_days", "mean", "low", "high"])


def _lines(series: dict[str, pd.DataFrame], column: str, scale: float, days_per_month: float,
           ax) -> None:
    for k, (label, frame) in enumerate(series.items()):
        band = _band(frame, column, scale)
        x = band.t_days / days_per_month
        colour = COLOURS[k % len(COLOURS)]
        ax.plot(x, band["mean"], color=colour, label=label)
        if band["low"].notna().any():
            ax.fill_between(x, band["low"], band["high"], color=colour, alpha=0.2, lw=0)


def share_over_time(series: dict[str, pd.DataFrame], days_per_month: float,
                    crossover: int | None = None, title: str = "Market share over time"
                    ) -> Chart:
    """Each firm's share of the active clients by month, 95% bands, the crossover marked."""
    fig, ax = plt.subplots(figsize=(8, 4))
    _lines(series, "share", 100.0, days_per_month, ax)
    mark = ""
    if crossover is not None and crossover > 0:
        first = next(iter(series.values()))
        when = first.loc[first.month == crossover, "t_days"].iloc[0] / days_per_month
        ax.axvline(when, color="0.3", ls="--", lw=1, label=f"crossover, month {crossover}")
        mark = f" The dashed line marks the crossover at month {crossover}."
    ax.set_xlabel(f"month ({days_per_month:g} days)")
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
    ax.bar(x, np.nan_to_num(means), 0.6, yerr=[low, high], capsize=4,
           color=[COLOURS[k % len(COLOURS)] for k in range(len(labels))])
    ax.set_xticks(x, labels, rotation=15, ha="right")
    ax.grid(axis="y", alpha=0.3)


def clv_by_firm(summary: pd.DataFrame, label: str = "firm") -> Chart:
    """CLV now and CLV of new clients per firm (or scenario), with 95% CIs."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    groups = list(dict.fromkeys(summary[label]))
    for ax, column, title in ((axes[0], "clv_final_year", "CLV now (final year)"),
                              (axes[1], "clv_mean", "CLV of clients won")):
        stats = [mean_ci(summary.loc[summary[label] == g, column].to_numpy(dtype=float))
                 for g in groups]
        _bars(ax, [str(g) for g in groups], stats)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("money per client")
    fig.tight_layout()
    return chart_from_figure(fig, "Bar charts of CLV now and CLV of clients won per "
                             f"{label}, with 95% confidence intervals.",
                             "Error bars are 95% CIs over replications.")


def nps_true_and_measured(summary: pd.DataFrame, label: str = "firm") -> Chart:
    """True NPS (every answer) beside measured NPS (heard and coached answers)."""
    fig, ax = plt.subplots(figsize=(8, 3.8))
    groups = list(dict.fromkeys(summary[label]))
    x = np.arange(len(groups))
    for k, (column, name) in enumerate((("nps_true", "true"), ("nps_measured", "measured"))):
        stats = [mean_ci(summary.loc[summary[label] == g, column].to_numpy(dtype=float))
                 for g in groups]
        means = np.array([s[0] for s in stats])
        err = np.array([[s[0] - s[1], s[2] - s[0]] if np.isfinite(s[1]) else [0.0, 0.0]
                        for s in stats]).T
        ax.bar(x + (k - 0.5) * 0.35, np.nan_to_num(means), 0.35, yerr=err, capsize=4,
               color=("#1b9e77", "#bbbbbb")[k], label=f"{name} NPS")
    ax.set_xticks(x, [str(g) for g in groups], rotation=15, ha="right")
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_ylabel("NPS (promoters % − detractors %)")
    ax.set_title("NPS: what clients feel and what the firm measures")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return chart_from_figure(fig, f"Grouped bars of true and measured NPS per {label}, with "
                             "95% confidence intervals.",
                             "Measured NPS counts only the answers the firm hears, coached "
                             "where its front line is paid on them; the gap is the perception "
                             "gap.")


def spend_by_quarter(series: dict[str, pd.DataFrame], days_per_month: float) -> Chart:
    """CX and acquisition spend per quarter (mean over replications)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, column, title in ((axes[0], "cx_spend", "CX spend"),
                              (axes[1], "acquisition_spend", "Acquisition spend")):
        for k, (label, frame) in enumerate(series.items()):
            quarter = frame.month // 3
            per = frame.assign(quarter=quarter).groupby(["replication", "quarter"])[column].sum()
            mean = per.groupby("quarter").mean()
            ax.plot(mean.index + 1, mean.to_numpy(), marker="o", ms=3,
                    color=COLOURS[k % len(COLOURS)], label=label)
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
    fig, ax = plt.subplots(figsize=(8, 3.8))
    labels = list(summary_ts)
    sources = (("acquisitions_marketing", "marketing"), ("acquisitions_referral", "referral"),
               ("acquisitions_switch", "won from a rival"))
    bottom = np.zeros(len(labels))
    for k, (column, name) in enumerate(sources):
        values = np.array([frame.groupby("replication")[column].sum().mean()
                           for frame in summary_ts.values()])
        ax.bar(np.arange(len(labels)), values, 0.6, bottom=bottom, label=name,
               color=("#7570b3", "#1b9e77", "#e6ab02")[k])
        bottom += values
    ax.set_xticks(np.arange(len(labels)), labels, rotation=15, ha="right")
    ax.set_ylabel("clients acquired over the run")
    ax.set_title("Acquisitions by source")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return chart_from_figure(fig, "Stacked bars of clients acquired by marketing, by referral "
                             "and from a rival, per " + "firm.",
                             "Mean over replications.")

