"""The studio: the what-if as overrides, answers streamed from warm workers, and the page in
a real browser (headless Chromium driven by Playwright, as in test_report_browser)."""

from __future__ import annotations

import contextlib
import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

import cxsim
from cxsim.config import to_config
from cxsim.errors import ConfigError
from cxsim.simulation.experiment import pair_chunks
from cxsim.studio.answer import differences
from cxsim.studio.what_if import Event, Setting, WhatIf, lever_bounds
from tests.test_report_browser import CHROMIUM

TINY = Setting(clients=300, years=1.0, replications=3)
SHOTS = Path(os.environ["CXSIM_SHOTS"]) if os.environ.get("CXSIM_SHOTS") else None
"""A folder for the trainer's screenshot at 1280x800 (README's), if set."""
CCO = {"sales_first": {"org": "cco"}}


def test_a_what_if_is_cxsims_own_overrides_and_command():
    what_if = WhatIf(TINY, {"sales_first": {"org": "cco", "price_level": 1.1}})
    assert what_if.setting.overrides() == ["market=recurring_b2b", "market.size=300",
                                           "sim.years=1"]
    assert what_if.b_overrides() == ["firms.sales_first.org=cco",
                                     "firms.sales_first.price_level=1.1"]
    assert what_if.command(program="/opt/my env/bin/cxsim-compare") == (
        "'/opt/my env/bin/cxsim-compare' --common market=recurring_b2b market.size=300 "
        "sim.years=1 --b firms.sales_first.org=cco firms.sales_first.price_level=1.1 -n 3 "
        '--workers 2 --out "$(mktemp -d)"')
    a, b = what_if.configs()
    assert a.firms["sales_first"].org != "cco" and b.firms["sales_first"].org == "cco"


def test_an_event_alone_is_what_b_changes_in_the_command():
    what_if = WhatIf(TINY, {}, Event("shock", 3, months=4, size=0.5))
    assert what_if.command().split(" --b ")[1].startswith(
        "+events.b_shock.kind=shock +events.b_shock.start_month=3 +events.b_shock.months=4 "
        "+events.b_shock.order_value_factor=0.5 -n 3")
    _, b = what_if.configs()
    assert (b.events["b_shock"].months, b.events["b_shock"].order_value_factor) == (4, 0.5)


def test_scenario_a_is_edited_too_and_b_starts_as_a():
    """A lever A sets and B leaves is common to both; one both set is each scenario's own;
    an event in A only is A's."""
    what_if = WhatIf(TINY, {"sales_first": {"funding": "generous"}},
                     a={"sales_first": {"funding": "lean", "org": "cco"}},
                     a_event=Event("workshop", 2, firm="client_first"))
    assert what_if.common_overrides()[-1:] == ["firms.sales_first.org=cco"]
    assert what_if.a_overrides() == ["firms.sales_first.funding=lean",
                                     "+events.a_workshop.kind=workshop",
                                     "+events.a_workshop.start_month=2",
                                     "+events.a_workshop.firm=client_first"]
    a, b = what_if.configs()
    assert (a.firms["sales_first"].funding, b.firms["sales_first"].funding) == ("lean",
                                                                                "generous")
    assert a.firms["sales_first"].org == b.firms["sales_first"].org == "cco"
    assert set(a.events) == {"a_workshop"} and not b.events


def test_who_answers_a_survey_is_a_lever_apart_from_who_is_asked():
    """B: everyone answers the sales-focused firm's survey, which asks its buyers; A leaves
    the answers to its survey. The config B runs has the rates everyone answers with, A the
    transactional preset's; the report says it in words; a link carries it both ways."""
    from cxsim.studio.page import AS_ITS_SURVEY, Studio
    from cxsim.studio.what_if import ANSWERS

    survey = {"sales_first": {"survey": "transactional"}}
    what_if = WhatIf(TINY, {"sales_first": {"response": "everyone"}}, a=survey)
    assert what_if.b_overrides() == [
        "firms.sales_first.response={detractor:1.0,passive:1.0,promoter:1.0}"]
    a, b = what_if.configs()
    assert a.firms["sales_first"].asks == b.firms["sales_first"].asks == "transactional"
    assert a.firms["sales_first"].response == ANSWERS["the pleased more"]  # the preset's
    assert b.firms["sales_first"].response == ANSWERS["everyone"]
    assert what_if.words() == {what_if.b_overrides()[0]:
                               "the sales-focused firm's survey answered by: everyone"}
    studio = Studio(_query("clients=300&years=1&n=3&a.sales_first.survey=transactional"
                           "&b.sales_first.response=everyone"))
    assert studio.link_error.text == "" and studio.what_if() == what_if
    a_answers = studio.levers["a", "sales_first", "response"]
    assert a_answers.value == AS_ITS_SURVEY
    assert list(a_answers.options)[0] == f"{AS_ITS_SURVEY}: the pleased more"
    assert "b.sales_first.response=everyone" in studio.link()
    a_answers.value = "everyone"  # in A, the preset's own answers, set explicitly, are kept
    assert studio.what_if().a == {"sales_first": {"survey": "transactional",
                                                  "response": "everyone"}}
    assert "a.sales_first.response=everyone" in studio.link()


CDNOW = Setting(market="cdnow", clients=300, years=1.0, replications=3)


