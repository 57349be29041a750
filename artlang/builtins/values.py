"""Built-in values: coordinates, canvas size, time and constants."""
from __future__ import annotations

import math

import numpy as np

from artlang.language.schema import builtin_value

F32 = np.float32


@builtin_value(kind="vec2", category="coordinates", per_pixel=True)
def uv(context):
    """Centred, aspect-correct coordinates: (0, 0) at the centre, y up, the shorter side spans -1..1.

    Example: `output fill(circle(uv, 0.5))`
    """
    return context.uv


@builtin_value(kind="vec2", category="coordinates", per_pixel=True)
def st(context):
    """Normalised coordinates: (0, 0) at the bottom left, (1, 1) at the top right (not aspect-correct).

    Example: `output rgb(st.x, st.y, 0.5)`
    """
    return context.st


@builtin_value(kind="vec2", category="coordinates", per_pixel=True)
def px(context):
    """Pixel coordinates: the centre of the top-left pixel is (0.5, 0.5), y grows downwards.

    Example: `output (floor(px.x / 16) + floor(px.y / 16)) % 2`
    """
    return context.px


@builtin_value(kind="num", category="coordinates")
def width(context):
    """Width of the canvas in pixels.

    Example: `output px.x / width`
    """
    return F32(context.width)


@builtin_value(kind="num", category="coordinates")
def height(context):
    """Height of the canvas in pixels.

    Example: `output px.y / height`
    """
    return F32(context.height)


@builtin_value(kind="num", category="coordinates")
def pixel(context):
    """The size of one pixel in `uv` units: handy for line widths that stay one pixel wide.

    Example: `output stroke(circle(uv, 0.5), 3 * pixel)`
    """
    return F32(context.pixel_size)


@builtin_value(kind="num", category="time", animated=True)
def t(context):
    """Time in seconds of the frame being drawn: `frame / fps` (never the wall clock).

    Example: `output 0.5 + 0.5 * sin(t * tau)`
    """
    return F32(context.time)


@builtin_value(kind="num", category="time", animated=True)
def frame(context):
    """Index of the frame being drawn, from 0.

    Example: `output frame / frames`
    """
    return F32(context.frame)


@builtin_value(kind="num", category="time", animated=True)
def cycle(context):
    """Where the frame is in the sketch's loop, from 0 up to (not including) 1: `frame / loop`,
    wrapping every `loop` frames (the whole animation without a `loop` statement). Anything
    driven by `cycle` through a periodic function closes the loop exactly.

    Example: `output 0.5 + 0.5 * sin(tau * (cycle + uv.x))`
    """
    return F32((context.frame % context.loop_frames) / context.loop_frames)


@builtin_value(kind="num", category="time")
def frames(context):
    """Number of frames of the animation (1 for a still image).

    Example: `output frame / frames`
    """
    return F32(context.frames)


@builtin_value(kind="num", category="time")
def fps(context):
    """Frames per second of the animation.

    Example: `output fract(frame / fps)`
    """
    return F32(context.fps)


@builtin_value(kind="num", category="constants")
def pi(context):
    """π, half a turn in radians.

    Example: `output 0.5 + 0.5 * cos(uv.x * pi)`
    """
    return F32(math.pi)


@builtin_value(kind="num", category="constants")
def tau(context):
    """τ = 2π, a whole turn in radians.

    Example: `output 0.5 + 0.5 * sin(uv.x * tau)`
    """
    return F32(math.tau)
