"""`artlang export`: every frame of an animation, every combination of a sweep, or a data set.

A job is a list of *units* (one variation of seed and params, one frame), each rendered by
`render_unit` from a self-contained spec (the sketch's sources, the bytes of the images it reads,
seed, params, size, frame) so it can run here, in a worker process, or on a Dask cluster, and always
gives the same bytes. The parent writes each result atomically where it belongs: a frame file of a
sequence, or a cached frame of an animation (GIF, WebP, MP4) that is encoded once all its frames are
there. A unit whose file is already there with the same recipe is not rendered again, so an export
that was interrupted (Ctrl-C, a crash, SIGKILL) resumes where it stopped and ends with the same
bytes as one that never stopped. Nothing here prints: progress goes to a callback.
"""
from __future__ import annotations

import atexit
import dataclasses
import itertools
import json
import math
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from artlang.language import ir
from artlang.core.errors import USAGE, ArtError, error
from artlang.core.limits import Limits
from artlang.output.provenance import picture_text

SPEC_CACHE = 4                 # renderers a worker keeps (one per variation it is working on)


# ── variations: sweeps and data sets ──────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Variation:
    """One seed and set of param overrides; `slug` names its files, `label` its sheet cell."""
    seed: int | None
    params: tuple = ()              # ((name, value), ...) in the order given
    index: int = 0

    @property
    def label(self) -> str:
        parts = ([] if self.seed is None else [f"seed {self.seed}"]) + \
            [f"{name} {_short(value)}" for name, value in self.params]
        return ", ".join(parts)

    @property
    def slug(self) -> str:
        parts = ([] if self.seed is None else [f"seed{self.seed}"]) + \
            [f"{name}{_short(value)}" for name, value in self.params]
        return "_".join(part.replace("#", "") for part in parts)


def _short(value) -> str:
    return f"{value:.9g}" if isinstance(value, float) else str(value)


def _check_output_settings(format: str, quality, fps: float) -> None:
    """Refuse a quality or frame rate the format cannot take before anything is rendered."""
    from artlang.output.encoders import FORMATS, check_quality
    check_quality(FORMATS[format], quality)
    most = FORMATS[format].max_fps
    if most is not None and fps > most:
        raise error(f"a {format.upper()} plays at most {most:g} fps; the sketch has fps {fps:g}",
                    stage=USAGE, hint="export .webp or .mp4, or lower the sketch's fps")


def parse_seeds(text: str) -> Sequence[int]:
    """`7`, `1,5,9` or the inclusive range `0..99` (a `range`: counted before it is listed).

    >>> list(parse_seeds("0..3")), parse_seeds("4,2")
    ([0, 1, 2, 3], [4, 2])
    """
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split(".."))
            if high < low:
                raise ValueError
            return range(low, high + 1)
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise error(f"--seed {text}: expected a seed (7), a list (1,5,9) or a range (0..99)",
                    stage=USAGE) from None


def parse_values(name: str, text: str, limits: Limits | None = None) -> list | tuple:
    """A param's values in a sweep: `3`, `a,b,c`, `1..5:5` (five evenly spaced, ends included),
    or `1..5` without a count: a range sampled at random (for data sets), as ("random", 1, 5).
    A count over the export-frames limit is refused before the values are made.

    >>> parse_values("s", "1..2:3"), parse_values("s", "1..5")
    ([1.0, 1.5, 2.0], ('random', 1.0, 5.0))
    """
    try:
        if ".." in text:
            bounds, _, count = text.partition(":")
            low, high = (float(part) for part in bounds.split(".."))
            if not count:
                return ("random", low, high)
            count = int(count)
            if count < 1:
                raise ValueError
            (limits or Limits.from_environment()).check_export_frames(count)
            return [float(v) for v in np.linspace(low, high, count)] if count > 1 else [low]
    except ValueError:
        raise error(f"--param {name}={text}: expected VALUE, V1,V2,..., LOW..HIGH:COUNT or LOW..HIGH",
                    stage=USAGE) from None
    return [_number_or_text(part) for part in text.split(",")]


