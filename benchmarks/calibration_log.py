"""A synthetic transaction log for the calibration benchmark: a million customers buying as
the BG/NBD says, about three million transactions, written as Parquet.

Customers join over the first 12 weeks; while alive each buys at its own Poisson rate
λ ~ Gamma(r, α) (per week) and after each repeat purchase drops out with its own
p ~ Beta(a, b); 78 weeks in all, as CDNOW. The parameters are CDNOW's with a higher
rate, so the log has about three transactions per customer. Each purchase spends
Gamma(p, ν) with ν ~ Gamma(q, γ) per customer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

R, ALPHA, A, B = 0.35, 4.4, 0.8, 2.4  # ALPHA in weeks
P, Q, GAMMA = 6.0, 4.0, 15.0  # Gamma–Gamma spend, CDNOW's order of magnitude
WEEKS = 78


def write_log(path: Path, customers: int = 1_000_000, seed: int = 0) -> int:
    """Write the log to *path*; return its number of transactions."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 84, customers).astype(float)  # days
    rate = rng.gamma(R, 1.0 / ALPHA, customers) / 7.0  # per day
    dropout = rng.beta(A, B, customers)
    nu = rng.gamma(Q, 1.0 / GAMMA, customers)
    who, when = [np.arange(customers)], [first]
    alive, now = np.arange(customers), first.copy()
    while alive.size:
        now = now + rng.exponential(1.0, alive.size) / rate[alive]
        bought = now < WEEKS * 7
        alive, now = alive[bought], now[bought]
        who.append(alive)
        when.append(now)
        stays = rng.random(alive.size) >= dropout[alive]
        alive, now = alive[stays], now[stays]
    customer = np.concatenate(who)
    day = np.floor(np.concatenate(when)).astype("timedelta64[D]")
    log = pd.DataFrame({"customer": customer,
                        "date": np.datetime64("2020-01-01") + day,
                        "amount": np.round(rng.gamma(P, 1.0 / nu[customer]), 2)})
    log.to_parquet(path, index=False)
    return len(log)
