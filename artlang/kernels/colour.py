"""Colour functions: colormaps, cosine palettes, HSV, hex parsing, sRGB and linear light, OKLab and
OKLCH, gradients, posterising and ordered dithering.

Conventions (DESIGN.md, "Values"):

- A colour is a float32 array whose last axis has 4 channels: straight (not premultiplied) RGBA,
  sRGB-encoded, nominally in 0..1. Nothing here clips except where a function says so; the writer
  clips when it converts to 8 or 16 bit.
- sRGB-encoded numbers are not proportional to light: averaging them (what `mix` does) darkens the
  middle of a mix of two bright hues. `to_linear`/`to_srgb` convert to and from linear light, and
  OKLab (Björn Ottosson, 2020) is a perceptual space where equal steps look equal.
- Hues (HSV and OKLCH alike) are in turns: 0..1 is once round the circle, and they wrap.
- The colour-space conversions keep alpha untouched and never clip; an OKLab colour outside the sRGB
  gamut comes back with channels outside 0..1.
- Matrix products are written out channel by channel (no BLAS): elementwise float32 arithmetic
  gives the same bits for a pixel whether it is computed in a tile or in the whole canvas.
- A scalar field is a float32 array of shape (H, W), or a 0-d array / Python float.

Every function works on whole arrays (numpy broadcasting, no Python loop over pixels), accepts
Python numbers and sequences as well as arrays, and returns float32.

This module imports nothing from the rest of artlang: `tools/make_colormaps.py` loads it by path to
read `COLORMAP_NAMES`, the one list of colormap names.
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from artlang.language.literals import parse_hex

__all__ = [
    "COLORMAP_NAMES",
    "colormap",
    "cosine_palette",
    "hsv_to_rgb",
    "rgb_to_hsv",
    "parse_hex",
    "srgb_to_linear",
    "linear_to_srgb",
    "to_linear",
    "to_srgb",
    "srgb_to_oklab",
    "oklab_to_srgb",
    "oklab_to_oklch",
    "oklch_to_oklab",
    "MIX_SPACES",
    "mix_in",
    "gradient",
    "posterize",
    "bayer_matrix",
    "BAYER_SIZES",
    "dither",
    "to_rgba",
]

# The colormaps baked into data/colormaps.npz by tools/make_colormaps.py (256 RGB entries each).
COLORMAP_NAMES: tuple[str, ...] = (
    "viridis", "magma", "inferno", "plasma", "cividis", "turbo", "twilight",
)

_COLORMAP_FILE = Path(__file__).with_name("data") / "colormaps.npz"
_TWO_PI = np.float32(2.0 * np.pi)


def _as_float32(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _with_alpha(rgb: np.ndarray) -> np.ndarray:
    """Append an alpha channel of 1 to an (..., 3) float32 array."""
    alpha = np.ones(rgb.shape[:-1] + (1,), dtype=np.float32)
    return np.concatenate([rgb, alpha], axis=-1)


def _rgb_channels(value, what: str) -> np.ndarray:
    """The RGB part of an RGB or RGBA array (last axis 3 or 4) as float32."""
    array = _as_float32(value)
    if array.ndim == 0 or array.shape[-1] not in (3, 4):
        raise ValueError(
            f"{what} must be a colour with 3 (RGB) or 4 (RGBA) channels in its last axis, "
            f"got an array of shape {array.shape}")
    return array[..., :3]


# --- colormaps -------------------------------------------------------------------------------------

@functools.cache
def _colormap_tables() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (RGBA table (256, 4), steps to the next entry (256, 4), the last step 0), loaded once."""
    tables = {}
    with np.load(_COLORMAP_FILE, allow_pickle=False) as data:
        for name in COLORMAP_NAMES:
            table = _with_alpha(data[name].astype(np.float32))
            steps = np.zeros_like(table)
            steps[:-1] = table[1:] - table[:-1]
            tables[name] = (table, steps)
    return tables


