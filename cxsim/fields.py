"""A config field declared once: its default and the values it may take, beside it.

A leaf module (it imports only :mod:`cxsim.errors`), so every config
dataclass, :class:`cxsim.network.NetworkConfig` included, declares its fields
with the same helpers; :mod:`cxsim.config` re-exports them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from typing import Any

from cxsim.errors import ConfigError

__all__ = ["Bounds", "within", "bounds_of"]

_INTERVAL = re.compile(r"([\[(])\s*([^,\s]+)\s*,\s*([^\])\s]+)\s*([\])])( integer)?")


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
        def end(x: float) -> str:
            return f"{int(x):,}" if abs(x) >= 1e4 and float(x).is_integer() else f"{x:g}"

        return (f"{'(' if self.low_open else '['}{end(self.low)}, {end(self.high)}"
                f"{')' if self.high_open else ']'}")

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


def within(default: Any, interval: str) -> Any:
    """A dataclass field with *default* whose values must lie in *interval*
    (``"[0, 1]"``, ``"(0, 365]"``, ``"[1, 100] integer"``)."""
    return field(default=default, metadata={"bounds": Bounds.parse(interval)})


def bounds_of(section: type, name: str) -> Bounds | None:
    """The bounds a setting of *section* (a config dataclass) declares, if numeric."""
    return next((f.metadata.get("bounds") for f in fields(section) if f.name == name), None)
