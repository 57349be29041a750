"""Huge canvases: a 16384 x 16384 sketch drawn in tiles and streamed to PNG and TIFF, in bounded memory.

Run as `.venv/bin/python benchmarks/large_image.py` (a few minutes; `--size 8192` for a quicker
run). The sketch is a five-octave fbm coloured by a three-stop gradient, under a 2-pixel blur (so the
tiles need a margin). Each case runs in a child process of its own, which reports its wall time and
its peak resident memory (`ru_maxrss`, everything: Python, numpy, numba and its compiled kernels).

- *tiled*: `tiles.TiledRenderer` (1024 x 1024 tiles) feeding `streaming.write_png_streaming` or
  `write_tiff_streaming`; the goal (issue: export) is a peak RSS under 2 GB at 16384 x 16384.
- *peer*: the untiled `Renderer.render` + `writers.write_png` at 4096 x 4096 (its `max_pixels`),
  the largest canvas it renders by default. Its RSS above the bare interpreter, scaled by the pixel
  count, estimates what an untiled 16384 x 16384 render would need; the same size drawn tiled gives
  the per-pixel time of both ways. Both 4096 files are decoded and compared pixel for pixel.
- The wall times include writing the file: the tiled PNG is deflated on two threads while the next
  band is drawn ("Up" filter, zlib level 6); the peer's `write_png` is Pillow's encoder (adaptive
  filters, level 6, one thread) after the render. Numba kernels come from its on-disk cache.

This is a report, not a test: it exits 0 whatever the numbers are. Numbers swing with load.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKETCH = """canvas {size} x {size}
let n = fbm(uv * 3, octaves=5)
let c = gradient(n * 0.5 + 0.5, #0b1d51, #ff7e5f, #feb47b)
output blur(c, 2 * pixel)
"""
GOAL_BYTES = 2 * 10 ** 9
PEER_SIZE = 4096


def child(mode: str, size: int, path: str, tile: int) -> None:
    """Run one case in this (child) process and print its numbers as JSON."""
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    from artlang.core.limits import Limits
    from artlang.runtime.render import Renderer, load_source
    from artlang.output.provenance import picture_text
    from artlang.output.streaming import write_tiled
    from artlang.runtime.tiles import TiledRenderer
    from artlang.output.writers import write_png

    program = load_source(SKETCH.format(size=size))
    start = time.perf_counter()
    if mode == "untiled":
        renderer = Renderer(program, limits=Limits(max_pixels=size * size))
        write_png(renderer.render(), Path(path), picture_text(renderer))
        margin = 0
    else:
        tiled = TiledRenderer(program, tile=tile)
        margin = tiled.margin().largest
        write_tiled(tiled, path)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "peak": peak, "base": base, "bytes": os.path.getsize(path),
                      "margin": margin}))


def run(mode: str, size: int, path: Path, tile: int = 1024) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", mode, "--size", str(size),
                             "--path", str(path), "--tile", str(tile)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{mode} {size} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def same_pixels(first: Path, second: Path) -> bool:
    import numpy as np
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = None
    with Image.open(first) as a, Image.open(second) as b:
        return np.array_equal(np.asarray(a.convert("RGBA")), np.asarray(b.convert("RGBA")))


def idle_rss() -> int:
    """Peak RSS of a child that imports artlang and renders a tiny canvas: the fixed cost."""
    code = ("import resource\nfrom artlang.runtime.render import load_source, Renderer\n"
            f"Renderer(load_source({SKETCH.format(size=64)!r})).render()\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            check=True)
    return int(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=16384)
    parser.add_argument("--tile", type=int, default=1024)
    parser.add_argument("--child")
    parser.add_argument("--path")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.size, arguments.path, arguments.tile)
        return 0

    size, tile = arguments.size, arguments.tile
    mib = 1 << 20
    rows = []
    with tempfile.TemporaryDirectory(prefix="artlang-large-") as folder:
        folder = Path(folder)
        fixed = idle_rss()
        cases = [("tiled -> PNG", "tiled", size, folder / "big.png"),
                 ("tiled -> TIFF", "tiled", size, folder / "big.tif"),
                 ("tiled -> PNG", "tiled", PEER_SIZE, folder / "peer_tiled.png"),
                 ("untiled -> PNG (peer)", "untiled", PEER_SIZE, folder / "peer_whole.png")]
        results = {}
        for label, mode, pixels, path in cases:
            print(f"running {label} at {pixels} x {pixels} ...", flush=True)
            results[(label, pixels)] = numbers = run(mode, pixels, path, tile)
            rows.append((label, pixels, numbers))
            if pixels != PEER_SIZE:
                path.unlink()                     # do not keep a GB file around
        identical = same_pixels(folder / "peer_tiled.png", folder / "peer_whole.png")

    print()
    print(f"16384-class canvas drawn in {tile} x {tile} tiles, streamed; peer: untiled at "
          f"{PEER_SIZE} x {PEER_SIZE} (its default max_pixels). {os.cpu_count()} CPUs.")
    print(f"fixed cost of a process that has rendered anything (Python, numpy, numba): "
          f"{fixed / mib:.0f} MiB")
    print()
    header = f"{'case':<24}{'canvas':>14}{'margin':>8}{'wall':>10}{'ns/pixel':>10}{'peak RSS':>12}" \
             f"{'file':>11}"
    print(header)
    print("-" * len(header))
    for label, pixels, numbers in rows:
        print(f"{label:<24}{f'{pixels} x {pixels}':>14}{numbers['margin']:>6}px"
              f"{numbers['seconds']:>9.1f}s{numbers['seconds'] / pixels ** 2 * 1e9:>10.0f}"
              f"{numbers['peak'] / mib:>8.0f} MiB{numbers['bytes'] / mib:>7.0f} MiB")
    print()
    peer = results[("untiled -> PNG (peer)", PEER_SIZE)]
    per_pixel = max(0, peer["peak"] - fixed) / PEER_SIZE ** 2
    estimate = fixed + per_pixel * size * size
    print(f"untiled peer: {per_pixel:.0f} bytes of RSS per pixel above the fixed cost "
          f"(= {per_pixel / 16:.1f} live float32 RGBA canvases)")
    print(f"estimated untiled {size} x {size}: {estimate / 2 ** 30:.1f} GiB "
          f"(the untiled renderer refuses more than {PEER_SIZE} x {PEER_SIZE} by default)")
    for label in ("tiled -> PNG", "tiled -> TIFF"):
        numbers = results[(label, size)]
        verdict = "meets" if numbers["peak"] < GOAL_BYTES else "MISSES"
        print(f"{label} at {size} x {size}: peak RSS {numbers['peak'] / 1e9:.2f} GB, "
              f"{verdict} the goal of {GOAL_BYTES / 1e9:.0f} GB "
              f"({numbers['peak'] / estimate:.2f}x the untiled estimate)")
    tiled_peer = results[("tiled -> PNG", PEER_SIZE)]
    print(f"at {PEER_SIZE} x {PEER_SIZE}: tiled / untiled wall time "
          f"{tiled_peer['seconds'] / peer['seconds']:.2f}x, peak RSS "
          f"{tiled_peer['peak'] / peer['peak']:.2f}x; decoded pixels "
          f"{'identical' if identical else 'DIFFER'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
