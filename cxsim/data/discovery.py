"""A journey discovered from a firm's event log: touchpoints, routing, delays, service, staff.

A journey map written by hand holds routing probabilities, delays, service times and staff
no one measured. A firm's event log (:mod:`cxsim.data.eventlog`) records them: each case is
one client's walk, each event a touchpoint reached. This module turns the cases that start
before a split date into a journey mapping that :func:`cxsim.model.journey.journey_from_mapping`
accepts and the engine runs, and the cases that start on or after it into the arrivals of a
``market.cohort`` file, so the journey can be run on the later period and compared with it.

How the log is read, step by step (:func:`discover`):

1. **Periods.** A case belongs to the period it starts in (its first event), with all its
   events: the early cases (start before the split) are discovered, the later ones become
   the cohort.
2. **Visits.** A *staffed touchpoint* is an activity worked on by someone: by default an
   activity with START events (``staffed`` names them instead). Each START followed by the
   COMPLETE of the same activity in the same case is one visit, its service time the time
   between them. Every other activity is a *milestone* (an application submitted, an offer
   sent): each COMPLETE event is a visit of no duration. SCHEDULE and the other lifecycle
   transitions are not visits: the wait from scheduling to start is part of the delay before
   the visit.
3. **Outcomes.** The last outcome activity a case reaches says how it ended: purchase, no
   purchase or walk-away (BPIC 2012's by default: ``A_APPROVED``, ``A_ACTIVATED``,
   ``A_REGISTERED``; ``A_DECLINED``; ``A_CANCELLED``). A case with none by the log's end is
   *censored*: its walk had not ended when the log stopped. Censored cases are excluded from
   the outcome shares and are never counted as walk-aways: their transitions seen before the
   log's end are counted, their last step (unseen) is not. A log holding none of the outcome
   activities has no way to tell a censored case: each case is then a completed walk at its
   last event, and the result says so.
4. **Routing.** The directly-follows relation of the visits, loops included: the probability
   of ``a -> b`` is the share of the departures from ``a`` that go to ``b``, a departure being
   either the next visit in the same case or the end of a non-censored case. A case moves on
   from its last visit to the exit of its outcome, each labelled with it
   (:data:`cxsim.model.journey.OUTCOMES`): ``purchase``, ``no_purchase`` (a declined case:
   finished, paying nothing) or ``walk_away`` (a cancelled case: an abandonment, reached
   with the probability discovered for it rather than left out as missing mass). A
   touchpoint from which no exit can be reached is folded into a walk-away at the
   touchpoint before it (the journey's abandonment); one seen only as the last event of
   censored cases is dropped with the transitions into it. Both are listed.
5. **Delays, service, staff.** An edge's delay is the mean time from the end of one visit to
   the start of the next (negative gaps, from work done in parallel, count as none). How it
   varies (``delays``): ``"mean"`` (the default) keeps the mean alone; ``"quantiles"``
   keeps the gaps' 0, 5, ..., 100% quantiles (:data:`QUANTILES`; the journey's
   ``delay_quantiles``), so the run draws each delay from the log's own distribution,
   linear between them, and the edge's delay is their mean; ``"weibull"`` keeps the mean
   and a Weibull shape fitted by maximum likelihood to the positive gaps
   (``delay_shape``). An edge with fewer than :data:`MIN_SPREAD_GAPS` positive gaps keeps
   its mean alone. Why the mean is the default: drawn independently edge by edge, the
   log's spread of each gap spreads whole cases more than the log's cases spread (on
   BPIC 2012 and the help desk log the cycle time's distance to the later cases grows,
   ``experiments/bpic2012_journey``), though it reproduces the waits before staffed work.
   A staffed
   touchpoint's service time is the mean START -> COMPLETE time; its staff is the busy
   resource-hours of the early period over its working hours (``working_hours_per_week``,
   40 by default), rounded up: the mean number of people busy there during working hours.
   ``reference_clients`` is the cohort's size, so a run of that cohort uses these staff as
   they are. A log with no lifecycle (one timestamp per event) shows no service time: every
   touchpoint is then a milestone, the time between events is all edge delay, staffing is not
   estimated, and the result says so.

What the log lacks (``base_quality``, ``stage``, ``channel``, ``kind``, ``cost_per_visit``,
``failure_probability``) is set to :data:`DEFAULTS` and listed; what the log shows and the
journey cannot represent (resource calendars, batching, weekday patterns, case attributes)
is listed by name in
:attr:`Discovery.not_modelled`, never silently dropped.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cxsim.data.eventlog import read_event_log
from cxsim.errors import ConfigError
from cxsim.schema import MAX_CLIENTS, MAX_STAFF

__all__ = ["DELAYS", "DEFAULTS", "OUTCOMES", "Discovery", "case_outcomes", "case_visits",
           "delay_quantiles", "discover", "journey_yaml", "run_overrides", "weibull_shape"]

OUTCOMES = {
    "purchase": ("A_APPROVED", "A_ACTIVATED", "A_REGISTERED"),
    "no_purchase": ("A_DECLINED",),
    "walk_away": ("A_CANCELLED",),
}
"""The activities that end a case, by outcome: BPIC 2012's (van Dongen 2012), the default."""

