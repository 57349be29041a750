"""The command line: the only place that prints, catches everything, and chooses exit codes.

Each command imports the wings it uses when it runs (the lines marked `# this command's wings`),
so `artlang --help`, `--version` and `limits` start without loading numpy, Lark, watchdog or
torch; everything else is imported here.
"""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
import webbrowser
from pathlib import Path

from artlang import __version__
from artlang.cli_train import add_train_parser, command_train
from artlang.core.errors import (
    CHECK,
    RUNTIME,
    SYNTAX,
    USAGE,
    ArtError,
    SourceCache,
    did_you_mean,
    error,
    format_diagnostic,
    format_failure,
)
from artlang.core.limits import Limits
from artlang.output.formats import format_for, format_of, refuse_unwritable

EXIT_OK = 0
EXIT_SKETCH_ERROR = 1      # the sketch has a syntax or check error
EXIT_USAGE = 2             # the command line is wrong (bad flag, unknown --param, value out of range)
EXIT_RUNTIME = 3           # the render failed (unreadable image, out of memory, cannot write)
EXIT_INTERNAL = 70         # a bug in artlang
EXIT_INTERRUPTED = 130     # Ctrl-C (SIGINT)
EXIT_TERMINATED = 143      # SIGTERM (kill, timeout, CI cancellation, systemd): 128 + 15, as a shell says
EXIT_CODES = {SYNTAX: EXIT_SKETCH_ERROR, CHECK: EXIT_SKETCH_ERROR, USAGE: EXIT_USAGE,
              RUNTIME: EXIT_RUNTIME}

DESCRIPTION = """\
artlang turns small .art sketches into images.

  artlang render sketches/aurora.art -o aurora.png
  artlang watch sketches/aurora.art             re-render on every save, live preview
  artlang export sketches/lava.art -o lava.mp4   every frame, to a video (or GIF, WebP, PNGs)
  artlang reproduce aurora.png                   render a picture again from its own recipe
  artlang check my.art
  artlang builtins fbm

Exit codes: 0 ok, 1 the sketch has an error, 2 usage error, 3 the render failed,
70 internal error (please report it), 130 Ctrl-C, 143 stopped by SIGTERM."""

RENDER_HELP = """\
examples:
  artlang render sketch.art                      writes sketch.png beside it
  artlang render sketch.art -o out/big.png --size 1920x1080
  artlang render sketch.art --seed 7 --param scale=4 --param tint=#ff8800
  artlang render loop.art --frame 30             one frame of an animation

The same sketch, seed and params always give the same bytes."""

WATCH_HELP = """\
examples:
  artlang watch sketch.art                 preview at http://127.0.0.1:8421/, writes sketch.png
  artlang watch sketch.art --open          and open the preview in a browser
  artlang watch sketch.art --port 0        any free port (the URL is printed)
  artlang watch sketch.art --no-preview    terminal only
  artlang watch sketch.art --poll          for network drives and WSL, where file events don't arrive

Every save re-renders: of the sketch, of any module it imports and of any image it reads, however
the editor saves. A sketch with an error keeps the last good image (on disk and in the preview) and
shows the error; the next good save clears it. Unchanged parts of the sketch are not recomputed.
Ctrl-C stops (exit 0)."""

EXPORT_HELP = """\
examples:
  artlang export loop.art -o out/loop.png          every frame: out/loop_00.png .. loop_59.png
  artlang export loop.art -o out/loop_####.png     the same, four digits
  artlang export loop.art -o loop.gif              GIF (exact timing, loops forever); also .webp
  artlang export loop.art -o loop.mp4 --quality 20 H.264 video, crf 20 (lower is better)
  artlang export loop.art -o big.png --bits 16     16-bit PNG frames
  artlang export loop.art -o loop.mp4 --workers 2  frames rendered in 2 processes
  artlang export loop.art -o loop.mp4 --scheduler tcp://host:8786   on a Dask cluster
  artlang export art.art -o s/art.png --seed 0..15 --param scale=1..4:4 --sheet sheet.png
                                                   a sweep: 64 pictures and a labelled sheet
  artlang export art.art -o data/img.png --dataset 1000 --param scale=1..4
                                                   1000 variations (seeds 0..999, scale drawn
                                                   at random in 1..4) and data/img.jsonl

Every PNG carries its recipe (sources, seed, params); other formats get a .json beside them.
Interrupted? Run the same command again: frames already written are kept, and the result is
byte-identical to an export that never stopped. The output is the same for any --workers."""

