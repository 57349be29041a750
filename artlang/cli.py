"""The command line: the only place that prints, catches everything, and chooses exit codes."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from . import __version__
from .errors import CHECK, RUNTIME, SYNTAX, USAGE, ArtError, SourceCache, format_diagnostic

EXIT_OK = 0
EXIT_SKETCH_ERROR = 1      # the sketch has a syntax or check error
EXIT_USAGE = 2             # the command line is wrong (bad flag, unknown --param, value out of range)
EXIT_RUNTIME = 3           # the render failed (unreadable image, out of memory, cannot write)
EXIT_INTERNAL = 70         # a bug in artlang
EXIT_INTERRUPTED = 130
EXIT_CODES = {SYNTAX: EXIT_SKETCH_ERROR, CHECK: EXIT_SKETCH_ERROR, USAGE: EXIT_USAGE,
              RUNTIME: EXIT_RUNTIME}

DESCRIPTION = """\
artlang turns small .art sketches into images.

  artlang render sketches/aurora.art -o aurora.png
  artlang watch sketches/aurora.art             re-render on every save, live preview
  artlang check my.art
  artlang builtins fbm

Exit codes: 0 ok, 1 the sketch has an error, 2 usage error, 3 the render failed,
70 internal error (please report it)."""

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
    render.add_argument("file", type=Path, help="the .art sketch")
    render.add_argument("-o", "--output", type=Path, help="where to write the PNG (default: FILE.png)")
    render.add_argument("--size", type=_size, metavar="WxH", help="canvas size, overriding `canvas`")
    render.add_argument("--seed", type=int, metavar="N", help="master seed, overriding `seed`")
    render.add_argument("-p", "--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                        help="set a `param` (repeatable)")
    render.add_argument("--frame", type=int, default=0, metavar="N", help="which frame to render (from 0)")
    _add_common(render)

    watch = commands.add_parser("watch", help="re-render on every save, with a live preview page",
                                epilog=WATCH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    watch.add_argument("file", type=Path, help="the .art sketch")
    watch.add_argument("-o", "--output", type=Path, help="where to write the PNG (default: FILE.png)")
    watch.add_argument("--size", type=_size, metavar="WxH", help="canvas size, overriding `canvas`")
    watch.add_argument("--seed", type=int, metavar="N", help="master seed, overriding `seed`")
    watch.add_argument("-p", "--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                       help="set a `param` (repeatable; the preview's sliders change it too)")
    watch.add_argument("--frame", type=int, default=0, metavar="N",
                       help="which frame of an animation to write (the preview plays them all)")
    watch.add_argument("--port", type=int, default=8421, metavar="N",
                       help="preview port on 127.0.0.1 (default 8421; 0 picks a free one)")
    watch.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                       help="address the preview listens on (default 127.0.0.1, this machine only)")
    watch.add_argument("--no-preview", action="store_true", help="no preview page, terminal only")
    watch.add_argument("--open", action="store_true", help="open the preview in the default browser")
    watch.add_argument("--poll", type=float, nargs="?", const=0.25, metavar="SECONDS",
                       help="poll for changes every SECONDS (default 0.25) instead of file events")
    _add_common(watch)

    check = commands.add_parser("check", help="report every problem in a sketch, render nothing",
                                epilog=CHECK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("file", type=Path, help="the .art sketch")
    _add_common(check)

    builtins = commands.add_parser("builtins", help="list built-ins, or describe one",
                                   epilog="examples:\n  artlang builtins\n  artlang builtins fbm",
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    builtins.add_argument("name", nargs="?", help="a built-in to describe")
    return parser


def _add_common(command) -> None:
    command.add_argument("--root", type=Path, metavar="DIR",
                         help="project folder the sketch may read from (default: the sketch's folder)")
    command.add_argument("--max-pixels", type=int, metavar="N",
                         help="refuse canvases larger than N pixels (default 16777216, or $ARTLANG_MAX_PIXELS)")


def _limits(arguments):
    from .limits import Limits
    limits = Limits.from_environment()
    if arguments.max_pixels is not None:
        limits = Limits(max_pixels=arguments.max_pixels)
    return limits


def _load(arguments):
    from .render import load_sketch
    if not arguments.file.is_file():
        from .errors import error
        raise error(f"no such sketch file: {arguments.file}", stage=USAGE)
    return load_sketch(arguments.file, arguments.root)


def command_render(arguments, out) -> int:
    from .render import Renderer
    from .writers import write_image

    started = time.perf_counter()
    program = _load(arguments)
    _print_warnings(program, out)
    renderer = Renderer(program, size=arguments.size, seed=arguments.seed,
                        params=dict(arguments.param), limits=_limits(arguments))
    image = renderer.render(arguments.frame)
    target = arguments.output or arguments.file.with_suffix(".png")
    if target.suffix.lower() != ".png":
        from .errors import error
        raise error(f"cannot write `{target.name}`: only .png output for now", stage=USAGE,
                    hint="use -o NAME.png")
    try:
        write_image(image, target, renderer.metadata())
    except OSError as failure:
        from .errors import error
        raise error(f"cannot write {target}: {failure.strerror or failure}", stage=RUNTIME) from None
    elapsed = time.perf_counter() - started
    print(f"wrote {target} ({renderer.canvas.width} x {renderer.canvas.height}, {elapsed:.2f} s)",
          file=out)
    return EXIT_OK


def command_check(arguments, out) -> int:
    from .render import canvas_size
    program = _load(arguments)
    _print_warnings(program, out)
    canvas_size(program, None, _limits(arguments))
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
    from .builtins import load_all
    from .errors import did_you_mean, error
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
    from .live import LiveSession
    from .watcher import Watcher
    from .errors import error
    if not arguments.file.is_file():
        raise error(f"no such sketch file: {arguments.file}", stage=USAGE)
    if arguments.output and arguments.output.suffix.lower() != ".png":
        raise error(f"cannot write `{arguments.output.name}`: watch writes .png", stage=USAGE,
                    hint="use -o NAME.png")
    if arguments.poll is not None and arguments.poll <= 0:
        raise error("--poll needs a positive number of seconds", stage=USAGE)
    session = LiveSession(arguments.file, arguments.output, root=arguments.root, seed=arguments.seed,
                          size=arguments.size, params=dict(arguments.param), limits=_limits(arguments),
                          frame=arguments.frame)
    printer = _WatchPrinter(out, session.output)
    watcher = Watcher(session, report=printer.report, poll=arguments.poll)
    server = None
    if not arguments.no_preview:
        from .preview import PreviewServer
        server = PreviewServer(session.state, watcher, host=arguments.host, port=arguments.port)
        try:
            server.start()
        except OSError as failure:
            raise error(f"cannot serve the preview on {arguments.host}:{arguments.port}: "
                        f"{failure.strerror or failure}", stage=USAGE,
                        hint="pick another port with --port N (0 picks a free one), or --no-preview")
    import signal
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        how = f"polling every {arguments.poll:g} s" if arguments.poll else "file events"
        print(f"watching {arguments.file} → {_shown(session.output)} ({how}); Ctrl-C to stop",
              file=out, flush=True)
        if server is not None:
            print(f"preview: {server.url}", file=out, flush=True)
        watcher.start()
        if server is not None and arguments.open:
            import webbrowser
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


def _interrupt(signum, frame):
    raise KeyboardInterrupt


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


COMMANDS = {"render": command_render, "check": command_check, "builtins": command_builtins,
            "watch": command_watch}


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
        for diagnostic in failure.diagnostics:
            print(format_diagnostic(diagnostic, sources), file=sys.stderr)
        count = len(failure.diagnostics)
        if count > 1:
            print(f"{count} errors", file=sys.stderr)
        return EXIT_CODES[failure.stage]
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
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
