"""Tests for cxsim.model.journey: loading, validation, routing and the shipped journey maps."""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxsim.errors import ConfigError
from cxsim.model.journey import (
    Journey,
    available_journeys,
    journey_from_mapping,
    journey_to_graphml,
    load_journey,
)

JOURNEY_DIR = Path(__file__).resolve().parents[1] / "configs" / "journey"
SHIPPED = ("professional_services", "subscription", "one_off_retail")
WALKS_PER_DAY = 6000 / 45  # active clients of reference_clients=10000, one walk per 45 days


# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #


def tiny() -> dict[str, Any]:
    """A small valid journey: start -> (desk) -> done, 5% abandon at start."""
    return {
        "name": "tiny",
        "entry": "start",
        "exits": ["done"],
        "touchpoints": {
            "start": {
                "stage": "awareness",
                "channel": "web",
                "service_days": 0.01,
                "base_quality": 0.7,
            },
            "desk": {
                "stage": "support",
                "channel": "phone",
                "staffed": True,
                "staff": 2,
                "service_days": 0.05,
                "base_quality": 0.6,
                "kind": "hygiene",
            },
            "done": {
                "stage": "renewal",
                "channel": "email",
                "service_days": 0.01,
                "base_quality": 0.7,
                "kind": "delighter",
            },
        },
        "edges": [
            {"from": "start", "to": "desk", "probability": 0.5, "delay_days": 1.0},
            {"from": "start", "to": "done", "probability": 0.45},
            {"from": "desk", "to": "done", "probability": 1.0},
        ],
    }


def write_yaml(tmp_path: Path, data: Any, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def load_path(path: Path) -> Journey:
    return load_journey(str(path), JOURNEY_DIR)


# --------------------------------------------------------------------------- #
# shipped journeys
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("name", "entry", "exits", "n_staffed"),
    [
        ("professional_services", "inquiry", ["renewal"], (2, 4)),
        ("subscription", "signup", ["renewal"], (1, 2)),
        ("one_off_retail", "store_visit", ["product_use"], (1, 2)),
    ],
)
def test_shipped_journey_loads(
    name: str, entry: str, exits: list[str], n_staffed: tuple[int, int]
) -> None:
    journey = load_journey(name, JOURNEY_DIR)
    assert journey.name == name
    assert journey.touchpoints[journey.entry] == entry
    assert [journey.touchpoints[i] for i in journey.exits] == exits
    assert list(np.flatnonzero(journey.is_exit)) == list(journey.exits)
    assert journey.reference_clients == 10000
    assert n_staffed[0] <= journey.staffed.sum() <= n_staffed[1]
    assert np.all((journey.base_quality >= 0.55) & (journey.base_quality <= 0.85))
    assert np.all(journey.staff[~journey.staffed] == 0)
    assert np.all(journey.staff[journey.staffed] >= 1)
    assert journey.hygiene.any()
    assert not np.any(journey.hygiene & journey.delighter)
    visits = journey.expected_visits()
    assert visits.shape == (journey.n_touchpoints,)
    assert np.all(np.isfinite(visits)) and np.all(visits >= 0)
    assert visits[journey.entry] >= 1.0
    assert np.all(visits > 0)  # every touchpoint is reachable


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_staffing_gives_target_utilisation(name: str) -> None:
    """Staff numbers are sized so utilisation is about 0.6-0.75 (see the file comments)."""
    journey = load_journey(name, JOURNEY_DIR)
    visits = journey.expected_visits()
    staffed = journey.staffed
    utilisation = (
        WALKS_PER_DAY * visits[staffed] * journey.service_days[staffed] / journey.staff[staffed]
    )
    assert np.all((utilisation >= 0.6) & (utilisation <= 0.75)), dict(
        zip(np.array(journey.touchpoints)[staffed], utilisation)
    )


def test_available_journeys_lists_shipped() -> None:
    assert set(SHIPPED) <= set(available_journeys(JOURNEY_DIR))


