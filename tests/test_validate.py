"""The one validation pass: each file a scenario names is loaded once, and handed on."""

from __future__ import annotations

import pytest

import cxsim
from cxsim import validate
from cxsim.config import to_config
from cxsim.errors import ConfigError
from cxsim.fields import bounds_of, describe
from cxsim.model import cohort
from cxsim.model.journey import Journey
from cxsim.model.network import NetworkConfig, validate_network
from cxsim.simulation.engine import simulate

TINY = ["scenario=solo", "market.size=40", "sim.years=0.1", "network=none",
        "firms.acme.initial_share=0"]


def _with_cohort():
    cfg = to_config(cxsim.compose(TINY))
    cfg.market.cohort = [float(day % 30) for day in range(cfg.market.size)]
    return cfg


def test_load_returns_the_config_journeys_and_cohort():
    loaded = validate.load(_with_cohort())
    assert list(loaded.journeys) == list(loaded.cfg.firms)
    assert all(isinstance(j, Journey) for j in loaded.journeys.values())
    assert loaded.cohort is not None and loaded.cohort.day.size == loaded.cfg.market.size
    assert validate.load(cxsim.compose(TINY[:-1])).cohort is None


def test_a_run_reads_its_cohort_once(monkeypatch):
    reads = []
    real = cohort._read
    monkeypatch.setattr(cohort, "_read", lambda source: reads.append(1) or real(source))
    cfg = _with_cohort()
    first = simulate(cfg)
    assert len(reads) == 1
    loaded = validate.load(cfg)
    again = simulate(cfg, loaded=loaded)  # handed on: nothing read again
    assert len(reads) == 2
    assert first.timeseries.equals(again.timeseries)


def test_the_network_declares_its_bounds_on_its_fields():
    assert str(bounds_of(NetworkConfig, "rewire_probability")) == "[0, 1]"
    assert bounds_of(NetworkConfig, "mean_degree").integer
    assert describe(NetworkConfig, "rewire_probability").endswith("; from 0 to 1")
    with pytest.raises(ConfigError, match=r"^network\.mean_degree must be in \[0, "):
        validate_network(NetworkConfig(kind="complete", mean_degree=-1), 10)
