"""A market calibrated to a firm's own transaction log, and the check that it buys like it.

From a log of (customer, date, amount) rows (``cxsim.data.transactions``), one
fit per segment: how often each customer buys and when it silently stops
(the BG/NBD, ``cxsim.data.bgnbd``), and what it spends (the Gamma–Gamma,
``cxsim.data.gammagamma``). The fits become a market preset whose segments carry
the fitted distributions (``cxsim market=NAME``), a per-customer table
(probability still active, expected purchases next year, expected spend,
expected CLV), and a check: the log's repeat purchases week by week and per
customer, against the model's closed forms and against cxsim simulating the
fitted market with each customer joining on its first purchase's day
(emotions off, one firm, one touchpoint: the model the fit assumes),
through the calibration period and the holdout after it. The check is
reported, not tuned; a fit the log cannot support is flagged
(:func:`implausible`), and its result still written.
"""

from __future__ import annotations

import math
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaincinv

from cxsim.config import (
    DAYS_PER_YEAR,
    MAX_LABEL,
    MarketConfig,
    SegmentConfig,
    SimConfig,
    as_plain,
    bounds_of,
    compose,
    config_dir,
    to_config,
    validate,
)
from cxsim.data import bgnbd, gammagamma
from cxsim.data.transactions import Summary, read_log, summarise, weekly_repeat_purchases
from cxsim.errors import ConfigError
from cxsim.model.journey import NAME_PATTERN

__all__ = ["Calibration", "SegmentFit", "Typical", "calibrate", "fit_segments", "typical",
           "typicals", "implausible", "market_preset", "checked_preset", "lever_sources",
           "customer_table", "repeat_purchases", "COUNTS", "SOURCES", "DEFAULT",
           "SPREAD_FLOOR", "check_config", "default_label", "simulate_check",
           "with_check"]

WEEK = 7.0  # days: the log's unit of time, as in Fader, Hardie & Lee (2005)
COUNTS = 7  # repeat purchases shown one by one, 0 .. 6, then 7 or more
UNSEGMENTED = "customers"  # the segment's name when the log has no segment column
CLV_YEARS = 10  # the horizon of the expected CLV; at 10% a year the rest is under 37%
SPREAD_FLOOR = 0.01  # an implied spread of one customer's spends below 1% of the log's is
#   implausible: the fit has explained every difference in spend by who spends it
SOURCES = {  # the segment levers the fit sets, and from what; the others are the default's
    "share": "the log: the segment's share of its customers",
    "purchase_rate": "the log: each customer's rate of buying (BG/NBD)",
    "dropout": "the log: each customer's chance of stopping (BG/NBD)",
    "dropout_after": "the BG/NBD's rule: a customer stops only after a repeat purchase",
    "spend": "the log: each customer's spend (Gamma-Gamma)",
    "mean_days_between_needs": "null: purchase_rate replaces it",
    "order_value": "null: spend replaces it",
}
DEFAULT = "the default market's: the log cannot tell it"
_JOURNEY = """\
name: purchase
reference_clients: 1
entry: purchase
exits: [purchase]
touchpoints:
  purchase:
    stage: purchase
    channel: web
    staffed: false
    service_days: 0.0001
    base_quality: 0.7
    failure_probability: 0.0
"""


@dataclass(frozen=True)
class SegmentFit:
    """One segment's fitted repeat buying (BG/NBD, time in weeks) and spend (Gamma–Gamma)."""

    name: str
    customers: int
    repeat_buying: bgnbd.Fit
    spend: gammagamma.Fit
    spenders: int  # customers with a repeat purchase that spent something: the spend fit's
    zero_spend: int  # calibration transactions that spent nothing
    spend_spread: float  # the log's: the median over the customers with two or more repeat
    #   purchases that spent something of their spends' coefficient of variation (NaN if none)
    spread_customers: int  # those customers


@dataclass
class Calibration:
    """What :func:`calibrate` found; see the module docstring."""

    fits: list[SegmentFit]
    market: dict
    customers: pd.DataFrame
    weekly: pd.DataFrame
    counts: pd.DataFrame
    holdout: pd.DataFrame
    totals: pd.DataFrame
    cohort: pd.DataFrame
    meta: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # implausible(fits)


