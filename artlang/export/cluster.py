"""Exports on a Dask distributed cluster: `artlang export ... --scheduler tcp://HOST:8786`.

Each unit travels as a `UnitSpec`, carrying the sketch's sources and the bytes of the images it
reads (see `units.render_units`), so the cluster's workers need artlang installed (the same
version) but not the project's files. Results come back to this process, which writes them, so
nothing has to be shared between the machines. `distributed` is imported only here.
"""
from __future__ import annotations

from collections.abc import Iterable

from artlang.core.errors import USAGE, error
from artlang.export.backends import Backend, Units
from artlang.export.units import Rendered, render_units


class DaskBackend(Backend):
    """Chunks of units submitted to the scheduler at `address`, at most `window` in flight."""

    def __init__(self, address: str, window: int | None = None, client=None):
        try:
            from distributed import Client  # an optional dependency (artlang[cluster])
        except ImportError:
            raise error("--scheduler needs Dask's `distributed` package", stage=USAGE,
                        hint="pip install 'artlang[cluster]'") from None
        try:
            self.client = client or Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError, TypeError) as failure:
            raise error(f"cannot reach the Dask scheduler at {address}: {failure}", stage=USAGE,
                        hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`")
        self.owns_client = client is None
        workers = len(self.client.scheduler_info().get("workers", {})) or 1
        self.window = window or 4 * workers

    def run(self, job: Units, chunks: list[list]) -> Iterable[tuple[list, list[Rendered]]]:
        # an optional dependency (artlang[cluster])
        from distributed import as_completed  # an optional dependency (artlang[cluster])
        queue = iter(chunks)
        in_flight = {}                                  # future -> chunk

        def submit(chunk):
            future = self.client.submit(render_units, job.specs(chunk), pure=False)
            in_flight[future] = chunk
            return future

        finished = as_completed([submit(chunk) for chunk in _take(queue, self.window)])
        try:
            for future in finished:
                chunk = in_flight.pop(future)
                result = future.result()
                future.release()
                for extra in _take(queue, 1):
                    finished.add(submit(extra))
                yield chunk, result
        except BaseException:
            self.client.cancel(list(in_flight))
            raise

    def close(self) -> None:
        if self.owns_client:
            self.client.close()


def _take(iterator, count: int) -> list:
    taken = []
    for item in iterator:
        taken.append(item)
        if len(taken) == count:
            break
    return taken
