"""Replications and paired comparisons: how sure are we, and what does a lever change?

One run of a stochastic model proves nothing. :func:`replicate` runs
replications 0..n-1 of a scenario (replication i on the root
``SeedSequence(seed, spawn_key=(i,))``, as :func:`cxsim.run` does) and returns
an :class:`Ensemble` with Student-t intervals across replications.
:func:`compare` runs two scenarios on common random numbers and returns a
:class:`Comparison` of their paired differences.

Replications of a small market run side by side, several in one engine
(``cxsim.simulation.engine.Engine``: the day's work is paid once for all of them), and
in worker processes when ``workers > 1``. Each one depends only on its
config and its index, whichever engine and process it runs in, and results
are kept in replication order, so the numbers never depend on ``workers``.

This is the one runner of replications: pages, the calibration and the
commands reach the engine through it. :func:`stream` hands the same jobs to a
caller's own processes (the studio's warm workers) and yields the ensembles of
the replications finished so far, so a page shows an interval early.
"""

from __future__ import annotations

import functools
import math
import multiprocessing
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from scipy.special import stdtrit
from tqdm import tqdm

from cxsim.config import Config, to_config
from cxsim.errors import ConfigError
from cxsim.simulation.results import Results, mean_ci, monthly_band

__all__ = ["BATCH_CLIENTS", "BATCH_REPLICATIONS", "FIRST_PAIRS", "Ensemble", "Comparison",
           "Run", "Job", "Done", "chunks", "pair_chunks", "run_job", "simulated", "execute",
           "stream", "compare_stream", "ensemble_of", "replicate", "replicate_each", "compare"]

_IDS = ("run_id", "seed", "replication", "config_hash")
"""Columns every result row carries: they identify a run, they are not metrics."""
_LEVEL = 0.95
BATCH_CLIENTS = 40_000
"""Most clients one engine holds for replications side by side: at 2,000 clients, 20
replications share each day's work; a chunk's arrays stay tens of megabytes (docs/scaling.md)."""
BATCH_REPLICATIONS = 64
"""Most replications side by side in one engine, whatever the market's size: each has its
own prospect pool (a Python loop per day, and one clock entry per client of the engine)."""
FIRST_PAIRS = 2
"""Replications in the first chunk of an answer that streams: the fewest that give an interval."""


