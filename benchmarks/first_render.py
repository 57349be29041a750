"""First render and warm render, whole process: `artlang render` against a plain Python script.

Run as `.venv/bin/python benchmarks/first_render.py [--quick]`. Every time is the wall time of a
fresh process, from its start to its exit, with the PNG written:

- **artlang**: `artlang render SKETCH -o OUT.png` (the venv's console script), for
  (a) `fbm` at 512 x 512, 5 octaves; (b) `loop_noise` at 512 x 512, 5 octaves (4D noise: its own
  kernel to compile); (c) the trivial `output gray(0.5)` (512 x 512, the default canvas).
  *first*: numba's cache is empty: `NUMBA_CACHE_DIR` is a new, empty folder for every such run (numba
  then reads and writes only there, not the `__pycache__` beside the kernels), so every kernel the
  sketch needs is compiled, as on the first render after `make demo`. Python's own `.pyc` files and
  the OS file cache are warm, as they are after `make demo`: the processes run with bytecode caching
  on and `PYTHONPYCACHEPREFIX` set to a folder of this run, filled by a warm-up run of each command
  (an environment with `PYTHONDONTWRITEBYTECODE=1` and an editable install would otherwise compile
  artlang's sources in every process, about 0.1 s, which a user's installation does not).
  *warm*: a second process with that cache folder already filled.
- **the peer**: what a user writes instead, a plain script run as `python peer.py OUT.png`:
  `pyfastnoiselite` (FastNoise Lite, compiled C; nothing to compile at run time) samples Perlin fbm,
  5 octaves, lacunarity 2, gain 0.5, on the same 512 x 512 grid of the same coordinates (uv * 3),
  and Pillow writes the gray picture; for `loop_noise` the same with 3D noise (FastNoise Lite has no
  4D noise, so the peer samples one time slice of 3D fbm); for the trivial sketch numpy + Pillow
  write a flat gray 128. The peer has no cache to empty, so its one set of times serves both.
- **Threads**: FastNoise Lite has no thread option, so artlang runs with one thread as well
  (`NUMBA_NUM_THREADS=1`), thread for thread.
- Before timing, both sides' pictures are checked: same size and mode; the trivial ones byte for byte,
  the noise ones by their spread (a gray picture, mean near 128, clearly not flat), since FastNoise
  Lite's noise is not artlang's.

Rounds are interleaved (artlang, then the peer, case by case); medians and minimums. Goals (issue 15):
first render of a sketch using any built-in <= 2x the plain script; warm render <= 2x for fbm 512 x 512
and for the trivial sketch. A report, not a test: it exits 0 whatever the numbers are.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

SIZE = 512
FIRST_ROUNDS, WARM_ROUNDS = 3, 7
QUICK_FIRST_ROUNDS, QUICK_WARM_ROUNDS = 1, 3

SKETCHES = {
    "fbm": f"canvas {SIZE} x {SIZE}\nseed 7\noutput gray(fbm(uv * 3, octaves=5) * 0.5 + 0.5)\n",
    "loop_noise": f"canvas {SIZE} x {SIZE}\nseed 7\n"
                  "output gray(loop_noise(uv * 3, octaves=5) * 0.5 + 0.5)\n",
    "trivial": "output gray(0.5)\n",
}

# The plain scripts. {dims}: 2 for fbm, 3 for the loop_noise peer (one slice of 3D noise).
NOISE_PEER = '''\
import sys
import numpy as np
from PIL import Image
from pyfastnoiselite.pyfastnoiselite import FastNoiseLite, FractalType, NoiseType

size, dims = {size}, {dims}
noise = FastNoiseLite(seed=7)
noise.noise_type = NoiseType.NoiseType_Perlin
noise.frequency = 1.0
noise.fractal_type = FractalType.FractalType_FBm
noise.fractal_octaves = 5
noise.fractal_lacunarity = 2.0
noise.fractal_gain = 0.5
centres = (np.arange(size, dtype=np.float32) + 0.5 - size / 2) / (size / 2) * 3   # uv * 3
x, y = np.meshgrid(centres, -centres)
coords = np.zeros((dims, size * size), np.float32)
coords[0], coords[1] = x.ravel(), y.ravel()
value = noise.gen_from_coords(coords).reshape(size, size)
gray = (np.clip(value * 0.5 + 0.5, 0, 1) * 255 + 0.5).astype(np.uint8)
Image.fromarray(np.dstack([gray] * 3)).save(sys.argv[1])
'''
TRIVIAL_PEER = f'''\
import sys
import numpy as np
from PIL import Image

Image.fromarray(np.full(({SIZE}, {SIZE}, 3), 128, np.uint8)).save(sys.argv[1])
'''
PEERS = {"fbm": NOISE_PEER.format(size=SIZE, dims=2),
         "loop_noise": NOISE_PEER.format(size=SIZE, dims=3),
         "trivial": TRIVIAL_PEER}
PEER_NAMES = {"fbm": "pyfastnoiselite + Pillow script", "loop_noise": "pyfastnoiselite (3D) + Pillow script",
              "trivial": "numpy + Pillow script"}


def artlang_command() -> list[str]:
    """The venv's `artlang` console script beside this Python, else `python -m artlang`."""
    script = Path(sys.executable).with_name("artlang")
    return [str(script)] if script.exists() else [sys.executable, "-m", "artlang"]


