"""The colour built-ins as a sketch uses them: linear light, OKLab/OKLCH, gradients, posterise and
dither, rendered through the checker, the compiler and the renderer."""
from __future__ import annotations

import numpy as np
import pytest

from artlang.kernels import colour
from artlang.builtins import load_all
from artlang.runtime.context import FrameContext
from artlang.kernels.region import Region
from artlang.core.errors import RUNTIME, ArtError
from artlang.runtime.render import Renderer, load_sketch

TABLE = load_all()


def stop(text: str) -> np.ndarray:
    return np.float32(colour.parse_hex(text))


def only_pixel(render, expression: str) -> np.ndarray:
    """The one pixel of a 1 x 1 canvas showing `expression`."""
    return render(f"canvas 1 x 1\noutput {expression}\n")[0, 0]


# --- what the table declares -----------------------------------------------------------------------

def test_the_colour_built_ins_are_declared_with_their_signatures():
    expected = {
        "to_linear": "to_linear(c: color) -> color",
        "to_srgb": "to_srgb(c: color) -> color",
        "mix_linear": "mix_linear(a: color, b: color, amount: num) -> color",
        "mix_oklab": "mix_oklab(a: color, b: color, amount: num) -> color",
        "oklab": "oklab(l: num, a: num, b: num, alpha: num = 1) -> color",
        "oklch": "oklch(l: num, c: num, h: num, alpha: num = 1) -> color",
        "lightness_of": "lightness_of(c: color) -> num",
        "chroma_of": "chroma_of(c: color) -> num",
        "hue_of": "hue_of(c: color) -> num",
        "gradient": "gradient(t: num, *stops: color, space: string = \"oklab\") -> color",
        "gradient_at": "gradient_at(t: num, positions: list, *stops: color, space: string = \"oklab\") -> color",
        "posterize": "posterize(c: color, levels: num = 4) -> color",
        "dither": "dither(c: color, levels: num = 2, matrix: num = 4) -> color",
    }
    for name, signature in expected.items():
        assert TABLE[name].signature() == signature
        assert TABLE[name].category == "colour"


def test_dither_is_declared_as_varying_per_pixel():
    assert TABLE["dither"].per_pixel and TABLE["dither"].param("matrix").uniform
    assert not TABLE["posterize"].per_pixel


# --- linear light and OKLab in a sketch -----------------------------------------------------------

def test_to_linear_and_to_srgb_round_trip_and_keep_alpha(render):
    pixel = only_pixel(render, "to_linear(#80ff0040)")
    np.testing.assert_allclose(pixel[:3], colour.srgb_to_linear(stop("#80ff00")[:3]), atol=1e-6)
    image = render("canvas 16 x 4\noutput to_srgb(to_linear(hsv(st.x, 0.7, 0.9)))\n")
    direct = render("canvas 16 x 4\noutput hsv(st.x, 0.7, 0.9)\n")
    np.testing.assert_allclose(image, direct, atol=2e-6)


def test_mix_linear_and_mix_oklab_differ_from_mix_as_documented(render):
    srgb = only_pixel(render, "mix(#000000, #ffffff, 0.5)")
    linear = only_pixel(render, "mix_linear(#000000, #ffffff, 0.5)")
    perceptual = only_pixel(render, "mix_oklab(#000000, #ffffff, 0.5)")
    np.testing.assert_allclose(srgb[:3], 0.5, atol=1e-6)
    np.testing.assert_allclose(linear[:3], 0.7353570, atol=1e-5)
    np.testing.assert_allclose(perceptual[:3], colour.linear_to_srgb(0.125), atol=1e-5)


def test_the_oklab_midpoint_of_black_and_white_has_lightness_one_half(render):
    pixel = only_pixel(render, "gray(lightness_of(mix_oklab(#000000, #ffffff, 0.5)))")
    assert pixel[0] == pytest.approx(0.5, abs=1e-5)