def test_a_calibrated_segment_offers_its_fitted_means_and_a_plain_one_does_not():
    """cdnow's segment spreads its rate, dropout and spend across clients: its levers are
    their means (no mean_days_between_needs to move); a plain segment has none of them."""
    from cxsim.studio.page import Studio
    from cxsim.studio.what_if import FITTED, segments

    fitted = to_config(cxsim.compose(["market=cdnow"])).market.segments["customers"]
    rate, dropout, spend = fitted.purchase_rate, fitted.dropout, fitted.spend
    assert segments("cdnow") == {"customers": {
        "social_influence": 1.0, "identifiability": 0.8,
        "purchases_per_year": rate.r / rate.alpha_years,  # about 2.87
        "stopping_percent": 100 * (dropout.a / (dropout.a + dropout.b)),  # about 25%
        "spend_per_purchase": spend.p * spend.gamma / (spend.q - 1)}}  # about $35
    assert not FITTED.keys() & segments("recurring_b2b")["b2b"].keys()
    assert "mean_days_between_needs" in segments("recurring_b2b")["b2b"]
    studio = Studio(_query("market=cdnow"))
    assert {lever for _, lever in studio.segment_levers_b} == set(FITTED)
    assert studio.stopping["customers"].text.startswith(
        "Clients who stop within a year of joining")
    plain = Studio()
    assert not plain.segment_levers_b and not plain.stopping
    assert not {lever for _, lever in plain.segment_levers} & FITTED.keys()


@pytest.mark.parametrize("lever, value", [("purchases_per_year", 6.0),
                                          ("stopping_percent", 10.0),
                                          ("spend_per_purchase", 50.0)])
def test_a_fitted_lever_moves_the_mean_and_keeps_the_spread(lever, value):
    """In B, as cxsim's own overrides: the mean is the lever's value once composed; r, a + b,
    p and q are the fit's (the overrides are written exactly)."""
    what_if = WhatIf(CDNOW, segments={"customers": {lever: value}})
    assert what_if.common_overrides() == CDNOW.overrides()
    key = "market.segments.customers."
    written = {o.split("=")[0].removeprefix(key): float(o.split("=")[1])
               for o in what_if.b_overrides()}
    assert set(written) == {"purchases_per_year": {"purchase_rate.alpha_years"},
                            "stopping_percent": {"dropout.a", "dropout.b"},
                            "spend_per_purchase": {"spend.gamma"}}[lever]
    a, b = what_if.configs()
    was, now = a.market.segments["customers"], b.market.segments["customers"]
    mean = {"purchases_per_year": now.purchase_rate.r / now.purchase_rate.alpha_years,
            "stopping_percent": 100 * now.dropout.a / (now.dropout.a + now.dropout.b),
            "spend_per_purchase": now.spend.p * now.spend.gamma / (now.spend.q - 1)}[lever]
    assert mean == pytest.approx(value, rel=1e-9)
    assert now.purchase_rate.r == was.purchase_rate.r
    assert now.dropout.a + now.dropout.b == pytest.approx(was.dropout.a + was.dropout.b,
                                                          rel=1e-9)
    assert (now.spend.p, now.spend.q) == (was.spend.p, was.spend.q)
    moved = {"purchases_per_year": "purchase_rate", "stopping_percent": "dropout",
             "spend_per_purchase": "spend"}[lever]
    for section in {"purchase_rate", "dropout", "spend"} - {moved}:  # the others as fitted
        assert getattr(now, section) == getattr(was, section)
    # set in A too: A's value is A's own, B's is B's, and the command says so
    both = WhatIf(Setting(**{**CDNOW.__dict__, "segments": {"customers": {lever: value / 2}}}),
                  segments={"customers": {lever: value}})
    assert both.common_overrides() == CDNOW.overrides()
    assert [o.split("=")[0] for o in both.a_overrides()] == [
        o.split("=")[0] for o in both.b_overrides()]
    a, _ = both.configs()
    assert segments_mean(a, lever) == pytest.approx(value / 2, rel=1e-9)


def segments_mean(cfg, lever: str) -> float:
    from cxsim.studio.what_if import FITTED

    segment = cfg.market.segments["customers"]
    return FITTED[lever].mean(getattr(segment, FITTED[lever].section))


def test_a_refused_fitted_value_is_the_configs_own_one_line_error_beside_it():
    from cxsim.studio.page import Studio
    from cxsim.studio.what_if import fitted_problem

    for lever, value in (("purchases_per_year", 0.001), ("stopping_percent", 100.0),
                         ("spend_per_purchase", 0.0)):
        with pytest.raises(ConfigError) as raised:
            WhatIf(CDNOW, segments={"customers": {lever: value}}).configs()
        said = fitted_problem("cdnow", "customers", lever, value)
        assert said == str(raised.value) and "\n" not in said
        assert said.startswith("market.segments.customers.")
    studio = Studio(_query("market=cdnow"))
    studio.segment_levers_b["customers", "stopping_percent"].value = 100.0
    assert studio.segment_notes["b", "customers", "stopping_percent"].text == (
        "in B: " + fitted_problem("cdnow", "customers", "stopping_percent", 100.0))
    assert studio.segment_notes["a", "customers", "stopping_percent"].text == ""


