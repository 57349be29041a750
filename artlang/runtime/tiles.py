"""Drawing a canvas in tiles, in memory bounded by the tile (`output.streaming` writes the bands).

A canvas too large to hold as whole float arrays (16 bytes a pixel for every colour field) is drawn
one tile at a time: each tile is a `FrameContext` whose region is that part of the canvas (px, uv,
noise and images are computed for the region only, in whole-canvas coordinates), with a cache of its
own that is dropped once the tile is copied into its band. A band (one row of tiles) is handed to a
streaming writer, which converts it to 8 bits and compresses it, then drops it.

**Tiles equal the whole canvas, byte for byte.** Everything per pixel is computed from the pixel's
canvas coordinates (white noise too: it hashes them, see docs/architecture.md point 4). The
built-ins that read other pixels (a `neighbourhood` in their record: blur, sharpen, edges, convolve) declare
how far they read; on a tile the compiler computes such a call over its region grown by that reach
and keeps the middle (`compiler.Compiler.neighbourhood`). The growth stops at the canvas's edge, so
the filter mirrors the picture exactly where the whole canvas does; where the grown region ends
inside the canvas the mirrored values are wrong, but only within the reach of that end, which is
cut away. Nested filters grow their regions in turn, so margins add up along a chain of filters.
The box-blur passes restart their running sums on the canvas's grid (`filters.box_blur`'s origin),
and the gaussian weights add up to exactly 1, so a tile that happens to be opaque takes the opaque
shortcut with the same bytes. `displace` and `sample` read their picture anywhere: a sketch that
uses them on a picture that varies is drawn in one piece when it fits in `Limits.max_pixels`, and
refused with a located error otherwise.

**Memory** is O(band + tile): the band being filled (rows x canvas width x 16 bytes), the tile's
arrays grown by the margin, and the writer's few compressed parts in flight. An `image()` is the
exception: the fitted picture is kept for all tiles as 8-bit premultiplied RGBA (4 bytes a canvas
pixel; `images.FittedPicture`).

**Files** are written through a temporary name renamed into place, and their bytes do not depend on
the tile size: the PNG is cut into deflate parts and IDAT chunks by row count and byte count only.

>>> from artlang.runtime.render import load_source
>>> program = load_source("canvas 50 x 30\\noutput blur(fill(circle(uv, 0.5)), 2 * pixel)")
>>> tiled = TiledRenderer(program, tile=16)
>>> [(y0, band.shape) for y0, band in tiled.bands()]
[(0, (16, 50, 4)), (16, (14, 50, 4))]
>>> tiled.margin()
Margin(left=6, top=6, right=6, bottom=6)
"""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

import numpy as np

from artlang.language import ir
from artlang.runtime.compiler import neighbourhood_of, not_tileable
from artlang.runtime.context import FrameContext
from artlang.kernels.region import Margin, Region
from artlang.core.errors import RUNTIME, USAGE, ArtError, error
from artlang.core.limits import Limits
from artlang.runtime.render import Renderer, canvas_size, check_frame
from artlang.kernels.threads import get_threads

F32 = np.float32
TILE = 1024                      # default tile side: 16 MiB a colour field
Band = tuple[int, np.ndarray]    # (first row, RGBA float32 rows x canvas width x 4)

__all__ = ["TILE", "Band", "TiledRenderer", "render_tiled", "unbounded_calls", "plan_margins"]


# --- which nodes read how far ----------------------------------------------------------------------

def unbounded_calls(program: ir.Program) -> list[ir.BuiltinCall]:
    """The calls that may read their (varying) picture at any distance: `displace`, `sample`.
    A sketch with any of them cannot be drawn in tiles."""
    found = [node for node in ir.reachable(program)
             if (hit := neighbourhood_of(node)) is not None and hit[0].reach is None]
    return sorted(found, key=lambda n: (n.span.file, n.span.line, n.span.column) if n.span
                  else ("", 0, 0))


def _argument_values(plan, node: ir.BuiltinCall, context: FrameContext, skip: str) -> dict:
    """The call's arguments other than `skip`, evaluated (they are the same for every pixel)."""
    values = {}
    for param, argument in zip(node.builtin.params, node.arguments):
        if param.name == skip:
            continue
        if argument is None:
            values[param.name] = None
        elif isinstance(argument, tuple):
            values[param.name] = [plan.evaluators[id(a)](context) for a in argument]
        else:
            values[param.name] = plan.evaluators[id(argument)](context)
    return values


