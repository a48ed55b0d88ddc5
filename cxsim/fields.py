"""A config field declared once: its default, the values it may take and what it means.

Each field's meaning (with its source) is its ``doc``, kept in the field's
metadata beside its default (:func:`within`, :func:`described`), so code reads
it (:func:`doc_of`; a page's tooltip, with the range in words:
:func:`describe`) where a comment could only be read by people. A leaf module
(it imports only :mod:`cxsim.errors`), so every config dataclass,
:class:`cxsim.schema.NetworkConfig` included, declares its fields with the
same helpers; :mod:`cxsim.config` re-exports them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any

import numpy as np

from cxsim.errors import ConfigError

__all__ = ["Bounds", "within", "described", "bounds_of", "doc_of", "describe"]

_INTERVAL = re.compile(r"([\[(])\s*([^,\s]+)\s*,\s*([^\])\s]+)\s*([\])])( integer)?")


def _end(x: float) -> str:
    """An end of an interval as errors and pages write it: 36,525, 1,000,000, 0.0001, 365."""
    return f"{int(x):,}" if abs(x) >= 1e4 and float(x).is_integer() else f"{x:g}"


@dataclass(frozen=True)
class Bounds:
    """The values a numeric setting may take: ``[low, high]``, either end open, and
    whether it must be an integer. Written as its interval (``"(0, 1]"``)."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    @classmethod
    def parse(cls, text: str) -> Bounds:
        opening, low, high, closing, kind = _INTERVAL.fullmatch(text).groups()
        number = int if kind else float  # integers stay exact (a seed's 2**63 - 1)
        return cls(number(low), number(high), opening == "(", closing == ")", kind is not None)

    def __str__(self) -> str:
        return (f"{'(' if self.low_open else '['}{_end(self.low)}, {_end(self.high)}"
                f"{')' if self.high_open else ']'}")

    def in_words(self) -> str:
        """The interval as a person reads it, for a page: ``"from 0 (excluded) to 100"``,
        ``"a whole number from 1 to 10,000,000"``."""
        low = _end(self.low) + (" (excluded)" if self.low_open else "")
        high = _end(self.high) + (" (excluded)" if self.high_open else "")
        return f"{'a whole number ' if self.integer else ''}from {low} to {high}"

    def check(self, key: str, value: Any) -> None:
        """Raise :class:`ConfigError` naming *key* unless *value* is within."""
        kind = "an integer" if self.integer else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"must be {kind}", value)
        if self.integer and not isinstance(value, int):
            raise ConfigError(key, "must be an integer", value)
        if not math.isfinite(value):
            raise ConfigError(key, "must be finite", value)
        if (value < self.low or value > self.high or (self.low_open and value == self.low)
                or (self.high_open and value == self.high)):
            raise ConfigError(key, f"must be in {self}", value)


def is_integer(value: Any) -> bool:
    """An integer, Python's or numpy's, and not a bool (which Python counts as one)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def within(default: Any, interval: str, *, doc: str) -> Any:
    """A dataclass field with *default* whose values must lie in *interval*
    (``"[0, 1]"``, ``"(0, 365]"``, ``"[1, 100] integer"``) and whose meaning is *doc*."""
    return field(default=default, metadata={"bounds": Bounds.parse(interval), "doc": doc})


def described(default: Any = MISSING, *, doc: str,
              default_factory: Callable[[], Any] = MISSING) -> Any:
    """A dataclass field with no bounds (a name, a flag, a mapping, a section) whose
    meaning is *doc*; a mutable default comes from *default_factory*, as in ``field``."""
    return field(default=default, default_factory=default_factory, metadata={"doc": doc})


def _field(section: type, name: str) -> Field | None:
    return next((f for f in fields(section) if f.name == name), None)


def bounds_of(section: type, name: str) -> Bounds | None:
    """The bounds a setting of *section* (a config dataclass) declares, if numeric."""
    found = _field(section, name)
    return None if found is None else found.metadata.get("bounds")


def doc_of(section: type, name: str) -> str:
    """What the setting *name* of *section* (a config dataclass) means, with its source,
    as declared beside its default ("" if it declares none); KeyError if it has no such
    setting, so a mistyped name is not a blank tooltip."""
    found = _field(section, name)
    if found is None:
        raise KeyError(f"{section.__name__} has no setting {name!r}")
    return found.metadata.get("doc", "")


def describe(section: type, name: str) -> str:
    """A setting's tooltip: what it means, then the values it may take in words
    (``"multiplies the segment's order value; from 0 (excluded) to 100"``), both read
    from its one declaration."""
    bounds = bounds_of(section, name)
    words = "" if bounds is None else bounds.in_words()
    return "; ".join(part for part in (doc_of(section, name), words) if part)