EXITS = {"purchase": "purchase", "no_purchase": "no_purchase", "walk_away": "walk_away",
         "completed": "end"}
"""The exit touchpoint each outcome reaches; each but ``end`` (a completed walk in a log
without outcomes, a purchase by the journey format's default) carries its ``outcome``."""

MILESTONE_DAYS = 1.0 / 1440.0
"""Visit time of a milestone and of an exit (one minute): the journey needs one above 0."""

DEFAULTS = {
    "stage": "service",
    "channel": "unrecorded",
    "base_quality": 0.7,
    "kind": "neutral",
    "cost_per_visit": 0.0,
    "failure_probability": 0.02,
    "service_days (milestones and exits)": MILESTONE_DAYS,
}
"""Fields an event log does not carry, as the discovered journey sets them: the quality
the shipped journeys' touchpoints typically have, the journey format's own defaults for
kind, cost and failure, and a stage and channel that say they were not recorded."""

DAY_NS = 86_400e9
MIN_SPREAD_GAPS = 20
"""Positive gaps an edge needs before its delay's spread is kept; fewer, and its delay is
its mean every time."""
QUANTILES = 21
"""Quantiles kept of an edge's gaps: 0, 5, ..., 100%."""
DELAYS = ("quantiles", "weibull", "mean")
"""How a discovered edge's delay varies: the log's quantiles, a fitted Weibull, or not."""
_MARK = "\x1f"  # starts an exit's key among the activities' (no activity name starts so)


@dataclass(frozen=True, eq=False)
class Discovery:
    """A journey discovered from an event log, the later period's arrivals, and the evidence.

    Attributes
    ----------
    journey : dict
        The journey mapping (the YAML format of :mod:`cxsim.model.journey`).
    cohort : pandas.DataFrame
        One row per later case (one-off clients), column ``acquired_day``: days from the
        split to the case's first event, in order.
    touchpoints : pandas.DataFrame
        Per touchpoint kept: ``touchpoint``, ``activity`` (the log's name), ``staffed``,
        ``visits``, ``departures``, ``walk_aways``, ``service_days``, ``service_se``
        (standard error of the mean), ``busy_hours``, ``staff``.
    edges : pandas.DataFrame
        Per edge: ``source``, ``target``, ``transitions``, ``probability``,
        ``probability_se`` (binomial), ``delay_days``, ``delay_se``, ``delay_shape``
        (the Weibull shape fitted to its gaps; 0: none) and ``delay_quantiles`` (the
        gaps' quantiles; empty: none), each only as ``delays`` asks.
    counts : dict
        Events and cases of the log and of each period, the censored cases, the split.
    outcomes : dict
        Early cases per outcome: purchase, no_purchase, walk_away, censored (and completed
        when the log has no outcome activities).
    service_time : bool
        Whether service times were observed (the log has START and COMPLETE events).
    defaults : dict
        The fields the log lacks and the value each touchpoint got.
    not_modelled : tuple of str
        What the log shows that the journey does not represent, each a phrase with its
        evidence.
    dropped : tuple of str
        Touchpoints folded or dropped (step 4 of the module's procedure), with why.
    activity_names : dict
        The log's activity name of each touchpoint name (names are made file-safe).
    outcome_activities : dict
        The outcome (purchase, no_purchase, walk_away) of each outcome activity of the log.
    staffed_activities : frozenset of str
        The activities read as staffed visits (START -> COMPLETE pairs).
    """

    journey: dict
    cohort: pd.DataFrame
    touchpoints: pd.DataFrame
    edges: pd.DataFrame
    counts: dict
    outcomes: dict
    service_time: bool
    defaults: dict
    not_modelled: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    activity_names: dict = field(default_factory=dict)
    outcome_activities: dict = field(default_factory=dict)
    staffed_activities: frozenset = frozenset()

    @property
    def staffed(self) -> tuple[str, ...]:
        """The staffed touchpoints, in journey order."""
        return tuple(self.touchpoints.touchpoint[self.touchpoints.staffed])

    def outcome_shares(self) -> dict[str, float]:
        """Share of each outcome among the early cases that have one (censored left out)."""
        ended = {k: v for k, v in self.outcomes.items() if k != "censored"}
        total = sum(ended.values())
        return {k: v / total for k, v in ended.items()} if total else {}


