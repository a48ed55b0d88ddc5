"""Where BPIC 2012's log meets the client's patience: cancellations against the wait for an
offer, actual, simulated with reneging and without it.

::

    python experiments/bpic2012_journey/patience.py [--replications 20] [--tiny] [--out DIR]
        [--quiet]

1. **The actual slope.** Among the applications that got an offer (``O_SENT``) and ended, the
   share cancelled (``A_CANCELLED``) by quarter of the time from submission to the first
   offer, and the change in that share per doubling of the wait: a linear probability model
   on log2 of the wait with heteroscedasticity-robust (HC1) standard errors, alone and
   within strata of how many times the firm worked on completing the application before
   the offer (``W_Completeren aanvraag``: 1, 2, 3-4, 5 or more), since a complex
   application both waits longer and may be cancelled more (the confounder the issue
   names). On the early cases (before the split) and the later ones.
2. **Calibration on the early cases.** The journey is discovered with the log's quantiles of
   each gap (``--delays quantiles``, so waits vary as the log's do). The staffed work a
   customer waits on before an offer (``W_Afhandelen leads``, ``W_Completeren aanvraag``:
   :data:`WAITING_FOR_AN_OFFER`) gets one mean patience (``patience_days``; after the
   offer the firm waits on the customer, not the other way round); the discovered
   walk-away edges are
   scaled by a factor (their probability spread over the touchpoint's other edges), since
   part of the cancellations now come from impatience. Each pair on a grid is run on the
   early cases' own arrivals (:data:`EARLY_REPLICATIONS` times); the pair kept is the one
   whose quarter-by-quarter cancellation shares among offered cases, and overall walk-away
   share, are closest (sum of squares) to the early cases'.
3. **The later cases.** The journey with and without reneging (the control: the same
   journey, no patience, walk-aways as discovered) is run on the later cases' arrivals,
   cut at the log's last event, *replications* times, and measured as the actual later
   cases: the slope, the quarter shares, and the check's measures
   (:func:`cxsim.data.discovery_check.check`), so the note can say whether reneging
   improves the fit. A third run, with each gap's mean as delay (the discovery's
   default), shows the slope the journey's loops give alone.

Outputs in ``--out`` (default ``results/patience/`` beside this file, ``results-tiny/
patience/`` with ``--tiny``): ``calibration.csv``, ``slopes.csv``, ``fit.csv``,
``journey/`` (the journeys and cohorts), ``summary.md``, ``slopes.png`` and, last,
``run.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
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
from cxsim.data.discovery import case_outcomes, discover, run_overrides  # noqa: E402
from cxsim.data.discovery_check import check, later_period_days  # noqa: E402
from cxsim.data.eventlog import read_event_log  # noqa: E402
from cxsim.files import write_text  # noqa: E402
from cxsim.simulation.experiment import simulated  # noqa: E402
from experiments.common import plt  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LOG = ROOT / "data" / "eventlogs" / "BPI_Challenge_2012.xes.gz"
SPLIT = "2012-01-15"
OFFER = "O_SENT"
COMPLETING = "W_Completeren aanvraag"
WAITING_FOR_AN_OFFER = ("W_Afhandelen leads", COMPLETING)  # the staffed work before an offer
CALL_STRATA = [0, 1, 2, 4, 10**6]  # completion calls before the offer: 1, 2, 3-4, 5+
PATIENCE_DAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
WALK_AWAY_SCALE = (1.0, 0.75, 0.5, 0.25)
EARLY_REPLICATIONS = 3
REPLICATIONS = 20
TINY_EVERY = 10
TINY = {"patience": (8.0, 32.0), "scale": (1.0, 0.5), "replications": 2, "early": 1}
AFTER_LAST_EARLY_DAYS = 120.0  # nearly every early case has ended by then
MINUTE_HOURS = 1.0 / 60.0  # waits shorter than a minute count as a minute (log2)


# --------------------------------------------------------------------------- the measure
def offer_cases(began: pd.Series, case: np.ndarray, activity: np.ndarray, hours: np.ndarray,
                outcome: pd.Series) -> pd.DataFrame:
    """Per case with an offer and an outcome: the hours from its start to its first offer,
    the completion calls before it, and whether it was cancelled.

    *began* is each case's start (hours, indexed by case); *case*, *activity* and *hours*
    are its offers and completion calls (each call at its START); *outcome* per case.
    """
    events = pd.DataFrame({"case": case, "activity": activity, "hours": hours})
    offer = events[events.activity == OFFER].groupby("case").hours.min()
    calls = events[events.activity == COMPLETING].merge(offer.rename("offer"), on="case")
    before = calls[calls.hours < calls.offer].groupby("case").size()
    out = pd.DataFrame({"wait_hours": offer - began.reindex(offer.index),
                        "calls": before.reindex(offer.index, fill_value=0),
                        "outcome": outcome.reindex(offer.index)})
    out = out[out.outcome.notna() & (out.outcome != "censored")]
    return out.assign(cancelled=(out.outcome == "walk_away").astype(float))


def _ols(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """The first regressor's coefficient and its HC1 standard error (White 1980; MacKinnon
    & White 1985), with an intercept."""
    design = np.column_stack([np.ones(y.size), x])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ beta
    bread = np.linalg.pinv(design.T @ design)
    meat = (design * residual[:, None] ** 2).T @ design
    cov = bread @ meat @ bread * y.size / (y.size - design.shape[1])
    return float(beta[1]), float(np.sqrt(cov[1, 1]))


def slopes(cases: pd.DataFrame) -> dict[str, float]:
    """The cancellation share by quarter of the wait, and the change in it per doubling of
    the wait (points), alone and within strata of the completion calls."""
    y = cases.cancelled.to_numpy()
    log_wait = np.log2(np.maximum(cases.wait_hours.to_numpy(), MINUTE_HOURS))
    quarter = pd.qcut(cases.wait_hours.rank(method="first"), 4, labels=False)
    shares = cases.cancelled.groupby(quarter).mean()
    strata = pd.get_dummies(pd.cut(cases.calls, CALL_STRATA), drop_first=True)
    strata = strata.loc[:, strata.any()].to_numpy(float)
    raw, raw_se = _ols(y, log_wait)
    within, within_se = _ols(y, np.column_stack([log_wait, strata]))
    return {"offered": float(y.size), "cancelled": float(y.mean()),
            **{f"q{i + 1}": float(shares.get(i, np.nan)) for i in range(4)},
            "wait_median_hours": float(cases.wait_hours.median()),
            "slope": 100 * raw, "slope_se": 100 * raw_se,
            "slope_within_calls": 100 * within, "slope_within_calls_se": 100 * within_se}


def actual_cases(events: pd.DataFrame, cases: pd.Index) -> pd.DataFrame:
    """:func:`offer_cases` of the log's *cases*."""
    mine = events[events.case.isin(cases)]
    origin = mine.timestamp.min()
    hours = (mine.timestamp - origin).dt.total_seconds().to_numpy() / 3600.0
    began = pd.Series(hours, index=mine.case.to_numpy()).groupby(level=0).min()
    keep = ((mine.activity == OFFER) & (mine.lifecycle == "complete")) | (
        (mine.activity == COMPLETING) & (mine.lifecycle == "start"))
    keep = keep.to_numpy()
    return offer_cases(began, mine.case.to_numpy()[keep], mine.activity.to_numpy()[keep],
                       hours[keep], case_outcomes(mine))


