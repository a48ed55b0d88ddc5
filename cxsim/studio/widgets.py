"""The studio page's pieces: text shown as text whatever it holds, and the inputs of a
lever (its declared bounds and meaning from the config), with the check a link's value
passes before a widget takes it."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping

import panel as pn

from cxsim.config import (
    EventConfig,
    FirmConfig,
    MarketConfig,
    SegmentConfig,
    SimConfig,
    describe,
    group_options,
)
from cxsim.studio.what_if import (
    EVENTS,
    FITTED,
    OLD_LINK_KEYS,
    lever_bounds,
    uploaded_journey_label,
)

__all__ = ["ADDRESS", "EVERY_FIRM", "LABEL", "LEFT", "MAX_LINK_VALUE", "NARROW", "NO_EVENT",
           "PRESET_JOURNEY", "WIDE", "FloatInput", "JourneyMenu", "Text", "checked",
           "choice_input", "copy_button", "event_row", "fitted_input", "message",
           "number_input", "number_text", "section_of", "todays_link", "use_link_value"]

MAX_LINK_VALUE = 100
"""Characters a link's key or value may have (the page writes at most about 30); a longer
one is refused before it is parsed."""
LEFT, WIDE, NARROW, LABEL = 560, 200, 140, 140  # pixels
NO_EVENT = "none"
PRESET_JOURNEY = "the preset's"
EVERY_FIRM = "every firm"
SECTIONS = (FirmConfig, SegmentConfig, MarketConfig, SimConfig, EventConfig)
ADDRESS = """
const query = source.value;
window.history.replaceState(null, "", query ? "?" + query : window.location.pathname);
"""
"""The address bar set to a hidden input's value (the page's link) without a reload."""
_COPY = """
const text = typeof command === "string" ? command : command.value;
if (navigator.clipboard && window.isSecureContext) {
  navigator.clipboard.writeText(text).catch(() => {});
}
"""


class FloatInput(pn.widgets.FloatInput):
    """Panel's number input, its empty value sent to the browser as empty: Panel sends NaN,
    which the browser shows as "NaN" once a field that held a number is emptied (a kept
    what-if reopened sets a lever back to its preset, None)."""

    def _process_param_change(self, params: dict) -> dict:
        params = super()._process_param_change(params)
        for key in ("value", "value_throttled"):
            if isinstance(params.get(key), float) and math.isnan(params[key]):
                params[key] = None
        return params


class JourneyMenu(pn.widgets.Select):
    """The journey every firm walks: the preset's, a shipped one, or one uploaded or
    discovered here, named by its own name and chosen by its path in the studio's folder
    (:func:`cxsim.studio.what_if.save_journey`'s)."""

    def __init__(self, **params) -> None:
        shipped = (PRESET_JOURNEY, *group_options("journey"))
        super().__init__(label="journey (every firm)", width=LEFT - WIDE - 60,
                         options={j: j for j in shipped},
                         description=describe(FirmConfig, "journey"), **params)
        self._shipped = shipped

    def chosen(self) -> str | None:
        """The journey a what-if's setting names: a shipped one's name, an uploaded one's
        path, or None for the preset's."""
        return None if self.value == PRESET_JOURNEY else self.value

    @property
    def uploaded(self) -> str | None:
        """The journey uploaded or discovered here, if it is the one chosen."""
        return None if self.value in self._shipped else self.value

    def use(self, journey: str | None) -> None:
        """Name *journey*, one uploaded or discovered here, and choose it; None: back to the
        preset's, if an uploaded one was chosen."""
        if journey is not None:
            self.options = {**self.options, uploaded_journey_label(journey): journey}
            self.value = journey
        elif self.uploaded is not None:
            self.value = PRESET_JOURNEY


def section_of(lever: str) -> type:
    """The config section that declares *lever* (its meaning and bounds)."""
    return next(s for s in SECTIONS if lever in {f for f in s.__dataclass_fields__})


def number_input(name: str, lever: str, value: float | None, placeholder: str = "",
                 width: int = WIDE):
    """A number input within the lever's declared bounds, its meaning as a tooltip."""
    bounds = lever_bounds(lever)
    kind = pn.widgets.IntInput if bounds.integer else FloatInput
    return kind(label=name, value=value, start=bounds.low, end=bounds.high,
                placeholder=placeholder, width=width,
                description=describe(section_of(lever), lever) if name else None)


def fitted_input(lever: str, value: float | None):
    """A number input for a :data:`FITTED` lever, by its row's name; the values it may
    take are the config's own (a refused one shows the config's message beside it)."""
    percent = FITTED[lever].unit == "%"
    return FloatInput(value=value, start=0.0, end=100.0 if percent else None,
                      format="0.0[0]" if percent else "0.00", width=NARROW)


def choice_input(name: str, lever: str, options, value, section: type):
    """A menu of a lever's options, its meaning as a tooltip where it has a name."""
    return pn.widgets.Select(label=name, options=options, value=value, width=NARROW if not name
                             else WIDE, description=describe(section, lever) if name else None)


def copy_button(command, label: str = "Copy command", width: int = 130) -> pn.widgets.Button:
    """A button that copies *command* to the clipboard: a text, or a text widget's value
    when pressed."""
    button = pn.widgets.Button(label=label, width=width)
    button.js_on_click(args={"command": command}, code=_COPY)
    return button


def number_text(x: float) -> str:
    """A number as a message quotes it: a whole one with thousands separators."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def checked(widget, text: str):
    """*text* as a value of *widget*: one of its options, or a number within its bounds.

    Raises
    ------
    ValueError
        Saying what the widget takes, with the value found.
    """
    if isinstance(widget, pn.widgets.Select):
        options = list(widget.options.values() if isinstance(widget.options, dict)
                       else widget.options)
        if text in options:
            return text
        raise ValueError(f"must be one of {', '.join(options)}; got {text!r}")
    whole = isinstance(widget, pn.widgets.IntInput)
    kind = "a whole number" if whole else "a number"
    end = math.inf if widget.end is None else widget.end
    bounds = (f"in [{number_text(widget.start)}, {number_text(end)}]" if end < math.inf
              else f"at least {number_text(widget.start)}")
    try:
        if whole and not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError
        value = int(text) if whole else float(text)
    except ValueError:
        raise ValueError(f"must be {kind} {bounds}; got {text!r}") from None
    if not (math.isfinite(value) and widget.start <= value <= end):
        raise ValueError(f"must be {kind} {bounds}; got {text}")
    return value


def todays_link(link: Mapping[str, list[bytes]], problems: list[str]
                ) -> dict[str, list[bytes]]:
    """A link in today's keys: an older page's ``event_month`` (a 0-based month, now
    ``event_from``, numbered from 1) and a segment's ``repeat_dropout`` (a chance from 0 to 1,
    now ``stopping_percent``); a value that is no number is said in *problems*."""
    link = dict(link)
    if "event_month" in link and "event_from" not in link:
        old = link.pop("event_month")
        try:
            link["event_from"] = [str(int(old[-1][:MAX_LINK_VALUE]) + 1).encode()]
        except ValueError:
            problems.append(f"the link's event_month must be a whole number; got "
                            f"{old[-1][:MAX_LINK_VALUE].decode(errors='replace')!r}")
    for key in [k for k in link if k.rsplit(".", 1)[-1] in OLD_LINK_KEYS
                and k.startswith(("segment.", "b.segment.")) and len(k) <= MAX_LINK_VALUE]:
        lever, factor = OLD_LINK_KEYS[key.rsplit(".", 1)[-1]]
        new = f"{key.rsplit('.', 1)[0]}.{lever}"
        old = link.pop(key)
        if new in link:  # a link naming both: today's key holds
            continue
        text = old[-1][:MAX_LINK_VALUE].decode(errors="replace")
        try:
            link[new] = [repr(float(text) * factor).encode()]
        except ValueError:
            problems.append(f"the link's {key} must be a number; got {text!r}")
    return link


def use_link_value(linked: dict, key: str, values: list[bytes], problems: list[str]) -> None:
    """Set the widget *key* of *linked* to a link's value if it takes it; else say why."""
    if len(key) > MAX_LINK_VALUE:
        problems.append(f"the link's key {key[:20]!r}... must be at most "
                        f"{MAX_LINK_VALUE} characters; got {len(key):,}")
    elif key not in linked:
        problems.append(f"the link's {key!r} is not a setting of this page")
    elif any(len(value) > MAX_LINK_VALUE for value in values):
        problems.append(f"the link's {key} must be at most {MAX_LINK_VALUE} "
                        f"characters; got {max(len(v) for v in values):,}")
    else:
        text = values[-1].decode("utf-8", errors="replace")
        try:
            linked[key].value = checked(linked[key], text)
        except ValueError as error:
            problems.append(f"the link's {key} {error}")


