"""Render every sketch in sketches/ to docs/images/sketches/NAME.png for the README gallery.

    .venv/bin/python tools/render_sketches.py               all sketches, 384 pixels wide
    .venv/bin/python tools/render_sketches.py aurora lava   only these
    .venv/bin/python tools/render_sketches.py --width 256   another width

Each picture is the sketch's frame 0 at its own seed and default params, scaled to the given width
with the sketch's aspect ratio kept (the coordinates are resolution-independent, so the composition
does not change). It goes through the same Python API as `artlang render` (load_sketch, Renderer,
write_png) and is deterministic: the same sketches and noise kernels give the same bytes.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

from artlang.core.errors import SourceCache, format_diagnostic  # noqa: E402
from artlang.runtime.render import ArtError, Renderer, load_sketch  # noqa: E402
from artlang.output.writers import write_png  # noqa: E402
from artlang.output.provenance import picture_text  # noqa: E402

SKETCHES = ROOT / "sketches"
IMAGES = ROOT / "docs" / "images" / "sketches"
GALLERY_WIDTH = 384


def gallery_size(width: int, height: int, target_width: int = GALLERY_WIDTH) -> tuple[int, int]:
    """`target_width` wide, with the height that keeps the sketch's aspect ratio."""
    return target_width, max(1, round(target_width * height / width))


def render_sketch(path: Path, target: Path, target_width: int = GALLERY_WIDTH) -> tuple[int, int]:
    """Render frame 0 of the sketch at `path` to the PNG `target`; returns the size drawn."""
    program = load_sketch(path)
    size = gallery_size(program.settings.width, program.settings.height, target_width)
    renderer = Renderer(program, size=size)
    write_png(renderer.render(0), target, picture_text(renderer))
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="sketch names (default: every sketches/*.art)")
    parser.add_argument("--width", type=int, default=GALLERY_WIDTH, help="picture width in pixels")
    arguments = parser.parse_args(argv)

    paths = ([SKETCHES / f"{name.removesuffix('.art')}.art" for name in arguments.names]
             or sorted(SKETCHES.glob("*.art")))
    failed = 0
    for path in paths:
        target = IMAGES / f"{path.stem}.png"
        started = time.perf_counter()
        try:
            width, height = render_sketch(path, target, arguments.width)
        except ArtError as failure:
            sources = getattr(failure, "sources", None) or SourceCache()
            for diagnostic in failure.diagnostics:
                print(format_diagnostic(diagnostic, sources), file=sys.stderr)
            failed += 1
            continue
        except OSError as failure:
            print(f"{path.name}: {failure}", file=sys.stderr)
            failed += 1
            continue
        elapsed = time.perf_counter() - started
        print(f"{target.relative_to(ROOT)}  {width} x {height}  "
              f"{target.stat().st_size / 1024:.0f} KB  {elapsed:.2f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