def _number_or_text(text: str):
    try:
        return float(text)
    except ValueError:
        return text.strip()


def sweep(seeds: Sequence[int] | None, params: dict[str, list],
          limits: Limits | None = None) -> list[Variation]:
    """Every combination of the seeds and param values (a random range is not allowed here),
    counted against the export-frames limit before any is made."""
    for name, values in params.items():
        if isinstance(values, tuple):
            raise error(f"--param {name}: give a count to sweep a range (LOW..HIGH:COUNT); a range "
                        "without one is sampled at random, in --dataset mode", stage=USAGE)
    names = list(params)
    (limits or Limits.from_environment()).check_export_frames(
        math.prod([len(seeds or [None]), *(len(values) for values in params.values())]))
    combos = itertools.product(seeds or [None], *(params[n] for n in names))
    return [Variation(seed, tuple(zip(names, values)), index)
            for index, (seed, *values) in enumerate(combos)]


def dataset(count: int, first_seed: int, params: dict[str, list | tuple],
            limits: Limits | None = None) -> list[Variation]:
    """`count` variations with seeds `first_seed`, `first_seed + 1`, ...; params given as a range
    are drawn uniformly from it, lists are drawn from, single values kept (all seeded: the same
    command gives the same data set)."""
    (limits or Limits.from_environment()).check_export_frames(count)
    variations = []
    for index in range(count):
        generator = np.random.default_rng([first_seed, index])
        chosen = []
        for name, values in params.items():
            if isinstance(values, tuple):
                chosen.append((name, float(np.float32(generator.uniform(values[1], values[2])))))
            else:
                chosen.append((name, values[int(generator.integers(len(values)))]))
        variations.append(Variation(first_seed + index, tuple(chosen), index))
    return variations


MODEL_CHUNK = 8             # frames of a sketch that decodes a moving latent, rendered together

# ── rendering one unit anywhere ───────────────────────────────────────────────────────────────
_renderers: dict = {}          # unit key -> (Renderer, its materialised project folder)


@atexit.register
def _forget_renderers() -> None:
    while _renderers:
        shutil.rmtree(_renderers.popitem()[1][1], ignore_errors=True)


def render_units(specs: list[dict]) -> list[tuple[bytes, object]]:
    """`render_unit` for each of consecutive frames of one variation, each told the frames that
    follow it here, so a model decodes their latents in one batch."""
    frames = [spec["frame"] for spec in specs]
    return [render_unit(spec, frames[index + 1:]) for index, spec in enumerate(specs)]


def render_unit(spec: dict, upcoming=()) -> tuple[bytes, object]:
    """The frame described by `spec` (see `Job.__init__`): (the bytes of its file, PNG (8 or 16
    bit) or JPEG with the picture's recipe; for an animation's frame, also the frame as its
    encoder takes it, else None). Runs in any process; keeps a few loaded renderers between calls."""
    from artlang.runtime.render import Renderer, load_sketch
    key = spec["renderer"]
    renderer = _renderers.get(key, (None,))[0]
    if renderer is None:
        import tempfile

        from artlang.output.provenance import Recipe
        recipe = Recipe.from_text(spec["recipe"])
        folder = tempfile.mkdtemp(prefix=UNIT_FOLDER)
        main = recipe.materialise(Path(folder), images=spec["images"])
        limits = Limits(**spec["limits"])
        program = load_sketch(main, root=folder, limits=limits)
        renderer = Renderer(program, size=tuple(recipe.size), seed=recipe.seed, params=recipe.params,
                            limits=limits, trust=spec["trust"])
        while len(_renderers) >= SPEC_CACHE:
            shutil.rmtree(_renderers.pop(next(iter(_renderers)))[1], ignore_errors=True)
        _renderers[key] = (renderer, folder)
    frame = spec["frame"]
    renderer.upcoming = tuple(upcoming)
    image = renderer.render(frame)
    data = encode_frame(image, spec["format"], picture_text(renderer, frame), spec.get("quality"))
    if spec["format"] != FRAME_CACHE:
        return data, None
    from artlang.output.encoders import prepare_frame
    return data, prepare_frame(spec["animation"], _as_cached(image), image.shape[1::-1])