def discover(log: pd.DataFrame | Path | str, split: str | pd.Timestamp, *,
             name: str = "discovered", staffed: list[str] | None = None,
             purchase: list[str] | None = None, no_purchase: list[str] | None = None,
             walk_away: list[str] | None = None, working_hours_per_week: float = 40.0,
             delays: str = "mean", **columns: str | None) -> Discovery:
    """Discover a journey from the cases of *log* that start before *split*.

    Parameters
    ----------
    log
        A table from :func:`cxsim.data.eventlog.read_event_log`, or the path of a log to
        read with it (*columns* then names its case, activity, timestamp, lifecycle and
        resource keys).
    split
        The date (or timestamp; UTC unless it says otherwise) that divides the early cases,
        which are discovered, from the later ones, which become the cohort. It must fall
        after the log's first event and no later than its last.
    name
        The journey's name.
    staffed
        The activities that are staffed touchpoints; by default those with START events.
    purchase, no_purchase, walk_away
        The activities that mean each outcome (:data:`OUTCOMES` by default). Named
        activities must be in the log; the defaults need not be.
    working_hours_per_week
        Hours a staff member works a week: the denominator of the staff estimate.
    delays
        How each edge's delay varies (step 5): ``"quantiles"`` as the log's gaps,
        ``"weibull"`` as a Weibull fitted to them, ``"mean"`` not at all.

    Returns
    -------
    Discovery

    Raises
    ------
    ConfigError
        If the split lies outside the log, no case starts before or after it, a named
        activity is not in the log, staffed activities are named for a log with no
        lifecycle, or no early case reaches an outcome.
    """
    events = log if isinstance(log, pd.DataFrame) else read_event_log(log, **columns)
    split_at = _timestamp(split)
    first, last = events.timestamp.min(), events.timestamp.max()
    if not first < split_at <= last:
        raise ConfigError("split", f"must fall inside the log: after its first event "
                          f"({first:%Y-%m-%d %H:%M}) and no later than its last "
                          f"({last:%Y-%m-%d %H:%M})", str(split))
    if delays not in DELAYS:
        raise ConfigError("delays", f"must be one of {', '.join(DELAYS)}", delays)
    if not 0 < working_hours_per_week <= 168:
        raise ConfigError("working_hours_per_week", "must be in (0, 168]",
                          working_hours_per_week)
    events = events.assign(row=np.arange(len(events)))
    case_start = events.groupby("case", sort=False).timestamp.min()
    early_cases = case_start.index[case_start < split_at]
    late = case_start[case_start >= split_at]
    if early_cases.empty:
        raise ConfigError("split", "must leave a case before it (no case starts before "
                          "the split)", str(split))
    if late.empty:
        raise ConfigError("split", "must leave a case after it (no case starts on or after "
                          "the split)", str(split))
    early = events[events.case.isin(early_cases)]
    activities = set(events.activity.unique())
    kinds = _outcome_activities(activities, purchase, no_purchase, walk_away)
    lifecycle = bool(events.attrs.get("lifecycle", True)) and (events.lifecycle == "start").any()
    staffed_set = _staffed(early, activities, staffed, lifecycle)

    visits, service = _visits(early, staffed_set)
    outcome = _outcomes(early, kinds)
    built = _routing(visits, outcome, delays)
    period_days = (split_at - first).total_seconds() / 86_400.0
    working_hours = period_days / 7.0 * working_hours_per_week
    description = (f"Discovered by cxsim-discover from {events.attrs.get('file', 'an event log')}"
                   f": its {early_cases.size:,} cases starting before {split_at:%Y-%m-%d %H:%M}"
                   " UTC.")
    result = _assemble(built, service, staffed_set, len(late), working_hours, name, kinds,
                       description)
    cohort = pd.DataFrame({"acquired_day": np.sort(
        (late - split_at).dt.total_seconds().to_numpy() / 86_400.0)})
    outcome_counts = outcome.value_counts().to_dict()
    outcomes = {k: int(outcome_counts.get(k, 0)) for k in
                (("purchase", "no_purchase", "walk_away", "censored") if kinds
                 else ("completed",))}
    counts = {
        "log": events.attrs.get("file", "the event log"), "split": f"{split_at:%Y-%m-%d %H:%M} UTC",
        "events": len(events), "cases": int(case_start.size),
        "first_event": f"{first:%Y-%m-%d %H:%M} UTC", "last_event": f"{last:%Y-%m-%d %H:%M} UTC",
        "early_cases": int(early_cases.size), "early_events": len(early),
        "late_cases": int(late.size), "late_events": int(len(events) - len(early)),
        "censored": outcomes.get("censored", 0), "period_days": period_days,
        "working_hours": working_hours,
        "arrivals_per_day_early": early_cases.size / period_days,
    }
    not_modelled = _not_modelled(events, early, visits, lifecycle, kinds, built, delays,
                                 working_hours_per_week)
    return Discovery(journey=result["journey"], cohort=cohort, touchpoints=result["touchpoints"],
                     edges=result["edges"], counts=counts, outcomes=outcomes,
                     service_time=lifecycle, defaults=dict(DEFAULTS),
                     not_modelled=not_modelled, dropped=tuple(built["dropped"]),
                     activity_names=result["activity_names"], outcome_activities=dict(kinds),
                     staffed_activities=frozenset(staffed_set))


# --------------------------------------------------------------------------- #
# The steps
# --------------------------------------------------------------------------- #


