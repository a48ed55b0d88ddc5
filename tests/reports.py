"""What the report tests share: a small finished duel, and the same duel under hostile names."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

import cxsim
from cxsim.simulation.results import Results

HOSTILE = ("<img src=x onerror=alert(1)>", "</script><script>alert(1)</script>")


@cache
def duel() -> Results:
    """Three replications of a small duel combined as ``cxsim`` combines a job's runs."""
    cfg = cxsim.compose(["market.size=600", "sim.years=2"])
    runs = [cxsim.run(cfg, replication=i) for i in range(3)]
    tables = {name: pd.concat([getattr(r, name) for r in runs], ignore_index=True)
              for name in ("timeseries", "segments", "clients", "touchpoints", "summary")}
    return Results(**tables, meta=runs[0].meta, config=runs[0].config)


def hostile(results: Results, touchpoint: str | None = None) -> Results:
    """*results* with its two firms (keys and display names) and *touchpoint*, if given,
    named ``HOSTILE``."""
    firms = {"sales_first": HOSTILE[0], "client_first": HOSTILE[1]}
    touchpoints = results.touchpoints.replace({"firm": firms})
    if touchpoint is not None:
        touchpoints = touchpoints.assign(touchpoint=np.where(
            touchpoints.touchpoint == touchpoint, HOSTILE[0], touchpoints.touchpoint))
    return Results(
        **{name: getattr(results, name).replace({"firm": firms})
           for name in ("timeseries", "segments", "clients", "summary")},
        touchpoints=touchpoints, meta=results.meta,
        config={**results.config, "firms": {firms[k]: {**v, "label": firms[k]}
                                            for k, v in results.config["firms"].items()}})