def _as_cached(image: np.ndarray) -> np.ndarray:
    """The canvas exactly as its cached 8-bit PNG reads back (`read_png`), so a frame rendered
    now and one resumed from the cache reach the encoder the same."""
    from artlang.kernels.pixels import to_8bit
    return to_8bit(image).astype(np.float32) / np.float32(255.0)


def encode_frame(image: np.ndarray, format: str, text: dict, quality=None) -> bytes:
    """One frame as the bytes of a file: png (as `artlang render` writes it), png16, jpeg, or
    `FRAME_CACHE` (a PNG built for speed: an animation's frame, read back once to be encoded)."""
    if format == "jpeg":
        from artlang.output.encoders import encode_jpeg
        return encode_jpeg(image, quality, text)
    from artlang.output.writers import encode_png, encode_png_fast
    if format == FRAME_CACHE:
        return encode_png_fast(image, text)
    return encode_png(image, text, bits=16 if format == "png16" else 8)


FRAME_CACHE = "frame-cache"


# ── the job ───────────────────────────────────────────────────────────────────────────────────
@dataclass
class Unit:
    variation: Variation
    frame: int
    target: Path                  # where its bytes go
    spec: dict = field(repr=False, default_factory=dict)


@dataclass
class Result:
    written: list[Path] = field(default_factory=list)    # final files (frames, animations, sheet)
    rendered: int = 0
    reused: int = 0
    seconds: float = 0.0


def _frames_inside(frames: Sequence[int], count: int) -> list[int]:
    """`frames` as a list, once each is known to be one of the animation's `count` frames (which
    are within the frame limit). The first frame outside stops the check, so a range as long as
    `0..1000000000` is refused after at most `count` steps, before any list of it is made."""
    outside = next((frame for frame in frames if not 0 <= frame < count), None)
    if outside is not None:
        raise error(f"frame {outside} is outside the animation (frames 0..{count - 1})", stage=USAGE)
    return list(frames)


