"""The studio's answer to a what-if: the verdict in words, the paired differences, the shares.

Rendered from a template with autoescaping, from the same builders as the
comparison report (``cxsim.report``), so the page says what the report says.
The answer as shown is data first (:class:`ShownAnswer`): a kept what-if keeps
that data and the template draws it again, with the same numbers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from cxsim.errors import ConfigError
from cxsim.report import answer, charts, journey_map
from cxsim.report.comparison import Compared, comparison_sentences, headline_chart
from cxsim.report.page import Chart, Page, Tile, table_from_frame
from cxsim.report.run import (
    CLV_NOTE,
    currency_of,
    industry_frame,
    industry_sentences,
    industry_tiles,
    leading,
    named,
    run_sentences,
)
from cxsim.simulation.delivery_gap import believe_and_agree, delivery_gap
from cxsim.simulation.experiment import Comparison, Ensemble
from cxsim.studio.markup import render

__all__ = ["DIFFERENCES", "GapChapter", "ShownAnswer", "answer_html", "differences",
           "gap_chapter", "shown_answer", "story_html", "trainer_report"]

DIFFERENCES = (("clv_final_year", "CLV now", 1.0, " per client", 0, True),
               ("share_final", "final market share", 100.0, " points", 1, False),
               ("nps_true", "true NPS", 1.0, "", 1, False),
               ("nps_measured", "measured NPS", 1.0, "", 1, False),
               ("nps_market", "NPS by the industry study", 1.0, "", 1, False))
"""What the page shows of B - A per firm: column, words, scale, unit, digits, money."""

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


_ROW = {"firm": str, "name": str, "metric": str, "shown": str, "diff": float,
        "ci_low": float, "ci_high": float, "n": int}
"""A row of the differences as an answer keeps it: its keys and their types."""
_CHART = {"data_uri": str, "alt": str, "caption": str}
_ANSWER = {"pairs": int, "planned": int, "verdict": str, "sentences": list, "headline": object,
           "differences": list, "charts": list}


@dataclass(frozen=True)
class ShownAnswer:
    """The answer as the page shows it, as data: the pairs finished (of *planned*), the
    verdict and the sentences after it, the headline chart (None while it is drawn), the
    differences per firm and metric (:data:`_ROW`) and the charts below them.

    Plain data (:meth:`data`) is what a kept what-if keeps; :meth:`html` draws it with the
    page's template, so a kept answer is text the template escapes, never markup."""

    pairs: int
    planned: int
    verdict: str
    sentences: tuple[str, ...]
    headline: Chart | None
    differences: tuple[dict, ...]
    charts: tuple[Chart, ...]

    def html(self) -> str:
        return render(
            "answer.html.j2", pairs=self.pairs, planned=self.planned, verdict=self.verdict,
            sentences=self.sentences, headline=self.headline, differences=self.differences,
            charts=self.charts)

    def data(self) -> dict:
        """As JSON holds it (floats written exactly: ``json`` writes their repr)."""
        chart = dataclasses.asdict
        return {"pairs": self.pairs, "planned": self.planned, "verdict": self.verdict,
                "sentences": list(self.sentences),
                "headline": None if self.headline is None else chart(self.headline),
                "differences": [dict(row) for row in self.differences],
                "charts": [chart(c) for c in self.charts]}

    @classmethod
    def from_data(cls, data: object, where: str) -> ShownAnswer:
        """An answer from :meth:`data`'s form, each field checked (a chart's picture must
        be a ``data:image/`` URI).

        Raises
        ------
        ConfigError
            Naming *where* and the first field that is not what the page writes.
        """
        def fail(what: str) -> ConfigError:
            return ConfigError(where, f"is not an answer the studio kept ({what})")

        def checked(value: object, kinds: dict[str, type], what: str) -> dict:
            if not isinstance(value, dict) or set(value) != set(kinds):
                raise fail(f"{what} must have the fields {', '.join(kinds)}")
            for key, kind in kinds.items():
                got = value[key]
                if isinstance(got, bool) or not (isinstance(got, kind) or (
                        kind is float and isinstance(got, int))):
                    raise fail(f"{what}'s {key} must be {kind.__name__}")
            return value

        def chart(value: object, what: str) -> Chart:
            value = checked(value, _CHART, what)
            if not value["data_uri"].startswith("data:image/"):
                raise fail(f"{what}'s picture must be a data:image/ URI")
            return Chart(**value)

        data = checked(data, _ANSWER, "the answer")
        if not all(isinstance(s, str) for s in data["sentences"]):
            raise fail("its sentences must be text")
        rows = tuple(checked(row, _ROW, "a difference") for row in data["differences"])
        return cls(data["pairs"], data["planned"], data["verdict"], tuple(data["sentences"]),
                   None if data["headline"] is None else chart(data["headline"], "the headline"),
                   tuple({key: kind(row[key]) for key, kind in _ROW.items()} for row in rows),
                   tuple(chart(c, "a chart") for c in data["charts"]))


