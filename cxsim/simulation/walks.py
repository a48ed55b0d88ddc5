"""Walks through unstaffed touchpoints: the routing table and the one compiled loop
that walks it.

An unstaffed stretch of a walk (route choices, edge delays, self-service
times) is private to its client. :func:`walk_on` walks one walk through
it, compiled (numba), until the walk reaches a staffed touchpoint (where it
meets other clients) or ends; the day's batch (:func:`stretch`, every need
of a day) and the walks in flight (``cxsim.simulation.visits``) both call it, so there
is one routing rule. The draws are the walk's own keyed sequence, laid out
by ``cxsim.streams.Walk`` (the need gap, the churn draw, then the times and
routes in the order the walk makes them), so a walk goes the same way
wherever it is walked; :meth:`cxsim.model.journey.Journey.step` is the same rule
on one journey, the reference the tests hold these loops to.

Finished walks travel as a :class:`WalkTable` (columns, visits flattened in
walk order) to the evaluation (``cxsim.simulation.evaluation``).

When and for how long each visit took place (``sim.record_visits``) is not kept
while walking: :func:`visit_times` walks a finished walk again from its key,
its need and its waits, which is all its times depend on (the queues a walk
met are in its waits). So the run pays nothing for it when it is off, and
when it is on the replay's last end must be the walk's end, which the tests
hold it to: a change of the timing rule here that is not made there fails.
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np
from numba import njit

from cxsim.model.journey import Journey
from cxsim.streams import Salt, Walk, compiled_salted, compiled_uniform

__all__ = ["ABANDONED", "EXIT", "STAFFED", "Routes", "Stretches", "WalkTable", "edge",
           "edge_delay", "stretch", "visit_times", "walk_on"]


TOUCHPOINT = np.dtype([("staffed", np.bool_), ("is_exit", np.bool_), ("sure", np.bool_),
                       ("degree", np.int64), ("service", np.float64), ("patience", np.float64),
                       ("renege_to", np.int64)], align=True)
"""A touchpoint as the compiled loops read it: one record, so a loop is handed one array."""

EDGE = np.dtype([("cumulative", np.float64), ("following", np.int64), ("delay", np.float64),
                 ("shape", np.float64), ("qstart", np.int64), ("qlen", np.int64)], align=True)
"""An edge as the compiled loops read it (``Routes.edges[n, k]``, padded to the widest node)."""

Table = namedtuple("Table", "touchpoints edges qvalues")
"""The routing table as compiled code takes it (:attr:`Routes.arrays`)."""


class Routes:
    """Every firm's touchpoints as one routing table (global node numbers).

    ``arrays.touchpoints[n]`` holds node *n* (:data:`TOUCHPOINT`: staffed, exit, its
    only edge sure, its edge count, mean service, the mean patience of a client
    waiting for it (0: no one reneges) and the exit such a client walks to (-1:
    the journey has none)); ``arrays.edges[n, k]`` its *k*-th edge (:data:`EDGE`),
    padded to the widest node with cumulative +inf and following -1. A route
    draw *u* takes edge ``count(cumulative <= u)``; when that equals the degree
    the client abandons (``bisect_right``, as in
    :meth:`cxsim.model.journey.Journey.step`). An edge's delay quantiles are
    ``qvalues[qstart:qstart + qlen]`` (``qlen`` 0: none).

    The compiled loops take records rather than a tuple of arrays: numba takes and
    releases a reference to every array of a tuple each time one is handed on,
    which cost the per-visit loop most of its time.
    """

    def __init__(self, staffed: list[bool], service: list[float], is_exit: list[bool],
                 following: list[list[int]], cumulative: list[list[float]],
                 delays: list[list[float]], shapes: list[list[float]] | None = None,
                 quantiles: list[list[tuple[float, ...]]] | None = None,
                 patience: list[float] | None = None, renege_to: list[int] | None = None
                 ) -> None:
        n = len(staffed)
        width = max(1, max(len(c) for c in cumulative))
        points = np.zeros(n, TOUCHPOINT)
        points["staffed"] = staffed
        points["service"] = service
        points["is_exit"] = is_exit
        points["degree"] = [len(c) for c in cumulative]
        points["sure"] = [len(c) == 1 and c[0] >= 1.0 - 1e-12 for c in cumulative]
        points["patience"] = 0.0 if patience is None else patience
        points["renege_to"] = -1 if renege_to is None else renege_to
        edges = np.zeros((n, width), EDGE)
        edges["cumulative"] = np.inf
        edges["following"] = -1
        qvalues: list[float] = []
        for i, (cum, nxt, d) in enumerate(zip(cumulative, following, delays)):
            row = edges[i]
            row["cumulative"][:len(cum)] = cum
            row["following"][:len(nxt)] = nxt
            row["delay"][:len(d)] = d
            if shapes is not None:
                row["shape"][:len(d)] = shapes[i]
            for k, q in enumerate(quantiles[i] if quantiles is not None else ()):
                row["qstart"][k], row["qlen"][k] = len(qvalues), len(q)
                qvalues.extend(q)
        self.arrays = Table(points, edges, np.array(qvalues, dtype=float))
        """The table as compiled code takes it (:func:`walk_on`)."""

    @classmethod
    def of(cls, journeys: list[Journey]) -> tuple[Routes, list[int]]:
        """The routing table of several journeys numbered one after the other, and each
        journey's entry touchpoint in that numbering."""
        offsets = np.cumsum([0] + [j.n_touchpoints for j in journeys])[:-1].tolist()

        def cat(attr: str) -> list:
            return [x for j in journeys for x in getattr(j, attr)]

        routes = cls(
            np.concatenate([j.staffed for j in journeys]).tolist(),
            np.concatenate([j.service_days for j in journeys]).tolist(),
            np.concatenate([j.is_exit for j in journeys]).tolist(),
            [[off + k for k in nxt] for off, j in zip(offsets, journeys)
             for nxt in j.next_touchpoints],
            [list(c) for c in cat("cumulative_probability")],
            [list(d) for d in cat("delay_days")],
            [list(d) for d in cat("delay_shape")],
            [list(q) for q in cat("delay_quantiles")],
            np.concatenate([j.patience_days for j in journeys]).tolist(),
            [off + j.walk_away_exit if j.walk_away_exit >= 0 else -1
             for off, j in zip(offsets, journeys) for _ in range(j.n_touchpoints)])
        return routes, [off + j.entry for off, j in zip(offsets, journeys)]


