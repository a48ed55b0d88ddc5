"""The stylised facts' measured effects, and the table of them in ``docs/model.md``.

Each test in ``tests/test_stylised_facts.py`` measures its claim and its
negative control and hands them to :func:`record`, which writes them to
``tests/.facts/<fact>.json`` and checks that ``docs/model.md`` shows the
same rows, so the table cannot drift from the tests. ``make facts`` runs the
fact tests with ``CXSIM_REFRESH_FACTS=1`` (record, do not compare) and then
this script, which rewrites the table between its two markers.
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
from cxsim.results import mean_ci, ratio_ci

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "model.md"
STORE = Path(__file__).resolve().parent / ".facts"
BEGIN, END = "<!-- facts:begin -->", "<!-- facts:end -->"
HEADER = ("| fact | what emerges | from what | effect, 95% CI (pairs; pairs for 90% power) "
          "| negative control: what it removes | control's effect | verdict |\n"
          "| --- | --- | --- | --- | --- | --- | --- |")


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

    def markdown(self) -> str:
        power = "—" if self.pairs_for_power is None else str(self.pairs_for_power)
        return (f"| {self.fact} | {self.claim} | {self.mechanism} | {self.effect} "
                f"({self.pairs}; {power}) | {self.control} | {self.control_effect} "
                f"| {self.verdict} |")


def record(name: str, rows: list[Row]) -> None:
    """Store a fact's rows and check ``docs/model.md`` shows them (unless refreshing)."""
    STORE.mkdir(exist_ok=True)
    write_text(STORE / f"{name}.json", json.dumps([asdict(row) for row in rows], indent=2))
    if os.environ.get("CXSIM_REFRESH_FACTS"):
        return
    shown = table_lines(DOCS.read_text())
    missing = [row.markdown() for row in rows if row.markdown() not in shown]
    assert not missing, ("docs/model.md's table of facts differs from what the tests measure; "
                         "run `make facts` to refresh it. Measured:\n" + "\n".join(missing))


def table_lines(text: str) -> list[str]:
    start, end = text.index(BEGIN), text.index(END)
    return text[start + len(BEGIN):end].strip().splitlines()


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
    order = FACT_ORDER
    rows.sort(key=lambda row: (order.index(row.fact) if row.fact in order else len(order)))
    text = DOCS.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    table = "\n".join([HEADER, *(row.markdown() for row in rows)])
    DOCS.write_text(text[:start] + "\n" + table + "\n" + text[end:])
    print(f"docs/model.md: {len(rows)} rows of facts")


FACT_ORDER = ["crossover", "exception", "referral", "cco", "coaching"]

if __name__ == "__main__":
    main()
