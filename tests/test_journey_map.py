"""The journey map: what it draws from a run, where it draws it, and what its words say."""

from __future__ import annotations

import base64
import math
import re
import xml.etree.ElementTree as ElementTree
from functools import cache

import matplotlib
import numpy as np
import pandas as pd
import pytest

import cxsim
from cxsim.config import config_dir
from cxsim.journey import available_journeys, journey_from_mapping, load_journey
from cxsim.report import journey_map as jm
from cxsim.results import Results
from tests.conftest import write_journey

SHIPPED = available_journeys(config_dir() / "journey")
TINY = ["scenario=solo", "market.size=400", "sim.years=0.5"]


@cache
def tiny(journey: str, replications: int = 2) -> Results:
    """A few replications of one firm on *journey*, combined as ``cxsim`` combines them."""
    cfg = cxsim.compose([*TINY, f"firms.acme.journey={journey}"])
    runs = [cxsim.run(cfg, replication=i) for i in range(replications)]
    tables = {name: pd.concat([getattr(r, name) for r in runs], ignore_index=True)
              for name in ("timeseries", "segments", "clients", "touchpoints", "summary")}
    return Results(**tables, meta=runs[0].meta, config=runs[0].config)


def svg(chart) -> ElementTree.Element:
    """The chart's picture as parsed XML (it must be well formed)."""
    return ElementTree.fromstring(base64.b64decode(chart.data_uri.split(",", 1)[1]))


def groups(root: ElementTree.Element, kind: str) -> dict[str, ElementTree.Element]:
    """The drawn artists of one *kind* (``touchpoint``, ``edge`` ...) by what they draw."""
    return {g.get("id")[len(kind) + 1:]: g for g in root.iter("{http://www.w3.org/2000/svg}g")
            if (g.get("id") or "").startswith(kind + " ")}


def fill(group: ElementTree.Element) -> str:
    path = next(group.iter("{http://www.w3.org/2000/svg}path"))
    return re.search(r"fill:\s*(#[0-9a-f]{6})", path.get("style")).group(1)


def centre(group: ElementTree.Element) -> tuple[float, float]:
    """The centre of a drawn circle, from its path's points."""
    path = next(group.iter("{http://www.w3.org/2000/svg}path"))
    xy = np.array([float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]).reshape(-1, 2)
    return tuple(np.round((xy.min(axis=0) + xy.max(axis=0)) / 2, 3))


def texts(group: ElementTree.Element) -> str:
    return " ".join(t for t in group.itertext() if t.strip())


def expected(rows: pd.DataFrame) -> pd.DataFrame:
    """Per touchpoint, the mean over replications of each replication's value, worked out
    here from the raw rows."""
    out = {}
    for name, runs in rows.groupby("touchpoint", sort=False):
        seen = runs[runs.visits > 0]
        out[name] = {"mean_affect": seen.mean_affect.mean(), "mean_wait": seen.mean_wait.mean(),
                     "share_waited": seen.share_waited.mean(),
                     "failure_rate": (seen.failures / seen.visits).mean()}
    return pd.DataFrame(out).T


# ------------------------------------------------------------------- what it draws
@pytest.mark.parametrize("journey", SHIPPED)
def test_each_shipped_journey_is_drawn_with_its_touchpoints_edges_and_marks(journey):
    results = tiny(journey)
    (chart,) = jm.firm_maps(results.touchpoints, results.config)
    graph = load_journey(journey, config_dir() / "journey")
    root = svg(chart)
    assert set(groups(root, "touchpoint")) == set(graph.touchpoints)
    edges = groups(root, "edge")
    assert set(edges) == {f"{u} -> {v}" for u, v in graph.graph.edges}
    labels = groups(root, "probability")
    for u, v, d in graph.graph.edges(data=True):
        assert texts(labels[f"{u} -> {v}"]) == f"{100 * d['probability']:.0f}%"
    means = expected(results.touchpoints)
    queued = {t for t, row in means.iterrows() if row.share_waited > 0}
    failed = {t for t, row in means.iterrows() if row.failure_rate > 0}
    assert queued and failed  # the tiny runs queue and fail somewhere: the marks are tested
    waits, failures = groups(root, "wait"), groups(root, "failure")
    assert set(waits) == queued and set(failures) == failed
    for name in queued:
        assert texts(waits[name]) == f"wait {jm.wait_words(means.loc[name].mean_wait)}"
    for name in failed:
        rate = 100 * means.loc[name].failure_rate
        shown = float(texts(failures[name]).removesuffix("% failed"))
        assert shown == pytest.approx(rate, abs=0.051 if rate < 9.95 else 0.51), name


@pytest.mark.parametrize("journey", SHIPPED)
def test_node_colours_follow_mean_affect_on_the_diverging_scale(journey):
    results = tiny(journey)
    (chart,) = jm.firm_maps(results.touchpoints, results.config)
    fills = {name: fill(g) for name, g in groups(svg(chart), "touchpoint").items()}
    means = expected(results.touchpoints).mean_affect
    # read each fill back on RdBu's own lookup table: the colour is the affect on -1..1
    table = matplotlib.colormaps["RdBu"](np.linspace(0, 1, 256))[:, :3]
    for name, colour in fills.items():
        k = np.argmin(((table - matplotlib.colors.to_rgb(colour)) ** 2).sum(axis=1))
        assert -1 + 2 * k / 255 == pytest.approx(means[name], abs=0.01), name
    worst = means.idxmin()
    assert fills[worst] == jm.affect_colour(means.min())
    assert worst in chart.alt and f"felt worst at {worst} " in chart.alt
    # the worst is the reddest: red up and blue down as affect falls
    red_minus_blue = {n: np.subtract(*matplotlib.colors.to_rgb(c)[::2]) for n, c in fills.items()}
    assert max(red_minus_blue, key=red_minus_blue.get) == worst


