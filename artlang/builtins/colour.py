"""Colour built-ins: constructors, colormaps and cosine palettes."""
from __future__ import annotations

import numpy as np

from .. import colour
from .table import P, builtin, declare

F32 = np.float32
COLOUR = "colour"


def _stack(*channels) -> np.ndarray:
    return np.stack(np.broadcast_arrays(*(np.asarray(c, dtype=F32) for c in channels)), axis=-1)


@builtin(returns="color", category=COLOUR,
         params=(P("r", "num"), P("g", "num"), P("b", "num"), P("a", "num", 1.0)))
def rgb(context, r, g, b, a):
    """A colour from red, green, blue (and alpha), each 0..1.

    Example: `output rgb(st.x, 0.3, st.y)`
    """
    return _stack(r, g, b, a)


@builtin(returns="color", category=COLOUR,
         params=(P("h", "num", doc="hue, 0..1 is one turn"), P("s", "num", 1.0), P("v", "num", 1.0),
                 P("a", "num", 1.0)))
def hsv(context, h, s, v, a):
    """A colour from hue (0..1, wrapping), saturation and value.

    Example: `output hsv(st.x, 0.8, 1)`
    """
    rgb_ = colour.hsv_to_rgb(*np.broadcast_arrays(*(np.asarray(c, dtype=F32) for c in (h, s, v))))
    alpha = np.broadcast_to(np.asarray(a, dtype=F32), rgb_.shape[:-1])
    return np.concatenate([rgb_.astype(F32), alpha[..., None]], axis=-1)


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


def _colormap_function(name: str):
    def apply(context, x):
        return colour.colormap(name, x).astype(F32)
    apply.__doc__ = (f"The perceptual `{name}` colormap: `x` from 0 to 1 runs along the map.\n\n"
                     f"Example: `output {name}(st.x)`")
    return apply


for _name in colour.COLORMAP_NAMES:
    declare(_name, _colormap_function(_name), returns="color", category="colormaps",
            params=(P("x", "num", doc="position along the map, 0..1"),))
