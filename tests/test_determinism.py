"""Seeds and streams: the same inputs give the same bytes; each call site has its own stream."""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from PIL import Image

from artlang.kernels.pixels import to_8bit
from conftest import ROOT, ZOO_GAN, run_cli

sys.path.insert(0, str(ROOT / "tools"))
import soak_watch  # noqa: E402  (runs `artlang watch` as a subprocess and reads what it prints)


def digest(image) -> str:
    return hashlib.sha256(to_8bit(image).tobytes()).hexdigest()


NOISY = "canvas 40 x 30\nlet clouds = fbm(uv * 3, octaves=4)\nlet grain = gaussian(0.1)\noutput clouds + grain\n"


def test_same_sketch_and_seed_give_identical_images(render):
    assert digest(render(NOISY, seed=1)) == digest(render(NOISY, seed=1))


def test_a_different_seed_gives_a_different_image(render):
    assert digest(render(NOISY, seed=1)) != digest(render(NOISY, seed=2))


def test_adding_a_noise_call_elsewhere_changes_nothing_here(render):
    alone = "canvas 40 x 30\nlet clouds = fbm(uv * 3)\noutput clouds\n"
    with_more = ("canvas 40 x 30\n# a new comment line shifts everything down\n"
                 "let extra = gaussian(0.2) + perlin(uv) + fbm(uv * 3)\n"
                 "let clouds = fbm(uv * 3)\nlayer unused = extra\noutput clouds\n")
    assert digest(render(alone, seed=9)) == digest(render(with_more, seed=9))


def test_two_identical_calls_in_one_binding_differ(render):
    image = render("canvas 32 x 32\noutput 0.5 + 0.5 * (gaussian(0.1) - gaussian(0.1))\n")
    assert image[..., 0].std() > 0.05


def test_the_seed_argument_gives_a_variation(render):
    same = render("canvas 32 x 32\nlet a = perlin(uv * 4)\noutput a\n", seed=4)
    other = render("canvas 32 x 32\nlet a = perlin(uv * 4, seed=1)\noutput a\n", seed=4)
    assert digest(same) != digest(other)


def test_functions_are_pure(render):
    image = render("canvas 32 x 32\nfn grain(s) = gaussian(s)\noutput 0.5 + grain(0.1) - grain(0.1)\n")
    assert np.allclose(image[..., 0], 0.5)


def test_frames_are_deterministic_and_animated(render):
    sketch = "canvas 32 x 32\nframes 10\nfps 10\noutput fbm(uv * 2, t) * 0.5 + 0.5\n"
    first, again, later = render(sketch, frame=3), render(sketch, frame=3), render(sketch, frame=7)
    assert digest(first) == digest(again)
    assert digest(first) != digest(later)


# ── one picture, however the command line makes it ─────────────────────────────────────────────
# Representative sketches (noise and shapes; filters on a photo; an animation; a zoo model), each
# made by the commands a user runs, must come out the same: run again in a new process, exported
# with one or two workers, drawn in tiles of any size, and written by `artlang watch`. The PNG
# `watch` writes is compressed for speed, so it is compared with `render`'s as a picture (mode,
# pixels, recipe), not as a file; everything else is compared byte for byte.
class Case(NamedTuple):
    text: str
    frame: int          # the frame rendered (and written by watch)
    frames: int         # how many an export writes


