"""Noise throughput: artlang's numba kernels against FastNoise Lite and a plain numpy Perlin.

Run as `.venv/bin/python benchmarks/noise.py`. Cases: Perlin 2D and 3D, simplex 2D and 3D (FastNoise
Lite's OpenSimplex2, the nearest it has), Worley F1 2D with euclidean distance (FastNoise Lite's
cellular noise, return type Distance, jitter 1) and 5-octave Perlin fbm. Every contender samples the same 1024 x 1024 grid of
coordinates in [0, 8) at frequency 1, and the table reports the best of several wall times as
samples per second, with the ratios artlang / pyfastnoiselite and artlang / numpy. This is a report,
not a test: it exits 0 whatever the numbers are.

Fairness notes:
- pyfastnoiselite's `gen_from_coords` is a plain loop that holds the GIL and has no thread option, so
  it is timed on one thread and, to use both cores like artlang does, split over two forked worker
  processes that read coordinates from and write results to shared memory (the task round trip is
  part of the time). The ratio is taken against whichever of the two is faster.
- FastNoiseSIMD (pyfastnoisesimd, SIMD and threaded, 3D only) is timed too when it is installed;
  it is optional and not a dependency of the project.
- The numpy contender is the same Perlin algorithm as artlang's, vectorised over whole arrays
  in float32; the script checks that it agrees with artlang before timing it.
"""
from __future__ import annotations

import mmap
import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZE = 1024
EXTENT = 8.0
REPEATS = 9
OCTAVES = 5
SEED = 1234

# --- coordinates and shared buffers (made before any worker is forked) ----------------------------

_rows, _columns = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) * np.float32(EXTENT / SIZE)
X = np.ascontiguousarray(_columns)
Y = np.ascontiguousarray(_rows)
Z = np.full_like(X, 0.37)
COUNT = X.size
HALF = COUNT // 2


def _shared(shape) -> np.ndarray:
    """A float32 array in anonymous shared memory: forked workers write into the parent's pages."""
    buffer = mmap.mmap(-1, int(np.prod(shape)) * 4)
    return np.frombuffer(buffer, dtype=np.float32).reshape(shape)


SHARED_COORDS = {}
for _dims, _planes in ((2, (X, Y)), (3, (X, Y, Z))):
    for _part, _slice in enumerate((slice(0, HALF), slice(HALF, COUNT))):
        _block = _shared((_dims, _slice.stop - _slice.start))
        for _axis, _plane in enumerate(_planes):
            _block[_axis] = _plane.reshape(-1)[_slice]
        SHARED_COORDS[_dims, _part] = _block
SHARED_OUT = _shared((COUNT,))

# --- FastNoise Lite --------------------------------------------------------------------------------

try:
    from pyfastnoiselite.pyfastnoiselite import (
        CellularDistanceFunction,
        CellularReturnType,
        FastNoiseLite,
        FractalType,
        NoiseType,
    )
except ImportError:                                   # a report: say so and carry on
    FastNoiseLite = None

FNL_CASES = {  # case -> (noise type name, fractal?, dimensions)
    "perlin2": ("NoiseType_Perlin", False, 2),
    "fbm2": ("NoiseType_Perlin", True, 2),
    "perlin3": ("NoiseType_Perlin", False, 3),
    "simplex2": ("NoiseType_OpenSimplex2", False, 2),
    "simplex3": ("NoiseType_OpenSimplex2", False, 3),
    "worley2": ("NoiseType_Cellular", False, 2),
}
_fnl_cache: dict[str, object] = {}


def fnl_noise(case: str):
    if case not in _fnl_cache:
        type_name, fractal, _ = FNL_CASES[case]
        noise = FastNoiseLite(seed=SEED)
        noise.noise_type = getattr(NoiseType, type_name)
        noise.frequency = 1.0
        if type_name == "NoiseType_Cellular":            # F1, euclidean distance, full jitter
            noise.cellular_distance_function = CellularDistanceFunction.CellularDistanceFunction_Euclidean
            noise.cellular_return_type = CellularReturnType.CellularReturnType_Distance
            noise.cellular_jitter = 1.0
        if fractal:
            noise.fractal_type = FractalType.FractalType_FBm
            noise.fractal_octaves = OCTAVES
            noise.fractal_lacunarity = 2.0
            noise.fractal_gain = 0.5
        else:
            noise.fractal_type = FractalType.FractalType_None
        _fnl_cache[case] = noise
    return _fnl_cache[case]


