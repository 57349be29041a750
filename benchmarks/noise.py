"""Noise throughput: artlang's numba kernels against FastNoiseSIMD, FastNoise Lite and plain numpy,
thread for thread, in one run.

Run as `.venv/bin/python benchmarks/noise.py`. Cases: Perlin 2D and 3D, 5-octave Perlin fbm 2D
(lacunarity 2, gain 0.5), simplex 2D and 3D, Worley F1 2D (euclidean). Every contender samples the
same 1024 x 1024 grid of coordinates in [0, 8) at frequency 1 (z = 0.37 in 3D). Within a case every
contender, at every thread count, runs once per round, the rounds alternating the order; the table
gives the median and the minimum of the rounds. The summary names, for each case and thread count,
the strongest peer (lowest median) at that same thread count and the ratio peer time / artlang time:
above 1.0 artlang is faster, below 1.0 the peer is. This is a report, not a test: it exits 0 whatever
the numbers are.

Fairness notes:
- artlang's thread count is set with `threads.set_threads(n)`; a peer counts at n threads only when it
  really runs on n threads. pyfastnoisesimd (FastNoiseSIMD, SIMD) threads with its `numWorkers` (a
  thread pool over chunks of the coordinates; its C++ releases the GIL). PyPI has only its source,
  whose setup.py needs numpy's headers but does not declare numpy as a build requirement, so it is
  installed apart: `.venv/bin/pip install --no-build-isolation pyfastnoisesimd==0.4.2` (about a minute
  of C++). Its `genAsGrid` fails on numpy 2 (`np.product`); `genFromCoords`, used here, works.
  pyfastnoiselite's `gen_from_coords` holds the GIL and has no thread option (two Python threads
  run no faster than one), so it is a peer at 1 thread only.
- FastNoiseSIMD is 3D only: its 2D cases are 3D noise sampled at z = 0, the cheapest way to get 2D
  noise from it (a 3D evaluation does more work than a 2D one: 8 Perlin corners instead of 4, 27
  Worley cells instead of 9). Its simplex is the classic simplex; FastNoise Lite's is OpenSimplex2;
  its cellular points sit on a sphere of radius `jitter` (0.45) around the cell corner and it returns
  the squared distance. The noises are not the same bytes, so the check before timing compares
  what can be compared: the spread (std) and the feature size (the correlation of samples a
  quarter unit apart); a contender that does not match artlang there is left out of the ratios.
- The numpy contender is artlang's Perlin, vectorised over whole arrays in float32 (1 thread); it
  must agree with artlang to 1e-5 before it is timed.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlang.kernels import noise, threads  # noqa: E402

SIZE = 1024
EXTENT = 8.0
ROUNDS = 21
OCTAVES = 5
SEED = 1234
THREAD_COUNTS = sorted({1, 2, os.cpu_count() or 1})
QUARTER_UNIT = int(SIZE / EXTENT / 4)        # pixels a quarter of a noise unit apart
MOST_CORRELATION_GAP = 0.2                   # feature sizes that differ more than this do not compare

_rows, _columns = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) * np.float32(EXTENT / SIZE)
X = np.ascontiguousarray(_columns)
Y = np.ascontiguousarray(_rows)
Z = np.full_like(X, 0.37)
COUNT = X.size

# case -> (title, 3D?, FastNoiseSIMD noise type, FastNoise Lite noise type, fractal?)
CASES = {
    "perlin2": ("Perlin 2D", False, "Perlin", "NoiseType_Perlin", False),
    "fbm2": (f"Perlin fbm 2D, {OCTAVES} octaves", False, "PerlinFractal", "NoiseType_Perlin", True),
    "perlin3": ("Perlin 3D", True, "Perlin", "NoiseType_Perlin", False),
    "simplex2": ("simplex 2D", False, "Simplex", "NoiseType_OpenSimplex2", False),
    "simplex3": ("simplex 3D", True, "Simplex", "NoiseType_OpenSimplex2", False),
    "worley2": ("Worley F1 2D, euclidean", False, "Cellular", "NoiseType_Cellular", False),
}


@dataclass
class Contender:
    name: str
    threads: int
    run: Callable[[], np.ndarray]
    prepare: Callable[[], None] = lambda: None   # untimed, before each run (thread settings)
    artlang: bool = False


# --- artlang ---------------------------------------------------------------------------------------

def artlang_contenders(case: str) -> list[Contender]:
    three = CASES[case][1]
    if case == "fbm2":
        run = lambda: noise.fbm2(X, Y, SEED, basis="perlin", octaves=OCTAVES, lacunarity=2.0, gain=0.5)
    else:
        function = getattr(noise, case)
        run = (lambda: function(X, Y, Z, SEED)) if three else (lambda: function(X, Y, SEED))
    return [Contender(f"artlang, {n} thread{'s' * (n > 1)}", n, run,
                      prepare=lambda n=n: threads.set_threads(n), artlang=True) for n in THREAD_COUNTS]


# --- FastNoiseSIMD -----------------------------------------------------------------------------------

try:
    import pyfastnoisesimd as fns
    SIMD_MISSING = None
except ImportError as missing:                         # a report: say so and carry on
    fns = None
    SIMD_MISSING = (f"pyfastnoisesimd is not installed ({missing}); install it with `.venv/bin/pip install "
                    f"--no-build-isolation pyfastnoisesimd==0.4.2`")


def simd_contenders(case: str) -> list[Contender]:
    if fns is None:
        return []
    _, three, kind, _, fractal = CASES[case]
    coords = fns.empty_coords(COUNT)                   # SIMD-aligned (3, COUNT) float32
    coords[0, :COUNT] = X.reshape(-1)
    coords[1, :COUNT] = Y.reshape(-1)
    coords[2, :COUNT] = Z.reshape(-1) if three else 0.0
    contenders = []
    for n in THREAD_COUNTS:
        generator = fns.Noise(seed=SEED, numWorkers=n)
        generator.noiseType = getattr(fns.NoiseType, kind)
        generator.frequency = 1.0
        if kind == "Cellular":
            generator.cell.returnType = fns.CellularReturnType.Distance
            generator.cell.distanceFunc = fns.CellularDistanceFunction.Euclidean
        if fractal:
            generator.fractal.fractalType = fns.FractalType.FBM
            generator.fractal.octaves = OCTAVES
            generator.fractal.lacunarity = 2.0
            generator.fractal.gain = 0.5
        label = f"pyfastnoisesimd, {n} thread{'s' * (n > 1)}" + ("" if three else " (3D at z=0)")
        contenders.append(Contender(label, n, lambda g=generator: g.genFromCoords(coords)[:COUNT]))
    return contenders


# --- FastNoise Lite ----------------------------------------------------------------------------------

try:
    from pyfastnoiselite.pyfastnoiselite import (
        CellularDistanceFunction,
        CellularReturnType,
        FastNoiseLite,
        FractalType,
        NoiseType,
    )
except ImportError:
    FastNoiseLite = None


def lite_contenders(case: str) -> list[Contender]:
    if FastNoiseLite is None:
        return []
    _, three, _, kind, fractal = CASES[case]
    generator = FastNoiseLite(seed=SEED)
    generator.noise_type = getattr(NoiseType, kind)
    generator.frequency = 1.0
    if kind == "NoiseType_Cellular":                   # F1 distance, euclidean, full jitter
        generator.cellular_distance_function = CellularDistanceFunction.CellularDistanceFunction_Euclidean
        generator.cellular_return_type = CellularReturnType.CellularReturnType_Distance
        generator.cellular_jitter = 1.0
    if fractal:
        generator.fractal_type = FractalType.FractalType_FBm
        generator.fractal_octaves = OCTAVES
        generator.fractal_lacunarity = 2.0
        generator.fractal_gain = 0.5
    else:
        generator.fractal_type = FractalType.FractalType_None
    planes = (X, Y, Z) if three else (X, Y)
    coords = np.ascontiguousarray(np.stack([plane.reshape(-1) for plane in planes]))
    return [Contender("pyfastnoiselite, 1 thread (holds the GIL)", 1,
                      lambda: generator.gen_from_coords(coords))]


# --- plain numpy Perlin (the same algorithm as artlang's, whole-array float32) ------------------------

# artlang's 8 gradients, indexed by the hash's top 3 bits: bit 2 and bit 1 flip the signs of the
# cos and sin parts, bit 0 swaps the axes.
_K = np.arange(8)
_COS, _SIN = np.cos(np.pi / 8), np.sin(np.pi / 8)
_SIGN_A, _SIGN_B = np.where(_K & 4, -1.0, 1.0), np.where(_K & 2, -1.0, 1.0)
_GX = np.where(_K & 1, _SIGN_B * _SIN, _SIGN_A * _COS).astype(np.float32)
_GY = np.where(_K & 1, _SIGN_A * _COS, _SIGN_B * _SIN).astype(np.float32)


def _numpy_fade(t):
    return t * t * t * (t * (t * np.float32(6) - np.float32(15)) + np.float32(10))


def numpy_perlin2(x, y, seed: int) -> np.ndarray:
    """Perlin noise for one 32-bit seed, with artlang's constants, as whole-array numpy float32."""
    fx, fy = np.floor(x), np.floor(y)
    dx0, dy0 = x - fx, y - fy
    dx1, dy1 = dx0 - np.float32(1), dy0 - np.float32(1)
    x0 = fx.astype(np.int32).view(np.uint32) * noise._PRIME_X
    y0 = fy.astype(np.int32).view(np.uint32) * noise._PRIME_Y
    x1, y1 = x0 + noise._PRIME_X, y0 + noise._PRIME_Y
    seed = np.uint32(seed)

    def corner(xp, yp, dx, dy):
        h = (seed ^ xp ^ yp) * noise._HASH_MUL
        k = ((h ^ (h >> np.uint32(15))) * noise._HASH_MUL_2) >> np.uint32(29)
        return _GX[k] * dx + _GY[k] * dy

    u, v = _numpy_fade(dx0), _numpy_fade(dy0)
    bottom = corner(x0, y0, dx0, dy0)
    bottom += u * (corner(x1, y0, dx1, dy0) - bottom)
    top = corner(x0, y1, dx0, dy1)
    top += u * (corner(x1, y1, dx1, dy1) - top)
    return np.clip((bottom + v * (top - bottom)) * noise._PERLIN2_SCALE, -1, 1)


