"""Live-coding latency: from a save to the new image on disk, artlang watch against a polling peer.

Run as `.venv/bin/python benchmarks/watch.py`. The sketch is a 512 x 512 five-octave fbm coloured
by a gradient. Two kinds of edit are saved again and again (write in place, as most editors do):

- a *noise edit* changes the fbm's frequency, so the noise must be computed again;
- a *palette edit* changes a gradient colour only: the fbm's subtree hashes the same, so artlang
  reuses it from the cache it keeps between saves.

The latency is measured from just before the file is written to the moment the new PNG has been
renamed into place (the watcher's report, called after the atomic write). The peer is what a
hand-written live loop does: poll the file's mtime every 500 ms, and on a change load, compile and
render the sketch from scratch and write the PNG (with the same fast PNG encoder, so the difference
is watching and caching, not compression). Saves land at random moments of the peer's polling
cycle, as a person's do.

Goals (issue 4): artlang's noise edit p50 <= 100 ms, palette edit p50 <= 30 ms. This is a report,
not a test: it exits 0 whatever the numbers are. Numbers swing with load on a shared machine.
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlang.live.session import LiveSession  # noqa: E402
from artlang.runtime.render import Renderer, load_sketch, load_source  # noqa: E402
from artlang.live.watcher import Watcher  # noqa: E402
from artlang.output.writers import encode_png_fast  # noqa: E402
from artlang.core.files import write_bytes  # noqa: E402

PHASES: dict[str, list[dict]] = {}      # artlang's own split of each render, by kind of edit
TRIALS = 30
PEER_TRIALS = 16
PEER_INTERVAL = 0.5
SKETCH = """canvas 512 x 512
seed 7
let clouds = fbm(uv * {frequency:.3f}, octaves=5)
output gradient(clouds * 0.5 + 0.5, #{first:06x}, #ff7e5f, #feb47b)
"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def edits(kind: str, count: int):
    """Sketch texts, each different from the one before, changing only what `kind` says."""
    for index in range(1, count + 1):
        if kind == "noise":
            yield SKETCH.format(frequency=3 + index * 0.01, first=0x0b1d51)
        else:
            yield SKETCH.format(frequency=3, first=(0x0b1d51 + index * 0x030201) & 0xFFFFFF)


def save(path: Path, text: str) -> float:
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return started


def measure_artlang(folder: Path, kind: str) -> list[float]:
    sketch = folder / "live.art"
    sketch.write_text(SKETCH.format(frequency=3, first=0x0b1d51), encoding="utf-8")
    rendered = threading.Event()
    finished_at = []

    def report(outcome):
        if outcome.status == "rendered":
            finished_at.append(time.perf_counter())
            PHASES.setdefault(kind, []).append(outcome.phases)
            rendered.set()

    watcher = Watcher(LiveSession(sketch), report=report)
    watcher.start()
    latencies = []
    try:
        rendered.wait(60)                                   # the first render (numba's cache load)
        watcher.wait_idle(60)
        for text in edits(kind, TRIALS):
            rendered.clear()
            time.sleep(random.uniform(0.05, 0.15))           # a person between two saves
            started = save(sketch, text)
            if not rendered.wait(10):
                raise RuntimeError("artlang watch missed a save")
            latencies.append(finished_at[-1] - started)
            watcher.wait_idle(10)
    finally:
        watcher.stop()
    return latencies


class PollingPeer:
    """The peer: poll every 500 ms, render from scratch on a change."""

    def __init__(self, sketch: Path, output: Path):
        self.sketch, self.output = sketch, output
        self.done = threading.Event()
        self.finished_at = 0.0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        last = self.sketch.stat().st_mtime_ns
        while not self.stopping.wait(PEER_INTERVAL):
            mtime = self.sketch.stat().st_mtime_ns
            if mtime == last:
                continue
            last = mtime
            renderer = Renderer(load_sketch(self.sketch))
            write_bytes(encode_png_fast(renderer.render(0)), self.output)
            self.finished_at = time.perf_counter()
            self.done.set()


def measure_peer(folder: Path, kind: str) -> list[float]:
    sketch = folder / "peer.art"
    sketch.write_text(SKETCH.format(frequency=3, first=0x0b1d51), encoding="utf-8")
    peer = PollingPeer(sketch, folder / "peer.png")
    peer.thread.start()
    latencies = []
    try:
        for text in edits(kind, PEER_TRIALS):
            peer.done.clear()
            time.sleep(random.uniform(0.0, PEER_INTERVAL))   # a random moment of the poll cycle
            started = save(sketch, text)
            if not peer.done.wait(10):
                raise RuntimeError("the polling peer missed a save")
            latencies.append(peer.finished_at - started)
    finally:
        peer.stopping.set()
        peer.thread.join()
    return latencies


def main() -> int:
    random.seed(1)
    Renderer(load_source(SKETCH.format(frequency=3, first=0))).render(0)      # warm numba up
    print("save-to-new-image latency, 512 x 512 fbm (5 octaves) sketch, in ms")
    print(f"{'edit':<10} {'contender':<28} {'p50':>7} {'p95':>7} {'n':>4}")
    results = {}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        for kind in ("noise", "palette"):
            for name, measure in (("artlang watch", measure_artlang),
                                  ("500 ms polling peer", measure_peer)):
                values = [1000 * v for v in measure(folder, kind)]
                results[kind, name] = values
                print(f"{kind:<10} {name:<28} {statistics.median(values):7.1f} "
                      f"{percentile(values, 0.95):7.1f} {len(values):4d}")
    print()
    for kind, phases in PHASES.items():
        split = ", ".join(f"{name} {1000 * statistics.median(p[name] for p in phases[1:]):.1f}"
                          for name in ("load", "draw", "write"))
        print(f"{kind} edit, inside artlang (p50 ms): {split} (parse+check, render, encode+write)")
    print()
    for kind, goal in (("noise", 100), ("palette", 30)):
        ours = statistics.median(results[kind, "artlang watch"])
        peer = statistics.median(results[kind, "500 ms polling peer"])
        verdict = "meets" if ours <= goal else "misses"
        print(f"{kind} edit: artlang p50 {ours:.1f} ms, {peer / ours:.1f}x faster than the peer; "
              f"{verdict} the {goal} ms goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
