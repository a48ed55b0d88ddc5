"""The check's page: a discovered journey against the log's later cases, in words first.

A journey discovered from a log (``cxsim-discover``) is worth what it predicts for cases it
has not seen. The reader of ``--check``'s ``report.html`` asks one question: does the
simulated journey behave like the firm's later cases? The answer says it in words (the
outcome shares within so many percentage points, the cycle times shorter or longer by so
much), then shows each measure of :mod:`cxsim.data.discovery_check` as actual against
simulated with the band that 95% of the replications fall in: outcome shares, cycle-time
quantiles, activities per case, waits before staffed work and cases in progress over time.
What the journey does not model is listed by name, visibly, because a reader judging the fit
needs to know what it could not capture.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from cxsim.report.charts import COLOURS  # noqa: E402
from cxsim.report.page import Chart, Page, Tile, chart_from_figure, table_from_frame  # noqa: E402

__all__ = ["MEASURES", "SHARE_TOLERANCE", "check_page", "check_sentences", "duration",
           "share_gap_points"]

ACTUAL, SIMULATED = "0.25", COLOURS[0]
OUTCOME_WORDS = {"purchase": "purchase", "no_purchase": "no purchase",
                 "walk_away": "walk-away"}
SHARE_TOLERANCE = 3.0
"""Percentage points an outcome share may be off and the fit still called close (issue 31's
goal); a larger gap is a warning above the answer."""

MEASURES = {
    "share_purchase": "share ending in a purchase",
    "share_no_purchase": "share ending without a purchase",
    "share_walk_away": "share walking away",
    "ngram_2_distance": "2-gram distance of activity sequences (0 alike, 1 nothing shared)",
    "ngram_3_distance": "3-gram distance of activity sequences (0 alike, 1 nothing shared)",
    "activities_per_case": "activities per case",
    "cycle_time_emd_hours": "cycle time: earth mover's distance (hours)",
    "cycle_time_q10_hours": "cycle time: 10% of cases under (hours)",
    "cycle_time_q50_hours": "cycle time: median (hours)",
    "cycle_time_q90_hours": "cycle time: 90% of cases under (hours)",
    "wait_mean_hours": "wait before staffed work: mean (hours)",
    "wait_q50_hours": "wait before staffed work: median (hours)",
    "wait_q90_hours": "wait before staffed work: 90% under (hours)",
    "in_progress_mean": "cases in progress on an average day",
    "cases": "cases that ended by the cut",
}
"""Each measure of ``fit.json`` in words, as the page's table names it."""


def share_gap_points(summary: pd.DataFrame) -> float:
    """The largest gap, in percentage points, between an outcome's simulated mean share and
    its actual share: the figure the answer leads with."""
    s = summary.set_index("measure")
    return max(100 * abs(s.loc[f"share_{o}", "mean"] - s.loc[f"share_{o}", "actual"])
               for o in OUTCOME_WORDS)


def duration(hours: float) -> str:
    """A duration as a reader says it: minutes under an hour, hours under two days, else
    days."""
    if not np.isfinite(hours):
        return "no data"
    if hours < 1 / 6:
        return f"{hours * 60:.1f} min"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def _compare(simulated: float, actual: float, shorter: str, longer: str) -> str:
    """"shorter by 31%" or "longer by 12%" or "about the same"."""
    if not actual or not np.isfinite(simulated):
        return "not comparable"
    change = simulated / actual - 1
    if abs(change) < 0.005:
        return "about the same"
    return f"{shorter if change < 0 else longer} by {abs(change):.0%}"


NO_OUTCOMES = ("Outcome shares are not measured: the log holds no outcome activity, so "
               "every case, in the log and simulated, counts as completed at its last event "
               "(a share of 100% on both sides, which says nothing of the fit), and a case "
               "still open at the log's end cannot be told from one that ended.")
"""What the page says of a log holding no outcome activity (the help desk's)."""

NO_SERVICE = ("Service times and staff are not observable in this log: it has one timestamp "
              "per event and no lifecycle (no START and COMPLETE of a piece of work), so the "
              "time between events is all delay on the journey's edges, no touchpoint is "
              "staffed, and no service time, staffing, queue or wait before staffed work is "
              "compared.")
"""What the page says of a log without lifecycle (one timestamp per event)."""