def numpy_fbm2(x, y, seed: int, octaves: int = OCTAVES) -> np.ndarray:
    _, seeds, frequencies, amplitudes, scale = noise._octaves(seed, "perlin", octaves, 2.0, 0.5, 2)
    total = np.zeros_like(x)
    for octave_seed, frequency, amplitude in zip(seeds, frequencies, amplitudes):
        total += amplitude * numpy_perlin2(x * frequency, y * frequency, int(octave_seed))
    return np.clip(total * scale, -1, 1)


def numpy_contenders(case: str) -> list[Contender]:
    if case == "perlin2":
        first_seed = int(noise._octaves(SEED, "perlin", 1, 2.0, 0.5, 2)[1][0])
        return [Contender("numpy float32, 1 thread", 1, lambda: numpy_perlin2(X, Y, first_seed))]
    if case == "fbm2":
        return [Contender("numpy float32, 1 thread", 1, lambda: numpy_fbm2(X, Y, SEED))]
    return []


# --- checks and timing ------------------------------------------------------------------------------

def features(values: np.ndarray) -> tuple[float, float]:
    """(std, correlation of samples a quarter unit apart along x): the spread and the feature size."""
    grid = np.asarray(values, np.float64).reshape(SIZE, SIZE)
    left, right = grid[:, :-QUARTER_UNIT].ravel(), grid[:, QUARTER_UNIT:].ravel()
    return float(grid.std()), float(np.corrcoef(left, right)[0, 1])


