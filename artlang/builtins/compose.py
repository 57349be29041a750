"""Compositing built-ins: the same blend-mode table the `layer` statement uses."""
from __future__ import annotations

from ..blend import BLEND_MODES, composite
from .table import P, builtin


@builtin(returns="color", category="compositing",
         params=(P("bottom", "color"), P("top", "color"),
                 P("mode", "string", "normal", choices=tuple(BLEND_MODES), doc="blend mode"),
                 P("opacity", "num", 1.0)))
def blend(context, bottom, top, mode, opacity):
    """Composite `top` over `bottom` with a blend mode and opacity, as a layer would.

    Example: `output blend(magma(st.x), fill(circle(uv, 0.5), #ffffff), "overlay", 0.8)`
    """
    return composite(bottom, top, mode, opacity)
