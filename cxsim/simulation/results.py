"""Results of one run: five tidy DataFrames, saved as Parquet and read back equal.

``timeseries``
    One row per firm and month. Stocks (``active_clients``, ``prospects``,
    ``left_market`` (clients who left the category), ``mean_memory``,
    ``mean_trust``, ``mean_expectation``) are read at the month's end; flows
    (``acquisitions``, ``churned``, ``purchases``, ``revenue``, ``margin``,
    ``cost_to_serve``, ``cx_spend``, ...) are summed over the month.
    ``nps_true`` is % promoters (9-10) minus % detractors (0-6) among the
    clients who answered that month (every client answers after each journey).
    Three NPS, one per way of listening: ``nps_true`` (every answer),
    ``nps_measured`` (what the firm's own survey heard, ``nps_surveyed``
    answers of ``survey_invited`` asked: ``response_rate``) and ``nps_market``
    (the industry study: ``nps_market_answers`` clients who ever dealt with
    the firm, current or former).
``segments``
    One row per firm, segment and month: ``active_clients``, ``share`` (of the
    segment's active clients), ``acquisitions``, ``churned``, ``purchases``,
    ``revenue``, ``margin``, ``nps_answers`` and ``nps_true``.
``clients``
    One row per client-firm relationship: ``acquired_at`` and ``churned_at``
    (NaN while active) in days, ``purchases``, ``revenue``, ``margin`` and
    ``clv``: the margin the client actually paid, each payment discounted
    continuously to the acquisition date at ``sim.discount_rate`` per year,
    censored at the horizon. A simulation output, never a formula.
``touchpoints``
    One row per firm and touchpoint: visits, ``mean_wait`` (days),
    ``mean_affect`` and ``mean_quality`` (the journey's emotion curve),
    failures, recoveries, ``share_waited`` (visits that queued at all),
    ``mean_queue_length`` (time average of clients waiting), after warm-up.
``summary``
    One row per firm: ``clv_mean`` with a 95% Student-t interval over the
    relationships acquired after warm-up, ``retention_annual``, ``nps_true``,
    ``nps_measured`` and ``nps_market`` (after warm-up, and over the final year; the
    study's answers and share of promoters in the final year),
    ``active_final``, totals of revenue, margin and spend. Word of mouth
    twice: ``referral_share`` (referral over marketing + referral
    acquisitions, which the budget split moves) and
    ``referrals_per_client_year`` (referral acquisitions per active
    client-year, month-end stocks times month lengths: what each client's
    talk brings, whatever the acquisition budget).
``journeys`` (with ``sim.record_journeys``)
    One row per evaluated walk: client, firm, need and end days, ``completed``
    (a purchase), visits, memory, NPS answer, churned.
``visits`` (with ``sim.record_visits``; None otherwise)
    The run as an event log, one row per visit of an evaluated walk (warm-up
    included): ``case`` (the walk, numbered by its start), ``client``,
    ``firm``, ``touchpoint``, ``start`` (service began, after any wait) and
    ``end`` in days, ``wait`` (days in the queue before ``start``: the arrival
    is ``start - wait``), and the walk's ``outcome`` (purchase, no_purchase or
    walk_away: an abandonment, at a walk-away exit or without one).

Every row carries ``run_id``, ``seed``, ``replication`` (the spawn key) and
``config_hash``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy.special import stdtrit

from cxsim.config import DAYS_PER_YEAR, Config, as_plain
from cxsim.errors import ConfigError
from cxsim.files import atomic_write, read_json, read_parquet, read_yaml
from cxsim.model.psychology import clv_estimate, nps_from_counts
from cxsim.version import __version__

__all__ = ["Results", "mean_ci", "monthly_band", "ratio_ci", "Crossover", "crossover",
           "crossover_month", "sure_month", "month_number"]

SAVED_SECTIONS = ("sim", "market", "firms")  # a saved config.yaml's sections that pages read
SAVED_NUMBERS = ("sim.years", "sim.days_per_month", "market.size")  # and numbers they print
TABLES = ("timeseries", "segments", "clients", "touchpoints", "summary", "journeys", "visits")
OPTIONAL = ("journeys", "visits")
"""Tables a run keeps only when asked (``sim.record_journeys``, ``sim.record_visits``)."""
_IDS = "run_id seed replication config_hash "
COLUMNS = {table: frozenset((_IDS + names).split()) for table, names in {
    "timeseries": "firm month t_days acquisitions acquisitions_marketing acquisitions_referral "
    "acquisitions_switch churned purchases abandoned revenue margin cost_to_serve "
    "onboarding_cost acquisition_spend nps_answers active_clients prospects left_market "
    "mean_memory mean_trust mean_expectation cx_spend returned nps_surveyed culture will power "
    "being skill funding cx_budget_split survey_invited nps_market_answers nps_true "
    "nps_measured perception_gap share revenue_share nps_market response_rate",
    "segments": "firm segment month active_clients acquisitions churned purchases nps_answers "
    "revenue margin share nps_true",
    "clients": "client firm source acquired_at churned_at purchases revenue margin clv",
    "touchpoints": "firm touchpoint stage channel staffed staff visits share_waited mean_wait "
    "mean_affect mean_quality failures recoveries mean_queue_length",
    "summary": "firm clv_mean clv_ci_low clv_ci_high clv_n retention_annual nps_true "
    "nps_measured perception_gap nps_market nps_true_final_year nps_measured_final_year "
    "nps_market_final_year nps_market_answers_final_year promoter_share_market_final_year "
    "share_final revenue_share_final_year referral_share "
    "referrals_per_client_year clv_final_year return_on_cx_spend active_final prospects_final "
    "acquisitions_total churned_total purchases_total revenue_total margin_total cx_spend_total "
    "cost_to_serve_total acquisition_spend_total",
}.items()}
"""Every table's columns as a run writes them (§8 of docs/model.md): a saved file that lacks
one is not the table its name says, and is refused on reading."""
_SOURCES = ("initial", "marketing", "referral", "switch")


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval; NaN bounds with fewer than 2 values."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(values.mean())
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = stdtrit(values.size - 1, 0.5 + level / 2) * values.std(ddof=1) / np.sqrt(
        values.size)
    return mean, mean - half, mean + half


def monthly_band(timeseries: pd.DataFrame, metric: str, by: Sequence[str] = ("firm",),
                 scale: float = 1.0, level: float = 0.95) -> pd.DataFrame:
    """Per group of *by* and month: the mean of *metric* (times *scale*) over replications
    and its Student-t band, of the finite values (``n`` counts them), groups in the order
    they first appear. The one monthly band: ensembles, charts and experiments say the same
    interval."""
    rows = []
    for key, runs in timeseries.groupby([*by, "month"], sort=False):
        values = scale * runs[metric].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        rows.append((*key, *mean_ci(values, level), values.size))
    return pd.DataFrame(rows, columns=[*by, "month", "mean", "ci_low", "ci_high", "n"])


def ratio_ci(top: np.ndarray, bottom: np.ndarray, level: float = 0.95
             ) -> tuple[float, float, float]:
    """Ratio of two paired means, ``mean(top) / mean(bottom)``, with a delta-method interval.

    ``se = sd(top - r bottom) / (sqrt(n) |mean(bottom)|)``: the linearised
    variance of a ratio estimator (Cochran 1977, *Sampling Techniques*, 3rd
    ed., 6.3), with n - 1 degrees of freedom. NaN bounds with fewer than 2
    pairs, NaN throughout when the bottom mean is 0.
    """
    top, bottom = np.asarray(top, dtype=float), np.asarray(bottom, dtype=float)
    if top.size == 0 or bottom.mean() == 0:
        return float("nan"), float("nan"), float("nan")
    r = float(top.mean() / bottom.mean())
    if top.size < 2:
        return r, float("nan"), float("nan")
    se = (top - r * bottom).std(ddof=1) / (np.sqrt(top.size) * abs(bottom.mean()))
    half = float(stdtrit(top.size - 1, 0.5 + level / 2) * se)
    return r, r - half, r + half


def _nps(monthly: dict[str, np.ndarray], promoters: str, detractors: str, answers: str,
         firm: int, first_month: int) -> float:
    """NPS over months *first_month* on: % promoters minus % detractors (Reichheld 2003)."""
    return float(nps_from_counts(monthly[promoters][firm][first_month:].sum(),
                                 monthly[detractors][firm][first_month:].sum(),
                                 monthly[answers][firm][first_month:].sum()))


def _ratio(top: float, bottom: float) -> float:
    """*top* per unit of *bottom*; undefined (NaN) when *bottom* is 0 or so near it that the
    ratio overflows (a CX budget share of 5e-324 spends nothing, as one of 0 does)."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        ratio = float(np.float64(top) / bottom) if bottom else np.nan
    return ratio if np.isfinite(ratio) else np.nan


