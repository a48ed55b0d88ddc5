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


def write_journey(directory: Path, name: str, text: str) -> Path:
    """Write a journey map into *directory* and return its path."""
    path = directory / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    return path
