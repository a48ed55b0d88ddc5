"""Each config field's meaning is declared once, beside its default, and code reads it.

A lever's tooltip on the what-if page is this text: a field declared without a
meaning fails here, not on the page.
"""

from __future__ import annotations

import dataclasses
from typing import get_args, get_type_hints

import pytest

from cxsim import config
from cxsim.config import Config, FirmConfig, SegmentConfig, doc_of
from cxsim.model import network
from cxsim.model.network import NetworkConfig


def sections() -> list[type]:
    """Every config dataclass: those of cxsim.config and cxsim.model.network, and every one a
    scenario holds (through a field, a mapping or an optional), wherever it is defined."""
    found = {obj for module in (config, network) for obj in vars(module).values()
             if isinstance(obj, type) and dataclasses.is_dataclass(obj)
             and obj.__module__ == module.__name__}
    todo = [Config]
    while todo:
        section = todo.pop()
        found.add(section)
        for kind in get_type_hints(section).values():
            todo += [k for k in (kind, *get_args(kind)) if dataclasses.is_dataclass(k)
                     and k not in found]
    return sorted(found, key=lambda s: s.__name__)


def test_the_sections_include_those_a_scenario_holds_and_the_hydra_schema():
    names = {s.__name__ for s in sections()}
    assert {"Config", "MarketConfig", "SegmentConfig", "PurchaseRateConfig", "DropoutConfig",
            "SpendConfig", "FirmConfig", "NetworkConfig", "PsychologyConfig", "SimConfig",
            "ManagementConfig", "EventConfig", "ExperimentConfig", "_Schema",
            "_OpenMarket"} <= names


@pytest.mark.parametrize("section", sections(), ids=lambda s: s.__name__)
def test_every_field_declares_its_meaning(section):
    missing = [f.name for f in dataclasses.fields(section) if not doc_of(section, f.name).strip()]
    assert missing == []


def test_doc_of_gives_the_meaning_declared_beside_the_default():
    assert doc_of(FirmConfig, "price_level") == "multiplies the segment's order value"
    assert doc_of(FirmConfig, "initial_share") == (
        "share of the market already its clients at day 0")
    assert doc_of(SegmentConfig, "needs") == (
        'seed 001 "what core clients always want"; weights summing to 1')
    assert doc_of(config.SimConfig, "discount_rate").endswith(
        "and 1 + d - 1 must not round to 0)")  # a comment's continuation lines, joined
    assert doc_of(NetworkConfig, "mean_degree") == (
        "ties per client: k=10 of Watts & Strogatz (1998); Dunbar layers 5-15")
    assert doc_of(config._Schema, "firms") == doc_of(Config, "firms")


def test_doc_of_refuses_a_setting_the_section_lacks():
    with pytest.raises(KeyError, match="price_levle"):
        doc_of(FirmConfig, "price_levle")


def test_a_field_without_a_meaning_has_an_empty_doc():
    @dataclasses.dataclass
    class Bare:
        x: int = 1

    assert doc_of(Bare, "x") == ""


def test_declaring_a_meaning_keeps_the_default_and_the_bounds():
    @dataclasses.dataclass
    class Declared:
        share: float = config.within(0.3, "(0, 1]", doc="a share")
        names: dict[str, int] = config.described(default_factory=lambda: {"a": 1}, doc="names")
        flag: bool = config.described(True, doc="a flag")

    one, two = Declared(), Declared()
    assert (one.share, one.names, one.flag) == (0.3, {"a": 1}, True)
    assert one.names is not two.names  # a mutable default is made afresh
    assert str(config.bounds_of(Declared, "share")) == "(0, 1]"
    assert config.bounds_of(Declared, "flag") is None
    assert [doc_of(Declared, n) for n in ("share", "names", "flag")] == [
        "a share", "names", "a flag"]


@pytest.mark.parametrize(("interval", "words"), [
    ("(0, 100]", "from 0 (excluded) to 100"),
    ("[0, 1)", "from 0 to 1 (excluded)"),
    ("(-1, 1)", "from -1 (excluded) to 1 (excluded)"),
    ("[0.0001, 10]", "from 0.0001 to 10"),
    ("(0, 36525]", "from 0 (excluded) to 36,525"),
    ("[0, 1e9]", "from 0 to 1,000,000,000"),
    ("[1, 100000] integer", "a whole number from 1 to 100,000"),
])
def test_bounds_in_words_say_each_end_open_or_closed(interval, words):
    assert config.Bounds.parse(interval).in_words() == words


def test_describe_gives_a_levers_meaning_and_its_range_from_one_declaration():
    assert config.describe(FirmConfig, "price_level") == (
        "multiplies the segment's order value; from 0 (excluded) to 100")
    assert config.describe(config.MarketConfig, "size") == (
        "clients; small enough for a demo in seconds; a whole number from 1 to "
        f"{config.MAX_CLIENTS:,}")
    assert config.describe(Config, "seed") == (
        "root of all random streams; a whole number from 0 to 9,223,372,036,854,775,807")
    assert config.describe(SegmentConfig, "mean_days_between_needs") == (
        doc_of(SegmentConfig, "mean_days_between_needs") + "; from 0 (excluded) to 36,525")
    assert config.describe(FirmConfig, "strategy") == "preset in configs/strategy/"  # no range
    assert config.describe(NetworkConfig, "path") == doc_of(NetworkConfig, "path")
    with pytest.raises(KeyError):
        config.describe(FirmConfig, "price_levle")