def test_who_stops_within_a_year_is_the_fitted_clients_own_share():
    """Against a direct simulation of the BG/NBD's clients (a rate and a dropout each, drawn
    from the fit; repeat purchases at exponential gaps, each one the last with the client's
    chance): within 4 standard errors (400,000 clients, SE about 0.0007). The control: the
    mean client's 1 - (1 - p)^(purchases a year) is far off, as is the fit with every client
    at the mean dropout; a faster rate moves the share as the simulation does."""
    from dataclasses import replace

    from cxsim.studio.what_if import stop_within

    fit = to_config(cxsim.compose(["market=cdnow"])).market.segments["customers"]
    rng = np.random.default_rng(20261207)
    n = 400_000

    def simulated(rate, dropout) -> tuple[float, float]:
        lam = rng.gamma(rate.r, 1.0 / rate.alpha_years, n)
        p = rng.beta(dropout.a, dropout.b, n)
        purchases = rng.geometric(p)  # repeat purchases up to and including the last
        stops_at = rng.gamma(purchases, 1.0 / np.maximum(lam, 1e-300))
        share = float(np.mean(stops_at <= 1.0))
        return share, (share * (1 - share) / n) ** 0.5

    for rate in (fit.purchase_rate, replace(fit.purchase_rate,
                                            alpha_years=fit.purchase_rate.alpha_years / 3)):
        share, se = simulated(rate, fit.dropout)
        assert stop_within(rate, fit.dropout) == pytest.approx(share, abs=4 * se)
    here = stop_within(fit.purchase_rate, fit.dropout)
    assert 0.2 < here < 0.27  # about 24% of CDNOW's clients
    mean_client = 1 - (1 - fit.dropout.mean) ** (fit.purchase_rate.r
                                                 / fit.purchase_rate.alpha_years)
    assert abs(mean_client - here) > 0.2  # about 56%: the approximation it is not
    alike = replace(fit.dropout, a=fit.dropout.mean * 1e5, b=(1 - fit.dropout.mean) * 1e5)
    assert abs(stop_within(fit.purchase_rate, alike) - here) > 0.02


def test_a_bad_lever_is_the_configs_own_one_line_error():
    with pytest.raises(ConfigError, match=r"firms\.sales_first\.price_level.*\(0, 100\]"):
        WhatIf(TINY, {"sales_first": {"price_level": 0.0}}).configs()
    with pytest.raises(ConfigError, match="replications"):
        WhatIf(Setting(replications=1)).configs()
    assert lever_bounds("price_level").low_open and lever_bounds("size").integer


