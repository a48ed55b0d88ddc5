"""The studio's uploads: a transaction log fitted into scenario A's market and an event log
discovered into the firms' journey, as the commands do it; in pieces, then in a real
browser (as tests/test_studio.py opens pages)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import cxsim
from cxsim.data.calibration import check_config, simulate_check, with_check
from cxsim.errors import ConfigError
from cxsim.studio import logs
from tests.test_studio import _shown, open_studio, studio_in
from tests.validation.cdnow import cdnow_log

ROOT = Path(__file__).resolve().parent.parent
SLICE = ROOT / "data" / "eventlogs" / "bpic2012_slice.xes.gz"
END = "1997-09-30"  # halfway through CDNOW: the page's suggestion, Fader et al.'s 39 weeks
SPLIT = "2011-12-22"  # halfway through the slice
LIMIT_MB = 1  # the browser tests' studio takes logs up to 1 MB (CDNOW's is 0.15)
SHOTS = Path(os.environ["CXSIM_SHOTS"]) if os.environ.get("CXSIM_SHOTS") else None
"""A folder for the screenshots of the new states at 1280x800 (README's), if set."""


@pytest.fixture(scope="module")
def cdnow_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("log") / "cdnow.csv"
    cdnow_log().to_csv(path, index=False)
    return path


# ------------------------------------------------------------------ in pieces
def test_the_columns_are_guessed_by_name_then_by_usual_words_then_in_order():
    assert logs.guess_columns(["Amount", "Date", "Customer"]) == {
        "customer": "Customer", "date": "Date", "amount": "Amount"}
    assert logs.guess_columns(["order_total", "client_id", "purchased_on_day"]) == {
        "customer": "client_id", "date": "purchased_on_day", "amount": "order_total"}
    assert logs.guess_columns(["a", "b", "c"]) == {"customer": "a", "date": "b", "amount": "c"}
    assert logs.guess_columns(["x"]) == {"customer": "x", "date": None, "amount": None}


def test_the_suggested_end_is_halfway_cdnows_39_weeks():
    first, last = np.datetime64("1997-01-01"), np.datetime64("1998-06-30")
    assert str(logs.middle_day(first, last)) == END
    assert str(logs.middle_day(first, first + 1)) == "1997-01-01"


def test_a_log_above_the_limit_is_refused_before_it_is_read():
    logs.checked_size(1_000_000, 1, "transaction log")  # at the limit: taken
    with pytest.raises(ConfigError, match=r"^uploaded transaction log must be at most 1 MB "
                       r"\(the studio's limit, cxsim-studio --max-upload-mb\); got '1\.0 MB'"):
        logs.checked_size(1_000_001, 1, "transaction log")


def test_an_uploaders_name_is_shown_never_a_path():
    """The name is printable text (a line break would end the preset's YAML comment), and of
    it only a plain suffix reaches the file read; the folder goes whatever happens."""
    assert logs.shown_name("a\nsize: 5\u2028.csv") == "asize: 5.csv"
    assert logs.shown_name("\n") == "the uploaded file"
    with logs.uploaded(b"x", "../../etc/passwd.csv") as path:
        assert path.name == "log.csv" and path.parent.parent == Path.cwd()
        folder = path.parent
    assert not folder.exists()
    with pytest.raises(RuntimeError), logs.uploaded(b"x", "b.xes.gz") as path:
        assert path.name == "log.xes.gz"
        folder = path.parent
        raise RuntimeError
    assert not folder.exists()
    with logs.uploaded(b"x", "odd.na me") as path:
        assert path.name == "log"
    assert logs.journey_name("My log (2024).XES.gz") == "My_log_2024"
    assert logs.journey_name("...xes") == "discovered"


def test_a_bad_log_is_the_commands_own_line_with_the_uploads_name(tmp_path, monkeypatch):
    """What cxsim-calibrate says of the file by that name, word for word."""
    monkeypatch.chdir(tmp_path)
    bad = b"customer,date,amount\n1,2020-01-01,5\n1,not a date,5\n"
    Path("bad.csv").write_bytes(bad)
    with pytest.raises(ConfigError) as command:
        cxsim.calibrate("bad.csv", "2020-01-01")
    with logs.uploaded(bad, "bad.csv") as path:
        with pytest.raises(ConfigError) as page:
            logs.transaction_log_facts(path, "bad.csv")
        with pytest.raises(ConfigError) as fit:
            logs.fit_log(str(path), "bad.csv", "2020-01-01", "customer", "date", "amount")
    assert str(page.value) == str(fit.value) == str(command.value)
    assert str(command.value).startswith("transaction log 'bad.csv', column 'date', row 2 ")


def test_a_fitted_market_is_kept_by_its_content_and_runs_by_its_path(cdnow_csv, tmp_path,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    with logs.uploaded(cdnow_csv.read_bytes(), "cdnow.csv") as path:
        facts = logs.transaction_log_facts(path, "cdnow.csv")
        found = logs.fit_log(str(path), "cdnow.csv", facts["end"], "customer", "date",
                             "amount")
        cfg = check_config(found, path.parent)  # as the page: the check beside the upload
        parts = [simulate_check(cfg, found, part) for part in logs.check_parts(5)]
    assert (facts["first"], facts["last"], facts["end"]) == ("1997-01-01", "1998-06-30", END)
    api = cxsim.calibrate(cdnow_csv, END)  # the command's defaults: 20 replications, seed 0
    assert found.market == api.market and "simulated" not in found.weekly  # the fit first
    assert with_check(found, parts[::-1]).weekly.equals(api.weekly)  # then its check, in parts
    kept = logs.save_market(found)
    assert re.fullmatch(r"studio-markets/market-[0-9a-f]{12}\.yaml", kept.as_posix())
    assert logs.save_market(found) == kept and logs.fitted_markets() == [kept.as_posix()]
    assert yaml.safe_load(kept.read_text()) == api.market
    assert "transaction log cdnow.csv, calibration period to 1997-09-30" in kept.read_text()
    cfg = cxsim.config.to_config(cxsim.compose([f"market={kept}"]))
    assert cfg.market.label == "customers of cdnow" and cfg.market.size == 2357
    assert {p.name for p in tmp_path.iterdir()} == {"studio-markets"}  # the upload is gone


# ------------------------------------------------------------------ in a browser
@pytest.fixture(scope="module")
def system_temp(tmp_path_factory) -> Path:
    """The temporary folder the studio is started with (``TMPDIR``): it must write nothing
    there, since all it writes stays in its own folder."""
    return tmp_path_factory.mktemp("system-temp")


@pytest.fixture(scope="module")
def studio(tmp_path_factory, system_temp):
    """A studio taking logs up to 1 MB, in a folder of its own; its URL, process, folder."""
    with studio_in(tmp_path_factory.mktemp("studio"), "--max-upload-mb", str(LIMIT_MB),
                   env={**os.environ, "TMPDIR": str(system_temp)}) as served:
        yield served


def _files(folder: Path) -> set[str]:
    """Everything under the studio's folder but its own log and its scratch folder (what it
    writes for a moment while it runs), hidden files included."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if not p.relative_to(folder).parts[0].startswith(".studio-scratch-")
            } - {"studio.log"}


def _drop(page, card: str, name: str, data: bytes) -> None:
    """Open *card* (if closed) and drop the file *name* holding *data* into its dropper."""
    kind = "log" if card == CUSTOMERS else "events"
    if not page.locator(f".{kind}-drop").is_visible():
        page.get_by_text(card).click()
    page.locator(f".{kind}-drop input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])


CUSTOMERS = "Your customers: fit the market to your transaction log"
JOURNEY = "Your journey: discover it from your event log"


@pytest.mark.xdist_group("studio-uploads")
def test_cdnow_uploaded_fitted_and_asked_as_the_api_does(studio, chromium, cdnow_csv,
                                                         tmp_path, monkeypatch, system_temp):
    """Upload CDNOW, fit at the suggested end: the page's check is cxsim.calibrate's in
    words, the kept preset is its market (nothing written outside the studio's folder), the
    market is A's and in a new page's menu; B
    buys 4 times a year: the differences are cxsim.compare's on that market, same seeds."""
    from cxsim.data.calibration import preset_yaml, typicals
    from cxsim.report.calibration import calibration_sentences
    from cxsim.studio.answer import differences
    from cxsim.studio.page import COMPARE
    from cxsim.studio.what_if import Setting, WhatIf

    url, _, folder = studio
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=2", 1280, 800)
    _drop(page, CUSTOMERS, "cdnow.csv", cdnow_csv.read_bytes())
    page.get_by_text(re.compile("purchases from 1997-01-01 to 1998-06-30")).wait_for(
        timeout=60_000)
    assert page.locator(".log-end input").input_value() == END
    assert page.locator(".log-date select").input_value() == "date"
    if SHOTS:
        page.screenshot(path=str(SHOTS / "studio-upload-columns.png"))
    page.evaluate(_WATCH_RUNS, ".fit-check")
    page.get_by_role("button", name="Fit", exact=True).click()
    page.get_by_text(re.compile("Fitted: scenario A's market is now customers of cdnow")
                     ).wait_for(timeout=120_000)
    page.locator(f".fit-check[data-runs='{logs.CHECK_REPLICATIONS}']").wait_for(
        timeout=120_000)
    assert _streamed(page)[0] == 0  # the fit in words at once, then its check as it runs
    assert page.locator(".fit-check p.runs").count() == 0
    found = cxsim.calibrate(cdnow_csv, END)
    for sentence in calibration_sentences(found, typicals(found)):  # the check, simulated too
        assert page.get_by_text(sentence, exact=True).count() == 1, sentence
    assert page.locator(".log-check img[alt^='Line chart of cumulative repeat']").count() == 1
    (kept,) = [f for f in _files(folder) if f.startswith("studio-markets/")]
    assert re.fullmatch(r"studio-markets/market-[0-9a-f]{12}\.yaml", kept)
    assert yaml.safe_load((folder / kept).read_text()) == found.market
    assert not [f for f in _files(folder) if f.startswith(".")]  # the upload is gone
    assert not list(system_temp.iterdir())  # the check and the market's compose wrote in folder
    b_rate = page.locator(".segment-b-customers-purchases_per_year input")
    b_rate.fill("4")
    b_rate.press("Enter")
    page.get_by_text("B differs from A by: the customers segment's purchases per client per "
                     "year: 4").first.wait_for(timeout=30_000)
    setting = dict(clients=300, years=1.0, replications=2)
    monkeypatch.chdir(folder)  # the command names the market by its path in the studio's
    what_if = WhatIf(Setting(market=kept, **setting),
                     segments={"customers": {"purchases_per_year": 4.0}})
    assert page.locator("textarea").first.input_value() == what_if.command(program=COMPARE)
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Done: 2 pairs.").wait_for(timeout=120_000)
    mine = tmp_path / "mine.yaml"  # the API's own preset file, not the page's
    mine.write_text(preset_yaml(found.market, found.fits, "cdnow.csv", END, found.warnings))
    a, b = WhatIf(Setting(market=str(mine), **setting), what_if.changes,
                  segments=what_if.segments).configs()
    expected = differences(cxsim.compare(a, b, 2, progress=False))
    shown = _shown(page)
    assert len(shown) == len(expected) > 0
    for row in expected.itertuples():
        assert shown[row.firm, row.metric] == pytest.approx(row.diff, rel=1e-12, abs=1e-12)
    if SHOTS:  # the answer beside the fit (and the command, with this machine's paths, below)
        page.locator(".log-status").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SHOTS / "studio-upload-fitted.png"))
    again, _ = open_studio(chromium, url, f"market={kept}&clients=300&years=1&n=2")
    assert again.locator(".segment-a-customers-purchases_per_year input").count() == 1
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    again.close()
    page.close()


_WATCH_RUNS = """selector => {
  window.runsShown = [];
  const find = root => {
    const found = root.querySelector(selector);
    if (found) return found;
    for (const e of root.querySelectorAll('*')) {
      const inner = e.shadowRoot && find(e.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  setInterval(() => {
    const check = find(document), runs = check && check.dataset.runs;
    if (runs && window.runsShown[window.runsShown.length - 1] !== runs) window.runsShown.push(runs);
  }, 10);
}"""
"""Records, in the page, each number of runs a check (*selector*) is shown with."""


def _streamed(page) -> list[int]:
    """The numbers of runs a check was shown with, in order (:data:`_WATCH_RUNS`): it
    streamed if there were two or more, rising to the whole check's."""
    shown = [int(r) for r in page.evaluate("window.runsShown")]
    assert shown[-1] == logs.CHECK_REPLICATIONS and len(shown) >= 2, shown
    assert shown == sorted(shown), shown
    return shown


@pytest.mark.xdist_group("studio-uploads")
def test_the_slice_of_bpic_2012_discovered_and_checked_as_the_command_does(studio, chromium,
                                                                          tmp_path):
    """The journey kept is the one cxsim-discover writes from the same file and split, it is
    every firm's in the command, and the headline is the command's check's."""
    from cxsim.data.discovery import discover
    from cxsim.data.discovery_check import check
    from cxsim.data.eventlog import read_event_log
    from cxsim.discover_cli import main as discover_main
    from cxsim.report.discovery import check_sentences
    from cxsim.studio.page import COMPARE

    url, _, folder = studio
    before = _files(folder)
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=2", 1280, 800)
    _drop(page, JOURNEY, SLICE.name, SLICE.read_bytes())
    page.get_by_text(re.compile(r"328 cases, 6,912 events, from 2011-09-30 to 2012-03-14"
                                )).wait_for(timeout=60_000)
    assert page.locator(".events-split input").input_value() == SPLIT
    page.evaluate(_WATCH_RUNS, ".journey-check")
    page.get_by_role("button", name="Discover", exact=True).click()
    page.get_by_text("Discovered and checked: every firm walks this journey.").wait_for(
        timeout=120_000)
    _streamed(page)  # a first look, then more runs
    assert page.locator(".journey-check p.runs").count() == 0  # the whole check says so
    (kept,) = [f for f in _files(folder) - before if f.startswith("studio-journeys/")]
    assert re.fullmatch(r"studio-journeys/journey-[0-9a-f]{12}\.yaml", kept)
    out, cohort = tmp_path / "bpic2012_slice.yaml", tmp_path / "cohort.csv"
    log = tmp_path / SLICE.name
    log.write_bytes(SLICE.read_bytes())
    discover_main([str(log), "--split", SPLIT, "--out", str(out), "--cohort", str(cohort)])
    assert yaml.safe_load((folder / kept).read_text()) == yaml.safe_load(out.read_text())
    command = page.locator("textarea").first.input_value()
    assert command.startswith(f"{COMPARE} --common market=recurring_b2b market.size=300 "
                              f"sim.years=1 firms.sales_first.journey={kept} "
                              f"firms.client_first.journey={kept} -n 2")
    events = read_event_log(log)
    found = discover(events, SPLIT, name="bpic2012_slice")
    result = check(events, found, SPLIT, out, cohort, logs.CHECK_REPLICATIONS)
    page.get_by_text(check_sentences(result)[0], exact=True).wait_for(timeout=10_000)
    row = result.summary.set_index("measure").loc["share_walk_away"]
    cells = page.locator("table.headline tr", has_text="walking away").locator("td")
    assert cells.all_inner_texts()[1:3] == [f"{100 * row.actual:.1f}%",
                                            f"{100 * row['mean']:.1f}%"]
    page.locator(".lever-b-sales_first-org select").select_option("cco")
    page.get_by_text("B differs from A by: the sales-focused firm's org: cco").first.wait_for(
        timeout=30_000)
    page.get_by_role("button", name="Run").click()  # the firms walk the discovered journey
    page.get_by_text("Done: 2 pairs.").wait_for(timeout=120_000)
    assert page.locator("section.answer img[alt^='Journey map']").count() == 2
    if SHOTS:
        page.locator(".events-card").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.screenshot(path=str(SHOTS / "studio-upload-journey.png"))
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.xdist_group("studio-uploads")
def test_a_malformed_log_is_one_line_beside_the_upload_and_nothing_is_written(studio,
                                                                             chromium,
                                                                             tmp_path,
                                                                             monkeypatch):
    """An unreadable date, then a calibration end outside the log: each is the line
    cxsim.calibrate says of the file by that name, and the studio's folder is as it was."""
    url, _, folder = studio
    before = _files(folder)
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=2")
    monkeypatch.chdir(tmp_path)
    bad = b"customer,date,amount\n1,2020-01-01,5\n1,31/02/2020,5\n2,2020-01-03,5\n"
    Path("<b>bad<b>.csv").write_bytes(bad)
    with pytest.raises(ConfigError) as said:
        cxsim.calibrate("<b>bad<b>.csv", "2020-01-01")
    _drop(page, CUSTOMERS, "<b>bad<b>.csv", bad)
    error = page.locator(".log-error")
    error.get_by_text(str(said.value), exact=True).wait_for(timeout=60_000)
    assert page.locator(".log-error b").count() == 0  # the name is text, not markup
    good = b"customer,date,amount\n1,2020-01-01,5\n1,2020-01-09,5\n2,2020-01-03,5\n"
    _drop(page, CUSTOMERS, "good.csv", good)
    page.get_by_text(re.compile("purchases from 2020-01-01 to 2020-01-09")).wait_for(
        timeout=60_000)
    assert error.inner_text() == ""
    Path("good.csv").write_bytes(good)
    with pytest.raises(ConfigError) as said:
        cxsim.calibrate("good.csv", "2030-01-01")
    end = page.locator(".log-end input")
    end.fill("2030-01-01")
    end.press("Enter")
    page.get_by_role("button", name="Fit", exact=True).click()
    error.get_by_text(str(said.value), exact=True).wait_for(timeout=60_000)
    assert _files(folder) == before
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()


@pytest.mark.xdist_group("studio-uploads")
def test_a_log_above_the_limit_is_refused_before_it_is_sent(studio, chromium):
    """cxsim-studio --max-upload-mb 1: the page says its limit, and a 1.5 MB log is refused
    by the browser (never sent, so never read) with the limit; nothing is written."""
    url, _, folder = studio
    before = _files(folder)
    page, seen = open_studio(chromium, url, "clients=300&years=1&n=2")
    row = b"1,2020-01-01,5.00\n"
    _drop(page, CUSTOMERS, "big.csv", b"customer,date,amount\n" + row * 90_000)
    page.get_by_text("File is too large", exact=True).wait_for(timeout=30_000)
    page.get_by_text("Maximum file size is 1 MB", exact=True).wait_for(timeout=30_000)
    assert page.get_by_text(re.compile(r"one purchase a row, at most 1 MB\)")).count() == 1
    assert page.get_by_text(re.compile("purchases from")).count() == 0
    assert _files(folder) == before
    assert seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()
