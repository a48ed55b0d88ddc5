"""A firm's own logs in the studio: an uploaded transaction log fitted into a market, an
uploaded event log discovered into a journey, each kept by its content.

What happens to an upload is what ``cxsim-calibrate`` and ``cxsim-discover`` do to a file
(:func:`cxsim.data.calibration.calibrate`, :func:`cxsim.data.discovery.discover`, with their
defaults: the check's 20 replications, seed 0), with the same one-line errors, the
uploader's file name standing where the command names its file: the page never reads a log
a second way. Panel is not imported here: the fit, the discovery and its check run in the
studio's worker processes (:meth:`cxsim.studio.runs.Workers.call`), which import this.

Where things go, all under the folder the studio was started in: an upload, while it is
read, in a hidden folder made for it (``.studio-upload-*``) and removed once read,
whatever happens (a log is never kept); a fitted market in :data:`MARKETS`, a discovered
journey in :data:`cxsim.studio.what_if.UPLOADS`, each named by its content's hash. The
uploader's file name is shown (printable characters only), never part of a path.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from cxsim.data.calibration import Calibration, calibrate, default_label, preset_yaml
from cxsim.data.discovery import Discovery, discover, journey_yaml
from cxsim.data.discovery_check import Plan, plan
from cxsim.data.eventlog import read_event_log
from cxsim.data.transactions import log_columns, log_dates
from cxsim.errors import ConfigError
from cxsim.files import write_text
from cxsim.model.journey import journey_from_mapping
from cxsim.studio.what_if import market_label, market_names

__all__ = ["CHECK_REPLICATIONS", "EVENT_COLUMNS", "MARKETS", "MAX_UPLOAD_MB", "ROLES",
           "check_parts", "check_plan", "checked_size", "discover_log", "event_log_facts",
           "fit_log", "fitted_markets", "guess_columns", "journey_name", "market_options",
           "middle_day", "save_market", "shown_name", "transaction_log_facts", "uploaded"]

MARKETS = Path("studio-markets")
"""Where the page keeps fitted markets (under the folder it was started in), each named by
its preset's hash: the command it offers names them there (``market=studio-markets/...``)."""
MAX_UPLOAD_MB = 200.0
"""The largest log the page takes by default, in MB (10^6 bytes; ``cxsim-studio
--max-upload-mb``): the file is held in the server's memory while it is read."""
CHECK_REPLICATIONS = 20
"""Simulations of a fitted market or a discovered journey in its check: the commands'
default (``cxsim-calibrate -n``, ``cxsim-discover --check -n``)."""
CHECK_SEED = 0  # cxsim-calibrate's --seed default
ROLES = ("customer", "date", "amount")
"""The columns a transaction log must name, by what they hold."""
EVENT_COLUMNS = ("case", "activity", "timestamp", "lifecycle", "resource")
"""What a table of events (CSV, Parquet) holds, by column; an XES log names them by its
standard keys."""
_HINTS = {"customer": ("customer", "client", "cust", "user", "member", "account", "buyer",
                       "id"),
          "date": ("date", "day", "time", "when"),
          "amount": ("amount", "spend", "revenue", "value", "sales", "price", "total", "paid")}
_SUFFIXES = (".xes.gz", ".csv.gz", ".xes", ".csv", ".txt", ".parquet", ".pq")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,12}")
_PARSED = None  # the last upload's events in this worker: (its content and columns, events)


def shown_name(name: str) -> str:
    """An uploaded file's name as the page and the files it writes show it: printable
    characters only (no line break can end a YAML comment), at most 80."""
    text = "".join(c for c in str(name) if c.isprintable()).strip()
    return (text[:79] + "…" if len(text) > 80 else text) or "the uploaded file"


def checked_size(size: int, limit_mb: float, what: str) -> None:
    """Refuse an upload of *size* bytes above *limit_mb* MB, before anything reads it.

    Raises
    ------
    ConfigError
        Naming the upload, the limit and the flag that sets it.
    """
    if size > limit_mb * 1e6:
        raise ConfigError(f"uploaded {what}", f"must be at most {limit_mb:g} MB (the "
                          "studio's limit, cxsim-studio --max-upload-mb)",
                          f"{size / 1e6:,.1f} MB")