def process_env(folder: Path, **settings: str) -> dict:
    """The environment for the timed processes: bytecode cached in `folder`, as a user's install has
    it (whatever this shell says), no NUMBA_CACHE_DIR unless given."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "NUMBA_CACHE_DIR")}
    return env | {"PYTHONPYCACHEPREFIX": str(folder / "pycache")} | settings


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return seconds


def compiled_kernels(cache: Path) -> int:
    """numba index files written into a cache folder (one per compiled function)."""
    return sum(1 for _ in cache.rglob("*.nbi"))


def check_pictures(case: str, ours: Path, theirs: Path) -> str:
    a, b = Image.open(ours), Image.open(theirs)
    if a.size != b.size or a.mode != b.mode:
        raise RuntimeError(f"{case}: artlang wrote {a.mode} {a.size}, the peer {b.mode} {b.size}")
    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if case == "trivial":
        if not np.array_equal(x, y):
            raise RuntimeError("trivial: the two pictures differ")
        return "identical pixels"
    for name, values in (("artlang", x), ("peer", y)):
        if not (abs(values.mean() - 128) < 16 and values.std() > 10):
            raise RuntimeError(f"{case}: the {name} picture does not look like fbm noise "
                               f"(mean {values.mean():.1f}, std {values.std():.1f})")
    return (f"both {a.mode} {a.size[0]} x {a.size[1]}; mean {x.mean():.0f} / {y.mean():.0f}, "
            f"std {x.std():.0f} / {y.std():.0f} (artlang / peer)")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--quick", action="store_true", help="fewer rounds (a rough figure)")
    first_rounds, warm_rounds = ((QUICK_FIRST_ROUNDS, QUICK_WARM_ROUNDS) if options.parse_args().quick
                                 else (FIRST_ROUNDS, WARM_ROUNDS))
    folder = Path(tempfile.mkdtemp(prefix="artlang-first-"))
    artlang = artlang_command()
    base_env = process_env(folder, NUMBA_NUM_THREADS="1")
    commands, warm_env = {}, {}
    try:
        for case, sketch in SKETCHES.items():
            (folder / f"{case}.art").write_text(sketch, encoding="utf-8")
            (folder / f"{case}_peer.py").write_text(PEERS[case], encoding="utf-8")
            commands[case] = (
                artlang + ["render", str(folder / f"{case}.art"), "-o", str(folder / f"{case}.png")],
                [sys.executable, str(folder / f"{case}_peer.py"), str(folder / f"{case}_peer.png")])
            warm_env[case] = dict(base_env, NUMBA_CACHE_DIR=str(folder / f"warm-cache-{case}"))
            timed(commands[case][0], warm_env[case])       # fills the warm cache, warms the OS cache
            timed(commands[case][1], base_env)
            print(f"{case:<11} pictures: {check_pictures(case, folder / f'{case}.png', folder / f'{case}_peer.png')}")
        print(f"artlang: {' '.join(artlang[-1:])} render, NUMBA_NUM_THREADS=1; "
              f"{first_rounds} first-render rounds, {warm_rounds} warm rounds, interleaved\n")

        first = {case: [] for case in SKETCHES}
        warm = {case: [] for case in SKETCHES}
        peer = {case: [] for case in SKETCHES}
        kernels = {case: [] for case in SKETCHES}
        for round_number in range(max(first_rounds, warm_rounds)):
            for case, (ours, theirs) in commands.items():
                if round_number < first_rounds:
                    cache = folder / f"cache-{case}-{round_number}"    # new and empty: nothing cached
                    first[case].append(timed(ours, dict(base_env, NUMBA_CACHE_DIR=str(cache))))
                    kernels[case].append(compiled_kernels(cache) if cache.exists() else 0)
                    shutil.rmtree(cache, ignore_errors=True)
                warm[case].append(timed(ours, warm_env[case]))
                peer[case].append(timed(theirs, base_env))

        print(f"{'case':<11} {'contender':<40} {'median':>8} {'min':>8}  (s, whole process)")
        for case in SKETCHES:
            rows = (("artlang, first (empty numba cache)", first[case]),
                    ("artlang, warm (cache filled)", warm[case]),
                    (PEER_NAMES[case], peer[case]))
            for name, values in rows:
                print(f"{case:<11} {name:<40} {statistics.median(values):8.3f} {min(values):8.3f}")
        print()
        for case in SKETCHES:
            theirs = statistics.median(peer[case])
            print(f"{case}: kernels compiled by a first render: {max(kernels[case])}; "
                  f"first {statistics.median(first[case]) / theirs:.1f}x, "
                  f"warm {statistics.median(warm[case]) / theirs:.1f}x the {PEER_NAMES[case]} "
                  f"(medians; minimums {min(first[case]) / min(peer[case]):.1f}x, "
                  f"{min(warm[case]) / min(peer[case]):.1f}x)")
        print()
        ratio = {(kind, case): statistics.median(times[case]) / statistics.median(peer[case])
                 for kind, times in (("first", first), ("warm", warm)) for case in SKETCHES}
        worst_first = max(ratio["first", case] for case in ("fbm", "loop_noise"))
        print("summary (peer: a plain Python script, pyfastnoiselite + Pillow; numpy + Pillow for the "
              "trivial sketch; 1 thread each): "
              f"first render fbm {ratio['first', 'fbm']:.1f}x, loop_noise {ratio['first', 'loop_noise']:.1f}x, "
              f"trivial {ratio['first', 'trivial']:.1f}x ({'meets' if worst_first <= 2 else 'misses'} "
              f"the <= 2x goal); warm render fbm {ratio['warm', 'fbm']:.1f}x, trivial "
              f"{ratio['warm', 'trivial']:.1f}x ({'meets' if max(ratio['warm', 'fbm'], ratio['warm', 'trivial']) <= 2 else 'misses'} "
              "the <= 2x goal)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
