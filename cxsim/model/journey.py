"""Journey maps: the touchpoint graph a client walks, loaded and validated.

A journey is a directed graph of *touchpoints*. When a client's need arises it
enters the graph at the ``entry`` touchpoint and follows edges, each taken with
its probability after its delay, until it reaches one of the ``exits``. The
out-probabilities of a touchpoint may sum to less than one: the remainder is
the probability that the client abandons the journey there.

Journey maps are data, never code. They are written in YAML (the user-facing
format) or GraphML (for graph editors); both are turned into the same mapping
and go through one validation path, :func:`journey_from_mapping`. Every error
is a :class:`~cxsim.errors.ConfigError` naming the file, the touchpoint, key or
edge, and the rule broken.

YAML format
-----------
::

    name: subscription            # required, str
    description: "..."            # optional str
    reference_clients: 10000      # optional int >= 1, default 10000: the market
                                  # size the staff numbers are sized for
    entry: signup                 # required, a touchpoint name
    exits: [renewal]              # required, non-empty list of touchpoint names
    touchpoints:                  # required, non-empty mapping name -> fields
      signup:
        stage: onboarding         # required non-empty str (awareness, consideration,
                                  # purchase, onboarding, use, support, billing, renewal...)
        channel: web              # required non-empty str
        staffed: false            # optional bool, default false
        staff: 3                  # int >= 1, required iff staffed, forbidden otherwise
        patience_days: 2.0        # staffed only, optional float > 0: mean patience of a
                                  # client waiting for this touchpoint (reneging, below)
        service_days: 0.01        # required float > 0: mean service/visit time, days
        base_quality: 0.7         # required float in [0, 1]
        kind: hygiene             # optional: hygiene | delighter | neutral (default)
        cost_per_visit: 2.0       # optional float >= 0, default 0 (money)
        failure_probability: 0.03 # optional float in [0, 1], default 0.02
        outcome: purchase         # exits only: purchase (default) | no_purchase | walk_away
        description: "..."        # optional str
    edges:                        # optional list of mappings, default []
      - {from: signup, to: app_use, probability: 0.9, delay_days: 1.0, delay_shape: 0.8}
        # probability in (0, 1]; delay_days >= 0, default 0: the mean delay;
        # delay_shape in [0.05, 20], optional: the delay is Weibull with that shape
        # and the mean delay_days (1 is exponential); without it, always delay_days
      - {from: app_use, to: renewal, probability: 0.1, delay_quantiles: [0, 1, 2, 30]}
        # optional, instead of delay_days and delay_shape: 2 to 101 non-decreasing
        # delays (days) at evenly spaced probabilities 0 .. 1, the delay drawn from
        # the quantile function linear between them; their mean is the edge's delay

Rules: touchpoint names match ``^[A-Za-z0-9_\\-]+$``; unknown fields are errors;
numbers must be finite and of numeric type (``true`` or ``"0.7"`` are not
numbers); an edge joins two known touchpoints and appears once per
(from, to) pair; the out-probabilities of a touchpoint sum to at most 1;
exits have no outgoing edges; ``outcome`` is one of :data:`OUTCOMES` and only on an
exit; every touchpoint is reachable from the entry and
can reach an exit. Cycles, including self-loops, are allowed.

How a walk ends
---------------
A walk that reaches an exit ends with that exit's ``outcome``: ``purchase``
(the default, so a journey without outcomes reads as before) pays its order
and counts as a purchase; ``no_purchase`` is finished but pays nothing and
is no purchase (a declined loan: the client went the whole way and was
refused); ``walk_away`` is an abandonment (a customer's cancellation),
counted exactly as a walk that runs out of out-probability. Labelled exits
let a journey discovered from an event log say *where* a case ended
instead of folding a cancellation into the missing probability mass.

Reneging
--------
A staffed touchpoint with ``patience_days`` loses the clients who will not
wait for it. A client's wait for it runs from the end of its previous visit
(or the need, at the entry) to the start of its service: the edge's delay,
then the queue. Each time it waits there it draws a patience, exponential
with mean ``patience_days`` (the Erlang-A model of abandonment, Mandelbaum &
Zeltyn 2007; :func:`cxsim.model.psychology.patience`), and leaves when the
wait would exceed it, at the moment its patience runs out, taking no
server. It then walks to the journey's first exit labelled ``walk_away``
(a journey with ``patience_days`` must have one; no edge need lead to it),
arriving at once with its wait as the visit's wait. Without ``patience_days``
no one reneges.

GraphML format
--------------
Node ids are touchpoint names and node data use the touchpoint field names
above (``staffed`` as boolean, ``staff`` as int, ...). Graph data hold
``name``, ``entry``, ``exits`` (a comma-separated string), and optionally
``reference_clients`` and ``description``. Edge data hold ``probability`` and
``delay_days``. :func:`journey_to_graphml` writes a journey in this form.

Compiled form
-------------
:class:`Journey` holds, besides the graph, per-touchpoint numpy arrays indexed
by touchpoint index (file order) and routing tables as plain Python lists;
the run routes with :class:`cxsim.simulation.walks.Routes`, compiled from them.
:meth:`Journey.step`, one step in Python, is kept as the reference the
compiled routing is checked against (``tests/test_walks.py``), and
:meth:`Journey.index_of` for readers and tests: the run looks touchpoints up
once, at set-up.
"""

