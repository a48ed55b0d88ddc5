"""cxsim.results.crossover_month: the month from which the paired CI stays above 0."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cxsim.results import crossover_month

# four replications' offsets around the mean: mean 0, sample std 0.1, so a mean
# of +-1 is far from 0 at any usual level and a mean of 0 has its CI across 0
_OFFSETS = np.array([-3.0, -1.0, 1.0, 3.0])
SPREAD = (0.1 * _OFFSETS / _OFFSETS.std(ddof=1))[:, None]


def paired(means) -> np.ndarray:
    """One row per replication, one column per month, with the given mean per month."""
    return np.asarray(means, dtype=float)[None, :] + SPREAD


def test_spread_is_what_the_cases_assume():
    rows = paired([0.0, 1.0])
    assert rows.shape == (4, 2)
    assert np.allclose(rows.mean(axis=0), [0.0, 1.0])
    assert np.allclose(rows.std(axis=0, ddof=1), 0.1)


@pytest.mark.parametrize(("means", "month"), [
    ([-1, -1, -1, -1, -1, 1, 1, 1, 1], 5),          # crosses once
    ([-1, -1, 1, 1, -1, -1, 1, 1, 1], 6),           # twice up: the last crossing counts
    ([-1, -1, 1, 1, 1, 1, -1, -1, 1], 8),           # up, down, up only in the last month
    ([1, 1, 1, 1], 0),                              # above from the first month
    ([-1, -1, -1, -1], None),                       # never
    ([-1, -1, 1, 1, 1, -1], None),                  # crosses, then falls back by the horizon
    ([-1, 1, 1, 0, 1, 1], 4),                       # the mean touches 0: the CI spans 0 there
    ([-1, 1, 1, 1, 1, 0], None),                    # ... in the last month
])
def test_month_from_which_the_lower_bound_stays_above_zero(means, month):
    assert crossover_month(paired(means)) == month


def test_a_lower_bound_exactly_zero_is_not_above():
    """Touching 0 is not being above it: the bound must be strictly positive."""
    same = np.tile([1.0, 1.0, 0.0, 1.0, 1.0], (3, 1))  # no spread: the bound is the mean
    assert crossover_month(same) == 3
    assert crossover_month(np.tile([1.0, 1.0, 1.0, 0.0], (3, 1))) is None


def test_the_interval_comes_from_the_spread_across_replications():
    """Same means, different spreads: only the narrow spread crosses."""
    means = np.array([-0.5, 0.05, 0.05, 0.05])
    narrow = means[None, :] + SPREAD * 0.1  # sample std 0.01: lower bound > 0
    wide = means[None, :] + SPREAD  # sample std 0.1: the CI spans 0
    assert crossover_month(narrow) == 1
    assert crossover_month(wide) is None


def test_the_level_sets_the_interval():
    """Mean 0.1, sample std 0.1, 4 replications (t = 2): above 0 at 80%, not at 90%."""
    rows = paired([-1.0, 0.1, 0.1])
    t = 0.1 / (0.1 / np.sqrt(4))
    assert stats.t.ppf(0.90, 3) < t < stats.t.ppf(0.95, 3)
    assert crossover_month(rows, level=0.80) == 1
    assert crossover_month(rows, level=0.90) is None
    assert crossover_month(rows) is None  # 95% by default


def test_rows_are_replications_and_columns_months():
    """Transposing the input changes the answer: the CI is taken down each column."""
    rows = np.array([[-1.0, 1.0, 1.0], [-1.2, 1.1, 0.9], [-0.8, 0.9, 1.1]])
    assert crossover_month(rows) == 1
    assert crossover_month(rows.T) is None  # three "months" of mixed sign
    assert crossover_month(rows.tolist()) == 1  # any array-like


def test_paired_differences_not_the_firms_separately():
    """Common random numbers: the spread of each firm is wide, that of the difference narrow."""
    rng = np.random.default_rng(1)
    common = rng.normal(0.0, 1.0, size=(8, 6))  # shared by both firms in each replication
    a = 0.5 + common + rng.normal(0.0, 0.01, size=(8, 6))
    b = 0.3 + common + rng.normal(0.0, 0.01, size=(8, 6))
    assert crossover_month(a - b) == 0


def test_one_replication_has_no_interval_and_no_crossover():
    assert crossover_month(np.array([[1.0, 1.0, 1.0]])) is None
