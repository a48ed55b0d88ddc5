"""Kept what-ifs: kept whole in the studio's folder, listed newest first, reopened with the
same numbers, two writers at once both kept, a name kept as text; in pieces, then in a real
browser (as tests/test_studio.py opens pages)."""

from __future__ import annotations

import asyncio
import functools
import html
import re
import sqlite3
import threading
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import panel as pn
import pytest

import cxsim
from cxsim.errors import ConfigError
from cxsim.report.comparison import Compared, comparison_meta, comparison_page
from cxsim.report.page import render
from cxsim.studio.answer import ShownAnswer, shown_answer
from cxsim.studio.kept import KEPT, MAX_NAME, KeptWhatIf, KeptWhatIfs, checked_name
from cxsim.studio.kept_panel import KeptPanel, Ran
from cxsim.studio.what_if import Setting, WhatIf
from tests.test_studio import _shown, open_studio, studio_in

TINY = Setting(clients=300, years=1.0, replications=2)
CCO = {"sales_first": {"org": "cco"}}
LINK = "clients=300&years=1&n=2&a.sales_first.funding=lean&b.sales_first.org=cco"


def _query(text: str) -> dict[str, list[bytes]]:
    return {key: [v.encode() for v in values]
            for key, values in urllib.parse.parse_qs(text, keep_blank_values=True).items()}


@pytest.fixture(scope="module")
def ran():
    """A small what-if run as the page runs it: its what-if, answer (with the journey maps)
    and report."""
    what_if = WhatIf(TINY, CCO, a={"sales_first": {"funding": "lean"}})
    a, b = what_if.configs()
    compared = Compared(cxsim.compare(a, b, 2, progress=False), comparison_meta(
        what_if.common_overrides(), what_if.a_overrides(), what_if.b_overrides(), 2, a, b,
        what_if.words()))
    answer = shown_answer(compared, 2, maps=True)
    return what_if, answer, render(comparison_page(compared)), Ran(
        LINK, "", what_if.command(), answer, functools.partial(comparison_page, compared))


def _keep(kept: KeptWhatIfs, name: str, ran, link: str = LINK):
    what_if, answer, report, _ = ran
    return kept.keep(name, link, "", what_if.command(), answer.data(), report)


# ------------------------------------------------------------------ in pieces
def test_a_kept_what_if_is_listed_newest_first_and_read_back_whole(tmp_path, ran):
    """Its answer comes back with every number as it was (JSON writes a float's repr) and
    draws the same HTML; its report is the same text; a name kept again keeps both."""
    kept = KeptWhatIfs(tmp_path / KEPT)
    assert kept.listed() == ([], 0) and not (tmp_path / KEPT).exists()  # reading makes none
    first = _keep(kept, "  CCO at the sales-focused firm  ", ran)
    again = _keep(kept, "CCO at the sales-focused firm", ran)
    other = _keep(kept, "lean", ran, "clients=300")
    listed, count = kept.listed()
    assert [k.number for k in listed] == [other.number, again.number, first.number]
    assert count == 3 and first.name == again.name == "CCO at the sales-focused firm"
    assert listed[-1] == first and first.link == LINK
    assert kept.listed(limit=2) == (listed[:2], 3)
    _, answer, report, _ = ran
    back = ShownAnswer.from_data(kept.answer(first.number), "kept")
    assert back == answer and back.html() == answer.html()
    assert [r["diff"] for r in back.differences] == [r["diff"] for r in answer.differences]
    assert any(r["diff"] != 0 for r in back.differences)
    assert kept.report(first.number) == report
    with pytest.raises(ConfigError, match="no longer holds kept what-if 99$"):
        kept.report(99)


def test_a_kept_what_if_is_renamed_and_deleted_by_its_number(tmp_path, ran):
    """Renaming changes the name only, by the name's rule; deleting takes the row, its
    answer and its report, and the others stay; a what-if deleted since is one line."""
    kept = KeptWhatIfs(tmp_path / KEPT)
    first, second = _keep(kept, "first", ran), _keep(kept, "second", ran)
    assert kept.rename(first.number, "  lean, then a CCO ") == "lean, then a CCO"
    listed, _ = kept.listed()
    assert [(k.number, k.name) for k in listed] == [(second.number, "second"),
                                                   (first.number, "lean, then a CCO")]
    assert listed[1] == KeptWhatIf(first.number, "lean, then a CCO", first.kept_at, first.link,
                                   first.journey, first.command)
    with pytest.raises(ConfigError, match="the name must not be empty"):
        kept.rename(first.number, " ")
    assert kept.listed()[0][1].name == "lean, then a CCO"  # a refused name changes nothing
    kept.delete(second.number)
    assert kept.listed() == ([listed[1]], 1)
    with pytest.raises(ConfigError, match=f"no longer holds kept what-if {second.number}$"):
        kept.answer(second.number)
    for call in (lambda: kept.delete(second.number),
                 lambda: kept.rename(second.number, "back")):
        with pytest.raises(ConfigError, match=f"no longer holds kept what-if {second.number}$"):
            call()
    assert kept.report(first.number) == ran[2]  # the other is whole


