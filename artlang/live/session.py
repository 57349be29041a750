"""A sketch kept live: re-rendered on demand, the last good image kept, the state published.

`LiveSession` does one render of the sketch as it is on disk now: it hashes every input (the
sketch, the modules it imports, the images it reads, params, seed, size) and skips the render when
nothing changed, keeps the compiled plan's cache between edits so unchanged subtrees are not
recomputed, writes the output atomically on success, and never lets a failure replace the last good
image. `LiveState` is what it publishes, for the terminal and the preview page. Nothing here
watches files (see `watcher.py`) or prints.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "dot.art").write_text("canvas 8 x 8\\noutput fill(circle(uv, 0.5))")
>>> session = LiveSession(folder / "dot.art")
>>> session.render().status, session.render().status      # the second finds nothing changed
('rendered', 'unchanged')
>>> (folder / "dot.png").is_file()
True
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from artlang.core.errors import USAGE, ArtError, SourceCache, error, format_failure
from artlang.core.files import write_bytes
from artlang.core.limits import Limits
from artlang.language import ir
from artlang.language.project import ProjectFiles
from artlang.output.provenance import picture_text
from artlang.output.writers import encode_png_fast
from artlang.runtime.context import RenderCancelled
from artlang.runtime.render import (
    Renderer,
    bind_params,
    load_sketch,
    param_as_text,
    parse_param_value,
)

MAX_PREVIEW_FRAMES = 1000          # an animation's frames kept for playback in the preview


def _stamp(path: Path):
    """What changes when a file is written: a failure on a file that changed while it was read
    is a half-read file, not the user's error (the watcher hears of the write and renders again)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns


class SweepingCache(dict):
    """The render cache kept between edits: entries no render has used since `begin()` are
    dropped by `sweep()`, so a long session holds only what the current sketch needs."""

    def __init__(self):
        super().__init__()
        self.used: set = set()

    def begin(self) -> None:
        self.used = set()

    def get(self, key, default=None):
        self.used.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.used.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.used.add(key)
        return super().__contains__(key)

    def __setitem__(self, key, value):
        self.used.add(key)
        super().__setitem__(key, value)

    def sweep(self) -> int:
        """Drop the entries not used since `begin()`; returns how many were dropped."""
        stale = [key for key in self if key not in self.used]
        for key in stale:
            del self[key]
        return len(stale)


@dataclass(frozen=True)
class ParamControl:
    """One `param` as the preview's slider shows it."""
    name: str
    kind: str                  # "num" or "color"
    value: object              # the value in use: a number, or "#rrggbb"
    default: object
    low: float | None
    high: float | None
    doc: str | None


def param_controls(program: ir.Program, values: dict) -> list[ParamControl]:
    return [ParamControl(info.name, info.kind, param_as_text(info.kind, values[info.name]),
                         param_as_text(info.kind, info.default), info.low, info.high, info.doc)
            for info in program.params.values()]


@dataclass
class Outcome:
    """What one call to `LiveSession.render` did."""
    status: str                               # rendered | unchanged | failed | missing | cancelled
    seconds: float = 0.0
    error_text: str | None = None             # the diagnostics, formatted as the terminal shows them
    error_stage: str | None = None
    notices: list[str] = field(default_factory=list)
    frames: int = 1                           # of the sketch rendered (1 for a still)
    phases: dict = field(default_factory=dict)  # seconds spent loading, drawing, writing


def describe_failure(failure: ArtError, sources: SourceCache | None) -> str:
    return format_failure(failure, sources or SourceCache())


class LiveState:
    """The latest published state, safe to read from any thread; `wait` blocks until it changes.

    A successful render replaces `frames` (PNG bytes, frame 0 first, more appended as an animation
    renders) and clears `error`; a failure sets `error` and leaves the last good frames in place.
    """

    def __init__(self, sketch: str, output: str):
        self._changed = threading.Condition()
        self.version = 0
        self.closed = False
        self.sketch, self.output = sketch, output
        self.generation = 0          # bumped by every new image
        self.frames: dict[int, bytes] = {}      # frame index -> PNG bytes
        self.shown_frame = 0                    # the frame written to the output file
        self.frame_count = 1
        self.fps = 30.0
        self.size = (0, 0)
        self.render_ms = 0.0
        self.error: str | None = None
        self.params: list[ParamControl] = []
        self.rendering = False

    def _bump(self) -> None:
        self.version += 1
        self._changed.notify_all()

    def publish_image(self, png: bytes, *, shown_frame: int, frame_count: int, fps: float, size,
                      render_ms: float, params: list[ParamControl]) -> None:
        with self._changed:
            self.generation += 1
            self.frames, self.shown_frame = {shown_frame: png}, shown_frame
            self.frame_count, self.fps, self.size = frame_count, fps, size
            self.render_ms, self.params, self.error = render_ms, params, None
            self._bump()

    def publish_frame(self, generation: int, index: int, png: bytes) -> None:
        with self._changed:
            if generation == self.generation:
                self.frames[index] = png
                self._bump()

    def publish_error(self, text: str, params: list[ParamControl] | None = None) -> None:
        with self._changed:
            self.error = text
            if params is not None:
                self.params = params
            self._bump()

    def set_rendering(self, rendering: bool) -> None:
        with self._changed:
            if self.rendering != rendering:
                self.rendering = rendering
                self._bump()

    def frame(self, generation: int, index: int) -> bytes | None:
        with self._changed:
            return self.frames.get(index) if generation == self.generation else None

    def snapshot(self) -> dict:
        """Everything but the image bytes, as JSON-ready values."""
        with self._changed:
            return {"version": self.version, "sketch": self.sketch, "output": self.output,
                    "generation": self.generation, "shown_frame": self.shown_frame,
                    "frames_ready": self._frames_ready(),
                    "frame_count": self.frame_count, "fps": self.fps,
                    "width": self.size[0], "height": self.size[1],
                    "render_ms": round(self.render_ms, 1), "error": self.error,
                    "rendering": self.rendering, "params": [vars(p) for p in self.params]}

    def _frames_ready(self) -> int:
        """How many frames from frame 0 on are ready to play without a gap."""
        ready = 0
        while ready in self.frames:
            ready += 1
        return ready

    def wait(self, version: int, timeout: float) -> bool:
        """Block until the state is newer than `version` (True), or timeout or close (False)."""
        with self._changed:
            self._changed.wait_for(lambda: self.version > version or self.closed, timeout)
            return self.version > version and not self.closed

    def close(self) -> None:
        with self._changed:
            self.closed = True
            self._changed.notify_all()