def test_professional_services_has_support_loop_and_delighter() -> None:
    journey = load_journey("professional_services", JOURNEY_DIR)
    assert journey.graph.has_edge("support", "delivery")
    assert journey.delighter[journey.index_of("strategy_session")]
    assert journey.hygiene[journey.index_of("invoice")]
    assert journey.hygiene[journey.index_of("support")]


@pytest.mark.parametrize("name", SHIPPED)
def test_monte_carlo_walks_match_expected_visits(name: str) -> None:
    journey = load_journey(name, JOURNEY_DIR)
    rng = np.random.default_rng(1)
    n_walks = 20000
    counts = np.zeros(journey.n_touchpoints)
    for _ in range(n_walks):
        node = journey.entry
        for _ in range(1000):
            counts[node] += 1
            if journey.is_exit[node]:
                break
            node = journey.step(node, rng.random())
            if node < 0:
                break
    expected = journey.expected_visits()
    # visit counts per walk are bounded-variance; 5% relative + small absolute slack
    np.testing.assert_allclose(counts / n_walks, expected, rtol=0.05, atol=0.01)


# --------------------------------------------------------------------------- #
# GraphML round trip
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("name", SHIPPED)
def test_graphml_round_trip(name: str, tmp_path: Path) -> None:
    journey = load_journey(name, JOURNEY_DIR)
    out = tmp_path / f"{name}.graphml"
    journey_to_graphml(journey, out)
    again = load_path(out)
    assert again == journey
    assert again.source != journey.source


def test_graphml_refuses_text_xml_cannot_carry(tmp_path: Path) -> None:
    data = tiny()
    data["touchpoints"]["desk"]["description"] = "line one\r\nline two"
    journey = journey_from_mapping(data, "tiny.yaml")
    with pytest.raises(
        ConfigError, match=r"touchpoint 'desk' in tiny\.yaml description cannot be written"
    ):
        journey_to_graphml(journey, tmp_path / "tiny.graphml")


def test_graphml_xml_suffix_and_inequality(tmp_path: Path) -> None:
    journey = journey_from_mapping(tiny(), "tiny.yaml")
    out = tmp_path / "tiny.xml"
    journey_to_graphml(journey, out)
    assert load_path(out) == journey
    other = tiny()
    other["touchpoints"]["desk"]["base_quality"] = 0.61
    assert journey_from_mapping(other, "tiny.yaml") != journey
    assert journey != "not a journey"


# Text GraphML carries exactly: no control characters but tab and newline, no surrogates.
XML_TEXT = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff") | (
    st.sampled_from("\t\n")
)


@st.composite
def random_journeys(draw: st.DrawFn) -> dict[str, Any]:
    """Valid journeys: a chain to the exit plus random extra edges, loops included."""
    n = draw(st.integers(2, 6))
    names = [f"tp_{i}" for i in range(n)]
    unit = st.floats(0.0, 1.0, allow_nan=False)
    touchpoints = {}
    for name in names:
        staffed = draw(st.booleans())
        fields: dict[str, Any] = {
            "stage": draw(st.sampled_from(["awareness", "purchase", "use", "support"])),
            "channel": draw(st.sampled_from(["web", "store", "phone"])),
            "staffed": staffed,
            "service_days": draw(st.floats(1e-4, 5.0)),
            "base_quality": draw(unit),
            "kind": draw(st.sampled_from(["hygiene", "delighter", "neutral"])),
            "cost_per_visit": draw(st.floats(0.0, 100.0)),
            "failure_probability": draw(unit),
        }
        if staffed:
            fields["staff"] = draw(st.integers(1, 500))
        if draw(st.booleans()):
            fields["description"] = draw(st.text(XML_TEXT, min_size=1, max_size=20))
        touchpoints[name] = fields
    edges = []
    for i in range(n - 1):
        chain = draw(st.floats(0.05, 1.0))
        edges.append(
            {
                "from": names[i],
                "to": names[i + 1],
                "probability": chain,
                "delay_days": draw(st.floats(0.0, 30.0)),
            }
        )
        extras = draw(
            st.lists(st.sampled_from(range(n)), unique=True, max_size=3).filter(
                lambda js, i=i: i + 1 not in js
            )
        )
        for j in extras:
            share = (1.0 - chain) / (len(extras) + 1)
            if share <= 0:
                break
            edges.append(
                {"from": names[i], "to": names[j], "probability": draw(st.floats(share / 2, share))}
            )
    return {
        "name": "random",
        "reference_clients": draw(st.integers(1, 10**6)),
        "entry": names[0],
        "exits": [names[-1]],
        "touchpoints": touchpoints,
        "edges": edges,
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=random_journeys())
def test_graphml_round_trip_random(data: dict[str, Any], tmp_path: Path) -> None:
    journey = journey_from_mapping(data, "random.yaml")
    out = tmp_path / "random.graphml"
    journey_to_graphml(journey, out)
    assert load_path(out) == journey