def test_the_list_renames_at_once_and_deletes_on_the_second_press(tmp_path, ran):
    """In the card: Save name renames (a bad name is its line above the list); the first
    Delete asks, the second deletes; a list seeing another tab's rename redraws."""
    kept = KeptWhatIfs(tmp_path / KEPT)
    first, second = _keep(kept, "first", ran), _keep(kept, "second", ran)
    panel = KeptPanel(lambda *_: None, kept)
    item = panel.items.objects[1]  # the older: first
    field = item.select(pn.widgets.TextInput)[0]
    save, rename, delete = (item.select(lambda w, c=c: isinstance(w, pn.widgets.Button)
                                        and c in w.css_classes)[0]
                            for c in ("kept-save-name", "kept-rename", "kept-delete"))
    rename.clicks += 1
    field.value = "x" * (MAX_NAME + 1)
    save.clicks += 1
    assert panel.list_error.text == f"the name must be at most {MAX_NAME} characters; got 81"
    field.value = "lean, then a CCO"
    save.clicks += 1
    assert panel.list_error.text == "" and kept.listed()[0][1] == KeptWhatIf(
        first.number, "lean, then a CCO", first.kept_at, first.link, first.journey,
        first.command)
    assert "lean, then a CCO" in [t.object for t in panel.items.objects[1].select(
        pn.pane.HTML)][0]
    delete.clicks += 1
    assert delete.label == "Delete for good" and kept.listed()[1] == 2  # asked, not deleted
    delete.clicks += 1
    assert [k.number for k in kept.listed()[0]] == [second.number]
    assert len(panel.items.objects) == 1
    kept.rename(second.number, "renamed in another tab")
    panel.refresh()
    assert "renamed in another tab" in panel.items.objects[0].select(pn.pane.HTML)[0].object


def _keep_many(path: str, who: str, start: threading.Barrier | None, count: int) -> list[int]:
    """*count* keeps into *path* by one writer (a thread, or a process of its own)."""
    kept = KeptWhatIfs(Path(path))
    if start is not None:
        start.wait()
    return [kept.keep(f"{who} {k}", f"n={k}", "", f"cxsim-compare -n {k}", {"k": k},
                      f"<p>{who} {k}</p>" * 2_000).number for k in range(count)]


def _in_threads(path: str, who: str, count: int) -> list[int]:
    """Two threads of one process keeping at once (two tabs of one studio)."""
    start = threading.Barrier(2)
    done: list[list[int]] = [[], []]

    def one(k: int) -> None:
        done[k] = _keep_many(path, f"{who}.{k}", start, count)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] + done[1]


def test_two_writers_at_once_both_keep_every_what_if(tmp_path):
    """Two processes (two studios in one folder), each with two threads (two tabs), keep at
    once into a file none of them has made yet: every what-if is kept, whole, once."""
    path = tmp_path / KEPT
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_in_threads, str(path), who, 15) for who in ("p0", "p1")]
        numbers = [n for future in futures for n in future.result()]
    kept = KeptWhatIfs(path)
    listed, count = kept.listed(limit=1000)
    assert count == len(listed) == len(set(numbers)) == 60
    assert sorted(k.name for k in listed) == sorted(
        f"p{p}.{t} {k}" for p in range(2) for t in range(2) for k in range(15))
    for k in listed:
        who, n = k.name.rsplit(" ", 1)
        assert kept.answer(k.number) == {"k": int(n)} and k.link == f"n={n}"
        assert kept.report(k.number) == f"<p>{who} {n}</p>" * 2_000


