"""Bad input, generated: a careless or hostile user's overrides and journeys.

Each case mutates the valid tiny scenario (``TINY``) with one to three
overrides, replaces its journey with a mutated copy of a valid one, or sets
one to four settings at or just inside an end of their declared bounds
(valid but extreme: these reach a run), and is tried in a worker process
under a time and an address-space limit. A case must end in one of two ways:

* ``error``: a :class:`cxsim.ConfigError` whose message is one line and
  names a key, an override, a file or a touchpoint;
* ``result``: a finished run whose summary holds no infinite number.

Anything else is counted by kind: ``traceback`` (another exception),
``unclear`` (a ConfigError of several lines or naming nothing), ``silent``
(a run that finished although an override named no known setting: the
default ran), ``infinite``, ``hang`` (over the time limit) and ``memory``
(the worker died or ran out of memory). ``tests/test_fuzz.py`` runs a few
hundred cases in ``make test``; ``make fuzz`` runs thousands:

    .venv/bin/python tests/fuzz.py --cases 5000      # prints and writes outputs/fuzz.md
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TINY = ["scenario=solo", "market.size=150", "sim.years=0.1"]
SECONDS = 30  # per case: a tiny run takes well under a second
MEMORY = 3 * 2**30  # address space of the worker
OUTCOMES = ("error", "result", "traceback", "unclear", "silent", "infinite", "hang", "memory")
GOOD = ("error", "result")

KNOWN = [
    "seed", "market.size", "market.segments.core.share",
    "market.segments.core.mean_days_between_needs", "market.segments.core.order_value",
    "market.segments.core.margin", "market.segments.core.social_influence",
    "market.segments.core.switching_cost", "market.segments.core.needs.price",
    "market.choice_sharpness", "market.return_per_year", "market.warning_ratio",
    "market.referral_conversion", "market.sales_pressure_revenue_gain",
    "firms.acme.price_level", "firms.acme.initial_share", "firms.acme.onboarding_cost",
    "firms.acme.growth_target", "firms.acme.listening", "firms.acme.will",
    "firms.acme.budget_share", "firms.acme.metric", "firms.acme.incentive",
    "firms.acme.strategy", "firms.acme.funding", "firms.acme.org", "firms.acme.journey",
    "psychology.base_churn", "psychology.loss_aversion", "psychology.nps_noise_sd",
    "psychology.wait_tolerance_days", "psychology.emotions", "management.review",
    "management.max_cut", "management.culture_lag_quarters", "sim.years",
    "sim.warmup_years", "sim.discount_rate", "sim.days_per_month", "network.mean_degree",
    "network.rewire_probability", "network.kind", "experiment.replications", "market",
    "network", "scenario",
]
ADDED = [  # keys that exist only once added with +
    "firms.acme.staff.support", "firms.acme.staff.nowhere", "firms.acme.cx_split.support",
    "firms.acme.cx_split.intake", "firms.acme.offer.speed", "firms.acme.offer.luxury",
    "events.e.kind", "events.e.start_month", "events.e.months", "events.e.order_value_factor",
    "events.e.need_rate_factor", "events.e.firm", "market.segments.vip.share",
]
UNKNOWN = ["psychology.base_chrun", "market.sise", "foo", "x._target_", "firms.acme.recovery",
           "sim.yeers", "market.segments.core.shares", "events.e.strength"]

NUMBERS = st.one_of(
    st.sampled_from([0, -1, 1, 2, 10**20, 2**63, 2**64, -(2**63), 2147483647]),
    st.sampled_from([0.0, -0.5, 0.5, 1.5, 1e308, -1e308, 1e-308, 5e-324]),
    st.sampled_from(["nan", "inf", "-inf", "1e309"]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.integers(-10**6, 10**6),
)
WORDS = st.sampled_from([
    "''", "abc", "null", "true", "[1]", "{a: 1}", "'<img src=x onerror=alert(1)>'",
    "../../etc/passwd", "'acme\\n'", "glob(*)", "range(0,3)", "'${oc.env:HOME}'",
    "default", "cco", "nps", "shock", "small_world", "subscription",
])


@dataclass(frozen=True)
class Case:
    overrides: tuple[str, ...]
    unknown: bool = False  # an override names no setting: an error is required
    journey: str | None = None  # YAML text of a mutated journey, written for the case


def _override(key: str, value: object, prefix: str) -> str:
    return f"{prefix}{key}={value}"


@st.composite
def override_cases(draw) -> Case:
    overrides, unknown = [], False
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["known", "known", "added", "unknown"]))
        value = draw(st.one_of(NUMBERS, WORDS))
        if kind == "known":
            key, prefix = draw(st.sampled_from(KNOWN)), draw(st.sampled_from(["", "", "++", "~"]))
        elif kind == "added":
            key, prefix = draw(st.sampled_from(ADDED)), draw(st.sampled_from(["+", "++"]))
        else:
            key, prefix = draw(st.sampled_from(UNKNOWN)), draw(st.sampled_from(["+", "++"]))
            unknown = True
        overrides.append(_override(key, value, prefix))
    return Case(tuple(overrides), unknown)


JOURNEY = {
    "name": "tiny", "entry": "start", "exits": ["done"],
    "touchpoints": {
        "start": {"stage": "awareness", "channel": "web", "service_days": 0.01,
                  "base_quality": 0.7},
        "desk": {"stage": "support", "channel": "phone", "staffed": True, "staff": 2,
                 "service_days": 0.05, "base_quality": 0.6},
        "done": {"stage": "renewal", "channel": "web", "service_days": 0.01,
                 "base_quality": 0.7},
    },
    "edges": [{"from": "start", "to": "desk", "probability": 0.9},
              {"from": "desk", "to": "done", "probability": 1.0}],
}
JOURNEY_VALUES = st.one_of(NUMBERS.map(lambda v: float(v) if isinstance(v, str) else v),
                           st.sampled_from([None, "", "desk", [1], {"a": 1}, True, "desk\n"]))


@st.composite
def journey_cases(draw) -> Case:
    data = yaml.safe_load(yaml.safe_dump(JOURNEY))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["touchpoint", "edge", "top", "add_edge", "rename"]))
        value = draw(JOURNEY_VALUES)
        touchpoints = data.get("touchpoints")
        edges = data.get("edges")
        nodes = list(touchpoints) if isinstance(touchpoints, dict) else []
        if where == "touchpoint" and nodes:
            tp = draw(st.sampled_from(nodes))
            field = draw(st.sampled_from(["service_days", "base_quality", "staff", "staffed",
                                          "hygiene", "delighter", "cost_per_visit",
                                          "failure_probability", "stage", "unknown_field"]))
            if isinstance(touchpoints[tp], dict):
                touchpoints[tp][field] = value
        elif where == "edge" and isinstance(edges, list) and edges:
            edge = edges[draw(st.sampled_from(range(len(edges))))]
            if isinstance(edge, dict):
                edge[draw(st.sampled_from(["probability", "from", "to", "delay_days"]))] = value
        elif where == "top":
            data[draw(st.sampled_from(["name", "entry", "exits", "touchpoints", "edges",
                                       "reference_clients", "extra"]))] = value
        elif where == "add_edge" and nodes and isinstance(edges, list):
            edges.append({"from": draw(st.sampled_from(nodes)),
                          "to": draw(st.sampled_from(nodes)), "probability": value})
        elif where == "rename" and "desk" in nodes:
            touchpoints[str(value)] = touchpoints.pop("desk")
    return Case((), False, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _edges() -> list[tuple[str, list[float]]]:
    """Every bounded setting's key with values at its ends and just inside them."""
    import math

    from cxsim import config

    sections = [("market.segments.core", config.SegmentConfig), ("market", config.MarketConfig),
                ("firms.acme", config.FirmConfig), ("psychology", config.PsychologyConfig),
                ("management", config.ManagementConfig), ("sim", config.SimConfig),
                ("+events.e", config.EventConfig)]
    edges = []
    for key, section in sections:
        for f in fields(section):
            bounds = f.metadata.get("bounds")
            if bounds is None or f"{key}.{f.name}" in WORK:
                continue
            if bounds.integer:
                values = [bounds.low, bounds.low + 1, bounds.high - 1, bounds.high]
            else:
                values = [bounds.low, math.nextafter(bounds.low, math.inf),
                          math.nextafter(bounds.high, -math.inf), bounds.high,
                          bounds.low + (bounds.high - bounds.low) * 1e-6]
            values = [v for v in values if bounds.low <= v <= bounds.high
                      and not (bounds.low_open and v == bounds.low)
                      and not (bounds.high_open and v == bounds.high)]
            edges.append((f"{key}.{f.name}", values))
    return edges


