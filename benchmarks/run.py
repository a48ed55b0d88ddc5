"""`make bench`: throughput, scaling, memory per client, demo wall time, replications.

Appends one row per figure (one per journey for throughput) to
``benchmarks/RESULTS.md``, keeping the earlier rows, and prints the new rows.
Every measurement runs in a fresh subprocess of this script (``--child ...``),
which prints one JSON line on stdout; the parent only uses the standard library.

Timings: throughput and demo timings are repeated ``REPEATS`` times in the same
process and the *best* (shortest) time is reported; the engine and the skeleton
alternate within that process so that both see the same machine load. Scaling
runs (one per market size, each in a fresh process for its peak RSS) and
replication runs are timed once each.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"

REPEATS = 3
WARMUP = ["market.size=1000", "sim.years=0.1"]  # imports and first-call costs, not timed
# 1. throughput, one firm alone on each shipped journey; one run takes 2-10 s
THROUGHPUT = ["scenario=solo", "market.size=10000", "sim.years=3"]
# 1c. the same at 100,000 clients, over a tenth of the horizon (about the same visits)
THROUGHPUT_LARGE = ["scenario=solo", "market.size=100000", "sim.years=0.3"]
# 1b. throughput of the default market: two firms, small world, word of mouth on
DUEL = ["scenario=duel", "network=small_world", "market.size=10000", "sim.years=3"]
# 2. memory per client at small sizes (the earlier method), default scenario
MEMORY_SIZES = [10_000, 40_000, 70_000, 100_000]
MEMORY = ["sim.years=0.25"]
# 3. scaling: market size -> simulated years, default scenario, one fresh process each
SCALING = {10_000: 0.5, 100_000: 0.5, 1_000_000: 0.5}
# 3b. a million clients over five years, default duel, one fresh process
MILLION = (1_000_000, 5.0)
# 5. replications: (label, overrides, replications); workers=1 and workers=2 each
REPLICATIONS = [
    ("demo", [], 20),  # 20 replications of the demo (8 in rows before 9d1f59c)
    ("10k clients, 1 year", ["sim.years=1"], 20),  # 20 demos are too slow for make bench
]
# 6. collector: a real sweep of this many one-firm jobs, then cxsim.collect.collect on it
COLLECT_JOBS = 100
COLLECT_SWEEP = ["scenario=solo", "market.size=100", "sim.years=0.25",
                 f"seed=range(0,{COLLECT_JOBS})"]
REPORT_SETTING = ["market.size=1000", "sim.years=3"]
# 8. small markets: (clients, years) of the default duel in recurring_b2b
SMALL = [(1_000, 2.0), (2_000, 3.0), (10_000, 5.0)]
SMALL_MARKET = ["market=recurring_b2b"]
SMALL_REPLICATIONS = 10
REPORT_REPLICATIONS = 10
# 9. network generators: cxsim's and networkx's, one fresh process per build
NETWORKS = ["small_world", "scale_free"]
NETWORK_SIZE = 1_000_000
# 11. cxsim-calibrate on a synthetic log (benchmarks/calibration_log.py)
CALIBRATION_CUSTOMERS = 1_000_000
# 12. the ten-firm industry against the duel (the delivery-gap issue: at most 2x)
INDUSTRY_SIZE = 20_000
INDUSTRY_YEARS = 3.0
# 13. cxsim-discover on BPIC 2012 and the help desk log (each with its check, 20
# replications) and on a synthetic log
DISCOVERY_LOG = ROOT / "data" / "eventlogs" / "BPI_Challenge_2012.xes.gz"
DISCOVERY_SPLIT = "2012-01-15"
HELPDESK_LOG = ROOT / "data" / "eventlogs" / "helpdesk.xes.gz"
HELPDESK_SPLIT = "2012-04-01"  # a quarter's start leaving about a third of the tickets later
DISCOVERY_REPLICATIONS = 20
DISCOVERY_CASES = 100_000  # about a million events (benchmarks/event_log.py)
TARGETS = {"ratio": (0.5, 2.0), "kb_per_client": (2.0, 1.0), "kb_per_client_1m": 1.0,
           "exponent": 1.1, "speedup": 1.7}  # (now, later) where two

HEADER = f"""\
# Benchmark results

Written by `make bench` (`benchmarks/run.py`). Each run appends its rows below;
earlier rows are kept. Compare rows only on the same machine: these are shared,
noisy machines, so every figure that matters is a ratio or a slope measured
inside one process (or one run), and the short timings are the best of {REPEATS}.

Row keys: **date** (UTC); **commit** (`git rev-parse --short HEAD`, `+dirty` when
the work tree, untracked files included and this file excluded, differs from
it; `, changed during run` when cxsim's sources, the configs or the benchmark
scripts changed while `make bench` ran, so its rows may mix code states);
**machine** (`nproc` x CPU model, Python version).

The default scenario is two firms (`scenario=duel`: `sales_first` and
`client_first` on `professional_services`, a small-world network, word of mouth
and quarterly management) since commit c1553d5; rows before it ran one firm.

## What the figures mean

1. **Throughput, one firm** (`{" ".join(THROUGHPUT)}`, each
   shipped journey as `firms.acme.journey`): touchpoint visits counted per second of wall time
   of `cxsim.run(cfg)` (`Results.touchpoints.visits.sum()`), against a *bare
   SimPy skeleton* (`benchmarks/skeleton.py`) doing the same yields with no
   model logic: one process per client, exponential need gaps, a timeout per
   visit, a `simpy.Resource` per staffed touchpoint, `Journey.step` routing,
   delay timeouts. The skeleton runs the engine's mean number of active
   clients (`timeseries.active_clients.mean()`) from day 0 over the same
   horizon. **engine/skeleton** = engine visits/s / skeleton visits/s, both
   best of {REPEATS}, run alternately in one process; *paired* gives the min-max
   of the {REPEATS} ratios of adjacent runs, a gauge of the noise.
   Target: ratio >= {TARGETS["ratio"][0]} for now, >= {TARGETS["ratio"][1]} later.
   Rows before c1553d5 ran the then-default one-firm scenario, the same setting.

   **1b. Throughput, two firms** (`{" ".join(DUEL)}`: the default
   market, word of mouth on): the same figure, the skeleton running each
   firm's mean active clients on that firm's journey with that firm's own
   resources, in one environment (*clients* lists them per firm). Word of
   mouth, choice, switching and management are model logic the skeleton does
   not do. Same target.

   **1c. Throughput, one firm, 100k clients** (`{" ".join(THROUGHPUT_LARGE)}`):
   table 1 at ten times the clients over a tenth of the horizon, so about
   the same number of visits. The engine walks each day's needs in one
   batch and evaluates finished walks once a day (when clients talk), so it
   pays a fixed cost per simulated day; at 10k clients that cost is
   spread over ~130 walks a day, at 100k over ~1,300. The skeleton pays per
   client process and per event, and its event heap grows with the market.
   Same target.
