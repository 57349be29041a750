"""`artlang export`: every frame of an animation, every combination of a sweep, or a data set.

A `Job` plans the export: its *units* (one frame of one variation), where each one's bytes go,
and the recipe each file will record. It runs the units that are not done yet on a backend
(`backends`): here, drawn from the program the job has already loaded and checked, or elsewhere
from a self-contained `UnitSpec`; the bytes are the same either way. The parent writes each result
atomically where it belongs: a frame file of a sequence, or a cached frame of an animation (GIF,
WebP, MP4) that goes to its encoder as soon as the frames before it are there (`animations`). A
unit whose file is already there with the same recipe is not rendered again, so an export that
was interrupted (Ctrl-C, SIGTERM, a crash, SIGKILL) resumes where it stopped and ends with the
same bytes as one that never stopped. Nothing here prints: progress goes to a callback.
"""
from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


from artlang.core.errors import USAGE, ArtError, error
from artlang.core.files import write_bytes
from artlang.core.limits import Limits
from artlang.export.animations import Animations, frame_cache
from artlang.export.backends import Backend
from artlang.export.units import (
    FRAME_CACHE,
    FrameOutput,
    Rendered,
    Renderers,
    UnitSpec,
    draw_frames,
    in_project,
)
from artlang.export.variations import Variation
from artlang.language import ir
from artlang.output.formats import FORMATS, sidecar_path
from artlang.output.encoders import check_quality, frame_name, write_sidecar
from artlang.output.writers import png_bit_depth, png_text
from artlang.output.provenance import STDLIB_PREFIX, Recipe, file_hash
from artlang.runtime.render import (
    Renderer,
    bind_params,
    frame_count,
    load_sketch,
    param_as_text,
)

MODEL_CHUNK = 8             # frames of a sketch that decodes a moving latent, rendered together


@dataclass
class Unit:
    """One frame of one variation, and where its bytes go."""
    variation: Variation
    frame: int
    target: Path
    recipe: Recipe = field(repr=False)   # what its file records (text chunk or sidecar)
    key: str = ""                        # the recipe's digest: a file recording it is this unit


@dataclass
class Result:
    written: list[Path] = field(default_factory=list)    # final files (frames, animations, sheet)
    rendered: int = 0
    reused: int = 0
    seconds: float = 0.0


