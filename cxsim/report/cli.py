"""The ``cxsim-report`` command: one self-contained HTML page for a run, comparison or experiment.

::

    cxsim-report PATH [--out FILE]

``PATH`` is a finished run directory of ``cxsim`` (``meta.json``), a
comparison directory of ``cxsim-compare --out`` (``comparison.json``) or an
experiment's ``results/`` folder (``run.json``). The page goes to
``PATH/report.html`` unless ``--out`` names a file. Exit status 0 on
success, 2 on bad input: one line on stderr, no traceback, nothing written.
"""

from __future__ import annotations

import sys
from pathlib import Path

from cxsim.commandline import Parser, fail
from cxsim.errors import ConfigError

__all__ = ["main"]

PROG = "cxsim-report"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-report``; *argv* defaults to ``sys.argv[1:]``."""
    from cxsim.report import write_report

    parser = Parser(prog=PROG, description="Write one self-contained HTML report of a "
                     "finished cxsim run, comparison or experiment.")
    parser.add_argument("path", type=Path, help="run, comparison or experiment results folder")
    parser.add_argument("--out", type=Path, default=None,
                        help="the HTML file to write (default PATH/report.html)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        out = write_report(args.path, args.out)
    except ConfigError as error:
        fail(PROG, str(error))
    except OSError as error:
        fail(PROG, f"cannot write the report: {error.strerror or error}")
    print(out)


if __name__ == "__main__":
    main()
