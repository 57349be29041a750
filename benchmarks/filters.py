"""Image filter speed: artlang's filters against OpenCV on float32, thread for thread, in one run.

Run as `.venv/bin/python benchmarks/filters.py`. Every contender filters the same 1024 x 1024 float32
RGBA picture. Within a case every contender, at every thread count, runs once per round, the rounds
alternating the order; the table gives the median and the minimum of the rounds. The summary gives,
for each case and thread count, the ratio OpenCV time / artlang time: above 1.0 artlang is faster,
below 1.0 OpenCV is. This is a report, not a test: it exits 0 whatever the numbers are.

Fairness notes:
- The peer is OpenCV (`opencv-python-headless`, the `dev` extra) on the same float32 RGBA array, with
  the same edge rule: artlang mirrors with the edge pixel repeated (`d c b a | a b c d`), which is
  OpenCV's BORDER_REFLECT (not its default BORDER_REFLECT_101). Before any timing, each OpenCV call
  must give artlang's numbers within 1e-5 (largest difference printed); a case that does not is not
  timed.
- Thread for thread: `cv2.setNumThreads(n)` and artlang's `threads.set_threads(n)`, set before each
  run, outside the timing.
- The gaussian blur is exact up to 8 px (cut at 3 sigma: `cv2.GaussianBlur` with ksize 2*ceil(3 sigma)+1);
  above it artlang takes three box passes (as Pillow does), which differ from an exact gaussian by
  about 1e-3, so its peer there is the same three box passes in OpenCV (`cv2.blur` with artlang's
  radii), the fastest way to that result in OpenCV.
- The unsharp mask is a blur and `cv2.addWeighted`; the Sobel edges are the Rec. 709 luma times
  alpha (`cv2.transform`, `cv2.multiply`), `cv2.Sobel` both ways and `cv2.magnitude`, divided by 4,
  as artlang's `sobel` is defined.
- Pillow is an extra column, not in the ratios: it has no float RGBA filters, so it runs its uint8
  filters (a quarter of the memory traffic, rounded results; its GaussianBlur is always three box
  passes, its FIND_EDGES a Laplacian), on one thread.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from artlang.kernels import filters, threads  # noqa: E402

try:
    import cv2
    CV_MISSING = None
except ImportError as missing:                           # a report: say so and carry on
    cv2 = None
    CV_MISSING = f"OpenCV is not installed ({missing}); `pip install -e .[dev]` installs it"

SIZE = 1024
ROUNDS = 21
THREAD_COUNTS = sorted({1, 2, os.cpu_count() or 1})
TOLERANCE = 1e-5
SIGMAS = (2.0, 8.0, 32.0)   # 32 px takes artlang's box path (filters.BOX_SIGMA)
SHARPEN_KERNEL = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
SOFTEN_KERNEL = [[1, 2, 1], [2, 4, 2], [1, 2, 1]]

RNG = np.random.default_rng(1234)
# smooth-ish content plus noise, so edges and blurs do real work on every channel
_y, _x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
PICTURE = np.stack([0.5 + 0.5 * np.sin(_x * 40 + c) * np.cos(_y * 30 - c) for c in range(4)], axis=-1)
PICTURE = np.clip(PICTURE + RNG.normal(0, 0.1, PICTURE.shape), 0, 1).astype(np.float32)
PIL_PICTURE = Image.fromarray(np.floor(PICTURE * 255 + 0.5).astype(np.uint8), "RGBA")


def flat(rows) -> list:
    return [value for row in rows for value in row]


def soften(values):
    return (np.asarray(values, np.float32) / float(np.sum(values))).tolist()


# --- OpenCV, the same operations ----------------------------------------------------------------------

def cv_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    if sigma > filters.BOX_SIGMA:                       # artlang's three box passes
        for radius in filters.box_radii(sigma):
            image = cv2.blur(image, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REFLECT)
        return image
    size = 2 * filters.gaussian_radius(sigma) + 1
    return cv2.GaussianBlur(image, (size, size), sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


def cv_unsharp(image: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    return cv2.addWeighted(image, 1 + amount, cv_blur(image, sigma), -amount, 0)


_LUMA_ROW = np.array([[*filters.LUMA, 0.0]], np.float32)


def cv_sobel(image: np.ndarray) -> np.ndarray:
    luma = cv2.multiply(cv2.transform(image, _LUMA_ROW), cv2.extractChannel(image, 3))
    gx = cv2.Sobel(luma, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT)
    gy = cv2.Sobel(luma, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT)
    return cv2.multiply(cv2.magnitude(gx, gy), 0.25)


def cv_convolve(image: np.ndarray, kernel) -> np.ndarray:
    return cv2.filter2D(image, -1, np.asarray(kernel, np.float32), borderType=cv2.BORDER_REFLECT)


# case: (name, artlang, OpenCV, Pillow)
CASES = [(f"gaussian blur, sigma {sigma:g} px" + (" (box passes)" if sigma > filters.BOX_SIGMA else ""),
          lambda s=sigma: filters.blur(PICTURE, s),
          lambda s=sigma: cv_blur(PICTURE, s),
          lambda s=sigma: PIL_PICTURE.filter(ImageFilter.GaussianBlur(s)))
         for sigma in SIGMAS]
CASES += [
    ("unsharp mask, sigma 2 px, amount 1.5",
     lambda: filters.unsharp(PICTURE, 2.0, 1.5),
     lambda: cv_unsharp(PICTURE, 2.0, 1.5),
     lambda: PIL_PICTURE.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=0))),
    ("Sobel edges of the luma",
     lambda: filters.sobel(PICTURE),
     lambda: cv_sobel(PICTURE),
     lambda: PIL_PICTURE.filter(ImageFilter.FIND_EDGES)),
    ("3x3 convolution, separable [1 2 1]x[1 2 1]",
     lambda: filters.convolve(PICTURE, soften(SOFTEN_KERNEL)),
     lambda: cv_convolve(PICTURE, soften(SOFTEN_KERNEL)),
     lambda: PIL_PICTURE.filter(ImageFilter.Kernel((3, 3), flat(SOFTEN_KERNEL)))),
    ("3x3 convolution, not separable (sharpen)",
     lambda: filters.convolve(PICTURE, SHARPEN_KERNEL),
     lambda: cv_convolve(PICTURE, SHARPEN_KERNEL),
     lambda: PIL_PICTURE.filter(ImageFilter.Kernel((3, 3), flat(SHARPEN_KERNEL), scale=1))),
]


# --- timing -------------------------------------------------------------------------------------------

def set_both(count: int) -> None:
    threads.set_threads(count)
    if cv2 is not None:
        cv2.setNumThreads(count)


def interleaved(contenders: list[tuple[str, int, object]]) -> dict[str, list[float]]:
    """Wall times of every (name, threads, run), one run each per round, the order reversed every
    other round: a burst of load from another process slows one round of every contender alike."""
    for _, count, run in contenders:                    # warm up (compile, caches, page faults)
        set_both(count)
        run()
    times = {name: [] for name, _, _ in contenders}
    for round_index in range(ROUNDS):
        for name, count, run in (contenders if round_index % 2 == 0 else contenders[::-1]):
            set_both(count)
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return times


def cell(times: dict[str, list[float]], label: str) -> str:
    """'median / min' in milliseconds, or '-' for a contender that was not timed."""
    if label not in times:
        return f"{'-':>20}"
    return f"{np.median(times[label]) * 1e3:>12.1f} /{min(times[label]) * 1e3:>6.1f}"


def main() -> int:
    load_before = os.getloadavg()[0]
    threads_before = threads.get_threads()
    cv_version = cv2.__version__ if cv2 is not None else "missing"
    print(f"image filters on a {SIZE} x {SIZE} float32 RGBA picture: artlang against OpenCV {cv_version} "
          f"(float32), Pillow {Image.__version__} (uint8, extra column); {ROUNDS} interleaved rounds; "
          f"threads compared: {THREAD_COUNTS}; CPUs: {os.cpu_count()}; load average before the run: "
          f"{load_before:.2f} (other work on the machine skews the numbers)")
    if CV_MISSING:
        print(f"NOTE: {CV_MISSING}: no peer in this run, the times below are artlang's and Pillow's only")
    print("ratio = OpenCV median / artlang median at the same thread count: > 1.0 artlang is faster\n")

    columns = "".join(f"{f'{who} {n}t':>20}" for n in THREAD_COUNTS for who in ("artlang", "OpenCV"))
    header = f"{'case (median / min ms)':44}{'|diff|':>9}{columns}{'Pillow 1t':>20}"
    print(header)
    print("-" * len(header))
    summary = []
    for name, ours, theirs, pillow in CASES:
        set_both(1)
        difference = float(np.abs(ours() - theirs()).max()) if cv2 is not None else float("nan")
        agrees = difference <= TOLERANCE
        contenders = [(f"artlang {n}t", n, ours) for n in THREAD_COUNTS]
        if agrees:
            contenders += [(f"OpenCV {n}t", n, theirs) for n in THREAD_COUNTS]
        contenders.append(("Pillow 1t", 1, pillow))
        times = interleaved(contenders)
        cells = "".join(cell(times, f"{who} {n}t") for n in THREAD_COUNTS for who in ("artlang", "OpenCV"))
        print(f"{name:44}{difference:>9.1e}{cells}{cell(times, 'Pillow 1t')}")
        for n in THREAD_COUNTS:
            if not agrees:
                why = "OpenCV missing" if cv2 is None else f"OpenCV differs by {difference:.1e}, not compared"
                summary.append(f"  {name:44}{n} thread{'s' * (n > 1)}: {why}")
                continue
            ours_times, theirs_times = times[f"artlang {n}t"], times[f"OpenCV {n}t"]
            summary.append(f"  {name:44}{n} thread{'s' * (n > 1)}: artlang vs OpenCV {cv_version} float32: "
                           f"{np.median(theirs_times) / np.median(ours_times):.2f}x "
                           f"(by min {min(theirs_times) / min(ours_times):.2f}x)")
    set_both(threads_before)
    print("\nsummary (OpenCV time / artlang time, thread for thread; > 1.0 means artlang is faster):")
    print("\n".join(summary))
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