2. **Memory per client, 10k-100k** (`{" ".join(MEMORY)}`, default scenario):
   peak RSS (`getrusage(RUSAGE_SELF).ru_maxrss`) of a fresh process that
   imports cxsim and runs one scenario, at market sizes
   {", ".join(f"{n // 1000}k" for n in MEMORY_SIZES)}; **KB/client** is the
   least-squares slope of peak RSS over market size, the **baseline** its
   intercept (imports and fixed costs), **R2** the fit quality. Target:
   <= {TARGETS["kb_per_client"][0]:g} KB/client for now. Kept for continuity
   with the earlier rows; figure 3's slope up to 1M is the one the target
   <= {TARGETS["kb_per_client"][1]:g} KB is about.
3. **Scaling to a million clients** (default scenario, market sizes
   {", ".join(f"{n:,}" for n in SCALING)} with
   `sim.years` = {" / ".join(f"{y:g}" for y in SCALING.values())}: the same horizon,
   so every size does the same work per client; one fresh process per size,
   warmed up by a small run): **s per sim year** is the wall time of one run
   (`Engine` construction, network included, plus `Engine.run`, results
   included) divided by `sim.years`; *build* is the construction part.
   **exponent** is the least-squares slope of log(time) over log(clients):
   1 is linear. Target: exponent <= {TARGETS["exponent"]}.
   **KB/client** is the slope of peak RSS from 100k to 1M clients (the
   difference of the two peaks over 900,000 clients), network included;
   **network B/client** is `Engine.network` (CSR `indptr` + `indices`, their
   `nbytes`) per client, and **network share** its part of that slope.
   Target: <= {TARGETS["kb_per_client_1m"]:g} KB/client.
3b. **A million clients over five years** (the default duel, market.size =
   {MILLION[0]:,}, sim.years = {MILLION[1]:g}; one fresh process on one core, warmed
   up by a small run): *build*, *run* and *total* as in table 3, the **peak
   RSS** of the process, and **KB/client** the peak beyond the 290 MB a
   warmed-up process holds before the market is built, over the clients.
   Target (the engine issue): <= 4 minutes on 2 cores, <= 1 KB a client.
4. **Demo wall time**: seconds of `cxsim.run(cxsim.compose())`, the default
   scenario (10,000 clients, 5 years, two firms; no file output, no
   figures), best and median of {REPEATS}, in a process warmed up by a small
   run. It was `make demo` until the trainer's demo (table 7).
5. **Replications**: wall time of `cxsim.replicate(cfg, n, workers=w)` for
   w = 1 and w = 2 (spawned worker processes, their start-up included), one
   run each in one process; **speed-up** = time(w=1) / time(w=2). The `demo`
   row is 20 replications of the default scenario (8 in the rows before
   9d1f59c, when a demo took twice as long): target speed-up >=
   {TARGETS["speedup"]} on 2 cores. The second row runs a smaller setting (its
   overrides are listed). *identical* says whether both ensembles' summaries are equal.
   *cores used* is the CPU time (this process and its workers, user + system)
   over the wall time: about 1 and 2 on an idle machine; less means other
   processes took the cores and the speed-up says little.
6. **Collector overhead**: `cxsim --multirun {" ".join(COLLECT_SWEEP)}`
   ({COLLECT_JOBS} jobs, the basic launcher, run as a user would in a fresh
   folder), then `cxsim.collect.collect` of its summaries in a fresh process,
   best of {REPEATS}: **collect (s)**, **ms/job**, and **overhead** = collect
   time / sweep wall time, the share a user pays to get one tidy table.
7. **Report and the trainer's demo**: **report (s)**, seconds to build and write
   the HTML report of a finished comparison of {REPORT_REPLICATIONS} paired
   replications (`{" ".join(REPORT_SETTING)}`), best of {REPEATS}, in a
   process that has built one before (target under 2 s); **demo (s)**, the
   wall time of `cxsim-demo` (`make demo` once installed) in a fresh process,
   its worker start-up included (target under 60 s on 2 cores).
8. **Small markets** (the default duel in `{" ".join(SMALL_MARKET)}`, at
   {", ".join(f"{n:,} clients x {y:g} years" for n, y in SMALL)}; one fresh process
   per size, warmed up): **one run (s)**, the best of {REPEATS} of `cxsim.run(cfg)`;
   **per replication (s)**, the wall time of `cxsim.replicate(cfg, {SMALL_REPLICATIONS},
   workers=1)` over {SMALL_REPLICATIONS} (since e937f9c side by side in one engine, in
   chunks of up to 40,000 clients: docs/scaling.md). Small runs are what the what-if page, the demo,
   sensitivity sweeps and the test suite are made of. Targets (engine issue, from
   the first rows, e861998): >= 10x less time per replication at 2,000 x 3 y, >= 3x
   faster one run at 10,000 x 5 y.
9. **Network generators** ({" and ".join(f"`network={k}`" for k in NETWORKS)} at
   {NETWORK_SIZE:,} clients, with their configs' `mean_degree` and
   `rewire_probability`): why `cxsim/model/network.py` writes its own. **cxsim (s)**
   is `cxsim.model.network.build_network` as the engine calls it (that config, the
   engine's `network` random stream); **networkx (s)** is
   `networkx.watts_strogatz_graph(n, k, p, seed)` or
   `networkx.barabasi_albert_graph(n, k / 2, seed)` with the same parameters.
   Each build runs once, in a fresh process of its own, after a
   1,000-client build by the same generator. **peak (MB)** is that process's
   peak RSS (`getrusage(RUSAGE_SELF).ru_maxrss`) minus its RSS
   (`/proc/self/statm`) just before the build: the finished graph and
   whatever the generator held on the way, numpy's arrays and Python's
   objects alike. The **ratios** are networkx over cxsim. The times are
   single runs in separate processes, not ratios inside one: on a loaded
   machine they move (cxsim's small world took 0.5 to 1.0 s in fresh
   processes minutes apart), the peaks hardly do.
10. **The studio page** (`make bench-studio`, not `make bench`: it needs Chromium):
   `cxsim-studio` started in a fresh process (**server up**: until it answers), its page
   opened in headless Chromium at the page's default live size with B setting a CCO at
   the sales-focused firm, and, 5 s after the page loads (as a person reads it), Run
   pressed {REPEATS} times: seconds from the click to
   the **first answer** with a 95% interval (two pairs) and to **all pairs**, median
   (each press). The workers start with the server, so the first press finds them warm.
   Targets (studio issue): first answer within 5 s, 10 pairs within 20 s, on 2 cores.
   **10b. Uploading a log in the studio** (`make bench-studio` too): a fresh page of a
   server started in an empty folder, {REPEATS} times: seconds from dropping CDNOW's
   transaction log (the sample of `tests/validation/cdnow.py`, as CSV) to its columns and
   dates shown, to the fitted market (Fit pressed at once) and to its check's 20 runs (the
   last column; in the rows without it, the fitted market was shown with its check whole),
   from pressing Fit on a synthetic Parquet log of 20,000 customers
   (`benchmarks/calibration_log.py`, about 67,000 purchases) to its fit in words and to
   its check whole, and from dropping BPIC 2012 whole (`{DISCOVERY_LOG.relative_to(ROOT)}`) to the
   log shown, to the discovered journey (Discover pressed at once), to its check whole
   and to the check's first look (its headline from the first two of its 20 runs, which
   stream in parts of two on both workers); medians, then each run. Targets (issue 29): the
   fitted market under 10 s, the journey under 20 s.
