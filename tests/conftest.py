"""Shared fixtures: small scenarios that run in a second or two."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import cxsim


@pytest.fixture
def small_cfg():
    """The default scenario at 2,000 clients over one year."""
    return cxsim.compose(["market.size=2000", "sim.years=1"])


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium for a module of page tests (the studio's: its page, uploads, kept
    what-ifs); each module starts its studio first, which fails or skips without one."""
    from playwright.sync_api import sync_playwright

    from tests.test_report_browser import ARGS, CHROMIUM

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def write_journey(directory: Path, name: str, text: str) -> Path:
    """Write a journey map into *directory* and return its path."""
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path


SLOW_FIRST = ("tests/test_stylised_facts.py", "tests/validation/test_queueing.py",
              "tests/validation/test_ensemble_ci.py", "tests/validation/test_bass.py",
              "tests/test_fuzz.py", "tests/validation/test_clv.py", "tests/test_differential.py")
"""Modules whose tests take 20-200 s each (``pytest --durations``). Collected first, so the
two workers of ``make test`` start them first and finish together, instead of one worker
starting a 200 s test when the other has nothing left."""


def pytest_configure(config: pytest.Config) -> None:
    """Once per session, before any worker starts: forget facts an earlier session recorded;
    with workers, put the compiled loop into numba's cache first. In a fresh clone each
    worker, and each process a test starts, would otherwise compile it at the same time
    (a minute of ``make test`` on 2 cores: 10:29 in a fresh clone, 9:29 run again)."""
    if not hasattr(config, "workerinput"):
        from tests import facts

        facts.clear()
        if config.getoption("numprocesses", default=None):
            cxsim.run(cxsim.compose(["market.size=50", "sim.years=0.1",
                                     "sim.record_visits=true"]))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return SLOW_FIRST.index(path) if path in SLOW_FIRST else len(SLOW_FIRST)

    items.sort(key=rank)  # stable: each module keeps its own order