def test_a_name_is_kept_as_text_and_never_part_of_a_path(tmp_path, ran):
    name = '<img src=x onerror="alert(1)"> ../../escape/"here"'
    kept = KeptWhatIfs(tmp_path / KEPT)
    number = _keep(kept, name, ran).number
    assert kept.listed()[0][0].name == name
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")} == {
        "studio-what-ifs", "studio-what-ifs/kept.sqlite"}
    panel = KeptPanel(None, kept)
    item = panel.items.objects[0]
    shown = [pane.object for pane in item.select(lambda o: hasattr(o, "object"))
             if isinstance(getattr(pane, "object", None), str)]
    assert html.escape(name) in shown and not any(name in text for text in shown)
    assert item.select(lambda o: getattr(o, "filename", None))[0].filename == (
        f"what-if-{number}.html")


@pytest.mark.parametrize("name, said", [
    ("   ", "the name must not be empty: name the what-if to keep it"),
    ("x" * (MAX_NAME + 1), f"the name must be at most {MAX_NAME} characters; got {MAX_NAME + 1}"),
    ("two\nlines", "the name must be one line of printable characters; got 'two\\nlines'"),
    ("bell\a" * 12, "the name must be one line of printable characters; got '"
                    + "bell\\x07" * 7 + "be...'"),
])
def test_a_bad_name_is_one_line_naming_the_rule_and_keeps_nothing(tmp_path, ran, name, said):
    assert checked_name("x" * MAX_NAME) == "x" * MAX_NAME
    with pytest.raises(ConfigError) as raised:
        _keep(KeptWhatIfs(tmp_path / KEPT), name, ran)
    assert str(raised.value) == said and "\n" not in said
    assert not (tmp_path / KEPT).exists()


def _one_line(call) -> str:
    with pytest.raises(ConfigError) as raised:
        call()
    said = str(raised.value)
    assert "\n" not in said and "Traceback" not in said
    return said


def test_a_damaged_or_foreign_file_is_one_line_not_a_traceback(tmp_path, ran):
    """Not SQLite at all, another program's SQLite, ours with a column changed by hand, a
    folder where the file goes; a kept answer damaged or made to hold a script."""
    path = tmp_path / KEPT
    path.parent.mkdir()
    path.write_bytes(b"not a database, a file someone put here " * 100)
    kept = KeptWhatIfs(path)
    assert _one_line(kept.listed) == (f"{path} cannot be read as kept what-ifs (file is not a "
                                      "database)")
    assert _one_line(lambda: _keep(kept, "x", ran)).startswith(
        f"{path} cannot keep the what-if (file is not a database)")
    panel = KeptPanel(None, kept)
    assert panel.list_error.text == _one_line(kept.listed) and not panel.items.objects
    panel.ran(ran[3])  # a finished run to keep: the file's line beside Keep
    panel.name.value_input = "x"
    asyncio.run(panel._on_keep(None))
    assert panel.error.text.startswith(f"{path} cannot keep the what-if")

    path.unlink()
    with sqlite3.connect(path) as foreign:
        foreign.execute("CREATE TABLE orders (id INTEGER)")
    assert "is not the studio's file of kept what-ifs (format 0, tables: orders)" in _one_line(
        kept.listed)
    assert _one_line(lambda: _keep(kept, "x", ran)) == _one_line(kept.listed)

    path.unlink()
    number = _keep(kept, "mine", ran).number
    with sqlite3.connect(path) as hand:
        hand.execute("UPDATE kept_what_ifs SET answer = '{\"pairs\": ' WHERE number = ?",
                     (number,))
    assert "holds kept what-if 1's answer as damaged JSON" in _one_line(
        lambda: kept.answer(number))
    _, answer, _, _ = ran
    data = answer.data()
    data["charts"][0]["data_uri"] = "javascript:alert(1)"
    assert _one_line(lambda: ShownAnswer.from_data(data, "kept what-if 1")) == (
        "kept what-if 1 is not an answer the studio kept (a chart's picture must be a "
        "data:image/ URI)")
    data = answer.data()
    data["differences"][0]["diff"] = "1e9"
    assert "a difference's diff must be float" in _one_line(
        lambda: ShownAnswer.from_data(data, "kept what-if 1"))
    with sqlite3.connect(path) as hand:
        hand.execute("ALTER TABLE kept_what_ifs ADD COLUMN extra TEXT")
    assert "its columns are number, name, kept_at, link, journey, command, answer, report, " \
           "extra" in _one_line(kept.listed)

    path.unlink()
    path.mkdir()
    assert _one_line(lambda: _keep(kept, "x", ran)).startswith(f"{path} cannot keep the what-if")