REPRODUCE_HELP = """\
examples:
  artlang reproduce out.png                 render it again and check the pixels are the same
  artlang reproduce out.png -o again.png    and keep the new copy
  artlang reproduce out.png --root photos/  where the images the sketch reads are"""

CHECK_HELP = """\
examples:
  artlang check sketch.art        reports every problem at once, renders nothing
"""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors sent through our exit code."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().replace("×", "x").split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 800x600, got {text!r}") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"the size must be at least 1x1, got {text!r}")
    return width, height


def _param(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE like scale=3, got {text!r}")
    return name.strip(), value.strip()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="artlang", description=DESCRIPTION,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"artlang {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    render = commands.add_parser("render", help="render a sketch to a PNG", epilog=RENDER_HELP,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_picture_options(render, param_help="set a `param` (repeatable)",
                         frame_help="which frame to render (from 0)")
    render.add_argument("--tile", type=int, metavar="N",
                        help="render in N x N tiles, streaming to the file (automatic for a .png or "
                             ".tif over the pixel limit; bounded memory at any size)")
    _add_common(render)

    watch = commands.add_parser("watch", help="re-render on every save, with a live preview page",
                                epilog=WATCH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_picture_options(watch, param_help="set a `param` (repeatable; the preview's sliders "
                                           "change it too)",
                         frame_help="which frame of an animation to write (the preview plays them all)")
    watch.add_argument("--port", type=int, default=8421, metavar="N",
                       help="preview port on 127.0.0.1 (default 8421; 0 picks a free one)")
    watch.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                       help="address the preview listens on (default 127.0.0.1, this machine only)")
    watch.add_argument("--no-preview", action="store_true", help="no preview page, terminal only")
    watch.add_argument("--open", action="store_true", help="open the preview in the default browser")
    watch.add_argument("--poll", type=float, nargs="?", const=0.25, metavar="SECONDS",
                       help="poll for changes every SECONDS (default 0.25) instead of file events")
    _add_common(watch)

    export = commands.add_parser("export", help="render every frame, a sweep or a data set",
                                 epilog=EXPORT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("file", type=Path, help="the .art sketch")
    export.add_argument("-o", "--output", type=Path, required=True,
                        help="a .png/.jpg sequence (FILE.png, or FILE_####.png), .gif, .webp or .mp4")
    export.add_argument("--frames", metavar="A..B", help="only these frames (default: all)")
    export.add_argument("--size", type=_size, metavar="WxH", help="canvas size, overriding `canvas`")
    export.add_argument("--seed", metavar="SEEDS", help="a seed, a list 1,5,9 or a range 0..99 (a sweep)")
    export.add_argument("-p", "--param", type=_param, action="append", default=[],
                        metavar="NAME=VALUES",
                        help="a value, a list a,b,c, LOW..HIGH:COUNT (a sweep), or LOW..HIGH "
                             "(drawn at random with --dataset); repeatable")
    export.add_argument("--dataset", type=int, metavar="N",
                        help="N variations (seeds from --seed or 0 on) and a JSONL manifest")
    export.add_argument("--sheet", type=Path, metavar="PNG",
                        help="also a labelled contact sheet of the variations (or frames)")
    export.add_argument("--quality", type=int, metavar="Q",
                        help="JPEG/WebP quality 1..100, or MP4 crf 0..51 (default: high)")
    export.add_argument("--bits", type=int, choices=(8, 16), default=8, help="PNG bit depth")
    export.add_argument("--workers", type=int, default=1, metavar="N",
                        help="render in N processes (the bytes are the same for any N)")
    export.add_argument("--scheduler", metavar="ADDRESS",
                        help="render on a Dask cluster, e.g. tcp://10.0.0.5:8786")
    _add_common(export)

    reproduce = commands.add_parser("reproduce", help="render a picture again from its recipe",
                                    epilog=REPRODUCE_HELP,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
    reproduce.add_argument("picture", type=Path, help="a PNG written by artlang (or a file with a .json sidecar)")
    reproduce.add_argument("-o", "--output", type=Path, help="keep the new rendering here")
    reproduce.add_argument("--root", type=Path, metavar="DIR",
                           help="folder with the images the sketch reads (default: the picture's)")
    _add_trust(reproduce)

    check = commands.add_parser("check", help="report every problem in a sketch, render nothing",
                                epilog=CHECK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("file", type=Path, help="the .art sketch")
    _add_common(check)

    builtins = commands.add_parser("builtins", help="list built-ins, or describe one",
                                   epilog="examples:\n  artlang builtins\n  artlang builtins fbm",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    builtins.add_argument("name", nargs="?", help="a built-in to describe")
    add_train_parser(commands)

    models = commands.add_parser("models", help="list the models artlang ships, or show one's card",
                                 epilog="examples:\n  artlang models\n  artlang models shapes-gan\n\n"
                                        "In a sketch: let m = model(\"shapes-gan\")",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    models.add_argument("name", nargs="?", help="a zoo model whose card to show")

    commands.add_parser("limits", help="list the resource limits, their values here and how to "
                        "change them", epilog=LIMITS_HELP,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _add_picture_options(command, *, param_help: str, frame_help: str) -> None:
    """The sketch, output, size, seed, params and frame: what `render` and `watch` share."""
    command.add_argument("file", type=Path, help="the .art sketch")
    command.add_argument("-o", "--output", type=Path, help="where to write the PNG (default: FILE.png)")
    command.add_argument("--size", type=_size, metavar="WxH", help="canvas size, overriding `canvas`")
    command.add_argument("--seed", type=int, metavar="N", help="master seed, overriding `seed`")
    command.add_argument("-p", "--param", type=_param, action="append", default=[],
                         metavar="NAME=VALUE", help=param_help)
    command.add_argument("--frame", type=int, default=0, metavar="N", help=frame_help)


LIMITS_HELP = """\
examples:
  artlang limits
  artlang render big.art --limit pixels=67108864      a bigger canvas in memory, this once
  ARTLANG_MAX_FRAME_SECONDS=30 artlang watch sketch.art   stop any frame that takes over 30 s
"""


def _add_common(command) -> None:
    command.add_argument("--root", type=Path, metavar="DIR",
                         help="project folder the sketch may read from (default: the sketch's folder)")
    if command.prog.split()[-1] != "check":
        _add_trust(command)
    command.add_argument("--max-pixels", type=int, metavar="N",
                         help="refuse canvases larger than N pixels (default 16777216, or $ARTLANG_MAX_PIXELS)")
    command.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE",
                         help="raise or lower a resource limit, e.g. --limit frame-seconds=30 "
                              "(`artlang limits` lists them)")


def _add_trust(command) -> None:
    command.add_argument("--trust", action="store_true",
                         help="allow model files that run code when loaded (TorchScript); only for "
                              "files you trust")


def _limits(arguments):
    """The environment's limits with the command's --limit settings (and --max-pixels)."""
    settings = list(arguments.limit)
    if arguments.max_pixels is not None:
        settings.append(f"pixels={arguments.max_pixels}")
    return Limits.parse(*settings)


def _load(arguments):
    # this command's wings
    from artlang.runtime.render import load_sketch
    if not arguments.file.is_file():
        raise error(f"no such sketch file: {arguments.file}", stage=USAGE)
    return load_sketch(arguments.file, arguments.root, limits=_limits(arguments))


def command_render(arguments, out) -> int:
    # this command's wings
    from artlang.runtime.render import Renderer
    from artlang.output.provenance import picture_text
    from artlang.output.writers import write_png

    started = time.perf_counter()
    program = _load(arguments)
    _print_warnings(program, out)
    target = arguments.output or arguments.file.with_suffix(".png")
    written = format_of(target, "render")
    limits = _limits(arguments)
    width, height = arguments.size or (program.settings.width, program.settings.height)
    if arguments.tile or not written.whole or width * height > limits.max_pixels:
        return _render_tiled(program, arguments, target, limits, started, out)
    renderer = Renderer(program, size=arguments.size, seed=arguments.seed,
                        params=dict(arguments.param), limits=limits, trust=arguments.trust)
    image = renderer.render(arguments.frame)
    try:
        write_png(image, target, picture_text(renderer, arguments.frame))
    except OSError as failure:
        raise _write_failure(failure, target) from None
    elapsed = time.perf_counter() - started
    print(f"wrote {target} ({renderer.canvas.width} x {renderer.canvas.height}, {elapsed:.2f} s)",
          file=out)
    return EXIT_OK


def _render_tiled(program, arguments, target: Path, limits, started: float, out) -> int:
    """A canvas over the pixel limit (or --tile, or a .tif): drawn tile by tile into the file."""
    # this command's wings
    from artlang.output.streaming import write_tiled
    from artlang.runtime.render import check_frame
    from artlang.runtime.tiles import TILE, TiledRenderer
    check_frame(program, arguments.frame)
    # automatic tiles leave room under the pixel limit for the margins filters need
    tile = arguments.tile or min(TILE, max(16, math.isqrt(limits.max_pixels) // 2))
    renderer = TiledRenderer(program, size=arguments.size, seed=arguments.seed,
                             params=dict(arguments.param), tile=tile, limits=limits,
                             trust=arguments.trust)
    try:
        write_tiled(renderer, target, arguments.frame)
    except OSError as failure:
        raise _write_failure(failure, target) from None
    width, height = renderer.size
    print(f"wrote {target} ({width} x {height} in tiles, {time.perf_counter() - started:.2f} s)",
          file=out)
    return EXIT_OK


def command_check(arguments, out) -> int:
    # this command's wings
    from artlang.runtime.render import canvas_size, frame_count
    program = _load(arguments)
    _print_warnings(program, out)
    canvas_size(program, None, _limits(arguments), tiled=True)
    frame_count(program, _limits(arguments))
    settings = program.settings
    print(f"{arguments.file}: ok ({settings.width} x {settings.height}, {settings.frames} frame"
          f"{'s' if settings.frames != 1 else ''}, {len(program.params)} param"
          f"{'s' if len(program.params) != 1 else ''})", file=out)
    for info in program.params.values():
        default = "#" + "".join(f"{round(c * 255):02x}" for c in info.default) \
            if info.kind == "color" else f"{info.default:g}"
        bounds = f" in {info.low:g}..{info.high:g}" if info.low is not None else ""
        print(f"  param {info.name} = {default}{bounds}" + (f"  {info.doc}" if info.doc else ""), file=out)
    return EXIT_OK


def command_builtins(arguments, out) -> int:
    # this command's wings
    from artlang.builtins import load_all
    table = load_all()
    if arguments.name:
        entry = table.get(arguments.name)
        if entry is None:
            raise error(f"no built-in named `{arguments.name}`", stage=USAGE,
                        hint=did_you_mean(arguments.name, table) or "run `artlang builtins` for the list")
        print(entry.signature(), file=out)
        print(file=out)
        print(entry.doc, file=out)
        for param in getattr(entry, "params", ()):
            if param.doc:
                print(f"  {param.name}: {param.doc}", file=out)
        if entry.example:
            print(f"\nexample:\n  {entry.example}", file=out)
        return EXIT_OK
    by_category: dict[str, list[str]] = {}
    for name, entry in table.items():
        by_category.setdefault(entry.category, []).append(name)
    for category, names in by_category.items():
        print(f"{category}: {', '.join(names)}", file=out)
    return EXIT_OK


def _print_warnings(program, out) -> None:
    for warning in program.warnings:
        print(format_diagnostic(warning, program.sources), file=sys.stderr)


def command_watch(arguments, out) -> int:
    # this command's wings
    from artlang.live.preview import PreviewServer
    from artlang.live.session import LiveSession
    from artlang.live.watcher import Watcher
    from artlang.runtime.render import bind_params, load_sketch
    if not arguments.file.is_file():
        raise error(f"no such sketch file: {arguments.file}", stage=USAGE)
    if arguments.output:
        refuse_unwritable(arguments.output, "watch")
    if arguments.poll is not None and arguments.poll <= 0:
        raise error("--poll needs a positive number of seconds", stage=USAGE)
    if not 0 <= arguments.port <= 65535:
        raise error(f"--port {arguments.port}: a port is a number from 0 to 65535", stage=USAGE)
    if arguments.frame < 0:
        raise error(f"--frame {arguments.frame}: frames count from 0", stage=USAGE)
    if arguments.param:                 # an unknown or bad --param is a usage error, if we can tell
        try:
            program = load_sketch(arguments.file, arguments.root, limits=_limits(arguments))
        except ArtError:
            program = None              # the sketch is broken now: watching will show why
        if program is not None:
            bind_params(program, dict(arguments.param))
    session = LiveSession(arguments.file, arguments.output, root=arguments.root, seed=arguments.seed,
                          size=arguments.size, params=dict(arguments.param), limits=_limits(arguments),
                          frame=arguments.frame, trust=arguments.trust)
    printer = _WatchPrinter(out, session.output)
    watcher = Watcher(session, report=printer.report, poll=arguments.poll)
    server = None
    if not arguments.no_preview:
        server = PreviewServer(session.state, watcher, host=arguments.host, port=arguments.port)
        try:
            server.start()
        except OSError as failure:
            raise error(f"cannot serve the preview on {arguments.host}:{arguments.port}: "
                        f"{failure.strerror or failure}", stage=USAGE,
                        hint="pick another port with --port N (0 picks a free one), or --no-preview")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        how = f"polling every {arguments.poll:g} s" if arguments.poll else "file events"
        print(f"watching {arguments.file} → {_shown(session.output)} ({how}); Ctrl-C to stop",
              file=out, flush=True)
        if server is not None:
            print(f"preview: {server.url}", file=out, flush=True)
        watcher.start()
        if server is not None and arguments.open:
            webbrowser.open(server.url)
        threading.Event().wait()                # until Ctrl-C (or SIGTERM)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
        if server is not None:
            server.stop()
        signal.signal(signal.SIGTERM, previous)
    print("stopped", file=out, flush=True)
    return EXIT_OK


def _write_failure(failure: OSError, target) -> ArtError:
    """A file that could not be written, as the runtime error it is (exit 3)."""
    return error(f"cannot write {failure.filename or target}: {failure.strerror or failure}",
                 stage=RUNTIME)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


class Terminated(KeyboardInterrupt):
    """SIGTERM, stopping a command the way Ctrl-C does (exit `EXIT_TERMINATED`)."""


def _terminate(signum, frame):
    raise Terminated


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class _WatchPrinter:
    """Turns the watcher's outcomes into terminal lines (called from the watcher's thread)."""

    def __init__(self, out, output: Path):
        self.out, self.output = out, output
        self.failing = False

    def report(self, outcome) -> None:
        stamp = time.strftime("%H:%M:%S")
        for notice in outcome.notices:
            print(f"[{stamp}] note: {notice}", file=self.out, flush=True)
        if outcome.status == "rendered":
            fixed = " (fixed)" if self.failing else ""
            frames = f", playing {outcome.frames} frames in the preview" if outcome.frames > 1 else ""
            print(f"[{stamp}] rendered in {outcome.seconds * 1000:.0f} ms → {_shown(self.output)}"
                  f"{fixed}{frames}", file=self.out, flush=True)
            self.failing = False
        elif outcome.status == "failed":
            self.failing = True
            print(f"[{stamp}] {outcome.error_text}\n  (keeping the last good image)",
                  file=sys.stderr, flush=True)
        elif outcome.status == "crashed":
            report = Path(tempfile.gettempdir()) / f"artlang-crash-{os.getpid()}.txt"
            report.write_text(outcome.error_text, encoding="utf-8")
            print(f"[{stamp}] internal error in artlang {__version__}; still watching. "
                  f"The details are in {report}; please report it with your sketch",
                  file=sys.stderr, flush=True)


def command_export(arguments, out) -> int:
    """SIGTERM stops an export as Ctrl-C does: its workers end, the frames written are kept."""
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _export(arguments, out)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _export(arguments, out) -> int:
    # this command's wings
    from artlang.export.jobs import Job
    from artlang.export.syntax import parse_frames, parse_seeds, parse_values
    from artlang.export.variations import dataset, sweep
    if not arguments.file.is_file():
        raise error(f"no such sketch file: {arguments.file}", stage=USAGE)
    if arguments.workers < 1:
        raise error("--workers needs at least 1", stage=USAGE)
    format = format_for(arguments.output, arguments.bits)
    limits = _limits(arguments)
    seeds = parse_seeds(arguments.seed) if arguments.seed else None
    params = {name: parse_values(name, text, limits) for name, text in arguments.param}
    if arguments.dataset is not None:
        if arguments.dataset < 1:
            raise error("--dataset needs at least 1", stage=USAGE)
        variations = dataset(arguments.dataset, seeds[0] if seeds else 0, params, limits)
    else:
        variations = sweep(seeds, params, limits)
    job = Job(arguments.file, arguments.output, format=format, variations=variations,
              frames=parse_frames(arguments.frames), size=arguments.size,
              quality=arguments.quality, root=arguments.root, limits=limits,
              trust=arguments.trust)
    backend = _backend(arguments)
    try:
        return _run_export(job, backend, arguments, out)
    except OSError as failure:
        raise _write_failure(failure, arguments.output) from None


def _run_export(job, backend, arguments, out) -> int:
    # this command's wings
    from tqdm import tqdm  # only for a command that shows progress

    from artlang.export.products import write_manifest, write_sheet
    bar = tqdm(total=len(job.units), unit="frame", file=sys.stderr, disable=None, leave=False,
               dynamic_ncols=True)
    try:
        result = job.run(backend, lambda done, total: bar.update(done - bar.n))
    except KeyboardInterrupt:
        bar.close()
        print("interrupted: the frames written so far are kept; run the same command again to "
              "finish", file=sys.stderr)
        raise
    finally:
        bar.close()
        backend.close()
    if arguments.dataset is not None:
        result.written.append(write_manifest(job))
    if arguments.sheet:
        result.written.append(write_sheet(job, arguments.sheet))
    reused = f", {result.reused} already there" if result.reused else ""
    first = _shown(result.written[0])
    what = first if len(result.written) == 1 else f"{len(result.written)} files ({first}, ...)"
    plural = "" if result.rendered == 1 else "s"
    print(f"wrote {what}: {result.rendered} frame{plural} rendered{reused} in {result.seconds:.1f} s",
          file=out)
    return EXIT_OK


def _backend(arguments):
    # this command's wings
    from artlang.export.backends import Backend, ProcessBackend
    if arguments.scheduler:
        from artlang.export.cluster import DaskBackend   # imports distributed: only for --scheduler
        return DaskBackend(arguments.scheduler)
    if arguments.workers > 1:
        return ProcessBackend(arguments.workers)
    return Backend()


def command_reproduce(arguments, out) -> int:
    # this command's wings
    from artlang.output.provenance import reproduce
    if arguments.output:
        refuse_unwritable(arguments.output, "reproduce")
    try:
        result = reproduce(arguments.picture, arguments.output, arguments.root,
                           trust=arguments.trust)
    except OSError as failure:
        raise _write_failure(failure, arguments.output) from None
    if not result.compared:
        print(f"{arguments.picture}: frame {result.recipe.frame} rendered again from its recipe"
              + (f" into {arguments.output}" if arguments.output else "") +
              f" (a {arguments.picture.suffix} is not compared pixel for pixel)", file=out)
        return EXIT_OK
    if not result.pixels_equal:
        count = f" ({result.differing:,} pixels)" if result.differing > 0 else ""
        print(f"{arguments.picture}: the new rendering differs{count}; made with artlang "
              f"{result.recipe.version}", file=sys.stderr)
        return EXIT_RUNTIME
    same_file = " and the file is byte-identical" if result.bytes_equal else ""
    print(f"{arguments.picture}: reproduced, every pixel is the same{same_file}", file=out)
    return EXIT_OK


def command_models(arguments, out) -> int:
    """The zoo: one line per model, or a model's card."""
    # this command's wings
    from artlang.language.project import zoo_dir, zoo_names
    from artlang.models.config import ModelConfig
    from artlang.models.store import zoo_entry
    if arguments.name:
        entry = zoo_entry(arguments.name)
        card = entry.card.read_text(encoding="utf-8") if entry.card.is_file() else "(no card)"
        print(card.rstrip() + f"\n\nfiles: {entry.folder}", file=out)
        return EXIT_OK
    names = zoo_names()
    if not names:
        print("the zoo is empty", file=out)
        return EXIT_OK
    print(f"{'name':<16} {'kind':<5} {'size':<7} {'z':>4}  data", file=out)
    for name in names:
        config = ModelConfig.read(zoo_dir() / name / "config.json")
        size = f"{config.image_size}x{config.image_size}"
        print(f"{name:<16} {config.kind:<5} {size:<7} {config.z_size:>4}  {config.data or config.description}",
              file=out)
    print('\nuse one in a sketch: let m = model("NAME"); `artlang models NAME` shows its card',
          file=out)
    return EXIT_OK


def command_limits(arguments, out) -> int:
    """Every resource limit: its name, the value in force here, its default and its meaning."""
    here = Limits.from_environment().as_dict()
    print(f"{'limit':<15} {'here':>13} {'default':>13}  meaning", file=out)
    for (name, default, variable, about), value in zip(Limits.describe(), here.values()):
        print(f"{name:<15} {value:>13,} {default:>13,}  {about} (${variable})", file=out)
    print("\nchange one for a command with --limit NAME=VALUE, or for a shell with the variable",
          file=out)
    return EXIT_OK


COMMANDS = {"render": command_render, "check": command_check, "builtins": command_builtins,
            "watch": command_watch, "export": command_export, "reproduce": command_reproduce,
            "train": command_train, "models": command_models, "limits": command_limits}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.command is None:
        parser.print_help()
        return EXIT_USAGE
    sources = SourceCache()
    try:
        return COMMANDS[arguments.command](arguments, sys.stdout)
    except ArtError as failure:
        sources = getattr(failure, "sources", None) or sources
        print(format_failure(failure, sources), file=sys.stderr)
        return EXIT_CODES[failure.stage]
    except KeyboardInterrupt as stop:
        print("interrupted", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED
    except Exception:  # the runner boundary: a bug in artlang, not in the sketch
        report = Path(tempfile.gettempdir()) / f"artlang-crash-{os.getpid()}.txt"
        report.write_text(traceback.format_exc(), encoding="utf-8")
        if os.environ.get("ARTLANG_DEBUG"):
            traceback.print_exc()
        print(f"internal error in artlang {__version__}: {sys.exc_info()[1]!r}\n"
              f"  the details are in {report}; please report it with your sketch", file=sys.stderr)
        return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
