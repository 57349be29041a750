"""Blend modes and alpha compositing: the mix of each mode the schema names (`BLEND_MODES`)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from artlang.language.schema import BLEND_MODES


def _overlay(cb, cs):
    return np.where(cb <= 0.5, 2 * cb * cs, 1 - 2 * (1 - cb) * (1 - cs))


def _soft_light(cb, cs):
    d = np.where(cb <= 0.25, ((16 * cb - 12) * cb + 4) * cb, np.sqrt(np.maximum(cb, 0)))
    return np.where(cs <= 0.5, cb - (1 - 2 * cs) * cb * (1 - cb), cb + (2 * cs - 1) * (d - cb))


# B(backdrop_rgb, source_rgb) -> rgb for each mode of the schema's `BLEND_MODES`, as in the W3C
# compositing spec.
MIXES: dict[str, Callable] = {
    "normal": lambda cb, cs: cs,
    "add": lambda cb, cs: cb + cs,
    "multiply": lambda cb, cs: cb * cs,
    "screen": lambda cb, cs: cb + cs - cb * cs,
    "overlay": _overlay,
    "soft_light": _soft_light,
    "darken": lambda cb, cs: np.minimum(cb, cs),
    "lighten": lambda cb, cs: np.maximum(cb, cs),
    "difference": lambda cb, cs: np.abs(cb - cs),
    "subtract": lambda cb, cs: cb - cs,
}
if MIXES.keys() != BLEND_MODES.keys():
    raise ImportError("every blend mode of the schema needs a mix here, and only those")


def composite(backdrop: np.ndarray, source: np.ndarray, mode: str = "normal",
              opacity=1.0) -> np.ndarray:
    """Composite straight-alpha RGBA `source` over `backdrop` with a blend mode (W3C formula).

    Both alphas, and the source's alpha times `opacity`, are clamped to 0..1 first. Where the source
    is invisible (alpha or opacity 0) the backdrop is returned unchanged; where both are
    transparent the result is transparent black.

    >>> import numpy as np
    >>> result = composite(np.array([0.2, 0.4, 0.6, 1.0]), np.array([0.5, 0.5, 0.5, 1.0]), "multiply")
    >>> [round(float(x), 2) for x in result]
    [0.1, 0.2, 0.3, 1.0]
    """
    shape = np.broadcast_shapes(backdrop.shape, source.shape, np.shape(opacity) + (1,))
    cb, ab = backdrop[..., :3], np.clip(backdrop[..., 3:4], 0, 1)
    cs = source[..., :3]
    as_ = np.clip(source[..., 3:4] * np.asarray(opacity, np.float32)[..., None], 0, 1)
    mixed = MIXES[mode](cb, cs)
    alpha = as_ + ab * (1 - as_)
    premultiplied = as_ * (1 - ab) * cs + as_ * ab * mixed + (1 - as_) * ab * cb
    colour = np.where(as_ > 0, premultiplied / np.where(alpha > 0, alpha, 1), cb)  # invisible: backdrop as it was
    colour = np.where(alpha > 0, colour, 0)
    out = np.concatenate([np.broadcast_to(colour, shape[:-1] + (3,)),
                          np.broadcast_to(alpha, shape[:-1] + (1,))], axis=-1)
    return out.astype(np.float32)


def composite_onto_empty(source: np.ndarray, opacity=1.0) -> np.ndarray:
    """What `composite` gives over a transparent backdrop, without the blend arithmetic: the
    source's colour where it is visible, its alpha (times `opacity`) clamped to 0..1.

    >>> composite_onto_empty(np.array([0.5, 0.2, 0.1, 2.0]), 0.5).tolist()
    [0.5, 0.20000000298023224, 0.10000000149011612, 1.0]
    """
    source = np.asarray(source, np.float32)
    if np.ndim(opacity) == 0 and float(opacity) == 1.0 and source.size:
        visible = source[..., 3]
        if visible.min() > 0 and visible.max() <= 1:      # nothing to clamp or hide: as it is
            return source
    alpha = np.clip(source[..., 3:4] * np.asarray(opacity, np.float32)[..., None], 0, 1)
    colour = source[..., :3] if alpha.min(initial=1.0) > 0 else np.where(alpha > 0, source[..., :3], 0)
    return np.concatenate([colour, alpha], axis=-1).astype(np.float32, copy=False)