def _suffix(name: str) -> str:
    """The suffix an upload is read by: a known one (``.xes.gz`` whole), else the name's own
    if it is plain letters and digits (the reader then names it in its refusal), else none."""
    lower = name.lower()
    known = next((s for s in _SUFFIXES if lower.endswith(s)), None)
    if known is not None:
        return known
    suffix = Path(name).suffix
    return suffix if _SUFFIX.fullmatch(suffix) else ""


@contextmanager
def uploaded(data: bytes, name: str) -> Iterator[Path]:
    """*data* as a file for the readers, in a hidden folder of its own under the working
    directory, removed on leaving whatever happened; the file is called ``log`` with the
    suffix of the uploader's *name* (the only part of it used)."""
    folder = Path(tempfile.mkdtemp(prefix=".studio-upload-", dir=Path.cwd()))
    try:
        path = folder / f"log{_suffix(name)}"
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_uploaded(error: ConfigError, path: Path | str, shown: str) -> ConfigError:
    """*error* with the upload's file name where the reader named its temporary file."""
    where, rule, *got = error.__reduce__()[1]
    return ConfigError(where.replace(str(path), shown), rule.replace(str(path), shown), *got)


def guess_columns(columns: list[str]) -> dict[str, str | None]:
    """Which of *columns* likely holds each of :data:`ROLES`: its own name, else the first
    whose name holds a usual word for it, else the first not taken (None when none is left)."""
    chosen: dict[str, str | None] = {}
    free = list(columns)
    for role in ROLES:
        exact = next((c for c in free if c.strip().lower() == role), None)
        chosen[role] = exact
        if exact is not None:
            free.remove(exact)
    for role in ROLES:
        if chosen[role] is None:
            hinted = next((c for hint in _HINTS[role] for c in free if hint in c.lower()), None)
            chosen[role] = hinted if hinted is not None else (free[0] if free else None)
            if chosen[role] is not None:
                free.remove(chosen[role])
    return chosen


def middle_day(first: np.datetime64, last: np.datetime64) -> np.datetime64:
    """The day halfway through a log (CDNOW's: 1997-09-30, Fader, Hardie & Lee's 39 of its
    78 weeks): the page's first suggestion for a calibration end or a split."""
    first, last = np.datetime64(first, "D"), np.datetime64(last, "D")
    return first + (last - first) // 2


def transaction_log_facts(path: Path, shown: str, date: str | None = None,
                          date_format: str | None = None) -> dict:
    """What the page shows of an uploaded transaction log before the fit: its columns, a
    guess at each role's, and the first and last day of *date* (default: the guess).

    Raises
    ------
    ConfigError
        As ``cxsim-calibrate`` would, the upload's name for its file.
    """
    try:
        columns = log_columns(path)
        guess = guess_columns(columns)
        date = date or guess["date"] or ROLES[1]
        first, last = log_dates(path, date, date_format or None)
    except ConfigError as error:
        raise _as_uploaded(error, path, shown) from None
    return {"columns": columns, "guess": guess, "first": str(first), "last": str(last),
            "end": str(middle_day(first, last))}


def fit_log(path: str, shown: str, end: str, customer: str, date: str, amount: str,
            date_format: str | None = None, currency: str = "$") -> Calibration:
    """``cxsim-calibrate`` on an uploaded log, with its defaults (its label, the check's
    seed 0), the upload's name for its file (run in a worker): the fit, its check's 20
    replications left to run in parts (:func:`check_parts`,
    :func:`cxsim.data.calibration.simulate_check`) so the check can stream.

    Raises
    ------
    ConfigError
        The command's one line for a bad log, column, date or calibration end.
    """
    try:
        found = calibrate(path, end, customer=customer, date=date, amount=amount,
                          date_format=date_format or None, replications=0, seed=CHECK_SEED,
                          label=default_label(Path(shown)), currency=currency)
    except ConfigError as error:
        raise _as_uploaded(error, path, shown) from None
    found.meta["log"] = shown
    return found


def save_market(found: Calibration, folder: Path = MARKETS) -> Path:
    """Keep a fitted market as its preset file (the one ``cxsim-calibrate --out`` writes),
    under *folder*, named by its content's hash, written whole; return its path."""
    text = preset_yaml(found.market, found.fits, found.meta["log"],
                       found.meta["calibration_end"], found.warnings)
    path = folder / f"market-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    return write_text(path, text)