def plan_margins(program: ir.Program, plan, context: FrameContext) -> tuple[Margin, list]:
    """How far beyond a tile each part of the sketch must be computed, for the frame of `context`.

    Returns the largest margin (the output needs none; the picture of a filter needs its
    consumer's margin plus the filter's reach, so nested filters add up) and the list of
    (call, its own reach) of every bounded neighbourhood call, for messages.
    """
    need: dict[int, Margin] = {}
    reaches: dict[int, tuple[ir.BuiltinCall, Margin]] = {}
    stack = [(item.node, Margin()) for item in program.output] + \
        [(item.opacity, Margin()) for item in program.output if item.opacity is not None]
    while stack:
        node, margin = stack.pop()
        before = need.get(id(node))
        if before is not None:
            if before.covers(margin):
                continue
            margin = before.most(margin)
        need[id(node)] = margin
        hit = neighbourhood_of(node)
        if hit is not None and hit[0].reach is not None:
            spec, picture = hit
            own = reaches.get(id(node), (None, None))[1]
            if own is None:
                values = _argument_values(plan, node, context, spec.picture)
                own = spec.reach(context, **values)
                reaches[id(node)] = (node, own)
            stack.extend((child, margin + own if child is picture else margin)
                         for child in ir.child_nodes(node))
            continue
        stack.extend((child, margin) for child in ir.child_nodes(node))
    largest = Margin()
    for margin in need.values():
        largest = largest.most(margin)
    return largest, list(reaches.values())


# --- the renderer --------------------------------------------------------------------------------------

def _tile_shape(tile) -> tuple[int, int]:
    if isinstance(tile, (tuple, list)) and len(tile) == 2:
        width, height = tile
    else:
        width = height = tile
    try:
        width, height = int(width), int(height)
    except (TypeError, ValueError):
        raise error(f"a tile size is a whole number of pixels, got {tile!r}", stage=USAGE) from None
    if width < 1 or height < 1:
        raise error(f"a tile must be at least 1 x 1 pixels, got {width} x {height}", stage=USAGE)
    return width, height


