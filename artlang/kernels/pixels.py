"""Float RGBA canvases to the integers files hold: 8 and 16 bits a channel, and over black.

>>> to_8bit(np.array([0.0, 0.5, 1.0, 2.0], np.float32)).tolist()
[0, 128, 255, 255]
"""
from __future__ import annotations

import numpy as np


def to_8bit(image: np.ndarray) -> np.ndarray:
    """Float RGBA in 0..1 (anything else clipped, NaN as 0) to uint8, rounding to nearest."""
    clean = np.fmin(np.fmax(image, np.float32(0.0)), np.float32(1.0))   # fmax turns NaN into 0
    return np.floor(clean * np.float32(255.0) + np.float32(0.5)).astype(np.uint8)


def to_16bit(image: np.ndarray) -> np.ndarray:
    """Float RGBA in 0..1 (anything else clipped, NaN as 0) to uint16, rounding to nearest.

    >>> to_16bit(np.array([0.0, 0.5, 1.0, 2.0, np.nan], np.float32)).tolist()
    [0, 32768, 65535, 65535, 0]
    """
    clean = np.fmin(np.fmax(image, np.float32(0.0)), np.float32(1.0))
    return np.floor(clean.astype(np.float64) * 65535.0 + 0.5).astype(np.uint16)


def over_black(image: np.ndarray) -> np.ndarray:
    """The RGB of a straight-alpha RGBA canvas composited over black (for formats without alpha)."""
    alpha = np.fmin(np.fmax(image[..., 3:4], np.float32(0.0)), np.float32(1.0))
    return image[..., :3] * alpha
