"""The page of one finished run of ``cxsim`` (one or several replications of one config)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from cxsim.config import firm_labels
from cxsim.report import answer, charts, journey_map
from cxsim.report.page import Chart, Page, Table, Tile, table_from_frame
from cxsim.simulation.delivery_gap import believe_and_agree
from cxsim.simulation.results import Crossover, Results, crossover, mean_ci

__all__ = ["run_page", "KPIS", "Kpi", "kpi_frame", "named", "currency_of", "TILES", "tiles"]


class Kpi(NamedTuple):
    """A figure the pages show: its summary column, its name and meaning in words, and how
    it is written (scale, unit after, digits, money with the market's currency before)."""

    column: str
    name: str
    scale: float
    unit: str
    digits: int
    money: bool
    meaning: str


KPIS = (
    Kpi("share_final", "final market share", 100.0, "%", 1, False,
        "share of the market's active clients at the end"),
    Kpi("clv_final_year", "CLV now", 1.0, "", 0, True,
        "what a client is worth at the relationship the firm has in the final year"),
    Kpi("clv_mean", "CLV of clients won", 1.0, "", 0, True,
        "margin each client won actually paid, discounted and cut off at the horizon"),
    Kpi("retention_annual", "annual retention", 100.0, "%", 1, False,
        "share of clients still with the firm a year later"),
    Kpi("nps_true", "true NPS", 1.0, "", 1, False,
        "promoters minus detractors among all clients, in points"),
    Kpi("nps_measured", "measured NPS", 1.0, "", 1, False,
        "the same as the firm's own survey reads it"),
    Kpi("perception_gap", "perception gap (NPS points)", 1.0, "", 1, False,
        "measured minus true NPS: how much better the firm believes it does"),
    Kpi("nps_market", "NPS by the industry study", 1.0, "", 1, False,
        "what an independent study hears from everyone who ever dealt with the firm"),
    Kpi("referral_share", "new clients by referral", 100.0, "%", 1, False,
        "share of new clients won by a recommendation"),
    Kpi("referrals_per_client_year", "referrals per 100 client-years", 100.0, "", 2, False,
        "clients won by recommendation per 100 clients kept a year"),
    Kpi("revenue_total", "revenue", 1.0, "", 0, True, "all purchases over the run"),
    Kpi("cx_spend_total", "CX spend", 1.0, "", 0, True,
        "money spent on the clients' experience over the run"),
    Kpi("return_on_cx_spend", "margin per unit of CX spend", 1.0, "", 2, False,
        "margin earned per unit of money spent on experience"),
)
"""The figures the pages show, in their order."""
INDUSTRY = 3
"""Firms from which on a page shows the delivery gap (with two, "above the mean" is one of
them by construction)."""
TILES = ("share_final", "clv_final_year", "retention_annual", "nps_true")
"""The figures of a page's first screen: share, CLV per client, retention, NPS."""
CLV_NOTE = ("Why the two CLVs can disagree: CLV now values a client at the relationship the "
            "firm has in the final year (margin and retention, m r / (1 + d - r)), while CLV "
            "of clients won adds up what each client actually paid until the run ended, so a "
            "firm that won its clients late looks worse on it. Compare firms on CLV now.")


def named(frame: pd.DataFrame, config: dict) -> pd.DataFrame:
    """*frame* with its ``firm`` column in the firms' display names (config keys stay in
    the settings' appendix)."""
    labels = firm_labels(config.get("firms", {}))
    return frame.assign(firm=frame.firm.map(lambda f: labels.get(f, f)))


def currency_of(config: dict) -> str:
    """The market's currency symbol ("$" for a config saved before it had one)."""
    return config.get("market", {}).get("currency", "$")


def estimate(values: np.ndarray) -> answer.Estimate:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    mean, low, high = mean_ci(values)
    return answer.Estimate(mean, low, high, int(values.size))


def kpi_frame(summary: pd.DataFrame, label: str = "firm", currency: str = "$"
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI table as shown (a row per KPI, a column per *label*: mean and 95% CI, then
    what the figure means) and as tidy raw numbers for the CSV (a row per *label* and KPI:
    mean, CI bounds, n)."""
    groups = list(dict.fromkeys(summary[label]))
    shown, raw = [], []
    for kpi in KPIS:
        if kpi.column not in summary:
            continue
        cells = {"": kpi.name}
        for group in groups:
            e = estimate(kpi.scale * summary.loc[summary[label] == group, kpi.column]
                         .to_numpy(dtype=float))
            cells[str(group)] = answer.interval(e, kpi.unit, kpi.digits,
                                                currency if kpi.money else "")
            raw.append({label: str(group), "kpi": kpi.name, "mean": e.mean, "ci_low": e.low,
                        "ci_high": e.high, "n": e.n})
        cells["what it means"] = kpi.meaning
        shown.append(cells)
    return pd.DataFrame(shown), pd.DataFrame(raw)


def paired_gap(summary: pd.DataFrame, column: str, first: str, second: str,
               scale: float = 1.0) -> answer.Estimate:
    """*first* minus *second* on *column*, paired by replication, with its 95% interval."""
    wide = summary.pivot_table(index="replication", columns="firm", values=column, dropna=False)
    return estimate(scale * (wide[first] - wide[second]).to_numpy(dtype=float))


def run_sentences(summary: pd.DataFrame, ts: pd.DataFrame, currency: str = "$") -> list[str]:
    """The bottom line, then who leads, by how much, and when the lead became sure
    (replications of one config; firms as *summary* names them)."""
    firms = list(dict.fromkeys(summary.firm))
    n = int(summary.replication.nunique())
    per = {f: estimate(100 * summary.loc[summary.firm == f, "share_final"]) for f in firms}
    clv = {f: estimate(summary.loc[summary.firm == f, "clv_final_year"]) for f in firms}
    if len(firms) == 1:
        firm = firms[0]
        nps = estimate(summary.loc[summary.firm == firm, "nps_true"])
        return answer.join([
            f"{firm} ends with {answer.interval(per[firm], '%', 1)} of the active clients.",
            f"Its CLV now is {answer.interval(clv[firm], '', 0, currency)} per client and its "
            f"true NPS {answer.interval(nps, '', 1)}."])
    first, second = firms[:2]
    share_gap = paired_gap(summary, "share_final", first, second, 100.0)
    clv_gap = paired_gap(summary, "clv_final_year", first, second)
    leader, other, by_month, month = leading(summary, ts)
    months = by_month.shape[1]
    sentences = [bottom_line(per, share_gap, clv, clv_gap, currency),
                 answer.lead("final market share", per, share_gap, " points", 1),
                 answer.lead("CLV now", clv, clv_gap, " per client", 0, currency)]
    if months > 12:
        first_year = estimate(by_month[:, :12].mean(axis=1) * (1 if leader == first else -1))
        sentences.append(answer.lead("share in the first year", per, first_year, " points", 1))
    sentences.append(answer.crossover(leader, other, month, months, n))
    return answer.join(sentences)


def industry_sentences(summary: pd.DataFrame, table: pd.DataFrame, currency: str = "$"
                       ) -> list[str]:
    """An industry's answer (three firms or more): how many firms believe they are above
    the industry's NPS and how many have clients who agree (``cxsim.simulation.delivery_gap``,
    beside Bain's 80% and 8%), then who ends with the most and least of the market and the
    most valuable clients (means over replications)."""
    believe, agree = estimate(100 * table.believe), estimate(100 * table.agree)
    firms = summary.groupby("firm", sort=False)
    share = firms.share_final.mean().sort_values()
    clv = firms.clv_final_year.mean().sort_values()
    benchmark = estimate(table.benchmark)
    count = len(share)
    if believe.has_interval:
        believing = f"{answer.interval(believe, '%', 0)} of the {count} firms believe"
        agreeing = f"the clients of {answer.interval(agree, '%', 0)} agree"
    else:
        believing = f"{round(believe.mean * count / 100)} of the {count} firms believe"
        agreeing = f"the clients of {round(agree.mean * count / 100)} agree"
    return answer.join([
        f"Bottom line: by their own surveys {believing} their NPS is above the industry's, "
        f"and by an industry study {agreeing} (Bain 2005: 80% of firms believed, 8% of their "
        "customers agreed).",
        f"The industry's NPS, the study's mean over the firms in the final year, is "
        f"{answer.interval(benchmark, '', 1)}; "
        f"{answer.interval(estimate(100 * table.promoters), '%', 0)} of the study's answers "
        "come from promoters of the firm asked about (Bain's 8% answered another question: "
        "was the experience superior?).",
        f"{answer.capital(share.index[-1])} ends with the most of the market "
        f"({answer.number(100 * share.iloc[-1], '%', 1)}), {share.index[0]} with the least "
        f"({answer.number(100 * share.iloc[0], '%', 1)}).",
        f"{answer.capital(clv.index[-1])} has the most valuable clients (CLV now "
        f"{answer.number(clv.iloc[-1], '', 0, currency)} a client), {clv.index[0]} the least "
        f"({answer.number(clv.iloc[0], '', 0, currency)}).",
    ])


INDUSTRY_KPIS = ("share_final", "clv_final_year", "retention_annual", "nps_true",
                 "nps_measured", "nps_market")
"""An industry's table: a row per firm, these figures as columns."""


def industry_frame(summary: pd.DataFrame, currency: str = "$") -> pd.DataFrame:
    """A row per firm, a column per figure of :data:`INDUSTRY_KPIS`: the mean, with its 95%
    CI in brackets over several replications."""
    rows = []
    for firm in dict.fromkeys(summary.firm):
        row = {"firm": firm}
        for kpi in (k for k in KPIS if k.column in INDUSTRY_KPIS and k.column in summary):
            e = estimate(kpi.scale * summary.loc[summary.firm == firm, kpi.column]
                         .to_numpy(dtype=float))
            money = currency if kpi.money else ""
            text = answer.number(e.mean, kpi.unit, kpi.digits, money) if e.known else (
                answer.NO_DATA)
            if e.has_interval:
                text += (f" ({answer.number(e.low, kpi.unit, kpi.digits, money)} to "
                         f"{answer.number(e.high, kpi.unit, kpi.digits, money)})")
            row[kpi.name] = text
        rows.append(row)
    return pd.DataFrame(rows)


def industry_tiles(summary: pd.DataFrame, table: pd.DataFrame) -> list[Tile]:
    """An industry's first screen: the shares that believe and agree, the benchmark, and
    how far apart the firms' true NPS lie."""
    true = summary.groupby("firm").nps_true_final_year.mean()
    return [
        Tile("Firms that believe they are above the industry",
             answer.number(100 * table.believe.mean(), "%", 0),
             ("by their own surveys", "Bain 2005: 80%")),
        Tile("Firms whose clients agree", answer.number(100 * table.agree.mean(), "%", 0),
             ("by the industry study", "Bain 2005: 8% of customers")),
        Tile("Industry NPS", answer.number(table.benchmark.mean(), "", 1),
             ("the study's mean over firms", "final year")),
        Tile("True NPS, lowest to highest firm",
             f"{answer.number(true.min(), '', 0)} to {answer.number(true.max(), '', 0)}",
             ("every client's answer", "final year")),
    ]


def tiles(summary: pd.DataFrame, currency: str = "$") -> list[Tile]:
    """The first screen's figures (:data:`TILES`) of replications of one config: each firm's
    value, and with two firms who is ahead, claimed only where the paired 95% interval
    excludes 0."""
    firms = list(dict.fromkeys(summary.firm))
    shown = []
    for kpi in (k for k in KPIS if k.column in TILES):
        money = currency if kpi.money else ""
        values = {f: estimate(kpi.scale * summary.loc[summary.firm == f, kpi.column]
                              .to_numpy(dtype=float)) for f in firms}
        if len(firms) < 2:
            shown.append(Tile(answer.capital(kpi.name), answer.number(
                values[firms[0]].mean, kpi.unit, kpi.digits, money)))
            continue
        unit = " points" if kpi.unit == "%" else kpi.unit
        gap = paired_gap(summary, kpi.column, firms[0], firms[1], kpi.scale)
        one, other = (firms[1], firms[0]) if gap.sign < 0 else (firms[0], firms[1])
        value = (f"{answer.number(values[one].mean, kpi.unit, kpi.digits, money)} vs "
                 f"{answer.number(values[other].mean, kpi.unit, kpi.digits, money)}")
        if gap.sign:
            size = answer.Estimate(abs(gap.mean), *sorted((gap.sign * gap.low,
                                                           gap.sign * gap.high)), gap.n)
            lines = (f"{answer.capital(one)} ahead", "by " + answer.interval(
                size, unit, kpi.digits, money))
        else:
            lines = (f"{answer.capital(one)} first; not distinguishable",
                     "gap " + answer.interval(gap, unit, kpi.digits, money))
        shown.append(Tile(answer.capital(kpi.name), value, lines))
    return shown


def lead_chart(leader: str, other: str, firms: list[str], by_month: np.ndarray,
               days_per_month: float, crossing: Crossover | None = None) -> Chart:
    """The headline of two firms: the leader's share lead over the other, month by month,
    in the leader's colour, its crossover marked as the share chart marks it."""
    return charts.difference_over_time(
        {f"{answer.capital(leader)} minus {other}": by_month}, [leader], firms,
        days_per_month, "Market share lead over time", "share lead (points)",
        f"{leader} has more of the market", crossing)


def bottom_line(share: dict[str, answer.Estimate], share_gap: answer.Estimate,
                clv: dict[str, answer.Estimate], clv_gap: answer.Estimate,
                currency: str = "$") -> str:
    """One sentence an executive can repeat: who ends ahead on share and on the value of a
    client (CLV now), claimed only where the 95% interval of the paired gap (first firm
    minus second) excludes 0."""
    first, second = list(share)[:2]

    def ahead(gap: answer.Estimate) -> str | None:
        return {1: first, -1: second, 0: None}[gap.sign]

    def versus(values: dict[str, answer.Estimate], leader: str | None, each: str = "",
               after: str = "", money: str = "") -> str:
        one, other = (first, second) if leader in (None, first) else (second, first)
        return (f"{answer.number(values[one].mean, each, 0, money)} against "
                f"{answer.number(values[other].mean, each, 0, money)}{after}")

    on_share, on_value = ahead(share_gap), ahead(clv_gap)
    shares = versus(share, on_share, each="%")
    values = versus(clv, on_value, after=" per client", money=currency)
    if on_share is None and on_value is None:
        return (f"Bottom line: neither firm ends ahead with 95% confidence, on market share "
                f"({shares}) or on the value of a client ({values}).")
    if on_share == on_value:
        return (f"Bottom line: {on_share} ends ahead, with more of the market ({shares}) and "
                f"more value per client ({values}).")
    if on_value is None:
        return (f"Bottom line: {on_share} ends with more of the market ({shares}); the value "
                f"of a client is not distinguishable between the firms ({values}).")
    if on_share is None:
        return (f"Bottom line: {on_value} ends with more value per client ({values}); their "
                f"market shares are not distinguishable ({shares}).")
    return (f"Bottom line: {on_share} ends with more of the market ({shares}), {on_value} "
            f"with more value per client ({values}).")


def leading(summary: pd.DataFrame, ts: pd.DataFrame
            ) -> tuple[str, str, np.ndarray, Crossover]:
    """The first two firms as final-share leader and other (the first on a tie), the leader's
    lead by replication and month (points), and its :class:`~cxsim.simulation.results.Crossover`."""
    first, second = list(dict.fromkeys(summary.firm))[:2]
    shares = summary.groupby("firm").share_final.mean()
    leader, other = (first, second) if shares[first] >= shares[second] else (second, first)
    by_month = share_lead(ts, leader, other)
    return leader, other, by_month, crossover(by_month)


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
    summary, ts = named(results.summary, config), named(results.timeseries, config)
    currency = currency_of(config)
    n = int(summary.replication.nunique())
    firms = list(dict.fromkeys(summary.firm))
    days_per_month = float(meta.get("days_per_month") or config["sim"]["days_per_month"])
    shown, raw = kpi_frame(summary, currency=currency)
    industry = len(firms) >= INDUSTRY
    if industry:
        shown = industry_frame(summary, currency)
    kpis = table_from_frame(
        "Key figures per firm" + (f" (mean and 95% CI over {n} replications)" if n > 1 else ""),
        shown, CLV_NOTE, "kpis", "kpis.csv", raw)
    series = {f: ts[ts.firm == f] for f in firms}
    crossing, headline = None, None
    if industry:
        gap = believe_and_agree(summary)
        headline = charts.believe_and_agree(gap)
    elif len(firms) >= 2:
        leader, other, by_month, crossing = leading(summary, ts)
        headline = lead_chart(leader, other, firms, by_month, days_per_month, crossing)
    page_charts = [
        charts.share_over_time(series, days_per_month, crossing),
        charts.clv_by_firm(summary, currency=currency),
        charts.nps_three_ways(summary),
        charts.nps_lines(series),
        charts.spend_by_quarter(series, days_per_month),
        charts.acquisitions_by_source(series),
        *journey_map.firm_maps(results.touchpoints, config),
    ]
    overrides = meta.get("overrides") or []
    command = "cxsim " + " ".join(overrides) if overrides else "cxsim"
    market = config["market"]
    return Page(
        title=(f"An industry of {len(firms)} firms" if industry else
               answer.capital(" vs ".join(firms) if len(firms) > 1 else firms[0])),
        subtitle=(f"{answer.capital(market.get('label', 'the market'))}: "
                  f"{market['size']:,} clients over {config['sim']['years']:g} "
                  f"years; {n} replication{'s' if n != 1 else ''}"),
        answer=(industry_sentences(summary, gap, currency) if industry
                else run_sentences(summary, ts, currency)),
        tiles=industry_tiles(summary, gap) if industry else tiles(summary, currency),
        headline=headline,
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
    named_segments = [list(c.get("market", {}).get("segments", {})) for c in scenarios]
    by_place = len({len(n) for n in named_segments}) == 1 and len(
        {tuple(n) for n in named_segments}) > 1  # two markets' segments, side by side
    segments = []
    for c in scenarios:
        rows: dict = {}
        for i, (name, seg) in enumerate(c.get("market", {}).get("segments", {}).items()):
            key = f"segment {i + 1}" if by_place else name
            if by_place:
                rows[f"{key}.name"] = name
            rows.update({f"{key}.{k}": v for k, v in _flat("", seg, {}).items()})
        segments.append(rows)
    pairs = other is not None
    for title, values in (("Market", market), ("Segments", segments)):
        tables.append(_settings_table(title, values, ["scenario a", "scenario b"], pairs))
    firms = sorted({f for c in scenarios for f in c.get("firms", {})},
                   key=lambda f: list(config.get("firms", {})).index(f)
                   if f in config.get("firms", {}) else len(config.get("firms", {})))
    columns = [f if other is None else f"{f} ({s})" for f in firms for s in
               ([""] if other is None else ["a", "b"])]
    per_firm = [_flat("", c.get("firms", {}).get(f, {}), {}) for f in firms for c in scenarios]
    firms_table = _settings_table("Firms: levers as resolved", per_firm, columns, pairs)
    if pairs:
        firms_table.note = ("Each firm by its key, in scenario a then scenario b (its column "
                            "marked (a) or (b)). " + firms_table.note).strip()
    tables.append(firms_table)
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
