"""The compiled loop's two heaps (``cxsim.simulation.visits``): the walks' pending events,
in the order SimPy would run them, and a station's servers, by when each is free.

The events are a binary heap of records (:data:`EVENT`) by time, then by the order
they were scheduled, so events at the same moment run first scheduled, first run,
as in SimPy's ``Environment``; *tally* is the loop's running counts
(``visits.TALLY``: ``events`` on the heap, ``scheduled`` ever). A station's
servers are a binary min-heap of the days each is free: the server free first
is the root, whom the next client in its FIFO queue takes, in time logarithmic
in the staff.

References
----------
Kiefer, J. & Wolfowitz, J. (1955). On the theory of queues with many servers.
*Transactions of the American Mathematical Society* 78(1), 1-18.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EVENT", "push", "pop", "schedule", "serve"]

EVENT = np.dtype([("time", np.float64), ("order", np.int64), ("slot", np.int64)], align=True)
"""A walk's pending event: when, its order of scheduling, the walk's slot."""


@njit(cache=True)
def _before(events, i, j):
    a, b = events[i], events[j]
    return a.time < b.time or (a.time == b.time and a.order < b.order)


@njit(cache=True)
def _swap(events, i, j):
    a, b = events[i], events[j]
    a.time, b.time = b.time, a.time
    a.order, b.order = b.order, a.order
    a.slot, b.slot = b.slot, a.slot


@njit(cache=True)
def push(events, tally, t, order, slot):
    """Put the event of walk *slot* at day *t*, scheduled *order*-th, on the heap."""
    i = tally.events
    tally.events = i + 1
    e = events[i]
    e.time, e.order, e.slot = t, order, slot
    while i > 0:
        parent = (i - 1) // 2
        if not _before(events, i, parent):
            break
        _swap(events, i, parent)
        i = parent


@njit(cache=True)
def pop(events, tally):
    """Take the next event off the heap: its day, order and walk slot."""
    n = tally.events - 1
    tally.events = n
    _swap(events, 0, n)
    i = 0
    while True:
        low, left, right = i, 2 * i + 1, 2 * i + 2
        if left < n and _before(events, left, low):
            low = left
        if right < n and _before(events, right, low):
            low = right
        if low == i:
            break
        _swap(events, i, low)
        i = low
    e = events[n]
    return e.time, e.order, e.slot


@njit(cache=True)
def schedule(events, tally, now, delay, slot):
    """As SimPy's ``Environment.schedule``: at ``now + delay``, after all scheduled before."""
    order = tally.scheduled
    tally.scheduled = order + 1
    push(events, tally, now + delay, order, slot)


@njit(cache=True)
def serve(free, first, servers, done):
    """The server free first, ``free[first]`` (the root of the *servers* from *first*), is
    busy until *done*, no earlier than it was free: sifted down to its place."""
    i = 0
    while True:
        child = 2 * i + 1
        if child >= servers:
            break
        if child + 1 < servers and free[first + child + 1] < free[first + child]:
            child += 1
        if free[first + child] >= done:
            break
        free[first + i] = free[first + child]
        i = child
    free[first + i] = done
