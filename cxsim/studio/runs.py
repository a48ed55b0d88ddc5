"""The studio's comparisons: warm worker processes, answers streamed as pairs finish.

A page wants an answer with a (wide) interval after the first few pairs and
a narrower one as more arrive, a Cancel that frees the cores at once, and a
server that stops on Ctrl+C or SIGTERM whatever its workers are doing.
``cxsim.compare`` returns only at the end, ``concurrent.futures`` cannot stop
a running task, and ``multiprocessing.Pool`` cannot be terminated once a
worker has died holding its shared task queue's lock (a Ctrl+C reaches the
whole process group). So each worker here is a spawned process with a pipe of
its own: it pays cxsim's import and compiled code once, takes one chunk at a
time, sends its runs back on the same pipe, and ends when its pipe or its
parent does. Stopping is killing the processes; no lock is shared with them.
The pairs run side by side in chunks (``cxsim.engine``), the first of two
pairs so that a first interval comes soon; every replication depends only on
its config and index, so the answer equals ``cxsim.compare``'s.
"""

from __future__ import annotations

import math
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from multiprocessing.connection import Connection, wait

import pandas as pd

from cxsim.config import Config
from cxsim.experiment import Comparison, Ensemble, ensemble_of

__all__ = ["Workers", "compare_stream", "pair_chunks", "stream"]

FIRST_PAIRS = 2
"""Pairs in the first chunk: the fewest that give an interval."""
POLL = 0.05  # seconds between looks at a Cancel or a closing server while waiting


def _warm() -> None:
    """A worker's start: cxsim imported and its compiled functions loaded (from numba's
    cache, on their first call) by a run of a few clients, so the first answer waits for
    neither."""
    from cxsim.config import compose, to_config
    from cxsim.engine import simulate

    simulate(to_config(compose(["market.size=50", "sim.years=0.25"])))


def _serve(tasks: Connection) -> None:
    """A worker: warm up, then run each ``(label, config, replications)`` received and send
    back ``(label, replications, runs)`` (each run's summary, timeseries and touchpoints),
    or the error's one line; end with the pipe or with the server."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the group: the server stops us
    from cxsim.engine import simulate_replications

    _warm()
    parent = multiprocessing.parent_process()
    while True:
        if parent is not None and parent.sentinel in wait([tasks, parent.sentinel]):
            return
        try:
            label, cfg, replications = tasks.recv()
        except (EOFError, OSError):
            return
        try:
            runs = simulate_replications(cfg, replications)
            reply = (label, replications, [(r.summary, r.timeseries, r.touchpoints)
                                           for r in runs])
        except Exception as error:  # sent as text: the page shows it beside Run
            reply = RuntimeError(f"{type(error).__name__}: {error}")
        tasks.send(reply)


class Workers:
    """Worker processes kept warm between comparisons, one chunk each at a time.

    :meth:`restart` stops what they run and starts fresh ones; :meth:`close` stops them
    for good, and every :meth:`run` waiting on them returns.
    """

    def __init__(self, processes: int = 2) -> None:
        self.processes = processes
        self.lock = threading.Lock()  # one comparison at a time on these cores
        self._context = multiprocessing.get_context("spawn")
        self._closed = threading.Event()
        self._start()

    def _start(self) -> None:
        self._pipes: list[Connection] = []
        self._procs = []
        for _ in range(self.processes):
            ours, theirs = self._context.Pipe()
            process = self._context.Process(target=_serve, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self._pipes.append(ours)
            self._procs.append(process)

    def _stop(self) -> None:
        for process in self._procs:
            process.kill()
        for process in self._procs:
            process.join()
        for pipe in self._pipes:
            pipe.close()

    def run(self, jobs: list[tuple[str, Config, list[int]]], cancel: threading.Event
            ) -> Iterator[tuple[str, list[int], list]]:
        """Each job's ``(label, replications, runs)`` as it finishes, jobs handed out in
        order to whichever worker is free. Stops quietly when *cancel* is set or the
        workers are closed (the caller restarts them); a worker's error is raised here."""
        pending = list(reversed(jobs))
        busy: set[Connection] = set()
        idle = list(self._pipes)
        while pending or busy:
            while pending and idle:
                pipe = idle.pop()
                pipe.send(pending.pop())
                busy.add(pipe)
            ready: list = []
            while not ready:
                if cancel.is_set() or self._closed.is_set():
                    return
                ready = wait(list(busy), timeout=POLL)
            for pipe in ready:
                try:
                    reply = pipe.recv()
                except (EOFError, OSError):
                    if cancel.is_set() or self._closed.is_set():
                        return
                    raise RuntimeError("a worker process ended unexpectedly") from None
                busy.discard(pipe)
                idle.append(pipe)
                if isinstance(reply, BaseException):
                    raise reply
                yield reply

    def restart(self) -> None:
        """Kill the workers (and whatever they run), then start fresh ones."""
        self._stop()
        if not self._closed.is_set():
            self._start()

    def close(self) -> None:
        """Kill the workers for good; every run waiting on them returns."""
        self._closed.set()
        self._stop()


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

    Stops quietly when *cancel* is set or the workers close (the caller restarts them).
    A worker's error is raised here.
    """
    jobs = [(label, cfg, chunk) for chunk in pair_chunks(n, workers.processes)
            for label, cfg in scenarios.items()]
    finished: dict[str, dict[int, tuple[pd.DataFrame, ...]]] = {
        label: {} for label in scenarios}
    complete = 0
    for label, replications, runs in workers.run(jobs, cancel):
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
