"""The command line: the only place that prints, catches everything, and chooses exit codes."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
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


COMMANDS = {"render": command_render, "check": command_check, "builtins": command_builtins}


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