def test_oklab_and_oklch_constructors_and_their_components_agree(render):
    red = only_pixel(render, "oklab(0.6279554, 0.2248631, 0.1258463)")
    np.testing.assert_allclose(red, [1, 0, 0, 1], atol=1e-4)
    red = only_pixel(render, "oklch(0.6279554, 0.2576833, 0.0812052, 0.5)")
    np.testing.assert_allclose(red, [1, 0, 0, 0.5], atol=1e-4)
    components = only_pixel(render, "rgb(lightness_of(#ff0000), chroma_of(#ff0000), hue_of(#ff0000))")
    np.testing.assert_allclose(components[:3], [0.6279554, 0.2576833, 0.0812052], atol=1e-5)


def test_oklch_components_round_trip_over_a_field(render):
    image = render("canvas 32 x 8\nlet c = hsv(st.x, 0.6, 0.8)\n"
                   "output oklch(lightness_of(c), chroma_of(c), hue_of(c), c.a)\n")
    direct = render("canvas 32 x 8\noutput hsv(st.x, 0.6, 0.8)\n")
    np.testing.assert_allclose(image, direct, atol=1e-4)


def test_oklch_hue_wraps_like_hsv(render):
    one = only_pixel(render, "oklch(0.7, 0.1, 0.3)")
    np.testing.assert_allclose(only_pixel(render, "oklch(0.7, 0.1, 1.3)"), one, atol=1e-5)
    np.testing.assert_allclose(only_pixel(render, "oklch(0.7, 0.1, -0.7)"), one, atol=1e-5)


# --- gradients -------------------------------------------------------------------------------------

STOPS = ("#1d2b53", "#ff004d", "#ffec27")


@pytest.mark.parametrize("t, index", [(0, 0), (0.5, 1), (1, 2), (-2, 0), (3, 2)])
def test_gradient_ends_and_middle_are_the_stops_exactly(render, t, index):
    pixel = only_pixel(render, f"gradient({t}, {', '.join(STOPS)})")
    np.testing.assert_array_equal(pixel, stop(STOPS[index]))


def test_gradient_stops_may_be_numbers_fields_or_colours(render):
    image = render("canvas 8 x 2\noutput gradient(st.x, 0, viridis(st.y), #ffffff)\n")
    st_x = np.float32([[(x + 0.5) / 8 for x in range(8)]] * 2)
    middle = colour.colormap("viridis", np.float32([[0.75], [0.25]]))      # st.y of the two rows
    expected = colour.gradient(st_x, [np.float32((0, 0, 0, 1)), middle, np.float32((1, 1, 1, 1))])
    np.testing.assert_allclose(image, expected, atol=1e-6)


def test_a_gradient_mixes_in_oklab_between_its_stops(render):
    image = render("canvas 9 x 1\noutput gradient(px.x / 8 - 0.5 / 8, #000000, #ff0000, #ffffff)\n")
    t = np.float32([(x + 0.5) / 8 - 0.5 / 8 for x in range(9)])
    np.testing.assert_array_equal(image[0, 4], [1, 0, 0, 1])
    between = colour.mix_in(stop("#000000"), stop("#ff0000"), t[:4] * 2, "oklab")
    np.testing.assert_allclose(image[0, :4], between, atol=1e-5)


def test_gradient_at_places_the_stops_and_makes_hard_edges(render):
    image = render("canvas 10 x 1\n"
                   "output gradient_at(st.x, [0, 0.5, 0.5, 1], #ff0000, #ff0000, #0000ff, #0000ff)\n")
    np.testing.assert_allclose(image[0, :5], np.broadcast_to(stop("#ff0000"), (5, 4)), atol=1e-6)
    np.testing.assert_allclose(image[0, 5:], np.broadcast_to(stop("#0000ff"), (5, 4)), atol=1e-6)
    at = only_pixel(render, "gradient_at(0.2, [0, 0.2, 1], #000000, #ff004d, #ffffff)")
    np.testing.assert_array_equal(at, stop("#ff004d"))


