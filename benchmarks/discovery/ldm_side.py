"""The measures of ``log-distance-measures`` on the benchmark's logs (side environment only).

Run by ``run.py`` with ``benchmarks/discovery/.venv/bin/python`` (pandas < 3, where
``log-distance-measures`` installs); never imported by cxsim. Reads a JSON job on stdin::

    {"original": "actual.csv", "simulated": {"cxsim_0": "cxsim_0.csv", ...}}

and prints one JSON object: per simulated log, its distances to the original log. Each log
is an activity-instance CSV (``case_id, activity, resource, start_time, end_time``).

- ``ngram_2_distance``, ``ngram_3_distance``: ``n_gram_distribution_distance`` (normalised);
- ``cycle_time_emd_hours``: ``cycle_time_distribution_distance`` with 1-microsecond bins
  (the CSVs' resolution, so the discretisation is exact), in hours: the undiscretised
  earth mover's distance cxsim computes;
- ``cycle_time_emd_hour_bins``: the same with 1-hour bins, as SIMOD reports it;
- ``absolute_event_emd_hours``, ``circadian_event_emd``, ``case_arrival_emd_hours``:
  measures cxsim does not compute, for the record (1-hour bins; the arrival one compares
  case starts, which cxsim takes from the actual later cases).
"""

from __future__ import annotations

import datetime
import json
import sys

import pandas as pd
from log_distance_measures.absolute_event_distribution import (
    absolute_event_distribution_distance,
)
from log_distance_measures.case_arrival_distribution import case_arrival_distribution_distance
from log_distance_measures.circadian_event_distribution import (
    circadian_event_distribution_distance,
)
from log_distance_measures.config import EventLogIDs
from log_distance_measures.cycle_time_distribution import cycle_time_distribution_distance
from log_distance_measures.n_gram_distribution import n_gram_distribution_distance

IDS = EventLogIDs(case="case_id", activity="activity", start_time="start_time",
                  end_time="end_time", resource="resource")
HOUR = datetime.timedelta(hours=1)
MICROSECOND = datetime.timedelta(microseconds=1)


def read(path: str) -> pd.DataFrame:
    log = pd.read_csv(path, dtype={"case_id": str})
    for column in ("start_time", "end_time"):
        log[column] = pd.to_datetime(log[column], utc=True, format="ISO8601")
    return log


def measures(original: pd.DataFrame, simulated: pd.DataFrame, extra: bool) -> dict:
    out = {
        "ngram_2_distance": n_gram_distribution_distance(original, IDS, simulated, IDS, n=2),
        "ngram_3_distance": n_gram_distribution_distance(original, IDS, simulated, IDS, n=3),
        "cycle_time_emd_hours": cycle_time_distribution_distance(
            original, IDS, simulated, IDS, bin_size=MICROSECOND) / 3.6e9,
        "cycle_time_emd_hour_bins": cycle_time_distribution_distance(
            original, IDS, simulated, IDS, bin_size=HOUR),
    }
    if extra:
        out["absolute_event_emd_hours"] = absolute_event_distribution_distance(
            original, IDS, simulated, IDS)
        out["circadian_event_emd"] = circadian_event_distribution_distance(
            original, IDS, simulated, IDS)
        out["case_arrival_emd_hours"] = case_arrival_distribution_distance(
            original, IDS, simulated, IDS)
    return {k: float(v) for k, v in out.items()}


def main() -> None:
    job = json.load(sys.stdin)
    original = read(job["original"])
    extra = bool(job.get("extra", True))
    result = {name: measures(original, read(path), extra)
              for name, path in job["simulated"].items()}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
