"""Funding scenarios: client_first's CX budget from 1% to 15% of revenue, with and without a CCO.

::

    python experiments/funding_scenarios/run.py [--workers 2] [--tiny] [--out DIR]

Figures: ``clv_and_share.png`` (CLV now and final market share of
client_first against its CX budget, per org chart, with 95% CIs) and
``returns.png`` (margin per CX dollar: on average, and for each extra dollar
between adjacent budgets, paired by replication). ``summary.md`` has the
numbers and where returns diminish.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make `experiments` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from experiments import common  # noqa: E402
from experiments.common import plt  # noqa: E402

HERE = Path(__file__).resolve().parent
FIRM = "client_first"
METRICS = ("clv_final_year", "share_final", "nps_true", "return_on_cx_spend",
           "cx_spend_total", "margin_total")
ORG_STYLE = {"cco": ("#1b9e77", "with a CCO"), "no_cco": ("#7570b3", "without a CCO")}


def _values(table: pd.DataFrame, metric: str, level: float, org: str) -> pd.Series:
    """client_first's *metric* per replication in the cell (level, org)."""
    cell = table[(table.cx_share == level) & (table.org == org)]
    return cell.set_index("replication")[metric].astype(float)


def analyse(outcome: common.Outcome) -> dict:
    """Per cell the metrics; per step between adjacent budgets the paired increments."""
    table = outcome.table[outcome.table.firm == FIRM]
    levels = sorted(table.cx_share.unique())
    orgs = [o for o in ORG_STYLE if o in set(table.org)]
    cells = {(x, org): {m: common.ci(_values(table, m, x, org)) for m in METRICS}
             for x in levels for org in orgs}
    steps = {}
    for org in orgs:
        for x0, x1 in zip(levels[:-1], levels[1:]):
            def delta(metric, x0=x0, x1=x1, org=org):
                return _values(table, metric, x1, org) - _values(table, metric, x0, org)

            d_cx = delta("cx_spend_total")
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = delta("margin_total") / d_cx
            steps[(x0, x1, org)] = {
                "clv_final_year": common.ci(delta("clv_final_year")),
                "clv_per_point": common.ci(delta("clv_final_year") / (100 * (x1 - x0))),
                "share_final": common.ci(delta("share_final")),
                "cx_spend_total": common.ci(d_cx),
                "margin_per_cx": common.ci(ratio),
            }
    cco = {}
    if set(orgs) == {"cco", "no_cco"}:
        for x in levels:
            cco[x] = {m: common.ci(_values(table, m, x, "cco") - _values(table, m, x, "no_cco"))
                      for m in ("clv_final_year", "share_final")}
    return {"levels": levels, "orgs": orgs, "cells": cells, "steps": steps, "cco": cco}


def diminishing(found: dict, org: str) -> dict:
    """Where each extra CX point stops paying, in margin and in CLV now."""
    steps = [(x0, x1, s) for (x0, x1, o), s in found["steps"].items() if o == org]
    return {
        "pays": [(x0, x1) for x0, x1, s in steps if s["margin_per_cx"][1] > 1.0],
        "below": [(x0, x1) for x0, x1, s in steps if s["margin_per_cx"][2] < 1.0],
        "clv_flat": next(((x0, x1) for x0, x1, s in steps
                          if not s["clv_final_year"][1] > 0), None),
        "best": max(steps, key=lambda step: step[2]["margin_per_cx"][0], default=None),
        "clv_per_point": [(x0, x1, s["clv_per_point"]) for x0, x1, s in steps],
    }


def _errorbars(ax, xs, stats, color, label, offset=0.0, scale=1.0):
    stats = np.asarray(stats, dtype=float) * scale
    err = np.abs(stats[:, 1:] - stats[:, :1]).T
    ax.errorbar(np.asarray(xs) + offset, stats[:, 0], yerr=err, color=color, marker="o",
                ms=4, capsize=3, label=label)


