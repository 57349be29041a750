"""Cold start: wall time of `artlang render` in a fresh process, against a plain script that writes the
same picture, also in a fresh process each time.

Run as `.venv/bin/python benchmarks/cold_start.py [--rounds N]`. Two sketches:

- **trivial** (256 x 256: a two-colour gradient and a disc blended with `screen`; loads neither numba
  nor torch): the peer is a plain numpy + Pillow script that computes the same picture (checked
  byte for byte before timing).
- **fbm** (512 x 512, five-octave fbm as gray; loads numba and its kernels from numba's cache): the peer
  is a plain script with `pyfastnoiselite` (FastNoise Lite, compiled C) and Pillow (the script of
  `first_render.py`; its noise is not artlang's, so the pictures are checked by size and spread).
  FastNoise Lite runs on one thread, so artlang does too (`NUMBA_NUM_THREADS=1`).

numba's cache and Python's bytecode cache are folders of this run (`NUMBA_CACHE_DIR`,
`PYTHONPYCACHEPREFIX`; bytecode caching on even where the shell sets `PYTHONDONTWRITEBYTECODE`, as a
user's install has it), filled by a warm-up run, so every timed run is a warm start; `first_render.py` times the first render with an empty cache. Rounds are
interleaved (artlang, peer, per sketch); medians and minimums, and the ratio of the medians. Also
checks which heavy modules each render imported. A report, not a test: it exits 0 whatever the
numbers are.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from first_render import NOISE_PEER, artlang_command, check_pictures, process_env, timed  # noqa: E402

ROUNDS = 9
SKETCHES = {
    "trivial": "canvas 256 x 256\nlayer bg = mix(#0b1a3a, #f07a3a, st.y)\n"
               "layer sun = fill(circle(uv, 0.5), #ffd27a) blend screen\noutput bg, sun\n",
    "fbm": "canvas 512 x 512\nseed 7\noutput gray(fbm(uv * 3, octaves=5) * 0.5 + 0.5)\n",
}
TRIVIAL_PEER = '''\
import sys
import numpy as np
from PIL import Image

size = 256
centres = (np.arange(size, dtype=np.float32) + 0.5) / size             # pixel centres, 0..1
st_y = 1 - centres[:, None]                                              # 0 at the bottom
uv = centres * 2 - 1
distance = np.hypot(uv[None, :], uv[:, None]) - 0.5                      # a circle of radius 0.5
coverage = np.clip(0.5 - distance * size / 2, 0, 1)[..., None]           # one pixel of antialiasing
low, high = np.array([0x0b, 0x1a, 0x3a]) / 255, np.array([0xf0, 0x7a, 0x3a]) / 255
sky = low + (high - low) * st_y[..., None]
screen = 1 - (1 - sky) * (1 - np.array([0xff, 0xd2, 0x7a]) / 255)
picture = sky + (screen - sky) * coverage
Image.fromarray((picture * 255 + 0.5).astype(np.uint8)).save(sys.argv[1])
'''
PEERS = {"trivial": (TRIVIAL_PEER, "numpy + Pillow script"),
         "fbm": (NOISE_PEER.format(size=512, dims=2), "pyfastnoiselite + Pillow script")}
CHECK_IMPORTS = ("import sys; from artlang.cli import main; main(['render', {sketch!r}, '-o', {target!r}]); "
                 "print(' '.join(m for m in ('torch', 'numba') if m in sys.modules) or 'none')")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--rounds", type=int, default=ROUNDS)
    rounds = options.parse_args().rounds
    folder = Path(tempfile.mkdtemp(prefix="artlang-cold-"))
    env = process_env(folder, NUMBA_NUM_THREADS="1", NUMBA_CACHE_DIR=str(folder / "numba-cache"))
    commands = {}
    try:
        for case, sketch in SKETCHES.items():
            (folder / f"{case}.art").write_text(sketch, encoding="utf-8")
            (folder / f"{case}_peer.py").write_text(PEERS[case][0], encoding="utf-8")
            commands[case] = (
                artlang_command() + ["render", str(folder / f"{case}.art"), "-o", str(folder / f"{case}.png")],
                [sys.executable, str(folder / f"{case}_peer.py"), str(folder / f"{case}_peer.png")])
            for command in commands[case]:
                timed(command, env)                  # fills numba's cache and warms the OS file cache
            print(f"{case:<8} pictures: {check_pictures(case, folder / f'{case}.png', folder / f'{case}_peer.png')}")
        ours = {case: [] for case in SKETCHES}
        theirs = {case: [] for case in SKETCHES}
        for _ in range(rounds):
            for case, (artlang, peer) in commands.items():
                ours[case].append(timed(artlang, env))
                theirs[case].append(timed(peer, env))

        print(f"\n{rounds} interleaved rounds, whole process, 1 thread each")
        print(f"{'sketch':<8} {'contender':<34}{'median':>9}{'min':>9}")
        for case in SKETCHES:
            print(f"{case:<8} {'artlang render':<34}{statistics.median(ours[case]):9.3f}{min(ours[case]):9.3f} s")
            print(f"{case:<8} {PEERS[case][1]:<34}{statistics.median(theirs[case]):9.3f}"
                  f"{min(theirs[case]):9.3f} s")
        for case in SKETCHES:
            imported = subprocess.run(
                [sys.executable, "-c", CHECK_IMPORTS.format(sketch=str(folder / f"{case}.art"),
                                                            target=str(folder / "check.png"))],
                capture_output=True, text=True, check=True, env=env)
            print(f"heavy modules imported by the {case} render: "
                  f"{imported.stdout.strip().splitlines()[-1]}")
        print("summary: " + "; ".join(
            f"{case} artlang / {PEERS[case][1]} {statistics.median(ours[case]) / statistics.median(theirs[case]):.2f}x "
            f"(minimums {min(ours[case]) / min(theirs[case]):.2f}x)" for case in SKETCHES)
            + " (whole process, warm caches, 1 thread)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
