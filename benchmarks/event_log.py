"""A synthetic event log for the discovery benchmark: about a million events, as Parquet.

Loan-like cases start uniformly over 180 days from 2020-01-01: an application
(``apply``), one or more staffed calls (``call``: SCHEDULE, START, COMPLETE; geometric,
two on average), a staffed review (START, COMPLETE) and an outcome (``approve``,
``decline`` or ``cancel``), about ten events a case. Gaps between events are exponential
(an hour to scheduling, two to the start, ten minutes of call, four hours to the review,
twenty minutes of review, a day to the outcome); staff are 20 people, the same one starting
and completing a piece of work. Written for ``benchmarks/run.py``'s table 13: the size is
what matters, not the process.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SPLIT = "2020-05-01"  # day 121 of 180: two thirds of the cases before it


def write_log(path: Path, cases: int = 100_000, seed: int = 0) -> int:
    """Write the log of *cases* cases to *path*; return its number of events."""
    rng = np.random.default_rng(seed)
    calls = rng.geometric(0.5, cases)
    counts = 3 * calls + 4
    case = np.repeat(np.arange(cases), counts)
    first = np.cumsum(counts) - counts
    position = np.arange(case.size) - np.repeat(first, counts)
    last = np.repeat(counts, counts) - 1
    in_call = (position >= 1) & (position < last - 2)
    step = np.select([position == 0, in_call, position == last - 2, position == last - 1],
                     [0, 1 + (position - 1) % 3, 4, 5], 6)
    activity = np.array(["apply", "call", "call", "call", "review", "review", "outcome"],
                        dtype=object)[step]
    outcome = rng.choice(np.array(["approve", "decline", "cancel"], dtype=object), cases,
                         p=[0.4, 0.35, 0.25])
    activity[step == 6] = outcome
    lifecycle = np.array(["complete", "schedule", "start", "complete", "start", "complete",
                          "complete"], dtype=object)[step]
    hours = np.array([0.0, 1.0, 2.0, 1 / 6, 4.0, 1 / 3, 24.0])[step]
    gaps = rng.exponential(1.0, case.size) * hours
    start = rng.uniform(0, 180 * 24, cases)  # hours
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[first], counts)
    stamp = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(
        np.repeat(start, counts) + elapsed, unit="h")
    staff = rng.integers(0, 20, case.size)
    completes_work = np.isin(step, (3, 5))
    staff[completes_work] = staff[np.flatnonzero(completes_work) - 1]
    worked = np.isin(step, (2, 3, 5)) | (step == 4)
    resource = np.where(worked, np.char.add("staff", staff.astype(str)), "system")
    pd.DataFrame({"case": np.char.add("c", case.astype(str)), "activity": activity,
                  "timestamp": stamp, "lifecycle": lifecycle,
                  "resource": resource}).to_parquet(path, index=False)
    return int(case.size)