WORK = {"market.size", "sim.years", "sim.warmup_years"}  # their far ends ask for a huge run


@st.composite
def edge_cases(draw) -> Case:
    """Valid but extreme: one to four settings at or just inside an end of their bounds.
    Each must run to a finite result or be refused with its one line."""
    overrides = []
    for _ in range(draw(st.integers(1, 4))):
        key, values = draw(st.sampled_from(EDGES))
        if key.startswith("+events.e") and not any(o.startswith("+events.e.kind") for o in
                                                   overrides):
            overrides.append("+events.e.kind=" + draw(st.sampled_from(["shock", "workshop"])))
            if key != "+events.e.start_month":  # the default, month 12, is past TINY's horizon
                overrides.append("+events.e.start_month=0")
        overrides.append(f"{key}={draw(st.sampled_from(values))!r}")
    return Case(tuple(dict.fromkeys(overrides)))


EDGES = _edges()
CASES = st.one_of(override_cases(), override_cases(), journey_cases(), edge_cases())


# ------------------------------------------------------------------ worker
def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def attempt(case: Case) -> tuple[str, str]:
    """Run one case in this (limited) process; its outcome and a line about it."""
    import numpy as np

    import cxsim

    overrides = list(case.overrides)
    with tempfile.TemporaryDirectory() as folder:
        if case.journey is not None:
            path = Path(folder) / "journey.yaml"
            path.write_text(case.journey)
            overrides.append(f"firms.acme.journey={path}")
        try:
            results = cxsim.run(cxsim.compose([*TINY, *overrides]))
        except cxsim.ConfigError as error:
            text = str(error)
            if "\n" in text or not text.split(" ", 1)[0]:
                return "unclear", text
            return "error", text
        except MemoryError:
            return "memory", "MemoryError"
        except Exception as error:  # the point of the fuzz: anything else is a finding
            return "traceback", f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"
    if case.unknown:
        return "silent", "ran although an override names no setting"
    numbers = results.summary.select_dtypes("number").to_numpy(dtype=float)
    if np.isinf(numbers).any():
        return "infinite", "an infinite number in the summary"
    return "result", ""


