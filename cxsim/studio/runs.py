"""The studio's worker processes: warm, cancellable, stopped with the server.

A page wants an answer with a (wide) interval after the first few pairs and
a narrower one as more arrive (``cxsim.simulation.experiment.stream``: the chunks, the
run of each and the ensembles are the experiment's), a Cancel that frees the
cores at once, and a server that stops on Ctrl+C or SIGTERM whatever its
workers are doing. ``concurrent.futures`` cannot stop a running task, and
``multiprocessing.Pool`` cannot be terminated once a worker has died holding
its shared task queue's lock (a Ctrl+C reaches the whole process group). So
each worker here is a spawned process with a pipe of its own: it pays cxsim's
import and compiled code once, takes one job at a time
(``cxsim.simulation.experiment.run_job``), sends its runs back on the same pipe, and ends
when its pipe or its parent does. Stopping is killing the processes; no lock
is shared with them. The same workers fit an uploaded log (:meth:`Workers.call`), so a
fit is cancelled as a run is and never holds up the page's own process.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from cxsim.errors import ConfigError
from cxsim.simulation.experiment import Done, Job, run_job

__all__ = ["Call", "Workers"]

Call = tuple[Callable[..., Any], tuple]
"""What a worker is sent: a module-level function (pickled by name) and its arguments."""

POLL = 0.05  # seconds between looks at a Cancel or a closing server while waiting


def _warm() -> None:
    """A worker's start: cxsim imported and its compiled functions loaded (from numba's
    cache, on their first call) by a run of a few clients, so the first answer waits for
    neither."""
    from cxsim.config import compose, to_config

    run_job(("warm", to_config(compose(["market.size=50", "sim.years=0.25"])), [0]))


def _serve(tasks: Connection) -> None:
    """A worker: warm up, then make each :data:`Call` received and send back what it
    returns (for a :data:`~cxsim.simulation.experiment.Job`, its
    :data:`~cxsim.simulation.experiment.Done`), a bad input's ConfigError whole, or another
    error's one line; end with the pipe or with the server."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the group: the server stops us
    _warm()
    parent = multiprocessing.parent_process()
    while True:
        if parent is not None and parent.sentinel in wait([tasks, parent.sentinel]):
            return
        try:
            function, args = tasks.recv()
        except (EOFError, OSError):
            return
        try:
            reply = function(*args)
        except ConfigError as error:  # bad input: its one line, as the command says it
            reply = error
        except Exception as error:  # sent as text: the page shows it beside Run
            reply = RuntimeError(f"{type(error).__name__}: {error}")
        tasks.send(reply)


class Workers:
    """Worker processes kept warm between comparisons, one job each at a time.

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

    def run(self, jobs: list[Job], cancel: threading.Event) -> Iterator[Done]:
        """Each job's :data:`~cxsim.simulation.experiment.Done` as it finishes, jobs handed out in
        order to whichever worker is free. Stops quietly when *cancel* is set or the
        workers are closed (the caller restarts them); a worker's error is raised here."""
        return self.each([(run_job, (job,)) for job in jobs], cancel)

    def call(self, function: Callable[..., Any], *args: Any,
             cancel: threading.Event) -> Any | None:
        """``function(*args)`` made by one worker (a module-level function, pickled by name),
        or None if *cancel* was set or the workers closed first; its error is raised here (a
        ConfigError as it was raised)."""
        return next(self.each([(function, args)], cancel), None)

    def each(self, calls: list[Call], cancel: threading.Event) -> Iterator[Any]:
        """What each of *calls* returns, as it finishes, calls handed out in order to
        whichever worker is free (see :meth:`run` for a Cancel and an error)."""
        pending = list(reversed(calls))
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


_SHARED: Workers | None = None
_SHARED_LOCK = threading.Lock()


def shared_workers() -> Workers:
    """The server's worker processes, shared by its pages (started with the server)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = Workers(2)
        return _SHARED


def close_shared() -> None:
    """Stop the server's workers, if it started them."""
    if _SHARED is not None:
        _SHARED.close()
