"""Streaming a canvas drawn in bands (`runtime.tiles`) to a PNG or TIFF file, in bounded memory.

Each band is converted to 8 bits and compressed, then dropped. The file is written through a
temporary name renamed into place, and its bytes do not depend on the tile size: the PNG is cut
into deflate parts and IDAT chunks by row count and byte count only.
"""
from __future__ import annotations

import json
import tempfile
import os
import struct
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from artlang.core.errors import USAGE, error
from artlang.core.files import atomic_write
from artlang.kernels.pixels import to_8bit
from artlang.output.formats import FORMATS
from artlang.output.provenance import picture_text
from artlang.output.writers import png_chunk, png_head
from artlang.runtime.tiles import Band, TiledRenderer


def write_tiled(tiled: TiledRenderer, path, frame: int = 0, cancelled=None,
                text: dict[str, str] | None = None) -> None:
    """Draw the frame in tiles straight into a .png or .tif file (see `write_streaming`), with
    the picture's recipe in it unless `text` is given."""
    write_streaming(tiled.bands(frame, cancelled), path, tiled.size,
                    picture_text(tiled.renderer, frame) if text is None else text)


# --- streaming writers -------------------------------------------------------------------------------

CONVERT_ROWS = 64                # rows converted to 8 bits at a time (bounded temporaries)
PART_BYTES = 1 << 20             # about this many raw bytes per independently deflated part
IDAT_BYTES = 1 << 20             # every IDAT chunk but the last holds exactly this many bytes
IN_FLIGHT = 3                    # deflate parts submitted and not yet written


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
        handle.write(png_head(width, height, 8, colour_type, text))
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
                self.handle.write(png_chunk(b"IDAT", view[start:start + IDAT_BYTES]))
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
            self.handle.write(png_chunk(b"IDAT", bytes(self.idat[start:start + IDAT_BYTES])))
        self.handle.write(png_chunk(b"IEND", b""))

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
        import tifffile  # heavy, and only for TIFF
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
    """Write the bands with the streaming writer of the file's format (`formats.FORMATS`)."""
    suffix = Path(path).suffix.lower()
    streamed = [f for f in FORMATS.values() if f.streams and suffix in f.extensions]
    if not streamed:
        firsts = [f.extensions[0] for f in FORMATS.values() if f.streams]
        raise error(f"cannot stream `{Path(path).name}`: tiled renders write "
                    + " or ".join(firsts), stage=USAGE,
                    hint="use " + " or ".join(f"-o NAME{first}" for first in firsts))
    STREAMING_WRITERS[streamed[0].name](bands, path, size, text)


STREAMING_WRITERS = {"png": write_png_streaming, "tiff": write_tiff_streaming}   # by format name
if STREAMING_WRITERS.keys() != {f.name for f in FORMATS.values() if f.streams}:
    raise ImportError("every format the table says streams needs a streaming writer here")