def simulated_offer_cases(visits: pd.DataFrame, found) -> pd.DataFrame:
    """:func:`offer_cases` of one replication's visits (touchpoints read as activities)."""
    hours = visits.start.to_numpy() * 24.0
    case = visits.case.to_numpy()
    began = pd.Series(hours, index=case).groupby(level=0).min()
    activity = visits.touchpoint.astype(str).map(found.activity_names).to_numpy()
    outcome = visits.groupby("case", sort=True).outcome.first().astype(str)
    return offer_cases(began, case, activity, hours, outcome)


# --------------------------------------------------------------------------- the journeys
def impatient(found, patience_days: float | None, scale: float) -> dict:
    """*found*'s journey with a mean patience at the staffed work before an offer and the
    walk-away edges' probabilities times *scale*, the rest spread over each touchpoint's
    other edges."""
    out = copy.deepcopy(found.journey)
    if patience_days is not None:
        for name, touchpoint in out["touchpoints"].items():
            if touchpoint.get("staffed") and \
                    found.activity_names.get(name) in WAITING_FOR_AN_OFFER:
                touchpoint["patience_days"] = patience_days
    walk_away = {n for n, t in out["touchpoints"].items() if t.get("outcome") == "walk_away"}
    for source in {e["from"] for e in out["edges"]}:
        edges = [e for e in out["edges"] if e["from"] == source]
        leaving = [e for e in edges if e["to"] in walk_away]
        staying = [e for e in edges if e["to"] not in walk_away]
        freed = sum(e["probability"] for e in leaving) * (1.0 - scale)
        kept = sum(e["probability"] for e in staying)
        if not leaving or not staying or freed == 0:
            continue
        for e in leaving:
            e["probability"] *= scale
        for e in staying:
            e["probability"] += freed * e["probability"] / kept
    return out


