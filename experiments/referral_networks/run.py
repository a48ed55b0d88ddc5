"""Referral networks: network type x social influence, referral share and growth per firm.

::

    python experiments/referral_networks/run.py [--workers 2] [--tiny] [--out DIR]

Figure: ``referrals.png``, grouped bars per network: each firm's referral
share (referral acquisitions / acquisitions of prospects), referrals per
client-year (referral acquisitions / active client-years) and growth (active
clients at the end / at day 0, minus 1) at each social influence, with 95%
CIs. ``summary.md`` has the numbers.

The referral share moves with the budget split as well as with talk: a firm
that spends more on acquisition wins more clients by marketing, which lowers
its share of referrals without any client saying less. Referrals per
client-year measures what each client's talk brings; a budget split cannot
move it mechanically.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make `experiments` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from experiments import common  # noqa: E402
from experiments.common import plt  # noqa: E402

HERE = Path(__file__).resolve().parent
A, B = "sales_first", "client_first"
METRICS = ("referral_share", "referrals_per_client_year", "growth")
NETWORKS = {"small_world": "small world", "scale_free": "scale free", "complete": "complete",
            "none": "none", "ring_lattice": "ring lattice"}


def analyse(outcome: common.Outcome) -> dict:
    table = outcome.table
    networks = list(dict.fromkeys(table.network))
    influences = sorted(table.social_influence.unique())
    cells = {}
    for (network, influence), rows in table.groupby(["network", "social_influence"],
                                                    sort=False):
        stats = {f: {m: common.ci(rows[rows.firm == f][m])
                     for m in METRICS + ("share_final",)}
                 for f in (A, B)}
        for metric in METRICS:
            stats[f"{metric}_diff"] = common.ci(
                common.firm_difference(rows, metric, B, A).difference)
        cells[(network, influence)] = stats
    return {"networks": networks, "influences": influences, "cells": cells}


def figure(outcome: common.Outcome, found: dict) -> None:
    networks, influences = found["networks"], found["influences"]
    bars = [(f, i) for i in influences for f in (A, B)]
    width = 0.8 / len(bars)
    x = np.arange(len(networks))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.2))
    for ax, metric, scale, label in (
            (axes[0], "referral_share", 100, "referral share (%)"),
            (axes[1], "referrals_per_client_year", 100, "referrals per 100 client-years"),
            (axes[2], "growth", 100, "growth of active clients (%)")):
        for k, (firm, influence) in enumerate(bars):
            stats = scale * np.array([found["cells"][(n, influence)][firm][metric]
                                      for n in networks])
            err = np.abs(stats[:, 1:] - stats[:, :1]).T
            light = influence != influences[-1]
            ax.bar(x + (k - (len(bars) - 1) / 2) * width, stats[:, 0], width, yerr=err,
                   capsize=2, color=common.FIRM_COLORS[firm], alpha=0.45 if light else 1.0,
                   hatch="//" if light else None, edgecolor="white", lw=0,
                   label=f"{firm}, influence {influence:g}")
        ax.set_xticks(x, [NETWORKS.get(n, n) for n in networks])
        ax.set_ylabel(label)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_title("share of new clients won by referral", fontsize=10)
    axes[1].set_title("referral acquisitions per active client-year", fontsize=10)
    axes[2].set_title("active clients, end vs day 0", fontsize=10)
    low, high = axes[0].get_ylim()
    axes[0].set_ylim(low, high + 0.3 * (high - low))  # room for the legend
    axes[0].legend(fontsize=7, ncol=2, loc="upper left")
    fig.suptitle("Referrals and growth by network and social influence "
                 "(recurring B2B): mean with 95% CI", fontsize=11)
    common.save_figure(fig, outcome.out, "referrals.png")


def summary(outcome: common.Outcome, found: dict) -> str:
    f = common.fmt_ci
    cells = found["cells"]
    networks, influences = found["networks"], found["influences"]
    top = max(influences)
    talking = [n for n in networks if n != "none"]
    best = max(talking, key=lambda n: cells[(n, top)][B]["referral_share"][0], default=None)
    lines = [
        "# Referral networks",
        "",
        outcome.experiment.question,
        "",
        f"Size: {common.size_note(outcome.meta)}. Market: recurring B2B. Referral share = "
        "referral acquisitions / acquisitions of prospects (marketing + referral); "
        "referrals per client-year = referral acquisitions / active client-years (here per "
        "100 client-years); growth = active clients at the end / at day 0 − 1. "
        "Differences are client_first minus sales_first in the same run, with 95% CIs.",
        "",
        "The two referral measures answer different questions. The referral share moves "
        "with the budget split as well as with talk (more acquisition spend, more clients "
        "won by marketing, a smaller share won by referral), so a firm's budget split can "
        "move it mechanically; referrals per client-year counts what each client's talk "
        "brings, and a budget split cannot move it mechanically.",
        "",
        "## Answer",
        "",
    ]
    if best is not None:
        s = cells[(best, top)]
        lines.append(f"- With chatty clients (influence {top:g}) client_first wins the most "
                     f"by referral on the **{NETWORKS.get(best, best)}** network: "
                     f"{f(s[B]['referral_share'], '%', 100)} of its new clients, against "
                     f"{f(s[A]['referral_share'], '%', 100)} for sales_first.")
    wins = [n for n in talking for i in influences
            if cells[(n, i)]["referral_share_diff"][1] > 0]
    if talking:
        lines.append(f"- client_first's referral share is higher than sales_first's in "
                     f"{len(wins)} of the {len(talking) * len(influences)} cells with a "
                     "network (paired CI above 0).")
        per = {word: [n for n in talking for i in influences
                      if test(cells[(n, i)]["referrals_per_client_year_diff"])]
               for word, test in (("higher", lambda s: s[1] > 0),
                                  ("lower", lambda s: s[2] < 0))}
        rest = len(talking) * len(influences) - len(per["higher"]) - len(per["lower"])
        lines.append(
            "- Its **referrals per client-year** (what the budget split cannot move) are "
            f"higher in {len(per['higher'])}, lower in {len(per['lower'])} and not measurably "
            f"different in {rest} of those cells; at influence {top:g} on the "
            f"{NETWORKS.get(best, best)} network, "
            f"{f(cells[(best, top)][B]['referrals_per_client_year'], '', 100)} against "
            f"{f(cells[(best, top)][A]['referrals_per_client_year'], '', 100)} per 100 "
            "client-years.")
    if talking:
        least = min(talking, key=lambda n: cells[(n, top)][B]["referral_share"][0])
        if least != best:
            lines.append(f"- The **{NETWORKS.get(least, least)}** network refers the least "
                         f"at influence {top:g}: "
                         f"{f(cells[(least, top)][B]['referral_share'], '%', 100)} of "
                         "client_first's new clients.")
    if "none" in networks:
        none = [cells[("none", i)][B]["referral_share"][0] for i in influences]
        lines.append(f"- Without a network nobody is referred (client_first's referral share "
                     f"{' and '.join(common.pct(v) for v in none)}): growth comes from paid "
                     "acquisition and switching alone.")
        gaps = [cells[(n, i)]["growth_diff"][0] for n in talking for i in influences]
        silent = cells[("none", influences[0])]["growth_diff"]
        wider = all(cells[(n, i)]["growth_diff"][1] > silent[2]
                    for n in talking for i in influences)
        if gaps:
            lines.append(
                ("- **Talk widens the growth gap**" if wider else "- **The growth gap**")
                + ": client_first's growth minus "
                f"sales_first's is {f(cells[('none', influences[0])]['growth_diff'], ' pp', 100)}"
                f" without a network, and {common.num(100 * min(gaps))} to "
                f"{common.num(100 * max(gaps))} pp with one.")
    lines += ["", "## Per cell", "",
              "| network | influence | referral share, sales_first | client_first | "
              "difference | growth, sales_first | client_first | difference |",
              "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for n in networks:
        for i in influences:
            s = cells[(n, i)]
            lines.append(
                f"| {NETWORKS.get(n, n)} | {i:g} | {f(s[A]['referral_share'], '%', 100)} | "
                f"{f(s[B]['referral_share'], '%', 100)} | "
                f"{f(s['referral_share_diff'], ' pp', 100)} | "
                f"{f(s[A]['growth'], '%', 100)} | {f(s[B]['growth'], '%', 100)} | "
                f"{f(s['growth_diff'], ' pp', 100)} |")
    lines += ["", "Referrals per 100 active client-years:", "",
              "| network | influence | sales_first | client_first | difference |",
              "| --- | --- | --- | --- | --- |"]
    for n in networks:
        for i in influences:
            s = cells[(n, i)]
            lines.append(
                f"| {NETWORKS.get(n, n)} | {i:g} | "
                f"{f(s[A]['referrals_per_client_year'], '', 100)} | "
                f"{f(s[B]['referrals_per_client_year'], '', 100)} | "
                f"{f(s['referrals_per_client_year_diff'], '', 100)} |")
    lines += [
        "",
        "## How to read it",
        "",
        "A promoter passes on Poisson(influence) messages per journey, a detractor twice as "
        "many, each to a random neighbour (docs/model.md §2). So the network decides who "
        "can hear, and influence how much is said: a scale-free network's hubs hear a lot, "
        "a complete one spreads word to anyone, a clustered small world keeps it local. "
        "The firm whose clients are happier gets more of the good word and less of the "
        "bad. A difference whose interval includes 0 is not distinguishable from none at "
        "this number of replications.",
        "",
        "Figure: `referrals.png`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> common.Outcome:
    return common.main(HERE, argv, analyse, [figure], summary)


if __name__ == "__main__":
    main()