def _segments(summary: Summary) -> list[tuple[str, np.ndarray]]:
    """Each segment's name and customers (positions in *summary*)."""
    if summary.segment is None:
        return [(UNSEGMENTED, np.arange(summary.x.size))]
    names = sorted(set(summary.segment.tolist()))
    for name in names:
        if not re.fullmatch(NAME_PATTERN, name):
            raise ConfigError("segment column", "values must be names of letters, digits, '_' "
                              "or '-' (they name the preset's segments)", name)
    return [(name, np.flatnonzero(summary.segment == name)) for name in names]


def fit_segments(summary: Summary) -> list[SegmentFit]:
    """BG/NBD and Gamma–Gamma fits, one per segment of *summary* (weeks, the log's money).

    The Gamma–Gamma uses the customers with a repeat purchase that spent
    something, at the mean of those purchases.
    """
    fits = []
    for name, mine in _segments(summary):
        where = "transaction log" + ("" if summary.segment is None else f", segment '{name}'")
        x, t_x, T = summary.x[mine], summary.t_x[mine], summary.T[mine]
        if mine.size < 2:
            raise ConfigError(where, "needs at least two customers to fit", int(mine.size))
        if not (x > 0).any():
            raise ConfigError(where, "has no repeat purchase in calibration, so repeat buying "
                              "cannot be fitted")
        try:
            repeat = bgnbd.fit(x, t_x, T)
        except ValueError:
            raise ConfigError(where, "cannot be fitted: the BG/NBD fit does not converge (no "
                              "finite maximum of the likelihood)") from None
        value = summary.mean_value[mine]
        paying = (x > 0) & np.isfinite(value) & (value > 0)
        if paying.sum() < 2:
            raise ConfigError(where, "needs at least two customers with a repeat purchase "
                              "that spent something, to fit spend", int(paying.sum()))
        try:
            spend = gammagamma.fit(x[paying], value[paying])
        except ValueError:
            raise ConfigError(where, "cannot be fitted: the Gamma-Gamma spend fit does not "
                              "converge") from None
        if not spend.q > 1.0 or not all(map(math.isfinite, (spend.p, spend.gamma,
                                                              repeat.log_likelihood))):
            raise ConfigError(where, "cannot be fitted: the Gamma-Gamma spend fit gives no "
                              "finite mean spend (q <= 1)", round(spend.q, 6))
        spread = summary.spend_spread[mine]
        spread = spread[np.isfinite(spread)]
        fits.append(SegmentFit(name, int(mine.size), repeat, spend, int(paying.sum()),
                               int(summary.zero_spend[mine].sum()),
                               float(np.median(spread)) if spread.size else math.nan,
                               int(spread.size)))
    return fits


@dataclass(frozen=True)
class Typical:
    """A segment's fit as the answer words it; docs/calibration.md says why these."""

    purchases_per_year: float  # the median rate of λ ~ Gamma(r, α): the typical customer's
    mean_purchases_per_year: float  # r / α, pulled up by the frequent buyers
    dropout: float  # the mean chance of stopping after a repeat purchase, a / (a + b)
    spend_quartiles: tuple[float, float]  # of the customers' mean spend p / ν, ν ~ Gamma(q, γ)


def typicals(calibration: Calibration) -> list[Typical]:
    """Each fit's typical customer, in the fits' order (what the report says in words)."""
    return [typical(f) for f in calibration.fits]


def typical(fit: SegmentFit) -> Typical:
    """What a typical customer of *fit*'s segment does: a median rate, since λ's Gamma is
    skewed (its mean is no customer's); the middle half of mean spends, since p / ν has a
    long right tail."""
    b, s = fit.repeat_buying, fit.spend
    per_year = DAYS_PER_YEAR / WEEK / b.alpha  # λ per week to per year
    return Typical(float(gammaincinv(b.r, 0.5)) * per_year, b.r * per_year, b.a / (b.a + b.b),
                   (s.p * s.gamma / float(gammaincinv(s.q, 0.75)),
                    s.p * s.gamma / float(gammaincinv(s.q, 0.25))))


_PARAMETERS = ("r", "alpha", "a", "b", "spend p", "spend q", "spend gamma")


