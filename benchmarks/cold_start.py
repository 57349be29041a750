"""Cold start: wall time of `artlang render` on a trivial sketch, in a fresh process each time.

The peer is the floor any numpy-based tool pays: a fresh Python that imports numpy and Pillow and
writes a PNG of the same size by hand. Prints best-of-N and median for both, and their ratio, and
checks that neither torch nor numba was imported by the trivial render.

    .venv/bin/python benchmarks/cold_start.py
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7
SKETCH = "canvas 256 x 256\nlayer bg = mix(#0b1a3a, #f07a3a, st.y)\n" \
         "layer sun = fill(circle(uv, 0.5), #ffd27a) blend screen\noutput bg, sun\n"
PEER = ("import numpy as np; from PIL import Image; "
        "y = np.linspace(0, 1, 256, dtype=np.float32)[:, None].repeat(256, 1); "
        "Image.fromarray((y * 255).astype(np.uint8)).save({target!r})")
CHECK_IMPORTS = ("import sys, runpy; sys.argv = ['artlang', 'render', {sketch!r}, '-o', {target!r}]; "
                 "from artlang.cli import main; main(sys.argv[1:]); "
                 "print(' '.join(m for m in ('torch', 'numba') if m in sys.modules) or 'none')")


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="artlang-cold-"))
    sketch = folder / "trivial.art"
    sketch.write_text(SKETCH)
    artlang = [sys.executable, "-m", "artlang", "render", str(sketch), "-o", str(folder / "a.png")]
    peer = [sys.executable, "-c", PEER.format(target=str(folder / "p.png"))]
    timed(artlang), timed(peer)                       # warm the OS file cache and Lark's grammar
    ours = [timed(artlang) for _ in range(RUNS)]
    theirs = [timed(peer) for _ in range(RUNS)]
    imported = subprocess.run([sys.executable, "-c", CHECK_IMPORTS.format(
        sketch=str(sketch), target=str(folder / "c.png"))], capture_output=True, text=True, check=True)
    print(f"{'':32}{'best':>9}{'median':>9}")
    print(f"{'artlang render (trivial sketch)':32}{min(ours):9.3f}{statistics.median(ours):9.3f} s")
    print(f"{'python + numpy + Pillow PNG':32}{min(theirs):9.3f}{statistics.median(theirs):9.3f} s")
    print(f"ratio artlang / bare numpy script: {statistics.median(ours) / statistics.median(theirs):.2f}x")
    print(f"heavy modules imported by the trivial render: {imported.stdout.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
