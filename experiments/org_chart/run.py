"""Org chart: the sales-focused firm with and without a CCO, through a revenue shock.

::

    python experiments/org_chart/run.py [--workers 2] [--tiny] [--out DIR]

Figures: ``cx_spend.png`` (sales_first's monthly CX spend per org chart with
95% bands, and the paired difference CCO minus none, the shock shaded) and
``outcomes.png`` (final-year CLV and final market share per org chart, with
95% CIs and the paired difference). ``summary.md`` has the numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from cxsim.config import EventConfig

if __package__ in (None, ""):  # run as a script: make `experiments` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from experiments import common  # noqa: E402
from experiments.common import plt  # noqa: E402

HERE = Path(__file__).resolve().parent
FIRM = "sales_first"
WITH, WITHOUT = "cco", "no_cco"
STYLE = {WITHOUT: ("#d95f02", "without a CCO"), WITH: ("#1b9e77", "with a CCO")}


def shock_months(overrides: list[str]) -> tuple[int, int]:
    """First month and length of the ``crash`` shock, as the overrides set them."""
    start, months = EventConfig.start_month, EventConfig.months
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if key == "events.crash.start_month":
            start = int(value)
        elif key == "events.crash.months":
            months = int(value)
    return start, months


def analyse(outcome: common.Outcome) -> dict:
    table, ts = outcome.table, outcome.timeseries
    start, length = shock_months(outcome.meta["overrides"])
    cx = {cell: common.series(ts, "cx_spend", FIRM, cell) for cell in (WITHOUT, WITH)}
    diff = cx[WITH] - cx[WITHOUT]
    months = diff.shape[1]
    shock = slice(start, min(start + length, months))
    after = slice(min(start + length, months), min(start + length + 12, months))
    found = {
        "start": start, "length": length, "months": months,
        "cx_diff_by_month": diff,
        "cx_shock": {c: common.ci(cx[c][:, shock].mean(axis=1)) for c in cx},
        "cx_shock_diff": common.ci(diff[:, shock].mean(axis=1)),
        "cx_after_diff": common.ci(diff[:, after].mean(axis=1)) if after.stop > after.start
        else (np.nan,) * 3,
        "cx_final_year_diff": common.ci(diff[:, -12:].mean(axis=1)),
    }
    for metric in ("clv_final_year", "share_final", "cx_spend_total", "margin_total",
                   "retention_annual", "nps_true"):
        found[metric] = {c: common.ci(table[(table.cell == c) & (table.firm == FIRM)][metric])
                         for c in (WITHOUT, WITH)}
        found[f"{metric}_diff"] = common.ci(common.cell_difference(table, metric, FIRM, WITH,
                                                                   WITHOUT))
    return found


def figures(outcome: common.Outcome, found: dict) -> None:
    bands = common.band(outcome.timeseries[outcome.timeseries.firm == FIRM], "cx_spend")
    start, length = found["start"], found["length"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for cell in (WITHOUT, WITH):
        color, label = STYLE[cell]
        b = bands[bands.cell == cell]
        axes[0].plot(b.month, b["mean"], color=color, label=label)
        axes[0].fill_between(b.month, b.ci_low, b.ci_high, color=color, alpha=0.25, lw=0)
    diff = found["cx_diff_by_month"]
    stats = np.array([common.ci(diff[:, m]) for m in range(diff.shape[1])])
    months = np.arange(diff.shape[1])
    axes[1].plot(months, stats[:, 0], color="0.2")
    axes[1].fill_between(months, stats[:, 1], stats[:, 2], color="0.5", alpha=0.3, lw=0)
    axes[1].axhline(0.0, color="0.3", lw=0.8)
    axes[0].set_title("sales_first's CX spend", fontsize=10)
    axes[1].set_title("paired difference, CCO minus none", fontsize=10)
    for ax in axes:
        ax.axvspan(start - 0.5, start + length - 0.5, color="#e7298a", alpha=0.12,
                   label="revenue shock" if ax is axes[0] else None)
        ax.set_xlabel("month (0 = first)")
        ax.set_ylabel("CX spend per month (money)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("CX spend through a revenue shock: mean of the replications, 95% CI band",
                 fontsize=11)
    common.save_figure(fig, outcome.out, "cx_spend.png")

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, metric, scale, label in ((axes[0], "clv_final_year", 1.0, "CLV now (money)"),
                                     (axes[1], "share_final", 100.0, "final market share (%)")):
        for k, cell in enumerate((WITHOUT, WITH)):
            mean, low, high = (scale * v for v in found[metric][cell])
            ax.bar(k, mean, 0.6, yerr=[[mean - low], [high - mean]], capsize=5,
                   color=STYLE[cell][0])
        d = found[f"{metric}_diff"]
        unit = " pp" if scale == 100 else ""
        ax.set_title(f"paired difference: {common.fmt_ci(d, unit, scale)}", fontsize=8)
        ax.set_xticks([0, 1], [STYLE[c][1] for c in (WITHOUT, WITH)])
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("sales_first at the end of the run: mean with 95% CI", fontsize=11)
    common.save_figure(fig, outcome.out, "outcomes.png")


def summary(outcome: common.Outcome, found: dict) -> str:
    f = common.fmt_ci
    start, length = found["start"], found["length"]
    protected = found["cx_shock_diff"][1] > 0
    clv = found["clv_final_year_diff"]
    share = found["share_final_diff"]
    persists = "the gap does not close: " if found["cx_final_year_diff"][1] > 0 else ""

    def verdict(stats, unit="", scale=1.0):
        word = ("higher" if stats[1] > 0 else "lower" if stats[2] < 0
                else "not measurably different")
        return f"{word}: {f(stats, unit, scale)}"

    lines = [
        "# Org chart: a CCO through a revenue shock",
        "",
        outcome.experiment.question,
        "",
        f"Size: {common.size_note(outcome.meta)}. Shock: months {start} to "
        f"{start + length - 1} (counted from 0). Differences are CCO minus no CCO for "
        "sales_first, paired by replication (same random numbers), with 95% CIs.",
        "",
        "## Answer",
        "",
        f"- **CX spend during the shock** (monthly mean, months {start}-{start + length - 1}): "
        f"without a CCO {f(found['cx_shock'][WITHOUT])}, with one "
        f"{f(found['cx_shock'][WITH])}; the CCO "
        f"{'protects' if protected else 'does not measurably protect'} it "
        f"({f(found['cx_shock_diff'])} a month).",
        f"- **After the shock** {persists}the CCO changes monthly CX spend by "
        f"{f(found['cx_after_diff'])} in the year after it and by "
        f"{f(found['cx_final_year_diff'])} in the final year"
        + (" (without a CCO, every later missed target cuts CX again)." if persists else "."),
        f"- **CLV now** (final year) with a CCO is {verdict(clv)} (without "
        f"{f(found['clv_final_year'][WITHOUT])}, with {f(found['clv_final_year'][WITH])}).",
        f"- **Final market share** with a CCO is {verdict(share, ' pp', 100)} (without "
        f"{f(found['share_final'][WITHOUT], '%', 100)}, with "
        f"{f(found['share_final'][WITH], '%', 100)}).",
        f"- Over the whole run the CCO changes sales_first's total CX spend by "
        f"{f(found['cx_spend_total_diff'])} and its total margin by "
        f"{f(found['margin_total_diff'])}; annual retention by "
        f"{f(found['retention_annual_diff'], ' pp', 100)}, true NPS by "
        f"{f(found['nps_true_diff'])} points.",
        "",
        "## How to read it",
        "",
        "Without a CCO, a missed sales target moves CX money to acquisition (the sales "
        "side's reflex); with one, CX spend cannot fall below 95% of its last-year mean. "
        "Cut CX and clients feel it; trust lost is rebuilt slowly and staff who leave take "
        "their skill, so the damage outlasts the shock (docs/model.md §5-6). A difference "
        "whose interval includes 0 is not distinguishable from none at this number of "
        "replications.",
        "",
        "Figures: `cx_spend.png`, `outcomes.png`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> common.Outcome:
    return common.main(HERE, argv, analyse, [figures], summary)


if __name__ == "__main__":
    main()
