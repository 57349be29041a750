"""Live-coding latency: from a save to the new image on disk, artlang watch against polling peers.

Run as `.venv/bin/python benchmarks/watch.py [--rounds N]`. The sketch is a 512 x 512 five-octave fbm
coloured by a gradient. Two kinds of edit are saved again and again (write in place, as most editors
do):

- a *noise edit* changes the fbm's frequency, so the noise must be computed again;
- a *palette edit* changes a gradient colour only: the fbm's subtree hashes the same, so artlang
  reuses it from the cache it keeps between saves.

The latency is measured from just before the file is written to the moment the new PNG has been
renamed into place (the watcher's report, called after the atomic write; the peers' own timestamp
after their write).

The peers are what a user writes by hand for a live loop: a thread that polls the file's mtime and,
on a change, loads, compiles and renders the sketch from scratch with artlang's own API
(`load_sketch`, `Renderer`) and writes the PNG with the same fast PNG encoder and atomic write, so the
difference is watching and caching, not compression or rendering code. Every contender renders in
the same process with the same noise threads (artlang's default), numba warmed up beforehand.

- **10 ms poller** (the strongest peer): polls every 10 ms, so it notices a save within 5 ms on
  average and re-renders on every change.
- 500 ms poller (an extra line, a lazier hand-written loop).

Saves land at random moments (a person pauses 50-150 ms between saves; for the 500 ms poller at a
random moment of its cycle). Rounds are interleaved: each round runs a block of saves for every
contender in turn; p50, p95 and minimum over all rounds.

Goals (issue 4): artlang's noise edit p50 <= 100 ms, palette edit p50 <= 30 ms. This is a report,
not a test: it exits 0 whatever the numbers are. Numbers swing with load on a shared machine.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from artlang.core.files import write_bytes  # noqa: E402
from artlang.live.session import LiveSession  # noqa: E402
from artlang.live.watcher import Watcher  # noqa: E402
from artlang.output.writers import encode_png_fast  # noqa: E402
from artlang.runtime.render import Renderer, load_sketch, load_source  # noqa: E402

PHASES: dict[str, list[dict]] = {}      # artlang's own split of each render, by kind of edit
ROUNDS = 3
TRIALS = {"artlang watch": 10, "10 ms poller": 10, "500 ms poller": 5}    # saves per round
STRONGEST = "10 ms poller"
SKETCH = """canvas 512 x 512
seed 7
let clouds = fbm(uv * {frequency:.3f}, octaves=5)
output gradient(clouds * 0.5 + 0.5, #{first:06x}, #ff7e5f, #feb47b)
"""
BASE = SKETCH.format(frequency=3, first=0x0b1d51)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def edits(kind: str, count: int, start: int):
    """Sketch texts, each different from the one before, changing only what `kind` says."""
    for index in range(start, start + count):
        if kind == "noise":
            yield SKETCH.format(frequency=3 + index * 0.01, first=0x0b1d51)
        else:
            yield SKETCH.format(frequency=3, first=(0x0b1d51 + index * 0x030201) & 0xFFFFFF)


def save(path: Path, text: str) -> float:
    started = time.perf_counter()
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return started


def measure_artlang(folder: Path, kind: str, count: int, start: int) -> list[float]:
    sketch = folder / "live.art"
    sketch.write_text(BASE, encoding="utf-8")
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
        rendered.wait(60)                                   # the first render of the block
        watcher.wait_idle(60)
        PHASES[kind].pop()                                   # not a save: leave it out of the split
        for text in edits(kind, count, start):
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
    """A hand-written live loop: poll the mtime every `interval` seconds, render from scratch on a
    change."""

    def __init__(self, sketch: Path, output: Path, interval: float):
        self.sketch, self.output, self.interval = sketch, output, interval
        self.done = threading.Event()
        self.finished_at = 0.0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        last = self.sketch.stat().st_mtime_ns
        while not self.stopping.wait(self.interval):
            mtime = self.sketch.stat().st_mtime_ns
            if mtime == last:
                continue
            last = mtime
            renderer = Renderer(load_sketch(self.sketch))
            write_bytes(encode_png_fast(renderer.render(0)), self.output)
            self.finished_at = time.perf_counter()
            self.done.set()


def peer_measure(interval: float):
    def measure(folder: Path, kind: str, count: int, start: int) -> list[float]:
        sketch = folder / "peer.art"
        sketch.write_text(BASE, encoding="utf-8")
        peer = PollingPeer(sketch, folder / "peer.png", interval)
        peer.thread.start()
        latencies = []
        try:
            for text in edits(kind, count, start):
                peer.done.clear()
                time.sleep(random.uniform(0.05, 0.15) + random.uniform(0.0, interval))
                started = save(sketch, text)
                if not peer.done.wait(10):
                    raise RuntimeError("the polling peer missed a save")
                latencies.append(peer.finished_at - started)
        finally:
            peer.stopping.set()
            peer.thread.join()
        return latencies
    return measure


CONTENDERS = {"artlang watch": measure_artlang, "10 ms poller": peer_measure(0.010),
              "500 ms poller": peer_measure(0.5)}


def same_picture(folder: Path) -> bool:
    """artlang watch and the peers render the same sketch: the same pixels for the same text."""
    sketch = folder / "check.art"
    sketch.write_text(SKETCH.format(frequency=3.5, first=0x123456), encoding="utf-8")
    rendered = threading.Event()
    watcher = Watcher(LiveSession(sketch, folder / "check.png"),
                      report=lambda outcome: outcome.status == "rendered" and rendered.set())
    watcher.start()
    try:
        rendered.wait(60)
        watcher.wait_idle(60)
    finally:
        watcher.stop()
    write_bytes(encode_png_fast(Renderer(load_sketch(sketch)).render(0)), folder / "peer_check.png")
    return np.array_equal(np.asarray(Image.open(folder / "check.png")),
                          np.asarray(Image.open(folder / "peer_check.png")))


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=ROUNDS)
    rounds = options.parse_args().rounds
    random.seed(1)
    Renderer(load_source(SKETCH.format(frequency=3, first=0))).render(0)      # warm numba up
    results: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        print(f"artlang watch and the peers write the same pixels: {same_picture(folder)}")
        for round_number in range(rounds):
            for kind in ("noise", "palette"):
                for name, measure in CONTENDERS.items():
                    start = 1 + round_number * TRIALS[name]
                    values = [1000 * v for v in measure(folder, kind, TRIALS[name], start)]
                    results.setdefault((kind, name), []).extend(values)
    print(f"save-to-new-image latency, 512 x 512 fbm (5 octaves) sketch, ms; {rounds} interleaved rounds")
    print(f"{'edit':<10} {'contender':<16} {'p50':>7} {'p95':>7} {'min':>7} {'n':>4}")
    for (kind, name), values in results.items():
        print(f"{kind:<10} {name:<16} {statistics.median(values):7.1f} {percentile(values, 0.95):7.1f} "
              f"{min(values):7.1f} {len(values):4d}")
    print()
    for kind, phases in PHASES.items():
        split = ", ".join(f"{name} {1000 * statistics.median(p[name] for p in phases):.1f}"
                          for name in ("load", "draw", "write"))
        print(f"{kind} edit, inside artlang (p50 ms): {split} (parse+check, render, encode+write)")
    print()
    summary = []
    for kind, goal in (("noise", 100), ("palette", 30)):
        ours = statistics.median(results[kind, "artlang watch"])
        peer = statistics.median(results[kind, STRONGEST])
        lazy = statistics.median(results[kind, "500 ms poller"])
        verdict = "meets" if ours <= goal else "misses"
        print(f"{kind} edit: artlang p50 {ours:.1f} ms, {peer / ours:.2f}x faster than the {STRONGEST} "
              f"(p50 {peer:.1f} ms; minimums {min(results[kind, STRONGEST]) / min(results[kind, 'artlang watch']):.2f}x), "
              f"{lazy / ours:.1f}x than the 500 ms poller; {verdict} the {goal} ms goal")
        summary.append(f"{kind} edit {peer / ours:.2f}x")
    print(f"summary: artlang watch vs the strongest peer (a {STRONGEST} that re-renders the sketch "
          f"from scratch with artlang's API on every change), save-to-picture p50: "
          + ", ".join(summary) + " faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