11. **Calibrating to a transaction log**: `cxsim-calibrate -n 0` (the fits, the
   per-customer table, the preset and the report without the simulated check) on a
   synthetic Parquet log of {CALIBRATION_CUSTOMERS:,} customers buying as the BG/NBD says
   (`benchmarks/calibration_log.py`), best of {REPEATS} whole commands, Python's start and
   imports included; **read** and **fits + table** (the two fits and the per-customer
   table) are the command's own timings (`fit.json`).
   The last column checks the fit: fitted parameters against those that made the log
   (days, not continuous time, so not exactly). Target (calibration issue): under 30 s.
12. **An industry of ten firms** (`scenario=industry`, {INDUSTRY_SIZE:,} clients x
   {INDUSTRY_YEARS:g} years) against the duel (`scenario=duel`) with the same clients and
   horizon: wall time of `cxsim.run`, alternately, best of {REPEATS} each, in one process;
   **ratio** = best industry / best duel, *paired* the min-max of the ratios of adjacent
   runs. Target (delivery-gap issue): at most 2: firms must not be a per-firm loop in the
   hot path.
13. **Discovering a journey** (`cxsim-discover`, whole commands in fresh processes, Python's
   start and imports included): BPIC 2012 (`{DISCOVERY_LOG.relative_to(ROOT)}`, split
   {DISCOVERY_SPLIT}) discovered, best of {REPEATS}; the same with `--check -n
   {DISCOVERY_REPLICATIONS}` (discovery, then {DISCOVERY_REPLICATIONS} replications on the
   later cases' arrivals and the comparison, `report.html` written), best of {REPEATS} (once
   in rows before the help desk's); the help desk log (`{HELPDESK_LOG.relative_to(ROOT)}`,
   split {HELPDESK_SPLIT}: one timestamp per event, no outcome activity) discovered, and with
   its check, each best of {REPEATS}; and a synthetic Parquet log of {DISCOVERY_CASES:,}
   loan-like cases, about a million events (`benchmarks/event_log.py`), discovered, best of
   {REPEATS}. Targets (issue 31): under 10 s for a discovery of a real log, under 60 s with
   its check and for the synthetic log.
