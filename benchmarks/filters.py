"""Image filter speed: artlang's filters against Pillow's ImageFilter and plain numpy, in one run.

Run as `.venv/bin/python benchmarks/filters.py`. Every contender filters the same 1024 x 1024 RGBA
picture; the table gives the best of several wall times and the ratios artlang / Pillow and
artlang / numpy (below 1.0 means artlang is faster; the goal is at most 1.2). This is a report, not
a test: it exits 0 whatever the numbers are.

Fairness notes (apples and oranges):
- artlang works on float32 (16 bytes a pixel, 4x the memory traffic of Pillow's uint8), with
  exact results and no rounding between passes; Pillow has no float RGBA filters, so its uint8
  filters are the nearest peer. Each contender's output is compared with the float64 reference.
- Pillow's GaussianBlur is three box blurs (an approximation whose cost does not grow with the
  radius); artlang's is the exact gaussian cut at 3 sigma, so its cost grows with the radius.
- Pillow runs on one thread; artlang shares rows over the noise thread pool (all cores here). The
  single-thread artlang time is printed too.
- Pillow's FIND_EDGES is a 3x3 Laplacian on each channel; artlang's `edges` is the Sobel magnitude of
  the luma. The numpy contender computes exactly artlang's Sobel.
- The numpy contender is the obvious vectorised float32 code: shifted slices of a padded array,
  with the same mirrored edges; it is checked against artlang before timing.
- All four channels are filtered (the picture has varying alpha, and no premultiplication is done
  by any contender, as Pillow does not do it for these filters either).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlang.kernels import filters, noise  # noqa: E402

SIZE = 1024
REPEATS = 7
SIGMAS = (2.0, 8.0, 32.0)   # 32 px takes the constant-cost box path (filters.BOX_SIGMA)
SHARPEN_KERNEL = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
SOFTEN_KERNEL = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]

RNG = np.random.default_rng(1234)
# smooth-ish content plus noise, so edges and blurs do real work on every channel
_y, _x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
PICTURE = np.stack([0.5 + 0.5 * np.sin(_x * 40 + c) * np.cos(_y * 30 - c) for c in range(4)], axis=-1)
PICTURE = np.clip(PICTURE + RNG.normal(0, 0.1, PICTURE.shape), 0, 1).astype(np.float32)
BYTES = np.floor(PICTURE * 255 + 0.5).astype(np.uint8)
PIL_PICTURE = Image.fromarray(BYTES, "RGBA")


# --- plain numpy, the same operations -----------------------------------------------------------

def numpy_correlate(image: np.ndarray, kernel) -> np.ndarray:
    kernel = np.atleast_2d(np.asarray(kernel, np.float32))
    ry, rx = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = np.pad(image, ((ry, ry), (rx, rx), (0, 0)), mode="symmetric")
    height, width = image.shape[:2]
    out = np.zeros_like(image)
    for i in range(kernel.shape[0]):
        for j in range(kernel.shape[1]):
            if kernel[i, j] != 0:
                out += kernel[i, j] * padded[i:i + height, j:j + width]
    return out


def numpy_box(image: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """A box of width 2*radius+1 along one axis, mirrored edges, by cumulative sums."""
    pad = [(0, 0)] * image.ndim
    pad[axis] = (radius + 1, radius)
    sums = np.cumsum(np.pad(image, pad, mode="symmetric"), axis=axis, dtype=np.float64)
    width = 2 * radius + 1
    upper = np.take(sums, range(width, sums.shape[axis]), axis=axis)
    lower = np.take(sums, range(0, sums.shape[axis] - width), axis=axis)
    return ((upper - lower) / width).astype(np.float32)


def numpy_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """The same blur as artlang: exact up to filters.BOX_SIGMA pixels, three box passes beyond."""
    if sigma > filters.BOX_SIGMA:
        for radius in filters.box_radii(sigma):
            image = numpy_box(numpy_box(image, radius, 1), radius, 0)
        return image
    weights = filters.gaussian_weights(sigma)
    return numpy_correlate(numpy_correlate(image, weights[:, None]), weights[None, :])


def numpy_unsharp(image: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    return image + np.float32(amount) * (image - numpy_blur(image, sigma))


def numpy_sobel(image: np.ndarray) -> np.ndarray:
    luma = filters.luma(image)[..., None]
    gx = numpy_correlate(luma, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    gy = numpy_correlate(luma, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    return np.float32(0.25) * np.sqrt(gx * gx + gy * gy)[..., 0]


def reference(image, kernel) -> np.ndarray:
    return numpy_correlate(image.astype(np.float64), kernel)


# --- timing -------------------------------------------------------------------------------------

def best_time(function) -> float:
    function()                                   # compile / warm up
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def artlang_single_thread(function) -> float:
    before = noise.get_threads()
    noise.set_threads(1)
    try:
        return best_time(function)
    finally:
        noise.set_threads(before)


def soften(values):
    total = float(np.sum(values))
    return (np.asarray(values, np.float32) / total).tolist()


CASES = []
for _sigma in SIGMAS:
    CASES.append((f"gaussian blur, sigma {_sigma:g} px",
                  lambda s=_sigma: filters.blur(PICTURE, s),
                  lambda s=_sigma: PIL_PICTURE.filter(ImageFilter.GaussianBlur(s)),
                  lambda s=_sigma: numpy_blur(PICTURE, s)))
CASES += [
    ("unsharp mask, sigma 2 px, amount 1.5",
     lambda: filters.unsharp(PICTURE, 2.0, 1.5),
     lambda: PIL_PICTURE.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=0)),
     lambda: numpy_unsharp(PICTURE, 2.0, 1.5)),
    ("Sobel edges (Pillow: FIND_EDGES)",
     lambda: filters.sobel(PICTURE),
     lambda: PIL_PICTURE.filter(ImageFilter.FIND_EDGES),
     lambda: numpy_sobel(PICTURE)),
    ("3x3 convolution, separable [1 2 1]x[1 2 1]",
     lambda: filters.convolve(PICTURE, soften(SOFTEN_KERNEL)),
     lambda: PIL_PICTURE.filter(ImageFilter.Kernel((3, 3), sum(SOFTEN_KERNEL, []))),
     lambda: numpy_correlate(PICTURE, soften(SOFTEN_KERNEL))),
    ("3x3 convolution, not separable (sharpen)",
     lambda: filters.convolve(PICTURE, SHARPEN_KERNEL),
     lambda: PIL_PICTURE.filter(ImageFilter.Kernel((3, 3), sum(SHARPEN_KERNEL, []), scale=1)),
     lambda: numpy_correlate(PICTURE, SHARPEN_KERNEL)),
]


def check_agreement() -> None:
    """The numpy contender computes the same numbers as artlang (else the timing means nothing)."""
    for name, ours, _pillow, theirs in CASES:
        difference = float(np.abs(ours() - theirs()).max())
        if difference > 1e-4:
            raise SystemExit(f"{name}: artlang and numpy differ by {difference}")
    exact = reference(PICTURE, SHARPEN_KERNEL)
    ours = float(np.abs(filters.convolve(PICTURE, SHARPEN_KERNEL) - exact).max())
    pillow = np.asarray(PIL_PICTURE.filter(ImageFilter.Kernel((3, 3), sum(SHARPEN_KERNEL, []), scale=1)),
                        np.float64) / 255
    inner = (slice(1, -1), slice(1, -1))      # Pillow copies the border pixels unfiltered
    theirs = float(np.abs(pillow[inner] - np.clip(exact, 0, 1)[inner]).max())
    print(f"largest error against a float64 reference (sharpen kernel): artlang {ours:.1e}, "
          f"Pillow uint8 {theirs:.1e}\n")


def main() -> None:
    print(f"image filters on a {SIZE} x {SIZE} RGBA picture (artlang float32 on {noise.get_threads()} "
          f"threads, Pillow {Image.__version__} uint8 on 1, numpy {np.__version__} float32), best of {REPEATS}\n")
    check_agreement()
    header = f"{'case':44} {'artlang':>9} {'1 thread':>9} {'Pillow':>9} {'numpy':>9} {'/Pillow':>8} {'/numpy':>8}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, ours, pillow, theirs in CASES:
        a, a1, p, n = best_time(ours), artlang_single_thread(ours), best_time(pillow), best_time(theirs)
        worst = max(worst, a / p, a / n)
        print(f"{name:44} {a * 1e3:7.1f}ms {a1 * 1e3:7.1f}ms {p * 1e3:7.1f}ms {n * 1e3:7.1f}ms "
              f"{a / p:7.2f}x {a / n:7.2f}x")
    print(f"\nworst ratio artlang / peer: {worst:.2f} (goal: at most 1.2)")


if __name__ == "__main__":
    main()
