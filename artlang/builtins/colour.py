"""Colour built-ins: constructors, linear light, OKLab/OKLCH, gradients, posterise and dither,
colormaps and cosine palettes. The colour science lives in `artlang.kernels.colour`; this module declares
the built-ins and turns that module's ValueErrors into artlang errors."""
from __future__ import annotations

import numpy as np

from artlang.kernels import colour
from artlang.core.errors import RUNTIME, error
from artlang.language.schema import P, builtin, declare

F32 = np.float32
COLOUR = "colour"


def _stack(*channels) -> np.ndarray:
    return np.stack(np.broadcast_arrays(*(np.asarray(c, dtype=F32) for c in channels)), axis=-1)


@builtin(returns="color", category=COLOUR,
         params=(P("r", "num"), P("g", "num"), P("b", "num"), P("a", "num", 1.0)))
def rgb(context, r, g, b, a):
    """A colour from red, green, blue (and alpha), each 0..1, sRGB-encoded like `#rrggbb`.

    artlang colours are sRGB-encoded (the numbers of a colour picker), not linear light: `mix`
    averages those numbers; use `mix_linear` to mix light and `mix_oklab` to mix perceptually.

    Example: `output rgb(st.x, 0.3, st.y)`
    """
    return _stack(r, g, b, a)


@builtin(returns="color", category=COLOUR,
         params=(P("h", "num", doc="hue, 0..1 is one turn"), P("s", "num", 1.0), P("v", "num", 1.0),
                 P("a", "num", 1.0)))
def hsv(context, h, s, v, a):
    """A colour from hue (0..1, wrapping), saturation and value.

    Hue is in turns: 0 (and 1) red, 1/3 green, 2/3 blue. For hues of even brightness use `oklch`.

    Example: `output hsv(st.x, 0.8, 1)`
    """
    h, s, v, a = np.broadcast_arrays(*(np.asarray(c, dtype=F32) for c in (h, s, v, a)))
    return np.concatenate([colour.hsv_to_rgb(h, s, v).astype(F32), a[..., None]], axis=-1)


@builtin(returns="color", category=COLOUR, params=(P("v", "num"), P("a", "num", 1.0)))
def gray(context, v, a):
    """A gray colour of brightness `v`.

    Example: `output gray(st.x)`
    """
    return _stack(v, v, v, a)


@builtin(returns="color", category=COLOUR, params=(P("c", "color"), P("a", "num")))
def with_alpha(context, c, a):
    """The colour `c` with its alpha replaced by `a`.

    Example: `output with_alpha(#ff8800, st.x)`
    """
    alpha = np.broadcast_to(np.asarray(a, dtype=F32), np.broadcast_shapes(c.shape[:-1], np.shape(a)))
    rgb_ = np.broadcast_to(c[..., :3], alpha.shape + (3,))
    return np.concatenate([rgb_, alpha[..., None]], axis=-1)


@builtin(returns="color", category=COLOUR, params=(P("c", "color"),))
def clip(context, c):
    """The colour with every channel clamped to 0..1 (what the writer does at the end anyway).

    Example: `output clip(#ff8800 * 2)`
    """
    return np.clip(c, 0.0, 1.0).astype(F32)


@builtin(returns="color", category=COLOUR,
         params=(P("t", "num"), P("a", "color", doc="offset"), P("b", "color", doc="amplitude"),
                 P("c", "color", doc="frequency"), P("d", "color", doc="phase")))
def palette(context, t, a, b, c, d):
    """Inigo Quilez's cosine palette `a + b * cos(tau * (c * t + d))`, per channel.

    Example: `output palette(st.x, gray(0.5), gray(0.5), gray(1), rgb(0, 0.33, 0.67))`
    """
    return colour.cosine_palette(t, a, b, c, d).astype(F32)


# --- linear light ----------------------------------------------------------------------------------

@builtin(returns="color", category=COLOUR, params=(P("c", "color"),))
def to_linear(context, c):
    """The colour's r, g, b decoded from sRGB to linear light (proportional to light; alpha kept).

    Do arithmetic that adds or averages light on linear colours, then turn the result back with
    `to_srgb`; shown directly, a linear colour looks too dark.

    Example: `output to_srgb(to_linear(#ff0000) * 0.5 + to_linear(#00ff00) * 0.5)`
    """
    return colour.to_linear(c)