def _query(text: str) -> dict[str, list[bytes]]:
    """A link's query as the server hands it to the page (key to raw values)."""
    return {key: [v.encode() for v in values]
            for key, values in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


def test_a_link_written_before_the_page_read_its_own_opens_the_same_what_if():
    """As Panel's URL syncing wrote them: every key, floats as 1.0, the menus' words."""
    from cxsim.studio.page import Studio

    old = ("market=one_off_consumer&journey=subscription&clients=300&years=1.0&n=3"
           "&event=workshop&event_month=4&event_firm=client_first"
           "&b.sales_first.strategy=as+in+A&b.sales_first.org=cco"
           "&b.client_first.price_level=1.2")
    studio = Studio(_query(old))
    assert studio.link_error.text == ""
    assert studio.what_if() == WhatIf(
        Setting("one_off_consumer", {}, "subscription", 300, 1.0, 3),
        {"sales_first": {"org": "cco"}, "client_first": {"price_level": 1.2}},
        Event("workshop", 4, firm="client_first"))  # event_month was 0-based, as start_month
    again = Studio(_query(studio.link()))
    assert again.what_if() == studio.what_if() and again.link() == studio.link()


def test_a_link_with_the_chance_of_stopping_from_0_to_1_opens_it_as_a_percent():
    """Before the page showed the chance of stopping in percent its link said
    ``repeat_dropout=0.1``: that link still opens the same what-if, written today as
    ``stopping_percent=10.0``; a link naming both keeps today's, and a word is one line."""
    from cxsim.studio.page import Studio

    old = Studio(_query("market=cdnow&clients=300&years=1&n=2"
                        "&b.segment.customers.repeat_dropout=0.1"
                        "&segment.customers.repeat_dropout=0.2"))
    assert old.link_error.text == ""
    assert old.what_if().segments == {"customers": {"stopping_percent": 10.0}}
    assert old.what_if().setting.segments == {"customers": {"stopping_percent": 20.0}}
    assert "b.segment.customers.stopping_percent=10.0" in old.link()
    assert "repeat_dropout" not in old.link()
    a, b = old.what_if().configs()
    assert b.market.segments["customers"].dropout.mean == pytest.approx(0.1, rel=1e-12)
    assert a.market.segments["customers"].dropout.mean == pytest.approx(0.2, rel=1e-12)
    both = Studio(_query("market=cdnow&b.segment.customers.repeat_dropout=0.1"
                         "&b.segment.customers.stopping_percent=30"))
    assert both.what_if().segments == {"customers": {"stopping_percent": 30.0}}
    bad = Studio(_query("market=cdnow&b.segment.customers.repeat_dropout=lots"))
    assert "the link's b.segment.customers.repeat_dropout must be a number; got 'lots'" in (
        bad.link_error.text)


def test_a_link_carries_an_uploaded_journey_by_the_name_the_page_kept_it_under(
        tmp_path, monkeypatch):
    """An uploaded journey is in the link, so a shared link opens on it in the studio that
    keeps it; a name the page did not write, or a journey gone since, is said, and the page
    keeps the preset's."""
    from cxsim.config import config_dir
    from cxsim.studio.page import Studio
    from cxsim.studio.what_if import save_journey

    monkeypatch.chdir(tmp_path)
    journey = save_journey((config_dir() / "journey" / "subscription.yaml").read_bytes())
    page = Studio(_query(f"clients=300&uploaded={journey.as_posix()}"))
    assert page.link_error.text == "" and page.what_if().setting.journey == journey.as_posix()
    assert f"uploaded={urllib.parse.quote_plus(journey.as_posix())}" in page.link()
    again = Studio(_query(page.link()))
    assert again.what_if() == page.what_if()
    menu = {value: label for label, value in page.journey.options.items()}
    assert page.journey.value == journey.as_posix()  # the menu says which journey, by name
    assert menu[journey.as_posix()] == f"subscription (uploaded here, {journey.stem[8:14]})"
    assert "journey=" not in page.link().replace("uploaded=", "")
    page.journey.value = "one_off_retail"  # another journey chosen: the upload is not used
    assert page.what_if().setting.journey == "one_off_retail" and "uploaded" not in page.link()
    page.journey.value = journey.as_posix()  # and chosen again from the menu
    assert page.what_if() == again.what_if()
    for name, why in (("../../etc/passwd", "is not one this page uploaded"),
                      ("studio-journeys/journey-0123456789ab.yaml", "is no longer in this folder")):
        other = Studio(_query(f"clients=300&uploaded={urllib.parse.quote_plus(name)}"))
        assert other.link_error.text.endswith(f"the link's uploaded journey {name!r} {why}")
        assert other.what_if().setting.journey is None and "uploaded" not in other.link()


def test_a_links_values_are_checked_against_their_widgets_before_they_are_set():
    from cxsim.studio.page import MAX_LINK_VALUE, Studio

    studio = Studio(_query("market=%3Cimg%20src%3Dx%3E&clients=" + "9" * 50_000
                           + "&years=nan&n=1&b.sales_first.org=cco&b.nobody.org=cco"))
    shown = studio.link_error.text.splitlines()
    assert shown[1:] == [
        "the link's market must be one of cdnow, default, mixed, one_off_consumer, "
        "recurring_b2b; got '<img src=x>'",
        f"the link's clients must be at most {MAX_LINK_VALUE} characters; got 50,000",
        "the link's years must be a number in [0, 200]; got nan",
        "and 2 more"]
    assert (studio.market.value, studio.clients.value) == ("recurring_b2b", 2_000)
    assert studio.what_if().changes == {"sales_first": {"org": "cco"}}  # the good value holds
    assert Studio(_query("n=2.5")).link_error.text.endswith(
        "the link's n must be a whole number in [2, 100]; got '2.5'")
    assert Studio(_query("b.nobody.org=cco")).link_error.text.endswith(
        "the link's 'b.nobody.org' is not a setting of this page")


def test_pairs_come_first_two_then_in_chunks_for_the_workers():
    assert pair_chunks(10, 2) == [[0, 1], [2, 3, 4, 5], [6, 7, 8, 9]]
    assert pair_chunks(2, 2) == [[0, 1]]
    assert sum(pair_chunks(25, 4), []) == list(range(25))


def test_the_differences_are_the_paired_table_scaled():
    a, b = WhatIf(TINY, CCO).configs()
    comparison = cxsim.compare(a, b, 3, progress=False)
    shown = differences(comparison)
    table = comparison.table(["share_final"]).set_index("firm")
    share = shown[shown.metric == "final market share"].set_index("firm")
    assert np.allclose(share["diff"], 100 * table["diff"])
    assert share["shown"].str.contains("points").all()


def test_a_fitted_lever_is_said_in_words_in_the_report_once():
    """The report's "B sets ..." names a fitted lever as the page does, once, though it moves
    two settings (the chance of stopping: dropout.a and dropout.b); a plain override is as
    the report words it."""
    from cxsim.report.comparison import changed, comparison_meta

    what_if = WhatIf(Setting(market="cdnow", clients=300, years=1.0, replications=2), CCO,
                     segments={"customers": {"stopping_percent": 5.0}})
    a, b = what_if.configs()
    assert len([o for o in what_if.b_overrides() if ".dropout." in o]) == 2
    meta = comparison_meta(what_if.common_overrides(), what_if.a_overrides(),
                           what_if.b_overrides(), 2, a, b, what_if.words())
    assert changed(meta) == ("B sets the sales-focused firm's org: cco; the customers segment's "
                             "chance of stopping after a repeat purchase: 5%.")
    assert "dropout" in changed({**meta, "words": {}})  # without the words: the settings


def test_the_first_answers_words_come_before_its_charts_and_are_the_same():
    """The first pairs' answer is shown in words at once and redrawn with its charts: the
    words, numbers and the layout above the table are the same, only the charts wait."""
    from cxsim.report.comparison import Compared, comparison_meta
    from cxsim.studio.answer import answer_html

    what_if = WhatIf(TINY, CCO)
    a, b = what_if.configs()
    compared = Compared(cxsim.compare(a, b, 2, progress=False), comparison_meta(
        what_if.common_overrides(), what_if.a_overrides(), what_if.b_overrides(), 2, a, b))
    words, whole = answer_html(compared, 10, charts=False), answer_html(compared, 10)

    def text(html: str) -> list[str]:
        html = re.sub(r"<figure.*?</figure>", "", html, flags=re.S)
        return [t for t in re.split(r"\s*<[^>]+>\s*", html) if t.strip()]

    assert "<img" not in words and 'class="chart-pending"' in words
    assert whole.count("<img") == 3 and "chart-pending" not in whole  # B - A, A's, B's share
    assert text(words) == text(whole)


@pytest.fixture(scope="module")
def industry():
    """The third chapter's runs at a test's size: ten firms, 300 clients, 3 years, 3 runs."""
    cfg = WhatIf.scenario(["market.size=300", "sim.years=3", "scenario=industry"])
    return cfg, cxsim.replicate(cfg, 3, workers=2, progress=False)


def test_the_third_chapter_says_what_delivery_gap_measures(industry):
    """The chapter's words and figures are delivery_gap's on the same runs' summaries:
    the shares that believe and agree and the gap, each with its 95% CI, beside Bain's
    80% and 8%; the trainer's report carries them and the industry run's command."""
    from cxsim.config import as_plain
    from cxsim.report.answer import Estimate, interval
    from cxsim.report.page import Page, render
    from cxsim.simulation.delivery_gap import delivery_gap
    from cxsim.studio.answer import gap_chapter, story_html, trainer_report

    cfg, runs = industry
    chapter = gap_chapter(runs.summary, as_plain(cfg))
    assert chapter.figures == delivery_gap(runs.summary)
    said = {k: interval(Estimate(*(100 * v for v in chapter.figures[k]), n=3), unit, 0)
            for k, unit in (("believe", "%"), ("agree", "%"), ("gap", " points"))}
    bottom, gap, _ = chapter.sentences
    assert bottom.startswith("Bottom line:") and "Bain 2005: 80%" in bottom and "8%" in bottom
    assert said["believe"] in bottom and said["agree"] in bottom
    assert said["gap"] in gap and gap.startswith("The delivery gap")
    shown = story_html([], cfg.sim.days_per_month, 3, gap=("The delivery gap", 3, chapter))
    assert f'data-gap="{chapter.figures["gap"][0]}"' in shown and said["gap"] in shown
    demo = Page("Why transaction focus loses market share", "2 markets", ["Bottom line: x."],
                command="cxsim-demo --replications 3")
    report = render(trainer_report(demo, chapter, runs.summary, as_plain(cfg),
                                   "cxsim scenario=industry experiment.replications=3"))
    assert "The delivery gap (10 firms that survey their buyers). Bottom line:" in report
    assert said["gap"] in report and "Bain 2005: 80%" in report
    assert "cxsim-demo --replications 3\ncxsim scenario=industry" in report


def test_cancel_in_the_third_chapter_stops_the_story():
    """Cancel while the delivery gap runs: the story stops there, says so, offers no
    report, and the page's workers are fresh ones."""
    import asyncio

    from cxsim.studio import page as studio_page

    studio = studio_page.Studio({"clients": [b"300"], "years": [b"1"], "n": [b"20"]})

    def pids() -> set[int]:
        return {process.pid for process in studio_page.shared_workers()._procs}

    async def story() -> None:
        told = asyncio.create_task(studio._on_trainer(None))
        deadline = time.monotonic() + 240
        while not studio.status.text.startswith("Running the delivery gap"):
            assert time.monotonic() < deadline and not told.done(), studio.status.text
            await asyncio.sleep(0.05)
        before = pids()
        studio.cancel.clicks += 1
        await asyncio.wait_for(told, 120)
        assert before.isdisjoint(pids())

    try:
        asyncio.run(story())
    finally:
        studio_page.shared_workers().close()
        studio_page._WORKERS = None
    assert studio.status.text == "Cancelled; the workers were stopped."
    assert studio.download.disabled and studio._report_page is None
    assert 'class="chapter gap"' not in studio.answer.object or "more coming" in (
        studio.answer.object)


# ------------------------------------------------------------------ in a browser
def _wait_for_port(url: str, seconds: float = 120) -> None:
    """Until the server accepts connections (a page request would build a page)."""
    port = urllib.parse.urlsplit(url).port
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _serve(cwd: Path, *args: str, env: dict[str, str] | None = None
           ) -> tuple[str, subprocess.Popen]:
    """``cxsim-studio`` (with *args*, in *env* if given) on a free port in *cwd* (uploads land
    there), in a session of its own; its URL and process, once it listens."""
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed, and CI=true: browser tests must run")
        pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped")
    log = cwd / "studio.log"  # a file, not a pipe: a pipe no one reads can block the server
    with log.open("w") as out:
        server = subprocess.Popen([str(Path(sys.executable).parent / "cxsim-studio"), *args],
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                  cwd=cwd, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (found := re.search(r"http://127\.0\.0\.1:\d+/", log.read_text())):
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        url = found.group(0)
        _wait_for_port(url)
    except BaseException:
        os.killpg(server.pid, signal.SIGKILL)
        raise
    return url, server


def _stopped(server: subprocess.Popen, how: int, group: bool = False) -> str | None:
    """Signal the server (its pid, or its whole process group as a terminal's Ctrl+C
    does); why it did not stop cleanly, or None. Whatever happens, nothing of it is
    left running afterwards."""
    (os.killpg if group else os.kill)(server.pid, how)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        return f"still running 30 s after {signal.Signals(how).name}"
    deadline = time.monotonic() + 10
    while (left := _session(server.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        os.killpg(server.pid, signal.SIGKILL)
        return f"exited, leaving {left}"
    return None


def _session(sid: int) -> list[str]:
    """The processes still in session *sid* (the server's workers and helpers)."""
    out = subprocess.run(["ps", "-ww", "-o", "pid=,stat=,args=", "-s", str(sid)],
                         capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip()]


@contextlib.contextmanager
def studio_in(folder: Path, *args: str, env: dict[str, str] | None = None):
    """A studio started in *folder* with *args* (in *env*); its URL, process and folder. It
    must stop on SIGTERM to its pid alone after every test that used it."""
    url, server = _serve(folder, *args, env=env)
    try:
        yield url, server, folder
    finally:
        why = _stopped(server, signal.SIGTERM)
    assert why is None, why


@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """One studio for the page tests (runs, a cancel, the trainer's story); its URL and
    process."""
    with studio_in(tmp_path_factory.mktemp("studio")) as (url, server, _):
        yield url, server


def open_studio(chromium, url: str, query: str, width: int = 1400, height: int = 1000):
    page = chromium.new_page(viewport={"width": width, "height": height})
    seen = {"outside": [], "errors": [], "dialogs": []}

    def request(r) -> None:
        if not r.url.startswith(("data:", "blob:")) and urllib.parse.urlsplit(
                r.url).hostname != "127.0.0.1":
            seen["outside"].append(r.url)

    page.on("request", request)
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def dialog(d) -> None:  # Playwright dismisses dialogs silently unless listened for
        seen["dialogs"].append(d.message)
        d.dismiss()

    page.on("dialog", dialog)
    page.goto(url + "?" + query, timeout=120_000)
    page.get_by_text("Set a what-if and press Run.").wait_for(timeout=120_000)
    return page, seen


def _workers(server) -> set[int]:
    """The server's worker processes (spawned pool members, not its resource tracker)."""
    out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(server.pid)],
                         capture_output=True, text=True).stdout
    return {int(line.split()[0]) for line in out.splitlines()
            if "spawn_main" in line and "resource_tracker" not in line}


@pytest.mark.xdist_group("studio")
def test_the_page_answers_what_cxsim_compare_answers(studio, chromium):
    """At 1280x800: A sets lean funding at the sales-focused firm, B a CCO there; the link
    then holds both; after Run the verdict is on screen; the numbers on the page equal
    cxsim.compare's with the same overrides and seed; the command runs as shown; nothing
    leaves 127.0.0.1; no console error."""
    from cxsim.studio.page import COMPARE

    url, _ = studio
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=3", 1280, 800)
    page.locator(".lever-a-sales_first-funding select").select_option("lean")
    b_org = page.locator(".lever-b-sales_first-org select")
    b_org.select_option("cco")
    page.get_by_text("B differs from A by: the sales-focused firm's org: cco").first.wait_for(
        timeout=30_000)
    page.wait_for_url(re.compile(r"a\.sales_first\.funding=lean.*b\.sales_first\.org=cco"),
                      timeout=30_000)
    assert b_org.locator("option").first.inner_text() == "as in A: no_cco"  # what A is
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Done: 3 pairs.").wait_for(timeout=120_000)
    assert page.locator("section.answer img[alt^='Journey map']").count() == 2  # one a firm
    verdict = page.locator("section.answer .verdict p").first.bounding_box()
    assert verdict["y"] >= 0 and verdict["y"] + verdict["height"] <= 800  # on screen
    shown = _shown(page)
    what_if = WhatIf(TINY, CCO, a={"sales_first": {"funding": "lean"}})
    a, b = what_if.configs()
    assert a.firms["sales_first"].funding == "lean" == b.firms["sales_first"].funding
    expected = differences(cxsim.compare(a, b, 3, progress=False))
    assert len(shown) == len(expected) == 2 * 5  # two firms x DIFFERENCES
    for row in expected.itertuples():
        assert shown[row.firm, row.metric] == pytest.approx(row.diff, rel=1e-12, abs=1e-12)
    command = page.locator("textarea").first.input_value()
    assert command == what_if.command(program=COMPARE)
    assert command.startswith(f"{COMPARE} --common market=recurring_b2b market.size=300 "
                              "sim.years=1 firms.sales_first.funding=lean --b "
                              "firms.sales_first.org=cco -n 3")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert "What B changes against A" in report and "firms.sales_first.org=cco" in report
    assert "Journey map" in report  # the workers send the touchpoints too
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.xdist_group("studio")
def test_every_lever_says_what_it_means_from_its_declaration(studio, chromium):
    from cxsim.config import FirmConfig, describe
    from cxsim.studio.what_if import LEVER_WORDS

    url, _ = studio
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=2")
    for lever, words in LEVER_WORDS.items():
        label = page.locator("span[title]", has_text=re.compile(f"^{re.escape(words)}$"))
        assert label.first.get_attribute("title") == describe(FirmConfig, lever), lever
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.xdist_group("studio")
def test_a_fitted_lever_in_b_is_what_the_run_changes(studio, chromium):
    """market=cdnow: the segment's fitted means are there in A and B (a plain market has
    none); B's purchases a year typed in is in the link, the command and the run's report,
    and the run's B differs from A; a refused value is the config's line beside it."""
    from cxsim.studio.page import COMPARE
    from cxsim.studio.what_if import fitted_problem

    url, _ = studio
    page, seen = open_studio(chromium, url, "market=cdnow&clients=300&years=1&n=2", 1280, 800)
    a_rate = page.locator(".segment-a-customers-purchases_per_year input")
    assert float(a_rate.input_value()) == pytest.approx(2.87, abs=0.005)
    assert page.locator(".segment-b-customers-stopping_percent input").count() == 1
    page.get_by_text(re.compile(r"in A, 2\d% at 2\.87 purchases a year")).first.wait_for()
    b_rate = page.locator(".segment-b-customers-purchases_per_year input")
    b_rate.fill("6")
    b_rate.press("Enter")
    page.get_by_text("B differs from A by: the customers segment's purchases per client per "
                     "year: 6").first.wait_for(timeout=30_000)
    page.wait_for_url(re.compile(r"b\.segment\.customers\.purchases_per_year=6"),
                      timeout=30_000)
    what_if = WhatIf(Setting(market="cdnow", clients=300, years=1.0, replications=2),
                     segments={"customers": {"purchases_per_year": 6.0}})
    assert page.locator("textarea").first.input_value() == what_if.command(program=COMPARE)
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Done: 2 pairs.").wait_for(timeout=120_000)
    assert any(diff != 0 for diff in _shown(page).values())
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert what_if.b_overrides()[0] in report  # ...purchase_rate.alpha_years=0.0404...
    assert ("B sets the customers segment's purchases per client per year: 6."
            in html.unescape(report))  # in words, as the page said it
    drop = page.locator(".segment-b-customers-stopping_percent input")
    drop.fill("100")
    drop.press("Enter")
    page.get_by_text("in B: " + fitted_problem("cdnow", "customers", "stopping_percent", 100.0)
                     ).first.wait_for(timeout=30_000)
    plain, _ = open_studio(chromium, url, "clients=300&years=1&n=2")
    assert plain.locator("[class*='purchases_per_year']").count() == 0
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    plain.close()
    page.close()


def _shown(page) -> dict[tuple[str, str], float]:
    rows = page.locator("table.differences tr[data-metric]")
    return {(rows.nth(i).get_attribute("data-firm"), rows.nth(i).get_attribute("data-metric")):
            float(rows.nth(i).get_attribute("data-diff")) for i in range(rows.count())}


@pytest.mark.xdist_group("studio")
def test_two_pages_at_once_get_their_own_answers(studio, chromium):
    """On two cores the second page waits, says so, then gets its own answer."""
    url, _ = studio
    first = Setting(clients=1500, years=2.0, replications=4)  # still running when the second
    asked = [(first, "clients=1500&years=2&n=4&b.sales_first.org=cco", CCO),
             (TINY, "clients=300&years=1&n=3&b.client_first.price_level=1.2",
              {"client_first": {"price_level": 1.2}})]
    pages = [open_studio(chromium, url, query) for _, query, _ in asked]
    for page, _ in pages:
        page.get_by_role("button", name="Run").click()
    pages[1][0].get_by_text(re.compile("Waiting: another comparison")).wait_for(timeout=30_000)
    for (page, seen), (setting, _, changes) in zip(pages, asked):
        n = setting.replications
        page.get_by_text(f"Done: {n} pairs.").wait_for(timeout=120_000)
        a, b = WhatIf(setting, changes).configs()
        expected = differences(cxsim.compare(a, b, n, progress=False))
        shown = _shown(page)
        for row in expected.itertuples():
            assert shown[row.firm, row.metric] == pytest.approx(row.diff, rel=1e-12, abs=1e-12)
        assert seen == {"outside": [], "errors": [], "dialogs": []}
        page.close()


@pytest.mark.xdist_group("studio")
def test_an_uploaded_journey_is_checked_and_kept_by_its_content(studio, chromium):
    url, _ = studio
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=2")
    upload = page.locator(".journey-upload input[type=file]")
    upload.set_input_files(files=[{"name": "<b>mine</b>.yaml", "mimeType": "text/yaml",
                                   "buffer": b"name: mine\ntouchpoints: {}\n"}])
    page.get_by_text(re.compile("is missing required field 'entry'")).wait_for(timeout=30_000)
    shipped = (Path(cxsim.__file__).parent.parent / "configs" / "journey"
               / "subscription.yaml").read_bytes()
    upload.set_input_files(files=[{"name": "mine.yaml", "mimeType": "text/yaml",
                                   "buffer": shipped}])
    from playwright.sync_api import expect

    expect(page.locator("textarea").first).to_have_value(
        re.compile(r"firms\.sales_first\.journey=studio-journeys/journey-[0-9a-f]{12}\.yaml"),
        timeout=30_000)
    assert page.get_by_text(re.compile("is missing required field")).count() == 0
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.xdist_group("studio")
def test_the_trainer_tells_the_rule_the_exception_and_the_delivery_gap(studio, chromium):
    url, _ = studio
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=2", 1280, 800)
    page.get_by_role("button", name="Trainer: the rule, the exception, the delivery gap").click()
    page.get_by_text("Done: the rule, the exception, and the delivery gap.").wait_for(
        timeout=180_000)
    chapters = page.locator(".chapter h3")
    assert [chapters.nth(i).inner_text() for i in range(chapters.count())] == [
        "The rule: recurring_b2b", "The exception: one_off_consumer",
        "The delivery gap: ten firms that survey only their buyers"]
    gap = page.locator(".chapter.gap")
    assert gap.get_attribute("data-runs") == "2"
    assert "of the 10 firms believe their NPS is above the industry's" in gap.inner_text()
    assert "The delivery gap, the share that believe minus" in gap.inner_text()
    if SHOTS:
        gap.locator("h3").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "studio-trainer.png"))
    command = page.locator("textarea").first.input_value()  # the story's own commands
    assert "cxsim-demo" in command and "--replications 2 --clients 300 --years 5" in command
    assert ("scenario=industry market.size=300 sim.years=5 experiment.replications=2"
            in command)
    with page.expect_download() as download:  # make demo's page, and the third chapter
        page.get_by_role("button", name="Download report").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Why transaction focus loses market share" in report
    assert "The delivery gap (10 firms that survey their buyers). Bottom line:" in report
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.xdist_group("studio")
def test_a_bad_lever_shows_the_one_line_error_beside_run(studio, chromium):
    url, _ = studio
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=3&b.sales_first.price_level=0")
    page.get_by_role("button", name="Run").click()
    error = page.get_by_text(re.compile(r"firms\.sales_first\.price_level.*must be in "
                                        r"\(0, 100\]"))
    error.first.wait_for(timeout=30_000)
    assert page.get_by_text("Traceback").count() == 0
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


