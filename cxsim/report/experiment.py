"""The page of an experiment's ``results/`` folder (``experiments/<name>/run.py``).

An experiment has already said what it found: ``summary.md`` holds its
answer sentences (the bullets under "## Answer"), ``table.parquet`` one row
per cell, replication and firm, and its figures are PNGs beside them. The
page shows those, as they are, with the KPI table per cell and firm;
``run.json``, written last, says the folder is finished.
"""

from __future__ import annotations

import re
from pathlib import Path

from cxsim.errors import ConfigError
from cxsim.files import read_csv, read_json, read_parquet, read_text
from cxsim.report.page import Page, chart_from_png, table_from_frame
from cxsim.report.run import CLV_NOTE, kpi_frame

__all__ = ["experiment_page", "answer_bullets"]

MAX_COLUMNS = 12
"""A grid or a Morris design has more cells than a table can show: its figures say it."""


def answer_bullets(markdown: str) -> list[str]:
    """The experiment's answer, as plain sentences (emphasis and code marks dropped).

    The bullets and paragraphs under ``## Answer`` if there is one; else
    every bullet outside "How to read it", those under a heading prefixed
    with it (``recurring B2B (the rule): ...``). Tables are left to the
    page's own table.
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in markdown.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif not line.startswith("# "):
            sections[-1][1].append(line)
    answer = [lines for title, lines in sections if title.lower() == "answer"]
    if answer:
        return [_plain(t) for t in _items(answer[0], paragraphs=True)]
    found = []
    for title, lines in sections:
        if title.lower().startswith("how to read"):
            continue
        found += [_plain(f"{title}: {t}" if title else t) for t in _items(lines, False)]
    return found


def _items(lines: list[str], paragraphs: bool) -> list[str]:
    """Bullets (with their continuation lines) and, if asked, paragraphs; no tables."""
    items: list[str] = []
    open_item = False  # the last item goes on until a blank line or a table
    for line in lines:
        text = line.strip()
        if line.startswith(("- ", "* ")):
            items.append(line[2:].strip())
            open_item = True
        elif not text or text.startswith("|"):
            open_item = False
        elif open_item:
            items[-1] += " " + text
        elif paragraphs:
            items.append(text)
            open_item = True
    return items


def _plain(text: str) -> str:
    return re.sub(r"(\*\*|`)", "", text)


def _title(markdown: str, fallback: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def experiment_page(directory: Path) -> Page:
    directory = Path(directory)
    if not (directory / "run.json").is_file():
        raise ConfigError(str(directory), "holds no finished experiment run (no run.json)")
    meta = read_json(directory / "run.json")
    markdown = read_text(directory / "summary.md") if (directory / "summary.md").exists() \
        else ""
    name = str(meta.get("experiment", directory.parent.name))
    tables = []
    table = (read_parquet(directory / "table.parquet")
             if (directory / "table.parquet").exists()
             else read_csv(directory / "table.csv") if (directory / "table.csv").exists()
             else None)
    if table is not None and not {"cell", "firm"} <= set(table.columns):
        raise ConfigError(str(directory / ("table.parquet" if (directory / "table.parquet")
                                           .exists() else "table.csv")),
                          "must have the columns cell and firm", list(map(str, table.columns)))
    if table is not None and table.groupby(["cell", "firm"]).ngroups <= MAX_COLUMNS:
        label = table["cell"].astype(str) + ": " + table["firm"].astype(str)
        shown, raw = kpi_frame(table.assign(cell_firm=label), "cell_firm")
        shown = shown.rename(columns={"cell_firm": "cell: firm"})
        raw = raw.rename(columns={"cell_firm": "cell: firm"})
        tables.append(table_from_frame("Key figures per cell and firm (mean and 95% CI over "
                                       "replications)", shown, CLV_NOTE, "kpis", "kpis.csv",
                                       raw))
    charts = [chart_from_png(png, f"Figure {png.stem.replace('_', ' ')} of the experiment "
                             f"{name}.", png.stem.replace("_", " "))
              for png in sorted(directory.glob("*.png"))]
    overrides = [o for o in meta.get("overrides") or []]
    return Page(
        title=_title(markdown, f"Experiment {name}"),
        subtitle=str(meta.get("question", "")).strip(),
        answer=answer_bullets(markdown) or ["This experiment's summary states no answer."],
        tables=tables,
        charts=charts,
        command=(f"python experiments/{name}/run.py --replications {meta.get('replications')}"
                 f" --workers {meta.get('workers')}" + (" --tiny" if meta.get("tiny") else "")
                 + "  # overrides of every cell: " + " ".join(overrides)),
        provenance=[(str(k), str(meta[k])) for k in (
            "seed", "replications", "market_size", "years", "runs", "workers", "wall_seconds",
            "cxsim_version", "finished", "tiny") if k in meta],
    )