def check_sentences(result, outcomes: bool = True, service: bool = True) -> list[str]:
    """The answer: the bottom line (outcome shares and cycle times), then each measure
    in words, then what was compared with what. Without *outcomes* (a log holding no
    outcome activity, where every case counts as completed) the shares say nothing, and
    the bottom line and a sentence of their own say so; without *service* (a log with no
    lifecycle) a sentence says that service times, staff and waits cannot be seen."""
    s = result.summary.set_index("measure")
    f = result.facts
    gap = share_gap_points(result.summary)
    median = s.loc["cycle_time_q50_hours"]
    timing = (f"cycle times are "
              f"{_compare(median['mean'], median['actual'], 'shorter', 'longer')} at the "
              f"median ({duration(median['mean'])} simulated against "
              f"{duration(median['actual'])} actual).")
    if not outcomes or not service:
        rest = check_sentences(result)[2:]
        if not service:  # the wait sentence, and the sentence of what the log cannot show
            rest = [line for line in rest if not line.startswith(("Before staffed work",
                                                                  "The log has no start"))]
            rest.insert(1, _spread(s))
        lead = (["The log records no outcome, so only the timing and the paths can be "
                 f"compared: {timing}", NO_OUTCOMES] if not outcomes else
                [f"The simulated journey reproduces the later cases' outcome shares within "
                 f"{gap:.1f} percentage points; {timing}", *check_sentences(result)[1:2]])
        if not outcomes:  # no actual case is censored: each ends at its last event
            rest[-1] = rest[-1].replace(
                "cases still open at the log's end are left out on both sides",
                "every later case in the log counts as ended, and simulated walks not "
                "ended by the cut are left out")
        return [*lead, *([] if service else [NO_SERVICE]), *rest]
    out = [f"The simulated journey reproduces the later cases' outcome shares within "
           f"{gap:.1f} percentage points; {timing}"]
    shares = "; ".join(
        f"{OUTCOME_WORDS[o]} {100 * s.loc[f'share_{o}', 'actual']:.1f}% actual, "
        f"{100 * s.loc[f'share_{o}', 'mean']:.1f}% simulated (95% of runs "
        f"{100 * s.loc[f'share_{o}', 'band_low']:.1f} to "
        f"{100 * s.loc[f'share_{o}', 'band_high']:.1f}%)" for o in OUTCOME_WORDS)
    out.append(f"How the {f['later_cases_ended']:,} later cases ended: {shares}.")
    q = {k: s.loc[f"cycle_time_q{k}_hours"] for k in (10, 50, 90)}
    out.append("Time from a case's first step to its last: the quickest 10% take under "
               f"{duration(q[10]['actual'])} in the log and {duration(q[10]['mean'])} "
               f"simulated, half under {duration(q[50]['actual'])} and "
               f"{duration(q[50]['mean'])}, 90% under {duration(q[90]['actual'])} and "
               f"{duration(q[90]['mean'])}.")
    a = s.loc["activities_per_case"]
    out.append(f"A case has {a['actual']:.1f} activities in the log and {a['mean']:.1f} "
               "simulated.")
    w = s.loc["wait_mean_hours"]
    if np.isfinite(w["actual"]):
        queue = result.waits.queue_mean_hours if result.waits is not None else pd.Series()
        visits = result.waits.actual_visits if result.waits is not None else pd.Series()
        queued = float(np.average(queue, weights=visits)) if len(queue) and visits.sum() \
            and np.isfinite(queue).all() else float("nan")
        out.append(f"Before staffed work starts, a case waits {duration(w['actual'])} on "
                   f"average in the log (from the work being scheduled, or the step before, "
                   f"to its start) and {duration(w['mean'])} simulated"
                   + (f", of which {duration(queued)} queueing for staff: the rest is the "
                      "delay the journey puts on its edges" if np.isfinite(queued) else "")
                   + f". Half the waits are under {duration(s.loc['wait_q50_hours', 'actual'])}"
                   f" in the log and {duration(s.loc['wait_q50_hours', 'mean'])} simulated: "
                   "the journey gives every case its edge's mean delay, where the log's "
                   "waits vary from case to case.")
    else:
        out.append("The log has no start of staffed work (no lifecycle), so no wait before "
                   "it can be compared.")
    p = s.loc["in_progress_mean"]
    out.append(f"On an average day {p['actual']:,.0f} cases are in progress in the log and "
               f"{p['mean']:,.0f} simulated (95% of runs {p['band_low']:,.0f} to "
               f"{p['band_high']:,.0f}).")
    out.append(f"Checked on the cases that start on or after {f['split']}, "
               f"{f['replications']} simulated replications cut at the log's last event "
               f"({f['cut_days']:.0f} days after the split); cases still open at the log's "
               "end are left out on both sides.")
    return out


