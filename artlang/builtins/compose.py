"""Compositing built-ins: the same blend-mode table the `layer` statement uses, masks and `over`."""
from __future__ import annotations

import numpy as np

from artlang.kernels.blend import composite
from artlang.language.schema import BLEND_MODES
from artlang.language.schema import P, builtin

F32 = np.float32
COMPOSITING = "compositing"


@builtin(returns="color", category=COMPOSITING,
         params=(P("bottom", "color"), P("top", "color"),
                 P("mode", "string", "normal", choices=tuple(BLEND_MODES), doc="blend mode"),
                 P("opacity", "num", 1.0, doc="how much of the top layer is used, 0..1")))
def blend(context, bottom, top, mode, opacity):
    """Composite `top` over `bottom` with a blend mode and opacity, as a layer would.

    Example: `output blend(magma(st.x), fill(circle(uv, 0.5), #ffffff), "overlay", 0.8)`
    """
    return composite(bottom, top, mode, opacity)


@builtin(returns="color", category=COMPOSITING, params=(P("top", "color"), P("bottom", "color")))
def over(context, top, bottom):
    """`top` laid over `bottom`, seen through where `top` is transparent (Porter-Duff *over*).

    The same as `blend(bottom, top)`, in the order it reads.

    Example: `output over(fill(circle(uv, 0.5), #ff8800), image("photo.png"))`
    """
    return composite(bottom, top, "normal")


@builtin(returns="color", category=COMPOSITING,
         params=(P("c", "color"), P("m", "num", doc="the mask: 1 keeps, 0 removes (clamped to 0..1)")))
def mask(context, c, m):
    """The colour `c` seen through the mask `m`: its alpha multiplied by `m`.

    Example: `output over(mask(image("photo.png"), smoothstep(0.9, 0.3, length(uv))), #203040)`
    """
    m = np.clip(np.asarray(m, F32), 0, 1)
    shape = np.broadcast_shapes(c.shape, m.shape + (4,))
    out = np.array(np.broadcast_to(c, shape), dtype=F32)
    out[..., 3] *= m
    return out
