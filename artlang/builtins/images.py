"""Image built-ins: photos loaded from the sketch's folder, and sampling a picture anywhere."""
from __future__ import annotations

import numpy as np

from artlang.kernels import filters
from artlang.kernels.images import FITS
from artlang.language.schema import Neighbourhood, P, builtin

F32 = np.float32
IMAGES = "images"


@builtin(returns="color", category=IMAGES, per_pixel=True,
         params=(P("path", "string", path=True, doc="PNG, JPEG or WebP, relative to the sketch"),
                 P("fit", "string", "cover", choices=FITS, doc="how it is fitted to the canvas"),
                 P("crop", "list", None, doc="`[left, top, right, bottom]` part of the picture to use, "
                                               "as fractions from its top-left corner")))
def image(context, path, fit, crop):
    """An image file (with its alpha) fitted to the canvas, optionally cropped first.

    `cover` fills the canvas keeping the proportions (what sticks out is cut off), `contain` shows
    all of it as large as fits (transparent around it), `stretch` fills the canvas exactly,
    distorting it, `none` puts one image pixel on each canvas pixel, centred. The picture is
    resampled from the file's own pixels, so a small crop of a large photo stays sharp. To move,
    scale or turn it, `sample` it at transformed coordinates.

    Example: `output image("photo.png", fit="contain", crop=[0.25, 0.25, 0.75, 0.75])`
    """
    return context.load_image(path, fit, crop)


@builtin(neighbourhood=Neighbourhood("c"),       # reads from anywhere: not drawn in tiles
         returns="color", category=IMAGES, per_pixel=True,
         params=(P("c", "color", doc="the picture, e.g. an image()"),
                 P("p", "vec2", doc="where to read it, in uv coordinates"),
                 P("edge", "string", "clamp", choices=filters.EDGES,
                   doc="what lies beyond the picture's edge")))
def sample(context, c, p, edge):
    """The colour of picture `c` at position `p` (bilinear): move, scale, turn or tile a picture.

    `sample(c, uv)` is `c` itself; `sample(c, uv * 2)` shows it at half size, `sample(c, uv / 2)`
    zoomed in twice, `sample(c, rotate(uv, 0.3))` turned. Beyond the edge the nearest edge pixel is
    used (`clamp`), or the picture mirrored, repeated, or nothing (`transparent`).

    Example: `output sample(image("photo.png"), rotate(uv, 0.3) * 1.5, "repeat")`
    """
    region = context.region
    half = min(context.width, context.height) / 2.0
    if np.ndim(c) == 1:                # a flat colour: no picture to read, the canvas's edge
        x = p[..., 0] * F32(half) + F32(context.width / 2.0 - 0.5)
        y = F32(context.height / 2.0 - 0.5) - p[..., 1] * F32(half)
        return filters.sample_flat(c, x, y, edge, context.width, context.height)
    field = np.broadcast_to(c, (region.height, region.width, 4))
    x = p[..., 0] * F32(half) + F32(context.width / 2.0 - 0.5 - region.x0)
    y = F32(context.height / 2.0 - 0.5 - region.y0) - p[..., 1] * F32(half)
    return filters.sample(field, x, y, edge)


