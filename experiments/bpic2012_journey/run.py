"""Discover BPIC 2012's journey, check it on the later cases, then ask a strategist's what-if.

::

    python experiments/bpic2012_journey/run.py [--replications 20] [--tiny] [--out DIR]
        [--quiet]

First ``cxsim-discover``'s two steps on ``data/eventlogs/BPI_Challenge_2012.xes.gz``, split
2012-01-15 (the README's example): the journey and the later cases' arrivals, then the check
on the later cases (``<out>/check/``: ``report.html``, ``fit.json`` and CSVs). Then three
journeys on those arrivals, replication *i* of each on the same random numbers:

- ``as_discovered``: the journey as the log shows it;
- ``two_more_staff``: two more staff at the call-back touchpoint (``W_Nabellen offertes``:
  calling customers back about their offers);
- ``faster_call_back``: the delay from an offer sent (``O_SENT``) to its first call-back
  halved, a faster offer follow-up, for contrast.

Each is measured per replication on the cases that ended: the walk-away share (a customer's
cancellation, ``A_CANCELLED``), the mean and median cycle time, and the mean queue before a
call-back; the differences from ``as_discovered`` are paired, with Student-t 95% intervals.
The run is long enough (half a year after the last arrival) for nearly every case to end,
so a lever that shortens cases does not win by having more of them counted.

Then the same three journeys in a market (``market.csv``, ``market_effects.csv``): as many
clients as the later cases, each coming back for another loan at the rate the log's
applications arrive (the default market's psychology: clients remember, tell others and
leave), for :data:`MARKET_YEARS` years, paired as above: each lever's effect on customer
lifetime value (the margin a client paid, discounted), retention and the walk-away share.

``--tiny`` (the test's size) keeps every tenth case of the log and runs two replications.
Outputs in ``--out`` (default ``results/`` beside this file, ``results-tiny/`` with
``--tiny``): ``journey/`` (the three journeys and the cohort), ``check/``, ``table.csv``
(one row per journey and replication), ``effects.csv``, ``effects.png``, ``summary.md`` and,
last, ``run.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

if __package__ in (None, ""):  # run as a script: make `experiments` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import cxsim  # noqa: E402
from cxsim import discover_cli  # noqa: E402
from cxsim.config import DAYS_PER_YEAR, to_config  # noqa: E402
from cxsim.data.discovery import discover, run_overrides  # noqa: E402
from cxsim.data.discovery_check import check, simulated_cases  # noqa: E402
from cxsim.data.eventlog import read_event_log  # noqa: E402
from cxsim.files import write_text  # noqa: E402
from cxsim.simulation.experiment import simulated  # noqa: E402
from cxsim.simulation.results import mean_ci  # noqa: E402
from experiments.common import plt  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LOG = ROOT / "data" / "eventlogs" / "BPI_Challenge_2012.xes.gz"
SPLIT = "2012-01-15"
CALL_BACK = "W_Nabellen_offertes"  # the touchpoint of activity 'W_Nabellen offertes'
OFFER_SENT = "O_SENT"
EXTRA_STAFF = 2
REPLICATIONS = 20
TINY_EVERY = 10  # --tiny keeps every tenth case
TINY_REPLICATIONS = 2
AFTER_LAST_ARRIVAL_DAYS = 182.0
MARKET_YEARS = 2.0
CELLS = {"as_discovered": "as discovered",
         "two_more_staff": f"{EXTRA_STAFF} more staff at the call-back",
         "faster_call_back": "call-back after an offer twice as fast"}
MEASURES = {"walk_away_share": ("walk-away share", "%", 100.0),
            "cycle_mean_hours": ("mean cycle time", "h", 1.0),
            "cycle_median_hours": ("median cycle time", "h", 1.0),
            "call_back_queue_minutes": ("mean queue before a call-back", "min", 1.0)}


def journeys(found) -> dict[str, dict]:
    """The three journeys: as discovered, two more staff at the call-back, and the delay
    from an offer sent to its call-back halved."""
    base = found.journey
    staff = copy.deepcopy(base)
    staff["touchpoints"][CALL_BACK]["staff"] += EXTRA_STAFF
    faster = copy.deepcopy(base)
    for edge in faster["edges"]:
        if edge["from"] == OFFER_SENT and edge["to"] == CALL_BACK:
            edge["delay_days"] = edge["delay_days"] / 2
    return {"as_discovered": base, "two_more_staff": staff, "faster_call_back": faster}


def measures(visits: pd.DataFrame, found) -> dict[str, float]:
    """One replication's figures on the cases that ended."""
    cases = simulated_cases(visits, found)
    call_backs = cases.waits[cases.waits.activity == found.activity_names[CALL_BACK]]
    return {"walk_away_share": float((cases.outcome == "walk_away").mean()),
            "cycle_mean_hours": float(cases.cycle_hours.mean()),
            "cycle_median_hours": float(np.median(cases.cycle_hours)),
            "call_back_queue_minutes": float(call_backs.queue_hours.mean()) * 60.0,
            "cases": float(cases.outcome.size)}


