"""Kept what-ifs: the what-ifs a person kept on this machine, by the names they gave them.

Each holds the name (any text), when it was kept, the link that reopens it on the page (and
the uploaded journey it ran on, which a link does not name), its ``cxsim-compare`` command,
its answer as shown (as data, :class:`cxsim.studio.answer.ShownAnswer`'s) and its report's
HTML. They live in one SQLite file in the folder the studio was started in (:data:`KEPT`).

Why one SQLite file and not one folder per what-if: a kept what-if is one row written in one
transaction, so it is whole or absent, never half-written; two tabs (or two studios started
in the same folder) keeping at once wait for each other on SQLite's own lock, and both rows
are kept; the list, newest first, is one query that reads no report. A folder per what-if
would have to build each of these by hand (a hidden folder renamed into place, readers
skipping the unfinished, a scan of every folder to list them). The file is read as data:
the name is text (shown escaped, never part of a path), the answer JSON the page's template
draws, the report a page to download.

Keeping a name again keeps both, each with its time: a keep never loses a what-if kept
before, and two tabs keeping one name at once keep both. Panel is not imported here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cxsim.errors import ConfigError

__all__ = ["KEPT", "LISTED", "MAX_NAME", "KeptWhatIf", "KeptWhatIfs", "checked_name"]

KEPT = Path("studio-what-ifs") / "kept.sqlite"
"""Where the studio keeps what-ifs (under the folder it was started in)."""
MAX_NAME = 80
"""Characters a kept what-if's name may have: it is a label in a list, not a note."""
LISTED = 50
"""Kept what-ifs the page lists, newest first (the older are counted)."""
FORMAT = 1  # the file's PRAGMA user_version: a file of ours, in the form this module writes
WAIT_S = 30.0  # how long a keep waits for another's to finish before it says so
_TABLE = "kept_what_ifs"
_COLUMNS = ("number", "name", "kept_at", "link", "journey", "command", "answer", "report")
_SCHEMA = f"""CREATE TABLE {_TABLE} (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kept_at TEXT NOT NULL,
    link TEXT NOT NULL,
    journey TEXT NOT NULL,
    command TEXT NOT NULL,
    answer TEXT NOT NULL,
    report TEXT NOT NULL)"""


def checked_name(name: str) -> str:
    """*name* as a kept what-if's name: one line of printable characters, 1 to
    :data:`MAX_NAME` of them, the spaces around it dropped.

    Raises
    ------
    ConfigError
        Naming the rule the name breaks.
    """
    text = str(name).strip()
    if not text:
        raise ConfigError("the name", "must not be empty: name the what-if to keep it")
    if len(text) > MAX_NAME:
        raise ConfigError("the name", f"must be at most {MAX_NAME} characters", len(text))
    if not text.isprintable():
        raise ConfigError("the name", "must be one line of printable characters",
                          text if len(text) <= 40 else text[:37] + "...")
    return text