def _clv_final_year(final_year: pd.DataFrame, discount_rate: float) -> float:
    """CLV now: :func:`cxsim.model.psychology.clv_estimate` of the final year's margin per client
    and churn, the value of a client at the relationship the firm has *now*, so firms are
    compared on the same footing whenever their clients came."""
    active = final_year.active_clients.mean()
    if active <= 0:
        return np.nan
    churn = min(final_year.churned.sum() / active, 1.0)
    return float(clv_estimate(final_year.margin.sum() / active, churn, discount_rate))


def month_number(month: int) -> int:
    """The number a reader sees for month index *month* (``Results.month``, 0 first).

    The first month is month 1: a month is drawn at its end, ``t_days /
    days_per_month``, which is ``month + 1``, so text and chart count alike.
    Display only: the tables keep their 0-based ``month``.
    """
    return int(month) + 1


@dataclass(frozen=True)
class Crossover:
    """When one firm's share lead over another became for good (:func:`crossover`).

    Months are ``Results.month`` indices (0 first); show them with
    :func:`month_number`. ``month`` is the crossover: the first month of the
    last run of months in which the mean lead is above 0, up to the horizon
    (0: led from the start; None: the mean lead is not above 0 in the last
    month). ``sure`` is the first month from which the paired 95% interval of
    the lead stays above 0 (None without one to the horizon, or with one
    replication); a lower bound above 0 has its mean above 0, so ``sure`` is
    never before ``month``. ``was_behind``: before ``month``, the interval
    was below 0 in some month (the other firm led beyond chance).
    """

    month: int | None
    sure: int | None
    was_behind: bool
    replications: int

    @property
    def led_from_start(self) -> bool:
        """The mean lead is above 0 in every month: nothing crossed over."""
        return self.month == 0

    @property
    def crossed(self) -> bool:
        """The mean shares crossed and stay crossed to the horizon."""
        return self.month is not None and self.month > 0

    @property
    def claimed(self) -> bool:
        """The crossover a page shows: the means crossed, and the interval says a crossover
        exists, the other firm ahead before it and this one ahead by the horizon.

        A crossing of the means alone may be chance: two firms level at the
        start, or the few pairs a run streams first, cross back and forth.
        """
        return self.crossed and self.was_behind and self.sure is not None


