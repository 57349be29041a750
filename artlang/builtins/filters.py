"""Filter built-ins: blur, sharpen, edges, threshold, convolution and displacement of colour fields.

Distances (`radius`, displacement offsets) are in uv units like every other length in artlang, so a
filter looks the same at any canvas size; write `3 * pixel` for three pixels. A colour that is the
same everywhere is treated as a flat picture. Neighbourhood filters see the picture mirrored beyond
its edges (`filters.py` says why).

Each filter that reads other pixels than its own declares how far it reads (`neighbourhood=` in its record):
drawn in tiles, it is computed over its tile grown by that reach (see `runtime/tiles.py`), and the canvas's
edge is where the grown region stops, so a tile gets the bytes the whole canvas would.
`displace` reads from anywhere, so it cannot be drawn in tiles.
"""
from __future__ import annotations

import math

import numpy as np

from artlang.kernels import filters
from artlang.kernels.region import Margin
from artlang.core.errors import RUNTIME, error
from artlang.language.schema import Neighbourhood, P, builtin

F32 = np.float32
FILTERS = "filters"
KERNEL_NORMALISATIONS = ("sum", "none")


def _is_uniform(colour: np.ndarray) -> bool:
    return colour.ndim == 1


def _field(context, colour: np.ndarray) -> np.ndarray:
    """The colour over the region being drawn, as a contiguous (H, W, 4) array."""
    region = context.region
    return np.ascontiguousarray(np.broadcast_to(colour, (region.height, region.width, 4)), dtype=F32)


def _in_pixels(context, length) -> float:
    return float(np.asarray(length)) / context.pixel_size


def _sigma(context, radius, name: str) -> float:
    """A blur radius (uv units) in pixels, refused when it is infinite (NaN blurs nothing)."""
    sigma = _in_pixels(context, radius)
    if math.isinf(sigma):
        raise error(f"the radius of `{name}` must be a finite number, got {float(np.asarray(radius))}",
                    stage=RUNTIME, hint="e.g. `3 * pixel` for three pixels")
    return sigma


def _origin(context) -> tuple[int, int]:
    """Where the region being drawn starts on the canvas (box blurs align their sums to it)."""
    return context.region.x0, context.region.y0


def _blur_margin(context, radius) -> Margin:
    sigma = _in_pixels(context, radius)
    before, after = (0, 0) if math.isinf(sigma) else filters.blur_reach(sigma)   # inf: refused
    return Margin(before, before, after, after)


def _with_alpha_of(rgb_source: np.ndarray, alpha_source: np.ndarray) -> np.ndarray:
    out = np.array(rgb_source, dtype=F32)
    out[..., 3] = alpha_source[..., 3]
    return out


@builtin(neighbourhood=Neighbourhood("c", lambda context, radius: _blur_margin(context, radius)),
         returns="color", category=FILTERS,
         params=(P("c", "color", doc="the picture"),
                 P("radius", "num", 0.02, uniform=True,
                   doc="standard deviation of the gaussian, in uv units (`3 * pixel` is three pixels)")))
def blur(context, c, radius):
    """Gaussian blur of a colour field; `radius` is the standard deviation, as in CSS and Pillow.

    Transparent parts do not darken their neighbours (the colour is blurred premultiplied by alpha).
    The mean colour of an opaque picture is kept exactly. Up to 8 pixels the gaussian is exact;
    beyond, three box passes approximate it (as Pillow does), so a huge blur costs no more.

    Example: `output blur(image("photo.png"), 3 * pixel)`
    """
    if _is_uniform(c):
        return c
    field = _field(context, c)
    sigma = _sigma(context, radius, "blur")
    if (field[..., 3] == 1).all():            # opaque: no premultiplication needed (the same bytes)
        out = filters.blur(field, sigma, origin=_origin(context))
        out[..., 3] = 1
        return out
    return filters.blur(field, sigma, alpha=True, origin=_origin(context))


@builtin(neighbourhood=Neighbourhood("c", lambda context, amount, radius: _blur_margin(context, radius)),
         returns="color", category=FILTERS,
         params=(P("c", "color", doc="the picture"),
                 P("amount", "num", 1.0, uniform=True, doc="how much of the detail is added back"),
                 P("radius", "num", 0.01, uniform=True, doc="size of the detail, in uv units")))
def sharpen(context, c, amount, radius):
    """Sharpen by unsharp masking: `c + amount * (c - blur(c, radius))` on r, g, b; alpha is kept.

    Example: `output sharpen(image("photo.png"), 1.5, 2 * pixel)`
    """
    if _is_uniform(c):
        return c
    field = _field(context, c)
    sigma = _sigma(context, radius, "sharpen")
    return _with_alpha_of(filters.unsharp(field, sigma, float(amount), origin=_origin(context)), field)


@builtin(neighbourhood=Neighbourhood("c", lambda context: Margin(1, 1, 1, 1)),
         returns="num", category=FILTERS, params=(P("c", "color", doc="the picture"),))
