"""The stylised facts' measured effects, and the table of them in ``docs/model.md``.

Each test in ``tests/test_stylised_facts.py`` measures its claim and its
negative control and hands them to :func:`record`, which writes them to
``tests/.facts/<fact>.json`` and checks that ``docs/model.md`` shows exactly
those rows under that fact's name, so the table cannot drift from the tests;
once every fact of :data:`FACT_ORDER` is recorded in a session, the table
may hold no row of another name (a row nobody measured). ``make facts`` runs
the fact tests with ``CXSIM_REFRESH_FACTS=1`` (record, do not compare) and
then this script, which rewrites the table between its two markers.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from scipy.special import ndtri, stdtrit

from cxsim.files import write_text
from cxsim.simulation.results import mean_ci, ratio_ci

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "model.md"
STORE = Path(__file__).resolve().parent / ".facts"
BEGIN, END = "<!-- facts:begin -->", "<!-- facts:end -->"
HEADER = ("| fact | what emerges | from what | effect, 95% CI (pairs; pairs for 90% power) "
          "| negative control: what it removes | control's effect | verdict | checked |\n"
          "| --- | --- | --- | --- | --- | --- | --- | --- |")
ASSERTED, REPORTED = "asserted", "reported"
"""How a row's verdict is held: by the test's assertions, or measured and shown only.
A control that is 0 by construction says so: ``identity(reason)``."""


def identity(reason: str) -> str:
    """The *checked* cell of a row whose control is 0 by construction, with the reason."""
    return f"identity: {reason}"


def refreshing() -> bool:
    """``CXSIM_REFRESH_FACTS=1``, and only that value: record, do not compare."""
    return os.environ.get("CXSIM_REFRESH_FACTS") == "1"


@dataclass(frozen=True)
class Estimate:
    """A mean over paired replications with its 95% Student-t interval."""

    mean: float
    low: float
    high: float
    n: int
    sd: float

    @classmethod
    def of(cls, values: np.ndarray) -> Estimate:
        values = np.asarray(values, dtype=float)
        mean, low, high = mean_ci(values)
        return cls(mean, low, high, values.size, float(values.std(ddof=1)))

    @property
    def above_zero(self) -> bool:
        return self.low > 0

    @property
    def below_zero(self) -> bool:
        return self.high < 0

    @property
    def covers_zero(self) -> bool:
        return self.low <= 0 <= self.high

    def pairs_for_power(self, power: float = 0.9) -> int:
        """Pairs a two-sided 5% test needs to see this effect with *power*.

        ``((z_0.975 + z_power) sd / mean)^2``, the normal approximation of
        the paired t-test's sample size (Chow, Shao & Wang 2008, *Sample Size
        Calculations in Clinical Research*, 3.1); at least 2.
        """
        if self.mean == 0 or not math.isfinite(self.sd):
            return sys.maxsize
        z = ndtri(0.975) + ndtri(power)
        return max(2, math.ceil((z * self.sd / abs(self.mean)) ** 2))

    def text(self, digits: int = 1) -> str:
        return f"{self.mean:+.{digits}f} [{self.low:+.{digits}f}, {self.high:+.{digits}f}]"


def ratio(top: np.ndarray, bottom: np.ndarray) -> Estimate:
    """Ratio of two paired means with its delta-method 95% interval (``ratio_ci``)."""
    r, low, high = ratio_ci(top, bottom)
    half = (high - low) / 2
    n = np.asarray(top).size
    return Estimate(r, low, high, n, float(half / stdtrit(n - 1, 0.975) * math.sqrt(n)))


@dataclass(frozen=True)
class Row:
    """One claim of a fact, as the table shows it."""

    fact: str
    claim: str
    mechanism: str
    effect: str
    pairs: int
    pairs_for_power: int | None
    control: str
    control_effect: str
    verdict: str
    checked: str

    def markdown(self) -> str:
        power = "—" if self.pairs_for_power is None else str(self.pairs_for_power)
        return (f"| {self.fact} | {self.claim} | {self.mechanism} | {self.effect} "
                f"({self.pairs}; {power}) | {self.control} | {self.control_effect} "
                f"| {self.verdict} | {self.checked} |")


def record(name: str, rows: list[Row]) -> None:
    """Store a fact's rows; check ``docs/model.md`` shows exactly them (unless refreshing).

    The last fact of a session to be recorded also finds the table's rows
    under names no test records: each writes before it looks, so whichever
    looks last sees every record.
    """
    assert name in FACT_ORDER, f"{name!r} is not a fact of tests/facts.py's FACT_ORDER"
    assert all(row.fact == name for row in rows), f"every row of {name!r} names it as its fact"
    STORE.mkdir(exist_ok=True)
    write_text(STORE / f"{name}.json", json.dumps([asdict(row) for row in rows], indent=2))
    if refreshing():
        return
    table = table_lines(DOCS.read_text())
    shown = [line for line in table if fact_of(line) == name]
    measured = [row.markdown() for row in rows]
    assert shown == measured, (
        f"docs/model.md's rows of {name!r} differ from what the test measures; run `make facts` "
        "to refresh the table.\nMeasured:\n" + "\n".join(measured)
        + "\nShown:\n" + "\n".join(shown))
    if {path.stem for path in STORE.glob("*.json")} >= set(FACT_ORDER):
        unknown = [line for line in table[2:] if fact_of(line) not in FACT_ORDER]
        assert not unknown, ("docs/model.md shows rows no test measures:\n" + "\n".join(unknown))


def table_lines(text: str) -> list[str]:
    start, end = text.index(BEGIN), text.index(END)
    return text[start + len(BEGIN):end].strip().splitlines()


def fact_of(line: str) -> str:
    """The first cell of a table row."""
    return line.strip().strip("|").split("|", 1)[0].strip()


def clear() -> None:
    """Forget the facts recorded by an earlier session (stale rows must not fill the table)."""
    for path in STORE.glob("*.json"):
        path.unlink()


def rows_stored() -> list[Row]:
    rows = []
    for path in sorted(STORE.glob("*.json")):
        rows += [Row(**row) for row in json.loads(path.read_text())]
    return rows


def main() -> None:
    """Rewrite the table of facts in ``docs/model.md`` from ``tests/.facts``."""
    rows = rows_stored()
    if not rows:
        sys.exit("no measured facts in tests/.facts: run the fact tests first (make facts)")
    missing = [name for name in FACT_ORDER if not (STORE / f"{name}.json").is_file()]
    if missing:
        sys.exit(f"facts not measured in tests/.facts: {', '.join(missing)} (make facts)")
    rows.sort(key=lambda row: FACT_ORDER.index(row.fact))
    text = DOCS.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    table = "\n".join([HEADER, *(row.markdown() for row in rows)])
    DOCS.write_text(text[:start] + "\n" + table + "\n" + text[end:])
    print(f"docs/model.md: {len(rows)} rows of facts")


FACT_ORDER = ["crossover", "crossover_mechanisms", "exception", "referral", "network",
              "cco_floor", "cco_culture", "coaching", "delivery_gap",
              "delivery_gap_mechanisms", "delivery_gap_steering"]
"""Every fact the tests record, in the table's order; a record of another name is an error."""

if __name__ == "__main__":
    main()
