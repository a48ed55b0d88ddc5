"""Names people read: the market's and each firm's display name, and their rule.

A label appears in a table's header, a chart's legend and a page's title, so it
is one short line, and two firms of one scenario never share one. Apart from
the other rules (:mod:`cxsim.rules`) because reports name firms too, from a
saved config as well as a live one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cxsim.errors import ConfigError

__all__ = ["MAX_LABEL", "MAX_CURRENCY", "check_label", "firm_labels"]

MAX_LABEL = 60  # characters of a display name: a table's header, a chart's legend
MAX_CURRENCY = 4  # characters of a currency symbol: "$", "€", "CHF"


def check_label(key: str, value: Any, longest: int = MAX_LABEL) -> None:
    """A name a person reads: one line of printable text, not blank, not too long."""
    if not isinstance(value, str) or not value.strip() or len(value) > longest or any(
            not c.isprintable() for c in value):
        raise ConfigError(key, f"must be one line of 1 to {longest} printable characters",
                          value)


def firm_labels(firms: Mapping[str, Any]) -> dict[str, str]:
    """Each firm's display name, by its key: its own ``label``, else its strategy in words
    ("the sales-focused firm"); a strategy two firms share names both by their keys too
    ("the sales-focused firm (acme)"), so names stay unique within a scenario.

    *firms* maps keys to :class:`FirmConfig` or to their plain dicts (a saved config).
    """
    def get(firm: Any, name: str) -> Any:
        return firm.get(name) if isinstance(firm, Mapping) else getattr(firm, name)

    words = {key: f"the {str(get(f, 'strategy')).replace('_', '-')} firm"
             for key, f in firms.items()}
    taken = [words[k] for k, f in firms.items() if get(f, "label") is None]
    return {key: get(f, "label") or (words[key] if taken.count(words[key]) == 1
                                     else f"{words[key]} ({key})")
            for key, f in firms.items()}

