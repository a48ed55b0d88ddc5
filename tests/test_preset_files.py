"""A market preset named by its file (``market=~/mine.yaml``), as a journey can be: what
``cxsim-calibrate --out`` wrote anywhere runs without copying it into ``configs/``."""

from __future__ import annotations

import shutil

import pytest
import yaml

import cxsim
from cxsim.config import config_dir
from cxsim.errors import ConfigError
from tests.test_bad_input import _cxsim

TINY = ["market.size=200", "sim.years=0.1"]


@pytest.fixture
def mine(tmp_path):
    """A market preset outside ``configs/``: the CDNOW fit under another label."""
    data = yaml.safe_load((config_dir() / "market" / "cdnow.yaml").read_text())
    data["label"] = "customers of mine"
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_preset_named_by_its_file_is_composed_and_later_overrides_win(mine) -> None:
    cfg = cxsim.compose([f"market={mine}", "market.size=123"])
    assert cfg.market.label == "customers of mine" and cfg.market.size == 123
    shipped = cxsim.compose(["market=cdnow", "market.size=123"])
    assert cfg.market.segments == shipped.market.segments  # the fitted segments, as written


def test_a_shipped_preset_named_by_its_file_is_that_preset() -> None:
    path = config_dir() / "market" / "recurring_b2b.yaml"
    assert cxsim.compose([f"market={path}"]) == cxsim.compose(["market=recurring_b2b"])


@pytest.mark.parametrize(("name", "rule"), [
    ("missing", "names no market preset file"),
    ("clash", "names a file called like the shipped market preset 'cdnow': rename the file"),
])
def test_a_bad_preset_file_is_one_line(tmp_path, name, rule) -> None:
    path = tmp_path / ("nope.yaml" if name == "missing" else "cdnow.yaml")
    if name == "clash":
        shutil.copy(config_dir() / "market" / "default.yaml", path)
    with pytest.raises(ConfigError, match=rule) as caught:
        cxsim.compose([f"market={path}"])
    assert "\n" not in str(caught.value) and f"market={path}" in str(caught.value)


def test_two_files_of_one_name_in_one_sweep_are_refused_one_after_the_other_not(
        tmp_path, mine) -> None:
    other = tmp_path / "elsewhere" / "mine.yaml"
    other.parent.mkdir()
    data = yaml.safe_load(mine.read_text())
    other.write_text(yaml.safe_dump({**data, "label": "the other one"}, sort_keys=False))
    with pytest.raises(ConfigError, match="a second market preset file called 'mine'"):
        cxsim.compose([f"market={mine},{other}"])
    assert cxsim.compose([f"market={mine}"]).market.label == "customers of mine"
    assert cxsim.compose([f"market={other}"]).market.label == "the other one"


def test_the_command_runs_a_preset_file_and_refuses_a_missing_one(tmp_path, mine) -> None:
    done = _cxsim(["market=mine.yaml", *TINY], cwd=mine.parent)
    assert done.returncode == 0, done.stderr
    saved = next((mine.parent / "outputs").glob("*/*/config.yaml"))
    assert yaml.safe_load(saved.read_text())["market"]["label"] == "customers of mine"
    bad = _cxsim(["market=gone.yaml", *TINY], cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "names no market preset file" in bad.stderr


def test_composing_from_several_threads_at_once_gives_what_one_at_a_time_gives(mine) -> None:
    """The studio composes a what-if ahead in a thread while a page may compose another;
    Hydra's state is global, so without a lock a second compose meets the first's."""
    from concurrent.futures import ThreadPoolExecutor

    from omegaconf import OmegaConf

    sets = [[f"market.size={100 + i}", f"sim.years={1 + i % 3}",
             f"market={('recurring_b2b', 'one_off_consumer', mine)[i % 3]}"] for i in range(12)]
    alone = [OmegaConf.to_yaml(cxsim.compose(overrides)) for overrides in sets]
    for _ in range(3):
        with ThreadPoolExecutor(6) as pool:
            together = list(pool.map(lambda o: OmegaConf.to_yaml(cxsim.compose(o)), sets))
        assert together == alone
