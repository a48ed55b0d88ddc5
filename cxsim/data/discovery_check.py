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
  and the 10, 50 and 90% quantiles.

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

from cxsim.data.discovery import DAY_NS, EXITS, Discovery, case_outcomes, case_visits
from cxsim.errors import ConfigError

__all__ = ["CASE_OUTCOMES", "Check", "check", "later_cases", "later_period_days",
           "ngram_distance", "simulated_cases"]

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


def _cases(case: np.ndarray, activity: np.ndarray, start: np.ndarray, end: np.ndarray,
           outcome: pd.Series) -> Cases:
    """Instances ordered by case then start (cases numbered in order), cycle times."""
    codes, number = np.unique(case, return_inverse=True)
    order = np.lexsort((start, number))
    number, activity, start, end = number[order], activity[order], start[order], end[order]
    first = np.flatnonzero(np.r_[True, number[1:] != number[:-1]])
    began = np.minimum.reduceat(start, first) if first.size else np.empty(0)
    ended = np.maximum.reduceat(end, first) if first.size else np.empty(0)
    return Cases(number, activity, pd.Series(outcome.reindex(codes).to_numpy()),
                 (ended - began) * 24.0)


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
    visits = case_visits(late[late.case.isin(ended)], found.staffed_activities)
    return _cases(visits.case.to_numpy(), visits.activity.to_numpy(),
                  visits.start.to_numpy() / DAY_NS, visits.end.to_numpy() / DAY_NS,
                  outcome[outcome != "censored"])


def simulated_cases(visits: pd.DataFrame, found: Discovery) -> Cases:
    """One replication's ``Results.visits`` as cases of the log's activities."""
    touchpoint = visits.touchpoint.astype(str).to_numpy()
    real = ~np.isin(touchpoint, sorted(_VIRTUAL - set(found.activity_names)))
    names = pd.Series(found.activity_names)
    outcome = visits.groupby("case", sort=True).outcome.first().astype(str)
    return _cases(visits.case.to_numpy()[real],
                  names.reindex(touchpoint[real]).to_numpy(),
                  visits.start.to_numpy()[real], visits.end.to_numpy()[real], outcome)


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
    out["cases"] = float(sim.outcome.size)
    return out


def _actual(actual: Cases) -> dict[str, float]:
    shares = actual.outcome.value_counts(normalize=True)
    out = {f"share_{o}": float(shares.get(o, 0.0)) for o in CASE_OUTCOMES}
    out.update(ngram_2_distance=0.0, ngram_3_distance=0.0,
               activities_per_case=actual.activity.size / max(actual.outcome.size, 1),
               cycle_time_emd_hours=0.0)
    for q in (10, 50, 90):
        out[f"cycle_time_q{q}_hours"] = float(np.percentile(actual.cycle_hours, q))
    out["cases"] = float(actual.outcome.size)
    return out


def _activity_counts(cases: Cases) -> pd.Series:
    return pd.Series(cases.activity).value_counts() / max(cases.outcome.size, 1)


@dataclass(frozen=True)
class Check:
    """The check's tables: per measure (``summary``), per replication, per activity."""

    summary: pd.DataFrame
    replications: pd.DataFrame
    activities: pd.DataFrame
    facts: dict

    def write(self, folder: Path | str) -> list[Path]:
        """``fit.json`` and the three CSVs in *folder*; their paths."""
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
                write_text(folder / "fit_activities.csv", self.activities.to_csv(index=False))]


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
    import cxsim
    from cxsim.config import DAYS_PER_YEAR, to_config
    from cxsim.data.discovery import _timestamp
    from cxsim.discover_cli import run_overrides
    from cxsim.simulation.experiment import simulated

    if not isinstance(replications, int) or not 2 <= replications <= 1000:
        raise ConfigError("-n", "must be an integer in [2, 1,000] (a band needs two runs)",
                          replications)
    split_at = _timestamp(split)
    cut_days = later_period_days(events, split_at)
    overrides = [o for o in run_overrides(found, journey, cohort) if not o.startswith("sim.")]
    overrides += [f"sim.years={cut_days / DAYS_PER_YEAR!r}", "sim.record_visits=true"]
    runs = list(simulated(to_config(cxsim.compose(overrides)), replications))
    actual = later_cases(events, found, split_at)
    sims = [simulated_cases(run.visits, found) for run in runs]
    rows = pd.DataFrame([{"replication": i, **_measures(actual, sim)}
                         for i, sim in enumerate(sims)])
    truth = _actual(actual)
    summary = pd.DataFrame([
        {"measure": m, "actual": truth[m], **_band(rows[m].to_numpy()),
         "actual_in_band": bool(rows[m].quantile(0.025) <= truth[m] <= rows[m].quantile(0.975))
         if not m.endswith("distance") and not m.endswith("emd_hours") else None}
        for m in rows.columns if m != "replication"])
    counts = pd.DataFrame({i: _activity_counts(sim) for i, sim in enumerate(sims)}).fillna(0.0)
    real = _activity_counts(actual)
    index = real.index.union(counts.index)
    counts = counts.reindex(index, fill_value=0.0)
    activities = pd.DataFrame({
        "activity": index, "actual_per_case": real.reindex(index, fill_value=0.0).to_numpy(),
        **{k: [_band(counts.loc[a].to_numpy())[k] for a in index]
           for k in ("mean", "ci_low", "ci_high", "band_low", "band_high")}})
    facts = {"split": f"{split_at:%Y-%m-%d %H:%M} UTC", "cut_days": cut_days,
             "replications": replications, "later_cases_ended": int(actual.outcome.size),
             "cohort": int(len(found.cohort)),
             "censored": "left out on both sides: actual cases without an outcome by the "
                         "log's end, simulated walks not ended by the cut",
             "measures_defined_in": "cxsim.data.discovery_check"}
    return Check(summary, rows, activities, facts)
