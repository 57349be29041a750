"""Transforms of space: built-ins that take a point and return the point a shape should be drawn at.

A shape is drawn in transformed space by passing the transformed point to its distance function:
`circle(repeat(uv, 0.5), 0.1)` is a grid of circles. Rotation is `rotate` (vectors); moving and
scaling are the one-liners `uv - offset` and `uv / factor` (or `shapes.moved` and `shapes.scaled`).
"""
from __future__ import annotations

import numpy as np

from artlang.language.schema import P, builtin

F32 = np.float32
SPACE = "space"
MIRROR_AXES = ("x", "y", "both")


def _stack(x, y):
    return np.stack(np.broadcast_arrays(x, y), axis=-1).astype(F32)


def _cell(p, spacing):
    """The index of the repeat cell containing `p` (cell 0 is centred on the origin); 0 where spacing is 0."""
    safe = np.where(spacing != 0, spacing, 1)
    return np.where(spacing != 0, np.floor(p / safe + 0.5), 0)


def _whole(n, low):
    """A count rounded to the nearest whole number, at least `low` (halves round up)."""
    return np.maximum(np.floor(np.asarray(n, F32) + 0.5), low)


@builtin(returns="vec2", category=SPACE,
         params=(P("p", "vec2"), P("spacing", "vec2", (0.5, 0.5), doc="width and height of a cell")))
def repeat(context, p, spacing):
    """Repeat space in a grid of cells of the given size: the point relative to the centre of its cell.

    A shape drawn at the origin of the result appears once in every cell. Cells are centred on
    the origin and its multiples of `spacing`; a spacing of 0 along an axis leaves that axis
    unrepeated. A shape wider than a cell is cut at the cell's edges. Use `cell_id` to vary the
    shape from cell to cell.

    Example: `output fill(circle(repeat(uv, vec(0.5, 0.5)), 0.15), #ffcc00)`
    """
    return (p - spacing * _cell(p, spacing)).astype(F32)


@builtin(returns="vec2", category=SPACE,
         params=(P("p", "vec2"), P("spacing", "vec2", (0.5, 0.5), doc="width and height of a cell"),
                 P("count", "vec2", (3.0, 3.0), doc="number of copies across and up (whole numbers)")))
def repeat_limited(context, p, spacing, count):
    """Like `repeat`, but only `count` copies across and up, centred on the origin; outside them space is not repeated.

    Points beyond the last copy belong to the nearest copy, so distances stay correct around the
    whole group.

    Example: `output fill(box(repeat_limited(uv, vec(0.4, 0.4), vec(4, 2)), vec(0.25, 0.25)), #50c0ff)`
    """
    count = _whole(count, 1)
    centre = (count - 1) * 0.5                  # copies sit at spacing * (index - centre)
    safe = np.where(spacing != 0, spacing, 1)
    index = np.clip(np.floor(p / safe + centre + 0.5), 0, count - 1)
    index = np.where(spacing != 0, index, centre)
    return (p - spacing * (index - centre)).astype(F32)


@builtin(returns="vec2", category=SPACE,
         params=(P("p", "vec2"), P("spacing", "vec2", (0.5, 0.5), doc="width and height of a cell")))
def cell_id(context, p, spacing):
    """The whole-number index (column, row) of the `repeat` cell that `p` lies in; the cell at the origin is (0, 0).

    Example: `output fill(circle(repeat(uv, 0.5), 0.1 + 0.05 * cell_id(uv, 0.5).x), #ff77a8)`
    """
    return _cell(p, spacing).astype(F32)


@builtin(returns="vec2", category=SPACE,
         params=(P("p", "vec2"), P("axis", "string", "x", choices=MIRROR_AXES,
                                   doc='"x": left mirrors right; "y": bottom mirrors top; "both"')))
def mirror(context, p, axis):
    """Mirror space across an axis: `"x"` makes x positive (the left half is the mirror image of the right), `"y"` makes y positive, `"both"` both.

    Example: `output fill(circle(mirror(uv, "x") - vec(0.5, 0), 0.3), #3ba3ff)`
    """
    x, y = p[..., 0], p[..., 1]
    if axis in ("x", "both"):
        x = np.abs(x)
    if axis in ("y", "both"):
        y = np.abs(y)
    return _stack(x, y)


@builtin(returns="vec2", category=SPACE, params=(P("p", "vec2"),))
def polar(context, p):
    """The point in polar coordinates: (radius, angle), the angle in radians from the +x axis, -π..π.

    `cartesian` turns it back. Drawing with polar coordinates bends straight things into round
    ones: `stroke(polar(uv).x - 0.5, 0.02)` is a circle.

    Example: `output 0.5 + 0.5 * sin(polar(uv).y * 8 + polar(uv).x * 10)`
    """
    x, y = p[..., 0], p[..., 1]
    return _stack(np.hypot(x, y), np.arctan2(y, x))


@builtin(returns="vec2", category=SPACE, params=(P("q", "vec2", doc="(radius, angle)"),))
def cartesian(context, q):
    """The point with polar coordinates q = (radius, angle in radians) in ordinary x, y: the inverse of `polar`.

    Example: `output fill(circle(uv - cartesian(vec(0.5, t)), 0.2), #ffcc00)`
    """
    radius, angle = q[..., 0], q[..., 1]
    return _stack(radius * np.cos(angle), radius * np.sin(angle))


@builtin(returns="vec2", category=SPACE,
         params=(P("p", "vec2"), P("segments", "num", 6.0, doc="number of wedges (a whole number, at least 1)")))
def kaleidoscope(context, p, segments):
    """Fold space into one mirrored wedge, so a shape drawn once shows `segments` times around the origin.

    The plane is cut into `segments` wedges of angle τ / segments, the first centred on the +x
    axis, and each wedge is folded onto its upper half: the result has `segments`-fold rotational
    symmetry and a mirror along every wedge's centre line and edge. The returned point has the
    same distance from the origin and an angle between 0 and π / segments, so distances measured
    in it are exact for shapes that have the same symmetry (`shapes.polygon`, `shapes.star`).

    Example: `output fill(circle(kaleidoscope(uv, 6) - vec(0.5, 0.1), 0.15), #ff77a8)`
    """
    wedge = np.float64(2 * np.pi) / _whole(segments, 1)
    x, y = p[..., 0].astype(np.float64), p[..., 1].astype(np.float64)
    angle = np.abs(np.mod(np.arctan2(y, x) + wedge / 2, wedge) - wedge / 2)
    radius = np.hypot(x, y)
    return _stack(radius * np.cos(angle), radius * np.sin(angle))
