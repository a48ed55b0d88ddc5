"""PNG figures and the console summary of one run."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cxsim.report.answer import NO_DATA  # noqa: E402
from cxsim.simulation.results import Results  # noqa: E402

__all__ = ["plot_active_clients", "plot_market_share", "plot_emotion_curve", "summary_table",
           "write_figures"]


def _plot_by_firm(results: Results, path: Path, column: str, scale: float, ylabel: str,
                  title: str) -> Path:
    """One line per firm of a monthly *column* of the timeseries."""
    fig, ax = plt.subplots(figsize=(7, 4))
    days_per_month = float(results.meta.get("days_per_month")
                           or results.config["sim"]["days_per_month"])
    for firm, rows in results.timeseries.groupby("firm", sort=False):
        ax.plot(rows.t_days / days_per_month, scale * rows[column], label=str(firm))
    ax.set_xlabel(f"month ({days_per_month:g} days)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_active_clients(results: Results, path: Path) -> Path:
    """Monthly active clients per firm."""
    return _plot_by_firm(results, path, "active_clients", 1.0, "active clients",
                         "Active clients")


def plot_market_share(results: Results, path: Path) -> Path:
    """Each firm's share of the active clients, month by month: where a crossover shows."""
    return _plot_by_firm(results, path, "share", 100.0, "share of active clients (%)",
                         "Market share")


def plot_emotion_curve(results: Results, path: Path) -> Path:
    """Mean affect per touchpoint, in journey order: the line every journey map draws."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for firm, rows in results.touchpoints.groupby("firm", sort=False):
        x = np.arange(len(rows))
        ax.plot(x, rows.mean_affect, marker="o", label=str(firm))
        ax.set_xticks(x, rows.touchpoint, rotation=30, ha="right")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("mean affect (-1 .. 1)")
    ax.set_title("Journey emotion curve")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_figures(results: Results, directory: Path) -> list[Path]:
    """Write the run's PNG figures into *directory*."""
    directory = Path(directory)
    return [
        plot_active_clients(results, directory / "active_clients.png"),
        plot_market_share(results, directory / "market_share.png"),
        plot_emotion_curve(results, directory / "emotion_curve.png"),
    ]


def summary_table(results: Results) -> str:
    """The per-firm summary as a readable table."""
    s = results.summary.set_index("firm")

    def shown(column: pd.Series, form: str) -> pd.Series:
        return column.map(lambda v: NO_DATA if pd.isna(v) else form.format(v))

    table = pd.DataFrame({
        "share": shown(s.share_final, "{:.1%}"),
        "CLV now": shown(s.clv_final_year, "{:,.0f}"),
        "CLV of new clients (95% CI)": shown(s.clv_mean, "{:,.0f}").where(
            s.clv_mean.isna(), shown(s.clv_mean, "{:,.0f}") + " [" + shown(s.clv_ci_low, "{:,.0f}")
            + ", " + shown(s.clv_ci_high, "{:,.0f}") + "]"),
        "retention/yr": shown(s.retention_annual, "{:.1%}"),
        "NPS true": shown(s.nps_true, "{:+.1f}"),
        "NPS measured": shown(s.nps_measured, "{:+.1f}"),
        "by referral": shown(s.referral_share, "{:.0%}"),
        "revenue": shown(s.revenue_total, "{:,.0f}"),
    }, index=s.index)
    notes = (
        "share: of active clients at the end. CLV now: final year's margin per client and "
        "retention, m r / (1 + d - r).\nCLV of new clients: discounted margin per client "
        "acquired, censored at the horizon (late clients have had less time to pay).\n"
        "by referral: share of new-to-market clients won by referral.")
    return f"{table.to_string()}\n\n{notes}"