def number(value: float) -> str:
    """A parameter as a line of text shows it: 94,780 rather than 9.478e+04."""
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def implausible(fits: list[SegmentFit]) -> list[str]:
    """One line per segment and rule its fit breaks, for the command's stderr and the page.

    Two rules (docs/calibration.md): (a) no parameter's standard error may exceed its
    estimate, nor be missing (the log does not pin it down); (b) the spread of one
    customer's spends the Gamma-Gamma implies, 1/sqrt(p), must be at least
    ``SPREAD_FLOOR`` of the spread the log shows (else the fit has explained every
    difference in spend by who spends it).
    """
    lines = []
    for f in fits:
        b, s = f.repeat_buying, f.spend
        estimates = (b.r, b.alpha, b.a, b.b, s.p, s.q, s.gamma)
        loose = [f"{name} {number(value)} ("
                 + ("no standard error" if math.isnan(se) else f"se {number(se)}") + ")"
                 for name, value, se in zip(_PARAMETERS, estimates, (*b.se, *s.se))
                 if not se <= value]
        if loose:
            lines.append(f"segment '{f.name}': a standard error above its estimate: "
                         f"{', '.join(loose)}; the log does not pin "
                         f"{'it' if len(loose) == 1 else 'them'} down")
        implied = 1.0 / math.sqrt(s.p)
        if implied < SPREAD_FLOOR * f.spend_spread:
            lines.append(f"segment '{f.name}': spend p {number(s.p)} says one customer's spends "
                         f"vary by {implied:.2%} (1/sqrt(p)), below {SPREAD_FLOOR:.0%} of the "
                         f"{f.spend_spread:.0%} the log shows (median over "
                         f"{f.spread_customers:,} customers with two or more repeat purchases "
                         "that spent something): an implausible spend fit")
    return lines


def _default_market() -> dict:
    import yaml

    return yaml.safe_load((config_dir() / "market" / "default.yaml").read_text())


def market_preset(fits: list[SegmentFit], label: str = MarketConfig.label,
                  currency: str = MarketConfig.currency) -> dict:
    """A market preset (the YAML of ``configs/market``) whose segments carry the fits.

    Rates become per year (α in years, Fader et al.'s α is in weeks); clients
    drop out only after a repeat purchase, as the BG/NBD says; everything the
    log cannot tell (margin, needs, emotions) is the default market's
    (:data:`SOURCES` names what the log sets). *label* names it in reports,
    *currency* is the log's money.
    """
    market = _default_market()
    template = market["segments"]["core"]
    size = sum(f.customers for f in fits)
    market.update(label=label, currency=currency, size=size)
    market["segments"] = {}
    for f in fits:
        b, s = f.repeat_buying, f.spend
        segment = dict(template)
        segment.update(
            share=f.customers / size,
            mean_days_between_needs=None,
            purchase_rate={"r": b.r, "alpha_years": b.alpha * WEEK / DAYS_PER_YEAR},
            dropout={"a": b.a, "b": b.b},
            dropout_after="repeat_purchase",
            order_value=None,
            spend={"p": s.p, "q": s.q, "gamma": s.gamma},
        )
        market["segments"][f.name] = segment
    return market


def lever_sources(market: dict) -> dict[str, str]:
    """Where each segment lever of the fitted *market* comes from: :data:`SOURCES`, else
    the default market (the log cannot tell it)."""
    levers = dict.fromkeys(key for segment in market["segments"].values() for key in segment)
    return {**{key: SOURCES[key] for key in levers if key in SOURCES},
            **{key: DEFAULT for key in levers if key not in SOURCES}}


def checked_preset(market: dict) -> dict:
    """*market* if a scenario can load it as its market; else ConfigError naming the fitted
    key outside the config's bounds (a degenerate fit), so no preset is written that
    cannot run."""
    try:
        to_config({**as_plain(to_config(compose(["network=none"]))), "market": market})
    except ConfigError as error:
        raise ConfigError("the fitted preset:", str(error)) from None
    return market


