"""The documents name what the code has: a name or path that moved fails here, not in a reader.

Checked: every dotted ``cxsim.…`` name in the README, ``docs/`` and the
package's own docstrings and templates resolves to a module, attribute or
dataclass field; every ``module.name`` in backticks whose module is a
cxsim module (and not a config group of the same name) resolves; every
repository path in backticks exists; every file in ``docs/model.md``'s
table of modules exists.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest

import cxsim
from cxsim.config import Config

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGE = ROOT / "cxsim"
SOURCES = [*sorted(PACKAGE.rglob("*.py")), *sorted(PACKAGE.rglob("*.j2"))]
NOT_NAMES = {"cxsim.job"}  # an OmegaConf resolver's name (cxsim/cli.py), not an attribute
DOTTED = re.compile(r"(?<![\w./-])cxsim(?:\.[A-Za-z_]\w*)+")
LAYERS = ["", "model.", "simulation.", "data."]  # cxsim's flat modules and its layer folders
MODULES = {path.stem: f"cxsim.{layer}{path.stem}" for layer in LAYERS
           for path in (PACKAGE / layer.rstrip(".")).glob("*.py")
           if path.stem not in {"__init__", "__main__"}}
CONFIG_GROUPS = {field.name for field in dataclasses.fields(Config)}
MODULE_NAME = re.compile(r"`(" + "|".join(sorted(MODULES.keys() - CONFIG_GROUPS))
                         + r")\.([A-Za-z_]\w*)`")
EXTENSIONS = {"py", "yaml", "csv", "json", "md", "html", "parquet"}  # `config.yaml` is a file
PATH = re.compile(r"`((?:cxsim|tests|benchmarks|experiments|configs|docs)/[\w./-]+)`")


def resolves(name: str) -> bool:
    """Import the longest module prefix of *name*, then follow attributes and dataclass fields."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            thing = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            fields = getattr(thing, "__dataclass_fields__", {})
            if hasattr(thing, part):
                thing = getattr(thing, part)
            elif part in fields:
                thing = fields[part]
            else:
                return False
        return True
    return False


def named(paths: list[Path], pattern: re.Pattern) -> list[tuple[str, str]]:
    return sorted({(str(path.relative_to(ROOT)), match.group(0).rstrip("."))
                   for path in paths for match in pattern.finditer(path.read_text())})


@pytest.mark.parametrize("where, name", named(DOCUMENTS + SOURCES, DOTTED))
def test_every_dotted_cxsim_name_resolves(where, name):
    assert name in NOT_NAMES or resolves(name), f"{where} names {name}, which cxsim does not have"


def test_module_names_in_the_documents_resolve():
    missing = [(str(path.relative_to(ROOT)), f"{module}.{name}") for path in DOCUMENTS
               for module, name in MODULE_NAME.findall(path.read_text())
               if name not in EXTENSIONS and not resolves(f"{MODULES[module]}.{name}")]
    assert not missing, f"documents name what cxsim does not have: {missing}"


def test_paths_in_the_documents_exist():
    missing = [(str(path.relative_to(ROOT)), found) for path in DOCUMENTS
               for found in PATH.findall(path.read_text()) if not (ROOT / found).exists()]
    assert not missing, f"documents name paths that do not exist: {missing}"


def test_the_module_table_names_files_that_exist():
    text = (ROOT / "docs" / "model.md").read_text()
    table = text[text.index("| module | holds |"):text.index("\n\n", text.index("| module |"))]
    files = re.findall(r"`([\w/]+(?:\.py|/))`", table)
    assert len(files) > 10
    missing = [name for name in files if not (PACKAGE / name).exists()]
    assert not missing, f"docs/model.md's table of modules names missing files: {missing}"


def test_the_checks_catch_a_wrong_name():
    """Negative control: a name that does not exist does not resolve."""
    assert resolves("cxsim.simulation.results.crossover")
    assert resolves("cxsim.simulation.results.Results.touchpoints")
    assert not resolves("cxsim.simulation.results.crossing") and not resolves("cxsim.nowhere.thing")
    assert cxsim.run


def test_the_changing_a_mechanism_example_applies_and_touches_three_source_files():
    """docs/model.md §11's example, kept as a patch: it applies to today's tree, and besides
    the YAML mirror of its setting it changes the rule, its setting and its test alone."""
    import subprocess

    patch = ROOT / "docs" / "examples" / "word-of-mouth-from-trust.patch"
    done = subprocess.run(["git", "apply", "--check", str(patch)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    files = re.findall(r"^\+\+\+ b/(\S+)", patch.read_text(), flags=re.M)
    source = [name for name in files if not name.startswith(("configs/", "docs/"))]
    assert source == ["cxsim/model/psychology.py", "cxsim/schema.py", "tests/test_psychology.py"]


@pytest.mark.parametrize("patch", sorted((ROOT / "tests" / "mutants").glob("*.patch")),
                         ids=lambda path: path.stem)
def test_every_mutation_still_applies_to_the_tree(patch):
    """``make mutants`` breaks each mechanism with a patch: one that no longer applies would
    report the mechanism as caught by nothing, silently."""
    import subprocess

    done = subprocess.run(["git", "apply", "--check", str(patch)], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