def test_the_alt_text_names_the_longest_wait_in_words_and_the_most_failures():
    results = tiny("professional_services")
    (chart,) = jm.firm_maps(results.touchpoints, results.config)
    means = expected(results.touchpoints)
    queued = means[means.share_waited > 0]
    longest = queued.mean_wait.astype(float).idxmax()
    assert (f"The longest wait is at {longest}: {jm.wait_words(queued.loc[longest].mean_wait)}"
            in chart.alt)
    most = means.failure_rate.astype(float).idxmax()
    assert f"Visits failed most often at {most} " in chart.alt
    stages = ", ".join(dict.fromkeys(["awareness", "purchase", "consideration", "use", "support",
                                      "billing", "renewal"]))
    assert f"left to right by stage ({stages})" in chart.alt


@pytest.mark.parametrize("days, words", [
    (0.0, "under a minute"), (0.5 / 1440, "under a minute"), (1 / 1440, "1 minute"),
    (12 / 1440, "12 minutes"), (1 / 24, "1 hour"), (2.5 / 24, "2.5 hours"),
    (14.2 / 24, "14 hours"), (1.0, "1 day"), (3.25, "3.2 days"), (40.0, "40 days"),
    (math.nan, "unknown")])
def test_waits_are_said_in_minutes_hours_or_days(days, words):
    assert jm.wait_words(days) == words


# -------------------------------------------------------------------- the layout
@pytest.mark.parametrize("journey", SHIPPED)
def test_the_layout_reads_left_to_right_by_stage_and_is_the_same_every_time(journey):
    graph = load_journey(journey, config_dir() / "journey")
    layout = jm.journey_layout(graph.touchpoints, graph.stages, graph)
    again = jm.journey_layout(graph.touchpoints, graph.stages,
                              journey_from_mapping(_mapping(graph), "again"))
    assert layout == again
    spans = [(left, right) for _, left, right in layout.stages]
    assert all(r1 <= l2 for (_, r1), (l2, _) in zip(spans, spans[1:]))  # disjoint, in order
    for name, stage in zip(graph.touchpoints, graph.stages):
        _, left, right = next(s for s in layout.stages if s[0] == stage)
        assert left < layout.positions[name][0] < right
    xs = {name: xy[0] for name, xy in layout.positions.items()}
    entry = graph.touchpoints[graph.entry]
    assert xs[entry] == min(xs.values())
    assert all(xs[graph.touchpoints[e]] == max(xs.values()) for e in graph.exits)
    assert len(set(layout.positions.values())) == len(layout.positions)  # no two overlap


def test_the_same_inputs_draw_the_same_places_and_other_numbers_move_nothing():
    results = tiny("subscription", 3)
    rows = results.touchpoints
    journey = jm.journey_of(results.config, "acme")

    def centres(frame):
        """Each circle's centre from the entry's (the margins follow the text drawn)."""
        drawn = {n: np.array(centre(g)) for n, g in
                 groups(svg(jm.journey_map(frame, journey, "acme")), "touchpoint").items()}
        return {n: tuple(np.round(xy - drawn["signup"], 2)) for n, xy in drawn.items()}

    assert centres(rows) == centres(rows)
    one = centres(rows[rows.replication == 0])
    other = centres(rows[rows.replication == 2])
    assert one == other


def test_stages_tied_on_steps_follow_the_usual_order_and_unknown_ones_their_appearance(
        tmp_path):
    path = write_journey(tmp_path, "ties", """\
        name: ties
        entry: start
        exits: [end]
        touchpoints:
          start: {stage: discover, channel: web, service_days: 0.01, base_quality: 0.7}
          bill: {stage: billing, channel: web, service_days: 0.01, base_quality: 0.7}
          help: {stage: support, channel: web, service_days: 0.01, base_quality: 0.7}
          end: {stage: farewell, channel: web, service_days: 0.01, base_quality: 0.7}
        edges:
          - {from: start, to: bill, probability: 0.5}
          - {from: start, to: help, probability: 0.5}
          - {from: bill, to: end, probability: 1.0}
          - {from: help, to: end, probability: 1.0}
        """)
    journey = load_journey(str(path), tmp_path)
    layout = jm.journey_layout(journey.touchpoints, journey.stages, journey)
    assert [s for s, _, _ in layout.stages] == ["discover", "support", "billing", "farewell"]
    unknown = jm.journey_layout(journey.touchpoints, journey.stages, None)
    assert [s for s, _, _ in unknown.stages] == ["support", "billing", "discover", "farewell"]


def _mapping(journey) -> dict:
    """A journey's file content, to load it a second time."""
    graph = journey.graph
    return {"name": journey.name, "entry": journey.touchpoints[journey.entry],
            "exits": [journey.touchpoints[i] for i in journey.exits],
            "reference_clients": journey.reference_clients,
            "touchpoints": {n: dict(graph.nodes[n]) for n in journey.touchpoints},
            "edges": [{"from": u, "to": v, **d} for u, v, d in graph.edges(data=True)]}


# ------------------------------------------------------------------- the reports
def test_a_journey_file_gone_since_the_run_draws_the_touchpoints_without_edges():
    results = tiny("one_off_retail")
    config = {**results.config, "firms": {"acme": {**results.config["firms"]["acme"],
                                                   "journey": "gone/missing.yaml"}}}
    (chart,) = jm.firm_maps(results.touchpoints, config)
    root = svg(chart)
    assert set(groups(root, "touchpoint")) == {"store_visit", "advice", "checkout",
                                               "product_use"}
    assert groups(root, "edge") == {}
    assert "could not be read again" in chart.caption
