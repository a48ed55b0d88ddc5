"""``cxsim-discover``: an event log in, a journey file and its arrivals out.

The discovery is :mod:`cxsim.data.discovery`'s; this is the command around it: its
arguments, the two files it writes (each whole, the cohort first and the journey last, so
a journey on disk always has its arrivals beside it), what it prints and the command that
runs the journey next. Bad input is one line and exit status 2, and nothing is written.

::

    cxsim-discover LOG --split DATE --out configs/journey/NAME.yaml [--cohort FILE]
        [--case/--activity/--timestamp/--lifecycle/--resource KEY] [--staffed ACT,...]
        [--purchase ACT,...] [--no-purchase ACT,...] [--walk-away ACT,...]
        [--check [-n 20] [--check-out DIR]]

With ``--check`` it then simulates the journey on the later cases' arrivals, cut at the
log's last event, ``-n`` times, and compares with the actual later cases
(:mod:`cxsim.data.discovery_check`): ``fit.json``, CSVs and ``report.html``
(:mod:`cxsim.report.discovery`: the answer in words, then the charts) in ``--check-out``
(default ``outputs/discover/NAME``).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from cxsim.data.discovery import Discovery, discover, journey_yaml, run_overrides
from cxsim.errors import ConfigError
from cxsim.model.journey import journey_from_mapping
from cxsim.schema import NAME_PATTERN

__all__ = ["PROG", "main", "summary_text", "write", "write_check_page"]

PROG = "cxsim-discover"


def write(found: Discovery, journey: str | Path, cohort: str | Path,
          command: str = "") -> list[Path]:
    """Write the cohort, then the journey, each whole; return their paths."""
    from cxsim.calibrate_cli import _folders
    from cxsim.files import write_text

    journey, cohort = Path(journey), Path(cohort)
    _folders(*dict.fromkeys((cohort.parent, journey.parent)))
    written = [write_text(cohort, found.cohort.to_csv(index=False))]
    written.append(write_text(journey, journey_yaml(found, command)))
    return written


def _names(text: str | None) -> list[str] | None:
    """A comma-separated list of activity names, or None when not given."""
    if text is None:
        return None
    return [name.strip() for name in text.split(",") if name.strip()]


def _parser():
    from cxsim.commandline import Parser

    parser = Parser(prog=PROG, description="Discover a journey from an event log: touchpoints, "
                    "routing with loops, delays, service times, staff and walk-aways from the "
                    "cases that start before the split; the later cases' arrivals as a "
                    "market.cohort file.")
    parser.add_argument("log", type=Path, help="the event log: XES, XES.gz, CSV or Parquet")
    parser.add_argument("--split", required=True, metavar="DATE",
                        help="cases starting before it are discovered, the others become the "
                        "cohort, e.g. 2012-01-15")
    parser.add_argument("--out", required=True, type=Path, metavar="NAME.yaml",
                        help="the journey to write, e.g. configs/journey/bpic2012.yaml")
    parser.add_argument("--cohort", type=Path, default=None, metavar="FILE",
                        help="the later cases' arrivals (default: cohorts/<journey name>.csv)")
    for column, key in (("case", "the trace's concept:name"), ("activity", "concept:name"),
                        ("timestamp", "time:timestamp"), ("lifecycle", "lifecycle:transition"),
                        ("resource", "org:resource")):
        parser.add_argument(f"--{column}", default=None, metavar="KEY",
                            help=f"the log's {column} key or column (default: XES {key}; "
                            f"a table's column '{column}')")
    parser.add_argument("--staffed", default=None, metavar="ACT,...",
                        help="the staffed activities (default: those with START events)")
    parser.add_argument("--purchase", default=None, metavar="ACT,...",
                        help="activities meaning a purchase (default: A_APPROVED, A_ACTIVATED, "
                        "A_REGISTERED)")
    parser.add_argument("--no-purchase", default=None, metavar="ACT,...",
                        help="activities meaning no purchase (default: A_DECLINED)")
    parser.add_argument("--walk-away", default=None, metavar="ACT,...",
                        help="activities meaning the client walked away (default: A_CANCELLED)")
    parser.add_argument("--working-hours", type=float, default=40.0, metavar="HOURS",
                        help="hours a staff member works a week (default 40)")
    parser.add_argument("--delays", choices=("mean", "quantiles", "weibull"), default="mean",
                        help="how an edge's delay varies: not at all (the gaps' mean; "
                        "default), as the log's gaps (their quantiles), or as a Weibull "
                        "fitted to them")
    parser.add_argument("--check", action="store_true",
                        help="simulate the journey on the later cases' arrivals and compare "
                        "with the actual later cases (fit.json, CSVs and report.html)")
    parser.add_argument("-n", "--replications", type=int, default=20, metavar="N",
                        help="replications of the check (default 20)")
    parser.add_argument("--check-out", type=Path, default=None, metavar="DIR",
                        help="the check's folder (default: outputs/discover/<journey name>)")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-discover``; bad input is one line and exit status 2."""
    from cxsim.commandline import fail

    given = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(given)
    command = shlex.join([PROG, *given])
    try:
        if args.out.suffix not in (".yaml", ".yml") or not re.fullmatch(NAME_PATTERN,
                                                                         args.out.stem):
            raise ConfigError("--out", "must be a .yaml file whose name is a journey name "
                              "(letters, digits, '_' or '-')", str(args.out))
        if args.out.is_dir():
            raise ConfigError("--out", "must be a file, not a folder", str(args.out))
        cohort = args.cohort or Path("cohorts") / f"{args.out.stem}.csv"
        if cohort.suffix.lower() != ".csv" or cohort.is_dir():
            raise ConfigError("--cohort", "must be a .csv file", str(cohort))
        from cxsim.data.eventlog import read_event_log

        if args.check and not 2 <= args.replications <= 1000:
            raise ConfigError("-n", "must be an integer in [2, 1,000] (a band needs two runs)",
                              args.replications)
        events = read_event_log(args.log, case=args.case, activity=args.activity,
                                timestamp=args.timestamp, lifecycle=args.lifecycle,
                                resource=args.resource)
        found = discover(events, args.split, name=args.out.stem,
                         staffed=_names(args.staffed), purchase=_names(args.purchase),
                         no_purchase=_names(args.no_purchase),
                         walk_away=_names(args.walk_away),
                         working_hours_per_week=args.working_hours, delays=args.delays)
        journey_from_mapping(found.journey, str(args.out))  # what the loader will say, now
        if args.check:
            from cxsim.data.discovery_check import later_period_days

            later_period_days(events, args.split)
    except ConfigError as error:
        fail(PROG, str(error))
    try:
        write(found, args.out, cohort, command)
    except OSError as error:
        fail(PROG, f"cannot write: {error.strerror or error}: {error.filename or ''}")
    print(summary_text(found, args.out, cohort))
    if args.check:
        from cxsim.data.discovery_check import check

        folder = args.check_out or Path("outputs") / "discover" / args.out.stem
        try:
            result = check(events, found, args.split, args.out, cohort, args.replications)
            files = result.write(folder)
            files.append(write_check_page(result, found, folder / "report.html", command))
        except ConfigError as error:
            fail(PROG, str(error))
        except OSError as error:
            fail(PROG, f"cannot write: {error.strerror or error}: {error.filename or ''}")
        print("", check_text(result), *(f"  {path}" for path in files), sep="\n")


