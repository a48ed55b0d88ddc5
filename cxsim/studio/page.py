"""The studio page (Panel) and its server: ``cxsim-studio`` serves it on 127.0.0.1.

Panel was chosen after trying it beside Solara: it serves its JavaScript from
the installed package (no request leaves the machine) and runs a blocking
step in a thread from an async handler while the page stays live. A what-if
is a link: the page reads its query itself, each value checked against its
widget's options or bounds before it is set (Panel's own URL syncing parses
the query before any check, and a 50,000-digit number failed inside it), and
writes the what-if back into the address bar. Every session has its own
page; the worker processes (``cxsim.studio.runs``) are shared, one
comparison at a time, and a waiting page says so.
"""

from __future__ import annotations

import asyncio
import html
import io
import math
import re
import signal
import socket
import sys
import threading
import urllib.parse
from collections.abc import Mapping

import panel as pn

from cxsim.commandline import Parser, fail
from cxsim.config import as_plain, config_dir, group_options
from cxsim.demo import YEARS as STORY_YEARS
from cxsim.errors import ConfigError
from cxsim.experiment import Ensemble
from cxsim.report.comparison import Compared, comparison_meta, comparison_page
from cxsim.report.page import render
from cxsim.studio.answer import answer_html, story_html
from cxsim.studio.runs import Workers, compare_stream, stream
from cxsim.studio.what_if import (
    CHOICES,
    EVENTS,
    LIVE_SIZE,
    NUMBERS,
    Setting,
    WhatIf,
    firms,
    lever_bounds,
    save_journey,
    segments,
)

__all__ = ["Studio", "main"]

PROG = "cxsim-studio"
AS_IN_A = "as in A"
PRESET_JOURNEY = "the preset's"
NO_EVENT = "none"
EVERY_FIRM = "every firm"
MAX_LINK_VALUE = 100
"""Characters a link's key or value may have (the page writes at most about 30); a longer
one is refused before it is parsed."""
MAX_LINK_PROBLEMS = 3
"""Problems of a link listed by name; the rest are counted."""
ADDRESS = """
const query = source.value;
window.history.replaceState(null, "", query ? "?" + query : window.location.pathname);
"""
COPY = """
const text = command.value;
if (navigator.clipboard && window.isSecureContext) {
  navigator.clipboard.writeText(text).catch(() => {});
}
"""
_WORKERS: Workers | None = None
_WORKERS_LOCK = threading.Lock()


def shared_workers() -> Workers:
    """The server's worker processes, shared by its pages (started with the server)."""
    global _WORKERS
    with _WORKERS_LOCK:
        if _WORKERS is None:
            _WORKERS = Workers(2)
        return _WORKERS


def _number(name: str, lever: str, value: float | None, placeholder: str = ""):
    bounds = lever_bounds(lever)
    kind = pn.widgets.IntInput if bounds.integer else pn.widgets.FloatInput
    return kind(label=name, value=value, start=bounds.low, end=bounds.high,
                placeholder=placeholder, width=170)