def test_a_kept_what_if_reopens_the_page_at_its_levers_and_answer(tmp_path, monkeypatch, ran):
    """In a page whose levers were moved elsewhere: Open sets every lever from the kept link
    (the others back at a fresh page's), shows the kept answer and offers the kept report;
    a link value the page cannot use now is named above the setting, as a link's."""
    from cxsim.studio.page import Studio

    monkeypatch.chdir(tmp_path)
    original = Studio(_query(LINK))
    what_if, answer, report, _ = ran
    assert original.what_if() == what_if
    kept = _keep(KeptWhatIfs(), "lean, then a CCO", ran, original.link())
    moved = Studio(_query("market=one_off_consumer&clients=500&b.client_first.price_level=1.2"
                          "&event=shock&a.sales_first.org=cco"))
    moved.kept.refresh()
    assert [k.number for k in moved.kept.kept.listed()[0]] == [kept.number]
    asyncio.run(moved.kept._on_open(kept, None))
    assert moved.what_if() == what_if and moved.link() == original.link()
    assert moved.answer.object == answer.html()
    assert moved._report().read().decode("utf-8") == report
    assert moved.status.text.startswith("Opened \u201clean, then a CCO\u201d, kept ")
    assert moved.link_error.text == ""
    stale = _keep(KeptWhatIfs(), "gone", ran, "market=studio-markets/market-0123456789ab.yaml"
                  "&clients=300")
    asyncio.run(moved.kept._on_open(stale, None))
    assert "the link's market must be one of" in moved.link_error.text
    assert moved.what_if().setting.clients == 300 and moved.what_if().changes == {}


def test_a_kept_what_if_reopens_on_the_uploaded_journey_it_ran_on(tmp_path, monkeypatch, ran):
    """The kept what-if names its uploaded journey (a link of the page before did not), and
    Open uses it while it is in the folder; one gone since, or a path the page did not
    write, is said."""
    from cxsim.studio.page import Studio
    from cxsim.studio.what_if import save_journey

    monkeypatch.chdir(tmp_path)
    journey = save_journey((Path(cxsim.__file__).parent.parent / "configs" / "journey"
                            / "subscription.yaml").read_bytes()).as_posix()
    page = Studio(_query(LINK))
    what_if, answer, report, _ = ran
    kept = KeptWhatIfs().keep("on my journey", LINK, journey, what_if.command(),
                              answer.data(), report)
    asyncio.run(page.kept._on_open(kept, None))
    assert page.what_if().setting.journey == journey and "Not as it ran" not in (
        page.status.text)
    Path(journey).unlink()
    asyncio.run(page.kept._on_open(kept, None))
    assert page.what_if().setting.journey is None
    assert page.status.text.endswith(f"Not as it ran: its journey {journey} is no longer in "
                                     "this folder; the page uses the preset's journey.")
    elsewhere = KeptWhatIfs().keep("elsewhere", LINK, "/etc/journey.yaml", what_if.command(),
                                   answer.data(), report)
    asyncio.run(page.kept._on_open(elsewhere, None))
    assert page.what_if().setting.journey is None
    assert "its journey '/etc/journey.yaml' is not one this page uploaded" in page.status.text


# ------------------------------------------------------------------ in a browser
@pytest.fixture(scope="module")
def studio(tmp_path_factory):
    """A studio in a folder of its own (its kept what-ifs there); its URL, process, folder."""
    with studio_in(tmp_path_factory.mktemp("studio")) as served:
        yield served


def _run(page, n: int) -> None:
    page.get_by_role("button", name="Run").click()
    page.get_by_text(f"Done: {n} pairs.").wait_for(timeout=120_000)


def _download(page, button) -> str:
    with page.expect_download() as download:
        button.click()
    return Path(download.value.path()).read_text(encoding="utf-8")


def _kept_row(page, name: str):
    """The list's row of the what-if kept as *name*: its name shown as this text exactly
    (markup in it shown, not applied)."""
    rows = page.locator(".kept-what-if").filter(has=page.get_by_text(name, exact=True))
    rows.first.wait_for(timeout=30_000)
    assert rows.count() == 1
    return rows.first


def _on_screen(page) -> None:
    verdict = page.locator("section.answer .verdict p").first.bounding_box()
    assert verdict["y"] >= 0 and verdict["y"] + verdict["height"] <= 800


NAME = "<b>CCO</b> at the sales-focused firm / ../../x"


