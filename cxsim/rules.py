"""The rules a typed config obeys: each value within its declared bounds, and the
rules between values (shares summing to 1, a lever set by the firm or its
presets, a warm-up shorter than the run, names people can tell apart).

Kept apart from the schema (:mod:`cxsim.schema`) so the schema stays a list of
declarations, and from composing (:mod:`cxsim.config`), which calls
:func:`validate` on every config it types. Files a config names (journeys, a
cohort) are checked by the one validation pass, :mod:`cxsim.validate`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from cxsim.errors import ConfigError
from cxsim.fields import Bounds, bounds_of, is_integer
from cxsim.labels import MAX_CURRENCY, check_label, firm_labels
from cxsim.schema import (
    ANSWER_CLASSES,
    DAYS_PER_YEAR,
    DROPOUT_AFTER,
    INCENTIVES,
    KINDS,
    MAX_NETWORK_SIZE,
    MAX_STAFF,
    METRICS,
    NAME_PATTERN,
    NEEDS,
    SURVEYS,
    Config,
    FirmConfig,
    NetworkConfig,
    PurchaseRateConfig,
    SegmentConfig,
)

__all__ = ["LEVERS", "validate", "check_name", "check_flag", "check_section", "check_spread"]

MAX_SAMPLES = 2_400  # monthly samples of a run: 200 years of 30.4375-day months
MAX_MESSAGES = 700  # a Poisson count inverted from exp(-rate), which underflows past ~745

LEVERS = {f.name for f in fields(FirmConfig)} - {
    "label", "journey", "strategy", "funding", "org", "survey", "price_level", "initial_share",
    "onboarding_cost", "growth_target", "scale_staff", "staff", "cx_split"}
"""A firm's levers: the settings its strategy, funding and org presets may fill."""


def _check_survey(key: str, firm: FirmConfig) -> None:
    """A firm's own survey: a known instrument, a response chance per answer class in [0,
    1], and a periodic survey that asks someone."""
    if firm.asks not in SURVEYS:
        raise ConfigError(f"{key}.asks", f"must be one of {', '.join(SURVEYS)}", firm.asks)
    if not isinstance(firm.response, Mapping):
        raise ConfigError(f"{key}.response", "must map " + ", ".join(ANSWER_CLASSES)
                          + " to a chance of answering", firm.response)
    for name in firm.response:
        if name not in ANSWER_CLASSES:
            raise ConfigError(f"{key}.response.{name}", "is not an answer class "
                              f"({', '.join(ANSWER_CLASSES)})")
    for name in ANSWER_CLASSES:
        if name not in firm.response:
            raise ConfigError(f"{key}.response.{name}", "must be given: the chance a "
                              f"{name} answers")
        _SHARE.check(f"{key}.response.{name}", firm.response[name])
    if firm.asks in ("relational", "market") and firm.survey_sample == 0:
        raise ConfigError(f"{key}.survey_sample", f"must be above 0: a {firm.asks} survey "
                          "of zero clients hears no one", firm.survey_sample)


def check_section(key: str, section: Any, skip: tuple[str, ...] = ()) -> None:
    """Every bounded field of the dataclass *section*, at config key *key*."""
    for f in fields(section):
        bounds = f.metadata.get("bounds")
        value = getattr(section, f.name)
        if bounds is not None and f.name not in skip and value is not None:
            bounds.check(f"{key}.{f.name}" if key else f.name, value)


_NAME = re.compile(NAME_PATTERN)  # the journey's rule for touchpoints, for every name


_NAME_RULE = "must be a name of letters, digits, '_' or '-'"


def check_name(key: str, name: Any) -> None:
    """The value *name* of *key* (a preset's name) follows the rule for names."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(key, _NAME_RULE, name)


def _entry_name(section: str, name: Any) -> None:
    """An entry's name in *section* (a firm's, a segment's, an event's) follows the rule
    for names. The message shows a bad name escaped, ``firms.'acme\\n'``: a newline in
    it broke the message's one line."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ConfigError(f"{section}.{name!r}", _NAME_RULE)