def _run(found, mapping: dict, cohort: Path, size: int, days: float, path: Path,
         replications: int) -> list:
    write_text(path, yaml.safe_dump(mapping, sort_keys=False, width=100))
    overrides = [o for o in run_overrides(found, path, cohort)
                 if not o.startswith(("sim.years", "market.size"))]
    cfg = to_config(cxsim.compose([*overrides, f"market.size={size}",
                                   f"sim.years={days / DAYS_PER_YEAR!r}",
                                   "sim.record_visits=true"]))
    return list(simulated(cfg, replications))


def _distance(sim: dict[str, float], actual: dict[str, float]) -> float:
    keys = ("q1", "q2", "q3", "q4", "cancelled")
    return float(sum((sim[k] - actual[k]) ** 2 for k in keys))


def calibrate(found, events: pd.DataFrame, folder: Path, grid: tuple, replications: int,
              quiet: bool) -> tuple[pd.DataFrame, dict]:
    """Each (patience, scale) on the grid run on the early cases' arrivals: its figures and
    distance from the early cases'; the closest pair."""
    start = events.groupby("case").timestamp.min()
    early = start[start < pd.Timestamp(SPLIT, tz="UTC")]
    origin = early.min()
    arrivals = np.sort((early - origin).dt.total_seconds().to_numpy() / 86_400.0)
    cohort = folder / "early.csv"
    write_text(cohort, pd.DataFrame({"acquired_day": arrivals}).to_csv(index=False))
    actual_early = actual_cases(events, early.index)
    target = slopes(actual_early)
    target_offered = target["cancelled"]
    # the overall walk-away share of the early cases that ended (offered or not)
    target["cancelled"] = found.outcome_shares()["walk_away"]
    rows = []
    for patience_days in grid[0]:
        for scale in grid[1]:
            runs = _run(found, impatient(found, patience_days, scale), cohort,
                        arrivals.size, float(arrivals.max()) + AFTER_LAST_EARLY_DAYS,
                        folder / "calibrating.yaml", replications)
            figures = [slopes(simulated_offer_cases(r.visits, found)) for r in runs]
            mean = {k: float(np.mean([f[k] for f in figures])) for k in figures[0]}
            shares = [float((r.visits.groupby("case").outcome.first() == "walk_away").mean())
                      for r in runs]
            offered_share = mean["cancelled"]
            mean["cancelled"] = float(np.mean(shares))
            rows.append({"patience_days": patience_days, "walk_away_scale": scale,
                         "distance": _distance(mean, target),
                         "offered_cancelled": offered_share, **mean})
            if not quiet:
                print(f"patience {patience_days:g} d, walk-away x{scale:g}: distance "
                      f"{rows[-1]['distance']:.4f}")
    (folder / "calibrating.yaml").unlink()
    table = pd.DataFrame(rows).sort_values("distance", kind="stable")
    best = table.iloc[0]
    target_row = {"patience_days": np.nan, "walk_away_scale": np.nan, "distance": 0.0,
                  "offered_cancelled": target_offered, **target}
    table = pd.concat([pd.DataFrame([target_row]).assign(row="early cases, actual"),
                       table.assign(row="simulated")], ignore_index=True)
    return table, {"patience_days": float(best.patience_days),
                   "walk_away_scale": float(best.walk_away_scale)}