def shown_answer(compared: Compared, planned: int, charts: bool = True, maps: bool = False
                 ) -> ShownAnswer:
    """The answer block for the pairs finished so far (of *planned*): the verdict, the
    difference chart (B - A share by month), the differences, then the rest.

    Without *charts*, the words and numbers only, the headline chart's place kept: a
    tenth of the time (the charts take the rest), so the first answer is read while its
    charts are drawn. With *maps* (once all pairs are in: they take a while to draw),
    each firm's journey map of the change from A to B."""
    comparison = compared.comparison
    days_per_month = float(compared.meta["days_per_month"])
    config = compared.meta["config_a"]
    shares = [_shares(Ensemble(named(ensemble.summary, config),
                               named(ensemble.timeseries, config)), days_per_month,
                      f"{label}: ", f"Market share over time, scenario {label}")
              for label, ensemble in (("A", comparison.a), ("B", comparison.b))] if charts else []
    if maps:
        shares += journey_map.comparison_maps(comparison.a.touchpoints,
                                              comparison.b.touchpoints, config,
                                              compared.meta["config_b"])
    verdict, *rest = comparison_sentences(compared)
    rows = tuple({key: kind(getattr(row, key)) for key, kind in _ROW.items()}
                 for row in differences(comparison, config).itertuples(index=False))
    return ShownAnswer(int(comparison.a.n), planned, verdict, tuple(rest),
                       headline_chart(compared) if charts else None, rows, tuple(shares))


def answer_html(compared: Compared, planned: int, charts: bool = True, maps: bool = False
                ) -> str:
    """:func:`shown_answer` drawn."""
    return shown_answer(compared, planned, charts, maps).html()


@dataclass(frozen=True)
class GapChapter:
    """The delivery gap of an industry's runs, as the trainer's third chapter tells it: the
    sentences (the answer first), the figures of :func:`cxsim.simulation.delivery_gap.
    delivery_gap` (mean, 95% CI low, high), the first screen's tiles and the chart."""

    sentences: list[str]
    figures: dict[str, tuple[float, float, float]]
    tiles: list[Tile]
    chart: Chart


def gap_chapter(summary: pd.DataFrame, config: dict | None = None) -> GapChapter:
    """The third chapter from an industry's summaries (three firms or more): the report's
    industry sentences, with the gap (believe minus agree) and its 95% CI after the bottom
    line, beside Bain's 80% and 8%."""
    config = config or {}
    summary = named(summary, config)
    table = believe_and_agree(summary)
    figures = delivery_gap(summary)
    bottom, benchmark, *_ = industry_sentences(summary, table, currency_of(config))
    gap = answer.Estimate(*(100 * v for v in figures["gap"]), n=len(table))
    sign = "+" if gap.mean > 0 else ""
    if gap.has_interval and gap.low > 0:
        verdict = ": by their own surveys firms think better of themselves than their clients do"
    elif gap.has_interval:
        verdict = "; the interval includes 0, so these runs cannot tell it from no gap"
    else:
        verdict = ""
    gap_sentence = (f"The delivery gap, the share that believe minus the share whose clients "
                    f"agree, is {sign}{answer.interval(gap, ' points', 0)}{verdict}. Their "
                    "surveys ask only buyers, and the pleased answer more; the study asks "
                    "everyone who dealt with the firm.")
    return GapChapter([bottom, gap_sentence, benchmark], figures, industry_tiles(summary, table),
                      charts.believe_and_agree(table))


def trainer_report(demo: Page, chapter: GapChapter, summary: pd.DataFrame, config: dict,
                   command: str) -> Page:
    """The trainer's report (``make demo``'s page) with the third chapter added: its
    sentences after the two markets', its tiles, its chart and the firms' table, and the
    industry run's command beside the demo's (its own report has every chart of it)."""
    n = int(summary.replication.nunique())
    summary = named(summary, config)
    firms = summary.firm.nunique()
    table = table_from_frame(f"The delivery gap: key figures per firm of the industry (mean and "
                             f"95% CI over {n} replications)", industry_frame(
                                 summary, currency_of(config)), CLV_NOTE, "industry",
                             "industry.csv")
    return dataclasses.replace(
        demo,
        subtitle=(f"{demo.subtitle}; then an industry of {firms} firms, "
                  f"{config['market']['size']:,} clients over {config['sim']['years']:g} years"),
        answer=[*demo.answer, *(f"The delivery gap ({firms} firms that survey their buyers). "
                                + sentence if k == 0 else sentence
                                for k, sentence in enumerate(chapter.sentences))],
        tiles=[*demo.tiles, *chapter.tiles[:2]],
        tables=[*demo.tables, table],
        charts=[*demo.charts, chapter.chart],
        next_steps=[*demo.next_steps, ("the delivery gap's own report, every chart of the "
                                       "industry (cxsim-report on the folder it prints)",
                                       command)],
        command=f"{demo.command}\n{command}")


def story_html(chapters: list[tuple[str, Ensemble]], days_per_month: float, planned: int,
               config: dict | None = None,
               gap: tuple[str, int, GapChapter] | None = None) -> str:
    """The trainer's story: for each market (title, ensemble), who leads and when it
    crossed over, in words and as market share over time (firms named as in *config*);
    then, with *gap* (title, replications, chapter), the delivery gap."""
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
    return render("story.html.j2", chapters=shown, planned=planned, gap=gap)