def _timestamp(value: str | pd.Timestamp) -> pd.Timestamp:
    """*value* as a UTC timestamp; an unreadable one is an error naming the split."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ConfigError("split", "must be a date (e.g. 2012-01-15)", str(value)) from None
    if stamp is pd.NaT:
        raise ConfigError("split", "must be a date (e.g. 2012-01-15)", str(value))
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _outcome_activities(activities: set[str], purchase, no_purchase,
                        walk_away) -> dict[str, str]:
    """The outcome of each outcome activity; empty when the log holds none of them."""
    kinds: dict[str, str] = {}
    chosen = {kind: given for kind, given in (("purchase", purchase),
                                               ("no_purchase", no_purchase),
                                               ("walk_away", walk_away))}
    named = {a for given in chosen.values() if given is not None for a in given}
    for kind, given in chosen.items():  # a default gives way to an activity named elsewhere
        names = (tuple(a for a in OUTCOMES[kind] if a not in named) if given is None
                 else tuple(given))
        if given is not None:
            missing = [n for n in names if n not in activities]
            if missing:
                raise ConfigError(f"--{kind.replace('_', '-')}", "must name activities of the "
                                  "log", missing[0])
        for activity in names:
            if activity in kinds:
                raise ConfigError(f"--{kind.replace('_', '-')}", "must not name an activity "
                                  f"already meaning {kinds[activity]}", activity)
            if activity in activities:
                kinds[activity] = kind
    return kinds


def _staffed(early: pd.DataFrame, activities: set[str], staffed, lifecycle: bool) -> set[str]:
    """The staffed activities: named, or those with START events in the early cases."""
    if staffed is None:
        return set(early.activity[early.lifecycle == "start"].unique()) if lifecycle else set()
    if not lifecycle and staffed:
        raise ConfigError("--staffed", "needs a log with START and COMPLETE events (this log "
                          "has one timestamp per event: no service time to staff by)")
    missing = [a for a in staffed if a not in activities]
    if missing:
        raise ConfigError("--staffed", "must name activities of the log", missing[0])
    return set(staffed)


def _visits(early: pd.DataFrame, staffed: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The visits of the early cases (case, activity, start, end, row, resource, matched) and
    the matched START -> COMPLETE pairs' durations."""
    work = early[early.activity.isin(staffed) & early.lifecycle.isin(("start", "complete"))]
    work = work.sort_values(["case", "activity", "timestamp", "row"], kind="stable")
    same = ((work.case.to_numpy()[1:] == work.case.to_numpy()[:-1])
            & (work.activity.to_numpy()[1:] == work.activity.to_numpy()[:-1]))
    life = work.lifecycle.to_numpy()
    pair = np.zeros(len(work), bool)  # a START at i followed by its COMPLETE at i + 1
    pair[:-1] = same & (life[:-1] == "start") & (life[1:] == "complete")
    paired_complete = np.zeros(len(work), bool)
    paired_complete[1:] = pair[:-1]
    stamp = _ns(work.timestamp)
    starts = np.flatnonzero(pair)
    lone = np.flatnonzero(~pair & ~paired_complete)
    resource = work.resource.to_numpy()
    matched = pd.DataFrame({
        "case": work.case.to_numpy()[starts], "activity": work.activity.to_numpy()[starts],
        "start": stamp[starts], "end": stamp[starts + 1], "row": work.row.to_numpy()[starts],
        "resource": np.where(pd.isna(resource[starts + 1]), resource[starts],
                             resource[starts + 1]), "matched": True})
    unmatched = pd.DataFrame({
        "case": work.case.to_numpy()[lone], "activity": work.activity.to_numpy()[lone],
        "start": stamp[lone], "end": stamp[lone], "row": work.row.to_numpy()[lone],
        "resource": resource[lone], "matched": False})
    marks = early[~early.activity.isin(staffed) & (early.lifecycle == "complete")]
    mstamp = _ns(marks.timestamp)
    milestones = pd.DataFrame({
        "case": marks.case.to_numpy(), "activity": marks.activity.to_numpy(), "start": mstamp,
        "end": mstamp, "row": marks.row.to_numpy(), "resource": marks.resource.to_numpy(),
        "matched": False})
    visits = pd.concat([frame for frame in (matched, unmatched, milestones) if len(frame)],
                       ignore_index=True)
    visits = visits.sort_values(["case", "start", "row"], kind="stable").reset_index(drop=True)
    service = matched.assign(days=(matched.end - matched.start) / DAY_NS)
    return visits, service


def case_visits(events: pd.DataFrame, staffed: set[str] | frozenset[str]) -> pd.DataFrame:
    """The visits of *events*' cases as discovery reads them (step 2 of the module's
    procedure): ``case``, ``activity``, ``start``, ``end`` (integer nanoseconds, UTC),
    ``row``, ``resource``, ``matched``, ordered by case and start."""
    return _visits(events.assign(row=np.arange(len(events))), set(staffed))[0]