"""

TABLES = {
    "throughput": ("## 1. Throughput, one firm", [
        "date (UTC)", "commit", "machine", "journey", "clients", "engine visits",
        "engine visits/s", "skeleton visits", "skeleton visits/s", "engine/skeleton",
        "paired"]),
    "throughput_duel": ("## 1b. Throughput, two firms", [
        "date (UTC)", "commit", "machine", "firms: journey", "clients", "engine visits",
        "engine visits/s", "skeleton visits", "skeleton visits/s", "engine/skeleton",
        "paired"]),
    "throughput_large": ("## 1c. Throughput, one firm, 100k clients", [
        "date (UTC)", "commit", "machine", "journey", "clients", "engine visits",
        "engine visits/s", "skeleton visits", "skeleton visits/s", "engine/skeleton",
        "paired"]),
    "memory": ("## 2. Memory per client, 10k-100k", [
        "date (UTC)", "commit", "machine", "sizes", "peak RSS (MB)", "KB/client",
        "baseline (MB)", "R2"]),
    "scaling": ("## 3. Scaling to a million clients", [
        "date (UTC)", "commit", "machine", "clients", "sim years", "visits", "build (s)",
        "s per sim year", "exponent", "peak RSS (MB)", "KB/client 100k-1M",
        "network B/client", "network share"]),
    "million": ("## 3b. A million clients over five years", [
        "date (UTC)", "commit", "machine", "clients", "years", "visits", "build (s)",
        "run (s)", "total (s)", "peak RSS (MB)", "KB/client beyond 290 MB"]),
    "demo": ("## 4. Demo wall time", [
        "date (UTC)", "commit", "machine", "visits", "best (s)", "median (s)", "visits/s"]),
    "replications": ("## 5. Replications", [
        "date (UTC)", "commit", "machine", "setting", "replications", "workers=1 (s)",
        "workers=2 (s)", "speed-up", "cores used (w=1/w=2)", "identical"]),
    "collector": ("## 6. Collector overhead", [
        "date (UTC)", "commit", "machine", "jobs", "rows", "sweep wall (s)", "collect (s)",
        "ms/job", "overhead"]),
    "report": ("## 7. Report and the trainer's demo", [
        "date (UTC)", "commit", "machine", "report (s)", "report size (KB)", "demo (s)"]),
    "small": ("## 8. Small markets", [
        "date (UTC)", "commit", "machine", "clients", "years", "visits", "one run (s)",
        "per replication (s)"]),
    "networks": ("## 9. Network generators", [
        "date (UTC)", "commit", "machine", "kind", "nodes", "cxsim (s)", "networkx (s)",
        "time ratio", "cxsim peak (MB)", "networkx peak (MB)", "memory ratio"]),
    "studio": ("## 10. The studio page", [
        "date (UTC)", "commit", "machine", "clients", "years", "pairs", "server up (s)",
        "first answer (s)", "all pairs (s)"]),
    "uploads": ("## 10b. Uploading a log in the studio", [
        "date (UTC)", "commit", "machine", "CDNOW: columns shown (s)",
        "CDNOW: fitted market (s)", "BPIC 2012: log shown (s)", "BPIC 2012: journey (s)",
        "BPIC 2012: checked (s)", "BPIC 2012: check's first look (s)", "CDNOW: checked (s)",
        "20,000 customers: fitted (s)", "20,000 customers: checked (s)"]),
    "calibration": ("## 11. Calibrating to a transaction log", [
        "date (UTC)", "commit", "machine", "customers", "transactions", "read (s)",
        "fits + table (s)", "whole command (s)", "BG/NBD r, α, a, b: fitted (true)"]),
    "industry": ("## 12. An industry of ten firms", [
        "date (UTC)", "commit", "machine", "clients", "years", "duel visits", "duel (s)",
        "industry visits", "industry (s)", "ratio", "paired"]),
    "discovery": ("## 13. Discovering a journey", [
        "date (UTC)", "commit", "machine", "command", "events", "runs (s)", "best (s)",
        "target (s)"]),
}
BROWSER_TABLES = ("studio", "uploads")
"""Measured only when asked for (``make bench-studio``): they need Chromium."""


# ---------------------------------------------------------------- children
def _log(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def _warm_up() -> None:
    import cxsim

    cxsim.run(cxsim.compose(WARMUP))


def _alternate(label: str, cfg, skeleton_run) -> dict:
    """Engine and skeleton, alternately, ``REPEATS`` times each, in this process.

    *skeleton_run(clients)* runs the skeleton for the engine's mean active
    clients per firm (``{firm: clients}``) and returns its visits.
    """
    import gc

    import cxsim

    engine, bare = [], []
    clients = engine_visits = bare_visits = None
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        results = cxsim.run(cfg)
        engine.append(time.perf_counter() - start)
        engine_visits = int(results.touchpoints.visits.sum())
        active = results.timeseries.groupby("firm", sort=False).active_clients.mean()
        clients = {firm: round(float(n)) for firm, n in active.items()}
        del results
        gc.collect()
        start = time.perf_counter()
        bare_visits = skeleton_run(clients)
        bare.append(time.perf_counter() - start)
        _log(f"{label}: engine {engine[-1]:.2f} s, skeleton {bare[-1]:.2f} s")
    return {"clients": clients, "engine_visits": engine_visits, "engine_s": engine,
            "skeleton_visits": bare_visits, "skeleton_s": bare}


def child_throughput(journey: str, large: bool = False) -> dict:
    """One firm on *journey*: engine and skeleton, alternately, in this process."""
    import skeleton

    import cxsim

    _warm_up()
    cfg = cxsim.compose([*(THROUGHPUT_LARGE if large else THROUGHPUT),
                         f"firms.acme.journey={journey}"])
    journey_map = skeleton.load(cfg, "acme")
    m = _alternate(journey, cfg,
                   lambda clients: skeleton.simulate(cfg, journey_map, clients["acme"]))
    return {"journey": journey, **m}


def child_duel() -> dict:
    """The default two firms: engine and skeleton (one group per firm), alternately."""
    import skeleton

    import cxsim

    _warm_up()
    cfg = cxsim.compose(DUEL)
    m = _alternate("duel", cfg, lambda clients: skeleton.simulate_groups(
        cfg, [skeleton.group(cfg, firm, n) for firm, n in clients.items()]))
    journeys = {firm: str(cfg.firms[firm].journey) for firm in m["clients"]}
    return {"journeys": journeys, **m}


def child_memory(size: int) -> dict:
    """Peak RSS of one default run at *size* clients (this process is fresh)."""
    import resource

    import cxsim

    cxsim.run(cxsim.compose([*MEMORY, f"market.size={size}"]))
    return {"size": size, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child_scaling(size: int, years: float | None = None) -> dict:
    """One default run at *size* clients (over *years*, else ``SCALING[size]``): its wall
    time, peak RSS and network bytes.

    What ``cxsim.run`` does (``cxsim.simulation.engine.simulate``), with the engine kept
    to read its network's arrays.
    """
    import gc
    import resource

    import cxsim
    from cxsim.config import config_dir, to_config
    from cxsim.simulation.engine import Engine

    _warm_up()
    years = SCALING[size] if years is None else years
    cfg = cxsim.compose([f"market.size={size}", f"sim.years={years}"])
    gc.collect()
    start = time.perf_counter()
    engine = Engine(to_config(cfg), [0], config_dir() / "journey")
    built = time.perf_counter()
    (results,) = engine.run()
    end = time.perf_counter()
    visits = int(results.touchpoints.visits.sum())
    _log(f"{size:,} clients, {years:g} years: build {built - start:.2f} s, "
         f"run {end - built:.2f} s, {visits:,} visits")
    return {"size": size, "years": years, "build_s": built - start, "seconds": end - start,
            "visits": visits, "network_bytes": engine.network.nbytes,
            "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _best_of(cfg, label: str) -> tuple[list[float], int]:
    """Wall times of REPEATS runs of *cfg* in this process, and the visits of one."""
    import gc

    import cxsim

    times, visits = [], 0
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        results = cxsim.run(cfg)
        times.append(time.perf_counter() - start)
        visits = int(results.touchpoints.visits.sum())
        del results
        _log(f"{label}: {times[-1]:.2f} s")
    return times, visits


def child_demo() -> dict:
    import cxsim

    _warm_up()
    times, visits = _best_of(cxsim.compose(), "demo")
    return {"visits": visits, "seconds": times}


def child_report() -> dict:
    """Best-of time of the report of a finished 10-replication comparison."""
    import tempfile

    import cxsim
    from cxsim.config import as_plain, to_config
    from cxsim.report.comparison import Compared, comparison_page
    from cxsim.report.page import write

    a = cxsim.compose(REPORT_SETTING)
    b = cxsim.compose([*REPORT_SETTING, "firms.sales_first.org=cco"])
    comparison = cxsim.compare(a, b, REPORT_REPLICATIONS, progress=False)
    compared = Compared(comparison, {"a": [], "b": ["firms.sales_first.org=cco"], "seed": 0,
                                     "config_a": as_plain(to_config(a)),
                                     "config_b": as_plain(to_config(b))})
    times = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.html"
        write(comparison_page(compared), path)
        for _ in range(REPEATS):
            start = time.perf_counter()
            write(comparison_page(compared), path)
            times.append(time.perf_counter() - start)
        size = path.stat().st_size
    _log(f"report: {min(times):.2f} s, {size / 1024:.0f} KB")
    return {"seconds": times, "bytes": size}


def child_small(index: int) -> dict:
    """Best-of time of one small run, then the time per replication of ten."""
    import gc

    import cxsim

    size, years = SMALL[index]
    _warm_up()
    cfg = cxsim.compose([*SMALL_MARKET, f"market.size={size}", f"sim.years={years}"])
    times, visits = _best_of(cfg, f"{size:,} clients x {years:g} y")
    gc.collect()
    start = time.perf_counter()
    cxsim.replicate(cfg, SMALL_REPLICATIONS, workers=1, progress=False)
    per = (time.perf_counter() - start) / SMALL_REPLICATIONS
    _log(f"{size:,} clients x {years:g} y: one run {min(times):.2f} s, "
         f"{per:.2f} s per replication")
    return {"size": size, "years": years, "visits": visits, "seconds": times,
            "per_replication": per}


def small_row(m: dict) -> list[str]:
    return [f"{m['size']:,}", f"{m['years']:g}", f"{m['visits']:,}",
            f"{min(m['seconds']):.2f}", f"{m['per_replication']:.2f}"]


def _rss_kb() -> int:
    """This process's resident set size now, in KB (Linux)."""
    import resource

    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() // 1024