def event_row(scenario: str, names: dict[str, str]
              ) -> tuple[pn.Row, dict[str, pn.widgets.Widget]]:
    """An event in one scenario: its kind, from which month (1 = the first), a shock's
    months and size, a workshop's firm (*names*: each firm's name by its key); each with its
    field's meaning as a tooltip."""
    widgets = {
        "kind": pn.widgets.Select(label=f"in {scenario.upper()}", options=[NO_EVENT, *EVENTS],
                                  width=NARROW, description=describe(EventConfig, "kind")),
        "from": pn.widgets.IntInput(label="from month", value=13, start=1,
                                    end=lever_bounds("start_month").high + 1,
                                    width=NARROW, description="the first month it acts; "
                                    "month 1 is the first month of the run"),
        "months": number_input("months", "months", EventConfig.months, width=NARROW),
        "size": number_input("order value ×", "order_value_factor",
                         EventConfig.order_value_factor, width=NARROW),
        "firm": pn.widgets.Select(label="workshop at", options={"every firm": EVERY_FIRM,
                                  **{name: f for f, name in names.items()}},
                                  width=NARROW, description=describe(EventConfig, "firm")),
    }
    return pn.Row(*widgets.values()), widgets


class Text:
    """Text on the page, shown as text whatever it holds (a name, a link's value, an error
    quoting either). Panel's Str and Markdown panes hand what they hold to the browser as
    HTML, where a link's value ran as script; this escapes it first. Hidden while empty."""

    def __init__(self, css: str, text: str = "", styles: dict[str, str] | None = None,
                 tooltip: str = "") -> None:
        self.pane = pn.pane.HTML("", css_classes=[css],
                                 styles={"white-space": "pre-wrap", **(styles or {})})
        self.tooltip = tooltip
        self.text = text

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value
        shown = html.escape(value)
        if self.tooltip:
            shown = f'<span title="{html.escape(self.tooltip)}">{shown}</span>'
        self.pane.object = shown
        self.pane.visible = bool(value)


def message(css: str) -> Text:
    """A one-line error shown beside its input."""
    return Text(css, styles={"color": "#b00020"})