def _ns(stamps: pd.Series) -> np.ndarray:
    """UTC timestamps as integer nanoseconds since 1970."""
    return stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype(
        "datetime64[ns]").view(np.int64)


def case_outcomes(events: pd.DataFrame, purchase: list[str] | None = None,
                  no_purchase: list[str] | None = None,
                  walk_away: list[str] | None = None) -> pd.Series:
    """Each case's outcome, as discovery classifies it (step 3 of the module's procedure):
    ``purchase``, ``no_purchase``, ``walk_away`` or ``censored`` (``completed`` for every
    case when the log holds none of the outcome activities), indexed by case in order of
    first appearance."""
    kinds = _outcome_activities(set(events.activity.unique()), purchase, no_purchase,
                                walk_away)
    return _outcomes(events.assign(row=np.arange(len(events))), kinds)


def _outcomes(early: pd.DataFrame, kinds: dict[str, str]) -> pd.Series:
    """Each early case's outcome: its last outcome activity's kind, else ``censored``; every
    case ``completed`` when the log holds no outcome activity."""
    cases = pd.Index(early.case.unique())
    if not kinds:
        return pd.Series("completed", index=cases)
    marked = early[early.activity.isin(kinds)].sort_values(["case", "timestamp", "row"],
                                                           kind="stable")
    last = marked.groupby("case", sort=False).activity.last().map(kinds)
    return last.reindex(cases).fillna("censored")


def _routing(visits: pd.DataFrame, outcome: pd.Series, delays: str) -> dict:
    """The directly-follows counts and delays (their spread as *delays* asks), with the
    exits, the walk-aways, and the touchpoints folded or dropped so that every one kept
    can reach an exit."""
    case = visits.case.to_numpy()
    activity = visits.activity.to_numpy()
    same = case[1:] == case[:-1]
    gap = (visits.start.to_numpy()[1:] - visits.end.to_numpy()[:-1]) / DAY_NS
    inner = pd.DataFrame({"source": activity[:-1][same], "target": activity[1:][same],
                          "delay": np.maximum(gap[same], 0.0)})
    negative = int((gap[same] < 0).sum())
    last = np.ones(len(visits), bool)
    last[:-1] = ~same
    ends = pd.DataFrame({"source": activity[last],
                         "outcome": outcome.reindex(case[last]).to_numpy()})
    ends = ends[ends.outcome != "censored"]
    exits = ends
    terminal = pd.DataFrame({"source": exits.source.to_numpy(),
                             "target": _MARK + exits.outcome.map(EXITS).to_numpy(),
                             "delay": 0.0})
    firsts = pd.Series(activity[np.r_[True, ~same]])
    edges = (pd.concat([inner, terminal], ignore_index=True)
             .groupby(["source", "target"], sort=False).delay
             .agg(transitions="size", delay_sum="sum",
                  delay_sq=lambda d: float(np.square(d).sum()),
                  delay_shape=weibull_shape if delays == "weibull" else lambda d: 0.0,
                  delay_quantiles=delay_quantiles if delays == "quantiles" else lambda d: ()))
    counts = {(s, t): row for (s, t), row in zip(edges.index, edges.to_dict("records"))}
    walk_aways: dict[str, int] = {}  # only from touchpoints folded below
    exit_names = set(_MARK + exits.outcome.map(EXITS))
    dropped: list[str] = []
    entries = firsts.value_counts()
    while True:
        nodes = {s for s, _ in counts} | {t for _, t in counts} | set(walk_aways)
        departures = {n: 0 for n in nodes}
        for (s, _), row in counts.items():
            departures[s] += row["transitions"]
        for s, n in walk_aways.items():
            departures[s] = departures.get(s, 0) + n
        silent = [n for n in nodes if n not in exit_names and departures.get(n, 0) == 0]
        if silent:  # seen only as the last event of censored cases: transitions into it dropped
            for n in silent:
                dropped.append(f"{n} (seen only at the end of censored cases: the steps into "
                               "it are censored)")
                counts = {k: v for k, v in counts.items() if k[1] != n}
                walk_aways.pop(n, None)
            continue
        reach = _reaching(exit_names, counts)
        dead = [n for n in nodes if n not in reach]
        if not dead:
            break
        for n in dead:  # no exit reachable: the steps into it are walk-aways
            dropped.append(f"{n} (no exit follows it: reaching it is a walk-away at the "
                           "touchpoint before)")
            for (s, t), row in list(counts.items()):
                if t == n:
                    if s not in dead:
                        walk_aways[s] = walk_aways.get(s, 0) + row["transitions"]
                    del counts[(s, t)]
                elif s == n:
                    del counts[(s, t)]
            walk_aways.pop(n, None)
    kept = {s for s, _ in counts} | {t for _, t in counts}
    entries = entries[entries.index.isin(kept)]
    if entries.empty:
        raise ConfigError("the early cases", "must reach an outcome (no case before the split "
                          "ends in a purchase, no purchase, walk-away or completed walk)")
    return {"counts": counts, "walk_aways": walk_aways,
            "exits": [e for e in EXITS.values() if _MARK + e in exit_names], "entries": entries,
            "dropped": dropped, "negative_gaps": negative, "visits": visits}


