"""The kept what-ifs on the studio page: after a run, a name and **Keep**; in a card of the
setting, the what-ifs kept on this machine, newest first, each reopened with one click (its
levers set from its link, its answer as kept, not run again), its command copied and its
report downloaded.

The keeping itself is :mod:`cxsim.studio.kept`'s. The page hands this panel what a finished
run would keep (:class:`Ran`) and takes a kept what-if back to show (*reopen*).
"""

from __future__ import annotations

import asyncio
import functools
import html
import io
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import panel as pn

from cxsim.errors import ConfigError
from cxsim.report.page import Page, render
from cxsim.studio.answer import ShownAnswer
from cxsim.studio.kept import KeptWhatIf, KeptWhatIfs
from cxsim.studio.what_if import uploaded_journey_problem
from cxsim.studio.widgets import Text, copy_button, message

__all__ = ["KeptPanel", "Ran", "kept_journey"]

WIDTH = 520  # pixels: the card's content, in the setting's column
REFRESH_MS = 5_000
"""How often a page reads the list again: what another tab kept shows within seconds."""
Reopen = Callable[[Mapping[str, list[bytes]], str | None, str, Callable[[], str], str],
                  Awaitable[None]]
"""The page's: set the levers from a link's query (key to raw values, as the server hands a
link), use an uploaded journey (or the link's), show an answer's HTML, offer a report,
and say what is shown."""


@dataclass(frozen=True)
class Ran:
    """A finished run as it would be kept: the link's query and the uploaded journey the
    page ran ('' for none), its command, its answer as shown, and its report (built when
    kept: it takes about a second)."""

    link: str
    journey: str
    command: str
    answer: ShownAnswer
    report: Callable[[], Page]


def kept_journey(journey: str) -> str:
    """Why an uploaded journey a kept what-if ran on cannot be used now ('' if it can)
    (:func:`cxsim.studio.what_if.uploaded_journey_problem`)."""
    problem = uploaded_journey_problem(journey)
    shown = repr(journey[:60]) if problem.startswith("is not") else journey
    return f"its journey {shown} {problem}" if problem else ""


