"""The page of one finished run of ``cxsim`` (one or several replications of one config)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cxsim.report import answer, charts, journey_map
from cxsim.report.page import Page, Table, table_from_frame
from cxsim.results import Results, crossover_month, mean_ci

__all__ = ["run_page", "KPIS", "kpi_frame"]

KPIS = (
    ("share_final", "final market share", 100.0, "%", 1),
    ("clv_final_year", "CLV now", 1.0, "", 0),
    ("clv_mean", "CLV of clients won", 1.0, "", 0),
    ("retention_annual", "annual retention", 100.0, "%", 1),
    ("nps_true", "NPS, true", 1.0, "", 1),
    ("nps_measured", "NPS, measured", 1.0, "", 1),
    ("perception_gap", "perception gap (NPS points)", 1.0, "", 1),
    ("referral_share", "new clients by referral", 100.0, "%", 1),
    ("referrals_per_client_year", "referrals per 100 client-years", 100.0, "", 2),
    ("revenue_total", "revenue", 1.0, "", 0),
    ("cx_spend_total", "CX spend", 1.0, "", 0),
    ("return_on_cx_spend", "margin per unit of CX spend", 1.0, "", 2),
)
"""Summary column, label, scale, unit and digits of each KPI the page shows."""
CLV_NOTE = ("Compare firms on CLV now: the value of a client at the relationship the firm has "
            "in the final year (margin per client and retention, m r / (1 + d - r)). CLV of "
            "clients won is the discounted margin each acquired client actually paid, censored "
            "at the horizon, so a firm that won its clients late looks worse on it.")


def estimate(values: np.ndarray) -> answer.Estimate:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    mean, low, high = mean_ci(values)
    return answer.Estimate(mean, low, high, int(values.size))


def kpi_frame(summary: pd.DataFrame, label: str = "firm") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI table as shown (a row per KPI, a column per *label*: mean and 95% CI) and as
    tidy raw numbers for the CSV (a row per *label* and KPI: mean, CI bounds, n)."""
    groups = list(dict.fromkeys(summary[label]))
    shown, raw = [], []
    for column, name, scale, unit, digits in KPIS:
        if column not in summary:
            continue
        cells = {"": name}
        for group in groups:
            e = estimate(scale * summary.loc[summary[label] == group, column].to_numpy(
                dtype=float))
            cells[str(group)] = answer.interval(e, unit, digits)
            raw.append({label: str(group), "kpi": name, "mean": e.mean, "ci_low": e.low,
                        "ci_high": e.high, "n": e.n})
        shown.append(cells)
    return pd.DataFrame(shown), pd.DataFrame(raw)


def _paired(summary: pd.DataFrame, column: str, first: str, second: str,
            scale: float = 1.0) -> answer.Estimate:
    wide = summary.pivot_table(index="replication", columns="firm", values=column, dropna=False)
    return estimate(scale * (wide[first] - wide[second]).to_numpy(dtype=float))


def run_sentences(summary: pd.DataFrame, ts: pd.DataFrame) -> list[str]:
    """Who leads, by how much, and when the lead became sure (replications of one config)."""
    firms = list(dict.fromkeys(summary.firm))
    n = int(summary.replication.nunique())
    per = {f: estimate(100 * summary.loc[summary.firm == f, "share_final"]) for f in firms}
    clv = {f: estimate(summary.loc[summary.firm == f, "clv_final_year"]) for f in firms}
    if len(firms) == 1:
        firm = firms[0]
        nps = estimate(summary.loc[summary.firm == firm, "nps_true"])
        return answer.join([
            f"{firm} ends with {answer.interval(per[firm], '%', 1)} of the active clients.",
            f"Its CLV now is {answer.interval(clv[firm])} per client and its true NPS "
            f"{answer.interval(nps, '', 1)}."])
    first, second = firms[:2]
    share_gap = _paired(summary, "share_final", first, second, 100.0)
    clv_gap = _paired(summary, "clv_final_year", first, second)
    leader, other, by_month, month = leading(summary, ts)
    months = by_month.shape[1]
    sentences = [answer.lead("final market share", per, share_gap, " points", 1),
                 answer.lead("CLV now", clv, clv_gap, " per client", 0)]
    if months > 12:
        first_year = estimate(by_month[:, :12].mean(axis=1) * (1 if leader == first else -1))
        sentences.append(answer.lead("share in the first year", per, first_year, " points", 1))
    sentences.append(answer.crossover(leader, other, month, months, n))
    return answer.join(sentences)


def leading(summary: pd.DataFrame, ts: pd.DataFrame
            ) -> tuple[str, str, np.ndarray, int | None]:
    """The first two firms as final-share leader and other (the first on a tie), the leader's
    lead by replication and month (points), and its crossover month (None with n < 2)."""
    first, second = list(dict.fromkeys(summary.firm))[:2]
    shares = summary.groupby("firm").share_final.mean()
    leader, other = (first, second) if shares[first] >= shares[second] else (second, first)
    by_month = share_lead(ts, leader, other)
    month = crossover_month(by_month) if summary.replication.nunique() >= 2 else None
    return leader, other, by_month, month