def _reaching(exits: set[str], counts: dict) -> set[str]:
    """The nodes from which one of *exits* can be reached along the counted edges."""
    into: dict[str, list[str]] = {}
    for s, t in counts:
        into.setdefault(t, []).append(s)
    seen, todo = set(exits), list(exits)
    while todo:
        for s in into.get(todo.pop(), ()):
            if s not in seen:
                seen.add(s)
                todo.append(s)
    return seen


_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]+")


def _names(activities: list[str], reserved: set[str]) -> dict[str, str]:
    """A touchpoint name (letters, digits, '_' and '-') for each activity, each unique."""
    names: dict[str, str] = {}
    taken = set(reserved)
    for activity in activities:
        base = _UNSAFE.sub("_", activity).strip("_") or "activity"
        candidate, k = base, 2
        while candidate in taken:
            candidate, k = f"{base}_{k}", k + 1
        taken.add(candidate)
        names[activity] = candidate
    return names


def weibull_shape(gaps: np.ndarray | pd.Series) -> float:
    """The maximum-likelihood Weibull shape of the positive *gaps*; 0 (none) with fewer
    than :data:`MIN_SPREAD_GAPS` of them or all equal.

    The shape *k* solves ``sum(x**k ln x) / sum(x**k) - 1/k - mean(ln x) = 0`` (Cohen
    1965, *Technometrics* 7, "Maximum likelihood estimation in the Weibull distribution
    based on complete and on censored samples"), which is increasing in *k*; it is
    solved on [0.05, 20], the range the journey format takes, and clipped to it.
    """
    x = np.asarray(gaps, dtype=float)
    x = x[x > 0]
    if x.size < MIN_SPREAD_GAPS:
        return 0.0
    logs = np.log(x / x.max())  # the shape does not depend on the scale
    if np.ptp(logs) < 1e-9:
        return 0.0
    mean_log = logs.mean()

    def score(k: float) -> float:
        w = np.exp(k * logs)
        return float((w @ logs) / w.sum() - 1.0 / k - mean_log)

    low, high = 0.05, 20.0
    if score(low) >= 0:
        return low
    if score(high) <= 0:
        return high
    from scipy.optimize import brentq
    return float(brentq(score, low, high, xtol=1e-6))


def delay_quantiles(gaps: np.ndarray | pd.Series) -> tuple[float, ...]:
    """The 0, 5, ..., 100% quantiles of *gaps* (:data:`QUANTILES`), in days rounded to the
    second; none with fewer than :data:`MIN_SPREAD_GAPS` positive gaps or all equal."""
    x = np.asarray(gaps, dtype=float)
    if (x > 0).sum() < MIN_SPREAD_GAPS or np.ptp(x) == 0:
        return ()
    q = np.quantile(x, np.linspace(0.0, 1.0, QUANTILES))
    return tuple(float(v) for v in np.maximum.accumulate(np.round(q * 86_400.0) / 86_400.0))


