"""A unit of an export, one frame of one variation, drawn into the bytes of its file.

In this process a job draws its units with renderers built from the program it has already
loaded and checked. Elsewhere (worker processes, a Dask cluster) a unit travels as a `UnitSpec`:
self-contained, it carries the frame's recipe (the sketch's sources, seed, params, size, frame)
and the bytes of the images it reads, so the machine that draws it needs artlang but not the
project's files; `render_units` lays the recipe out in a temporary folder, loads it, and keeps a
few such renderers between calls. Both ways end in `draw`, and the recipe a file records is the
unit's own, so a unit gives the same bytes wherever it ran.
"""
from __future__ import annotations

import atexit
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from artlang.core.errors import ArtError
from artlang.core.limits import Limits
from artlang.kernels.pixels import to_8bit
from artlang.language.project import display_name
from artlang.output.encoders import prepare_frame
from artlang.output.provenance import Recipe
from artlang.output.writers import encode_jpeg, encode_png, encode_png_fast
from artlang.runtime.render import Renderer, load_sketch

FRAME_CACHE = "frame-cache"     # the format of an animation's frame, cached on disk until encoded
KEPT_RENDERERS = 4              # renderers a process keeps (one per variation it is working on)
UNIT_FOLDER = "artlang-unit-"   # the prefix of the temporary folder a spec is laid out in

Rendered = tuple[bytes, object]  # a unit's file, and for an animation's frame also the frame as
                                 # its encoder takes it (`encoders.prepare_frame`), else None


@dataclass(frozen=True)
class FrameOutput:
    """What a unit's bytes are: the same for every unit of a job."""
    format: str                 # "png", "png16", "jpeg", or FRAME_CACHE for an animation's frame
    quality: int | None         # the export's --quality (JPEG, or the animation's encoder)
    animation: str | None       # the animation's format ("gif", "webp", "mp4") a frame is for


@dataclass(frozen=True)
class UnitSpec:
    """One unit, self-contained, as it crosses to another process or machine (picklable)."""
    recipe: str                 # the frame's `Recipe` as text: sources, input hashes, seed,
                                #   params, size and frame; also what its file records
    variation: str              # its variation's key (the digest of its frame-0 recipe): units
                                #   with the same key share one loaded renderer
    output: FrameOutput
    limits: Limits              # the command's limits, kept by the worker that loads it
    trust: bool                 # model files that run code when loaded may be loaded (--trust)
    images: dict[str, bytes] = field(repr=False)   # the bytes of each input the recipe names


class Renderers:
    """The renderers a process keeps between units, the last `keep` variations it started, each
    with the temporary folder it was loaded from, if any (removed when it is dropped)."""

    def __init__(self, keep: int = KEPT_RENDERERS):
        self.keep = keep
        self._kept: dict[str, tuple[Renderer, Path | None]] = {}

    def get(self, key: str, build: Callable[[], tuple[Renderer, Path | None]]) -> Renderer:
        """The renderer kept under `key`, or the one `build` makes now."""
        if key not in self._kept:
            self.add(key, *build())
        return self._kept[key][0]

    def add(self, key: str, renderer: Renderer, folder: Path | None = None) -> None:
        while len(self._kept) >= self.keep:
            self._drop(next(iter(self._kept)))
        self._kept[key] = (renderer, folder)

    def clear(self) -> None:
        while self._kept:
            self._drop(next(iter(self._kept)))

    def _drop(self, key: str) -> None:
        folder = self._kept.pop(key)[1]
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def draw(renderer: Renderer, recipe: Recipe, output: FrameOutput, upcoming=()) -> Rendered:
    """The frame of `recipe`, drawn by `renderer` (built from the same recipe), as the bytes of
    its file (with the recipe in its text chunks). `upcoming`: the frames drawn next by this
    process, whose latents a model decodes in the same batch."""
    renderer.upcoming = tuple(upcoming)
    image = renderer.render(recipe.frame)
    data = encode_frame(image, output.format, recipe.png_text(), output.quality)
    if output.format != FRAME_CACHE:
        return data, None
    return data, prepare_frame(output.animation, _as_cached(image), image.shape[1::-1])