class LiveSession:
    """One sketch rendered again and again as it is edited (see the module docstring)."""

    def __init__(self, sketch: str | Path, output: str | Path | None = None, *, root=None,
                 seed: int | None = None, size=None, params: dict | None = None,
                 limits: Limits | None = None, frame: int = 0, trust: bool = False):
        self.sketch = Path(sketch).absolute()
        self.trust = trust
        self.output = Path(output).absolute() if output else self.sketch.with_suffix(".png")
        self.root = Path(root) if root else self.sketch.parent
        self.seed, self.size, self.frame = seed, size, frame
        self.limits = limits or Limits.from_environment()
        self.overrides: dict[str, object] = dict(params or {})
        self.state = LiveState(str(sketch), str(output or self.sketch.with_suffix(".png")))
        self.cache = SweepingCache()
        self.dependencies: set[Path] = {self.sketch}
        self.program: ir.Program | None = None
        self.renderer = None
        self._lock = threading.Lock()
        self._last_digest: str | None = None
        self._last_data_digest: str | None = None
        self._read_stamps: dict = {}        # path -> _stamp, of every input known before a load

    # params from the preview ────────────────────────────────────────────────────────────────────
    def set_param(self, name: str, text) -> None:
        """Override a param (validated against the sketch as last loaded); raises `ArtError`."""
        with self._lock:
            program = self.program
        if program is None or name not in program.params:
            raise error(f"the sketch has no param `{name}`", stage=USAGE)
        parse_param_value(program.params[name], text)
        with self._lock:
            self.overrides[name] = text

    def reset_params(self) -> None:
        with self._lock:
            self.overrides.clear()

    # inputs ─────────────────────────────────────────────────────────────────────────────────────
    def _digests(self, source: bytes) -> tuple[str, str]:
        """A hash of everything a render reads, and one of just the non-source files (images)."""
        everything, data = hashlib.blake2b(digest_size=16), hashlib.blake2b(digest_size=16)
        everything.update(source)
        for path in sorted(self.dependencies - {self.sketch}):
            try:
                content = path.read_bytes()
            except OSError:
                content = b"\x00missing"
            target = data if path.suffix != ".art" else everything
            target.update(str(path).encode() + b"\x00" + content)
        with self._lock:
            settings = repr((sorted(self.overrides.items()), self.seed, self.size, self.frame))
        everything.update(settings.encode() + data.digest())
        return everything.hexdigest(), data.hexdigest()

    # rendering ──────────────────────────────────────────────────────────────────────────────────
    def render(self, cancelled=None, hold_error=None) -> Outcome:
        """Render the sketch as it is on disk now, unless nothing it reads has changed.

        `cancelled()` turning True stops it ("cancelled"). `hold_error()`, if given, is called
        before a failure is published and returns once no news of a newer save can still be on
        its way (the watcher waits out its debounce); a failure that a newer save or event
        supersedes by then is a half-written file read, and is dropped ("cancelled")."""
        try:
            self._read_stamps = {path: _stamp(path) for path in self.dependencies | {self.sketch}}
            source = self.sketch.read_bytes()       # read once: hashed and rendered, the same bytes
        except FileNotFoundError:
            return Outcome("missing")               # an editor between deleting and writing it
        except OSError:
            source = b""                            # load_sketch reports it properly
        digest, data_digest = self._digests(source)
        if digest == self._last_digest:
            return Outcome("unchanged")
        started = time.perf_counter()
        phases = {}
        files = ProjectFiles(self.root, limits=self.limits)
        notices: list[str] = []
        try:
            program = load_sketch(self.sketch, files=files, text=self._decoded(source))
        except ArtError as failure:
            program = failure
        # what this load read (an edit may add a module or an image): hash that, not last time's
        self.dependencies = files.touched | {self.sketch}
        digest, data_digest = self._digests(source)
        hashed_as_loaded = not self._written_since_read()   # else it may hash a newer module
        if isinstance(program, ArtError):
            return self._failed(program, getattr(program, "sources", files.sources), digest,
                                cancelled=cancelled, hold_error=hold_error)
        phases["load"] = time.perf_counter() - started
        with self._lock:
            self.program = program
            params = self._valid_overrides(program, notices)
        if data_digest != self._last_data_digest:
            self.cache.clear()                     # an image changed: its decoded pixels are stale
        self.cache.begin()
        try:
            renderer = Renderer(program, size=self.size, seed=self.seed, params=params,
                                limits=self.limits, cache=self.cache, trust=self.trust,
                                model_threads=1)        # torch must not fight the renderer
            shown = min(self.frame, program.settings.frames - 1)
            image = renderer.render(shown, cancelled)
            phases["draw"] = time.perf_counter() - started - phases["load"]
            png = encode_png_fast(image, picture_text(renderer, shown))
            write_bytes(png, self.output)
        except RenderCancelled:
            return Outcome("cancelled")
        except ArtError as failure:
            return self._failed(failure, program.sources, digest, program, cancelled, hold_error)
        except OSError as failure:
            return self._failed(error(f"cannot write {self.output}: {failure.strerror or failure}",
                                      stage="runtime"), None, digest, program, cancelled, hold_error)
        self.cache.sweep()
        self.renderer = renderer
        if not hashed_as_loaded:            # the digest may describe newer files than were drawn:
            digest = data_digest = None     # the next look renders again
        self._last_digest, self._last_data_digest = digest, data_digest
        seconds = time.perf_counter() - started
        phases["write"] = seconds - phases["load"] - phases["draw"]
        settings = program.settings
        self.state.publish_image(png, shown_frame=shown, frame_count=settings.frames, fps=settings.fps,
                                 size=(renderer.canvas.width, renderer.canvas.height),
                                 render_ms=seconds * 1000,
                                 params=param_controls(program, renderer.param_values))
        return Outcome("rendered", seconds, notices=notices, frames=settings.frames, phases=phases)

    def _valid_overrides(self, program: ir.Program, notices: list[str]) -> dict:
        """The overrides the edited sketch still accepts; the others are dropped with a notice."""
        kept = {}
        for name, text in list(self.overrides.items()):
            try:
                if name not in program.params:
                    raise error(f"param `{name}` is gone from the sketch", stage=USAGE)
                parse_param_value(program.params[name], text)
                kept[name] = text
            except ArtError as failure:
                notices.append(f"{failure.diagnostics[0].message}; using the sketch's value")
                del self.overrides[name]
        return kept

    def _decoded(self, source: bytes) -> str | None:
        """The sketch's text, or None to let the loader read (and report) a file it refuses."""
        if len(source) > self.limits.max_source_bytes:
            return None
        try:
            return source.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def _written_since_read(self) -> bool:
        """Whether the sketch, or a module or image it read last time, changed since this render
        began reading: a module loaded before a save landed and hashed after it would be taken
        for the new version, and that save never drawn (the watcher hears of the write and asks
        again; this render's result must not say it has seen it, nor report its error)."""
        return any(_stamp(path) != stamp for path, stamp in self._read_stamps.items())

    def _superseded(self, cancelled) -> bool:
        """Whether a newer save is waiting (the watcher asked again), or coming (a file changed)."""
        return (cancelled is not None and cancelled()) or self._written_since_read()

    def _failed(self, failure: ArtError, sources, digest: str, program=None,
                cancelled=None, hold_error=None) -> Outcome:
        if self._superseded(cancelled):
            return Outcome("cancelled")     # a newer save is waiting, or coming: don't flash an error
        if hold_error is not None:          # the event of a write made before the read may be late
            hold_error()
            if self._superseded(cancelled):
                return Outcome("cancelled")
        self._last_digest = digest
        text = describe_failure(failure, sources)
        controls = None
        if program is not None:
            try:
                controls = param_controls(program, bind_params(program, self.overrides))
            except ArtError:
                controls = None
        self.state.publish_error(text, controls)
        return Outcome("failed", error_text=text, error_stage=failure.stage)

    def render_animation(self, cancelled) -> int:
        """After a successful render of an animated sketch: its other frames, for the preview's
        playback, appended to the state one by one. Stops (returning how many it added) when
        `cancelled()` turns True."""
        renderer, generation = self.renderer, self.state.generation
        if renderer is None:
            return 0
        total = min(renderer.program.settings.frames, MAX_PREVIEW_FRAMES)
        shown = min(self.frame, total - 1)
        added = 0
        for index in range(total):
            if index == shown:
                continue
            if cancelled():
                break
            try:
                image = renderer.render(index, cancelled)
            except (RenderCancelled, ArtError):
                break
            self.state.publish_frame(generation, index, encode_png_fast(image))
            added += 1
        return added
