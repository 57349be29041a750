"""Neighbourhood filters on float32 images: gaussian blur, unsharp mask, Sobel, convolution, sampling.

Images are (H, W, C) float32 arrays (C = 4 for straight-alpha RGBA). The filters here know nothing
about sketches; `builtins/filters.py` declares the built-ins that call them.

- **Edges** are mirrored (`d c b a | a b c d | d c b a`, numpy's "symmetric" padding): a blur keeps
  the mean of the picture exactly, and a flat picture has no edges at its border.
- **Speed**: the loops are numba kernels (`nogil`, `cache=True`, no `fastmath`, so bytes do not depend
  on whether a kernel was just compiled or loaded from the cache). Each output row is computed on its
  own from the source, so the rows are shared out over the same number of threads as the noise
  kernels (`threads.set_threads`), and the result does not depend on that number. numba is imported
  when the first filter runs.
- **Order of summation** is fixed (tap by tap, then left to right), so results are deterministic.
- **Tiles** (`tiles.py`): each filter says how far it reads (`blur_reach`, `kernel_reach`), and a
  tile computes it over the tile grown by that much, up to the canvas's edge, where the mirroring
  then happens as on the whole canvas. The box passes restart their running sums on the canvas's
  grid (`origin`), never at the tile's edge, so a tile gets the whole canvas's bytes.
"""
from __future__ import annotations

import math

import numpy as np

from artlang.kernels.threads import run_shares

F32 = np.float32
TRUNCATE = 3.0                      # a gaussian is cut off at 3 standard deviations
BOX_SIGMA = 8.0                     # above this many pixels, blur with three box passes (constant cost)
BOX_PASSES = 3
COLUMN_BLOCK = 64                   # vertical running sums restart every this many canvas rows
ROW_BLOCK = 64                      # horizontal running sums restart every multiple of this many canvas
                                    # columns at least as wide as the box (box_rows, row_block)
MIN_VALUES_PER_THREAD = 65536       # fewer values than this per thread are not worth a thread
LUMA = (0.2126, 0.7152, 0.0722)     # Rec. 709 weights, applied to the sRGB values

__all__ = ["gaussian_weights", "blur", "unsharp", "convolve", "sobel", "luma", "premultiply",
           "unpremultiply", "sample", "sample_flat", "blur_reach", "kernel_reach"]


# --- kernels (compiled on first use) ---------------------------------------------------------------

_KERNELS: dict = {}