def child_network(kind: str, library: str) -> dict:
    """One build of the *kind* network at ``NETWORK_SIZE`` clients by *library*."""
    import gc
    import resource

    import networkx as nx

    import cxsim
    from cxsim.config import to_config
    from cxsim.model.network import build_network
    from cxsim.streams import root_seed, spawn_streams

    cfg = to_config(cxsim.compose([f"network={kind}", f"market.size={NETWORK_SIZE}"]))
    net, seed = cfg.network, cfg.seed
    k, p = net.mean_degree, float(net.rewire_probability)
    builders = {
        "cxsim": lambda n: build_network(net, n, spawn_streams(root_seed(seed))["network"]),
        "networkx": lambda n: (nx.watts_strogatz_graph(n, k, p, seed=seed)
                               if kind == "small_world"
                               else nx.barabasi_albert_graph(n, k // 2, seed=seed)),
    }
    build = builders[library]
    build(1000)  # first-call costs, not timed
    gc.collect()
    before, peak_before = _rss_kb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    graph = build(cfg.market.size)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    edges = graph.num_edges if library == "cxsim" else graph.number_of_edges()
    _log(f"{kind}, {library}: {seconds:.2f} s, {(peak - before) / 1024:.0f} MB peak, "
         f"{edges:,} edges")
    return {"kind": kind, "library": library, "size": cfg.market.size, "k": k, "p": p,
            "seconds": seconds, "peak_kb": peak - before, "peak_before_kb": peak_before,
            "rss_before_kb": before, "edges": edges}


def network_row(ours: dict, theirs: dict) -> list[str]:
    model = (f"Watts-Strogatz, k = {ours['k']}, p = {ours['p']:g}"
             if ours["kind"] == "small_world" else f"Barabasi-Albert, m = {ours['k'] // 2}")
    return [f"{ours['kind']} ({model})", f"{ours['size']:,}", f"{ours['seconds']:.2f}",
            f"{theirs['seconds']:.1f}", f"{theirs['seconds'] / ours['seconds']:.0f}x",
            f"{ours['peak_kb'] / 1024:.0f}", f"{theirs['peak_kb'] / 1024:.0f}",
            f"{theirs['peak_kb'] / ours['peak_kb']:.1f}x"]


def _demo_wall() -> float:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "cxsim-demo"), "--out", folder],
                       check=True, capture_output=True)
        seconds = time.perf_counter() - start
    _log(f"cxsim-demo: {seconds:.1f} s")
    return seconds


def report_row(m: dict, demo_seconds: float) -> list[str]:
    return [f"{min(m['seconds']):.2f}", f"{m['bytes'] / 1024:.0f}", f"{demo_seconds:.1f}"]


def child_replications(index: int) -> dict:
    """``cxsim.replicate`` with 1 and with 2 workers (2 spawns processes: see main's guard)."""
    import gc

    import cxsim

    label, overrides, n = REPLICATIONS[index]
    _warm_up()
    cfg = cxsim.compose(overrides)
    seconds, cores, summaries = {}, {}, {}
    for workers in (1, 2):
        gc.collect()
        cpu = _cpu_seconds()
        start = time.perf_counter()
        ensemble = cxsim.replicate(cfg, n, workers=workers, progress=False)
        seconds[workers] = time.perf_counter() - start
        cores[workers] = (_cpu_seconds() - cpu) / seconds[workers]
        summaries[workers] = ensemble.summary
        _log(f"{label}: {n} replications, {workers} worker(s): {seconds[workers]:.1f} s, "
             f"{cores[workers]:.2f} cores used")
    return {"label": label, "overrides": overrides, "n": n, "seconds_1": seconds[1],
            "seconds_2": seconds[2], "cores_1": cores[1], "cores_2": cores[2],
            "identical": bool(summaries[1].equals(summaries[2]))}


def child_collector(sweep_dir: str) -> dict:
    """Best-of time of ``collect`` on a finished sweep (this process imports cxsim first)."""
    from cxsim.collect import collect

    times, rows = [], 0
    for _ in range(REPEATS):
        start = time.perf_counter()
        sweep = collect(sweep_dir)
        times.append(time.perf_counter() - start)
        rows = len(sweep.table)
        complete = int((sweep.jobs.status == "complete").sum())
    return {"seconds": times, "rows": rows, "complete": complete}


def _collector() -> dict:
    """Run the sweep in a temporary folder, then time the collector on it."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        sweep_dir = Path(folder) / "sweep"
        env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cxsim", "--multirun", *COLLECT_SWEEP,
                        f"hydra.sweep.dir={sweep_dir}"], cwd=folder, env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sweep_seconds = time.perf_counter() - start
        _log(f"sweep of {COLLECT_JOBS} jobs: {sweep_seconds:.1f} s")
        measured = _spawn("collector", str(sweep_dir))
    _log(f"collect: {min(measured['seconds']):.2f} s")
    return {**measured, "sweep_seconds": sweep_seconds}


def collector_row(m: dict) -> list[str]:
    best = min(m["seconds"])
    return [f"{m['complete']}/{COLLECT_JOBS}", str(m["rows"]), f"{m['sweep_seconds']:.1f}",
            f"{best:.2f}", f"{1000 * best / COLLECT_JOBS:.1f}",
            f"{best / m['sweep_seconds']:.1%}"]


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished child processes."""
    import resource

    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _spawn(*args: str) -> dict:
    """Run this script as ``--child *args`` in a fresh process; return its JSON."""
    done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *args],
                          cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ figures
def fit(x: list[float], y: list[float]) -> tuple[float, float, float]:
    """Least-squares line ``y = slope * x + intercept``; return slope, intercept, R2."""
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxx = sum((a - mx) ** 2 for a in x)
    slope = sum((a - mx) * (b - my) for a, b in zip(x, y)) / sxx
    intercept = my - slope * mx
    ss_res = sum((b - slope * a - intercept) ** 2 for a, b in zip(x, y))
    ss_tot = sum((b - my) ** 2 for b in y)
    return slope, intercept, 1.0 - ss_res / ss_tot if ss_tot else 1.0