@dataclass
class Stretches:
    """Where a batch of walks stopped.

    Walk *i* reached staffed touchpoint ``node[i]`` at day ``time[i]``, having
    left its last visit (or its start) at ``left[i]``, when ``node[i] >= 0``;
    otherwise it ended at ``time[i]``, at an exit when ``completed[i]``, else
    abandoned. ``position[i]`` is the next unused position of its sequence. Its
    visits are ``visit_nodes`` where ``visit_walk == i``, in the order made.
    """

    node: np.ndarray
    time: np.ndarray
    left: np.ndarray
    completed: np.ndarray
    position: np.ndarray
    visit_walk: np.ndarray
    visit_nodes: np.ndarray


STAFFED, EXIT, ABANDONED = 0, 1, 2  # where a stretch stops
_FIRST_STEP = int(Walk.STEPS)
_DELAY = int(Salt.DELAY)


@njit(cache=True)
def edge(touchpoints, edges, node, u):
    """The edge a route draw *u* takes from *node*: ``count(cumulative <= u)``; the
    degree when the client abandons (``bisect_right``, as ``Journey.step``)."""
    k = 0
    degree = touchpoints[node].degree
    while k < degree and edges[node, k].cumulative <= u:
        k += 1
    return k


@njit(cache=True)
def edge_delay(edges, qvalues, node, k, key, index):
    """The delay of edge *k* from *node*, for the walk seeded by *key* leaving the visit
    whose service was drawn at *index*: the edge's mean, unless the edge's delay varies
    (:func:`_varying_delay`)."""
    e = edges[node, k]
    if e.qlen == 0 and e.shape == 0.0:
        return e.delay
    return _varying_delay(e.delay, e.shape, qvalues, e.qstart, e.qlen, key, index)