@dataclass(frozen=True)
class KeptWhatIf:
    """A kept what-if as the list shows it: its number (the order it was kept in), its name,
    when it was kept (UTC, ISO 8601), the link's query that reopens it, the uploaded journey
    it ran on ('' for a shipped one) and its command. Its answer and report are read when
    opened (:meth:`KeptWhatIfs.answer`, :meth:`KeptWhatIfs.report`)."""

    number: int
    name: str
    kept_at: str
    link: str
    journey: str
    command: str

    def when(self) -> str:
        """When it was kept, in this machine's time, to the second (as written, if a hand
        changed it into something else)."""
        try:
            return datetime.fromisoformat(self.kept_at).astimezone().strftime(
                "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return self.kept_at


class KeptWhatIfs:
    """The kept what-ifs in the file *path*, made with its folder at the first keep.

    Every method opens the file for itself (a page's handlers run in threads, and a
    connection belongs to one) and turns what SQLite says of a damaged, foreign or
    unwritable file into one :class:`~cxsim.errors.ConfigError` naming it."""

    def __init__(self, path: Path = KEPT) -> None:
        self.path = Path(path)

    @contextmanager
    def _opened(self, writing: bool, doing: str = "") -> Iterator[sqlite3.Connection]:
        """The file in a transaction (an immediate one when *writing*: other keeps wait),
        checked to be ours; committed when the block ends, rolled back if it fails; *doing*
        says what cannot be done if it fails."""
        doing = doing or ("cannot keep the what-if" if writing else
                          "cannot be read as kept what-ifs")
        try:
            if writing:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=WAIT_S, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise ConfigError(str(self.path), f"{doing} ({_said(error)})") from None
        try:
            connection.execute("BEGIN IMMEDIATE" if writing else "BEGIN")
            self._check(connection, writing)
            yield connection
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            raise ConfigError(str(self.path), f"{doing} ({_said(error)})") from None
        finally:
            connection.close()  # an open transaction is rolled back

    def _check(self, connection: sqlite3.Connection, writing: bool) -> None:
        """The file is kept what-ifs in this module's form; a new empty file becomes one
        when *writing*."""
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        if version == 0 and not tables:
            if writing:
                connection.execute(_SCHEMA)
                connection.execute(f"PRAGMA user_version = {FORMAT}")
            return
        if version != FORMAT or _TABLE not in tables:
            raise ConfigError(str(self.path), "is not the studio's file of kept what-ifs "
                              f"(format {version}, tables: {', '.join(tables) or 'none'}); "
                              "move it away to keep what-ifs here")
        columns = tuple(row[1] for row in connection.execute(f"PRAGMA table_info({_TABLE})"))
        if columns != _COLUMNS:
            raise ConfigError(str(self.path), "is not the studio's file of kept what-ifs "
                              f"(its columns are {', '.join(columns)})")

    def keep(self, name: str, link: str, journey: str, command: str, answer: dict,
             report: str) -> KeptWhatIf:
        """Keep a what-if under *name* (checked: :func:`checked_name`), whole or not at all.

        Raises
        ------
        ConfigError
            For a bad name, or a file that is not ours or cannot be written.
        """
        name = checked_name(name)
        kept_at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._opened(writing=True) as connection:
            number = connection.execute(
                f"INSERT INTO {_TABLE} (name, kept_at, link, journey, command, answer, report)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, kept_at, link, journey, command, json.dumps(answer), report)).lastrowid
        return KeptWhatIf(number, name, kept_at, link, journey, command)

    def rename(self, number: int, name: str) -> str:
        """Name kept what-if *number* *name* (checked: :func:`checked_name`); return it.

        Raises
        ------
        ConfigError
            For a bad name, a what-if no longer kept, or a file that is not ours.
        """
        name = checked_name(name)
        self._change(number, f"UPDATE {_TABLE} SET name = ? WHERE number = ?", (name, number))
        return name

    def delete(self, number: int) -> None:
        """Delete kept what-if *number*, its answer and its report, for good.

        Raises
        ------
        ConfigError
            For a what-if no longer kept (another tab deleted it), or a file not ours.
        """
        self._change(number, f"DELETE FROM {_TABLE} WHERE number = ?", (number,))

    def _change(self, number: int, statement: str, values: tuple) -> None:
        """*statement* on kept what-if *number*, in one immediate transaction."""
        if not self.path.exists():
            raise ConfigError(str(self.path), "is missing: the kept what-ifs were moved away")
        with self._opened(True, f"cannot change kept what-if {number}") as connection:
            changed = connection.execute(statement, values).rowcount
        if not changed:
            raise ConfigError(str(self.path), f"no longer holds kept what-if {number}")

    def listed(self, limit: int = LISTED) -> tuple[list[KeptWhatIf], int]:
        """The newest *limit* kept what-ifs, newest first, and how many are kept in all
        (none before the first keep: the file is not made by reading)."""
        if not self.path.exists():
            return [], 0
        with self._opened(writing=False) as connection:
            count = connection.execute(f"SELECT count(*) FROM {_TABLE}").fetchone()[0]
            rows = connection.execute(
                f"SELECT {', '.join(_COLUMNS[:6])} FROM {_TABLE} ORDER BY number DESC LIMIT ?",
                (limit,)).fetchall()
        return [KeptWhatIf(*_row(row, (int, str, str, str, str, str), self.path))
                for row in rows], count

    def _one(self, number: int, column: str) -> str:
        if not self.path.exists():
            raise ConfigError(str(self.path), "is missing: the kept what-ifs were moved away")
        with self._opened(writing=False) as connection:
            row = connection.execute(f"SELECT {column} FROM {_TABLE} WHERE number = ?",
                                     (number,)).fetchone()
        if row is None:
            raise ConfigError(str(self.path), f"no longer holds kept what-if {number}")
        return _row(row, (str,), self.path)[0]

    def answer(self, number: int) -> object:
        """The answer kept with what-if *number* as the page showed it (JSON data; checked
        by :meth:`cxsim.studio.answer.ShownAnswer.from_data`)."""
        try:
            return json.loads(self._one(number, "answer"))
        except json.JSONDecodeError as error:
            raise ConfigError(str(self.path), f"holds kept what-if {number}'s answer as "
                              f"damaged JSON ({error})") from None

    def report(self, number: int) -> str:
        """The report's HTML kept with what-if *number*, as its download was."""
        return self._one(number, "report")


def _row(row: tuple, kinds: tuple[type, ...], path: Path) -> tuple:
    """A row as the types this module wrote (a file edited by hand may hold others)."""
    if len(row) != len(kinds) or not all(isinstance(v, k) for v, k in zip(row, kinds)):
        raise ConfigError(str(path), "holds a kept what-if this studio did not write "
                          f"(values of types {', '.join(type(v).__name__ for v in row)})")
    return row


def _said(error: BaseException) -> str:
    """What an OS or SQLite error says, on one line."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    return " ".join(text.split())
