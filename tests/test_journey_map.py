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
from cxsim.config import as_plain, config_dir, to_config
from cxsim.errors import ConfigError
from cxsim.model.journey import available_journeys, journey_from_mapping, load_journey
from cxsim.report import journey_map as jm
from cxsim.report.comparison import Compared, comparison_page, load_comparison, save_comparison
from cxsim.report.page import render
from cxsim.report.run import page_of
from cxsim.simulation.results import Results, mean_ci
from tests.conftest import write_journey
from tests.reports import duel as finished_duel

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
    (math.nan, "no data")])
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
def test_the_run_report_draws_one_map_per_firm_instead_of_the_emotion_curve():
    duel = finished_duel()
    page = page_of(duel)
    maps = [c for c in page.charts if c.alt.startswith("Journey map of ")]
    assert [m.alt.split("'s journey")[0] for m in maps] == [  # firms by their names
        "Journey map of the sales-focused firm", "Journey map of the relationship-focused firm"]
    assert not any("emotion curve" in c.alt.lower() for c in page.charts)


def test_markup_in_a_journeys_names_is_text_in_the_page_and_in_the_picture(tmp_path):
    # touchpoint names cannot hold markup (NAME_PATTERN); the journey's and stages' names can
    with pytest.raises(ConfigError, match="touchpoint names"):
        journey_from_mapping({"name": "x", "entry": "a<b", "exits": ["a<b"], "touchpoints": {
            "a<b": {"stage": "use", "channel": "web", "service_days": 0.1,
                    "base_quality": 0.5}}}, "inline")
    hostile_stage, hostile_name = "<b>use</b> & $5 $x$", "<img src=x onerror=alert(1)>"
    path = write_journey(tmp_path, "hostile", f"""\
        name: "{hostile_name}"
        entry: desk
        exits: [home]
        touchpoints:
          desk: {{stage: "<script>alert(1)</script>", channel: store, staffed: true, staff: 1,
                  service_days: 0.05, base_quality: 0.6}}
          home: {{stage: "{hostile_stage}", channel: home, service_days: 0.01,
                  base_quality: 0.7}}
        edges:
          - {{from: desk, to: home, probability: 0.9}}
        """)
    cfg = cxsim.compose([*TINY, f"firms.acme.journey={path}"])
    results = cxsim.run(cfg)
    html = render(page_of(results))
    for raw in (hostile_name, hostile_stage, "<script>alert(1)</script>"):
        assert raw not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "&lt;b&gt;use&lt;/b&gt; &amp; $5 $x$" in html
    assert "<script" not in html.lower()
    (chart,) = jm.firm_maps(results.touchpoints, results.config)
    root = svg(chart)  # well-formed: the names are escaped inside the picture too
    stages = groups(root, "stage")
    assert texts(stages[hostile_stage]) == hostile_stage  # a $ is a dollar, not mathematics
    assert hostile_name in texts(root)


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


@cache
def compared(b_overrides: tuple[str, ...]) -> Compared:
    common = [*TINY, "firms.acme.journey=subscription"]
    a, b = cxsim.compose(common), cxsim.compose([*common, *b_overrides])
    meta = {"common": common, "a": [], "b": list(b_overrides), "seed": 0, "replications": 4,
            "config_a": as_plain(to_config(a)), "config_b": as_plain(to_config(b))}
    return Compared(cxsim.compare(a, b, 4, progress=False), meta)


def test_the_comparison_map_is_coloured_by_the_paired_change_and_dashes_what_chance_explains():
    both = compared(("firms.acme.funding=generous", "firms.acme.execution=1.0"))
    page = comparison_page(both)
    (chart,) = [c for c in page.charts if c.alt.startswith("Journey map of ")]
    a, b = both.comparison.a.touchpoints, both.comparison.b.touchpoints
    change, sure = {}, {}
    for name in dict.fromkeys(b.touchpoint):
        pair = pd.concat([rows[rows.touchpoint == name].set_index("replication").mean_affect
                          for rows in (a, b)], axis=1).dropna()
        mean, low, high = mean_ci((pair.iloc[:, 1] - pair.iloc[:, 0]).to_numpy())
        change[name], sure[name] = mean, low > 0 or high < 0
    end = max(abs(v) for v in change.values())
    root = svg(chart)
    nodes = groups(root, "touchpoint")
    # the scale's end is a round number just above the largest change, drawn on RdBu
    table = matplotlib.colormaps["RdBu"](np.linspace(0, 1, 256))[:, :3]
    scales = [0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0]
    limit = next(s for s in scales if end <= s)
    for name, group in nodes.items():
        k = np.argmin(((table - matplotlib.colors.to_rgb(fill(group))) ** 2).sum(axis=1))
        assert limit * (-1 + 2 * k / 255) == pytest.approx(change[name], abs=limit / 100), name
        dashed = "stroke-dasharray" in next(group.iter("{http://www.w3.org/2000/svg}path")).get(
            "style")
        assert dashed == (not sure[name]), name
    assert any(sure.values())  # the levers move some touchpoint beyond chance: both kinds drawn
    assert f"{sum(sure.values())} of {len(nodes)} touchpoints" in chart.alt


def test_a_changed_journey_gets_a_map_per_scenario():
    both = compared(("firms.acme.journey=one_off_retail",))
    maps = [c for c in comparison_page(both).charts if c.alt.startswith("Journey map of ")]
    assert [m.alt.split(":", 2)[:2] for m in maps] == [
        ["Journey map of scenario A", " the balanced firm's journey (subscription)"],
        ["Journey map of scenario B", " the balanced firm's journey (one_off_retail)"]]


def test_a_saved_comparison_keeps_its_touchpoints_and_an_older_one_still_reports(tmp_path):
    both = compared(("firms.acme.funding=generous", "firms.acme.execution=1.0"))
    save_comparison(both, tmp_path, report=False)
    again = load_comparison(tmp_path)
    for label in ("a", "b"):
        pd.testing.assert_frame_equal(getattr(again.comparison, label).touchpoints,
                                      getattr(both.comparison, label).touchpoints)
        (tmp_path / f"{label}_touchpoints.parquet").unlink()
    older = load_comparison(tmp_path)
    assert older.comparison.a.touchpoints is None
    page = comparison_page(older)
    assert not any(c.alt.startswith("Journey map of ") for c in page.charts)