def _kernels() -> dict:
    if _KERNELS:
        return _KERNELS
    from numba import njit  # heavy: compiled only when a sketch uses it

    jit = njit(cache=True, nogil=True)

    @jit
    def mirror(i, n):
        """Index i (any integer) reflected into 0..n-1 with the edge pixel repeated."""
        period = 2 * n
        i = i % period
        return i if i < n else period - 1 - i

    @jit
    def correlate_row(line, channels, weights, out):
        """out = sum_k weights[k] * line shifted by (k - r) pixels, mirrored at the ends."""
        width_c = line.size
        width = width_c // channels
        radius = weights.size // 2
        for j in range(width_c):
            out[j] = 0.0
        for k in range(weights.size):
            w = weights[k]
            offset = (k - radius) * channels
            start = max(0, -offset)
            stop = min(width_c, width_c - offset)
            source = line[start + offset:stop + offset]   # the interior: a plain shifted row (SIMD)
            target = out[start:stop]
            for j in range(stop - start):
                target[j] += w * source[j]
            for j in range(0, min(start, width_c)):    # the left border
                source = mirror(j // channels + k - radius, width) * channels + j % channels
                out[j] += w * line[source]
            for j in range(max(stop, start), width_c):  # the right border
                source = mirror(j // channels + k - radius, width) * channels + j % channels
                out[j] += w * line[source]

    @jit
    def separable(source, channels, vertical, horizontal, unpremultiply, out, first, end):
        """Rows first..end-1 of the separable filter vertical x horizontal of source (H, W*C)."""
        height, width_c = source.shape
        radius = vertical.size // 2
        line = np.empty(width_c, np.float32)
        for y in range(first, end):
            for j in range(width_c):
                line[j] = 0.0
            for k in range(vertical.size):
                w = vertical[k]
                row = source[mirror(y + k - radius, height)]
                for j in range(width_c):
                    line[j] += w * row[j]
            target = out[y]
            correlate_row(line, channels, horizontal, target)
            if unpremultiply:
                for x in range(width_c // channels):
                    alpha = target[x * channels + channels - 1]
                    for c in range(channels - 1):
                        target[x * channels + c] = target[x * channels + c] / alpha if alpha > 0 else 0.0

    @jit
    def correlate(source, channels, weights, out, first, end):
        """Rows first..end-1 of the 2-D correlation of source (H, W*C) with weights (kh, kw)."""
        height, width_c = source.shape
        radius = weights.shape[0] // 2
        line = np.empty(width_c, np.float32)
        for y in range(first, end):
            target = out[y]
            for j in range(width_c):
                target[j] = 0.0
            for k in range(weights.shape[0]):
                correlate_row(source[mirror(y + k - radius, height)], channels, weights[k], line)
                for j in range(width_c):
                    target[j] += line[j]

    @jit
    def luma_row(row, weights, alpha_channel, out):
        """Luma of one row of RGBA (or RGB when alpha_channel < 0) pixels, times alpha."""
        channels = row.size // out.size
        for x in range(out.size):
            base = x * channels
            value = weights[0] * row[base] + weights[1] * row[base + 1] + weights[2] * row[base + 2]
            out[x] = value * row[base + alpha_channel] if alpha_channel >= 0 else value

    @jit
    def sobel(source, weights, alpha_channel, out, first, end):
        """Rows first..end-1 of the Sobel gradient magnitude (divided by 4) of the luma of source."""
        height, width = out.shape
        above = np.empty(width + 2, np.float32)
        middle = np.empty(width + 2, np.float32)
        below = np.empty(width + 2, np.float32)
        for y in range(first, end):
            luma_row(source[mirror(y - 1, height)], weights, alpha_channel, above[1:width + 1])
            luma_row(source[y], weights, alpha_channel, middle[1:width + 1])
            luma_row(source[mirror(y + 1, height)], weights, alpha_channel, below[1:width + 1])
            for buffer in (above, middle, below):         # mirrored edge: the edge pixel repeated
                buffer[0] = buffer[1]
                buffer[width + 1] = buffer[width]
            target = out[y]
            for x in range(width):
                gx = (above[x + 2] - above[x]) + 2.0 * (middle[x + 2] - middle[x]) + (below[x + 2] - below[x])
                gy = (below[x] + 2.0 * below[x + 1] + below[x + 2]) - (above[x] + 2.0 * above[x + 1] + above[x + 2])
                target[x] = np.float32(0.25) * math.sqrt(gx * gx + gy * gy)

    @jit
    def premultiply(source, out, first, end):
        channels = 4
        width_c = source.shape[1]
        for y in range(first, end):
            row, target = source[y], out[y]
            for x in range(width_c // channels):
                alpha = row[x * channels + 3]
                target[x * channels] = row[x * channels] * alpha
                target[x * channels + 1] = row[x * channels + 1] * alpha
                target[x * channels + 2] = row[x * channels + 2] * alpha
                target[x * channels + 3] = alpha

    @jit
    def box_rows(source, channels, radius, block, origin, out, first, end):
        """Rows first..end-1: a box of width 2*radius+1 along each row, mirrored at the ends.

        The running sums restart from scratch at every column whose canvas column (`origin` plus
        its index) is a multiple of `block`, and at the region's first column: a pixel's bytes
        depend only on the canvas around it, so a tile computes what the whole canvas does.
        """
        width_c = source.shape[1]
        width = width_c // channels
        scale = 1.0 / (2 * radius + 1)
        totals = np.zeros(channels, np.float64)
        for y in range(first, end):
            row, target = source[y], out[y]
            start = 0
            while start < width:
                stop = min(width, start + block - (start + origin) % block)
                for c in range(channels):
                    totals[c] = 0.0
                inside = start - radius >= 0 and stop + radius <= width
                if inside:
                    for k in range(start - radius, start + radius + 1):
                        for c in range(channels):
                            totals[c] += row[k * channels + c]
                else:                          # whole mirrored periods at once (a radius over
                    low = start - radius           # the width would cost radius, not width)
                    periods = (2 * radius + 1) // (2 * width)
                    if periods > 0:
                        for k in range(width):
                            for c in range(channels):
                                totals[c] += row[k * channels + c]
                        for c in range(channels):
                            totals[c] *= 2 * periods
                        low += periods * 2 * width
                    for k in range(low, start + radius + 1):
                        base = mirror(k, width) * channels
                        for c in range(channels):
                            totals[c] += row[base + c]
                for x in range(start, stop):
                    base = x * channels
                    for c in range(channels):
                        target[base + c] = totals[c] * scale
                    if x + 1 < stop:                        # slide to the next column
                        if inside:
                            add, remove = (x + radius + 1) * channels, (x - radius) * channels
                        else:
                            add = mirror(x + radius + 1, width) * channels
                            remove = mirror(x - radius, width) * channels
                        for c in range(channels):
                            totals[c] += np.float64(row[add + c]) - np.float64(row[remove + c])
                start = stop

    @jit
    def box_columns(source, radius, block, origin, out, first, end):
        """Rows first..end-1: a box of height 2*radius+1 down each column, mirrored at the ends.

        The running column sums restart from scratch at every row whose canvas row (`origin` plus
        its index) is a multiple of `block`, and at the region's first row (a thread starting
        mid-block first slides from the block's start), so each row's bytes depend only on its
        place on the canvas, never on how the rows were shared out or the canvas cut into tiles.
        """
        height, width_c = source.shape
        scale = 1.0 / (2 * radius + 1)
        sums = np.zeros(width_c, np.float64)
        y = max(0, first - (first + origin) % block)
        while y < end:
            if y == 0 or (y + origin) % block == 0:
                for j in range(width_c):
                    sums[j] = 0.0
                low = y - radius
                periods = (2 * radius + 1) // (2 * height)   # whole mirrored periods at once
                if periods > 0:
                    for k in range(height):
                        row = source[k]
                        for j in range(width_c):
                            sums[j] += row[j]
                    for j in range(width_c):
                        sums[j] *= 2 * periods
                    low += periods * 2 * height
                for k in range(low, y + radius + 1):
                    row = source[mirror(k, height)]
                    for j in range(width_c):
                        sums[j] += row[j]
            if y >= first:
                target = out[y]
                for j in range(width_c):
                    target[j] = sums[j] * scale
            add, remove = source[mirror(y + radius + 1, height)], source[mirror(y - radius, height)]
            for j in range(width_c):
                sums[j] += add[j] - remove[j]
            y += 1

    _KERNELS.update(separable=separable, correlate=correlate, sobel=sobel, premultiply=premultiply,
                    box_rows=box_rows, box_columns=box_columns)
    return _KERNELS


def _by_rows(kernel, rows: int, values: int, *args) -> None:
    """Call kernel(*args, first, end) over rows 0..rows-1, shared out over the threads."""
    run_shares(kernel, rows, values // MIN_VALUES_PER_THREAD, *args)


def _as_image(image: np.ndarray) -> np.ndarray:
    image = np.ascontiguousarray(image, dtype=F32)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3:
        raise ValueError(f"expected an (H, W, C) image, got shape {image.shape}")
    return image


# --- filters -----------------------------------------------------------------------------------------

def gaussian_weights(sigma: float) -> np.ndarray:
    """Normalised 1-D gaussian weights for a standard deviation of `sigma` pixels (cut at 3 sigma).

    The last weight is nudged (by an ulp or so) so that the weights, added one by one in float32 as
    the kernels add their taps, sum to exactly 1: a flat opaque picture then stays exactly opaque, so the
    premultiplied (alpha) blur and the plain (opaque) one give the same bytes wherever the picture
    is opaque, and a tile that happens to be opaque gets what the whole canvas gets.

    >>> gaussian_weights(0).tolist()
    [1.0]
    >>> float(sum_in_order(gaussian_weights(2))), gaussian_weights(2).size
    (1.0, 13)
    """
    if not sigma > 0:
        return np.ones(1, F32)
    radius = gaussian_radius(sigma)
    offsets = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    weights = (weights / weights.sum()).astype(F32)
    # the last weight makes the float32 sum exactly 1: once the others are added (to a total
    # between 0.5 and 2), 1 - total is exact, and so is total + (1 - total)
    weights[-1] = F32(1) - sum_in_order(weights[:-1])
    return weights


def sum_in_order(values: np.ndarray) -> np.float32:
    """values[0] + values[1] + ... in float32, left to right, as the filter kernels add their taps."""
    total = F32(0)
    for value in np.asarray(values, F32):
        total = F32(total + value)
    return total


def gaussian_radius(sigma: float) -> int:
    """How many pixels either side of a pixel the gaussian of `sigma` pixels reaches (3 sigma)."""
    if not sigma > 0:
        return 0
    return max(1, int(math.ceil(TRUNCATE * sigma - 1e-4)))   # 2.0000001 pixels is 2 pixels


def blur_reach(sigma: float) -> tuple[int, int]:
    """How far `blur(image, sigma)` reads along each axis, in pixels: (before, after), the input
    pixels above or left of a result pixel that it depends on, and those below or right.

    The box path reads further back than its radii: its running sums start at the block (of
    `ROW_BLOCK` columns, `COLUMN_BLOCK` rows, on the canvas grid) holding the pixel.

    >>> blur_reach(2.0), blur_reach(0.0)
    ((6, 6), (0, 0))
    >>> blur_reach(20.0)
    (247, 58)
    """
    if sigma > BOX_SIGMA:
        radii = box_radii(sigma)
        before = sum(radius + max(row_block(radius), COLUMN_BLOCK) - 1 for radius in radii)
        return before, sum(radii)
    radius = gaussian_radius(sigma)
    return radius, radius


def kernel_reach(shape: tuple[int, ...]) -> tuple[int, int]:
    """How many pixels (rows, columns) either side of a pixel `convolve` with a kernel of this
    shape reads (a 1-D kernel is one row).

    >>> kernel_reach((3, 5)), kernel_reach((7,))
    ((1, 2), (0, 3))
    """
    rows, columns = np.atleast_2d(np.zeros(shape)).shape[:2]
    return rows // 2, columns // 2


def premultiply(image: np.ndarray) -> np.ndarray:
    """RGBA with r, g, b multiplied by alpha."""
    image = _as_image(image)
    height, width, channels = image.shape
    if channels != 4:
        raise ValueError("premultiply needs RGBA")
    out = np.empty_like(image)
    _by_rows(_kernels()["premultiply"], height, image.size, image.reshape(height, -1), out.reshape(height, -1))
    return out


def unpremultiply(image: np.ndarray) -> np.ndarray:
    """RGBA with r, g, b divided by alpha (0 where alpha is 0)."""
    alpha = image[..., 3:4]
    with np.errstate(all="ignore"):
        rgb = np.where(alpha > 0, image[..., :3] / np.where(alpha > 0, alpha, 1), 0)
    return np.concatenate([rgb, alpha], axis=-1).astype(F32)


def _separable(image: np.ndarray, vertical: np.ndarray, horizontal: np.ndarray,
               unpremultiplied: bool = False) -> np.ndarray:
    image = _as_image(image)
    height, width, channels = image.shape
    out = np.empty_like(image)
    _by_rows(_kernels()["separable"], height, image.size, image.reshape(height, -1), channels,
             np.ascontiguousarray(vertical, F32), np.ascontiguousarray(horizontal, F32),
             unpremultiplied, out.reshape(height, -1))
    return out


def box_radii(sigma: float, passes: int = BOX_PASSES) -> list[int]:
    """Radii of `passes` box blurs whose sum has (nearly) the variance of a gaussian of `sigma`.

    Boxes of two neighbouring odd widths, as in Kovesi's "fast almost-gaussian filtering".

    >>> box_radii(20)
    [19, 19, 20]
    """
    ideal = math.sqrt(12 * sigma * sigma / passes + 1)
    lower = int(math.floor(ideal))
    lower -= 1 - lower % 2                              # the largest odd width not above ideal
    upper = lower + 2
    narrow = round((12 * sigma * sigma - passes * lower * lower - 4 * passes * lower - 3 * passes)
                   / (-4 * lower - 4))
    return [(lower - 1) // 2 if k < narrow else (upper - 1) // 2 for k in range(passes)]


def row_block(radius: int) -> int:
    """Columns between restarts of a box pass's running sums along the rows: a multiple of
    `ROW_BLOCK` at least as wide as the box, so starting afresh never costs more than sliding.

    >>> row_block(20), row_block(57)
    (64, 128)
    """
    return ROW_BLOCK * max(1, -(-(2 * radius + 1) // ROW_BLOCK))


def box_blur(image: np.ndarray, sigma: float, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """An almost-gaussian blur of `sigma` pixels by box passes, at a cost that does not grow with sigma.

    `origin` is the canvas position (x, y) of the image's top-left pixel when it is a part of a
    larger canvas: the running sums restart on the canvas's grid, so a tile gets the same bytes.
    """
    image = _as_image(image)
    height, width, channels = image.shape
    kernels = _kernels()
    current = image.reshape(height, -1)
    for radius in box_radii(sigma):
        across = np.empty_like(current)
        _by_rows(kernels["box_rows"], height, image.size, current, channels, radius,
                 row_block(radius), int(origin[0]), across)
        current = np.empty_like(across)
        _by_rows(kernels["box_columns"], height, image.size, across, radius, COLUMN_BLOCK,
                 int(origin[1]), current)
    return current.reshape(height, width, channels)


def blur(image: np.ndarray, sigma: float, alpha: bool = False,
         origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Gaussian blur with a standard deviation of `sigma` pixels, mirrored at the edges.

    Up to `BOX_SIGMA` pixels the gaussian is exact (cut at 3 sigma); above it, three box passes
    approximate it (as Pillow's GaussianBlur does) so a huge radius costs no more than a small one.
    With `alpha=True` the last channel is alpha: the colour is blurred premultiplied (transparent
    pixels do not darken their neighbours) and returned straight. `origin`: see `box_blur`.
    """
    if sigma > BOX_SIGMA:
        if alpha:
            return unpremultiply(box_blur(premultiply(image), sigma, origin))
        return box_blur(image, sigma, origin)
    weights = gaussian_weights(sigma)
    if alpha:
        return _separable(premultiply(image), weights, weights, unpremultiplied=True)
    return _separable(image, weights, weights)


def unsharp(image: np.ndarray, sigma: float, amount: float,
            origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Unsharp mask: image + amount * (image - blur(image, sigma)). `origin`: see `box_blur`."""
    image = _as_image(image)
    blurred = blur(image, sigma, origin=origin)
    amount = F32(amount)
    return (image + amount * (image - blurred)).astype(F32)


def convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Weighted sum of each pixel's neighbours: kernel[i, j] weighs the pixel i - r rows below and
    j - r columns right of it (the kernel laid out as on screen; correlation), mirrored edges.

    A kernel of rank 1 (such as a gaussian or a box) is applied as two 1-D passes."""
    image = _as_image(image)
    kernel = np.atleast_2d(np.asarray(kernel, np.float64))
    if kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        raise ValueError(f"a kernel needs an odd number of rows and columns, got {kernel.shape}")
    separable = _rank_one(kernel)
    if separable is not None:
        return _separable(image, *separable)
    height, width, channels = image.shape
    out = np.empty_like(image)
    _by_rows(_kernels()["correlate"], height, image.size * kernel.shape[0], image.reshape(height, -1),
             channels, np.ascontiguousarray(kernel, F32), out.reshape(height, -1))
    return out


def _rank_one(kernel: np.ndarray):
    """(column, row) vectors whose outer product is `kernel`, or None when it is not separable."""
    if kernel.shape[0] == 1:
        return np.ones(1), kernel[0]
    if kernel.shape[1] == 1:
        return kernel[:, 0], np.ones(1)
    u, s, vt = np.linalg.svd(kernel)
    if s[0] == 0 or s[1] > 1e-7 * s[0]:
        return None
    column, row = u[:, 0] * math.sqrt(s[0]), vt[0] * math.sqrt(s[0])
    if not np.allclose(np.outer(column, row), kernel, rtol=0, atol=1e-7 * np.abs(kernel).max()):
        return None
    return column, row


def luma(image: np.ndarray) -> np.ndarray:
    """Luma (Rec. 709 weights on the sRGB values) of RGB(A), times alpha when there is one."""
    image = np.asarray(image, F32)
    value = image[..., 0] * F32(LUMA[0]) + image[..., 1] * F32(LUMA[1]) + image[..., 2] * F32(LUMA[2])
    return value * image[..., 3] if image.shape[-1] == 4 else value


def sobel(image: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of the luma (times alpha) of an RGB(A) image, divided by 4 so a
    step from 0 to 1 gives 1 on both pixels beside it; (H, W) float32."""
    image = _as_image(image)
    height, width, channels = image.shape
    if channels == 1:
        image = np.repeat(image, 3, axis=-1)
        channels = 3
    out = np.empty((height, width), F32)
    _by_rows(_kernels()["sobel"], height, image.size, image.reshape(height, -1), np.asarray(LUMA, F32),
             3 if channels == 4 else -1, out)
    return out


# --- sampling ----------------------------------------------------------------------------------------

EDGES = ("clamp", "mirror", "repeat", "transparent")


def _wrap(index: np.ndarray, size: int, edge: str) -> np.ndarray:
    if edge == "repeat":
        return np.mod(index, size)
    if edge == "mirror":
        index = np.mod(index, 2 * size)
        return np.where(index < size, index, 2 * size - 1 - index)
    return np.clip(index, 0, size - 1)


def sample(image: np.ndarray, x: np.ndarray, y: np.ndarray, edge: str = "clamp") -> np.ndarray:
    """Bilinear samples of image (H, W, C) at pixel positions (x, y), pixel centres on whole numbers.

    `edge` says what lies outside: the nearest edge pixel (`clamp`), the picture mirrored or
    repeated, or nothing (`transparent`: all channels 0 beyond half a pixel outside).
    """
    image = _as_image(image)
    height, width = image.shape[:2]
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    columns = [_wrap(x0, width, edge), _wrap(x0 + 1, width, edge)]
    rows = [_wrap(y0, height, edge), _wrap(y0 + 1, height, edge)]
    top = image[rows[0], columns[0]] * (1 - fx) + image[rows[0], columns[1]] * fx
    bottom = image[rows[1], columns[0]] * (1 - fx) + image[rows[1], columns[1]] * fx
    out = top * (1 - fy) + bottom * fy
    if edge == "transparent":
        inside = (x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5)
        out = out * inside[..., None]
    return out.astype(F32)


def sample_flat(colour: np.ndarray, x: np.ndarray, y: np.ndarray, edge: str, width: int,
                height: int) -> np.ndarray:
    """`sample` of a width x height picture that is `colour` everywhere, without reading a picture:
    the same arithmetic, so the same bytes. Positions are on the whole canvas, so with `transparent`
    a tile of the canvas is cut at the canvas's edge, not its own.

    >>> sample_flat(np.array([1, 0, 0, 1], F32), np.array([0.0, 9.6]), np.array([0.0, 0.0]),
    ...             "transparent", 10, 10)[..., 3].tolist()
    [1.0, 0.0]
    """
    colour = np.asarray(colour, F32)
    x = np.asarray(x, np.float32)
    y = np.asarray(y, np.float32)
    fx, fy = (x - np.floor(x))[..., None], (y - np.floor(y))[..., None]
    top = colour * (1 - fx) + colour * fx
    out = top * (1 - fy) + top * fy
    if edge == "transparent":
        inside = (x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5)
        out = out * inside[..., None]
    return out.astype(F32)
