"""The studio's two upload panels: a firm's transaction log fitted into scenario A's market,
and its event log discovered into the firms' journey.

Each panel asks what the command asks (the columns, the calibration end or the split, with
the log's dates shown and a date halfway suggested), runs the work on the studio's shared
workers through the page's one-at-a-time runner (so Cancel stops it, and the page stays
live), shows the check in words first, and hands the page what was kept: a market preset's
path or a journey's. The work itself is :mod:`cxsim.studio.logs`'s; errors are the
commands' one lines, beside the upload. A file above the size limit is refused by the
browser before it is sent, and again here before it is read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import panel as pn

from cxsim.data.calibration import check_config, simulate_check, with_check
from cxsim.data.discovery import Discovery
from cxsim.data.discovery_check import compared, replicate
from cxsim.errors import ConfigError
from cxsim.studio import checks, logs
from cxsim.studio.runs import Workers
from cxsim.studio.what_if import save_journey
from cxsim.studio.widgets import Text, message

__all__ = ["EventLogPanel", "TransactionLogPanel"]

Work = Callable[[Workers, threading.Event], Awaitable[None]]
Exclusive = Callable[[Work], Awaitable[None]]
WIDTH, FIELD = 520, 160  # pixels


def _bytes(value: bytes | str) -> bytes:
    """An upload as its bytes: the dropper hands a text file over decoded as UTF-8."""
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _last(files: dict) -> tuple[str, bytes] | None:
    """The file last dropped (the dropper keeps one; a removed file leaves none)."""
    if not files:
        return None
    name, value = list(files.items())[-1]
    return name, _bytes(value)


def _dropper(css: str, limit_mb: float) -> pn.widgets.FileDropper:
    return pn.widgets.FileDropper(multiple=False, max_file_size=f"{limit_mb:g}MB",
                                  layout="compact", width=WIDTH, css_classes=[css])


class _Panel:
    """What both panels share: a dropper, its one-line error, what the log holds, a
    button, a progress bar with Cancel, and the check."""

    what = "log"
    button = "Go"

    def __init__(self, css: str, intro: str, limit_mb: float, exclusive: Exclusive,
                 stop: Callable[[], None]) -> None:
        self.limit_mb = limit_mb
        self.exclusive = exclusive
        self.intro = Text(f"{css}-intro", intro)
        self.dropper = _dropper(f"{css}-drop", limit_mb)
        self.error = message(f"{css}-error")
        self.facts = Text(f"{css}-facts")
        self.go = pn.widgets.Button(label=self.button, color="primary", disabled=True,
                                    width=120, css_classes=[f"{css}-go"])
        self.cancel = pn.widgets.Button(label="Cancel", disabled=True, width=90,
                                        css_classes=[f"{css}-cancel"])
        self.cancel.on_click(lambda _: stop())
        self.progress = pn.indicators.Progress(value=-1, active=True, visible=False,
                                               width=WIDTH - 240, height=12)
        self.status = Text(f"{css}-status")
        self.check = pn.pane.HTML("", css_classes=[f"{css}-check"], width=WIDTH)
        self.upload: tuple[str, bytes, str] | None = None  # name, data, shown
        self.dropper.param.watch(self._on_file, "value")
        self.go.on_click(self._on_go)

    def _received(self, files: dict) -> tuple[str, bytes, str] | None:
        """The file dropped, if within the limit (else its line beside the upload)."""
        self.error.text = self.facts.text = self.status.text = ""
        self.check.object = ""
        self.upload, self.go.disabled = None, True
        got = _last(files)
        if got is None:
            return None
        name, data = got
        try:
            logs.checked_size(len(data), self.limit_mb, self.what)
        except ConfigError as error:
            self.error.text = str(error)
            return None
        return name, data, logs.shown_name(name)

    async def _busy(self, work: Work) -> None:
        """*work* on the workers, one at a time with the page's runs, Cancel live."""
        async def wrapped(workers: Workers, stop: threading.Event) -> None:
            self.progress.visible, self.cancel.disabled, self.go.disabled = True, False, True
            self.progress.value = -1  # going, until a step counts its parts
            try:
                await work(workers, stop)
                if stop.is_set():
                    self.status.text = "Cancelled."
            except ConfigError as error:
                self.error.text = str(error)
                self.status.text = ""
            finally:
                self.progress.visible, self.cancel.disabled = False, True
                self.go.disabled = self.upload is None

        self.error.text = ""
        await self.exclusive(wrapped)

    async def _parts(self, workers: Workers, stop: threading.Event,
                     function: Callable[..., Any], args: tuple, size: int, total: int,
                     runs: Callable[[Any], int] = len) -> AsyncIterator[tuple[list, int]]:
        """A check's *total* replications in parts of *size* (each ``function(*args,
        numbers)``, on whichever worker is free), as they arrive: every part so far and how
        many replications they hold (*runs* counts a part's), the progress bar counting."""
        parts = workers.each([(function, (*args, part))
                              for part in logs.check_parts(size, total)], stop)
        got: list = []
        self.progress.max, self.progress.value = total, 0
        while (part := await asyncio.to_thread(next, parts, None)) is not None:
            got.append(part)
            self.progress.value += runs(part)
            yield got, self.progress.value

    async def _on_file(self, event) -> None:
        raise NotImplementedError

    async def _on_go(self, _event) -> None:
        raise NotImplementedError