@dataclass
class Ensemble:
    """Replications of one scenario: their summaries, timeseries and touchpoints, concatenated.

    ``summary`` has one row per replication and firm, ``timeseries`` one row
    per replication, firm and month, ``touchpoints`` one row per replication,
    firm and touchpoint (what the journey maps of a report draw; None where
    they were not kept); all carry the ``replication`` column.
    """

    summary: pd.DataFrame
    timeseries: pd.DataFrame
    touchpoints: pd.DataFrame | None = None

    @property
    def n(self) -> int:
        """Number of replications."""
        return int(self.summary["replication"].nunique())

    def metrics(self) -> list[str]:
        """Numeric summary columns, less run identifiers and per-run interval bounds.

        A run's own CI bounds (``*_ci_low``, ``*_ci_high``) describe one run's
        spread, not a quantity to average across runs.
        """
        numeric = self.summary.select_dtypes("number").columns
        return [c for c in numeric
                if c not in _IDS and not c.endswith(("_ci_low", "_ci_high"))]

    def table(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Per firm and metric: mean over replications, 95% Student-t CI and n.

        Replications where a metric is not finite (e.g. NPS with no answers)
        are left out of it; ``n`` counts the replications used.
        """
        metrics = _checked(metrics, self.metrics())
        rows = []
        for firm, runs in self.summary.groupby("firm", sort=False):
            for metric in metrics:
                values = _finite(runs[metric])
                mean, low, high = mean_ci(values, _LEVEL)
                rows.append({"firm": firm, "metric": metric, "mean": mean, "ci_low": low,
                             "ci_high": high, "n": values.size})
        return pd.DataFrame(rows, columns=["firm", "metric", "mean", "ci_low", "ci_high", "n"])

    def timeseries_ci(self, metric: str) -> pd.DataFrame:
        """Per firm and month: mean of *metric* over replications with its 95% CI band."""
        (metric,) = _checked([metric], list(self.timeseries.select_dtypes("number").columns))
        return monthly_band(self.timeseries, metric, level=_LEVEL)


@dataclass
class Comparison:
    """Scenarios *a* and *b* run on common random numbers (see :func:`compare`)."""

    a: Ensemble
    b: Ensemble

    def table(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Paired differences b - a per firm and metric, with 95% CIs.

        Columns: ``firm``, ``metric``, ``mean_a``, ``mean_b``, ``diff`` (mean of
        b - a), ``ci_low`` and ``ci_high`` (Student-t over the pairs, n - 1
        degrees of freedom), ``ci_width_paired``, ``ci_width_independent``,
        ``variance_reduction`` and ``n`` (pairs where both values are finite).

        ``ci_width_independent`` is the width of the two-sample interval the
        same numbers of runs would give on independent streams, estimated
        from these runs without extra ones: Var_indep = Var(a) + Var(b), with
        2n - 2 degrees of freedom. ``variance_reduction`` is
        1 - Var(b - a) / Var_indep: 0 means pairing did not help, 1 means the
        noise cancelled completely (NaN when both scenarios have no spread).
        """
        shared = [m for m in self.a.metrics() if m in set(self.b.metrics())]
        metrics = _checked(metrics, shared)
        pairs = self.a.summary.merge(self.b.summary, on=["replication", "firm"],
                                     suffixes=("_a", "_b"), sort=False)
        rows = []
        for firm, runs in pairs.groupby("firm", sort=False):
            for metric in metrics:
                a = runs[f"{metric}_a"].to_numpy(dtype=float)
                b = runs[f"{metric}_b"].to_numpy(dtype=float)
                keep = np.isfinite(a) & np.isfinite(b)
                rows.append({"firm": firm, "metric": metric, **_paired(a[keep], b[keep])})
        columns = ["firm", "metric", "mean_a", "mean_b", "diff", "ci_low", "ci_high",
                   "ci_width_paired", "ci_width_independent", "variance_reduction", "n"]
        return pd.DataFrame(rows, columns=columns)


def replicate(cfg: Config | DictConfig, n: int, workers: int = 1,
              progress: bool = True) -> Ensemble:
    """Run replications 0..n-1 of *cfg* and return their :class:`Ensemble`.

    Replication i is ``cxsim.run(cfg, replication=i)``, so ``replicate(cfg, 1)``
    holds the summary and timeseries of ``run(cfg)``. With ``workers > 1`` the
    replications run in that many processes, started with ``spawn`` so they
    behave alike on every platform (a script that calls this needs the
    ``if __name__ == "__main__":`` guard); the results do not depend on it.
    *progress* shows a bar over replications on stderr.
    """
    return replicate_each([cfg], n, workers, progress)[0]


def replicate_each(cfgs: Sequence[Config | DictConfig], n: int, workers: int = 1,
                   progress: bool = True) -> list[Ensemble]:
    """:func:`replicate` for each of *cfgs*, on one set of *workers*: a caller with several
    scenarios pays the processes' start once (each imports cxsim), and their replications
    keep both cores busy to the end."""
    _check_counts(n, workers)
    return [ensemble_of(runs)
            for runs in _run_all([to_config(cfg) for cfg in cfgs], n, workers, progress)]


def compare(cfg_a: Config | DictConfig, cfg_b: Config | DictConfig, n: int, workers: int = 1,
            progress: bool = True) -> Comparison:
    """Run *n* replications of scenarios a and b on common random numbers.

    Replication i of both scenarios starts from the same root seed,
    ``SeedSequence(seed, spawn_key=(i,))``, so both seeds must be equal.
    What the two scenarios share:

    * drawn once at the start (``cxsim.streams.STREAMS``), and so identical
      when both have the same market and network settings: the clients'
      segments, which clients each firm starts with, the social network;
    * drawn as the run goes, keyed by client and event, not by the order of
      events (``cxsim.streams``): a walk's need gap, times, routes,
      perceptions, failures, churn draw, NPS noise, survey, word of mouth
      and switch choice come from its client and walk number; a prospect's
      acquisition threshold and choice from its client and pool entry; a
      return from its client and month. A client whose path the lever
      leaves alone draws the same numbers in both runs; a client the lever
      moves (it walks at another firm, churns at another walk) draws fresh
      numbers from then on, and only it does.

    How much pairing helped is measured, not assumed: see
    ``variance_reduction`` in :meth:`Comparison.table` (Var_paired =
    Var(b - a) against Var_indep = Var(a) + Var(b), estimated from the same
    runs, so it needs no extra ones). Firms are paired by name, so both scenarios
    must hold the same firms (a firm in one only has nothing to be compared with: once it
    was left out silently, and two scenarios with no firm in common gave an empty table).
    """
    _check_counts(n, workers)
    a, b = to_config(cfg_a), to_config(cfg_b)
    if a.seed != b.seed:
        raise ConfigError("seed", "must be the same in both scenarios of a paired comparison "
                          "(common random numbers)", (a.seed, b.seed))
    if set(a.firms) != set(b.firms):
        only_a, only_b = sorted(set(a.firms) - set(b.firms)), sorted(set(b.firms) - set(a.firms))
        raise ConfigError("firms", "must be the same in both scenarios of a paired comparison "
                          f"(only in a: {', '.join(only_a) or 'none'}; only in b: "
                          f"{', '.join(only_b) or 'none'})")
    return Comparison(*(ensemble_of(runs) for runs in _run_all([a, b], n, workers, progress)))


# ------------------------------------------------------------------ running
Run = tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]
"""One replication as an :class:`Ensemble` keeps it: its summary, timeseries and touchpoints."""
Job = tuple[Hashable, Config, list[int]]
"""A chunk of one scenario's replications, run side by side in one engine, and the scenario's
label (what a worker process is handed)."""
Done = tuple[Hashable, list[int], list[Run]]
"""A job's label and replications with their runs, in the replications' order."""


