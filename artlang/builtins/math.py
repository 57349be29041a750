"""Math built-ins. T is a number, 2-vector or colour; on colours they act on r, g, b."""
from __future__ import annotations

import numpy as np

from artlang.language.schema import P, builtin

F32 = np.float32
MATH = "math"
X = (P("x", "T", doc="value"),)


def _f32(value):
    return np.asarray(value, dtype=F32)


@builtin(returns="T", category=MATH, params=X)
def sin(context, x):
    """Sine of `x` (radians).

    Example: `output 0.5 + 0.5 * sin(uv.x * 10)`
    """
    return _f32(np.sin(x))


@builtin(returns="T", category=MATH, params=X)
def cos(context, x):
    """Cosine of `x` (radians).

    Example: `output 0.5 + 0.5 * cos(length(uv) * 20)`
    """
    return _f32(np.cos(x))


@builtin(returns="T", category=MATH, params=X)
def tan(context, x):
    """Tangent of `x` (radians).

    Example: `output clamp(tan(uv.x * 1.5), 0, 1)`
    """
    return _f32(np.tan(x))


@builtin(returns="T", category=MATH, params=X)
def asin(context, x):
    """Arc sine, in radians; `x` is clamped to -1..1.

    Example: `output asin(uv.x) / pi + 0.5`
    """
    return _f32(np.arcsin(np.clip(x, -1, 1)))


@builtin(returns="T", category=MATH, params=X)
def acos(context, x):
    """Arc cosine, in radians; `x` is clamped to -1..1.

    Example: `output acos(uv.x) / pi`
    """
    return _f32(np.arccos(np.clip(x, -1, 1)))


@builtin(returns="T", category=MATH, params=X)
def atan(context, x):
    """Arc tangent, in radians.

    Example: `output atan(uv.x * 4) / pi + 0.5`
    """
    return _f32(np.arctan(x))


@builtin(returns="T", category=MATH, params=(P("y", "T"), P("x", "T")))
def atan2(context, y, x):
    """The angle of the point (x, y) in radians, -π..π.

    Example: `output atan2(uv.y, uv.x) / tau + 0.5`
    """
    return _f32(np.arctan2(y, x))


@builtin(returns="T", category=MATH, params=X, name="abs")
def abs_(context, x):
    """Absolute value.

    Example: `output abs(uv.x)`
    """
    return _f32(np.abs(x))


@builtin(returns="T", category=MATH, params=X)
def sign(context, x):
    """-1, 0 or 1 by the sign of `x`.

    Example: `output sign(uv.x) * 0.5 + 0.5`
    """
    return _f32(np.sign(x))


@builtin(returns="T", category=MATH, params=X)
def floor(context, x):
    """The largest whole number not above `x`.

    Example: `output floor(st.x * 8) / 8`
    """
    return _f32(np.floor(x))


@builtin(returns="T", category=MATH, params=X)
def ceil(context, x):
    """The smallest whole number not below `x`.

    Example: `output ceil(st.x * 8) / 8`
    """
    return _f32(np.ceil(x))


@builtin(returns="T", category=MATH, params=X, name="round")
def round_(context, x):
    """`x` rounded to the nearest whole number (halves away from zero).

    Example: `output round(st.x * 4) / 4`
    """
    return _f32(np.sign(x) * np.floor(np.abs(x) + 0.5))


@builtin(returns="T", category=MATH, params=X)
def fract(context, x):
    """The fractional part `x - floor(x)`, in 0..1.

    Example: `output fract(uv.x * 4)`
    """
    return _f32(x - np.floor(x))


@builtin(returns="T", category=MATH, params=(P("x", "T"), P("y", "T")))
def mod(context, x, y):
    """`x` modulo `y`, with the sign of `y` (like GLSL's `mod`); the same as `x % y`.

    Example: `output mod(px.x, 32) / 32`
    """
    return _f32(np.mod(x, y))


@builtin(returns="T", category=MATH, params=X)
def sqrt(context, x):
    """Square root; negative inputs give 0.

    Example: `output sqrt(st.x)`
    """
    return _f32(np.sqrt(np.maximum(x, 0)))


@builtin(returns="T", category=MATH, params=X)
def exp(context, x):
    """e to the power `x`.

    Example: `output exp(-4 * length(uv))`
    """
    return _f32(np.exp(x))


@builtin(returns="T", category=MATH, params=X)
def log(context, x):
    """Natural logarithm; inputs at or below 0 give a very negative number instead of an error.

    Example: `output log(1 + 9 * st.x) / log(10)`
    """
    return _f32(np.log(np.maximum(x, 1e-30)))


@builtin(returns="T", category=MATH, params=(P("x", "T"), P("y", "T")))
def pow(context, x, y):
    """`x` to the power `y`; the same as `x ** y`.

    Example: `output pow(st.x, 2.2)`
    """
    return _f32(np.power(x, y))


