"""Reports: the console summary, PNG figures of a run, and one self-contained HTML page.

:func:`write_report` builds the page of a finished run, comparison or
experiment folder; :func:`cxsim.report.run.page_of` and
:func:`cxsim.report.comparison.comparison_page` build it from data in
memory, as ``cxsim`` and ``cxsim-compare`` do before they mark a result
finished.
"""

from __future__ import annotations

from pathlib import Path

from cxsim.errors import ConfigError
from cxsim.report.figures import summary_table, write_figures

__all__ = ["write_report", "kind_of", "summary_table", "write_figures"]


def kind_of(path: Path) -> str:
    """``run``, ``comparison`` or ``experiment``; ConfigError for anything unfinished or unknown."""
    from cxsim.collect import FAILED

    path = Path(path)
    if not path.exists():
        raise ConfigError(str(path), "does not exist")
    if not path.is_dir():
        raise ConfigError(str(path), "must be a folder: a run, a comparison or experiment results")
    if (path / FAILED).exists():
        raise ConfigError(str(path), f"is a failed run ({FAILED} marker): nothing to report")
    if (path / "meta.json").is_file():
        return "run"
    if (path / "comparison.json").is_file():
        return "comparison"
    if (path / "run.json").is_file():
        return "experiment"
    if (path / "comparison.parquet").exists():
        raise ConfigError(str(path), "holds an unfinished comparison (no comparison.json)")
    if any(path.glob("*.parquet")) or (path / "table.csv").exists():
        raise ConfigError(str(path), "holds no finished result (no meta.json, comparison.json "
                          "or run.json)")
    raise ConfigError(str(path), "is not a cxsim run, comparison or experiment results folder")


def write_report(source: str | Path, path: str | Path | None = None) -> Path:
    """Write the HTML report of *source* to *path* (default ``source/report.html``)."""
    from cxsim.report.page import write

    source = Path(source)
    kind = kind_of(source)
    if kind == "run":
        from cxsim.report.run import run_page

        page = run_page(source)
    elif kind == "comparison":
        from cxsim.report.comparison import comparison_page, load_comparison

        page = comparison_page(load_comparison(source))
    else:
        from cxsim.report.experiment import experiment_page

        page = experiment_page(source)
    out = Path(path) if path is not None else source / "report.html"
    if out.exists() and out.is_dir():
        raise ConfigError("--out", "must be a file, not a folder", str(out))
    return write(page, out)
