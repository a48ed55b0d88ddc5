"""Org chart: the sales-focused firm with and without a CCO, through a revenue shock.

::

    python experiments/org_chart/run.py [--workers 2] [--tiny] [--out DIR]

A CCO acts through two levers of the org preset: ``cx_floor`` (the floor
under CX spend) and ``org_culture`` (the org chart's pull on culture). The
cells set them apart: ``no_cco``, ``floor_only``, ``culture_only``, ``cco``
(both), all through the shock, and ``no_cco_no_shock`` and
``floor_only_no_shock`` with a neutral shock (factors 1), so that the
floor's effect with a shock can be compared with its effect without one.

Figures: ``cx_spend.png`` (sales_first's monthly CX spend per cell with 95%
bands, and the paired difference of each CCO cell minus ``no_cco``, the
shock shaded) and ``outcomes.png`` (final-year CLV and final market share
per cell, and each channel's paired effect, with 95% CIs). ``summary.md``
has the numbers.
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
WITHOUT, FLOOR, CULTURE, WITH = "no_cco", "floor_only", "culture_only", "cco"
CALM_WITHOUT, CALM_FLOOR = "no_cco_no_shock", "floor_only_no_shock"
STYLE = {  # cell: (colour, line style, label)
    WITHOUT: ("#d95f02", "-", "no CCO"),
    FLOOR: ("#7570b3", "-", "floor only"),
    CULTURE: ("#e6ab02", "-", "culture only"),
    WITH: ("#1b9e77", "-", "CCO (both)"),
    CALM_WITHOUT: ("#d95f02", ":", "no CCO, no shock"),
    CALM_FLOOR: ("#7570b3", ":", "floor only, no shock"),
}
# the paired effects: name -> (cell b, cell a, label); each is b minus a, by replication
EFFECTS = {
    "cco": (WITH, WITHOUT, "CCO (both)"),
    "floor": (FLOOR, WITHOUT, "floor only"),
    "culture": (CULTURE, WITHOUT, "culture only"),
    "floor_no_shock": (CALM_FLOOR, CALM_WITHOUT, "floor only, no shock"),
}
METRICS = ("clv_final_year", "share_final", "cx_spend_total", "margin_total",
           "retention_annual", "nps_true")


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


def _mine(table, cell):
    return table[(table.cell == cell) & (table.firm == FIRM)]


def analyse(outcome: common.Outcome) -> dict:
    table, ts = outcome.table, outcome.timeseries
    start, length = shock_months(outcome.meta["overrides"])
    cells = [c for c in STYLE if c in set(table.cell)]
    effects = {k: v for k, v in EFFECTS.items() if v[0] in cells and v[1] in cells}
    cx = {cell: common.series(ts, "cx_spend", FIRM, cell) for cell in cells}
    months = next(iter(cx.values())).shape[1]
    shock = slice(start, min(start + length, months))
    after = slice(min(start + length, months), min(start + length + 12, months))

    def window(values, part):
        return (common.ci(values[:, part].mean(axis=1)) if part.stop > part.start
                else (np.nan,) * 3)

    found = {"start": start, "length": length, "months": months, "cells": cells,
             "effects": effects, "cx_by_month": {}, "cx_shock": {}}
    for cell in cells:
        found["cx_shock"][cell] = window(cx[cell], shock)
    for name, (b, a, _) in effects.items():
        diff = cx[b] - cx[a]
        found["cx_by_month"][name] = diff
        found[f"cx_shock_{name}"] = window(diff, shock)
        found[f"cx_after_{name}"] = window(diff, after)
        found[f"cx_final_year_{name}"] = common.ci(diff[:, -12:].mean(axis=1))
    for metric in METRICS:
        found[metric] = {c: common.ci(_mine(table, c)[metric]) for c in cells}
        paired = {name: common.cell_difference(table, metric, FIRM, b, a)
                  for name, (b, a, _) in effects.items()}
        for name, values in paired.items():
            found[f"{metric}_{name}"] = common.ci(values)
        if {"cco", "floor", "culture"} <= set(paired):  # is the whole the sum of its parts?
            found[f"{metric}_interaction"] = common.ci(
                paired["cco"] - paired["floor"] - paired["culture"])
        if {"floor", "floor_no_shock"} <= set(paired):  # does the floor act through the shock?
            found[f"{metric}_floor_through_shock"] = common.ci(
                paired["floor"] - paired["floor_no_shock"])
    if {WITHOUT, CALM_WITHOUT} <= set(cells):  # what the shock itself costs without a CCO
        found["clv_shock_cost"] = common.ci(common.cell_difference(
            table, "clv_final_year", FIRM, WITHOUT, CALM_WITHOUT))
    return found


def figures(outcome: common.Outcome, found: dict) -> None:
    bands = common.band(outcome.timeseries[outcome.timeseries.firm == FIRM], "cx_spend")
    start, length = found["start"], found["length"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for cell in found["cells"]:
        color, ls, label = STYLE[cell]
        b = bands[bands.cell == cell]
        axes[0].plot(b.month, b["mean"], color=color, ls=ls, label=label)
        axes[0].fill_between(b.month, b.ci_low, b.ci_high, color=color, alpha=0.18, lw=0)
    for name, diff in found["cx_by_month"].items():
        b, _, label = found["effects"][name]
        color, ls, _ = STYLE[b]
        stats = np.array([common.ci(diff[:, m]) for m in range(diff.shape[1])])
        months = np.arange(diff.shape[1])
        axes[1].plot(months, stats[:, 0], color=color, ls=ls, label=label)
        axes[1].fill_between(months, stats[:, 1], stats[:, 2], color=color, alpha=0.2, lw=0)
    axes[1].axhline(0.0, color="0.3", lw=0.8)
    axes[0].set_title("sales_first's CX spend", fontsize=10)
    axes[1].set_title("paired difference from no CCO (same shock)", fontsize=10)
    for ax in axes:
        ax.axvspan(start - 0.5, start + length - 0.5, color="#e7298a", alpha=0.10,
                   label="revenue shock" if ax is axes[0] else None)
        ax.set_xlabel("month (0 = first)")
        ax.set_ylabel("CX spend per month (money)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("CX spend through a revenue shock: mean of the replications, 95% CI band",
                 fontsize=11)
    common.save_figure(fig, outcome.out, "cx_spend.png")

    cells = found["cells"]
    effects = list(found["effects"])
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5),
                             gridspec_kw={"height_ratios": [1, 0.8]})
    for col, (metric, scale, label) in enumerate(
            (("clv_final_year", 1.0, "CLV now (money)"),
             ("share_final", 100.0, "final market share (%)"))):
        ax = axes[0, col]
        for k, cell in enumerate(cells):
            mean, low, high = (scale * v for v in found[metric][cell])
            color, ls, _ = STYLE[cell]
            ax.bar(k, mean, 0.7, yerr=[[mean - low], [high - mean]], capsize=4, color=color,
                   hatch="//" if ls != "-" else None, alpha=0.6 if ls != "-" else 1.0)
        ax.set_xticks(range(len(cells)), [STYLE[c][2].replace(", ", ",\n").replace(
            " (", "\n(") for c in cells], fontsize=7)
        ax.set_ylabel(label)
        ax.set_title(f"sales_first: {label}", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        ax = axes[1, col]
        for k, name in enumerate(effects):
            mean, low, high = (scale * v for v in found[f"{metric}_{name}"])
            b, _, elabel = found["effects"][name]
            ax.errorbar(mean, k, xerr=[[mean - low], [high - mean]], fmt="o", capsize=4,
                        color=STYLE[b][0], mfc="white" if STYLE[b][1] != "-" else STYLE[b][0])
        ax.axvline(0.0, color="0.3", lw=0.8)
        ax.set_yticks(range(len(effects)), [found["effects"][n][2] for n in effects],
                      fontsize=8)
        ax.invert_yaxis()
        unit = " (pp)" if scale == 100 else ""
        ax.set_xlabel(f"paired difference from no CCO under the same shock{unit}")
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("sales_first at the end of the run: mean with 95% CI (top); each channel's "
                 "paired effect with 95% CI (bottom)", fontsize=10)
    fig.tight_layout()
    common.save_figure(fig, outcome.out, "outcomes.png")


def verdict(stats, unit="", scale=1.0) -> str:
    """``higher: 12 (95% CI ...)``: only what the interval supports."""
    word = ("higher" if stats[1] > 0 else "lower" if stats[2] < 0
            else "not measurably different")
    return f"{word}: {common.fmt_ci(stats, unit, scale)}"


def summary(outcome: common.Outcome, found: dict) -> str:
    f = common.fmt_ci
    start, length = found["start"], found["length"]
    effects, cells = found["effects"], found["cells"]
    window = f"months {start}-{start + length - 1}"

    lines = [
        "# Org chart: a CCO through a revenue shock",
        "",
        outcome.experiment.question,
        "",
        f"Size: {common.size_note(outcome.meta)}. Shock: {window} (counted from 0). "
        "Differences are sales_first's, each cell minus `no_cco` under the same shock "
        "(`floor_only_no_shock` minus `no_cco_no_shock` without one), paired by replication "
        "(same random numbers), with 95% CIs.",
        "",
        "| cell | `cx_floor` | `org_culture` | shock |",
        "| --- | --- | --- | --- |",
    ]
    table = outcome.table
    for cell in cells:
        row = _mine(table, cell).iloc[0]
        shocked = "order values × 0.7, needs × 0.8"
        if "shock_order_value" in row and row["shock_order_value"] == 1.0:
            shocked = "none (factors 1)"
        lines.append(f"| `{cell}` | {common.num(row.get('cx_floor', np.nan))} | "
                     f"{common.num(row.get('org_culture', np.nan))} | {shocked} |")
    if "cco" in effects:
        lines += ["", "## Answer", ""]
        protected = found["cx_shock_cco"][1] > 0
        persists = found["cx_final_year_cco"][1] > 0
        lines += [
            f"- **CX spend during the shock** (monthly mean, {window}): without a CCO "
            f"{f(found['cx_shock'][WITHOUT])}, with one {f(found['cx_shock'][WITH])}; the CCO "
            f"{'protects' if protected else 'does not measurably protect'} it "
            f"({f(found['cx_shock_cco'])} a month).",
            f"- **After the shock** the CCO changes monthly CX spend by "
            f"{f(found['cx_after_cco'])} in the year after it and by "
            f"{f(found['cx_final_year_cco'])} in the final year"
            + (" (without a CCO, every later missed target cuts CX again)." if persists
               else "."),
            f"- **CLV now** (final year) with a CCO is {verdict(found['clv_final_year_cco'])} "
            f"(without {f(found['clv_final_year'][WITHOUT])}, with "
            f"{f(found['clv_final_year'][WITH])}).",
            f"- **Final market share** with a CCO is "
            f"{verdict(found['share_final_cco'], ' pp', 100)} (without "
            f"{f(found['share_final'][WITHOUT], '%', 100)}, with "
            f"{f(found['share_final'][WITH], '%', 100)}).",
            f"- Over the whole run the CCO changes sales_first's total CX spend by "
            f"{f(found['cx_spend_total_cco'])} and its total margin by "
            f"{f(found['margin_total_cco'])}; annual retention by "
            f"{f(found['retention_annual_cco'], ' pp', 100)}, true NPS by "
            f"{f(found['nps_true_cco'])} points.",
        ]
    if {"floor", "culture", "floor_no_shock"} & set(effects):
        lines += ["", "## Which channel carries it", ""]
    for name in ("floor", "culture"):
        if name not in effects:
            continue
        what = ("**The floor alone** (`cx_floor` 0.95, culture as without a CCO)"
                if name == "floor" else
                "**The culture alone** (`org_culture` 1.0, no floor)")
        lines.append(
            f"- {what}: CX spend during the shock "
            f"{verdict(found[f'cx_shock_{name}'])} a month; in the final year "
            f"{verdict(found[f'cx_final_year_{name}'])} a month. CLV now "
            f"{verdict(found[f'clv_final_year_{name}'])}; final share "
            f"{verdict(found[f'share_final_{name}'], ' pp', 100)}; true NPS "
            f"{verdict(found[f'nps_true_{name}'])} points.")
    if "clv_final_year_interaction" in found:
        inter = found["clv_final_year_interaction"]
        lines.append(
            "- **Together**, the CCO's CLV-now effect minus the sum of the two channels' "
            f"effects is {f(inter)}: the CCO is worth "
            + ("not measurably more or less than the floor's and the culture's effects "
               "added up" if not (inter[1] > 0 or inter[2] < 0) else
               "more than the two channels' effects added up" if inter[1] > 0 else
               "less than the two channels' effects added up")
            + f" (final share: {f(found['share_final_interaction'], ' pp', 100)}).")
    if "floor_no_shock" in effects:
        through = found["clv_final_year_floor_through_shock"]
        lines += [
            f"- **The floor without a shock** (neutral shock, factors 1): CX spend in "
            f"{window} {verdict(found['cx_shock_floor_no_shock'])} a month, in the final "
            f"year {verdict(found['cx_final_year_floor_no_shock'])} a month; CLV now "
            f"{verdict(found['clv_final_year_floor_no_shock'])}; final share "
            f"{verdict(found['share_final_floor_no_shock'], ' pp', 100)}.",
            f"- **Does the floor's CLV gain come through the shock?** Its CLV-now effect "
            f"with the shock minus its effect without one: {f(through)}"
            + (": the floor is worth measurably more with the shock." if through[1] > 0 else
               ": the floor is worth measurably less with the shock." if through[2] < 0 else
               ": not measurably different"
               + (", and the floor lifts CLV now without a shock too, so its gain does not "
                  "measurably come through the shock: it binds on ordinary missed sales "
                  "targets." if found["clv_final_year_floor_no_shock"][1] > 0 else "."))
            + f" Final share: {f(found['share_final_floor_through_shock'], ' pp', 100)}.",
        ]
    if "clv_shock_cost" in found:
        lines.append(f"- The shock itself changes CLV now without a CCO by "
                     f"{f(found['clv_shock_cost'])} (`no_cco` minus `no_cco_no_shock`).")
    lines += [
        "",
        "## How to read it",
        "",
        "Without a CCO, a missed sales target moves CX money to acquisition (the sales "
        "side's reflex); with a floor, CX spend cannot fall below 95% of its last-year "
        "mean. Cut CX and clients feel it; trust lost is rebuilt slowly and staff who leave "
        "take their skill, so the damage outlasts the cut. The org chart's pull on culture "
        "(`org_culture`) is one of five inputs to the culture target; culture moves will and "
        "being, and through them quality, relationship and consistency (docs/model.md "
        "§5-6). A difference whose interval includes 0 is not distinguishable from none at "
        "this number of replications.",
        "",
        "Figures: `cx_spend.png`, `outcomes.png`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> common.Outcome:
    return common.main(HERE, argv, analyse, [figures], summary)


if __name__ == "__main__":
    main()
