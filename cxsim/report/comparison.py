"""The page of a paired comparison (``cxsim-compare --out DIR``): what changed, and what it did.

A comparison directory holds the paired table, both scenarios' summaries,
monthly series and touchpoints (``a_summary.parquet`` ...), and, written last,
``comparison.json`` (both scenarios' overrides and resolved configs, the
seed and the replications): a directory without it is not a finished
comparison.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cxsim.config import firm_labels
from cxsim.errors import ConfigError
from cxsim.files import atomic_write, read_json, read_parquet, write_text
from cxsim.report import answer, charts, journey_map
from cxsim.report.page import Chart, Page, Tile, table_from_frame
from cxsim.report.run import (
    CLV_NOTE,
    KPIS,
    TILES,
    assumption_tables,
    currency_of,
    estimate,
    kpi_frame,
    named,
)
from cxsim.simulation.experiment import Comparison, Ensemble
from cxsim.simulation.results import ratio_ci

__all__ = ["Compared", "compare_command", "comparison_meta", "save_comparison", "load_comparison",
           "comparison_page", "MARKER"]

MARKER = "comparison.json"
"""Written last by :func:`save_comparison`: its presence says the comparison is whole."""
_TABLES = ("summary", "timeseries", "touchpoints")  # touchpoints: not in older comparisons


@dataclass
class Compared:
    """A finished comparison and what produced it."""

    comparison: Comparison
    meta: dict  # common, a, b (override lists), seed, replications, configs, version, created


def compare_command(common: list[str], a: list[str], b: list[str], n: int,
                    *options: str) -> str:
    """The ``cxsim-compare`` command line of a comparison (shell-quoted), then *options*."""
    words = ["cxsim-compare"]
    for flag, overrides in (("--common", common), ("--a", a), ("--b", b)):
        if overrides:
            words += [flag, *overrides]
    return shlex.join([*words, "-n", str(n), *options])


def comparison_meta(common: list[str], a: list[str], b: list[str], replications: int,
                    cfg_a, cfg_b, words: dict[str, str] | None = None) -> dict:
    """What ran, for the report and for ``comparison.json``: both scenarios' overrides
    and resolved configs, the seed, the replications, the version and the time.

    *words* says overrides as their caller names them (the studio's levers of a fitted
    segment, each one or two overrides): the report writes those words instead."""
    from datetime import UTC, datetime

    from cxsim.config import as_plain, config_hash, to_config
    from cxsim.version import __version__

    a_cfg, b_cfg = to_config(cfg_a), to_config(cfg_b)
    return {"common": list(common), "a": list(a), "b": list(b), "seed": a_cfg.seed,
            "replications": replications, "days_per_month": a_cfg.sim.days_per_month,
            "config_hash_a": config_hash(a_cfg), "config_hash_b": config_hash(b_cfg),
            "config_a": as_plain(a_cfg), "config_b": as_plain(b_cfg),
            "cxsim_version": __version__, "words": dict(words or {}),
            "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}


def save_comparison(compared: Compared, out: Path, report: bool = True) -> None:
    """Write the tables, the report, then ``comparison.json`` last."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).unlink(missing_ok=True)
    table = compared.comparison.table()
    atomic_write(out / "comparison.csv", lambda p: table.to_csv(p, index=False))
    atomic_write(out / "comparison.parquet", lambda p: table.to_parquet(p, index=False))
    for label, ensemble in (("a", compared.comparison.a), ("b", compared.comparison.b)):
        for name in _TABLES:
            frame = getattr(ensemble, name)
            if frame is None:
                continue
            atomic_write(out / f"{label}_{name}.parquet",
                         lambda p, f=frame: f.to_parquet(p, index=False))
    if report:
        from cxsim.report.page import write

        write(comparison_page(compared), out / "report.html")
    write_text(out / MARKER, json.dumps(compared.meta, indent=2, default=str) + "\n")


