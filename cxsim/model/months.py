"""The run's months: when each is sampled, which month a day falls in, and what the shocks
of ``events`` do to each.

Every room of the engine books, samples and scales by month; one grid keeps
them agreeing on where a month ends (``sim.days_per_month``) and on the last
month being cut at the horizon.
"""

from __future__ import annotations

import math

import numpy as np

from cxsim.config import DAYS_PER_YEAR, Config

__all__ = ["Months"]


class Months:
    """Month grid of one run, and the per-month factors of its shocks.

    ``order_factor[m]`` multiplies order values in month *m*, ``need_slowdown[m]``
    the gaps between needs that start in it; ``workshops`` lists
    ``(start month, event)`` of the workshop events.
    """

    def __init__(self, cfg: Config) -> None:
        self.days = cfg.sim.days_per_month
        self.horizon = cfg.sim.years * DAYS_PER_YEAR
        self.warmup = cfg.sim.warmup_years * DAYS_PER_YEAR
        self.n = max(1, math.ceil(self.horizon / self.days - 1e-9))
        self.order_factor = np.ones(self.n)
        need_factor = np.ones(self.n)
        self.workshops: list[tuple[int, object]] = []
        for event in cfg.events.values():
            if event.kind == "shock":
                months = slice(event.start_month, event.start_month + event.months)
                self.order_factor[months] *= event.order_value_factor
                need_factor[months] *= event.need_rate_factor
            else:
                self.workshops.append((event.start_month, event))
        self.need_slowdown = 1.0 / need_factor
        self.shocked = bool((need_factor != 1.0).any())

    def of(self, t: float) -> int:
        """The month day *t* falls in (the last month holds the horizon)."""
        return min(int(t // self.days), self.n - 1)

    def index(self, t: np.ndarray) -> np.ndarray:
        """:meth:`of` for an array of days."""
        return np.minimum((t // self.days).astype(np.int64), self.n - 1)

    def sample_time(self, month: int) -> float:
        """When month *month*'s sample is taken: its end, or the horizon."""
        return min((month + 1) * self.days, self.horizon)

    def next_sample(self, day: float) -> float:
        """When the first sample after the start of *day* is taken (a sample at the day's
        start was taken before it)."""
        month = int(day // self.days)
        if self.sample_time(month) <= day:
            month += 1
        return self.sample_time(month)