def colormap(name: str, value) -> np.ndarray:
    """Map a scalar field through a named colormap: returns RGBA of shape value.shape + (4,).

    `value` is clipped to [0, 1]; 0 is the map's first entry and 1 its last, and values in between
    are interpolated linearly between neighbouring entries of the 256-entry table. Alpha is 1.
    NaN in `value` gives NaN in RGB (alpha still 1).

    >>> [round(float(c), 3) for c in colormap("viridis", 0.0)]
    [0.267, 0.005, 0.329, 1.0]
    >>> colormap("magma", np.zeros((2, 3))).shape
    (2, 3, 4)
    """
    if name not in COLORMAP_NAMES:
        raise ValueError(
            f"unknown colormap {name!r}; the colormaps are: {', '.join(COLORMAP_NAMES)}")
    table, steps = _colormap_tables()[name]
    value = _as_float32(value)
    is_nan = np.isnan(value)
    position = np.clip(np.where(is_nan, np.float32(0), value), 0, 1) * np.float32(len(table) - 1)
    whole = np.floor(position)                # 1.0 lands on the last entry, whose step is 0
    index = whole.astype(np.intp)
    fraction = (position - whole)[..., None]
    rgba = table[index] + steps[index] * fraction
    if is_nan.any():
        rgba[is_nan, :3] = np.nan
    return rgba


# --- cosine palettes -------------------------------------------------------------------------------

def cosine_palette(t, a, b, c, d) -> np.ndarray:
    """Inigo Quilez's cosine palette: RGB = a + b * cos(2π (c * t + d)), alpha 1.

    `t` is a scalar field; `a`, `b`, `c`, `d` are colours of shape (4,) (or (3,)), or per-pixel
    colours of shape (..., 4) that broadcast with `t`. Their alpha is ignored. The result is not
    clipped (the writer clips).

    >>> rgba = cosine_palette(0.0, (0.5, 0.5, 0.5, 1), (0.5, 0.5, 0.5, 1), (1, 1, 1, 1), (0, 0.1, 0.2, 1))
    >>> [round(float(x), 3) for x in rgba]
    [1.0, 0.905, 0.655, 1.0]
    >>> cosine_palette(np.zeros((2, 3)), (0.5,) * 4, (0.5,) * 4, (1,) * 4, (0,) * 4).shape
    (2, 3, 4)
    """
    t = _as_float32(t)[..., None]
    a, b, c, d = (_rgb_channels(p, name) for p, name in zip((a, b, c, d), "abcd"))
    rgb = a + b * np.cos(_TWO_PI * (c * t + d))
    return _with_alpha(rgb.astype(np.float32, copy=False))


# --- HSV -------------------------------------------------------------------------------------------

def hsv_to_rgb(h, s, v) -> np.ndarray:
    """Hue, saturation, value (broadcast together) to RGB of shape (..., 3).

    Hue wraps: 0, 1 and 2 are all red, 1/3 is green, 2/3 is blue, -1/3 is blue as well.

    >>> [round(float(x), 3) for x in hsv_to_rgb(1 / 3, 1.0, 1.0)]
    [0.0, 1.0, 0.0]
    >>> hsv_to_rgb(np.zeros((2, 3)), 1.0, 0.5).shape
    (2, 3, 3)
    """
    h, s, v = np.broadcast_arrays(_as_float32(h), _as_float32(s), _as_float32(v))
    # Each channel n (R=5, G=3, B=1) is v - v*s*clamp(min(k, 4 - k), 0, 1) with k = (n + 6h) mod 6.
    k = (np.array([5, 3, 1], dtype=np.float32) + h[..., None] * np.float32(6)) % np.float32(6)
    ramp = np.clip(np.minimum(k, np.float32(4) - k), 0, 1)
    return v[..., None] - (v * s)[..., None] * ramp