def load_comparison(directory: Path) -> Compared:
    """Read a directory written by :func:`save_comparison`."""
    directory = Path(directory)
    if not (directory / MARKER).is_file():
        raise ConfigError(str(directory), f"holds no finished comparison (no {MARKER})")
    meta = read_json(directory / MARKER)
    ensembles = [Ensemble(*(None if name == "touchpoints" and not path.exists()
                            else read_parquet(path)
                            for name, path in ((name, directory / f"{label}_{name}.parquet")
                                               for name in _TABLES))) for label in ("a", "b")]
    return Compared(Comparison(*ensembles), meta)


def _differences(compared: Compared, column: str, firm: str) -> np.ndarray:
    """*firm*'s *column* in B minus A, pair by pair."""
    a, b = (e.summary[e.summary.firm == firm].set_index("replication")[column]
            for e in (compared.comparison.a, compared.comparison.b))
    return (b - a).to_numpy(dtype=float)


def _paired(compared: Compared, column: str, firm: str, scale: float = 1.0) -> answer.Estimate:
    return estimate(scale * _differences(compared, column, firm))


def _same(compared: Compared, column: str, firm: str) -> bool:
    """Whether *firm*'s *column* is exactly the same in B as in A in every pair."""
    return bool((_differences(compared, column, firm) == 0.0).all())


def in_words(override: str, labels: dict[str, str]) -> str:
    """An override as a person reads it: a firm's lever by the firm's name
    (``firms.sales_first.org=cco``: "the sales-focused firm's org: cco"), an event's
    setting by the event ("event b_shock: from month 13", months numbered from 1 as the
    charts number them); others as written."""
    key, _, value = override.lstrip("+~").partition("=")
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "firms" and parts[1] in labels:
        return f"{labels[parts[1]]}'s {parts[2].replace('_', ' ')}: {value}"
    if len(parts) == 3 and parts[0] == "events":
        if parts[2] == "start_month" and value.isdigit():
            return f"event {parts[1]}: from month {int(value) + 1}"
        if parts[2] == "firm" and value in labels:
            value = labels[value]
        return f"event {parts[1]}: {parts[2].replace('_', ' ')} {value}"
    return override


def changed(meta: dict) -> str:
    a, b = meta.get("a") or [], meta.get("b") or []
    labels = firm_labels((meta.get("config_a") or {}).get("firms", {}))
    words = meta.get("words") or {}

    def said(overrides: list[str]) -> list[str]:
        return list(dict.fromkeys(words.get(o) or in_words(o, labels) for o in overrides))

    only_b = said([o for o in b if o not in a])
    only_a = said([o for o in a if o not in b])
    if not only_a and not only_b:
        return "Scenarios A and B are the same: any difference is chance."
    text = "B sets " + "; ".join(only_b) if only_b else "B drops"
    if only_a:
        text += (". A sets " if only_b else " ") + "; ".join(only_a)
    return text + "."


def comparison_bottom_line(compared: Compared) -> str:
    """One sentence: what B does that is distinguishable from chance, per firm, on the
    first screen's figures (:data:`cxsim.report.run.TILES`) and on the NPS the firm's own
    survey measures; or that nothing is. A measured NPS that moves while the true one is
    the same in every pair (common random numbers: the clients lived the same run) is said
    to be the survey's doing: who is asked, or who answers, changed, not the clients."""
    config = compared.meta.get("config_a") or {}
    labels, currency = firm_labels(config.get("firms", {})), currency_of(config)
    said = []
    for firm in list(dict.fromkeys(compared.comparison.a.summary.firm))[:2]:
        moves, moved = [], set()
        for kpi in (k for k in KPIS if k.column in (*TILES, "nps_measured")):
            change = _paired(compared, kpi.column, firm, kpi.scale)
            if change.sign:
                unit = " points" if kpi.unit == "%" else ""
                size = answer.number(abs(change.mean), unit, kpi.digits,
                                     currency if kpi.money else "")
                moves.append(f"{'raises' if change.sign > 0 else 'lowers'} {kpi.name} by "
                             f"{size}")
                moved.add(kpi.column)
        if moves:
            moves = [", ".join(moves[:-1]) + " and " + moves[-1]] if len(moves) > 1 else moves
            survey = (" while its true NPS is the same in every pair: what changed is who "
                      "its survey hears, not how its clients feel"
                      if "nps_measured" in moved and _same(compared, "nps_true", firm) else "")
            said.append(f"for {labels.get(firm, firm)}, B {moves[0]}{survey}")
    if not said:
        return ("Bottom line: B changes none of market share, CLV now, retention, true NPS or "
                "measured NPS distinguishably from chance (95% intervals hold 0).")
    return ("Bottom line: " + "; ".join(said) + " (95% intervals exclude 0; the rest is not "
            "distinguishable from chance).")