from __future__ import annotations

import functools
import math
import re
import reprlib
import xml.etree.ElementTree as ElementTree
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import yaml

from cxsim.errors import ConfigError
from cxsim.schema import MAX_CLIENTS, MAX_STAFF, NAME_PATTERN

__all__ = [
    "DEFAULT_FAILURE_PROBABILITY",
    "NO_PURCHASE",
    "OUTCOMES",
    "PURCHASE",
    "WALK_AWAY",
    "DEFAULT_REFERENCE_CLIENTS",
    "JOURNEY_SUFFIXES",
    "KINDS",
    "NAME_PATTERN",
    "Journey",
    "available_journeys",
    "journey_from_mapping",
    "journey_to_graphml",
    "load_journey",
]

KINDS = ("hygiene", "delighter", "neutral")
"""Allowed values of a touchpoint's ``kind``."""

OUTCOMES = ("purchase", "no_purchase", "walk_away")
"""Allowed values of an exit's ``outcome``; a walk's outcome code is the position here."""

PURCHASE, NO_PURCHASE, WALK_AWAY = range(3)
"""Outcome codes of :attr:`Journey.outcome` (positions in :data:`OUTCOMES`)."""

DEFAULT_REFERENCE_CLIENTS = 10000
"""Market size the staff numbers of a journey are sized for, unless it says otherwise."""

DEFAULT_FAILURE_PROBABILITY = 0.02
"""Probability that a visit to a touchpoint fails, unless the touchpoint says otherwise."""

JOURNEY_SUFFIXES = (".yaml", ".yml", ".graphml", ".xml")
"""File suffixes :func:`load_journey` accepts for a path."""

_NAME_RE = re.compile(NAME_PATTERN)
_PROBABILITY_TOLERANCE = 1e-9
MAX_TOUCHPOINTS = 1_000  # shipped journeys hold 6-12; the visit solve is dense, O(n^3)
MAX_VISITS_PER_WALK = 1_000.0  # a walk of the shipped journeys makes 4-12 visits

_TOP_REQUIRED = ("name", "entry", "exits", "touchpoints")
_TOP_FIELDS = (*_TOP_REQUIRED, "description", "reference_clients", "edges")
_TOUCHPOINT_REQUIRED = ("stage", "channel", "service_days", "base_quality")
_TOUCHPOINT_FIELDS = (
    "stage",
    "channel",
    "staffed",
    "staff",
    "patience_days",
    "service_days",
    "base_quality",
    "kind",
    "cost_per_visit",
    "failure_probability",
    "outcome",
    "description",
)
_EDGE_REQUIRED = ("from", "to", "probability")
_EDGE_FIELDS = (*_EDGE_REQUIRED, "delay_days", "delay_shape", "delay_quantiles")
MAX_QUANTILES = 101
_INT_FIELDS = ("staff", "reference_clients")


