"""The CDNOW sample of Fader & Hardie: 2,357 customers of CDNOW's first-quarter-1997
cohort, their purchases to the end of June 1998 (78 weeks).

It ships in the ``lifetimes`` distribution (the ``calibrate`` extra) and is read
from the distribution's files; that package's code is never imported.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import distribution
from pathlib import Path

import pandas as pd

CALIBRATION_END = pd.Timestamp("1997-09-30")  # the paper's 39 weeks, inclusive
FIRST_DAY = pd.Timestamp("1997-01-01")


def cdnow_path() -> Path:
    """The sample's file in the installed ``lifetimes`` distribution."""
    found = next(p for p in distribution("lifetimes").files if p.name == "CDNOW_sample.txt")
    return Path(found.locate())


@cache
def cdnow_log() -> pd.DataFrame:
    """One row per order: customer, date, amount (dollars)."""
    log = pd.read_csv(cdnow_path(), sep=r"\s+", header=None,
                      names=["master", "customer", "date", "cds", "amount"], dtype={"date": str})
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log[["customer", "date", "amount"]]
