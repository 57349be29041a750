"""The output formats: one table that the commands, the writers, the encoders, the recipe and the
docs all read (which extensions, which command writes them, where the recipe goes, whether the
pixels read back exactly).

>>> suffixes_written_by("render"), suffixes_written_by("watch")
(('.png', '.tif', '.tiff'), ('.png',))
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from artlang.core.errors import USAGE, error


@dataclass(frozen=True)
class Format:
    """One output format, as the commands, the writers, the recipe and the docs see it."""

    name: str
    extensions: tuple[str, ...]           # the first is the one to suggest
    kind: str                             # "sequence" (a file per frame), "animation" (one file) or
                                          # "image" (one frame: render only)
    doc: str                              # one line for --help and the docs
    bits: int = 8                         # bits per channel written
    alpha: bool = True                    # False: composited over black
    quality: str | None = None            # what --quality does; None: no effect
    quality_range: tuple[int, int] | None = None
    default_quality: int | None = None    # None: the format's best (lossless WebP)
    max_fps: float | None = None
    sidecar: bool = True                  # metadata in `NAME.json` (PNG keeps it in text chunks)
    recipe: str = "sidecar"               # where the recipe lives: "chunks" (PNG text chunks),
                                          # "description" (the TIFF's), or "sidecar" (`NAME.json`)
    exact: bool = False                   # the pixels read back exactly (reproduce compares them)
    whole: bool = True                    # written from a whole canvas in memory
    streams: bool = False                 # written band by band from tiles, in bounded memory
    written_by: tuple[str, ...] = ("export",)   # the commands that write it
    title: str = ""                       # its name in messages: "WebP", "16-bit PNG"


FORMATS: dict[str, Format] = {f.name: f for f in [
    Format("png", (".png",), "sequence", "8-bit PNG per frame, metadata in its text chunks",
           title="PNG", sidecar=False, recipe="chunks", exact=True, streams=True,
           written_by=("render", "watch", "reproduce", "export")),
    Format("png16", (".png",), "sequence", "16-bit PNG per frame (--bits 16), for grading",
           title="16-bit PNG", bits=16, sidecar=False, recipe="chunks", exact=True),
    Format("tiff", (".tif", ".tiff"), "image", "8-bit TIFF drawn in tiles, metadata in its "
           "description", title="TIFF", sidecar=False, recipe="description", exact=True,
           whole=False, streams=True, written_by=("render",)),
    Format("jpeg", (".jpg", ".jpeg"), "sequence", "JPEG per frame, over black",
           title="JPEG", alpha=False, quality="JPEG quality 1..100, default 92; 4:4:4 chroma from 90 up",
           quality_range=(1, 100), default_quality=92),
    Format("gif", (".gif",), "animation",
           "looping GIF, an adaptive 255-colour palette per frame, dithered; 1-bit transparency",
           title="GIF", max_fps=50),
    Format("webp", (".webp",), "animation", "looping animated WebP with alpha, lossless by default",
           title="WebP", quality="lossy WebP at quality 1..99; 100 or none: lossless",
           quality_range=(1, 100)),
    Format("mp4", (".mp4",), "animation",
           "H.264 MP4 (yuv420p, BT.709) for any browser; over black, odd sizes padded to even",
           title="MP4", alpha=False, quality="x264 CRF 0..51, lower is better: 18 (default) looks "
           "lossless, 23 is ffmpeg's default, 28 small", quality_range=(0, 51), default_quality=18),
]}


def format_for(path: Path | str, bits: int = 8) -> str:
    """The name of the format `artlang export` writes to a file, by its extension (`.png` with
    `bits=16` is "png16").

    >>> format_for("out/glow.webp"), format_for("a.JPG"), format_for("f.png", bits=16)
    ('webp', 'jpeg', 'png16')
    """
    suffix = Path(path).suffix.lower()
    exported = [f for f in FORMATS.values() if "export" in f.written_by]
    names = [f.name for f in exported if suffix in f.extensions and f.bits == bits]
    if names:
        return names[0]
    known = ", ".join(dict.fromkeys(e for f in exported for e in f.extensions))
    if bits not in (8, 16) or any(suffix in f.extensions for f in exported):
        sixteen = [f.extensions[0] for f in exported if f.bits == 16]
        raise error(f"{bits} bits per channel is not available for `{suffix}`", stage=USAGE,
                    hint=f"16 bits per channel is for {', '.join(sixteen)}; others are 8-bit")
    raise error(f"unknown output format `{suffix or Path(path).name}`", stage=USAGE,
                hint=f"use one of the extensions {known}")


def suffixes_written_by(command: str, *, streaming: bool = False) -> tuple[str, ...]:
    """The extensions `command` writes (only those written band by band, with `streaming`)."""
    return tuple(dict.fromkeys(suffix for f in FORMATS.values() if command in f.written_by
                               and (f.streams or not streaming) for suffix in f.extensions))


def format_of(path: Path | str, command: str) -> Format:
    """The format `command` writes to `path`, by its extension; a usage error naming what it
    writes otherwise."""
    suffix = Path(path).suffix.lower()
    for candidate in FORMATS.values():
        if command in candidate.written_by and suffix in candidate.extensions and candidate.bits == 8:
            return candidate
    raise error(f"cannot write `{Path(path).name}`: {command} writes {_listed(command)}",
                stage=USAGE, hint=_write_hint(command))


def refuse_unwritable(path: Path | str, command: str) -> None:
    """A usage error unless `command` writes files like `path`."""
    format_of(path, command)


def _listed(command: str) -> str:
    firsts = [f.extensions[0] for f in FORMATS.values() if command in f.written_by and f.bits == 8]
    return " or ".join(firsts)


def _write_hint(command: str) -> str:
    hint = f"use -o NAME{FORMATS['png'].extensions[0]}"
    others = [f.title for f in FORMATS.values()
              if command not in f.written_by and "export" in f.written_by and f.bits == 8]
    if command == "render" and others:
        hint += f"; for {', '.join(others[:-1])} or {others[-1]} use `artlang export`"
    return hint


def sidecar_path(path: Path | str) -> Path:
    """Where a file's metadata goes when its format has no room for it.

    >>> sidecar_path("out/glow.mp4").as_posix()
    'out/glow.mp4.json'
    """
    path = Path(path)
    return path.with_name(path.name + ".json")