def _ratios(m: dict) -> tuple[float, float, list[float]]:
    engine = m["engine_visits"] / min(m["engine_s"])
    bare = m["skeleton_visits"] / min(m["skeleton_s"])
    paired = [(m["engine_visits"] / e) / (m["skeleton_visits"] / s)
              for e, s in zip(m["engine_s"], m["skeleton_s"])]
    return engine, bare, paired


def throughput_row(m: dict) -> list[str]:
    engine, bare, paired = _ratios(m)
    return [m["journey"], str(m["clients"]["acme"]), f"{m['engine_visits']:,}",
            f"{engine:,.0f}", f"{m['skeleton_visits']:,}", f"{bare:,.0f}",
            f"{engine / bare:.2f}", f"{min(paired):.2f}-{max(paired):.2f}"]


def duel_row(m: dict) -> list[str]:
    engine, bare, paired = _ratios(m)
    firms = ", ".join(f"{firm}: {journey}" for firm, journey in m["journeys"].items())
    clients = " + ".join(str(n) for n in m["clients"].values())
    return [firms, clients, f"{m['engine_visits']:,}", f"{engine:,.0f}",
            f"{m['skeleton_visits']:,}", f"{bare:,.0f}", f"{engine / bare:.2f}",
            f"{min(paired):.2f}-{max(paired):.2f}"]


def memory_row(points: list[dict]) -> list[str]:
    sizes = [p["size"] for p in points]
    rss = [p["max_rss_kb"] for p in points]  # KB on Linux
    slope, intercept, r2 = fit(sizes, rss)
    return ["/".join(f"{n // 1000}k" for n in sizes), "/".join(f"{k / 1024:.0f}" for k in rss),
            f"{slope:.2f}", f"{intercept / 1024:.0f}", f"{r2:.4f}"]


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def scaling_figures(points: list[dict]) -> dict:
    """Exponent of time per simulated year; RSS slope and network share, 100k to 1M."""
    per_year = [p["seconds"] / p["years"] for p in points]
    exponent = fit([math.log(p["size"]) for p in points], [math.log(t) for t in per_year])[0]
    by_size = {p["size"]: p for p in points}
    small, large = by_size[100_000], by_size[1_000_000]
    clients = large["size"] - small["size"]
    kb = (large["max_rss_kb"] - small["max_rss_kb"]) / clients
    net = (large["network_bytes"] - small["network_bytes"]) / clients
    return {"per_year": per_year, "exponent": exponent, "kb_per_client": kb,
            "network_b_per_client": large["network_bytes"] / large["size"],
            "network_share": net / (kb * 1024) if kb > 0 else math.nan}


def million_row(p: dict) -> list[str]:
    baseline_mb = 290  # a warmed-up process before the market is built (table 3, 10k)
    mb = p["max_rss_kb"] / 1024
    return [f"{p['size']:,}", f"{p['years']:g}", f"{p['visits']:,}", f"{p['build_s']:.1f}",
            f"{p['seconds'] - p['build_s']:.1f}", f"{p['seconds']:.1f}", f"{mb:.0f}",
            f"{(mb - baseline_mb) * 1024 / p['size']:.2f}"]


def scaling_row(points: list[dict]) -> list[str]:
    f = scaling_figures(points)
    return ["/".join(_size(p["size"]) for p in points),
            "/".join(f"{p['years']:g}" for p in points),
            "/".join(f"{p['visits']:,}" for p in points),
            "/".join(f"{p['build_s']:.1f}" for p in points),
            "/".join(f"{t:.1f}" for t in f["per_year"]), f"{f['exponent']:.2f}",
            "/".join(f"{p['max_rss_kb'] / 1024:.0f}" for p in points),
            f"{f['kb_per_client']:.2f}", f"{f['network_b_per_client']:.0f}",
            f"{f['network_share']:.0%}"]


def demo_row(m: dict) -> list[str]:
    best = min(m["seconds"])
    return [f"{m['visits']:,}", f"{best:.2f}", f"{statistics.median(m['seconds']):.2f}",
            f"{m['visits'] / best:,.0f}"]


def replications_row(m: dict) -> list[str]:
    setting = m["label"] + (f" (`{' '.join(m['overrides'])}`)" if m["overrides"] else "")
    return [setting, str(m["n"]), f"{m['seconds_1']:.1f}", f"{m['seconds_2']:.1f}",
            f"{m['seconds_1'] / m['seconds_2']:.2f}", f"{m['cores_1']:.2f}/{m['cores_2']:.2f}",
            "yes" if m["identical"] else "no"]


# --------------------------------------------------------------- row keys
def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changes = git("status", "--porcelain", "--", ".", ":(exclude)benchmarks/RESULTS.md")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if changes else "")


def code_state() -> str:
    """A digest of what the measurements run: cxsim's sources, configs and these scripts."""
    import hashlib

    digest = hashlib.sha256()
    files = [*ROOT.glob("cxsim/**/*.py"), *ROOT.glob("configs/**/*.yaml"), *HERE.glob("*.py")]
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def machine() -> str:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    model = platform.processor() or platform.machine() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpus} x {model}, Python {platform.python_version()}"


