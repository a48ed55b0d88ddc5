"""Common random numbers: every draw is keyed by the client and the event it belongs to;
and the run's seeds, spawned in a fixed order (:data:`STREAMS` for what is drawn once at
set-up, :data:`KEYED` for the keys of the draws made as the run goes).

A paired comparison (:func:`cxsim.compare`) runs two scenarios on the same
replication seed. Were random numbers handed out in event order, the first
client whose path a lever changed would shift every later draw onto other
clients, and the two runs would soon share nothing but their populations.
Here a draw is a pure function of (run, purpose, client, the client's walk
number, position within the walk): a client whose path the lever leaves
alone draws the same numbers in both runs, whatever the others do.

The function is SplitMix64 (Steele, Lea & Flood 2014), the generator used to
seed xoshiro and passing BigCrush: position *i* of the sequence seeded by
*s* is ``mix(s + (i + 1) * GOLDEN)``. A walk's sequence is seeded by
``key(stream, client, walk number)``, the mix of a point on a
two-dimensional Weyl lattice (one step per client, another per walk).

References
----------
Steele, G. L., Lea, D. & Flood, C. H. (2014). Fast splittable pseudorandom
number generators. *OOPSLA 2014*, 453-472.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba import njit, vectorize

__all__ = ["KEYED", "STREAMS", "root_seed", "spawn_streams", "stream_keys", "run_keys",
           "CLIENT_STEP",
           "GOLDEN", "MASK", "MIX_1", "MIX_2", "TO_UNIT", "Walk", "Salt", "Survey",
           "Prospect", "client_streams", "compiled_key", "compiled_mix", "compiled_uniform", "key",
           "keys", "mix", "normals", "poissons", "positions", "uniform", "uniforms"]


class Walk(IntEnum):
    """Positions in a walk's own sequence (seeded by ``key(walks, client, walk number)``)."""

    NEED_GAP = 0  # days from the last walk's end to this walk's need
    CHURN = 1  # the uniform its churn probability is compared with, drawn when it ends
    STEPS = 2  # service times, self-service times and route choices, in the order made


class Salt(IntEnum):
    """Purposes that derive their own sequences from a walk's key (:func:`uniforms`)."""

    PSYCHOLOGY = 1  # perception noise, a normal per visit
    FAILURE = 2  # per visit: does it fail, is the failure recovered
    NPS = 3  # the answer's noise
    SURVEY = 4  # is the answer heard; is it coached
    TALK = 5  # how many messages; to which neighbour; does each persuade
    SWITCH = 6  # which firm a leaving client picks
    SPEND = 7  # what a purchase spends, where the segment spreads spend (Gamma–Gamma)
    DELAY = 8  # per visit: the delay to the next touchpoint, where an edge's delay varies
    PATIENCE = 9  # per wait for a staffed touchpoint: how long the client will wait


class Survey(IntEnum):
    """Salts of a client's monthly surveys (``key(surveys, client, month)``, index: the
    firm's column), so the industry study and a firm's own sample are independent."""

    STUDY = 1  # is it asked by the industry study
    INVITE = 2  # is it asked by the firm's own periodic survey
    RESPONSE = 3  # does it answer the firm's survey


class Prospect(IntEnum):
    """Positions in a prospect's sequence (``key(acquisition, client, walk number)``, salt 0)."""

    THRESHOLD = 0  # its Exp(1) threshold on the pool's hazard clock
    EXPOSURE = 1  # which firm's marketing reached it
    CHOICE = 2  # the firm it picks

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # SplitMix64's increment, odd and close to 2**64 / phi
CLIENT_STEP = 0xD1B54A32D192ED03  # a second odd Weyl step, for clients (any odd constant not
#                                   a small multiple of GOLDEN keeps (client, number) apart)
MIX_1 = 0xBF58476D1CE4E5B9
MIX_2 = 0x94D049BB133111EB
TO_UNIT = 2.0 ** -53  # the top 53 bits of a 64-bit word as a float in [0, 1)


STREAMS = ("population", "network")
"""Generators spawned in this order from the run's root seed: what is drawn once, at set-up."""

KEYED = ("walks", "acquisition", "returns", "surveys")
"""Keys of the draws made while the run goes on, one per client and event."""


def root_seed(seed: int, replication: int = 0) -> np.random.SeedSequence:
    """Root of replication *replication*: ``SeedSequence(seed, spawn_key=(replication,))``."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def _children(root: np.random.SeedSequence) -> list[np.random.SeedSequence]:
    return np.random.SeedSequence(
        root.entropy, spawn_key=root.spawn_key, pool_size=root.pool_size
    ).spawn(len(STREAMS) + len(KEYED))


def spawn_streams(root: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One generator per name in :data:`STREAMS`, always spawned in that order."""
    return {name: np.random.default_rng(child)
            for name, child in zip(STREAMS, _children(root))}


def stream_keys(root: np.random.SeedSequence) -> dict[str, int]:
    """One 64-bit key per name in :data:`KEYED`, spawned after :data:`STREAMS`."""
    children = _children(root)[len(STREAMS):]
    return {name: int(child.generate_state(1, np.uint64)[0])
            for name, child in zip(KEYED, children)}


def mix(z: int) -> int:
    """SplitMix64's output function on a 64-bit integer."""
    z = ((z ^ (z >> 30)) * MIX_1) & MASK
    z = ((z ^ (z >> 27)) * MIX_2) & MASK
    return z ^ (z >> 31)


def key(stream: int, client: int, number: int) -> int:
    """Seed of the *number*-th sequence of *client* in *stream*."""
    return mix((stream + client * CLIENT_STEP + (number + 1) * GOLDEN) & MASK)