def _budget_axes(axes, xs: list[float]) -> None:
    """The CX budget on every x axis; the legend on the first."""
    for ax in axes:
        ax.set_xlabel("client_first's CX budget (% of revenue)")
        ax.set_xticks(xs)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)


def figures(outcome: common.Outcome, found: dict) -> None:
    levels, orgs = found["levels"], found["orgs"]
    xs = 100 * np.asarray(levels)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for k, org in enumerate(orgs):
        color, label = ORG_STYLE[org]
        offset = (k - 0.5) * 0.2
        _errorbars(axes[0], xs, [found["cells"][(x, org)]["clv_final_year"] for x in levels],
                   color, label, offset)
        _errorbars(axes[1], xs, [found["cells"][(x, org)]["share_final"] for x in levels],
                   color, label, offset, scale=100)
    axes[0].set_ylabel("CLV now (money per client)")
    axes[1].set_ylabel("final market share (%)")
    _budget_axes(axes, xs)
    fig.suptitle("client_first by CX budget (acquisition held at 6% of revenue): "
                 "mean with 95% CI", fontsize=11)
    common.save_figure(fig, outcome.out, "clv_and_share.png")

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3), layout="constrained")
    for k, org in enumerate(orgs):
        color, label = ORG_STYLE[org]
        offset = (k - 0.5) * 0.2
        _errorbars(axes[0], xs, [found["cells"][(x, org)]["return_on_cx_spend"]
                                 for x in levels], color, label, offset)
        mine = [(x0, x1, st) for (x0, x1, o), st in found["steps"].items() if o == org]
        if mine:
            mids = [50 * (x0 + x1) for x0, x1, _ in mine]
            _errorbars(axes[1], mids, [st["margin_per_cx"] for *_, st in mine], color, label,
                       offset)
            _errorbars(axes[2], mids, [st["clv_per_point"] for *_, st in mine], color, label,
                       offset)
    axes[0].set_title("average: margin / CX spend", fontsize=10)
    axes[0].set_ylabel("margin per CX dollar")
    axes[1].set_title("incremental: extra margin per extra CX dollar", fontsize=10)
    axes[1].axhline(1.0, color="0.3", ls="--", lw=1)
    axes[1].annotate("break-even", (xs[0], 1.0), xytext=(2, -10), textcoords="offset points",
                     fontsize=8, color="0.3")
    axes[1].set_ylabel("margin per CX dollar")
    axes[2].set_title("incremental: CLV now gained per extra point", fontsize=10)
    axes[2].axhline(0.0, color="0.3", lw=0.8)
    axes[2].set_ylabel("money per client per point of revenue")
    _budget_axes(axes, xs)
    fig.suptitle("Returns on CX spend, client_first: mean with 95% CI; increments paired "
                 "between adjacent budgets, plotted between them", fontsize=11)
    common.save_figure(fig, outcome.out, "returns.png")


def _pct_label(x: float) -> str:
    return f"{100 * x:g}%"