def check(contenders: list[Contender]) -> tuple[list[Contender], str]:
    """The contenders that compute artlang's noise (or noise like it), and a line saying what was checked.

    Each library's output must not depend on its thread count; the numpy contender must give
    artlang's numbers; the others must have artlang's spread and feature size."""
    outputs = {}
    for contender in contenders:
        contender.prepare()
        outputs[contender.name] = np.asarray(contender.run(), np.float32).reshape(-1)
    ours = outputs[contenders[0].name]
    our_std, our_correlation = features(ours)
    kept, measured, problems = [], {}, []
    for contender in contenders:
        values = outputs[contender.name]
        library = contender.name.split(",")[0]
        if library not in measured:                    # its first (1-thread) contender
            measured[library] = (values, *features(values))
        single_thread, std, correlation = measured[library]
        threads_differ = float(np.abs(values - single_thread).max())
        artlang_differs = float(np.abs(values - ours).max())
        if threads_differ > 1e-5:
            problems.append(f"{contender.name} differs from its 1-thread output by {threads_differ:.1e}")
        elif library.startswith("numpy") and artlang_differs > 1e-5:
            problems.append(f"{contender.name} differs from artlang by {artlang_differs:.1e}")
        elif not np.isfinite(values).all() or not 0.5 < std / our_std < 2 \
                or abs(correlation - our_correlation) > MOST_CORRELATION_GAP:
            problems.append(f"{contender.name} is not the same kind of noise")
        else:
            kept.append(contender)
    line = "check (std, correlation a quarter unit apart): " + ", ".join(
        f"{library} {std:.2f} {correlation:.2f}" for library, (_, std, correlation) in measured.items())
    line += "; outputs do not depend on the thread count"
    if any(c.name.startswith("numpy") for c in kept):
        line += "; numpy gives artlang's numbers (within 1e-5)"
    if problems:
        line += "; LEFT OUT: " + "; ".join(problems)
    return kept, line