def _assemble(built: dict, service: pd.DataFrame, staffed: set[str], clients: int,
              working_hours: float, name: str, kinds: dict[str, str], description: str) -> dict:
    """The journey mapping and its tables from the routing counts and the service times."""
    counts, walk_aways, entries = built["counts"], built["walk_aways"], built["entries"]
    exits = built["exits"]
    visits = built["visits"]
    found = {*entries.index, *(s for s, _ in counts), *(t for _, t in counts if t[0] != _MARK)}
    first = visits.drop_duplicates(["case", "activity"])
    place = first.groupby("case", sort=False).cumcount().groupby(first.activity).mean()
    activities = sorted(found, key=lambda a: (a not in entries.index, place.get(a, 0.0), a))
    virtual_entry = len(entries) > 1
    reserved = set(exits) | ({"arrival"} if virtual_entry else set())
    names = _names(activities, reserved)
    names.update({_MARK + e: e for e in exits})
    departures = {a: 0 for a in activities}
    for (s, _), row in counts.items():
        departures[s] += row["transitions"]
    for s, n in walk_aways.items():
        departures[s] += n
    seen = visits.activity.value_counts()
    service = service[service.activity.isin(activities)]
    per = service.groupby("activity").days.agg(["mean", "std", "size", "sum"])
    touchpoints = {}
    rows = []
    if virtual_entry:
        touchpoints["arrival"] = _milestone("the case's arrival (its first events differ)")
    for activity in activities:
        tp = names[activity]
        staff = None
        if activity in staffed and activity in per.index:
            mean, std, size, total = per.loc[activity]
            busy = total * 24.0
            staff = int(min(MAX_STAFF, max(1, math.ceil(busy / working_hours))))
            days = max(float(mean), 1.0 / 86_400.0)
            touchpoints[tp] = {
                "stage": DEFAULTS["stage"], "channel": DEFAULTS["channel"], "staffed": True,
                "staff": staff, "service_days": round(days, 8),
                "base_quality": DEFAULTS["base_quality"],
                "description": f"activity {activity!r}: {int(size):,} START-COMPLETE visits"}
            se = float(std) / math.sqrt(size) if size > 1 else float("nan")
        else:
            note = (f" ({kinds[activity].replace('_', ' ')})" if activity in kinds
                    else " (staffed, but no START-COMPLETE pair before the split: no service "
                    "time, a milestone)" if activity in staffed else "")
            touchpoints[tp] = _milestone(f"activity {activity!r}{note}")
            days, se, busy = MILESTONE_DAYS, float("nan"), 0.0
        rows.append({"touchpoint": tp, "activity": activity, "staffed": staff is not None,
                     "visits": int(seen.get(activity, 0)), "departures": departures[activity],
                     "walk_aways": int(walk_aways.get(activity, 0)),
                     "service_days": days, "service_se": se, "busy_hours": busy,
                     "staff": staff or 0})
    for exit_ in exits:
        touchpoints[exit_] = _milestone(f"exit: the case ended in {exit_.replace('_', ' ')}")
        if exit_ != EXITS["completed"]:
            touchpoints[exit_]["outcome"] = exit_
    edge_rows = []
    if virtual_entry:
        total = int(entries.sum())
        for activity, n in entries.items():
            edge_rows.append(_edge_row("arrival", names[activity], int(n), total, 0.0, 0.0,
                                       0.0, ()))
    for (s, t), row in counts.items():
        n = int(row["transitions"])
        mean = row["delay_sum"] / n
        var = max(row["delay_sq"] / n - mean * mean, 0.0) * n / (n - 1) if n > 1 else math.nan
        edge_rows.append(_edge_row(names[s], names[t], n, departures[s], mean,
                                   math.sqrt(var / n) if n > 1 else math.nan,
                                   row["delay_shape"], row["delay_quantiles"]))
    order = {tp: i for i, tp in enumerate(touchpoints)}
    edge_rows.sort(key=lambda r: (order[r["source"]], -r["transitions"], order[r["target"]]))
    edges = pd.DataFrame(edge_rows)
    journey = {
        "name": name,
        "description": description,
        "reference_clients": int(min(max(clients, 1), MAX_CLIENTS)),
        "entry": "arrival" if virtual_entry else names[entries.index[0]],
        "exits": list(exits),
        "touchpoints": touchpoints,
        "edges": [{"from": r["source"], "to": r["target"],
                   "probability": float(r["probability"]), **_delay(r)} for r in edge_rows],
    }
    return {"journey": journey, "touchpoints": pd.DataFrame(rows), "edges": edges,
            "activity_names": {names[a]: a for a in activities}}


def _milestone(description: str) -> dict:
    """A touchpoint of no duration, unstaffed, with the defaults of :data:`DEFAULTS`."""
    return {"stage": DEFAULTS["stage"], "channel": DEFAULTS["channel"],
            "service_days": round(MILESTONE_DAYS, 8), "base_quality": DEFAULTS["base_quality"],
            "description": description}


def _edge_row(source: str, target: str, n: int, departures: int, delay: float,
              delay_se: float, shape: float, quantiles: tuple[float, ...]) -> dict:
    """One edge's figures: probability with its binomial standard error, mean delay, the
    delay's Weibull shape (0: none) and quantiles (none: empty)."""
    p = n / departures
    return {"source": source, "target": target, "transitions": n, "probability": p,
            "probability_se": math.sqrt(p * (1 - p) / departures), "delay_days": delay,
            "delay_se": delay_se, "delay_shape": shape, "delay_quantiles": quantiles}


def _delay(row: dict) -> dict:
    """An edge's delay as the journey format writes it: its quantiles, or its mean and
    perhaps a shape."""
    if row["delay_quantiles"]:
        return {"delay_quantiles": [round(q, 8) for q in row["delay_quantiles"]]}
    out = {"delay_days": float(round(row["delay_days"], 8))}
    if row["delay_shape"] and row["delay_days"] > 0:
        out["delay_shape"] = round(float(row["delay_shape"]), 4)
    return out


