"""Files written whole or not at all: a temporary name in the same folder, then a rename.

A reader (a person, ``cxsim-collect``, a browser) never sees half a table
or half a page: ``os.replace`` is atomic on one file system. Every file
cxsim writes goes through here.

Reading a result back is the other half: :func:`read_json`,
:func:`read_yaml` and :func:`read_parquet` turn a missing, unreadable or
damaged file into one :class:`~cxsim.errors.ConfigError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cxsim.errors import ConfigError

__all__ = ["atomic_write", "write_text", "read_text", "read_json", "read_yaml", "read_parquet",
           "read_csv"]


def atomic_write(path: str | os.PathLike, write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary path beside *path*, then move it into place.

    If *write* fails, the temporary file is removed and *path* is untouched.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write *text* (UTF-8) to *path* whole."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _text(path: Path, kind: str) -> str:
    """The text of *path*; a missing or unreadable file is a ConfigError naming it."""
    if not path.is_file():
        raise ConfigError(str(path), _MISSING)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(str(path), f"cannot be read as a {kind} "
                          f"({getattr(error, 'strerror', None) or error})") from None


def read_text(path: str | os.PathLike) -> str:
    """The UTF-8 text of *path*."""
    return _text(Path(path), "UTF-8 text file")


def read_json(path: str | os.PathLike, kind: type = dict) -> Any:
    """The JSON value of *path*, which must be of type *kind* (an object, by default)."""
    import json

    path = Path(path)
    try:
        value = json.loads(_text(path, "JSON file"))
    except json.JSONDecodeError as error:
        raise ConfigError(str(path), f"is not valid JSON ({error})") from None
    if not isinstance(value, kind):
        raise ConfigError(str(path), f"must hold a JSON {_JSON_NAMES.get(kind, kind.__name__)}",
                          _short(value))
    return value


def read_yaml(path: str | os.PathLike) -> dict:
    """The mapping in the YAML file *path*, read safely: a tag that would build a Python
    object (``!!python/...``) is an error, and no code runs."""
    import yaml

    path = Path(path)
    try:
        value = yaml.safe_load(_text(path, "YAML file"))
    except yaml.YAMLError as error:
        raise ConfigError(str(path), f"is not valid YAML ({error})") from None
    if not isinstance(value, dict):
        raise ConfigError(str(path), "must hold a YAML mapping", _short(value))
    return value


def read_parquet(path: str | os.PathLike):
    """The table in the Parquet file *path* (a pandas DataFrame)."""
    import pandas as pd
    import pyarrow as pa

    return _table(path, pd.read_parquet, "Parquet", (pa.ArrowException, OSError, ValueError))


def read_csv(path: str | os.PathLike):
    """The table in the CSV file *path* (a pandas DataFrame)."""
    import pandas as pd

    return _table(path, pd.read_csv, "CSV", (pd.errors.ParserError, pd.errors.EmptyDataError,
                                             OSError, UnicodeDecodeError, ValueError))


def _table(path: str | os.PathLike, read, kind: str, damaged: tuple[type, ...]):
    """*read* of *path*; a missing file or one *read* fails on as a ConfigError naming it."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), _MISSING)
    try:
        return read(path)
    except damaged as error:
        raise ConfigError(str(path), f"is not a readable {kind} table ({error})") from None


_MISSING = "is missing (a finished result has it)"
_JSON_NAMES = {dict: "object", list: "array", str: "string"}


def _short(value: Any) -> Any:
    """*value*, or the start of its text when long: an error message stays one short line."""
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