class Job:
    """An export: which units, where their bytes go, and how the outputs are assembled."""

    def __init__(self, sketch: Path, output: Path, *, format: str, variations: list[Variation],
                 frames: Sequence[int] | None = None, size=None, quality=None, root=None,
                 limits: Limits | None = None, trust: bool = False):
        """`frames`: which frames (a `range` or a list); all of them by default."""
        from artlang.output.encoders import FORMATS
        from artlang.runtime.render import Renderer, frame_count, load_sketch
        self.sketch, self.output, self.format = Path(sketch), Path(output), format
        self.kind = FORMATS[format].kind
        self.quality, self.limits = quality, limits or Limits.from_environment()
        self.root = Path(root) if root else self.sketch.resolve().parent
        self.program = load_sketch(self.sketch, self.root, limits=self.limits)
        settings = self.program.settings
        # frames that decode a moving latent go out in chunks, decoded in one batch per chunk
        self.chunk = MODEL_CHUNK if any(
            isinstance(node, ir.BuiltinCall) and node.builtin.lookahead and node.animated
            for node in ir.reachable(self.program)) else 1
        self.fps = settings.fps
        count = frame_count(self.program, self.limits)       # before anything grows with it
        self.frames = _frames_inside(range(count) if frames is None else frames, count)
        self.limits.check_export_frames(len(variations), len(self.frames))
        self.variations = variations
        self.units: list[Unit] = []
        self._units_of: dict[int, list[Unit]] = {}       # id(variation) -> its units, in frame order
        self._image_bytes: dict[str, bytes] = {}
        _check_output_settings(format, quality, self.fps)
        many = len(variations) > 1
        for variation in variations:
            renderer = Renderer(self.program, size=size, seed=variation.seed,
                                params=dict(variation.params), limits=self.limits)
            self.size = (renderer.canvas.width, renderer.canvas.height)
            from artlang.output.provenance import Recipe
            first = Recipe.of(renderer, 0)                   # read the files once per variation
            images, renderer_key = self._images(first), first.digest()
            for frame in self.frames:
                recipe = dataclasses.replace(first, frame=frame)
                spec = {"recipe": recipe.to_text(), "frame": frame, "format": self.frame_format,
                        "quality": quality, "limits": self.limits.as_dict(),
                        "key": recipe.digest(), "images": images, "renderer": renderer_key,
                        "animation": self.format if self.kind == "animation" else None,
                        "trust": trust}
                self.units.append(Unit(variation, frame, self.unit_path(variation, frame, many), spec))
                self._units_of.setdefault(id(variation), []).append(self.units[-1])
        targets = [unit.target for unit in self.units]
        if len(set(targets)) != len(targets):
            raise error("two variations would write the same file", stage=USAGE,
                        hint="give the sweep values that differ in their first 9 digits")

    @property
    def frame_format(self) -> str:
        return self.format if self.kind == "sequence" else FRAME_CACHE

    def _images(self, recipe) -> dict[str, bytes]:
        """The bytes of the images the recipe reads, read once per job and shared by all specs."""
        for name in recipe.inputs:
            if name not in self._image_bytes:
                self._image_bytes[name] = (self.root / name).read_bytes()
        return {name: self._image_bytes[name] for name in recipe.inputs}

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
            from artlang.output.encoders import frame_name
            return frame_name(base, frame, self.program.settings.frames)
        return frame_cache(base) / f"{frame:06d}.png"

    def remove_leftovers(self) -> None:
        """Temporary files of a run that was killed before it could rename them into place."""
        many = len(self.variations) > 1
        targets = [unit.target for unit in self.units] + \
            [self.variation_path(v, many) for v in self.variations]
        for folder in {target.parent for target in targets}:
            names = {target.name for target in targets if target.parent == folder}
            if not folder.is_dir():
                continue
            for leftover in folder.glob(".*.tmp"):
                if any(leftover.name.startswith(f".{name}.") for name in names):
                    leftover.unlink(missing_ok=True)

    def variation_units(self, variation: Variation) -> list[Unit]:
        """Its units, looked up (an animation asks for them at every frame it receives)."""
        return self._units_of[id(variation)]

    def animation_key(self, variation: Variation) -> str:
        """What an animation file was made from: its frames' recipes, format, quality, fps."""
        from artlang.output.provenance import file_hash
        keys = [unit.spec["key"] for unit in self.variation_units(variation)]
        return file_hash(json.dumps([keys, self.format, self.quality, self.fps]).encode())

    def finished(self, variation: Variation) -> bool:
        """Whether an animation is already there, made from exactly these frames and settings."""
        target = self.variation_path(variation, len(self.variations) > 1)
        sidecar = target.with_name(target.name + ".json")
        try:
            return target.is_file() and json.loads(sidecar.read_text())["job"] == \
                self.animation_key(variation)
        except (OSError, ValueError, KeyError, TypeError, RecursionError):   # foreign or damaged
            return False

    # running ──────────────────────────────────────────────────────────────────────────────────
    def pending(self) -> list[Unit]:
        """The units whose file is missing or holds another recipe."""
        done = {id(v) for v in self.variations if self.kind == "animation" and self.finished(v)}
        bits = 16 if self.format == "png16" else 8
        return [unit for unit in self.units if id(unit.variation) not in done
                and not _holds(unit.target, unit.spec["key"], bits, self.quality)]

    def run(self, backend: "Backend", progress: Callable[[int, int], None] = lambda d, t: None
            ) -> Result:
        from artlang.core.files import write_bytes
        started = time.perf_counter()
        result = Result()
        self.remove_leftovers()
        todo = self.pending()
        result.reused = len(self.units) - len(todo)
        done = result.reused
        progress(done, len(self.units))
        animations = _Animations(self, todo) if self.kind == "animation" else None
        try:
            for unit, (data, prepared) in self._rendered(backend, todo):
                write_bytes(data, unit.target)
                if self.format == "jpeg":              # its recipe, so a resumed run can reuse it
                    from artlang.output.encoders import write_sidecar
                    write_sidecar(unit.target, {"recipe": json.loads(unit.spec["recipe"]),
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

    def _rendered(self, backend: "Backend", todo: list[Unit]):
        """The backend's results, with errors pointing at the project's files (a unit is loaded
        from a temporary copy of them)."""
        chunks: list[list[Unit]] = []
        for unit in todo:                        # consecutive frames of one variation
            if chunks and len(chunks[-1]) < self.chunk and \
                    chunks[-1][-1].spec["renderer"] == unit.spec["renderer"]:
                chunks[-1].append(unit)
            else:
                chunks.append([unit])
        try:
            for chunk, results in backend.run(render_units, chunks,
                                               lambda units: [u.spec for u in units]):
                yield from zip(chunk, results)
        except ArtError as failure:
            raise _in_project(failure, self.root) from None


class _Animations:
    """A job's animations, each encoded while its frames are still being rendered: a frame goes to
    the encoder as soon as every frame before it is there, so x264 (or the GIF / WebP encoder)
    works beside the renderers instead of after the last frame. Frames are cached on disk all the
    same, so an interrupted export resumes; a finished animation gets a sidecar JSON with its
    recipe and its frame cache is removed."""

    def __init__(self, job: Job, todo: list[Unit]):
        self.job, self.many = job, len(job.variations) > 1
        self.writers: dict[int, object] = {}      # id(variation) -> its open AnimationWriter
        self.next: dict[int, int] = {}            # id(variation) -> position of the frame it waits for
        self.ready: dict[int, dict] = {}          # id(variation) -> {position: prepared frame,
                                                  #   or None when it is cached on disk}
        self.position = {}                        # id(unit) -> its position in its animation
        pending = {id(unit) for unit in todo}
        for variation in job.variations:
            if job.finished(variation):
                continue
            units = job.variation_units(variation)
            self.position.update((id(unit), index) for index, unit in enumerate(units))
            self.next[id(variation)] = 0
            self.ready[id(variation)] = {index: None for index, unit in enumerate(units)
                                         if id(unit) not in pending}      # cached on disk
        # no encoder starts before the first frame arrives: a process backend forks its workers
        # before that, and they must not inherit an encoder's pipe (ffmpeg would never see EOF)

    def finish(self) -> None:
        """Encode what is left: animations whose frames were all cached by an earlier run."""
        for variation in self.job.variations:
            if id(variation) in self.next:
                self._advance(variation)

    def arrived(self, unit: Unit, prepared) -> None:
        """A frame rendered now, as `encoders.prepare_frame` made it."""
        self.ready[id(unit.variation)][self.position[id(unit)]] = prepared
        self._advance(unit.variation)

    def _advance(self, variation: Variation) -> None:
        from artlang.output.encoders import AnimationWriter, prepare_frame
        key, units = id(variation), self.job.variation_units(variation)
        ready, job = self.ready[key], self.job
        while self.next[key] in ready:
            prepared = ready.pop(self.next[key])
            if prepared is None:                          # cached by an earlier run
                image = read_png(units[self.next[key]].target)
                prepared = prepare_frame(job.format, image, job.size)
            if key not in self.writers:
                self.writers[key] = AnimationWriter(job.variation_path(variation, self.many),
                                                    job.format, job.fps, job.size, quality=job.quality)
            self.writers[key].add_prepared(prepared)
            self.next[key] += 1
        if self.next[key] == len(units) and key in self.writers:
            self._finish(variation, self.writers.pop(key))

    def _finish(self, variation: Variation, writer) -> None:
        from artlang.output.encoders import write_sidecar
        from artlang.output.provenance import Recipe
        job = self.job
        writer.close()
        first = Recipe.from_text(job.variation_units(variation)[0].spec["recipe"])
        write_sidecar(writer.path, {"recipe": first.to_dict(), "frames": job.frames,
                                    "fps": job.fps, "format": job.format, "quality": job.quality,
                                    "job": job.animation_key(variation)})
        shutil.rmtree(frame_cache(writer.path), ignore_errors=True)

    def abort(self) -> None:
        """Drop the half-encoded animations (their cached frames stay for the next run)."""
        for writer in self.writers.values():
            writer.abort()
        self.writers.clear()


UNIT_FOLDER = "artlang-unit-"


def _in_project(failure: ArtError, root: Path) -> ArtError:
    """The failure with file names in a unit's temporary copy turned back into the project's."""
    from artlang.language.project import display_name
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


def write_manifest(job: Job) -> Path:
    """The data set's manifest beside its files: one JSON line per file (file, seed, params)."""
    from artlang.core.files import write_bytes
    path = job.output.with_suffix(".jsonl")
    lines = []
    for unit in job.units:
        recipe = json.loads(unit.spec["recipe"])
        name = os.path.relpath(unit.target if job.kind == "sequence" else
                               job.variation_path(unit.variation, True), path.parent)
        if job.kind != "sequence" and unit.frame != job.frames[0]:
            continue
        lines.append(json.dumps({"file": name, "index": unit.variation.index,
                                 "seed": recipe["seed"], "params": recipe["params"],
                                 "frame": unit.frame}, sort_keys=True))
    write_bytes(("\n".join(lines) + "\n").encode(), path)
    return path


def write_sheet(job: Job, path: Path, most_frames: int = 16) -> Path:
    """A labelled contact sheet: one cell per variation (its first frame), or, for a single
    animation, up to `most_frames` frames spread over it."""
    from artlang.output.encoders import contact_sheet
    from artlang.output.writers import write_png
    if len(job.variations) > 1:
        cells = [job.variation_units(v)[0] for v in job.variations]
        labels = [unit.variation.label for unit in cells]
    else:
        units = job.units
        step = max(1, math.ceil(len(units) / most_frames))
        cells = units[::step]
        labels = [f"frame {unit.frame}" for unit in cells]
    images = [_frame_image(job, unit) for unit in cells]
    longest = max(job.size)
    cell = None if longest <= 256 else (round(job.size[0] * 256 / longest),
                                         round(job.size[1] * 256 / longest))
    write_png(contact_sheet(images, labels, cell=cell), Path(path))
    return Path(path)


def _frame_image(job: Job, unit: Unit) -> np.ndarray:
    """A unit's picture, from its file, or rendered again when the file is a video or was removed
    (an animation's frame cache goes once the animation is encoded)."""
    if unit.target.is_file() and unit.target.suffix.lower() == ".png":
        return read_png(unit.target)
    from artlang.runtime.render import Renderer
    renderer = Renderer(job.program, size=job.size, seed=json.loads(unit.spec["recipe"])["seed"],
                        params=json.loads(unit.spec["recipe"])["params"], limits=job.limits,
                        trust=unit.spec["trust"])
    return renderer.render(unit.frame)


def frame_cache(output: Path) -> Path:
    """Where an animation's frames wait until it is encoded (kept if the export is interrupted)."""
    return output.with_name(f".{output.name}.frames")


def _holds(path: Path, key: str, bits: int, quality) -> bool:
    """Whether `path` is a finished frame of the same recipe (its text chunk or sidecar says so),
    at the same bit depth (PNG) or quality (JPEG)."""
    from artlang.output.provenance import Recipe
    if not path.is_file():
        return False
    try:
        if path.suffix.lower() != ".png":
            sidecar = json.loads(path.with_name(path.name + ".json").read_text())
            recipe = Recipe.from_text(json.dumps(sidecar["recipe"]))
            return recipe.digest() == key and sidecar.get("quality") == quality
        from PIL import Image
        with open(path, "rb") as handle:
            depth = handle.read(25)[24:25]                  # IHDR's bit depth
        with Image.open(path) as picture:
            text = picture.text.get("artlang:recipe")     # (our files are renamed in whole)
        return depth == bytes([bits]) and text is not None and Recipe.from_text(text).digest() == key
    except Exception:              # unreadable, truncated or foreign: render it again
        return False


def read_png(path: Path) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as picture:
        pixels = np.asarray(picture.convert("RGBA"), dtype=np.float32)
    return pixels / np.float32(255.0)


# ── where units run ───────────────────────────────────────────────────────────────────────────
class Backend:
    """Runs `function(spec_of(item))` for every item, yielding (item, result) as they finish, at
    most `window` at a time in flight (bounded memory)."""

    def run(self, function, items: list, spec_of) -> Iterable:
        for item in items:
            yield item, function(spec_of(item))

    def close(self) -> None:
        pass


class ProcessBackend(Backend):
    """`workers` local processes; each gets cores // workers threads for the noise kernels.

    The workers are forked at once, before any unit is drawn: each loads the sketch's compiled
    kernels itself, at the same time as the others (drawing the first unit here first, so they
    would inherit the kernels, left the other cores idle for that long).

    The workers end with this process however it ends, SIGKILL included (`_end_with`). On Linux
    the kernel ends them when the *thread* that forked them ends: run a job from the main thread,
    or from one that outlives the job."""

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = None

    def _start(self):
        import concurrent.futures
        import multiprocessing
        context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        self.pool = concurrent.futures.ProcessPoolExecutor(self.workers, mp_context=context,
                                                           initializer=_worker_setup,
                                                           initargs=(threads, os.getpid()))

    def run(self, function, items, spec_of):
        import concurrent.futures
        queue = iter(items)
        if self.pool is None:
            self._start()
        pending = {}
        try:
            # the workers are forked by the first submit, before the caller sees any result: what
            # it opens then (an encoder's pipe above all) is not inherited by them
            while True:
                while len(pending) < 2 * self.workers:
                    item = next(queue, None)
                    if item is None:
                        break
                    pending[self.pool.submit(function, spec_of(item))] = item
                if not pending:
                    return
                finished, _ = concurrent.futures.wait(pending, return_when="FIRST_COMPLETED")
                for future in finished:
                    yield pending.pop(future), future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _worker_setup(threads: int, parent: int) -> None:
    import signal
    for stop in (signal.SIGINT, signal.SIGTERM):        # Ctrl-C, and `timeout` or systemd signalling
        signal.signal(stop, signal.SIG_IGN)             # the whole group, are the parent's to handle
    _end_with(parent)
    from multiprocessing import util                    # forked workers skip atexit
    util.Finalize(None, _forget_renderers, exitpriority=10)
    from artlang.kernels.threads import set_threads
    set_threads(threads)


PR_SET_PDEATHSIG = 1           # prctl(2): the signal this process gets when its parent thread ends


def _end_with(parent: int) -> None:
    """End this worker as soon as the process `parent` ends, however it ends (SIGKILL gives it no
    chance to end its workers itself). On Linux the kernel sends SIGKILL then (PR_SET_PDEATHSIG;
    if the parent ended before that was set, this process has been adopted by another already);
    everywhere, a thread waiting on the parent's sentinel (readable once the parent is gone)
    ends the process too."""
    import multiprocessing
    import signal
    import threading
    if sys.platform.startswith("linux"):
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    sentinel = multiprocessing.parent_process().sentinel

    def watch() -> None:
        from multiprocessing.connection import wait
        wait([sentinel])
        _forget_renderers()
        os._exit(1)
    threading.Thread(target=watch, name="artlang-parent-watch", daemon=True).start()
