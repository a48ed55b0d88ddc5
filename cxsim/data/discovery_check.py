"""The check of a discovered journey on the log's later cases: simulated, then compared.

A journey discovered from the cases before a split (:mod:`cxsim.data.discovery`) is only as
good as what it predicts for cases it has not seen. :func:`check` runs it on the later
period's arrivals (the cohort: every later case's start, as one-off clients), with
``sim.record_visits``, *replications* times side by side, the simulation cut at the log's
last event, and compares each replication's visits with the actual later cases, measure
by measure, as process-simulation models are judged (Chapela-Campa, Benchekroun, Baron,
Dumas et al. 2023, "Can I trust my simulation model? Measuring the quality of business
process simulation models", BPM; Camargo, Dumas & González-Rojas 2020, SIMOD):

- **outcome shares** (purchase, no purchase, walk-away) among the cases that ended;
- **n-gram distance** of activity sequences, n = 2 and 3: each case's activities, padded
  with n - 1 start and end marks, cut into n-grams; the distance is the sum of the
  absolute differences of the two logs' n-gram counts over the sum of both counts (0 when
  alike, 1 when no n-gram is shared), as ``log-distance-measures``'
  ``n_gram_distribution_distance`` defines it;
- **activities per case**: the mean number of activity instances a case has, and each
  activity's count per case (in ``activities.csv``);
- **cycle time**, from a case's first activity's start to its last one's end, in hours:
  the earth mover's distance (Wasserstein-1) between the two distributions, undiscretised,
  and the 10, 50 and 90% quantiles;
- **waits before staffed work**: the hours from a case's previous event to the start of
  each staffed visit (in the log: from the SCHEDULE of the work item, or the COMPLETE of
  the step before, to its START; simulated: from the end of the visit before, so the edge's
  delay plus the queue at the touchpoint), their mean and 50 and 90% quantiles over all
  staffed visits, and per touchpoint in ``fit_waits.csv`` beside the simulated queue alone;
  the journey puts the log's SCHEDULE -> START wait in its edges' delays, so only the sum
  can be compared;
- **cases in progress**: each day from the split to the cut, the number of cases begun and
  not yet ended (of the cases that ended by the cut, on both sides), its mean over the days,
  and the day-by-day series in ``fit_in_progress.csv``.

A log without lifecycle (one timestamp per event) shows no service time and no staff, so it
has no waits before staffed work: those measures are NaN (``null`` in ``fit.json``) and
``facts["service_times_observed"]`` is false. A log holding no outcome activity has every
case completed on both sides: the shares are 100% and ``facts["outcomes_observed"]`` is
false, so they say nothing of the fit.

Censored cases are left out on both sides: an actual case with no outcome activity by the
log's end, like a simulated walk not ended by the cut (which the run does not record).
The discovered journey's own touchpoints stand for the log's activities; its virtual
ones (the ``arrival`` of a log whose cases start differently, the exits) are not
activities and are dropped from the simulated sequences.

Each measure is given as the actual value (where one exists), the mean over replications
with its 95% Student-t interval, and the 95% band of the replications (2.5 and 97.5%
quantiles): a good fit holds the actual inside the band.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from cxsim.data.discovery import (
    DAY_NS,
    EXITS,
    Discovery,
    case_outcomes,
    case_visits,
    run_overrides,
)
from cxsim.errors import ConfigError

__all__ = ["CASE_OUTCOMES", "Check", "Plan", "Replication", "check", "compared", "in_progress",
           "later_cases", "later_period_days", "ngram_distance", "plan", "replicate",
           "simulated_cases"]

CASE_OUTCOMES = ("purchase", "no_purchase", "walk_away")
"""The outcomes whose shares are compared (``completed`` in a log without outcomes reads
as a purchase: the journey's ``end`` exit is one)."""

_VIRTUAL = frozenset({"arrival", *EXITS.values()})


@dataclass(frozen=True)
class Cases:
    """Ended cases as the measures read them: one row per activity instance, in order."""

    case: np.ndarray  # per instance, the case (0, 1, ... in order of first instance)
    activity: np.ndarray  # per instance, the activity's name
    outcome: pd.Series  # per case, its outcome
    cycle_hours: np.ndarray  # per case
    began: np.ndarray | None = None  # per case, days from the split to its first start
    ended: np.ndarray | None = None  # per case, days from the split to its last end
    waits: pd.DataFrame | None = None  # per staffed visit: activity, gap_hours, queue_hours


def _cases(case: np.ndarray, activity: np.ndarray, start: np.ndarray, end: np.ndarray,
           outcome: pd.Series, waits: pd.DataFrame | None = None) -> Cases:
    """Instances ordered by case then start (cases numbered in order), cycle times; *start*
    and *end* in days from the split."""
    codes, number = np.unique(case, return_inverse=True)
    order = np.lexsort((start, number))
    number, activity, start, end = number[order], activity[order], start[order], end[order]
    first = np.flatnonzero(np.r_[True, number[1:] != number[:-1]])
    began = np.minimum.reduceat(start, first) if first.size else np.empty(0)
    ended = np.maximum.reduceat(end, first) if first.size else np.empty(0)
    return Cases(number, activity, pd.Series(outcome.reindex(codes).to_numpy()),
                 (ended - began) * 24.0, began, ended, waits)


def _actual_waits(events: pd.DataFrame, staffed: frozenset[str]) -> pd.DataFrame:
    """Per START of a staffed activity that is not its case's first event: the hours since
    the case's event before it (the work item's SCHEDULE, or the step before's COMPLETE)."""
    from cxsim.data.discovery import _ns

    ordered = events.assign(row=np.arange(len(events))).sort_values(
        ["case", "timestamp", "row"], kind="stable")
    stamp = _ns(ordered.timestamp)
    case = ordered.case.to_numpy()
    after = np.zeros(len(ordered), bool)
    after[1:] = case[1:] == case[:-1]
    at = np.flatnonzero(after & (ordered.lifecycle.to_numpy() == "start")
                        & ordered.activity.isin(staffed).to_numpy())
    return pd.DataFrame({"activity": ordered.activity.to_numpy()[at],
                         "gap_hours": (stamp[at] - stamp[at - 1]) / DAY_NS * 24.0,
                         "queue_hours": np.nan})


def later_cases(events: pd.DataFrame, found: Discovery, split: pd.Timestamp) -> Cases:
    """The actual cases that start on or after *split* and have an outcome by the log's end
    (every case when the log holds no outcome activity)."""
    start = events.groupby("case", sort=False).timestamp.min()
    late = events[events.case.isin(start.index[start >= split])]
    kinds = found.outcome_activities
    outcome = case_outcomes(
        late, **{k: [a for a, v in kinds.items() if v == k] for k in CASE_OUTCOMES}) \
        if kinds else pd.Series("purchase", index=pd.Index(late.case.unique()))
    outcome = outcome.replace({"completed": "purchase"})
    ended = outcome.index[outcome != "censored"]
    done = late[late.case.isin(ended)]
    visits = case_visits(done, found.staffed_activities)
    origin = pd.Timestamp(split).value  # UTC nanoseconds
    return _cases(visits.case.to_numpy(), visits.activity.to_numpy(),
                  (visits.start.to_numpy() - origin) / DAY_NS,
                  (visits.end.to_numpy() - origin) / DAY_NS,
                  outcome[outcome != "censored"],
                  _actual_waits(done, found.staffed_activities))


def simulated_cases(visits: pd.DataFrame, found: Discovery) -> Cases:
    """One replication's ``Results.visits`` as cases of the log's activities."""
    touchpoint = visits.touchpoint.astype(str).to_numpy()
    real = ~np.isin(touchpoint, sorted(_VIRTUAL - set(found.activity_names)))
    names = pd.Series(found.activity_names)
    outcome = visits.groupby("case", sort=True).outcome.first().astype(str)
    case, start, end = (visits[c].to_numpy() for c in ("case", "start", "end"))
    after = np.zeros(case.size, bool)
    after[1:] = case[1:] == case[:-1]  # the visits of a case in the order made
    at = np.flatnonzero(after & np.isin(touchpoint, list(found.staffed)))
    waits = pd.DataFrame({"activity": names.reindex(touchpoint[at]).to_numpy(),
                          "gap_hours": (start[at] - end[at - 1]) * 24.0,
                          "queue_hours": visits.wait.to_numpy()[at] * 24.0})
    return _cases(case[real], names.reindex(touchpoint[real]).to_numpy(), start[real],
                  end[real], outcome, waits)


def in_progress(cases: Cases, days: np.ndarray) -> np.ndarray:
    """The cases begun and not yet ended at each of *days* (days from the split)."""
    began, ended = np.sort(cases.began), np.sort(cases.ended)
    return (np.searchsorted(began, days, side="right")
            - np.searchsorted(ended, days, side="right")).astype(float)


def _ngrams(cases: Cases, n: int, labels: dict[str, int]) -> pd.Series:
    """Counts of the n-grams of the cases' activity sequences, padded with n - 1 start and
    end marks (0), each n-gram one integer (base: the number of labels + 1)."""
    base = len(labels) + 1
    codes = np.array([labels[a] for a in cases.activity], dtype=np.int64) if cases.activity.size \
        else np.empty(0, np.int64)
    lengths = np.bincount(cases.case, minlength=cases.outcome.size)
    padded_length = lengths + 2 * (n - 1)
    total = int(padded_length.sum())
    padded = np.zeros(total, np.int64)
    offsets = np.zeros(lengths.size, np.int64)
    np.cumsum(padded_length[:-1], out=offsets[1:])
    padded[np.repeat(offsets + n - 1, lengths) + np.arange(codes.size)
           - np.repeat(np.cumsum(lengths) - lengths, lengths)] = codes
    windows = padded_length - n + 1
    starts = np.repeat(offsets, windows) + np.arange(int(windows.sum())) - np.repeat(
        np.cumsum(windows) - windows, windows)
    keys = np.zeros(starts.size, np.int64)
    for k in range(n):
        keys = keys * base + padded[starts + k]
    values, counts = np.unique(keys, return_counts=True)
    return pd.Series(counts, index=values)


def ngram_distance(a: Cases, b: Cases, n: int) -> float:
    """Sum of the absolute differences of the n-gram counts over the sum of both counts."""
    labels = {x: i + 1 for i, x in enumerate(sorted(set(a.activity) | set(b.activity)))}
    ca, cb = _ngrams(a, n, labels), _ngrams(b, n, labels)
    both = ca.index.union(cb.index)
    ca, cb = ca.reindex(both, fill_value=0), cb.reindex(both, fill_value=0)
    total = ca.sum() + cb.sum()
    return float(np.abs(ca - cb).sum() / total) if total else 0.0


def _measures(actual: Cases, sim: Cases) -> dict[str, float]:
    """One replication's figures, and its distances to the actual cases."""
    out: dict[str, float] = {}
    shares = sim.outcome.value_counts(normalize=True)
    for outcome in CASE_OUTCOMES:
        out[f"share_{outcome}"] = float(shares.get(outcome, 0.0))
    out["ngram_2_distance"] = ngram_distance(actual, sim, 2)
    out["ngram_3_distance"] = ngram_distance(actual, sim, 3)
    out["activities_per_case"] = sim.activity.size / max(sim.outcome.size, 1)
    out["cycle_time_emd_hours"] = float(wasserstein_distance(actual.cycle_hours,
                                                             sim.cycle_hours)) \
        if sim.cycle_hours.size and actual.cycle_hours.size else float("nan")
    for q in (10, 50, 90):
        out[f"cycle_time_q{q}_hours"] = float(np.percentile(sim.cycle_hours, q)) \
            if sim.cycle_hours.size else float("nan")
    out.update(_wait_figures(sim))
    out["in_progress_mean"] = float(in_progress(sim, _days(actual)).mean())
    out["cases"] = float(sim.outcome.size)
    return out


def _days(actual: Cases) -> np.ndarray:
    """The days the cases in progress are counted on: each whole day from the split to the
    last actual case's end."""
    return np.arange(0.0, float(np.floor(actual.ended.max())) + 1.0) if actual.ended.size \
        else np.zeros(1)


def _wait_figures(cases: Cases) -> dict[str, float]:
    gaps = cases.waits.gap_hours.to_numpy()
    if not gaps.size:
        return {"wait_mean_hours": float("nan"), "wait_q50_hours": float("nan"),
                "wait_q90_hours": float("nan")}
    return {"wait_mean_hours": float(gaps.mean()),
            "wait_q50_hours": float(np.percentile(gaps, 50)),
            "wait_q90_hours": float(np.percentile(gaps, 90))}


def _actual(actual: Cases) -> dict[str, float]:
    shares = actual.outcome.value_counts(normalize=True)
    out = {f"share_{o}": float(shares.get(o, 0.0)) for o in CASE_OUTCOMES}
    out.update(ngram_2_distance=0.0, ngram_3_distance=0.0,
               activities_per_case=actual.activity.size / max(actual.outcome.size, 1),
               cycle_time_emd_hours=0.0)
    for q in (10, 50, 90):
        out[f"cycle_time_q{q}_hours"] = float(np.percentile(actual.cycle_hours, q))
    out.update(_wait_figures(actual))
    out["in_progress_mean"] = float(in_progress(actual, _days(actual)).mean())
    out["cases"] = float(actual.outcome.size)
    return out


def _activity_counts(cases: Cases) -> pd.Series:
    return pd.Series(cases.activity).value_counts() / max(cases.outcome.size, 1)


@dataclass(frozen=True)
class Check:
    """The check's tables: per measure (``summary``), per replication, per activity, per
    staffed touchpoint (``waits``) and per day (``in_progress``)."""

    summary: pd.DataFrame
    replications: pd.DataFrame
    activities: pd.DataFrame
    facts: dict
    waits: pd.DataFrame | None = None
    in_progress: pd.DataFrame | None = None

    def write(self, folder: Path | str) -> list[Path]:
        """``fit.json`` and the CSVs in *folder*; their paths (no ``fit_waits.csv`` when no
        staffed work was measured: a log without lifecycle has none)."""
        from cxsim.files import write_text

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        fit = {**self.facts, "measures": {
            row.measure: {k: (None if isinstance(v, float) and np.isnan(v) else v)
                          for k, v in row._asdict().items() if k not in ("Index", "measure")}
            for row in self.summary.itertuples()}}
        return [write_text(folder / "fit.json", json.dumps(fit, indent=2) + "\n"),
                write_text(folder / "fit_summary.csv", self.summary.to_csv(index=False)),
                write_text(folder / "fit_replications.csv",
                           self.replications.to_csv(index=False)),
                write_text(folder / "fit_activities.csv", self.activities.to_csv(index=False)),
                *(write_text(folder / f"fit_{name}.csv", frame.to_csv(index=False))
                  for name, frame in (("waits", self.waits), ("in_progress", self.in_progress))
                  if frame is not None and len(frame))]


def _band(values: np.ndarray) -> dict[str, float]:
    from cxsim.simulation.results import mean_ci

    mean, low, high = mean_ci(values)
    return {"mean": mean, "ci_low": low, "ci_high": high,
            "band_low": float(np.percentile(values, 2.5)),
            "band_high": float(np.percentile(values, 97.5))}


def later_period_days(events: pd.DataFrame, split: str | pd.Timestamp) -> float:
    """Days from *split* to the log's last event: the check's horizon.

    Raises
    ------
    ConfigError
        If it is shorter than 31 days (a run's shortest horizon is a month).
    """
    from cxsim.data.discovery import _timestamp

    cut_days = (events.timestamp.max() - _timestamp(split)).total_seconds() / 86_400.0
    if cut_days < 31:
        raise ConfigError("--check", "needs a later period of at least 31 days (a run's "
                          "shortest horizon is a month)", f"{cut_days:.1f} days")
    return cut_days


@dataclass(frozen=True)
class Plan:
    """What every replication of a check shares: the run's config (the journey on the later
    cases' arrivals, cut at the log's last event) and the actual later cases."""

    cfg: object  # cxsim.config.Config
    actual: Cases
    split: pd.Timestamp
    cut_days: float


@dataclass(frozen=True)
class Replication:
    """One replication's part of a check, all the tables read of it: its measures, its
    activities per case, its cases in progress each day, and its mean wait (and queue)
    before each staffed activity."""

    number: int
    measures: dict[str, float]
    activities: pd.Series
    in_progress: np.ndarray
    waits: dict[str, tuple[float, float]]


def plan(events: pd.DataFrame, found: Discovery, split: str | pd.Timestamp,
         journey: Path | str, cohort: Path | str) -> Plan:
    """The check's :class:`Plan` for *journey* (written from *found*) on *cohort*.

    Raises
    ------
    ConfigError
        If the later period is shorter than a month (the shortest horizon a run takes).
    """
    from cxsim.config import DAYS_PER_YEAR, compose, to_config
    from cxsim.data.discovery import _timestamp

    split_at = _timestamp(split)
    cut_days = later_period_days(events, split_at)
    overrides = [o for o in run_overrides(found, journey, cohort) if not o.startswith("sim.")]
    overrides += [f"sim.years={cut_days / DAYS_PER_YEAR!r}", "sim.record_visits=true"]
    return Plan(to_config(compose(overrides)), later_cases(events, found, split_at), split_at,
                cut_days)


def replicate(planned: Plan, found: Discovery, numbers: list[int] | range
              ) -> list[Replication]:
    """Replications *numbers* of the *planned* check, run side by side and read: each the
    same whatever others run with it (keyed draws), so a check may be run in parts, in any
    process."""
    from cxsim.simulation.experiment import simulated

    days = _days(planned.actual)
    out = []
    for number, run in zip(numbers, simulated(planned.cfg, numbers), strict=True):
        sim = simulated_cases(run.visits, found)
        w = sim.waits
        out.append(Replication(
            number, _measures(planned.actual, sim), _activity_counts(sim),
            in_progress(sim, days),
            {name: (float(w.gap_hours[w.activity == name].mean()),
                    float(w.queue_hours[w.activity == name].mean()))
             for name in w.activity.unique()}))
    return out


def check(events: pd.DataFrame, found: Discovery, split: str | pd.Timestamp,
          journey: Path | str, cohort: Path | str, replications: int = 20) -> Check:
    """Simulate *journey* (written from *found*) on *cohort*, the later cases' arrivals, cut
    at the log's last event, *replications* times, and compare with the later cases.

    Parameters
    ----------
    events
        The log (:func:`cxsim.data.eventlog.read_event_log`), as discovered.
    found
        Its discovery with the same *split*.
    split
        The split date of the discovery.
    journey, cohort
        The files :func:`cxsim.discover_cli.write` wrote from *found*.
    replications
        Runs side by side, each its own keyed draws.

    Returns
    -------
    Check

    Raises
    ------
    ConfigError
        If *replications* is below 2 or the later period is shorter than a month (the
        shortest horizon a run takes).
    """
    if not isinstance(replications, int) or not 2 <= replications <= 1000:
        raise ConfigError("-n", "must be an integer in [2, 1,000] (a band needs two runs)",
                          replications)
    planned = plan(events, found, split, journey, cohort)
    return compared(planned, found, replicate(planned, found, range(replications)))


def compared(planned: Plan, found: Discovery, runs: list[Replication]) -> Check:
    """The check's tables from *runs* (two or more, in any order): a whole check when they
    are all its replications, a first look when they are some."""
    runs = sorted(runs, key=lambda r: r.number)
    actual = planned.actual
    rows = pd.DataFrame([{"replication": r.number, **r.measures} for r in runs])
    truth = _actual(actual)
    unmeasured = () if found.outcome_activities else ("share_",)  # 100% completed, both sides
    summary = pd.DataFrame([
        {"measure": m, "actual": truth[m], **_band(rows[m].to_numpy()),
         "actual_in_band": bool(rows[m].quantile(0.025) <= truth[m] <= rows[m].quantile(0.975))
         if not m.endswith(("distance", "emd_hours")) and not m.startswith(unmeasured)
         and np.isfinite(truth[m]) else None}
        for m in rows.columns if m != "replication"])
    counts = pd.DataFrame({i: r.activities for i, r in enumerate(runs)}).fillna(0.0)
    real = _activity_counts(actual)
    index = real.index.union(counts.index)
    counts = counts.reindex(index, fill_value=0.0)
    activities = pd.DataFrame({
        "activity": index, "actual_per_case": real.reindex(index, fill_value=0.0).to_numpy(),
        **{k: [_band(counts.loc[a].to_numpy())[k] for a in index]
           for k in ("mean", "ci_low", "ci_high", "band_low", "band_high")}})
    facts = {"split": f"{planned.split:%Y-%m-%d %H:%M} UTC", "cut_days": planned.cut_days,
             "replications": len(runs), "later_cases_ended": int(actual.outcome.size),
             "cohort": int(len(found.cohort)),
             "censored": "left out on both sides: actual cases without an outcome by the "
                         "log's end, simulated walks not ended by the cut",
             "measures_defined_in": "cxsim.data.discovery_check",
             "outcomes_observed": bool(found.outcome_activities),
             "service_times_observed": bool(found.service_time)}
    return Check(summary, rows, activities, facts, _waits_table(actual, runs),
                 _in_progress_table(actual, runs))


def _waits_table(actual: Cases, runs: list[Replication]) -> pd.DataFrame:
    """Per staffed activity: the actual visits and mean hours before them, the simulated
    mean (its interval and band over replications) and the simulated queue alone."""
    names = sorted(set(actual.waits.activity).union(*(set(r.waits) for r in runs)))
    real = actual.waits.groupby("activity").gap_hours
    none = (float("nan"), float("nan"))
    rows = []
    for name in names:
        means = np.array([r.waits.get(name, none)[0] for r in runs])
        queues = np.array([r.waits.get(name, none)[1] for r in runs])
        means = means[~np.isnan(means)]
        band = _band(means) if means.size >= 2 else dict.fromkeys(
            ("mean", "ci_low", "ci_high", "band_low", "band_high"), float("nan"))
        rows.append({"activity": name,
                     "actual_visits": int(real.size().get(name, 0)),
                     "actual_mean_hours": float(real.mean().get(name, float("nan"))), **band,
                     "queue_mean_hours": float(np.nanmean(queues)) if np.isfinite(
                         queues).any() else float("nan")})
    return pd.DataFrame(rows, columns=["activity", "actual_visits", "actual_mean_hours",
                                       "mean", "ci_low", "ci_high", "band_low", "band_high",
                                       "queue_mean_hours"])


def _in_progress_table(actual: Cases, runs: list[Replication]) -> pd.DataFrame:
    """Per day from the split: the actual cases in progress, and the simulated mean and 95%
    band over replications."""
    days = _days(actual)
    counts = np.array([r.in_progress for r in runs])
    return pd.DataFrame({"day": days, "actual": in_progress(actual, days),
                         "mean": counts.mean(axis=0),
                         "band_low": np.percentile(counts, 2.5, axis=0),
                         "band_high": np.percentile(counts, 97.5, axis=0)})