def _spread(s: pd.DataFrame) -> str:
    """How widely cycle times spread in the log and simulated (the 10-90% range), why, and
    how far the simulated paths are from the log's (the n-gram distances)."""
    q10, q90 = s.loc["cycle_time_q10_hours"], s.loc["cycle_time_q90_hours"]
    two, three = s.loc["ngram_2_distance"], s.loc["ngram_3_distance"]
    return (f"The middle 80% of cases spread over {duration(q90['actual'] - q10['actual'])}"
            f" in the log and {duration(q90['mean'] - q10['mean'])} simulated: each edge "
            "carries its mean delay, so a simulated case's time varies only with its path. "
            f"The simulated paths differ from the log's by an n-gram distance of "
            f"{two['mean']:.2f} for pairs of activities and {three['mean']:.2f} for triples "
            "(0 alike, 1 nothing shared).")


def _bars(ax, labels, actual, mean, low, high, horizontal: bool = False,
          legend: str = "best") -> None:
    """Actual against simulated, the simulated bar's whiskers spanning 95% of the runs."""
    x = np.arange(len(labels))
    width = 0.4
    error = [np.asarray(mean) - np.asarray(low), np.asarray(high) - np.asarray(mean)]
    if horizontal:
        ax.barh(x - width / 2, actual, width, color=ACTUAL, label="actual (the log)")
        ax.barh(x + width / 2, mean, width, color=SIMULATED, xerr=error, capsize=2,
                label="simulated (mean; whiskers: 95% of runs)")
        ax.set_yticks(x, labels, fontsize=7 if len(labels) > 8 else None)
        ax.invert_yaxis()
        ax.grid(alpha=0.3, axis="x")
    else:
        ax.bar(x - width / 2, actual, width, color=ACTUAL, label="actual (the log)")
        ax.bar(x + width / 2, mean, width, color=SIMULATED, yerr=error, capsize=3,
               label="simulated (mean; whiskers: 95% of runs)")
        ax.set_xticks(x, labels)
        ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8, loc=legend)