def comparison_sentences(compared: Compared) -> list[str]:
    firms = list(dict.fromkeys(compared.comparison.a.summary.firm))
    labels = firm_labels((compared.meta.get("config_a") or {}).get("firms", {}))
    currency = currency_of(compared.meta.get("config_a") or {})
    sentences = [comparison_bottom_line(compared), changed(compared.meta)]
    for firm in firms[:2]:
        subject = f"For {labels.get(firm, firm)}, B"
        sentences.append(" ".join([
            answer.difference(subject, "CLV now", _paired(compared, "clv_final_year", firm),
                              " per client", 0, currency),
            answer.difference("It", "final market share",
                              _paired(compared, "share_final", firm, 100.0), " points", 1),
            answer.difference("It", "true NPS", _paired(compared, "nps_true", firm), "", 1),
        ]))
    return answer.join(sentences)


def comparison_tiles(compared: Compared) -> list[Tile]:
    """The first screen's figures (:data:`cxsim.report.run.TILES`): B - A per firm with its
    paired 95% interval."""
    config = compared.meta.get("config_a") or {}
    labels, currency = firm_labels(config.get("firms", {})), currency_of(config)
    firms = list(dict.fromkeys(compared.comparison.a.summary.firm))
    shown = []
    for kpi in (k for k in KPIS if k.column in TILES):
        unit = " points" if kpi.unit == "%" else kpi.unit
        money = currency if kpi.money else ""
        lines = tuple(f"{answer.capital(labels.get(firm, firm))}: " + answer.interval(
            _paired(compared, kpi.column, firm, kpi.scale), unit, kpi.digits, money)
            for firm in firms[:2])
        shown.append(Tile(f"{answer.capital(kpi.name)}, B − A", "", lines))
    return shown


def headline_chart(compared: Compared) -> Chart:
    """The headline: each firm's market share in B minus A, month by month, paired; or, when
    no firm's share differs in any pair or month (B changed what a firm hears, its survey,
    not what its clients live), each firm's measured NPS in B minus A."""
    config = compared.meta.get("config_a") or {}
    labels = firm_labels(config.get("firms", {}))
    a, b = compared.comparison.a.timeseries, compared.comparison.b.timeseries
    firms = list(dict.fromkeys(a.firm))

    def changes(column: str, scale: float) -> dict[str, np.ndarray]:
        out = {}
        for firm in firms:
            wide = [t[t.firm == firm].pivot_table(index="replication", columns="month",
                                                  values=column, dropna=False) for t in (a, b)]
            out[answer.capital(labels.get(firm, firm))] = scale * (wide[1] - wide[0]).to_numpy()
        return out

    days = float(compared.meta.get("days_per_month") or config["sim"]["days_per_month"])
    shares = changes("share", 100.0)
    if any(np.any(v != 0.0) for v in shares.values()) or "nps_measured" not in a:
        return charts.difference_over_time(
            shares, list(shares), list(shares), days, "Market share, B minus A, over time",
            "change in share (points)", "the firm has more of the market in B than in A")
    heard = changes("nps_measured", 1.0)
    return charts.difference_over_time(
        heard, list(heard), list(heard), days, "Measured NPS, B minus A, over time",
        "change in measured NPS (points)",
        "the firm's own survey reads a higher NPS in B than in A (market share is the same "
        "in B as in A, in every pair and month)")


