"""Special cases with known answers: the engine reduced to one mechanism at a time."""

from __future__ import annotations

import numpy as np
import pytest

import cxsim


def within_bound(estimates: np.ndarray, truth: float, relative_bound: float) -> tuple[float, float]:
    """Check |mean - truth| <= 4 SE and 4 SE <= relative_bound * truth; return (mean, 4 SE).

    The SE comes from the replications, so the test is neither flaky (4 SE)
    nor toothless (the 4 SE must fit inside the stated bound).
    """
    estimates = np.asarray(estimates, dtype=float)
    mean = float(estimates.mean())
    four_se = 4.0 * float(estimates.std(ddof=1)) / np.sqrt(estimates.size)
    assert four_se <= relative_bound * abs(truth), (
        f"too few replications: 4 SE = {four_se:.4g} exceeds the bound "
        f"{relative_bound:.1%} of {truth:.4g}")
    assert abs(mean - truth) <= four_se, (
        f"estimate {mean:.5g} differs from the closed form {truth:.5g} by more than "
        f"4 SE = {four_se:.3g}")
    return mean, four_se


def replicate(overrides: list[str], n: int) -> list[cxsim.Results]:
    """Replications 0..n-1 of one composed scenario, side by side (each one's results
    are those of ``cxsim.run(cfg, replication=i)``)."""
    from cxsim.config import to_config
    from cxsim.simulation.experiment import simulated

    return list(simulated(to_config(cxsim.compose(overrides)), n))


@pytest.fixture
def one_touchpoint(tmp_path):
    """Write a one-touchpoint journey and return a function that gives its path."""

    def make(staffed: bool, staff: int = 1, service_days: float = 0.001):
        staff_line = f"    staff: {staff}\n" if staffed else ""
        path = tmp_path / f"single_{'staffed' if staffed else 'self'}_{staff}.yaml"
        path.write_text(
            "name: single\n"
            f"reference_clients: 1\n"
            "entry: desk\n"
            "exits: [desk]\n"
            "touchpoints:\n"
            "  desk:\n"
            "    stage: purchase\n"
            "    channel: web\n"
            f"    staffed: {'true' if staffed else 'false'}\n"
            f"{staff_line}"
            f"    service_days: {service_days}\n"
            "    base_quality: 0.7\n"
            "    failure_probability: 0.0\n"
        )
        return path

    return make
