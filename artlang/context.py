"""What a render needs to know about the frame being drawn: canvas, region, time, seed, files."""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

DTYPE = np.float32


class RenderCancelled(Exception):
    """A render stopped early because its result is no longer wanted (a newer edit arrived)."""


def stream_seed(master_seed: int, stream: str, extra: int = 0) -> int:
    """A 32-bit seed for one random call site, derived from the master seed and the site's name.

    >>> stream_seed(1, "main/clouds/fbm#0") == stream_seed(1, "main/clouds/fbm#0")
    True
    """
    digest = hashlib.blake2b(f"{master_seed}\x00{stream}\x00{extra}".encode(), digest_size=4)
    return int.from_bytes(digest.digest(), "little")


@dataclass(frozen=True)
class Region:
    """The part of the canvas being computed (the whole canvas, or one tile of it)."""
    x0: int
    y0: int
    width: int
    height: int


@dataclass
class FrameContext:
    """Everything a built-in may read while one frame is evaluated."""
    width: int
    height: int
    seed: int
    frame: int = 0
    fps: float = 30.0
    frames: int = 1
    loop: int | None = None                  # frames per loop (None: the whole animation)
    region: Region | None = None
    files: "object | None" = None            # a project.ProjectFiles, for image()
    cache: dict = field(default_factory=dict)  # values that do not change between frames
    frame_memo: dict = field(default_factory=dict)  # values shared within this frame
    cancelled: "Callable[[], bool] | None" = None   # polled between built-in calls; True stops the render

    def __post_init__(self):
        if self.region is None:
            self.region = Region(0, 0, self.width, self.height)

    @property
    def cache_scope(self) -> tuple:
        """What a cached value depends on besides its node: a cache kept across edits of the sketch
        (seed, canvas or timing changed) must not hand back values computed under other settings."""
        return (self.seed, self.width, self.height, self.frames, self.fps, self.loop, self.region)

    def check_cancelled(self) -> None:
        """Raise `RenderCancelled` if whoever started the render no longer wants it."""
        if self.cancelled is not None and self.cancelled():
            raise RenderCancelled()

    @property
    def loop_frames(self) -> int:
        return self.loop or self.frames

    @property
    def time(self) -> float:
        return self.frame / self.fps

    @property
    def pixel_size(self) -> float:
        """The size of one pixel in `uv` units (uv spans -1..1 across the shorter side)."""
        return 2.0 / min(self.width, self.height)

    def stream_seed(self, stream: str, extra: int = 0) -> int:
        return stream_seed(self.seed, stream, extra)

    @functools.cached_property
    def pixel_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """Integer (column, row) of every pixel in the region, in whole-canvas coordinates."""
        r = self.region
        columns = np.arange(r.x0, r.x0 + r.width, dtype=np.int64)
        rows = np.arange(r.y0, r.y0 + r.height, dtype=np.int64)
        return np.broadcast_to(columns[None, :], (r.height, r.width)), \
            np.broadcast_to(rows[:, None], (r.height, r.width))

    @functools.cached_property
    def px(self) -> np.ndarray:
        columns, rows = self.pixel_indices
        return np.stack([columns + 0.5, rows + 0.5], axis=-1).astype(DTYPE)

    @functools.cached_property
    def uv(self) -> np.ndarray:
        half = min(self.width, self.height) / 2.0
        px = self.px.astype(np.float64)
        x = (px[..., 0] - self.width / 2.0) / half
        y = (self.height / 2.0 - px[..., 1]) / half
        return np.stack([x, y], axis=-1).astype(DTYPE)

    @functools.cached_property
    def st(self) -> np.ndarray:
        px = self.px.astype(np.float64)
        return np.stack([px[..., 0] / self.width, 1.0 - px[..., 1] / self.height],
                        axis=-1).astype(DTYPE)

    def load_image(self, path: str, fit: str, crop=None) -> np.ndarray:
        """The image file fitted to the whole canvas (decoded once per render), cut to the region."""
        from .images import load_fitted
        crop_key = None if crop is None else tuple(np.asarray(crop, dtype=float).ravel())
        key = ("image", path, fit, crop_key, self.width, self.height)
        if key not in self.cache:
            self.cache[key] = load_fitted(self.files.image_path(path), self.width, self.height, fit, crop)
        r = self.region
        return self.cache[key][r.y0:r.y0 + r.height, r.x0:r.x0 + r.width]
