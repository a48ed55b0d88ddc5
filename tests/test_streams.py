"""Keyed random draws (cxsim.streams): the right distributions, and independent keys."""

import math

import numpy as np
import pytest

from cxsim.model.network import NetworkConfig, build_network
from cxsim.streams import (
    GOLDEN,
    MASK,
    TO_UNIT,
    client_streams,
    compiled_key,
    compiled_uniform,
    key,
    keys,
    mix,
    normals,
    poissons,
    uniform,
    uniforms,
)

N = 200_000
STREAM = 0x1234_5678_9ABC_DEF0


def test_scalar_and_array_keys_agree():
    clients = np.array([0, 1, 7, 999_999])
    numbers = np.array([0, 3, 0, 65_000])
    assert keys(STREAM, clients, numbers).tolist() == [
        key(STREAM, int(c), int(n)) for c, n in zip(clients, numbers)]


def test_a_block_of_clients_keeps_its_own_streams_keys():
    """Replications side by side number their clients on one axis; client ``first + i``
    keyed by its block's word draws what client ``i`` of the stream draws alone."""
    first, size = 3 * 2_000, 2_000
    words = client_streams(STREAM, first, size)
    clients = np.array([0, 1, 1_234, 1_999])
    numbers = np.array([0, 5, 17, 65_000])
    assert keys(words[clients], first + clients, numbers).tolist() == [
        key(STREAM, int(c), int(n)) for c, n in zip(clients, numbers)]
    assert int(compiled_key(words[7], first + 7, 3)) == key(STREAM, 7, 3)
    assert keys(words[:1], first, 0)[0] != key(STREAM, first, 0)  # the word is what moves


def test_array_uniforms_are_the_scalar_sequence():
    seed = key(STREAM, 5, 2)
    got = uniforms(np.array([seed], dtype=np.uint64), 0, np.arange(4))
    want = [(mix((mix(seed) + (i + 1) * GOLDEN) & MASK) >> 11) * TO_UNIT for i in range(4)]
    assert got.tolist() == want == [uniform(mix(seed), i) for i in range(4)]


def test_keys_of_neighbouring_clients_and_walks_are_uniform_and_uncorrelated():
    """Uniforms keyed by consecutive clients/walks: mean 1/2, variance 1/12, lag-1 correlation 0."""
    clients = np.repeat(np.arange(N // 4), 4)
    numbers = np.tile(np.arange(4), N // 4)
    u = uniforms(keys(STREAM, clients, numbers), 0, 0)
    assert u.min() >= 0.0 and u.max() < 1.0
    se = math.sqrt(1 / 12 / N)
    assert abs(u.mean() - 0.5) < 4 * se
    assert abs(u.var() - 1 / 12) < 4 * math.sqrt(1 / 180 / N)  # Var(U^2-ish) bound for U(0,1)
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 4 / math.sqrt(N)
    counts = np.bincount((u * 20).astype(int), minlength=20)
    chi2 = ((counts - N / 20) ** 2 / (N / 20)).sum()
    assert chi2 < 43.8  # chi-square, 19 degrees of freedom, p = 0.001


def test_salts_give_independent_sequences():
    seeds = keys(STREAM, np.arange(N), 0)
    a, b = uniforms(seeds, 1, 0), uniforms(seeds, 2, 0)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(N)


def test_normals_have_the_asked_spread():
    z = normals(keys(STREAM, np.arange(N), 0), 3, 0, 2.0)
    assert abs(z.mean()) < 4 * 2.0 / math.sqrt(N)
    assert abs(z.std() - 2.0) < 4 * 2.0 / math.sqrt(2 * N)
    assert abs((np.abs(z) < 2.0).mean() - 0.6827) < 4 * math.sqrt(0.6827 * 0.3173 / N)


@pytest.mark.parametrize("rate", [0.05, 0.7, 4.0])
def test_poissons_have_the_poisson_mean_variance_and_zeros(rate):
    u = uniforms(keys(STREAM, np.arange(N), 1), 0, 0)
    k = poissons(u, np.full(N, rate))
    assert abs(k.mean() - rate) < 4 * math.sqrt(rate / N)
    assert abs((k == 0).mean() - math.exp(-rate)) < 4 * math.sqrt(
        math.exp(-rate) * (1 - math.exp(-rate)) / N)
    assert abs(k.var() - rate) < 4 * math.sqrt((rate + 2 * rate**2) / N)


def test_poissons_of_rate_zero_are_zero():
    assert poissons(np.array([0.0, 0.5, 0.999]), np.zeros(3)).tolist() == [0, 0, 0]


def test_neighbours_at_picks_uniformly_from_the_row():
    small_world = NetworkConfig(kind="small_world", mean_degree=6, rewire_probability=0.1)
    net = build_network(small_world, 50, np.random.default_rng(3))
    sender = 7
    row = sorted(net.neighbours(sender).tolist())
    u = uniforms(keys(STREAM, np.arange(60_000), 0), 0, 0)
    got = net.neighbours_at(np.full(u.size, sender), u)
    counts = np.array([(got == j).sum() for j in row])
    assert counts.sum() == u.size
    expected = u.size / len(row)
    assert ((counts - expected) ** 2 / expected).sum() < 20.5  # chi-square, 5 df, p = 0.001


def test_neighbours_at_on_a_complete_network_never_picks_the_sender():
    net = build_network(NetworkConfig(kind="complete"), 5, np.random.default_rng(0))
    u = np.linspace(0.0, 0.999, 40)
    got = net.neighbours_at(np.full(40, 2), u)
    assert set(got.tolist()) == {0, 1, 3, 4}


def test_neighbours_at_needs_one_uniform_per_sender():
    net = build_network(NetworkConfig(kind="complete"), 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="u must have the senders' shape"):
        net.neighbours_at(np.array([0, 1]), np.array([0.5]))


def test_the_compiled_draws_are_the_scalar_sequence():
    """The compiled loop of cxsim.simulation.visits draws with compiled_key/compiled_uniform: the
    same numbers as the definition, bit for bit."""
    for client, number in [(0, 0), (5, 2), (999_999, 65_000)]:
        seed = key(STREAM, client, number)
        assert int(compiled_key(np.uint64(STREAM), client, number)) == seed
        assert [compiled_uniform(np.uint64(seed), i) for i in range(5)] == [
            uniform(seed, i) for i in range(5)]