def rgb_to_hsv(rgb) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB (or RGBA, alpha ignored) of shape (..., 3|4) to (h, s, v), each of shape (...).

    Hue is in [0, 1); grays (including black) have hue 0 and saturation 0.

    >>> h, s, v = rgb_to_hsv((0.0, 0.0, 1.0))
    >>> round(float(h), 4), float(s), float(v)
    (0.6667, 1.0, 1.0)
    """
    rgb = _rgb_channels(rgb, "rgb_to_hsv's argument")
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    value = rgb.max(axis=-1)
    chroma = value - rgb.min(axis=-1)
    has_chroma = chroma > 0
    safe_chroma = np.where(has_chroma, chroma, np.float32(1))
    saturation = np.where(value > 0, chroma / np.where(value > 0, value, np.float32(1)), np.float32(0))
    # Hue in sextants: which channel is the largest decides the formula.
    sextant = np.where(
        value == r, ((g - b) / safe_chroma) % np.float32(6),
        np.where(value == g, (b - r) / safe_chroma + np.float32(2),
                 (r - g) / safe_chroma + np.float32(4)))
    hue = np.where(has_chroma, sextant / np.float32(6), np.float32(0)) % np.float32(1)
    hue = np.where(hue >= 1, np.float32(0), hue)  # float rounding of a tiny negative hue mod 1
    return hue.astype(np.float32), saturation.astype(np.float32), value.astype(np.float32)


# --- hex -------------------------------------------------------------------------------------------

# --- sRGB transfer functions -----------------------------------------------------------------------

def srgb_to_linear(x) -> np.ndarray:
    """Decode sRGB-encoded values to linear light (IEC 61966-2-1), elementwise.

    x <= 0.04045: x / 12.92; above: ((x + 0.055) / 1.055) ** 2.4. Negative values stay on the
    linear segment. Apply it to colour[..., :3] to leave alpha alone.

    >>> round(float(srgb_to_linear(0.5)), 6)
    0.214041
    """
    x = _as_float32(x)
    curve = np.asarray(np.maximum(x, np.float32(0.04045)))   # in place from here, as linear_to_srgb
    curve += np.float32(0.055)
    curve /= np.float32(1.055)
    np.power(curve, np.float32(2.4), out=curve)
    linear = x <= np.float32(0.04045)
    if linear.any():
        curve[linear] = x[linear] / np.float32(12.92)
    return curve


def linear_to_srgb(x) -> np.ndarray:
    """Encode linear-light values as sRGB (IEC 61966-2-1), elementwise; the inverse of srgb_to_linear.

    x <= 0.0031308: 12.92 * x; above: 1.055 * x ** (1 / 2.4) - 0.055. Negative values stay on the
    linear segment. Apply it to colour[..., :3] to leave alpha alone.

    >>> round(float(linear_to_srgb(0.214041)), 4)
    0.5
    """
    x = _as_float32(x)
    curve = np.asarray(np.maximum(x, np.float32(0.0031308)))  # in place from here: the same operations
    np.power(curve, np.float32(1 / 2.4), out=curve)       # as the formula, fewer temporaries
    curve *= np.float32(1.055)
    curve -= np.float32(0.055)
    linear = x <= np.float32(0.0031308)
    if linear.any():
        curve[linear] = x[linear] * np.float32(12.92)
    return curve


# --- linear light ----------------------------------------------------------------------------------

def _map_rgb(function, colour) -> np.ndarray:
    """`function` (elementwise) applied to the r, g, b of an RGB or RGBA colour; alpha is kept."""
    colour = _as_float32(colour)
    _rgb_channels(colour, "a colour")
    result = function(colour)               # the whole array at once: contiguous, so faster
    result[..., 3:] = colour[..., 3:]
    return result


def to_linear(colour) -> np.ndarray:
    """An sRGB-encoded colour (..., 3|4) decoded to linear light; alpha (if any) is kept.

    >>> [round(float(x), 4) for x in to_linear((0.5, 1.0, 0.0, 0.25))]
    [0.214, 1.0, 0.0, 0.25]
    """
    return _map_rgb(srgb_to_linear, colour)


def to_srgb(colour) -> np.ndarray:
    """A linear-light colour (..., 3|4) encoded as sRGB; the inverse of `to_linear`, alpha kept.

    >>> [round(float(x), 4) for x in to_srgb((0.214041, 1.0, 0.0, 0.25))]
    [0.5, 1.0, 0.0, 0.25]
    """
    return _map_rgb(linear_to_srgb, colour)


# --- OKLab and OKLCH -------------------------------------------------------------------------------
# Björn Ottosson, "A perceptual color space for image processing" (2020): linear sRGB -> LMS cone
# responses -> cube root -> Lab, and the inverse matrices as published there.

def _matrix(rows) -> tuple[tuple[np.float32, ...], ...]:
    return tuple(tuple(np.float32(value) for value in row) for row in rows)


_LINEAR_TO_LMS = _matrix(((0.4122214708, 0.5363325363, 0.0514459929),
                          (0.2119034982, 0.6806995451, 0.1073969566),
                          (0.0883024619, 0.2817188376, 0.6299787005)))
_LMS_TO_OKLAB = _matrix(((0.2104542553, 0.7936177850, -0.0040720468),
                         (1.9779984951, -2.4285922050, 0.4505937099),
                         (0.0259040371, 0.7827717662, -0.8086757660)))
_OKLAB_TO_LMS = _matrix(((1.0, 0.3963377774, 0.2158037573),
                         (1.0, -0.1055613458, -0.0638541728),
                         (1.0, -0.0894841775, -1.2914855480)))
_LMS_TO_LINEAR = _matrix(((4.0767416621, -3.3077115913, 0.2309699292),
                          (-1.2684380046, 2.6097574011, -0.3413193965),
                          (-0.0041960863, -0.7034186147, 1.7076147010)))


def _transform(matrix, x, y, z) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 3x3 `matrix` times the column (x, y, z), written out per channel (see the module doc)."""
    result = []
    for m0, m1, m2 in matrix:                 # (m0 x + m1 y) + m2 z, summed in place
        row = m0 * x
        row += m1 * y
        row += m2 * z
        result.append(row)
    return tuple(result)