def draw_frames(drawings: list[tuple[Renderer, Recipe]], output: FrameOutput) -> list[Rendered]:
    """`draw` for each of consecutive frames of one variation, each told the frames after it."""
    frames = [recipe.frame for _, recipe in drawings]
    return [draw(renderer, recipe, output, frames[index + 1:])
            for index, (renderer, recipe) in enumerate(drawings)]


def _as_cached(image: np.ndarray) -> np.ndarray:
    """The canvas exactly as its cached 8-bit PNG reads back (`read_png`), so a frame rendered
    now and one resumed from the cache reach the encoder the same."""
    return to_8bit(image).astype(np.float32) / np.float32(255.0)


def encode_frame(image: np.ndarray, format: str, text: dict, quality=None) -> bytes:
    """One frame as the bytes of a file: png (as `artlang render` writes it), png16, jpeg, or
    `FRAME_CACHE` (a PNG built for speed: an animation's frame, read back once to be encoded)."""
    if format == "jpeg":
        return encode_jpeg(image, quality, text)
    if format == FRAME_CACHE:
        return encode_png_fast(image, text)
    return encode_png(image, text, bits=16 if format == "png16" else 8)


# ── units that came as specs (worker processes, Dask workers) ──────────────────────────────────
_loaded = Renderers()
atexit.register(_loaded.clear)


def render_units(specs: list[UnitSpec]) -> list[Rendered]:
    """Consecutive frames of one variation, each drawn from its spec. Runs in any process; the
    renderers loaded for them are kept for the next call."""
    drawings = []
    for spec in specs:
        recipe = Recipe.from_text(spec.recipe)
        drawings.append((_loaded.get(spec.variation, partial(_load, spec, recipe)), recipe))
    return draw_frames(drawings, specs[0].output)


def _load(spec: UnitSpec, recipe: Recipe) -> tuple[Renderer, Path]:
    """A renderer of the spec's variation, loaded from its recipe laid out in a new folder."""
    folder = Path(tempfile.mkdtemp(prefix=f"{UNIT_FOLDER}{os.getpid()}-"))   # whose: see `sweep`
    try:
        main = recipe.materialise(folder, images=spec.images)
        program = load_sketch(main, root=folder, limits=spec.limits)
        return Renderer(program, size=tuple(recipe.size), seed=recipe.seed, params=recipe.params,
                        limits=spec.limits, trust=spec.trust), folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def sweep_orphans() -> None:
    """Remove the spec folders of workers that are gone: a worker killed with its parent by
    SIGKILL (`kill -9` of an export) gets no chance to remove its own. A folder is named with the
    worker's process id; one whose process no longer exists is an orphan."""
    for folder in Path(tempfile.gettempdir()).glob(f"{UNIT_FOLDER}*-*"):
        owner = folder.name[len(UNIT_FOLDER):].split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:               # another user's process
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):         # no /proc here: it answered, so it runs
        return True


def forget_loaded() -> None:
    """Drop the renderers loaded from specs and remove their folders (a worker that ends)."""
    _loaded.clear()


def in_project(failure: ArtError, root: Path) -> ArtError:
    """The failure with file names in a spec's temporary folder turned back into the project's."""
    diagnostics = []
    for diagnostic in failure.diagnostics:
        span = diagnostic.span
        if span is not None and UNIT_FOLDER in span.file:
            parts = Path(span.file).parts
            index = next(i for i, part in enumerate(parts) if part.startswith(UNIT_FOLDER))
            name = display_name(root.joinpath(*parts[index + 1:]))
            diagnostic = dataclasses.replace(diagnostic, span=dataclasses.replace(span, file=name))
        diagnostics.append(diagnostic)
    return ArtError(diagnostics, failure.stage)