class TransactionLogPanel(_Panel):
    """A transaction log in, scenario A's market out: *use_market* gets the fitted preset's
    path (``studio-markets/market-<hash>.yaml``)."""

    what = "transaction log"
    button = "Fit"

    def __init__(self, limit_mb: float, exclusive: Exclusive, stop: Callable[[], None],
                 use_market: Callable[[str], None]) -> None:
        super().__init__(
            "log", "Upload your transaction log (CSV or Parquet, one "
            f"purchase a row, at most {limit_mb:g} MB). It is read on this machine and not "
            "kept; the market fitted to it becomes scenario A's, as cxsim-calibrate fits "
            "it.", limit_mb, exclusive, stop)
        self.use_market = use_market
        self.columns = {role: pn.widgets.Select(label=f"{role} column", options=[],
                                                width=FIELD, css_classes=[f"log-{role}"])
                        for role in logs.ROLES}
        self.columns["customer"].description = "the column naming who bought"
        self.columns["date"].description = "the column with the day of each purchase"
        self.columns["amount"].description = "the column with what each purchase spent"
        self.end = pn.widgets.TextInput(
            label="fit on purchases up to", width=FIELD, css_classes=["log-end"],
            description="the last day of the calibration period (YYYY-MM-DD, inclusive); "
                        "the purchases after it check the fit's forecast")
        self.date_format = pn.widgets.TextInput(
            label="date format", width=FIELD, placeholder="ISO (1997-01-31)",
            css_classes=["log-date-format"],
            description="how the dates are written, if not ISO: e.g. %Y%m%d for 19970131, "
                        "%d/%m/%Y for 31/01/1997")
        self.currency = pn.widgets.TextInput(label="money", value="$", width=70,
                                             css_classes=["log-currency"],
                                             description="the log's currency, written before "
                                                         "amounts ($, €, CHF)")
        self.form = pn.Column(pn.Row(*self.columns.values()),
                              pn.Row(self.end, self.date_format, self.currency),
                              visible=False)
        self.columns["date"].param.watch(self._on_dates, "value")
        self.date_format.param.watch(self._on_dates, "value")
        self.view = pn.Column(self.intro.pane, self.dropper, self.error.pane, self.facts.pane,
                              self.form, pn.Row(self.go, self.cancel, self.progress),
                              self.status.pane, self.check, width=WIDTH)

    async def _facts(self, date: str | None = None) -> dict | None:
        """The upload's columns and dates (read in a thread: a large log takes seconds)."""
        name, data, shown = self.upload

        def read() -> dict:
            with logs.uploaded(data, name) as path:
                return logs.transaction_log_facts(path, shown, date, self.date_format.value)

        try:
            return await asyncio.to_thread(read)
        except ConfigError as error:
            self.error.text = str(error)
            self.facts.text = ""
            return None

    def _say(self, facts: dict) -> None:
        shown = self.upload[2]
        self.facts.text = (f"{shown}: columns {', '.join(facts['columns'])}; purchases from "
                           f"{facts['first']} to {facts['last']}. Say which column holds "
                           "what, and up to which day to fit (the rest checks the fit).")

    async def _on_file(self, event) -> None:
        self.form.visible = False
        self.upload = self._received(event.new)
        if self.upload is None:
            return
        self.status.text = f"Reading {self.upload[2]}..."
        facts = await self._facts()
        self.status.text = ""
        if facts is None:
            return
        self._filling = True
        for role, widget in self.columns.items():
            widget.options = facts["columns"]
            widget.value = facts["guess"][role] or facts["columns"][0]
        self._filling = False
        self.end.value = facts["end"]
        self._say(facts)
        self.form.visible, self.go.disabled = True, False

    async def _on_dates(self, _event) -> None:
        """Another date column or format: its dates' range, and the end halfway again."""
        if self.upload is None or getattr(self, "_filling", False):
            return
        self.error.text = ""
        facts = await self._facts(self.columns["date"].value)
        if facts is not None:
            self.end.value = facts["end"]
            self._say(facts)

    async def _on_go(self, _event) -> None:
        if self.upload is None:
            return
        name, data, shown = self.upload
        chosen = {role: w.value for role, w in self.columns.items()}
        end, date_format, currency = (self.end.value.strip(), self.date_format.value.strip(),
                                      self.currency.value)

        async def work(workers: Workers, stop: threading.Event) -> None:
            total = logs.CHECK_REPLICATIONS
            self.check.object = ""
            self.status.text = (f"Fitting {shown} up to {end}, then simulating the fitted "
                                f"market {total} times to check it...")
            with logs.uploaded(data, name) as path:  # its folder holds the check's files
                found = await asyncio.to_thread(
                    workers.call, logs.fit_log, str(path), shown, end, chosen["customer"],
                    chosen["date"], chosen["amount"], date_format, currency, cancel=stop)
                if found is None:
                    return
                self.use_market(logs.save_market(found).as_posix())
                self.check.object = await asyncio.to_thread(checks.fit_check_html, found,
                                                            total)
                fitted = (f"Fitted: scenario A's market is now {found.market['label']} "
                          f"({found.meta['customers']:,} customers of {shown}): how often "
                          "they buy, their chance of stopping and their spend per purchase "
                          "are set below as fitted, to move in A or B.")
                self.status.text = f"{fitted} Checking it: simulating it {total} times..."
                cfg = await asyncio.to_thread(workers.call, check_config, found, path.parent,
                                              cancel=stop)
                if cfg is None:
                    return
                async for got, runs in self._parts(workers, stop, simulate_check,
                                                   (cfg, found), 5, total,
                                                   lambda part: len(part["numbers"])):
                    self.check.object = await asyncio.to_thread(
                        checks.fit_check_html, with_check(found, got), total)
                    self.status.text = fitted + (f" Checking it: {runs} of {total} "
                                                 "simulations done..." if runs < total else "")

        await self._busy(work)


