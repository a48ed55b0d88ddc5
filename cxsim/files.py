"""Files written whole or not at all: a temporary name in the same folder, then a rename.

A reader (a person, ``cxsim-collect``, a browser) never sees half a table
or half a page: ``os.replace`` is atomic on one file system. Every file
cxsim writes goes through here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "write_text"]


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