@settings(max_examples=40, deadline=None)
@given(data=random_journeys())
def test_expected_visits_solve_the_balance_equation(data: dict[str, Any]) -> None:
    journey = journey_from_mapping(data, "random.yaml")
    visits = journey.expected_visits()
    start = np.zeros(journey.n_touchpoints)
    start[journey.entry] = 1.0
    np.testing.assert_allclose(visits, start + visits @ journey.transition_matrix(), atol=1e-8)
    assert np.all(visits >= -1e-12)


@settings(max_examples=40, deadline=None)
@given(data=random_journeys(), u=st.floats(0.0, 1.0, exclude_max=True))
def test_step_returns_a_successor_or_abandonment(data: dict[str, Any], u: float) -> None:
    journey = journey_from_mapping(data, "random.yaml")
    for index in range(journey.n_touchpoints):
        nxt = journey.step(index, u)
        assert nxt == -1 or nxt in journey.next_touchpoints[index]
        if journey.is_exit[index]:
            assert nxt == -1


# --------------------------------------------------------------------------- #
# routing
# --------------------------------------------------------------------------- #


def three_nodes() -> dict[str, Any]:
    data = tiny()
    data["exits"] = ["desk", "done"]
    data["edges"] = [
        {"from": "start", "to": "desk", "probability": 0.3},
        {"from": "start", "to": "done", "probability": 0.5},
    ]
    return data


def test_step_follows_probabilities() -> None:
    journey = journey_from_mapping(three_nodes(), "three.yaml")
    start, desk, done = (journey.index_of(n) for n in ("start", "desk", "done"))
    assert journey.cumulative_probability[start] == pytest.approx([0.3, 0.8])
    rng = np.random.default_rng(0)
    n = 20000
    outcomes = [journey.step(start, u) for u in rng.random(n)]
    for target, p in ((desk, 0.3), (done, 0.5), (-1, 0.2)):
        freq = outcomes.count(target) / n
        se = math.sqrt(p * (1 - p) / n)
        assert abs(freq - p) < 4 * se, (target, freq, p)


def test_step_boundaries_and_exits() -> None:
    journey = journey_from_mapping(three_nodes(), "three.yaml")
    start, desk, done = (journey.index_of(n) for n in ("start", "desk", "done"))
    assert journey.step(start, 0.0) == desk
    assert journey.step(start, 0.2999) == desk
    assert journey.step(start, 0.3) == done
    assert journey.step(start, 0.7999) == done
    assert journey.step(start, 0.8) == -1
    assert journey.step(done, 0.0) == -1
    assert journey.step(desk, 0.5) == -1


