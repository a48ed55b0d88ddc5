"""The studio's comparisons: a warm pool of worker processes, answers streamed as pairs finish.

A page wants an answer with a (wide) interval after the first few pairs and
a narrower one as more arrive, and a Cancel that frees the cores at once.
``cxsim.compare`` returns only at the end and ``concurrent.futures`` cannot
stop a running task, so the studio keeps its own pool of spawned processes
(each pays cxsim's import and compiled code once, then stays warm) and
terminates them on Cancel. The pairs run side by side in chunks
(``cxsim.engine``), the first chunk of two pairs so that a first interval
comes soon; every replication depends only on its config and index, so the
answer equals ``cxsim.compare``'s for the same settings.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import threading
from collections.abc import Iterator

import pandas as pd

from cxsim.config import Config
from cxsim.experiment import Comparison, Ensemble, ensemble_of

__all__ = ["Workers", "compare_stream", "pair_chunks", "stream"]

FIRST_PAIRS = 2
"""Pairs in the first chunk: the fewest that give an interval."""


def _warm() -> None:
    """A worker's start: cxsim imported and its compiled functions loaded (from numba's
    cache, on their first call) by a run of a few clients, so the first answer waits for
    neither."""
    from cxsim.config import compose, to_config
    from cxsim.engine import simulate

    simulate(to_config(compose(["market.size=50", "sim.years=0.25"])))


def _run(label: str, cfg: Config, replications: list[int]
         ) -> tuple[str, list[int], list[tuple[pd.DataFrame, pd.DataFrame]]]:
    from cxsim.engine import simulate_replications

    runs = simulate_replications(cfg, replications)
    return label, replications, [(r.summary, r.timeseries) for r in runs]


class Workers:
    """Worker processes kept warm between comparisons; :meth:`restart` stops what runs."""

    def __init__(self, processes: int = 2) -> None:
        self.processes = processes
        self._context = multiprocessing.get_context("spawn")
        self.lock = threading.Lock()  # one comparison at a time on these cores
        self._pool = self._context.Pool(processes, initializer=_warm)

    def submit(self, label: str, cfg: Config, replications: list[int], done: queue.Queue
               ) -> None:
        self._pool.apply_async(_run, (label, cfg, replications), callback=done.put,
                               error_callback=done.put)

    def restart(self) -> None:
        """Terminate the workers (and whatever they run), then start fresh ones."""
        self._pool.terminate()
        self._pool.join()
        self._pool = self._context.Pool(self.processes, initializer=_warm)

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


def pair_chunks(n: int, workers: int) -> list[list[int]]:
    """Replications 0..n-1 in chunks: first :data:`FIRST_PAIRS`, then enough to keep
    *workers* busy (each chunk runs once per scenario)."""
    first = list(range(min(FIRST_PAIRS, n)))
    rest = list(range(len(first), n))
    size = max(1, math.ceil(len(rest) / max(1, workers // 2) / 2)) if rest else 1
    return [first] + [rest[k:k + size] for k in range(0, len(rest), size)]


def stream(workers: Workers, scenarios: dict[str, Config], n: int, cancel: threading.Event
           ) -> Iterator[dict[str, Ensemble]]:
    """Each scenario's ensemble of the replications finished in all of them so far (the
    pairs, for two), each time more finish.

    Stops quietly when *cancel* is set (the caller restarts the workers).
    A worker's error is raised here.
    """
    done: queue.Queue = queue.Queue()
    chunks = pair_chunks(n, workers.processes)
    for chunk in chunks:
        for label, cfg in scenarios.items():
            workers.submit(label, cfg, chunk, done)
    finished: dict[str, dict[int, tuple[pd.DataFrame, pd.DataFrame]]] = {
        label: {} for label in scenarios}
    complete = 0
    for _ in range(len(scenarios) * len(chunks)):
        while True:
            if cancel.is_set():
                return
            try:
                item = done.get(timeout=0.05)
                break
            except queue.Empty:
                continue
        if isinstance(item, BaseException):
            raise item
        label, replications, runs = item
        finished[label].update(zip(replications, runs))
        ready = sorted(set.intersection(*(set(runs) for runs in finished.values())))
        if len(ready) > complete:
            complete = len(ready)
            yield {label: ensemble_of([runs[r] for r in ready])
                   for label, runs in finished.items()}


def compare_stream(workers: Workers, cfg_a: Config, cfg_b: Config, n: int,
                   cancel: threading.Event) -> Iterator[Comparison]:
    """:func:`stream` of scenarios a and b, as the comparison of the pairs finished so far."""
    for ensembles in stream(workers, {"a": cfg_a, "b": cfg_b}, n, cancel):
        yield Comparison(ensembles["a"], ensembles["b"])