class KeptPanel:
    """The name and Keep (:attr:`keeping`, shown after a run finishes) and the list of kept
    what-ifs (:attr:`card`), read from *kept* (by default the studio folder's)."""

    def __init__(self, reopen: Reopen, kept: KeptWhatIfs | None = None) -> None:
        self.kept = kept or KeptWhatIfs()
        self.reopen = reopen
        self._ran: Ran | None = None
        self.name = pn.widgets.TextInput(placeholder="a name, e.g. CCO at the sales-focused "
                                         "firm", width=300, css_classes=["kept-name"])
        self.keep = pn.widgets.Button(label="Keep", width=80, css_classes=["kept-keep"])
        self.error = message("kept-error")
        self.said = Text("kept-said")
        self.keeping = pn.Column(
            pn.Row(Text("kept-ask", "Keep this what-if, its answer and report, as",
                        {"padding-top": "8px"}).pane, self.name, self.keep),
            self.error.pane, self.said.pane, visible=False, sizing_mode="stretch_width")
        self.list_error = message("kept-list-error")
        self.none = Text("kept-none", "")
        self.items = pn.Column(css_classes=["kept-list"], width=WIDTH, max_height=260,
                               scroll=True)
        self.card = pn.Card(self.list_error.pane, self.none.pane, self.items,
                            title="Kept what-ifs", width=WIDTH + 20, css_classes=["kept-card"])
        self._listed: list[tuple[int, str]] | None = None
        self.keep.on_click(self._on_keep)
        self.name.param.watch(self._on_keep, "enter_pressed")
        self.refresh()
        self.card.collapsed = not self._listed and not self.list_error.text
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            pn.state.add_periodic_callback(self.refresh, period=REFRESH_MS)

    def ran(self, ran: Ran | None) -> None:
        """A run finished (*ran*: Keep offered for it) or another began (None: not)."""
        self._ran = ran
        self.error.text = self.said.text = ""
        self.keep.disabled = ran is None
        self.keeping.visible = ran is not None

    def refresh(self) -> None:
        """The list as the file holds it now (redrawn only if it changed)."""
        try:
            listed, count = self.kept.listed()
        except ConfigError as error:
            self.list_error.text = str(error)
            self.items.objects, self._listed = [], []
            self.card.title = "Kept what-ifs"
            return
        self.list_error.text = ""
        shown = [(k.number, k.name) for k in listed]
        if shown == self._listed:
            return
        self._listed = shown
        self.card.title = f"Kept what-ifs on this machine ({count:,})"
        self.none.text = ("None yet: after a run, name it and press Keep." if not listed else
                          f"The newest {len(listed)}; {count - len(listed):,} older are kept "
                          "too." if count > len(listed) else "")
        self.items.objects = [self._item(k) for k in listed]

    def _item(self, kept: KeptWhatIf) -> pn.Column:
        """One kept what-if: its name and time, Open, Copy command, Download report; Rename
        (a field for the new name), Delete (pressed twice), and the command under a fold."""
        open_ = pn.widgets.Button(label="Open", width=70, color="primary",
                                  css_classes=["kept-open"])
        open_.on_click(functools.partial(self._on_open, kept))
        copy = copy_button(kept.command, width=120)
        download = pn.widgets.FileDownload(
            callback=functools.partial(self._report, kept.number), label="Download report",
            filename=f"what-if-{kept.number}.html", width=140, css_classes=["kept-download"])
        rename = pn.widgets.Button(label="Rename", width=80, css_classes=["kept-rename"])
        delete = pn.widgets.Button(label="Delete", width=80, css_classes=["kept-delete"])
        new_name = pn.widgets.TextInput(value=kept.name, width=300,
                                        css_classes=["kept-new-name"])
        save = pn.widgets.Button(label="Save name", width=100, color="primary",
                                 css_classes=["kept-save-name"])
        renaming = pn.Row(new_name, save, visible=False)
        rename.on_click(lambda _: setattr(renaming, "visible", not renaming.visible))
        saving = functools.partial(self._on_rename, kept, new_name)
        save.on_click(saving)
        new_name.param.watch(saving, "enter_pressed")
        delete.on_click(functools.partial(self._on_delete, kept, delete))
        return pn.Column(
            pn.Row(Text("kept-title", kept.name, {"font-weight": "bold",
                                                  "width": f"{WIDTH - 230}px"}).pane,
                   Text("kept-when", f"kept {kept.when()}", {"color": "#555",
                                                              "width": "170px"}).pane),
            pn.Row(open_, copy, download), renaming,
            pn.Row(rename, delete, pn.pane.HTML(
                "<details><summary>its command</summary><code style='font-size: 0.8em'>"
                f"{html.escape(kept.command)}</code></details>", width=WIDTH - 200)),
            css_classes=["kept-what-if"], styles={"border-bottom": "1px solid #ddd"},
            width=WIDTH - 20)

    def _on_rename(self, kept: KeptWhatIf, field: pn.widgets.TextInput, _event) -> None:
        """Name *kept* as typed in *field*; the name's rule or the file's problem as one
        line above the list."""
        self.list_error.text = ""
        typed = field.value_input or field.value  # as typed, or as shown if untouched
        try:
            self.kept.rename(kept.number, typed or "")
        except ConfigError as error:
            self.list_error.text = str(error)
            return
        self.refresh()

    def _on_delete(self, kept: KeptWhatIf, button: pn.widgets.Button, _event) -> None:
        """Delete *kept* on the second press (the first asks), its answer and report too."""
        self.list_error.text = ""
        if button.label == "Delete":
            button.param.update(label="Delete for good", color="danger", width=130)
            return
        try:
            self.kept.delete(kept.number)
        except ConfigError as error:
            self.list_error.text = str(error)
        self.refresh()

    async def _on_keep(self, _event) -> None:
        """Keep the run shown under the name typed, its report built first (off the page's
        loop); the name's rule or the file's problem as one line beside it."""
        ran = self._ran
        if ran is None or self.keep.disabled:
            return
        self.error.text = self.said.text = ""
        name = self.name.value_input if self.name.value_input is not None else self.name.value
        self.keep.disabled = True
        try:
            report = await asyncio.to_thread(lambda: render(ran.report()))
            kept = await asyncio.to_thread(self.kept.keep, name or "", ran.link, ran.journey,
                                           ran.command, ran.answer.data(), report)
        except ConfigError as error:
            self.error.text = str(error)
            self.keep.disabled = self._ran is not ran
            return
        if self._ran is ran:
            self.said.text = (f"Kept as \u201c{kept.name}\u201d at {kept.when()}: it is in "
                              "Kept what-ifs, at the top of the setting.")
        self.refresh()
        self.card.collapsed = False

    async def _on_open(self, kept: KeptWhatIf, _event) -> None:
        """Show *kept* on the page: its levers from its link, its answer as kept."""
        self.list_error.text = ""
        try:
            answer = ShownAnswer.from_data(self.kept.answer(kept.number),
                                           f"kept what-if {kept.number}")
        except ConfigError as error:
            self.list_error.text = str(error)
            return
        problem = kept_journey(kept.journey) if kept.journey else ""
        query = {key: [v.encode() for v in values] for key, values in
                 urllib.parse.parse_qs(kept.link, keep_blank_values=True).items()}
        said = (f"Opened \u201c{kept.name}\u201d, kept {kept.when()}: its answer as kept "
                f"({answer.pairs} pairs), not run again; Run runs it anew.")
        if problem:
            said += f" Not as it ran: {problem}; the page uses the preset's journey."
        self.ran(None)
        await self.reopen(query, None if problem else kept.journey or None, answer.html(),
                          functools.partial(self.kept.report, kept.number), said)

    def _report(self, number: int) -> io.BytesIO:
        """A kept what-if's report, as kept (a file gone since is said in the list)."""
        try:
            return io.BytesIO(self.kept.report(number).encode("utf-8"))
        except ConfigError as error:
            self.list_error.text = str(error)
            raise