def _planes(colour, what: str):
    """(x, y, z) planes of a 3- or 4-channel colour, and its alpha plane (None for 3 channels)."""
    colour = _as_float32(colour)
    _rgb_channels(colour, what)
    alpha = colour[..., 3] if colour.shape[-1] == 4 else None
    return colour[..., 0], colour[..., 1], colour[..., 2], alpha


def _join(planes, alpha) -> np.ndarray:
    planes = list(planes) if alpha is None else [*planes, alpha]
    return np.stack(np.broadcast_arrays(*planes), axis=-1).astype(np.float32, copy=False)


def srgb_to_oklab(colour) -> np.ndarray:
    """An sRGB-encoded colour (..., 3|4) as OKLab (L, a, b[, alpha]); alpha is passed through.

    L is perceived lightness, 0 for black and 1 for white; a runs green to red and b blue to yellow,
    both 0 for grays.

    >>> [round(float(x), 4) for x in srgb_to_oklab((1.0, 0.0, 0.0))]
    [0.628, 0.2249, 0.1258]
    """
    r, g, b, alpha = _planes(colour, "srgb_to_oklab's argument")
    lms = _transform(_LINEAR_TO_LMS, *(srgb_to_linear(channel) for channel in (r, g, b)))
    return _join(_transform(_LMS_TO_OKLAB, *(np.cbrt(channel) for channel in lms)), alpha)


def oklab_to_srgb(lab) -> np.ndarray:
    """An OKLab colour (L, a, b[, alpha]) as sRGB-encoded RGB[A]; the inverse of `srgb_to_oklab`.

    Colours outside the sRGB gamut come back with channels outside 0..1 (nothing is clipped).

    >>> oklab_to_srgb((1.0, 0.0, 0.0, 0.5)).round(4).tolist()
    [1.0, 1.0, 1.0, 0.5]
    """
    lightness, a, b, alpha = _planes(lab, "oklab_to_srgb's argument")
    lms = _transform(_OKLAB_TO_LMS, lightness, a, b)
    linear = _transform(_LMS_TO_LINEAR, *(channel * channel * channel for channel in lms))
    return _join((linear_to_srgb(channel) for channel in linear), alpha)


def oklab_to_oklch(lab) -> np.ndarray:
    """OKLab (L, a, b[, alpha]) to OKLCH (L, chroma, hue[, alpha]), the hue in turns in [0, 1).

    Grays (a = b = 0) have hue 0.

    >>> [round(float(x), 4) for x in oklab_to_oklch((0.5, 0.0, 0.1))]
    [0.5, 0.1, 0.25]
    """
    lightness, a, b, alpha = _planes(lab, "oklab_to_oklch's argument")
    hue = (np.arctan2(b, a) / _TWO_PI) % np.float32(1)
    hue = np.where(hue >= 1, np.float32(0), hue)        # a tiny negative angle mod 1 rounds to 1
    return _join((lightness, np.hypot(a, b), hue), alpha)


