"""The journey drawn as a map: where clients went, how they felt, where they queued and failed.

A touchpoint is a circle in its stage's column, coloured by the mean affect
clients felt there (a diverging scale, −1 awful to +1 delighted, with its
legend) and sized by its visits; a badge says the mean wait where clients
queued, another the share of visits that failed. Arrows are the journey's
edges with their routing probability. The layout is computed, never drawn
at random: stages read left to right in the order clients reach them (the
fewest steps from the entry; a tie in the usual order of
:data:`STAGE_ORDER`), and a stage whose touchpoints are reached at
different steps gets a sub-column per step. The same journey is drawn in
the same places whatever the numbers, so two maps of it compare at a glance.

Numbers are the means over replications of each replication's value (as the
report's key figures are), from a run's touchpoints table
(:attr:`cxsim.simulation.results.Results.touchpoints`); the edges come from the firm's
journey as the run's config names it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Colormap, Normalize, to_hex  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402
from matplotlib.path import Path as DrawnPath  # noqa: E402

from cxsim.config import config_dir, firm_labels  # noqa: E402
from cxsim.errors import ConfigError  # noqa: E402
from cxsim.model.journey import Journey, load_journey  # noqa: E402
from cxsim.report.answer import NO_DATA, number  # noqa: E402
from cxsim.report.page import Chart, chart_from_figure  # noqa: E402
from cxsim.simulation.results import mean_ci  # noqa: E402

__all__ = ["STAGE_ORDER", "AFFECT_COLOURS", "AFFECT_SCALE", "Layout", "journey_of",
           "touchpoint_means", "journey_layout", "affect_colour", "wait_words", "journey_map",
           "change_map", "firm_maps", "comparison_maps"]

STAGE_ORDER = ("awareness", "consideration", "purchase", "onboarding", "use", "support",
               "billing", "renewal")
"""The usual order of a journey's stages (``cxsim.model.journey``): it breaks ties in the layout."""
AFFECT_COLOURS: Colormap = matplotlib.colormaps["RdBu"]
"""Diverging and colour-blind safe (ColorBrewer): red where clients felt bad, blue where good."""
AFFECT_SCALE = Normalize(-1.0, 1.0)
"""Mean affect is −1 (awful) to +1 (delighted): every map uses the whole scale, so two maps
compare by colour."""

_RADIUS = (0.13, 0.3)  # a circle's radius in layout units: fewest and most visits
_ROW = 1.25  # layout units between touchpoints stacked in one column
_INCHES = 1.3  # inches per layout unit, unless the journey is too wide for the page
_WIDEST = 11.5  # inches
_WAIT = dict(boxstyle="round,pad=0.25", facecolor="#fff1c7", edgecolor="#a6761d", lw=0.8)
_FAIL = dict(boxstyle="round,pad=0.25", facecolor="#f2f2f2", edgecolor="#4d4d4d", lw=0.8)


@dataclass(frozen=True)
class Layout:
    """Where each touchpoint is drawn, and the x-span of each stage's column, left to right."""

    positions: dict[str, tuple[float, float]]
    stages: list[tuple[str, float, float]]


# ----------------------------------------------------------------------------- data
def journey_of(config: Mapping, firm: str) -> Journey | None:
    """The journey firm *firm* walked, as the run's config names it; None if it cannot be
    read now (a file moved since the run): the map then draws the touchpoints without edges."""
    spec = (config.get("firms") or {}).get(firm, {}).get("journey")
    try:
        return load_journey(spec, config_dir() / "journey")
    except ConfigError:
        return None


def touchpoint_means(rows: pd.DataFrame) -> pd.DataFrame:
    """One firm's touchpoint rows (any number of replications) as one row per touchpoint,
    in journey order: its stage, and the mean over replications of its visits, mean affect,
    mean wait (days), share of visits that queued and share that failed.

    A replication in which nobody visited a touchpoint has no affect or wait there and is
    left out of those means.
    """
    rows = rows.assign(failure_rate=rows.failures / rows.visits.where(rows.visits > 0),
                       replication=rows["replication"] if "replication" in rows else 0)
    measured = rows.visits > 0
    for column in ("mean_affect", "mean_wait", "share_waited"):
        rows[column] = rows[column].where(measured)
    grouped = rows.groupby("touchpoint", sort=False)
    means = grouped[["visits", "mean_affect", "mean_wait", "share_waited",
                     "failure_rate"]].mean()
    means.insert(0, "stage", grouped.stage.first())
    means["replications"] = grouped.replication.nunique()
    return means.reset_index()


