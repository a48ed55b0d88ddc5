"""A firm: its journey, front-line capacity and budget rules.

The budget rules are pure functions, like the client's equations: the
engine calls them and never re-implements them.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from cxsim.config import Config, FirmConfig
from cxsim.errors import ConfigError
from cxsim.journey import Journey, load_journey

__all__ = ["Firm", "acquisition_hazard", "funding_level", "staff_capacity"]

DAYS_PER_YEAR = 365.25


def acquisition_hazard(
    spend_per_prospect_year: float,
    organic_per_year: float,
    max_paid_per_year: float,
    spend_scale: float,
) -> float:
    """Per-prospect conversion hazard per day bought by acquisition spend.

    ``h = (organic + max_paid * (1 - exp(-spend / scale))) / 365.25``: a
    concave response with diminishing returns, the shape most advertising
    response studies find (Simon & Arndt 1980); ``scale`` is the spend that
    buys 63% of the maximum paid rate.

    References
    ----------
    Simon, J. L. & Arndt, J. (1980). The shape of the advertising response
    function. *Journal of Advertising Research* 20(4), 11-28.
    """
    paid = max_paid_per_year * -math.expm1(-spend_per_prospect_year / spend_scale)
    return (organic_per_year + paid) / DAYS_PER_YEAR


def funding_level(cx_budget_share: float, half_share: float = 0.05) -> float:
    """CX funding level in [0, 1) from the CX budget's share of revenue.

    ``share / (share + half_share)``: half the attainable funding effect at
    ``half_share`` of revenue (5%, a common CX budget; seed 000 asks that the
    strategy be "funded accordingly"), saturating beyond.
    """
    return cx_budget_share / (cx_budget_share + half_share)


def staff_capacity(journey_staff: int, scale: float) -> int:
    """Staff at a touchpoint for a market *scale* times the journey's reference size."""
    return max(1, int(round(journey_staff * scale)))


class Firm:
    """One firm at run time: its config, journey and front-line capacity.

    Parameters
    ----------
    name, cfg : the firm's name and its config entry.
    scenario : the whole scenario (market size for staff scaling).
    journey_dir : where shipped journeys live.
    """

    def __init__(self, name: str, cfg: FirmConfig, scenario: Config, journey_dir: Path) -> None:
        self.name = name
        self.cfg = cfg
        self.journey: Journey = load_journey(cfg.journey, journey_dir)
        scale = scenario.market.size / self.journey.reference_clients if cfg.scale_staff else 1.0
        capacity = np.zeros(self.journey.n_touchpoints, dtype=np.int64)
        for i in np.flatnonzero(self.journey.staffed):
            capacity[i] = staff_capacity(int(self.journey.staff[i]), scale)
        for tp, staff in cfg.staff.items():
            if tp not in self.journey.touchpoints:
                raise ConfigError(
                    f"firms.{name}.staff.{tp}",
                    f"names no touchpoint of journey '{self.journey.name}'",
                )
            i = self.journey.touchpoints.index(tp)
            if not self.journey.staffed[i]:
                raise ConfigError(f"firms.{name}.staff.{tp}", "names an unstaffed touchpoint")
            capacity[i] = staff
        self.capacity = capacity
        self.funding = funding_level(cfg.cx_budget_share)

    def acquisition_hazard(self, scenario: Config) -> float:
        """This firm's per-prospect acquisition hazard per day."""
        m = scenario.market
        return acquisition_hazard(
            self.cfg.acquisition_spend,
            m.organic_acquisition_per_year,
            m.max_paid_acquisition_per_year,
            m.acquisition_spend_scale,
        )