@builtin(returns="T", category=MATH, params=(P("a", "T"), P("b", "T")))
def min(context, a, b):
    """The smaller of `a` and `b`, per component.

    Example: `output min(st.x, st.y)`
    """
    return _f32(np.minimum(a, b))


@builtin(returns="T", category=MATH, params=(P("a", "T"), P("b", "T")))
def max(context, a, b):
    """The larger of `a` and `b`, per component.

    Example: `output max(st.x, st.y)`
    """
    return _f32(np.maximum(a, b))


@builtin(returns="T", category=MATH, params=(P("x", "T"), P("low", "T", 0.0), P("high", "T", 1.0)))
def clamp(context, x, low, high):
    """`x` limited to the range low..high.

    Example: `output clamp(uv.x, 0, 1)`
    """
    return _f32(np.minimum(np.maximum(x, low), high))


@builtin(returns="T", category=MATH, keeps_alpha=False,
         params=(P("a", "T"), P("b", "T"), P("amount", "num", doc="0 gives a, 1 gives b")))
def mix(context, a, b, amount):
    """Linear interpolation `a + (b - a) * amount`; on colours, alpha is mixed too.

    Colours are mixed as their sRGB-encoded numbers; `mix_linear` mixes in linear light and
    `mix_oklab` perceptually.

    Example: `output mix(#1d2b53, #ff77a8, st.x)`
    """
    return _f32(a + (b - a) * amount)


@builtin(returns="T", category=MATH, params=(P("edge", "T"), P("x", "T")))
def step(context, edge, x):
    """0 where `x` < `edge`, else 1.

    Example: `output step(0.5, st.x)`
    """
    return _f32(np.where(x < edge, 0.0, 1.0))


@builtin(returns="T", category=MATH, params=(P("edge0", "T"), P("edge1", "T"), P("x", "T")))
def smoothstep(context, edge0, edge1, x):
    """Hermite 0..1 ramp as `x` goes from `edge0` to `edge1` (edge0 > edge1 gives a falling ramp).

    Example: `output smoothstep(0.3, 0.7, st.x)`
    """
    scale = np.where(edge1 != edge0, 1.0 / np.where(edge1 != edge0, edge1 - edge0, 1.0), 0.0)
    u = np.clip((x - edge0) * scale, 0.0, 1.0)
    return _f32(u * u * (3.0 - 2.0 * u))


@builtin(returns="T", category=MATH, params=X)
def radians(context, x):
    """Degrees to radians.

    Example: `output 0.5 + 0.5 * sin(radians(360) * st.x)`
    """
    return _f32(np.radians(x))


@builtin(returns="T", category=MATH, params=X)
def degrees(context, x):
    """Radians to degrees.

    Example: `output degrees(atan2(uv.y, uv.x)) / 360 + 0.5`
    """
    return _f32(np.degrees(x))


@builtin(returns="vec2", category="vectors", params=(P("x", "num"), P("y", "num")))
def vec(context, x, y):
    """A 2-vector from two numbers (or two fields).

    Example: `output length(uv - vec(0.3, 0.2))`
    """
    x, y = np.broadcast_arrays(_f32(x), _f32(y))
    return np.stack([x, y], axis=-1)


@builtin(returns="num", category="vectors", params=(P("v", "vec2"),))
def length(context, v):
    """Length of a 2-vector.

    Example: `output length(uv)`
    """
    return _f32(np.hypot(v[..., 0], v[..., 1]))


@builtin(returns="num", category="vectors", params=(P("a", "vec2"), P("b", "vec2")))
def distance(context, a, b):
    """Distance between two points.

    Example: `output distance(uv, vec(0.5, 0))`
    """
    d = a - b
    return _f32(np.hypot(d[..., 0], d[..., 1]))


@builtin(returns="num", category="vectors", params=(P("a", "vec2"), P("b", "vec2")))
def dot(context, a, b):
    """Dot product of two 2-vectors.

    Example: `output dot(uv, vec(0.7, 0.7)) * 0.5 + 0.5`
    """
    return _f32(a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1])


@builtin(returns="vec2", category="vectors", params=(P("v", "vec2"),))
def normalize(context, v):
    """The vector scaled to length 1 (the zero vector stays zero).

    Example: `output normalize(uv).x * 0.5 + 0.5`
    """
    n = np.hypot(v[..., 0], v[..., 1])[..., None]
    return _f32(np.where(n > 0, v / np.where(n > 0, n, 1), 0))


@builtin(returns="vec2", category="vectors", params=(P("v", "vec2"), P("angle", "num", doc="radians")))
def rotate(context, v, angle):
    """The vector turned counter-clockwise by `angle` radians about the origin.

    Example: `output fill(box(rotate(uv, pi / 4), vec(0.8, 0.8)))`
    """
    c, s = np.cos(angle), np.sin(angle)
    x, y = v[..., 0], v[..., 1]
    return _f32(np.stack(np.broadcast_arrays(c * x - s * y, s * x + c * y), axis=-1))
