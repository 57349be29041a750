"""Frame sinks for `artlang export`: image sequences (PNG, 16-bit PNG, JPEG) and animations (GIF,
animated WebP, H.264 MP4), plus contact sheets and JSON sidecars.

Every file appears whole or not at all: sequence frames go through `writers.atomic_write`, and
an animation is encoded into a temporary file beside its destination that `close()` renames into
place. Timing is exact: frame k of an animation starts at round(k / fps) in the format's time unit
(GIF centiseconds, WebP milliseconds), and an MP4 has a constant frame rate. The same frames give
the same bytes in every format.

>>> import tempfile; from PIL import Image
>>> frames = [np.full((8, 8, 4), value, np.float32) for value in (0.2, 0.6, 1.0)]
>>> with tempfile.TemporaryDirectory() as folder:
...     with AnimationWriter(Path(folder, "fade.gif"), "gif", fps=30, size=(8, 8)) as animation:
...         for frame in frames:
...             animation.add(frame)
...     Image.open(Path(folder, "fade.gif")).n_frames
3
"""
from __future__ import annotations

import io
import json
import math
import numbers
import os
import re
import struct
import subprocess
import tempfile
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import GifImagePlugin, Image, ImageDraw, ImageFont

from artlang.core.errors import RUNTIME, USAGE, error
from artlang.core.files import file_mode, write_bytes
from artlang.kernels.pixels import over_black, to_8bit, to_16bit
from artlang.kernels.threads import get_threads
from artlang.output.formats import FORMATS, Format, sidecar_path
from artlang.output.writers import encode_jpeg, write_jpeg, write_png

__all__ = ["frame_name", "SequenceWriter", "AnimationWriter",
           "frame_rate", "tick", "contact_sheet", "write_sidecar", "encode_jpeg"]


# ----------------------------------------------------------------------------------------------
# Sequences


def frame_name(pattern_path: Path | str, index: int, frame_count: int) -> Path:
    """The file of frame `index` out of `frame_count`, numbered from 0 and zero-padded so that the
    names sort in order: to the width of the last index, or to a run of `#` in the name.

    >>> [frame_name("out/glow.png", i, 60).as_posix() for i in (0, 59)]
    ['out/glow_00.png', 'out/glow_59.png']
    >>> frame_name("out/glow.png", 0, 1).as_posix(), frame_name("f_####.png", 7, 60).as_posix()
    ('out/glow_0.png', 'f_0007.png')
    """
    pattern = Path(pattern_path)
    if not 0 <= index < frame_count:
        raise error(f"frame {index} is outside 0..{frame_count - 1}", stage=RUNTIME)
    needed = len(str(frame_count - 1))
    runs = re.findall("#+", pattern.name)
    if not runs:
        return pattern.with_name(f"{pattern.stem}_{index:0{needed}d}{pattern.suffix}")
    if len(runs) > 1:
        raise error(f"the frame pattern `{pattern.name}` has more than one run of `#`",
                    stage=USAGE, hint="mark the frame number with a single run, e.g. `f_####.png`")
    if len(runs[0]) < needed:
        raise error(f"`{pattern.name}` leaves {len(runs[0])} digit(s) for the frame number, but "
                    f"{frame_count} frames need {needed}", stage=USAGE,
                    hint=f"use {'#' * needed} or more, or no `#` to get {needed} digits")
    return pattern.with_name(pattern.name.replace(runs[0], f"{index:0{len(runs[0])}d}"))