# --------------------------------------------------------------------------- the page
def _figure(rows: pd.DataFrame, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    colours = {"actual": "#333333", "with reneging": "#d95f02",
               "without reneging": "#1b9e77", "without reneging, mean delays": "#7570b3"}
    for i, (who, colour) in enumerate(colours.items()):
        row = rows[rows.who == who]
        if row.empty:
            continue
        values = row[["q1", "q2", "q3", "q4"]].to_numpy()[0] * 100
        ax.plot(np.arange(1, 5) + (i - 1.5) * 0.04, values, "o-", color=colour, label=who)
    ax.set_xticks([1, 2, 3, 4], ["shortest\nquarter", "2nd", "3rd", "longest\nquarter"])
    ax.set_ylabel("cancelled (%)")
    ax.set_title("Later cases with an offer: cancelled, by the wait from submission to "
                 "offer", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    path = out / "slopes.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _markdown(table: pd.DataFrame) -> list[str]:
    cells = [[f"{v:.4g}" if isinstance(v, float) else str(v) for v in row]
             for row in table.itertuples(index=False)]
    return ["| " + " | ".join(table.columns) + " |",
            "| " + " | ".join("---" for _ in table.columns) + " |",
            *("| " + " | ".join(row) + " |" for row in cells)]


def summary(rows: pd.DataFrame, calibration: pd.DataFrame, best: dict, fit: pd.DataFrame,
            n: int, tiny: bool) -> str:
    def said(who: str) -> str:
        r = rows[rows.who == who].iloc[0]
        band = (f" [{r.slope_low:+.2f}, {r.slope_high:+.2f}] over replications"
                if np.isfinite(r.get("slope_low", np.nan)) else f" (SE {r.slope_se:.2f})")
        return (f"| {who} | {r.slope:+.2f}{band} | {r.slope_within_calls:+.2f} | "
                + " | ".join(f"{100 * r[q]:.1f}" for q in ("q1", "q2", "q3", "q4"))
                + f" | {100 * r.cancelled:.1f} |")

    lines = ["# Where the log meets the client's patience", "",
             f"Calibrated on the early cases: mean patience {best['patience_days']:g} days at "
             f"the staffed work before an offer ({', '.join(WAITING_FOR_AN_OFFER)}), "
             f"walk-away edges x{best['walk_away_scale']:g} "
             f"(grid of {len(calibration) - 1} pairs). Later cases, {n} replications each.",
             "", "| | points per doubling of the wait | within call strata | 1st quarter % "
             "| 2nd | 3rd | 4th | cancelled % |", "| --- | --- | --- | --- | --- | --- | --- "
             "| --- |"]
    lines += [said(who) for who in rows.who]
    lines += ["", "The check's measures (later cases; mean over replications):", "",
              *_markdown(fit), "",
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
    n = args.replications or (TINY["replications"] if args.tiny else REPLICATIONS)
    out = args.out or HERE / ("results-tiny" if args.tiny else "results") / "patience"
    (out / "run.json").unlink(missing_ok=True)
    events = read_event_log(LOG)
    if args.tiny:
        keep = events.case.unique()[::TINY_EVERY]
        events = events[events.case.isin(keep)].reset_index(drop=True)
    folder = out / "journey"
    found = discover(events, SPLIT, name="bpic2012", delays="quantiles")
    plain = discover(events, SPLIT, name="bpic2012")
    cohort, journey = discover_cli.write(found, folder / "bpic2012_quantiles.yaml",
                                         folder / "later.csv")
    grid = (TINY["patience"], TINY["scale"]) if args.tiny else (PATIENCE_DAYS, WALK_AWAY_SCALE)
    calibration, best = calibrate(found, events, folder, grid,
                                  TINY["early"] if args.tiny else EARLY_REPLICATIONS,
                                  args.quiet)
    write_text(out / "calibration.csv", calibration.to_csv(index=False))
    start = events.groupby("case").timestamp.min()
    later = start.index[start >= pd.Timestamp(SPLIT, tz="UTC")]
    rows = [{"who": "actual", **slopes(actual_cases(events, later))}]
    cut = later_period_days(events, SPLIT)
    cells = {"with reneging": (found, impatient(found, best["patience_days"],
                                                best["walk_away_scale"])),
             "without reneging": (found, found.journey),
             "without reneging, mean delays": (plain, plain.journey)}
    fit_rows = []
    for who, (discovery, mapping) in cells.items():
        path = folder / f"bpic2012_{who.replace(' ', '_').replace(',', '')}.yaml"
        runs = _run(discovery, mapping, cohort, len(discovery.cohort), cut, path, n)
        figures = pd.DataFrame([slopes(simulated_offer_cases(r.visits, discovery))
                                for r in runs])
        row = {"who": who, **figures.mean().to_dict()}
        if n > 1:
            row["slope_low"], row["slope_high"] = (float(x) for x in
                                                   figures.slope.quantile([0.025, 0.975]))
        rows.append(row)
        result = check(events, discovery, SPLIT, path, cohort, n)
        fit_rows.append({"journey": who, **result.summary.set_index("measure")["mean"]})
        if not args.quiet:
            print(f"{who}: slope {row['slope']:+.2f} points per doubling")
    actual_fit = result.summary.set_index("measure")["actual"]
    fit = pd.DataFrame([{"journey": "actual", **actual_fit}, *fit_rows])
    fit = fit[["journey", "share_walk_away", "ngram_2_distance", "ngram_3_distance",
               "activities_per_case", "cycle_time_emd_hours", "cycle_time_q50_hours",
               "wait_mean_hours", "wait_q50_hours", "in_progress_mean"]]
    table = pd.DataFrame(rows)
    write_text(out / "slopes.csv", table.to_csv(index=False))
    write_text(out / "fit.csv", fit.to_csv(index=False))
    _figure(table, out)
    text = summary(table, calibration, best, fit, n, args.tiny)
    write_text(out / "summary.md", text)
    if not args.quiet:
        print(text)
    meta = {"tiny": args.tiny, "replications": n, "split": SPLIT, **best,
            "seconds": round(time.perf_counter() - started, 1)}
    write_text(out / "run.json", json.dumps(meta, indent=2) + "\n")
    return {"slopes": table, "calibration": calibration, "fit": fit, "best": best}


if __name__ == "__main__":
    main()
