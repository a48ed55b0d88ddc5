"""Walks computed in batches: a day's needs walk their unstaffed stretches on arrays.

An unstaffed stretch of a walk (route choices, edge delays, self-service
times) is private to its client, so every walk whose need arises on one day
can walk it together, one numpy pass per step, until it reaches a staffed
touchpoint (where it meets other clients and gets an event) or ends. The
draws are the walk's own keyed sequence, laid out by ``cxsim.streams.Walk``
(the need gap, the churn draw, then the times and routes in the order the
walk makes them), so a walk goes the same way whether it is walked here
or one step at a time by the engine.

Finished walks travel as a :class:`WalkTable` (columns, visits flattened in
walk order) to the evaluation in ``cxsim.engine``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cxsim.journey import Journey
from cxsim.streams import Walk, positions

__all__ = ["BLOCK", "Routes", "Stretches", "WalkTable", "stretch"]


class Routes:
    """Every firm's touchpoints as one routing table of arrays (global node numbers).

    ``cumulative[n]``, ``following[n]`` and ``delay[n]`` hold node *n*'s edges,
    padded to the widest node with +inf, -1 and 0; ``degree[n]`` is its edge
    count. A route draw *u* takes edge ``count(cumulative[n] <= u)``; when
    that equals the degree the client abandons (``bisect_right``, as in
    :meth:`cxsim.journey.Journey.step`).
    """

    def __init__(self, staffed: list[bool], service: list[float], is_exit: list[bool],
                 following: list[list[int]], cumulative: list[list[float]],
                 delays: list[list[float]]) -> None:
        n = len(staffed)
        width = max(1, max(len(c) for c in cumulative))
        self.staffed = np.array(staffed, dtype=bool)
        self.service = np.array(service, dtype=float)
        self.is_exit = np.array(is_exit, dtype=bool)
        self.degree = np.array([len(c) for c in cumulative], dtype=np.int64)
        self.sure = np.array([len(c) == 1 and c[0] >= 1.0 - 1e-12 for c in cumulative])
        self.cumulative = np.full((n, width), np.inf)
        self.following = np.full((n, width), -1, dtype=np.int64)
        self.delay = np.zeros((n, width))
        for i, (cum, nxt, d) in enumerate(zip(cumulative, following, delays)):
            self.cumulative[i, :len(cum)] = cum
            self.following[i, :len(nxt)] = nxt
            self.delay[i, :len(d)] = d
        # the same table as one tuple per node, for walks that go on one step at a time:
        # (staffed, mean service days, is exit, one sure edge, next nodes, cumulative, delays)
        self.info = [(st, sv, end, bool(sure), nxt, cum, d) for st, sv, end, sure, nxt, cum, d
                     in zip(staffed, service, is_exit, self.sure.tolist(), following,
                            cumulative, delays)]

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
            [list(d) for d in cat("delay_days")])
        return routes, [off + j.entry for off, j in zip(offsets, journeys)]


@dataclass
class Stretches:
    """Where a batch of walks stopped.

    Walk *i* reached staffed touchpoint ``node[i]`` at day ``time[i]`` when
    ``node[i] >= 0``; otherwise it ended at ``time[i]``, at an exit when
    ``completed[i]``, else abandoned. ``position[i]`` is the next unused
    position of its sequence; ``draws[i]`` holds its positions 2 to
    ``BLOCK + 1``. Its visits are ``visit_nodes`` where ``visit_walk == i``,
    in the order made.
    """

    node: np.ndarray
    time: np.ndarray
    completed: np.ndarray
    position: np.ndarray
    visit_walk: np.ndarray
    visit_nodes: np.ndarray
    draws: np.ndarray


BLOCK = 24  # draws computed per walk at once: a walk of the shipped journeys makes ~4-12


def _next(draws: np.ndarray, seeds: np.ndarray, walks: np.ndarray, position: np.ndarray
          ) -> np.ndarray:
    """Position *position* of each walk's sequence, from its block while it lasts."""
    column = position - Walk.STEPS
    if column.size and column.max() < BLOCK:
        return draws[walks, column]
    return positions(seeds[walks], position)


def stretch(routes: Routes, seeds: np.ndarray, start: np.ndarray, times: np.ndarray
            ) -> Stretches:
    """Walk each walk from node *start* at day *times* through unstaffed touchpoints.

    *seeds* are the walks' keys; each walk's draws start at position ``Walk.STEPS``.
    """
    n = seeds.size
    draws = positions(seeds[:, None], np.arange(Walk.STEPS, BLOCK + Walk.STEPS))
    node = start.astype(np.int64, copy=True)
    time = times.astype(float, copy=True)
    position = np.full(n, Walk.STEPS, dtype=np.int64)
    completed = np.zeros(n, dtype=bool)
    stopped = np.full(n, -1, dtype=np.int64)
    walk_log: list[np.ndarray] = []
    node_log: list[np.ndarray] = []
    going = np.arange(n)
    here = node
    while going.size:
        staffed = routes.staffed[here]
        if staffed.any():
            stopped[going[staffed]] = here[staffed]
            going, here = going[~staffed], here[~staffed]
            if not going.size:
                break
        walk_log.append(going)
        node_log.append(here)
        at = position[going]
        u = _next(draws, seeds, going, at)
        time[going] -= routes.service[here] * np.log1p(-u)
        at += 1
        ending = routes.is_exit[here]
        if ending.any():
            completed[going[ending]] = True
            position[going[ending]] = at[ending]
            going, here, at = going[~ending], here[~ending], at[~ending]
        choosing = ~routes.sure[here]
        edge = np.zeros(going.size, dtype=np.int64)
        if choosing.any():
            u = _next(draws, seeds, going[choosing], at[choosing])
            at[choosing] += 1
            edge[choosing] = (routes.cumulative[here[choosing]] <= u[:, None]).sum(axis=1)
        position[going] = at
        on = edge < routes.degree[here]
        going, here, edge = going[on], here[on], edge[on]
        time[going] += routes.delay[here, edge]
        here = routes.following[here, edge]
    if walk_log:
        walks = np.concatenate(walk_log)
        visited = np.concatenate(node_log)
        order = np.argsort(walks, kind="stable")
        walks, visited = walks[order], visited[order]
    else:
        walks = visited = np.empty(0, dtype=np.int64)
    return Stretches(stopped, time, completed, position, walks, visited, draws)


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

    @staticmethod
    def concat(tables: list[WalkTable]) -> WalkTable:
        if len(tables) == 1:
            return tables[0]
        return WalkTable(*(np.concatenate([getattr(t, c) for t in tables])
                           for c in (*_COLUMNS, "nodes", "waits")))

