"""What a render needs to know about the frame being drawn: canvas, region, time, seed, files.

A region smaller than the canvas is a tile (`tiles.py`). Built-ins that read other pixels than
their own declare in their record how far they read (`schema.Neighbourhood`); the compiler then
computes them over their region grown by that margin (`FrameContext.around`) and keeps the middle.
"""
from __future__ import annotations

import functools
import hashlib
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from artlang.core.errors import RUNTIME, error
from artlang.kernels.region import Margin, Region
from artlang.core.limits import Limits

DTYPE = np.float32
_SHARED_LOCK = threading.Lock()
MAX_DECODE_BATCH = 16        # latents decoded together at most (an export's upcoming frames)


class RenderCancelled(Exception):
    """A render stopped early because its result is no longer wanted (a newer edit arrived)."""


def stream_seed(master_seed: int, stream: str, extra: int = 0) -> int:
    """A 32-bit seed for one random call site, derived from the master seed and the site's name.

    >>> stream_seed(1, "main/clouds/fbm#0") == stream_seed(1, "main/clouds/fbm#0")
    True
    """
    digest = hashlib.blake2b(f"{master_seed}\x00{stream}\x00{extra}".encode(), digest_size=4)
    return int.from_bytes(digest.digest(), "little")


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
    shared: dict = field(default_factory=dict)  # kept across the tiles of one canvas (fitted images)
    regions: dict = field(default_factory=dict, repr=False)  # Region -> context, within one frame
    trust: bool = False                      # models that run code when loaded may be loaded
    upcoming: tuple = ()                     # frames this process draws next: decoded in one batch
    model_threads: int | None = None         # torch threads for decoding (None: artlang's count)
    limits: Limits = field(default_factory=Limits)   # image and model sizes, time per frame
    deadline: float | None = None            # time.monotonic() past which the frame is stopped

    def __post_init__(self):
        if self.region is None:
            self.region = Region(0, 0, self.width, self.height)

    @property
    def whole(self) -> bool:
        """True when the region is the whole canvas (not a tile of it)."""
        region = self.region
        return region.width == self.width and region.height == self.height

    def at(self, region: Region) -> "FrameContext":
        """The context of the same frame for another region of the canvas: the same caches (the
        cache is keyed by region), its own per-frame memo; made once per region and frame."""
        if region == self.region:
            return self
        found = self.regions.get(region)
        if found is None:
            self.regions.setdefault(self.region, self)
            found = self.regions[region] = replace(self, region=region, frame_memo={})
        return found

    def for_frame(self, frame: int) -> "FrameContext":
        """The context of another frame (same canvas, region and caches; its own memo)."""
        return replace(self, frame=frame, frame_memo={}, regions={})

    def around(self, margin: Margin) -> "FrameContext":
        """The context for this region grown by `margin`, stopping at the canvas's edges."""
        return self.at(self.region.grown(margin, self.width, self.height))

    @property
    def cache_scope(self) -> tuple:
        """What a cached value depends on besides its node: a cache kept across edits of the sketch
        (seed, canvas or timing changed) must not hand back values computed under other settings."""
        return (self.seed, self.width, self.height, self.frames, self.fps, self.loop, self.region)

    def check_cancelled(self) -> None:
        """Raise `RenderCancelled` if whoever started the render no longer wants it, and a clear
        error once the frame has run past its time limit."""
        if self.cancelled is not None and self.cancelled():
            raise RenderCancelled()
        if self.deadline is not None and time.monotonic() > self.deadline:
            seconds = self.limits.max_frame_seconds
            raise error(f"frame {self.frame} took longer than the limit of {seconds:g} s; stopped "
                        "before this call", stage=RUNTIME,
                        hint="draw a smaller canvas (--size), use fewer octaves or smaller blurs, "
                             "or raise the limit: --limit frame-seconds=N")

    def started(self) -> "FrameContext":
        """This context with its time limit counting from now."""
        return replace(self, deadline=time.monotonic() + self.limits.max_frame_seconds)

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
        """The image file fitted to the whole canvas (decoded once per render), cut to the region.

        A tile cuts its part from the fitted picture kept in `shared` as 8-bit premultiplied RGBA
        (what Pillow resamples), 4 bytes a canvas pixel instead of 16: the same values, made once
        for all the tiles.
        """
        from artlang.kernels.images import load_fitted
        crop_key = None if crop is None else tuple(np.asarray(crop, dtype=float).ravel())
        if not self.whole:
            from artlang.kernels.images import FittedPicture
            key = ("fitted", path, fit, crop_key, self.width, self.height)
            with _SHARED_LOCK:                   # tiles drawn on threads: fit each image once
                if key not in self.shared:
                    self.shared[key] = FittedPicture.load(self.files.image_path(path), self.width,
                                                          self.height, fit, crop, self.limits)
                fitted = self.shared[key]
            return fitted.cut(self.region)
        key = ("image", path, fit, crop_key, self.width, self.height)
        if key not in self.cache:
            self.cache[key] = load_fitted(self.files.image_path(path), self.width, self.height, fit,
                                          crop, self.limits)
        r = self.region
        return self.cache[key][r.y0:r.y0 + r.height, r.x0:r.x0 + r.width]

    # models ─────────────────────────────────────────────────────────────────────────────────────
    def load_model(self, source: str):
        """The model a checked `model(...)` names: `zoo:NAME` or a path inside the project."""
        from artlang.models import store
        from artlang.language.project import ZOO_PREFIX, zoo_dir
        if source.startswith(ZOO_PREFIX):
            path = zoo_dir() / source[len(ZOO_PREFIX):]
        else:
            path = self.files.model_path(source) if self.files is not None else Path(source)
        return store.load_model(path, trust=self.trust, max_bytes=self.limits.max_model_bytes)

    def decoded(self, model, z: np.ndarray, later: "Callable[[int], np.ndarray] | None" = None
                ) -> np.ndarray:
        """The model's (size, size, 4) picture for latent `z`, kept in the cache by model and
        latent. When `later(frame)` gives the latent of an upcoming frame, the latents of the
        frames this process draws next are decoded with this one, in one batch."""
        def key(latent):
            return ("decoded", model.digest, np.asarray(latent, DTYPE).tobytes())
        found = self.cache.get(key(z))
        if found is not None:
            return found
        batch = {key(z): z}
        if later is not None:
            for frame in self.upcoming:
                latent = np.asarray(later(frame), DTYPE)
                if key(latent) not in self.cache and len(batch) < MAX_DECODE_BATCH:
                    batch.setdefault(key(latent), latent)
        pictures = model.decode(np.stack(list(batch.values())), threads=self.threads_for_models())
        for slot, picture in zip(batch, pictures):
            self.cache[slot] = picture
        return self.cache[key(z)]

    def threads_for_models(self) -> int:
        from artlang.kernels.threads import get_threads
        return self.model_threads or get_threads()

    def fit_pixels(self, pixels: np.ndarray, fit: str, crop=None) -> np.ndarray:
        """A small float RGBA picture (a model's output) fitted to the canvas as `image` fits a
        file, cut to the region."""
        from artlang.kernels.images import FittedPicture
        fitted = FittedPicture.of_pixels(pixels, self.width, self.height, fit, crop)
        return fitted.cut(self.region)