def _shares_chart(s: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    rows = [s.loc[f"share_{o}"] for o in OUTCOME_WORDS]
    _bars(ax, list(OUTCOME_WORDS.values()), *(100 * np.array([r[k] for r in rows])
                                              for k in ("actual", "mean", "band_low",
                                                        "band_high")), legend="upper right")
    ax.set_ylim(0, 1.4 * max(100 * r["band_high"] for r in rows))  # room for the legend
    ax.set_ylabel("% of the later cases that ended")
    ax.set_title("How the later cases ended: actual against simulated")
    fig.tight_layout()
    return chart_from_figure(
        fig, "Bar chart of the shares of later cases ending in a purchase, without one, or "
        "walking away: actual beside simulated, with whiskers spanning 95% of the runs.",
        "A close fit puts each grey bar inside the whiskers of the green one.")


def _cycle_chart(s: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(8, 3.4))
    rows = [s.loc[f"cycle_time_q{q}_hours"] for q in (10, 50, 90)]
    _bars(ax, ["quickest 10% under", "half under", "90% under"],
          *(np.array([r[k] for r in rows]) for k in ("actual", "mean", "band_low",
                                                     "band_high")), legend="upper left")
    values = np.array([[r[k] for r in rows] for k in ("actual", "mean")])
    wide = bool((values > 0).all() and values.max() / values.min() > 100)
    if wide:  # quantiles decades apart (minutes to weeks): a log scale shows them all
        ax.set_yscale("log")
    ax.set_ylabel("hours from first step to last" + (" (log scale)" if wide else ""))
    ax.set_title("How long a case takes")
    fig.tight_layout()
    return chart_from_figure(
        fig, "Bar chart of the 10%, 50% and 90% quantiles of cycle time in hours"
        + (" on a log scale" if wide else "") + ", actual beside simulated with whiskers "
        "spanning 95% of the runs.",
        "Each pair: the time within which 10%, half and 90% of the cases ended.")


def _activities_chart(activities: pd.DataFrame) -> Chart:
    rows = activities.sort_values("actual_per_case", ascending=False)
    fig, ax = plt.subplots(figsize=(8, max(3.0, 0.28 * len(rows) + 1.2)))
    _bars(ax, list(rows.activity), rows.actual_per_case, rows["mean"], rows.band_low,
          rows.band_high, horizontal=True)
    ax.set_xlabel("times per case")
    ax.set_title("How often each activity happens in a case")
    fig.tight_layout()
    return chart_from_figure(
        fig, "Horizontal bar chart of each activity's count per case, actual beside "
        "simulated with whiskers spanning 95% of the runs.",
        "Activities per case, most frequent first; loops (an offer called back again and "
        "again) show as counts above 1.")


def _waits_chart(waits: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(8, max(2.8, 0.45 * len(waits) + 1.2)))
    _bars(ax, list(waits.activity), waits.actual_mean_hours, waits["mean"], waits.band_low,
          waits.band_high, horizontal=True)
    ax.set_xlabel("mean hours from the step before to the start of the work")
    ax.set_title("Waits before staffed work")
    fig.tight_layout()
    return chart_from_figure(
        fig, "Horizontal bar chart of the mean wait in hours before each staffed activity "
        "starts, actual beside simulated with whiskers spanning 95% of the runs.",
        "In the log, from the work being scheduled (or the step before) to its start; "
        "simulated, the edge's delay plus the queue for staff.")


def _in_progress_chart(series: pd.DataFrame) -> Chart:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(series.day, series.actual, color=ACTUAL, lw=2, label="actual (the log)")
    ax.plot(series.day, series["mean"], color=SIMULATED, label="simulated (mean)")
    ax.fill_between(series.day, series.band_low, series.band_high, color=SIMULATED,
                    alpha=0.25, lw=0, label="simulated, 95% of runs")
    ax.set_xlabel("days after the split")
    ax.set_ylabel("cases in progress")
    ax.set_title("Cases in progress, day by day")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return chart_from_figure(
        fig, "Line chart of the number of cases begun and not yet ended on each day after "
        "the split: actual, and simulated with a band holding 95% of the runs.",
        "Counted among the cases that ended by the log's end on both sides, so the lines "
        "fall towards its end as the cases still open are left out.")


def _figure(value: float, percent: bool = False) -> str:
    if value is None or not np.isfinite(value):
        return ""
    return f"{100 * value:.1f}%" if percent else f"{value:,.4g}"


def _measures_table(summary: pd.DataFrame, left_out: tuple[str, ...] = ()):
    """Each measure's row; the *left_out* prefixes' rows (what the log does not record) are
    not shown, and the caption says so."""
    rows = []
    shown = summary[~summary.measure.str.startswith(left_out)] if left_out else summary
    for row in shown.itertuples():
        percent = row.measure.startswith("share_")
        distance = row.measure.endswith(("distance", "emd_hours"))
        rows.append((MEASURES.get(row.measure, row.measure),
                     "" if distance else _figure(row.actual, percent),
                     _figure(row.mean, percent),
                     f"{_figure(row.ci_low, percent)} to {_figure(row.ci_high, percent)}",
                     f"{_figure(row.band_low, percent)} to {_figure(row.band_high, percent)}",
                     "" if row.actual_in_band is None or pd.isna(row.actual_in_band)
                     else ("yes" if row.actual_in_band else "no")))
    frame = pd.DataFrame(rows, columns=["measure", "actual", "simulated (mean)", "95% CI",
                                        "95% of runs", "actual within the runs"])
    words = {"share_": "outcome shares (every case completes)",
             "wait_": "waits before staffed work (no staffed work in the log)"}
    gone = " and ".join(words[k] for k in left_out if k in words)
    return table_from_frame(
        "Each measure: the log against the simulation", frame,
        "A distance has no actual value: it is measured between the log and each run. "
        "The CI is the mean's 95% Student-t interval; '95% of runs' is the band the "
        "replications fall in." + (f" Not shown, as the log does not record them: {gone}."
                                   if gone else ""), "measures", "fit_summary.csv", summary)


def _waits_table(waits: pd.DataFrame):
    frame = pd.DataFrame({
        "staffed activity": waits.activity,
        "starts in the log": waits.actual_visits.map(lambda v: f"{v:,}"),
        "actual wait": waits.actual_mean_hours.map(duration),
        "simulated wait": waits["mean"].map(duration),
        "95% of runs": [f"{duration(a)} to {duration(b)}"
                        for a, b in zip(waits.band_low, waits.band_high)],
        "of which queueing for staff": waits.queue_mean_hours.map(duration)})
    return table_from_frame(
        "Waits before staffed work, per activity", frame,
        "Mean time from the step before (the work being scheduled, or the last activity) to "
        "the start of the work. The journey carries the log's scheduling wait as the delay "
        "on its edges, so only the sum compares with the log.", "waits", "fit_waits.csv",
        waits)


def _not_modelled_table(notes: tuple[str, ...]):
    split = [note.split(": ", 1) if ": " in note else [note, ""] for note in notes]
    frame = pd.DataFrame(split, columns=["not modelled", "what the log shows, and what the "
                                         "journey does instead"])
    return table_from_frame(
        "What the journey does not model", frame,
        "Each is something the log records that the discovered journey cannot represent; "
        "any of them may account for a gap above.", "not-modelled", "not_modelled.csv",
        text_columns=2)


def _defaults_table(defaults: dict):
    frame = pd.DataFrame([(k, _figure(v) if isinstance(v, float) else str(v))
                          for k, v in defaults.items()], columns=["field", "value given"])
    return table_from_frame(
        "Fields the log lacks: the value each touchpoint got", frame,
        "Set them in the journey file to what you know.", "defaults", "defaults.csv",
        text_columns=2)


def check_page(result, found, command: str = "") -> Page:
    """The page of a :class:`cxsim.data.discovery_check.Check` of the journey *found*
    (:class:`cxsim.data.discovery.Discovery`), run by *command*."""
    s = result.summary.set_index("measure")
    f, counts = result.facts, found.counts
    gap = share_gap_points(result.summary)
    warnings = [f"The {OUTCOME_WORDS[o]} share is off by "
                f"{100 * abs(s.loc[f'share_{o}', 'mean'] - s.loc[f'share_{o}', 'actual']):.1f}"
                f" percentage points, more than the {SHARE_TOLERANCE:g} a close fit keeps to."
                for o in OUTCOME_WORDS
                if 100 * abs(s.loc[f"share_{o}", "mean"] - s.loc[f"share_{o}", "actual"])
                > SHARE_TOLERANCE]
    median, wait, busy = (s.loc[m] for m in ("cycle_time_q50_hours", "wait_mean_hours",
                                             "in_progress_mean"))
    outcomes = bool(found.outcome_activities)
    service = bool(found.service_time)
    tiles = [
        Tile("Outcome shares", f"within {gap:.1f} points",
             ("largest gap between an outcome's simulated and actual share",)) if outcomes
        else Tile("Outcome shares", "not measured",
                  ("no outcome activity in the log: every case completes",)),
        Tile("Median cycle time", f"{duration(median['mean'])} vs {duration(median['actual'])}",
             ("simulated vs actual",)),
        Tile("Wait before staffed work", f"{duration(wait['mean'])} vs "
             f"{duration(wait['actual'])}",
             ("simulated vs actual, mean; the median "
              f"{duration(s.loc['wait_q50_hours', 'mean'])} vs "
              f"{duration(s.loc['wait_q50_hours', 'actual'])}",)) if np.isfinite(wait["actual"])
        else Tile("Service times and staff", "not in the log",
                  ("one timestamp per event, no lifecycle: no service, staff or wait before "
                   "staffed work to compare",)) if not service
        else Tile("Wait before staffed work", "not observed",
                  ("the log has no start of staffed work",)),
        Tile("Cases in progress", f"{busy['mean']:,.0f} vs {busy['actual']:,.0f}",
             ("simulated vs actual, on an average day",)),
    ]
    left_out = (() if outcomes else ("share_",)) + (
        () if np.isfinite(wait["actual"]) else ("wait_",))
    tables = [_measures_table(result.summary, left_out)]
    charts = [_cycle_chart(s)] if outcomes else []
    charts.append(_activities_chart(result.activities))
    if result.waits is not None and len(result.waits):
        tables.append(_waits_table(result.waits))
        charts.append(_waits_chart(result.waits))
    if result.in_progress is not None:
        charts.append(_in_progress_chart(result.in_progress))
    tables.append(_not_modelled_table(found.not_modelled))
    return Page(
        title=f"The journey discovered from {counts['log']}, checked on its later cases",
        subtitle=(f"{counts['early_cases']:,} cases before {counts['split']} discovered; "
                  f"{f['later_cases_ended']:,} later cases compared; "
                  f"{f['replications']} simulated replications"),
        answer=check_sentences(result, outcomes, service),
        warnings=warnings if outcomes else [],
        tiles=tiles,
        headline=_shares_chart(s) if outcomes else _cycle_chart(s),
        tables=tables,
        charts=charts,
        assumptions=[_defaults_table(found.defaults)],
        command=command,
        provenance=[("log", str(counts["log"])), ("split", str(counts["split"])),
                    ("replications", str(f["replications"])),
                    ("measures defined in", f["measures_defined_in"])],
    )
