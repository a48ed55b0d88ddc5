"""The ``cxsim-compare`` command: what does this lever change, and how sure are we?

::

    cxsim-compare --a firms.client_first.price_level=1.0 \\
                  --b firms.client_first.price_level=1.1 \\
                  --common market.size=2000 sim.years=2 -n 10 --workers 2 --out DIR

runs both scenarios (``--common`` overrides, then ``--a`` or ``--b``) on
common random numbers (:func:`cxsim.compare`), prints the paired table and
writes it to ``DIR/comparison.csv`` and ``DIR/comparison.parquet``.

Exit status 0 on success, 2 on bad input: one line on stderr,
``cxsim-compare: error: ...``, no traceback, nothing written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

import pandas as pd

from cxsim.config import compose
from cxsim.errors import ConfigError
from cxsim.experiment import compare

__all__ = ["main"]

PROG = "cxsim-compare"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        _fail(message)


def _fail(message: str) -> NoReturn:
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Compare two scenarios on common random numbers "
                     "and print the paired differences (b - a) with 95% confidence intervals.")
    for flag, what in (("--a", "scenario a"), ("--b", "scenario b"), ("--common", "both")):
        parser.add_argument(flag, nargs="+", action="extend", default=[], metavar="OVERRIDE",
                            help=f"Hydra overrides for {what}, e.g. market.size=2000")
    parser.add_argument("-n", "--replications", type=int, default=10,
                        help="replications per scenario (default 10)")
    parser.add_argument("--workers", type=int, default=1, help="processes (default 1)")
    parser.add_argument("--metrics", nargs="+", default=None, metavar="METRIC",
                        help="summary metrics to report (default: all numeric ones)")
    parser.add_argument("--out", required=True, type=Path,
                        help="directory for comparison.csv and comparison.parquet")
    return parser


def _number(x: float) -> str:
    """Money in whole units with separators, everything else to 4 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _write(table: pd.DataFrame, out: Path) -> None:
    """Write each file under a temporary name and move it into place."""
    for name, write in (("comparison.csv", lambda p: table.to_csv(p, index=False)),
                        ("comparison.parquet", lambda p: table.to_parquet(p, index=False))):
        tmp = out / f".{name}.partial"
        write(tmp)
        os.replace(tmp, out / name)


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-compare``; *argv* defaults to ``sys.argv[1:]``."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        cfg_a = compose(args.common + args.a)
        cfg_b = compose(args.common + args.b)
        if args.out.exists() and not args.out.is_dir():
            raise ConfigError("--out", "must be a directory", str(args.out))
        comparison = compare(cfg_a, cfg_b, args.replications, workers=args.workers,
                             progress=sys.stderr.isatty())
        table = comparison.table(args.metrics)
    except ConfigError as error:
        _fail(str(error))
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        _write(table, args.out)
    except OSError as error:
        _fail(f"cannot write to --out {str(args.out)!r}: {error.strerror or error}")
    with pd.option_context("display.width", 200, "display.max_columns", None,
                           "display.float_format", _number):
        print(table.to_string(index=False))
    print(f"\noutputs: {args.out}")
