"""Drawing a canvas in tiles, in memory bounded by the tile, and streaming it to a PNG or TIFF file.

A canvas too large to hold as whole float arrays (16 bytes a pixel for every colour field) is drawn
one tile at a time: each tile is a `FrameContext` whose region is that part of the canvas (px, uv,
noise and images are computed for the region only, in whole-canvas coordinates), with a cache of its
own that is dropped once the tile is copied into its band. A band (one row of tiles) is handed to a
streaming writer, which converts it to 8 bits and compresses it, then drops it.

**Tiles equal the whole canvas, byte for byte.** Everything per pixel is computed from the pixel's
canvas coordinates (white noise too: it hashes them, see docs/architecture.md point 4). The
built-ins that read other pixels (`context.NEIGHBOURHOODS`: blur, sharpen, edges, convolve) declare
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

>>> from artlang.render import load_source
>>> program = load_source("canvas 50 x 30\\noutput blur(fill(circle(uv, 0.5)), 2 * pixel)")
>>> tiled = TiledRenderer(program, tile=16)
>>> [(y0, band.shape) for y0, band in tiled.bands()]
[(0, (16, 50, 4)), (16, (14, 50, 4))]
>>> tiled.margin()
Margin(left=6, top=6, right=6, bottom=6)
"""
from __future__ import annotations

import dataclasses
import json
import os
import struct
import tempfile
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from . import ir
from .compiler import neighbourhood_of, not_tileable
from .context import FrameContext, Margin, Region
from .errors import RUNTIME, USAGE, ArtError, error
from .limits import Limits
from .render import Renderer, canvas_size
from .threads import get_threads
from .writers import atomic_write, to_8bit

F32 = np.float32
TILE = 1024                      # default tile side: 16 MiB a colour field
Band = tuple[int, np.ndarray]    # (first row, RGBA float32 rows x canvas width x 4)

__all__ = ["TILE", "TiledRenderer", "render_tiled", "write_png_streaming", "write_tiff_streaming",
           "write_streaming", "unbounded_calls", "plan_margins", "STREAMING_SUFFIXES"]


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

    def metadata(self, frame: int = 0) -> dict[str, str]:
        return self.renderer.metadata(frame)

    # planning
    def _context(self, frame: int, region: Region | None = None, cancelled=None) -> FrameContext:
        settings = self.program.settings
        width, height = self.size
        return FrameContext(width, height, self.seed, frame=frame, fps=settings.fps,
                            frames=settings.frames, loop=settings.loop, region=region,
                            files=self.program.files, cancelled=cancelled, shared=self.shared,
                            limits=self.limits)

    def margin(self, frame: int = 0) -> Margin:
        """The most any node of this frame is computed beyond its tile (before the canvas's edge
        cuts it), in pixels on each side."""
        return plan_margins(self.program, self.renderer.plan, self._context(frame))[0]

    def _check_frame(self, frame: int) -> None:
        frames = self.program.settings.frames
        if not 0 <= frame < frames:
            raise error(f"frame {frame} is outside the animation (frames 0..{frames - 1})", stage=USAGE)

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
        self._check_frame(frame)
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
            finally:                         # drop the tile's values now (the grown regions'
                for grown in context.regions.values():   # contexts refer to each other)
                    grown.frame_memo.clear()
                context.regions.clear()
                context.cache.clear()
                context.frame_memo.clear()

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

    def write(self, path, frame: int = 0, cancelled=None, text: dict[str, str] | None = None) -> None:
        """Draw the frame in tiles straight into a .png or .tif file (see `write_streaming`)."""
        write_streaming(self.bands(frame, cancelled), path, self.size,
                        self.metadata(frame) if text is None else text)


def render_tiled(program: ir.Program, *, size=None, seed=None, params=None, frame: int = 0,
                 tile=TILE, limits: Limits | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 workers: int | None = None) -> Iterator[Band]:
    """The frame's bands from the top: `TiledRenderer(...).bands(frame, cancelled)`."""
    return TiledRenderer(program, size=size, seed=seed, params=params, tile=tile, limits=limits,
                         workers=workers).bands(frame, cancelled)


