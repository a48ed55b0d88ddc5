"""Calibrate a market to CDNOW's transaction log, then ask the strategy question in it.

::

    python experiments/calibrated_cdnow/run.py [--workers 2] [--tiny] [--out DIR]

First ``cxsim-calibrate`` on the CDNOW sample (read from the ``lifetimes``
distribution's files, the ``calibrate`` extra): the preset
``configs/market/cdnow.yaml`` (with ``--tiny``: ``<out>/cdnow.yaml``, the
shipped preset untouched) and ``<out>/calibration/`` (its report, the
per-customer table, the check against the log). Then the default duel in
that market and in the same market with every client at the means.
Figures: ``share_over_time.png``, ``clv.png``; ``summary.md`` has the numbers.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from importlib.metadata import distribution
from pathlib import Path

import numpy as np
import pandas as pd

if __package__ in (None, ""):  # run as a script: make `experiments` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from cxsim import calibrate_cli  # noqa: E402
from cxsim.commandline import warn  # noqa: E402
from cxsim.config import config_dir  # noqa: E402
from cxsim.data import calibration  # noqa: E402
from experiments import common  # noqa: E402
from experiments.common import plt  # noqa: E402

HERE = Path(__file__).resolve().parent
A, B = "sales_first", "client_first"
END = "1997-09-30"  # Fader, Hardie & Lee's 39 calibration weeks
CHECK_REPLICATIONS = 100
MARKET = "CDNOW's customers"  # the preset's label: its name in reports
LABELS = {"cdnow": "CDNOW's spread of clients", "cdnow_at_the_means": "every client at the means"}


def cdnow_csv(folder: Path) -> Path:
    """The CDNOW sample as a CSV of customer, date (19970101), amount."""
    found = next(p for p in distribution("lifetimes").files if p.name == "CDNOW_sample.txt")
    raw = pd.read_csv(found.locate(), sep=r"\s+", header=None, dtype={"date": str},
                      names=["master", "customer", "date", "cds", "amount"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cdnow.csv"
    raw[["customer", "date", "amount"]].to_csv(path, index=False)
    return path


def calibrate(argv: list[str]) -> None:
    """Run cxsim-calibrate on CDNOW unless only redrawing (the command recorded names
    paths from the repository's root)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--tiny", action="store_true")
    pre.add_argument("--replot", action="store_true")
    pre.add_argument("--out", type=Path, default=None)
    args, _ = pre.parse_known_args(argv)
    if args.replot:
        return
    out = args.out or HERE / ("results-tiny" if args.tiny else "results")
    preset = out / "cdnow.yaml" if args.tiny else config_dir() / "market" / "cdnow.yaml"
    log = cdnow_csv(out / "log")
    n = 2 if args.tiny else CHECK_REPLICATIONS
    command = shlex.join(["cxsim-calibrate", _shown(log), "--end", END, "--date-format",
                          "%Y%m%d", "--out", _shown(preset), "--results",
                          _shown(out / "calibration"), "-n", str(n)]) + f' --label "{MARKET}"'
    found = calibration.calibrate(log, END, date_format="%Y%m%d", replications=n, label=MARKET)
    calibrate_cli.write(found, preset, out / "calibration", command)
    for line in found.warnings:
        warn("cxsim-calibrate", line)
    print(calibrate_cli.summary_text(found, Path(_shown(preset)),
                                     Path(_shown(out / "calibration"))))


def _shown(path: Path) -> str:
    """*path* as the command line from the repository's root would name it."""
    try:
        return str(Path(path).resolve().relative_to(HERE.parents[1]))
    except ValueError:
        return str(path)


def analyse(outcome: common.Outcome) -> dict:
    table = outcome.table
    found = {}
    for cell in table.cell.unique():
        rows = table[table.cell == cell]
        found[cell] = {
            **common.crossover(outcome, cell),
            **{metric: {f: common.ci(rows[rows.firm == f][metric]) for f in (A, B)}
               for metric in ("share_final", "clv_final_year", "retention_annual", "nps_true")}}
        for metric in ("share_final", "clv_final_year"):
            found[cell][f"{metric}_diff"] = common.ci(
                common.firm_difference(rows, metric, B, A).difference)
    return found


def share_figure(outcome: common.Outcome, found: dict) -> None:
    common.share_panels(outcome, {cell: f["crossover"] for cell, f in found.items()}, LABELS,
                        (A, B), "Market share over time in the CDNOW-calibrated market: mean, "
                        "95% CI band")


def clv_figure(outcome: common.Outcome, found: dict) -> None:
    cells = list(found)
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.arange(len(cells))
    for k, firm in enumerate((A, B)):
        stats = np.array([found[c]["clv_final_year"][firm] for c in cells])
        err = np.abs(stats[:, 1:] - stats[:, :1]).T
        ax.bar(x + (k - 0.5) * 0.38, stats[:, 0], 0.38, yerr=err, capsize=4,
               color=common.FIRM_COLORS[firm], label=firm)
    ax.set_xticks(x, [LABELS.get(c, c) for c in cells])
    ax.set_ylabel("CLV now (money per client)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("CLV now per firm: mean with 95% CI", fontsize=10)
    common.save_figure(fig, outcome.out, "clv.png")


def summary(outcome: common.Outcome, found: dict) -> str:
    lines = [
        "# The duel in a market calibrated to CDNOW",
        "",
        outcome.experiment.question,
        "",
        f"Size: {common.size_note(outcome.meta)}. Differences are client_first minus "
        "sales_first within the same run, with 95% confidence intervals over the "
        f"replications. {common.CROSSOVER_NOTE} The market's calibration and its check "
        "against CDNOW's own purchases are in `calibration/report.html`.",
        "",
    ]
    for cell, f in found.items():
        lines += [
            f"## {LABELS.get(cell, cell)}",
            "",
            f"- {f['bullet']}",
            f"- Final market share: sales_first {common.fmt_ci(f['share_final'][A], '%', 100)}, "
            f"client_first {common.fmt_ci(f['share_final'][B], '%', 100)}; difference "
            f"{common.fmt_ci(f['share_final_diff'], ' pp', 100)}.",
            f"- CLV now (final year, money per client): sales_first "
            f"{common.fmt_ci(f['clv_final_year'][A])}, client_first "
            f"{common.fmt_ci(f['clv_final_year'][B])}; difference "
            f"{common.fmt_ci(f['clv_final_year_diff'])}.",
            f"- Annual retention: sales_first {common.fmt_ci(f['retention_annual'][A], '%', 100)}"
            f", client_first {common.fmt_ci(f['retention_annual'][B], '%', 100)}.",
            f"- True NPS: sales_first {common.fmt_ci(f['nps_true'][A])}, client_first "
            f"{common.fmt_ci(f['nps_true'][B])}.",
            "",
        ]
    lines += ["Figures: `share_over_time.png`, `clv.png`.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> common.Outcome:
    argv = sys.argv[1:] if argv is None else list(argv)
    calibrate(argv)
    return common.main(HERE, argv, analyse, [share_figure, clv_figure], summary)


if __name__ == "__main__":
    main()