@njit(cache=True)
def _varying_delay(mean, shape, qvalues, first, m, key, index):
    """A delay drawn at position *index* of the walk's delay sequence: with *m* quantiles
    (``qvalues[first:first + m]``), their quantile function (linear between them); else a
    Weibull of that *shape* and *mean* (inversion: ``scale * (-ln(1 - u)) ** (1 / shape)``)."""
    u = compiled_salted(key, _DELAY, index)
    if m:
        x = u * (m - 1)
        j = int(x)
        low = qvalues[first + j]
        return low + (x - j) * (qvalues[first + j + 1] - low) if j + 1 < m else low
    if mean == 0.0:
        return 0.0
    return mean * (-math.log1p(-u)) ** (1.0 / shape) / math.gamma(1.0 + 1.0 / shape)


@njit(cache=True)
def walk_on(touchpoints, edges, qvalues, key, position, node, t, visited, n):
    """Walk from *node* at day *t* through unstaffed touchpoints, drawing from position
    *position* of the sequence seeded by *key*.

    Each touchpoint visited is written to ``visited[n], visited[n + 1], ...``
    (the array doubles when full). Returns where it stopped (:data:`STAFFED`,
    :data:`EXIT` or :data:`ABANDONED`), the staffed touchpoint reached (or
    the last one visited), the day, the day it left its last visit (its wait
    for a staffed touchpoint began), the next unused position, the new *n* and
    *visited*.
    """
    left = t
    while not touchpoints[node].staffed:
        if n == visited.size:
            grown = np.empty(2 * visited.size + 16, visited.dtype)
            grown[:n] = visited
            visited = grown
        visited[n] = node
        n += 1
        drawn = position
        point = touchpoints[node]
        t -= point.service * math.log1p(-compiled_uniform(key, position))
        position += 1
        if point.is_exit:
            return EXIT, node, t, t, position, n, visited
        k = 0
        if not point.sure:
            k = edge(touchpoints, edges, node, compiled_uniform(key, position))
            position += 1
            if k == point.degree:
                return ABANDONED, node, t, t, position, n, visited
        left = t
        t += edge_delay(edges, qvalues, node, k, key, drawn)
        node = edges[node, k].following
    return STAFFED, node, t, left, position, n, visited


@njit(cache=True)
def _stretch_all(touchpoints, edges, qvalues, seeds, start, times):
    count = seeds.size
    node = np.full(count, -1, np.int64)
    time = np.empty(count)
    left = np.empty(count)
    completed = np.zeros(count, np.bool_)
    position = np.empty(count, np.int64)
    lengths = np.zeros(count, np.int64)
    visited = np.empty(4 * count + 16, np.int64)
    n = 0
    for i in range(count):
        first = n
        where, at, t, left[i], next_position, n, visited = walk_on(
            touchpoints, edges, qvalues, seeds[i], _FIRST_STEP, start[i], times[i], visited, n)
        if where == STAFFED:
            node[i] = at
        completed[i] = where == EXIT
        time[i], position[i], lengths[i] = t, next_position, n - first
    return node, time, left, completed, position, lengths, visited[:n].copy()


def stretch(routes: Routes, seeds: np.ndarray, start: np.ndarray, times: np.ndarray
            ) -> Stretches:
    """Walk each walk from node *start* at day *times* through unstaffed touchpoints
    (:func:`walk_on`). *seeds* are the walks' keys; each walk's draws start at
    position ``Walk.STEPS``."""
    node, time, left, completed, position, lengths, visited = _stretch_all(
        *routes.arrays, np.asarray(seeds, dtype=np.uint64), np.asarray(start, dtype=np.int64),
        np.asarray(times, dtype=float))
    return Stretches(node, time, left, completed, position,
                     np.repeat(np.arange(seeds.size), lengths), visited)


