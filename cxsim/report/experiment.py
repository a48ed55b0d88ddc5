"""The page of an experiment's ``results/`` folder (``experiments/<name>/run.py``).

An experiment has already said what it found: ``summary.md`` holds its
answer sentences (the bullets under "## Answer"), ``table.parquet`` one row
per cell, replication and firm, and its figures are PNGs beside them. The
page shows those, as they are, with the KPI table per cell and firm;
``run.json``, written last, says the folder is finished.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from cxsim.errors import ConfigError
from cxsim.report.page import Page, chart_from_png, table_from_frame
from cxsim.report.run import CLV_NOTE, kpi_frame

__all__ = ["experiment_page", "answer_bullets"]


def answer_bullets(markdown: str) -> list[str]:
    """The bullets under ``## Answer`` as plain sentences (emphasis and code marks dropped)."""
    lines = markdown.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lower() == "## answer")
    except StopIteration:
        return []
    bullets: list[str] = []
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith(("- ", "* ")):
            bullets.append(line[2:].strip())
        elif line.startswith("  ") and bullets:
            bullets[-1] += " " + line.strip()
    return [re.sub(r"(\*\*|`)", "", b) for b in bullets]


def _title(markdown: str, fallback: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback


def experiment_page(directory: Path) -> Page:
    directory = Path(directory)
    if not (directory / "run.json").is_file():
        raise ConfigError(str(directory), "holds no finished experiment run (no run.json)")
    meta = json.loads((directory / "run.json").read_text())
    markdown = (directory / "summary.md").read_text() if (directory / "summary.md").is_file() \
        else ""
    name = str(meta.get("experiment", directory.parent.name))
    tables = []
    table = (pd.read_parquet(directory / "table.parquet")
             if (directory / "table.parquet").is_file()
             else pd.read_csv(directory / "table.csv") if (directory / "table.csv").is_file()
             else None)
    if table is not None:
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
