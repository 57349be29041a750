"""One frame of the canvas as the built-ins see it: canvas, region, time and seed.

A `FrameContext` is the frame; what the render provides it refers to, each in an object of its own:
`inputs` (the project's image and model files, `inputs.py`), `caches` (what is kept across frames,
tiles and within the frame, `caches.py`), `stop` (cancellation and the frame's time limit) and
`lookahead` (the frames drawn next, whose latents a model decodes in one batch with this one's).
`Renderer.context` is the one place that builds them.

A region smaller than the canvas is a tile (`tiles.py`). Built-ins that read other pixels than
their own declare in their record how far they read (`schema.Neighbourhood`); the compiler then
computes them over their region grown by that margin (`FrameContext.around`) and keeps the middle.
"""
from __future__ import annotations

import functools
import hashlib
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from artlang.core.errors import RUNTIME, error
from artlang.core.limits import Limits
from artlang.kernels.images import FittedPicture
from artlang.kernels.region import Margin, Region
from artlang.runtime.caches import Caches
from artlang.runtime.inputs import Inputs

DTYPE = np.float32
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


@dataclass(frozen=True)
class Stop:
    """When a frame stops early: whoever started the render no longer wants it, or the frame ran
    past its time limit. Checked before each built-in call.

    >>> Stop(cancelled=lambda: True).check(0)
    Traceback (most recent call last):
    artlang.runtime.context.RenderCancelled
    """
    cancelled: Callable[[], bool] | None = None   # True stops the render
    seconds: float = Limits.max_frame_seconds     # the time limit of one frame (or tile)
    deadline: float | None = None                 # time.monotonic() past which the frame is stopped

    def started(self) -> Stop:
        """This stop with the time limit counting from now."""
        return replace(self, deadline=time.monotonic() + self.seconds)

    def check(self, frame: int) -> None:
        """Raise `RenderCancelled` if the render is no longer wanted, and a clear error once the
        frame has run past its time limit."""
        if self.cancelled is not None and self.cancelled():
            raise RenderCancelled()
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise error(f"frame {frame} took longer than the limit of {self.seconds:g} s; stopped "
                        "before this call", stage=RUNTIME,
                        hint="draw a smaller canvas (--size), use fewer octaves or smaller blurs, "
                             "or raise the limit: --limit frame-seconds=N")


@dataclass(frozen=True)
class Lookahead:
    """The frames this process draws after this one (an export's next frames): a model decodes
    their latents in one batch with this frame's, at most `MAX_DECODE_BATCH` together."""
    frames: tuple[int, ...] = ()

    def batch(self, key, z: np.ndarray, later: Callable[[int], np.ndarray] | None,
              known) -> dict:
        """`z` and the latents `later(frame)` of the frames ahead, by `key(latent)`, leaving out
        those whose key is `known` already."""
        batch = {key(z): z}
        if later is not None:
            for frame in self.frames:
                latent = np.asarray(later(frame), DTYPE)
                if key(latent) not in known and len(batch) < MAX_DECODE_BATCH:
                    batch.setdefault(key(latent), latent)
        return batch