def share_lead(ts: pd.DataFrame, leader: str, other: str) -> np.ndarray:
    """Per replication (rows) and month (columns), *leader*'s share minus *other*'s, in points."""
    wide = ts.pivot_table(index="replication", columns=["firm", "month"], values="share",
                          dropna=False)
    return 100 * (wide[leader] - wide[other]).to_numpy(dtype=float)


def run_page(directory: Path) -> Page:
    """The report of a finished run directory (it has ``meta.json``)."""
    results = Results.load(directory)
    return page_of(results, directory)


def page_of(results: Results, directory: Path | None = None) -> Page:
    meta, config = results.meta, results.config
    summary, ts = results.summary, results.timeseries
    n = int(summary.replication.nunique())
    firms = list(dict.fromkeys(summary.firm))
    days_per_month = float(meta.get("days_per_month") or config["sim"]["days_per_month"])
    shown, raw = kpi_frame(summary)
    kpis = table_from_frame(
        "Key figures per firm" + (f" (mean and 95% CI over {n} replications)" if n > 1 else ""),
        shown, CLV_NOTE, "kpis", "kpis.csv", raw)
    series = {f: ts[ts.firm == f] for f in firms}
    month = leading(summary, ts)[3] if len(firms) >= 2 else None
    page_charts = [
        charts.share_over_time(series, days_per_month, month),
        charts.clv_by_firm(summary),
        charts.nps_true_and_measured(summary),
        charts.spend_by_quarter(series, days_per_month),
        charts.acquisitions_by_source(series),
        *journey_map.firm_maps(results.touchpoints, config),
    ]
    overrides = meta.get("overrides") or []
    command = "cxsim " + " ".join(overrides) if overrides else "cxsim"
    return Page(
        title="cxsim: " + (" vs ".join(firms) if len(firms) > 1 else firms[0]),
        subtitle=(f"{config['market']['size']:,} clients over {config['sim']['years']:g} "
                  f"years; {n} replication{'s' if n != 1 else ''}"),
        answer=run_sentences(summary, ts),
        tables=[kpis],
        charts=page_charts,
        assumptions=assumption_tables(config),
        command=command,
        provenance=provenance(meta, config, n, directory),
    )


def provenance(meta: dict, config: dict, n: int, directory: Path | None) -> list[tuple[str, str]]:
    written = meta.get("created")
    if written is None and directory is not None and (Path(directory) / "meta.json").exists():
        stamp = (Path(directory) / "meta.json").stat().st_mtime
        written = datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return [("seed", str(config.get("seed", meta.get("seed")))),
            ("replications", str(n)),
            ("config hash", str(meta.get("config_hash", ""))),
            ("cxsim version", str(meta.get("cxsim_version", ""))),
            ("written", str(written or ""))]


def assumption_tables(config: dict, other: dict | None = None) -> list[Table]:
    """Market, segments and each firm's resolved levers; values that differ from *other* marked."""
    scenarios = [config] if other is None else [config, other]
    tables = []
    market = [_flat("", {k: v for k, v in c.get("market", {}).items() if k != "segments"}, {})
              for c in scenarios]
    segments = [{f"{name}.{k}": v for name, seg in c.get("market", {}).get("segments", {}).items()
                 for k, v in _flat("", seg, {}).items()} for c in scenarios]
    pairs = other is not None
    for title, values in (("Market", market), ("Segments", segments)):
        tables.append(_settings_table(title, values, ["scenario a", "scenario b"], pairs))
    firms = sorted({f for c in scenarios for f in c.get("firms", {})},
                   key=lambda f: list(config.get("firms", {})).index(f)
                   if f in config.get("firms", {}) else len(config.get("firms", {})))
    columns = [f if other is None else f"{f} ({s})" for f in firms for s in
               ([""] if other is None else ["a", "b"])]
    per_firm = [_flat("", c.get("firms", {}).get(f, {}), {}) for f in firms for c in scenarios]
    tables.append(_settings_table("Firms: levers as resolved", per_firm, columns, pairs))
    return tables


def _flat(prefix: str, value, out: dict) -> dict:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(f"{prefix}.{key}" if prefix else str(key), inner, out)
    else:
        out[prefix] = value
    return out


def _settings_table(title: str, values: list[dict], columns: list[str], pairs: bool) -> Table:
    """One row per setting, one column per dict of *values*.

    With *pairs*, columns come as (scenario a, scenario b) pairs and a row
    is marked where a pair differs.
    """
    names = list(dict.fromkeys(k for v in values for k in v))
    header = ["setting", *(columns if len(values) > 1 else ["value"])]
    frame = pd.DataFrame([[name, *(_show(v.get(name)) for v in values)] for name in names],
                         columns=header)
    differs = None
    if pairs:
        differs = [any(_show(values[i].get(n)) != _show(values[i + 1].get(n))
                       for i in range(0, len(values), 2)) for n in names]
    note = "Highlighted rows differ between the scenarios." if differs and any(differs) else ""
    anchor = title.split(":")[0].lower()
    return table_from_frame(title, frame, note, anchor, f"{anchor}.csv", differs=differs)


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