# ------------------------------------------------------------- RESULTS.md
def _cells(row: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |"


def read_rows(text: str) -> dict[str, list[str]]:
    """The data rows (verbatim lines) of each table in an existing RESULTS.md."""
    rows: dict[str, list[str]] = {name: [] for name in TABLES}
    current = None
    for line in text.splitlines():
        marker = re.match(r"<!-- table: (\w+) -->", line.strip())
        if marker:
            current = marker.group(1) if marker.group(1) in TABLES else None
        elif line.startswith("#"):
            current = None
        elif current and line.startswith("|"):
            rows[current].append(line)
    for name, lines in rows.items():  # drop each table's header and separator lines
        rows[name] = lines[2:]
    return rows


def write_results(new: dict[str, list[list[str]]]) -> None:
    old = read_rows(RESULTS.read_text()) if RESULTS.exists() else {n: [] for n in TABLES}
    parts = [HEADER]
    for name, (title, columns) in TABLES.items():
        lines = [*old[name], *(_cells(r) for r in new.get(name, []))]
        parts.append("\n".join([title, "", f"<!-- table: {name} -->", _cells(columns),
                                _cells(["---"] * len(columns)), *lines, ""]))
    parts += kept_sections(RESULTS.read_text() if RESULTS.exists() else "")
    RESULTS.write_text("\n".join(parts))


def kept_sections(text: str) -> list[str]:
    """Sections other scripts wrote (marked ``<!-- kept: ... -->``, e.g. the SIMOD side by
    side of ``benchmarks/discovery/run.py``), kept verbatim at the end."""
    return [part.rstrip("\n") + "\n" for part in re.split(r"(?m)^(?=## )", text)
            if part.startswith("## ") and "<!-- kept:" in part]


# ------------------------------------------------------------------- main
def child_studio() -> dict:
    """The studio page driven in Chromium (``benchmarks/studio.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from studio import measure as studio

    return studio(REPEATS)


def _runs(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({', '.join(f'{v:.1f}' for v in values)})"


def studio_row(m: dict) -> list[str]:
    return [f"{m['clients']:,}", f"{m['years']:g}", str(m["pairs"]), f"{m['serve_s']:.1f}",
            _runs(m["first_s"]), _runs(m["done_s"])]


def child_uploads() -> dict:
    """Logs dropped into the studio page in Chromium (``benchmarks/studio.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from studio import measure_uploads

    return measure_uploads(REPEATS)


def uploads_row(m: dict) -> list[str]:
    return [_runs(m[k]) for k in ("cdnow_columns", "cdnow_fitted", "bpic_columns",
                                  "bpic_journey", "bpic_checked", "bpic_first_look",
                                  "cdnow_checked", "large_fitted", "large_checked")]


def _child(kind: str, rest: list[str]) -> dict:
    return {"throughput": lambda: child_throughput(rest[0]),
            "throughput_large": lambda: child_throughput(rest[0], large=True),
            "duel": child_duel,
            "memory": lambda: child_memory(int(rest[0])),
            "scaling": lambda: child_scaling(int(rest[0])),
            "million": lambda: child_scaling(*MILLION),
            "demo": child_demo,
            "replications": lambda: child_replications(int(rest[0])),
            "collector": lambda: child_collector(rest[0]),
            "report": child_report,
            "small": lambda: child_small(int(rest[0])),
            "network": lambda: child_network(*rest),
            "studio": child_studio,
            "uploads": child_uploads,
            "calibration": child_calibration,
            "industry": child_industry,
            "discovery": child_discovery}[kind]()


def child_discovery() -> dict:
    """``cxsim-discover`` on BPIC 2012 and on the help desk log, each alone and with its
    check, and on a synthetic log of about a million events (written first, not timed); each
    best of REPEATS whole commands."""
    import tempfile

    sys.path.insert(0, str(HERE))
    from event_log import SPLIT, write_log

    def timed(arguments: list[str], folder: str, label: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cxsim.discover_cli", *arguments], check=True,
                       capture_output=True, cwd=folder)
        _log(f"{label}: {time.perf_counter() - start:.1f} s")
        return time.perf_counter() - start

    bpic = [str(DISCOVERY_LOG), "--split", DISCOVERY_SPLIT, "--out", "j/bpic2012.yaml"]
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        out["bpic"] = {"events": 262_200, "runs": [timed(bpic, folder, "BPIC 2012")
                                                   for _ in range(REPEATS)]}
        check = ["--check", "-n", str(DISCOVERY_REPLICATIONS), "--check-out", "fit"]
        out["check"] = {"events": 262_200, "runs": [timed(
            [*bpic, *check], folder, f"BPIC 2012 and its check, -n {DISCOVERY_REPLICATIONS}")
            for _ in range(REPEATS)]}
        helpdesk = [str(HELPDESK_LOG), "--split", HELPDESK_SPLIT, "--out", "j/helpdesk.yaml"]
        out["helpdesk"] = {"events": 21_348, "runs": [timed(helpdesk, folder, "help desk")
                                                      for _ in range(REPEATS)]}
        out["helpdesk_check"] = {"events": 21_348, "runs": [timed(
            [*helpdesk, *check], folder,
            f"help desk and its check, -n {DISCOVERY_REPLICATIONS}") for _ in range(REPEATS)]}
        log = Path(folder) / "synthetic.parquet"
        events = write_log(log, DISCOVERY_CASES)
        synthetic = [str(log), "--split", SPLIT, "--out", "j/synthetic.yaml", "--purchase",
                     "approve", "--no-purchase", "decline", "--walk-away", "cancel"]
        out["synthetic"] = {"events": events, "runs": [
            timed(synthetic, folder, f"synthetic, {events:,} events") for _ in range(REPEATS)]}
    return out


def discovery_rows(m: dict) -> list[list[str]]:
    what = {"bpic": ("BPIC 2012 discovered", 10),
            "check": (f"BPIC 2012 discovered and checked, -n {DISCOVERY_REPLICATIONS}", 60),
            "helpdesk": ("help desk discovered", 10),
            "helpdesk_check": (f"help desk discovered and checked, -n {DISCOVERY_REPLICATIONS}",
                               60),
            "synthetic": ("synthetic log discovered", 60)}
    return [[words, f"{m[k]['events']:,}", ", ".join(f"{r:.1f}" for r in m[k]["runs"]),
             f"{min(m[k]['runs']):.1f}", f"under {target}"]
            for k, (words, target) in what.items()]


def child_calibration() -> dict:
    """``cxsim-calibrate`` on a synthetic log of a million customers (written first, not
    timed), best of REPEATS whole commands; read and fit times from its fit.json."""
    import tempfile

    sys.path.insert(0, str(HERE))
    from calibration_log import ALPHA, A, B, R, write_log

    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "log.parquet"
        transactions = write_log(log, CALIBRATION_CUSTOMERS)
        runs = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "cxsim-calibrate"), str(log),
                            "--end", "2020-06-30", "--out", f"{folder}/mine.yaml", "--results",
                            f"{folder}/out", "-n", "0"], check=True, capture_output=True)
            runs.append(time.perf_counter() - start)
            _log(f"cxsim-calibrate, {CALIBRATION_CUSTOMERS:,} customers: {runs[-1]:.1f} s")
        meta = json.loads((Path(folder) / "out" / "fit.json").read_text())
    fitted = meta["fits"][0]["bgnbd"]
    return {"customers": meta["customers"], "transactions": transactions,
            "read": meta["seconds"]["read"], "fit": meta["seconds"]["fits_and_table"],
            "runs": runs,
            "fitted": [fitted[k] for k in ("r", "alpha", "a", "b")], "true": [R, ALPHA, A, B]}


def child_industry() -> dict:
    """The duel and the ten-firm industry at the same size, alternately, in this process."""
    import gc

    import cxsim

    _warm_up()
    common = [f"market.size={INDUSTRY_SIZE}", f"sim.years={INDUSTRY_YEARS}"]
    times: dict[str, list[float]] = {"duel": [], "industry": []}
    visits = {}
    for _ in range(REPEATS):
        for scenario in times:
            gc.collect()
            start = time.perf_counter()
            results = cxsim.run(cxsim.compose([f"scenario={scenario}", *common]))
            times[scenario].append(time.perf_counter() - start)
            visits[scenario] = int(results.touchpoints.visits.sum())
            _log(f"{scenario}: {times[scenario][-1]:.2f} s")
    return {"times": times, "visits": visits}