def wait_words(days: float) -> str:
    """A wait as a person says it: ``under a minute``, ``12 minutes``, ``2.5 hours``, ``3 days``."""
    if not math.isfinite(days):
        return NO_DATA
    minutes = days * 24 * 60
    if minutes < 1:
        return "under a minute"
    if minutes < 59.5:
        return f"{round(minutes)} minute{'s' if round(minutes) != 1 else ''}"
    hours = minutes / 60
    if hours < 23.95:
        return f"{_short(hours)} hour{'s' if _short(hours) != '1' else ''}"
    return f"{_short(days)} day{'s' if _short(days) != '1' else ''}"


def _short(value: float) -> str:
    """One decimal below 10, none above: 2.5, 14."""
    return f"{value:.1f}".removesuffix(".0") if value < 9.95 else f"{value:.0f}"


def _rate(share: float) -> str:
    """A share in per cent: 0.7%, 3%, 12%; a share above 0 never reads 0%."""
    if not math.isfinite(share):
        return NO_DATA
    if 0 < share < 0.0005:
        return "under 0.1%"
    return f"{100 * share:.1f}%".replace(".0%", "%") if share < 0.0995 else f"{100 * share:.0f}%"


def _signed(value: float, digits: int = 2) -> str:
    text = number(value, "", digits)
    if not math.isfinite(value) or text.startswith("-") or text == number(0.0, "", digits):
        return text
    return "+" + text


def _from_to(before: float, after: float) -> tuple[str, str]:
    """Two values as signed text, with a third digit where two would make them look equal."""
    digits = 3 if _signed(before) == _signed(after) and before != after else 2
    return _signed(before, digits), _signed(after, digits)


def affect_colour(affect: float, scale: Normalize = AFFECT_SCALE) -> str:
    """The fill of a touchpoint felt *affect* (light grey where nobody came)."""
    if not math.isfinite(affect):
        return "#d9d9d9"
    return to_hex(AFFECT_COLOURS(scale(affect)))


# --------------------------------------------------------------------------- layout
def journey_layout(touchpoints: Sequence[str], stages: Sequence[str],
                   journey: Journey | None) -> Layout:
    """Positions that read left to right by stage, from the journey's structure alone.

    Columns: a stage's column comes at the fewest steps from the entry of its
    touchpoints (the order clients reach it), ties broken by :data:`STAGE_ORDER` and then
    by the order the stages first appear; within a stage, a sub-column per distinct number
    of steps. Rows: the journey's most likely walk from the entry to an exit runs straight
    along the middle; the other touchpoints sit above and below it in turn, in the
    journey's order. Without a journey (or for a touchpoint it does not hold) steps are
    unknown: stages then follow :data:`STAGE_ORDER`, and stages it does not name come
    last, in the order they first appear.
    """
    steps: dict[str, float] = {}
    spine: list[str] = []
    if journey is not None:
        entry = journey.touchpoints[journey.entry]
        steps = {name: float(d) for name, d in
                 nx.single_source_shortest_path_length(journey.graph, entry).items()}
        spine = _likeliest_walk(journey)
    step = [steps.get(t, math.inf) for t in touchpoints]
    usual = {s: k for k, s in enumerate(STAGE_ORDER)}
    appearance = list(dict.fromkeys(stages))
    first = {s: min(step[k] for k, x in enumerate(stages) if x == s) for s in appearance}
    order = sorted(appearance, key=lambda s: (first[s], usual.get(s.casefold(), len(usual)),
                                              appearance.index(s)))
    column: dict[str, float] = {}
    spans = []
    x = 0.0
    for stage in order:
        members = [k for k, s in enumerate(stages) if s == stage]
        left = x
        for at in sorted({step[k] for k in members}):
            for k in members:
                if step[k] == at:
                    column[touchpoints[k]] = x
            x += 1.0
        spans.append((stage, left - 0.5, x - 0.5))
    rows: dict[str, int] = {}
    taken: dict[float, set[int]] = {}
    for name in spine:
        if name in column and 0 not in taken.setdefault(column[name], set()):
            rows[name] = 0
            taken[column[name]].add(0)
    side = 1
    for name in touchpoints:
        if name in rows:
            continue
        used = taken.setdefault(column[name], set())
        if not spine and not used:  # no journey to follow: the middle row first
            rows[name] = 0
            used.add(0)
            continue
        level = 1
        while True:
            if side * level not in used:
                row = side * level
                break
            if -side * level not in used:
                row = -side * level
                break
            level += 1
        rows[name] = row
        used.add(row)
        side = -1 if row > 0 else 1
    positions = {name: (column[name], rows[name] * _ROW) for name in touchpoints}
    return Layout(positions, spans)


