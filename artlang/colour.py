"""Colour functions: colormaps, cosine palettes, HSV, hex parsing and the sRGB transfer curves.

Conventions (DESIGN.md, "Values"):

- A colour is a float32 array whose last axis has 4 channels: straight (not premultiplied) RGBA,
  sRGB-encoded, nominally in 0..1. Nothing here clips except where a function says so; the writer
  clips when it converts to 8 or 16 bit.
- A scalar field is a float32 array of shape (H, W), or a 0-d array / Python float.

Every function works on whole arrays (numpy broadcasting, no Python loop over pixels), accepts
Python numbers and sequences as well as arrays, and returns float32.

This module imports nothing from the rest of artlang: `tools/make_colormaps.py` loads it by path to
read `COLORMAP_NAMES`, the one list of colormap names.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

__all__ = [
    "COLORMAP_NAMES",
    "colormap",
    "cosine_palette",
    "hsv_to_rgb",
    "rgb_to_hsv",
    "parse_hex",
    "srgb_to_linear",
    "linear_to_srgb",
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

_HEX_COLOUR = re.compile(r"#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def parse_hex(text: str) -> tuple[float, float, float, float]:
    """Parse "#rgb", "#rgba", "#rrggbb" or "#rrggbbaa" into an (r, g, b, a) tuple of floats in 0..1.

    Alpha defaults to 1. Letters may be upper or lower case; nothing else (no spaces, no missing #).

    >>> parse_hex("#ff8000")
    (1.0, 0.5019607843137255, 0.0, 1.0)
    >>> parse_hex("#0f08")
    (0.0, 1.0, 0.0, 0.5333333333333333)
    """
    match = _HEX_COLOUR.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a hex colour; write #rgb, #rgba, #rrggbb or #rrggbbaa "
            f"with hex digits 0-9 and a-f, for example #ff8000")
    digits = match.group(1)
    if len(digits) <= 4:
        channels = [int(digit, 16) / 15 for digit in digits]
    else:
        channels = [int(digits[i:i + 2], 16) / 255 for i in range(0, len(digits), 2)]
    if len(channels) == 3:
        channels.append(1.0)
    return tuple(channels)


# --- sRGB transfer functions -----------------------------------------------------------------------

def srgb_to_linear(x) -> np.ndarray:
    """Decode sRGB-encoded values to linear light (IEC 61966-2-1), elementwise.

    x <= 0.04045: x / 12.92; above: ((x + 0.055) / 1.055) ** 2.4. Negative values stay on the
    linear segment. Apply it to colour[..., :3] to leave alpha alone.

    >>> round(float(srgb_to_linear(0.5)), 6)
    0.214041
    """
    x = _as_float32(x)
    curve = ((np.maximum(x, np.float32(0.04045)) + np.float32(0.055)) / np.float32(1.055)) ** np.float32(2.4)
    return np.where(x <= np.float32(0.04045), x / np.float32(12.92), curve)


def linear_to_srgb(x) -> np.ndarray:
    """Encode linear-light values as sRGB (IEC 61966-2-1), elementwise; the inverse of srgb_to_linear.

    x <= 0.0031308: 12.92 * x; above: 1.055 * x ** (1 / 2.4) - 0.055. Negative values stay on the
    linear segment. Apply it to colour[..., :3] to leave alpha alone.

    >>> round(float(linear_to_srgb(0.214041)), 4)
    0.5
    """
    x = _as_float32(x)
    curve = np.float32(1.055) * np.maximum(x, np.float32(0.0031308)) ** np.float32(1 / 2.4) - np.float32(0.055)
    return np.where(x <= np.float32(0.0031308), x * np.float32(12.92), curve)


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
