"""Mutation testing of the stylised facts: does each fact test catch its mechanism broken?

The table of facts in ``docs/model.md`` claims each fact comes from a
mechanism. An audit checked that claim the other way round: break one
mechanism in the code (``tests/mutants/NN-name.patch``, each saying in its
header what it breaks) and see whether ``tests/test_stylised_facts.py`` notices.
This script repeats the audit: for each patch it copies the working tree's
files (tracked and untracked, not ignored: uncommitted test edits count) to a
scratch folder, applies the patch there, runs the fact tests with that copy's
``cxsim`` and names the tests that fail. A mutation is *caught* when a test
expected to catch it (``EXPECTED``) fails, *missed* otherwise.

``CXSIM_REFRESH_FACTS=1`` switches off the fact tests' comparison with the
table in ``docs/model.md``: a mutant changes every number, so that check would
fail every test and hide which claims the mutant really breaks.

    python tests/mutants.py [--list] [names...]

Prints a markdown table; exits 1 if any mutation is missed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATCHES = ROOT / "tests" / "mutants"
FACTS = "tests/test_stylised_facts.py"

EXPECTED = {  # mutation -> fact tests that should fail under it
    "symmetric-trust": ["test_the_crossover_decomposed"],
    "churn-memory-zero": ["test_the_crossover_decomposed"],
    "identifiability-influence-inert": ["test_the_exception_from_the_seeds_three_factors_alone"],
    "coaching-bump-zero": ["test_coaching_measured_nps_is_a_rule_and_what_follows_from_it"],
    "floor-clamp-removed": ["test_a_cco_floor_protects_cx_spend_through_a_shock"],
    "culture-cut": ["test_a_cco_lifts_clv_through_culture"],
    "wom-ignores-nps": ["test_relationship_focus_wins_more_by_referral"],
    "presets-equal": ["test_recurring_b2b_sales_lead_early_relationship_wins_later"],
    "labels-swapped": ["test_recurring_b2b_sales_lead_early_relationship_wins_later"],
    "constant-churn": ["test_the_crossover_decomposed"],
    "response-ignores-feeling": ["test_the_delivery_gap_emerges_from_how_firms_listen"],
    "listening-survivors-only": ["test_the_delivery_gap_emerges_from_how_firms_listen"],
}


def patches() -> dict[str, Path]:
    """Mutation name -> its patch, in file order (``NN-name.patch``)."""
    return {p.stem.split("-", 1)[1]: p for p in sorted(PATCHES.glob("[0-9][0-9]-*.patch"))}


def header(patch: Path) -> str:
    """What the mutation breaks: the patch's text before its first ``diff --git``."""
    text = " ".join(patch.read_text().split("diff --git", 1)[0].split())
    return text.split(": ", 1)[-1].replace("|", "/")


def copy_tree(scratch: Path) -> None:
    """The working tree's files, tracked or untracked but not ignored, as they are now."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in names)):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)


def run(patch: Path) -> tuple[list[str], list[str], float]:
    """Apply *patch* in a scratch copy and run the fact tests there: the names of the tests
    that ran and of those that failed (or how pytest broke down), and the seconds taken."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cxsim-mutant-") as folder:
        scratch = Path(folder)
        copy_tree(scratch)
        subprocess.run(["git", "apply", str(patch)], cwd=scratch, check=True)
        env = {**os.environ, "PYTHONPATH": str(scratch), "CXSIM_REFRESH_FACTS": "1"}
        where = subprocess.run([sys.executable, "-c", "import cxsim; print(cxsim.__file__)"],
                               cwd=scratch, env=env, check=True, capture_output=True, text=True)
        assert where.stdout.startswith(str(scratch)), f"cxsim imported from {where.stdout}"
        junit = scratch / "junit.xml"
        pytest = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                 "-n", "2", f"--basetemp={scratch / 'tmp'}",
                                 f"--junitxml={junit}", FACTS],
                                cwd=scratch, env=env, stdout=subprocess.DEVNULL)
        cases = list(ET.parse(junit).iter("testcase")) if junit.is_file() else []
        failed = [case.get("name") for case in cases
                  if case.find("failure") is not None or case.find("error") is not None]
        if pytest.returncode not in (0, 1):  # interrupted, internal error, nothing collected
            failed.append(f"(pytest exit {pytest.returncode})")
    return [case.get("name") for case in cases], failed, time.monotonic() - start


def main() -> int:
    known = patches()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print the mutations' names")
    args = parser.parse_args()
    if args.list:
        print("\n".join(known))
        return 0
    unknown = [name for name in args.names if name not in known]
    if unknown:
        print(f"unknown mutation(s): {', '.join(unknown)}; known: {', '.join(known)}",
              file=sys.stderr)
        return 2
    print("| mutation | what it breaks | expected to fail | failed (all) | verdict | time |")
    print("| --- | --- | --- | --- | --- | --- |")
    missed = 0
    began = time.monotonic()
    for name in args.names or known:
        ran, failed, seconds = run(known[name])
        expected = EXPECTED.get(name, [])
        caught = any(test in failed for test in expected)
        missed += not caught
        named = [test if test in ran else f"{test} (absent)" for test in expected]
        print(f"| {name} | {header(known[name])} | {', '.join(named) or '—'} "
              f"| {', '.join(failed) or 'none'} | {'caught' if caught else 'missed'} "
              f"| {seconds:.0f} s |", flush=True)
    print(f"\n{missed} missed; {time.monotonic() - began:.0f} s in all")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