class SequenceWriter:
    """One file per frame, each written atomically (see `frame_name` for the names).

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     frames = SequenceWriter(Path(folder, "glow.png"), "png", frame_count=12)
    ...     frames.write(3, np.ones((4, 4, 4), np.float32), {"seed": "1"})
    ...     frames.path_for(3).name, frames.path_for(3).exists()
    ('glow_03.png', True)
    """

    def __init__(self, pattern_path: Path | str, format: str, frame_count: int,
                 quality: int | None = None):
        self.format = _format(format, "sequence")
        self.pattern = Path(pattern_path)
        if isinstance(frame_count, bool) or not isinstance(frame_count, int) or frame_count < 1:
            raise error(f"a sequence needs at least one frame, got {frame_count!r}", stage=USAGE)
        self.frame_count = frame_count
        self.quality = check_quality(self.format, quality)
        frame_name(self.pattern, frame_count - 1, frame_count)     # check the pattern up front

    def path_for(self, index: int) -> Path:
        return frame_name(self.pattern, index, self.frame_count)

    def write(self, index: int, image: np.ndarray, text: dict[str, str] | None = None) -> None:
        path = self.path_for(index)
        if self.format.name == "jpeg":
            write_jpeg(image, path, text, self.quality)
        else:
            write_png(image, path, text, bits=self.format.bits)


# ----------------------------------------------------------------------------------------------
# Animations


def frame_rate(fps: float | int | Fraction | str) -> Fraction:
    """The exact frame rate: decimals as written, and the NTSC rates people write as 23.976, 29.97,
    59.94 ... as the n * 1000/1001 they mean.

    >>> frame_rate(30), frame_rate(12.5), frame_rate(29.97), frame_rate("24000/1001")
    (Fraction(30, 1), Fraction(25, 2), Fraction(30000, 1001), Fraction(24000, 1001))
    """
    try:
        rate = Fraction(str(fps) if isinstance(fps, float) else fps)
    except (ValueError, TypeError, ZeroDivisionError):
        rate = Fraction(0)
    if not (isinstance(fps, (int, float, Fraction, str)) and 0 < rate <= 1000):
        raise error(f"the frame rate must be a number above 0 and at most 1000, got {fps!r}",
                    stage=USAGE)
    ntsc = Fraction(round(rate * Fraction(1001, 1000)) * 1000, 1001)
    return ntsc if rate.denominator != 1 and abs(rate - ntsc) < Fraction(1, 1000) else rate


def tick(index: int, rate: Fraction, per_second: int) -> int:
    """When frame `index` starts, in units of 1/per_second s, rounded half up: the delays of the
    frames (differences of consecutive ticks) add up to the exact time with no drift.

    >>> [tick(k + 1, Fraction(30), 100) - tick(k, Fraction(30), 100) for k in range(6)]
    [3, 4, 3, 3, 4, 3]
    """
    return math.floor(index * per_second / rate + Fraction(1, 2))


