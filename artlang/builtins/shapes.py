"""Shapes as signed distance fields (negative inside), ways to combine them, and anti-aliased fill, stroke and aura."""
from __future__ import annotations

import numpy as np

from artlang.language.schema import P, builtin

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


@builtin(returns="num", category=SHAPES,
         params=(P("p", "vec2"), P("radii", "vec2", (0.6, 0.3), doc="half-width and half-height")))
def ellipse(context, p, radii):
    """Exact signed distance to an ellipse centred at the origin with the given half-width and half-height.

    The nearest point on the ellipse is found by six fixed steps of a converging iteration:
    within 1e-6 of the true distance for ordinary ellipses, within 1e-4 of the larger radius
    for very thin ones (100 : 1), far below a pixel. Equal radii give a circle.

    Example: `output fill(ellipse(uv, vec(0.9, 0.5)), #ff9a3c)`
    """
    a = np.maximum(np.abs(radii[..., 0]).astype(np.float64), 1e-6)
    b = np.maximum(np.abs(radii[..., 1]).astype(np.float64), 1e-6)
    x = np.abs(p[..., 0]).astype(np.float64)
    y = np.abs(p[..., 1]).astype(np.float64)
    # Walk a point (a·tx, b·ty) on the ellipse towards the nearest one, following the local circle of
    # curvature (its centre e on the evolute); (tx, ty) stays a unit vector in the first quadrant.
    tx = ty = np.full(np.broadcast_shapes(x.shape, a.shape), np.sqrt(0.5))
    for _ in range(6):
        ex = (a * a - b * b) * tx ** 3 / a
        ey = (b * b - a * a) * ty ** 3 / b
        r = np.hypot(a * tx - ex, b * ty - ey)
        qx, qy = x - ex, y - ey
        q = np.maximum(np.hypot(qx, qy), 1e-12)
        tx = np.clip((qx * r / q + ex) / a, 0, 1)
        ty = np.clip((qy * r / q + ey) / b, 0, 1)
        norm = np.maximum(np.hypot(tx, ty), 1e-12)
        tx, ty = tx / norm, ty / norm
    distance = np.hypot(x - a * tx, y - b * ty)
    inside = (x / a) ** 2 + (y / b) ** 2 < 1
    return np.where(inside, -distance, distance).astype(F32)


def _cross(u, v):
    return u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0]


def _dot(u, v):
    return u[..., 0] * v[..., 0] + u[..., 1] * v[..., 1]


@builtin(returns="num", category=SHAPES,
         params=(P("p", "vec2"), P("a", "vec2", (0.0, 0.5), doc="first corner"),
                 P("b", "vec2", (-0.433, -0.25), doc="second corner"),
                 P("c", "vec2", (0.433, -0.25), doc="third corner")))
def triangle(context, p, a, b, c):
    """Exact signed distance to the triangle with corners `a`, `b` and `c` (in either winding order).

    The default is an upright equilateral triangle whose corners are 0.5 from the origin.

    Example: `output fill(triangle(uv, vec(0, 0.8), vec(-0.7, -0.5), vec(0.7, -0.5)), #50ffa0)`
    """
    orientation = np.sign(_cross(b - a, c - a))
    nearest = None
    inside = None
    for start, end in ((a, b), (b, c), (c, a)):
        edge, offset = end - start, p - start
        h = np.clip(_dot(offset, edge) / np.maximum(_dot(edge, edge), 1e-12), 0.0, 1.0)
        squared = _dot(offset - edge * h[..., None], offset - edge * h[..., None])
        left = orientation * _cross(edge, offset) > 0      # strictly on the inner side of this edge
        nearest = squared if nearest is None else np.minimum(nearest, squared)
        inside = left if inside is None else inside & left
    distance = np.sqrt(nearest)
    return np.where(inside, -distance, distance).astype(F32)


@builtin(returns="num", category=SHAPES,
         params=(P("p", "vec2"), P("radius", "num", 0.5),
                 P("start", "num", 0.0, doc="angle where the arc begins, radians from +x"),
                 P("end", "num", 3.14159265, doc="angle where it ends (counter-clockwise)"),
                 P("width", "num", 0.05, doc="line width, in uv units")))