@builtin(returns="color", category=COLOUR, params=(P("c", "color"),))
def to_srgb(context, c):
    """The colour's r, g, b encoded from linear light to sRGB; the inverse of `to_linear` (alpha kept).

    Example: `output to_srgb(gray(st.x))`
    """
    return colour.to_srgb(c)


MIX_PARAMS = (P("a", "color"), P("b", "color"), P("amount", "num", doc="0 gives a, 1 gives b"))


@builtin(returns="color", category=COLOUR, params=MIX_PARAMS)
def mix_linear(context, a, b, amount):
    """Interpolate two colours in linear light (physically even blending); alpha is mixed too.

    `mix` interpolates the sRGB-encoded numbers, which darkens the middle of a mix of two bright
    colours; `mix_linear` does not.

    Example: `output mix_linear(#ff0000, #00ff00, st.x)`
    """
    return colour.mix_in(a, b, amount, "linear")


@builtin(returns="color", category=COLOUR, params=MIX_PARAMS)
def mix_oklab(context, a, b, amount):
    """Interpolate two colours in OKLab, so lightness and hue change evenly to the eye; alpha is mixed too.

    Example: `output mix_oklab(#1d2b53, #ffec27, st.x)`
    """
    return colour.mix_in(a, b, amount, "oklab")


# --- OKLab and OKLCH -------------------------------------------------------------------------------

@builtin(returns="color", category=COLOUR,
         params=(P("l", "num", doc="perceived lightness, 0 black .. 1 white"),
                 P("a", "num", doc="green (-) to red (+), about -0.4..0.4"),
                 P("b", "num", doc="blue (-) to yellow (+), about -0.4..0.4"),
                 P("alpha", "num", 1.0)))
def oklab(context, light, a, b, alpha):
    """A colour from OKLab lightness and the a, b axes (Björn Ottosson's perceptual space).

    Equal steps in OKLab look like equal steps. Colours outside the sRGB gamut give channels
    outside 0..1, which are clipped per channel when the picture is written (see `clip`).

    Example: `output oklab(0.7, uv.x * 0.2, uv.y * 0.2)`
    """
    return colour.oklab_to_srgb(_stack(light, a, b, alpha))


@builtin(returns="color", category=COLOUR,
         params=(P("l", "num", doc="perceived lightness, 0 black .. 1 white"),
                 P("c", "num", doc="chroma, 0 gray .. about 0.32 (the most vivid sRGB colours)"),
                 P("h", "num", doc="hue, 0..1 is one turn (like hsv)"),
                 P("alpha", "num", 1.0)))
def oklch(context, light, c, h, alpha):
    """A colour from OKLCH lightness, chroma and hue: a perceptual `hsv` where every hue looks as light.

    Hue is in turns like `hsv` (0..1, wrapping): about 0.08 red, 0.3 yellow, 0.4 green, 0.73 blue.
    Colours outside the sRGB gamut are clipped per channel when written (lower `c` to stay inside).

    Example: `output oklch(0.7, 0.12, st.x)`
    """
    return colour.oklab_to_srgb(colour.oklch_to_oklab(_stack(light, c, h, alpha)))


@builtin(returns="num", category=COLOUR, params=(P("c", "color"),))
def lightness_of(context, c):
    """The OKLab lightness of a colour: 0 for black, 1 for white, even steps to the eye.

    Example: `output lightness_of(hsv(st.x, 1, 1))`
    """
    return colour.srgb_to_oklab(c[..., :3])[..., 0]


@builtin(returns="num", category=COLOUR, params=(P("c", "color"),))
def chroma_of(context, c):
    """The OKLCH chroma of a colour: 0 for grays, up to about 0.32 for the most vivid sRGB colours.

    Example: `output chroma_of(hsv(st.x, st.y, 1)) * 3`
    """
    return colour.oklab_to_oklch(colour.srgb_to_oklab(c[..., :3]))[..., 1]


@builtin(returns="num", category=COLOUR, params=(P("c", "color"),))
def hue_of(context, c):
    """The OKLCH hue of a colour in turns, 0..1 (0 for grays), as `oklch` takes it.

    Example: `output oklch(0.6, 0.1, hue_of(hsv(st.x, 1, 1)))`
    """
    return colour.oklab_to_oklch(colour.srgb_to_oklab(c[..., :3]))[..., 2]


# --- gradients -------------------------------------------------------------------------------------