def test_full_out_probability_never_abandons() -> None:
    """Probabilities that sum to 1 up to rounding never leave an abandonment sliver."""
    data = tiny()
    data["edges"] = [
        {"from": "start", "to": "desk", "probability": 0.1},
        {"from": "start", "to": "desk2", "probability": 0.2},
        {"from": "start", "to": "done", "probability": 0.7},
        {"from": "desk", "to": "done", "probability": 1.0},
        {"from": "desk2", "to": "done", "probability": 1.0},
    ]
    data["touchpoints"]["desk2"] = dict(data["touchpoints"]["desk"])
    journey = journey_from_mapping(data, "sum.yaml")
    assert journey.cumulative_probability[journey.entry][-1] == 1.0
    assert journey.step(journey.entry, np.nextafter(1.0, 0.0)) == journey.index_of("done")


def test_expected_visits_with_loop_hand_computed() -> None:
    """start -> desk (1.0); desk -> start (0.5), desk -> done (0.4), 0.1 abandons.

    Visits: s = 1 + 0.5 d and d = s, so s = d = 2 and done = 0.4 d = 0.8.
    """
    data = tiny()
    data["edges"] = [
        {"from": "start", "to": "desk", "probability": 1.0},
        {"from": "desk", "to": "start", "probability": 0.5},
        {"from": "desk", "to": "done", "probability": 0.4},
    ]
    journey = journey_from_mapping(data, "loop.yaml")
    np.testing.assert_allclose(journey.expected_visits(), [2.0, 2.0, 0.8])


def test_self_loop_allowed_when_exit_reachable() -> None:
    data = tiny()
    data["edges"][2]["probability"] = 0.75  # desk -> done
    data["edges"].append({"from": "desk", "to": "desk", "probability": 0.25})
    journey = journey_from_mapping(data, "selfloop.yaml")
    # desk is entered 0.5 times and revisited geometrically: 0.5 / (1 - 0.25)
    assert journey.expected_visits()[journey.index_of("desk")] == pytest.approx(0.5 / 0.75)


# --------------------------------------------------------------------------- #
# compiled form
# --------------------------------------------------------------------------- #


def test_compiled_arrays_and_defaults() -> None:
    journey = journey_from_mapping(tiny(), "tiny.yaml")
    assert journey.touchpoints == ("start", "desk", "done")
    assert journey.stages == ("awareness", "support", "renewal")
    assert journey.channels == ("web", "phone", "email")
    assert journey.n_touchpoints == 3
    assert journey.entry == 0
    assert journey.exits == (2,)
    assert journey.reference_clients == 10000
    assert journey.staffed.tolist() == [False, True, False]
    assert journey.staff.tolist() == [0, 2, 0]
    assert journey.staff.dtype.kind == "i"
    assert journey.hygiene.tolist() == [False, True, False]
    assert journey.delighter.tolist() == [False, False, True]
    assert journey.cost_per_visit.tolist() == [0.0, 0.0, 0.0]
    assert journey.failure_probability.tolist() == [0.02, 0.02, 0.02]
    assert journey.is_exit.tolist() == [False, False, True]
    assert journey.next_touchpoints == [[1, 2], [2], []]
    assert journey.cumulative_probability == [[0.5, 0.95], [1.0], []]
    assert journey.delay_days == [[1.0, 0.0], [0.0], []]
    assert journey.graph.nodes["desk"]["staff"] == 2
    assert journey.graph.edges["start", "desk"] == {"probability": 0.5, "delay_days": 1.0}
    assert journey.index_of("done") == 2


