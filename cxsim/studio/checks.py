"""What the studio shows of an uploaded log's check: a fitted market's against the log,
and a discovered journey's against the log's later cases, as its runs arrive.

The words are the reports' (:mod:`cxsim.report.calibration`, :mod:`cxsim.report.discovery`),
so the page says what ``cxsim-calibrate`` and ``cxsim-discover --check`` say; the markup is
a template's (:mod:`cxsim.studio.markup`).
"""

from __future__ import annotations

from cxsim.data.calibration import Calibration, typicals
from cxsim.data.discovery import Discovery
from cxsim.data.discovery_check import Check
from cxsim.report.calibration import calibration_sentences, weekly_figure
from cxsim.report.discovery import OUTCOME_WORDS, check_sentences, duration
from cxsim.report.page import chart_from_figure
from cxsim.studio.markup import render

__all__ = ["fit_check_html", "journey_html"]

_HEAD = ("the later cases", "in the log", "simulated", "95% of runs")


def fit_check_html(found: Calibration, planned: int = 0) -> str:
    """The check of a fit as the calibration report opens it: any warning, the fit and how
    the fitted market buys against the log in words, then the weekly repeat purchases; the
    simulated market in them once *found* holds some of the *planned* simulations."""
    weekly = chart_from_figure(
        weekly_figure(found.weekly, found.meta["calibration_weeks"]),
        "Line chart of cumulative repeat purchases by week: the log, the fitted model's "
        "expectation and cxsim's simulation of the fitted market with a 95% band; a dotted "
        "line marks the end of the fit.",
        "Left of the dotted line the model was fitted; right of it, it forecasts.")
    runs = found.meta["replications"]
    return render("fit_check.html.j2", warnings=found.warnings,
                  sentences=calibration_sentences(found, typicals(found)), chart=weekly,
                  runs=runs, planned=max(planned, runs))


def _discovered(found: Discovery) -> list[str]:
    """What was discovered: touchpoints, staff, the early cases' outcomes; what checks it."""
    c = found.counts
    shares = ", ".join(f"{OUTCOME_WORDS.get(k, k.replace('_', ' '))} {v:.0%}"
                       for k, v in found.outcome_shares().items())
    return [
        f"Discovered from {c['early_cases']:,} cases starting before {c['split']}: "
        f"{len(found.journey['touchpoints']):,} touchpoints ({len(found.staffed)} staffed), "
        f"{len(found.journey['edges']):,} paths between them; they ended: {shares}. Every "
        "firm now walks this journey.",
        f"The check: the {c['late_cases']:,} cases starting on or after the split, their "
        "arrivals walked through this journey and compared with what the log shows."]


def _headline_rows(result: Check, found: Discovery) -> list[tuple[str, str, str, str]]:
    """The check's headline, actual against simulated: the outcome shares (if the log has
    outcomes) and the median cycle time, each with the band of 95% of the runs."""
    s = result.summary.set_index("measure")
    rows = []
    if found.outcome_activities:
        for outcome, words in OUTCOME_WORDS.items():
            row = s.loc[f"share_{outcome}"]
            rows.append((f"ending in {words}" if outcome != "walk_away" else "walking away",
                         f"{100 * row.actual:.1f}%", f"{100 * row['mean']:.1f}%",
                         f"{100 * row.band_low:.1f} to {100 * row.band_high:.1f}%"))
    cycle = s.loc["cycle_time_q50_hours"]
    rows.append(("median time, first step to last", duration(cycle.actual),
                 duration(cycle["mean"]),
                 f"{duration(cycle.band_low)} to {duration(cycle.band_high)}"))
    return rows


def journey_html(found: Discovery, result: Check | None = None, planned: int = 0) -> str:
    """What was discovered, led by its check's headline once runs are in: the bottom line in
    words and the table, from *result*'s runs of *planned* (a first look while fewer)."""
    lead = rows = None
    runs = 0
    if result is not None:
        lead = check_sentences(result, bool(found.outcome_activities), found.service_time)[0]
        rows, runs = _headline_rows(result, found), result.facts["replications"]
    return render("journey_check.html.j2", lead=lead, rows=rows, head=_HEAD, runs=runs,
                  planned=max(planned, runs), discovered=_discovered(found))