def preset_yaml(market: dict, fits: list[SegmentFit], source: str, end: str,
                 warnings: list[str]) -> str:
    import textwrap

    import yaml

    lines = [f"# Calibrated by cxsim-calibrate to the transaction log {source}, calibration "
             f"period to {end} inclusive.",
             "# BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma spend, maximum likelihood;"
             " the rest is the default market."]
    for f in fits:
        b, s = f.repeat_buying, f.spend
        lines.append(f"# {f.name}: {f.customers:,} customers; r {b.r:.4g} (se {b.se[0]:.2g}), "
                     f"alpha {b.alpha:.4g} weeks (se {b.se[1]:.2g}), a {b.a:.4g} (se "
                     f"{b.se[2]:.2g}), b {b.b:.4g} (se {b.se[3]:.2g}), LL {b.log_likelihood:.1f};"
                     f" spend p {s.p:.4g}, q {s.q:.4g}, gamma {s.gamma:.4g}")
    sources = lever_sources(market)
    lines += ["# Each segment's levers, and where they come from:",
              *(f"#   {key:<24} {source}" for key, source in sources.items()
                if source != DEFAULT),
              "# and, as the log cannot tell them, from the default market (set them to what "
              "you know):",
              *textwrap.wrap(", ".join(key for key, source in sources.items()
                                       if source == DEFAULT)
                             + "; and the market's keys but label, currency and size.",
                             width=96, initial_indent="#   ", subsequent_indent="#   ")]
    lines += [f"# warning: {line}" for line in warnings]
    return "\n".join(lines) + "\n" + yaml.safe_dump(market, sort_keys=False)


def customer_table(summary: Summary, fits: list[SegmentFit], discount_rate: float,
                   margin: float, clv_years: float = CLV_YEARS) -> pd.DataFrame:
    """Per customer: what the CLV libraries report, from the fits, and its holdout
    purchases, actual and expected given its calibration history (eq. 10).

    ``expected_clv`` is margin × expected spend × the discounted expected
    purchases of the next *clv_years* (monthly steps, continuous discounting
    at *discount_rate* per year from the calibration end).
    """
    columns: dict[str, np.ndarray] = {
        "customer": summary.customer,
        "segment": (np.full(summary.x.size, UNSEGMENTED, dtype=object)
                    if summary.segment is None else summary.segment),
        "first_purchase": summary.first, "repeat_purchases": summary.x,
        "recency_weeks": summary.t_x, "age_weeks": summary.T,
        "mean_spend": summary.mean_value, "zero_spend": summary.zero_spend}
    n = summary.x.size
    alive, next_year, spend, clv, holdout = (np.empty(n) for _ in range(5))
    months = np.arange(1, int(clv_years * 12) + 1) * (DAYS_PER_YEAR / 12 / WEEK)  # weeks
    discount = np.exp(-discount_rate * (months - months[0] / 2) * WEEK / DAYS_PER_YEAR)
    for f, (_, mine) in zip(fits, _segments(summary)):
        b = f.repeat_buying
        params = (b.r, b.alpha, b.a, b.b)
        x, t_x, T = summary.x[mine], summary.t_x[mine], summary.T[mine]
        alive[mine] = p = bgnbd.probability_alive(x, t_x, T, *params)
        (x_pair, T_pair), at, _ = bgnbd.distinct_rows(x.astype(float), T)  # t-dependent part
        times = np.array([DAYS_PER_YEAR / WEEK, summary.holdout_weeks, *months])
        if_alive = bgnbd.expected_repeats_if_alive(times[None, :], x_pair[:, None],
                                                   T_pair[:, None], *params)
        next_year[mine] = if_alive[at, 0] * p
        holdout[mine] = if_alive[at, 1] * p
        discounted = np.diff(if_alive[:, 2:], axis=1, prepend=0.0) @ discount
        spend[mine] = gammagamma.expected_spend(f.spend, x,
                                                np.nan_to_num(summary.mean_value[mine]))
        clv[mine] = margin * spend[mine] * discounted[at] * p
    columns.update(probability_active=alive, expected_purchases_next_year=next_year,
                   expected_spend=spend, expected_clv=clv, holdout_purchases=summary.holdout,
                   expected_holdout_purchases=holdout)
    return pd.DataFrame(columns)


def _weeks(summary: Summary) -> tuple[int, int, np.ndarray]:
    """Weeks of the log counted from its first day (the last may be partial), the days of
    calibration (its last one included), and each customer's first day."""
    origin = summary.first.min()
    first_days = (summary.first - origin).astype(np.int64).astype(float)
    calibration_days = int((summary.calibration_end - origin).astype(np.int64)) + 1
    span = calibration_days + summary.holdout_weeks * summary.unit_days
    return math.ceil(span / WEEK - 1e-9), calibration_days, first_days