def summary(outcome: common.Outcome, found: dict) -> str:
    levels, orgs = found["levels"], found["orgs"]
    f = common.fmt_ci
    lines = [
        "# Funding scenarios: how much CX money is enough?",
        "",
        outcome.experiment.question,
        "",
        f"Size: {common.size_note(outcome.meta)}. All numbers are client_first's. Its "
        "acquisition budget is held at 6% of revenue; the CX budget is the swept share "
        "(client_first's default is 14%). Intervals are 95% CIs over the replications; "
        "increments are paired (replication *i* of one budget against replication *i* of "
        "the next, on the same random numbers). Margin is before CX, acquisition, service "
        "and onboarding costs.",
        "",
    ]
    for org in orgs:
        where = diminishing(found, org)
        label = ORG_STYLE[org][1]
        n_steps = len(where["clv_per_point"])
        gains = ", ".join(f"{common.num(g[0])} from {_pct_label(x0)} to {_pct_label(x1)}"
                          for x0, x1, g in where["clv_per_point"])
        parts = [f"each extra point of revenue spent on CX adds to CLV now {gains} "
                 "(money per client, per point)"]
        if where["clv_flat"]:
            x0, x1 = where["clv_flat"]
            parts.append(f"**returns diminish until the gain is no longer measurable from "
                         f"{_pct_label(x0)} to {_pct_label(x1)}** (its paired interval "
                         "reaches 0)")
        else:
            parts.append("the gain in CLV now stays measurable at every step")
        if len(where["below"]) == n_steps and where["best"]:
            x0, x1, best = where["best"]
            parts.append("within the run no step's extra margin covers its extra CX money "
                         f"(the best, {_pct_label(x0)} → {_pct_label(x1)}, brings back "
                         f"{f(best['margin_per_cx'])} per dollar): what extra CX money buys "
                         "here is clients kept (CLV now, share), whose value runs past the "
                         "horizon, not margin within it")
        else:
            if where["pays"]:
                parts.append("extra CX money pays for itself in margin (whole interval "
                             "above 1) from " + ", ".join(
                                 f"{_pct_label(a)} to {_pct_label(b)}"
                                 for a, b in where["pays"]))
            if where["below"]:
                parts.append("it does not (whole interval below 1) from " + ", ".join(
                    f"{_pct_label(a)} to {_pct_label(b)}" for a, b in where["below"]))
        lines += [f"- **{label[0].upper() + label[1:]}:** " + "; ".join(parts) + "."]
    if found["cco"]:
        clv = [s["clv_final_year"] for s in found["cco"].values()]
        higher = sum(c[1] > 0 for c in clv)
        lines += [f"- **The CCO** raises CLV now measurably at {higher} of {len(clv)} budgets "
                  f"(by {common.num(min(c[0] for c in clv))} to "
                  f"{common.num(max(c[0] for c in clv))} per client; table below)."]
    lines += ["", "## Per budget", "",
              "| CX budget | org chart | CLV now | final share | NPS (true) | "
              "margin per CX dollar |",
              "| --- | --- | --- | --- | --- | --- |"]
    for x in levels:
        for org in orgs:
            c = found["cells"][(x, org)]
            lines.append(f"| {_pct_label(x)} | {org} | {f(c['clv_final_year'])} | "
                         f"{f(c['share_final'], '%', 100)} | {f(c['nps_true'])} | "
                         f"{f(c['return_on_cx_spend'])} |")
    lines += ["", "## Each extra step of CX budget (paired)", "",
              "| step | org chart | gain in CLV now | CLV gain per point of revenue | "
              "gain in final share | extra margin per extra CX dollar |",
              "| --- | --- | --- | --- | --- | --- |"]
    for (x0, x1, org), s in found["steps"].items():
        lines.append(f"| {_pct_label(x0)} → {_pct_label(x1)} | {org} | "
                     f"{f(s['clv_final_year'])} | {f(s['clv_per_point'])} | "
                     f"{f(s['share_final'], ' pp', 100)} | {f(s['margin_per_cx'])} |")
    if found["cco"]:
        lines += ["", "## What the CCO changes (paired, CCO minus none)", "",
                  "| CX budget | CLV now | final share |", "| --- | --- | --- |"]
        for x, s in found["cco"].items():
            lines.append(f"| {_pct_label(x)} | {f(s['clv_final_year'])} | "
                         f"{f(s['share_final'], ' pp', 100)} |")
    lines += [
        "",
        "## How to read it",
        "",
        "CX money buys capability at each touchpoint with diminishing returns "
        "(docs/model.md §6), so each extra point of revenue buys less than the one before. "
        "The incremental return is the one to decide on: the extra margin the next "
        "budget step brings, divided by the extra CX money it costs. Above 1 the step pays "
        "for itself in margin before other costs; below 1 it does not. A CCO keeps CX "
        "spend from being cut when sales miss their target, which matters most when the "
        "budget is small.",
        "",
        "Figures: `clv_and_share.png`, `returns.png`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> common.Outcome:
    return common.main(HERE, argv, analyse, [figures], summary)


if __name__ == "__main__":
    main()
