"""The ``cxsim-compare`` command: what does this lever change, and how sure are we?

::

    cxsim-compare --a firms.client_first.price_level=1.0 \\
                  --b firms.client_first.price_level=1.1 \\
                  --common market.size=2000 sim.years=2 -n 10 --workers 2 --out DIR

runs both scenarios (``--common`` overrides, then ``--a`` or ``--b``) on
common random numbers (:func:`cxsim.compare`), prints the answer in words
(what B changes, then B - A per firm with its 95% interval), then the paired
table, and writes into ``DIR``: the table (``comparison.csv``, ``comparison.parquet``),
both scenarios' per-replication summaries and monthly series, the HTML
report (``report.html``) and, last, ``comparison.json`` (what ran): a
directory without it is not a finished comparison.

Exit status 0 on success, 2 on bad input: one line on stderr,
``cxsim-compare: error: ...``, no traceback, nothing written. An override of a
key that cannot change a scenario (:data:`NOT_A_SCENARIO`: ``hydra``'s and
``experiment``'s) is bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from cxsim.commandline import Parser, fail
from cxsim.config import compose
from cxsim.errors import ConfigError
from cxsim.report.comparison import (
    Compared,
    comparison_meta,
    comparison_sentences,
    save_comparison,
)
from cxsim.simulation.experiment import compare

__all__ = ["main"]

PROG = "cxsim-compare"
NOT_A_SCENARIO = {
    "hydra": "Hydra's own settings: cxsim-compare runs no Hydra app and writes to --out",
    "experiment": "the cxsim command's job settings: cxsim-compare runs -n replications and "
                  "always writes its report",
}
"""Keys an override of --a, --b or --common may not set: they cannot change a scenario,
and were dropped silently (``--b hydra.run.dir=x`` compared A with A, every difference 0)."""


def _check_scenario_keys(args: argparse.Namespace) -> None:
    """Refuse an override of a key that cannot change a scenario (:data:`NOT_A_SCENARIO`)."""
    for flag in ("common", "a", "b"):
        for override in getattr(args, flag):
            key = override.split("=", 1)[0].lstrip("+~")
            top = key.replace("/", ".").split(".", 1)[0]
            if top in NOT_A_SCENARIO:
                raise ConfigError(f"--{flag} override '{override}'", f"sets {top}.*, which "
                                  f"cannot change a scenario ({NOT_A_SCENARIO[top]})")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Compare two scenarios on common random numbers "
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
                        help="directory for the paired table, the runs' tables and report.html")
    return parser


def _number(x: float) -> str:
    """Money in whole units with separators, everything else to 4 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-compare``; *argv* defaults to ``sys.argv[1:]``."""
    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    try:
        _check_scenario_keys(args)
        cfg_a = compose(args.common + args.a)
        cfg_b = compose(args.common + args.b)
        if args.out.exists() and not args.out.is_dir():
            raise ConfigError("--out", "must be a directory", str(args.out))
        comparison = compare(cfg_a, cfg_b, args.replications, workers=args.workers,
                             progress=sys.stderr.isatty())
        table = comparison.table(args.metrics)
    except ConfigError as error:
        fail(PROG, str(error))
    compared = Compared(comparison, comparison_meta(args.common, args.a, args.b,
                                                    args.replications, cfg_a, cfg_b))
    try:
        save_comparison(compared, args.out)
    except OSError as error:
        fail(PROG, f"cannot write to --out {str(args.out)!r}: {error.strerror or error}")
    for sentence in comparison_sentences(compared):
        print(sentence)
    print("\nThe paired table (b - a; money in the market's currency):")
    with pd.option_context("display.width", 200, "display.max_columns", None,
                           "display.float_format", _number):
        print(table.to_string(index=False))
    print(f"\noutputs: {args.out}")