_COLUMNS = ("client", "firm", "key", "need_at", "ended", "completed", "churn_draw", "lengths")


@dataclass
class WalkTable:
    """Finished walks as columns; ``nodes`` and ``waits`` hold their visits in walk order."""

    client: np.ndarray
    firm: np.ndarray
    key: np.ndarray
    need_at: np.ndarray
    ended: np.ndarray
    completed: np.ndarray
    churn_draw: np.ndarray
    lengths: np.ndarray
    nodes: np.ndarray
    waits: np.ndarray

    def __len__(self) -> int:
        return self.client.size

    def starts(self) -> np.ndarray:
        """Index of each walk's first visit in ``nodes``."""
        starts = np.zeros(self.client.size, dtype=np.int64)
        np.cumsum(self.lengths[:-1], out=starts[1:])
        return starts

    def take(self, index: np.ndarray) -> WalkTable:
        """The walks at *index* (positions or a boolean mask), visits with them."""
        if index.dtype == bool:
            index = np.flatnonzero(index)
        lengths = self.lengths[index]
        first = self.starts()[index]
        offset = np.zeros(index.size, dtype=np.int64)
        np.cumsum(lengths[:-1], out=offset[1:])
        visits = np.repeat(first - offset, lengths) + np.arange(int(lengths.sum()))
        return WalkTable(*(getattr(self, c)[index] for c in _COLUMNS),
                         self.nodes[visits], self.waits[visits])



@njit(cache=True)
def _visit_times(touchpoints, edges, qvalues, keys, need_at, lengths, nodes, waits):
    start = np.empty(nodes.size)
    end = np.empty(nodes.size)
    v = 0
    for w in range(keys.size):
        key, t, position = keys[w], need_at[w], _FIRST_STEP
        for j in range(lengths[w]):
            node = nodes[v]
            point = touchpoints[node]
            s = t + waits[v]  # a staffed visit starts when a server is free; the rest at once
            end[v] = s - point.service * math.log1p(-compiled_uniform(key, position))
            start[v] = s
            drawn = position
            if point.staffed:  # visits.advance: service at i, the route at i + 1 unless sure
                position += 1 if point.sure and not point.is_exit else 2
            else:  # walk_on: service, then the route unless at an exit or sure
                position += 1 if point.is_exit or point.sure else 2
            v += 1
            if j + 1 < lengths[w]:
                t = end[v - 1]
                if touchpoints[nodes[v]].staffed or waits[v] == 0.0:  # else it reneged: no edge
                    k = 0
                    while edges[node, k].following != nodes[v]:
                        k += 1
                    t += edge_delay(edges, qvalues, node, k, key, drawn)
    return start, end


def visit_times(routes: Routes, keys: np.ndarray, need_at: np.ndarray, lengths: np.ndarray,
                nodes: np.ndarray, waits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each visit's start and end (days) of finished walks, walked again from their draws.

    A walk's times follow from its need, its keyed draws (service times at
    the positions :func:`walk_on` and ``cxsim.simulation.visits.advance`` draw
    them, delays as :func:`edge_delay`) and its waits: a visit starts at its
    arrival plus its wait, ends after its service, and the next arrival is the
    end plus the edge's delay. An unstaffed visit with a wait is where a client
    who reneged went (``cxsim.model.journey``, Reneging): it arrived straight
    from its last visit, its wait the time it waited in vain.

    Parameters
    ----------
    routes : Routes
        The routing table the walks were walked on.
    keys, need_at, lengths : numpy.ndarray
        Per walk: its key, the day of its need (its start at the entry), its visits.
    nodes, waits : numpy.ndarray
        Per visit, in walk order: the touchpoint (global node number) and the wait.

    Returns
    -------
    start, end : numpy.ndarray
        Per visit: the day its service began (after any wait) and the day it ended.
    """
    return _visit_times(*routes.arrays, np.asarray(keys, dtype=np.uint64),
                        np.asarray(need_at, dtype=float), np.asarray(lengths, dtype=np.int64),
                        np.asarray(nodes, dtype=np.int64), np.asarray(waits, dtype=float))