@dataclass
class FrameContext:
    """One frame of one region of the canvas: everything a built-in may read while it is evaluated."""
    width: int
    height: int
    seed: int
    frame: int = 0
    fps: float = 30.0
    frames: int = 1
    loop: int | None = None                  # frames per loop (None: the whole animation)
    region: Region | None = None             # the part of the canvas drawn (None: all of it)
    inputs: Inputs = field(default_factory=Inputs)
    caches: Caches = field(default_factory=Caches)
    stop: Stop = field(default_factory=Stop)
    lookahead: Lookahead = field(default_factory=Lookahead)

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
        regions = self.caches.regions
        found = regions.get(region)
        if found is None:
            regions.setdefault(self.region, self)
            found = regions[region] = replace(self, region=region, caches=self.caches.for_region())
        return found

    def for_frame(self, frame: int) -> "FrameContext":
        """The context of another frame (same canvas, region and caches; its own memo)."""
        return replace(self, frame=frame, caches=self.caches.for_frame())

    def around(self, margin: Margin) -> "FrameContext":
        """The context for this region grown by `margin`, stopping at the canvas's edges."""
        return self.at(self.region.grown(margin, self.width, self.height))

    @property
    def cache_scope(self) -> tuple:
        """What a cached value depends on besides its node: a cache kept across edits of the sketch
        (seed, canvas or timing changed) must not hand back values computed under other settings."""
        return (self.seed, self.width, self.height, self.frames, self.fps, self.loop, self.region)

    def check_cancelled(self) -> None:
        """Stop the render here if it is no longer wanted or the frame ran past its time limit."""
        self.stop.check(self.frame)

    def started(self) -> "FrameContext":
        """This context with its time limit counting from now."""
        return replace(self, stop=self.stop.started())

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
        """Pixel centres, (column + 0.5, row + 0.5), in whole-canvas coordinates."""
        return self._axes(lambda x: x, lambda y: y)

    @functools.cached_property
    def uv(self) -> np.ndarray:
        """Centred coordinates, y up, the shorter side from -1 to 1."""
        half = min(self.width, self.height) / 2.0
        return self._axes(lambda x: (x - self.width / 2.0) / half,
                          lambda y: (self.height / 2.0 - y) / half)

    @functools.cached_property
    def st(self) -> np.ndarray:
        """The canvas from 0 to 1 each way, y up."""
        return self._axes(lambda x: x / self.width, lambda y: 1.0 - y / self.height)

    def _axes(self, across, down) -> np.ndarray:
        """A (height, width, 2) float32 field whose x depends on the column only and y on the row:
        each axis computed once in float64 from the float32 pixel centre and cast, then spread
        (what computing it per pixel gives, bit for bit, without whole-canvas float64 arrays)."""
        r = self.region
        columns = (np.arange(r.x0, r.x0 + r.width, dtype=np.int64) + 0.5).astype(DTYPE)
        rows = (np.arange(r.y0, r.y0 + r.height, dtype=np.int64) + 0.5).astype(DTYPE)
        field = np.empty((r.height, r.width, 2), DTYPE)
        field[..., 0] = across(columns.astype(np.float64)).astype(DTYPE)[None, :]
        field[..., 1] = down(rows.astype(np.float64)).astype(DTYPE)[:, None]
        return field

    # what the built-ins read from files ───────────────────────────────────────────────────────
    def load_image(self, path: str, fit: str, crop=None) -> np.ndarray:
        """The image file fitted to the whole canvas (decoded once per render), cut to the region.

        A tile cuts its part from the fitted picture all tiles share, kept as 8-bit premultiplied
        RGBA (what Pillow resamples), 4 bytes a canvas pixel instead of 16: the same values, made
        once for all the tiles.
        """
        crop_key = None if crop is None else tuple(np.asarray(crop, dtype=float).ravel())
        size = (self.width, self.height)
        if not self.whole:
            fitted = self.caches.shared_by_tiles(
                ("fitted", path, fit, crop_key, *size),
                lambda: self.inputs.fitted_picture(path, *size, fit, crop))
            return fitted.cut(self.region)
        picture = self.caches.kept(("image", path, fit, crop_key, *size),
                                   lambda: self.inputs.fitted_image(path, *size, fit, crop))
        r = self.region
        return picture[r.y0:r.y0 + r.height, r.x0:r.x0 + r.width]

    def decoded(self, model, z: np.ndarray, later: "Callable[[int], np.ndarray] | None" = None
                ) -> np.ndarray:
        """The model's (size, size, 4) picture for latent `z`, kept across frames by model and
        latent. When `later(frame)` gives the latent of an upcoming frame, the latents of the
        frames this process draws next are decoded with this one, in one batch."""
        def key(latent):
            return ("decoded", model.digest, np.asarray(latent, DTYPE).tobytes())
        cache = self.caches.across_frames
        found = cache.get(key(z))
        if found is not None:
            return found
        batch = self.lookahead.batch(key, z, later, known=cache)
        pictures = model.decode(np.stack(list(batch.values())), threads=self.inputs.decoding_threads())
        for slot, picture in zip(batch, pictures):
            cache[slot] = picture
        return cache[key(z)]

    def fit_pixels(self, pixels: np.ndarray, fit: str, crop=None) -> np.ndarray:
        """A small float RGBA picture (a model's output) fitted to the canvas as `image` fits a
        file, cut to the region."""
        return FittedPicture.of_pixels(pixels, self.width, self.height, fit, crop).cut(self.region)
