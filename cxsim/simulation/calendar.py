"""The calendar: needs, walks and the staffed touchpoints where clients meet.

A need is private to its client, so it is not an event: when a walk ends,
the next need's day is drawn and the need waits in the calendar (one day
and key per client) for its day's batch. At the start of each day every
need of the day is walked together on arrays (``cxsim.simulation.walks.stretch``) up
to its first staffed touchpoint; from there a walk goes on one step at a
time, in time order with every other walk in flight, because the queue
there is shared and the moment of arrival matters to everyone in it
(``cxsim.simulation.visits``, compiled). Arrivals come in time order, so the client's
wait and end of service follow at once (FIFO). The run's own events (days,
samples, workshops) first bring the walks up to their time
(:meth:`Calendar.advance`).

Finished walks wait in the compiled loop until their end has come, then go to
their evaluation (:meth:`Calendar.finished`).
One decision cannot wait: whether a client about to join a queue is still
a client. Its churn draw is made when its last walk ends; only when that
draw falls below the highest churn probability any walk can produce
(:func:`churn_bounds`) does the walk ask for the evaluation first.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cxsim.config import Config
from cxsim.model import psychology as psy
from cxsim.model.market import ClientState, Segments
from cxsim.model.months import Months
from cxsim.simulation.visits import Visits
from cxsim.simulation.walks import Routes, WalkTable, stretch
from cxsim.streams import Walk, positions

__all__ = ["Calendar", "churn_bounds"]


def churn_bounds(cfg: Config, state: ClientState, segments: Segments) -> np.ndarray:
    """Per client, the highest churn probability any of its walks can produce.

    A walk's churn is decided by a uniform draw *u* made when it ends,
    against a probability known only once the walk is evaluated. If *u*
    is at or above this bound the client stays whatever the walk felt
    like, so its next walk need not wait for the evaluation. Memory is at
    least -1 and trust at least 0, and churn falls with both.
    """
    p = cfg.psychology
    low = np.full(state.size, -1.0)
    bound = psy.walk_churn(low, np.zeros(state.size), state.dropout,
                           segments.switching_cost[state.segment], p.emotions,
                           p.churn_memory_weight, p.churn_trust_weight)
    return bound + 1e-12


class Calendar:
    """Needs, walks and stations of one run.

    Parameters
    ----------
    routes : every firm's touchpoints as one routing table.
    entries : each firm's entry touchpoint (global node number).
    capacity : staff per touchpoint (0 where unstaffed).
    state : the clients; a walk goes on only while ``state.firm`` is its firm.
    need_mean : per client, mean days between needs.
    churn_bound : per client, :func:`churn_bounds`.
    months : the month grid (horizon, warm-up, shocks that slow needs).
    walk_key : per client, its word of the run's ``walks`` stream
        (``streams.client_streams``).
    evaluate : called with the client before a walk whose client may have churned joins a
        queue.
    """

    def __init__(self, routes: Routes, entries: list[int], capacity: np.ndarray,
                 state: ClientState, need_mean: np.ndarray, churn_bound: np.ndarray,
                 months: Months, walk_key: np.ndarray, evaluate: Callable[[int], None]
                 ) -> None:
        self._routes = routes
        self._entries = np.array(entries, dtype=np.int64)
        self.state = state
        self._flush = evaluate
        self._visits = visits = Visits(routes, entries, capacity, state.firm, need_mean,
                                       churn_bound, months, walk_key)
        # staff per touchpoint, 0 where unstaffed
        self.capacity = np.diff(visits.world.stations.start)
        columns = visits.world.clients  # the calendar reads and writes these columns
        self.walk_numbers = columns["walk_number"]
        self._churn_bound = columns["churn_bound"]
        self._unresolved = columns["unresolved"]  # walks ended whose churn could go either way
        # per client, the day of its next need and that walk's firm and key
        self._next_need = columns["next_need"]
        self._need_firm = columns["need_firm"]
        self._need_key = columns["need_key"]
        self._today = -1  # the last day whose needs have been walked

    @property
    def now(self) -> float:
        """The day the calendar has reached: a walk's event, or the run's last event."""
        return self._visits.now

    @property
    def queue_area(self) -> np.ndarray:
        """Per touchpoint, the time-integral of its queue length over the measured window."""
        return self._visits.world.stations.area

    def advance(self, until: float) -> None:
        """Bring every walk up to day *until*: the run's own event at *until* comes next."""
        self._visits.advance(until, self._today, self._flush)

    def void_needs(self, clients: np.ndarray) -> None:
        """Forget the clients' planned needs (they were for firms they have left)."""
        self._next_need[clients] = np.inf

    def walk_day(self, day: int) -> None:
        """Walk every need of *day* together up to its first staffed touchpoint.

        The batch runs before any of its walks' events, which are all today
        or later; a walk that meets no staffed touchpoint needs no event at
        all (:meth:`_walk_batch`).
        """
        self._today = day
        due = np.flatnonzero(self._next_need < day + 1)
        if due.size:
            need = self._next_need[due]
            self._next_need[due] = np.inf
            firms = self._need_firm[due].astype(np.int64)
            still = self.state.firm[due] == firms
            if not still.all():
                due, need, firms = due[still], need[still], firms[still]
            self._walk_batch(due, firms, self._need_key[due], need)

    def finished(self, clients: range | None = None) -> WalkTable | None:
        """Every walk over by now not yet handed out, as one table; only those of *clients*
        (a range of ids: one replication of several run side by side) if given."""
        table = self._visits.collect(self.now, clients)
        if table is None:
            return None
        clients = table.client
        np.subtract.at(self._unresolved, clients[table.churn_draw < self._churn_bound[clients]],
                       1)
        return table

    def plan_needs(self, clients: np.ndarray, firms: np.ndarray, after: np.ndarray,
                   need_now: bool = False) -> None:
        """The next needs of distinct *clients*, each arising after its day *after* (at it,
        with *need_now*).

        A walk's key (its client and walk number) seeds every draw the walk
        makes, the gap to its need first; a shock slows needs from the month
        the day is in. A need on a day still to come waits in the calendar
        for that day's batch (:meth:`walk_day`); one on today is walked now.
        """
        self._visits.plan_needs(clients, firms, after, self._today, need_now)

    def plan_later(self) -> None:
        """The next needs of the walks that ended after the day they were walked on."""
        later = self._visits.later()
        if later is None:
            return
        clients, firms, ended = later
        still = self.state.firm[clients] == firms
        clients, firms, ended = clients[still], firms[still], ended[still]
        last = clients.size - 1 - np.unique(clients[::-1], return_index=True)[1]
        if last.size < clients.size:  # a client back with its firm within a day: its last walk
            clients, firms, ended = clients[last], firms[last], ended[last]
        self.plan_needs(clients, firms, ended)

    def _walk_batch(self, clients: np.ndarray, firms: np.ndarray, seeds: np.ndarray,
                    times: np.ndarray) -> None:
        """Walk distinct clients' needs from their entries (``cxsim.simulation.walks.stretch``).

        A walk that reaches a staffed touchpoint goes on from its arrival
        (``cxsim.simulation.visits``); one that ends on the way is buffered for
        evaluation and its client's next need is drawn at once.
        """
        walked = stretch(self._routes, seeds, self._entries[firms], times)
        counts = np.bincount(walked.visit_walk, minlength=clients.size)
        arrived = walked.node >= 0
        if arrived.any():
            at = np.flatnonzero(arrived)
            self._visits.arrive(clients[at], firms[at], times[at], seeds[at],
                                walked.position[at], walked.node[at], walked.time[at],
                                walked.left[at], counts[at],
                                walked.visit_nodes[arrived[walked.visit_walk]])
        if arrived.all():
            return
        over = ~arrived
        clients, firms, seeds = clients[over], firms[over], seeds[over]
        ended = walked.time[over]
        churn_draw = positions(seeds, Walk.CHURN)
        self._unresolved[clients[churn_draw < self._churn_bound[clients]]] += 1
        nodes = walked.visit_nodes[over[walked.visit_walk]]
        self._visits.hold(WalkTable(
            clients, firms, seeds, times[over], ended, walked.completed[over], churn_draw,
            counts[over], nodes, np.zeros(nodes.size)))
        self.plan_needs(clients, firms, ended)
