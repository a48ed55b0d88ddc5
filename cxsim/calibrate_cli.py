"""``cxsim-calibrate``: a transaction log in, a market preset and its evidence out.

The fit is :mod:`cxsim.data.calibration`'s; this is the command around it: its
arguments (with the config's bounds), the files it writes, each whole and
the preset last, what it prints and the next commands it suggests. Bad input
is one line and exit status 2, and nothing is written.

::

    cxsim-calibrate LOG --end DATE --out PRESET.yaml [--results DIR] [options]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from cxsim.config import MarketConfig, SegmentConfig, SimConfig, config_dir
from cxsim.data.calibration import (
    DISCOUNT_RATE,
    MARGIN,
    Calibration,
    calibrate,
    lever_sources,
    number,
    preset_yaml,
    typicals,
)
from cxsim.errors import ConfigError
from cxsim.schema import NAME_PATTERN

__all__ = ["main", "write", "next_steps", "summary_text", "PROG"]


def write(calibration: Calibration, preset: str | Path, results: str | Path,
          command: str = "") -> list[Path]:
    """Write the calibration's files into *results* and the market preset to *preset*, each
    whole; the preset last, so a preset on disk always has its evidence beside it."""
    from cxsim.files import atomic_write, write_text
    from cxsim.report.calibration import calibration_page, plt, weekly_figure
    from cxsim.report.page import write as write_page

    preset, results = Path(preset), Path(results)
    _folders(results, preset.parent)
    c = calibration
    written = [atomic_write(results / "customers.parquet",
                            lambda tmp: c.customers.to_parquet(tmp, index=False))]
    for name, frame in (("weekly", c.weekly), ("counts", c.counts), ("holdout", c.holdout),
                        ("totals", c.totals), ("cohort", c.cohort)):
        written.append(write_text(results / f"{name}.csv", frame.to_csv(index=False)))
    meta = {**c.meta, "preset": preset.name, "command": command}
    written.append(write_text(results / "fit.json", json.dumps(meta, indent=2, default=str)))
    page = calibration_page(c, preset, command, typicals(c), lever_sources(c.market),
                            next_steps(preset, c.market))
    written.append(write_page(page, results / "report.html"))
    figure = weekly_figure(c.weekly, c.meta["calibration_weeks"])
    try:
        written.append(atomic_write(results / "repeat_purchases.png",
                                    lambda tmp: figure.savefig(tmp, format="png", dpi=110)))
    finally:
        plt.close(figure)
    written.append(write_text(preset, preset_yaml(c.market, c.fits, c.meta["log"],
                                                   c.meta["calibration_end"], c.warnings)))
    return written


def _folders(*folders: Path) -> None:
    """Make *folders* (with their parents) before any file is written, so an output path
    that cannot be written to is found first; if one cannot be made, the folders made
    here are removed again and the OSError raised: nothing is left behind."""
    made: list[Path] = []
    try:
        for folder in folders:
            for missing in [p for p in (folder, *folder.parents) if not p.exists()][::-1]:
                missing.mkdir()
                made.append(missing)
            if not folder.is_dir():
                raise NotADirectoryError(20, "Not a directory", str(folder))
    except OSError:
        for folder in reversed(made):
            folder.rmdir()
        raise


def preset_name(preset: Path) -> str:
    """How ``market=`` names the preset: by its name in ``configs/market/``, else its file."""
    import shlex

    if Path(preset).resolve().parent == (config_dir() / "market").resolve():
        return Path(preset).stem
    return shlex.quote(str(preset))


def next_steps(preset: Path, market: dict) -> list[tuple[str, str]]:
    """What to run on the fitted market, each (what it shows, the command): the preset by
    its name when it is in ``configs/market/``, else by its file."""
    name = preset_name(preset)
    segment = next(iter(market["segments"]))
    return [
        ("The default duel, a sales-focused and a relationship-focused firm, among these "
         "customers: which wins, and by how much", f"cxsim market={name}"),
        ("The same with every customer at the fitted means: what the spread between "
         "customers changes", f"cxsim market={name} market.heterogeneity=false"),
        ("A lever the log cannot tell, set to what you know (here the margin)",
         f"cxsim market={name} market.segments.{segment}.margin=0.4"),
        ("What one choice changes among these customers, paired, with 95% confidence "
         "intervals (here a Chief Client Officer for the sales-focused firm)",
         f"cxsim-compare --common market={name} --a firms.sales_first.org=no_cco "
         "--b firms.sales_first.org=cco -n 20 --out cco"),
    ]


def _parser():
    from cxsim.commandline import Parser

    parser = Parser(prog=PROG, description="Calibrate a market to a transaction log: fit "
                    "repeat buying (BG/NBD) and spend (Gamma-Gamma) per customer segment, "
                    "write a market preset, a per-customer table and a report checking the "
                    "fitted market against the log's own purchases.")
    parser.add_argument("log", type=Path, help="the transaction log, CSV or Parquet")
    parser.add_argument("--end", required=True, metavar="DATE",
                        help="last day of the calibration period (inclusive), e.g. 1997-09-30")
    parser.add_argument("--out", required=True, type=Path, metavar="PRESET.yaml",
                        help="the market preset to write, e.g. configs/market/mine.yaml")
    parser.add_argument("--results", type=Path, default=None, metavar="DIR",
                        help="folder for the table, the report and the check (default: "
                        "calibration/<preset name>)")
    for flag, default in (("customer", "customer"), ("date", "date"), ("amount", "amount")):
        parser.add_argument(f"--{flag}-column", default=default,
                            help=f"the log's {flag} column (default {default})")
    parser.add_argument("--segment-column", default=None,
                        help="a column naming each customer's segment: one fit per segment")
    parser.add_argument("--date-format", default=None,
                        help="strftime format of the dates, e.g. %%Y%%m%%d (default: ISO dates)")
    parser.add_argument("-n", "--replications", type=int, default=20,
                        help="simulations of the fitted market for the check (default 20; 0: "
                        "none)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulations")
    parser.add_argument("--discount-rate", type=float, default=SimConfig.discount_rate,
                        help="per year, for the expected CLV, in "
                        f"{DISCOUNT_RATE} (default: the config's, {SimConfig.discount_rate})")
    parser.add_argument("--margin", type=float, default=SegmentConfig.margin,
                        help=f"share of spend kept, for the expected CLV, in {MARGIN} "
                        f"(default {SegmentConfig.margin})")
    parser.add_argument("--label", default=None,
                        help="the market's name in reports (default: customers of <the log's "
                        "name>)")
    parser.add_argument("--currency", default=MarketConfig.currency,
                        help="the log's money, written before amounts (default "
                        f"{MarketConfig.currency})")
    return parser


PROG = "cxsim-calibrate"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-calibrate``; bad input is one line and exit status 2."""
    import shlex

    from cxsim.commandline import fail, warn

    args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    given = sys.argv[1:] if argv is None else argv
    command = shlex.join([PROG, *given])
    try:
        if args.out.suffix not in (".yaml", ".yml") or not re.fullmatch(NAME_PATTERN,
                                                                         args.out.stem):
            raise ConfigError("--out", "must be a .yaml file whose name is a preset name "
                              "(letters, digits, '_' or '-')", str(args.out))
        results = args.results or Path("calibration") / args.out.stem
        if results.exists() and not results.is_dir():
            raise ConfigError("--results", "must be a folder", str(results))
        if args.out.is_dir():
            raise ConfigError("--out", "must be a file, not a folder", str(args.out))
        found = calibrate(args.log, args.end, customer=args.customer_column,
                          date=args.date_column, amount=args.amount_column,
                          segment=args.segment_column, date_format=args.date_format,
                          replications=args.replications, seed=args.seed,
                          discount_rate=args.discount_rate, margin=args.margin,
                          label=args.label, currency=args.currency,
                          progress=sys.stderr.isatty())
    except ConfigError as error:
        fail(PROG, str(error))
    try:
        write(found, args.out, results, command)
    except OSError as error:
        fail(PROG, f"cannot write: {error.strerror or error}: {error.filename or ''}")
    for line in found.warnings:
        warn(PROG, line)
    print(summary_text(found, args.out, results))


