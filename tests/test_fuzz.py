"""Generated bad input (``tests/fuzz.py``): a few hundred cases in the suite, thousands in
``make fuzz``."""

from __future__ import annotations

import pytest

import cxsim
from tests.fuzz import (
    GOOD,
    SURFACES,
    TINY,
    Case,
    _command,
    attempt,
    explore,
    keep_finding,
    load_finding,
    table,
)

CASES = 100


@pytest.mark.xdist_group("fuzz")
def test_generated_bad_input_ends_in_a_clean_error_or_a_finite_result(tmp_path):
    findings = tmp_path / "fuzz-findings"  # a finding's input is kept here, not in the tree
    seen = explore(CASES, findings=findings)
    assert not findings.exists() or any(seen[o] for o in seen if o not in GOOD)
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


LOG = "customer,date,amount\n1,2020-01-01,5\n1,-1,5\n2,-1,5\n2,-1,5\n"
KEPT = [  # a case of each surface, with the files it hands its command or run
    (Case((), surface="transactions", text=LOG, arguments=("--end", "1997-09-30", "--out",
                                                             "mine.yaml", "-n", "0")),
     {"log.csv": LOG.encode()}, "cxsim-calibrate log.csv --end 1997-09-30 --out mine.yaml -n 0"),
    (Case(("market.size=5",), journey="name: tiny\n"), {"journey.yaml": b"name: tiny\n"},
     "market.size=5 firms.acme.journey=journey.yaml"),
    (Case((), surface="cohort", text="acquired_day\n1\n"),
     {"cohort.csv": b"acquired_day\n1\n"}, "market.cohort=cohort.csv"),
    (Case((), surface="eventlog", text="<log/>", arguments=("log.xes.gz", "--split", "x",
                                                            "--out", "j/mine.yaml")),
     {"log.xes.gz": None}, "cxsim-discover log.xes.gz --split x --out j/mine.yaml"),
    (Case((), surface="report", damage=(("meta.json", "replace", "{"),)), {},
     "replace meta.json with '{'"),
    (Case((), surface="compare", arguments=("--a", "seed=3", "-n", "2"),
          pair=(("seed=3",), ())), {}, "cxsim-compare --a seed=3 -n 2 --out pair"),
]


@pytest.mark.parametrize("case, files, command", KEPT,
                         ids=[case.surface for case, _, _ in KEPT])
def test_a_findings_input_is_kept_so_it_can_be_run_again(tmp_path, case, files, command):
    """Each finding's folder holds the case whole (case.json), the files it hands its
    command or run, and the command line; the case read back is the case."""
    import gzip

    folder = keep_finding(case, "traceback", "NotImplementedError: date not yet\nsupported",
                          tmp_path / "fuzz-findings" / "traceback-1")
    assert folder == tmp_path / "fuzz-findings" / "traceback-1"
    assert load_finding(folder) == case
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["case.json", "command.txt", *files])
    for name, data in files.items():
        kept = (folder / name).read_bytes()
        assert (gzip.decompress(kept) == case.text.encode()) if data is None else kept == data
    text = (folder / "command.txt").read_text()
    assert text.startswith("# traceback: NotImplementedError: date not yet supported\n")
    assert f"--replay {folder}" in text and command in text


def test_a_kept_case_ends_again_as_it_ended(tmp_path):
    """The log that made cxsim-calibrate raise NotImplementedError (most dates in the year
    -1), kept and read back, ends as the case itself does: now a clean error."""
    case = KEPT[0][0]
    folder = keep_finding(case, "traceback", "NotImplementedError", tmp_path / "traceback-1")
    outcome = attempt(load_finding(folder))
    assert outcome == attempt(case)
    assert outcome[0] == "error" and "must be a date from 0001-01-01 to 9999-12-31" in outcome[1]


def test_the_summary_names_each_findings_folder(tmp_path):
    from collections import Counter

    seen = Counter({"result": 3, "traceback": 2, "hang": 1})
    seen.examples = {"traceback": "transactions --end 1997-09-30: NotImplementedError"}
    seen.surfaces = Counter()
    seen.findings = {"traceback": [tmp_path / "traceback-1", tmp_path / "traceback-2"],
                     "hang": [tmp_path / "hang-1"]}
    text = table(seen)
    for name in ("traceback-1", "traceback-2", "hang-1"):
        assert f"`{tmp_path / name}`" in text
    assert "--replay" in text


def test_an_earlier_runs_findings_are_cleared_and_nothing_else(tmp_path):
    from tests.fuzz import _clear_findings

    old = keep_finding(Case(TINY), "hang", "over 30 s", tmp_path / "hang-3")
    (tmp_path / "notes-1").mkdir()
    (tmp_path / "notes-1" / "case.json").write_text("{}")
    (tmp_path / "fuzz.md").write_text("kept")
    _clear_findings(tmp_path)
    assert not old.exists()
    assert (tmp_path / "notes-1" / "case.json").is_file() and (tmp_path / "fuzz.md").is_file()