class Job:
    """An export: which units, where their bytes go, and how the outputs are assembled."""

    def __init__(self, sketch: Path, output: Path, *, format: str, variations: list[Variation],
                 frames: Sequence[int] | None = None, size=None, quality=None, root=None,
                 limits: Limits | None = None, trust: bool = False):
        """`frames`: which frames (a `range` or a list); all of them by default."""
        self.sketch, self.output, self.format = Path(sketch), Path(output), format
        self.kind = FORMATS[format].kind
        self.quality, self.limits, self.trust = quality, limits or Limits.from_environment(), trust
        self.root = Path(root) if root else self.sketch.resolve().parent
        self.program = load_sketch(self.sketch, self.root, limits=self.limits)
        # frames that decode a moving latent go out in chunks, decoded in one batch per chunk
        self.chunk = MODEL_CHUNK if any(
            isinstance(node, ir.BuiltinCall) and node.builtin.lookahead and node.animated
            for node in ir.reachable(self.program)) else 1
        self.fps = self.program.settings.fps
        count = frame_count(self.program, self.limits)       # before anything grows with it
        self.frames = _frames_inside(range(count) if frames is None else frames, count)
        self.limits.check_export_frames(len(variations), len(self.frames))
        self.variations = variations
        _check_output_settings(format, quality, self.fps)
        self.frame_output = FrameOutput(self.frame_format, quality,
                                       format if self.kind == "animation" else None)
        # the first variation's renderer: it checks the canvas and params, gives the sources and
        # input hashes every variation shares, and draws that variation's frames here
        first = Renderer(self.program, size=size, seed=variations[0].seed,
                         params=dict(variations[0].params), limits=self.limits, trust=trust)
        self.size = (first.canvas.width, first.canvas.height)
        shared = Recipe.of(first, 0)                        # reads the input files once
        self._here = Renderers()                             # renderers drawing units here
        self._keys: dict[int, str] = {}                      # id(variation) -> its renderer's key
        self._units_of: dict[int, list[Unit]] = {}           # id(variation) -> its units, in order
        self._images: dict[str, bytes] | None = None         # input bytes, read for the first spec
        self.units: list[Unit] = []
        many = len(variations) > 1
        for variation in variations:
            recipe = self._recipe_of(variation, shared)
            self._keys[id(variation)] = recipe.digest()
            units = self._units_of[id(variation)] = []
            for frame in self.frames:
                framed = dataclasses.replace(recipe, frame=frame)
                units.append(Unit(variation, frame, self.unit_path(variation, frame, many), framed,
                                  framed.digest()))
            self.units.extend(units)
        self._here.add(self._keys[id(variations[0])], first)
        targets = [unit.target for unit in self.units]
        if len(set(targets)) != len(targets):
            raise error("two variations would write the same file", stage=USAGE,
                        hint="give the sweep values that differ in their first 9 digits")

    def _recipe_of(self, variation: Variation, shared: Recipe) -> Recipe:
        """The frame-0 recipe of a variation: `shared` with its seed and params (checked), as
        `Recipe.of` would record them, without compiling a renderer for it."""
        seed = self.program.settings.seed if variation.seed is None else int(variation.seed)
        values = bind_params(self.program, dict(variation.params))
        params = {name: param_as_text(self.program.params[name].kind, value)
                  for name, value in values.items()}
        return dataclasses.replace(shared, seed=seed, params=params)

    @property
    def frame_format(self) -> str:
        return self.format if self.kind == "sequence" else FRAME_CACHE

    # where things go ──────────────────────────────────────────────────────────────────────────
    def variation_path(self, variation: Variation, many: bool) -> Path:
        """The output of one variation: the output itself, or with the variation's slug added."""
        if not many:
            return self.output
        name = variation.slug or f"{variation.index:0{len(str(len(self.variations) - 1))}d}"
        return self.output.with_name(f"{self.output.stem}_{name}{self.output.suffix}")

    def unit_path(self, variation: Variation, frame: int, many: bool) -> Path:
        base = self.variation_path(variation, many)
        if self.kind == "sequence":
            if len(self.frames) == 1 and self.program.settings.frames == 1:
                return base
            return frame_name(base, frame, self.program.settings.frames)
        return frame_cache(base) / f"{frame:06d}.png"

    def remove_leftovers(self) -> None:
        """Temporary files of a run that was killed before it could rename them into place."""
        many = len(self.variations) > 1
        targets = [unit.target for unit in self.units] + \
            [self.variation_path(v, many) for v in self.variations]
        names_in: dict[Path, set[str]] = {}
        for target in targets:
            names_in.setdefault(target.parent, set()).add(target.name)
        for folder, names in names_in.items():
            if not folder.is_dir():
                continue
            for leftover in folder.glob(".*.tmp"):          # `.NAME.RANDOM.tmp` (mkstemp's)
                if leftover.name[1:-len(".tmp")].rsplit(".", 1)[0] in names:
                    leftover.unlink(missing_ok=True)

    def variation_units(self, variation: Variation) -> list[Unit]:
        """Its units, looked up (an animation asks for them at every frame it receives)."""
        return self._units_of[id(variation)]

    # resuming ─────────────────────────────────────────────────────────────────────────────────
    def animation_key(self, variation: Variation) -> str:
        """What an animation file was made from: its frames' recipes, format, quality, fps."""
        keys = [unit.key for unit in self.variation_units(variation)]
        return file_hash(json.dumps([keys, self.format, self.quality, self.fps]).encode())

    def finished(self, variation: Variation) -> bool:
        """Whether an animation is already there, made from exactly these frames and settings."""
        target = self.variation_path(variation, len(self.variations) > 1)
        sidecar = sidecar_path(target)
        try:
            return target.is_file() and json.loads(sidecar.read_text())["job"] == \
                self.animation_key(variation)
        except (OSError, ValueError, KeyError, TypeError, RecursionError):   # foreign or damaged
            return False

    def pending(self) -> list[Unit]:
        """The units whose file is missing or holds another recipe."""
        done = {id(v) for v in self.variations if self.kind == "animation" and self.finished(v)}
        bits = 16 if self.format == "png16" else 8
        return [unit for unit in self.units if id(unit.variation) not in done
                and not _holds(unit.target, unit.key, bits, self.quality)]

    # running ──────────────────────────────────────────────────────────────────────────────────
    def run(self, backend: Backend, progress: Callable[[int, int], None] = lambda d, t: None
            ) -> Result:
        started = time.perf_counter()
        result = Result()
        self.remove_leftovers()
        todo = self.pending()
        result.reused = len(self.units) - len(todo)
        done = result.reused
        progress(done, len(self.units))
        animations = Animations(self, todo) if self.kind == "animation" else None
        try:
            for unit, (data, prepared) in self._rendered(backend, todo):
                write_bytes(data, unit.target)
                if self.format == "jpeg":              # its recipe, so a resumed run can reuse it
                    write_sidecar(unit.target, {"recipe": unit.recipe.to_dict(),
                                                "quality": self.quality})
                if animations is not None:
                    animations.arrived(unit, prepared)
                result.rendered += 1
                done += 1
                progress(done, len(self.units))
            if animations is not None:
                animations.finish()
        except BaseException:
            if animations is not None:
                animations.abort()
            raise
        result.written = [u.target for u in self.units] if animations is None else \
            [self.variation_path(v, len(self.variations) > 1) for v in self.variations]
        result.seconds = time.perf_counter() - started
        return result

    def _rendered(self, backend: Backend, todo: list[Unit]):
        """The backend's results in chunks of consecutive frames of one variation, with errors
        pointing at the project's files (a spec is loaded from a temporary copy of them)."""
        chunks: list[list[Unit]] = []
        for unit in todo:
            if chunks and len(chunks[-1]) < self.chunk and chunks[-1][-1].variation is unit.variation:
                chunks[-1].append(unit)
            else:
                chunks.append([unit])
        try:
            for chunk, results in backend.run(self, chunks):
                yield from zip(chunk, results)
        except ArtError as failure:
            raise in_project(failure, self.root) from None

    def render_here(self, units: list[Unit]) -> list[Rendered]:
        """Consecutive frames of one variation drawn in this process, by a renderer built from
        the job's checked program (nothing is laid out on disk or loaded again)."""
        return draw_frames([(self._renderer_of(unit), unit.recipe) for unit in units],
                           self.frame_output)

    def specs(self, units: list[Unit]) -> list[UnitSpec]:
        """The units as self-contained specs, for a backend that draws them elsewhere."""
        if self._images is None:               # read once, shared by every spec
            self._images = {name: (self.root / name).read_bytes()
                            for name in self.units[0].recipe.inputs
                            if not name.startswith(STDLIB_PREFIX)}
        return [UnitSpec(unit.recipe.to_text(), self._keys[id(unit.variation)], self.frame_output,
                         self.limits, self.trust, self._images) for unit in units]

    def picture(self, unit: Unit):
        """A unit's picture (RGBA float32), drawn here again (for a contact sheet)."""
        renderer = self._renderer_of(unit)
        renderer.upcoming = ()
        return renderer.render(unit.frame)

    def _renderer_of(self, unit: Unit) -> Renderer:
        recipe = unit.recipe
        return self._here.get(self._keys[id(unit.variation)], lambda: (Renderer(
            self.program, size=tuple(recipe.size), seed=recipe.seed, params=recipe.params,
            limits=self.limits, trust=self.trust), None))


