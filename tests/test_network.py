"""The word-of-mouth network (cxsim.model.network): CSR invariants, the models' laws, I/O.

Every random test uses a fixed seed, so a pass is reproducible; statistical
checks (chi-square, exact law on 7 clients) have generous thresholds against
a single fixed sample, not tolerances tuned to pass.

CSR layout checked everywhere: ``indptr`` int64 of length ``size + 1``,
starting at 0 and non-decreasing; ``indices`` int32; every row sorted strictly
ascending (so no duplicates); no self loops; symmetric (``j`` in row ``i`` iff
``i`` in row ``j``).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import defaultdict
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf
from scipy import stats
from scipy.sparse.csgraph import shortest_path

from cxsim.errors import ConfigError
from cxsim.model import network as netmod
from cxsim.model.network import (
    KINDS,
    NetworkConfig,
    SocialNetwork,
    barabasi_albert,
    build_network,
    read_network,
    ring_lattice,
    validate_network,
    watts_strogatz,
)

CONFIGS = Path(__file__).resolve().parents[1] / "configs" / "network"


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def assert_csr(net: SocialNetwork) -> None:
    """The CSR invariants of the module docstring."""
    n = net.size
    assert net.indptr.dtype == np.int64 and net.indptr.shape == (n + 1,)
    assert net.indices.dtype == np.int32
    assert net.indptr[0] == 0 and net.indptr[-1] == net.indices.size
    assert (np.diff(net.indptr) >= 0).all()
    src = np.repeat(np.arange(n, dtype=np.int64), np.diff(net.indptr))
    dst = net.indices.astype(np.int64)
    assert ((dst >= 0) & (dst < n)).all()
    assert (src != dst).all(), "self loop"
    key = src * n + dst
    assert (np.diff(key) > 0).all(), "rows not strictly ascending (unsorted or duplicate)"
    assert np.array_equal(np.sort(dst * n + src), key), "not symmetric"
    assert net.nbytes == net.indptr.nbytes + net.indices.nbytes
    assert not net.indptr.flags.writeable and not net.indices.flags.writeable


def edge_set(net: SocialNetwork) -> set[tuple[int, int]]:
    u, v = net.edges()
    return set(zip(u.tolist(), v.tolist()))


def nx_edge_set(graph: nx.Graph) -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in graph.edges() if a != b}


def mean_path_length(net: SocialNetwork, sources: int = 200) -> float:
    """Mean shortest-path length from *sources* clients (scipy BFS on the CSR arrays)."""
    adj = sp.csr_array(
        (np.ones(net.indices.size), net.indices, net.indptr), shape=(net.size, net.size)
    )
    dist = shortest_path(adj, unweighted=True, directed=False, indices=np.arange(sources))
    dist = dist[np.isfinite(dist) & (dist > 0)]
    return float(dist.mean())


# --------------------------------------------------------------------------- #
# CSR invariants for every kind
# --------------------------------------------------------------------------- #


def _file_network(tmp_path: Path) -> SocialNetwork:
    graph = nx.karate_club_graph()
    path = tmp_path / "karate.graphml"
    nx.write_graphml(graph, path)
    return build_network(NetworkConfig(kind="file", path=str(path)), 34, rng())


STORED = {
    "small_world": lambda tmp: build_network(NetworkConfig(), 500, rng(1)),
    "small_world_p1": lambda tmp: watts_strogatz(300, 6, 1.0, rng(2)),
    "ring_lattice": lambda tmp: ring_lattice(100, 8),
    "scale_free": lambda tmp: build_network(NetworkConfig(kind="scale_free"), 500, rng(3)),
    "scale_free_m1": lambda tmp: barabasi_albert(200, 1, rng(4)),
    "file": _file_network,
}


@pytest.mark.parametrize("name", STORED)
def test_csr_invariants(name, tmp_path):
    net = STORED[name](tmp_path)
    assert net.stores_edges
    assert_csr(net)
    assert net.degree().sum() == 2 * net.num_edges
    assert net.kind in KINDS


@pytest.mark.parametrize("kind", ["complete", "none"])
def test_implicit_kinds_store_nothing(kind):
    net = build_network(NetworkConfig(kind=kind), 50, rng())
    assert net.indptr is None and net.indices is None
    assert not net.stores_edges and net.nbytes == 0
    expected = 49 if kind == "complete" else 0
    assert np.array_equal(net.degree(), np.full(50, expected))
    assert net.num_edges == (50 * 49 // 2 if kind == "complete" else 0)
    nb = net.neighbours(7)
    assert nb.dtype == np.int32
    if kind == "complete":
        assert np.array_equal(nb, np.delete(np.arange(50), 7))
        assert net.to_networkx().number_of_edges() == 50 * 49 // 2
    else:
        assert nb.size == 0
        assert net.to_networkx().number_of_edges() == 0


def test_memory_is_4k_plus_8_bytes_per_client():
    net = watts_strogatz(10_000, 10, 0.1, rng())
    assert net.nbytes == 8 * (10_000 + 1) + 4 * 10 * 10_000  # 48 bytes per client
    assert net.nbytes / net.size < 50


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 25),
    pairs=st.lists(st.tuples(st.integers(0, 24), st.integers(0, 24)), max_size=80),
)
def test_from_edges_matches_networkx(size, pairs):
    pairs = [(a % size, b % size) for a, b in pairs]
    u = np.array([a for a, _ in pairs], dtype=np.int64)
    v = np.array([b for _, b in pairs], dtype=np.int64)
    net = SocialNetwork.from_edges("file", size, u, v)
    assert_csr(net)
    graph = nx.Graph()
    graph.add_nodes_from(range(size))
    graph.add_edges_from(pairs)
    assert edge_set(net) == nx_edge_set(graph)
    for i in range(size):
        expected = sorted(j for j in graph.neighbors(i) if j != i)
        assert net.neighbours(i).tolist() == expected


# --------------------------------------------------------------------------- #
# Small world (Watts-Strogatz)
# --------------------------------------------------------------------------- #


def test_ring_lattice_is_exact():
    n, k = 40, 6
    net = ring_lattice(n, k)
    assert_csr(net)
    for i in range(n):
        expected = sorted({(i + j) % n for j in range(-k // 2, k // 2 + 1)} - {i})
        assert net.neighbours(i).tolist() == expected
    assert np.array_equal(net.degree(), np.full(n, k))


def test_small_world_p0_is_the_ring_lattice():
    net = build_network(NetworkConfig(rewire_probability=0.0), 1000, rng(5))
    lattice = ring_lattice(1000, 10)
    assert np.array_equal(net.indptr, lattice.indptr)
    assert np.array_equal(net.indices, lattice.indices)


def test_small_world_degree_is_exact_and_rewiring_is_binomial():
    n, k, p = 20_000, 10, 0.1
    net = watts_strogatz(n, k, p, rng(6))
    assert_csr(net)
    deg = net.degree()
    assert net.num_edges == n * k // 2  # duplicates are re-drawn, never dropped
    assert deg.mean() == k
    assert deg.min() >= k // 2  # every client keeps its own k/2 near ends
    # edges still on the lattice: those not rewired, Binomial(n k / 2, 1 - p) (plus the
    # rare rewiring that lands back on a free lattice pair)
    u, v = net.edges()
    gap = np.minimum(v - u, n - (v - u))
    lattice = int((gap <= k // 2).sum())
    edges = n * k // 2
    mean, sd = edges * (1 - p), math.sqrt(edges * p * (1 - p))
    assert abs(lattice - mean) < 6 * sd
    # degree spread of the small world: variance about p k (Barrat & Weigt 2000: ~ k p)
    assert 0.3 * p * k < deg.var() < 3 * p * k


def test_small_world_clustering_high_and_paths_short():
    n, k = 2000, 10
    sw = watts_strogatz(n, k, 0.1, rng(7))
    random = nx.gnm_random_graph(n, n * k // 2, seed=7)
    c_sw = nx.average_clustering(sw.to_networkx())
    c_random = nx.average_clustering(random)
    c_ring = 3 * (k - 2) / (4 * (k - 1))  # 2/3 at k = 10 (Watts & Strogatz 1998)
    assert c_sw > 0.5 * c_ring  # ~ c_ring (1 - p)^3 = 0.49 (Barrat & Weigt 2000)
    assert c_sw > 20 * c_random
    u, v = np.array(random.edges()).T
    l_random = mean_path_length(SocialNetwork.from_edges("file", n, u, v))
    l_sw = mean_path_length(sw)
    l_ring = mean_path_length(ring_lattice(n, k))
    assert l_ring > 80  # ~ n / (2 k) = 100
    assert l_sw < 1.6 * l_random  # short paths like a random graph (~3.6 at n = 2000)
    assert l_sw < l_ring / 10


@settings(max_examples=80, deadline=None)
@given(
    size=st.integers(3, 60),
    half=st.integers(1, 29),
    p=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_small_world_invariants(size, half, p, seed):
    k = 2 * min(half, (size - 1) // 2)
    net = watts_strogatz(size, k, p, rng(seed))
    assert_csr(net)
    deg = net.degree()
    assert deg.min() >= k // 2
    if net.num_edges != size * k // 2:
        # the only loss: a client joined to everybody could not rewire
        assert net.num_edges < size * k // 2 and deg.max() == size - 1


# --------------------------------------------------------------------------- #
# Scale free (Barabasi-Albert)
# --------------------------------------------------------------------------- #


def test_scale_free_structure_and_heavy_tail():
    n, m = 20_000, 5
    net = build_network(NetworkConfig(kind="scale_free", mean_degree=2 * m), n, rng(8))
    assert_csr(net)
    deg = net.degree()
    assert net.num_edges == m + (n - m - 1) * m
    assert deg.min() >= m
    assert deg.max() > 25 * deg.mean()  # hubs (~sqrt(n) m = 700 expected)
    # discrete power-law MLE of the tail (Clauset, Shalizi & Newman 2009, eq. 3.7)
    kmin = 20
    tail = deg[deg >= kmin]
    alpha = 1 + tail.size / np.log(tail / (kmin - 0.5)).sum()
    assert 2.6 < alpha < 3.4  # Barabasi & Albert (1999): 3


def test_scale_free_each_client_links_m_earlier_ones():
    n, m = 3000, 4
    net = barabasi_albert(n, m, rng(9))
    for i in range(n):
        earlier = int((net.neighbours(i) < i).sum())
        assert earlier == (0 if i == 0 else 1 if i <= m else m)


def _exact_ba_mean_degrees(n: int, m: int) -> np.ndarray:
    """Exact E[degree] of networkx's barabasi_albert_graph(n, m), by enumeration.

    Start: star on 0..m. Client t draws m distinct targets, each with
    probability proportional to degree among those not yet drawn.
    """
    start = (m,) + (1,) * m
    states: dict[tuple[int, ...], float] = {start: 1.0}
    for t in range(m + 1, n):
        nxt: dict[tuple[int, ...], float] = defaultdict(float)
        for degs, prob in states.items():
            total = sum(degs)
            for seq in itertools.permutations(range(t), m):
                p, used = prob, 0
                for x in seq:
                    p *= degs[x] / (total - used)
                    used += degs[x]
                new = list(degs) + [m]
                for x in seq:
                    new[x] += 1
                nxt[tuple(new)] += p
        states = nxt
    mean = np.zeros(n)
    for degs, prob in states.items():
        mean += prob * np.array(degs)
    return mean


def test_scale_free_has_the_law_of_the_sequential_process():
    n, m, reps = 7, 2, 3000
    exact = _exact_ba_mean_degrees(n, m)
    sample = np.array([barabasi_albert(n, m, rng(s)).degree() for s in range(reps)])
    nx_sample = np.array(
        [[d for _, d in sorted(nx.barabasi_albert_graph(n, m, seed=s).degree())]
         for s in range(reps)]
    )
    for got in (sample, nx_sample):  # ours, and networkx itself as a check of the test
        assert np.allclose(got[:, -1], m)  # the last client only has its own m edges
        se = got[:, :-1].std(axis=0) / math.sqrt(reps)
        z = (got[:, :-1].mean(axis=0) - exact[:-1]) / se
        assert np.abs(z).max() < 4, (got.mean(axis=0), exact)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(2, 80), m=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
def test_scale_free_invariants(size, m, seed):
    m = min(m, (size - 1) // 2)
    if m < 1:
        with pytest.raises(ConfigError, match="network.mean_degree"):
            barabasi_albert(size, max(m, 1), rng(seed))
        return
    net = barabasi_albert(size, m, rng(seed))
    assert_csr(net)
    assert net.num_edges == m + (size - m - 1) * m


# --------------------------------------------------------------------------- #
# draw_neighbours
# --------------------------------------------------------------------------- #


def test_draws_are_neighbours():
    for net in (watts_strogatz(2000, 10, 0.2, rng(10)), barabasi_albert(2000, 3, rng(11))):
        senders = rng(12).integers(0, net.size, 50_000)
        got = net.draw_neighbours(senders, rng(13))
        assert got.dtype == np.int64 and got.shape == senders.shape
        u, v = net.edges()
        keys = set((u * net.size + v).tolist())
        pairs = np.minimum(senders, got) * net.size + np.maximum(senders, got)
        assert all(k in keys for k in pairs.tolist())


def test_draws_are_uniform_over_neighbours():
    # a star (centre 0, 12 leaves) plus a triangle 1-2-3 and a pendant 13-14
    u = [0] * 12 + [1, 2, 1, 13]
    v = list(range(1, 13)) + [2, 3, 3, 14]
    net = SocialNetwork.from_edges("file", 15, np.array(u), np.array(v))
    gen = rng(14)
    for sender, draws in ((0, 24_000), (1, 6_000), (13, 100)):
        got = net.draw_neighbours(np.full(draws, sender), gen)
        nbrs = net.neighbours(sender)
        counts = np.array([(got == j).sum() for j in nbrs])
        assert counts.sum() == draws  # nothing outside the neighbours
        if nbrs.size > 1:
            assert stats.chisquare(counts).pvalue > 1e-3
    hub = barabasi_albert(5000, 2, rng(15))
    h = int(np.argmax(hub.degree()))
    got = hub.draw_neighbours(np.full(200 * hub.degree()[h], h), gen)
    counts = np.bincount(got, minlength=hub.size)[hub.neighbours(h)]
    assert counts.sum() == got.size
    assert stats.chisquare(counts).pvalue > 1e-3


def test_complete_draws_any_other_client_uniformly():
    net = build_network(NetworkConfig(kind="complete"), 7, rng())
    got = net.draw_neighbours(np.full(42_000, 3), rng(16))
    assert not (got == 3).any()
    counts = np.bincount(got, minlength=7)
    assert stats.chisquare(np.delete(counts, 3)).pvalue > 1e-3
    senders = rng(17).integers(0, 7, 10_000)
    got = net.draw_neighbours(senders, rng(18))
    assert ((got >= 0) & (got < 7) & (got != senders)).all()


def test_networks_side_by_side_keep_their_own_edges():
    """Replications run side by side talk over the union of their networks, nothing between."""
    cfg = NetworkConfig(kind="small_world", mean_degree=4, rewire_probability=0.3)
    parts = [build_network(cfg, 50, rng(seed)) for seed in (1, 2, 3)]
    union = SocialNetwork.side_by_side(parts)
    assert union.size == 150 and union.num_edges == sum(p.num_edges for p in parts)
    for b, part in enumerate(parts):
        for i in (0, 17, 49):
            assert union.neighbours(50 * b + i).tolist() == (part.neighbours(i) + 50 * b).tolist()
    senders = np.arange(150)
    u = rng(4).random(150)
    assert union.neighbours_at(senders, u).tolist() == np.concatenate(
        [part.neighbours_at(senders[:50], u[50 * b:50 * b + 50]) + 50 * b
         for b, part in enumerate(parts)]).tolist()


def test_complete_networks_side_by_side_talk_within_their_block():
    parts = [build_network(NetworkConfig(kind="complete"), 6, rng()) for _ in range(3)]
    union = SocialNetwork.side_by_side(parts)
    assert union.block == 6 and union.num_edges == 3 * 15
    assert union.neighbours(8).tolist() == [6, 7, 9, 10, 11]
    assert (union.degree() == 5).all()
    u, v = union.edges()
    assert u.size == 45 and (u // 6 == v // 6).all()
    got = union.neighbours_at(np.full(30_000, 8), rng(5).random(30_000))
    counts = np.bincount(got, minlength=18)
    assert counts[:6].sum() == counts[12:].sum() == counts[8] == 0
    assert stats.chisquare(counts[[6, 7, 9, 10, 11]]).pvalue > 1e-3
    alone = parts[0].neighbours_at(np.arange(6), np.linspace(0, 0.99, 6))
    assert union.neighbours_at(np.arange(12, 18), np.linspace(0, 0.99, 6)).tolist() == (
        alone + 12).tolist()


def test_draw_edge_cases():
    isolated = SocialNetwork.from_edges("file", 4, np.array([0]), np.array([1]))
    got = isolated.draw_neighbours(np.array([0, 1, 2, 3, 0]), rng())
    assert got.tolist() == [1, 0, -1, -1, 1]
    none = build_network(NetworkConfig(kind="none"), 5, rng())
    assert none.draw_neighbours(np.array([0, 4]), rng()).tolist() == [-1, -1]
    lone = build_network(NetworkConfig(kind="complete"), 1, rng())
    assert lone.draw_neighbours(np.array([0]), rng()).tolist() == [-1]
    ring = ring_lattice(10, 2)
    grid = ring.draw_neighbours(np.arange(10).reshape(2, 5), rng())
    assert grid.shape == (2, 5)
    assert ring.draw_neighbours(np.array([], dtype=np.int64), rng()).shape == (0,)
    with pytest.raises(IndexError):
        ring.draw_neighbours(np.array([10]), rng())
    with pytest.raises(IndexError):
        ring.draw_neighbours(np.array([-1]), rng())
    with pytest.raises(TypeError):
        ring.draw_neighbours(np.array([0.5]), rng())
    with pytest.raises(TypeError):
        ring.draw_neighbours(np.array([0]), np.random.RandomState(0))
    with pytest.raises(IndexError):
        ring.neighbours(10)


@settings(max_examples=50, deadline=None)
@given(size=st.integers(3, 40), seed=st.integers(0, 2**32 - 1))
def test_draws_on_random_graphs(size, seed):
    gen = rng(seed)
    u, v = gen.integers(0, size, (2, size))
    net = SocialNetwork.from_edges("file", size, u, v)
    senders = gen.integers(0, size, 200)
    got = net.draw_neighbours(senders, gen)
    deg = net.degree()
    assert ((got == -1) == (deg[senders] == 0)).all()
    for s, g in zip(senders.tolist(), got.tolist()):
        if g >= 0:
            assert g in net.neighbours(s)


# --------------------------------------------------------------------------- #
# Files
# --------------------------------------------------------------------------- #


def test_graphml_round_trip_with_integer_ids(tmp_path):
    graph = nx.gnm_random_graph(60, 150, seed=19)
    graph.add_node(60)  # an isolated client survives in GraphML
    shuffled = nx.Graph()
    order = rng(20).permutation(61).tolist()
    shuffled.add_nodes_from(order)  # file order differs from numeric order
    shuffled.add_edges_from(graph.edges())
    path = tmp_path / "net.graphml"
    nx.write_graphml(shuffled, path)
    net = read_network(path, 61)
    assert net.kind == "file"
    assert_csr(net)
    assert edge_set(net) == nx_edge_set(graph)
    assert net.degree()[60] == 0


def test_graphml_string_ids_follow_file_order_and_directed_is_symmetrised(tmp_path):
    graph = nx.DiGraph()
    graph.add_nodes_from(["carol", "alice", "bob", "dave"])
    graph.add_edges_from([("alice", "bob"), ("bob", "alice"), ("carol", "dave"),
                          ("dave", "dave")])
    path = tmp_path / "people.xml"
    nx.write_graphml(graph, path)
    net = read_network(path, 4)
    assert_csr(net)
    # carol=0, alice=1, bob=2, dave=3; the self loop is dropped
    assert edge_set(net) == {(1, 2), (0, 3)}


@pytest.mark.parametrize(
    ("sep", "suffix"), [(",", ".csv"), (" ", ".txt"), ("\t", ".edges"), (", ", ".CSV")]
)
def test_edge_list_round_trip(tmp_path, sep, suffix):
    graph = nx.gnm_random_graph(40, 100, seed=21)
    graph.remove_nodes_from(list(nx.isolates(graph)))
    graph = nx.convert_node_labels_to_integers(graph)
    lines = ["# source target", "# a comment line", ""]
    lines += [f"{a}{sep}{b}" for a, b in graph.edges()]
    lines[4] += "  # trailing comment"
    path = tmp_path / f"edges{suffix}"
    path.write_text("\n".join(lines) + "\n")
    net = read_network(path, graph.number_of_nodes())
    assert_csr(net)
    assert edge_set(net) == nx_edge_set(graph)


def test_edge_list_ids_are_relabelled_in_sorted_order(tmp_path):
    path = tmp_path / "one_based.txt"
    path.write_text("1 2\n2 3\n3 1\n10 3\n3 10\n")  # ids 1, 2, 3, 10 -> 0, 1, 2, 3
    net = read_network(path, 4)
    assert edge_set(net) == {(0, 1), (1, 2), (0, 2), (2, 3)}


def test_file_errors(tmp_path):
    good = tmp_path / "g.csv"
    good.write_text("0,1\n1,2\n")
    with pytest.raises(ConfigError, match=r"^network\.path has 3 nodes but market\.size is 5"):
        build_network(NetworkConfig(kind="file", path=str(good)), 5, rng())
    with pytest.raises(ConfigError, match=r"acme\.net\.path has 3 nodes"):
        build_network(NetworkConfig(kind="file", path=str(good)), 4, rng(), key="acme.net")
    missing = tmp_path / "nope.graphml"
    with pytest.raises(ConfigError, match="nope.graphml.*does not exist"):
        read_network(missing, 3)
    with pytest.raises(ConfigError, match=r"g\.json.*must end in one of"):
        read_network(tmp_path / "g.json", 3)
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1\n1 two\n")
    with pytest.raises(ConfigError, match=r"bad\.txt.*two integer node ids"):
        read_network(bad, 3)
    wide = tmp_path / "wide.csv"
    wide.write_text("0,1,0.5\n1,2,0.7\n")
    with pytest.raises(ConfigError, match=r"wide\.csv.*exactly two columns"):
        read_network(wide, 3)
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph>")
    with pytest.raises(ConfigError, match=r"broken\.graphml.*not valid GraphML"):
        read_network(broken, 3)
    empty = tmp_path / "empty.edges"
    empty.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="has 0 nodes but market.size is 3"):
        read_network(empty, 3)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(ConfigError, match=r"folder\.csv.*is not a regular file"):
        read_network(folder, 3)


# --------------------------------------------------------------------------- #
# Validation, configs, reproducibility
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("cfg", "size", "where", "rule"),
    [
        (NetworkConfig(kind="ring"), 100, "network.kind",
         "must be one of small_world, scale_free, complete, none, file"),
        (NetworkConfig(mean_degree=1), 100, "network.mean_degree", "at least 2"),
        (NetworkConfig(kind="scale_free", mean_degree=0), 100, "network.mean_degree",
         "at least 2"),
        (NetworkConfig(mean_degree=100), 100, "network.mean_degree",
         "less than market.size (100)"),
        (NetworkConfig(mean_degree=7), 100, "network.mean_degree", "must be even"),
        (NetworkConfig(mean_degree=2.5), 100, "network.mean_degree", "must be an integer"),
        (NetworkConfig(mean_degree=True), 100, "network.mean_degree", "must be an integer"),
        (NetworkConfig(rewire_probability=1.5), 100, "network.rewire_probability",
         "must be in [0, 1]"),
        (NetworkConfig(rewire_probability=-0.1), 100, "network.rewire_probability",
         "must be in [0, 1]"),
        (NetworkConfig(rewire_probability=float("nan")), 100, "network.rewire_probability",
         "must be in [0, 1]"),
        (NetworkConfig(kind="file"), 100, "network.path", "must name a GraphML"),
        (NetworkConfig(kind="file", path="  "), 100, "network.path", "must name a GraphML"),
        (NetworkConfig(), 0, "market.size", "must be an integer in [1,"),
    ],
)
def test_validate_network_errors(cfg, size, where, rule):
    with pytest.raises(ConfigError) as info:
        validate_network(cfg, size)
    assert info.value.where == where
    assert rule in info.value.rule
    with pytest.raises(ConfigError):  # build_network validates too
        build_network(cfg, size, rng())


def test_validate_network_accepts_and_uses_key():
    for kind in KINDS:
        cfg = NetworkConfig(kind=kind, path="x.csv" if kind == "file" else "")
        validate_network(cfg, 100)
    validate_network(NetworkConfig(kind="complete", mean_degree=500), 10)  # unused setting
    with pytest.raises(ConfigError, match=r"^firms\.acme\.network\.kind must be one of"):
        validate_network(NetworkConfig(kind="star"), 10, key="firms.acme.network")


def test_builders_need_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        build_network(NetworkConfig(), 100, np.random.RandomState(0))
    with pytest.raises(TypeError):
        watts_strogatz(100, 10, 0.1, 42)


def test_reproducible_and_no_global_rng():
    before = np.random.get_state()[1].copy()  # noqa: NPY002 - checking it is untouched
    for kind in ("small_world", "scale_free"):
        cfg = NetworkConfig(kind=kind)
        a = build_network(cfg, 3000, rng(22))
        b = build_network(cfg, 3000, rng(22))
        c = build_network(cfg, 3000, rng(23))
        assert np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)
        assert not np.array_equal(a.indices, c.indices)
        senders = np.arange(3000)
        assert np.array_equal(a.draw_neighbours(senders, rng(24)),
                              b.draw_neighbours(senders, rng(24)))
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_yaml_configs_mirror_the_dataclass():
    names = {p.stem for p in CONFIGS.glob("*.yaml")}
    assert set(KINDS) <= names  # one preset per kind; other presets (e.g. ring_lattice) allowed
    defaults = dataclasses.asdict(NetworkConfig())
    for name in sorted(names):
        raw = OmegaConf.load(CONFIGS / f"{name}.yaml")
        assert raw.kind == name if name in KINDS else raw.kind in KINDS
        assert set(raw.keys()) == set(defaults)
        merged = OmegaConf.merge(OmegaConf.structured(NetworkConfig), raw)
        if raw.kind == "file":
            with pytest.raises(ConfigError, match="network.path must name a GraphML"):
                validate_network(OmegaConf.to_object(merged), 1000)  # path must be given
            merged.path = "my_network.graphml"
        cfg = OmegaConf.to_object(merged)
        assert isinstance(cfg, NetworkConfig)
        validate_network(cfg, 1000)
        if name in KINDS:
            for key in ("mean_degree", "rewire_probability"):
                assert getattr(cfg, key) == defaults[key]
    assert dataclasses.asdict(OmegaConf.to_object(OmegaConf.merge(
        OmegaConf.structured(NetworkConfig), OmegaConf.load(CONFIGS / "small_world.yaml")
    ))) == defaults


def test_register_network_configs():
    from hydra.core.config_store import ConfigStore

    netmod.register_network_configs()
    assert "network_schema.yaml" in ConfigStore.instance().list("/")


def test_public_api():
    for name in netmod.__all__:
        assert hasattr(netmod, name), name
    net = ring_lattice(12, 4)
    assert "small_world" in repr(net) and "size=12" in repr(net)
    g = net.to_networkx()
    assert g.number_of_nodes() == 12 and nx_edge_set(g) == edge_set(net)
    with pytest.raises(ValueError):
        SocialNetwork("complete", 3, np.zeros(4, np.int64), np.zeros(0, np.int32))
    with pytest.raises(ValueError):
        SocialNetwork("file", 3, np.zeros(4, np.int32), np.zeros(0, np.int32))