PAYLOADS = {
    "script": "<script>window.__pwned = 1; alert(1)</script>",
    "handler": '<img src=x onerror="window.__pwned = 1; alert(1)">',
    "backtick": '`<img src=x onerror="window.__pwned = 1; alert(1)">`',
    "javascript-url": '<a href="javascript:window.__pwned=1">x</a>javascript:alert(1)',
    "svg": '"><svg onload="window.__pwned = 1; alert(1)">',
}


@pytest.mark.xdist_group("studio")
def test_a_link_cannot_run_script_in_the_page(studio, chromium):
    """Every key the page reads, and a key of its own, carry the payload: no dialog, no
    console error, no sentinel set, no element made from it; the page opens at its own
    settings and names what it did not use, as text."""
    from cxsim.studio.page import Studio

    url, _ = studio
    for kind, payload in PAYLOADS.items():
        keys = [*Studio().linked(), payload]
        query = urllib.parse.urlencode({key: payload for key in keys})
        page, seen = open_studio(chromium, url, query)
        page.wait_for_timeout(500)  # an onerror fires once the image fails
        assert seen == {"outside": [], "errors": [], "dialogs": []}, kind
        assert page.evaluate("window.__pwned") is None, kind
        assert page.locator("img[src='x'], svg[onload], a[href^='javascript']").count() == 0
        page.get_by_text(re.compile("^Part of this link was not used")).wait_for(timeout=5_000)
        assert page.locator("select").first.input_value() == (
            "Recurring business clients (recurring_b2b)")
        assert "pwned" not in urllib.parse.unquote(page.url), kind  # the address is rewritten
        page.close()