def _check_output_settings(format: str, quality, fps: float) -> None:
    """Refuse a quality or frame rate the format cannot take before anything is rendered."""
    check_quality(FORMATS[format], quality)
    most = FORMATS[format].max_fps
    if most is not None and fps > most:
        raise error(f"a {format.upper()} plays at most {most:g} fps; the sketch has fps {fps:g}",
                    stage=USAGE, hint="export .webp or .mp4, or lower the sketch's fps")


def _frames_inside(frames: Sequence[int], count: int) -> list[int]:
    """`frames` as a list, once each is known to be one of the animation's `count` frames (which
    are within the frame limit). The first frame outside stops the check, so a range as long as
    `0..1000000000` is refused after at most `count` steps, before any list of it is made."""
    outside = next((frame for frame in frames if not 0 <= frame < count), None)
    if outside is not None:
        raise error(f"frame {outside} is outside the animation (frames 0..{count - 1})", stage=USAGE)
    return list(frames)


def _holds(path: Path, key: str, bits: int, quality) -> bool:
    """Whether `path` is a finished frame of the same recipe (its text chunk or sidecar says so),
    at the same bit depth (PNG) or quality (JPEG)."""
    if not path.is_file():
        return False
    try:
        if path.suffix.lower() != ".png":
            sidecar = json.loads(sidecar_path(path).read_text())
            recipe = Recipe.from_text(json.dumps(sidecar["recipe"]))
            return recipe.digest() == key and sidecar.get("quality") == quality
        text = png_text(path, "artlang:recipe")           # (our files are renamed in whole)
        return png_bit_depth(path) == bits and text is not None and \
            Recipe.from_text(text).digest() == key
    except Exception:              # unreadable, truncated or foreign: render it again
        return False
