"""A cohort: the day each client joins a firm, instead of a starting split.

A firm calibrated to its own transaction log starts from its own clients,
each arriving on the day of its first purchase (``cxsim-calibrate`` writes
that file). ``market.cohort`` names a CSV or Parquet file with one row per
client — ``acquired_day`` (days from the run's start) and, when the scenario
has several firms, ``firm``; optionally ``segment`` — or is the list of days
itself (the Python API). Row *i* is client *i*; nobody else is in the market.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxsim.config import DAYS_PER_YEAR, Config
from cxsim.errors import ConfigError

__all__ = ["Arrivals", "Cohort", "load_cohort"]

KEY = "market.cohort"


@dataclass(frozen=True)
class Cohort:
    """Per client (row order): the day it joins, the number of its firm and, if the file
    says, of its segment."""

    day: np.ndarray
    firm: np.ndarray
    segment: np.ndarray | None = None


def _read(source: object) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, str]:
    """The days, firm names and segment names of a cohort file or list, and where to say
    they came from."""
    if isinstance(source, str | Path):
        import pandas as pd

        path = Path(source)
        where = f"{KEY} file {path.name}"
        if not path.is_file():
            raise ConfigError(KEY, "names no file", str(source))
        parquet = path.suffix.lower() in (".parquet", ".pq")
        try:
            table = pd.read_parquet(path) if parquet else pd.read_csv(path)
            # read_csv renames a repeated column ('acquired_day.1'): its header row as written
            header = (list(table.columns) if parquet else
                      pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0].tolist())
        except Exception as exc:  # pandas and pyarrow raise many types
            raise ConfigError(where, f"cannot be read: {str(exc).splitlines()[0]}") from None
        repeated = [name for i, name in enumerate(header)
                    if isinstance(name, str) and name in header[:i]]
        if repeated:
            raise ConfigError(where, "must name each column once (which of two would count?)",
                              str(repeated[0]))
        if "acquired_day" not in table.columns:
            raise ConfigError(where, "has no column 'acquired_day' (columns: "
                              f"{', '.join(map(str, table.columns))})")
        days = pd.to_numeric(table["acquired_day"], errors="coerce").to_numpy(float)
        firms, segments = (table[name].astype(str).to_numpy() if name in table.columns
                           else None for name in ("firm", "segment"))
        return days, firms, segments, where
    if isinstance(source, list | tuple) and all(
            isinstance(d, int | float) and not isinstance(d, bool) for d in source):
        return np.asarray(source, dtype=float), None, None, KEY
    raise ConfigError(KEY, "must be a file path or a list of days", source)


def load_cohort(cfg: Config) -> Cohort | None:
    """The validated cohort of *cfg*, or None when it has none.

    Raises :class:`ConfigError` naming the key, file or row and the rule: one
    row per client (``market.size``), days finite and within the horizon, firms
    and segments the scenario's, and no starting split beside it.
    """
    source = cfg.market.cohort
    if source is None:
        return None
    days, firms, segments, where = _read(source)
    if days.size != cfg.market.size:
        raise ConfigError(where, f"must have one row per client (market.size = "
                          f"{cfg.market.size})", days.size)
    horizon = cfg.sim.years * DAYS_PER_YEAR
    bad = np.flatnonzero(~np.isfinite(days) | (days < 0) | (days >= horizon))
    if bad.size:
        raise ConfigError(f"{where} row {bad[0] + 1}", f"acquired_day must be a number of days "
                          f"in [0, {horizon:g}) (the horizon)", days[bad[0]].item())
    for name, firm in cfg.firms.items():
        if firm.initial_share != 0:
            raise ConfigError(f"firms.{name}.initial_share", f"must be 0 with {KEY} (the "
                              "cohort says when each client joins)", firm.initial_share)
    if firms is None and len(cfg.firms) > 1:
        raise ConfigError(where, f"needs a 'firm' column: the scenario has {len(cfg.firms)} "
                          "firms")
    firm = (np.zeros(days.size, dtype=np.int64) if firms is None
            else _numbers(firms, list(cfg.firms), where, "firm"))
    segment = (None if segments is None
               else _numbers(segments, list(cfg.market.segments), where, "segment"))
    return Cohort(days, firm, segment)


def _numbers(names: np.ndarray, known: list[str], where: str, column: str) -> np.ndarray:
    """The position of each name in *known*; ConfigError naming the first row that has none."""
    unknown = np.flatnonzero(~np.isin(names, known))
    if unknown.size:
        raise ConfigError(f"{where} row {unknown[0] + 1}", f"{column} must be one of "
                          f"{', '.join(known)}", names[unknown[0]])
    number = {name: i for i, name in enumerate(known)}
    return np.array([number[name] for name in names], dtype=np.int64)


class Arrivals:
    """Every replication's cohort clients waiting for their days, by day (a day's clients in
    client order); *first_firm* is each client's replication's first firm number."""

    def __init__(self, cohort: Cohort, first_firm: np.ndarray) -> None:
        n = first_firm.size // cohort.day.size
        day = np.tile(cohort.day, n)
        client = np.arange(first_firm.size)
        firm = np.tile(cohort.firm, n) + first_firm
        order = np.argsort(day, kind="stable")
        self.day, self.client, self.firm = day[order], client[order], firm[order]

    def until(self, end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The clients (client, firm, day) whose day comes before *end*, taken off the list."""
        k = int(np.searchsorted(self.day, end, side="left"))
        if not k:
            return None
        due = self.client[:k], self.firm[:k], self.day[:k]
        self.day, self.client, self.firm = self.day[k:], self.client[k:], self.firm[k:]
        return due
