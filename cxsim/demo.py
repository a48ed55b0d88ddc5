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
from cxsim.report import charts
from cxsim.report.answer import capital
from cxsim.report.page import Page, Tile, table_from_frame, write
from cxsim.report.run import (
    CLV_NOTE,
    assumption_tables,
    currency_of,
    kpi_frame,
    leading,
    named,
    paired_gap,
    run_sentences,
)
from cxsim.simulation.experiment import Ensemble, replicate_each

__all__ = ["main", "MARKETS"]

MARKETS = {"recurring_b2b": "clients who recur, are recognised and talk",
           "one_off_consumer": "the same clients, but buying once a year, anonymous, silent"}
CLIENTS, YEARS = 2000, 5.0
"""Small enough for the demo to run in under a minute on two cores, long enough to cross."""
REPLICATIONS = 6  # the fewest that measure B2B's first-year sales lead (at 4 its CI spans 0)


def demo_page(ensembles: dict[str, Ensemble], configs: dict[str, dict], command: str) -> Page:
    """Both markets on one page: sentences, key figures, share over time, what differs."""
    answer, series_charts, summaries, tiles, winners, leads = [], [], [], [], [], {}
    days_per_month = float(next(iter(configs.values()))["sim"]["days_per_month"])
    currency = currency_of(next(iter(configs.values())))
    for market, ensemble in ensembles.items():
        config = configs[market]
        label = capital(config["market"]["label"])
        summary, ts = named(ensemble.summary, config), named(ensemble.timeseries, config)
        sentences = run_sentences(summary, ts, currency)
        answer.append(f"{label} ({MARKETS[market]}). " + " ".join(sentences))
        firms = list(dict.fromkeys(ts.firm))
        leader, other, by_month, crossing = leading(summary, ts)  # as its sentences say
        gap = paired_gap(summary, "share_final", leader, other, 100.0)
        winners.append(f"among {config['market']['label']}, "
                       + (f"{leader} ends with more of the market" if gap.sign else
                          "neither firm ends ahead on market share"))
        tiles.append(Tile(f"{label}: final market share", f"{gap.mean:+.1f} points",
                          (f"{capital(leader)} ahead of {other}" if gap.sign else
                           "not distinguishable from level",
                           "95% CI " + f"{gap.low:.1f} to {gap.high:.1f}")))
        leads[f"{label}: {leader} minus {other}"] = (leader, by_month)
        series_charts.append(charts.share_over_time(
            {capital(f): ts[ts.firm == f] for f in firms}, days_per_month, crossing,
            title=f"Market share over time: {label}"))
        summaries.append(summary.assign(where=label + ": " + summary.firm.astype(str)))
    both = pd.concat(summaries)
    shown, raw = kpi_frame(both, "where", currency)
    n = next(iter(ensembles.values())).n
    kpis = table_from_frame(f"Key figures per market and firm (mean and 95% CI over {n} "
                            "replications)", shown, CLV_NOTE, "kpis", "kpis.csv", raw)
    first, second = (configs[m] for m in ensembles)
    assumptions = assumption_tables(first, second)
    for table in assumptions:
        table.columns = tuple(c.replace("scenario a", list(ensembles)[0])
                              .replace("scenario b", list(ensembles)[1]) for c in table.columns)
        table.note = (table.note.replace("the scenarios", "the markets")
                      .replace("scenario a", list(ensembles)[0])
                      .replace("scenario b", list(ensembles)[1]))
    owners = [leader for leader, _ in leads.values()]
    firms = list(dict.fromkeys(named(next(iter(ensembles.values())).summary,
                                     next(iter(configs.values()))).firm))
    headline = charts.difference_over_time(
        {k: v for k, (_, v) in leads.items()}, owners, firms, days_per_month,
        "Market share lead over time, by market", "share lead (points)",
        "the firm named first has more of the market")
    answer.insert(0, "Bottom line: " + "; ".join(winners) + ".")
    return Page(
        title="Why transaction focus loses market share, and where it does not",
        subtitle=(f"{first['market']['size']:,} clients over {first['sim']['years']:g} years, "
                  f"{n} paired replications per market"),
        answer=answer,
        tiles=tiles,
        headline=headline,
        tables=[kpis],
        charts=[*series_charts, charts.clv_by_firm(both, "where", currency)],
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
    cfgs = [compose([f"market.size={args.clients}", f"sim.years={args.years}",
                     f"market={market}"]) for market in MARKETS]
    configs = {market: as_plain(to_config(cfg)) for market, cfg in zip(MARKETS, cfgs)}
    print(f"simulating {' and '.join(MARKETS)}: {args.replications} replications each",
          file=sys.stderr)
    ensembles = dict(zip(MARKETS, replicate_each(cfgs, args.replications, workers=args.workers,
                                                 progress=sys.stderr.isatty())))
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
