"""One small, fork-safe thread pool for the numba kernels (noise and filters).

A kernel is called as `kernel(*args, first, end)` on disjoint ranges of work units, one equal share
per thread, the calling thread taking the first. Kernels release the GIL (`nogil`), and each output
element depends only on its own inputs, so the bytes do not depend on the number of threads.

Why not numba's `parallel=True`: its OpenMP layer makes any process forked afterwards abort, which
the renderer does to spread frames over processes. The pool here is dropped in a forked child and
made anew on first use.
"""
from __future__ import annotations

import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from artlang.core.errors import RUNTIME, error


def _default_threads() -> int:
    configured = os.environ.get("NUMBA_NUM_THREADS", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                    # not on Linux
        return os.cpu_count() or 1


_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def set_threads(count: int) -> None:
    """Use `count` threads for large arrays (1 = compute in the calling thread). Output bytes do not
    depend on it."""
    global _threads
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
        raise error(f"the number of threads must be a whole number of at least 1, got {count!r}",
                    stage=RUNTIME)
    _threads = int(count)


def get_threads() -> int:
    return _threads


def _forget_pool_after_fork() -> None:
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()   # the parent's threads do not exist here


os.register_at_fork(after_in_child=_forget_pool_after_fork)


def _executor(size: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool, _pool_size = ThreadPoolExecutor(max_workers=size, thread_name_prefix="artlang"), size
        return _pool


def run_shares(kernel, units: int, most_shares: int, *args) -> None:
    """Call kernel(*args, first, end) over units 0..units-1 in at most `most_shares` equal shares
    (and never more than the thread count)."""
    shares = max(1, min(_threads, units, most_shares))
    if shares < 2:
        kernel(*args, 0, units)
        return
    bounds = [units * k // shares for k in range(shares + 1)]
    pool = _executor(shares - 1)
    futures = [pool.submit(kernel, *args, first, end) for first, end in zip(bounds[1:-1], bounds[2:])]
    kernel(*args, bounds[0], bounds[1])
    for future in futures:
        future.result()