MARKET_MEASURES = {"clv_mean": ("customer lifetime value", "$", 1.0),
                   "retention_annual": ("annual retention", "%", 100.0),
                   "walk_away_share": ("walk-away share", "%", 100.0)}


def market_measures(run, found) -> dict[str, float]:
    """One market replication's figures: CLV, retention, and the share of walks that end
    at the walk-away exit (its visits over the entry's)."""
    visits = run.touchpoints.set_index("touchpoint").visits
    return {"clv_mean": float(run.summary.clv_mean.iloc[0]),
            "retention_annual": float(run.summary.retention_annual.iloc[0]),
            "walk_away_share": float(visits["walk_away"] / visits[found.journey["entry"]])}


def market_overrides(found, journey: Path, clients: int) -> list[str]:
    """*journey* walked by *clients* who each come back for another case at the rate the
    log's early cases arrive (so the staff, sized for that many, see the log's load)."""
    rate = found.counts["arrivals_per_day_early"]
    return ["scenario=solo", f"firms.acme.journey={journey}", f"market.size={clients}",
            f"market.segments.core.mean_days_between_needs={clients / rate!r}",
            f"sim.years={MARKET_YEARS}"]


def effects(table: pd.DataFrame, measures: dict | None = None) -> pd.DataFrame:
    """Each lever against ``as_discovered``, paired by replication: mean and 95% CI."""
    base = table[table.cell == "as_discovered"].set_index("replication")
    rows = []
    for cell in CELLS:
        if cell == "as_discovered":
            continue
        other = table[table.cell == cell].set_index("replication")
        for measure, (_, _, scale) in (measures or MEASURES).items():
            diff = (other[measure] - base[measure]).to_numpy() * scale
            mean, low, high = mean_ci(diff)
            rows.append({"cell": cell, "measure": measure,
                         "base": float(base[measure].mean() * scale),
                         "lever": float(other[measure].mean() * scale),
                         "difference": mean, "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows)


def _figure(found: pd.DataFrame, out: Path) -> Path:
    shown = [m for m in MEASURES if m != "call_back_queue_minutes"]
    fig, axes = plt.subplots(1, len(shown), figsize=(10, 3.2))
    for ax, measure in zip(axes, shown):
        rows = found[found.measure == measure]
        y = np.arange(len(rows))
        ax.errorbar(rows.difference, y, xerr=[rows.difference - rows.ci_low,
                                              rows.ci_high - rows.difference],
                    fmt="o", capsize=4, color="#1b9e77")
        ax.axvline(0, color="0.4", lw=1, ls=":")
        reach = max(1.0, 1.2 * float(np.abs(rows[["ci_low", "ci_high"]].to_numpy()).max()))
        ax.set_xlim(-reach, reach)  # at least one point or hour either side: nil looks nil
        ax.set_ylim(-0.5, len(rows) - 0.5)
        ax.set_yticks(y, [CELLS[c] for c in rows.cell] if ax is axes[0] else [])
        words, unit, _ = MEASURES[measure]
        ax.set_title(f"{words}\n({'points' if unit == '%' else unit}, lever minus as "
                     "discovered)", fontsize=9)
        ax.grid(alpha=0.3, axis="x")
    fig.suptitle("What each lever changes: paired difference, 95% CI", fontsize=10)
    fig.tight_layout()
    path = out / "effects.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _said(row) -> str:
    """One effect in words: both levels, the paired difference and its interval."""
    words, unit, _ = {**MEASURES, **MARKET_MEASURES}[row.measure]
    change = "points" if unit == "%" else "" if unit == "$" else f" {unit}"
    change = f" {change}" if unit == "%" else change

    def level(value: float) -> str:
        return f"${value:,.2f}" if unit == "$" else f"{value:.2f}{'' if unit == '%' else ' '}{unit}"

    def diff(value: float, named: bool = True) -> str:
        return (f"{'+' if value >= 0 else '-'}${abs(value):,.2f}" if unit == "$"
                else f"{value:+.3g}{change if named else ''}")

    if row.ci_low == row.ci_high == row.difference == 0:
        return (f"{words}: {level(row.base)} with and without the lever, the same in every "
                "paired replication")
    nil = row.ci_low <= 0 <= row.ci_high
    return (f"{words}: {level(row.base)} as discovered, {level(row.lever)} with the lever, "
            f"difference {diff(row.difference)} (95% CI {diff(row.ci_low, False)} to "
            f"{diff(row.ci_high, False)})"
            + ("; no effect the replications can tell from nil" if nil else ""))


def summary(found, result, table: pd.DataFrame, found_effects: pd.DataFrame, n: int,
            tiny: bool, market: pd.DataFrame) -> str:
    s = result.summary.set_index("measure")
    staff = int(found.touchpoints.set_index("touchpoint").staff[CALL_BACK])
    lines = ["# BPIC 2012's journey: discovered, checked, and two more staff at the call-back",
             "",
             f"Discovered from the {found.counts['early_cases']:,} cases before {SPLIT}; "
             f"checked on the {result.facts['later_cases_ended']:,} later cases that ended "
             f"({result.facts['replications']} replications): outcome shares "
             + ", ".join(f"{o.replace('_', ' ')} {100 * s.loc[f'share_{o}', 'actual']:.1f}% "
                         f"actual, {100 * s.loc[f'share_{o}', 'mean']:.1f}% simulated"
                         for o in ("purchase", "no_purchase", "walk_away"))
             + f"; median cycle time {s.loc['cycle_time_q50_hours', 'actual']:.1f} h actual, "
             f"{s.loc['cycle_time_q50_hours', 'mean']:.1f} h simulated (check/report.html).",
             "",
             f"The call-back touchpoint ({found.activity_names[CALL_BACK]}) has {staff} staff "
             f"as discovered; the lever gives it {staff + EXTRA_STAFF}. {n} replications of "
             "each journey on the later cases' arrivals, paired (95% CI):", ""]
    for cell in CELLS:
        if cell == "as_discovered":
            continue
        lines.append(f"**{CELLS[cell]}**")
        lines.append("")
        lines += [f"- {_said(row)}" for row in found_effects[found_effects.cell == cell]
                  .itertuples()]
        lines.append("")
    lines += [f"**In a market** ({len(found.cohort):,} clients coming back at the log's "
              f"rate, {MARKET_YEARS:g} years, paired):", ""]
    for cell in CELLS:
        if cell != "as_discovered":
            lines += [f"- {CELLS[cell]}: {_said(row)}"
                      for row in market[market.cell == cell].itertuples()]
    lines += ["", f"Cases that ended per replication: {table.cases.mean():,.0f} on average.",
              "Size: " + (f"tiny (every {TINY_EVERY}th case)" if tiny else "full") + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    n = args.replications or (TINY_REPLICATIONS if args.tiny else REPLICATIONS)
    out = args.out or HERE / ("results-tiny" if args.tiny else "results")
    (out / "run.json").unlink(missing_ok=True)
    events = read_event_log(LOG)
    if args.tiny:
        keep = events.case.unique()[::TINY_EVERY]
        events = events[events.case.isin(keep)].reset_index(drop=True)
    found = discover(events, SPLIT, name="bpic2012")
    folder = out / "journey"
    command = shlex.join(["cxsim-discover", str(LOG.relative_to(ROOT)), "--split", SPLIT,
                          "--out", "bpic2012.yaml", "--check", "-n", str(n)])
    cohort, journey = discover_cli.write(found, folder / "bpic2012.yaml",
                                         folder / "bpic2012.csv", command)
    result = check(events, found, SPLIT, journey, cohort, n)
    result.write(out / "check")
    discover_cli.write_check_page(result, found, out / "check" / "report.html", command)
    if not args.quiet:
        print(discover_cli.check_text(result))
    days = float(found.cohort.acquired_day.max()) + AFTER_LAST_ARRIVAL_DAYS
    rows = []
    for cell, mapping in journeys(found).items():
        path = folder / f"bpic2012_{cell}.yaml"
        write_text(path, yaml.safe_dump(mapping, sort_keys=False, width=100))
        overrides = [o for o in run_overrides(found, path, cohort)
                     if not o.startswith("sim.years")]
        cfg = to_config(cxsim.compose([*overrides, f"sim.years={days / DAYS_PER_YEAR!r}",
                                       "sim.record_visits=true"]))
        for i, run in enumerate(simulated(cfg, n)):
            rows.append({"cell": cell, "replication": i, **measures(run.visits, found)})
        if not args.quiet:
            print(f"{cell}: {n} replications")
    table = pd.DataFrame(rows)
    write_text(out / "table.csv", table.to_csv(index=False))
    found_effects = effects(table)
    write_text(out / "effects.csv", found_effects.to_csv(index=False))
    _figure(found_effects, out)
    market_rows = []
    for cell in CELLS:
        cfg = to_config(cxsim.compose(market_overrides(
            found, folder / f"bpic2012_{cell}.yaml", len(found.cohort))))
        market_rows += [{"cell": cell, "replication": i, **market_measures(run, found)}
                        for i, run in enumerate(simulated(cfg, n))]
    market = pd.DataFrame(market_rows)
    write_text(out / "market.csv", market.to_csv(index=False))
    market_effects = effects(market, MARKET_MEASURES)
    write_text(out / "market_effects.csv", market_effects.to_csv(index=False))
    text = summary(found, result, table, found_effects, n, args.tiny, market_effects)
    write_text(out / "summary.md", text)
    if not args.quiet:
        print(text)
    meta = {"tiny": args.tiny, "replications": n, "split": SPLIT,
            "log": str(LOG.relative_to(ROOT)), "cells": list(CELLS),
            "seconds": round(time.perf_counter() - started, 1)}
    write_text(out / "run.json", json.dumps(meta, indent=2) + "\n")
    return {"effects": found_effects, "table": table, "check": result,
            "market": market_effects}


if __name__ == "__main__":
    main()