def write_check_page(result, found: Discovery, path: Path, command: str = "") -> Path:
    """The check's ``report.html`` (:func:`cxsim.report.discovery.check_page`), written whole."""
    from cxsim.report.discovery import check_page
    from cxsim.report.page import write as write_page

    return write_page(check_page(result, found, command), path)


def summary_text(found: Discovery, journey: Path, cohort: Path) -> str:
    """What the command prints: the periods, the outcomes, the touchpoints, what is not
    modelled, and the command that runs the journey."""
    c, t = found.counts, found.touchpoints
    shares = found.outcome_shares()
    outcome = ", ".join(f"{k.replace('_', ' ')} {found.outcomes[k]:,} ({v:.1%})"
                        for k, v in shares.items())
    lines = [
        f"{c['log']}: {c['cases']:,} cases, {c['events']:,} events, {c['first_event']} to "
        f"{c['last_event']}.",
        f"Split at {c['split']}: {c['early_cases']:,} cases start before it and are "
        f"discovered; {c['late_cases']:,} start on or after it and are the cohort.",
        f"Outcomes of the early cases: {outcome}"
        + (f"; {c['censored']:,} censored (no outcome by the log's end: left out of the "
           "shares, never counted as walk-aways)." if "censored" in found.outcomes else "."),
        f"Journey: {len(found.journey['touchpoints']):,} touchpoints, "
        f"{len(found.journey['edges']):,} edges, exits {', '.join(found.journey['exits'])}; "
        f"entry {found.journey['entry']}.",
    ]
    if found.service_time:
        staffed = ", ".join(f"{row.touchpoint} ({row.staff} staff, "
                            f"{row.service_days * 24 * 60:.1f} min)"
                            for row in t[t.staffed].itertuples())
        lines.append(f"Staffed: {staffed or 'none'}.")
    else:
        lines.append("Staffed: none (no lifecycle in the log: no service time to staff by).")
    if found.dropped:
        lines.append("Folded or dropped: " + "; ".join(found.dropped) + ".")
    lines.append("Not modelled:")
    lines += [f"  - {note}" for note in found.not_modelled]
    lines += ["", f"journey: {journey}", f"cohort: {cohort}",
              "next: cxsim " + " ".join(shlex.quote(o)
                                        for o in run_overrides(found, journey, cohort))]
    return "\n".join(lines)


def check_text(result) -> str:
    """What ``--check`` prints: each measure, actual against the replications' mean and band;
    the outcome shares of a log without outcomes and the waits of a log without lifecycle are
    not printed (a line says why)."""
    import math

    f = result.facts
    lines = [f"Check on the {f['later_cases_ended']:,} later cases that ended by the log's end "
             f"({f['cut_days']:.1f} days after the split), {f['replications']} replications:"]
    unseen = ()
    if not f.get("outcomes_observed", True):
        unseen += ("share_",)
        lines.append("  outcome shares: not measured (no outcome activity in the log: every "
                     "case completes)")
    waits = result.summary.set_index("measure").actual.get("wait_mean_hours", 0.0)
    if waits is None or math.isnan(waits):
        unseen += ("wait_",)
        lines.append("  waits before staffed work: not observable (no service time or staff "
                     "in the log)" if not f.get("service_times_observed", True) else
                     "  waits before staffed work: none in the log")
    for row in result.summary.itertuples():
        if row.measure.startswith(unseen):
            continue
        actual = "" if row.measure.endswith(("distance", "emd_hours")) else \
            f"actual {row.actual:.4g}, "
        lines.append(f"  {row.measure}: {actual}simulated {row.mean:.4g} "
                     f"[band {row.band_low:.4g}, {row.band_high:.4g}]")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