def fnl_full_coords(dims: int) -> np.ndarray:
    return np.ascontiguousarray(np.concatenate([SHARED_COORDS[dims, 0], SHARED_COORDS[dims, 1]], axis=1))


def _fnl_half(case: str, part: int) -> None:
    """Worker task: one half of the grid into the shared output."""
    dims = FNL_CASES[case][2]
    start = part * HALF
    block = SHARED_COORDS[dims, part]
    SHARED_OUT[start:start + block.shape[1]] = fnl_noise(case).gen_from_coords(block)


# --- plain numpy Perlin (the same algorithm as artlang.kernels.noise, whole-array float32) -----------------

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
    from artlang.kernels import noise
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
    from artlang.kernels.noise import _octaves
    _, seeds, frequencies, amplitudes, scale = _octaves(seed, "perlin", octaves, 2.0, 0.5, 2)
    total = np.zeros_like(x)
    for octave_seed, frequency, amplitude in zip(seeds, frequencies, amplitudes):
        total += amplitude * numpy_perlin2(x * frequency, y * frequency, int(octave_seed))
    return np.clip(total * scale, -1, 1)


# --- timing ------------------------------------------------------------------------------------------

def best_times(contenders: list[tuple[str, str, object]], rounds: int = REPEATS) -> list[tuple]:
    """Best wall time of each contender over `rounds` rounds that run every contender once in turn.

    Interleaving means a burst of load from another process slows every contender's round alike,
    and the best of the rounds is taken from the quiet ones.
    """
    for _, _, run in contenders:
        run()                                         # warm up (JIT, caches, page faults)
    best = [float("inf")] * len(contenders)
    for _ in range(rounds):
        for index, (_, _, run) in enumerate(contenders):
            start = time.perf_counter()
            run()
            best[index] = min(best[index], time.perf_counter() - start)
    return [(case, name, seconds) for (case, name, _), seconds in zip(contenders, best)]


def main() -> int:
    load_before = os.getloadavg()[0]
    pool = None
    if FastNoiseLite is not None:                     # fork before any threads start
        pool = multiprocessing.get_context("fork").Pool(2)
        pool.starmap(_fnl_half, [("perlin2", 0), ("perlin2", 1)])

    import numba

    from artlang.kernels import noise

    started = time.perf_counter()
    noise.perlin2(X[:1, :8], Y[:1, :8], SEED)
    noise.perlin3(X[:1, :8], Y[:1, :8], Z[:1, :8], SEED)
    noise.worley2(X[:1, :8], Y[:1, :8], SEED)
    noise.white_uniform(0, 0, SEED)
    warm_up = time.perf_counter() - started

    first_seed = int(noise._octaves(SEED, "perlin", 1, 2.0, 0.5, 2)[1][0])
    mismatch = float(np.abs(numpy_perlin2(X, Y, first_seed) - noise.perlin2(X, Y, SEED)).max())
    fbm_mismatch = float(np.abs(numpy_fbm2(X, Y, SEED) - noise.fbm2(X, Y, SEED)).max())

    artlang_cases = {
        "perlin2": lambda: noise.perlin2(X, Y, SEED),
        "fbm2": lambda: noise.fbm2(X, Y, SEED, basis="perlin", octaves=OCTAVES),
        "perlin3": lambda: noise.perlin3(X, Y, Z, SEED),
        "simplex2": lambda: noise.simplex2(X, Y, SEED),
        "simplex3": lambda: noise.simplex3(X, Y, Z, SEED),
        "worley2": lambda: noise.worley2(X, Y, SEED),
    }
    titles = {"perlin2": "Perlin 2D, 1 octave", "fbm2": f"Perlin fbm 2D, {OCTAVES} octaves",
              "perlin3": "Perlin 3D, 1 octave", "simplex2": "simplex 2D, 1 octave",
              "simplex3": "simplex 3D, 1 octave", "worley2": "Worley F1 2D, euclidean"}
    contenders = []      # (case, contender, callable); artlang first in each case
    for case, run in artlang_cases.items():
        contenders.append((case, "artlang (numba)", run))
        if FastNoiseLite is not None:
            coords = fnl_full_coords(FNL_CASES[case][2])
            contenders.append((case, "pyfastnoiselite, 1 thread",
                               lambda case=case, coords=coords: fnl_noise(case).gen_from_coords(coords)))
            contenders.append((case, "pyfastnoiselite, 2 processes",
                               lambda case=case: pool.starmap(_fnl_half, [(case, 0), (case, 1)])))
        if case == "perlin2":
            contenders.append((case, "numpy (float32, 1 thread)", lambda: numpy_perlin2(X, Y, SEED)))
        if case == "fbm2":
            contenders.append((case, "numpy (float32, 1 thread)", lambda: numpy_fbm2(X, Y, SEED)))
        contenders.extend(_simd_contenders(case))
    rows = best_times(contenders)
    if pool is not None:
        pool.close()
        pool.join()

    _report(rows, titles, numba, noise, warm_up, mismatch, fbm_mismatch, load_before)
    return 0


