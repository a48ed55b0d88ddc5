"""The studio's answer to a what-if: the verdict in words, the paired differences, the shares.

Rendered from a template with autoescaping, from the same builders as the
comparison report (``cxsim.report``), so the page says what the report says.
"""

from __future__ import annotations

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from cxsim.report import answer, charts, journey_map
from cxsim.report.comparison import Compared, comparison_sentences, share_change_chart
from cxsim.report.page import Chart
from cxsim.report.run import currency_of, leading, named, run_sentences
from cxsim.simulation.experiment import Comparison, Ensemble

__all__ = ["DIFFERENCES", "answer_html", "differences", "story_html"]

DIFFERENCES = (("clv_final_year", "CLV now", 1.0, " per client", 0, True),
               ("share_final", "final market share", 100.0, " points", 1, False),
               ("nps_true", "true NPS", 1.0, "", 1, False),
               ("nps_measured", "measured NPS", 1.0, "", 1, False),
               ("nps_market", "NPS by the industry study", 1.0, "", 1, False))
"""What the page shows of B - A per firm: column, words, scale, unit, digits, money."""

_ENVIRONMENT = Environment(loader=PackageLoader("cxsim.studio", "templates"),
                           autoescape=select_autoescape(default=True, default_for_string=True),
                           trim_blocks=True, lstrip_blocks=True)


def differences(comparison: Comparison, config: dict | None = None) -> pd.DataFrame:
    """Per firm and metric of :data:`DIFFERENCES`: B - A with its 95% CI, as shown and raw;
    the firm by its key and by its display name in *config* (scenario A's, a plain dict)."""
    table = comparison.table([column for column, *_ in DIFFERENCES])
    words = {column: rest for column, *rest in DIFFERENCES}
    config = config or {}
    names = named(table[["firm"]], config).firm
    rows = []
    for row, name in zip(table.itertuples(index=False), names):
        what, scale, unit, digits, money = words[row.metric]
        estimate = answer.Estimate(scale * row.diff, scale * row.ci_low, scale * row.ci_high,
                                   int(row.n))
        rows.append({"firm": row.firm, "name": name, "metric": what,
                     "shown": answer.interval(estimate, unit, digits,
                                              currency_of(config) if money else ""),
                     "diff": estimate.mean, "ci_low": estimate.low,
                     "ci_high": estimate.high, "n": estimate.n})
    return pd.DataFrame(rows)


def _shares(ensemble: Ensemble, days_per_month: float, label: str, title: str) -> Chart:
    """Each firm's market share over time, 95% bands, the crossover marked (two firms) once the
    interval says it exists (:attr:`cxsim.simulation.results.Crossover.claimed`), as pairs
    arrive."""
    crossing = None
    if ensemble.summary.firm.nunique() >= 2:
        _, _, _, crossing = leading(ensemble.summary, ensemble.timeseries)
    series = {f"{label}{firm}": ensemble.timeseries[ensemble.timeseries.firm == firm]
              for firm in dict.fromkeys(ensemble.timeseries.firm)}
    return charts.share_over_time(series, days_per_month, crossing, title)


def answer_html(compared: Compared, planned: int, maps: bool = False) -> str:
    """The answer block for the pairs finished so far (of *planned*): the verdict, the
    difference chart (B - A share by month), the differences, then the rest; with *maps*
    (once all pairs are in: they take a while to draw), each firm's journey map of the
    change from A to B."""
    comparison = compared.comparison
    days_per_month = float(compared.meta["days_per_month"])
    config = compared.meta["config_a"]
    shares = [_shares(Ensemble(named(ensemble.summary, config),
                               named(ensemble.timeseries, config)), days_per_month,
                      f"{label}: ", f"Market share over time, scenario {label}")
              for label, ensemble in (("A", comparison.a), ("B", comparison.b))]
    if maps:
        shares += journey_map.comparison_maps(comparison.a.touchpoints,
                                              comparison.b.touchpoints, config,
                                              compared.meta["config_b"])
    verdict, *rest = comparison_sentences(compared)
    return _ENVIRONMENT.get_template("answer.html.j2").render(
        pairs=comparison.a.n, planned=planned, verdict=verdict, sentences=rest,
        headline=share_change_chart(compared), differences=differences(comparison, config),
        charts=shares)


def story_html(chapters: list[tuple[str, Ensemble]], days_per_month: float, planned: int,
               config: dict | None = None) -> str:
    """The trainer's story: for each market (title, ensemble), who leads and when it
    crossed over, in words and as market share over time (firms named as in *config*)."""
    shown = []
    config = config or {}
    for title, ensemble in chapters:
        ensemble = Ensemble(named(ensemble.summary, config),
                            named(ensemble.timeseries, config))
        two = ensemble.summary.firm.nunique() >= 2
        sentences = (run_sentences(ensemble.summary, ensemble.timeseries, currency_of(config))
                     if two else [])
        shown.append((title, ensemble.n, sentences,
                      _shares(ensemble, days_per_month, "", f"Market share over time: {title}")))
    return _ENVIRONMENT.get_template("story.html.j2").render(chapters=shown, planned=planned)
