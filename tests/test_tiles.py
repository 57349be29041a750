"""Tiled rendering: tiles equal the whole canvas byte for byte, whatever their size; sketches that
read pixels from anywhere are refused with a located error; PNG and TIFF are streamed band by band
in bounded memory."""
from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlang.output import streaming
from artlang.builtins import load_all
from artlang.language.schema import BuiltinValue
from artlang.runtime.context import RenderCancelled
from artlang.core.errors import ArtError
from artlang.core.limits import Limits
from artlang.runtime.render import Renderer, load_sketch
from artlang.output.streaming import write_png_streaming, write_tiff_streaming, write_tiled
from artlang.runtime.tiles import TiledRenderer
from artlang.kernels.pixels import to_8bit
from conftest import ZOO_VAE

TILE_SIZES = (16, 32, 50, (7, 13))
CANVAS = "canvas 97 x 61\n"
NOISE = "let n = fbm(uv * 3, octaves=5)\n"
PICTURE = "let photo = image(\"photo.png\")\n"

SKETCHES = {
    "fbm gradient": NOISE + "output gradient(n * 0.5 + 0.5, #0b1d51, #ff7e5f, #feb47b)",
    "worley and white noise": "output gradient(worley(uv * 4), #000000, #ffffff) + uniform(0.2) "
                              "+ gaussian(0.1) + gaussian_rgb(0.05)",
    "shapes": "layer disc = fill(circle(uv, 0.5), #ff8800)\n"
              "layer ring = stroke(circle(uv - vec(0.3, 0), 0.4), 0.03, #2266ff, blur=0.01)\n"
              "output disc, ring",
    "image": PICTURE + "output photo",
    "image contained and cropped": "output image(\"photo.png\", fit=\"contain\", "
                                   "crop=[0.1, 0.2, 0.8, 0.9])",
    "small blur": "output blur(fill(circle(uv, 0.5), #ff0000), 3 * pixel)",
    "box blur": NOISE + "output blur(gradient(n * 0.5 + 0.5, #000000, #ffffff), 12 * pixel)",
    "box blur with alpha": "output blur(fill(box(uv, vec(0.5, 0.3)), #33cc66), 9 * pixel)",
    "blur of a photo with alpha": PICTURE + "output blur(photo, 2.5 * pixel)",
    # transparent in one corner only: tiles far from it are opaque and take blur's opaque shortcut,
    # which must give the bytes of the premultiplied blur the whole canvas takes (weights sum to 1)
    "blur opaque in places": NOISE + "output blur(with_alpha(gradient(n, #102030, #f0e0d0), "
                                     "step(0.4, length(uv - vec(1.3, 0.8)))), 1.4 * pixel)",
    "sharpen": PICTURE + "output sharpen(photo, 1.5, 2 * pixel)",
    "edges": PICTURE + "output edges(photo) * 4",
    "convolve": NOISE + "output convolve(gradient(n, #000000, #ff0000), "
                        "[[0, -1, 0], [-1, 5, -1], [0, -1, 0]])",
    "separable convolve": PICTURE + "output convolve(photo, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])",
    "wide convolve": PICTURE + "output convolve(photo, [1, 0, 0, 0, 0, 0, 1], normalize=\"none\")",
    "nested filters": NOISE + "let soft = blur(gradient(n, #102030, #f0e0d0), 10 * pixel)\n"
                              "output sharpen(blur(soft, 2 * pixel), 2, 9 * pixel) + edges(soft)",
    "shared node used near and far": NOISE + "let c = gradient(n, #000000, #ffffff)\n"
                                             "output mix(c, blur(c, 4 * pixel), st.x)",
    "layers and blend modes": NOISE + "layer base = gradient(st.x, #0b1d51, #feb47b)\n"
                                      "layer glow = blur(fill(circle(uv, 0.4), #ff7e5f), 5 * pixel) "
                                      "blend screen opacity 0.8\n"
                                      "layer grain = gray(n * 0.5 + 0.5) blend overlay opacity 0.3\n"
                                      "output base, glow, grain",
    "dither and posterize": "output dither(gradient(st.x, #000000, #ffffff), 3) "
                            "+ posterize(hsv(st.y), 3)",
    "flat colour sampled": "output sample(#ff0000, uv * 2, \"transparent\") + "
                           "displace(#00ff00, vec(0.3, 0.1), 1, \"transparent\")",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A folder with a photo that has varying alpha (so blurs take the premultiplied path)."""
    folder = tmp_path_factory.mktemp("tiles")
    y, x = np.mgrid[0:30, 0:40] / 30.0
    pixels = np.stack([0.5 + 0.5 * np.sin(x * 9), 0.5 + 0.5 * np.cos(y * 7), x * y, 0.3 + 0.7 * x / 1.4],
                      axis=-1)
    pixels[5:9, 10:30, 3] = 0                 # a transparent bar
    Image.fromarray((np.clip(pixels, 0, 1) * 255).astype(np.uint8), "RGBA").save(folder / "photo.png")
    return folder


def sketch(project: Path, text: str, name: str = "sketch.art"):
    path = project / name
    path.write_text(text, encoding="utf-8")
    return load_sketch(path)


def assert_same(tiled: np.ndarray, whole: np.ndarray) -> None:
    assert tiled.shape == whole.shape
    if not np.array_equal(tiled, whole, equal_nan=True):
        where = np.argwhere(tiled != whole)
        pytest.fail(f"{len(where)} values differ, first at {where[:3].tolist()}; largest difference "
                    f"{np.nanmax(np.abs(tiled - whole))}")


@pytest.mark.parametrize("name", SKETCHES)
def test_tiles_equal_the_whole_canvas(project, name):
    program = sketch(project, CANVAS + SKETCHES[name])
    whole = Renderer(program).render()
    for tile in TILE_SIZES:
        tiled = TiledRenderer(program, tile=tile)
        assert not tiled.in_one_piece()
        assert_same(tiled.render(), whole)


def test_an_animated_radius_is_planned_per_frame(project):
    program = sketch(project, "canvas 61 x 47\nframes 10\n" + NOISE +
                     "output blur(gradient(n, #000000, #ffffff), (1 + 2 * t) * 10 * pixel)")
    renderer, tiled = Renderer(program), TiledRenderer(program, tile=20)
    assert tiled.margin(0).largest < tiled.margin(9).largest
    for frame in (0, 9):
        assert_same(tiled.render(frame), renderer.render(frame))


def test_workers_and_sizes_give_the_same_bytes(project):
    program = sketch(project, CANVAS + SKETCHES["nested filters"])
    first = TiledRenderer(program, tile=24, workers=1).render()
    for tile, workers in ((24, 3), (97, 2), (1000, 1), ((97, 1), 1)):
        assert TiledRenderer(program, tile=tile, workers=workers).render().tobytes() == first.tobytes()


def test_margins_add_up_through_nested_filters(project):
    program = sketch(project, CANVAS + "let a = blur(fill(circle(uv, 0.5)), 2 * pixel)\n"
                              "output edges(convolve(a, [[1, 1, 1, 1, 1]])) + a")
    margin = TiledRenderer(program).margin()
    assert (margin.left, margin.top, margin.right, margin.bottom) == (6 + 2 + 1, 6 + 0 + 1, 9, 7)


def test_every_built_in_draws_the_same_in_tiles(project):
    """Each built-in called with arguments that vary over the canvas (a new built-in is covered
    without naming it here): tiles must equal the whole canvas."""
    colour = "rgb(st.x, st.y, 0.5, 0.4 + 0.6 * st.x)"
    number = "(st.x * 0.8 + 0.1)"
    checked, failed = [], []
    for name, entry in sorted(load_all().items()):
        if isinstance(entry, BuiltinValue):
            call = name
            kind = entry.kind
        else:
            arguments = []
            for param in entry.params:
                if param.variadic:
                    arguments += ["#ff0000", colour]
                elif not param.required:
                    continue
                elif param.path:
                    arguments.append('"photo.png"')
                elif param.model:
                    arguments.append(f'"{ZOO_VAE}"')
                elif param.kind == "model":
                    arguments.append(f'model("{ZOO_VAE}")')
                elif param.kind == "latent":
                    arguments.append(f'latent(model("{ZOO_VAE}"), 1)')
                elif param.kind == "string":
                    arguments.append(f'"{param.choices[0]}"' if param.choices else '"x"')
                elif param.kind == "list":
                    arguments.append("[0, 1]" if name == "gradient_at"
                                     else "[[1, 2, 1], [2, 4, 2], [1, 2, 1]]")
                elif param.uniform:
                    arguments.append("2")
                else:
                    arguments.append({"vec2": "(uv * 2)", "color": colour}.get(param.kind, number))
            call = f"{name}({', '.join(arguments)})"
            kind = entry.returns if entry.returns != "T" else "num"
        output = {"vec2": "v.x + 0.5 * v.y", "bool": "1 if v else 0",
                  "latent": f'decode(model("{ZOO_VAE}"), v)',
                  "model": "decode(v, latent(v, 1))"}.get(kind, "v")
        try:
            program = sketch(project, f"canvas 45 x 29\nlet v = {call}\noutput {output}\n")
            whole = Renderer(program).render()
        except ArtError:
            failed.append(name)
            continue
        assert_same(TiledRenderer(program, tile=(16, 8)).render(), whole)
        checked.append(name)
    reaching = {name for name, entry in load_all().items() if getattr(entry, "neighbourhood", None)}
    assert reaching and reaching <= set(checked)
    assert len(failed) <= len(checked) // 10, failed


# --- refusals and limits ---------------------------------------------------------------------------

SMALL = Limits(max_pixels=2000)            # a 97 x 61 canvas (5917 pixels) must be drawn in tiles


@pytest.mark.parametrize("call", ["displace(photo, vec(perlin(uv * 4), 0), 0.1)",
                                  "sample(photo, rotate(uv, 0.3))"])
def test_reading_from_anywhere_cannot_be_tiled(project, call):
    program = sketch(project, CANVAS + PICTURE + f"output {call}\n")
    with pytest.raises(ArtError) as raised:
        TiledRenderer(program, tile=16, limits=SMALL).bands()
    failure = raised.value
    name = call.split("(")[0]
    assert failure.stage == "usage"
    diagnostic = failure.diagnostics[0]
    assert f"`{name}` reads its picture at any distance" in diagnostic.message
    assert "cannot be drawn in tiles" in diagnostic.message
    assert diagnostic.span is not None and diagnostic.span.line == 3
    assert "--max-pixels" in diagnostic.hint


def test_an_untileable_sketch_that_fits_is_drawn_in_one_piece(project):
    program = sketch(project, CANVAS + PICTURE + "output displace(photo, vec(perlin(uv * 4), 0), 0.1)")
    tiled = TiledRenderer(program, tile=16)
    assert tiled.in_one_piece()
    assert [y0 for y0, _ in tiled.bands()] == [0, 16, 32, 48]
    assert_same(tiled.render(), Renderer(program).render())


def test_an_unused_layer_does_not_stop_tiling(project):
    program = sketch(project, CANVAS + PICTURE + "layer warped = sample(photo, uv * 2)\n"
                              "output blur(photo, pixel)\n")
    tiled = TiledRenderer(program, tile=16, limits=SMALL)
    assert not tiled.in_one_piece()
    assert_same(tiled.render(), Renderer(program).render())


def test_a_tile_grown_past_max_pixels_is_refused(project):
    program = sketch(project, CANVAS + NOISE + "output blur(gray(n), 40 * pixel)")
    with pytest.raises(ArtError) as raised:
        TiledRenderer(program, tile=16, limits=SMALL).bands()
    diagnostic = raised.value.diagnostics[0]
    assert "beyond each tile" in diagnostic.message and "--max-pixels" in diagnostic.message
    assert diagnostic.span.line == 3 and "--tile" in diagnostic.hint


def test_a_tile_over_max_pixels_is_refused(project):
    program = sketch(project, CANVAS + "output gray(st.x)")
    for tile in (64, 1000):
        with pytest.raises(ArtError, match="tile is .* pixels, over --max-pixels"):
            TiledRenderer(program, tile=tile, limits=SMALL).bands()
    fits = TiledRenderer(program, tile=1000)                # the canvas fits: drawn whole
    assert fits.in_one_piece() and len(list(fits.bands())) == 1


def test_limits_for_tiled_canvases(project, monkeypatch):
    assert Limits(max_pixels=5).max_tiled_pixels == 1 << 30
    monkeypatch.setenv("ARTLANG_MAX_TILED_PIXELS", "12345")
    monkeypatch.setenv("ARTLANG_MAX_PIXELS", "678")
    assert Limits.from_environment() == Limits(max_pixels=678, max_tiled_pixels=12345)
    program = sketch(project, CANVAS + "output gray(st.x)")
    with pytest.raises(ArtError, match="over the limit of 5,000 for a canvas drawn in tiles"):
        TiledRenderer(program, limits=Limits(max_pixels=100, max_tiled_pixels=5000))
    big = TiledRenderer(program, size=(300, 200), tile=64, limits=Limits(max_pixels=64 * 64))
    assert big.size == (300, 200) and not big.in_one_piece()
    with pytest.raises(ArtError, match="at least 1 x 1"):
        TiledRenderer(program, tile=0)


def test_frames_and_cancelling(project):
    program = sketch(project, CANVAS + NOISE + "output gray(n)")
    tiled = TiledRenderer(program, tile=16)
    with pytest.raises(ArtError, match="outside the animation"):
        tiled.bands(frame=3)
    bands = tiled.bands(cancelled=lambda: True)
    with pytest.raises(RenderCancelled):
        next(bands)


# --- streaming writers -------------------------------------------------------------------------------

def test_png_streams_equal_the_render_for_any_tile_size(project, tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "PART_BYTES", 3000)      # many deflate parts and IDAT chunks
    monkeypatch.setattr(streaming, "IDAT_BYTES", 1000)
    for name, mode in (("fbm gradient", "RGB"), ("layers and blend modes", "RGB"), ("image", "RGBA")):
        program = sketch(project, CANVAS + SKETCHES[name])
        expected = to_8bit(Renderer(program).render())
        files = []
        for tile in TILE_SIZES:
            tiled = TiledRenderer(program, tile=tile)
            path = tmp_path / f"out{len(files)}.png"
            write_png_streaming(tiled.bands(), path, tiled.size, {"artlang:seed": "7", "note": "é"})
            with Image.open(path) as picture:
                assert picture.mode == mode
                assert picture.info["artlang:seed"] == "7" and picture.info["note"] == "é"
                assert np.array_equal(np.asarray(picture.convert("RGBA")), expected)
            files.append(path.read_bytes())
        assert all(data == files[0] for data in files), name
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"out{i}.png" for i in range(4)]


def test_a_png_turns_rgba_at_the_first_transparent_row(project, tmp_path, monkeypatch):
    monkeypatch.setattr(streaming, "PART_BYTES", 2000)
    monkeypatch.setattr(streaming, "IDAT_BYTES", 700)
    program = sketch(project, CANVAS + NOISE + "output with_alpha(gray(n), 1 - step(0.8, -uv.y))")
    expected = to_8bit(Renderer(program).render())
    assert (expected[:50, :, 3] == 255).all() and not (expected[..., 3] == 255).all()
    files = []
    for tile in (8, 16, 61):
        path = tmp_path / f"late{tile}.png"
        write_png_streaming(TiledRenderer(program, tile=tile).bands(), path, (97, 61))
        with Image.open(path) as picture:
            assert picture.mode == "RGBA"
            assert np.array_equal(np.asarray(picture), expected)
        files.append(path.read_bytes())
    direct = tmp_path / "direct.png"
    write_png_streaming(TiledRenderer(program, tile=16).bands(), direct, (97, 61), alpha=True)
    assert all(data == direct.read_bytes() for data in files)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["direct.png", "late16.png", "late61.png",
                                                         "late8.png"]


def test_a_failed_stream_leaves_no_file(project, tmp_path):
    program = sketch(project, CANVAS + NOISE + "output gray(n)")
    tiled = TiledRenderer(program, tile=16)

    def failing():
        for number, band in enumerate(tiled.bands()):
            if number == 2:
                raise RuntimeError("stop")
            yield band
    target = tmp_path / "out"
    target.mkdir()
    for suffix, writer in ((".png", write_png_streaming), (".tif", write_tiff_streaming)):
        with pytest.raises(RuntimeError):
            writer(failing(), target / f"x{suffix}", tiled.size)
    with pytest.raises(ValueError, match="stop at row 32"):
        write_png_streaming(list(tiled.bands())[:2], target / "short.png", tiled.size)
    assert list(target.iterdir()) == []


def test_tiff_streams_equal_the_render(project, tmp_path):
    import tifffile

    for name in ("fbm gradient", "image"):
        program = sketch(project, CANVAS + SKETCHES[name])
        expected = to_8bit(Renderer(program).render())
        files = []
        for tile in TILE_SIZES:
            tiled = TiledRenderer(program, tile=tile)
            path = tmp_path / f"out{len(files)}.tif"
            write_tiff_streaming(tiled.bands(), path, tiled.size,
                                 {"Software": "artlang test", "artlang:seed": "3"}, tile=32)
            assert np.array_equal(tifffile.imread(path), expected)
            files.append(path.read_bytes())
        assert all(data == files[0] for data in files)
        with tifffile.TiffFile(tmp_path / "out0.tif") as tiff:
            page = tiff.pages[0]
            assert page.is_tiled and page.tilewidth == 32
            assert json.loads(page.description) == {"Software": "artlang test", "artlang:seed": "3"}
            assert page.tags["Software"].value == "artlang test"


def test_write_picks_the_format(project, tmp_path):
    program = sketch(project, CANVAS + SKETCHES["shapes"])
    tiled = TiledRenderer(program, tile=32)
    write_tiled(tiled, tmp_path / "a.png")
    write_tiled(tiled, tmp_path / "a.tiff")
    with Image.open(tmp_path / "a.png") as picture:
        assert picture.info["Software"].startswith("artlang")
    with pytest.raises(ArtError, match="tiled renders write .png or .tif"):
        write_tiled(tiled, tmp_path / "a.jpg")


def test_memory_stays_bounded_by_the_band(project, tmp_path):
    """A 2048 x 2048 canvas (64 MiB per float RGBA field; an untiled render holds several) drawn in
    128-pixel tiles and streamed to PNG: traced numpy and Python memory stays a fraction of one field."""
    text = "output blur(gradient(n * 0.5 + 0.5, #0b1d51, #ff7e5f, #feb47b), 2 * pixel)"
    write_tiled(TiledRenderer(sketch(project, "canvas 64 x 64\n" + NOISE + text), tile=16),
        tmp_path / "warm.png")                # kernels loaded (numba's objects are not the canvas)
    program = sketch(project, "canvas 2048 x 2048\n" + NOISE + text)
    tiled = TiledRenderer(program, tile=128, workers=1)
    field = 2048 * 2048 * 16
    tracemalloc.start()
    try:
        write_tiled(tiled, tmp_path / "big.png")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < field * 0.4, f"peak {peak / 2 ** 20:.1f} MiB"
    with Image.open(tmp_path / "big.png") as picture:
        assert picture.size == (2048, 2048)


def test_the_command_line_tiles_a_canvas_over_the_pixel_limit(tmp_path):
    import tifffile
    from conftest import run_cli
    sketch = tmp_path / "big.art"
    sketch.write_text("canvas 200 x 150\nseed 3\nlet n = fbm(uv * 3, octaves=4)\n"
                      "output blur(gradient(n * 0.5 + 0.5, #0b1d51, #ff7e5f, #feb47b), 2 * pixel)\n",
                      encoding="utf-8")
    whole = run_cli("render", sketch, "-o", tmp_path / "whole.png")
    assert whole.code == 0 and "in tiles" not in whole.stdout
    tiled = run_cli("render", sketch, "-o", tmp_path / "tiled.png", "--max-pixels", "5000")
    assert tiled.code == 0 and "in tiles" in tiled.stdout, tiled.stderr
    tif = run_cli("render", sketch, "-o", tmp_path / "tiled.tif", "--tile", "64")
    assert tif.code == 0, tif.stderr
    expected = np.asarray(Image.open(tmp_path / "whole.png").convert("RGBA"))
    assert np.array_equal(np.asarray(Image.open(tmp_path / "tiled.png").convert("RGBA")), expected)
    assert np.array_equal(tifffile.imread(tmp_path / "tiled.tif"), expected)
    refused = run_cli("render", sketch, "-o", tmp_path / "x.jpg")
    assert refused.code == 2 and "export" in refused.stderr