def oklch_to_oklab(lch) -> np.ndarray:
    """OKLCH (L, chroma, hue in turns[, alpha]) to OKLab (L, a, b[, alpha]); the hue wraps.

    >>> [round(float(x), 4) for x in oklch_to_oklab((0.5, 0.1, 1.0, 1.0))]
    [0.5, 0.1, 0.0, 1.0]
    """
    lightness, chroma, hue, alpha = _planes(lch, "oklch_to_oklab's argument")
    angle = hue * _TWO_PI
    return _join((lightness, chroma * np.cos(angle), chroma * np.sin(angle)), alpha)


# --- mixing and gradients --------------------------------------------------------------------------

def _identity(colour) -> np.ndarray:
    return _as_float32(colour)


# space name -> (from sRGB into the space, from the space back to sRGB); alpha passes through both.
MIX_SPACES = {
    "srgb": (_identity, _identity),
    "linear": (to_linear, to_srgb),
    "oklab": (srgb_to_oklab, oklab_to_srgb),
}


def _space(space: str):
    if space not in MIX_SPACES:
        raise ValueError(f"unknown colour space {space!r}; mix in one of: {', '.join(MIX_SPACES)}")
    return MIX_SPACES[space]


def mix_in(a, b, amount, space: str = "oklab") -> np.ndarray:
    """Interpolate colours `a` and `b` in `space` ("srgb", "linear" or "oklab"); alpha is mixed too.

    `amount` (0 gives a, 1 gives b) is a number or a field broadcasting with the colours; it is not
    clipped, so values outside 0..1 extrapolate. Alpha is interpolated straight, as `mix` does.

    >>> [round(float(x), 4) for x in mix_in((0, 0, 0, 1), (1, 1, 1, 1), 0.5, "linear")]
    [0.7354, 0.7354, 0.7354, 1.0]
    """
    into, back = _space(space)
    start, end = into(a), into(b)
    amount = _as_float32(amount)[..., None]
    return back(start + (end - start) * amount)


def _gather(stacked: np.ndarray, index: np.ndarray) -> np.ndarray:
    """stacked[index] per pixel: stacked is (n, *S, C), index an integer array broadcasting with S."""
    if stacked.ndim == 2:
        return np.take(stacked, index, axis=0)     # much faster than stacked[index]
    shape = np.broadcast_shapes(index.shape, stacked.shape[1:-1])
    stacked = np.broadcast_to(stacked, stacked.shape[:1] + shape + stacked.shape[-1:])
    chosen = np.broadcast_to(index, shape)[None, ..., None]
    return np.take_along_axis(stacked, chosen, axis=0)[0]


def _format_list(value) -> str:
    """A (nested) list of numbers as artlang writes it: [0, 0.5, 1]."""
    if isinstance(value, list):
        return "[" + ", ".join(_format_list(item) for item in value) + "]"
    return f"{value:g}"


def _stop_positions(positions, count: int) -> np.ndarray:
    if positions is None:
        return np.linspace(0, 1, count, dtype=np.float32)
    positions = _as_float32(positions)
    shown = _format_list(positions.tolist())
    if positions.ndim != 1 or len(positions) != count:
        raise ValueError(f"the positions {shown} do not match the {count} colour stops: "
                         f"give one number per stop, e.g. [0, 0.3, 1] for three stops")
    if not np.all(np.isfinite(positions)) or np.any(np.diff(positions) < 0):
        raise ValueError(f"the positions {shown} must be finite numbers that never decrease, "
                         f"e.g. [0, 0.3, 1]")
    return positions