def chunks(cfg: Config, replications: Sequence[int], workers: int) -> list[list[int]]:
    """*replications* cut into the chunks one engine each runs side by side: at most
    :data:`BATCH_CLIENTS` clients and :data:`BATCH_REPLICATIONS` replications per engine,
    and enough chunks to keep *workers* busy."""
    replications = list(replications)
    size = max(1, min(BATCH_CLIENTS // cfg.market.size, BATCH_REPLICATIONS,
                      math.ceil(len(replications) / workers)))
    return [replications[k:k + size] for k in range(0, len(replications), size)]


def pair_chunks(n: int, workers: int) -> list[list[int]]:
    """Replications 0..n-1 in chunks for an answer that streams (:func:`stream`): first
    :data:`FIRST_PAIRS`, so a first interval comes soon, then enough to keep *workers* busy
    (each chunk runs once per scenario)."""
    first = list(range(min(FIRST_PAIRS, n)))
    rest = list(range(len(first), n))
    size = max(1, math.ceil(len(rest) / max(1, workers // 2) / 2)) if rest else 1
    return [first] + [rest[k:k + size] for k in range(0, len(rest), size)]


def run_job(job: Job) -> Done:
    """Run one :data:`Job`: the only place replications reach the engine for an ensemble,
    in this process or in a worker's."""
    from cxsim.simulation.engine import simulate_replications

    label, cfg, replications = job
    runs = simulate_replications(cfg, replications)
    return label, replications, [(r.summary, r.timeseries, r.touchpoints) for r in runs]


def simulated(cfg: Config, n: int | Sequence[int],
              progress: Callable[[int, int, float], None] | None = None) -> Iterator[Results]:
    """Every table of replications 0..n-1 of *cfg* (or of the replications *n* lists), in
    order, a chunk at a time: for callers that read more of a run than an :class:`Ensemble`
    keeps (a calibration's journeys, a check's visits, a job's saved tables). *progress*
    gets the replications done before the running chunk, its size and its simulated day."""
    from cxsim.simulation.engine import simulate_replications

    done = 0
    for chunk in chunks(cfg, range(n) if isinstance(n, int) else n, 1):
        tick = None if progress is None else functools.partial(progress, done, len(chunk))
        yield from simulate_replications(cfg, chunk, progress=tick)
        done += len(chunk)


def execute(jobs: list[Job], workers: int) -> Iterator[Done]:
    """Each job's :data:`Done` as it finishes: in this process when *workers* is 1, else in
    that many processes started with ``spawn`` (a configuration error stops the rest)."""
    if workers == 1:
        yield from map(run_job, jobs)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context) as pool:
        futures = [pool.submit(run_job, job) for job in jobs]
        for future in as_completed(futures):
            try:
                yield future.result()
            except ConfigError:
                pool.shutdown(wait=False, cancel_futures=True)
                raise


def _run_all(scenarios: list[Config], n: int, workers: int, progress: bool
             ) -> list[list[Run]]:
    """Replications 0..n-1 of each scenario, in chunks (:func:`chunks`); per scenario,
    the runs in replication order."""
    jobs = [(k, cfg, chunk) for k, cfg in enumerate(scenarios)
            for chunk in chunks(cfg, range(n), workers)]
    out: list[list] = [[None] * n for _ in scenarios]
    with tqdm(total=n * len(scenarios), unit="run", desc="replications", file=sys.stderr,
              disable=not progress) as bar:
        for k, chunk, runs in execute(jobs, workers):
            out[k][chunk[0]:chunk[-1] + 1] = runs
            bar.update(len(chunk))
    return out


def stream(scenarios: dict[str, Config], n: int,
           run: Callable[[list[Job]], Iterable[Done]], workers: int
           ) -> Iterator[dict[str, Ensemble]]:
    """Each scenario's ensemble of the replications finished in all of them so far (the
    pairs, for two), each time more finish: for a page that shows an interval early and
    narrows it. *run* executes the jobs (:func:`pair_chunks` of *workers*) and yields each
    as it finishes, e.g. on warm worker processes; when it stops early, so does this."""
    jobs = [(label, cfg, chunk) for chunk in pair_chunks(n, workers)
            for label, cfg in scenarios.items()]
    finished: dict[str, dict[int, Run]] = {label: {} for label in scenarios}
    complete = 0
    for label, chunk, runs in run(jobs):
        finished[label].update(zip(chunk, runs))
        ready = sorted(set.intersection(*(set(done) for done in finished.values())))
        if len(ready) > complete:
            complete = len(ready)
            yield {label: ensemble_of([runs[r] for r in ready])
                   for label, runs in finished.items()}


def compare_stream(cfg_a: Config, cfg_b: Config, n: int,
                   run: Callable[[list[Job]], Iterable[Done]], workers: int
                   ) -> Iterator[Comparison]:
    """:func:`stream` of scenarios a and b, as the comparison of the pairs finished so far:
    it ends equal to :func:`compare`'s (every replication depends only on its config and
    index)."""
    for ensembles in stream({"a": cfg_a, "b": cfg_b}, n, run, workers):
        yield Comparison(ensembles["a"], ensembles["b"])


def ensemble_of(runs: list[tuple[pd.DataFrame, ...]]) -> Ensemble:
    """The :class:`Ensemble` of runs given as (summary, timeseries) or (summary, timeseries,
    touchpoints), in their order."""
    tables = [pd.concat(frames, ignore_index=True) for frames in zip(*runs)]
    return Ensemble(*tables)


# ---------------------------------------------------------------- statistics
def _paired(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Paired and independent-streams statistics of b - a (see Comparison.table)."""
    n = a.size
    diff, low, high = mean_ci(b - a, _LEVEL)
    row = {"mean_a": a.mean() if n else np.nan, "mean_b": b.mean() if n else np.nan,
           "diff": diff, "ci_low": low, "ci_high": high, "ci_width_paired": high - low,
           "ci_width_independent": np.nan, "variance_reduction": np.nan, "n": n}
    if n >= 2:
        var_indep = a.var(ddof=1) + b.var(ddof=1)
        t = stdtrit(2 * n - 2, 0.5 + _LEVEL / 2)
        row["ci_width_independent"] = 2.0 * t * np.sqrt(var_indep / n)
        if var_indep > 0:
            row["variance_reduction"] = 1.0 - (b - a).var(ddof=1) / var_indep
    return row


def _finite(values: pd.Series) -> np.ndarray:
    values = values.to_numpy(dtype=float)
    return values[np.isfinite(values)]


def _checked(metrics: Sequence[str] | None, available: list[str]) -> list[str]:
    """*metrics*, or all *available* ones if None; unknown names raise ConfigError."""
    if metrics is None:
        return available
    unknown = [m for m in metrics if m not in available]
    if unknown:
        raise ConfigError("metrics", f"must name numeric result columns "
                          f"({', '.join(available)})", unknown[0])
    return list(metrics)


def _check_counts(n: int, workers: int) -> None:
    for name, value in (("n", n), ("workers", workers)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(name, "must be an integer >= 1", value)
