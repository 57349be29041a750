"""The example sketches: each renders to a real picture, deterministically, and teaches by its header."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from artlang.runtime.render import Renderer, load_sketch
from artlang.kernels.pixels import to_8bit
from conftest import ROOT

SKETCHES = sorted((ROOT / "sketches").glob("*.art"))
SIZE = (64, 64)


def render(path, frame: int = 0, **options) -> np.ndarray:
    """Frame `frame` of the sketch at the small test size, with a fresh renderer (no shared cache)."""
    return Renderer(load_sketch(path), size=SIZE, **options).render(frame)


def digest(image: np.ndarray) -> str:
    """The hash of the 8-bit pixels the PNG writer would store."""
    return hashlib.sha256(to_8bit(image).tobytes()).hexdigest()


def test_there_are_at_least_six_sketches_and_aurora_is_one():
    assert len(SKETCHES) >= 6, [p.name for p in SKETCHES]
    assert (ROOT / "sketches" / "aurora.art").is_file(), "the README's first command renders aurora.art"


@pytest.mark.parametrize("path", SKETCHES, ids=lambda p: p.stem)
def test_sketch_renders_a_real_picture(path):
    image = render(path)
    assert image.shape == (SIZE[1], SIZE[0], 4)
    assert image.dtype == np.float32
    assert not np.isnan(image).any(), "NaN pixels would be written as black"
    assert image[..., 3].min() > 0.99, "a gallery picture is opaque"
    brightness = image[..., :3].clip(0, 1).mean(axis=2)
    assert brightness.std() > 0.02, f"the picture is flat (std {brightness.std():.3f})"
    assert 0.05 < brightness.mean() < 0.85, f"mean brightness {brightness.mean():.3f}: too dark or too bright"


@pytest.mark.parametrize("path", SKETCHES, ids=lambda p: p.stem)
def test_sketch_renders_the_same_bytes_twice(path):
    assert digest(render(path)) == digest(render(path))


@pytest.mark.parametrize("path", SKETCHES, ids=lambda p: p.stem)
def test_sketch_starts_with_a_comment_saying_how_to_render_it(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    header = []
    for line in lines:
        if not line.startswith("#"):
            break
        header.append(line)
    assert header and header[0].startswith(f"# {path.stem}: "), "first line: `# NAME: what it shows`"
    assert any(f"artlang render sketches/{path.name}" in line for line in header)
    assert len(lines) <= 45, "keep example sketches short enough to read at a glance"


def test_animated_sketches_move_and_loop():
    animated = [p for p in SKETCHES if load_sketch(p).settings.frames > 1]
    assert animated, "at least one sketch is an animation"
    for path in animated:
        frames = load_sketch(path).settings.frames
        first, middle = render(path, 0), render(path, frames // 2)
        assert digest(first) != digest(middle), f"{path.name} does not change over time"


def test_the_params_sketch_declares_documented_ranged_params_that_change_the_picture():
    path = ROOT / "sketches" / "params.art"
    params = load_sketch(path).params
    assert len(params) >= 3
    numeric = [info for info in params.values() if info.kind != "color"]
    for info in params.values():
        assert info.doc, f"param `{info.name}` has no doc string"
    for info in numeric:
        assert info.low is not None and info.low <= info.default <= info.high, info.name
    tweaked = {info.name: info.high for info in numeric}
    assert digest(render(path)) != digest(render(path, params=tweaked))
