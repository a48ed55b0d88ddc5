"""Word-of-mouth network: build time, memory and draw time per kind and size.

    .venv/bin/python benchmarks/network_bench.py                 # 100k and 1M clients
    .venv/bin/python benchmarks/network_bench.py --sizes 10000 --repeats 1

For each kind and size it prints the best build time over ``--repeats`` runs,
the bytes the network keeps per client (``SocialNetwork.nbytes / size``), the
peak memory allocated while building (``tracemalloc``, numpy included, one
extra run) and the time to draw one neighbour for each of a million senders.
``file`` reads back the small world written as an edge list (and, at the
smallest size only, as GraphML: networkx parses it in pure Python).

If ``python-igraph`` is installed it also times igraph's Barabási–Albert and
Watts–Strogatz generators (``Graph.Barabasi``, ``Graph.Watts_Strogatz``) and
their conversion into cxsim's CSR arrays, for comparison only: cxsim does not
depend on igraph. Printed only; nothing is written to ``RESULTS.md``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np

from cxsim.model.network import NetworkConfig, SocialNetwork, build_network

DRAWS = 1_000_000  # senders per draw_neighbours timing


def best_of(repeats: int, fn):
    """Best wall time of *repeats* calls and the last result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_bytes(fn) -> int:
    """Peak bytes allocated (tracemalloc) while running *fn*."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def row(kind: str, size: int, seconds: float, net: SocialNetwork, peak: int | None,
        draw: float | None, note: str = "") -> None:
    per = net.nbytes / size
    peak_txt = f"{peak / size:>10.0f}" if peak is not None else f"{'-':>10}"
    draw_txt = f"{draw * 1e3:>10.1f}" if draw is not None else f"{'-':>10}"
    print(f"{kind:<22}{size:>10,}{seconds:>10.2f}{per:>10.1f}{peak_txt}{draw_txt}  {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mean-degree", type=int, default=10)
    args = parser.parse_args()
    k = args.mean_degree
    print(f"mean_degree={k}, rewire_probability=0.1; times in s (best of {args.repeats}); "
          f"B/client kept and peak while building; draw = ms per {DRAWS:,} senders")
    print(f"{'kind':<22}{'clients':>10}{'build s':>10}{'B/client':>10}{'peak B/c':>10}"
          f"{'draw ms':>10}")
    for size in args.sizes:
        senders = np.random.default_rng(1).integers(0, size, DRAWS)
        small_world = None
        for kind in ("small_world", "scale_free", "complete", "none"):
            build = partial(fresh_build, NetworkConfig(kind=kind, mean_degree=k), size)
            seconds, net = best_of(args.repeats, build)
            peak = peak_bytes(build)
            draw, _ = best_of(args.repeats, partial(net.draw_neighbours, senders,
                                                    np.random.default_rng(2)))
            row(kind, size, seconds, net, peak, draw)
            small_world = small_world or net
        with tempfile.TemporaryDirectory() as tmp:
            u, v = small_world.edges()
            path = Path(tmp) / "net.edges"
            np.savetxt(path, np.column_stack([u, v]), fmt="%d")
            build = partial(fresh_build, NetworkConfig(kind="file", path=str(path)), size)
            seconds, net = best_of(args.repeats, build)
            row("file (edge list)", size, seconds, net, None, None)
            if size == min(args.sizes):
                import networkx as nx

                gml = Path(tmp) / "net.graphml"
                nx.write_graphml(small_world.to_networkx(), gml)
                build = partial(fresh_build, NetworkConfig(kind="file", path=str(gml)), size)
                seconds, net = best_of(1, build)
                row("file (GraphML)", size, seconds, net, None, None, "networkx parser")
        igraph_rows(size, k, args.repeats)


def fresh_build(cfg: NetworkConfig, size: int) -> SocialNetwork:
    """Build with a fresh seeded Generator (same network every call)."""
    return build_network(cfg, size, np.random.default_rng(0))


def igraph_rows(size: int, k: int, repeats: int) -> None:
    """igraph's generators, alone and with conversion to CSR, if igraph is installed."""
    try:
        import igraph
    except ImportError:
        return
    gens = {
        # attachment ~ in-degree + 1 (psumtree, no multi-edges), not networkx's ~ degree
        "igraph Barabasi": lambda: igraph.Graph.Barabasi(size, k // 2),
        # igraph's variant rewires both ends of an edge; simple graph by default
        "igraph Watts_Strogatz": lambda: igraph.Graph.Watts_Strogatz(1, size, k // 2, 0.1),
    }
    for name, gen in gens.items():
        seconds, graph = best_of(repeats, gen)

        def to_csr(graph=graph) -> SocialNetwork:
            edges = np.array(graph.get_edgelist(), dtype=np.int64)
            return SocialNetwork.from_edges("file", size, edges[:, 0], edges[:, 1])

        total, net = best_of(repeats, to_csr)
        row(name, size, seconds, net, None, None,
            f"+ {total:.2f} s to CSR; igraph {igraph.__version__}")


if __name__ == "__main__":
    main()
