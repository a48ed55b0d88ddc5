"""The report in a real browser: headless Chromium (Debian's package) driven by Playwright.

Playwright is launched with the system browser (its own browser download
cannot be reached from every machine). Without Chromium the tests skip
with a reason, except where ``CI=true``: there they fail, so CI never
passes them unseen (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import cxsim
from cxsim.config import as_plain, to_config
from cxsim.report import write_report
from cxsim.report.comparison import Compared, comparison_page
from cxsim.report.page import write
from cxsim.report.run import KPIS, estimate, named, page_of
from cxsim.simulation.experiment import Ensemble
from cxsim.simulation.results import Results, crossover, mean_ci, month_number
from tests.reports import HOSTILE, hostile
from tests.reports import duel as finished_duel

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed, and CI=true: browser tests must run")
        pytest.skip("Chromium is not installed (apt-get install chromium): browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def open_page(browser, path: Path, width: int = 1280):
    """The page at *path*, with every request, console error and dialog recorded."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    seen = {"requests": [], "errors": [], "dialogs": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))

    def dismiss(dialog) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.goto(path.resolve().as_uri())
    page.wait_for_load_state("load")
    return page, seen


def assert_offline(seen: dict) -> None:
    outside = [u for u in seen["requests"] if not u.startswith(("file://", "data:"))]
    assert outside == [] and seen["errors"] == [] and seen["dialogs"] == []


@pytest.fixture(scope="module")
def duel(tmp_path_factory) -> tuple[Results, Path]:
    results = finished_duel()
    folder = tmp_path_factory.mktemp("run")
    results.save(folder)
    return results, write_report(folder)


NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def numbers(text: str) -> list[float]:
    plain = text.replace("95% CI", "").replace("$", "")  # "-$54" is -54 dollars
    return [float(n.replace(",", "")) for n in NUMBER.findall(plain)]


def test_the_first_screen_holds_the_bottom_line_the_tiles_and_the_difference_chart(browser,
                                                                                  duel):
    """At 1280x800, as an executive opens it: the bottom line, the four tiles and the
    share-lead chart are on screen without scrolling; each tile names the firm ahead only
    where the paired interval says so."""
    results, path = duel
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(path.resolve().as_uri())
    for element in ("p.bottom-line", ".tile >> nth=-1", "figure.headline img"):
        box = page.locator(element).bounding_box()
        assert box is not None and box["y"] + min(box["height"], 200) <= 800, element
    assert page.locator(".tile").count() == 4
    assert page.locator("p.bottom-line").inner_text().startswith("Bottom line: ")
    tiles = dict(zip(page.locator(".tile h3").all_inner_texts(),
                     page.locator(".tile").all_inner_texts()))
    gap = estimate(100 * (results.summary.pivot(index="replication", columns="firm",
                                                values="share_final")
                          .pipe(lambda w: w.client_first - w.sales_first)).to_numpy())
    share = tiles["Final market share"]
    assert ("ahead" in share) == bool(gap.sign), share
    page.close()


def test_the_run_report_loads_offline_and_its_numbers_are_the_results(browser, duel):
    results, path = duel
    page, seen = open_page(browser, path)
    assert_offline(seen)
    named_summary = named(results.summary, results.config)
    assert_kpis_match(page, named_summary.assign(where=named_summary.firm))
    sentences = page.locator("#answer .sentence").all_inner_texts()
    assert len(sentences) == 5  # bottom line, share, CLV now, first-year share, crossover
    assert sentences.pop(0).startswith("Bottom line: ")
    by_month = results.timeseries.pivot_table(index="replication", columns=["firm", "month"],
                                              values="share")
    first_year = 100 * (by_month.sales_first - by_month.client_first).iloc[:, :12].mean(axis=1)
    gaps = {}
    for column, scale in (("share_final", 100), ("clv_final_year", 1)):
        wide = results.summary.pivot(index="replication", columns="firm", values=column)
        gaps[column] = scale * (wide.sales_first - wide.client_first).to_numpy()
    for sentence, (gap, digits) in zip(sentences, ((gaps["share_final"], 1),
                                                   (gaps["clv_final_year"], 0),
                                                   (first_year.to_numpy(), 1))):
        mean, low, high = mean_ci(gap)
        if "not distinguishable" in sentence:
            expected = [mean, low, high]
        else:  # the leader's lead, its interval turned toward the leader
            expected = [mean, low, high] if mean > 0 else [-mean, -high, -low]
        assert numbers(sentence) == pytest.approx([round(x, digits) for x in expected],
                                                  abs=10 ** -digits / 2 + 1e-9), column
    shares = results.summary.groupby("firm").share_final.mean()
    leader, other = sorted(["sales_first", "client_first"], key=lambda f: -shares[f])
    wide = results.timeseries.pivot_table(index="replication", columns=["firm", "month"],
                                          values="share")
    found = crossover(100 * (wide[leader] - wide[other]).to_numpy())
    last = sentences[-1]
    if found.crossed:  # months as the chart counts them, the first is month 1
        assert f" month {month_number(found.month)} of " in last
    assert ("overtakes" in last) == found.claimed
    assert ("no crossover" in last or "nothing crosses over" in last) == (not found.claimed)
    page.close()


