"""Generated bad input (``tests/fuzz.py``): a few hundred cases in the suite, thousands in
``make fuzz``."""

from __future__ import annotations

import pytest

import cxsim
from tests.fuzz import GOOD, Case, attempt, explore, table

CASES = 100


@pytest.mark.xdist_group("fuzz")
def test_generated_bad_input_ends_in_a_clean_error_or_a_finite_result():
    seen = explore(CASES)
    assert sum(seen.values()) == CASES
    assert sum(seen[outcome] for outcome in GOOD) == CASES, "\n" + table(seen)
    assert seen["error"] > CASES / 2 and seen["result"] > 0  # both ends are exercised


def test_the_fuzz_tells_an_escape_from_a_clean_error(monkeypatch):
    """Negative controls of the classifier: a raw exception, a silent default, an
    unclear message and an infinite result are findings, not passes."""
    assert attempt(Case(("market.size=-5",)))[0] == "error"
    assert attempt(Case(("++psychology.base_churn=0.1",), unknown=True))[0] == "silent"

    def raw(*args, **kwargs):
        raise ValueError("cannot convert float NaN to integer")

    monkeypatch.setattr(cxsim, "run", raw)
    assert attempt(Case(()))[0] == "traceback"

    def unclear(*args, **kwargs):
        raise cxsim.ConfigError("market.size", "line one\nline two")

    monkeypatch.setattr(cxsim, "run", unclear)
    assert attempt(Case(()))[0] == "unclear"