def _last_run_from(above: np.ndarray) -> int | None:
    """The first index of the run of True values that ends at the last index, else None."""
    if above.size == 0 or not above[-1]:
        return None
    below = np.flatnonzero(~above)
    return int(below[-1] + 1) if below.size else 0


def crossover_month(differences: np.ndarray) -> int | None:
    """The first month from which on the mean lead stays above 0: the crossover.

    *differences* holds one row per replication and one column per month
    (e.g. the share of one firm minus the other's, on common random
    numbers). Returns the 0-based index of the first month of the last run
    of months whose mean is strictly above 0, so when the means cross more
    than once the last crossing counts; 0 if above in every month (led from
    the start); None if the mean is not above 0 in the last month.
    """
    differences = np.asarray(differences, dtype=float)
    with np.errstate(invalid="ignore"):
        return _last_run_from(differences.mean(axis=0) > 0)


def sure_month(differences: np.ndarray, level: float = 0.95) -> int | None:
    """First month from which on the paired CI of a difference stays above 0 to the horizon.

    Rows are replications, columns months, as for :func:`crossover_month`.
    Returns the 0-based index of the first month of the last run of months
    whose lower bound is strictly above 0 (a bound of exactly 0 is not
    above), or None if the lower bound is not above 0 in the last month.
    With fewer than 2 rows there is no interval, and so None.
    """
    differences = np.asarray(differences, dtype=float)
    low = np.array([mean_ci(differences[:, m], level)[1] for m in range(differences.shape[1])])
    return _last_run_from(low > 0)


def crossover(differences: np.ndarray, level: float = 0.95) -> Crossover:
    """The crossover of a lead (rows replications, columns months) and when it became sure."""
    differences = np.asarray(differences, dtype=float)
    month = crossover_month(differences)
    high = np.array([mean_ci(differences[:, m], level)[2] for m in range(month or 0)])
    return Crossover(month, sure_month(differences, level), bool((high < 0).any()),
                     int(differences.shape[0]))