def _runtime(function, *arguments, **options):
    """Call into artlang.kernels.colour, turning its ValueError into an artlang runtime error."""
    try:
        return function(*arguments, **options)
    except ValueError as failure:
        raise error(str(failure), stage=RUNTIME) from None


GRADIENT_T = P("t", "num", doc="position along the gradient, 0..1 (clamped)")
STOPS = P("stops", "color", variadic=True, doc="the colours, first to last")
SPACE = P("space", "string", "oklab", choices=tuple(colour.MIX_SPACES),
          doc="where stops are mixed (keyword only): perceptual OKLab, sRGB numbers, or linear light")


@builtin(returns="color", category=COLOUR, params=(GRADIENT_T, STOPS, SPACE))
def gradient(context, t, stops, space):
    """A gradient through any number of evenly spaced colour stops, mixed in OKLab unless `space` says otherwise.

    The first stop is at 0 and the last at 1; `t` is clamped to 0..1 and gives each stop exactly
    where it falls on one. Mixing in OKLab keeps lightness and hue changing evenly; `mix_linear`
    and `mix` mix two colours in linear light and in sRGB. For stops at chosen places use
    `gradient_at`.

    Example: `output gradient(st.x, #1d2b53, #ff004d, #ffec27)`
    """
    return _runtime(colour.gradient, t, stops, space=space)


@builtin(returns="color", category=COLOUR,
         params=(GRADIENT_T, P("positions", "list", doc="one position per stop, never decreasing"),
                 STOPS, SPACE))
def gradient_at(context, t, positions, stops, space):
    """A gradient through colour stops at the given positions, mixed in OKLab unless `space` says otherwise.

    `positions` holds one number per stop, in order (`[0, 0.2, 1]`); before the first position the
    first stop holds and after the last the last. Two stops at the same position make a hard edge.

    Example: `output gradient_at(st.x, [0, 0.2, 1], #000000, #ff004d, #ffffff)`
    """
    return _runtime(colour.gradient, t, stops, positions=positions, space=space)


# --- posterise and dither --------------------------------------------------------------------------

@builtin(returns="color", category=COLOUR,
         params=(P("c", "color"), P("levels", "num", 4.0, doc="values per channel, at least 2")))
def posterize(context, c, levels):
    """The colour with each of r, g, b cut to `levels` flat steps from 0 to 1 (alpha kept).

    Works on the sRGB-encoded values, clipped to 0..1: 0..1 is cut into `levels` bins of equal
    width, the lowest giving 0 and the highest 1.

    Example: `output posterize(viridis(st.x), 5)`
    """
    return colour.posterize(c, levels)


@builtin(returns="color", category=COLOUR, per_pixel=True,
         params=(P("c", "color"), P("levels", "num", 2.0, doc="values per channel, at least 2"),
                 P("matrix", "num", 4.0, uniform=True, doc="Bayer matrix size: 2, 4, 8 or 16")))
def dither(context, c, levels, matrix):
    """Ordered (Bayer) dithering: each of r, g, b becomes one of `levels` values, in a pixel pattern
    whose average keeps the original shade (alpha kept).

    The pattern is fixed to the canvas's pixel grid, so it never crawls when the picture is
    rendered in tiles. It dithers the sRGB-encoded values; for black-and-white dithering that keeps
    the amount of light, dither the linear colour: `dither(to_linear(c))`.

    Example: `output dither(gray(st.x), 2)`
    """
    columns, rows = context.pixel_indices
    size = float(np.asarray(matrix).reshape(-1)[0])
    if size not in colour.BAYER_SIZES:
        raise error(f"dither's matrix must be one of {', '.join(map(str, colour.BAYER_SIZES))}; "
                    f"got {size:g}", stage=RUNTIME, hint="matrix=4 is a good start; 8 gives finer shades")
    return colour.dither(c, levels, columns, rows, int(size))


def _colormap_function(name: str):
    def apply(context, x):
        return colour.colormap(name, x).astype(F32)
    apply.__doc__ = (f"The perceptual `{name}` colormap: `x` from 0 to 1 runs along the map.\n\n"
                     f"Example: `output {name}(st.x)`")
    return apply


for _name in colour.COLORMAP_NAMES:
    declare(_name, _colormap_function(_name), returns="color", category="colormaps",
            params=(P("x", "num", doc="position along the map, 0..1"),))
