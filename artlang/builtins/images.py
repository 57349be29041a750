"""Image built-ins: photos loaded from the sketch's folder."""
from __future__ import annotations

from ..images import FITS
from .table import P, builtin


@builtin(returns="color", category="images", per_pixel=True,
         params=(P("path", "string", path=True, doc="PNG, JPEG or WebP, relative to the sketch"),
                 P("fit", "string", "cover", choices=FITS, doc="how it is fitted to the canvas")))
def image(context, path, fit):
    """An image file fitted to the canvas: `cover` crops, `contain` letterboxes, `stretch` distorts.

    Example: `output image("photo.png") + gaussian_rgb(0.08)`
    """
    return context.load_image(path, fit)
