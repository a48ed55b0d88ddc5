"""`make bench`: engine throughput, memory per client and demo wall time.

Appends one row per figure (one per journey for throughput) to
``benchmarks/RESULTS.md``, keeping the earlier rows, and prints the new rows.
Every measurement runs in a fresh subprocess of this script (``--child ...``),
which prints one JSON line on stdout; the parent only uses the standard library.

Timings: each is repeated ``REPEATS`` times in the same process and the *best*
(shortest) time is reported; the engine and the skeleton alternate within that
process so that both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
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
THROUGHPUT = ["market.size=10000", "sim.years=3"]  # one run takes 2-10 s
WARMUP = ["market.size=1000", "sim.years=0.1"]  # imports and first-call costs, not timed
MEMORY_SIZES = [10_000, 40_000, 70_000, 100_000]
MEMORY = ["sim.years=0.25"]
TARGETS = {"ratio": (0.5, 2.0), "kb_per_client": (2.0, 1.0)}  # (now, later)

HEADER = f"""\
# Benchmark results

Written by `make bench` (`benchmarks/run.py`). Each run appends its rows below;
earlier rows are kept. Compare rows only on the same machine: these are shared,
noisy machines, so every figure that matters is a ratio or a slope measured
inside one process (or one run), and every timing is the best of {REPEATS}.

Row keys: **date** (UTC); **commit** (`git rev-parse --short HEAD`, `+dirty` when
the work tree, untracked files included and this file excluded, differs from
it); **machine** (`nproc` x CPU model, Python version).

## What the figures mean

1. **Throughput** (`{" ".join(THROUGHPUT)}`, one firm, each shipped journey):
   touchpoint visits counted per second of wall time of `cxsim.run(cfg)`
   (`Results.touchpoints.visits.sum()`), against a *bare SimPy skeleton*
   (`benchmarks/skeleton.py`) doing the same yields with no model logic: one
   process per client, exponential need gaps, a timeout per visit, a
   `simpy.Resource` per staffed touchpoint, `Journey.step` routing, delay
   timeouts. The skeleton runs the engine's mean number of active clients
   (`timeseries.active_clients.mean()`) from day 0 over the same horizon.
   **engine/skeleton** = engine visits/s / skeleton visits/s, both best of {REPEATS},
   run alternately in one process; *paired* gives the min-max of the {REPEATS}
   ratios of adjacent runs, a gauge of the noise.
   Target: ratio >= {TARGETS["ratio"][0]} for now, >= {TARGETS["ratio"][1]} later.
2. **Memory per client** (`{" ".join(MEMORY)}`, default scenario): peak RSS
   (`getrusage(RUSAGE_SELF).ru_maxrss`) of a fresh process that imports cxsim and
   runs one scenario, at market sizes {", ".join(f"{n // 1000}k" for n in MEMORY_SIZES)};
   **KB/client** is the least-squares slope of peak RSS over market size, the
   **baseline** its intercept (imports and fixed costs), **R2** the fit quality.
   Target: <= {TARGETS["kb_per_client"][0]:g} KB/client for now,
   <= {TARGETS["kb_per_client"][1]:g} KB later.
3. **Demo wall time**: seconds of `cxsim.run(cxsim.compose())`, the default
   `make demo` scenario (no file output), best and median of {REPEATS}, in a
   process warmed up by a small run.