def _not_modelled(events: pd.DataFrame, early: pd.DataFrame, visits: pd.DataFrame,
                  lifecycle: bool, kinds: dict, built: dict, delays: str, hours: float
                  ) -> tuple[str, ...]:
    """What the log shows that the discovered journey does not represent, with evidence."""
    notes = []
    if lifecycle:
        notes.append(f"resource calendars: staff are counted over {hours:g} working hours a "
                     "week, but serve around the clock in the engine")
    else:
        notes.append("service times and staffing: the log has one timestamp per event and no "
                     "lifecycle, so the time between events is all edge delay and no "
                     "touchpoint is staffed")
    worked = early.dropna(subset=["resource"]).drop_duplicates(["resource", "timestamp", "case"])
    batched = int(worked.duplicated(["resource", "timestamp"], keep=False).sum())
    notes.append(f"batching: {batched:,} events of different cases at the same instant by one "
                 "resource; the engine serves clients one at a time")
    starts = early.groupby("case").timestamp.min()
    weekend = float((starts.dt.day_of_week >= 5).mean())
    notes.append(f"weekday patterns: {weekend:.0%} of the early cases arrive on a weekend "
                 "(2/7 = 29% if days were alike); the cohort keeps each case's day, the "
                 "journey's delays and service are the same every day")
    notes.append("case attributes (the log's other trace and event attributes, e.g. an "
                 "amount requested): not read; every client walks the same journey")
    notes.append("resources: who did the work; staff are one pool per touchpoint, a person "
                 "working at several touchpoints is counted at each")
    other = events[~events.lifecycle.isin(("start", "complete"))]
    if len(other):
        counted = other.lifecycle.value_counts()
        notes.append("lifecycle transitions other than START and COMPLETE ("
                     + ", ".join(f"{k.upper()} {v:,}" for k, v in counted.items())
                     + "): not visits; the wait from SCHEDULE to START is in the delays")
    if built["negative_gaps"]:
        notes.append(f"parallel work: {built['negative_gaps']:,} visits begin before the "
                     "one before them ends; counted as no delay, the journey walks one "
                     "touchpoint at a time")
    spread = {"mean": "each edge carries its mean delay",
              "quantiles": "each edge draws its delay from the log's quantiles of it, "
                           "independently of the case's other delays",
              "weibull": "each edge draws its delay from a Weibull fitted to it, "
                         "independently of the case's other delays"}[delays]
    notes.append(f"delay and service distributions: {spread}; each staffed touchpoint "
                 "serves with its mean service time, exponentially")
    notes.append("a case's history: the next touchpoint depends on the current one alone "
                 "(first-order routing), so a simulated walk forgets what came before, e.g. "
                 "an offer already cancelled")
    if not kinds:
        notes.append("outcomes: the log holds none of the outcome activities, so every case "
                     "is a completed walk at its last event and censored cases (still open "
                     "at the log's end) cannot be told apart")
    return tuple(notes)


# --------------------------------------------------------------------------- #
# Writing
# --------------------------------------------------------------------------- #


def journey_yaml(found: Discovery, command: str = "") -> str:
    """The journey file's text: a header saying where it came from, then the mapping."""
    import yaml

    c = found.counts
    shares = found.outcome_shares()
    lines = [
        f"# Discovered by cxsim-discover from {c['log']}",
        f"# split {c['split']}: {c['early_cases']:,} cases start before it (discovered), "
        f"{c['late_cases']:,} on or after it (the cohort)",
        f"# log: {c['cases']:,} cases, {c['events']:,} events, {c['first_event']} to "
        f"{c['last_event']}",
        "# early outcomes: " + ", ".join(f"{k.replace('_', ' ')} {v:,}"
                                         for k, v in found.outcomes.items())
        + (" (censored: no outcome by the log's end, left out of the shares)"
           if "censored" in found.outcomes else ""),
        "# shares: " + ", ".join(f"{k.replace('_', ' ')} {v:.1%}" for k, v in shares.items()),
    ]
    if command:
        lines.append(f"# command: {command}")
    lines.append("# defaults for what the log lacks: " + ", ".join(
        f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in found.defaults.items()))
    lines.append("# not modelled:")
    lines += [f"#   - {note}" for note in found.not_modelled]
    if found.dropped:
        lines.append("# folded or dropped touchpoints:")
        lines += [f"#   - {note}" for note in found.dropped]
    head = {k: v for k, v in found.journey.items() if k != "edges"}
    body = yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=100)
    body += "edges:\n" + "".join(
        "  - " + yaml.safe_dump(edge, default_flow_style=True, sort_keys=False, width=10**6)
        for edge in found.journey["edges"])
    wrapped = [part for line in lines for part in textwrap.wrap(
        line, width=100, subsequent_indent="#     " if line.startswith("#   - ") else "#   ",
        break_long_words=False, break_on_hyphens=False)]
    return "\n".join(wrapped) + "\n" + body


def run_overrides(found: Discovery, journey: str | Path, cohort: str | Path) -> list[str]:
    """The overrides that run *journey* on its cohort: one firm, the cohort its only
    clients (one-off: no second need within the horizon, no acquisition), to a month after
    the last arrival."""
    days = float(found.cohort.acquired_day.max()) + 30.0
    years = math.ceil(days / 365.25 * 1000) / 1000
    return ["scenario=solo", f"firms.acme.journey={journey}", f"market.size={len(found.cohort)}",
            f"market.cohort={cohort}", "firms.acme.initial_share=0",
            "market.organic_acquisition_per_year=0", "market.max_paid_acquisition_per_year=0",
            "market.segments.core.mean_days_between_needs=36525", "network=none",
            f"sim.years={years:g}"]