@pytest.mark.xdist_group("studio-kept")
def test_a_kept_what_if_reopens_in_a_fresh_page_with_the_same_numbers(studio, chromium):
    """At 1280x800: a run, Keep offered with the verdict still on screen; a name too long is
    its line beside Keep; kept under a name with markup and a path in it, shown as text;
    a fresh page at other levers opens it: the levers, the address, the command and every
    difference as the run's (not run again), and the report downloaded is the run's."""
    url, _, folder = studio
    page, seen = open_studio(chromium, url, LINK, 1280, 800)
    _run(page, 2)
    _on_screen(page)
    shown, ran_query = _shown(page), urllib.parse.urlsplit(page.url).query
    command = page.locator("textarea").first.input_value()
    report = _download(page, page.locator(".download button"))
    name = page.locator(".kept-name input")
    name.fill("x" * (MAX_NAME + 1))
    page.locator(".kept-keep button").click()
    page.get_by_text(f"the name must be at most {MAX_NAME} characters; got {MAX_NAME + 1}"
                     ).wait_for(timeout=30_000)
    assert page.locator(".kept-what-if").count() == 0
    name.fill(NAME)
    page.locator(".kept-keep button").click()
    page.get_by_text(re.compile("^Kept as \u201c")).wait_for(timeout=30_000)
    assert page.locator(".kept-error").inner_text() == ""
    row = _kept_row(page, NAME)
    assert _download(page, row.locator(".kept-download button")) == report
    assert {p.name for p in (folder / "studio-what-ifs").iterdir()} == {"kept.sqlite"}

    fresh, fresh_seen = open_studio(chromium, url, "clients=500&b.client_first.price_level=1.2"
                                    "&event=shock", 1280, 800)
    _kept_row(fresh, NAME).locator(".kept-open button").click()
    fresh.get_by_text(re.compile("its answer as kept \\(2 pairs\\), not run again")).wait_for(
        timeout=30_000)
    fresh.wait_for_url(re.compile(re.escape(ran_query) + "$"), timeout=30_000)
    assert _shown(fresh) == shown and len(shown) == 10
    _on_screen(fresh)
    assert fresh.locator(".lever-b-sales_first-org select").input_value() == "cco"
    assert fresh.locator(".lever-a-sales_first-funding select").input_value() == "lean"
    assert fresh.locator(".lever-b-client_first-price_level input").input_value() == ""
    assert fresh.locator("textarea").first.input_value() == command
    assert _download(fresh, fresh.locator(".download button")) == report
    assert seen == fresh_seen == {"outside": [], "errors": [], "dialogs": []}
    page.close()
    fresh.close()


@pytest.mark.xdist_group("studio-kept")
def test_two_pages_keeping_at_once_keep_both(studio, chromium):
    """Two pages run their what-ifs, then press Keep back to back (both keeps build their
    report and write at about the same time): both are kept, a fresh page lists both, and
    each page lists the other's within seconds."""
    url, _, _ = studio
    asked = [("first of two", "clients=300&years=1&n=2&b.sales_first.org=cco"),
             ("second of two", "clients=300&years=1&n=2&b.client_first.price_level=1.2")]
    pages = [open_studio(chromium, url, query) for _, query in asked]
    for page, _ in pages:
        page.get_by_role("button", name="Run").click()
    for page, _ in pages:
        page.get_by_text("Done: 2 pairs.").wait_for(timeout=120_000)
    shown = [_shown(page) for page, _ in pages]
    for (page, _), (name, _) in zip(pages, asked):
        page.locator(".kept-name input").fill(name)
    for page, _ in pages:
        page.locator(".kept-keep button").click()
    for (page, _), (name, _) in zip(pages, asked):
        page.get_by_text(f"Kept as \u201c{name}\u201d").wait_for(timeout=60_000)
    fresh, _ = open_studio(chromium, url, "")
    for (name, _), numbers in zip(asked, shown):
        _kept_row(fresh, name).locator(".kept-open button").click()
        fresh.get_by_text(re.compile(f"^Opened \u201c{name}\u201d, kept ")).wait_for(
            timeout=30_000)
        assert _shown(fresh) == numbers
    for (page, seen), (other, _) in zip(pages, reversed(asked)):
        _kept_row(page, other)  # listed within seconds, read again from the file
        assert seen == {"outside": [], "errors": [], "dialogs": []}
        page.close()
    fresh.close()