"""

TABLES = {
    "throughput": ("## 1. Throughput", [
        "date (UTC)", "commit", "machine", "journey", "clients", "engine visits",
        "engine visits/s", "skeleton visits", "skeleton visits/s", "engine/skeleton",
        "paired"]),
    "memory": ("## 2. Memory per client", [
        "date (UTC)", "commit", "machine", "sizes", "peak RSS (MB)", "KB/client",
        "baseline (MB)", "R2"]),
    "demo": ("## 3. Demo wall time", [
        "date (UTC)", "commit", "machine", "visits", "best (s)", "median (s)", "visits/s"]),
}


# ---------------------------------------------------------------- children
def _warm_up() -> None:
    import cxsim

    cxsim.run(cxsim.compose(WARMUP))


def child_throughput(journey: str) -> dict:
    """Engine and skeleton on one journey, alternately, in this process."""
    import gc

    import skeleton

    import cxsim

    _warm_up()
    cfg = cxsim.compose([*THROUGHPUT, f"firms.acme.journey={journey}"])
    journey_map = skeleton.load(cfg)
    engine, bare = [], []
    clients = engine_visits = bare_visits = None
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        results = cxsim.run(cfg)
        engine.append(time.perf_counter() - start)
        engine_visits = int(results.touchpoints.visits.sum())
        clients = round(float(results.timeseries.active_clients.mean()))
        del results
        gc.collect()
        start = time.perf_counter()
        bare_visits = skeleton.simulate(cfg, journey_map, clients)
        bare.append(time.perf_counter() - start)
        print(f"  {journey}: engine {engine[-1]:.2f} s, skeleton {bare[-1]:.2f} s",
              file=sys.stderr, flush=True)
    return {"journey": journey, "clients": clients, "engine_visits": engine_visits,
            "engine_s": engine, "skeleton_visits": bare_visits, "skeleton_s": bare}


def child_memory(size: int) -> dict:
    """Peak RSS of one default run at *size* clients (this process is fresh)."""
    import resource

    import cxsim

    cxsim.run(cxsim.compose([*MEMORY, f"market.size={size}"]))
    return {"size": size, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def child_demo() -> dict:
    import gc

    import cxsim

    _warm_up()
    cfg = cxsim.compose()
    times, visits = [], 0
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        results = cxsim.run(cfg)
        times.append(time.perf_counter() - start)
        visits = int(results.touchpoints.visits.sum())
        del results
        print(f"  demo: {times[-1]:.2f} s", file=sys.stderr, flush=True)
    return {"visits": visits, "seconds": times}


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


def throughput_row(m: dict) -> list[str]:
    engine = m["engine_visits"] / min(m["engine_s"])
    bare = m["skeleton_visits"] / min(m["skeleton_s"])
    paired = [(m["engine_visits"] / e) / (m["skeleton_visits"] / s)
              for e, s in zip(m["engine_s"], m["skeleton_s"])]
    return [m["journey"], str(m["clients"]), f"{m['engine_visits']:,}", f"{engine:,.0f}",
            f"{m['skeleton_visits']:,}", f"{bare:,.0f}", f"{engine / bare:.2f}",
            f"{min(paired):.2f}-{max(paired):.2f}"]


def memory_row(points: list[dict]) -> list[str]:
    sizes = [p["size"] for p in points]
    rss = [p["max_rss_kb"] for p in points]  # KB on Linux
    slope, intercept, r2 = fit(sizes, rss)
    return ["/".join(f"{n // 1000}k" for n in sizes), "/".join(f"{k / 1024:.0f}" for k in rss),
            f"{slope:.2f}", f"{intercept / 1024:.0f}", f"{r2:.4f}"]


def demo_row(m: dict) -> list[str]:
    best = min(m["seconds"])
    return [f"{m['visits']:,}", f"{best:.2f}", f"{statistics.median(m['seconds']):.2f}",
            f"{m['visits'] / best:,.0f}"]


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
    RESULTS.write_text("\n".join(parts))


# ------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = {"throughput": lambda: child_throughput(rest[0]),
                  "memory": lambda: child_memory(int(rest[0])),
                  "demo": child_demo}[kind]()
        print(json.dumps(result))
        return

    started = time.perf_counter()
    key = [datetime.now(UTC).strftime("%Y-%m-%d %H:%M"), git_commit(), machine()]
    journeys = sorted(p.stem for p in (ROOT / "configs" / "journey").glob("*.yaml"))
    new: dict[str, list[list[str]]] = {name: [] for name in TABLES}

    print(f"throughput ({' '.join(THROUGHPUT)}), best of {REPEATS}:", file=sys.stderr)
    for journey in journeys:
        new["throughput"].append(key + throughput_row(_spawn("throughput", journey)))
    print("memory:", file=sys.stderr)
    points = []
    for size in MEMORY_SIZES:
        points.append(_spawn("memory", str(size)))
        print(f"  {size}: {points[-1]['max_rss_kb'] / 1024:.0f} MB peak RSS", file=sys.stderr)
    new["memory"].append(key + memory_row(points))
    print("demo:", file=sys.stderr)
    new["demo"].append(key + demo_row(_spawn("demo")))

    write_results(new)
    for name, (title, columns) in TABLES.items():
        print(f"\n{title}\n{_cells(columns)}")
        for row in new[name]:
            print(_cells(row))
    print(f"\n{RESULTS.relative_to(ROOT)} updated in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