class TiledRenderer:
    """A compiled sketch drawn in tiles: `bands(frame)` yields (first row, RGBA float32 rows) from
    the top, one row of tiles at a time, equal byte for byte to the rows of `Renderer.render`.

    The canvas may be up to `limits.max_tiled_pixels`; each tile, grown by the margin its filters
    need, must stay within `limits.max_pixels`. `tile` is the tile's side (or (width, height)).
    `workers` tiles of a band are drawn at once on threads (numpy's arithmetic runs on one core, the
    noise and filter kernels on all of them); each costs a tile's memory. The bytes do not depend
    on it.
    """

    def __init__(self, program: ir.Program, *, size=None, seed=None, params=None, tile=TILE,
                 limits: Limits | None = None, workers: int | None = None, trust: bool = False):
        self.limits = limits or Limits.from_environment()
        canvas_size(program, size, self.limits, tiled=True)
        most = max(self.limits.max_pixels, self.limits.max_tiled_pixels)
        self.renderer = Renderer(program, size=size, seed=seed, params=params, trust=trust,
                                 limits=dataclasses.replace(self.limits, max_pixels=most))
        self.tile = _tile_shape(tile)
        self.workers = max(1, min(2, get_threads()) if workers is None else int(workers))
        self.unbounded = unbounded_calls(program)
        self.shared: dict = {}           # what all tiles read: fitted images (8-bit)

    # what the plain renderer knows
    @property
    def program(self) -> ir.Program:
        return self.renderer.program

    @property
    def size(self) -> tuple[int, int]:
        return self.renderer.canvas.width, self.renderer.canvas.height

    @property
    def seed(self) -> int:
        return self.renderer.seed

    @property
    def param_values(self) -> dict:
        return self.renderer.param_values

    # planning
    def _context(self, frame: int, region: Region | None = None, cancelled=None) -> FrameContext:
        """The renderer's context for a tile: its own cache, the images all tiles share."""
        return self.renderer.context(frame, cancelled, region=region, shared=self.shared)

    def margin(self, frame: int = 0) -> Margin:
        """The most any node of this frame is computed beyond its tile (before the canvas's edge
        cuts it), in pixels on each side."""
        return plan_margins(self.program, self.renderer.plan, self._context(frame))[0]

    def in_one_piece(self, frame: int = 0) -> bool:
        """True when this frame is drawn whole rather than in tiles: one tile covers the canvas, or
        the sketch cannot be tiled (or its tiles would outgrow max_pixels) but the canvas fits in
        max_pixels. Raises the reason when neither works."""
        width, height = self.size
        tile_width, tile_height = min(self.tile[0], width), min(self.tile[1], height)
        fits = width * height <= self.limits.max_pixels
        if (tile_width, tile_height) == (width, height) and fits:
            return True
        if self.unbounded:
            if fits:
                return True
            failures = [not_tileable(node) for node in self.unbounded]
            diagnostics = [d for failure in failures for d in failure.diagnostics]
            note = (f"a {width} x {height} canvas is over --max-pixels ({self.limits.max_pixels:,}), "
                    "so it must be drawn in tiles")
            diagnostics[0] = dataclasses.replace(diagnostics[0], hint=diagnostics[0].hint + "; " + note)
            raise ArtError(diagnostics, USAGE)
        if tile_width * tile_height > self.limits.max_pixels:
            if fits:
                return True
            raise error(f"a {tile_width} x {tile_height} tile is {tile_width * tile_height:,} pixels, "
                        f"over --max-pixels ({self.limits.max_pixels:,})", stage=USAGE,
                        hint=f"use smaller tiles (--tile), e.g. {TILE}")
        margin, reaches = plan_margins(self.program, self.renderer.plan, self._context(frame))
        grown_width = min(width, tile_width + margin.left + margin.right)
        grown_height = min(height, tile_height + margin.top + margin.bottom)
        if grown_width * grown_height <= self.limits.max_pixels:
            return False
        if fits:
            return True
        widest, reach = max(reaches, key=lambda pair: pair[1].largest)
        raise error(f"the filters reach {margin.largest:,} pixels beyond each tile: a "
                    f"{tile_width} x {tile_height} tile grows to {grown_width} x {grown_height}, "
                    f"over --max-pixels ({self.limits.max_pixels:,})", widest.span, stage=USAGE,
                    label=f"reaches {reach.largest:,} pixels",
                    hint="use smaller tiles (--tile), a smaller radius, or raise --max-pixels if "
                         "this machine has the memory")

    def bands(self, frame: int = 0, cancelled: Callable[[], bool] | None = None) -> Iterator[Band]:
        """The frame's rows from the top, one band (a row of tiles) at a time, as
        (first row, RGBA float32 array of band height x canvas width x 4). Problems (an untileable
        sketch, a bad frame) are raised here, before the first band is drawn."""
        check_frame(self.program, frame)
        if self.in_one_piece(frame):
            return self._whole(frame, cancelled)
        return self._tiles(frame, cancelled)

    def _whole(self, frame: int, cancelled) -> Iterator[Band]:
        image = self.renderer.render(frame, cancelled)
        step = min(self.tile[1], image.shape[0])
        for y0 in range(0, image.shape[0], step):
            yield y0, image[y0:y0 + step]

    def _tiles(self, frame: int, cancelled) -> Iterator[Band]:
        width, height = self.size
        tile_width, tile_height = self.tile
        plan = self.renderer.plan
        starts = range(0, width, tile_width)
        pool = ThreadPoolExecutor(max_workers=min(self.workers, len(starts)),
                                  thread_name_prefix="artlang-tile") \
            if self.workers > 1 and len(starts) > 1 else None

        def draw(band: np.ndarray, x0: int, y0: int) -> None:
            columns = min(tile_width, width - x0)
            context = self._context(frame, Region(x0, y0, columns, band.shape[0]), cancelled).started()
            try:
                context.check_cancelled()
                band[:, x0:x0 + columns] = plan.render_frame(context)
            except MemoryError:
                raise error("out of memory while rendering a tile", stage=RUNTIME,
                            hint="use smaller tiles (--tile), or fewer workers") from None
            finally:
                context.caches.drop()        # the tile's values, now

        try:
            for y0 in range(0, height, tile_height):
                band = np.empty((min(tile_height, height - y0), width, 4), F32)
                if pool is None:
                    for x0 in starts:
                        draw(band, x0, y0)
                else:
                    for future in [pool.submit(draw, band, x0, y0) for x0 in starts]:
                        future.result()
                yield y0, band
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def render(self, frame: int = 0, cancelled=None) -> np.ndarray:
        """The whole frame assembled from its bands (for tests and canvases that fit in memory)."""
        width, height = self.size
        image = np.empty((height, width, 4), F32)
        for y0, band in self.bands(frame, cancelled):
            image[y0:y0 + band.shape[0]] = band
        return image


def render_tiled(program: ir.Program, *, size=None, seed=None, params=None, frame: int = 0,
                 tile=TILE, limits: Limits | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 workers: int | None = None) -> Iterator[Band]:
    """The frame's bands from the top: `TiledRenderer(...).bands(frame, cancelled)`."""
    return TiledRenderer(program, size=size, seed=seed, params=params, tile=tile, limits=limits,
                         workers=workers).bands(frame, cancelled)
