"""The studio page (Panel): the levers of a what-if, Run, and its answer as pairs finish.

Panel was chosen after trying it beside Solara: it serves its JavaScript from
the installed package (no request leaves the machine) and runs a blocking
step in a thread from an async handler while the page stays live. A what-if
is a link: the page reads its query itself, each value checked against its
widget's options or bounds before it is set (Panel's own URL syncing parses
the query before any check, and a 50,000-digit number failed inside it), and
writes the what-if back into the address bar. Every session has its own
page (``cxsim.studio.server`` serves them); the worker processes
(``cxsim.studio.runs``) are shared, one comparison at a time, and a waiting page says so.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import html
import io
import shlex
import sys
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import panel as pn

from cxsim.config import (
    EventConfig,
    FirmConfig,
    as_plain,
    config_dir,
    describe,
)
from cxsim.demo import MARKETS as STORY_MARKETS
from cxsim.demo import YEARS as STORY_YEARS
from cxsim.demo import demo_page
from cxsim.errors import ConfigError
from cxsim.report.comparison import Compared, comparison_meta, comparison_page, in_words
from cxsim.report.page import Page, render
from cxsim.simulation.experiment import Ensemble, compare_stream, stream
from cxsim.studio.answer import answer_html, gap_chapter, shown_answer, story_html, trainer_report
from cxsim.studio.kept_panel import KeptPanel, Ran
from cxsim.studio.logs import MAX_UPLOAD_MB, market_options
from cxsim.studio.runs import Workers, shared_workers
from cxsim.studio.uploads import EventLogPanel, TransactionLogPanel
from cxsim.studio.what_if import (
    CHOICES,
    EVENTS,
    FITTED,
    LEVER_WORDS,
    LIVE_SIZE,
    NUMBERS,
    Event,
    Setting,
    WhatIf,
    firm_names,
    firms,
    fitted_problem,
    levers_of,
    market_currency,
    preset_levers,
    save_journey,
    segments,
    stopping,
    uploaded_journey_problem,
)
from cxsim.studio.widgets import (
    ADDRESS,
    LABEL,
    LEFT,
    MAX_LINK_VALUE,
    NARROW,
    NO_EVENT,
    WIDE,
    JourneyMenu,
    Text,
    choice_input,
    copy_button,
    event_row,
    fitted_input,
    message,
    number_input,
    todays_link,
    use_link_value,
)

__all__ = ["COMPOSER", "Studio"]

AS_IN_A = "as in A"
AS_ITS_SURVEY = "as its survey"  # who answers, in A: as the firm's survey preset says
MAX_LINK_PROBLEMS = 3
"""Problems of a link listed by name; the rest are counted."""
COMPOSER = ThreadPoolExecutor(1, thread_name_prefix="compose")
"""Where every page composes its what-if ahead of Run, one at a time."""
COMPARE = str(Path(sys.executable).parent / "cxsim-compare")
"""The offered command calls cxsim-compare by its path: the shell need not have the studio's
environment active."""
CXSIM = str(Path(sys.executable).parent / "cxsim")
GAP_SCENARIO = "industry"
"""The trainer's third chapter: ten firms that survey their buyers, and an industry study."""
GAP_YEARS = 3.0
"""Fewest years the third chapter runs: the years at which docs/model.md (section 10) and
README measure the gap (its figures read the final year's surveys)."""
PANE_HEIGHT = 680  # the levers and the answer side by side, each scrolling, in a 1280x800 view


def _preset_default(firm: str, lever: str, value: object) -> bool:
    """*value* is what the default presets give *firm*'s *lever* in A, so A need not set it;
    who answers, once set, is kept (unset, it is "as its survey": A's survey may change)."""
    return lever != "response" and value == preset_levers()[firm].get(lever)


