"""Text on the studio's page, shown as text whatever it holds: a name, a link's value, a
file's name or an error quoting any of them."""

from __future__ import annotations

import html

import panel as pn

__all__ = ["Text", "message"]


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