@pytest.mark.xdist_group("studio")
def test_a_50000_digit_number_in_a_link_is_a_line_on_the_page(studio, chromium):
    url, _ = studio
    page, seen = open_studio(chromium, url, "clients=" + "9" * 50_000)
    page.get_by_text("the link's clients must be at most 100 characters; got 50,000"
                     ).wait_for(timeout=30_000)
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


LONG = 40  # pairs of a run that is still going when the test steps in


def _long_run(studio, chromium):
    """A page running a long comparison: the page, what it saw, the workers running it."""
    url, server = studio
    page, seen = open_studio(chromium, url, f"clients=3000&years=3&n={LONG}")
    page.get_by_role("button", name="Run").click()
    page.get_by_text(f"Running {LONG} pairs...").wait_for(timeout=60_000)
    running = _workers(server)
    assert len(running) == 2
    return page, seen, running


@pytest.mark.xdist_group("studio")
def test_cancel_stops_the_workers_mid_run(studio, chromium):
    page, seen, running = _long_run(studio, chromium)
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Cancelled; the workers were stopped.").wait_for(timeout=60_000)
    assert running.isdisjoint(_workers(studio[1]))  # fresh, idle workers replace them
    answer = page.locator("section.answer")
    assert answer.count() == 0 or int(answer.get_attribute("data-pairs")) < LONG
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.xdist_group("studio")
def test_closing_the_tab_stops_its_work(studio, chromium):
    page, _, running = _long_run(studio, chromium)
    page.close()
    deadline = time.monotonic() + 60
    while not running.isdisjoint(_workers(studio[1])):
        assert time.monotonic() < deadline, "the closed tab's run still holds the workers"
        time.sleep(0.2)


