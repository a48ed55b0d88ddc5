"""One self-contained HTML page: the data a report shows, and its rendering.

A :class:`Page` is plain data (sentences, tables, charts as ``data:`` URIs,
provenance); :func:`render` turns it into HTML with Jinja2, autoescaping
on, so a firm or touchpoint name is always text, never markup. Charts are
images with ``data:`` URIs: an SVG inside ``<img>`` runs no script and
cannot close the page's tags. Nothing is fetched from anywhere.
"""

from __future__ import annotations

import base64
import io
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from cxsim.files import write_text

__all__ = ["Row", "Table", "Chart", "Tile", "Page", "render", "write", "chart_from_figure",
           "chart_from_png", "table_from_frame"]


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    differs: bool = False


@dataclass
class Table:
    """A table as shown (cells already formatted), with its CSV for download."""

    title: str
    columns: tuple[str, ...]
    rows: list[Row]
    note: str = ""
    anchor: str = "table"
    csv: str = ""  # a data: URI
    filename: str = "table.csv"
    text_columns: int = 1  # the leading columns of names and words, aligned left


@dataclass(frozen=True)
class Chart:
    data_uri: str
    alt: str
    caption: str


@dataclass(frozen=True)
class Tile:
    """One figure of the first screen: what it is, its value in a few words, and a line or
    two on how sure it is."""

    title: str
    value: str
    lines: tuple[str, ...] = ()


@dataclass
class Page:
    """A report page. The first screen holds the first sentence of *answer* (the bottom
    line), the *tiles* and the *headline* chart (the difference that answers the
    question); then the rest of the answer, the tables and charts; the *assumptions* go in
    a collapsed appendix."""

    title: str
    subtitle: str
    answer: list[str]
    warnings: list[str] = field(default_factory=list)  # shown above the answer, one a line
    tiles: list[Tile] = field(default_factory=list)
    headline: Chart | None = None
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    assumptions: list[Table] = field(default_factory=list)
    next_steps: list[tuple[str, str]] = field(default_factory=list)  # (what it shows, command)
    command: str = ""
    provenance: list[tuple[str, str]] = field(default_factory=list)


_ENVIRONMENT = Environment(loader=PackageLoader("cxsim.report", "templates"),
                           autoescape=select_autoescape(default=True, default_for_string=True),
                           trim_blocks=True, lstrip_blocks=True)


def render(page: Page) -> str:
    """The page's HTML."""
    return _ENVIRONMENT.get_template("report.html.j2").render(page=page)


def write(page: Page, path: str | Path) -> Path:
    """Write the page to *path* whole (a temporary file, then a rename)."""
    path = Path(path)
    write_text(path, render(page))
    return path


def chart_from_figure(fig, alt: str, caption: str) -> Chart:
    """A matplotlib figure as an SVG ``data:`` URI (the figure is closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    # text as text: smaller, faster; a fixed salt for the ids of clip paths and markers
    # (random by default), so the same figure is the same bytes and one run's page another's
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "cxsim"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Chart(f"data:image/svg+xml;base64,{encoded}", alt, caption)


def chart_from_png(path: Path, alt: str, caption: str) -> Chart:
    """A PNG file an experiment drew, as a ``data:`` URI."""
    encoded = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Chart(f"data:image/png;base64,{encoded}", alt, caption)


def table_from_frame(title: str, frame: pd.DataFrame, note: str = "", anchor: str = "table",
                     filename: str = "table.csv", raw: pd.DataFrame | None = None,
                     differs: Sequence[bool] | None = None, text_columns: int = 1) -> Table:
    """A table of already formatted cells; its CSV holds *raw* (the unrounded values) if given;
    its first *text_columns* columns are words, aligned left."""
    rows = [Row(tuple(str(v) for v in values), bool(differs[i]) if differs is not None else False)
            for i, values in enumerate(frame.itertuples(index=False, name=None))]
    csv = (raw if raw is not None else frame).to_csv(index=False)
    uri = "data:text/csv;charset=utf-8," + urllib.parse.quote(csv)
    return Table(title, tuple(str(c) for c in frame.columns), rows, note, anchor, uri, filename,
                 text_columns)