def _simd_contenders(case: str):
    """FastNoiseSIMD, when installed: 3D only, so 2D cases are sampled at z = 0."""
    try:
        import pyfastnoisesimd as fns
    except ImportError:
        return []
    kinds = {"perlin2": ("Perlin", False), "fbm2": ("PerlinFractal", True),
             "perlin3": ("Perlin", False), "simplex2": ("Simplex", False), "simplex3": ("Simplex", False),
             "worley2": ("Cellular", False)}
    kind, fractal = kinds[case]
    generator = fns.Noise(seed=SEED, numWorkers=os.cpu_count() or 1)
    generator.noiseType = getattr(fns.NoiseType, kind)
    generator.frequency = 1.0
    if kind == "Cellular":                            # F1 distance, euclidean
        generator.cell.returnType = fns.CellularReturnType.Distance
        generator.cell.distanceFunc = fns.CellularDistanceFunction.Euclidean
    if fractal:
        generator.fractal.fractalType = fns.FractalType.FBM
        generator.fractal.octaves = OCTAVES
        generator.fractal.lacunarity = 2.0
        generator.fractal.gain = 0.5
    coords = fns.empty_coords(COUNT)
    coords[0, :COUNT] = X.reshape(-1)
    coords[1, :COUNT] = Y.reshape(-1)
    three = case in ("perlin3", "simplex3")
    coords[2, :COUNT] = Z.reshape(-1) if three else 0.0
    label = f"pyfastnoisesimd, {generator.numWorkers} threads" + ("" if three else " (3D, z=0)")
    return [(case, label, lambda: generator.genFromCoords(coords))]


def _report(rows, titles, numba, noise, warm_up, mismatch, fbm_mismatch, load_before) -> None:
    versions = [f"numba {numba.__version__}", f"numpy {np.__version__}"]
    for package in ("pyfastnoiselite", "pyfastnoisesimd"):
        try:
            from importlib.metadata import version
            versions.append(f"{package} {version(package)}")
        except Exception:                             # noqa: BLE001 - a missing peer is just not listed
            pass
    print(f"noise throughput on a {SIZE}x{SIZE} grid, x and y in [0, {EXTENT:g}), "
          f"best of {REPEATS} interleaved rounds")
    print(f"artlang threads: {noise.get_threads()} (numba nogil kernels on a thread pool), "
          f"CPUs: {os.cpu_count()}; " + ", ".join(versions))
    print(f"artlang warm-up (load or compile the kernels): {warm_up:.2f} s; "
          f"load average before the run: {load_before:.2f} (other work on the machine skews the numbers)")
    print(f"numpy contender agrees with artlang: max |diff| perlin2 {mismatch:.1e}, fbm2 {fbm_mismatch:.1e}")
    print()
    print(f"{'case':<26}{'contender':<40}{'ms':>9}{'Msamples/s':>13}{'artlang x':>11}")
    by_case: dict[str, list] = {}
    for case, contender, seconds in rows:
        by_case.setdefault(case, []).append((contender, seconds))
    for case, entries in by_case.items():
        ours = entries[0][1]
        for index, (contender, seconds) in enumerate(entries):
            label = titles[case] if index == 0 else ""
            ratio = "" if index == 0 else f"{seconds / ours:.2f}"
            print(f"{label:<26}{contender:<40}{seconds * 1e3:>9.2f}{COUNT / seconds / 1e6:>13.1f}{ratio:>11}")
    print()
    print("ratios of samples/s (>= 1.0 means artlang is faster):")
    for case, entries in by_case.items():
        ours = entries[0][1]
        fnl = [s for c, s in entries if c.startswith("pyfastnoiselite")]
        numpy_times = [s for c, s in entries if c.startswith("numpy")]
        parts = []
        if fnl:
            parts.append(f"artlang/pyfastnoiselite {min(fnl) / ours:.2f}")
        if numpy_times:
            parts.append(f"artlang/numpy {numpy_times[0] / ours:.2f}")
        print(f"  {titles[case]:<26}" + ", ".join(parts))


if __name__ == "__main__":
    sys.exit(main())