def edges(context, c):
    """Sobel edge strength of a picture: the gradient magnitude of its luma, 0 where it is flat.

    Luma uses the Rec. 709 weights on the sRGB values, times alpha (the picture as seen over black).
    A sharp step from black to white gives 1 on the pixels either side of it.

    Example: `output edges(image("photo.png")) * 4`
    """
    if _is_uniform(c):
        return np.zeros((), F32)
    return filters.sobel(_field(context, c))


@builtin(returns="num", category=FILTERS,
         params=(P("c", "color", doc="the picture"), P("level", "num", 0.5, doc="luma at which it turns white")))
def threshold(context, c, level):
    """1 where the picture's luma (Rec. 709, times alpha) is at least `level`, else 0: a mask.

    For a number, `step(level, x)` does the same; `threshold` reads a colour's brightness.

    Example: `output threshold(image("photo.png"), 0.4 + 0.2 * st.x)`
    """
    return (filters.luma(c) >= level).astype(F32)


def _kernel(values: np.ndarray, normalize: str) -> np.ndarray:
    kernel = np.atleast_2d(np.asarray(values, np.float64))
    if kernel.ndim != 2 or kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        shape = " x ".join(map(str, np.shape(values)))
        raise error(f"a convolution kernel needs an odd number of rows and of columns, got {shape}",
                    stage=RUNTIME, hint="the centre of the kernel is the pixel itself, e.g. "
                                        "`[[1, 2, 1], [2, 4, 2], [1, 2, 1]]`")
    if not np.isfinite(kernel).all():
        raise error("a convolution kernel must hold finite numbers", stage=RUNTIME)
    total = kernel.sum()
    if normalize == "sum" and total != 0:
        kernel = kernel / total
    return kernel


@builtin(neighbourhood=Neighbourhood("c", lambda context, **uniform: _kernel_margin(context, **uniform)),
         returns="color", category=FILTERS,
         params=(P("c", "color", doc="the picture"),
                 P("kernel", "list", doc="weights, as rows of numbers with an odd count each way"),
                 P("normalize", "string", "sum", choices=KERNEL_NORMALISATIONS,
                   doc="`sum` divides the weights by their sum (unless it is 0); `none` uses them as given")))
def convolve(context, c, kernel, normalize):
    """Each pixel becomes the weighted sum of its neighbours, on r, g, b; alpha is kept.

    The kernel is laid out as on screen: its first row weighs the row of pixels above, its first
    column the pixels to the left (a 1-D list is one row). `[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]`
    sharpens, `[[1, 2, 1], [2, 4, 2], [1, 2, 1]]` softens.

    Example: `output convolve(image("photo.png"), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])`
    """
    weights = _kernel(kernel, normalize)
    if _is_uniform(c):
        rgb = c[:3] * F32(weights.sum())
        return np.concatenate([rgb, c[3:]]).astype(F32)
    field = _field(context, c)
    return _with_alpha_of(filters.convolve(field, weights), field)


def _kernel_margin(context, kernel, normalize) -> Margin:
    rows, columns = filters.kernel_reach(np.shape(kernel))
    return Margin(columns, rows, columns, rows)


def _region_grid(context) -> tuple[np.ndarray, np.ndarray]:
    """Column and row index of every pixel of the region, as float32 (H, W) arrays."""
    region = context.region
    columns = np.arange(region.width, dtype=F32)[None, :]
    rows = np.arange(region.height, dtype=F32)[:, None]
    return np.broadcast_to(columns, (region.height, region.width)), \
        np.broadcast_to(rows, (region.height, region.width))


@builtin(neighbourhood=Neighbourhood("c"),       # reads from anywhere: not drawn in tiles
         returns="color", category=FILTERS, per_pixel=True,
         params=(P("c", "color", doc="the picture"),
                 P("offset", "vec2", doc="where each pixel reads from, relative to itself, in uv units (y up)"),
                 P("amount", "num", 1.0, doc="scales the offset"),
                 P("edge", "string", "clamp", choices=filters.EDGES, doc="what lies beyond the picture's edge")))
def displace(context, c, offset, amount, edge):
    """Each pixel takes the colour found `amount * offset` away from it (bilinear): a warp by a field.

    `offset` is usually computed per pixel, e.g. from noise; `vec(pixel, 0)` moves the picture one
    pixel to the left. Beyond the edge the nearest edge pixel is used (`clamp`), or the picture
    mirrored, repeated, or nothing (`transparent`).

    Example: `output displace(image("photo.png"), vec(perlin(uv * 4), perlin(uv * 4 + 7)), 0.1)`
    """
    half = min(context.width, context.height) / 2.0
    shift = np.asarray(offset, F32) * np.asarray(amount, F32)[..., None] * F32(half)
    if _is_uniform(c):
        columns, rows = context.pixel_indices          # on the canvas: the same in any tile
        return filters.sample_flat(c, columns.astype(F32) + shift[..., 0],
                                   rows.astype(F32) - shift[..., 1], edge, context.width, context.height)
    columns, rows = _region_grid(context)
    return filters.sample(_field(context, c), columns + shift[..., 0], rows - shift[..., 1], edge)