# --------------------------------------------------------------------------- #
# The compiled journey
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, eq=False, repr=False)
class Journey:
    """A validated, compiled journey map.

    Build one with :func:`load_journey` or :func:`journey_from_mapping`, not
    directly. Per-touchpoint arrays are read-only and indexed by touchpoint
    index (the order of the touchpoints in the file); routing tables are
    plain lists for speed and must not be modified.

    Attributes
    ----------
    name : str
        Journey name.
    source : str
        File (or other origin) the journey was read from, used in messages.
    description : str
        Free text; ``""`` if none was given.
    graph : networkx.DiGraph
        Frozen graph; node attributes are the touchpoint fields with defaults
        filled in, edge attributes are ``probability`` and ``delay_days``.
    entry : int
        Index of the entry touchpoint.
    exits : tuple of int
        Indices of the exit touchpoints, in the order given in the file.
    reference_clients : int
        Market size the ``staff`` numbers are sized for.
    touchpoints, stages, channels : tuple of str
        Name, stage and channel of each touchpoint.
    staffed : numpy.ndarray of bool
        Whether each touchpoint is staffed (has a queue).
    staff : numpy.ndarray of int
        Staff at each touchpoint for ``reference_clients`` clients; 0 where unstaffed.
    service_days : numpy.ndarray of float
        Mean service (visit) time in days.
    base_quality : numpy.ndarray of float
        Quality delivered at baseline, in [0, 1].
    hygiene, delighter : numpy.ndarray of bool
        Kind of each touchpoint (neither is set for ``neutral``).
    cost_per_visit : numpy.ndarray of float
        Money the firm spends per visit.
    failure_probability : numpy.ndarray of float
        Probability that a visit fails.
    is_exit : numpy.ndarray of bool
        Whether each touchpoint is an exit.
    outcome : numpy.ndarray of int
        Per touchpoint, the outcome code (:data:`PURCHASE`, :data:`NO_PURCHASE`,
        :data:`WALK_AWAY`) of a walk that ends there at an exit; :data:`PURCHASE`
        for non-exits, which never end a walk at an exit.
    next_touchpoints : list of list of int
        For each touchpoint, the indices of its successors in edge order.
    cumulative_probability : list of list of float
        Cumulative sums of the out-probabilities in edge order. The last value
        may be below 1; the rest is the probability of abandoning there.
    delay_days : list of list of float
        Mean delay before reaching each successor, in days.
    delay_shape : list of list of float
        Weibull shape of each of those delays; 0 where the delay is always its mean.
    delay_quantiles : list of list of tuple of float
        The quantiles each of those delays is drawn from; empty where it has none.
    patience_days : numpy.ndarray of float
        Mean patience of a client waiting for each touchpoint; 0 where no one reneges.
    walk_away_exit : int
        The first exit labelled ``walk_away``, where a client who reneges goes; -1: none.
    """

    name: str
    source: str
    description: str
    graph: nx.DiGraph
    entry: int
    exits: tuple[int, ...]
    reference_clients: int
    touchpoints: tuple[str, ...]
    stages: tuple[str, ...]
    channels: tuple[str, ...]
    staffed: np.ndarray
    staff: np.ndarray
    service_days: np.ndarray
    base_quality: np.ndarray
    hygiene: np.ndarray
    delighter: np.ndarray
    cost_per_visit: np.ndarray
    failure_probability: np.ndarray
    is_exit: np.ndarray
    next_touchpoints: list[list[int]]
    cumulative_probability: list[list[float]]
    delay_days: list[list[float]]
    delay_shape: list[list[float]]
    delay_quantiles: list[list[tuple[float, ...]]]
    patience_days: np.ndarray
    outcome: np.ndarray
    _index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(self.touchpoints)})

    @property
    def n_touchpoints(self) -> int:
        """Number of touchpoints."""
        return len(self.touchpoints)

    @property
    def walk_away_exit(self) -> int:
        """The first exit labelled ``walk_away``, where a client who reneges goes; -1: none."""
        return next((i for i in self.exits if self.outcome[i] == WALK_AWAY), -1)

    def index_of(self, touchpoint: str) -> int:
        """Return the index of a touchpoint by name.

        Parameters
        ----------
        touchpoint : str
            Touchpoint name.

        Returns
        -------
        int
            Its index in the per-touchpoint arrays.

        Raises
        ------
        ConfigError
            If the journey has no such touchpoint.
        """
        try:
            return self._index[touchpoint]
        except (KeyError, TypeError):
            raise ConfigError(
                f"journey {self.name!r} ({self.source})",
                f"has no touchpoint of that name (touchpoints: {', '.join(self.touchpoints)})",
                touchpoint,
            ) from None

    def step(self, index: int, u: float) -> int:
        """Return the touchpoint a client moves to from ``index``: the reference routing
        (``tests/test_walks.py`` holds the compiled walks to it; the run does not call it).

        Parameters
        ----------
        index : int
            Current touchpoint index.
        u : float
            A uniform draw in [0, 1).

        Returns
        -------
        int
            Index of the next touchpoint, or -1 if the client abandons the
            journey here. An exit has no out-edges and returns -1 as well;
            callers check :attr:`is_exit` first.
        """
        cumulative = self.cumulative_probability[index]
        k = bisect_right(cumulative, u)
        if k < len(cumulative):
            return self.next_touchpoints[index][k]
        return -1

    def transition_matrix(self) -> np.ndarray:
        """Return the substochastic transition matrix ``P``.

        Returns
        -------
        numpy.ndarray
            ``P[i, j]`` is the probability of moving from touchpoint ``i`` to
            ``j``; rows of exits are zero and row sums below one are abandonment.
        """
        n = self.n_touchpoints
        matrix = np.zeros((n, n))
        for i in range(n):
            previous = 0.0
            for j, cumulative in zip(self.next_touchpoints[i], self.cumulative_probability[i]):
                matrix[i, j] += cumulative - previous
                previous = cumulative
        return matrix

    def expected_visits(self) -> np.ndarray:
        """Expected number of visits to each touchpoint per walk from the entry.

        Solves the absorbing Markov chain ``v = e_entry (I - P)^-1`` where ``P``
        is :meth:`transition_matrix` (exits absorb, missing probability mass
        is abandonment). Validation guarantees every touchpoint can reach an
        exit, so ``I - P`` is invertible.

        Returns
        -------
        numpy.ndarray
            Float array of length :attr:`n_touchpoints`; the entry and any
            exit reached count as visits.
        """
        n = self.n_touchpoints
        start = np.zeros(n)
        start[self.entry] = 1.0
        return np.linalg.solve((np.eye(n) - self.transition_matrix()).T, start)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Journey):
            return NotImplemented
        scalars = (
            "name",
            "description",
            "entry",
            "exits",
            "reference_clients",
            "touchpoints",
            "stages",
            "channels",
            "next_touchpoints",
            "cumulative_probability",
            "delay_days",
            "delay_shape",
            "delay_quantiles",
        )
        arrays = (
            "staffed",
            "staff",
            "service_days",
            "base_quality",
            "hygiene",
            "delighter",
            "cost_per_visit",
            "failure_probability",
            "is_exit",
            "outcome",
            "patience_days",
        )
        return (
            all(getattr(self, a) == getattr(other, a) for a in scalars)
            and all(np.array_equal(getattr(self, a), getattr(other, a)) for a in arrays)
            and _graph_content(self.graph) == _graph_content(other.graph)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"Journey(name={self.name!r}, source={self.source!r}, touchpoints={self.touchpoints!r})"
        )