_SHARE = Bounds(0.0, 1.0)
_STAFF = Bounds.parse(f"[1, {MAX_STAFF}] integer")  # people at one touchpoint
_WEIGHT = Bounds.parse("[0, 1e6]")  # a touchpoint's share of CX money, before normalising


def check_flag(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(key, "must be true or false", value)


def check_spread(k: str, seg: SegmentConfig) -> None:
    """A segment's purchase rate and spend: one fixed value or one distribution, not both."""
    for fixed, spread in (("mean_days_between_needs", "purchase_rate"),
                          ("order_value", "spend")):
        given = getattr(seg, fixed) is not None, getattr(seg, spread) is not None
        if all(given):
            raise ConfigError(f"{k}.{spread}", f"and {k}.{fixed} are both set: declare one "
                              f"(set {fixed} to null to spread it across clients)")
        if not any(given):
            raise ConfigError(f"{k}.{fixed}", f"must be set, or {spread} declared")
        if given[1]:
            check_section(f"{k}.{spread}", getattr(seg, spread))
            section = getattr(seg, spread)
            mean = (section.mean_days_between_needs if isinstance(section, PurchaseRateConfig)
                    else section.mean)
            bounds = bounds_of(SegmentConfig, fixed)
            if not bounds.low < mean <= bounds.high:
                raise ConfigError(f"{k}.{spread}", f"must have a mean {fixed} in {bounds}, as "
                                  f"{fixed} itself", mean)
    if seg.dropout is not None:
        check_section(f"{k}.dropout", seg.dropout)
    if seg.dropout_after not in DROPOUT_AFTER:
        raise ConfigError(f"{k}.dropout_after", f"must be one of {', '.join(DROPOUT_AFTER)}",
                          seg.dropout_after)


def validate(cfg: Config) -> None:
    """Check every value against its bounds and the rules between values; raise ConfigError."""
    check_section("", cfg)
    m = cfg.market
    check_section("market", m)
    if not m.segments:
        raise ConfigError("market.segments", "must name at least one segment", {})
    for name, seg in m.segments.items():
        k = f"market.segments.{name}"
        _entry_name("market.segments", name)
        check_section(k, seg)
        for need, weight in seg.needs.items():
            if need not in NEEDS:
                raise ConfigError(f"{k}.needs.{need}", f"is not a need (needs: {', '.join(NEEDS)})")
            _SHARE.check(f"{k}.needs.{need}", weight)
        if abs(sum(seg.needs.values()) - 1.0) > 1e-6:
            raise ConfigError(f"{k}.needs", "must sum to 1", round(sum(seg.needs.values()), 9))
        check_spread(k, seg)
        if seg.social_influence * max(m.warning_ratio, 1.0) > MAX_MESSAGES:
            raise ConfigError(f"{k}.social_influence", "times market.warning_ratio (what a "
                              f"detractor tells) must be at most {MAX_MESSAGES} messages a "
                              "journey", seg.social_influence * m.warning_ratio)
    total = sum(s.share for s in m.segments.values())
    if abs(total - 1.0) > 1e-6:
        raise ConfigError("market.segments.*.share", "must sum to 1", round(total, 9))
    check_label("market.label", m.label)
    check_label("market.currency", m.currency, MAX_CURRENCY)
    check_flag("market.first_need_at_acquisition", m.first_need_at_acquisition)
    check_flag("market.heterogeneity", m.heterogeneity)

    if not cfg.firms:
        raise ConfigError("firms", "must name at least one firm", {})
    for name, firm in cfg.firms.items():
        k = f"firms.{name}"
        _entry_name("firms", name)
        if not isinstance(firm.journey, str) or not firm.journey.strip():
            raise ConfigError(f"{k}.journey", "must be a journey name or a file path", firm.journey)
        for lever in sorted(LEVERS):
            if getattr(firm, lever) is None:
                raise ConfigError(f"{k}.{lever}", "is not set by the firm or its presets")
        check_section(k, firm)
        for lever, names in (("metric", METRICS), ("incentive", INCENTIVES)):
            if getattr(firm, lever) not in names:
                raise ConfigError(f"{k}.{lever}", f"must be one of {', '.join(names)}",
                                  getattr(firm, lever))
        _check_survey(k, firm)
        for attribute, level in firm.offer.items():
            if attribute not in NEEDS[1:]:
                raise ConfigError(f"{k}.offer.{attribute}", "is not an offer attribute "
                                  f"({', '.join(NEEDS[1:])}; price comes from price_level)")
            _SHARE.check(f"{k}.offer.{attribute}", level)
        for tp, staff in firm.staff.items():
            _STAFF.check(f"{k}.staff.{tp}", staff)
        for tp, weight in firm.cx_split.items():
            _WEIGHT.check(f"{k}.cx_split.{tp}", weight)
        if firm.cx_split and sum(firm.cx_split.values()) <= 0:
            raise ConfigError(f"{k}.cx_split", "must give some touchpoint a weight above 0")
    for name, firm in cfg.firms.items():
        if firm.label is not None:
            check_label(f"firms.{name}.label", firm.label)
    named = {}
    for name, label in firm_labels(cfg.firms).items():
        if label.casefold() in named:
            raise ConfigError(f"firms.{name}.label", f"must differ from firms."
                              f"{named[label.casefold()]}'s name (names tell firms apart)", label)
        named[label.casefold()] = name
    initial = sum(f.initial_share for f in cfg.firms.values())
    if initial > 1.0 + 1e-9:
        raise ConfigError("firms.*.initial_share", "must sum to at most 1", round(initial, 9))

    check_flag("psychology.emotions", cfg.psychology.emotions)
    check_section("psychology", cfg.psychology)
    check_flag("management.review", cfg.management.review)
    check_section("management", cfg.management)
    if cfg.management.base_turnover + cfg.management.turnover_sensitivity > 1:
        raise ConfigError("management.turnover_sensitivity",
                          "plus base_turnover must be at most 1 (a share of staff per quarter)")

    validate_network(cfg.network, m.size)
    check_section("experiment", cfg.experiment)
    if cfg.experiment.report is not None and not isinstance(cfg.experiment.report, bool):
        raise ConfigError("experiment.report", "must be true, false or null",
                          cfg.experiment.report)

    s = cfg.sim
    check_section("sim", s)
    check_flag("sim.record_journeys", s.record_journeys)
    check_flag("sim.record_visits", s.record_visits)
    if s.warmup_years >= s.years:
        raise ConfigError("sim.warmup_years", f"must be less than sim.years ({s.years})",
                          s.warmup_years)
    if (s.years - s.warmup_years) * DAYS_PER_YEAR < s.days_per_month - 1e-9:
        raise ConfigError("sim.years", f"must exceed sim.warmup_years ({s.warmup_years}) by at "
                          f"least a month of sim.days_per_month ({s.days_per_month} days): the "
                          "results are monthly samples after the warm-up", s.years)
    months = math.ceil(s.years * DAYS_PER_YEAR / s.days_per_month - 1e-9)
    if months > MAX_SAMPLES:
        raise ConfigError("sim.days_per_month", f"must leave at most {MAX_SAMPLES:,} monthly "
                          f"samples over sim.years ({s.years:g}), the 200-year monthly grid: "
                          "each sample is a row per firm and segment, and a day's loop",
                          s.days_per_month)
    for name, event in cfg.events.items():
        k = f"events.{name}"
        _entry_name("events", name)
        if event.kind not in ("shock", "workshop"):
            raise ConfigError(f"{k}.kind", "must be shock or workshop", event.kind)
        check_section(k, event)
        Bounds(0, months - 1, integer=True).check(f"{k}.start_month", event.start_month)
        if event.kind == "shock" and event.start_month + event.months > months:
            raise ConfigError(f"{k}", f"must end within the horizon of {months} months "
                              "(start_month + months)", event.start_month + event.months)
        if event.firm is not None and event.firm not in cfg.firms:
            raise ConfigError(f"{k}.firm", f"names no firm (firms: {', '.join(cfg.firms)})",
                              event.firm)


# ------------------------------------------------------------------ the network
def _declared(key: str, name: str, value: Any, range_too: bool = True) -> Any:
    """*value* checked against the bounds :class:`NetworkConfig` declares for *name*
    (its type, and with *range_too* its interval); a numpy scalar counts as its number,
    and a value that is not finite is outside the interval. Returns *value*."""
    bounds = bounds_of(NetworkConfig, name)
    number = value.item() if isinstance(value, np.generic) else value
    if not range_too:
        bounds = Bounds(-math.inf, math.inf, integer=bounds.integer)
    elif isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(key, f"must be in {bounds}", value)
    bounds.check(key, number)
    return value


def validate_network(cfg: NetworkConfig, size: int, key: str = "network") -> None:
    """Check a network config against the market size; raise :class:`ConfigError`.

    Parameters
    ----------
    cfg : NetworkConfig
        The network settings.
    size : int
        Number of clients (``market.size``).
    key : str, optional
        Config key of the network settings, used in error messages
        (``network.kind``, ``network.mean_degree``, ...).

    Raises
    ------
    ConfigError
        If ``kind`` is not one of :data:`KINDS` (the message lists them);
        ``size`` is not an integer in ``[1, 2**31 - 1]``; ``mean_degree`` is
        not an integer or, for ``small_world`` and ``scale_free``, is below 2,
        not less than ``size`` or odd (both realise ``mean_degree / 2`` ties
        per client: neighbours on each side of the ring, or edges per new
        client); ``rewire_probability`` is not a number in ``[0, 1]``; or
        ``path`` is empty for ``kind=file``. Whether the file exists is checked
        by :func:`read_network`. The bounds of ``mean_degree`` and
        ``rewire_probability`` are those declared on :class:`NetworkConfig`'s fields.

    References
    ----------
    .. [1] D. J. Watts and S. H. Strogatz, "Collective dynamics of 'small-world'
       networks", *Nature* 393, 440-442, 1998.
    .. [2] A.-L. Barabási and R. Albert, "Emergence of scaling in random
       networks", *Science* 286, 509-512, 1999.
    """
    kind = cfg.kind
    if not isinstance(kind, str) or kind not in KINDS:
        raise ConfigError(f"{key}.kind", f"must be one of {', '.join(KINDS)}", kind)
    if not is_integer(size) or not 1 <= size <= MAX_NETWORK_SIZE:
        raise ConfigError("market.size", f"must be an integer in [1, {MAX_NETWORK_SIZE}]", size)
    k = _declared(f"{key}.mean_degree", "mean_degree", cfg.mean_degree, range_too=False)
    if kind in ("small_world", "scale_free"):
        if k < 2:
            raise ConfigError(f"{key}.mean_degree", f"must be at least 2 for kind={kind}", k)
        if k >= size:
            raise ConfigError(
                f"{key}.mean_degree", f"must be less than market.size ({size}) for kind={kind}", k
            )
        if k % 2:
            why = "k/2 neighbours on each side" if kind == "small_world" else "k/2 edges per client"
            raise ConfigError(f"{key}.mean_degree", f"must be even for kind={kind} ({why})", k)
    _declared(f"{key}.mean_degree", "mean_degree", k)
    _declared(f"{key}.rewire_probability", "rewire_probability", cfg.rewire_probability)
    path = cfg.path
    if not isinstance(path, str | Path):
        raise ConfigError(f"{key}.path", "must be a file path", path)
    if kind == "file" and not str(path).strip():
        raise ConfigError(
            f"{key}.path",
            "must name a GraphML (.graphml/.xml) or edge-list (.csv/.txt/.edges) file "
            "for kind=file",
            path,
        )
