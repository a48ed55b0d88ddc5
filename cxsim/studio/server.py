"""The studio's server: ``cxsim-studio`` serves a fresh page to each browser session on
127.0.0.1, its worker processes shared by the pages and stopped with it."""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import sys
import tempfile
from pathlib import Path

import panel as pn

from cxsim.commandline import Parser, fail
from cxsim.studio.logs import MAX_UPLOAD_MB
from cxsim.studio.page import COMPOSER, Studio
from cxsim.studio.runs import close_shared, shared_workers
from cxsim.studio.what_if import read_presets

__all__ = ["main"]

PROG = "cxsim-studio"
_MAX_UPLOAD_MB = MAX_UPLOAD_MB  # the server's --max-upload-mb, for every page it builds


def _page() -> pn.viewable.Viewable:
    """A fresh page for one browser session, opened at its link's what-if."""
    return Studio(pn.state.session_args, _MAX_UPLOAD_MB).view


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scratch() -> Path:
    """A hidden folder of this server's in the folder it was started in, made the temporary
    folder of the server and of the workers it starts (they inherit ``TMPDIR``): what a fit's
    check or a fitted market's compose writes for a moment stays in the studio's folder."""
    scratch = Path(tempfile.mkdtemp(prefix=".studio-scratch-", dir=Path.cwd()))
    os.environ["TMPDIR"] = tempfile.tempdir = str(scratch)
    return scratch


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-studio``: serve the page on 127.0.0.1 and print its URL."""
    parser = Parser(prog=PROG, description="The what-if page in the browser, on this machine.")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--max-upload-mb", type=float, default=MAX_UPLOAD_MB, metavar="MB",
                        help="the largest transaction or event log the page takes, in MB "
                        f"(default {MAX_UPLOAD_MB:g})")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not 0 <= args.port <= 65535:
        fail(PROG, f"--port: must be in [0, 65535], got {args.port}")
    if not (math.isfinite(args.max_upload_mb) and 0 < args.max_upload_mb <= 100_000):
        fail(PROG, f"--max-upload-mb: must be in (0, 100,000], got {args.max_upload_mb:g}")
    global _MAX_UPLOAD_MB
    _MAX_UPLOAD_MB = args.max_upload_mb
    port = args.port or _free_port()
    scratch = _scratch()
    pn.extension("filedropper", notifications=False)
    shared_workers()  # warm before the first Run: each worker pays cxsim's import once
    COMPOSER.submit(read_presets)  # and the menus, before the first page
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop as on Ctrl+C: workers too
    print(f"cxsim studio: http://127.0.0.1:{port}/ (Ctrl+C stops it)", flush=True)
    try:
        pn.serve({"/": _page}, address="127.0.0.1", port=port, show=False,
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
        close_shared()
        shutil.rmtree(scratch, ignore_errors=True)
