"""Shapes as signed distance fields (negative inside), and anti-aliased fill and stroke."""
from __future__ import annotations

import numpy as np

from .table import P, builtin

F32 = np.float32
SHAPES = "shapes"
WHITE = (1.0, 1.0, 1.0, 1.0)


@builtin(returns="num", category=SHAPES, params=(P("p", "vec2"), P("r", "num", 0.5, doc="radius")))
def circle(context, p, r):
    """Signed distance from `p` to a circle of radius `r` centred at the origin.

    Example: `output fill(circle(uv, 0.6), #ffcc00)`
    """
    return (np.hypot(p[..., 0], p[..., 1]) - r).astype(F32)


@builtin(returns="num", category=SHAPES,
         params=(P("p", "vec2"), P("size", "vec2", (1.0, 1.0), doc="width and height"),
                 P("radius", "num", 0.0, doc="corner rounding")))
def box(context, p, size, radius):
    """Signed distance to a box of the given width and height centred at the origin, corners rounded by `radius`.

    Example: `output fill(box(uv, vec(1.2, 0.8), 0.1), #3ba3ff)`
    """
    half = size * 0.5 - np.asarray(radius, F32)[..., None]
    qx = np.abs(p[..., 0]) - half[..., 0]
    qy = np.abs(p[..., 1]) - half[..., 1]
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    inside = np.minimum(np.maximum(qx, qy), 0)
    return (outside + inside - radius).astype(F32)


@builtin(returns="num", category=SHAPES,
         params=(P("p", "vec2"), P("a", "vec2", doc="start"), P("b", "vec2", doc="end")))
def segment(context, p, a, b):
    """Distance from `p` to the line segment from `a` to `b` (zero on the line; use stroke to draw it).

    Example: `output stroke(segment(uv, vec(-0.6, -0.4), vec(0.6, 0.4)), 0.05)`
    """
    pa, ba = p - a, b - a
    denominator = np.maximum(ba[..., 0] ** 2 + ba[..., 1] ** 2, 1e-12)
    h = np.clip((pa[..., 0] * ba[..., 0] + pa[..., 1] * ba[..., 1]) / denominator, 0.0, 1.0)
    return np.hypot(pa[..., 0] - ba[..., 0] * h, pa[..., 1] - ba[..., 1] * h).astype(F32)


def _coverage(context, distance, blur):
    """Anti-aliased coverage of the inside (distance < 0), ramping over one pixel plus `blur`."""
    width = context.pixel_size + np.maximum(blur, 0)
    return np.clip(0.5 - distance / width, 0.0, 1.0).astype(F32)


def _paint(colour, coverage):
    coverage = np.asarray(coverage, F32)
    colour = np.broadcast_to(colour, np.broadcast_shapes(colour.shape, coverage.shape + (4,)))
    out = np.array(colour, dtype=F32)
    out[..., 3] *= coverage
    return out


@builtin(returns="color", category=SHAPES,
         params=(P("d", "num", doc="signed distance"), P("color", "color", WHITE),
                 P("blur", "num", 0.0, doc="extra softness, in uv units")))
def fill(context, d, color, blur):
    """Paint the inside of a distance field with `color`, anti-aliased over one pixel; outside is transparent.

    Example: `output fill(circle(uv, 0.5), #ff5050)`
    """
    return _paint(color, _coverage(context, d, blur))


@builtin(returns="color", category=SHAPES,
         params=(P("d", "num", doc="signed distance"), P("width", "num", 0.02, doc="line width in uv units"),
                 P("color", "color", WHITE), P("blur", "num", 0.0, doc="extra softness")))
def stroke(context, d, width, color, blur):
    """Paint a line of the given width along the edge (d = 0) of a distance field, anti-aliased.

    Example: `output stroke(circle(uv, 0.5), 0.04, #50ffa0)`
    """
    return _paint(color, _coverage(context, np.abs(d) - np.asarray(width, F32) * 0.5, blur))