def fitted_markets(folder: Path = MARKETS) -> list[str]:
    """The markets kept in *folder* (as ``market=`` names them: their paths), newest first."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.glob("market-*.yaml") if re.fullmatch(r"market-[0-9a-f]{12}",
                                                                      p.stem)]
    return [p.as_posix() for p in sorted(found, key=lambda p: -p.stat().st_mtime)]


def journey_name(shown: str) -> str:
    """A discovered journey's name from its log's: the name without its suffix, each
    character a journey name may not hold as ``_`` (``cxsim-discover`` names it by --out)."""
    stem = shown[:-len(_suffix(shown))] if _suffix(shown) else shown
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:60]
    return name or "discovered"


def _events(path: str, shown: str, columns: dict[str, str | None]):
    """The uploaded log's events as the page's three steps read them (its facts, discovery,
    check): parsed once per worker and upload, found by the file's content (each step gets
    the upload in a folder of its own), a copy each time."""
    global _PARSED
    key = (hashlib.sha256(Path(path).read_bytes()).hexdigest(), tuple(columns.items()))
    if _PARSED is None or _PARSED[0] != key:
        _PARSED = key, read_event_log(path, **columns)  # a large XES takes seconds
    events = _PARSED[1].copy()
    events.attrs["file"] = shown
    return events



def event_log_facts(path: Path, shown: str, columns: dict[str, str | None]) -> dict:
    """What the page shows of an uploaded event log before discovery: its cases, events,
    first and last event, and a split halfway (run in a worker: a large XES takes seconds).

    Raises
    ------
    ConfigError
        As ``cxsim-discover`` would, the upload's name for its file.
    """
    try:
        events = _events(str(path), shown, columns)
    except ConfigError as error:
        raise _as_uploaded(error, path, shown) from None
    first, last = events.timestamp.min(), events.timestamp.max()
    return {"cases": int(events.case.nunique()), "events": len(events),
            "first": f"{first:%Y-%m-%d}", "last": f"{last:%Y-%m-%d}",
            "split": str(middle_day(np.datetime64(first.date()), np.datetime64(last.date())))}


def discover_log(path: str, shown: str, split: str,
                 columns: dict[str, str | None]) -> tuple[Discovery, str]:
    """``cxsim-discover`` on an uploaded log with its defaults (run in a worker): the
    discovery and its journey file's text.

    Raises
    ------
    ConfigError
        The command's one line for a bad log, split or journey.
    """
    try:
        events = _events(path, shown, columns)
        found = discover(events, split, name=journey_name(shown))
        journey_from_mapping(found.journey, shown)  # what the loader will say, now
    except ConfigError as error:
        raise _as_uploaded(error, path, shown) from None
    return found, journey_yaml(found)


def check_plan(path: str, shown: str, split: str, columns: dict[str, str | None],
               found: Discovery, journey: str) -> Plan:
    """What every replication of ``cxsim-discover --check`` of *found*, kept as *journey*,
    shares: the run on the later cases' arrivals (their file beside the upload, removed
    with it) and the later cases themselves (run in the worker that read the log). The
    replications are then run in parts (:func:`check_parts`) so the check can stream.

    Raises
    ------
    ConfigError
        If the later period is shorter than a month (the command's line).
    """
    cohort = Path(path).parent / "cohort.csv"
    found.cohort.to_csv(cohort, index=False)
    try:
        return plan(_events(path, shown, columns), found, split, journey, cohort)
    except ConfigError as error:
        raise _as_uploaded(error, path, shown) from None


def check_parts(size: int, replications: int = CHECK_REPLICATIONS) -> list[list[int]]:
    """A check's replications in parts of *size*, first to last: two workers each take one,
    and a first look (a band needs two runs) comes after the first part."""
    return [list(range(k, min(k + size, replications))) for k in range(0, replications, size)]


def market_options() -> dict[str, str]:
    """The market menu: the shipped presets, then the markets fitted in the studio's folder
    (newest first), each by its name and its file."""
    options = dict(market_names())
    for market in fitted_markets():
        try:
            label = market_label(market)
        except ConfigError:  # a file changed by hand that no longer loads: not offered
            continue
        options[f"{label[:1].upper()}{label[1:]} (fitted here, {Path(market).stem[7:13]})"] = (
            market)
    return options