def test_the_report_prints_without_its_download_link_and_with_every_chart(browser, duel,
                                                                         tmp_path):
    _, path = duel
    page, seen = open_page(browser, path)
    assert page.locator("a.download").first.is_visible()
    page.emulate_media(media="print")
    assert not page.locator("a.download").first.is_visible()
    assert page.locator("figure img").count() >= 6
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    pdf = page.pdf(path=str(tmp_path / "report.pdf"), format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 50_000
    assert_offline(seen)
    page.close()


def test_a_hostile_name_stays_text_in_the_browser(browser, duel, tmp_path):
    results, _ = duel
    path = write(page_of(hostile(results)), tmp_path / "hostile.html")
    page, seen = open_page(browser, path)
    assert_offline(seen)
    assert page.locator("#kpis thead th").all_inner_texts()[1:-1] == list(HOSTILE)
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script").count() == 0
    assert HOSTILE[0] in page.locator("#answer").inner_text()
    page.close()


def test_a_phone_sees_no_horizontal_scroll_and_a_desktop_gets_a_screenshot(browser, duel,
                                                                           tmp_path):
    _, path = duel
    page, _ = open_page(browser, path, width=375)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.close()
    page, _ = open_page(browser, path)
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    page.close()


def test_the_comparison_report_loads_offline_and_names_what_changed(browser, tmp_path):
    common = ["market.size=500", "sim.years=1"]
    a = cxsim.compose([*common, "firms.sales_first.org=no_cco"])
    b = cxsim.compose([*common, "firms.sales_first.org=cco"])
    comparison = cxsim.compare(a, b, 3, progress=False)
    meta = {"common": common, "a": ["firms.sales_first.org=no_cco"],
            "b": ["firms.sales_first.org=cco"], "seed": 0, "replications": 3,
            "config_a": as_plain(to_config(a)), "config_b": as_plain(to_config(b))}
    path = write(comparison_page(Compared(comparison, meta)), tmp_path / "compare.html")
    page, seen = open_page(browser, path)
    assert_offline(seen)
    assert "B sets the sales-focused firm's org: cco." in page.locator("#answer").inner_text()
    summary = page.locator("#appendix > summary")
    assert summary.inner_text().endswith("3 differ, highlighted)")  # collapsed: a click opens
    summary.click()
    differs = page.locator("tr.differs td.name").all_inner_texts()
    assert set(differs) == {"org", "cx_floor", "org_culture"}
    both = pd.concat([named(comparison.a.summary, meta["config_a"]).assign(where="A"),
                      named(comparison.b.summary, meta["config_b"]).assign(where="B")])
    assert_kpis_match(page, both.assign(where=both["where"] + ": " + both["firm"]))
    paired = comparison.table()
    for sentence, firm in zip(page.locator("#answer .sentence").all_inner_texts()[2:],
                              ("sales_first", "client_first")):
        shown = numbers(sentence)
        for k, (metric, scale, digits) in enumerate((("clv_final_year", 1, 0),
                                                    ("share_final", 100, 1),
                                                    ("nps_true", 1, 1))):
            row = paired[(paired.firm == firm) & (paired.metric == metric)].iloc[0]
            expected = [round(scale * row[c], digits) for c in ("diff", "ci_low", "ci_high")]
            got = shown[3 * k:3 * k + 3]
            if expected[1] > 0 or expected[2] < 0:  # "raises"/"lowers by" the size
                expected[0] = abs(expected[0])
            assert got == pytest.approx(expected, abs=10 ** -digits / 2 + 1e-9), (firm, metric)
    page.close()


def assert_kpis_match(page, summary: pd.DataFrame) -> None:
    """Every KPI cell read back from the DOM equals the ensemble's mean and 95% CI."""
    headers = page.locator("#kpis thead th").all_inner_texts()
    assert headers[-1] == "what it means"
    headers = headers[:-1]
    table = Ensemble(summary.drop(columns="firm").rename(columns={"where": "firm"}),
                     pd.DataFrame()).table()
    checked = 0
    for row in page.locator("#kpis tbody tr").all():
        cells = row.locator("td").all_inner_texts()
        kpi = next(k for k in KPIS if k.name == cells[0])
        column, scale, digits = kpi.column, kpi.scale, kpi.digits
        assert cells[-1] == kpi.meaning
        for group, text in zip(headers[1:], cells[1:-1]):
            stats = table[(table.firm == group) & (table.metric == column)].iloc[0]
            expected = [round(scale * stats[k], digits) for k in ("mean", "ci_low", "ci_high")]
            assert numbers(text) == pytest.approx(expected, abs=10 ** -digits / 2), (group,
                                                                                     column)
            checked += 1
    assert checked == (len(headers) - 1) * len(KPIS)


def test_an_experiments_committed_report_loads_offline(browser):
    root = Path(__file__).resolve().parents[1] / "experiments"
    for path in sorted(root.glob("*/results/report.html")):
        page, seen = open_page(browser, path)
        assert_offline(seen)
        assert page.locator("#answer .sentence").count() >= 1, path
        page.close()


def test_the_calibration_report_says_the_fit_in_words_first_and_a_flag_above_it(browser,
                                                                                tmp_path):
    """The committed CDNOW report: the words on the first screen, no flag, the next command;
    a flagged fit: its warning line as text, above the answer, on the first screen."""
    from cxsim.calibrate_cli import write as write_calibration
    from cxsim.data.calibration import calibrate
    from tests.test_calibration import _generated_log

    committed = (Path(__file__).resolve().parents[1] / "experiments" / "calibrated_cdnow"
                 / "results" / "calibration" / "report.html")
    page, seen = open_page(browser, committed)
    assert_offline(seen)
    first = page.locator("#answer .sentence").first
    assert first.inner_text().startswith("A typical customer buys about once every 2.1 years")
    assert "between $20 and $41 a purchase" in first.inner_text()
    assert first.bounding_box()["y"] < 800
    assert page.locator("#warnings").count() == 0
    assert page.locator("#next code").first.inner_text() == "cxsim market=cdnow"
    page.close()
    page, _ = open_page(browser, committed, width=375)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.close()

    found = calibrate(_generated_log(tmp_path / "spends.csv", 1000, seed=1), "2024-06-30",
                      replications=0)
    write_calibration(found, tmp_path / "spends.yaml", tmp_path / "out")
    page, seen = open_page(browser, tmp_path / "out" / "report.html")
    assert_offline(seen)
    warning = page.locator("#warnings .warning")
    assert warning.all_inner_texts() == [f"Warning: {line}" for line in found.warnings]
    box, answer = warning.bounding_box(), page.locator("#answer").bounding_box()
    assert box["y"] + box["height"] <= answer["y"] and box["y"] < 800
    page.close()


def test_the_check_page_says_the_fit_first_and_its_numbers_are_fit_json(browser, tmp_path,
                                                                         monkeypatch):
    """``cxsim-discover --check``'s report.html: it loads offline, the bottom line is the
    answer's first sentence and on the first screen, and its figures are fit.json's."""
    import json

    from cxsim import discover_cli
    from cxsim.report.discovery import MEASURES, duration
    from tests.test_discover import FLAGS, SPLIT, TRUTH, generate

    monkeypatch.chdir(tmp_path)
    generate(TRUTH, cases=900).to_csv("log.csv", index=False)
    discover_cli.main(["log.csv", "--split", str(SPLIT.date()), "--out", "j/known.yaml",
                       *FLAGS, "--check", "-n", "3", "--check-out", "fit"])
    fit = json.loads((tmp_path / "fit" / "fit.json").read_text())
    m = fit["measures"]
    page, seen = open_page(browser, tmp_path / "fit" / "report.html")
    assert_offline(seen)
    first = page.locator("#answer p").first
    bottom = first.inner_text()
    assert "sentence" in (first.get_attribute("class") or "")
    gap = max(100 * abs(m[f"share_{o}"]["mean"] - m[f"share_{o}"]["actual"])
              for o in ("purchase", "no_purchase", "walk_away"))
    median = m["cycle_time_q50_hours"]
    assert bottom.startswith("The simulated journey reproduces the later cases' outcome "
                             f"shares within {gap:.1f} percentage points; cycle times are ")
    assert f"({duration(median['mean'])} simulated against {duration(median['actual'])} " \
        "actual)" in bottom
    page.set_viewport_size({"width": 1280, "height": 800})
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800
    rows = page.locator("#measures tbody tr").all()
    assert len(rows) == len(m)
    for row in rows:
        cells = row.locator("td").all_inner_texts()
        name = next(k for k, v in MEASURES.items() if v == cells[0])
        value = m[name]["mean"]
        shown = f"{100 * value:.1f}%" if name.startswith("share_") else f"{value:,.4g}"
        assert cells[2] == shown, name
    assert page.locator("#not-modelled tbody tr").count() >= 5
    assert page.locator("#charts img").count() == 4 and page.locator(".tile").count() == 4
    page.close()