def incremental_return(compared: Compared, firm: str) -> answer.Estimate:
    """Paired difference in margin over paired difference in CX spend (delta-method CI)."""
    a, b = (e.summary[e.summary.firm == firm].set_index("replication")
            for e in (compared.comparison.a, compared.comparison.b))
    margin = (b.margin_total - a.margin_total).to_numpy(dtype=float)
    spend = (b.cx_spend_total - a.cx_spend_total).to_numpy(dtype=float)
    if spend.size < 2 or not np.any(spend):
        return answer.Estimate(float("nan"))
    mean, low, high = ratio_ci(margin, spend)
    return answer.Estimate(mean, low, high, int(spend.size))


def comparison_page(compared: Compared) -> Page:
    meta = compared.meta
    config = meta["config_a"]
    currency = currency_of(config)
    a, b = compared.comparison.a, compared.comparison.b
    a = Ensemble(named(a.summary, config), named(a.timeseries, config))
    b = Ensemble(named(b.summary, meta["config_b"]), named(b.timeseries, meta["config_b"]))
    n = a.n
    both = pd.concat([a.summary.assign(scenario="A"), b.summary.assign(scenario="B")])
    both["scenario"] = both["scenario"] + ": " + both["firm"].astype(str)
    shown, raw = kpi_frame(both, "scenario", currency)
    tables = [table_from_frame(f"Key figures per scenario and firm (mean and 95% CI over {n} "
                               "replications)", shown, CLV_NOTE, "kpis", "kpis.csv", raw)]
    rows = []
    labels = firm_labels(config.get("firms", {}))
    for firm in dict.fromkeys(compared.comparison.a.summary.firm):
        r = incremental_return(compared, firm)
        rows.append({"firm": labels.get(firm, firm),
                     "incremental return: extra margin per extra unit of CX spend, b - a":
                     answer.interval(r, "", 2) if r.known else
                     f"{answer.NO_DATA} (CX spend did not change)"})
    tables.append(table_from_frame("Return on the change in CX spend", pd.DataFrame(rows),
                                   "The paired difference in margin divided by the paired "
                                   "difference in CX spend (b minus a), with a delta-method "
                                   "95% CI.", "return", "return.csv"))
    series = {}
    for label, ensemble in (("A", a), ("B", b)):
        for firm in dict.fromkeys(ensemble.timeseries.firm):
            series[f"{label}: {firm}"] = ensemble.timeseries[ensemble.timeseries.firm == firm]
    days_per_month = float(meta.get("days_per_month") or
                           meta["config_a"]["sim"]["days_per_month"])
    page_charts = [charts.share_over_time(series, days_per_month),
                   charts.clv_by_firm(both, "scenario", currency),
                   charts.nps_three_ways(both, "scenario"),
                   charts.spend_by_quarter(series, days_per_month),
                   charts.acquisitions_by_source(series),
                   *journey_map.comparison_maps(compared.comparison.a.touchpoints,
                                                compared.comparison.b.touchpoints,
                                                meta["config_a"], meta["config_b"])]
    common = meta.get("common") or []
    command = compare_command(common, meta.get("a") or [], meta.get("b") or [], n)
    return Page(
        title="What B changes against A",
        subtitle=(f"{answer.capital(config['market'].get('label', 'the market'))}: "
                  f"{n} paired replications on common random numbers"),
        answer=comparison_sentences(compared),
        tiles=comparison_tiles(compared),
        headline=headline_chart(compared),
        tables=tables,
        charts=page_charts,
        assumptions=assumption_tables(meta["config_a"], meta["config_b"]),
        command=command,
        provenance=[("seed", str(meta.get("seed"))), ("replications", str(n)),
                    ("config hash a", str(meta.get("config_hash_a"))),
                    ("config hash b", str(meta.get("config_hash_b"))),
                    ("cxsim version", str(meta.get("cxsim_version"))),
                    ("written", str(meta.get("created")))],
    )