class EventLogPanel(_Panel):
    """An event log in, the firms' journey out: *use_journey* gets the discovered journey's
    path (``studio-journeys/journey-<hash>.yaml``)."""

    what = "event log"
    button = "Discover"

    def __init__(self, limit_mb: float, exclusive: Exclusive, stop: Callable[[], None],
                 use_journey: Callable[[str], None]) -> None:
        super().__init__(
            "events", "Upload your event log (XES, XES.gz, CSV or Parquet, one "
            f"event a row, at most {limit_mb:g} MB). It is read on this machine and not "
            "kept; the journey discovered from its early cases, as cxsim-discover does, "
            "becomes every firm's, and its later cases check it.", limit_mb, exclusive, stop)
        self.use_journey = use_journey
        self.split = pn.widgets.TextInput(
            label="discover the cases starting before", width=FIELD, css_classes=["events-split"],
            description="the split (YYYY-MM-DD): cases starting before it are discovered; "
                        "the later ones check the journey")
        self.columns = {column: pn.widgets.TextInput(
            label=f"{column} column", value=column if column in ("case", "activity",
                                                                 "timestamp") else "",
            placeholder="if any" if column in ("lifecycle", "resource") else "",
            width=FIELD - 60, css_classes=[f"events-{column}"])
            for column in logs.EVENT_COLUMNS}
        self.table = pn.Row(*self.columns.values(), visible=False)  # a CSV's or Parquet's
        self.form = pn.Column(self.split, self.table, visible=False)
        self.view = pn.Column(self.intro.pane, self.dropper, self.error.pane, self.facts.pane,
                              self.form, pn.Row(self.go, self.cancel, self.progress),
                              self.status.pane, self.check, width=WIDTH)

    def _chosen(self) -> dict[str, str | None]:
        """The columns the command's --case, --activity... would name (XES: its keys)."""
        if not self.table.visible:
            return dict.fromkeys(logs.EVENT_COLUMNS)
        return {column: (w.value.strip() or None) for column, w in self.columns.items()}

    async def _on_file(self, event) -> None:
        self.form.visible = False
        self.upload = self._received(event.new)
        if self.upload is None:
            return
        name, data, shown = self.upload
        self.table.visible = not name.lower().endswith((".xes", ".xes.gz"))
        self.form.visible = self.go.disabled = True
        self.status.text = f"Reading {shown}..."

        async def work(workers: Workers, stop: threading.Event) -> None:
            with logs.uploaded(data, name) as path:
                facts = await asyncio.to_thread(workers.call, logs.event_log_facts, path,
                                                shown, self._chosen(), cancel=stop)
            if facts is None:
                return
            self.split.value = facts["split"]
            self.facts.text = (f"{shown}: {facts['cases']:,} cases, {facts['events']:,} "
                               f"events, from {facts['first']} to {facts['last']}. The "
                               "journey is discovered from the cases starting before the "
                               "split; the later ones check it.")
            self.status.text = ""

        await self._busy(work)
        self.go.disabled = False

    async def _on_go(self, _event) -> None:
        if self.upload is None:
            return
        name, data, shown = self.upload
        split, columns = self.split.value.strip(), self._chosen()

        async def work(workers: Workers, stop: threading.Event) -> None:
            self.check.object = ""
            self.status.text = f"Discovering the journey of {shown}'s cases before {split}..."
            with logs.uploaded(data, name) as path:
                got = await asyncio.to_thread(workers.call, logs.discover_log, str(path),
                                              shown, split, columns, cancel=stop)
                if got is None:
                    return
                found, text = got
                journey = save_journey(text.encode("utf-8"))
                self.use_journey(journey.as_posix())
                self.check.object = checks.journey_html(found)
                await self._check(workers, stop, str(path), shown, split, columns, found,
                                  str(journey.resolve()))

        await self._busy(work)

    async def _check(self, workers: Workers, stop: threading.Event, path: str, shown: str,
                     split: str, columns: dict[str, str | None], found: Discovery,
                     journey: str) -> None:
        """The check as it streams: its replications in parts on both workers, the headline
        redrawn from the runs so far as each part arrives, until all are in."""
        total = logs.CHECK_REPLICATIONS
        self.status.text = f"Checking: the journey walks {shown}'s later cases {total} times..."
        try:
            planned = await asyncio.to_thread(workers.call, logs.check_plan, path, shown,
                                              split, columns, found, journey, cancel=stop)
        except ConfigError as error:  # the journey stands; its check cannot run
            self.status.text = f"Not checked: {error}"
            return
        if planned is None:
            return
        runs = 0
        async for got, runs in self._parts(workers, stop, replicate, (planned, found), 2,
                                           total):
            result = await asyncio.to_thread(compared, planned, found,
                                             [r for part in got for r in part])
            self.check.object = checks.journey_html(found, result, total)
            if runs < total:
                self.status.text = (f"Checking: {runs} of {total} runs on {shown}'s later "
                                    "cases done...")
        if runs == total:
            self.status.text = "Discovered and checked: every firm walks this journey."
