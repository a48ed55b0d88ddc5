"""Walks in batches (cxsim.simulation.walks): the same walk as one made a step at a time."""

import math

import numpy as np
import pytest

from cxsim.config import config_dir
from cxsim.model.journey import Journey, load_journey
from cxsim.simulation.walks import Routes, WalkTable, stretch
from cxsim.streams import keys, uniform

STREAM = 0x0F1E_2D3C_4B5A_6978


def routes_of(journey: Journey) -> Routes:
    return Routes(journey.staffed.tolist(), journey.service_days.tolist(),
                  journey.is_exit.tolist(), journey.next_touchpoints,
                  journey.cumulative_probability, journey.delay_days)


def one_at_a_time(journey: Journey, seed: int, t: float) -> tuple[list[int], int, float, bool]:
    """A walk the plain way: a time draw per visit, a route draw per choice (Journey.step)."""
    node, position, visits = journey.entry, 2, []
    while not journey.staffed[node]:
        visits.append(node)
        t -= journey.service_days[node] * math.log1p(-uniform(seed, position))
        position += 1
        if journey.is_exit[node]:
            return visits, -1, t, True
        following = journey.next_touchpoints[node]
        if len(following) == 1 and journey.cumulative_probability[node][0] >= 1.0 - 1e-12:
            nxt = following[0]
        else:
            nxt = journey.step(node, uniform(seed, position))
            position += 1
            if nxt < 0:
                return visits, -1, t, False
        t += journey.delay_days[node][following.index(nxt)]
        node = nxt
    return visits, node, t, False


@pytest.mark.parametrize("name", ["subscription", "one_off_retail", "professional_services"])
def test_a_batch_walks_each_walk_as_one_at_a_time(name):
    journey = load_journey(name, config_dir() / "journey")
    n = 3000
    seeds = keys(STREAM, np.arange(n), 0)
    times = np.linspace(0.0, 30.0, n)
    walked = stretch(routes_of(journey), seeds, np.full(n, journey.entry), times)
    counts = np.bincount(walked.visit_walk, minlength=n)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    outcomes = set()
    for i in range(n):
        visits, node, t, completed = one_at_a_time(journey, int(seeds[i]), float(times[i]))
        assert walked.visit_nodes[bounds[i]:bounds[i + 1]].tolist() == visits
        assert walked.node[i] == node
        assert walked.time[i] == pytest.approx(t, rel=1e-12, abs=1e-12)
        assert walked.completed[i] == completed
        outcomes.add((node >= 0, completed))
    assert len(outcomes) >= 2  # the journeys stop in more than one way


def table(sizes: list[int]) -> WalkTable:
    n = len(sizes)
    lengths = np.array(sizes)
    nodes = np.arange(lengths.sum()) * 10
    return WalkTable(np.arange(n), np.zeros(n, dtype=np.int64), np.arange(n, dtype=np.uint64),
                     np.zeros(n), np.arange(n, dtype=float), np.ones(n, dtype=bool),
                     np.zeros(n), lengths, nodes, nodes / 10.0)


def test_taking_walks_takes_their_visits():
    walks = table([2, 0, 3, 1])
    taken = walks.take(np.array([2, 0, 3]))
    assert taken.client.tolist() == [2, 0, 3]
    assert taken.lengths.tolist() == [3, 2, 1]
    assert taken.nodes.tolist() == [20, 30, 40, 0, 10, 50]
    assert taken.waits.tolist() == [2.0, 3.0, 4.0, 0.0, 1.0, 5.0]
    assert walks.take(np.array([False, True, False, True])).nodes.tolist() == [50]
    one_each = walks.take(np.array([3, 0]))
    assert one_each.nodes.tolist() == [50, 0, 10] and one_each.starts().tolist() == [0, 1]


def test_long_walks_go_on_as_long_as_their_loop_holds_them():
    """A loop that is left with probability 0.1: many walks make more than 24 draws."""
    routes = Routes([False, False], [0.5, 0.1], [False, True], [[0, 1]], [[0.9, 1.0]], [[0.0, 1.0]])
    n = 500
    seeds = keys(STREAM, np.arange(n), 1)
    walked = stretch(routes, seeds, np.zeros(n, dtype=np.int64), np.zeros(n))
    counts = np.bincount(walked.visit_walk, minlength=n)
    assert (walked.position > 26).any()
    for i in range(n):
        seed, position, t = int(seeds[i]), 2, 0.0
        loops = 0
        while True:
            t -= 0.5 * math.log1p(-uniform(seed, position))
            position += 1
            if uniform(seed, position) >= 0.9:
                break
            position += 1
            loops += 1
        t += 1.0 - 0.1 * math.log1p(-uniform(seed, position + 1))
        assert counts[i] == loops + 2
        assert walked.completed[i]
        assert walked.time[i] == pytest.approx(t, rel=1e-12)