def summary_text(found: Calibration, preset: Path, results: Path) -> str:
    """What the command prints: the fit in words, then in numbers, the totals, what to run
    next and where the files are."""
    from cxsim.report.calibration import fit_in_words

    lines = [f"{found.market['label']} ({found.meta['customers']:,} customers of "
             f"{found.meta['log']}):", *fit_in_words(found, typicals(found)), ""]
    for f in found.fits:
        b, s = f.repeat_buying, f.spend
        lines.append(f"{f.name}: {f.customers:,} customers; BG/NBD r {b.r:.3f}, alpha "
                     f"{b.alpha:.3f} weeks, a {b.a:.3f}, b {b.b:.3f} (LL "
                     f"{b.log_likelihood:,.1f}); spend p {number(s.p)}, q {number(s.q)}, "
                     f"gamma {number(s.gamma)}")
    for row in found.totals.itertuples(index=False):
        simulated = (f", simulated {row.simulated:,.0f}" if "simulated" in found.totals
                     else "")
        lines.append(f"{row.period} repeat purchases: actual {row.actual:,}, BG/NBD "
                     f"{row.expected:,.0f}{simulated}")
    steps = next_steps(preset, found.market)
    first = next(i for i, (_, command) in enumerate(steps) if command.startswith("cxsim "))
    lines.append("")
    lines += [f"next: {command}  ({what[0].lower() + what[1:]})"
              for what, command in steps[:first + 1]]
    return "\n".join([*lines, f"      more in {results / 'report.html'}", "",
                      f"preset: {preset} (cxsim market={preset_name(preset)})",
                      f"results: {results}"])


if __name__ == "__main__":
    main()