class Runner:
    """One worker process with the limits; replaced when a case kills or outlasts it."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._pool = self._start()

    def _start(self):
        return self._context.Pool(1, initializer=_limit, maxtasksperchild=200)

    def __call__(self, case: Case) -> tuple[str, str]:
        job = self._pool.apply_async(attempt, (case,))
        try:
            return job.get(timeout=SECONDS)
        except multiprocessing.TimeoutError:
            outcome = ("hang", f"over {SECONDS} s")
        except Exception as error:  # the worker died (out of memory, killed)
            outcome = ("memory", f"worker died: {type(error).__name__}")
        self._pool.terminate()
        self._pool = self._start()
        return outcome

    def close(self) -> None:
        self._pool.terminate()


def explore(cases: int, seed: int = 0) -> Counter:
    """Outcomes of *cases* generated cases (reproducible by *seed*), with one example each."""
    runner, seen = Runner(), Counter()
    examples: dict[str, str] = {}

    @settings(max_examples=cases, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(CASES)
    def run(case: Case) -> None:
        outcome, line = runner(case)
        seen[outcome] += 1
        if outcome not in GOOD:
            examples.setdefault(outcome, f"{case.overrides or 'journey'}: {line}")

    try:
        run()
    finally:
        runner.close()
    seen.examples = examples  # type: ignore[attr-defined]
    return seen


def table(seen: Counter) -> str:
    lines = ["| outcome | cases | example |", "|---|---|---|"]
    for outcome in OUTCOMES:
        example = getattr(seen, "examples", {}).get(outcome, "")
        lines.append(f"| {outcome} | {seen[outcome]:,} | {example.replace('|', '/')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Bad input, generated (make fuzz).")
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path("outputs/fuzz.md"))
    args = parser.parse_args()
    seen = explore(args.cases)
    text = (f"# Fuzz of bad input: {sum(seen.values()):,} cases\n\n"
            f"{table(seen)}\n")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    bad = sum(seen[o] for o in OUTCOMES if o not in GOOD)
    print(f"{bad} cases ended neither in a clean error nor a finite result; written to "
          f"{args.out}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