def _expected(summary: Summary, fits: list[SegmentFit], weeks: int, first_days: np.ndarray,
              calibration_days: int) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """The closed forms over the cohort: expected repeat purchases by each week's end, the
    expected number of customers with 0..6 and 7+ repeat purchases in calibration, and the
    expected repeat purchases in calibration and in the holdout (eq. 7 and 8).

    Each customer's time runs from the start of its first purchase's day to the end of a
    period's last day, as in the log's counts and the simulation (the fit's T, as in the
    paper, ends at the start of the calibration's last day).
    """
    weekly = np.zeros(weeks)
    counts = np.zeros(COUNTS + 1)
    calibration = total = 0.0
    ends = WEEK * np.arange(1, weeks + 1)
    span = calibration_days + summary.holdout_weeks * summary.unit_days
    for f, (_, mine) in zip(fits, _segments(summary)):
        params = (f.repeat_buying.r, f.repeat_buying.alpha, f.repeat_buying.a, f.repeat_buying.b)
        days, many = np.unique(first_days[mine], return_counts=True)
        ages = np.maximum(ends[None, :] - days[:, None], 0.0) / WEEK
        weekly += many @ bgnbd.expected_repeats(ages, *params)
        age = (calibration_days - days) / WEEK
        calibration += many @ bgnbd.expected_repeats(age, *params)
        total += many @ bgnbd.expected_repeats((span - days) / WEEK, *params)
        probabilities = [many @ bgnbd.count_probability(x, age, *params) for x in range(COUNTS)]
        counts += np.append(probabilities, mine.size - sum(probabilities))
    return weekly, counts, (calibration, total - calibration)


def _simulation_config(market: dict, cohort: Path, journey: Path, weeks: int, seed: int):
    """The fitted market as the model it was fitted as: emotions off, one firm with one
    touchpoint that never fails, nobody returning, nobody else acquired."""
    cfg = as_plain(to_config(compose([
        "scenario=solo", f"firms.acme.journey={journey}", "firms.acme.initial_share=0",
        "network=none", f"seed={seed}", f"sim.years={weeks * WEEK / DAYS_PER_YEAR!r}",
        "management.review=false", "psychology.emotions=false", "sim.record_journeys=true"])))
    cfg["market"] = {**market, "cohort": str(cohort), "return_per_year": 0.0,
                     "organic_acquisition_per_year": 0.0, "max_paid_acquisition_per_year": 0.0}
    return to_config(cfg)


def repeat_purchases(results) -> tuple[np.ndarray, np.ndarray]:
    """The day of every repeat purchase in a run's journeys, and its client: a client's
    first completed walk is its trial, BG/NBD's time zero."""
    walks = results.journeys
    walks = walks[walks.completed].sort_values(["client", "ended_at"], kind="stable")
    repeat = walks.client.duplicated().to_numpy()
    return walks.ended_at.to_numpy()[repeat], walks.client.to_numpy()[repeat]


def _check_config(market: dict, cohort: pd.DataFrame, weeks: int, seed: int, folder: Path):
    """The run a fit's check simulates (:func:`_simulation_config`), its cohort and its one
    touchpoint's journey written in *folder*, which must last while the check runs."""
    journey = folder / "purchase.yaml"
    journey.write_text(_JOURNEY)
    cohort_file = folder / "cohort.csv"
    cohort.to_csv(cohort_file, index=False)
    return _simulation_config(market, cohort_file, journey, weeks, seed)


