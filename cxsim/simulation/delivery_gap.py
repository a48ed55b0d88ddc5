"""The delivery gap: what firms believe of their clients' experience, and what the clients say.

Bain & Company (Allen, Reichheld, Hamilton & Markey 2005, "Closing the delivery
gap", 362 firms): 80% of firms believed they delivered a superior experience,
8% of their customers agreed. Here both views read one benchmark, the mean
over firms of the industry study's NPS over the final year (``nps_market``:
everyone who ever dealt with a firm, current or former, all answering):

- a firm **believes** it is superior when its NPS by its own survey is above it;
- its **clients agree** when its NPS by the industry study is above it.

The two are different measurements only through how each firm listens (who its
survey asks, who answers, which answers are coached), so the gap between the
shares is what listening does, not a rule. A firm whose survey heard no one in
the final year believes nothing.

Beside them, as a description: the share of the study's answers, over all firms,
that come from promoters of the firm asked about (``promoters``): the figure
nearest Bain's "8% of customers", though Bain asked whether the experience was
superior, not whether the customer would recommend.
"""

from __future__ import annotations

import pandas as pd

from cxsim.simulation.results import mean_ci

__all__ = ["BAIN_BELIEVE", "BAIN_AGREE", "believe_and_agree", "delivery_gap"]

BAIN_BELIEVE = 0.80
"""Share of the 362 firms that believed they delivered a superior experience (Bain 2005)."""
BAIN_AGREE = 0.08
"""Share of those firms' customers who said they did (Bain 2005): a share of customers, not of
firms, so the model's share of firms whose clients agree is a different unit."""


def believe_and_agree(summary: pd.DataFrame) -> pd.DataFrame:
    """Per replication: the benchmark and the shares of firms that believe and whose clients
    agree, and the gap (believe minus agree), from the runs' summary tables.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``Results.summary`` rows of one or more replications (``replication``, ``firm``,
        ``nps_measured_final_year``, ``nps_market_final_year``).

    Returns
    -------
    pandas.DataFrame
        One row per replication: ``benchmark``, ``believe``, ``agree``, ``gap`` and
        ``promoters``.
    """
    rows = []
    for replication, firms in summary.groupby("replication", sort=True):
        benchmark = float(firms.nps_market_final_year.mean())
        believe = float((firms.nps_measured_final_year > benchmark).mean())
        agree = float((firms.nps_market_final_year > benchmark).mean())
        answers = firms.nps_market_answers_final_year
        promoters = float((firms.promoter_share_market_final_year * answers).sum()
                          / answers.sum()) if answers.sum() else float("nan")
        rows.append({"replication": replication, "benchmark": benchmark, "believe": believe,
                     "agree": agree, "gap": believe - agree, "promoters": promoters})
    return pd.DataFrame(rows, columns=["replication", "benchmark", "believe", "agree", "gap",
                                       "promoters"])


def delivery_gap(summary: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    """The benchmark, the two shares, the gap and the study's share of promoters over
    replications, each as (mean, 95% CI low, high) (a Student-t interval; NaN bounds with
    one replication)."""
    table = believe_and_agree(summary)
    return {column: mean_ci(table[column].to_numpy(dtype=float))
            for column in ("benchmark", "believe", "agree", "gap", "promoters")}

