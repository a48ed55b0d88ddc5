"""Transaction vs relationship focus, in the market of seed 001's rule and of its exception.

::

    python experiments/transaction_vs_relationship/run.py [--workers 2] [--tiny] [--out DIR]

Figures: ``share_over_time.png`` (market share per firm and month, mean of the
replications with its 95% band, the crossover and the month its lead is sure
from marked, as ``docs/model.md`` defines them) and ``clv.png``
(CLV now and CLV of new clients per firm, with 95% CIs). ``summary.md`` has
the numbers.
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
LABELS = {"recurring_b2b": "recurring B2B (the rule)",
          "one_off_consumer": "one-off consumers (the exception)"}


def analyse(outcome: common.Outcome) -> dict:
    """Per market: the share lead by year, the crossover and the CLV statistics."""
    table, ts = outcome.table, outcome.timeseries
    found = {}
    for cell in table.cell.unique():
        lead = common.series(ts, "share", B, cell) - common.series(ts, "share", A, cell)
        early = lead[:, :12].mean(axis=1)
        late = lead[:, -12:].mean(axis=1)
        found[cell] = {
            **common.crossover(outcome, cell),
            "lead_first_year": common.ci(early),
            "lead_final_year": common.ci(late),
            "share_final": {f: common.ci(table[(table.cell == cell) & (table.firm == f)]
                                         .share_final) for f in (A, B)},
            "share_final_diff": common.ci(
                common.firm_difference(table[table.cell == cell], "share_final", B, A).difference),
        }
        for metric in ("clv_final_year", "clv_mean"):
            found[cell][metric] = {f: common.ci(table[(table.cell == cell)
                                                      & (table.firm == f)][metric])
                                   for f in (A, B)}
            found[cell][f"{metric}_diff"] = common.ci(
                common.firm_difference(table[table.cell == cell], metric, B, A).difference)
    return found


def share_figure(outcome: common.Outcome, found: dict) -> None:
    common.share_panels(outcome, {cell: f["crossover"] for cell, f in found.items()}, LABELS,
                        (A, B), "Market share over time: mean of the replications, 95% CI band")


def clv_figure(outcome: common.Outcome, found: dict) -> None:
    cells = list(found)
    titles = {"clv_final_year": "CLV now (from the final year)",
              "clv_mean": "CLV of clients won (censored at the horizon)"}
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), squeeze=False)
    x = np.arange(len(cells))
    for ax, metric in zip(axes[0], titles):
        for k, firm in enumerate((A, B)):
            stats = np.array([found[c][metric][firm] for c in cells])
            err = np.abs(stats[:, 1:] - stats[:, :1]).T
            ax.bar(x + (k - 0.5) * 0.38, stats[:, 0], 0.38, yerr=err, capsize=4,
                   color=common.FIRM_COLORS[firm], label=firm)
        ax.set_xticks(x, [LABELS.get(c, c).split(" (")[0] for c in cells])
        ax.set_title(titles[metric], fontsize=10)
        ax.set_ylabel("money per client")
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("CLV per firm: mean of the replications with 95% CI", fontsize=11)
    common.save_figure(fig, outcome.out, "clv.png")


def summary(outcome: common.Outcome, found: dict) -> str:
    lines = [
        "# Transaction vs relationship focus",
        "",
        outcome.experiment.question,
        "",
        f"Size: {common.size_note(outcome.meta)}. Differences are client_first minus "
        "sales_first within the same run, with 95% confidence intervals over the "
        f"replications. {common.CROSSOVER_NOTE}",
        "",
    ]
    for cell, f in found.items():
        lines += [
            f"## {LABELS.get(cell, cell)}",
            "",
            f"- {f['bullet']}",
            "- Share lead of client_first, first year: "
            f"{common.fmt_ci(f['lead_first_year'], ' pp', 100)}; final year: "
            f"{common.fmt_ci(f['lead_final_year'], ' pp', 100)}.",
            f"- Final market share: sales_first {common.fmt_ci(f['share_final'][A], '%', 100)}, "
            f"client_first {common.fmt_ci(f['share_final'][B], '%', 100)}.",
            f"- CLV now (final year, money per client): sales_first "
            f"{common.fmt_ci(f['clv_final_year'][A])}, client_first "
            f"{common.fmt_ci(f['clv_final_year'][B])}; difference "
            f"{common.fmt_ci(f['clv_final_year_diff'])}.",
            f"- CLV of clients won: sales_first {common.fmt_ci(f['clv_mean'][A])}, "
            f"client_first {common.fmt_ci(f['clv_mean'][B])}; difference "
            f"{common.fmt_ci(f['clv_mean_diff'])}.",
            "",
        ]
    lines += [
        "## How to read it",
        "",
        "Sales focus buys clients faster, so it leads early; relationship focus keeps them "
        "and is recommended, so where clients come back often, can be recognised and talk, "
        "its lead grows until it wins. Where they buy once a year, anonymously and in "
        "silence, there is little to keep and nobody to tell, and relationship focus does "
        "not repay. A difference whose interval includes 0 is not distinguishable from no "
        "difference at this number of replications.",
        "",
        "Compare the firms on **CLV now** (`clv_final_year`: the final year's margin per "
        "client and retention, m r / (1 + d − r)). **CLV of clients won** (`clv_mean`) is "
        "the discounted margin each client actually paid, censored at the end of the run: "
        "a firm that wins its clients later, as a growing relationship-focused firm does, "
        "has had less time to earn from them, so it understates that firm's value.",
        "",
        "Figures: `share_over_time.png`, `clv.png`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> common.Outcome:
    return common.main(HERE, argv, analyse, [share_figure, clv_figure], summary)


if __name__ == "__main__":
    main()