def _simulate(cfg, weeks: int, calibration_days: int, numbers: Sequence[int],
              progress: bool) -> dict[str, np.ndarray]:
    """Per replication of *numbers* of *cfg*: cumulative repeat purchases at each week's
    end, customers with 0..6 and 7+ repeat purchases in calibration, and repeat purchases in
    calibration and in the holdout."""
    from cxsim.simulation.experiment import simulated

    size, replications = cfg.market.size, len(numbers)
    weekly = np.empty((replications, weeks))
    counts = np.empty((replications, COUNTS + 1))
    holdout = np.empty(replications)
    calibration_total = np.empty(replications)
    for i, results in enumerate(simulated(cfg, list(numbers))):
        days, clients = repeat_purchases(results)
        weekly[i] = np.searchsorted(np.sort(days), WEEK * np.arange(1, weeks + 1))
        calibration = days < calibration_days
        per_client = np.bincount(clients[calibration], minlength=size)
        counts[i] = np.bincount(np.minimum(per_client, COUNTS), minlength=COUNTS + 1)
        holdout[i] = (~calibration).sum()
        calibration_total[i] = calibration.sum()
        if progress:
            print(f"\rsimulated {i + 1}/{replications} replications", end="",
                  file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    return {"numbers": np.asarray(numbers, dtype=np.int64), "weekly": weekly, "counts": counts,
            "calibration": calibration_total, "holdout": holdout}


def check_config(found: Calibration, folder: Path):
    """The run of *found*'s check (the fitted market as the model it was fitted as), its
    files written in *folder*, which must last while :func:`simulate_check` runs it."""
    return _check_config(found.market, found.cohort, found.meta["weeks"], found.meta["seed"],
                         folder)


def simulate_check(cfg, found: Calibration, numbers: Sequence[int]) -> dict[str, np.ndarray]:
    """Replications *numbers* of *found*'s check, *cfg* its :func:`check_config`: each the
    same whatever runs with it (keyed draws), so a check may run in parts, in any process,
    and be joined by :func:`with_check`."""
    return _simulate(cfg, found.meta["weeks"], round(found.meta["calibration_weeks"] * WEEK),
                     numbers, False)


def with_check(found: Calibration, parts: list[dict[str, np.ndarray]]) -> Calibration:
    """*found* with the check of its replications in *parts* (:func:`simulate_check`'s, in
    any order): the simulated mean and 95% band beside the log's weekly repeat purchases,
    counts and totals. All of the replications make :func:`calibrate`'s check; some, a first
    look."""
    parts = sorted(parts, key=lambda part: int(part["numbers"][0]))
    simulated = {key: np.concatenate([part[key] for part in parts])
                 for key in ("weekly", "counts", "calibration", "holdout")}
    weekly, counts, totals = found.weekly.copy(), found.counts.copy(), found.totals.copy()
    for frame, key in ((weekly, "weekly"), (counts, "counts")):
        frame["simulated"], frame["simulated_low"], frame["simulated_high"] = _band(
            simulated[key])
    both = np.column_stack([simulated["calibration"], simulated["holdout"]])
    totals["simulated"], totals["simulated_low"], totals["simulated_high"] = _band(both)
    return replace(found, weekly=weekly, counts=counts, totals=totals,
                   meta={**found.meta, "replications": len(both)})


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over replications and the 2.5% and 97.5% quantiles (the band a reader expects
    of a market's spread, not a CI of the mean)."""
    return (values.mean(axis=0), np.quantile(values, 0.025, axis=0),
            np.quantile(values, 0.975, axis=0))


DISCOUNT_RATE = bounds_of(SimConfig, "discount_rate")
MARGIN = bounds_of(SegmentConfig, "margin")
"""The bounds of ``--discount-rate`` and ``--margin``: the config's, declared once there."""


def calibrate(log: str | Path, calibration_end: str, *, customer: str = "customer",
              date: str = "date", amount: str = "amount", segment: str | None = None,
              date_format: str | None = None, replications: int = 20, seed: int = 0,
              discount_rate: float = SimConfig.discount_rate,
              margin: float = SegmentConfig.margin, label: str | None = None,
              currency: str = MarketConfig.currency, progress: bool = False) -> Calibration:
    """Calibrate a market to the transaction log *log* (CSV or Parquet); also ``cxsim.calibrate``.

    Parameters
    ----------
    log : the file; one purchase a row.
    calibration_end : the last day of the calibration period (inclusive); what follows,
        to the log's last day, is the holdout.
    customer, date, amount, segment : the log's column names; with *segment*, one fit
        per segment and a market of several segments.
    date_format : a ``strftime`` format for the dates (``%Y%m%d`` for CDNOW).
    replications : simulations of the fitted market for the check (0: none).
    seed : the simulations' seed.
    discount_rate, margin : for the expected CLV (per year, continuous; share kept).
    label : the preset's name in reports; default "customers of <the log's name>".
    currency : the log's money, written before amounts ("$", "€", "CHF").

    Returns
    -------
    Calibration : nothing is written; see :func:`write`. Its ``warnings`` flag a fit the
        log cannot support (:func:`implausible`).

    Raises
    ------
    ConfigError : naming the column, row or rule of a bad log or option, or a fit that
        does not converge.
    """
    for name, value, low in (("replications", replications, 0), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(name, f"must be an integer >= {low}", value)
    for name, value, bounds in (("discount_rate", discount_rate, DISCOUNT_RATE),
                                ("margin", margin, MARGIN)):
        bounds.check(name, value)  # the config's own bounds: what a run would accept
    label = default_label(Path(log)) if label is None else label
    _check_names(label, currency)
    started = time.perf_counter()
    table = read_log(log, customer, date, amount, segment, date_format)
    summary = summarise(table, calibration_end, unit_days=WEEK)
    read = time.perf_counter()
    fits = fit_segments(summary)
    market = checked_preset(market_preset(fits, label, currency))
    customers = customer_table(summary, fits, discount_rate, margin)
    fitted = time.perf_counter()

    weeks, calibration_days, first_days = _weeks(summary)
    actual = weekly_repeat_purchases(table, summary, summary.calibration_end, weeks)
    expected_weekly, expected_counts, expected_totals = _expected(summary, fits, weeks,
                                                                  first_days, calibration_days)
    cohort = pd.DataFrame({"acquired_day": first_days, "segment": customers.segment.to_numpy()})
    if len(fits) == 1:
        cohort = cohort.drop(columns="segment")
    weekly = pd.DataFrame({"week": np.arange(1, weeks + 1), "actual": actual,
                           "expected": expected_weekly})
    counts = pd.DataFrame({"repeat_purchases": [*map(str, range(COUNTS)), f"{COUNTS}+"],
                           "actual": np.bincount(np.minimum(summary.x, COUNTS),
                                                 minlength=COUNTS + 1),
                           "expected": expected_counts})
    totals = pd.DataFrame({
        "period": ["calibration", "holdout"],
        "actual": [int(summary.x.sum()), int(summary.holdout.sum())],
        "expected": list(expected_totals),
        "expected_given_history": [np.nan, customers.expected_holdout_purchases.sum()]})
    simulated = None
    if replications:
        with tempfile.TemporaryDirectory() as folder:
            cfg = _check_config(market, cohort, weeks, seed, Path(folder))
            simulated = _simulate(cfg, weeks, calibration_days, range(replications), progress)
    holdout = _holdout_by_count(summary, customers)
    warnings = implausible(fits)
    meta = {
        "log": Path(log).name, "label": label, "currency": currency,
        "calibration_end": str(summary.calibration_end),
        "customers": int(summary.x.size), "new_in_holdout_left_out": summary.dropped_new,
        "weeks": weeks, "calibration_weeks": calibration_days / WEEK,
        "holdout_weeks": summary.holdout_weeks, "replications": replications, "seed": seed,
        "discount_rate": discount_rate, "margin": margin, "clv_years": CLV_YEARS,
        "zero_spend_transactions": int(summary.zero_spend.sum()),
        "seconds": {"read": round(read - started, 3), "fits_and_table": round(fitted - read, 3),
                    "total": round(time.perf_counter() - started, 3)},
        "fits": [{"segment": f.name, "customers": f.customers, "spenders": f.spenders,
                  "zero_spend": f.zero_spend, "spend_spread": f.spend_spread,
                  "spread_customers": f.spread_customers, "bgnbd": asdict(f.repeat_buying),
                  "gamma_gamma": asdict(f.spend)} for f in fits],
        "warnings": warnings,
    }
    found = Calibration(fits, market, customers, weekly, counts, holdout, totals, cohort, meta,
                        warnings)
    return found if simulated is None else with_check(found, [simulated])


def default_label(log: Path) -> str:
    """"customers of <the log's name>", cut to a label's length (``config.MAX_LABEL``)."""
    name = " ".join("".join(c if c.isprintable() else " " for c in log.stem).split()) or "a log"
    label = f"customers of {name}"
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"


def _check_names(label: object, currency: object) -> None:
    """*label* and *currency* by the config's own rules (``config.validate``), before the
    log is read; an error names the option."""
    cfg = to_config(compose(["network=none"]))
    cfg.market.label, cfg.market.currency = label, currency
    try:
        validate(cfg)
    except ConfigError as error:
        raise ConfigError(error.where.removeprefix("market."), error.rule, error.got) from None


def _holdout_by_count(summary: Summary, customers: pd.DataFrame) -> pd.DataFrame:
    """Mean holdout purchases per customer, actual and expected given its history, by its
    calibration count (Fader et al. 2005, Fig. 4)."""
    frame = pd.DataFrame({"group": np.minimum(summary.x, COUNTS), "actual": summary.holdout,
                          "expected": customers.expected_holdout_purchases.to_numpy()})
    out = frame.groupby("group").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                     expected=("expected", "mean")).reset_index()
    out.insert(0, "repeat_purchases", [str(g) if g < COUNTS else f"{COUNTS}+"
                                       for g in out.group])
    return out.drop(columns="group")