def _graph_content(graph: nx.DiGraph) -> tuple[Any, ...]:
    """Return a comparable snapshot of a graph's nodes, edges and data."""
    return (
        dict(graph.graph),
        list(graph.nodes(data=True)),
        {(u, v): dict(d) for u, v, d in graph.edges(data=True)},
    )


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def available_journeys(journey_dir: Path | str) -> list[str]:
    """List the shipped journey names in a directory.

    Parameters
    ----------
    journey_dir : pathlib.Path or str
        Directory holding ``<name>.yaml`` journey maps.

    Returns
    -------
    list of str
        Sorted names (file stems) of the ``.yaml`` files that are valid names.
    """
    directory = Path(journey_dir)
    if not directory.is_dir():
        return []
    return sorted(
        p.stem for p in directory.glob("*.yaml") if p.is_file() and _NAME_RE.fullmatch(p.stem)
    )


def load_journey(spec: str, journey_dir: Path | str) -> Journey:
    """Load and validate a journey map by shipped name or by path.

    Parameters
    ----------
    spec : str
        Either a shipped journey name (matching :data:`NAME_PATTERN`), read as
        ``journey_dir / f"{spec}.yaml"``, or a path (``~`` expanded, relative
        to the current working directory) to a ``.yaml``, ``.yml``,
        ``.graphml`` or ``.xml`` file.
    journey_dir : pathlib.Path or str
        Directory of the shipped journey maps.

    Returns
    -------
    Journey
        The validated journey.

    Raises
    ------
    ConfigError
        If the name is unknown (the message lists the available names), the
        path is missing or has another suffix, or the file is invalid.
    """
    if not isinstance(spec, str):
        raise ConfigError("journey", "must be a shipped journey name or a file path", spec)
    if _NAME_RE.fullmatch(spec):
        path = Path(journey_dir) / f"{spec}.yaml"
        if not path.is_file():
            names = available_journeys(journey_dir)
            shown = ", ".join(names) if names else "none"
            raise ConfigError(
                f"journey {spec!r}",
                f"is not a shipped journey in {journey_dir} (available: {shown}); "
                "give a shipped name or a path to a .yaml/.yml/.graphml/.xml file",
            )
        return _load_path(path)
    path = Path(spec).expanduser()
    if path.suffix.lower() not in JOURNEY_SUFFIXES:
        raise ConfigError(
            f"journey file {spec!r}",
            f"must end in one of {', '.join(JOURNEY_SUFFIXES)}",
            path.suffix,
        )
    if not path.exists():
        shown = str(path.absolute())
        rule = "does not exist" if shown == spec else f"does not exist (looked for {shown})"
        raise ConfigError(f"journey file {spec!r}", rule)
    if not path.is_file():
        raise ConfigError(f"journey file {spec!r}", "is not a regular file", str(path.absolute()))
    return _load_path(path)