def uniform(seed: int, index: int) -> float:
    """Position *index* of the sequence seeded by *seed*, as a float in [0, 1)."""
    return (mix((seed + (index + 1) * GOLDEN) & MASK) >> 11) * TO_UNIT


_G, _C = np.uint64(GOLDEN), np.uint64(CLIENT_STEP)
_M1, _M2, _ONE = np.uint64(MIX_1), np.uint64(MIX_2), np.uint64(1)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


@njit(cache=True)
def compiled_mix(z: np.uint64) -> np.uint64:
    """:func:`mix` compiled (numba), on a uint64 that wraps modulo 2**64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def compiled_key(stream: np.uint64, client: int, number: int) -> np.uint64:
    """:func:`key` compiled, for loops written with numba (``cxsim.simulation.visits``)."""
    return compiled_mix(stream + np.uint64(client) * _C + (np.uint64(number) + _ONE) * _G)


@njit(cache=True)
def compiled_uniform(seed: np.uint64, index: int) -> float:
    """:func:`uniform` compiled, for loops written with numba (``cxsim.simulation.visits``)."""
    return np.float64(compiled_mix(seed + (np.uint64(index) + _ONE) * _G) >> _S11) * TO_UNIT


@njit(cache=True)
def compiled_salted(seed: np.uint64, salt: int, index: int) -> float:
    """Position *index* of the sequence a *salt* derives from *seed* (:func:`uniforms`),
    compiled."""
    return compiled_uniform(compiled_mix(seed ^ np.uint64(salt)), index)


# numpy ufuncs (broadcasting like any other), taken out of numba's wrapper, which costs more
# than the work on a day's few dozen walks
@vectorize(["uint64(uint64, uint64, uint64)"], cache=True)
def _keys(stream, client, number):
    return compiled_key(stream, client, number)


@vectorize(["float64(uint64, uint64)"], cache=True)
def _positions(seed, index):
    return compiled_uniform(seed, index)


@vectorize(["float64(uint64, uint64, uint64)"], cache=True)
def _uniforms(seed, salt, index):
    return compiled_salted(seed, salt, index)


_keys, _positions, _uniforms = _keys.ufunc, _positions.ufunc, _uniforms.ufunc


def _words(x: np.ndarray | int) -> np.ndarray:
    return np.asarray(x, dtype=np.uint64)


def keys(stream: np.ndarray | int, clients: np.ndarray, numbers: np.ndarray | int
         ) -> np.ndarray:
    """:func:`key` for arrays of clients and numbers (uint64); *stream* may be one word
    per client (:func:`client_streams`)."""
    return _keys(_words(stream), _words(clients), _words(numbers))


def client_streams(stream: int, first: int, size: int) -> np.ndarray:
    """Words that key clients ``first .. first + size - 1`` as *stream*'s clients ``0 ..
    size - 1``: ``key(word, first + i, n) == key(stream, i, n)``.

    Replications run side by side in one engine number their clients on
    one axis; each block keeps the draws of its own run, bit for bit,
    because a client's step on the key's lattice can be taken back out of
    the stream (modulo 2**64).
    """
    word = (stream - first * CLIENT_STEP) & MASK
    return np.full(size, word, dtype=np.uint64)


def run_keys(roots: list[np.random.SeedSequence], size: int) -> dict[str, np.ndarray]:
    """Per name in :data:`KEYED`, one word per client of replications side by side (block
    *i* of *size* clients keyed by ``roots[i]``, as its own run would be)."""
    keyed = [stream_keys(root) for root in roots]
    return {name: np.concatenate([client_streams(k[name], i * size, size)
                                  for i, k in enumerate(keyed)])
            for name in KEYED}


def positions(seeds: np.ndarray, index: np.ndarray | int) -> np.ndarray:
    """:func:`uniform` for arrays: position *index* of the sequences seeded by *seeds*."""
    return _positions(_words(seeds), _words(index))


def uniforms(seeds: np.ndarray, salt: int, index: np.ndarray | int) -> np.ndarray:
    """Position *index* of the sequence seeded by ``mix(seed ^ salt)``, as floats in [0, 1).

    The salt names a purpose, so one walk's key seeds several independent
    sequences (its psychology, its word of mouth, its survey).
    """
    return _uniforms(_words(seeds), np.uint64(salt), _words(index))


def normals(seeds: np.ndarray, salt: int, index: np.ndarray | int, sd: np.ndarray | float
            ) -> np.ndarray:
    """Normal draws with standard deviation *sd*, by Box & Muller (1958) from positions 2i, 2i+1."""
    index = _words(index) * np.uint64(2)
    u = uniforms(seeds, salt, index)
    v = uniforms(seeds, salt, index + _ONE)
    return sd * np.sqrt(-2.0 * np.log1p(-u)) * np.cos(2.0 * np.pi * v)


@vectorize(["int64(float64, float64, float64)"], cache=True)
def _poisson_count(u, rate, none):
    if u < none:
        return 0
    count, term, below = 0, none, none
    while True:
        count += 1
        term = term * rate / count
        below = below + term
        if u < below or term <= 0.0:
            return count


_poisson_count = _poisson_count.ufunc


def poissons(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Poisson counts with mean *rate* from uniforms *u*, by inverting the CDF.

    One draw per count keeps a sender's messages tied to its own key. The
    chance of no message, ``exp(-rate)``, is numpy's; the sums of the CDF are
    compiled (numba), the same operations in the same order.
    """
    rate = np.broadcast_to(np.asarray(rate, dtype=float), np.shape(u))
    return _poisson_count(u, rate, np.exp(-rate))
