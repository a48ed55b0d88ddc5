"""The delivery gap: does a firm's own NPS tell it the truth, in an industry of ten firms?

::

    python experiments/delivery_gap/run.py [--workers 2] [--tiny] [--out DIR]

Seed 000 quotes Bain & Company (2005): 80% of firms believe they deliver a
superior experience, 8% of their customers agree. Each cell runs
``scenario=industry`` with another way for every firm to survey its own
clients (the grid's ``survey`` labels); the industry study is the same in
every cell. Per cell and replication :func:`cxsim.simulation.delivery_gap.believe_and_agree`
gives the benchmark, the share of firms that believe and whose clients agree,
and the gap; differences between cells are paired by replication.

Figures: ``believe_agree.png`` (each cell's two shares with 95% CIs beside Bain's
80% and 8%), ``nps_three_ways.png`` (each firm's final-year NPS by its own
survey, by the study and true, as firms survey), ``response_sweep.png`` (the
gap as promoters answer 1, 2, 3 or 5 times as often as detractors: the
assumption the gap rests on most). ``summary.md`` has the numbers.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np

from cxsim.simulation.delivery_gap import BAIN_AGREE, BAIN_BELIEVE, believe_and_agree

if __package__ in (None, ""):  # run as a script: make `experiments` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from experiments import common  # noqa: E402
from experiments.common import plt  # noqa: E402

HERE = Path(__file__).resolve().parent
AS_FIRMS, UNBIASED = "as_firms_survey", "unbiased"
LABELS = {  # survey label: what a reader calls it
    AS_FIRMS: "as most firms survey",
    UNBIASED: "unbiased own survey (control)",
    "buyers_only": "buyers only (survivorship)",
    "by_feeling_only": "answered by feeling only",
    "response_ratio_1": "as firms survey, everyone equally likely to answer",
    "response_ratio_2": "as firms survey, promoters answer 2x as often",
    "response_ratio_5": "as firms survey, promoters answer 5x as often",
}
RATIOS = {"response_ratio_1": 1, "response_ratio_2": 2, AS_FIRMS: 3, "response_ratio_5": 5}
"""How many times as often a promoter answers as a detractor, per survey label."""


def analyse(outcome: common.Outcome) -> dict:
    table = outcome.table
    cells = [c for c in LABELS if c in set(table.survey)]
    per_cell = {cell: believe_and_agree(table[table.survey == cell]).set_index("replication")
                for cell in cells}
    found: dict = {"cells": cells, "per_cell": per_cell}
    for cell, frame in per_cell.items():
        for column in ("benchmark", "believe", "agree", "gap", "promoters"):
            found[f"{column}_{cell}"] = common.ci(frame[column])
    if AS_FIRMS in per_cell and UNBIASED in per_cell:
        found["gap_vs_control"] = common.ci(per_cell[AS_FIRMS].gap - per_cell[UNBIASED].gap)
    mine = table[table.survey == AS_FIRMS]
    found["firms"] = mine.groupby("firm")[["nps_measured_final_year", "nps_true_final_year",
                                           "nps_market_final_year"]].mean()
    return found


def figures(outcome: common.Outcome, found: dict) -> None:
    cells = found["cells"]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    for k, cell in enumerate(cells):
        for offset, column, color, label in ((-0.18, "believe", "#d95f02", "believe they "
                                              "are above the industry"),
                                             (0.18, "agree", "#1b9e77", "their clients agree")):
            mean, low, high = (100 * v for v in found[f"{column}_{cell}"])
            ax.bar(k + offset, mean, 0.36, color=color, label=label if k == 0 else None,
                   yerr=[[mean - low], [high - mean]] if np.isfinite(low) else None, capsize=3)
    ax.axhline(100 * BAIN_BELIEVE, color="#d95f02", ls="--", lw=1,
               label="Bain 2005: 80% of firms believed")
    ax.axhline(100 * BAIN_AGREE, color="#1b9e77", ls="--", lw=1,
               label="Bain 2005: 8% of customers agreed (a share of customers, not firms)")
    ax.set_xticks(range(len(cells)), [textwrap.fill(LABELS[c], 18) for c in cells], fontsize=7)
    ax.set_ylabel("share of the ten firms (%)")
    ax.set_ylim(0, 125)
    ax.legend(fontsize=7, loc="upper center", ncols=2)
    ax.grid(axis="y", alpha=0.3)
    ax.set_title("Firms that believe they are above the industry's NPS, and firms whose clients "
                 "agree: mean with 95% CI", fontsize=10)
    common.save_figure(fig, outcome.out, "believe_agree.png")

    firms = found["firms"].sort_values("nps_market_final_year")
    fig, ax = plt.subplots(figsize=(9, 4.5))
    y = np.arange(len(firms))
    for column, color, marker, label in (
            ("nps_measured_final_year", "#d95f02", "o", "its own survey (what it believes)"),
            ("nps_market_final_year", "#1b9e77", "s", "the industry study (what clients say)"),
            ("nps_true_final_year", "0.4", "|", "every client's answer (true)")):
        ax.scatter(firms[column], y, color=color, marker=marker, label=label, zorder=3)
    benchmark = found[f"benchmark_{AS_FIRMS}"][0]
    ax.axvline(benchmark, color="0.2", ls="--", lw=1)
    ax.text(benchmark, -0.9, " industry benchmark", fontsize=8)
    ax.set_yticks(y, list(firms.index))
    ax.set_xlabel("NPS over the final year (mean of the replications)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Each firm's NPS three ways, as most firms survey", fontsize=10)
    common.save_figure(fig, outcome.out, "nps_three_ways.png")

    swept = [c for c in RATIOS if c in cells]
    fig, ax = plt.subplots(figsize=(7, 4))
    if swept:
        stats = np.array([found[f"gap_{c}"] for c in swept]) * 100
        ratios = [RATIOS[c] for c in swept]
        ax.errorbar(ratios, stats[:, 0], yerr=[stats[:, 0] - stats[:, 1],
                                               stats[:, 2] - stats[:, 0]],
                    fmt="o-", color="#d95f02", capsize=4, label="as firms survey")
    if f"gap_{UNBIASED}" in found:
        mean, low, high = (100 * v for v in found[f"gap_{UNBIASED}"])
        ax.axhspan(low, high, color="0.6", alpha=0.3, label="unbiased own survey (95% CI)")
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xlabel("how many times as often a promoter answers as a detractor")
    ax.set_ylabel("believe minus agree (points)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title("The gap rests on who answers: mean with 95% CI", fontsize=10)
    common.save_figure(fig, outcome.out, "response_sweep.png")


def summary(outcome: common.Outcome, found: dict) -> str:
    f, cells = common.fmt_ci, found["cells"]

    def pct(cell: str, column: str) -> str:
        return f(found[f"{column}_{cell}"], "%", 100)

    lines = [
        "# The delivery gap: what firms believe, what their clients say",
        "",
        outcome.experiment.question,
        "",
        f"Size: {common.size_note(outcome.meta)}. A firm believes it is above the industry when "
        "its own survey's NPS over the final year beats the benchmark, the industry study's "
        "mean over the ten firms; its clients agree when the study's NPS for it does. Shares "
        "of firms, with 95% CIs over replications.",
        "",
        "| how every firm surveys | believe | agree | believe minus agree (points) |",
        "| --- | --- | --- | --- |",
    ]
    for cell in cells:
        lines.append(f"| {LABELS[cell]} | {pct(cell, 'believe')} | {pct(cell, 'agree')} | "
                     f"{f(found[f'gap_{cell}'], '', 100)} |")
    if AS_FIRMS in cells:
        lines += ["", "## Answer", ""]
        lines.append(
            f"- **As most firms survey** (after a purchase, promoters answering three times as "
            f"often as detractors), {pct(AS_FIRMS, 'believe')} of firms believe they are above "
            f"the industry and the clients of {pct(AS_FIRMS, 'agree')} agree: a gap of "
            f"{f(found[f'gap_{AS_FIRMS}'], ' points', 100)}. Bain found 80% and 8%; the model's "
            "'agree' is a share of firms, Bain's 8% a share of customers, and half or more of "
            "ten firms are above their own mean. Nearest Bain's unit: "
            f"{pct(AS_FIRMS, 'promoters')} of the industry study's answers come from "
            "promoters of the firm asked about (Bain asked whether the experience was "
            "superior).")
        if UNBIASED in cells:
            paired = found["gap_vs_control"]
            lines.append(
                f"- **With an unbiased own survey** (a market-wide sample, everyone answering) "
                f"the gap is {f(found[f'gap_{UNBIASED}'], ' points', 100)}, "
                + (f"smaller by {f(paired, ' points', 100)} (paired): the gap comes from how "
                   "firms listen." if paired[1] > 0 else
                   f"not measurably different (paired {f(paired, ' points', 100)})."))
        for cell, words in (("buyers_only", "Asking only buyers, everyone answering"),
                            ("by_feeling_only", "Asking everyone, answers by feeling")):
            if cell in cells:
                stats = found[f"gap_{cell}"]
                lines.append(f"- **{words}** gives a gap of {f(stats, ' points', 100)}"
                             + (": a part of the whole." if stats[1] > 0 else
                                ": not measurably different from none."))
        swept = [c for c in RATIOS if c in cells]
        if len(swept) > 1:
            lines.append("- **As promoters answer more often than detractors** (1, 2, 3, 5 "
                         "times), the gap is " + "; ".join(
                             f"{RATIOS[c]}x: {f(found[f'gap_{c}'], ' points', 100)}"
                             for c in swept) + ".")
    lines += [
        "",
        "## How to read it",
        "",
        "A firm hears only whom its survey asks and who answers. Asked after a purchase, a "
        "client who walked away or left is never heard (survivorship); if the pleased answer "
        "more often, the survey hears the pleased. The industry study asks everyone who ever "
        "dealt with a firm, former clients too, and everyone asked answers. How much more often "
        "a promoter answers is an assumption (docs/model.md section 4), so the sweep shows "
        "what the gap does as it changes. A difference whose interval includes 0 is not "
        "distinguishable from none at this number of replications.",
        "",
        "Figures: `believe_agree.png`, `nps_three_ways.png`, `response_sweep.png`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> common.Outcome:
    return common.main(HERE, argv, analyse, [figures], summary)


if __name__ == "__main__":
    main()
