"""The social network through which clients talk: word of mouth.

Clients are the integer ids ``0 .. size - 1`` used everywhere in cxsim. Who can
talk to whom is an undirected, simple graph held in *compressed sparse row*
(CSR) form [1]_: the neighbours of client ``i`` are
``indices[indptr[i]:indptr[i + 1]]``. Every edge is stored in both directions,
there are no self loops and no duplicate edges, and each client's neighbours
are sorted in ascending order. With ``int32`` neighbour ids and ``int64`` row
offsets a network with mean degree ``k`` costs ``4 k + 8`` bytes per client
(48 bytes at ``k = 10``). A run picks each sender's hearer with
:meth:`SocialNetwork.neighbours_at`, from keyed uniforms, one vectorised call
per batch of senders; :meth:`SocialNetwork.draw_neighbours`, the same from a
Generator, is kept for analyses and as the reference of the uniform choice
(``tests/test_network.py``). networkx is only used to read GraphML files and,
through :meth:`SocialNetwork.to_networkx`, for analysing small graphs.

Kinds (``NetworkConfig.kind``):

``small_world``
    Watts–Strogatz [2]_: a ring lattice where each client knows the
    ``mean_degree / 2`` nearest clients on either side, with each edge's far
    end rewired to a uniformly random client with ``rewire_probability``.
    High clustering *and* short paths, like acquaintance networks, where word
    of mouth moves through clusters of strong ties and across the weak ties
    that bridge them [6]_.
``scale_free``
    Barabási–Albert [3]_ preferential attachment with ``mean_degree / 2``
    edges per new client: a few hubs ("influentials") and a power-law degree
    tail with exponent 3.
``complete``
    Everybody talks to everybody: the mixing assumption of the Bass model
    [4]_. No edges are stored.
``none``
    Nobody talks: word of mouth is switched off. No edges are stored.
``file``
    A network read from a GraphML file or an integer edge list.

Generation is vectorised: the small world is written straight into arrays in
O(N k) and the Barabási–Albert process uses the "repeated nodes" urn of
Batagelj and Brandes [5]_, resolved with numpy instead of a Python loop per
client (about 0.6 s and 2.5 s per million clients at ``k = 10``). Every
random function takes a :class:`numpy.random.Generator`; the module has no
global random state and no import-time side effects.

References
----------
.. [1] M. E. J. Newman, *Networks: An Introduction*, Oxford University Press,
   2010, sec. 9.4 (adjacency lists and sparse storage).
.. [2] D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world'
   networks", *Nature* 393, 440-442, 1998.
.. [3] A.-L. Barabási and R. Albert, "Emergence of scaling in random
   networks", *Science* 286, 509-512, 1999.
.. [4] F. M. Bass, "A new product growth for model consumer durables",
   *Management Science* 15(5), 215-227, 1969.
.. [5] V. Batagelj and U. Brandes, "Efficient generation of large random
   networks", *Physical Review E* 71, 036113, 2005.
.. [6] J. Goldenberg, B. Libai and E. Muller, "Talk of the network: a complex
   systems look at the underlying process of word-of-mouth", *Marketing
   Letters* 12(3), 211-223, 2001.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import numpy as np

from cxsim.errors import ConfigError
from cxsim.fields import is_integer
from cxsim.rules import validate_network
from cxsim.schema import KINDS, NetworkConfig
from cxsim.schema import MAX_NETWORK_SIZE as _MAX_SIZE

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "KINDS",
    "GRAPHML_SUFFIXES",
    "EDGE_LIST_SUFFIXES",
    "NetworkConfig",
    "register_network_configs",
    "validate_network",
    "SocialNetwork",
    "build_network",
    "ring_lattice",
    "watts_strogatz",
    "barabasi_albert",
    "read_network",
]

GRAPHML_SUFFIXES = (".graphml", ".xml")
"""File suffixes read as GraphML (case-insensitive)."""

EDGE_LIST_SUFFIXES = (".csv", ".txt", ".edges")
"""File suffixes read as an edge list of two integer columns (case-insensitive)."""

_IMPLICIT = ("complete", "none")  # kinds that store no edges
_MAX_REDRAW_ROUNDS = 10_000  # rejection rounds before giving up (never reached in practice)


# --------------------------------------------------------------------------- #
# Configuration
# --------------------------------------------------------------------------- #


def register_network_configs() -> None:
    """Register :class:`NetworkConfig` with Hydra's ConfigStore as ``network_schema``.

    Only needed to compose ``configs/network/*.yaml`` on their own; inside a
    full scenario the schema is the ``network`` field of the scenario's
    dataclass. Nothing is registered at import time.
    """
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name="network_schema", node=NetworkConfig)


# --------------------------------------------------------------------------- #
# The network
# --------------------------------------------------------------------------- #


class SocialNetwork:
    """An undirected, simple network over clients ``0 .. size - 1`` in CSR form.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS` (``ring_lattice`` networks have kind
        ``small_world``).
    size : int
        Number of clients.
    indptr : numpy.ndarray of int64, shape (size + 1,), or None
        Row offsets: the neighbours of ``i`` are ``indices[indptr[i]:indptr[i + 1]]``.
        ``None`` for ``complete`` and ``none``, which store no edges.
    indices : numpy.ndarray of int32, shape (indptr[-1],), or None
        Neighbour ids. Every undirected edge appears twice (once in each
        endpoint's row), there are no self loops and no duplicates, and each
        row is sorted ascending. ``None`` for ``complete`` and ``none``.
    block : int, optional
        For ``complete``: every client talks to every other one of its block
        of ``block`` consecutive ids (replications side by side,
        :meth:`side_by_side`); *size* by default.

    Attributes
    ----------
    kind, size, indptr, indices, block
        As above. The arrays are made read-only.

    Notes
    -----
    Build networks with :func:`build_network` (or :meth:`from_edges`); the
    constructor only checks shapes and dtypes, not symmetry. ``complete``
    means every client talks to every other one without any graph being
    built; ``none`` means nobody talks.

    References
    ----------
    .. [1] M. E. J. Newman, *Networks: An Introduction*, Oxford University
       Press, 2010, sec. 9.4.
    """

    __slots__ = ("kind", "size", "indptr", "indices", "block")

    def __init__(
        self,
        kind: str,
        size: int,
        indptr: np.ndarray | None = None,
        indices: np.ndarray | None = None,
        block: int | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
        if not is_integer(size) or not 0 <= size <= _MAX_SIZE:
            raise ValueError(f"size must be an integer in [0, {_MAX_SIZE}]; got {size!r}")
        if kind in _IMPLICIT:
            if indptr is not None or indices is not None:
                raise ValueError(f"kind={kind} stores no edges: indptr and indices must be None")
        else:
            if indptr is None or indices is None:
                raise ValueError(f"kind={kind} needs indptr and indices")
            indptr = np.asarray(indptr)
            indices = np.asarray(indices)
            if indptr.dtype != np.int64 or indptr.shape != (size + 1,):
                raise ValueError(f"indptr must be int64 of shape ({size + 1},)")
            if indices.dtype != np.int32 or indices.ndim != 1:
                raise ValueError("indices must be a one-dimensional int32 array")
            if indptr[0] != 0 or indptr[-1] != indices.size:
                raise ValueError("indptr must start at 0 and end at len(indices)")
            indptr.flags.writeable = False
            indices.flags.writeable = False
        self.kind = kind
        self.size = int(size)
        self.indptr = indptr
        self.indices = indices
        self.block = self.size if block is None else int(block)
        if self.size and not (1 <= self.block and self.size % self.block == 0):
            raise ValueError(f"block must divide size {self.size}; got {block!r}")

    @classmethod
    def side_by_side(cls, networks: list[SocialNetwork]) -> SocialNetwork:
        """Networks of equal size on one axis of clients, with no edge between them.

        The replications of a batch (``cxsim.simulation.engine``) each talk over their
        own network; a ``complete`` one stays complete within its block of
        ``block`` clients.
        """
        first = networks[0]
        size = sum(n.size for n in networks)
        if first.kind == "complete":
            return cls("complete", size, block=first.size)
        if not first.stores_edges:
            return cls(first.kind, size)
        offsets = np.cumsum([0] + [n.size for n in networks[:-1]])
        starts = np.cumsum([0] + [n.indices.size for n in networks[:-1]])
        indptr = np.concatenate([networks[0].indptr[:1]] + [
            n.indptr[1:] + start for n, start in zip(networks, starts)])
        indices = np.concatenate([n.indices + np.int32(offset)
                                  for n, offset in zip(networks, offsets)])
        return cls(first.kind, size, indptr.astype(np.int64), indices.astype(np.int32))

    # ------------------------------------------------------------------ #
    @classmethod
    def from_edges(
        cls, kind: str, size: int, u: np.ndarray, v: np.ndarray
    ) -> SocialNetwork:
        """Build a network from undirected edges ``(u[j], v[j])``.

        Self loops are dropped and duplicate edges (in either direction) are
        merged, so any edge list gives a simple graph.

        Parameters
        ----------
        kind : str
            Kind recorded on the network (not ``complete`` or ``none``).
        size : int
            Number of clients; every id must be in ``[0, size)``.
        u, v : numpy.ndarray of int
            Endpoints, equal length.

        Returns
        -------
        SocialNetwork
            The CSR network with sorted rows.

        References
        ----------
        .. [1] M. E. J. Newman, *Networks: An Introduction*, Oxford University
           Press, 2010, sec. 9.4.
        """
        indptr, indices = _csr(size, u, v)
        return cls(kind, size, indptr, indices)

    # ------------------------------------------------------------------ #
    @property
    def stores_edges(self) -> bool:
        """Whether the network holds CSR arrays (false for ``complete`` and ``none``)."""
        return self.indptr is not None

    @property
    def nbytes(self) -> int:
        """Bytes held by ``indptr`` and ``indices`` (0 for ``complete`` and ``none``)."""
        if self.indptr is None:
            return 0
        return int(self.indptr.nbytes + self.indices.nbytes)

    @property
    def num_edges(self) -> int:
        """Number of undirected edges (``size (size - 1) / 2`` for ``complete``)."""
        if self.kind == "complete":
            return self.size * (self.block - 1) // 2
        if self.indptr is None:
            return 0
        return int(self.indices.size // 2)

    def degree(self) -> np.ndarray:
        """Number of neighbours of every client.

        Returns
        -------
        numpy.ndarray of int64, shape (size,)
            ``size - 1`` everywhere for ``complete``, 0 for ``none``.

        References
        ----------
        .. [1] M. E. J. Newman, *Networks: An Introduction*, Oxford University
           Press, 2010, sec. 6.9.
        """
        if self.kind == "complete":
            return np.full(self.size, max(self.block - 1, 0), dtype=np.int64)
        if self.indptr is None:
            return np.zeros(self.size, dtype=np.int64)
        return np.diff(self.indptr)

    def neighbours(self, i: int) -> np.ndarray:
        """The neighbours of client *i*, ascending.

        Parameters
        ----------
        i : int
            A client id in ``[0, size)``.

        Returns
        -------
        numpy.ndarray of int32
            A read-only view into ``indices``; for ``complete`` a new array of
            all other clients (O(size)); for ``none`` an empty array.

        Raises
        ------
        IndexError
            If *i* is not a client id.

        References
        ----------
        .. [1] M. E. J. Newman, *Networks: An Introduction*, Oxford University
           Press, 2010, sec. 9.4.
        """
        if not is_integer(i) or not 0 <= i < self.size:
            raise IndexError(f"client id must be an integer in [0, {self.size}); got {i!r}")
        i = int(i)
        if self.kind == "complete":
            first = i - i % self.block
            others = np.arange(first, first + self.block - 1, dtype=np.int32)
            others[i - first:] += 1
            return others
        if self.indptr is None:
            return np.empty(0, dtype=np.int32)
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def draw_neighbours(self, senders: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One uniformly random neighbour for every sender, vectorised.

        Each entry of *senders* gets an independent draw (a sender listed
        twice may get two different neighbours).

        Parameters
        ----------
        senders : numpy.ndarray of int
            Client ids, any shape; repeats allowed.
        rng : numpy.random.Generator
            The random stream.

        Returns
        -------
        numpy.ndarray of int64, same shape as *senders*
            A neighbour of each sender, uniform over its neighbours; ``-1``
            for a sender with no neighbours. For ``complete`` a uniformly
            random *other* client (no graph is built); for ``none`` all ``-1``.

        Raises
        ------
        TypeError
            If *senders* is not an integer array or *rng* not a Generator.
        IndexError
            If a sender is not a client id.

        Notes
        -----
        The offset into each sender's row is ``rng.integers(0, degree)``,
        which is exactly uniform (Lemire's method), not ``floor(u * degree)``.

        References
        ----------
        .. [1] D. Lemire, "Fast random integer generation in an interval",
           *ACM Transactions on Modeling and Computer Simulation* 29(1), 3,
           2019.
        """
        _check_rng(rng)
        return self._pick(senders, lambda deg, _: rng.integers(0, deg, dtype=np.int64))

    def neighbours_at(self, senders: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The neighbour at position ``floor(u * degree)`` of each sender's row.

        Like :meth:`draw_neighbours`, but from given uniforms in [0, 1), so a
        caller can key each message's draw to its sender (common random
        numbers, ``cxsim.streams``). With 53-bit uniforms the bias of
        ``floor(u * degree)`` is below ``degree / 2**53``.
        """
        u = np.asarray(u, dtype=float)
        if u.shape != np.shape(senders):
            raise ValueError(f"u must have the senders' shape {np.shape(senders)}; got {u.shape}")

        def offsets(deg: np.ndarray, which: np.ndarray | None) -> np.ndarray:
            at = u if which is None else u[which]
            return np.minimum((at * deg).astype(np.int64), deg - 1)

        return self._pick(senders, offsets)

    def _pick(self, senders: np.ndarray,
              offsets: Callable[[np.ndarray, np.ndarray | None], np.ndarray]) -> np.ndarray:
        """One neighbour per sender at ``offsets(degrees, which senders)`` into its row."""
        s = np.asarray(senders)
        if s.dtype.kind not in "iu":
            raise TypeError(f"senders must be an integer array; got dtype {s.dtype}")
        if s.size == 0:
            return np.empty(s.shape, dtype=np.int64)
        lo, hi = int(s.min()), int(s.max())
        if lo < 0 or hi >= self.size:
            bad = lo if lo < 0 else hi
            raise IndexError(f"senders must be client ids in [0, {self.size}); got {bad}")
        if self.kind == "none" or (self.kind == "complete" and self.block < 2):
            return np.full(s.shape, -1, dtype=np.int64)
        if self.kind == "complete":
            own = s % self.block
            other = offsets(np.full(s.shape, self.block - 1, dtype=np.int64), None)
            return s - own + other + (other >= own)
        start = self.indptr[s]
        deg = (self.indptr[s + 1] - start).astype(np.int64)
        if deg.min() > 0:
            return self.indices[start + offsets(deg, None)].astype(np.int64)
        out = np.full(s.shape, -1, dtype=np.int64)
        has = deg > 0
        out[has] = self.indices[start[has] + offsets(deg[has], has)]
        return out

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """Every undirected edge once, as ``(u, v)`` with ``u < v``, sorted by ``(u, v)``.

        Returns
        -------
        u, v : numpy.ndarray of int64
            For ``complete`` all ``size (size - 1) / 2`` pairs are built
            (O(size²) memory: small networks only).

        References
        ----------
        .. [1] M. E. J. Newman, *Networks: An Introduction*, Oxford University
           Press, 2010, sec. 9.4.
        """
        if self.kind == "complete":
            u, v = np.triu_indices(self.block, k=1)
            first = np.repeat(np.arange(0, self.size, self.block), u.size)
            return (np.tile(u, self.size // self.block) + first).astype(np.int64), \
                (np.tile(v, self.size // self.block) + first).astype(np.int64)
        if self.indptr is None:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        src = np.repeat(np.arange(self.size, dtype=np.int64), self.degree())
        dst = self.indices.astype(np.int64)
        keep = src < dst
        return src[keep], dst[keep]

    def to_networkx(self) -> nx.Graph:
        """The network as a :class:`networkx.Graph` on nodes ``0 .. size - 1``.

        For analysis of small networks only (clustering, path lengths); the
        simulation never uses it.

        Returns
        -------
        networkx.Graph

        References
        ----------
        .. [1] A. A. Hagberg, D. A. Schult and P. J. Swart, "Exploring network
           structure, dynamics, and function using NetworkX", *Proc. SciPy*
           2008, 11-15.
        """
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(self.size))
        u, v = self.edges()
        graph.add_edges_from(zip(u.tolist(), v.tolist()))
        return graph

    def __repr__(self) -> str:
        return (
            f"SocialNetwork(kind={self.kind!r}, size={self.size}, "
            f"edges={self.num_edges}, nbytes={self.nbytes})"
        )


# --------------------------------------------------------------------------- #
# Builders
# --------------------------------------------------------------------------- #


def build_network(
    cfg: NetworkConfig, size: int, rng: np.random.Generator, key: str = "network"
) -> SocialNetwork:
    """Build the clients' social network described by *cfg*.

    Parameters
    ----------
    cfg : NetworkConfig
        The network settings; checked with :func:`validate_network` first.
    size : int
        Number of clients (``market.size``).
    rng : numpy.random.Generator
        The random stream (not used by ``complete``, ``none`` and ``file``, nor
        by ``small_world`` at ``rewire_probability = 0``).
    key : str, optional
        Config key of the network settings, for error messages.

    Returns
    -------
    SocialNetwork
        ``small_world``: :func:`watts_strogatz`; ``scale_free``:
        :func:`barabasi_albert` with ``m = mean_degree / 2``; ``file``:
        :func:`read_network`; ``complete`` and ``none``: no arrays.

    Raises
    ------
    ConfigError
        For an invalid config or an unreadable or mismatched file.

    References
    ----------
    .. [1] D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world'
       networks", *Nature* 393, 440-442, 1998.
    .. [2] A.-L. Barabási and R. Albert, "Emergence of scaling in random
       networks", *Science* 286, 509-512, 1999.
    """
    _check_rng(rng)
    validate_network(cfg, size, key)
    if cfg.kind == "small_world":
        return watts_strogatz(size, cfg.mean_degree, float(cfg.rewire_probability), rng)
    if cfg.kind == "scale_free":
        return barabasi_albert(size, cfg.mean_degree // 2, rng)
    if cfg.kind == "file":
        return read_network(cfg.path, size, key)
    return SocialNetwork(cfg.kind, size)


def ring_lattice(size: int, mean_degree: int = 10) -> SocialNetwork:
    """The ring lattice: each client knows the ``mean_degree / 2`` nearest on each side.

    The Watts–Strogatz network at ``rewire_probability = 0`` (kind
    ``small_world``), deterministic, with mean degree exactly ``mean_degree``.
    Word of mouth spreads over it far more slowly than under complete mixing.

    Parameters
    ----------
    size : int
        Number of clients.
    mean_degree : int, optional
        Even, in ``[2, size)``.

    Returns
    -------
    SocialNetwork

    Raises
    ------
    ConfigError
        If *mean_degree* is odd, below 2 or not below *size*.

    References
    ----------
    .. [1] D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world'
       networks", *Nature* 393, 440-442, 1998.
    """
    validate_network(NetworkConfig("small_world", mean_degree, 0.0), size)
    u, v = _lattice(size, mean_degree // 2)
    return SocialNetwork.from_edges("small_world", size, u, v)


def watts_strogatz(
    size: int, mean_degree: int, rewire_probability: float, rng: np.random.Generator
) -> SocialNetwork:
    """A Watts–Strogatz small-world network, generated straight into arrays.

    Start from the ring lattice in which client ``i`` is joined to
    ``i + 1, ..., i + k/2`` (mod *size*), ``k = mean_degree``. Each of these
    ``size k / 2`` edges independently, with probability
    *rewire_probability*, keeps its near end ``i`` and has its far end
    replaced by a client drawn uniformly from all clients other than ``i``.

    Parameters
    ----------
    size : int
        Number of clients.
    mean_degree : int
        ``k``: even, in ``[2, size)``.
    rewire_probability : float
        ``p`` in ``[0, 1]``.
    rng : numpy.random.Generator
        The random stream.

    Returns
    -------
    SocialNetwork
        Kind ``small_world`` with ``size k / 2`` edges, so the mean degree
        is exactly ``k`` (but see Notes for dense graphs).

    Raises
    ------
    ConfigError
        For parameters :func:`validate_network` rejects.

    Notes
    -----
    A rewired edge that would duplicate an existing edge (a surviving lattice
    edge or another rewired edge) is **re-drawn**, as in the original model
    ("duplicate edges forbidden") and networkx; self loops cannot occur. All
    edges are drawn at once and the duplicates (about ``p k² size / (2 size)``
    of them, a handful) re-drawn in a few vectorised rounds, so no edge is
    lost: every client keeps at least ``k / 2`` neighbours, the mean degree is
    exactly ``k``, and the degree distribution is the model's. Membership in
    the lattice is an O(1) test on the ring distance, so the whole build is
    O(size k) plus the sort that lays out the CSR rows. The one exception is
    a client already joined to every other client (only possible when ``k``
    is close to *size*): it has nowhere to rewire to, so that edge is dropped
    and the mean degree falls a little below ``k``.

    The duplicate check is against the final graph rather than, as in
    networkx's sequential loop, the graph at the moment of each rewiring; the
    difference is confined to those few duplicates.

    References
    ----------
    .. [1] D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world'
       networks", *Nature* 393, 440-442, 1998.
    .. [2] M. E. J. Newman, *Networks: An Introduction*, Oxford University
       Press, 2010, sec. 15.1.
    """
    _check_rng(rng)
    validate_network(NetworkConfig("small_world", mean_degree, rewire_probability), size)
    h = mean_degree // 2
    u, v = _lattice(size, h)
    if rewire_probability > 0.0:
        _rewire(size, h, u, v, rewire_probability, rng)
    return SocialNetwork.from_edges("small_world", size, u, v)


def barabasi_albert(size: int, m: int, rng: np.random.Generator) -> SocialNetwork:
    """A Barabási–Albert scale-free network by vectorised preferential attachment.

    The process is networkx's ``barabasi_albert_graph(size, m)``: start from a
    star on clients ``0 .. m`` (client 0 at the centre); every later client
    ``t = m + 1, ..., size - 1`` links to ``m`` *distinct* earlier clients,
    each drawn with probability proportional to its current degree.

    Parameters
    ----------
    size : int
        Number of clients.
    m : int
        Edges per new client, ``>= 1`` with ``2 m < size``. The mean degree is
        ``2 m (size - m - 1) / size + 2 m / size``, just under ``2 m``.
    rng : numpy.random.Generator
        The random stream.

    Returns
    -------
    SocialNetwork
        Kind ``scale_free`` with exactly ``m + (size - m - 1) m`` edges.

    Raises
    ------
    ConfigError
        For parameters :func:`validate_network` rejects.

    Notes
    -----
    Degree-proportional choice is a uniform draw from the "repeated nodes"
    urn in which every edge contributes both endpoints [2]_: edge ``e`` puts
    its source at position ``2e`` and its target at ``2e + 1``. Client ``t``
    draws each target as the urn entry at a uniform position below
    ``2 m (t - m)`` (the entries of all earlier edges, so no self loops).
    Sources are known in advance; a target position that holds another
    edge's target refers to an *earlier* draw, so all targets are resolved at
    once by following these references with numpy (about two steps on average,
    a few dozen at most) instead of a Python loop per client. A target that
    repeats an earlier one of the same client is re-drawn (rejection, as
    networkx does), and every draw that copied it is resolved again, found
    through an index of who drew which position. A client is only judged
    once none of its targets copies a draw still waiting to be re-drawn, so
    every rejection is decided on final values, as in the sequential process;
    the earliest client with a repeat can always be judged, so the loop ends,
    after a handful of cheap rounds. The result has the law of the sequential
    process (the tests check it exactly on 7 clients) and is a simple graph
    whose urn is its degree sequence.

    Time is O(size m) plus a sort of the ``size m`` draws: about 2 s per
    million clients at ``m = 5``.

    References
    ----------
    .. [1] A.-L. Barabási and R. Albert, "Emergence of scaling in random
       networks", *Science* 286, 509-512, 1999.
    .. [2] V. Batagelj and U. Brandes, "Efficient generation of large random
       networks", *Physical Review E* 71, 036113, 2005.
    """
    _check_rng(rng)
    validate_network(NetworkConfig("scale_free", 2 * m if is_integer(m) else m), size)
    u, v = _preferential_attachment(size, m, rng)
    return SocialNetwork.from_edges("scale_free", size, u, v)


def read_network(path: str | Path, size: int, key: str = "network") -> SocialNetwork:
    """Read a network from a GraphML file or an integer edge list.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.graphml`` / ``.xml``: GraphML, read with networkx. ``.csv`` /
        ``.txt`` / ``.edges``: one edge per line as two integer node ids,
        separated by a comma or whitespace; ``#`` starts a comment (comment
        out a header line); read with numpy.
    size : int
        Number of clients; the file must have exactly this many nodes.
    key : str, optional
        Config key of the network settings, for error messages.

    Returns
    -------
    SocialNetwork
        Kind ``file``.

    Raises
    ------
    ConfigError
        If the file is missing, has another suffix, cannot be parsed, or has a
        node count other than *size* (``network.path has 120 nodes but
        market.size is 100``).

    Notes
    -----
    Nodes become clients ``0 .. n - 1``: if every node id is an integer
    (GraphML ids such as ``"17"`` count), in ascending numeric order, so ids
    ``0 .. n - 1`` map to themselves and 1-based ids shift down by one;
    otherwise (GraphML only) in the order the nodes appear in the file.
    Directed graphs are made undirected, self loops are dropped, parallel
    edges merged, and attributes and weights ignored. An edge list has no
    isolated nodes: every client must appear in some edge (use GraphML for
    networks with isolated clients).

    References
    ----------
    .. [1] U. Brandes, M. Eiglsperger, I. Herman, M. Himsolt and M. S.
       Marshall, "GraphML progress report", *Graph Drawing* 2001, LNCS 2265,
       501-512.
    """
    spec = str(path)
    where = f"network file {spec!r}"
    p = Path(spec).expanduser()
    suffix = p.suffix.lower()
    if suffix not in GRAPHML_SUFFIXES + EDGE_LIST_SUFFIXES:
        raise ConfigError(
            where, f"must end in one of {', '.join(GRAPHML_SUFFIXES + EDGE_LIST_SUFFIXES)}", suffix
        )
    if not p.exists():
        shown = str(p.absolute())
        raise ConfigError(where, "does not exist" if shown == spec else f"does not exist "
                          f"(looked for {shown})")
    if not p.is_file():
        raise ConfigError(where, "is not a regular file", str(p.absolute()))
    if suffix in GRAPHML_SUFFIXES:
        n, u, v = _read_graphml(p, where)
    else:
        n, u, v = _read_edge_list(p, where)
    if n != size:
        raise ConfigError(f"{key}.path", f"has {n} nodes but market.size is {size}", spec)
    return SocialNetwork.from_edges("file", size, u, v)


# --------------------------------------------------------------------------- #
# Internals
# --------------------------------------------------------------------------- #


def _check_rng(rng: Any) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")


def _csr(size: int, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric CSR arrays of the simple graph on edges (u, v): rows sorted."""
    u = np.asarray(u, dtype=np.int64).ravel()
    v = np.asarray(v, dtype=np.int64).ravel()
    if u.shape != v.shape:
        raise ValueError("u and v must have the same length")
    if u.size and (min(u.min(), v.min()) < 0 or max(u.max(), v.max()) >= size):
        raise ValueError(f"edge endpoints must be in [0, {size})")
    keep = u != v
    if not keep.all():
        u, v = u[keep], v[keep]
    # one int64 key per directed edge: row * size + column; sorting lays out the rows
    keys = np.empty(2 * u.size, dtype=np.int64)
    np.multiply(u, size, out=keys[: u.size])
    keys[: u.size] += v
    np.multiply(v, size, out=keys[u.size :])
    keys[u.size :] += u
    del u, v
    keys.sort()
    if keys.size > 1:
        fresh = np.empty(keys.size, dtype=bool)
        fresh[0] = True
        np.not_equal(keys[1:], keys[:-1], out=fresh[1:])
        if not fresh.all():
            keys = keys[fresh]
        del fresh
    # row i holds the keys in [i * size, (i + 1) * size)
    indptr = np.searchsorted(keys, np.arange(size + 1, dtype=np.int64) * size).astype(np.int64)
    if size:
        np.remainder(keys, size, out=keys)  # in place: the column
    indices = keys.astype(np.int32)
    return indptr, indices


def _lattice(size: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Ring-lattice edges (i, i + j mod size), j = 1..h; edge i*h + j - 1."""
    u = np.repeat(np.arange(size, dtype=np.int64), h)
    v = u + np.tile(np.arange(1, h + 1, dtype=np.int64), size)
    v[v >= size] -= size
    return u, v


def _rewire(
    size: int, h: int, u: np.ndarray, v: np.ndarray, p: float, rng: np.random.Generator
) -> None:
    """Rewire far ends in place with probability p; re-draw duplicates (see watts_strogatz)."""
    n_edges = u.size
    idx = np.flatnonzero(rng.random(n_edges) < p)  # edges whose far end is rewired
    if idx.size == 0:
        return
    rewired = np.zeros(n_edges, dtype=bool)
    rewired[idx] = True
    src = u[idx]
    dst = _other_client(src, size, rng)
    # accepted rewired keys, sorted; edges still to (re)check
    accepted = np.empty(0, dtype=np.int64)
    todo = np.arange(idx.size)
    for round_ in range(_MAX_REDRAW_ROUNDS):
        a, b = src[todo], dst[todo]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        key = lo * size + hi
        # 1. coincides with a lattice edge that was not rewired away?
        gap = hi - lo
        ring = np.minimum(gap, size - gap)
        on_ring = ring <= h
        # lattice edge (x, x + ring mod size): x = lo if hi - lo == ring, else hi
        x = np.where(gap == ring, lo, hi)
        slot = x * h + np.where(on_ring, ring, 1) - 1
        bad = on_ring & ~rewired[np.where(on_ring, slot, 0)]
        # 2. coincides with an accepted rewired edge, or an earlier one in this batch?
        if accepted.size:
            pos = np.searchsorted(accepted, key)
            pos[pos == accepted.size] = 0
            bad |= accepted[pos] == key
        order = np.argsort(key, kind="stable")
        ks = key[order]
        repeat = np.zeros(key.size, dtype=bool)
        repeat[order[1:]] = ks[1:] == ks[:-1]
        bad |= repeat
        good = ~bad
        accepted = np.sort(np.concatenate([accepted, key[good]]))
        todo = todo[bad]
        if todo.size and round_ % 64 == 63:  # a client joined to everybody cannot rewire
            kept = ~rewired
            ends = np.concatenate([u[kept], v[kept], accepted // size, accepted % size])
            full = np.bincount(ends, minlength=size) >= size - 1
            drop = full[src[todo]]
            dst[todo[drop]] = src[todo[drop]]  # a self loop, dropped by _csr
            todo = todo[~drop]
        if todo.size == 0:
            break
        dst[todo] = _other_client(src[todo], size, rng)
    else:  # pragma: no cover - unreachable in practice: drop what is left
        dst[todo] = src[todo]
    v[idx] = dst


def _other_client(src: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random client other than each of *src*."""
    w = src + 1 + rng.integers(0, size - 1, size=src.size, dtype=np.int64)
    w[w >= size] -= size
    return w


def _preferential_attachment(
    size: int, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Edges of the Barabási–Albert process (see barabasi_albert)."""
    n_new = size - m - 1  # clients m+1 .. size-1
    n_draws = n_new * m  # new edge j is global edge m + j, of client m + 1 + j // m
    seed_u = np.arange(1, m + 1, dtype=np.int64)
    seed_v = np.zeros(m, dtype=np.int64)
    if n_draws == 0:
        return seed_u, seed_v
    row = np.arange(n_draws, dtype=np.int64) // m
    # urn positions drawn: uniform below 2 m (t - m) = 2 m (row + 1)
    draw = rng.integers(0, 2 * m * (row + 1), dtype=np.int64)
    target = np.empty(n_draws, dtype=np.int64)
    stale = np.ones(n_draws, dtype=bool)  # target not yet valid
    _resolve(np.arange(n_draws, dtype=np.int64), draw, target, stale, m)
    stale[:] = False
    if m > 1:
        rows = np.arange(n_new, dtype=np.int64)
        index: tuple[np.ndarray, np.ndarray] | None = None
        moved = np.empty(0, dtype=np.int64)  # draws changed since the index was built
        for _ in range(_MAX_REDRAW_ROUNDS):
            bad = _repeated_targets(target, rows, m)
            if bad.size == 0:
                break
            if index is None:
                index = _copy_index(draw, m)
            # reject only on final values: postpone clients that copy a draw about to change
            unsure = np.unique(_copies_of(bad, draw, index, moved, m, n_draws) // m)
            sure = bad[~np.isin(bad // m, unsure)]
            draw[sure] = rng.integers(0, 2 * m * (sure // m + 1), dtype=np.int64)
            moved = np.union1d(moved, sure)
            affected = np.union1d(sure, _copies_of(sure, draw, index, moved, m, n_draws))
            stale[affected] = True
            _resolve(affected, draw, target, stale, m)
            stale[affected] = False
            rows = np.union1d(affected // m, bad // m)
        else:  # pragma: no cover - every client has >= m + 1 distinct candidates
            raise RuntimeError("preferential attachment did not converge")
    src = np.concatenate([seed_u, m + 1 + row])
    dst = np.concatenate([seed_v, target])
    return src, dst


def _resolve(
    which: np.ndarray, draw: np.ndarray, target: np.ndarray, stale: np.ndarray, m: int
) -> None:
    """Set target[which] to the urn entries at draw[which], following references.

    Urn position ``2e`` holds the source of global edge ``e`` and ``2e + 1`` its
    target; seed edge ``e < m`` is ``(e + 1, 0)`` and new edge ``j = e - m``
    belongs to client ``m + 1 + j // m``. A target position of a new edge whose
    target is *stale* is followed to that edge's own draw.
    """
    pending = which
    pos = draw[which]
    while pending.size:
        new = (pos >> 1) - m  # new edge holding the position (negative: a seed edge)
        odd = (pos & 1).astype(bool)
        follow = odd & (new >= 0)
        follow[follow] = stale[new[follow]]
        if not follow.all():
            done = ~follow
            n, o = new[done], odd[done]
            value = np.where(n < 0, n + m + 1, m + 1 + n // m)  # the edge's source
            value[o & (n < 0)] = 0  # a seed edge's target
            known = o & (n >= 0)
            value[known] = target[n[known]]
            target[pending[done]] = value
            pending = pending[follow]
            new = new[follow]
        pos = draw[new]


def _repeated_targets(target: np.ndarray, rows: np.ndarray, m: int) -> np.ndarray:
    """New edges whose target repeats an earlier column of the same client (rows only)."""
    block = target[(rows[:, None] * m + np.arange(m)).ravel()].reshape(rows.size, m)
    hits = [
        rows[np.flatnonzero((block[:, :j] == block[:, j : j + 1]).any(axis=1))] * m + j
        for j in range(1, m)
    ]
    return np.sort(np.concatenate(hits))


def _copy_index(draw: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``(copier, copied)``: draws that copy a new edge's target, sorted by that edge."""
    copier = np.flatnonzero((draw & 1).astype(bool) & (draw >= 2 * m))
    copied = (draw[copier] >> 1) - m
    if copied.size and copied[-1] < np.iinfo(np.int32).max:
        copied = copied.astype(np.int32)
    order = np.argsort(copied)
    return copier[order], copied[order]


def _copies_of(
    seeds: np.ndarray,
    draw: np.ndarray,
    index: tuple[np.ndarray, np.ndarray],
    moved: np.ndarray,
    m: int,
    n_draws: int,
) -> np.ndarray:
    """Every draw that copies the target of one of *seeds*, directly or in a chain.

    *index* is :func:`_copy_index` as it was when built; *moved* lists the draws
    changed since, which are checked directly. A seed is in the result only if
    it copies another seed.
    """
    copier, copied = index
    reached = np.zeros(n_draws, dtype=bool)
    frontier = np.sort(seeds)
    while frontier.size:
        keys = frontier.astype(copied.dtype)  # same dtype: no conversion of *copied*
        lo = np.searchsorted(copied, keys, side="left")
        hi = np.searchsorted(copied, keys, side="right")
        counts = hi - lo
        slots = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        cand = copier[slots]
        cand = cand[draw[cand] == 2 * (copied[slots].astype(np.int64) + m) + 1]  # unchanged
        drawn = draw[moved]
        cand = np.concatenate(
            [cand, moved[(drawn & 1).astype(bool) & np.isin((drawn >> 1) - m, frontier)]]
        )
        frontier = np.unique(cand[~reached[cand]])
        reached[frontier] = True
    return np.flatnonzero(reached)


_INT = re.compile(r"^[+-]?\d+$")


def _read_graphml(path: Path, where: str) -> tuple[int, np.ndarray, np.ndarray]:
    import networkx as nx

    try:
        graph = nx.read_graphml(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"cannot be read ({exc})") from None
    except (
        ElementTree.ParseError,
        nx.NetworkXError,
        IndexError,
        KeyError,
        TypeError,
        ValueError,
    ) as exc:
        raise ConfigError(where, f"is not valid GraphML ({exc!r})") from None
    nodes = list(graph.nodes)
    if nodes and all(_INT.fullmatch(str(node)) for node in nodes):
        numbers = [int(str(node)) for node in nodes]
        if len(set(numbers)) != len(numbers):
            raise ConfigError(where, "has two node ids with the same integer value")
        nodes = [node for _, node in sorted(zip(numbers, nodes))]
    label = {node: i for i, node in enumerate(nodes)}
    pairs = np.array([(label[a], label[b]) for a, b in graph.edges()], dtype=np.int64)
    pairs = pairs.reshape(-1, 2)
    return len(nodes), pairs[:, 0], pairs[:, 1]


def _read_edge_list(path: Path, where: str) -> tuple[int, np.ndarray, np.ndarray]:
    delimiter = None
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                data = line.split("#", 1)[0].strip()
                if data:
                    delimiter = "," if "," in data else None
                    columns = len(data.split(delimiter))
                    if columns != 2:
                        raise ConfigError(
                            where, "must have exactly two columns (node ids)", line.strip()
                        )
                    break
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, f"cannot be read ({exc})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            pairs = np.loadtxt(
                path, dtype=np.int64, comments="#", delimiter=delimiter, ndmin=2,
                encoding="utf-8",
            )
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(
            where,
            "must hold one edge per line as two integer node ids separated by a comma or "
            f"whitespace, '#' for comments ({detail})",
        ) from None
    if pairs.size == 0:
        return 0, np.empty(0, np.int64), np.empty(0, np.int64)
    if pairs.shape[1] != 2:  # pragma: no cover - loadtxt rejects ragged rows first
        raise ConfigError(where, "must have exactly two columns (node ids)", pairs.shape[1])
    ids, inverse = np.unique(pairs, return_inverse=True)
    inverse = inverse.reshape(pairs.shape)
    return int(ids.size), inverse[:, 0], inverse[:, 1]