@pytest.mark.xdist_group("studio")
def test_a_new_run_stops_the_old_one(studio, chromium):
    """Run again before the first ends: the first run's workers are stopped, and the page
    shows the second run's answer."""
    page, seen, running = _long_run(studio, chromium)
    replications = page.locator("input").filter(
        has=page.locator(f"xpath=self::*[@value='{LONG}']"))
    replications.first.fill("2")
    replications.first.press("Enter")
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Done: 2 pairs.").wait_for(timeout=120_000)
    assert running.isdisjoint(_workers(studio[1]))
    assert page.locator("section.answer").get_attribute("data-pairs") == "2"
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.parametrize(("how", "group", "when"), [
    (signal.SIGINT, True, "after a run"),  # Ctrl+C in its terminal reaches the whole group
    (signal.SIGTERM, False, "mid-run"),  # a service manager signals the server alone
    (signal.SIGTERM, True, "after a run"),  # as make bench-studio stops it
    (signal.SIGINT, False, "mid-run"),
], ids=["ctrl-c-after-a-run", "sigterm-mid-run", "sigterm-group-after-a-run",
        "sigint-mid-run"])
def test_the_studio_stops_on_a_signal_whatever_it_is_doing(tmp_path, chromium, how, group,
                                                           when):
    """The server exits within 30 s of the signal, its workers with it (an earlier studio
    hung for good: a worker killed by the group's signal held its pool's queue lock, and a
    run's waiting thread never heard that the server was going)."""
    url, server = _serve(tmp_path)
    try:
        if when == "mid-run":
            page, _, running = _long_run((url, server), chromium)
            assert len(running) == 2
        else:
            page, _ = open_studio(chromium, url, "clients=300&years=1&n=2")
            page.get_by_role("button", name="Run").click()
            page.get_by_text("Done: 2 pairs.").wait_for(timeout=120_000)
    except BaseException:
        os.killpg(server.pid, signal.SIGKILL)
        raise
    why = _stopped(server, how, group)
    page.close()
    assert why is None, why


def test_the_studio_page_builds_without_a_server():
    """The page object alone: its what-if starts as the live default, B equal to A."""
    from cxsim.studio.page import Studio

    studio = Studio()
    what_if = studio.what_if()
    assert what_if.changes == {} and what_if.setting == Setting()
    assert to_config(cxsim.compose(what_if.setting.overrides())).market.size == 2_000
