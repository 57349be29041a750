"""Easing built-ins: shape how a value moves from 0 to 1 over time, as animators do.

One table, `EASINGS`, holds each curve's ease-in form on 0..1; ease-out and ease-in-out are made
from it (Robert Penner's construction), so every curve exists in all three forms. The names follow
easings.net: `ease_in_out(x, "cubic")` is easeInOutCubic.
"""
from __future__ import annotations

import numpy as np

from artlang.language.schema import P, builtin

F32 = np.float32
TIME = "time"
_BACK = 1.70158                    # the overshoot of the `back` curve (about 10%)


def _bounce_out(x):
    """easeOutBounce: four parabolic hops of decreasing height."""
    n, d = 7.5625, 2.75
    return np.select(
        [x < 1 / d, x < 2 / d, x < 2.5 / d],
        [n * x * x, n * (x - 1.5 / d) ** 2 + 0.75, n * (x - 2.25 / d) ** 2 + 0.9375],
        n * (x - 2.625 / d) ** 2 + 0.984375)


EASINGS = {
    "linear": lambda x: x,
    "sine": lambda x: 1 - np.cos(x * np.pi / 2),
    "quad": lambda x: x ** 2,
    "cubic": lambda x: x ** 3,
    "quart": lambda x: x ** 4,
    "quint": lambda x: x ** 5,
    "expo": lambda x: np.where(x <= 0, 0.0, 2.0 ** (10 * x - 10)),
    "circ": lambda x: 1 - np.sqrt(np.maximum(1 - x * x, 0)),
    "back": lambda x: (_BACK + 1) * x ** 3 - _BACK * x ** 2,
    "elastic": lambda x: np.where((x <= 0) | (x >= 1), x,
                                  -(2.0 ** (10 * x - 10)) * np.sin((10 * x - 10.75) * (2 * np.pi / 3))),
    "bounce": lambda x: 1 - _bounce_out(1 - x),
}

P_T = P("x", "num", doc="progress, usually 0..1 (clamped)")
P_CURVE = P("curve", "string", "cubic", choices=tuple(EASINGS),
            doc="the curve: " + ", ".join(EASINGS))


def _eased(x, curve: str, form: str) -> np.ndarray:
    x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
    ease_in = EASINGS[curve]
    if form == "in":
        y = ease_in(x)
    elif form == "out":
        y = 1 - ease_in(1 - x)
    else:
        y = np.where(x < 0.5, ease_in(2 * x) / 2, 1 - ease_in(2 - 2 * x) / 2)
    return np.asarray(y, dtype=F32)


@builtin(returns="num", category=TIME, params=(P_T, P_CURVE))
def ease_in(context, x, curve):
    """Starts slowly and speeds up: 0 at 0, 1 at 1 (`back` and `elastic` overshoot on the way).

    Example: `output step(ease_in(st.x, "cubic"), st.y)`
    """
    return _eased(x, curve, "in")


@builtin(returns="num", category=TIME, params=(P_T, P_CURVE))
def ease_out(context, x, curve):
    """Starts fast and slows down to a stop: the mirror image of `ease_in`.

    Example: `output step(ease_out(st.x, "bounce"), st.y)`
    """
    return _eased(x, curve, "out")


@builtin(returns="num", category=TIME, params=(P_T, P_CURVE))
def ease_in_out(context, x, curve):
    """Slow at both ends, fast in the middle: `ease_in` for the first half, `ease_out` after.

    Example: `output step(ease_in_out(st.x, "sine"), st.y)`
    """
    return _eased(x, curve, "in_out")


@builtin(returns="num", category=TIME, params=(P("x", "num", doc="any number"),))
def pingpong(context, x):
    """Goes 0 to 1 as `x` goes 0 to 1, back to 0 at 2, and so on: a triangle wave, for motions
    that return to where they started (`pingpong(2 * cycle)` closes any loop).

    Example: `output pingpong(st.x * 4)`
    """
    x = np.asarray(x, dtype=np.float64)
    return np.asarray(1 - np.abs(1 - np.mod(x, 2.0)), dtype=F32)