def _likeliest_walk(journey: Journey) -> list[str]:
    """The walk from the entry to an exit that clients are most likely to take (the
    largest product of routing probabilities)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(journey.graph.nodes)
    for u, v, d in journey.graph.edges(data=True):
        graph.add_edge(u, v, cost=-math.log(d["probability"]))
    entry = journey.touchpoints[journey.entry]
    cost, paths = nx.single_source_dijkstra(graph, entry, weight="cost")
    exits = [journey.touchpoints[i] for i in journey.exits if journey.touchpoints[i] in cost]
    if not exits:
        return [entry]
    return paths[min(exits, key=lambda e: cost[e])]


# -------------------------------------------------------------------------- drawing
@dataclass(frozen=True)
class _Node:
    name: str
    fill: str
    inside: str  # the number written in the circle
    lines: tuple[str, ...]  # grey text under the name
    wait: str  # the wait badge, "" for none
    failure: str  # the failure badge, "" for none
    dashed: bool = False


def _radii(visits: np.ndarray) -> np.ndarray:
    """Area grows with visits: the most visited touchpoint gets the largest circle."""
    visits = np.nan_to_num(np.asarray(visits, dtype=float))
    most = visits.max() if visits.size and visits.max() > 0 else 1.0
    low, high = _RADIUS
    return low + (high - low) * np.sqrt(visits / most)


def _mathless(text: str) -> str:
    """Text as matplotlib should print it: a ``$`` is a dollar, never mathematics."""
    return str(text).replace("$", r"\$")


def _bezier(p0: np.ndarray, control: np.ndarray, p2: np.ndarray, n: int = 60) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * control + t ** 2 * p2


def _loop(centre: np.ndarray, r: float, n: int = 60) -> np.ndarray:
    """A self-loop: a curl above the circle, from its upper left to its upper right."""
    start = centre + r * np.array([math.cos(2.2), math.sin(2.2)])
    end = centre + r * np.array([math.cos(0.94), math.sin(0.94)])
    c1, c2 = start + np.array([-0.3, 0.6]), end + np.array([0.3, 0.6])
    t = np.linspace(0.0, 1.0, n)[:, None]
    return ((1 - t) ** 3 * start + 3 * (1 - t) ** 2 * t * c1 + 3 * (1 - t) * t ** 2 * c2
            + t ** 3 * end)


def _text_side(y: float) -> int:
    """Text goes on the side away from the middle row: under a circle, or over one above it
    (so the edges that join it to the middle row do not cross its text)."""
    return 1 if y > 0 else -1


def _block(node: _Node) -> list[tuple[str, str, float]]:
    """The lines of text by a circle, in reading order: (text, kind, height in points)."""
    lines = [(node.name, "name", 11.0), *((line, "line", 10.0) for line in node.lines)]
    lines += [(text, kind, 13.0 + 9.0 * text.count("\n"))
              for text, kind in ((node.wait, "wait"), (node.failure, "failure")) if text]
    return lines


def _clear(curve: np.ndarray, obstacles: np.ndarray) -> bool:
    """Whether *curve* passes clear of every circle in *obstacles* and the text beside it
    (a row each: centre x and y, radius, the side its text is on, the text's depth)."""
    if not len(obstacles):
        return True
    x, y, r, side, depth = (obstacles[:, k, None] for k in range(5))
    dx, dy = curve[None, :, 0] - x, curve[None, :, 1] - y
    offset = side * dy
    return not (np.any(np.hypot(dx, dy) < r + 0.1)
                or np.any((np.abs(dx) < 0.42) & (offset > r) & (offset < r + depth)))


def _curves(layout: Layout, radius: dict[str, float], depth: dict[str, float],
            edges: list[tuple[str, str, float]]) -> list[tuple[str, str, float, np.ndarray]]:
    """Each edge's curve: straight where nothing is in its way, else an arc over the top,
    as low as clears the other circles and their text. An edge and its return edge bow
    apart, each to its left, so both stay visible."""
    out = []
    pairs = {(u, v) for u, v, _ in edges}
    for u, v, p in edges:
        a, b = np.array(layout.positions[u]), np.array(layout.positions[v])
        if u == v:
            out.append((u, v, p, _loop(a, radius[u])))
            continue
        chord = b - a
        length = float(np.hypot(*chord))
        normal = np.array([-chord[1], chord[0]]) / length  # to the left of travel
        paired = (v, u) in pairs
        if not paired and (normal[1] < 0 or (normal[1] == 0 and normal[0] > 0)):
            normal = -normal  # a lone edge bends up (left, if it runs straight up or down)
        others = np.array([(*xy, radius[w], _text_side(xy[1]), depth[w])
                           for w, xy in layout.positions.items() if w not in (u, v)]
                          ).reshape(-1, 5)
        bends = (0.1, 0.18, 0.28, 0.4, 0.55, 0.7) if paired else (0.0, 0.18, 0.28, 0.4, 0.55,
                                                                     0.7)
        for bend in bends:
            curve = _bezier(a, (a + b) / 2 + 2 * bend * max(1.0, length) * normal, b)
            if _clear(curve, others):
                break
        out.append((u, v, p, curve))
    return out


def _trim(curve: np.ndarray, a: np.ndarray, ra: float, b: np.ndarray, rb: float
          ) -> np.ndarray:
    """The part of *curve* outside both circles (with a small gap before the arrowhead)."""
    outside_a = np.hypot(*(curve - a).T) > ra + 0.02
    outside_b = np.hypot(*(curve - b).T) > rb + 0.04
    start = int(np.argmax(outside_a))
    end = len(curve) - int(np.argmax(outside_b[::-1]))
    kept = curve[start:end]
    return kept if len(kept) >= 2 else curve[[0, -1]]


def _draw(ax, layout: Layout, nodes: list[_Node], radius: dict[str, float],
          edges: list[tuple[str, str, float]], inches: float) -> tuple[float, float]:
    """Bands, edges, circles and their text on *ax* (*inches* per layout unit); returns the
    lowest and highest y used."""
    points = 72.0 * inches  # points per layout unit
    depth = {node.name: (sum(h for _, _, h in _block(node)) + 6.0) / points for node in nodes}
    bottom, top = -0.5, 0.5
    for node in nodes:
        x, y = layout.positions[node.name]
        reach = radius[node.name] + depth[node.name]
        top, bottom = max(top, y + reach if y > 0 else y + 0.5), min(bottom, y - reach)
    for u, v, p, curve in _curves(layout, radius, depth, edges):
        a, b = np.array(layout.positions[u]), np.array(layout.positions[v])
        kept = _trim(curve, a, radius[u], b, radius[v])
        arrow = FancyArrowPatch(path=DrawnPath(kept), arrowstyle="-|>", mutation_scale=9,
                                lw=0.6 + 2.0 * p, color="#6b6b6b", zorder=2,
                                shrinkA=0, shrinkB=0)
        arrow.set_gid(f"edge {u} -> {v}")
        ax.add_patch(arrow)
        apex = curve[len(curve) // 2]
        ax.text(apex[0], apex[1], f"{100 * p:.0f}%", fontsize=7, ha="center", va="center",
                color="#333333", zorder=4, gid=f"probability {u} -> {v}",
                bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none"))
        top = max(top, float(curve[:, 1].max()) + 0.2)
    for node in nodes:
        x, y = layout.positions[node.name]
        r = radius[node.name]
        circle = Circle((x, y), r, facecolor=node.fill, edgecolor="#333333", lw=1.0,
                        ls="--" if node.dashed else "-", zorder=3)
        circle.set_gid(f"touchpoint {node.name}")
        ax.add_patch(circle)
        light = np.dot(matplotlib.colors.to_rgb(node.fill), (0.299, 0.587, 0.114)) > 0.5
        ax.text(x, y, node.inside, fontsize=7, ha="center", va="center", zorder=5,
                color="#111111" if light else "white")
        side = _text_side(y)
        block = _block(node)
        # offsets in points from the circle's edge to the top of each line
        at = 3.0 + sum(h for _, _, h in block) if side > 0 else -3.0
        for text, kind, height in block:
            style = {"name": dict(fontsize=8, fontweight="bold"),
                     "line": dict(fontsize=7, color="#555555"),
                     "wait": dict(fontsize=7, bbox=_WAIT, gid=f"wait {node.name}"),
                     "failure": dict(fontsize=7, bbox=_FAIL, gid=f"failure {node.name}")}[kind]
            pad = 2.0 if kind in ("wait", "failure") else 0.0
            ax.annotate(_mathless(text), (x, y + side * r), xytext=(0, at - pad),
                        textcoords="offset points", ha="center", va="top", zorder=5, **style)
            at -= height
    for k, (_, left, right) in enumerate(layout.stages):
        if k % 2 == 0:
            ax.axvspan(left, right, color="#f4f4f4", zorder=0, lw=0)
    return bottom, top


def _figure(layout: Layout, nodes: list[_Node], radius: dict[str, float],
            edges: list[tuple[str, str, float]], title: str, scale: Normalize, legend: str,
            ticks: list[tuple[float, str]]):
    """The whole figure: the map on equal axes sized to it, its title and colour legend."""
    xs = [x for x, _ in layout.positions.values()] or [0.0]
    left, right = min(xs) - 0.6, max(xs) + 0.6
    inches = min(_INCHES, _WIDEST / (right - left))
    fig = plt.figure()
    ax = fig.add_axes((0, 0, 1, 1))
    bottom, top = _draw(ax, layout, nodes, radius, edges, inches)
    top += 0.35  # the stage names
    width = max(6.5, (right - left) * inches)
    spare = width / inches - (right - left)
    left, right = left - spare / 2, right + spare / 2
    height = (top - bottom) * inches
    title_in, legend_in = 0.45, 0.75
    fig.set_size_inches(width, height + title_in + legend_in)
    total = height + title_in + legend_in
    ax.set_position((0, legend_in / total, 1, height / total))
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_aspect("equal")
    ax.axis("off")
    for stage, start, end in layout.stages:
        ax.text((start + end) / 2, top - 0.08, _mathless(stage), ha="center", va="top",
                fontsize=8.5, color="#4d4d4d", fontweight="bold", zorder=5,
                wrap=True, gid=f"stage {stage}")
    fig.suptitle(_mathless(title), y=1 - 0.12 / total, va="top", fontsize=11)
    cax = fig.add_axes((0.3, 0.38 / total, 0.4, 0.12 / total))
    bar = fig.colorbar(ScalarMappable(scale, AFFECT_COLOURS), cax=cax, orientation="horizontal")
    bar.set_ticks([t for t, _ in ticks], labels=[label for _, label in ticks])
    bar.ax.tick_params(labelsize=7)
    bar.set_label(legend, fontsize=8)
    return fig


def _edges(journey: Journey | None, names: Sequence[str]) -> list[tuple[str, str, float]]:
    """The journey's edges between the touchpoints drawn, in the file's order."""
    if journey is None:
        return []
    present = set(names)
    return [(u, v, float(d["probability"])) for u, v, d in journey.graph.edges(data=True)
            if u in present and v in present]


def _caption(journey: Journey | None, n: int, visits: str = "its visits") -> str:
    text = ("Touchpoints in their stage's column, left to right as clients reach them; "
            f"a circle's area is {visits}. Arrows carry the routing probability; "
            "what is missing from 100% leaves the journey there. A yellow badge is the mean "
            "wait per visit where clients queued; a grey one the share of visits that failed.")
    if n > 1:
        text += f" Numbers are means over {n} replications."
    if journey is None:
        text += " The journey file could not be read again: its edges are not drawn."
    return text


def _what(journey: Journey | None, name: str) -> str:
    return f"{name}'s journey" + (f" ({journey.name})" if journey is not None else "")


def _stage_words(layout: Layout) -> str:
    return ", ".join(stage for stage, _, _ in layout.stages)


# ----------------------------------------------------------------------- one scenario
def journey_map(rows: pd.DataFrame, journey: Journey | None, name: str) -> Chart:
    """One firm's journey map from its rows of a run's touchpoints table.

    Parameters
    ----------
    rows : pandas.DataFrame
        The firm's rows of :attr:`cxsim.simulation.results.Results.touchpoints`, any replications.
    journey : Journey or None
        The firm's journey (:func:`journey_of`): its edges and entry; None draws no edges.
    name : str
        The firm as the page names it (text, never markup).

    Returns
    -------
    Chart
        The map, its alt text (where clients felt worst and best, the longest wait, the
        most failures) and caption.
    """
    means = touchpoint_means(rows)
    names = list(means.touchpoint)
    layout = journey_layout(names, list(means.stage), journey)
    radius = dict(zip(names, _radii(means.visits)))
    nodes = []
    for t in means.itertuples():
        queued = math.isfinite(t.share_waited) and t.share_waited > 0
        failed = math.isfinite(t.failure_rate) and t.failure_rate > 0
        nodes.append(_Node(
            t.touchpoint, affect_colour(t.mean_affect),
            _signed(t.mean_affect) if math.isfinite(t.mean_affect) else "",
            (f"{number(t.visits)} visits",),
            f"wait {wait_words(t.mean_wait)}" if queued else "",
            f"{_rate(t.failure_rate)} failed" if failed else ""))
    edges = _edges(journey, names)
    ticks = [(-1, "−1 awful"), (-0.5, "−0.5"), (0, "0 neutral"), (0.5, "+0.5"),
             (1, "+1 delighted")]
    fig = _figure(layout, nodes, radius, edges, f"Journey map: {_what(journey, name)}",
                  AFFECT_SCALE, "mean affect per visit", ticks)
    n = int(means.replications.max()) if len(means) else 0
    return chart_from_figure(fig, _alt(means, layout, journey, name), _caption(journey, n))


def _alt(means: pd.DataFrame, layout: Layout, journey: Journey | None, name: str) -> str:
    """What a person should see: how many touchpoints, where it felt worst and best, the
    longest wait and the most failures."""
    text = [f"Journey map of {_what(journey, name)}: {len(means)} touchpoints, left to right "
            f"by stage ({_stage_words(layout)}), coloured by how clients felt there."]
    felt = means.dropna(subset=["mean_affect"])
    if felt.empty:
        text.append("No client visited any of them.")
    else:
        worst = felt.loc[felt.mean_affect.idxmin()]
        best = felt.loc[felt.mean_affect.idxmax()]
        text.append(f"Clients felt worst at {worst.touchpoint} (mean affect "
                    f"{_signed(worst.mean_affect)}) and best at {best.touchpoint} "
                    f"({_signed(best.mean_affect)}).")
    queued = means[means.share_waited > 0]
    if queued.empty:
        text.append("No client queued anywhere.")
    else:
        longest = queued.loc[queued.mean_wait.idxmax()]
        text.append(f"The longest wait is at {longest.touchpoint}: "
                    f"{wait_words(longest.mean_wait)} per visit on average, "
                    f"{_rate(longest.share_waited)} of visits queued.")
    failing = means[means.failure_rate > 0]
    if not failing.empty:
        most = failing.loc[failing.failure_rate.idxmax()]
        text.append(f"Visits failed most often at {most.touchpoint} "
                    f"({_rate(most.failure_rate)}).")
    return " ".join(text)


# ---------------------------------------------------------------------- two scenarios
def _paired_affect(rows_a: pd.DataFrame, rows_b: pd.DataFrame, names: Sequence[str]
                   ) -> pd.DataFrame:
    """Per touchpoint, b − a of the mean affect, paired by replication, with its 95% CI."""
    def wide(rows: pd.DataFrame) -> pd.DataFrame:
        affect = rows.mean_affect.where(rows.visits > 0)
        return rows.assign(affect=affect).pivot_table(
            index="replication", columns="touchpoint", values="affect", dropna=False)

    a, b = wide(rows_a), wide(rows_b)
    out = []
    for name in names:
        if name in a and name in b:
            both = pd.concat([a[name], b[name]], axis=1, join="inner").dropna()
            mean, low, high = mean_ci((both.iloc[:, 1] - both.iloc[:, 0]).to_numpy(float))
        else:
            mean = low = high = math.nan
        out.append((name, mean, low, high))
    return pd.DataFrame(out, columns=["touchpoint", "change", "low", "high"])


def _nice(limit: float) -> float:
    """The colour scale's end: the smallest of 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2 above *limit*."""
    for end in (0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0):
        if limit <= end:
            return end
    return 2.0


def change_map(rows_a: pd.DataFrame, rows_b: pd.DataFrame, journey: Journey | None,
               name: str) -> Chart:
    """One firm's journey in scenarios a and b, coloured by the change in mean affect.

    Both scenarios must walk the same journey (:func:`comparison_maps` draws two maps
    otherwise). The colour is b − a, paired by replication (common random numbers); a
    dashed circle is a change not distinguishable from none (its 95% CI holds 0, or one
    replication gives no interval). The text gives a → b of visits, waits and failures.

    Parameters
    ----------
    rows_a, rows_b : pandas.DataFrame
        The firm's touchpoint rows in scenario a and b.
    journey : Journey or None
        The journey both walked; None draws no edges.
    name : str
        The firm as the page names it.
    """
    a, b = touchpoint_means(rows_a), touchpoint_means(rows_b)
    names = list(b.touchpoint)
    a = a.set_index("touchpoint").reindex(names)
    b = b.set_index("touchpoint")
    change = _paired_affect(rows_a, rows_b, names).set_index("touchpoint")
    finite = change.change[np.isfinite(change.change)]
    end = _nice(float(finite.abs().max()) if len(finite) else 0.0)
    scale = Normalize(-end, end)
    layout = journey_layout(names, list(b.stage), journey)
    radius = dict(zip(names, _radii(b.visits)))
    nodes = []
    for t in names:
        pa, pb, c = a.loc[t], b.loc[t], change.loc[t]
        queued = (pa.share_waited > 0) or (pb.share_waited > 0)
        failed = (pa.failure_rate > 0) or (pb.failure_rate > 0)
        sure = bool(np.isfinite(c.low) and (c.low > 0 or c.high < 0))
        nodes.append(_Node(
            t, affect_colour(c.change, scale),
            _signed(c.change) if math.isfinite(c.change) else "",
            ("felt {} → {}".format(*_from_to(pa.mean_affect, pb.mean_affect)),
             f"{number(pa.visits)} → {number(pb.visits)} visits"),
            f"wait {_wait_or_none(pa)}\n→ {_wait_or_none(pb)}" if queued else "",
            f"{_rate(pa.failure_rate)} → {_rate(pb.failure_rate)} failed" if failed else "",
            dashed=not sure))
    edges = _edges(journey, names)
    ticks = [(-end, f"−{end:g} worse in b"), (0, "0 no change"), (end, f"+{end:g} better in b")]
    fig = _figure(layout, nodes, radius, edges,
                  f"Journey map: {_what(journey, name)}, scenario b against a", scale,
                  "change in mean affect per visit, b − a", ticks)
    n = int(b.replications.max()) if len(b) else 0
    caption = (_caption(journey, n, "its visits in b")
               + " The colour is the change in mean affect from a to b, paired by replication; "
               "a dashed circle is a change not distinguishable from none (its 95% CI holds "
               "0). Badges read a → b.")
    return chart_from_figure(fig, _change_alt(a, b, change, layout, journey, name), caption)


def _wait_or_none(row: pd.Series) -> str:
    return wait_words(row.mean_wait) if row.share_waited > 0 else "none"


def _change_alt(a: pd.DataFrame, b: pd.DataFrame, change: pd.DataFrame, layout: Layout,
                journey: Journey | None, name: str) -> str:
    text = [f"Journey map of {_what(journey, name)}, scenario b against scenario a: "
            f"{len(b)} touchpoints, left to right by stage ({_stage_words(layout)}), coloured "
            "by the change in how clients felt there."]
    known = change.dropna(subset=["change"])
    sure = known[(known.low > 0) | (known.high < 0)]
    sure = sure.loc[sure.change.abs().sort_values(ascending=False, kind="stable").index]

    def moved(where: str) -> str:
        before, after = _from_to(a.loc[where].mean_affect, b.loc[where].mean_affect)
        return f"{where} {_signed(change.loc[where].change)} (from {before} to {after})"

    if known.empty:
        text.append("No touchpoint was visited in both scenarios.")
    elif sure.empty:
        largest = known.change.abs().idxmax()
        text.append("Mean affect changed beyond chance at no touchpoint (95% CI); the largest "
                    f"change is at {moved(largest)}.")
    else:
        shown = "; ".join(moved(where) for where in sure.index[:3])
        more = f"; and {len(sure) - 3} more" if len(sure) > 3 else ""
        text.append(f"Mean affect changed beyond chance (95% CI) at {len(sure)} of {len(b)} "
                    f"touchpoints: {shown}{more}.")
    queued = b[b.share_waited > 0]
    if not queued.empty:
        where = queued.mean_wait.idxmax()
        text.append(f"The longest wait in b is at {where}: {wait_words(b.loc[where].mean_wait)} "
                    f"per visit on average (a: {_wait_or_none(a.loc[where])}).")
    return " ".join(text)


# ------------------------------------------------------------------------ the reports
def firm_maps(touchpoints: pd.DataFrame, config: Mapping) -> list[Chart]:
    """A run's journey maps, one per firm in the table's order (the run report's), each
    firm by its display name."""
    names = firm_labels(config.get("firms", {}))
    return [journey_map(touchpoints[touchpoints.firm == firm], journey_of(config, firm),
                        names.get(firm, firm)) for firm in dict.fromkeys(touchpoints.firm)]


def _order(rows: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(rows.touchpoint))


def comparison_maps(touchpoints_a: pd.DataFrame | None, touchpoints_b: pd.DataFrame | None,
                    config_a: Mapping, config_b: Mapping) -> list[Chart]:
    """A comparison's journey maps: per firm, one map of the change from a to b where both
    walk the same journey, else each scenario's own map; none without the tables (a
    comparison saved before they were kept)."""
    if touchpoints_a is None or touchpoints_b is None:
        return []
    charts = []
    names = {**firm_labels(config_b.get("firms", {})), **firm_labels(config_a.get("firms", {}))}
    for firm in dict.fromkeys([*touchpoints_a.firm, *touchpoints_b.firm]):
        name = names.get(firm, firm)
        rows_a = touchpoints_a[touchpoints_a.firm == firm]
        rows_b = touchpoints_b[touchpoints_b.firm == firm]
        journey_a, journey_b = journey_of(config_a, firm), journey_of(config_b, firm)
        same = (len(rows_a) > 0 and len(rows_b) > 0 and journey_a == journey_b
                and _order(rows_a) == _order(rows_b))
        if same:
            charts.append(change_map(rows_a, rows_b, journey_b, name))
            continue
        for label, rows, journey in (("a", rows_a, journey_a), ("b", rows_b, journey_b)):
            if len(rows):
                charts.append(journey_map(rows, journey, f"scenario {label.upper()}: {name}"))
    return charts