def test_journey_is_read_only() -> None:
    journey = journey_from_mapping(tiny(), "tiny.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        journey.name = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        journey.base_quality[0] = 0.1
    with pytest.raises(nx.NetworkXError):
        journey.graph.add_node("extra")
    with pytest.raises(ConfigError, match="has no touchpoint of that name"):
        journey.index_of("nowhere")


def test_load_by_relative_and_home_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_yaml(tmp_path, tiny(), "mine.yml")
    monkeypatch.chdir(tmp_path)
    assert load_journey("mine.yml", JOURNEY_DIR).name == "tiny"
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_journey("~/mine.yml", JOURNEY_DIR).name == "tiny"


def test_shipped_name_from_another_directory(tmp_path: Path) -> None:
    write_yaml(tmp_path, tiny(), "tiny.yaml")
    assert load_journey("tiny", tmp_path).name == "tiny"
    assert available_journeys(tmp_path) == ["tiny"]


# --------------------------------------------------------------------------- #
# broken inputs
# --------------------------------------------------------------------------- #

Mutation = Callable[[dict[str, Any]], Any]


def _set(path: str, value: Any) -> Mutation:
    """Mutation setting data[...] along a dotted path (integers index lists)."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


def _add_edge(**edge: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["edges"].append({"from": edge.pop("frm"), **edge})

    return mutate


def _add_touchpoint(name: str, *edges: dict[str, Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["touchpoints"][name] = {
            "stage": "use",
            "channel": "web",
            "service_days": 0.1,
            "base_quality": 0.6,
        }
        data["edges"].extend(edges)

    return mutate


def _replace(new: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> Any:
        return new

    return mutate


F = r"broken\.yaml"  # every message names the file
TP = "touchpoints"

BROKEN: list[tuple[str, Mutation, str]] = [
    ("unknown top-level field", _set("colour", "red"), rf"{F} has unknown field 'colour'"),
    (
        "unknown touchpoint field",
        _set(f"{TP}.start.colour", "red"),
        rf"touchpoint 'start' in .*{F} has unknown field 'colour'",
    ),
    (
        "unknown edge field",
        _set("edges.0.weight", 1),
        rf"edge #1 in .*{F} has unknown field 'weight'",
    ),
    ("missing name", _delete("name"), rf"{F} is missing required field 'name'"),
    (
        "missing service_days",
        _delete(f"{TP}.desk.service_days"),
        rf"touchpoint 'desk' in .*{F} is missing required field 'service_days'",
    ),
    (
        "missing edge probability",
        _delete("edges.2.probability"),
        rf"edge #3 in .*{F} is missing required field 'probability'",
    ),
    (
        "staffed without staff",
        _delete(f"{TP}.desk.staff"),
        rf"touchpoint 'desk' in .*{F} staff \(an integer >= 1\) is required when staffed is true",
    ),
    (
        "staff on unstaffed touchpoint",
        _set(f"{TP}.start.staff", 2),
        rf"touchpoint 'start' in .*{F} staff is only allowed when staffed is true; got 2",
    ),
    (
        "staff 0",
        _set(f"{TP}.desk.staff", 0),
        rf"touchpoint 'desk' in .*{F} staff must be an integer in \[1, 100,000\]; got 0",
    ),
    (
        "fractional staff",
        _set(f"{TP}.desk.staff", 2.5),
        rf"touchpoint 'desk' in .*{F} staff must be an integer in \[1, 100,000\]; got 2.5",
    ),
    (
        "negative service_days",
        _set(f"{TP}.desk.service_days", -1.0),
        rf"touchpoint 'desk' in .*{F} service_days must be in \(0, 365\]; got -1.0",
    ),
    (
        "zero service_days",
        _set(f"{TP}.desk.service_days", 0),
        rf"touchpoint 'desk' in .*{F} service_days must be in \(0, 365\]; got 0",
    ),
    (
        "NaN service_days",
        _set(f"{TP}.desk.service_days", float("nan")),
        rf"touchpoint 'desk' in .*{F} service_days must be a finite number; got nan",
    ),
    (
        "infinite cost",
        _set(f"{TP}.desk.cost_per_visit", float("inf")),
        rf"touchpoint 'desk' in .*{F} cost_per_visit must be a finite number; got inf",
    ),
    (
        "negative cost",
        _set(f"{TP}.desk.cost_per_visit", -3),
        rf"touchpoint 'desk' in .*{F} cost_per_visit must be in \[0, 1e\+09\]; got -3",
    ),
    (
        "base_quality 1.5",
        _set(f"{TP}.start.base_quality", 1.5),
        rf"touchpoint 'start' in .*{F} base_quality must be in \[0, 1\]; got 1.5",
    ),
    (
        "failure_probability -0.1",
        _set(f"{TP}.start.failure_probability", -0.1),
        rf"touchpoint 'start' in .*{F} failure_probability must be in \[0, 1\]; got -0.1",
    ),
    (
        "string for base_quality",
        _set(f"{TP}.start.base_quality", "0.7"),
        rf"touchpoint 'start' in .*{F} base_quality must be a number, not str; got '0.7'",
    ),
    (
        "bool for service_days",
        _set(f"{TP}.start.service_days", True),
        rf"touchpoint 'start' in .*{F} service_days must be a number, not bool; got True",
    ),
    (
        "string for staffed",
        _set(f"{TP}.desk.staffed", "yes"),
        rf"touchpoint 'desk' in .*{F} staffed must be a boolean",
    ),
    (
        "unknown kind",
        _set(f"{TP}.desk.kind", "wow"),
        rf"touchpoint 'desk' in .*{F} kind must be one of hygiene, delighter, neutral; got 'wow'",
    ),
    (
        "empty stage",
        _set(f"{TP}.desk.stage", " "),
        rf"touchpoint 'desk' in .*{F} stage must be a non-empty string",
    ),
    (
        "bad touchpoint name",
        _add_touchpoint("front desk"),
        rf"key 'touchpoints' in .*{F} touchpoint names must be strings matching .*'front desk'",
    ),
    (
        "touchpoint not a mapping",
        _set(f"{TP}.desk", 3),
        rf"touchpoint 'desk' in .*{F} must be a mapping of touchpoint fields; got 3",
    ),
    (
        "probability > 1",
        _set("edges.2.probability", 1.2),
        rf"edge 'desk' -> 'done' in .*{F} probability must be in \(0, 1\]; got 1.2",
    ),
    (
        "probability 0",
        _set("edges.2.probability", 0.0),
        rf"edge 'desk' -> 'done' in .*{F} probability must be in \(0, 1\]; got 0.0",
    ),
    (
        "negative delay",
        _set("edges.0.delay_days", -2),
        rf"edge 'start' -> 'desk' in .*{F} delay_days must be in \[0, 3650\]; got -2",
    ),
    (
        "out-probabilities sum > 1",
        _set("edges.0.probability", 0.6),
        rf"touchpoint 'start' in .*{F} out-edge probabilities must sum to at most 1",
    ),
    (
        "edge to unknown touchpoint",
        _add_edge(frm="desk", to="nowhere", probability=0.1),
        rf"edge #4 in .*{F} field 'to' must name a known touchpoint .*; got 'nowhere'",
    ),
    (
        "edge from unknown touchpoint",
        _add_edge(frm="lobby", to="desk", probability=0.1),
        rf"edge #4 in .*{F} field 'from' must name a known touchpoint .*; got 'lobby'",
    ),
    (
        "duplicate edge",
        _add_edge(frm="start", to="desk", probability=0.01),
        rf"edge 'start' -> 'desk' \(edge #4\) in .*{F} duplicates an earlier edge",
    ),
    (
        "unreachable touchpoint",
        _add_touchpoint("orphan", {"from": "orphan", "to": "done", "probability": 1.0}),
        rf"{F} has touchpoints not reachable from the entry 'start'.*: orphan$",
    ),
    (
        "no path to an exit",
        _add_touchpoint("trap", {"from": "start", "to": "trap", "probability": 0.05}),
        rf"{F} has touchpoints with no path to an exit \(done\).*: trap$",
    ),
    (
        "self-loop with no way out",
        _add_touchpoint(
            "trap",
            {"from": "start", "to": "trap", "probability": 0.05},
            {"from": "trap", "to": "trap", "probability": 1.0},
        ),
        rf"{F} has touchpoints with no path to an exit \(done\).*: trap$",
    ),
    (
        "exit with out-edges",
        _add_edge(frm="done", to="desk", probability=0.1),
        rf"touchpoint 'done' in .*{F} is an exit and must have no outgoing edges",
    ),
    ("exits missing", _delete("exits"), rf"{F} is missing required field 'exits'"),
    (
        "exits empty",
        _set("exits", []),
        rf"key 'exits' in .*{F} exits must be a non-empty list of touchpoint names",
    ),
    (
        "exits a string",
        _set("exits", "done"),
        rf"key 'exits' in .*{F} exits must be a non-empty list of touchpoint names",
    ),
    (
        "exit not a touchpoint",
        _set("exits", ["done", "gone"]),
        rf"key 'exits' in .*{F} each exit must name a touchpoint .*; got 'gone'",
    ),
    (
        "entry unknown",
        _set("entry", "lobby"),
        rf"key 'entry' in .*{F} entry must name a touchpoint .*; got 'lobby'",
    ),
    (
        "reference_clients 0",
        _set("reference_clients", 0),
        rf"key 'reference_clients' in .*{F} reference_clients must be an integer in "
        r"\[1, 100,000,000\]; got 0",
    ),
    (
        "reference_clients bool",
        _set("reference_clients", True),
        rf"key 'reference_clients' in .*{F} reference_clients must be an integer in "
        r"\[1, 100,000,000\]",
    ),
    (
        "touchpoints empty",
        _set(TP, {}),
        rf"key 'touchpoints' in .*{F} touchpoints must be a non-empty mapping",
    ),
    (
        "edges not a list",
        _set("edges", {"from": "start"}),
        rf"key 'edges' in .*{F} edges must be a list",
    ),
    ("file is a list", _replace([1, 2]), rf"journey file .*{F} must be a YAML mapping"),
]


@pytest.mark.parametrize(("mutate", "match"), [pytest.param(m, r, id=i) for i, m, r in BROKEN])
def test_broken_journey_raises(mutate: Mutation, match: str, tmp_path: Path) -> None:
    data = copy.deepcopy(tiny())
    replaced = mutate(data)
    path = write_yaml(tmp_path, data if replaced is None else replaced)
    with pytest.raises(ConfigError, match=match):
        load_path(path)


def test_broken_cases_are_distinct() -> None:
    assert len({case[0] for case in BROKEN}) == len(BROKEN) >= 12


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"journey file .*nothere\.yaml.* does not exist"):
        load_path(tmp_path / "nothere.yaml")


def test_directory_with_yaml_suffix(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"dir\.yaml.* is not a regular file"):
        load_path(tmp_path / "dir.yaml")


def test_unknown_shipped_name_lists_available() -> None:
    with pytest.raises(ConfigError, match=r"journey 'nosuch' is not a shipped journey") as info:
        load_journey("nosuch", JOURNEY_DIR)
    assert all(name in str(info.value) for name in SHIPPED)


def test_unknown_shipped_name_in_empty_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"available: none"):
        load_journey("nosuch", tmp_path / "missing")


def test_bad_suffix(tmp_path: Path) -> None:
    path = tmp_path / "journey.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"journey\.json.* must end in one of .yaml, .yml"):
        load_path(path)


def test_invalid_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"journey file .*broken\.yaml is not valid YAML"):
        load_path(path)


def test_empty_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml must be a YAML mapping.*; got None"):
        load_path(path)


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    text = yaml.safe_dump(tiny(), sort_keys=False)
    text = text.replace("  desk:\n", "  start:\n", 1)  # a second touchpoint called 'start'
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml is not valid YAML.*duplicate key 'start'"):
        load_path(path)


def test_unreadable_bytes(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml cannot be read"):
        load_path(path)


def test_invalid_graphml(tmp_path: Path) -> None:
    path = tmp_path / "broken.graphml"
    path.write_text("<graphml><graph", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.graphml is not valid GraphML"):
        load_path(path)


def test_undirected_graphml(tmp_path: Path) -> None:
    path = tmp_path / "broken.graphml"
    graph = nx.Graph()
    graph.add_edge("a", "b")
    nx.write_graphml(graph, path)
    with pytest.raises(ConfigError, match=r"broken\.graphml must hold a directed graph"):
        load_path(path)


def test_graphml_goes_through_the_same_validation(tmp_path: Path) -> None:
    journey = journey_from_mapping(tiny(), "tiny.yaml")
    path = tmp_path / "broken.graphml"
    journey_to_graphml(journey, path)
    graph = nx.read_graphml(path)
    graph.nodes["desk"]["base_quality"] = 1.5
    graph.nodes["start"]["label"] = "Start"  # graph editors add such fields
    nx.write_graphml(graph, path)
    with pytest.raises(
        ConfigError, match=r"touchpoint 'start' in .*broken\.graphml has unknown field 'label'"
    ):
        load_path(path)
    del graph.nodes["start"]["label"]
    nx.write_graphml(graph, path)
    with pytest.raises(
        ConfigError, match=r"touchpoint 'desk' in .*broken\.graphml base_quality must be in"
    ):
        load_path(path)


def test_graphml_integral_double_staff_and_defaults(tmp_path: Path) -> None:
    """Hand-written GraphML: staff typed double, kind from a key default."""
    text = """<?xml version='1.0' encoding='utf-8'?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="stage" for="node" attr.name="stage" attr.type="string"/>
  <key id="channel" for="node" attr.name="channel" attr.type="string"/>
  <key id="staffed" for="node" attr.name="staffed" attr.type="boolean"/>
  <key id="staff" for="node" attr.name="staff" attr.type="double"/>
  <key id="sd" for="node" attr.name="service_days" attr.type="double"/>
  <key id="q" for="node" attr.name="base_quality" attr.type="double"/>
  <key id="kind" for="node" attr.name="kind" attr.type="string"><default>hygiene</default></key>
  <key id="p" for="edge" attr.name="probability" attr.type="double"/>
  <key id="name" for="graph" attr.name="name" attr.type="string"/>
  <key id="entry" for="graph" attr.name="entry" attr.type="string"/>
  <key id="exits" for="graph" attr.name="exits" attr.type="string"/>
  <graph edgedefault="directed">
    <data key="name">hand</data><data key="entry">a</data><data key="exits">b, c</data>
    <node id="a"><data key="stage">use</data><data key="channel">store</data>
      <data key="staffed">true</data><data key="staff">3.0</data>
      <data key="sd">0.1</data><data key="q">0.6</data></node>
    <node id="b"><data key="stage">use</data><data key="channel">store</data>
      <data key="sd">0.1</data><data key="q">0.6</data></node>
    <node id="c"><data key="stage">use</data><data key="channel">web</data>
      <data key="sd">0.1</data><data key="q">0.6</data></node>
    <edge id="e0" source="a" target="b"><data key="p">0.5</data></edge>
    <edge id="e1" source="a" target="c"><data key="p">0.5</data></edge>
  </graph>
</graphml>
"""
    path = tmp_path / "hand.graphml"
    path.write_text(text, encoding="utf-8")
    journey = load_path(path)
    assert journey.staff.tolist() == [3, 0, 0]
    assert journey.hygiene.all()
    assert journey.exits == (1, 2)
    assert journey.cumulative_probability[0] == [0.5, 1.0]


def test_graphml_duplicate_edge_is_reported(tmp_path: Path) -> None:
    journey = journey_from_mapping(tiny(), "tiny.yaml")
    path = tmp_path / "broken.graphml"
    journey_to_graphml(journey, path)
    text = path.read_text(encoding="utf-8")
    start = text.index("<edge ")
    end = text.index("</edge>", start) + len("</edge>")
    path.write_text(text[:end] + text[start:end] + text[end:], encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.graphml duplicates an earlier edge"):
        load_path(path)
