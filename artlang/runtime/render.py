"""The core's front door: load a sketch, bind params, render a frame. Never prints or exits.

>>> from artlang.runtime.render import load_source, render_frame
>>> program = load_source("canvas 8 x 8\\noutput fill(circle(uv, 0.5))")
>>> render_frame(program).shape
(8, 8, 4)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artlang.builtins import load_all
from artlang.language import ir
from artlang.language.checker import check
from artlang.language.literals import parse_hex
from artlang.runtime.compiler import Plan, compile_program
from artlang.kernels.region import Region
from artlang.runtime.caches import Caches
from artlang.runtime.context import FrameContext, Lookahead, Stop
from artlang.runtime.inputs import Inputs
from artlang.core.errors import CHECK, RUNTIME, USAGE, ArtError, did_you_mean, error
from artlang.core.limits import Limits
from artlang.language.project import ProjectFiles, load_modules


def load_sketch(path: str | Path, root: str | Path | None = None, text: str | None = None,
                files: ProjectFiles | None = None, limits: Limits | None = None) -> ir.Program:
    """Parse, resolve imports and check the sketch at `path`; raises `ArtError` with every problem.

    Pass `files` to keep the `ProjectFiles` (and so the list of files the sketch touched) even when
    loading fails. `limits` (default: the environment's) bound its source size, import depth and
    function calls.
    """
    path = Path(path)
    files = files or ProjectFiles(Path(root) if root else path.resolve().parent,
                                  limits=limits or Limits.from_environment())
    try:
        return check(load_modules(path, files, text), files, load_all())
    except ArtError as failure:
        failure.sources = files.sources          # so the caller can quote the lines
        raise


def load_source(text: str, path: str | Path = "sketch.art") -> ir.Program:
    """Check sketch source given as text (as if saved at `path`)."""
    return load_sketch(path, text=text)


def parse_param_value(info: ir.ParamInfo, text) -> object:
    """A `--param` value given as text (or a number) for the param declared by `info`."""
    if info.kind == "color":
        try:
            return parse_hex(str(text).strip())
        except ValueError:
            raise error(f"--param {info.name}={text}: expected a colour like #ff8800", info.span,
                        stage=USAGE, label="declared here") from None
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise error(f"--param {info.name}={text}: expected a number", info.span, stage=USAGE,
                    label="declared here") from None
    if not math.isfinite(value):
        raise error(f"--param {info.name}={text}: expected a finite number", info.span, stage=USAGE)
    if info.low is not None and not info.low <= value <= info.high:
        raise error(f"--param {info.name}={text} is outside the range {info.low:g}..{info.high:g}",
                    info.span, stage=USAGE, label="range declared here",
                    hint=f"pick a value from {info.low:g} to {info.high:g}, or widen the range")
    return value


def param_as_text(kind: str, value):
    """A param's value as `--param` takes it back: a number, or a colour as `#rrggbb[aa]`.

    >>> param_as_text("color", (1.0, 0.5019608, 0.0, 1.0)), param_as_text("num", 2)
    ('#ff8000', 2.0)
    """
    if kind != "color":
        return float(value)
    channels = [round(min(max(float(c), 0.0), 1.0) * 255) for c in value]
    return "#" + "".join(f"{c:02x}" for c in (channels if channels[3] != 255 else channels[:3]))


def bind_params(program: ir.Program, overrides: dict | None = None) -> dict:
    """Every param's value: its default, or the override given for it (validated)."""
    overrides = dict(overrides or {})
    values = {name: info.default for name, info in program.params.items()}
    for name, text in overrides.items():
        info = program.params.get(name)
        if info is None:
            known = ", ".join(program.params) or "none"
            raise error(f"the sketch has no param `{name}`", stage=USAGE,
                        hint=did_you_mean(name, program.params) or f"its params: {known}")
        values[name] = parse_param_value(info, text)
    return values


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int


def canvas_size(program: ir.Program, size: tuple[int, int] | None, limits: Limits,
                tiled: bool = False) -> Canvas:
    """The canvas to draw, checked against the pixel limit before any memory is taken: the
    in-memory limit, or with `tiled` the (larger) limit of a canvas drawn in tiles."""
    settings = program.settings
    width, height = size or (settings.width, settings.height)
    if width < 1 or height < 1:
        raise error(f"the canvas must be at least 1 x 1, got {width} x {height}", stage=USAGE)
    most = max(limits.max_pixels, limits.max_tiled_pixels) if tiled else limits.max_pixels
    if width * height > most:
        from_flag = size is not None
        hint = ("render smaller, or raise the limit with --limit tiled-pixels=N if this machine "
                "has the disk and the time") if tiled else \
            ("render smaller (`artlang render` to a .png or .tif draws a canvas over the limit in "
             "tiles, in bounded memory), or raise the limit with --limit pixels=N if this machine "
             "has the memory")
        raise error(f"a {width} x {height} canvas is {width * height:,} pixels, over the limit of "
                    f"{most:,}" + (" for a canvas drawn in tiles" if tiled else ""),
                    None if from_flag else settings.spans.get("canvas"),
                    stage=USAGE if from_flag else CHECK, hint=hint)
    return Canvas(width, height)


def frame_count(program: ir.Program, limits: Limits) -> int:
    """The sketch's frames, checked against the frame limit before any is drawn."""
    frames = program.settings.frames
    if frames > limits.max_frames:
        raise error(f"`frames {frames}` is over the limit of {limits.max_frames:,} frames",
                    program.settings.spans.get("frames") or program.settings.spans.get("duration"), stage=CHECK,
                    hint="fewer frames (or a lower fps), or raise the limit: --limit frames=N")
    return frames


def check_frame(program: ir.Program, frame: int) -> None:
    """Refuse a frame number outside the sketch's animation (a usage error)."""
    frames = program.settings.frames
    if not 0 <= frame < frames:
        raise error(f"frame {frame} is outside the animation (frames 0..{frames - 1})", stage=USAGE)


class Renderer:
    """A compiled sketch ready to draw frames; keeps time-invariant results between frames."""

    def __init__(self, program: ir.Program, *, size=None, seed=None, params=None,
                 limits: Limits | None = None, cache: dict | None = None, trust: bool = False,
                 model_threads: int | None = None):
        """`trust`: model files that run code when loaded (TorchScript) may be loaded.
        `model_threads`: torch threads for decoding (the live preview uses 1, so torch does not
        fight the renderer for the cores). `upcoming` (set before `render`): the frames this
        process draws next, whose latents a model decodes in the same batch."""
        self.program = program
        self.trust, self.model_threads, self.upcoming = trust, model_threads, ()
        self.limits = limits or Limits.from_environment()
        self.canvas = canvas_size(program, size, self.limits)
        frame_count(program, self.limits)
        self.seed = program.settings.seed if seed is None else int(seed)
        self.param_values = bind_params(program, params)
        self.plan: Plan = compile_program(program, self.param_values)
        self.cache = {} if cache is None else cache

    def context(self, frame: int, cancelled=None, *, region: Region | None = None,
                shared: dict | None = None) -> FrameContext:
        """The one builder of a frame's context. The whole canvas keeps this renderer's cache
        between frames; a `region` (a tile) gets a cache of its own, dropped with the tile, and
        reads the images its canvas's tiles `shared`."""
        settings = self.program.settings
        if region is None:
            caches = Caches(across_frames=self.cache)
        else:
            caches = Caches(across_frames={}, across_tiles={} if shared is None else shared)
        return FrameContext(self.canvas.width, self.canvas.height, self.seed, frame=frame,
                            fps=settings.fps, frames=settings.frames, loop=settings.loop,
                            region=region, caches=caches,
                            inputs=Inputs(self.program.files, self.limits, self.trust,
                                          self.model_threads),
                            stop=Stop(cancelled, self.limits.max_frame_seconds),
                            lookahead=Lookahead(tuple(f for f in self.upcoming if f != frame)))

    def render(self, frame: int = 0, cancelled=None) -> np.ndarray:
        """The RGBA float32 image of one frame.

        `cancelled`, if given, is polled between built-in calls; when it returns True the render
        stops with `context.RenderCancelled`.
        """
        check_frame(self.program, frame)
        try:
            return self.plan.render_frame(self.context(frame, cancelled).started())
        except MemoryError:
            raise error("out of memory while rendering", stage=RUNTIME,
                        hint="render a smaller canvas (--size) or lower --max-pixels") from None


def render_frame(program: ir.Program, frame: int = 0, **options) -> np.ndarray:
    """Render one frame of a checked program (see `Renderer` for the options)."""
    return Renderer(program, **options).render(frame)


__all__ = ["load_sketch", "load_source", "bind_params", "Renderer", "render_frame", "ArtError"]