def _number_text(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _checked(widget, text: str):
    """*text* as a value of *widget*: one of its options, or a number within its bounds.

    Raises
    ------
    ValueError
        Saying what the widget takes, with the value found.
    """
    if isinstance(widget, pn.widgets.Select):
        if text in widget.options:
            return text
        raise ValueError(f"must be one of {', '.join(widget.options)}; got {text!r}")
    whole = isinstance(widget, pn.widgets.IntInput)
    kind = "a whole number" if whole else "a number"
    bounds = f"in [{_number_text(widget.start)}, {_number_text(widget.end)}]"
    try:
        if whole and not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError
        value = int(text) if whole else float(text)
    except ValueError:
        raise ValueError(f"must be {kind} {bounds}; got {text!r}") from None
    if not (math.isfinite(value) and widget.start <= value <= widget.end):
        raise ValueError(f"must be {kind} {bounds}; got {text}")
    return value


class Text:
    """Text on the page, shown as text whatever it holds (a name, a link's value, an error
    quoting either). Panel's Str and Markdown panes hand what they hold to the browser as
    HTML, where a link's value ran as script; this escapes it first. Hidden while empty."""

    def __init__(self, css: str, text: str = "", styles: dict[str, str] | None = None
                 ) -> None:
        self.pane = pn.pane.HTML("", css_classes=[css],
                                 styles={"white-space": "pre-wrap", **(styles or {})})
        self.text = text

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value
        self.pane.object = html.escape(value)
        self.pane.visible = bool(value)


def _message(css: str) -> Text:
    """A one-line error shown beside its input."""
    return Text(css, styles={"color": "#b00020"})


class Studio:
    """One browser session's page: the setting, scenario B, Run and the answer.

    *link* is the query of the address the page was opened with (key to values, as the
    server parsed them): the what-if a shared link holds.
    """

    def __init__(self, link: Mapping[str, list[bytes]] | None = None) -> None:
        self.firms = firms()
        self.market = pn.widgets.Select(label="market", options=group_options("market"),
                                        value=Setting.market, width=170)
        self.journey = pn.widgets.Select(label="journey (every firm)",
                                         options=[PRESET_JOURNEY, *group_options("journey")],
                                         width=170)
        self.upload = pn.widgets.FileInput(accept=".yaml,.yml", multiple=False, width=170)
        self.upload_error = _message("upload-error")
        self.clients = _number("clients", "size", LIVE_SIZE["clients"])
        self.years = _number("years", "years", LIVE_SIZE["years"])
        self.replications = pn.widgets.IntInput(label="paired replications",
                                                value=LIVE_SIZE["replications"], start=2,
                                                end=100, width=170)
        self.segment_box = pn.Column()
        self.segment_levers: dict[tuple[str, str], pn.widgets.Widget] = {}
        self.b_levers: dict[tuple[str, str], pn.widgets.Widget] = {}
        columns = []
        for firm in self.firms:
            widgets = []
            for lever, options in CHOICES.items():
                w = pn.widgets.Select(label=lever, options=[AS_IN_A, *options], width=170)
                self.b_levers[firm, lever] = w
                widgets.append(w)
            for lever in NUMBERS:
                w = _number(lever, lever, None, AS_IN_A)
                self.b_levers[firm, lever] = w
                widgets.append(w)
            columns.append(pn.Column(Text("firm", firm, {"font-weight": "bold"}).pane,
                                     *widgets))
        self.event = pn.widgets.Select(label="event in B", options=[NO_EVENT, *EVENTS],
                                       width=170)
        self.event_month = _number("from month", "start_month", 6)
        self.event_firm = pn.widgets.Select(label="workshop at", options=[EVERY_FIRM,
                                                                          *self.firms],
                                            width=170)
        self.overrides = Text("overrides")
        self.command = pn.widgets.TextAreaInput(label="the cxsim-compare command that "
                                                "reproduces it", disabled=True,
                                                sizing_mode="stretch_width", height=70)
        self.copy = pn.widgets.Button(label="Copy command")
        self.copy.js_on_click(args={"command": self.command}, code=COPY)
        self.error = _message("error")
        self.link_error = _message("link-error")
        self.address = pn.widgets.TextInput(visible=False)
        self.address.jscallback(value=ADDRESS)
        self.run = pn.widgets.Button(label="Run", color="primary", css_classes=["run"])
        self.cancel = pn.widgets.Button(label="Cancel", disabled=True, css_classes=["cancel"])
        self.trainer = pn.widgets.Button(label="Trainer: the rule, then the exception")
        self.progress = pn.indicators.Progress(value=0, max=LIVE_SIZE["replications"],
                                               width=300)
        self.status = Text("status", "Set a what-if and press Run.")
        self.answer = pn.pane.HTML("", css_classes=["answer-pane"], sizing_mode="stretch_width")
        self.download = pn.widgets.FileDownload(callback=self._report, filename="report.html",
                                                label="Download report", disabled=True)
        self._compared: Compared | None = None
        self._uploaded: str | None = None
        self._stop = threading.Event()
        self._running = False
        self._in_browser = False  # the address bar is written once the page is loaded
        self._open(link or {})
        self._segments()
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
        self.view = pn.Column(
            "# cxsim studio: what if?",
            "Scenario A is the setting; scenario B changes the levers you set below. Both "
            "run on common random numbers; the answer is the paired difference B - A with "
            "its 95% interval.",
            self.link_error.pane,
            pn.Row(pn.Column("### Setting", self.market, self.journey,
                             "or upload a journey (YAML)", self.upload, self.upload_error.pane,
                             self.clients, self.years, self.replications, self.segment_box),
                   pn.Column("### Scenario B", pn.Row(*columns),
                             pn.Row(self.event, self.event_month, self.event_firm))),
            self.overrides.pane, self.error.pane,
            pn.Row(self.run, self.cancel, self.download, self.trainer),
            self.progress, self.status.pane, self.answer, self.command, self.copy, self.address)

    # ------------------------------------------------------------------ state
    def _inputs(self) -> list:
        return [self.market, self.journey, self.clients, self.years, self.replications,
                self.event, self.event_month, self.event_firm, *self.b_levers.values()]

    def linked(self) -> dict[str, pn.widgets.Widget]:
        """The widgets a link sets, by their key in its query."""
        linked = {"market": self.market, "journey": self.journey, "clients": self.clients,
                  "years": self.years, "n": self.replications, "event": self.event,
                  "event_month": self.event_month, "event_firm": self.event_firm}
        linked.update({f"b.{firm}.{lever}": w for (firm, lever), w in self.b_levers.items()})
        return linked

    def _open(self, link: Mapping[str, list[bytes]]) -> None:
        """Set the widgets a link names, each value checked first; the values refused are
        listed, one line each, above the setting (the page keeps its defaults for them)."""
        linked = self.linked()
        problems = []
        for key, values in link.items():
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
                    linked[key].value = _checked(linked[key], text)
                except ValueError as error:
                    problems.append(f"the link's {key} {error}")
        if problems:
            more = len(problems) - MAX_LINK_PROBLEMS
            shown = problems[:MAX_LINK_PROBLEMS] + ([f"and {more:,} more"] if more > 0 else [])
            self.link_error.text = ("Part of this link was not used; the page keeps its "
                                      "own settings there:\n" + "\n".join(shown))

    def link(self) -> str:
        """The query of the link that opens this what-if: the setting, and what B sets."""
        query = {key: w.value for key, w in self.linked().items()
                 if w.value is not None and w.value != AS_IN_A}
        if self.event.value == NO_EVENT:
            for key in ("event", "event_month", "event_firm"):
                query.pop(key)
        return urllib.parse.urlencode({key: repr(value) if isinstance(value, float) else value
                                       for key, value in query.items()})

    def _loaded(self) -> None:
        """The address bar holds the what-if as read, what the link could not set left out."""
        self._in_browser = True
        self._describe()

    def _segments(self) -> None:
        """One row of the segment levers per segment of the chosen market, at its values."""
        self.segment_levers = {}
        rows = []
        for name, values in segments(self.market.value).items():
            widgets = []
            for lever, value in values.items():
                w = _number(f"{name}: {lever.replace('_', ' ')}", lever, value)
                w.param.watch(lambda _: self._describe(), "value")
                self.segment_levers[name, lever] = w
                widgets.append(w)
            rows.append(pn.Column(*widgets))
        self.segment_box.objects = rows
        self._describe()

    def _on_upload(self, event) -> None:
        """Keep a valid uploaded journey for every firm; show why an invalid one is not."""
        self.upload_error.text = ""
        if not event.new:
            return
        try:
            self._uploaded = str(save_journey(event.new))
        except ConfigError as error:
            self._uploaded = None
            self.upload_error.text = str(error)
        self._describe()

    def what_if(self) -> WhatIf:
        preset = segments(self.market.value)
        changed: dict[str, dict[str, float]] = {}
        for (name, lever), w in self.segment_levers.items():
            if w.value is not None and name in preset and w.value != preset[name][lever]:
                changed.setdefault(name, {})[lever] = float(w.value)
        journey = self.journey.value if self.journey.value in group_options("journey") else None
        setting = Setting(self.market.value, changed, self._uploaded or journey,
                          self.clients.value, self.years.value, self.replications.value)
        b: dict[str, dict[str, object]] = {}
        for (firm, lever), w in self.b_levers.items():
            if w.value is not None and w.value != AS_IN_A:
                b.setdefault(firm, {})[lever] = (float(w.value) if lever in NUMBERS
                                                 else w.value)
        event = None
        if self.event.value in EVENTS:
            firm = self.event_firm.value if self.event_firm.value in self.firms else None
            event = (self.event.value, int(self.event_month.value or 0), firm)
        return WhatIf(setting, b, event)

    def _describe(self) -> None:
        if not hasattr(self, "copy"):
            return
        what_if = self.what_if()
        listed = what_if.b_overrides()
        self.overrides.text = ("B differs from A by: " + ", ".join(listed) if listed
                                 else "B is A so far: set a lever above.")
        self.command.value = what_if.command()
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

    async def _on_run(self, _event) -> None:
        self.error.text = ""
        what_if = self.what_if()
        try:
            cfg_a, cfg_b = what_if.configs(config_dir() / "journey")
        except ConfigError as error:
            self.error.text = str(error)
            return
        n = what_if.setting.replications
        meta = comparison_meta(what_if.setting.overrides(), [], what_if.b_overrides(), n,
                               cfg_a, cfg_b)

        async def work(workers: Workers, stop: threading.Event) -> None:
            self.progress.max, self.progress.value = n, 0
            self.answer.object, self.download.disabled = "", True
            self.status.text = f"Running {n} pairs..."
            pairs = compare_stream(workers, cfg_a, cfg_b, n, stop)
            while (comparison := await asyncio.to_thread(next, pairs, None)) is not None:
                self._compared = Compared(comparison, meta)
                self.answer.object = answer_html(self._compared, n)
                self.progress.value = comparison.a.n
                self.download.disabled = False
            if not stop.is_set():
                self.status.text = f"Done: {n} pairs."

        await self._exclusive(work)

    async def _on_trainer(self, _event) -> None:
        """Seed 001's story in two runs: relationship focus wins where clients come back,
        are recognised and talk (the rule); sales focus where they do not (the exception)."""
        self.error.text = ""
        n = self.replications.value
        self.years.value = max(self.years.value or 0.0, STORY_YEARS)  # as make demo: it shows
        setting = [f"market.size={self.clients.value}", f"sim.years={self.years.value:g}"]
        chapters = [("The rule: recurring_b2b", ["market=recurring_b2b"]),
                    ("The exception: one_off_consumer", ["market=one_off_consumer"])]
        try:
            configs = [WhatIf.scenario(setting + market) for _, market in chapters]
        except ConfigError as error:
            self.error.text = str(error)
            return

        async def work(workers: Workers, stop: threading.Event) -> None:
            self.progress.max, self.progress.value = 2 * n, 0
            self.answer.object, self.download.disabled = "", True
            told: list[tuple[str, Ensemble]] = []
            for (title, _), cfg in zip(chapters, configs):
                self.status.text = f"Running {title.lower()}, {n} replications..."
                runs = stream(workers, {"a": cfg}, n, stop)
                last = None
                while (ensembles := await asyncio.to_thread(next, runs, None)) is not None:
                    last = ensembles["a"]
                    self.answer.object = story_html([*told, (title, last)],
                                                    cfg.sim.days_per_month, n, as_plain(cfg))
                    self.progress.value = len(told) * n + last.n
                if stop.is_set() or last is None:
                    return
                told.append((title, last))
            self.status.text = "Done: the rule, then the exception."

        await self._exclusive(work)

    def _report(self) -> io.BytesIO:
        if self._compared is None:
            return io.BytesIO(b"")
        return io.BytesIO(render(comparison_page(self._compared)).encode("utf-8"))


def page() -> pn.viewable.Viewable:
    """A fresh page for one browser session, opened at its link's what-if."""
    return Studio(pn.state.session_args).view


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-studio``: serve the page on 127.0.0.1 and print its URL."""
    parser = Parser(prog=PROG, description="The what-if page in the browser, on this machine.")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not 0 <= args.port <= 65535:
        fail(PROG, f"--port: must be in [0, 65535], got {args.port}")
    port = args.port or _free_port()
    pn.extension(notifications=False)
    shared_workers()  # warm before the first Run: each worker pays cxsim's import once
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop as on Ctrl+C: workers too
    print(f"cxsim studio: http://127.0.0.1:{port}/ (Ctrl+C stops it)", flush=True)
    try:
        pn.serve({"/": page}, address="127.0.0.1", port=port, show=False,
                 websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"],
                 title="cxsim studio", verbose=False,
                 location=False,  # the page reads and writes its link itself (Studio._open)
                 # a closed tab's session, and its run, end within about 17 s; a shorter
                 # lifetime ended new sessions before a loaded browser connected to them
                 check_unused_sessions_milliseconds=2000,
                 unused_session_lifetime_milliseconds=15_000)
    except OSError as error:
        fail(PROG, f"cannot serve on 127.0.0.1:{port}: {error.strerror or error}")
    finally:
        if _WORKERS is not None:
            _WORKERS.close()


if __name__ == "__main__":
    main()