class Studio:
    """One browser session's page: the levers on the left (the setting, each firm's levers
    in scenarios A and B, an event in either), Run and the answer on the right, so the
    verdict is on screen after Run at 1280x800.

    *link* is the query of the address the page was opened with (key to values, as the
    server parsed them): the what-if a shared link holds.
    """

    def __init__(self, link: Mapping[str, list[bytes]] | None = None,
                 max_upload_mb: float = MAX_UPLOAD_MB) -> None:
        self.firms = firms()
        self.names = firm_names()
        self.market = pn.widgets.Select(
            label="market", options=market_options(), value=Setting.market, width=WIDE,
            description="the clients both scenarios compete for: a market preset (configs/"
                        "market), each segment's deciding levers below")
        self.journey = JourneyMenu()
        self.upload = pn.widgets.FileInput(accept=".yaml,.yml", multiple=False, width=WIDE,
                                           css_classes=["journey-upload"])
        self.upload_error = message("upload-error")
        self.clients = number_input("clients", "size", LIVE_SIZE["clients"], width=NARROW)
        self.years = number_input("years", "years", LIVE_SIZE["years"], width=NARROW)
        self.replications = pn.widgets.IntInput(
            label="pairs", value=LIVE_SIZE["replications"], start=2, end=100, width=NARROW,
            description="paired replications of A and B on common random numbers; more "
                        "narrow the interval; from 2 to 100")
        self.segment_box = pn.Column()
        self.segment_levers: dict[tuple[str, str], pn.widgets.Widget] = {}  # in A (both)
        self.segment_levers_b: dict[tuple[str, str], pn.widgets.Widget] = {}  # B's fitted
        self.segment_notes: dict[tuple[str, str, str], Text] = {}  # a refused fitted value
        self.stopping: dict[str, Text] = {}  # who stops within a year, by segment
        self.levers: dict[tuple[str, str, str], pn.widgets.Widget] = {}
        tabs = []
        for firm in self.firms:
            rows = [pn.Row(pn.Spacer(width=LABEL),
                           *(pn.pane.HTML(f"<b>scenario {x}</b>", width=NARROW)
                             for x in "AB"))]
            for lever in (*CHOICES, *NUMBERS):
                section = FirmConfig
                if lever == "response":  # set by the survey unless set here
                    a = choice_input("", lever, {AS_ITS_SURVEY: AS_ITS_SURVEY,
                                                 **{o: o for o in CHOICES[lever]}},
                                     AS_ITS_SURVEY, section)
                elif lever in CHOICES:
                    a = choice_input("", lever, list(CHOICES[lever]),
                                     preset_levers()[firm][lever], section)
                else:
                    a = number_input("", lever, None, width=NARROW)
                b = (choice_input("", lever, {AS_IN_A: AS_IN_A, **{o: o for o in CHOICES[lever]}},
                                  AS_IN_A, section) if lever in CHOICES
                     else number_input("", lever, None, width=NARROW))
                for scenario, w in (("a", a), ("b", b)):
                    self.levers[scenario, firm, lever] = w
                    w.css_classes = [f"lever-{scenario}-{firm}-{lever}"]
                rows.append(pn.Row(Text("lever", LEVER_WORDS[lever], {"width": f"{LABEL}px"},
                                        tooltip=describe(section, lever)).pane, a, b))
            tabs.append((self.names[firm], pn.Column(*rows)))
        self.firm_tabs = pn.Tabs(*tabs)
        self.events = {scenario: event_row(scenario, self.names) for scenario in ("a", "b")}
        self.overrides = Text("overrides")
        self.command = pn.widgets.TextAreaInput(
            label="the command that reproduces it (writes to a new temporary folder)",
            disabled=True, sizing_mode="stretch_width", height=78)
        self.copy = copy_button(self.command)
        self.error = message("error")
        self.link_error = message("link-error")
        self.address = pn.widgets.TextInput(visible=False)
        self.address.jscallback(value=ADDRESS)
        self.run = pn.widgets.Button(label="Run", color="primary", css_classes=["run"],
                                     width=90)
        self.cancel = pn.widgets.Button(label="Cancel", disabled=True, css_classes=["cancel"],
                                        width=90)
        self.trainer = pn.widgets.Button(label="Trainer: the rule, the exception, the delivery gap",
                                         width=340)
        self.progress = pn.indicators.Progress(value=0, max=LIVE_SIZE["replications"],
                                               sizing_mode="stretch_width", height=12)
        self.status = Text("status", "Set a what-if and press Run.")
        self.answer = pn.pane.HTML("", css_classes=["answer-pane"], sizing_mode="stretch_width")
        self.download = pn.widgets.FileDownload(callback=self._report, filename="report.html",
                                                label="Download report", disabled=True,
                                                width=150, css_classes=["download"])
        self._report_page: Callable[[], Page | str] | None = None  # built when downloaded
        self._ahead: tuple[str, Future] | None = None  # the what-if composed ahead of Run
        stop = lambda: self._stop.set()  # noqa: E731 (the stop of the work running now)
        self.log_panel = TransactionLogPanel(max_upload_mb, self._exclusive, stop,
                                             self._use_market)
        self.events_panel = EventLogPanel(max_upload_mb, self._exclusive, stop,
                                          self._use_journey)
        self._stop = threading.Event()
        self._running = False
        self._in_browser = False  # the address bar is written once the page is loaded
        self._fresh = {key: w.value for key, w in self.linked().items()}  # a kept one resets
        self.kept = KeptPanel(self._reopen)
        self._open(link or {})  # the chosen market's segments' rows too
        self.market.param.watch(lambda _: self._segments(), "value")
        for w in self._inputs():
            w.param.watch(lambda _: self._describe(), "value")
        self.upload.param.watch(self._on_upload, "value")
        self._describe()
        self.run.on_click(self._on_run)
        self.cancel.on_click(lambda _: self._stop.set())
        self.trainer.on_click(self._on_trainer)
        if pn.state.curdoc is not None:
            pn.state.on_session_destroyed(lambda _: self._stop.set())
        pn.state.onload(self._loaded)
        levers = pn.Column(
            self.kept.card, "#### Setting (both scenarios)",
            pn.Row(self.market, self.journey), self.upload, self.upload_error.pane,
            pn.Card(self.log_panel.view, title="Your customers: fit the market to your "
                    "transaction log", collapsed=True, width=LEFT - 20,
                    css_classes=["log-card"]),
            pn.Card(self.events_panel.view, title="Your journey: discover it from your "
                    "event log", collapsed=True, width=LEFT - 20, css_classes=["events-card"]),
            pn.Row(self.clients, self.years, self.replications), self.segment_box,
            "#### Each firm in scenario A and scenario B",
            self.firm_tabs,
            "#### An event",
            self.events["a"][0], self.events["b"][0],
            width=LEFT, height=PANE_HEIGHT, scroll=True)
        answer = pn.Column(
            pn.Row(self.run, self.cancel, self.download, self.trainer),
            self.error.pane, self.overrides.pane, self.progress, self.status.pane,
            self.kept.keeping, self.answer, self.command, self.copy,
            sizing_mode="stretch_width", height=PANE_HEIGHT, scroll=True)
        self.view = pn.Column(
            pn.pane.HTML("<h2 style='margin:0'>cxsim studio: what if?</h2>"
                         "<p style='margin:0.2rem 0'>Set scenario A and what B changes; both "
                         "run on common random numbers, and the answer is the paired "
                         "difference B &minus; A with its 95% interval. Hover a lever's name "
                         "for what it means.</p>", sizing_mode="stretch_width"),
            self.link_error.pane,
            pn.Row(levers, answer, sizing_mode="stretch_width"),
            self.address, sizing_mode="stretch_width")

    # ------------------------------------------------------------------ state
    def _inputs(self) -> list:
        return [self.market, self.journey, self.clients, self.years, self.replications,
                *self.levers.values(),
                *(w for _, widgets in self.events.values() for w in widgets.values())]

    def linked(self) -> dict[str, pn.widgets.Widget]:
        """The widgets a link sets, by their key in its query (B's event under the keys it
        had before A had one; ``event_month``, a 0-based month, is read by :meth:`_open`)."""
        linked = {"market": self.market, "journey": self.journey, "clients": self.clients,
                  "years": self.years, "n": self.replications}
        for scenario, (_, widgets) in self.events.items():
            prefix = "" if scenario == "b" else "a."
            linked.update({f"{prefix}event": widgets["kind"],
                           f"{prefix}event_from": widgets["from"],
                           f"{prefix}event_months": widgets["months"],
                           f"{prefix}event_size": widgets["size"],
                           f"{prefix}event_firm": widgets["firm"]})
        linked.update({f"{scenario}.{firm}.{lever}": w
                       for (scenario, firm, lever), w in self.levers.items()})
        linked.update({f"segment.{name}.{lever}": w
                       for (name, lever), w in self.segment_levers.items()})
        linked.update({f"b.segment.{name}.{lever}": w
                       for (name, lever), w in self.segment_levers_b.items()})
        return linked

    def _open(self, link: Mapping[str, list[bytes]]) -> None:
        """Set the widgets a link names, each value checked first; the values refused are
        listed, one line each, above the setting (the page keeps its defaults for them)."""
        linked = self.linked()
        problems = []
        link = todays_link(link, problems)
        if "uploaded" in link:  # an uploaded journey, by the name the page kept it under
            journey = link.pop("uploaded")[-1][:MAX_LINK_VALUE].decode(errors="replace")
            problem = uploaded_journey_problem(journey)
            if problem:
                problems.append(f"the link's uploaded journey {journey!r} {problem}")
            self.journey.use(None if problem else journey)
        later = {}  # a segment's levers: set once the market the link names has its rows
        for key, values in link.items():
            if key.startswith(("segment.", "b.segment.")) and len(key) <= MAX_LINK_VALUE:
                later[key] = values
            else:
                use_link_value(linked, key, values, problems)
        self._segments()
        linked = self.linked()
        for key, values in later.items():
            use_link_value(linked, key, values, problems)
        if problems:
            more = len(problems) - MAX_LINK_PROBLEMS
            shown = problems[:MAX_LINK_PROBLEMS] + ([f"and {more:,} more"] if more > 0 else [])
            self.link_error.text = ("Part of this link was not used; the page keeps its "
                                      "own settings there:\n" + "\n".join(shown))

    def link(self) -> str:
        """The query of the link that opens this what-if: the setting, what A and B set,
        the events and an uploaded journey (by the name the page kept it under)."""
        preset = segments(self.market.value)
        query = {}
        for key, w in self.linked().items():
            parts = key.split(".")
            if w.value is None or w.value in (AS_IN_A, AS_ITS_SURVEY) or (
                    w is self.journey and self.journey.uploaded) or (  # as uploaded=, below
                    parts[0] == "a" and len(parts) == 3
                    and _preset_default(parts[1], parts[2], w.value)) or (
                    parts[0] == "segment" and w.value == preset.get(parts[1], {}).get(
                        parts[2], object())):
                continue
            query[key] = w.value
        for scenario, (_, widgets) in self.events.items():
            prefix = "" if scenario == "b" else "a."
            if widgets["kind"].value == NO_EVENT:
                for name in ("event", "event_from", "event_months", "event_size",
                             "event_firm"):
                    query.pop(prefix + name, None)
        if self.journey.uploaded is not None:
            query["uploaded"] = self.journey.uploaded
        return urllib.parse.urlencode({key: repr(value) if isinstance(value, float) else value
                                       for key, value in query.items()})

    def _loaded(self) -> None:
        """The address bar holds the what-if as read, what the link could not set left out."""
        self._in_browser = True
        self._describe()

    def _show_a(self, what_if: WhatIf) -> None:
        """Each lever of A shows the value the presets give it where it is left unset, and
        B's "as in A" says what A is (e.g. "as in A: sales_focused")."""
        firms_only = dataclasses.replace(what_if, setting=dataclasses.replace(
            what_if.setting, segments={}))  # a segment's value, even a refused one, sets none
        overrides = firms_only.common_overrides() + firms_only.a_overrides()
        resolved = levers_of(tuple(overrides))
        survey_says = levers_of(tuple(o for o in overrides if ".response=" not in o))
        for (scenario, firm, lever), w in self.levers.items():
            value = resolved[firm][lever]
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            if lever in CHOICES:
                first = ({f"{AS_IN_A}: {shown}": AS_IN_A} if scenario == "b" else
                         {f"{AS_ITS_SURVEY}: {survey_says[firm][lever]}": AS_ITS_SURVEY}
                         if lever == "response" else None)
                options = None if first is None else {**first, **{o: o for o in CHOICES[lever]}}
                if options is not None and options != w.options:
                    w.options = options
            elif scenario == "a":
                w.placeholder = f"preset: {shown}"
            else:
                w.placeholder = f"{AS_IN_A}: {shown}"

    def _segments(self) -> None:
        """One row of the segment levers per segment of the chosen market, at its values."""
        self.segment_levers, self.segment_levers_b = {}, {}
        self.segment_notes, self.stopping = {}, {}
        rows = []
        for name, values in segments(self.market.value).items():
            widgets, fitted = [], []
            for lever, value in values.items():
                if lever in FITTED:
                    fitted.append(self._fitted_row(name, lever, value))
                    continue
                w = number_input(f"{name}: {lever.replace('_', ' ')}", lever, value)
                w.param.watch(lambda _: self._describe(), "value")
                self.segment_levers[name, lever] = w
                widgets.append(w)
            if fitted:
                self.stopping[name] = Text(f"stopping-{name}", styles={"width": f"{LEFT - 40}px"})
                widgets += [pn.Row(pn.pane.HTML(f"<b>{html.escape(name)}, as fitted</b>",
                                                width=LABEL),
                                   *(pn.pane.HTML(f"<b>scenario {x}</b>", width=NARROW)
                                     for x in "AB")),
                            *fitted, self.stopping[name].pane]
            rows.append(pn.Column(*widgets))
        self.segment_box.objects = rows
        self._describe()

    def _fitted_row(self, name: str, lever: str, value: float) -> pn.Column:
        """A :data:`FITTED` lever of segment *name* in scenario A (at its fitted value) and
        B (as in A), the config's message beside a value it refuses."""
        words = FITTED[lever].words + (" (%)" if FITTED[lever].unit == "%" else "")
        if lever == "spend_per_purchase":
            words = f"{words} ({market_currency(self.market.value)})"
        row = [Text("lever", words, {"width": f"{LABEL}px"},
                    tooltip=FITTED[lever].meaning).pane]
        notes = []
        for scenario, start in (("a", value), ("b", None)):
            w = fitted_input(lever, start)
            w.css_classes = [f"segment-{scenario}-{name}-{lever}"]
            w.param.watch(lambda _: self._describe(), "value")
            (self.segment_levers if scenario == "a" else self.segment_levers_b)[name, lever] = w
            note = self.segment_notes[scenario, name, lever] = message(
                f"segment-error-{scenario}-{name}-{lever}")
            row.append(w)
            notes.append(note.pane)
        return pn.Column(pn.Row(*row), *notes)

    def _on_upload(self, event) -> None:
        """Keep a valid uploaded journey for every firm; show why an invalid one is not."""
        self.upload_error.text = ""
        if not event.new:
            return
        try:
            self.journey.use(save_journey(event.new).as_posix())
        except ConfigError as error:
            self.journey.use(None)
            self.upload_error.text = str(error)
        self._describe()

    def _use_market(self, market: str) -> None:
        """A market fitted on this page is scenario A's (and B's, which starts as A)."""
        self.market.options = market_options()
        self.market.value = market

    def _use_journey(self, journey: str) -> None:
        """A journey discovered on this page is every firm's, as an uploaded one is."""
        self.upload_error.text = ""
        self.journey.use(journey)
        self._describe()

    def what_if(self) -> WhatIf:
        preset = segments(self.market.value)
        changed: dict[str, dict[str, float]] = {}
        for (name, lever), w in self.segment_levers.items():
            if w.value is not None and name in preset and w.value != preset[name][lever]:
                changed.setdefault(name, {})[lever] = float(w.value)
        setting = Setting(self.market.value, changed, self.journey.chosen(),
                          self.clients.value, self.years.value, self.replications.value)
        changes: dict[str, dict[str, dict[str, object]]] = {"a": {}, "b": {}}
        for (scenario, firm, lever), w in self.levers.items():
            value = w.value
            if value is None or value in (AS_IN_A, AS_ITS_SURVEY) or (
                    scenario == "a" and _preset_default(firm, lever, value)):
                continue
            changes[scenario].setdefault(firm, {})[lever] = (float(value) if lever in NUMBERS
                                                             else value)
        in_b: dict[str, dict[str, float]] = {}
        for (name, lever), w in self.segment_levers_b.items():
            if w.value is not None and name in preset:
                in_b.setdefault(name, {})[lever] = float(w.value)
        return WhatIf(setting, changes["b"], self._event("b"), changes["a"], self._event("a"),
                      in_b)

    def _event(self, scenario: str) -> Event | None:
        widgets = self.events[scenario][1]
        if widgets["kind"].value not in EVENTS:
            return None
        firm = widgets["firm"].value if widgets["firm"].value in self.firms else None
        return Event(widgets["kind"].value, int(widgets["from"].value or 1) - 1,
                     int(widgets["months"].value or EventConfig.months),
                     float(widgets["size"].value if widgets["size"].value is not None
                           else EventConfig.order_value_factor), firm)

    def _describe_fitted(self, what_if: WhatIf) -> None:
        """Beside each fitted lever the config's one-line message for a value it refuses;
        under them, who stops within a year at the rates set in A and in B."""
        market = what_if.setting.market
        for (scenario, name, lever), note in self.segment_notes.items():
            w = (self.segment_levers if scenario == "a" else self.segment_levers_b)[name, lever]
            problem = "" if w.value is None else fitted_problem(market, name, lever,
                                                                 float(w.value))
            note.text = f"in {scenario.upper()}: {problem}" if problem else ""
        for name, text in self.stopping.items():
            preset = segments(market)[name]
            a = {**preset, **what_if.setting.segments.get(name, {})}
            b = {**a, **what_if.segments.get(name, {})}
            for (segment, lever), w in self.segment_levers_b.items():
                if segment == name:
                    w.placeholder = f"{AS_IN_A}: {a[lever]:.3g}"
            said = []
            for scenario, levers in (("A", a), ("B", b)):
                share = stopping(market, name, {k: v for k, v in levers.items()
                                                if k in FITTED})
                if share is not None:
                    said.append(f"in {scenario}, {share:.0%} at "
                                f"{levers['purchases_per_year']:.3g} purchases a year")
            text.text = ("Clients who stop within a year of joining (at the rates above, "
                         "before the firms' service moves them): " + "; ".join(said) + "."
                         if said else "")

    def _describe(self) -> None:
        if not hasattr(self, "copy"):
            return
        what_if = self.what_if()
        self._describe_fitted(what_if)
        self._show_a(what_if)
        words = what_if.words()
        listed = list(dict.fromkeys(words.get(o) or in_words(o, self.names)
                                    for o in what_if.b_overrides()))
        self.overrides.text = ("B differs from A by: " + "; ".join(listed) if listed
                               else "B is A so far: set a lever in B.")
        self.command.value = what_if.command(program=COMPARE)
        self._compose_ahead(what_if)
        if self._in_browser:
            self.address.value = self.link()

    # ------------------------------------------------------------------ running
    async def _exclusive(self, work) -> None:
        """Run *work(workers, stop)* alone on the shared workers: a new Run stops this
        page's old one; another page's run is waited for, and the page says so."""
        if self._running:
            self._stop.set()
            while self._running:
                await asyncio.sleep(0.05)
        self._stop = stop = threading.Event()
        self._running = True
        self.cancel.disabled = False
        workers = shared_workers()
        try:
            if not workers.lock.acquire(blocking=False):
                self.status.text = ("Waiting: another comparison is running on these "
                                      "cores; this one starts when it ends.")
                while not workers.lock.acquire(blocking=False):
                    if stop.is_set():
                        self.status.text = "Cancelled before it started."
                        return
                    await asyncio.sleep(0.1)
            try:
                await work(workers, stop)
                if stop.is_set():
                    await asyncio.to_thread(workers.restart)
                    self.status.text = "Cancelled; the workers were stopped."
            finally:
                workers.lock.release()
        except Exception as error:  # a worker's failure, shown beside Run, never a traceback
            self.error.text = f"The run failed: {error}"
        finally:
            self._running = False
            self.cancel.disabled = True

    def _compose_ahead(self, what_if: WhatIf) -> Future:
        """Both scenarios of *what_if* composed in the background (Hydra takes about 0.3 s):
        started as the what-if is set, so Run usually finds them done."""
        key = what_if.command(program=COMPARE)
        if self._ahead is None or self._ahead[0] != key:
            if self._ahead is not None:
                self._ahead[1].cancel()
            self._ahead = key, COMPOSER.submit(what_if.configs, config_dir() / "journey")
        return self._ahead[1]

    async def _on_run(self, _event) -> None:
        self.error.text = ""
        what_if = self.what_if()
        composed, self._ahead = self._compose_ahead(what_if), None  # each run its own configs
        try:
            cfg_a, cfg_b = await asyncio.wrap_future(composed)
        except ConfigError as error:
            self.error.text = str(error)
            return
        n, link, uploaded = what_if.setting.replications, self.link(), self.journey.uploaded or ""
        meta = comparison_meta(what_if.common_overrides(), what_if.a_overrides(),
                               what_if.b_overrides(), n, cfg_a, cfg_b, what_if.words())

        async def work(workers: Workers, stop: threading.Event) -> None:
            self.progress.max, self.progress.value = n, 0
            self.answer.object, self.download.disabled = "", True
            self.kept.ran(None)
            self.status.text = f"Running {n} pairs..."
            pairs = compare_stream(cfg_a, cfg_b, n, functools.partial(workers.run, cancel=stop),
                                   workers.processes)
            arriving = asyncio.ensure_future(asyncio.to_thread(next, pairs, None))
            last = None  # all pairs: drawn once, with the maps
            try:
                while (comparison := await arriving) is not None:
                    # the next pairs run in the workers while this answer is drawn
                    arriving = asyncio.ensure_future(asyncio.to_thread(next, pairs, None))
                    compared = Compared(comparison, meta)
                    self._report_page = functools.partial(comparison_page, compared)
                    if not self.answer.object:  # the first: its words at once
                        self.answer.object = answer_html(compared, n, charts=False)
                    self.progress.value = comparison.a.n
                    self.download.disabled = False
                    if comparison.a.n < n:
                        self.answer.object = await asyncio.to_thread(answer_html, compared, n)
                    else:
                        last = compared
            finally:
                if not arriving.done():
                    stop.set()
                    await arriving
            if last is not None:
                shown = await asyncio.to_thread(shown_answer, last, n, maps=not stop.is_set())
                self.answer.object = shown.html()
            if not stop.is_set() and last is not None:
                self.status.text = f"Done: {n} pairs."
                self.kept.ran(Ran(link, uploaded, what_if.command(program=COMPARE), shown,
                                  functools.partial(comparison_page, last)))

        await self._exclusive(work)
        self._compose_ahead(what_if)  # for the next press

    async def _on_trainer(self, _event) -> None:
        """Seed 001's story in three runs: relationship focus wins where clients come back,
        are recognised and talk (the rule); sales focus where they do not (the exception);
        and ten firms that survey only their buyers believe they are better than their
        clients say (the delivery gap)."""
        self.error.text = ""
        n = self.replications.value
        self.years.value = max(self.years.value or 0.0, STORY_YEARS, GAP_YEARS)  # as make demo
        setting = [f"market.size={self.clients.value}", f"sim.years={self.years.value:g}"]
        rule, exception = STORY_MARKETS
        chapters = [(f"The rule: {rule}", rule), (f"The exception: {exception}", exception)]
        gap_title = "The delivery gap: ten firms that survey only their buyers"
        try:
            configs = [WhatIf.scenario([*setting, f"market={market}"])
                       for _, market in chapters]
            industry = WhatIf.scenario([*setting, f"scenario={GAP_SCENARIO}"])
        except ConfigError as error:
            self.error.text = str(error)
            return
        command = (f"{shlex.quote(str(Path(sys.executable).parent / 'cxsim-demo'))} "
                   f"--replications {n} --clients {self.clients.value} "
                   f"--years {self.years.value:g} --out \"$(mktemp -d)\"")
        gap_command = (f"{shlex.quote(CXSIM)} scenario={GAP_SCENARIO} {' '.join(setting)} "
                       f"experiment.replications={n} hydra.run.dir=\"$(mktemp -d)\"")

        async def work(workers: Workers, stop: threading.Event) -> None:
            self.progress.max, self.progress.value = 3 * n, 0
            self.answer.object, self.download.disabled = "", True
            self.kept.ran(None)
            run = functools.partial(workers.run, cancel=stop)
            told: list[tuple[str, Ensemble]] = []
            for (title, _), cfg in zip(chapters, configs):
                self.status.text = f"Running {title.lower()}, {n} replications..."
                runs = stream({"a": cfg}, n, run, workers.processes)
                last = None
                while (ensembles := await asyncio.to_thread(next, runs, None)) is not None:
                    last = ensembles["a"]
                    self.answer.object = story_html([*told, (title, last)],
                                                    cfg.sim.days_per_month, n, as_plain(cfg))
                    self.progress.value = len(told) * n + last.n
                if stop.is_set() or last is None:
                    return
                told.append((title, last))
            story = functools.partial(story_html, told, configs[0].sim.days_per_month, n,
                                      as_plain(configs[0]))
            self.status.text = f"Running {gap_title[0].lower()}{gap_title[1:]}, {n} replications..."
            plain = as_plain(industry)
            runs = stream({"a": industry}, n, run, workers.processes)
            last = None
            while (ensembles := await asyncio.to_thread(next, runs, None)) is not None:
                last = ensembles["a"]
                chapter = await asyncio.to_thread(gap_chapter, last.summary, plain)
                self.answer.object = await asyncio.to_thread(
                    story, gap=(gap_title, last.n, chapter))
                self.progress.value = 2 * n + last.n
            if stop.is_set() or last is None:
                return
            demo = demo_page(
                {market: ensemble for (_, market), (_, ensemble) in zip(chapters, told)},
                {market: as_plain(cfg) for (_, market), cfg in zip(chapters, configs)},
                command)
            self._report_page = functools.partial(trainer_report, demo, chapter, last.summary,
                                                  plain, gap_command)
            self.command.value = f"{command}\n{gap_command}"
            self.download.disabled = False
            self.status.text = "Done: the rule, the exception, and the delivery gap."

        await self._exclusive(work)

    def _report(self) -> io.BytesIO:
        """The last answer's report: the comparison's, or the trainer's story (make demo's),
        built when asked for (a comparison's takes about a second: not at every pair)."""
        if self._report_page is None:
            return io.BytesIO(b"")
        page = self._report_page()  # a kept what-if's is as kept
        return io.BytesIO((page if isinstance(page, str) else render(page)).encode("utf-8"))

    async def _reopen(self, query: Mapping[str, list[bytes]], journey: str | None,
                      answer: str, report: Callable[[], str], said: str) -> None:
        """A kept what-if on the page: its levers set from its link as a shared link's (each
        value checked), its uploaded journey, and its answer as kept, not run again."""
        self._stop.set()  # this page's run, if any, ends first
        while self._running:
            await asyncio.sleep(0.05)
        for key, w in self.linked().items():  # then as a fresh page, opened at the link
            w.value = self._fresh.get(key, w.value)
        self.link_error.text, self.error.text = "", ""
        self.journey.use(journey)
        self._open(query)
        self.answer.object, self._report_page, self.download.disabled = answer, report, False
        self.status.text = said
