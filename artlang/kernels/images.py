"""Loading image files into float32 RGBA canvases: crop, then fit to the canvas.

The picture is resampled once from the file's own pixels (Lanczos, premultiplied by Pillow), and
only the part that lands on the canvas is resampled, so a small crop of a large photo stays sharp
and a huge `cover` costs no more than the canvas.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from artlang.core.errors import RUNTIME, error
from artlang.core.limits import Limits, size_text
from artlang.kernels.pixels import to_8bit
from artlang.kernels.region import Region

FITS = ("cover", "contain", "stretch", "none")


def _open(path: Path, limits=None):
    """The image file as Pillow RGBA, upright; its file size and its pixels (from the header,
    before anything is decoded) checked against the limits first."""
    limits = limits or Limits()
    try:
        size = path.stat().st_size
        if size > limits.max_image_bytes:
            raise error(f"image `{path.name}` is {size_text(size)}, over the limit of "
                        f"{size_text(limits.max_image_bytes)} for an image file", stage=RUNTIME,
                        hint="make the file smaller, or raise the limit: --limit image-bytes=N")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # checked below
            with Image.open(path) as opened:
                width, height = opened.size
                if width * height > limits.max_image_pixels:
                    raise _bomb(path, f"{width} x {height} pixels", limits)
                upright = ImageOps.exif_transpose(opened)  # phone photos store their rotation apart
                return upright.convert("RGBA")
    except Image.DecompressionBombError as failure:      # over Pillow's own (larger) limit
        found = re.search(r"(\d+) pixels", str(failure))
        raise _bomb(path, f"{int(found.group(1)):,} pixels" if found else "too many pixels",
                    limits) from None
    except (UnidentifiedImageError, OSError, ValueError) as failure:
        raise error(f"cannot read image `{path.name}`: {failure}", stage=RUNTIME,
                    hint="use a PNG, JPEG or WebP file") from None


def _bomb(path: Path, size: str, limits):
    return error(f"image `{path.name}` is {size}, over the limit of {limits.max_image_pixels:,} "
                 "pixels for an image (a file this large could exhaust memory when decoded)",
                 stage=RUNTIME, hint="resize it first, or raise the limit: --limit image-pixels=N")


def crop_box(crop, width: int, height: int) -> tuple[float, float, float, float]:
    """The crop `[left, top, right, bottom]` (fractions of the picture, from its top-left corner) in
    pixels of a width x height picture; the whole picture when `crop` is None.

    >>> crop_box([0.25, 0, 0.75, 0.5], 200, 100)
    (50.0, 0.0, 150.0, 50.0)
    """
    if crop is None:
        return 0.0, 0.0, float(width), float(height)
    values = np.asarray(crop, np.float64)
    if values.shape != (4,) or not np.isfinite(values).all():
        raise error(f"a crop is four numbers `[left, top, right, bottom]`, got {values.tolist()}",
                    stage=RUNTIME, hint="fractions of the picture from its top-left corner, e.g. "
                                        "`[0.25, 0.25, 0.75, 0.75]` for the middle")
    left, top, right, bottom = values.tolist()
    if not (0 <= left < right <= 1 and 0 <= top < bottom <= 1):
        raise error(f"the crop [{left:g}, {top:g}, {right:g}, {bottom:g}] is not a rectangle inside "
                    "the picture", stage=RUNTIME,
                    hint="each number is from 0 to 1, with left < right and top < bottom")
    return left * width, top * height, right * width, bottom * height


def load_fitted(path: Path, width: int, height: int, fit: str, crop=None, limits=None) -> np.ndarray:
    """Read an image file, crop it and fit it to width x height as float32 RGBA in 0..1."""
    return FittedPicture.load(path, width, height, fit, crop, limits).cut(Region(0, 0, width, height))

@dataclass
class FittedPicture:
    """An image file fitted to a width x height canvas, kept as Pillow left it: the visible part,
    8-bit, premultiplied where Pillow premultiplies to resample (4 bytes a canvas pixel).
    `cut(region)` gives any region of the fitted canvas as float32 RGBA, so a canvas drawn in tiles
    never holds the whole float picture; `load_fitted` is the cut of the whole canvas.
    """
    part: object                 # PIL.Image of the visible part, "RGBA" or "RGBa"
    x0: int                      # where it lies on the canvas
    y0: int

    @classmethod
    def load(cls, path: Path, width: int, height: int, fit: str, crop=None,
             limits=None) -> "FittedPicture":
        return cls.of(_open(path, limits), width, height, fit, crop)

    @classmethod
    def of_pixels(cls, pixels: np.ndarray, width: int, height: int, fit: str,
                  crop=None) -> "FittedPicture":
        """A float RGBA picture (e.g. a model's output) fitted as a file would be."""
        return cls.of(Image.fromarray(to_8bit(pixels), "RGBA"), width, height, fit, crop)

    @classmethod
    def of(cls, picture, width: int, height: int, fit: str, crop=None) -> "FittedPicture":
        """An RGBA Pillow image fitted to width x height."""
        left, top, right, bottom = crop_box(crop, *picture.size)
        if crop is not None:
            whole = (math.floor(left), math.floor(top), math.ceil(right), math.ceil(bottom))
            picture = picture.crop(whole)
            left, top = left - whole[0], top - whole[1]
            right, bottom = right - whole[0], bottom - whole[1]
        crop_w, crop_h = right - left, bottom - top
        if fit == "stretch":
            scale_x, scale_y = width / crop_w, height / crop_h
        elif fit == "none":
            scale_x = scale_y = 1.0
        else:
            scale_x = scale_y = (max if fit == "cover" else min)(width / crop_w, height / crop_h)
        x0, y0 = (width - crop_w * scale_x) / 2, (height - crop_h * scale_y) / 2
        vx0, vy0 = max(0, round(x0)), max(0, round(y0))
        vx1, vy1 = min(width, round(x0 + crop_w * scale_x)), min(height, round(y0 + crop_h * scale_y))
        if not (vx1 > vx0 and vy1 > vy0):
            return cls(None, 0, 0)
        box = (min(max(left + (vx0 - x0) / scale_x, left), right),
               min(max(top + (vy0 - y0) / scale_y, top), bottom),
               min(max(left + (vx1 - x0) / scale_x, left), right),
               min(max(top + (vy1 - y0) / scale_y, top), bottom))
        size = (vx1 - vx0, vy1 - vy0)
        if picture.size == size and box == (0, 0, *picture.size):
            part = picture.copy()                       # Pillow's resize returns a copy as it is
        else:                                           # what Pillow's resize does for RGBA
            part = picture.convert("RGBa").resize(size, Image.Resampling.LANCZOS, box=box)
        return cls(part, vx0, vy0)

    def cut(self, region) -> np.ndarray:
        """The region of the fitted canvas, float32 RGBA (transparent where the picture is not)."""
        out = np.zeros((region.height, region.width, 4), np.float32)
        if self.part is None:
            return out
        width, height = self.part.size
        x0, y0 = max(region.x0, self.x0), max(region.y0, self.y0)
        x1 = min(region.x0 + region.width, self.x0 + width)
        y1 = min(region.y0 + region.height, self.y0 + height)
        if x1 > x0 and y1 > y0:
            piece = self.part.crop((x0 - self.x0, y0 - self.y0, x1 - self.x0, y1 - self.y0))
            if piece.mode != "RGBA":
                piece = piece.convert("RGBA")
            out[y0 - region.y0:y1 - region.y0, x0 - region.x0:x1 - region.x0] = \
                np.asarray(piece, dtype=np.float32) / np.float32(255.0)
        return out
