"""Where a job's units are drawn: here (`Backend`, the default), in local worker processes
(`ProcessBackend`, `--workers N`) or on a Dask cluster (`cluster.DaskBackend`, `--scheduler`).

Here, the job draws its units itself from the program it has loaded and checked. The other
backends send each chunk of units as self-contained `UnitSpec`s to `units.render_units`, so a
worker needs no file of the project. Every backend yields results as they finish, with a bounded
number in flight (bounded memory).
"""
from __future__ import annotations

import concurrent.futures
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Iterable
from multiprocessing import util
from multiprocessing.connection import wait
from typing import Protocol

from artlang.export.units import Rendered, UnitSpec, forget_loaded, render_units, sweep_orphans
from artlang.kernels.threads import set_threads


class Units(Protocol):
    """What a backend asks of a job (a `jobs.Job`) about a chunk of consecutive units of one
    variation."""

    def render_here(self, units: list) -> list[Rendered]: ...

    def specs(self, units: list) -> list[UnitSpec]: ...


class Backend:
    """Draws every chunk here, in this process, one after the other, from the job's own program."""

    def run(self, job: Units, chunks: list[list]) -> Iterable[tuple[list, list[Rendered]]]:
        """(chunk, its results) for each chunk, as they finish."""
        for chunk in chunks:
            yield chunk, job.render_here(chunk)

    def close(self) -> None:
        pass


class ProcessBackend(Backend):
    """`workers` local processes; each gets cores // workers threads for the noise kernels.

    The workers are forked at once, before any unit is drawn: each loads the sketch's compiled
    kernels itself, at the same time as the others (drawing the first unit here first, so they
    would inherit the kernels, left the other cores idle for that long).

    The workers end with this process however it ends, SIGKILL included (`_end_with`). On Linux
    the kernel ends them when the *thread* that forked them ends: run a job from the main thread,
    or from one that outlives the job."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = None

    def _start(self):
        sweep_orphans()                       # folders of workers a `kill -9` left behind
        context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        self.pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context,
                                                           initializer=_worker_setup,
                                                           initargs=(threads, os.getpid()))

    def run(self, job: Units, chunks: list[list]) -> Iterable[tuple[list, list[Rendered]]]:
        queue = iter(chunks)
        if self.pool is None:
            self._start()
        pending = {}
        try:
            # the workers are forked by the first submit, before the caller sees any result: what
            # it opens then (an encoder's pipe above all) is not inherited by them
            while True:
                while len(pending) < 2 * self.workers:
                    chunk = next(queue, None)
                    if chunk is None:
                        break
                    pending[self.pool.submit(render_units, job.specs(chunk))] = chunk
                if not pending:
                    return
                finished, _ = concurrent.futures.wait(pending, return_when="FIRST_COMPLETED")
                for future in finished:
                    yield pending.pop(future), future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _worker_setup(threads: int, parent: int) -> None:
    for stop in (signal.SIGINT, signal.SIGTERM):        # Ctrl-C, and `timeout` or systemd signalling
        signal.signal(stop, signal.SIG_IGN)             # the whole group, are the parent's to handle
    _end_with(parent)
    util.Finalize(None, forget_loaded, exitpriority=10)   # forked workers skip atexit
    set_threads(threads)


PR_SET_PDEATHSIG = 1           # prctl(2): the signal this process gets when its parent thread ends


def _end_with(parent: int) -> None:
    """End this worker as soon as the process `parent` ends, however it ends (SIGKILL gives it no
    chance to end its workers itself). On Linux the kernel sends SIGKILL then (PR_SET_PDEATHSIG;
    if the parent ended before that was set, this process has been adopted by another already);
    everywhere, a thread waiting on the parent's sentinel (readable once the parent is gone)
    ends the process too."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    sentinel = multiprocessing.parent_process().sentinel

    def watch() -> None:
        wait([sentinel])
        forget_loaded()
        os._exit(1)
    threading.Thread(target=watch, name="artlang-parent-watch", daemon=True).start()