def test_gradient_at_with_params_in_its_positions(render):
    image = render("param split = 0.25 in 0..1\ncanvas 1 x 1\n"
                   "output gradient_at(0.25, [0, split, 1], #000000, #00ff00, #ffffff)\n")
    np.testing.assert_array_equal(image[0, 0], stop("#00ff00"))


def test_gradient_at_refuses_positions_that_do_not_fit_at_render_time(tmp_path):
    sketch = tmp_path / "sketch.art"
    sketch.write_text("output gradient_at(st.x, [0, 1], #000000, #ffffff, #ff0000)\n", encoding="utf-8")
    with pytest.raises(ArtError, match=r"positions \[0, 1\] do not match the 3 colour stops") as failure:
        Renderer(load_sketch(sketch), size=(4, 4)).render()
    assert failure.value.stage == RUNTIME


# --- posterize and dither --------------------------------------------------------------------------

@pytest.mark.parametrize("levels", [2, 3, 5])
def test_posterize_on_a_ramp_gives_exactly_levels_values(render, levels):
    image = render(f"canvas 64 x 2\noutput posterize(gray(st.x), {levels})\n")
    assert len(np.unique(image[..., :3])) == levels
    np.testing.assert_array_equal(image[..., 3], 1)


def test_dithering_a_quarter_gray_whitens_a_quarter_of_the_pixels(render):
    image = render("canvas 32 x 16\noutput dither(gray(0.25))\n")
    assert set(np.unique(image[..., :3]).tolist()) == {0.0, 1.0}
    assert image[..., 0].mean() == 0.25
    blocks = image[..., 0].reshape(4, 4, 8, 4).sum(axis=(1, 3))
    np.testing.assert_array_equal(blocks, 4)


def test_dither_matrix_and_levels_are_honoured(render):
    image = render("canvas 16 x 16\noutput dither(gray(10 / 64), matrix=8)\n")
    assert image[..., 0].sum() == 4 * 10
    image = render("canvas 16 x 16\noutput dither(gray(0.3), 5)\n")
    assert set(np.unique(image[..., 0]).tolist()) == {0.25, 0.5}


def render_region(plan, width: int, height: int, region: Region | None) -> np.ndarray:
    return plan.render_frame(FrameContext(width, height, seed=0, region=region))


def test_dither_gives_a_tile_the_pixels_of_the_whole_canvas(tmp_path):
    sketch = tmp_path / "sketch.art"
    sketch.write_text("output dither(hsv(st.x, st.y, 0.3 + 0.5 * st.y), levels=3, matrix=8)\n",
                      encoding="utf-8")
    plan = Renderer(load_sketch(sketch), size=(40, 30)).plan
    whole = render_region(plan, 40, 30, None)
    tile = render_region(plan, 40, 30, Region(11, 7, 17, 13))
    np.testing.assert_array_equal(tile, whole[7:20, 11:28])
    assert len(np.unique(whole[..., 0])) == 3


def test_gradients_give_a_tile_the_pixels_of_the_whole_canvas(tmp_path):
    sketch = tmp_path / "sketch.art"
    sketch.write_text("output gradient(length(uv), #1d2b53, oklch(0.7, 0.15, st.x), #fff1e8)\n",
                      encoding="utf-8")
    plan = Renderer(load_sketch(sketch), size=(40, 30)).plan
    whole = render_region(plan, 40, 30, None)
    tile = render_region(plan, 40, 30, Region(3, 9, 21, 12))
    np.testing.assert_array_equal(tile, whole[9:21, 3:24])


def test_dither_refuses_a_matrix_it_does_not_have(tmp_path):
    sketch = tmp_path / "sketch.art"
    sketch.write_text("output dither(gray(0.5), matrix=6)\n", encoding="utf-8")
    with pytest.raises(ArtError, match="matrix must be one of 2, 4, 8, 16; got 6") as failure:
        Renderer(load_sketch(sketch), size=(4, 4)).render()
    assert failure.value.stage == RUNTIME
