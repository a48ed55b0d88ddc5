"""The answer in plain words: sentences generated from estimates, never beyond them.

Every number carries its 95% interval; a difference whose interval holds 0
is said to be "not distinguishable from no difference"; a value that could
not be estimated (no answers, one replication) is said to be so. The
functions are pure: estimates in, sentences out, so each wording rule has a
unit test on synthetic numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cxsim.simulation.results import Crossover, month_number

__all__ = ["Estimate", "number", "interval", "difference", "lead", "crossover", "join",
           "capital"]


@dataclass(frozen=True)
class Estimate:
    """A mean with its 95% interval over *n* replications (bounds NaN when n < 2)."""

    mean: float
    low: float = math.nan
    high: float = math.nan
    n: int = 1

    @property
    def known(self) -> bool:
        return math.isfinite(self.mean)

    @property
    def has_interval(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)

    @property
    def sign(self) -> int:
        """+1 or -1 if the interval excludes 0, else 0 (also without an interval)."""
        if not self.has_interval:
            return 0
        return 1 if self.low > 0 else -1 if self.high < 0 else 0


NO_DATA = "no data"
"""What a statistic with nothing behind it reads as (NaN in the tables: no client, no answer,
no spend to divide by); never a blank or "nan"."""


def number(value: float, unit: str = "", digits: int = 0, currency: str = "") -> str:
    """A number as the page shows it: separators, fixed digits, the unit after it; money
    with its *currency* before it (``-$1,250``)."""
    if not math.isfinite(value):
        return NO_DATA
    text = f"{value:,.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{currency}{text}{unit}"


def interval(estimate: Estimate, unit: str = "", digits: int = 0, currency: str = "") -> str:
    """``12 (95% CI 10 to 14)``; a single replication says it has no interval."""
    if not estimate.known:
        return NO_DATA
    value = number(estimate.mean, unit, digits, currency)
    if not estimate.has_interval:
        return f"{value} (one replication: no interval)"
    return f"{value} ({_bounds(estimate.low, estimate.high, digits, currency)})"


def _bounds(low: float, high: float, digits: int, currency: str = "") -> str:
    return (f"95% CI {number(low, '', digits, currency)} to "
            f"{number(high, '', digits, currency)}")


def difference(subject: str, what: str, estimate: Estimate, unit: str = "",
               digits: int = 0, currency: str = "") -> str:
    """``{subject} changes {what} by +12 (95% CI 3 to 21).`` or says there is no evidence."""
    if not estimate.known:
        return f"The change in {what} has no data behind it."
    if not estimate.has_interval:
        return (f"{subject} changes {what} by "
                f"{number(estimate.mean, unit, digits, currency)} in a single replication: "
                "without an interval this says nothing about chance.")
    direction = {1: "raises", -1: "lowers", 0: "changes"}[estimate.sign]
    size = number(abs(estimate.mean) if estimate.sign else estimate.mean, unit, digits,
                  currency)
    bounds = _bounds(estimate.low, estimate.high, digits, currency)
    if estimate.sign == 0:
        return (f"{subject} {direction} {what} by {size} ({bounds}): not distinguishable "
                "from no difference.")
    return f"{subject} {direction} {what} by {size} ({bounds})."


def lead(metric: str, shares: dict[str, Estimate], gap: Estimate | None, unit: str = "",
         digits: int = 0, currency: str = "") -> str:
    """Who leads on *metric* and by how much (*gap*: first firm minus second, paired)."""
    known = {firm: e for firm, e in shares.items() if e.known}
    if not known:
        return f"{metric.capitalize()} has no data behind it."
    if len(known) == 1:
        (firm, e), = known.items()
        return f"{firm}'s {metric} is {interval(e, unit, digits, currency)}."
    first, second = list(known)[:2]
    if gap is None or not gap.known:
        return (f"{first}'s {metric} is {interval(known[first], unit, digits, currency)}, "
                f"{second}'s {interval(known[second], unit, digits, currency)}.")
    if not gap.has_interval:
        leader = first if gap.mean > 0 else second
        if gap.mean == 0:
            return f"{first} and {second} are level on {metric} in a single replication."
        return (f"{leader} leads on {metric} by "
                f"{number(abs(gap.mean), unit, digits, currency)} in a single replication: "
                "without an interval this says nothing about chance.")
    if gap.sign == 0:
        return (f"On {metric}, {first} minus {second} is "
                f"{number(gap.mean, unit, digits, currency)} "
                f"({_bounds(gap.low, gap.high, digits, currency)}): not distinguishable from "
                "no difference.")
    if gap.sign > 0:
        leader, other, low, high = first, second, gap.low, gap.high
    else:
        leader, other, low, high = second, first, -gap.high, -gap.low
    return (f"{leader} leads {other} on {metric} by "
            f"{number(abs(gap.mean), unit, digits, currency)} "
            f"({_bounds(low, high, digits, currency)}).")


def crossover(leader: str, other: str, crossing: Crossover, months: int,
              replications: int) -> str:
    """The crossover in words (:func:`cxsim.simulation.results.crossover`), months as the
    chart counts.

    The crossover is the month from which *leader*'s mean share stays above
    *other*'s. It is claimed only when the paired 95% interval says a
    crossover exists (:attr:`~cxsim.simulation.results.Crossover.claimed`); the month
    from which the interval stays above 0 is named apart, as the month the
    lead is sure from: it comes later, and only the first is where the
    chart's lines cross.
    """
    month = None if crossing.month is None else month_number(crossing.month)
    if replications < 2:
        return (f"In this single replication {leader}'s share passes {other}'s at month "
                f"{month} of {months} and stays ahead, but with one replication there is no "
                "interval, so no crossover is claimed." if crossing.crossed else
                "With one replication there is no interval, so no crossover is claimed.")
    if month is None:
        return (f"{leader}'s mean share is not above {other}'s in the last month: "
                "no crossover.")
    if crossing.led_from_start:
        said = (f"{leader} leads {other} in share in every month, from the first, so nothing "
                "crosses over")
    elif not crossing.was_behind:
        said = (f"{leader}'s mean share is ahead of {other}'s from month {month} of {months} "
                f"on, and {other} was never ahead beyond chance (95% CI), so no crossover is "
                "claimed")
    elif crossing.sure is None:
        said = (f"{leader}'s mean share passes {other}'s at month {month} of {months} and "
                "stays ahead, but no crossover is claimed")
    else:
        said = (f"{leader} overtakes {other} in share at month {month} of {months} (its mean "
                "share stays ahead from then on)")
    if crossing.sure is None:
        return (f"{said}; the lead is not sure (the 95% CI of the paired difference still "
                "reaches 0 in the last month).")
    return (f"{said}; the lead is sure from month {month_number(crossing.sure)} (from then on "
            "the 95% CI of the paired difference stays above 0).")


_WORD = re.compile(r"[a-z][a-z'-]*")


def join(sentences: Sequence[str]) -> list[str]:
    """The answer's sentences, empty ones left out, each opening with a capital."""
    return [capital(s) for s in sentences if s]


def capital(text: str) -> str:
    """*text* with its first letter raised where its first word is a lower-case word ("the
    sales-focused firm leads ..."); a name written with capitals inside, such as "eBay",
    or a config key such as "client_first", is left as written."""
    first = text.split(" ", 1)[0]
    return text[0].upper() + text[1:] if _WORD.fullmatch(first) else text
