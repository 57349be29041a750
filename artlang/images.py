"""Loading image files into float32 RGBA canvases."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import RUNTIME, error

FITS = ("cover", "contain", "stretch")


def load_fitted(path: Path, width: int, height: int, fit: str) -> np.ndarray:
    """Read an image file and fit it to width x height as float32 RGBA in 0..1."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            picture = opened.convert("RGBA")
    except Image.DecompressionBombError as failure:
        raise error(f"image `{path.name}` is too large to open safely ({failure})", stage=RUNTIME,
                    hint="resize it first; artlang refuses images that could exhaust memory") from None
    except (UnidentifiedImageError, OSError, ValueError) as failure:
        raise error(f"cannot read image `{path.name}`: {failure}", stage=RUNTIME,
                    hint="use a PNG, JPEG or WebP file") from None
    source_w, source_h = picture.size
    resample = Image.Resampling.LANCZOS
    if fit == "stretch":
        fitted = picture.resize((width, height), resample)
    else:
        scale = (max if fit == "cover" else min)(width / source_w, height / source_h)
        new_w, new_h = max(1, round(source_w * scale)), max(1, round(source_h * scale))
        resized = picture.resize((new_w, new_h), resample)
        fitted = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        fitted.paste(resized, ((width - new_w) // 2, (height - new_h) // 2))
    return np.asarray(fitted, dtype=np.float32) / np.float32(255.0)
