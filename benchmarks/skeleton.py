"""A bare SimPy skeleton of firms' journeys: the engine's yields, none of its model.

One SimPy process per client, each client with one firm for the whole run
(a *group* is a firm's journey, its staff and its number of clients; several
groups share one environment, each firm with its own resources). Each
client's needs arrive with exponential gaps (mean: its segment's
``mean_days_between_needs``); each need walks the firm's journey from the
entry, one touchpoint at a time:

* unstaffed touchpoint: ``yield env.timeout(service)``;
* staffed touchpoint: request a ``simpy.Resource`` (capacity: the firm's staff
  scaled as in ``cxsim.model.firm``), then ``yield env.timeout(service)``;
* route choice: ``journey.step(node, u)`` with a uniform numpy draw;
* edge delay: ``yield env.timeout(delay)`` when it is > 0;
* the walk stops at an exit or on abandonment; the next need is drawn then.

Service times are exponential with mean ``service_days``, as in the engine.
Random numbers are numpy draws made a block at a time. No psychology, no
churn, no acquisition, no switching, no word of mouth, no statistics: only a
visit counter.

Only journey loading and config composition come from cxsim.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import simpy
from omegaconf import DictConfig

from cxsim.config import config_dir
from cxsim.model.journey import Journey, load_journey

__all__ = ["Group", "load", "capacities", "group", "simulate", "simulate_groups"]

DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Group:
    """The clients of one firm: its journey, staff per touchpoint and head count."""

    firm: str
    journey: Journey
    capacities: list[int]
    clients: int


def _draws(fill: Callable[[int], np.ndarray], block: int = 4096) -> Iterator[float]:
    """Endless Python floats from a numpy generator method, a block at a time."""
    while True:
        yield from fill(block).tolist()


def load(cfg: DictConfig, firm: str = "acme") -> Journey:
    """The firm's journey, loaded as the engine loads it."""
    return load_journey(cfg.firms[firm].journey, config_dir() / "journey")


def capacities(cfg: DictConfig, journey: Journey, firm: str = "acme") -> list[int]:
    """Staff per touchpoint: ``max(1, round(staff * size / reference_clients))``; 0 unstaffed."""
    f = cfg.firms[firm]
    scale = cfg.market.size / journey.reference_clients if f.scale_staff else 1.0
    staff = [
        max(1, round(int(s) * scale)) if on else 0
        for s, on in zip(journey.staff.tolist(), journey.staffed.tolist())
    ]
    for name, n in f.staff.items():
        staff[journey.index_of(name)] = int(n)
    return staff


def group(cfg: DictConfig, firm: str, clients: int) -> Group:
    """*clients* clients of *firm*, on its journey with its staff."""
    journey = load(cfg, firm)
    return Group(firm, journey, capacities(cfg, journey, firm), clients)


def simulate(cfg: DictConfig, journey: Journey, n_clients: int, seed: int = 0,
             firm: str = "acme") -> int:
    """One firm: *n_clients* clients over ``cfg.sim.years``; return the visits completed."""
    return simulate_groups(cfg, [Group(firm, journey, capacities(cfg, journey, firm),
                                       n_clients)], seed)


def simulate_groups(cfg: DictConfig, groups: Sequence[Group], seed: int = 0) -> int:
    """Every group's clients in one environment over ``cfg.sim.years``; return the visits."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    exponential = _draws(rng.standard_exponential)
    uniform = _draws(rng.random)
    segments = list(cfg.market.segments.values())
    gaps = [s.mean_days_between_needs for s in segments]
    shares = [s.share for s in segments]
    visits = 0

    def client(mean_gap: float, journey: Journey, resources: list, service: list[float],
               is_exit: list[bool], delay: dict[tuple[int, int], float]):
        nonlocal visits
        while True:
            yield env.timeout(mean_gap * next(exponential))
            node = journey.entry
            while True:
                resource = resources[node]
                if resource is None:
                    yield env.timeout(service[node] * next(exponential))
                else:
                    with resource.request() as req:
                        yield req
                        yield env.timeout(service[node] * next(exponential))
                visits += 1
                if is_exit[node]:
                    break
                nxt = journey.step(node, next(uniform))
                if nxt < 0:
                    break
                if delay[node, nxt] > 0:
                    yield env.timeout(delay[node, nxt])
                node = nxt

    for g in groups:
        journey = g.journey
        resources = [simpy.Resource(env, capacity=c) if c else None for c in g.capacities]
        service = journey.service_days.tolist()
        is_exit = journey.is_exit.tolist()
        delay = {(i, j): d for i in range(journey.n_touchpoints)
                 for j, d in zip(journey.next_touchpoints[i], journey.delay_days[i])}
        for mean_gap in rng.choice(gaps, size=g.clients, p=shares).tolist():
            env.process(client(mean_gap, journey, resources, service, is_exit, delay))
    env.run(until=cfg.sim.years * DAYS_PER_YEAR)
    return visits
