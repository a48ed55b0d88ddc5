"""The studio page timed as a user meets it: press Run in a real browser, wait for the answer;
drop a log into it, wait for the fitted market or the discovered journey.

``make bench-studio`` (``benchmarks/run.py --only studio``) calls :func:`measure` in a
fresh process: it starts ``cxsim-studio`` on a free port, opens the page in headless
Chromium (Debian's package, driven by Playwright) at the page's default live size with a
what-if in the link, and presses Run several times. Each press is timed from the click to
the first answer with an interval (two pairs) and to the last pair. The page after the
last press, as a 1280x800 screen shows it, is saved as the README's screenshot.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "img" / "studio.png"
"""The page after the last press: the README's picture."""
READING = 5  # seconds between the page's load and the first Run, as a person reads it
QUERY = "b.sales_first.org=cco"  # a CCO at the sales-focused firm: the example
LARGE = 20_000
"""Customers of the synthetic transaction log whose check is long enough to stream."""
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _serve(folder: Path | None = None) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    server = subprocess.Popen([str(Path(sys.executable).parent / "cxsim-studio")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True, cwd=folder)
    url = re.search(r"http://127\.0\.0\.1:\d+/", server.stdout.readline()).group(0)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, url, time.perf_counter() - started
        except OSError:
            if time.perf_counter() - started > 120:
                os.killpg(server.pid, signal.SIGTERM)
                raise
            time.sleep(0.05)


def measure(repeats: int) -> dict:
    """Seconds from Run to the first answer and to all pairs, per press; server start-up."""
    from playwright.sync_api import sync_playwright

    from cxsim.studio.what_if import LIVE_SIZE

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("bench-studio needs Chromium (apt-get install chromium)")
    n = LIVE_SIZE["replications"]
    server, url, serving = _serve()
    first, done = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})  # a laptop's
            page.goto(f"{url}?{QUERY}", timeout=120_000)
            page.get_by_text("Set a what-if and press Run.").wait_for(timeout=60_000)
            page.wait_for_timeout(READING * 1000)
            answer = page.locator("section.answer")
            for _ in range(repeats):
                start = time.perf_counter()
                page.get_by_role("button", name="Run").click()
                page.get_by_text(f"Running {n} pairs...").wait_for(timeout=60_000)
                answer.first.wait_for(timeout=120_000)  # the last run's answer is gone by now
                first.append(time.perf_counter() - start)
                page.get_by_text(f"Done: {n} pairs.").wait_for(timeout=300_000)
                done.append(time.perf_counter() - start)
                assert answer.first.get_attribute("data-pairs") == str(n)
            page.screenshot(path=str(SCREENSHOT))  # what the screen shows, verdict included
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {"clients": LIVE_SIZE["clients"], "years": LIVE_SIZE["years"], "pairs": n,
            "serve_s": serving, "first_s": first, "done_s": done,
            "first_median": statistics.median(first), "done_median": statistics.median(done)}


CUSTOMERS = "Your customers: fit the market to your transaction log"
JOURNEY = "Your journey: discover it from your event log"
BPIC = Path(__file__).resolve().parent.parent / "data" / "eventlogs" / "BPI_Challenge_2012.xes.gz"


def _drop(page, card: str, name: str, data: bytes) -> float:
    """Open *card* and drop the file *name* holding *data*; the time it was dropped."""
    kind = "log" if card == CUSTOMERS else "events"
    if not page.locator(f".{kind}-drop").is_visible():
        page.get_by_text(card).click()
    started = time.perf_counter()
    page.locator(f".{kind}-drop input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": data}])
    return started


def _fit(page, start: float, log: str, out: dict[str, list[float]]) -> None:
    """Press Fit on the log *log* dropped, and add to *out* the seconds from *start* to its
    fit in words (``<log>_fitted``) and to its check whole (``<log>_checked``)."""
    page.get_by_role("button", name="Fit", exact=True).click()
    page.get_by_text(re.compile(f"Fitted: scenario A's market is now customers of {log}")
                     ).wait_for(timeout=120_000)
    out[f"{log}_fitted"].append(time.perf_counter() - start)
    page.locator(".fit-check[data-runs='20']").wait_for(timeout=300_000)
    out[f"{log}_checked"].append(time.perf_counter() - start)


def measure_uploads(repeats: int) -> dict:
    """Seconds from dropping a log into the page to what it makes of it, each of *repeats*
    times in a fresh page (the server, in a folder of its own, keeps what it fits):
    CDNOW's transaction log to the fitted market (its fit in words), then to its check's 20
    runs; from pressing Fit on a synthetic log of :data:`LARGE` customers
    (``calibration_log.py``, as Parquet) to its fit and to its whole check; and
    BPIC 2012 to the discovered journey, then to its check's first look (its headline from
    the first runs) and to the whole check."""
    import tempfile

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.validation.cdnow import cdnow_log

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("bench-studio needs Chromium (apt-get install chromium)")
    from calibration_log import write_log

    cdnow = cdnow_log().to_csv(index=False).encode()
    bpic = BPIC.read_bytes()
    out: dict[str, list[float]] = {"cdnow_columns": [], "cdnow_fitted": [], "bpic_columns": [],
                                   "bpic_journey": [], "bpic_checked": [], "bpic_first_look": [],
                                   "cdnow_checked": [], "large_fitted": [], "large_checked": []}
    with tempfile.TemporaryDirectory() as folder:
        large = Path(folder) / "large.parquet"
        write_log(large, LARGE)
        large_log = large.read_bytes()
        large.unlink()
        server, url, _ = _serve(Path(folder))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
                for _ in range(repeats):
                    page = browser.new_page(viewport={"width": 1280, "height": 800})
                    page.goto(url, timeout=120_000)
                    page.get_by_text("Set a what-if and press Run.").wait_for(timeout=60_000)
                    start = _drop(page, CUSTOMERS, "cdnow.csv", cdnow)
                    page.get_by_text(re.compile("purchases from 1997-01-01")).wait_for(
                        timeout=60_000)
                    out["cdnow_columns"].append(time.perf_counter() - start)
                    _fit(page, start, "cdnow", out)
                    _drop(page, CUSTOMERS, "large.parquet", large_log)
                    page.get_by_text(re.compile("large.parquet: columns")).wait_for(
                        timeout=60_000)
                    _fit(page, time.perf_counter(), "large", out)
                    start = _drop(page, JOURNEY, BPIC.name, bpic)
                    page.get_by_text(re.compile(r"13,087 cases")).wait_for(timeout=120_000)
                    out["bpic_columns"].append(time.perf_counter() - start)
                    page.get_by_role("button", name="Discover", exact=True).click()
                    page.get_by_text(re.compile("^Checking: the journey walks")).wait_for(
                        timeout=120_000)
                    out["bpic_journey"].append(time.perf_counter() - start)
                    page.locator(".journey-check").wait_for(timeout=300_000)
                    out["bpic_first_look"].append(time.perf_counter() - start)
                    page.get_by_text("Discovered and checked: every firm walks this journey."
                                     ).wait_for(timeout=300_000)
                    out["bpic_checked"].append(time.perf_counter() - start)
                    page.close()
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    return out