def _load_path(path: Path) -> Journey:
    """Read a YAML or GraphML file into a mapping and validate it (once per file version:
    a journey is immutable, and parsing YAML in Python costs ~10 ms, paid by every run)."""
    stat = path.stat()
    return _load_version(path, path.resolve(), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _load_version(path: Path, resolved: Path, mtime_ns: int, size: int) -> Journey:
    source = str(path)
    if path.suffix.lower() in (".graphml", ".xml"):
        data = _read_graphml_mapping(path, source)
    else:
        data = _read_yaml_mapping(path, source)
    return journey_from_mapping(data, source)


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects duplicate mapping keys, and aliases (a few hundred
    bytes of nested aliases expand to gigabytes: a journey map has no use for them)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"found an alias (*{event.anchor}): a journey file may not use "
                "anchors and aliases", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable key: the base class reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def _refuse_duplicate_nodes(path: Path, source: str) -> None:
    """networkx merges two ``<node id="desk">`` into one; YAML refuses a duplicate key, and
    so does this."""
    seen: set[str] = set()
    for _, element in ElementTree.iterparse(path):
        if element.tag.rsplit("}", 1)[-1] == "node":
            node = element.get("id")
            if node in seen:
                raise ConfigError(f"journey file {source}",
                                  "must not declare a touchpoint twice (GraphML node id)", node)
            seen.add(node)


def _read_yaml_mapping(path: Path, source: str) -> Any:
    """Parse a YAML journey file (safe loader, no duplicate keys)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"journey file {source}", f"cannot be read ({exc})") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise ConfigError(f"journey file {source}", f"is not valid YAML ({detail})") from None


def _read_graphml_mapping(path: Path, source: str) -> dict[str, Any]:
    """Parse a GraphML journey file into the same mapping form as YAML."""
    try:
        _refuse_duplicate_nodes(path, source)
        graph = nx.read_graphml(path, force_multigraph=True)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"journey file {source}", f"cannot be read ({exc})") from None
    except (
        ElementTree.ParseError,
        nx.NetworkXError,
        IndexError,
        KeyError,
        TypeError,
        ValueError,
    ) as exc:
        raise ConfigError(f"journey file {source}", f"is not valid GraphML ({exc!r})") from None
    if not graph.is_directed():
        raise ConfigError(
            f"journey file {source}", 'must hold a directed graph (edgedefault="directed")'
        )
    attrs = dict(graph.graph)
    node_default = attrs.pop("node_default", {}) or {}
    edge_default = attrs.pop("edge_default", {}) or {}
    data: dict[str, Any] = {}
    for key, value in attrs.items():
        if key == "exits" and isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        data[key] = _graphml_value(key, value)
    data["touchpoints"] = {
        node: {k: _graphml_value(k, v) for k, v in {**node_default, **attrs_}.items()}
        for node, attrs_ in graph.nodes(data=True)
    }
    data["edges"] = [
        {"from": u, "to": v, **{k: _graphml_value(k, x) for k, x in {**edge_default, **d}.items()}}
        for u, v, d in graph.edges(data=True)
    ]
    return data


def _graphml_value(key: str, value: Any) -> Any:
    """Undo GraphML's type widening: integral doubles of int fields become ints; a
    delay's quantiles, written as one comma-separated string, become numbers."""
    if key == "delay_quantiles" and isinstance(value, str):
        try:
            return [float(part) for part in value.split(",")]
        except ValueError:
            return value
    if key in _INT_FIELDS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def journey_to_graphml(journey: Journey, path: Path | str) -> None:
    """Write a journey as GraphML so that :func:`load_journey` reads it back equal.

    Parameters
    ----------
    journey : Journey
        The journey to write.
    path : pathlib.Path or str
        Destination file, conventionally ending in ``.graphml``.

    Raises
    ------
    ConfigError
        If a text field holds characters XML cannot carry exactly (control
        characters other than tab and newline, carriage returns).
    """
    where = f"journey {journey.name!r} ({journey.source})"
    graph = nx.DiGraph()
    graph.graph.update(_plain({"name": journey.name, "description": journey.description}, where))
    if not journey.description:
        del graph.graph["description"]
    graph.graph["reference_clients"] = int(journey.reference_clients)
    graph.graph["entry"] = journey.touchpoints[journey.entry]
    graph.graph["exits"] = ",".join(journey.touchpoints[i] for i in journey.exits)
    for name in journey.touchpoints:
        attrs = journey.graph.nodes[name]
        graph.add_node(name, **_plain(attrs, f"touchpoint {name!r} in {journey.source}"))
    for i, name in enumerate(journey.touchpoints):
        for j in journey.next_touchpoints[i]:
            target = journey.touchpoints[j]
            attrs = dict(journey.graph.edges[name, target])
            if "delay_quantiles" in attrs:  # the delay is their mean
                del attrs["delay_days"]
                attrs["delay_quantiles"] = ",".join(repr(q) for q in attrs["delay_quantiles"])
            graph.add_edge(name, target, **_plain(attrs, where))
    nx.write_graphml(graph, Path(path).expanduser(), encoding="utf-8")


# Characters XML 1.0 carries unchanged in element text (a CR would be read back as LF).
_XML_UNSAFE_RE = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _plain(attrs: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Cast attribute values to plain Python types GraphML can tag exactly."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, bool | np.bool_):
            out[key] = bool(value)
        elif isinstance(value, int | np.integer):
            out[key] = int(value)
        elif isinstance(value, float | np.floating):
            out[key] = float(value)
        else:
            text = str(value)
            bad = _XML_UNSAFE_RE.search(text)
            if bad:
                raise ConfigError(
                    where,
                    f"{key} cannot be written to GraphML: it holds a character XML cannot carry "
                    "(control characters other than tab and newline, or a carriage return)",
                    bad.group(),
                )
            out[key] = text
    return out


# --------------------------------------------------------------------------- #
# Validation (one path for YAML and GraphML)
# --------------------------------------------------------------------------- #


def journey_from_mapping(data: Any, source: str) -> Journey:
    """Validate a journey mapping and compile it.

    Parameters
    ----------
    data : dict
        The journey in the YAML mapping form described in the module docstring.
    source : str
        Where the mapping came from (a file name), used in error messages.

    Returns
    -------
    Journey
        The compiled journey.

    Raises
    ------
    ConfigError
        On the first rule broken, naming ``source``, the key, touchpoint or
        edge, the rule and the offending value.
    """
    where_file = f"journey file {source}"
    if not isinstance(data, Mapping):
        raise ConfigError(where_file, "must be a YAML mapping of journey fields", _short(data))
    _check_fields(data, _TOP_FIELDS, _TOP_REQUIRED, where_file)

    def where_key(key: str) -> str:
        return f"key {key!r} in {source}"

    name = _string(data["name"], where_key("name"), "name")
    description = _optional_string(data.get("description"), where_key("description"))
    reference_clients = DEFAULT_REFERENCE_CLIENTS
    if data.get("reference_clients") is not None:
        reference_clients = _integer(
            data["reference_clients"], where_key("reference_clients"), "reference_clients", 1,
            MAX_CLIENTS)

    raw_touchpoints = data["touchpoints"]
    if not isinstance(raw_touchpoints, Mapping) or not raw_touchpoints:
        raise ConfigError(
            where_key("touchpoints"),
            "touchpoints must be a non-empty mapping of touchpoint name -> fields",
            _short(raw_touchpoints),
        )
    if len(raw_touchpoints) > MAX_TOUCHPOINTS:
        raise ConfigError(where_key("touchpoints"),
                          f"must hold at most {MAX_TOUCHPOINTS:,} touchpoints",
                          len(raw_touchpoints))
    touchpoints: dict[str, dict[str, Any]] = {}
    for tp_name, raw in raw_touchpoints.items():
        if not isinstance(tp_name, str) or not _NAME_RE.fullmatch(tp_name):
            raise ConfigError(
                where_key("touchpoints"),
                f"touchpoint names must be strings matching {NAME_PATTERN}",
                tp_name,
            )
        touchpoints[tp_name] = _touchpoint(tp_name, raw, f"touchpoint {tp_name!r} in {source}")
    names = list(touchpoints)
    index = {n: i for i, n in enumerate(names)}

    entry_name = _string(data["entry"], where_key("entry"), "entry")
    if entry_name not in index:
        raise ConfigError(
            where_key("entry"), f"entry must name a touchpoint ({', '.join(names)})", entry_name
        )
    exit_names = _exits(data["exits"], where_key("exits"), index)
    for tp_name, fields in touchpoints.items():
        if "outcome" in fields and tp_name not in exit_names:
            raise ConfigError(
                f"touchpoint {tp_name!r} in {source}",
                f"outcome is only allowed on an exit (exits: {', '.join(exit_names)})",
                fields["outcome"])

    raw_edges = data.get("edges")
    if raw_edges is None:
        raw_edges = []
    if not isinstance(raw_edges, list):
        raise ConfigError(
            where_key("edges"),
            "edges must be a list of {from, to, probability} mappings",
            _short(raw_edges),
        )
    edges: dict[tuple[str, str], dict[str, float]] = {}
    for number, raw in enumerate(raw_edges, start=1):
        frm, to, attrs = _edge(raw, number, source, index)
        if (frm, to) in edges:
            raise ConfigError(
                f"edge {frm!r} -> {to!r} (edge #{number}) in {source}",
                "duplicates an earlier edge with the same from/to",
            )
        edges[frm, to] = attrs

    graph = nx.DiGraph(name=name)
    if description:
        graph.graph["description"] = description
    for tp_name, fields in touchpoints.items():
        graph.add_node(tp_name, **fields)
    for (frm, to), attrs in edges.items():
        graph.add_edge(frm, to, **attrs)

    _check_structure(graph, source, entry_name, exit_names)
    nx.freeze(graph)
    journey = _compile(
        graph,
        name=name,
        source=source,
        description=description,
        entry=index[entry_name],
        exits=tuple(index[e] for e in exit_names),
        reference_clients=reference_clients,
    )
    _check_walk_length(journey, source)
    return journey


def _check_walk_length(journey: Journey, source: str) -> None:
    """A walk must end after a sensible number of visits on average.

    A loop left with a probability within the rounding tolerance of 0 passes
    the structural checks (an exit is reachable) yet walks almost forever,
    and makes ``I - P`` singular or nearly so.
    """
    try:
        visits = float(journey.expected_visits().sum())
    except np.linalg.LinAlgError:
        visits = math.inf
    if not math.isfinite(visits) or not 0 < visits <= MAX_VISITS_PER_WALK:
        raise ConfigError(
            f"journey file {source}",
            f"must end a walk after at most {MAX_VISITS_PER_WALK:,.0f} visits on average "
            "(a loop is left with too small a probability)",
            round(visits) if math.isfinite(visits) else "no end",
        )


def _check_structure(graph: nx.DiGraph, source: str, entry: str, exits: list[str]) -> None:
    """Check probabilities, exits and reachability of a built journey graph."""
    for node in graph.nodes:
        total = math.fsum(d["probability"] for _, _, d in graph.out_edges(node, data=True))
        if total > 1.0 + _PROBABILITY_TOLERANCE:
            raise ConfigError(
                f"touchpoint {node!r} in {source}",
                "out-edge probabilities must sum to at most 1 (the remainder is abandonment)",
                total,
            )
    for node in exits:
        if graph.out_degree(node):
            targets = ", ".join(str(v) for v in graph.successors(node))
            raise ConfigError(
                f"touchpoint {node!r} in {source}",
                f"is an exit and must have no outgoing edges (has edges to {targets})",
            )
    reachable = nx.descendants(graph, entry) | {entry}
    waiting = [n for n in graph.nodes if "patience_days" in graph.nodes[n]]
    if waiting:
        walk_away = [n for n in exits if graph.nodes[n].get("outcome") == "walk_away"]
        if not walk_away:
            raise ConfigError(
                f"touchpoint {waiting[0]!r} in {source}",
                "patience_days needs an exit labelled 'outcome: walk_away' (where a client "
                "who stops waiting goes)")
        if reachable & set(waiting):  # reached by reneging
            reachable |= nx.descendants(graph, walk_away[0]) | {walk_away[0]}
    unreachable = [str(n) for n in graph.nodes if n not in reachable]
    if unreachable:
        raise ConfigError(
            f"journey file {source}",
            f"has touchpoints not reachable from the entry {entry!r} "
            f"(every touchpoint must be reachable): {', '.join(unreachable)}",
        )
    can_exit = set(exits)
    for node in exits:
        can_exit |= nx.ancestors(graph, node)
    stuck = [str(n) for n in graph.nodes if n not in can_exit]
    if stuck:
        raise ConfigError(
            f"journey file {source}",
            f"has touchpoints with no path to an exit ({', '.join(exits)}) "
            f"(every touchpoint must be able to reach one): {', '.join(stuck)}",
        )


def _compile(
    graph: nx.DiGraph,
    *,
    name: str,
    source: str,
    description: str,
    entry: int,
    exits: tuple[int, ...],
    reference_clients: int,
) -> Journey:
    """Turn a validated graph into a :class:`Journey` with arrays and routing lists."""
    names = tuple(graph.nodes)
    index = {n: i for i, n in enumerate(names)}
    nodes = [graph.nodes[n] for n in names]

    def array(values: list[Any], dtype: Any) -> np.ndarray:
        out = np.array(values, dtype=dtype)
        out.flags.writeable = False
        return out

    is_exit = [False] * len(names)
    for i in exits:
        is_exit[i] = True
    next_touchpoints: list[list[int]] = []
    cumulative_probability: list[list[float]] = []
    delay_days: list[list[float]] = []
    delay_shape: list[list[float]] = []
    delay_quantiles: list[list[tuple[float, ...]]] = []
    for n in names:
        targets, cumulative, delays, shapes, quantiles = [], [], [], [], []
        running = 0.0
        for _, target, d in graph.out_edges(n, data=True):
            running += d["probability"]
            targets.append(index[target])
            cumulative.append(min(running, 1.0))
            delays.append(d["delay_days"])
            shapes.append(d.get("delay_shape", 0.0))
            quantiles.append(tuple(d.get("delay_quantiles", ())))
        if cumulative and abs(cumulative[-1] - 1.0) <= _PROBABILITY_TOLERANCE:
            cumulative[-1] = 1.0  # no spurious abandonment from rounding
        next_touchpoints.append(targets)
        cumulative_probability.append(cumulative)
        delay_days.append(delays)
        delay_shape.append(shapes)
        delay_quantiles.append(quantiles)

    return Journey(
        name=name,
        source=source,
        description=description,
        graph=graph,
        entry=entry,
        exits=exits,
        reference_clients=reference_clients,
        touchpoints=names,
        stages=tuple(d["stage"] for d in nodes),
        channels=tuple(d["channel"] for d in nodes),
        staffed=array([d["staffed"] for d in nodes], bool),
        staff=array([d.get("staff", 0) for d in nodes], np.int64),
        service_days=array([d["service_days"] for d in nodes], float),
        base_quality=array([d["base_quality"] for d in nodes], float),
        hygiene=array([d["kind"] == "hygiene" for d in nodes], bool),
        delighter=array([d["kind"] == "delighter" for d in nodes], bool),
        cost_per_visit=array([d["cost_per_visit"] for d in nodes], float),
        failure_probability=array([d["failure_probability"] for d in nodes], float),
        is_exit=array(is_exit, bool),
        next_touchpoints=next_touchpoints,
        cumulative_probability=cumulative_probability,
        delay_days=delay_days,
        delay_shape=delay_shape,
        delay_quantiles=delay_quantiles,
        patience_days=array([d.get("patience_days", 0.0) for d in nodes], float),
        outcome=array([OUTCOMES.index(d.get("outcome", "purchase")) for d in nodes], np.int64),
    )


def _touchpoint(name: str, raw: Any, where: str) -> dict[str, Any]:
    """Validate one touchpoint's fields and return them with defaults filled in."""
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "must be a mapping of touchpoint fields", _short(raw))
    _check_fields(raw, _TOUCHPOINT_FIELDS, _TOUCHPOINT_REQUIRED, where)
    fields: dict[str, Any] = {
        "stage": _string(raw["stage"], where, "stage"),
        "channel": _string(raw["channel"], where, "channel"),
    }
    staffed = raw.get("staffed", False)
    if not isinstance(staffed, bool | np.bool_):
        raise ConfigError(where, "staffed must be a boolean (true/false)", staffed)
    fields["staffed"] = bool(staffed)
    if staffed:
        if raw.get("staff") is None:
            raise ConfigError(where, "staff (an integer >= 1) is required when staffed is true")
        fields["staff"] = _integer(raw["staff"], where, "staff", 1, MAX_STAFF)
    elif "staff" in raw:
        raise ConfigError(where, "staff is only allowed when staffed is true", raw["staff"])
    if "patience_days" in raw:  # kept only when given, so a journey without it reads as before
        if not staffed:
            raise ConfigError(where, "patience_days is only allowed when staffed is true",
                              raw["patience_days"])
        fields["patience_days"] = _number(raw["patience_days"], where, "patience_days",
                                          low=0.0, high=3650.0, low_open=True)
    fields["service_days"] = _number(
        raw["service_days"], where, "service_days", low=0.0, high=365.0, low_open=True
    )
    fields["base_quality"] = _number(raw["base_quality"], where, "base_quality", low=0.0, high=1.0)
    kind = raw.get("kind", "neutral")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(where, f"kind must be one of {', '.join(KINDS)}", kind)
    fields["kind"] = kind
    fields["cost_per_visit"] = _number(
        raw.get("cost_per_visit", 0.0), where, "cost_per_visit", low=0.0, high=1e9
    )
    fields["failure_probability"] = _number(
        raw.get("failure_probability", DEFAULT_FAILURE_PROBABILITY),
        where,
        "failure_probability",
        low=0.0,
        high=1.0,
    )
    if "outcome" in raw:  # kept only when given, so a journey without outcomes reads as before
        outcome = raw["outcome"]
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            raise ConfigError(where, f"outcome must be one of {', '.join(OUTCOMES)}",
                              _short(outcome))
        fields["outcome"] = outcome
    description = _optional_string(raw.get("description"), where)
    if description:
        fields["description"] = description
    return fields


def _edge(
    raw: Any, number: int, source: str, index: Mapping[str, int]
) -> tuple[str, str, dict[str, float]]:
    """Validate one edge; return (from, to, attributes)."""
    where = f"edge #{number} in {source}"
    if not isinstance(raw, Mapping):
        raise ConfigError(where, "must be a mapping with from, to, probability", _short(raw))
    _check_fields(raw, _EDGE_FIELDS, _EDGE_REQUIRED, where)
    for end in ("from", "to"):
        value = raw[end]
        if not isinstance(value, str) or value not in index:
            raise ConfigError(
                where, f"field '{end}' must name a known touchpoint ({', '.join(index)})", value
            )
    frm, to = raw["from"], raw["to"]
    where = f"edge {frm!r} -> {to!r} in {source}"
    attrs = {
        "probability": _number(
            raw["probability"], where, "probability", low=0.0, high=1.0, low_open=True
        ),
        "delay_days": _number(raw.get("delay_days", 0.0), where, "delay_days", low=0.0,
                              high=3650.0),
    }
    if "delay_shape" in raw:  # kept only when given, so a journey without it reads as before
        attrs["delay_shape"] = _number(raw["delay_shape"], where, "delay_shape", low=0.05,
                                       high=20.0)
    if "delay_quantiles" in raw:
        for other in ("delay_days", "delay_shape"):
            if other in raw:
                raise ConfigError(where, f"delay_quantiles and {other} exclude each other "
                                  "(the quantiles' mean is the delay)", raw[other])
        attrs["delay_quantiles"] = _quantiles(raw["delay_quantiles"], where)
        q = attrs["delay_quantiles"]
        attrs["delay_days"] = math.fsum(a + b for a, b in zip(q, q[1:])) / (2 * (len(q) - 1))
    return frm, to, attrs


def _quantiles(value: Any, where: str) -> list[float]:
    """Validate a delay's quantiles: 2 to :data:`MAX_QUANTILES` non-decreasing days."""
    if isinstance(value, str) or not isinstance(value, list | tuple) or not \
            2 <= len(value) <= MAX_QUANTILES:
        raise ConfigError(where, f"delay_quantiles must be a list of 2 to {MAX_QUANTILES} "
                          "delays in days", _short(value))
    numbers = [_number(v, where, "delay_quantiles", low=0.0, high=3650.0) for v in value]
    if any(b < a for a, b in zip(numbers, numbers[1:])):
        raise ConfigError(where, "delay_quantiles must not decrease", _short(value))
    return numbers


def _exits(value: Any, where: str, index: Mapping[str, int]) -> list[str]:
    """Validate the ``exits`` list."""
    if not isinstance(value, list) or not value:
        raise ConfigError(
            where, "exits must be a non-empty list of touchpoint names", _short(value)
        )
    seen: list[str] = []
    for item in value:
        if not isinstance(item, str) or item not in index:
            raise ConfigError(where, f"each exit must name a touchpoint ({', '.join(index)})", item)
        if item in seen:
            raise ConfigError(where, "exits must not repeat a touchpoint", item)
        seen.append(item)
    return seen


def _check_fields(
    raw: Mapping[Any, Any], allowed: tuple[str, ...], required: tuple[str, ...], where: str
) -> None:
    """Reject unknown fields and report missing required ones."""
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        raise ConfigError(
            where,
            f"has unknown field {unknown[0]!r} (allowed: {', '.join(allowed)})",
            unknown if len(unknown) > 1 else unknown[0],
        )
    for key in required:
        if key not in raw or raw[key] is None:
            raise ConfigError(where, f"is missing required field {key!r}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def _number(
    value: Any,
    where: str,
    key: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Validate a finite real number within optional bounds; return it as float."""
    if not _is_number(value):
        raise ConfigError(where, f"{key} must be a number, not {type(value).__name__}", value)
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(where, f"{key} must be a finite number", number)
    if low is not None and high is not None:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        rule = f"{key} must be in {left}{low:g}, {high:g}{right}"
    elif low is not None:
        rule = f"{key} must be {'>' if low_open else '>='} {low:g}"
    else:
        rule = f"{key} must be {'<' if high_open else '<='} {high:g}"
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        raise ConfigError(where, rule, value)
    return number


def _integer(value: Any, where: str, key: str, minimum: int, maximum: int) -> int:
    """Validate an integer in ``[minimum, maximum]``."""
    rule = f"{key} must be an integer in [{minimum:,}, {maximum:,}]"
    if not isinstance(value, int | np.integer) or isinstance(value, bool | np.bool_):
        raise ConfigError(where, rule, value)
    if not minimum <= value <= maximum:
        raise ConfigError(where, rule, value)
    return int(value)


def _string(value: Any, where: str, key: str) -> str:
    """Validate a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(where, f"{key} must be a non-empty string", _short(value))
    return value


def _optional_string(value: Any, where: str) -> str:
    """Validate an optional description string; ``None`` becomes ``""``."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(where, "description must be a string", _short(value))
    return value


def _short(value: Any) -> Any:
    """Summarise containers for messages so a whole file is never echoed (the length of a
    bounded repr, so a huge value is never written out to be measured)."""
    if isinstance(value, Mapping | list | tuple | set) and len(reprlib.repr(value)) > 80:
        return f"<{type(value).__name__} of {len(value)} items>"
    return value