class AnimationWriter:
    """One animated file, frames added in order; `close()` renames it into place, `abort()` (or an
    exception in a `with` block) leaves nothing behind.

    `size` is (width, height); `quality` is what `FORMATS[format].quality` says (None: the
    format's default). GIF: fps at most 50 (browsers slow down shorter delays); pixels with alpha
    below 0.5 transparent, the rest opaque. WebP: lossless unless `quality` is below 100. MP4:
    `quality` is x264's CRF (default 18); composited over black; an odd width or height is padded
    to even by repeating the last column or row.

    >>> import tempfile; from PIL import Image
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder, "spin.webp")
    ...     with AnimationWriter(path, "webp", fps=24, size=(4, 2)) as animation:
    ...         animation.add(np.zeros((2, 4, 4), np.float32))
    ...         animation.add(np.ones((2, 4, 4), np.float32))
    ...     Image.open(path).n_frames
    2
    """

    def __init__(self, path: Path | str, format: str, fps: float | Fraction, size: tuple[int, int],
                 quality: int | None = None, loop: bool = True):
        self.path, self.format = Path(path), _format(format, "animation")
        self.rate, self.loop, self.count = frame_rate(fps), loop, 0
        if not (len(size) == 2 and all(isinstance(v, numbers.Integral) and v > 0 for v in size)):
            raise error(f"an animation's size must be two whole numbers above 0, got {size!r}",
                        stage=USAGE)
        self.size = (int(size[0]), int(size[1]))
        if self.format.max_fps and self.rate > self.format.max_fps:
            raise error(f"{self.format.name.upper()} can't play faster than "
                        f"{self.format.max_fps:g} fps, asked for {float(self.rate):g}", stage=USAGE,
                        hint="browsers slow down frame delays under 2/100 s: lower the fps, or "
                             "export .webp or .mp4")
        self.quality, self.finished = check_quality(self.format, quality), False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp",
                                        dir=self.path.parent)
        os.close(handle)
        self.temporary = Path(name)
        try:
            self._encoder = _ENCODERS[self.format.name](self)
        except BaseException:
            self.temporary.unlink(missing_ok=True)
            raise

    def add(self, image: np.ndarray) -> None:
        """Append the next frame, a float RGBA canvas of the writer's size."""
        self.add_prepared(prepare_frame(self.format.name, image, self.size))

    def add_prepared(self, frame) -> None:
        """Append the next frame as `prepare_frame` made it (perhaps in another process)."""
        self._encoder.add(frame, self.count)
        self.count += 1

    def close(self) -> None:
        """Finish the file and rename it into place."""
        if self.finished:
            return
        try:
            if self.count == 0:
                raise error(f"no frames to write to {self.path}", stage=RUNTIME)
            self._encoder.close()
            os.chmod(self.temporary, file_mode())
            os.replace(self.temporary, self.path)
            self.finished = True
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop and remove the temporary file; the destination is untouched."""
        if not self.finished:
            self.finished = True
            self._encoder.abort()
            self.temporary.unlink(missing_ok=True)

    def __enter__(self) -> AnimationWriter:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def prepare_frame(format: str, image: np.ndarray, size: tuple[int, int]):
    """A float RGBA canvas as the `format` animation encoder takes it: 8-bit RGBA for GIF and
    WebP, the raw 16-bit RGB ffmpeg is fed for MP4. The pure half of encoding, so it can run in
    the process that rendered the frame (an export's worker) instead of the one that writes it.

    >>> prepare_frame("gif", np.ones((1, 2, 4), np.float32), (2, 1)).tolist()
    [[[255, 255, 255, 255], [255, 255, 255, 255]]]
    """
    width, height = size
    if image.shape != (height, width, 4):
        raise error(f"a frame is {image.shape[1]} x {image.shape[0]}, but the animation is "
                    f"{width} x {height}", stage=RUNTIME)
    return _ENCODERS[_format(format, "animation").name].prepare(image)


class _InOrder:
    """Jobs run on a few threads (Pillow's encoders release the GIL, and this overlaps encoding
    with rendering), their results handed to `write` in the order submitted. At most two jobs per
    thread wait, bounding memory; the bytes do not depend on the number of threads."""

    def __init__(self, write):
        self.write, self.waiting, self.limit = write, deque(), 2 * get_threads()
        self.pool = ThreadPoolExecutor(get_threads(), thread_name_prefix="artlang-encode")

    def submit(self, job, *args) -> None:
        self.waiting.append(self.pool.submit(job, *args))
        while len(self.waiting) > self.limit or (self.waiting and self.waiting[0].done()):
            self.write(self.waiting.popleft().result())

    def finish(self) -> None:
        while self.waiting:
            self.write(self.waiting.popleft().result())
        self.pool.shutdown()

    def cancel(self) -> None:
        for job in self.waiting:
            job.cancel()
        self.waiting.clear()
        self.pool.shutdown()


class _Gif:
    """GIF89a written frame by frame, Pillow doing the palettes and LZW.

    Each frame gets its own palette (fast octree, 255 colours, Floyd-Steinberg dithering) made from
    the pixels it draws: animations that sweep colours keep their best 255 at every moment, where a
    global palette would band. A fully opaque frame draws only the pixels that changed since the
    previous one (the rest transparent, inside the changed box), so still areas neither flicker
    with new dither patterns nor take space; a frame with transparent pixels is drawn whole after
    the previous one is cleared (disposal 2), so nothing smears. A frame equal to the previous one
    is still written (one transparent pixel), keeping the frame count and timing exact.
    """

    def __init__(self, writer: AnimationWriter):
        self.writer, self.previous, self.pending = writer, None, None
        self.file = open(writer.temporary, "wb")
        width, height = writer.size
        self.file.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0))
        if writer.loop:                                  # NETSCAPE2.0, loop count 0: forever
            self.file.write(b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")
        self.jobs = _InOrder(self._write)

    prepare = staticmethod(to_8bit)

    def add(self, pixels: np.ndarray, index: int) -> None:
        rgb, clear = pixels[..., :3], pixels[..., 3] < 128
        if self.previous is None or clear.any():          # whole frame over a cleared canvas
            draw, whole = ~clear, True
        else:                                            # opaque: only what changed
            old_rgb, old_clear = self.previous
            draw, whole = (rgb != old_rgb).any(axis=2) | old_clear, False
        self.previous = (rgb, clear)
        if index == 0:
            self.first_clear = bool(clear.any())
        delay = tick(index + 1, self.writer.rate, 100) - tick(index, self.writer.rate, 100)
        self.jobs.submit(_gif_frame, rgb, draw, whole, delay)

    def _write(self, frame: tuple[bool, bytes, bytes]) -> None:
        whole, control, data = frame
        self._flush(disposal=2 if whole else 1)          # cleared for a whole frame, else kept
        self.pending = (control, data)

    def _flush(self, disposal: int) -> None:
        """Write the pending frame, now that the next one decided how it is to be disposed of."""
        if self.pending:
            control, data = self.pending
            self.file.write(control[:3] + bytes([control[3] | disposal << 2]) + control[4:] + data)
            self.pending = None

    def close(self) -> None:
        self.jobs.finish()
        self._flush(disposal=2 if self.first_clear else 1)   # the loop restarts at frame 0
        self.file.write(b";")
        self.file.close()

    def abort(self) -> None:
        self.jobs.cancel()
        self.file.close()


def _gif_frame(rgb: np.ndarray, draw: np.ndarray, whole: bool, delay: int):
    """(whole, graphic control extension without its disposal, image data) of one GIF frame that
    draws the `draw` pixels of `rgb` and leaves the others transparent."""
    rows, columns = np.flatnonzero(draw.any(axis=1)), np.flatnonzero(draw.any(axis=0))
    if len(rows) == 0:                                   # nothing to draw: one transparent pixel
        rows, columns = np.array([0]), np.array([0])
    box = np.s_[rows[0]:rows[-1] + 1, columns[0]:columns[-1] + 1]
    region, drawn = np.ascontiguousarray(rgb[box]), draw[box]
    palette = _palette(region[drawn])
    indices = np.array(Image.fromarray(region).quantize(palette=palette))
    colours = palette.getpalette()
    transparent = len(colours) // 3                      # the entry after the colours, always
    indices[~drawn] = transparent                        # there: disposal 2 then clears to it
    picture = Image.fromarray(indices, "P")
    picture.putpalette(colours + [0, 0, 0] * (1 + (transparent == 1)))   # 2 entries at least
    data = b"".join(GifImagePlugin.getdata(picture, (int(columns[0]), int(rows[0])),
                                           include_color_table=True))
    control = b"!\xf9\x04" + struct.pack("<BHBB", 1, delay, transparent, 0)  # 1: transparency
    return whole, control, data


def _palette(colours: np.ndarray):
    """A "P" image whose palette holds at most 255 colours for these (N, 3) uint8 colours."""
    if len(colours) == 0:
        colours = np.zeros((1, 3), np.uint8)
    strip = Image.fromarray(np.ascontiguousarray(colours[None]), "RGB")
    return strip.quantize(255, method=Image.Quantize.FASTOCTREE)


class _Webp:
    """Animated WebP assembled from still frames that Pillow encodes (libwebp's animation encoder
    merges equal consecutive frames, which would change the frame count): every frame covers the
    whole canvas and replaces it, alpha included (no blending), lasting its exact share of ms."""

    def __init__(self, writer: AnimationWriter):
        self.writer, self.alpha = writer, False
        self.file = open(writer.temporary, "wb")
        self.file.write(bytes(44))                       # RIFF, VP8X and ANIM: at close
        self.jobs = _InOrder(self.file.write)
        quality = writer.quality                         # lossless: libwebp's default effort
        self.options = (dict(lossless=True, quality=75, method=4, exact=True)
                        if quality is None or quality == 100 else dict(quality=quality, method=6))

    prepare = staticmethod(to_8bit)

    def add(self, pixels: np.ndarray, index: int) -> None:
        self.alpha |= bool((pixels[..., 3] < 255).any())
        duration = tick(index + 1, self.writer.rate, 1000) - tick(index, self.writer.rate, 1000)
        self.jobs.submit(_webp_frame, pixels, duration, self.options)

    def close(self) -> None:
        self.jobs.finish()
        width, height = self.writer.size
        flags = 0x02 | (0x10 if self.alpha else 0)       # animation, alpha
        header = (b"RIFF" + struct.pack("<I", self.file.tell() - 8) + b"WEBP" +
                  _riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + _u24(width - 1) +
                              _u24(height - 1)) +
                  _riff_chunk(b"ANIM", struct.pack("<IH", 0, 0 if self.writer.loop else 1)))
        self.file.seek(0)
        self.file.write(header)                          # background transparent; loop 0: forever
        self.file.close()

    def abort(self) -> None:
        self.jobs.cancel()
        self.file.close()


def _webp_frame(pixels: np.ndarray, duration: int, options: dict) -> bytes:
    """The ANMF chunk of one whole-canvas frame: Pillow's still WebP bitstream, replacing the
    canvas (no blending) for `duration` ms."""
    still = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(still, format="WEBP", **options)
    frame = b"".join(_riff_chunk(kind, data) for kind, data in _riff_chunks(still.getvalue())
                     if kind in (b"ALPH", b"VP8 ", b"VP8L"))
    height, width = pixels.shape[:2]
    header = _u24(0) + _u24(0) + _u24(width - 1) + _u24(height - 1) + _u24(duration)
    return _riff_chunk(b"ANMF", header + b"\x02" + frame)     # flags: no blending, no disposal


def _u24(value: int) -> bytes:
    return value.to_bytes(3, "little")


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + b"\x00" * (len(data) & 1)


def _riff_chunks(data: bytes):
    """(fourcc, payload) of each chunk in a RIFF WEBP file."""
    offset = 12
    while offset + 8 <= len(data):
        kind, length = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        yield kind, data[offset + 8:offset + 8 + length]
        offset += 8 + length + (length & 1)


# x264: "slow" gives ~5% smaller files than "medium" at the same CRF for ~15% more time; threads
# are fixed because x264's output depends on their number (4: near full speed on 2..8 cores).
MP4_PRESET, MP4_THREADS = "slow", 4


class _Mp4:
    """H.264 through the ffmpeg that imageio-ffmpeg ships: 16-bit RGB piped in and converted to
    yuv420p with the BT.709 matrix (tagged so, for browsers) by ffmpeg's accurate scaler, a
    constant frame rate, the index up front (faststart), and no timestamps or version strings in
    the container (bitexact), so the same frames give the same bytes."""

    def __init__(self, writer: AnimationWriter):
        try:
            import imageio_ffmpeg  # only for MP4
            executable = imageio_ffmpeg.get_ffmpeg_exe()
        except (ImportError, RuntimeError) as problem:
            raise error(f"MP4 export needs ffmpeg: {problem}", stage=RUNTIME,
                        hint="pip install imageio-ffmpeg (it ships ffmpeg)") from None
        width, height = writer.size
        self.padded = (width + width % 2, height + height % 2)
        crf = writer.quality                             # the format's default: 18
        rate = writer.rate
        command = [
            executable, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgb48le", "-s", "{}x{}".format(*self.padded),
            "-framerate", f"{rate.numerator}/{rate.denominator}", "-i", "pipe:0",
            "-vf", "scale=out_color_matrix=bt709:out_range=tv"
                   ":flags=accurate_rnd+full_chroma_int+bitexact,format=yuv420p,"
                   "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv",
            "-c:v", "libx264", "-preset", MP4_PRESET, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-threads", str(MP4_THREADS), "-movflags", "+faststart",
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
            "-f", "mp4", str(writer.temporary)]
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=self.log)

    @staticmethod
    def prepare(image: np.ndarray) -> bytes:
        """rgb48le over black, an odd width or height padded by repeating the last column / row."""
        rgb = over_black(image)
        height, width = rgb.shape[:2]
        if width % 2 or height % 2:
            rgb = np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
        return to_16bit(rgb).astype("<u2").tobytes()

    def add(self, frame: bytes, index: int) -> None:
        try:
            self.process.stdin.write(frame)
        except (BrokenPipeError, OSError):
            self._finish()

    def close(self) -> None:
        self._finish()

    def _finish(self) -> None:
        try:
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        if self.process.wait() != 0:
            self.log.seek(0)
            message = self.log.read().decode("utf-8", "replace").strip().splitlines()
            raise error("ffmpeg failed to encode the MP4: " + (message[-1] if message else
                        f"exit status {self.process.returncode}"), stage=RUNTIME)
        self.log.close()

    def abort(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        self.log.close()


_ENCODERS = {"gif": _Gif, "webp": _Webp, "mp4": _Mp4}


def _format(name: str, kind: str) -> Format:
    found = FORMATS.get(name)
    if found is None or found.kind != kind:
        names = ", ".join(f.name for f in FORMATS.values() if f.kind == kind)
        raise error(f"`{name}` is not a{'n' * (kind == 'animation')} {kind} format", stage=USAGE,
                    hint=f"the {kind} formats are {names}")
    return found


def check_quality(format: Format, quality: int | None) -> int | None:
    """`quality`, checked against the format's range, or the format's default."""
    if quality is None:
        return format.default_quality
    if format.quality_range is None:
        raise error(f"quality has no effect on {format.name}", stage=USAGE,
                    hint="formats with a quality setting: " +
                         ", ".join(f.name for f in FORMATS.values() if f.quality_range))
    low, high = format.quality_range
    if isinstance(quality, bool) or not isinstance(quality, int) or not low <= quality <= high:
        raise error(f"{format.name} quality must be a whole number from {low} to {high}, "
                    f"got {quality!r}", stage=USAGE, hint=format.quality)
    return quality


# ----------------------------------------------------------------------------------------------
# Contact sheets and sidecars


def contact_sheet(images, labels=None, columns: int | None = None,
                  cell: int | tuple[int, int] | None = None,
                  background=(0.1, 0.1, 0.1, 1.0)) -> np.ndarray:
    """A grid of float RGBA images (row by row) as one float RGBA image, each composited over
    `background`, centred in its cell and, if `labels`, captioned underneath.

    `cell` (width, height, or one number for both) shrinks larger images to fit, keeping their
    shape (area averaging); by default a cell is as large as the largest image. `columns` defaults
    to a near-square grid.

    >>> frames = [np.full((30, 40, 4), v, np.float32) for v in (0.25, 0.5, 0.75)]
    >>> sheet = contact_sheet(frames, [f"frame {i}" for i in range(3)], columns=3, cell=20)
    >>> sheet.shape, sheet.dtype
    ((36, 68, 4), dtype('float32'))
    """
    images = [np.asarray(image, np.float32) for image in images]
    if not images:
        raise error("a contact sheet needs at least one image", stage=RUNTIME)
    if labels is not None and len(labels) != len(images):
        raise error(f"{len(labels)} labels for {len(images)} images", stage=RUNTIME)
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    if cell is None:
        cell = (max(i.shape[1] for i in images), max(i.shape[0] for i in images))
    cell_width, cell_height = (cell, cell) if isinstance(cell, int) else cell
    gap = max(2, min(cell_width, cell_height) // 32)
    font_size = max(10, min(32, cell_width // 16))
    font = ImageFont.load_default(size=font_size)
    label_height = font_size + gap if labels is not None else 0
    pitch_x, pitch_y = cell_width + gap, cell_height + label_height + gap
    sheet = np.empty((gap + rows * pitch_y, gap + columns * pitch_x, 4), np.float32)
    sheet[...] = np.asarray(background, np.float32)
    captions = Image.new("L", (sheet.shape[1], sheet.shape[0]))
    draw = ImageDraw.Draw(captions)
    for number, image in enumerate(images):
        image = _fit(image, cell_width, cell_height)
        height, width = image.shape[:2]
        left = gap + (number % columns) * pitch_x + (cell_width - width) // 2
        top = gap + (number // columns) * pitch_y + (cell_height - height) // 2
        target = sheet[top:top + height, left:left + width]
        target[...] = _over(image, target)
        if labels is not None:
            text = _shorten(str(labels[number]), font, cell_width)
            centre = (gap + (number % columns) * pitch_x + cell_width / 2,
                      gap + (number // columns) * pitch_y + cell_height + gap / 2)
            draw.text(centre, text, fill=255, font=font, anchor="mt")
    ink = np.asarray(captions, np.float32)[..., None] / 255
    sheet[..., :3] += (_label_colour(background) - sheet[..., :3]) * ink
    sheet[..., 3:] += (1 - sheet[..., 3:]) * ink
    return sheet


def _fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Shrink (never enlarge) to fit width x height, averaging premultiplied colour over areas."""
    scale = min(width / image.shape[1], height / image.shape[0])
    if scale >= 1:
        return image
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    alpha = np.clip(image[..., 3], 0, 1)
    planes = [*(np.clip(image[..., c], 0, 1) * alpha for c in range(3)), alpha]
    small = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(p), "F")
                                 .resize(size, Image.Resampling.BOX)) for p in planes], axis=-1)
    covered = small[..., 3:]
    small[..., :3] = np.divide(small[..., :3], covered, out=np.zeros_like(small[..., :3]),
                               where=covered > 0)
    return small


def _over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Straight-alpha `top` over `bottom`."""
    top = np.clip(np.nan_to_num(top), 0, 1)
    alpha, under = top[..., 3:], bottom[..., 3:] * (1 - top[..., 3:])
    total = alpha + under
    colour = np.divide(top[..., :3] * alpha + bottom[..., :3] * under, total,
                       out=np.zeros_like(top[..., :3]), where=total > 0)
    return np.concatenate([colour, total], axis=-1)


def _label_colour(background) -> np.ndarray:
    """Light text on a dark background, dark on a light one."""
    light = np.dot(np.asarray(background[:3], np.float32), [0.2126, 0.7152, 0.0722]) < 0.5
    return np.full(3, 0.92 if light else 0.08, np.float32)


def _shorten(text: str, font, width: int) -> str:
    """`text`, cut short with an ellipsis to fit `width` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def write_sidecar(path: Path | str, metadata: dict) -> Path:
    """Write `metadata` as JSON (sorted keys, indented) beside `path`, atomically; returns the
    sidecar's path."""
    target = sidecar_path(path)
    text = json.dumps(metadata, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    write_bytes(text.encode("utf-8"), target)
    return target