def _segments(t: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each t, the stop starting its segment (0..n-2) and how far along the segment it is.

    The segment is the one whose start is the last position <= t, so the fraction is exactly 0
    where t is on a stop, and 1 only at the last stop or where the next stop shares its position
    (a hard edge). NaN in t gives a NaN fraction.
    """
    t = np.clip(t, positions[0], positions[-1])
    index = np.clip(np.searchsorted(positions, t, side="right") - 1, 0, len(positions) - 2)
    low, high = np.take(positions, index), np.take(positions, index + 1)
    width = high - low
    fraction = np.where(width > 0, (t - low) / np.where(width > 0, width, np.float32(1)), np.float32(1))
    return index, fraction.astype(np.float32)


def gradient(t, stops, positions=None, space: str = "oklab") -> np.ndarray:
    """The colour at `t` along colour stops, interpolated in `space` ("oklab", "srgb" or "linear").

    `stops` is a sequence of colours (..., 4) or (..., 3), all with the same number of channels;
    they may be per-pixel. Without `positions` they are evenly spaced over 0..1; `positions` gives
    one non-decreasing number per stop. `t` is clamped to the first..last position, and wherever it
    falls exactly on a stop (the ends included) the result is that stop exactly. Where two stops
    share a position the colour changes abruptly and the later stop holds from that position on.
    Alpha is interpolated straight.

    >>> gradient(0.5, [(0, 0, 0, 1), (1, 0, 0, 1), (1, 1, 1, 1)]).tolist()
    [1.0, 0.0, 0.0, 1.0]
    >>> gradient(np.zeros((2, 3)), [(0, 0, 0, 1), (1, 1, 1, 1)], space="srgb").shape
    (2, 3, 4)
    """
    into, back = _space(space)
    stops = [_as_float32(stop) for stop in stops]
    if not stops:
        raise ValueError("a gradient needs at least one colour stop")
    for stop in stops:
        _rgb_channels(stop, "a colour stop")
    channels = {stop.shape[-1] for stop in stops}
    if len(channels) > 1:
        raise ValueError("the colour stops of a gradient must all be RGB or all be RGBA")
    positions = _stop_positions(positions, len(stops))
    t = _as_float32(t)
    if len(stops) == 1:
        shape = np.broadcast_shapes(t.shape, stops[0].shape[:-1]) + stops[0].shape[-1:]
        return np.broadcast_to(stops[0], shape).copy()
    raw = np.stack(np.broadcast_arrays(*stops))
    mixed = np.stack(np.broadcast_arrays(*(into(stop) for stop in stops)))
    index, fraction = _segments(t, positions)
    start, end = _gather(mixed, index), _gather(mixed, index + 1)
    result = back(start + (end - start) * fraction[..., None]).astype(np.float32, copy=False)
    on_stop = (fraction == 0) | (fraction == 1)
    if on_stop.any():                            # usually few pixels: put the exact stops there
        exact = _gather(raw, index + (fraction == 1))
        result = np.broadcast_to(result, exact.shape).copy() if result.shape != exact.shape else result
        result[on_stop] = np.broadcast_to(exact, result.shape)[on_stop]
    return result


# --- posterising and ordered dithering -------------------------------------------------------------

BAYER_SIZES = (2, 4, 8, 16)


def _levels(levels) -> np.ndarray:
    """A count of levels per channel as float32: rounded to a whole number, at least 2."""
    return np.maximum(np.round(_as_float32(levels)), np.float32(2))


def posterize(colour, levels) -> np.ndarray:
    """Each of r, g, b (clipped to 0..1) reduced to `levels` evenly spaced values from 0 to 1.

    The range 0..1 is cut into `levels` bins of equal width; bin k becomes k / (levels - 1), so 0
    stays 0 and 1 stays 1. `levels` is rounded and at least 2; it may be a field. Alpha is kept.

    >>> posterize((0.1, 0.4, 0.6, 0.5), 2).tolist()
    [0.0, 0.0, 1.0, 0.5]
    """
    colour = _as_float32(colour)
    _rgb_channels(colour, "posterize's argument")
    levels = _levels(levels)[..., None]
    steps = levels - 1
    rgb = np.minimum(np.floor(np.clip(colour[..., :3], 0, 1) * levels), steps) / steps
    return _replace_rgb(colour, rgb)


@functools.cache
def bayer_matrix(size: int) -> np.ndarray:
    """The size x size Bayer index matrix (size a power of two): each of 0..size²-1 once, int64.

    >>> bayer_matrix(2).tolist()
    [[0, 2], [3, 1]]
    """
    if size not in BAYER_SIZES:
        raise ValueError(f"a Bayer matrix is {', '.join(map(str, BAYER_SIZES))} wide, not {size!r}")
    matrix = np.zeros((1, 1), dtype=np.int64)
    while len(matrix) < size:
        matrix = np.block([[4 * matrix, 4 * matrix + 2], [4 * matrix + 3, 4 * matrix + 1]])
    matrix.setflags(write=False)
    return matrix


def dither(colour, levels, columns, rows, size: int = 4) -> np.ndarray:
    """Ordered (Bayer) dithering of r, g, b (clipped to 0..1) to `levels` values each; alpha kept.

    `columns` and `rows` are the integer pixel coordinates in the whole canvas, so a tile gives
    exactly the pixels the whole canvas would. A channel between two levels is rounded up where its
    position between them exceeds the pixel's threshold (k + 0.5) / size², k its Bayer index: a flat
    k / size² between black and white turns exactly k pixels of every size x size block to white.

    >>> columns, rows = np.meshgrid(np.arange(4), np.arange(4))
    >>> int(dither((0.25, 0.25, 0.25, 1), 2, columns, rows)[..., 0].sum())
    4
    """
    if size not in BAYER_SIZES:
        raise ValueError(f"the dither matrix must be {', '.join(map(str, BAYER_SIZES))} wide, "
                         f"not {size!r}")
    colour = _as_float32(colour)
    _rgb_channels(colour, "dither's argument")
    thresholds = (bayer_matrix(size).astype(np.float32) + np.float32(0.5)) / np.float32(size * size)
    cell = (np.asarray(rows) % size) * size + np.asarray(columns) % size
    threshold = np.take(thresholds, cell)[..., None]
    steps = (_levels(levels) - 1)[..., None]
    scaled = np.clip(colour[..., :3], 0, 1) * steps
    floor = np.floor(scaled)
    rgb = (floor + (scaled - floor > threshold)) / steps
    return _replace_rgb(colour, rgb)


def _replace_rgb(colour: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """`rgb` (broadcast) with the alpha of `colour` appended if it has one, as float32."""
    if colour.shape[-1] == 3:
        return rgb.astype(np.float32, copy=False)
    shape = np.broadcast_shapes(rgb.shape[:-1], colour.shape[:-1])
    return np.concatenate([np.broadcast_to(rgb, shape + (3,)),
                           np.broadcast_to(colour[..., 3:], shape + (1,))], axis=-1).astype(np.float32)


# --- conversion to RGBA ----------------------------------------------------------------------------

def to_rgba(value) -> np.ndarray:
    """Turn a scalar, a scalar field, an RGB or an RGBA value into RGBA float32 (..., 4).

    Which is which is decided by the number of dimensions, since a field of width 3 or 4 would
    otherwise look like a colour:

    - 0-d (a number) or 2-d (H, W): a scalar field, which becomes gray (v, v, v, 1);
    - 1-d (C,) or 3-d and more (..., C): a colour with C channels in its last axis, where C = 1
      (gray), 3 (RGB, alpha 1 is added) or 4 (RGBA, passed through).

    >>> to_rgba(0.25).tolist()
    [0.25, 0.25, 0.25, 1.0]
    >>> to_rgba(np.zeros((2, 3))).shape
    (2, 3, 4)
    >>> to_rgba((1, 0, 0)).tolist()
    [1.0, 0.0, 0.0, 1.0]
    """
    array = _as_float32(value)
    if array.ndim in (0, 2):
        array = array[..., None]
    channels = array.shape[-1]
    if channels == 4:
        return array
    if channels == 3:
        return _with_alpha(array)
    if channels == 1:
        return _with_alpha(np.repeat(array, 3, axis=-1))
    raise ValueError(
        f"cannot use a value of shape {array.shape} as a colour: its last axis must hold 1 (gray), "
        f"3 (RGB) or 4 (RGBA) channels, or it must be a number or an (H, W) field")