def interleaved(contenders: list[Contender], rounds: int = ROUNDS) -> dict[str, list[float]]:
    """Wall times of every contender, one run each per round, the order reversed every other round:
    a burst of load from another process slows one round of every contender alike."""
    times = {contender.name: [] for contender in contenders}
    for round_index in range(rounds):
        order = contenders if round_index % 2 == 0 else contenders[::-1]
        for contender in order:
            contender.prepare()
            start = time.perf_counter()
            contender.run()
            times[contender.name].append(time.perf_counter() - start)
    return times


def _versions() -> str:
    found = [f"numpy {np.__version__}"]
    for package in ("numba", "pyfastnoisesimd", "pyfastnoiselite"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} not installed")
    if fns is not None:
        found.append(f"FastNoiseSIMD level {fns.extension.SIMD_LEVEL}")
    return ", ".join(found)


def main() -> int:
    load_before = os.getloadavg()[0]
    threads_before = threads.get_threads()
    started = time.perf_counter()
    noise.perlin2(X[:1, :8], Y[:1, :8], SEED)          # load or compile the kernels
    noise.perlin3(X[:1, :8], Y[:1, :8], Z[:1, :8], SEED)
    noise.worley2(X[:1, :8], Y[:1, :8], SEED)
    warm_up = time.perf_counter() - started

    print(f"noise throughput on a {SIZE}x{SIZE} grid, x and y in [0, {EXTENT:g}), frequency 1; "
          f"{ROUNDS} interleaved rounds; threads compared: {THREAD_COUNTS}; CPUs: {os.cpu_count()}")
    print(_versions())
    if SIMD_MISSING:
        print(f"NOTE: {SIMD_MISSING}: the strongest peer is missing from this run")
    print(f"artlang warm-up (load or compile the kernels): {warm_up:.2f} s; load average before the run: "
          f"{load_before:.2f} (other work on the machine skews the numbers)")
    print("ratio = peer median / artlang median at the same thread count: > 1.0 artlang is faster\n")

    summary = []
    for case, (title, *_rest) in CASES.items():
        contenders = (artlang_contenders(case) + simd_contenders(case) + lite_contenders(case)
                      + numpy_contenders(case))
        kept, checked = check(contenders)
        for contender in kept:                         # warm up (caches, page faults, pools)
            contender.prepare()
            contender.run()
        times = interleaved(kept)
        print(f"{title}\n  {checked}")
        print(f"  {'contender':<46}{'median ms':>10}{'min ms':>9}{'Msamples/s':>12}")
        for contender in kept:
            median, best = float(np.median(times[contender.name])), min(times[contender.name])
            print(f"  {contender.name:<46}{median * 1e3:>10.2f}{best * 1e3:>9.2f}{COUNT / median / 1e6:>12.1f}")
        for n in THREAD_COUNTS:
            ours = next(c for c in kept if c.artlang and c.threads == n)
            peers = [c for c in kept if not c.artlang and c.threads == n]
            if not peers:
                summary.append(f"  {title:<28}{n} thread{'s' * (n > 1)}: no peer runs on {n} threads")
                continue
            strongest = min(peers, key=lambda c: np.median(times[c.name]))
            by_median = np.median(times[strongest.name]) / np.median(times[ours.name])
            by_min = min(times[strongest.name]) / min(times[ours.name])
            summary.append(f"  {title:<28}{n} thread{'s' * (n > 1)}: artlang vs {strongest.name}: "
                           f"{by_median:.2f}x (by min {by_min:.2f}x)")
        print()
    threads.set_threads(threads_before)
    print("summary (peer time / artlang time, thread for thread; > 1.0 means artlang is faster):")
    print("\n".join(summary))
    if SIMD_MISSING:
        print(f"  NOTE: {SIMD_MISSING}; these ratios are against weaker peers and flatter artlang")
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
