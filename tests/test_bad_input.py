"""Bad input: every broken config or journey raises one clear ConfigError.

The message names where the problem is (a config key, an override, a file, a
touchpoint or edge) and the rule broken. Through the API the error comes from
``cxsim.compose`` (bad overrides) or ``cxsim.run`` (values, journeys). On the
command line the same inputs exit with status 2 and one ``cxsim: error:`` line
on stderr, before Hydra creates an output folder. The messages checked here
are the ones listed in ``docs/errors.md``.

Runs use tiny scenarios (200 clients, 0.1 years) so that a mistaken success
costs little.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from omegaconf import OmegaConf

import cxsim
from cxsim import ConfigError
from tests.fuzz import JOURNEY

TINY = ["scenario=solo", "market.size=200", "sim.years=0.1"]
SHIPPED = "one_off_retail, professional_services, subscription"


def esc(text: str) -> str:
    return re.escape(text)


# --------------------------------------------------------------------------- #
# Broken journeys, written into tmp_path
# --------------------------------------------------------------------------- #

_TOUCHPOINT = {"stage": "use", "channel": "web", "service_days": 0.01, "base_quality": 0.7}
_JOURNEY: dict[str, Any] = JOURNEY  # the valid start -> desk -> done journey


def _journey(add_touchpoints: tuple[str, ...] = (), add_edges: tuple[tuple, ...] = (),
             drop_edges: tuple[tuple[str, str], ...] = (), **top: Any) -> dict[str, Any]:
    """The valid start -> desk -> done journey, changed as asked."""
    data = copy.deepcopy(_JOURNEY)
    data.update(top)
    for name in add_touchpoints:
        data["touchpoints"][name] = dict(_TOUCHPOINT)
    data["edges"] = [e for e in data["edges"] if (e["from"], e["to"]) not in drop_edges]
    data["edges"] += [{"from": a, "to": b, "probability": p} for a, b, p in add_edges]
    return data


# name -> (journey mapping, or raw YAML text; message pattern with {path} for the file)
JOURNEYS: dict[str, tuple[dict[str, Any] | str, str]] = {
    "exit-within-rounding-of-zero": (  # passed the checks, then numpy's LinAlgError
        _journey(drop_edges=(("start", "desk"),),
                 add_edges=(("start", "start", 1.0), ("start", "desk", 1e-10))),
        "journey file {path} must end a walk after at most 1,000 visits on average "
        "(a loop is left with too small a probability)",
    ),
    "loop-left-almost-never": (  # ran for minutes, memory growing
        _journey(drop_edges=(("start", "desk"),),
                 add_edges=(("start", "start", 0.9999999), ("start", "desk", 1e-7))),
        "journey file {path} must end a walk after at most 1,000 visits on average",
    ),
    "yaml-aliases": (  # nested aliases in a few hundred bytes expand to gigabytes
        "name: &n tiny\ndescription: *n\n" + yaml.safe_dump(
            {k: v for k, v in _JOURNEY.items() if k not in ("name", "description")},
            sort_keys=False),
        "journey file {path} is not valid YAML (found an alias (*n): a journey file may not "
        "use anchors and aliases",
    ),
    "cost-per-visit-huge": (  # put inf in the tables
        _journey(touchpoints={**_JOURNEY["touchpoints"],
                              "desk": {**_JOURNEY["touchpoints"]["desk"],
                                       "cost_per_visit": 1e308}}),
        "touchpoint 'desk' in {path} cost_per_visit must be in [0, 1e+09]; got 1e+308",
    ),
    "staff-huge-in-a-journey": (
        _journey(touchpoints={**_JOURNEY["touchpoints"],
                              "desk": {**_JOURNEY["touchpoints"]["desk"], "staff": 10**20}}),
        "touchpoint 'desk' in {path} staff must be an integer in [1, 100,000]; "
        "got 100000000000000000000",
    ),
    "too-many-touchpoints": (  # a dense 10k x 10k solve: 3 GiB and 27 s
        _journey(add_touchpoints=tuple(f"t{i}" for i in range(1_000))),
        "must hold at most 1,000 touchpoints; got 1003",
    ),
    "touchpoint-name-ending-in-a-newline": (
        _journey(add_touchpoints=("desk2\n",), add_edges=(("desk2\n", "done", 1.0),
                                                          ("start", "desk2\n", 0.1))),
        "touchpoint names must be strings matching",
    ),
    "edge-to-unknown-touchpoint": (
        _journey(add_edges=(("desk", "nowhere", 0.1),)),
        "edge #3 in {path} field 'to' must name a known touchpoint (start, desk, done); "
        "got 'nowhere'",
    ),
    "unreachable-touchpoint": (
        _journey(add_touchpoints=("island",), add_edges=(("island", "done", 1.0),)),
        "journey file {path} has touchpoints not reachable from the entry 'start' "
        "(every touchpoint must be reachable): island",
    ),
    "no-exit": (
        _journey(exits=[]),
        "key 'exits' in {path} exits must be a non-empty list of touchpoint names; got []",
    ),
    "exit-unreachable": (
        _journey(drop_edges=(("desk", "done"),), add_edges=(("desk", "start", 0.5),)),
        "journey file {path} has touchpoints not reachable from the entry 'start' "
        "(every touchpoint must be reachable): done",
    ),
    "no-path-to-exit": (
        _journey(add_touchpoints=("trap",), add_edges=(("start", "trap", 0.1),
                                                       ("trap", "trap", 0.5))),
        "journey file {path} has touchpoints with no path to an exit (done) "
        "(every touchpoint must be able to reach one): trap",
    ),
    "exit-with-out-edge": (
        _journey(add_edges=(("done", "start", 0.5),)),
        "touchpoint 'done' in {path} is an exit and must have no outgoing edges "
        "(has edges to start)",
    ),
    "out-probabilities-above-1": (
        _journey(add_edges=(("start", "done", 0.3),)),
        "touchpoint 'start' in {path} out-edge probabilities must sum to at most 1 "
        "(the remainder is abandonment); got 1.2",
    ),
    "not-yaml": ("name: [unclosed\n", "journey file {path} is not valid YAML ("),
    "unknown-exit-outcome": (
        _journey(touchpoints={**_JOURNEY["touchpoints"],
                              "done": {**_JOURNEY["touchpoints"]["done"], "outcome": "refund"}}),
        "touchpoint 'done' in {path} outcome must be one of purchase, no_purchase, walk_away; "
        "got 'refund'",
    ),
    "outcome-on-a-non-exit": (
        _journey(touchpoints={**_JOURNEY["touchpoints"],
                              "desk": {**_JOURNEY["touchpoints"]["desk"],
                                       "outcome": "no_purchase"}}),
        "touchpoint 'desk' in {path} outcome is only allowed on an exit (exits: done); "
        "got 'no_purchase'",
    ),
    "patience-without-a-walk-away-exit": (
        _journey(touchpoints={**_JOURNEY["touchpoints"],
                              "desk": {**_JOURNEY["touchpoints"]["desk"],
                                       "patience_days": 0.5}}),
        "touchpoint 'desk' in {path} patience_days needs an exit labelled 'outcome: "
        "walk_away' (where a client who stops waiting goes)",
    ),
    "patience-at-self-service": (
        _journey(touchpoints={**_JOURNEY["touchpoints"],
                              "start": {**_JOURNEY["touchpoints"]["start"],
                                        "patience_days": 0.5}}),
        "touchpoint 'start' in {path} patience_days is only allowed when staffed is true; "
        "got 0.5",
    ),
}


def write_journey(directory: Path, case: str) -> tuple[Path, str]:
    """Write journey *case* as ``<case>.yaml``; return its path and message pattern."""
    content, message = JOURNEYS[case]
    path = directory / f"{case}.yaml"
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text)
    return path, esc(message.format(path=path))


def test_the_journey_template_is_valid(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(_journey(), sort_keys=False))
    results = cxsim.run(cxsim.compose([*TINY, f"firms.acme.journey={path}"]))
    assert list(results.summary.firm) == ["acme"]


# --------------------------------------------------------------------------- #
# Broken overrides
# --------------------------------------------------------------------------- #

# name -> (overrides after TINY, message pattern)
OVERRIDES: dict[str, tuple[list[str], str]] = {
    "size-not-a-number": (
        ["market.size=abc"],
        esc("config key 'market.size' is invalid: Value 'abc' of type 'str' could not be "
            "converted to Integer"),
    ),
    "size-not-an-integer": (
        ["market.size=2.5"],
        esc("config key 'market.size' is invalid: Value '2.5' of type 'float' could not be "
            "converted to Integer"),
    ),
    "years-a-list": (
        ["sim.years=[1]"],
        esc("config key 'sim.years' is invalid: Value '[1]' of type 'list' could not be "
            "converted to Float"),
    ),
    "emotions-not-a-bool": (
        ["psychology.emotions=maybe"],
        esc("psychology.emotions must be true or false; got 'maybe'"),
    ),
    "review-a-number": (  # OmegaConf turned 2 into true: the run reviewed
        ["management.review=2"], esc("management.review must be true or false; got 2")),
    "flag-zero": (  # ... and 0 into false
        ["firms.acme.scale_staff=0"], esc("firms.acme.scale_staff must be true or false; got 0")),
    "flag-yes": (["market.heterogeneity=yes"],
                 esc("market.heterogeneity must be true or false; got 'yes'")),
    "flag-in-a-mapping": (["management={review: 1}"],
                          esc("management.review must be true or false; got 1")),
    "report-a-number": (["experiment.report=1"],
                        esc("experiment.report must be true, false or null; got 1")),
    "size-negative": (["market.size=-5"], esc("market.size must be in [1, 100,000,000]; got -5")),
    "seed-negative": (["seed=-1"], esc("seed must be in [0, 9,223,372,036,854,775,807]; got -1")),
    "years-zero": (["sim.years=0"], esc("sim.years must be in (0, 200]; got 0.0")),
    "churn-probability-above-1": (
        ["psychology.base_churn=1.5"],
        esc("psychology.base_churn must be in [0, 1]; got 1.5"),
    ),
    "power-above-1": (
        ["firms.acme.power=2"],
        esc("firms.acme.power must be in [0, 1]; got 2.0"),
    ),
    "unknown-strategy-preset": (
        ["firms.acme.strategy=customer_obsessed"],
        esc("firms.acme.strategy names no strategy preset (available: balanced, "
            "relationship_focused, sales_focused); got 'customer_obsessed'"),
    ),
    "unknown-funding-preset": (
        ["firms.acme.funding=lavish"],
        esc("firms.acme.funding names no funding preset (available: aligned, generous, lean, "
            "misaligned); got 'lavish'"),
    ),
    "unknown-org": (
        ["firms.acme.org=matrix"],
        esc("firms.acme.org names no org preset (available: cco, no_cco); got 'matrix'"),
    ),
    "unknown-metric": (
        ["firms.acme.metric=profit"],
        esc("firms.acme.metric must be one of sales, nps, clv; got 'profit'"),
    ),
    "unknown-incentive": (
        ["firms.acme.incentive=bonus"],
        esc("firms.acme.incentive must be one of transactions, measured_nps, clv; got 'bonus'"),
    ),
    "offer-attribute-unknown": (
        ["+firms.acme.offer.luxury=0.5"],
        esc("firms.acme.offer.luxury is not an offer attribute (speed, assortment, "
            "relationship; price comes from price_level)"),
    ),
    "needs-not-summing-to-1": (
        ["market.segments.core.needs.price=0.5"],
        esc("market.segments.core.needs must sum to 1; got 1.2"),
    ),
    "need-unknown": (
        ["+market.segments.core.needs.status=0.1"],
        esc("market.segments.core.needs.status is not a need (needs: price, speed, "
            "assortment, relationship)"),
    ),
    "shock-beyond-horizon": (
        ["+events.crash.kind=shock", "+events.crash.start_month=0", "+events.crash.months=6"],
        esc("events.crash must end within the horizon of 2 months (start_month + months); "
            "got 6"),
    ),
    "shock-starts-after-horizon": (
        ["+events.crash.start_month=5"],
        esc("events.crash.start_month must be in [0, 1]; got 5"),
    ),
    "event-kind-unknown": (
        ["+events.party.kind=party", "+events.party.start_month=0"],
        esc("events.party.kind must be shock or workshop; got 'party'"),
    ),
    "workshop-for-unknown-firm": (
        ["+events.retreat.kind=workshop", "+events.retreat.start_month=0",
         "+events.retreat.firm=globex"],
        esc("events.retreat.firm names no firm (firms: acme); got 'globex'"),
    ),
    "segment-shares-not-1": (
        ["market.segments.core.share=0.6"],
        esc("market.segments.*.share must sum to 1; got 0.6"),
    ),
    "discount-rate-nan": (["sim.discount_rate=nan"],
                          esc("sim.discount_rate must be finite; got nan")),
    "years-infinite": (["sim.years=inf"], esc("sim.years must be finite; got inf")),
    "warmup-equals-horizon": (
        ["sim.warmup_years=0.1"],
        esc("sim.warmup_years must be less than sim.years (0.1); got 0.1"),
    ),
    "warmup-beyond-horizon": (
        ["sim.warmup_years=1"],
        esc("sim.warmup_years must be less than sim.years (0.1); got 1.0"),
    ),
    "years-shorter-than-a-month": (  # exited 0 with a summary of nulls
        ["sim.years=1e-9"],
        esc("sim.years must exceed sim.warmup_years (0.0) by at least a month of "
            "sim.days_per_month (30.4375 days): the results are monthly samples after the "
            "warm-up; got 1e-09")),
    "years-a-month-short-after-warm-up": (
        ["sim.years=1", "sim.warmup_years=0.95"],
        esc("sim.years must exceed sim.warmup_years (0.95) by at least a month")),
    "unknown-config-group-option": (
        ["market=nope"],
        esc("override 'market=nope' names no config in its group (available: cdnow, default, "
            "mixed, one_off_consumer, recurring_b2b)"),
    ),
    "unknown-key": (["market.sise=3"], esc("config key 'market.sise' is not a known setting")),
    "unknown-firm-key": (
        ["firms.acme.recovery=0.3"],
        esc("config key 'firms.acme.recovery' is not a known setting"),
    ),
    "new-entry-without-plus": (
        ["firms.acme.staff.support=3"],
        esc("config key 'firms.acme.staff.support' does not exist (to add a new entry to a "
            "mapping, write '+firms.acme.staff.support=...')"),
    ),
    "sweep-without-multirun": (
        ["seed=1,2"],
        esc("override 'seed=1,2' is invalid: Ambiguous value for argument 'seed=1,2'"),
    ),
    "missing-journey-file": (
        ["firms.acme.journey=/no/such.yaml"],
        esc("journey file '/no/such.yaml' does not exist"),
    ),
    "journey-file-not-yaml-or-graphml": (
        ["firms.acme.journey=/no/such.txt"],
        esc("journey file '/no/such.txt' must end in one of .yaml, .yml, .graphml, .xml"),
    ),
    "unknown-shipped-journey": (
        ["firms.acme.journey=nope"],
        esc("journey 'nope' is not a shipped journey in ") + ".*"
        + esc(f"(available: {SHIPPED})"),
    ),
    "staff-unknown-touchpoint": (
        ["+firms.acme.staff.nowhere=3"],
        esc("firms.acme.staff.nowhere names no touchpoint of journey 'professional_services'"),
    ),
    "staff-unstaffed-touchpoint": (
        ["+firms.acme.staff.inquiry=3"],
        esc("firms.acme.staff.inquiry names an unstaffed touchpoint"),
    ),
    "staff-zero": (
        ["+firms.acme.staff.support=0"],
        esc("firms.acme.staff.support must be in [1, 100,000]; got 0"),
    ),
    "cx-split-unknown-touchpoint": (
        ["+firms.acme.cx_split.nowhere=1"],
        esc("firms.acme.cx_split.nowhere names no touchpoint of journey 'professional_services'"),
    ),
    "cx-split-negative": (
        ["+firms.acme.cx_split.support=-1"],
        esc("firms.acme.cx_split.support must be in [0, 1,000,000]; got -1"),
    ),
    "cx-split-all-zero": (
        ["+firms.acme.cx_split.support=0"],
        esc("firms.acme.cx_split must give some touchpoint a weight above 0"),
    ),
    # escapes a fuzz found: values the model cannot mean, bounded beside their fields
    "discount-rate-zero": (  # a client never lost had an infinite CLV now (1 + d - r = 0)
        ["sim.discount_rate=0"], esc("sim.discount_rate must be in [0.0001, 10]; got 0.0")),
    "messages-beyond-the-poisson-draw": (  # exp(-rate) underflowed: 10,000 became 1 message
        ["market.segments.core.social_influence=100", "market.warning_ratio=8"],
        esc("market.segments.core.social_influence times market.warning_ratio (what a detractor "
            "tells) must be at most 700 messages a journey; got 800.0"),
    ),
    "staff-overflowing": (
        ["+firms.acme.staff.support=100000000000000000000"],
        esc("firms.acme.staff.support must be in [1, 100,000]; got 100000000000000000000"),
    ),
    "staff-a-billion": (
        ["+firms.acme.staff.support=1000000000"],
        esc("firms.acme.staff.support must be in [1, 100,000]; got 1000000000"),
    ),
    "seed-beyond-64-bits": (
        ["seed=18446744073709551616"],
        esc("seed must be in [0, 9,223,372,036,854,775,807]; got 18446744073709551616"),
    ),
    "order-value-huge": (
        ["market.segments.core.order_value=1e308"],
        esc("market.segments.core.order_value must be in [0, 1,000,000,000]; got 1e+308"),
    ),
    "price-level-huge": (
        ["firms.acme.price_level=1e308"], esc("firms.acme.price_level must be in (0, 100]")),
    "revenue-gain-huge": (
        ["market.sales_pressure_revenue_gain=1e308"],
        esc("market.sales_pressure_revenue_gain must be in [0, 10]")),
    "days-per-month-huge": (
        ["sim.days_per_month=1e308"], esc("sim.days_per_month must be in [1, 366]")),
    "shock-factor-huge": (
        ["+events.s.kind=shock", "+events.s.start_month=0", "+events.s.months=1",
         "+events.s.order_value_factor=1e308"],
        esc("events.s.order_value_factor must be in [0, 100]")),
    "cx-split-huge": (
        ["+firms.acme.cx_split.support=1e308"],
        esc("firms.acme.cx_split.support must be in [0, 1,000,000]")),
    "onboarding-cost-huge": (
        ["firms.acme.onboarding_cost=1e308"],
        esc("firms.acme.onboarding_cost must be in [0, 1,000,000,000]")),
    "size-beyond-any-machine": (
        ["market.size=2147483647"], esc("market.size must be in [1, 100,000,000]")),
    # heterogeneous clients (BG/NBD and Gamma-Gamma) and cohorts
    "rate-fixed-and-spread": (
        ["market.segments.core.purchase_rate={r: 0.5, alpha_years: 0.1}"],
        esc("market.segments.core.purchase_rate and market.segments.core.mean_days_between_needs"
            " are both set: declare one")),
    "rate-neither": (
        ["market.segments.core.mean_days_between_needs=null"],
        esc("market.segments.core.mean_days_between_needs must be set, or purchase_rate "
            "declared")),
    "spend-fixed-and-spread": (
        ["market.segments.core.spend={p: 6, q: 4, gamma: 15}"],
        esc("market.segments.core.spend and market.segments.core.order_value are both set")),
    "rate-shape-zero": (
        ["market.segments.core.mean_days_between_needs=null",
         "market.segments.core.purchase_rate={r: 0, alpha_years: 0.1}"],
        esc("market.segments.core.purchase_rate.r must be in (0, 1,000,000]; got 0")),
    "dropout-shape-negative": (
        ["market.segments.core.dropout={a: 0.8, b: -2}"],
        esc("market.segments.core.dropout.b must be in (0, 1,000,000]; got -2")),
    "spend-mean-infinite": (
        ["market.segments.core.order_value=null", "market.segments.core.spend={p: 6, q: 1, "
         "gamma: 15}"],
        esc("market.segments.core.spend.q must be in (1, 1,000,000]; got 1")),
    "spend-mean-beyond-order-values": (
        ["market.segments.core.order_value=null",
         "market.segments.core.spend={p: 1000000, q: 1.5, gamma: 1000000}"],
        esc("market.segments.core.spend must have a mean order_value in [0, 1,000,000,000], "
            "as order_value itself; got 2000000000000.0")),
    "rate-unknown-key": (
        ["market.segments.core.mean_days_between_needs=null",
         "market.segments.core.purchase_rate={r: 0.5, alfa: 0.1}"],
        esc("config key 'market.segments.core.purchase_rate.alfa' is not a known setting")),
    "dropout-after-unknown": (
        ["market.segments.core.dropout_after=first"],
        esc("market.segments.core.dropout_after must be one of walk, repeat_purchase")),
    "cohort-with-a-starting-split": (
        ["market.size=3", "network=none", "market.cohort=[0, 1, 2]"],
        esc("firms.acme.initial_share must be 0 with market.cohort")),
    "cohort-rows-not-clients": (
        ["market.size=3", "network=none", "market.cohort=[0, 1]", "firms.acme.initial_share=0"],
        esc("market.cohort must have one row per client (market.size = 3); got 2")),
    "cohort-day-beyond-horizon": (
        ["market.size=2", "network=none", "market.cohort=[0, 9000]",
         "firms.acme.initial_share=0"],
        esc("market.cohort row 2 acquired_day must be a number of days in [0, ")),
    "cohort-missing-file": (
        ["market.cohort=/no/such.csv", "firms.acme.initial_share=0"],
        esc("market.cohort names no file; got '/no/such.csv'")),
    "too-many-samples": (
        ["sim.years=200", "sim.days_per_month=1", "market.size=50"],
        esc("sim.days_per_month must leave at most 2,400 monthly samples over sim.years "
            "(200), the 200-year monthly grid: each sample is a row per firm and segment, "
            "and a day's loop; got 1.0")),
    "label-blank": (
        ["firms.acme.label=' '"],
        esc("firms.acme.label must be one line of 1 to 60 printable characters; got ' '")),
    "label-too-long": (
        ["market.label=" + "x" * 61],
        esc("market.label must be one line of 1 to 60 printable characters; got 'xxx")),
    "currency-too-long": (
        ["market.currency=dollars"],
        esc("market.currency must be one line of 1 to 4 printable characters; got 'dollars'")),
    "delete-seed": (  # ran seed 0, silently
        ["~seed"], esc("override '~seed' deletes a setting cxsim needs (it would run on its "
                       "default); give it a value instead")),
    "delete-a-setting-with-its-value": (
        ["~market.size=200"], esc("override '~market.size=200' deletes a setting cxsim needs")),
    "delete-a-need": (  # came back from the default, silently
        ["~market.segments.core.needs.price"],
        esc("override '~market.segments.core.needs.price' deletes a setting cxsim needs")),
    "delete-a-config-group": (
        ["~market=default"], esc("override '~market=default' deletes a setting cxsim needs")),
    # an empty mapping, merged, changed nothing: the defaults ran
    "firms-empty": (["firms={}"], esc("firms must name at least one firm ({} changes nothing: "
                                      "the default firms would run); got {}")),
    "segments-empty": (["market.segments={}"],
                       esc("market.segments must name at least one segment ({} changes nothing:"
                           " the default segment would run); got {}")),
    "segments-empty-in-a-mapping": (["market={segments: {}}"],
                                    esc("market.segments must name at least one segment")),
    "needs-empty": (["market.segments.core.needs={}"],
                    esc("market.segments.core.needs must weigh at least one need ({} changes "
                        "nothing: the default needs would run); got {}")),
    "offer-empty": (  # set every attribute to 0, not the presets' offer
        ["firms.acme.offer={}"],
        esc("firms.acme.offer must give at least one offer attribute ({} would set every "
            "attribute to 0, not the presets' offer); got {}")),
    # interpolations: a 133-line traceback on the command line, a raw OmegaConf error in run
    "interpolation-of-itself": (
        ["seed=${seed}"],
        esc("override 'seed=${seed}' may not interpolate (${...}): a config is data, and its "
            "saved config.yaml must mean what it says; write the value itself")),
    "interpolation-of-an-unknown-key": (
        ["market.size=${market.sise}"],
        esc("override 'market.size=${market.sise}' may not interpolate (${...})")),
    "interpolation-by-a-resolver": (
        ["seed=${oc.decode:'0x10'}"],
        esc("override 'seed=${oc.decode:'0x10'}' may not interpolate (${...})")),
    "interpolation-by-an-unknown-resolver": (
        ["seed=${eval:1+1}"], esc("override 'seed=${eval:1+1}' may not interpolate (${...})")),
    "interpolation-in-a-mapping": (
        ["market={size: ${seed}}"],
        esc("override 'market={size: ${seed}}' may not interpolate (${...})")),
    "label-twice": (
        ["+firms.b.initial_share=0.1", "firms.acme.label=Acme", "+firms.b.label=ACME"],
        esc("firms.b.label must differ from firms.acme's name (names tell firms apart); "
            "got 'ACME'")),
}


def _compose_and_run(overrides: list[str]) -> None:
    """Compose and run; a bad input must raise before a result exists."""
    cxsim.run(cxsim.compose(overrides))


@pytest.mark.parametrize("case", list(OVERRIDES))
def test_bad_override_raises_config_error(case):
    overrides, message = OVERRIDES[case]
    with pytest.raises(ConfigError, match=message) as info:
        _compose_and_run([*TINY, *overrides])
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("case", list(JOURNEYS))
def test_bad_journey_raises_config_error(tmp_path, case):
    path, message = write_journey(tmp_path, case)
    with pytest.raises(ConfigError, match=message) as info:
        _compose_and_run([*TINY, f"firms.acme.journey={path}"])
    assert "\n" not in str(info.value)


def test_bad_journey_read_by_relative_path(tmp_path, monkeypatch):
    write_journey(tmp_path, "no-path-to-exit")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=esc("journey file no-path-to-exit.yaml has touchpoints "
                                              "with no path to an exit (done)")):
        _compose_and_run([*TINY, "firms.acme.journey=no-path-to-exit.yaml"])


# --------------------------------------------------------------------------- #
# Rules across entries: two segments, two firms
# --------------------------------------------------------------------------- #


def _with(**extra: Any):
    """The tiny scenario as a DictConfig with *extra* merged in (new entries allowed)."""
    plain = OmegaConf.to_container(cxsim.compose(TINY), resolve=True)
    return OmegaConf.merge(OmegaConf.create(plain), OmegaConf.create(extra))


def test_two_segment_shares_must_sum_to_1():
    cfg = _with(market={"segments": {"core": {"share": 0.6}, "b": {"share": 0.6}}})
    with pytest.raises(ConfigError, match=esc("market.segments.*.share must sum to 1; got 1.2")):
        cxsim.run(cfg)


def test_initial_shares_of_two_firms_must_sum_to_at_most_1():
    cfg = _with(firms={"acme": {"initial_share": 0.7}, "b": {"initial_share": 0.5}})
    with pytest.raises(ConfigError,
                       match=esc("firms.*.initial_share must sum to at most 1; got 1.2")):
        cxsim.run(cfg)


def test_unknown_key_in_a_new_firm():
    cfg = _with(firms={"b": {"recovery": 0.5}})
    with pytest.raises(ConfigError,
                       match=esc("config key 'firms.b.recovery' is not a known setting")):
        cxsim.run(cfg)


@pytest.mark.parametrize(("overrides", "message"), [
    (["market.segments.core.share=0.6", "+market.segments.b.share=0.6"],
     "market.segments.*.share must sum to 1; got 1.2"),
    (["firms.acme.initial_share=0.7", "+firms.b.initial_share=0.5"],
     "firms.*.initial_share must sum to at most 1; got 1.2"),
], ids=["segments", "firms"])
def test_entries_added_by_override_are_checked_together(overrides, message):
    with pytest.raises(ConfigError, match=esc(message)):
        _compose_and_run([*TINY, *overrides])


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #

RESULT_FILES = ("meta.json", "summary.json", "*.parquet")


def _cxsim(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYDRA_")}
    return subprocess.run([sys.executable, "-m", "cxsim", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


# name -> (arguments after TINY, or None for a journey case; pattern of the message)
CLI_CASES: dict[str, tuple[list[str], str] | None] = {
    name: OVERRIDES[name] for name in (
        "size-not-a-number", "size-negative", "segment-shares-not-1",
        "unknown-config-group-option", "missing-journey-file", "discount-rate-nan",
        "unknown-key", "staff-unknown-touchpoint", "warmup-equals-horizon",
        "interpolation-of-itself",
    )
}
CLI_CASES["edge-to-unknown-touchpoint"] = None
CLI_CASES["unknown-launcher"] = (  # Hydra's own error: 11 lines and exit status 1
    ["hydra/launcher=nope"],
    esc("override 'hydra/launcher=nope' names no config in its group (available: basic, "
        "joblib, submitit_local, submitit_slurm)"))
# Checked by the command's own entry point in this process (cheaper than a subprocess);
# the subprocess cases above show the same path ends in exit status 2 and one line.
IN_PROCESS_CLI_CASES: dict[str, tuple[list[str], str]] = {
    "glob-of-a-plain-key": (  # launched no job and exited 0
        ["-m", "seed=glob(*)"],
        esc("override 'seed=glob(*)' globs 'seed', which is not a config group")),
    "glob-of-no-option": (
        ["-m", "market=glob(nothing*)"],
        esc("override 'market=glob(nothing*)' selects no option of its config group")),
    "interval-sweep": (  # said "requires --multirun" although -m was given
        ["-m", "seed=interval(0,1)"],
        esc("override 'seed=interval(0,1)' is an interval sweep, which the basic sweeper "
            "cannot run")),
    "unwritable-run-dir": (  # a FileNotFoundError traceback
        ["hydra.run.dir=/proc/nope"], esc("hydra.run.dir '/proc/nope' cannot be written to")),
    "unwritable-sweep-dir": (
        ["-m", "hydra.sweep.dir=/proc/nope"],
        esc("hydra.sweep.dir '/proc/nope' cannot be written to")),
}
for _typo, _key in (("+psychology.base_chrun=0.9", "psychology.base_chrun"),
                    ("+market.sise=3", "market.sise"), ("++market.sise=3", "market.sise"),
                    ("+foo=bar", "foo"), ("+x._target_=os.system", "x")):
    # Hydra's + adds any key; merged into the schema it vanished and the default ran
    IN_PROCESS_CLI_CASES[f"added-unknown-key {_typo}"] = (
        [_typo], esc(f"config key '{_key}' is not a known setting"))
CLI_CASES["added-unknown-key"] = IN_PROCESS_CLI_CASES["added-unknown-key +foo=bar"]


@pytest.mark.parametrize("case", list(IN_PROCESS_CLI_CASES))
def test_cli_entry_point_refuses_with_one_line(tmp_path, monkeypatch, capsys, case):
    from cxsim import cli

    args, message = IN_PROCESS_CLI_CASES[case]
    options = [a for a in args if a.startswith("-")]
    overrides = [a for a in args if not a.startswith("-")]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["cxsim", *options, *TINY, *overrides])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), lines
    assert list(tmp_path.iterdir()) == []

# Hydra's own usage errors: 6 to 11 lines and exit status 1 (the status of a failed job)
HYDRA_USAGE_ERRORS: dict[str, tuple[list[str], str]] = {
    "unknown-config-name": (
        ["-cn", "nope"], "config name (-cn) 'nope' names no config in the config search path"),
    "config-path-not-a-folder": (
        ["-cp", "/no/such"], "config path (-cp) '/no/such' is not a folder of configs"),
    "config-dir-missing": (
        ["-cd", "/no/such"], "config directory (-cd) '/no/such' does not exist"),
    "unknown-sweeper": (
        ["-m", "hydra/sweeper=nope", "seed=1,2"],
        "override 'hydra/sweeper=nope' names no config in its group (available: basic)"),
    "hydra-value-of-the-wrong-type": (
        ["hydra.job.chdir=maybe"],
        "config key 'hydra.job.chdir' is invalid: Value 'maybe' is not a valid bool"),
    "hydra-key-unknown": (["hydra.nope=3"], "config key 'hydra.nope' is not a known setting"),
    "bad-override-with-cfg": (
        ["--cfg", "job", "market.size=abc"],
        "config key 'market.size' is invalid: Value 'abc' of type 'str' could not be "
        "converted to Integer"),
    "unknown-option": (["--nope"], "unrecognized arguments: --nope"),
    "two-commands": (  # a traceback
        ["--cfg", "job", "--run"], "only one of --run, --multirun, --cfg and --info can be given"),
    "resolve-alone": (["--resolve"], "--resolve can only be given with --cfg or --help"),
}


@pytest.mark.parametrize("case", list(HYDRA_USAGE_ERRORS))
def test_hydras_own_usage_errors_are_one_line_and_exit_2(tmp_path, monkeypatch, capsys, case):
    from cxsim import cli

    args, message = HYDRA_USAGE_ERRORS[case]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["cxsim", *args, *TINY])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cxsim: error: {message}"), lines
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "message"), [
    (["--b", "hydra.run.dir=x"],  # dropped: A = B, every difference 0
     "--b override 'hydra.run.dir=x' sets hydra.*, which cannot change a scenario (Hydra's own "
     "settings: cxsim-compare runs no Hydra app and writes to --out)"),
    (["--a", "hydra/launcher=joblib"], "--a override 'hydra/launcher=joblib' sets hydra.*"),
    (["--common", "experiment.replications=5"],  # dropped: the count came from -n
     "--common override 'experiment.replications=5' sets experiment.*, which cannot change a "
     "scenario (the cxsim command's job settings: cxsim-compare runs -n replications and "
     "always writes its report)"),
    (["--b", "+experiment.report=false"], "--b override '+experiment.report=false' sets "
                                          "experiment.*"),
])
def test_compare_refuses_keys_that_cannot_change_a_scenario(tmp_path, capsys, argv, message):
    from cxsim.compare_cli import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main(["--common", *TINY, *argv, "-n", "2", "--out", str(out)])
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cxsim-compare: error: {message}"), lines
    assert not out.exists()


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_bad_input_exits_2_with_one_line(tmp_path, case):
    if CLI_CASES[case] is None:  # a journey, given relative to the working directory
        path, _ = write_journey(tmp_path, case)
        args = [f"firms.acme.journey={path.name}"]
        message = esc(JOURNEYS[case][1].format(path=path.name))
    else:
        args, message = CLI_CASES[case]
    options = [a for a in args if a.startswith("-")]  # e.g. -m: before any override
    overrides = [a for a in args if not a.startswith("-")]
    done = _cxsim([*options, *TINY, *overrides], tmp_path)

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("cxsim: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert done.stdout == ""
    left = [p for pattern in RESULT_FILES for p in tmp_path.rglob(pattern)]
    assert left == []
    assert not (tmp_path / "outputs").exists() and not (tmp_path / "multirun").exists()


def test_cli_good_run_writes_a_result_that_loads(tmp_path):
    done = _cxsim(["market.size=300", "sim.years=0.2"], tmp_path)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    found = re.search(r"^outputs: (.+)$", done.stdout, re.MULTILINE)
    assert found, done.stdout
    out = Path(found.group(1))
    assert out.is_dir() and out.resolve().is_relative_to(tmp_path.resolve())
    results = cxsim.Results.load(out)
    saved = json.loads((out / "summary.json").read_text())
    assert json.loads(results.summary.to_json(orient="records")) == saved
    assert [row["firm"] for row in saved] == ["sales_first", "client_first"]


def test_every_numeric_setting_declares_finite_bounds():
    """A float or integer setting without an upper bound let 1e308 through to the engine."""
    from dataclasses import fields

    from cxsim import config

    sections = (config.SegmentConfig, config.PurchaseRateConfig, config.DropoutConfig,
                config.SpendConfig, config.MarketConfig, config.FirmConfig,
                config.PsychologyConfig, config.SimConfig, config.ManagementConfig,
                config.EventConfig, config.ExperimentConfig, config.Config)
    unbounded = [f"{section.__name__}.{f.name}" for section in sections for f in fields(section)
                 if f.type.split(" |")[0] in ("float", "int")
                 and not math.isfinite(getattr(config.bounds_of(section, f.name), "high",
                                                math.inf))]
    assert unbounded == []
    assert str(config.bounds_of(config.SegmentConfig, "mean_days_between_needs")) == "(0, 36,525]"


@pytest.mark.parametrize("section", ["firms", "market.segments", "events"])
@pytest.mark.parametrize("name", ["acme\n", "acme\t", "a b", "x\u2028y"])
def test_a_name_with_a_trailing_newline_or_space_is_refused(section, name):
    """The message shows the name escaped: a newline in it gave a message of two lines."""
    cfg = cxsim.compose([*TINY, "+events.retreat.kind=workshop", "+events.retreat.start_month=0"])
    entries = {"firms": "acme", "market.segments": "core", "events": "retreat"}
    parent = OmegaConf.select(cfg, section.rpartition(".")[0]) if "." in section else cfg
    leaf = section.rpartition(".")[2]
    parent[leaf] = {name: parent[leaf][entries[section]]}
    with pytest.raises(ConfigError) as info:
        cxsim.run(cfg)
    assert str(info.value) == f"{section}.{name!r} must be a name of letters, digits, '_' or '-'"
    assert len(str(info.value).splitlines()) == 1


def test_a_comparison_of_scenarios_with_different_firms_is_one_line(tmp_path, capsys):
    from cxsim.compare_cli import main

    with pytest.raises(SystemExit) as done:
        main(["--a", "scenario=solo", "--b", "scenario=duel", "--common", "market.size=100",
              "sim.years=0.1", "-n", "2", "--out", str(tmp_path / "out")])
    assert done.value.code == 2 and not (tmp_path / "out").exists()
    assert capsys.readouterr().err.strip() == (
        "cxsim-compare: error: firms must be the same in both scenarios of a paired "
        "comparison (only in a: acme; only in b: client_first, sales_first)")


def test_a_firm_is_named_by_its_strategy_in_words_and_by_its_key_where_two_share_one():
    from cxsim.config import firm_labels, to_config

    duel = to_config(cxsim.compose())
    assert firm_labels(duel.firms) == {"sales_first": "the sales-focused firm",
                                       "client_first": "the relationship-focused firm"}
    three = to_config(cxsim.compose(["+firms.copycat.strategy=sales_focused",
                                     "+firms.copycat.initial_share=0.1",
                                     "firms.client_first.label='Kindly & Co'"]))
    assert firm_labels(three.firms) == {
        "sales_first": "the sales-focused firm (sales_first)",
        "client_first": "Kindly & Co", "copycat": "the sales-focused firm (copycat)"}
    assert firm_labels(cxsim.config.as_plain(three)["firms"]) == firm_labels(three.firms)


@pytest.mark.parametrize("replication", [-1, 1.5, True])
def test_a_replication_that_is_not_a_count_is_refused(replication):
    with pytest.raises(ConfigError, match="replication must be an integer >= 0"):
        cxsim.run(cxsim.compose(TINY), replication=replication)


def test_the_cli_checks_a_sweeps_jobs_without_building_an_engine(monkeypatch):
    """One validation pass, journeys and names included; no engine (nor network) is built."""
    from cxsim import cli
    from cxsim.simulation import engine

    def no_engine(*args, **kwargs):
        raise AssertionError("an engine was built to validate a job")

    monkeypatch.setattr(engine, "Engine", no_engine)
    cli._check(TINY)  # a good job passes
    with pytest.raises(SystemExit) as exit_:
        cli._check([*TINY, "+firms.acme.staff.nowhere=3"])
    assert exit_.value.code == 2


@pytest.mark.parametrize("header", ["acquired_day,acquired_day", "acquired_day,firm,firm"])
def test_a_cohort_file_naming_a_column_twice_is_refused(tmp_path, header):
    """pandas reads a repeated column as 'acquired_day.1': the file is ambiguous, not valid."""
    path = tmp_path / "cohort.csv"
    path.write_text(header + "\n" + "\n".join(",".join(["1"] * header.count(",")) + ",acme"
                                              for _ in range(3)) + "\n")
    repeated = header.split(",")[-1]
    with pytest.raises(ConfigError, match=esc(f"market.cohort file cohort.csv must name each "
                                              f"column once (which of two would count?); got "
                                              f"'{repeated}'")):
        _compose_and_run([*TINY, "market.size=3", "network=none", f"market.cohort={path}",
                          "firms.acme.initial_share=0"])


def test_a_graphml_journey_declaring_a_touchpoint_twice_is_refused(tmp_path):
    """networkx merged the two nodes silently; YAML already refused a duplicate key."""
    from cxsim.model.journey import journey_from_mapping, journey_to_graphml

    path = tmp_path / "twice.graphml"
    journey_to_graphml(journey_from_mapping(_journey(), "tiny"), path)
    text = path.read_text()
    first = text.index("<node ")
    node = text[first:text.index("</node>", first) + len("</node>")]
    path.write_text(text.replace(node, node + node, 1))
    with pytest.raises(ConfigError, match="must not declare a touchpoint twice"):
        _compose_and_run([*TINY, f"firms.acme.journey={path}"])


def test_a_market_too_large_for_memory_is_refused_before_it_is_built(monkeypatch):
    from cxsim import validate as scenario

    monkeypatch.setattr(scenario, "available_memory", lambda: 2 * 2**30)
    with pytest.raises(ConfigError, match=r"market.size needs about 2\.5 GiB of memory "
                                          r"\(1,200 bytes per client\), more than the 2\.0 GiB "
                                          r"available; got 2000000"):
        scenario.validate(cxsim.compose([*TINY, "market.size=2000000"]))
    scenario.validate(cxsim.compose([*TINY, "market.size=1000000"]))  # 1.4 GiB: fits


def test_a_glob_sweep_is_expanded_to_its_config_group_options():
    from cxsim.cli import _runs

    jobs = _runs(["-m", "market=glob(*,exclude=[mixed,default,cdnow])", "seed=1,2"])
    assert sorted(map(tuple, jobs)) == [
        ("market=one_off_consumer", "seed=1"), ("market=one_off_consumer", "seed=2"),
        ("market=recurring_b2b", "seed=1"), ("market=recurring_b2b", "seed=2")]


@pytest.mark.parametrize("overrides, message", [
    (["firms.acme.offer=[1]"], "config key 'firms.acme.offer' must be a mapping of names to "
                               "values; got [1]"),
    (["market=null"], "override 'market=null' must name an option of its config group "
                      "(available: cdnow, default, mixed, one_off_consumer, recurring_b2b)"),
    ([5], "overrides must be a list of override strings"),
    ("market.size=3", "overrides must be a list of override strings"),
    (5, "overrides must be a list of override strings, e.g. ['market.size=500']; got 5"),
    ({"market.size": 3}, "overrides must be a list of override strings"),
])
def test_a_malformed_override_names_itself(overrides, message):
    """These raised a TypeError from the error handler, or a message naming no key."""
    with pytest.raises(ConfigError, match=esc(message)):
        _compose_and_run(overrides if not isinstance(overrides, list) else [*TINY, *overrides])


def test_an_override_may_not_read_the_environment():
    """The value would land in config.yaml, meta.json and messages: a shared folder would
    carry the secret. Refused, and the message does not echo the value."""
    with pytest.raises(ConfigError, match=esc("override 'sim.years=...' may not read an "
                                              "environment variable")) as info:
        cxsim.compose(["sim.years=${oc.env:SECRET_TOKEN}"])
    assert "SECRET_TOKEN" not in str(info.value)


def test_an_entry_of_a_mapping_of_names_may_be_deleted():
    """A firm, a segment, an event or a touchpoint's staff is the user's own entry."""
    cfg = cxsim.config.to_config(cxsim.compose(["~firms.sales_first"]))
    assert list(cfg.firms) == ["client_first"]
    cfg = cxsim.config.to_config(cxsim.compose([*TINY, "+firms.acme.staff.support=2",
                                                "~firms.acme.staff.support"]))
    assert cfg.firms["acme"].staff == {}


def test_staff_and_cx_split_may_be_set_empty():
    """Their documented default: no staff set, CX money following expected visits."""
    cfg = cxsim.config.to_config(cxsim.compose([*TINY, "firms.acme.staff={}",
                                                "firms.acme.cx_split={}"]))
    assert cfg.firms["acme"].staff == {} and cfg.firms["acme"].cx_split == {}


@pytest.mark.parametrize("overrides", [["sim.years=0.1"], ["sim.years=0.0834"],
                                       ["sim.years=1", "sim.warmup_years=0.9"],
                                       ["sim.years=0.02", "sim.days_per_month=7"]])
def test_a_horizon_of_one_month_after_the_warm_up_is_valid(overrides):
    cxsim.config.to_config(cxsim.compose([*TINY, *overrides]))


def test_hydras_own_keys_may_interpolate():
    """Hydra's settings are Hydra's: a run folder named by the time is its documented use."""
    cfg = cxsim.compose([*TINY, "hydra.run.dir=outputs/${now:%Y-%m-%d}"])
    assert cfg.seed == 0
    cfg = cxsim.compose([*TINY, "market.label=costs \\${5}"])  # escaped: the text itself
    assert cfg.market.label == "costs ${5}"


def test_a_cx_budget_too_small_to_divide_by_has_no_return_not_an_infinite_one():
    """Found by the fuzz's edge cases: a budget share of 5e-324 spends ~1e-321, and margin
    over it overflowed to inf; it is as undefined as the return on a budget of 0."""
    tiny = cxsim.run(cxsim.compose(["scenario=solo", "market.size=150", "sim.years=0.1",
                                    "firms.acme.budget_share=5e-324"])).summary
    none = cxsim.run(cxsim.compose(["scenario=solo", "market.size=150", "sim.years=0.1",
                                    "firms.acme.budget_share=0"])).summary
    assert math.isnan(tiny.return_on_cx_spend.iloc[0])
    assert math.isnan(none.return_on_cx_spend.iloc[0])
    numbers = tiny.select_dtypes("number").drop(columns="return_on_cx_spend").iloc[0]
    assert all(math.isfinite(x) for x in numbers.dropna())
