"""Generated bad input (``tests/fuzz.py``): a few hundred cases in the suite, thousands in
``make fuzz``."""

from __future__ import annotations

import pytest

import cxsim
from tests.fuzz import GOOD, SURFACES, Case, _command, attempt, explore, table

CASES = 100


@pytest.mark.xdist_group("fuzz")
def test_generated_bad_input_ends_in_a_clean_error_or_a_finite_result():
    seen = explore(CASES)
    assert sum(seen.values()) == CASES
    assert sum(seen[outcome] for outcome in GOOD) == CASES, "\n" + table(seen)
    assert seen["error"] > CASES / 2 and seen["result"] > 0  # both ends are exercised
    assert all(sum(seen.surfaces[surface, outcome] for outcome in GOOD) > 0
               for surface in SURFACES), "\n" + table(seen)  # every surface is reached


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


def test_the_fuzz_tells_a_commands_escape_from_its_clean_error(tmp_path):
    """Negative controls for the commands: an error after writing, a warning leaked before
    the error line, a traceback and another exit status are findings."""
    import sys

    def refuses(argv):
        print("cxsim-x: error: bad input", file=sys.stderr)
        sys.exit(2)

    def writes_then_refuses(argv):
        (tmp_path / "half.yaml").write_text("a: 1\n")
        refuses(argv)

    def leaks_then_refuses(argv):
        print("RuntimeWarning: overflow encountered in reduceat", file=sys.stderr)
        refuses(argv)

    def warns(argv):
        print("cxsim-x: warning: a fit the log cannot support", file=sys.stderr)

    def raises(argv):
        raise KeyError("month")

    assert _command(refuses, [], tmp_path, set())[0] == "error"
    assert _command(warns, [], tmp_path, set())[0] == "result"
    assert _command(leaks_then_refuses, [], tmp_path, set())[0] == "unclear"
    assert _command(raises, [], tmp_path, set())[0] == "traceback"
    assert _command(lambda argv: sys.exit(1), [], tmp_path, set())[0] == "traceback"
    assert _command(writes_then_refuses, [], tmp_path, set())[0] == "written"
