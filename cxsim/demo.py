"""The trainer's demo (``make demo``, ``cxsim-demo``): seed 001's rule and its exception.

The default two firms, one sales-focused and one relationship-focused, in
two markets that differ in three factors only (``recurring_b2b`` and the
exception ``one_off_consumer``: needs yearly, clients anonymous and
silent), a few paired replications each. It prints the answer in plain
sentences and writes one report with both markets side by side:
sales focus leads early; relationship focus overtakes where clients
recur, are recognised and talk, and does not where they buy once a year
in silence.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from cxsim.config import as_plain, compose, to_config
from cxsim.experiment import Ensemble, replicate
from cxsim.report import charts
from cxsim.report.page import Page, table_from_frame, write
from cxsim.report.run import CLV_NOTE, assumption_tables, kpi_frame, leading, run_sentences

__all__ = ["main", "MARKETS"]

MARKETS = {"recurring_b2b": "clients who recur, are recognised and talk",
           "one_off_consumer": "the same clients, but buying once a year, anonymous, silent"}
CLIENTS, YEARS = 2000, 5.0
"""Small enough for the demo to run in under a minute on two cores, long enough to cross."""
REPLICATIONS = 6  # the fewest that measure B2B's first-year sales lead (at 4 its CI spans 0)


def demo_page(ensembles: dict[str, Ensemble], configs: dict[str, dict], command: str) -> Page:
    """Both markets on one page: sentences, key figures, share over time, what differs."""
    answer, series_charts = [], []
    days_per_month = float(next(iter(configs.values()))["sim"]["days_per_month"])
    for market, ensemble in ensembles.items():
        sentences = run_sentences(ensemble.summary, ensemble.timeseries)
        answer.append(f"In {market} ({MARKETS[market]}): " + " ".join(sentences))
        ts = ensemble.timeseries
        firms = list(dict.fromkeys(ts.firm))
        crossing = leading(ensemble.summary, ts)[3]  # the crossover its sentences give
        series_charts.append(charts.share_over_time(
            {f: ts[ts.firm == f] for f in firms}, days_per_month, crossing,
            title=f"Market share over time: {market}"))
    both = pd.concat([e.summary.assign(where=market + ": " + e.summary.firm.astype(str))
                      for market, e in ensembles.items()])
    shown, raw = kpi_frame(both, "where")
    n = next(iter(ensembles.values())).n
    kpis = table_from_frame(f"Key figures per market and firm (mean and 95% CI over {n} "
                            "replications)", shown, CLV_NOTE, "kpis", "kpis.csv", raw)
    first, second = (configs[m] for m in ensembles)
    assumptions = assumption_tables(first, second)
    for table in assumptions:
        table.columns = tuple(c.replace("scenario a", list(ensembles)[0])
                              .replace("scenario b", list(ensembles)[1]) for c in table.columns)
        table.note = table.note.replace("the scenarios", "the markets")
    return Page(
        title="Why transaction focus loses market share, and where it does not",
        subtitle=(f"{first['market']['size']:,} clients over {first['sim']['years']:g} years, "
                  f"{n} paired replications per market; firms: sales_first (sales-focused) "
                  "and client_first (relationship-focused)"),
        answer=answer,
        tables=[kpis],
        charts=[*series_charts, charts.clv_by_firm(both, "where")],
        assumptions=assumptions,
        command=command,
        provenance=[("seed", str(first["seed"])), ("replications", str(n))],
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``cxsim-demo``."""
    parser = argparse.ArgumentParser(prog="cxsim-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=REPLICATIONS,
                        help=f"paired replications per market (default {REPLICATIONS})")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--clients", type=int, default=CLIENTS,
                        help=f"clients in each market (default {CLIENTS:,})")
    parser.add_argument("--years", type=float, default=YEARS,
                        help=f"simulated years (default {YEARS:g})")
    parser.add_argument("--out", type=Path, default=Path("outputs/demo"),
                        help="folder for report.html (default outputs/demo)")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    ensembles, configs = {}, {}
    for market in MARKETS:
        cfg = compose([f"market.size={args.clients}", f"sim.years={args.years}",
                       f"market={market}"])
        configs[market] = as_plain(to_config(cfg))
        print(f"simulating {market}: {args.replications} replications", file=sys.stderr)
        ensembles[market] = replicate(cfg, args.replications, workers=args.workers,
                                      progress=sys.stderr.isatty())
    command = (f"cxsim-demo --replications {args.replications} --clients {args.clients} "
               f"--years {args.years:g}")
    page = demo_page(ensembles, configs, command)
    for sentence in page.answer:
        print(f"- {sentence}")
    args.out.mkdir(parents=True, exist_ok=True)
    path = write(page, args.out / "report.html")
    print(f"\nreport: {path.resolve()}  ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