def arc(context, p, radius, start, end, width):
    """Exact signed distance to an arc of a circle: a line of the given width with round ends, from angle `start` to `end`.

    An arc that spans a whole turn or more is a full ring.

    Example: `output fill(arc(uv, 0.6, 0, 4.5, 0.1), #ffcc00)`
    """
    middle = (np.asarray(start, np.float64) + end) / 2
    half = np.clip(np.abs(np.asarray(end, np.float64) - start) / 2, 0, np.pi)
    x, y = p[..., 0].astype(np.float64), p[..., 1].astype(np.float64)
    along = np.cos(middle) * x + np.sin(middle) * y            # the arc's middle turned onto +x
    across = np.abs(np.cos(middle) * y - np.sin(middle) * x)   # and folded onto its upper half
    on_arc = np.arctan2(across, along) <= half
    to_circle = np.abs(np.hypot(along, across) - radius)
    to_end = np.hypot(along - radius * np.cos(half), across - radius * np.sin(half))
    return (np.where(on_arc, to_circle, to_end) - np.asarray(width, np.float64) / 2).astype(F32)


SMOOTHNESS = P("k", "num", 0.1, doc="size of the rounded join, in uv units (0 gives a sharp one)")


def _smooth_min(a, b, k):
    """Polynomial smooth minimum: equal to min(a, b) where |a - b| >= k, at most k / 4 below it."""
    k = np.maximum(np.asarray(k, F32), 0)
    h = np.maximum(k - np.abs(a - b), 0) / np.where(k > 0, k, 1)
    return (np.minimum(a, b) - h * h * k * 0.25).astype(F32)


@builtin(returns="num", category=SHAPES, params=(P("a", "num"), P("b", "num"), SMOOTHNESS))
def smooth_min(context, a, b, k):
    """The minimum of `a` and `b` with the corner rounded over `k`: on distances, two shapes melted into one.

    Equal to `min(a, b)` where the two differ by `k` or more, and never more than k / 4 below it
    (where they are equal). `shapes.smooth_union` is this under its shape name.

    Example: `output fill(smooth_min(circle(uv - vec(0.35, 0), 0.3), circle(uv + vec(0.35, 0), 0.3), 0.3), #ff77a8)`
    """
    return _smooth_min(a, b, k)


@builtin(returns="num", category=SHAPES, params=(P("a", "num"), P("b", "num"), SMOOTHNESS))
def smooth_max(context, a, b, k):
    """The maximum of `a` and `b` with the corner rounded over `k`: on distances, the rounded overlap of two shapes.

    Equal to `max(a, b)` where the two differ by `k` or more, never more than k / 4 above it.
    `smooth_max(a, -b, k)` cuts shape b out of shape a with a rounded edge (`shapes.smooth_difference`).

    Example: `output fill(smooth_max(circle(uv - vec(0.25, 0), 0.5), circle(uv + vec(0.25, 0), 0.5), 0.2), #3ba3ff)`
    """
    return -_smooth_min(-np.asarray(a, F32), -np.asarray(b, F32), k)


@builtin(returns="color", category=SHAPES,
         params=(P("d", "num", doc="signed distance"), P("reach", "num", 0.1, doc="how far it shines, in uv units"),
                 P("color", "color", WHITE)))
def aura(context, d, reach, color):
    """A soft glow around a distance field: `color` at full alpha inside and on the edge, fading outside.

    The alpha is exp(-d / reach) outside the shape (0.37 at a distance of `reach`), so the glow
    composes with any blend mode: as a layer with `blend add` or `screen` it brightens what is
    below, with `normal` it is a halo under a `fill` drawn on top.

    Example: `output #101820, aura(circle(uv, 0.3), 0.15, #ffb36b), fill(circle(uv, 0.3), #fff4d0)`
    """
    reach = np.maximum(np.asarray(reach, F32), 1e-6)
    return _paint(color, np.exp(-np.maximum(d, 0) / reach))