def industry_row(m: dict) -> list[str]:
    duel, industry = m["times"]["duel"], m["times"]["industry"]
    paired = [i / d for d, i in zip(duel, industry)]
    return [f"{INDUSTRY_SIZE:,}", f"{INDUSTRY_YEARS:g}", f"{m['visits']['duel']:,}",
            f"{min(duel):.2f}", f"{m['visits']['industry']:,}", f"{min(industry):.2f}",
            f"{min(industry) / min(duel):.2f}", f"{min(paired):.2f}-{max(paired):.2f}"]


def calibration_row(m: dict) -> list[str]:
    pairs = ", ".join(f"{f:.3g} ({t:g})" for f, t in zip(m["fitted"], m["true"]))
    return [f"{m['customers']:,}", f"{m['transactions']:,}", f"{m['read']:.1f}",
            f"{m['fit']:.1f}", f"{min(m['runs']):.1f}", pairs]


def _journeys() -> list[str]:
    return sorted(p.stem for p in (ROOT / "configs" / "journey").glob("*.yaml"))


def measure(name: str, key: list[str]) -> list[list[str]]:
    """New rows of table *name*, each measured in fresh subprocesses."""
    if name == "throughput":
        print(f"throughput, one firm ({' '.join(THROUGHPUT)}), best of {REPEATS}:",
              file=sys.stderr)
        return [key + throughput_row(_spawn("throughput", j)) for j in _journeys()]
    if name == "throughput_large":
        print(f"throughput, one firm ({' '.join(THROUGHPUT_LARGE)}), best of {REPEATS}:",
              file=sys.stderr)
        return [key + throughput_row(_spawn("throughput_large", j)) for j in _journeys()]
    if name == "throughput_duel":
        print(f"throughput, two firms ({' '.join(DUEL)}), best of {REPEATS}:", file=sys.stderr)
        return [key + duel_row(_spawn("duel"))]
    if name == "memory":
        print(f"memory, 10k-100k ({' '.join(MEMORY)}):", file=sys.stderr)
        points = []
        for size in MEMORY_SIZES:
            points.append(_spawn("memory", str(size)))
            _log(f"{size:,}: {points[-1]['max_rss_kb'] / 1024:.0f} MB peak RSS")
        return [key + memory_row(points)]
    if name == "scaling":
        print("scaling:", file=sys.stderr)
        points = []
        for size in SCALING:
            points.append(_spawn("scaling", str(size)))
            _log(f"{size:,}: {points[-1]['max_rss_kb'] / 1024:.0f} MB peak RSS")
        return [key + scaling_row(points)]
    if name == "million":
        print(f"{MILLION[0]:,} clients over {MILLION[1]:g} years, default duel:",
              file=sys.stderr)
        return [key + million_row(_spawn("million"))]
    if name == "demo":
        print(f"demo, best of {REPEATS}:", file=sys.stderr)
        return [key + demo_row(_spawn("demo"))]
    if name == "replications":
        print("replications, workers=1 then workers=2:", file=sys.stderr)
        return [key + replications_row(_spawn("replications", str(i)))
                for i in range(len(REPLICATIONS))]
    if name == "collector":
        print(f"collector, a sweep of {COLLECT_JOBS} jobs:", file=sys.stderr)
        return [key + collector_row(_collector())]
    if name == "report":
        print(f"report of a {REPORT_REPLICATIONS}-replication comparison, best of {REPEATS}; "
              "then cxsim-demo:", file=sys.stderr)
        return [key + report_row(_spawn("report"), _demo_wall())]
    if name == "small":
        print(f"small markets, best of {REPEATS}, then {SMALL_REPLICATIONS} replications:",
              file=sys.stderr)
        return [key + small_row(_spawn("small", str(i))) for i in range(len(SMALL))]
    if name == "networks":
        print(f"network generators at {NETWORK_SIZE:,} clients, cxsim then networkx, "
              "one fresh process per build:", file=sys.stderr)
        return [key + network_row(_spawn("network", kind, "cxsim"),
                                  _spawn("network", kind, "networkx")) for kind in NETWORKS]
    if name == "calibration":
        print(f"cxsim-calibrate on {CALIBRATION_CUSTOMERS:,} customers, best of {REPEATS}:",
              file=sys.stderr)
        return [key + calibration_row(_spawn("calibration"))]
    if name == "industry":
        print(f"an industry of ten firms and the duel, {INDUSTRY_SIZE:,} clients, best of "
              f"{REPEATS}:", file=sys.stderr)
        return [key + industry_row(_spawn("industry"))]
    if name == "discovery":
        print(f"cxsim-discover on BPIC 2012 and the help desk log, each alone and with its "
              f"check ({DISCOVERY_REPLICATIONS} replications), and on a synthetic log of "
              f"{DISCOVERY_CASES:,} cases, best of {REPEATS}:", file=sys.stderr)
        return [key + row for row in discovery_rows(_spawn("discovery"))]
    if name == "studio":
        print(f"the studio page in Chromium, Run pressed {REPEATS} times:", file=sys.stderr)
        return [key + studio_row(_spawn("studio"))]
    if name == "uploads":
        print(f"logs dropped into the studio page in Chromium, {REPEATS} times:",
              file=sys.stderr)
        return [key + uploads_row(_spawn("uploads"))]
    raise ValueError(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--only", nargs="+", choices=list(TABLES), metavar="TABLE",
                        help=f"measure only these tables ({', '.join(TABLES)})")
    parser.add_argument("--no-write", action="store_true",
                        help="print the new rows without writing RESULTS.md")
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(_child(kind, rest)))
        return

    started = time.perf_counter()
    commit, code = git_commit(), code_state()
    key = [datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), commit, machine()]
    asked = args.only or [name for name in TABLES if name not in BROWSER_TABLES]
    new = {name: measure(name, key) if name in asked else [] for name in TABLES}
    if code_state() != code:  # someone edited or committed the code meanwhile
        print(f"warning: cxsim, configs or benchmarks changed during the run (started at "
              f"{commit}, now {git_commit()}); the rows say so", file=sys.stderr)
        for rows in new.values():
            for row in rows:
                row[1] = f"{commit}, changed during run"
    if not args.no_write:
        write_results(new)
    for name, (title, columns) in TABLES.items():
        if new[name]:
            print(f"\n{title}\n{_cells(columns)}")
            for row in new[name]:
                print(_cells(row))
    where = "not written" if args.no_write else f"{RESULTS.relative_to(ROOT)} updated"
    print(f"\n{where} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":  # also keeps replicate's spawned workers from running main
    main()