CASES = {
    "shapes": Case("canvas 64 x 48\nseed 3\nlet n = fbm(uv * 3, octaves=4)\n"
                   "layer sky = gradient(n * 0.5 + 0.5, #0b1d51, #ff7e5f, #feb47b)\n"
                   "layer cells = gray(worley(uv * 5)) blend multiply opacity 0.4\n"
                   "layer sun = fill(circle(uv - vec(0.3, 0.2), 0.35), #ffd27a) blend screen opacity 0.9\n"
                   "layer ring = stroke(circle(uv + vec(0.4, 0.1), 0.3), 0.04, #2266ff, blur=0.02)\n"
                   "layer grain = gray(gaussian(0.08) + 0.5) blend overlay opacity 0.3\n"
                   "output sky, cells, sun, ring, grain\n", 0, 1),
    "filters": Case('canvas 64 x 48\nlet photo = image("photo.png", fit="cover")\n'
                    "layer base = sharpen(blur(photo, 3 * pixel), 1.5, 2 * pixel)\n"
                    "layer lines = edges(photo) * 3 blend add opacity 0.5\n"
                    "layer emboss = convolve(photo, [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]) "
                    "blend overlay opacity 0.4\n"
                    "output base, lines, emboss\n", 0, 1),
    "animated": Case("canvas 48 x 32\nseed 11\nframes 6\nfps 12\nlet n = loop_noise(uv * 3, octaves=3)\n"
                     "let swing = ease_in_out(pingpong(cycle))\n"
                     "layer flow = gradient(n * 0.5 + 0.5, #10223a, #ff7e5f, #feb47b)\n"
                     "layer ball = fill(circle(uv - vec(swing - 0.5, 0), 0.25), #ffffff) "
                     "blend screen opacity 0.7\n"
                     "layer grain = gray(uniform(0.1) + 0.5) blend overlay opacity 0.2\n"
                     "output flow, ball, grain\n", 2, 6),
    "model": Case(f'canvas 48 x 48\nframes 3\nfps 6\nlet m = model("{ZOO_GAN}")\n'
                  'let picture = decode(m, latent_loop(m, 11, truncation=0.8), fit="contain")\n'
                  "layer ground = mix(#20243a, #3b2f4f, smoothstep(-1.2, 1.2, uv.y))\n"
                  "layer shape = rgb(picture.r, picture.g, picture.b, 1)\n"
                  "layer glow = blur(picture, 2 * pixel) blend screen opacity 0.5\n"
                  "output ground, shape, glow\n", 2, 3),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """The sketches, and a photo with varying alpha (so blurs take the premultiplied path)."""
    folder = tmp_path_factory.mktemp("determinism")
    y, x = np.mgrid[0:24, 0:32] / 24.0
    photo = np.stack([0.5 + 0.5 * np.sin(x * 9), 0.5 + 0.5 * np.cos(y * 7), x * y, 0.3 + 0.5 * x],
                     axis=-1)
    Image.fromarray((np.clip(photo, 0, 1) * 255).astype(np.uint8), "RGBA").save(folder / "photo.png")
    for name, case in CASES.items():
        (folder / f"{name}.art").write_text(case.text, encoding="utf-8")
    return folder


def rendered(sketch: Path, target: Path, frame: int, *options) -> bytes:
    """`artlang render SKETCH -o TARGET --frame FRAME OPTIONS`, in-process; the file's bytes."""
    result = run_cli("render", sketch, "-o", target, "--frame", frame, *options)
    assert result.code == 0, result.stderr
    return target.read_bytes()


def picture(data: bytes) -> tuple:
    """A PNG as what it shows: mode, size, 8-bit RGBA pixels, and its text chunks (the recipe)."""
    with Image.open(io.BytesIO(data)) as image:
        return image.mode, image.size, image.convert("RGBA").tobytes(), image.info


@pytest.fixture(scope="module")
def fresh_renders(project) -> dict[str, bytes]:
    """Each case rendered by `artlang render` in a process of its own (all started at once), with
    another hash seed than this one's: nothing may depend on the order of a set or a dict."""
    processes = {}
    for name, case in CASES.items():
        command = soak_watch.artlang_command() + ["render", f"{name}.art", "-o", f"fresh_{name}.png",
                                                  "--frame", str(case.frame)]
        processes[name] = subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE, text=True,
                                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    for name, process in processes.items():
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"{name}: {err}"
    return {name: (project / f"fresh_{name}.png").read_bytes() for name in CASES}


@pytest.mark.parametrize("name", CASES)
def test_render_run_again_gives_the_same_bytes(project, fresh_renders, name):
    sketch, frame = project / f"{name}.art", CASES[name].frame
    first = rendered(sketch, project / f"first_{name}.png", frame)
    assert rendered(sketch, project / f"again_{name}.png", frame) == first
    assert fresh_renders[name] == first


@pytest.mark.parametrize("name", CASES)
def test_export_with_one_or_two_workers_gives_the_frames_render_gives(project, name):
    """Two workers split the frames (and a model's batches of latents) differently from one."""
    exported = {}
    for workers in ("1", "2"):
        target = project / f"export_{name}_{workers}" / f"{name}.png"
        result = run_cli("export", project / f"{name}.art", "-o", target, "--workers", workers)
        assert result.code == 0, result.stderr
        exported[workers] = [path.read_bytes() for path in sorted(target.parent.iterdir())]
    assert len(exported["1"]) == CASES[name].frames
    assert exported["1"] == exported["2"]
    for frame in range(CASES[name].frames):
        assert rendered(project / f"{name}.art", project / f"frame_{name}.png", frame) == \
            exported["1"][frame], f"frame {frame}"


@pytest.mark.parametrize("name", CASES)
def test_tiles_of_any_size_give_the_same_file_and_the_untiled_picture(project, name):
    sketch, frame = project / f"{name}.art", CASES[name].frame
    whole = rendered(sketch, project / f"whole_{name}.png", frame)
    tiled = [rendered(sketch, project / f"tiled_{name}_{tile}.png", frame, "--tile", tile)
             for tile in (16, 40, 1000)]
    assert tiled[1] == tiled[0] and tiled[2] == tiled[0]
    assert picture(tiled[0]) == picture(whole)


def test_watch_writes_the_picture_render_writes_through_every_edit(project, tmp_path):
    """One `artlang watch` process, the sketch edited from case to case (the watcher keeps its
    cache between edits): after each edit, its file shows what `artlang render` draws."""
    (tmp_path / "photo.png").write_bytes((project / "photo.png").read_bytes())
    live = tmp_path / "live.art"
    names = list(CASES)
    live.write_text(CASES[names[0]].text, encoding="utf-8")
    watch = soak_watch.WatchProcess(tmp_path, "live.art", "live.png", ("--no-preview", "--frame", "2"))
    try:
        for index, name in enumerate(names):
            renders = watch.renders()
            if index:
                soak_watch.write_via_rename(live, CASES[name].text)
            assert watch.wait_for(lambda: watch.renders() > renders, 120), \
                f"{name}: no render; stderr: {watch.stderr}"
            expected = rendered(live, tmp_path / f"expected_{name}.png", CASES[name].frame)
            assert picture(watch.output.read_bytes()) == picture(expected), name
    finally:
        assert watch.stop() == 0
    assert watch.errors == [] and watch.crashes() == 0, watch.stderr