# --- streaming writers -------------------------------------------------------------------------------

CONVERT_ROWS = 64                # rows converted to 8 bits at a time (bounded temporaries)
PART_BYTES = 1 << 20             # about this many raw bytes per independently deflated part
IDAT_BYTES = 1 << 20             # every IDAT chunk but the last holds exactly this many bytes
IN_FLIGHT = 3                    # deflate parts submitted and not yet written
STREAMING_SUFFIXES = (".png", ".tif", ".tiff")


def _rows_8bit(bands: Iterable[Band], size: tuple[int, int]) -> Iterator[np.ndarray]:
    """Each band as uint8 RGBA (converted a few rows at a time), checked to come in order and to
    cover the canvas exactly."""
    width, height = size
    expected = 0
    for y0, band in bands:
        if y0 != expected or band.ndim != 3 or band.shape[1:] != (width, 4):
            raise ValueError(f"band at row {y0} of shape {band.shape} does not continue the "
                             f"{width} x {height} canvas at row {expected}")
        pixels = np.empty(band.shape, np.uint8)
        for first in range(0, band.shape[0], CONVERT_ROWS):
            pixels[first:first + CONVERT_ROWS] = to_8bit(band[first:first + CONVERT_ROWS])
        expected += band.shape[0]
        if expected > height:
            raise ValueError(f"the bands run past the canvas's {height} rows")
        yield pixels
    if expected != height:
        raise ValueError(f"the bands stop at row {expected} of {height}")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _deflate_part(rows: np.ndarray, above: np.ndarray, level: int, last: bool):
    """Rows "Up"-filtered (each minus the row above it, bytewise) and deflated as a raw part ending
    on a byte boundary (or the stream's end): what a thread of the writer does."""
    count = rows.shape[0]
    filtered = np.empty((count, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = 2                                     # filter type Up
    if count:
        np.subtract(rows[0], above, out=filtered[0, 1:])   # uint8: wraps around, as PNG wants
        np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    packed = packer.compress(filtered) + packer.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
    return filtered, packed


class _PngStream:
    """A PNG written as rows arrive: one zlib stream cut into parts of a fixed number of rows,
    deflated on a small thread pool (pigz's way: parts end on a byte boundary, so they join into
    one stream), written in fixed-size IDAT chunks. The bytes depend only on the pixels."""

    def __init__(self, handle, width: int, height: int, channels: int, text: dict[str, str],
                 level: int, pool: ThreadPoolExecutor):
        self.handle, self.width, self.height, self.channels = handle, width, height, channels
        self.level, self.pool = level, pool
        self.row_bytes = width * channels
        self.part_rows = max(1, PART_BYTES // (self.row_bytes + 1))
        colour_type = 2 if channels == 3 else 6
        handle.write(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(
            ">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)))
        for key, value in (text or {}).items():              # iTXt, uncompressed, no language tag
            handle.write(_chunk(b"iTXt", key.encode("latin-1") + b"\x00\x00\x00\x00\x00" +
                                value.encode("utf-8")))
        self.idat_start = handle.tell()
        self.above = np.zeros(self.row_bytes, np.uint8)      # the row above the first: zeros
        self.waiting: list[np.ndarray] = []                  # rows not yet in a part
        self.waiting_rows = 0
        self.in_flight: deque = deque()
        self.adler = 1
        self.idat = bytearray(b"\x78\x9c")                   # zlib header: deflate, 32 KiB window
        self.rows = 0

    def add(self, pixels: np.ndarray) -> None:
        """More rows: (rows, width, channels) uint8."""
        rows = pixels.reshape(pixels.shape[0], self.row_bytes)
        self.rows += rows.shape[0]
        self.waiting.append(rows)
        self.waiting_rows += rows.shape[0]
        while self.waiting_rows >= self.part_rows:
            self._submit(self._take(self.part_rows), last=False)

    def _take(self, count: int) -> np.ndarray:
        pieces, taken = [], 0
        while taken < count and self.waiting:
            rows = self.waiting[0]
            need = count - taken
            if rows.shape[0] <= need:
                pieces.append(self.waiting.pop(0))
                taken += rows.shape[0]
            else:
                pieces.append(rows[:need])
                self.waiting[0] = rows[need:]
                taken += need
        self.waiting_rows -= taken
        if not pieces:
            return np.empty((0, self.row_bytes), np.uint8)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)

    def _submit(self, rows: np.ndarray, last: bool) -> None:
        above = self.above
        if rows.shape[0]:
            self.above = rows[-1]
        self.in_flight.append(self.pool.submit(_deflate_part, rows, above, self.level, last))
        while len(self.in_flight) > IN_FLIGHT:
            self._collect()

    def _collect(self) -> None:
        filtered, packed = self.in_flight.popleft().result()
        self.adler = zlib.adler32(filtered, self.adler)
        self.idat += packed
        if len(self.idat) >= IDAT_BYTES:
            whole = len(self.idat) // IDAT_BYTES * IDAT_BYTES
            view = memoryview(self.idat)
            for start in range(0, whole, IDAT_BYTES):
                self.handle.write(_chunk(b"IDAT", view[start:start + IDAT_BYTES]))
            view.release()
            del self.idat[:whole]

    def drain(self) -> None:
        """Write every part submitted so far (the stream stays open)."""
        while self.in_flight:
            self._collect()

    def finish(self) -> None:
        if self.rows != self.height:
            raise ValueError(f"{self.rows} rows written of {self.height}")
        self._submit(self._take(self.waiting_rows), last=True)
        self.drain()
        self.idat += struct.pack(">I", self.adler)
        for start in range(0, len(self.idat), IDAT_BYTES):
            self.handle.write(_chunk(b"IDAT", bytes(self.idat[start:start + IDAT_BYTES])))
        self.handle.write(_chunk(b"IEND", b""))

    def written_rows(self, path: Path) -> Iterator[np.ndarray]:
        """The rows added so far, decoded back (from the file written and what is still held):
        how an opaque start is turned into RGBA when a transparent pixel arrives."""
        self.drain()
        self.handle.flush()
        unpacker = zlib.decompressobj()
        line = 1 + self.row_bytes
        above = np.zeros(self.row_bytes, np.uint8)
        pending = bytearray()

        def rows_of(data) -> Iterator[np.ndarray]:
            nonlocal above
            pending.extend(unpacker.decompress(data))
            count = len(pending) // line
            if not count:
                return
            filtered = np.frombuffer(bytes(pending[:count * line]), np.uint8).reshape(count, line)
            del pending[:count * line]
            rows = np.empty((count, self.row_bytes), np.uint8)
            for index in range(count):                          # undo "Up": add the row above
                np.add(filtered[index, 1:], above, out=rows[index])
                above = rows[index]
            yield rows

        with open(path, "rb") as reader:
            reader.seek(self.idat_start)
            while header := reader.read(8):
                length, kind = struct.unpack(">I4s", header)
                data = reader.read(length)
                reader.read(4)
                if kind == b"IDAT":
                    yield from rows_of(data)
        yield from rows_of(bytes(self.idat))
        yield from self.waiting


def write_png_streaming(bands: Iterable[Band], path, size: tuple[int, int],
                        text: dict[str, str] | None = None, *, level: int = 6,
                        alpha: bool | None = None) -> None:
    """Write a PNG from bands of RGBA float rows (top to bottom), never holding the whole picture.

    8 bits a channel, rows "Up"-filtered, deflated at `level` in parts of about 1 MiB on two threads
    while the next band is drawn; `text` as iTXt chunks before the pixels. `alpha=None` writes RGB
    while every pixel so far is opaque, as `writers.write_png` does for an opaque picture; at the
    first transparent pixel the rows already written are read back and re-encoded as RGBA (the
    file then is what an RGBA file from the start would be). `alpha=True` always writes RGBA.
    Written to a temporary file renamed into place.
    """
    width, height = size
    path = Path(path)

    def write(temporary: Path) -> None:
        spare = None                                # the RGBA file, once one is needed
        handles = [open(temporary, "wb")]
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="artlang-png")
        try:
            stream = _PngStream(handles[0], width, height, 4 if alpha else 3, text, level, pool)
            for pixels in _rows_8bit(bands, size):
                if stream.channels == 3 and not (pixels[..., 3] == 255).all():
                    descriptor, spare = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp",
                                                         dir=path.parent)
                    handles.append(os.fdopen(descriptor, "wb"))
                    rgba = _PngStream(handles[-1], width, height, 4, text, level, pool)
                    for rows in stream.written_rows(temporary):
                        opaque = np.empty((rows.shape[0], width, 4), np.uint8)
                        opaque[..., :3] = rows.reshape(rows.shape[0], width, 3)
                        opaque[..., 3] = 255
                        rgba.add(opaque)
                    stream = rgba
                stream.add(pixels[..., :3] if stream.channels == 3 else pixels)
            stream.finish()
            for handle in handles:
                handle.close()
            if spare is not None:
                os.replace(spare, temporary)
                spare = None
        finally:
            for handle in handles:
                handle.close()
            pool.shutdown(wait=True, cancel_futures=True)
            if spare is not None:
                Path(spare).unlink(missing_ok=True)

    atomic_write(path, write)


def write_tiff_streaming(bands: Iterable[Band], path, size: tuple[int, int],
                         text: dict[str, str] | None = None, *, tile: int = 256,
                         compression: str = "zlib") -> None:
    """Write a tiled TIFF (8-bit RGBA, straight alpha, deflate-compressed `tile` x `tile` tiles)
    from bands of RGBA float rows, never holding the whole picture; through `tifffile`.

    `text` goes as JSON into the ImageDescription tag (its "Software" entry into the Software tag).
    BigTIFF when the pixels could pass 4 GiB. Written to a temporary file renamed into place.
    """
    try:
        import tifffile
    except ImportError:
        raise error("writing a TIFF needs the `tifffile` package", stage=USAGE,
                    hint="install it (`pip install tifffile`), or write a .png") from None

    width, height = size
    text = dict(text or {})

    def tiles() -> Iterator[np.ndarray]:
        carry = np.empty((0, width, 4), np.uint8)
        for pixels in _rows_8bit(bands, size):
            rows = pixels if not len(carry) else np.concatenate([carry, pixels])
            full = rows.shape[0] // tile * tile
            for top in range(0, full, tile):
                for left in range(0, width, tile):
                    yield rows[top:top + tile, left:left + tile]     # tifffile pads the edge tiles
            carry = rows[full:]
        if len(carry):
            for left in range(0, width, tile):
                yield carry[:, left:left + tile]

    def write(temporary: Path) -> None:
        with tifffile.TiffWriter(temporary, bigtiff=width * height * 4 > (1 << 32) - (1 << 28)) as tiff:
            tiff.write(tiles(), shape=(height, width, 4), dtype=np.uint8, tile=(tile, tile),
                       photometric="rgb", planarconfig="contig", extrasamples=("unassalpha",),
                       compression=compression, software=text.get("Software", "artlang"),
                       description=json.dumps(text, ensure_ascii=True, sort_keys=True),
                       metadata=None)

    atomic_write(Path(path), write)


def write_streaming(bands: Iterable[Band], path, size: tuple[int, int],
                    text: dict[str, str] | None = None) -> None:
    """Write the bands with the streaming writer for the file's extension (.png, .tif, .tiff)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        write_png_streaming(bands, path, size, text)
    elif suffix in (".tif", ".tiff"):
        write_tiff_streaming(bands, path, size, text)
    else:
        raise error(f"cannot stream `{Path(path).name}`: tiled renders write .png or .tif",
                    stage=USAGE, hint="use -o NAME.png or -o NAME.tif")