@dataclass
class Results:
    """The outputs of one replication. See the module docstring for definitions."""

    timeseries: pd.DataFrame
    segments: pd.DataFrame
    clients: pd.DataFrame
    touchpoints: pd.DataFrame
    summary: pd.DataFrame
    journeys: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    visits: pd.DataFrame | None = None

    @classmethod
    def from_run(cls, *, cfg: Config, replication: int, config_hash: str, firm_names: list[str],
                 months: int, month_days: float, horizon_days: float, warmup_days: float,
                 monthly: dict[str, np.ndarray], segment_monthly: dict[str, np.ndarray],
                 segment_names: list[str], relationships: dict[str, np.ndarray],
                 touchpoints: dict[str, Any], journeys: dict[str, np.ndarray] | None,
                 prospects_final: int, visit_log: dict[str, np.ndarray] | None = None
                 ) -> Results:
        """Assemble the tables from the engine's arrays."""
        run_id = f"{config_hash}-s{cfg.seed}-r{replication}"
        ids = {"run_id": run_id, "seed": cfg.seed, "replication": replication,
               "config_hash": config_hash}
        n_firms = len(firm_names)
        names = np.array(firm_names, dtype=object)

        ts = {"firm": np.repeat(names, months), "month": np.tile(np.arange(months), n_firms),
              "t_days": np.tile(np.minimum((np.arange(months) + 1) * month_days, horizon_days),
                                n_firms)}
        ints = ("active_clients", "prospects", "left_market", "acquisitions",
                "acquisitions_marketing", "acquisitions_referral", "acquisitions_switch",
                "churned", "purchases", "abandoned", "nps_answers", "nps_surveyed", "returned",
                "survey_invited", "nps_market_answers")
        counts = ("promoters", "detractors", "promoters_measured", "detractors_measured",
                  "promoters_market", "detractors_market")
        for name, values in monthly.items():
            if name in counts:
                continue
            flat = values.reshape(-1)
            ts[name] = flat.astype(np.int64) if name in ints else flat
        with np.errstate(invalid="ignore", divide="ignore"):
            ts["nps_true"] = nps_from_counts(monthly["promoters"], monthly["detractors"],
                                             monthly["nps_answers"]).reshape(-1)
            ts["nps_measured"] = nps_from_counts(
                monthly["promoters_measured"], monthly["detractors_measured"],
                monthly["nps_surveyed"]).reshape(-1)
            ts["perception_gap"] = ts["nps_measured"] - ts["nps_true"]
            active = monthly["active_clients"]
            ts["share"] = (active / active.sum(axis=0)).reshape(-1)
            revenue = monthly["revenue"]
            ts["revenue_share"] = (revenue / revenue.sum(axis=0)).reshape(-1)
            ts["nps_market"] = nps_from_counts(
                monthly["promoters_market"], monthly["detractors_market"],
                monthly["nps_market_answers"]).reshape(-1)
            ts["response_rate"] = (monthly["nps_surveyed"]
                                   / monthly["survey_invited"]).reshape(-1)
        timeseries = pd.DataFrame({**ids, **ts})

        segments = cls._segments(ids, names, segment_names, months, segment_monthly)

        rel = relationships
        clients = pd.DataFrame({
            **ids,
            "client": rel["client"],
            "firm": names[rel["firm"]] if rel["firm"].size else np.array([], dtype=object),
            "source": np.array(_SOURCES, dtype=object)[rel["source"]] if rel["source"].size
            else np.array([], dtype=object),
            "acquired_at": rel["acquired_at"],
            "churned_at": rel["churned_at"],
            "purchases": rel["purchases"],
            "revenue": rel["revenue"],
            "margin": rel["margin"],
            "clv": rel["clv"],
        })

        tp = dict(touchpoints)
        visits = tp.pop("visits")
        with np.errstate(invalid="ignore", divide="ignore"):
            table = {
                "firm": names[tp.pop("firm")],
                "touchpoint": tp.pop("touchpoint"),
                "stage": tp.pop("stage"),
                "channel": tp.pop("channel"),
                "staffed": tp.pop("staffed").astype(bool),
                "staff": tp.pop("staff").astype(np.int64),
                "visits": visits.astype(np.int64),
                "share_waited": tp.pop("waited") / visits,
                "mean_wait": tp.pop("wait_sum") / visits,
                "mean_affect": tp.pop("affect_sum") / visits,
                "mean_quality": tp.pop("quality_sum") / visits,
                "failures": tp.pop("failures").astype(np.int64),
                "recoveries": tp.pop("recoveries").astype(np.int64),
                "mean_queue_length": tp.pop("mean_queue_length"),
            }
        touchpoints_df = pd.DataFrame({**ids, **table})

        summary = cls._summarise(ids, firm_names, timeseries, clients, monthly, warmup_days,
                                 month_days, prospects_final, cfg.sim.discount_rate)
        journeys_df = None
        if journeys is not None:
            journeys_df = pd.DataFrame({**ids, **{
                k: (names[v] if k == "firm" and v.size else v) for k, v in journeys.items()}})
        meta = {
            "run_id": run_id, "seed": cfg.seed, "replication": replication,
            "spawn_key": [replication], "config_hash": config_hash,
            "cxsim_version": __version__, "horizon_days": horizon_days,
            "warmup_days": warmup_days, "days_per_month": month_days,
        }
        visits_df = None
        if visit_log is not None:
            visits_df = pd.DataFrame({**ids, **visit_log, "firm": pd.Categorical.from_codes(
                visit_log["firm"], firm_names)})
        return cls(timeseries, segments, clients, touchpoints_df, summary, journeys_df, meta,
                   as_plain(cfg), visits_df)

    @staticmethod
    def _segments(ids: dict, names: np.ndarray, segment_names: list[str], months: int,
                  monthly: dict[str, np.ndarray]) -> pd.DataFrame:
        """One row per firm, segment and month: where each firm wins or loses whom."""
        n_firms, n_segments = len(names), len(segment_names)
        table = {
            "firm": np.repeat(names, n_segments * months),
            "segment": np.tile(np.repeat(np.array(segment_names, dtype=object), months),
                               n_firms),
            "month": np.tile(np.arange(months), n_firms * n_segments),
        }
        for name in ("active_clients", "acquisitions", "churned", "purchases", "nps_answers"):
            table[name] = monthly[name].reshape(-1).astype(np.int64)
        for name in ("revenue", "margin"):
            table[name] = monthly[name].reshape(-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            active = monthly["active_clients"]
            table["share"] = (active / active.sum(axis=0)).reshape(-1)
            table["nps_true"] = nps_from_counts(monthly["promoters"], monthly["detractors"],
                                                monthly["nps_answers"]).reshape(-1)
        return pd.DataFrame({**ids, **table})

    @staticmethod
    def _summarise(ids: dict, firm_names: list[str], timeseries: pd.DataFrame,
                   clients: pd.DataFrame, monthly: dict[str, np.ndarray], warmup_days: float,
                   month_days: float, prospects_final: int, discount_rate: float
                   ) -> pd.DataFrame:
        rows = []
        first_month = int(np.floor(warmup_days / month_days + 1e-9))
        for f, name in enumerate(firm_names):
            mine = clients[(clients.firm == name) & (clients.source != "initial")
                           & (clients.acquired_at >= warmup_days)]
            clv_mean, clv_low, clv_high = mean_ci(mine.clv.to_numpy())
            ts = timeseries[timeseries.firm == name].iloc[first_month:]
            active = monthly["active_clients"][f]
            start = np.concatenate([[np.nan], active[:-1]])[first_month:]
            if first_month == 0:
                start[0] = active[0] - monthly["acquisitions"][f][0] + monthly["churned"][f][0]
            exposure = np.nansum(start)
            churn_rate = ts.churned.sum() / exposure if exposure > 0 else np.nan
            nps = _nps(monthly, "promoters", "detractors", "nps_answers", f, first_month)
            measured = _nps(monthly, "promoters_measured", "detractors_measured", "nps_surveyed",
                            f, first_month)
            final = max(first_month, monthly["nps_answers"].shape[1] - 12)
            new = ts.acquisitions_marketing.sum() + ts.acquisitions_referral.sum()
            month_days_run = np.diff(np.concatenate([[first_month * month_days],
                                                     ts.t_days.to_numpy()]))
            client_years = float(ts.active_clients @ month_days_run) / DAYS_PER_YEAR
            final_year = timeseries[timeseries.firm == name].iloc[-12:]
            cx_spend = ts.cx_spend.sum()
            rows.append({
                **ids,
                "firm": name,
                "clv_mean": clv_mean, "clv_ci_low": clv_low, "clv_ci_high": clv_high,
                "clv_n": int(len(mine)),
                "retention_annual": (1.0 - churn_rate) ** 12 if np.isfinite(churn_rate)
                else np.nan,
                "nps_true": nps,
                "nps_measured": measured,
                "perception_gap": measured - nps,
                "nps_market": _nps(monthly, "promoters_market", "detractors_market",
                                   "nps_market_answers", f, first_month),
                "nps_true_final_year": _nps(monthly, "promoters", "detractors", "nps_answers",
                                            f, final),
                "nps_measured_final_year": _nps(monthly, "promoters_measured",
                                                "detractors_measured", "nps_surveyed", f, final),
                "nps_market_final_year": _nps(monthly, "promoters_market", "detractors_market",
                                              "nps_market_answers", f, final),
                "nps_market_answers_final_year": int(monthly["nps_market_answers"][f][final:]
                                                     .sum()),
                "promoter_share_market_final_year": _ratio(
                    monthly["promoters_market"][f][final:].sum(),
                    monthly["nps_market_answers"][f][final:].sum()),
                "share_final": float(ts.share.iloc[-1]),
                "revenue_share_final_year": _ratio(final_year.revenue.sum(), timeseries.revenue[
                    timeseries.month >= final_year.month.iloc[0]].sum()),
                "referral_share": _ratio(ts.acquisitions_referral.sum(), new),
                "referrals_per_client_year": _ratio(ts.acquisitions_referral.sum(),
                                                    client_years),
                "clv_final_year": _clv_final_year(final_year, discount_rate),
                "return_on_cx_spend": _ratio(ts.margin.sum(), cx_spend),
                "active_final": int(active[-1]),
                "prospects_final": int(prospects_final),
                "acquisitions_total": int(ts.acquisitions.sum()),
                "churned_total": int(ts.churned.sum()),
                "purchases_total": int(ts.purchases.sum()),
                "revenue_total": float(ts.revenue.sum()),
                "margin_total": float(ts.margin.sum()),
                "cx_spend_total": float(ts.cx_spend.sum()),
                "cost_to_serve_total": float(ts.cost_to_serve.sum()),
                "acquisition_spend_total": float(ts.acquisition_spend.sum()),
            })
        return pd.DataFrame(rows)

    # ------------------------------------------------------------- save/load
    def save(self, directory: str | os.PathLike) -> Path:
        """Write Parquet tables, ``summary.json``, ``config.yaml`` and ``meta.json``.

        Each file is written under a temporary name and moved into place;
        ``meta.json`` comes last, so a directory without it is not a result.
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        (out / "meta.json").unlink(missing_ok=True)

        def put(name: str, write) -> None:
            atomic_write(out / name, write)

        for table in TABLES:
            frame = getattr(self, table)
            if frame is not None:
                put(f"{table}.parquet", lambda p, f=frame: f.to_parquet(p, index=False))
        summary = json.loads(self.summary.to_json(orient="records"))
        put("summary.json", lambda p: p.write_text(json.dumps(summary, indent=2)))
        put("config.yaml", lambda p: p.write_text(yaml.safe_dump(self.config, sort_keys=False)))
        put("meta.json", lambda p: p.write_text(json.dumps(self.meta, indent=2)))
        return out

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Results:
        """Read a directory written by :meth:`save`.

        A missing, unreadable or damaged file (every table but the optional
        ``journeys``, ``meta.json``, ``config.yaml``), or a ``config.yaml``
        without the sections pages read, is a ConfigError naming it.
        """
        out = Path(directory)
        if not (out / "meta.json").is_file():
            raise FileNotFoundError(f"{out} holds no complete cxsim result (no meta.json)")
        meta = read_json(out / "meta.json")
        config = read_yaml(out / "config.yaml")
        for section in SAVED_SECTIONS:
            if not isinstance(config.get(section), dict):
                raise ConfigError(str(out / "config.yaml"), f"must hold the run's {section!r} "
                                  "section, as cxsim saves it")
        for key in SAVED_NUMBERS:
            section, name = key.split(".")
            value = config[section].get(name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(str(out / "config.yaml"), f"must hold the run's {key} as a "
                                  "number, as cxsim saves it", value)
        frames = {}
        for table in TABLES:
            path = out / f"{table}.parquet"
            optional = table in OPTIONAL and not path.exists()
            frames[table] = None if optional else read_parquet(path)
            if optional or table not in COLUMNS:
                continue
            missing = COLUMNS[table] - set(frames[table].columns)
            if missing:
                raise ConfigError(str(path), f"is not a cxsim {table} table (it has no column "
                                  f"{min(missing)!r})")
        return cls(**frames, meta=meta, config=config)
