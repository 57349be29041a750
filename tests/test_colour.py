"""Properties of artlang.kernels.colour: colormaps, cosine palettes, HSV, hex, sRGB and linear light, OKLab
and OKLCH, mixing, gradients, posterising, ordered dithering and to_rgba."""
from __future__ import annotations

import doctest
import math
import zipfile

import numpy as np
import pytest

from artlang.kernels import colour
from artlang.kernels.colour import (
    BAYER_SIZES,
    COLORMAP_NAMES,
    bayer_matrix,
    colormap,
    cosine_palette,
    dither,
    gradient,
    hsv_to_rgb,
    linear_to_srgb,
    mix_in,
    oklab_to_oklch,
    oklab_to_srgb,
    oklch_to_oklab,
    parse_hex,
    posterize,
    rgb_to_hsv,
    srgb_to_linear,
    srgb_to_oklab,
    to_linear,
    to_rgba,
    to_srgb,
)

DATA_FILE = colour._COLORMAP_FILE
PERCEPTUAL = ("viridis", "magma", "inferno", "plasma", "cividis")


def lookup_table(name: str) -> np.ndarray:
    """The raw (256, 3) table as stored in the data file."""
    with np.load(DATA_FILE, allow_pickle=False) as data:
        return data[name]


def cie_lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* of sRGB colours, through relative luminance Y."""
    luminance = srgb_to_linear(rgb) @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    return np.where(luminance > (6 / 29) ** 3, 116 * np.cbrt(luminance) - 16, luminance * (29 / 3) ** 3)


def test_the_module_examples_run():
    failures, tried = doctest.testmod(colour, extraglobs={"np": np})
    assert tried > 10 and failures == 0


# --- colormaps -------------------------------------------------------------------------------------

def test_the_data_file_holds_every_named_map_and_nothing_else():
    assert {"viridis", "magma", "inferno", "plasma", "cividis", "turbo", "twilight"} <= set(COLORMAP_NAMES)
    with np.load(DATA_FILE, allow_pickle=False) as data:
        assert set(data.files) == set(COLORMAP_NAMES) | {"NOTICE"}
        assert "CC0" in str(data["NOTICE"]) and "Apache-2.0" in str(data["NOTICE"])
        for name in COLORMAP_NAMES:
            assert data[name].shape == (256, 3) and data[name].dtype == np.float32
            assert data[name].min() >= 0 and data[name].max() <= 1


def test_the_data_file_is_small():
    assert DATA_FILE.stat().st_size < 100_000
    assert zipfile.is_zipfile(DATA_FILE)


@pytest.mark.parametrize("name", COLORMAP_NAMES)
def test_every_entry_is_hit_exactly_at_its_own_position(name):
    table = lookup_table(name)
    positions = np.arange(256, dtype=np.float32) / np.float32(255)
    rgba = colormap(name, positions)
    np.testing.assert_allclose(rgba[:, :3], table, atol=1e-6)
    np.testing.assert_array_equal(rgba[0, :3], table[0])
    np.testing.assert_array_equal(rgba[-1, :3], table[-1])
    np.testing.assert_array_equal(rgba[:, 3], 1.0)


def test_viridis_runs_from_its_known_purple_to_its_known_yellow():
    np.testing.assert_allclose(colormap("viridis", 0.0), [0.267, 0.005, 0.329, 1.0], atol=1e-3)
    np.testing.assert_allclose(colormap("viridis", 1.0), [0.993, 0.906, 0.144, 1.0], atol=1e-3)
    np.testing.assert_allclose(colormap("viridis", 0.5)[:3],
                               (lookup_table("viridis")[127] + lookup_table("viridis")[128]) / 2, atol=1e-6)


@pytest.mark.parametrize("name", COLORMAP_NAMES)
def test_between_entries_the_colour_is_interpolated_linearly_not_snapped(name):
    table = lookup_table(name).astype(np.float64)
    index = np.arange(255)
    for fraction in (0.25, 0.5, 0.9):
        rgba = colormap(name, (index + fraction) / 255)
        expected = table[index] * (1 - fraction) + table[index + 1] * fraction
        np.testing.assert_allclose(rgba[:, :3], expected, atol=2e-6)
    # Halfway between two different entries is neither of them.
    middle = colormap(name, (index + 0.5) / 255)[:, :3]
    differs = np.abs(table[index] - table[index + 1]).max(axis=1) > 1e-3
    assert differs.sum() > 200
    assert np.all(np.abs(middle[differs] - table[index][differs]).max(axis=1) > 1e-4)
    assert np.all(np.abs(middle[differs] - table[index + 1][differs]).max(axis=1) > 1e-4)


@pytest.mark.parametrize("name", PERCEPTUAL)
def test_perceptual_maps_get_lighter_all_the_way_along(name):
    lightness = cie_lightness(colormap(name, np.linspace(0, 1, 2000))[:, :3])
    assert np.all(np.diff(lightness) > 0)
    assert lightness[-1] - lightness[0] > 70


def test_twilight_is_cyclic():
    np.testing.assert_allclose(colormap("twilight", 0.0), colormap("twilight", 1.0), atol=3e-3)


def test_values_outside_zero_to_one_are_clipped_to_the_ends():
    np.testing.assert_array_equal(colormap("magma", [-5.0, -1e-6]), colormap("magma", [0.0, 0.0]))
    np.testing.assert_array_equal(colormap("magma", [1 + 1e-6, 7.0, np.inf]), colormap("magma", [1.0] * 3))


def test_nan_gives_nan_rgb_and_leaves_the_rest_alone():
    rgba = colormap("viridis", [0.0, np.nan, 1.0])
    assert np.all(np.isnan(rgba[1, :3])) and rgba[1, 3] == 1
    np.testing.assert_array_equal(rgba[[0, 2]], colormap("viridis", [0.0, 1.0]))


@pytest.mark.parametrize("value, shape", [
    (0.3, (4,)),
    (np.float64(0.3), (4,)),
    (np.zeros((5, 7), dtype=np.float64), (5, 7, 4)),
    (np.zeros((2, 5, 7), dtype=np.float32), (2, 5, 7, 4)),
    ([0.1, 0.2, 0.3], (3, 4)),
])
def test_colormap_shapes_and_dtype(value, shape):
    rgba = colormap("plasma", value)
    assert rgba.shape == shape and rgba.dtype == np.float32


def test_an_unknown_colormap_name_is_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match=r"'viridi'.*viridis.*twilight"):
        colormap("viridi", 0.5)


# --- cosine palettes -------------------------------------------------------------------------------

A, B, C, D = (0.5, 0.4, 0.3, 0.0), (0.5, 0.6, 0.2, 0.0), (1.0, 0.7, 2.0, 0.0), (0.0, 0.15, 0.2, 0.0)


@pytest.mark.parametrize("t", [0.0, 0.1, 0.37, 0.5, 1.0, 2.25, -0.6])
def test_cosine_palette_follows_the_formula(t):
    expected = [A[i] + B[i] * math.cos(2 * math.pi * (C[i] * t + D[i])) for i in range(3)] + [1.0]
    np.testing.assert_allclose(cosine_palette(t, A, B, C, D), expected, atol=1e-5)


def test_cosine_palette_ignores_parameter_alpha_and_accepts_rgb():
    with_alpha = cosine_palette(0.3, A, B, C, D)
    without_alpha = cosine_palette(0.3, A[:3], B[:3], C[:3], D[:3])
    np.testing.assert_array_equal(with_alpha, without_alpha)
    assert with_alpha[3] == 1.0


def test_cosine_palette_is_not_clipped():
    rgba = cosine_palette(0.0, (0.8, 0.8, 0.8, 1), (0.5, -0.5, 0.5, 1), (1, 1, 1, 1), (0, 0, 0, 1))
    np.testing.assert_allclose(rgba, [1.3, 0.3, 1.3, 1.0], atol=1e-6)


def test_cosine_palette_broadcasts_fields_and_per_pixel_parameters():
    t = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    rgba = cosine_palette(t, A, B, C, D)
    assert rgba.shape == (3, 4, 4) and rgba.dtype == np.float32
    np.testing.assert_allclose(rgba[2, 1], cosine_palette(t[2, 1], A, B, C, D), atol=1e-6)
    per_pixel_d = np.broadcast_to(np.asarray(D, dtype=np.float32), (3, 4, 4)).copy()
    per_pixel_d[0, 0, 0] = 0.5
    shifted = cosine_palette(t, A, B, C, per_pixel_d)
    np.testing.assert_allclose(shifted[1:], rgba[1:], atol=1e-6)
    assert abs(shifted[0, 0, 0] - rgba[0, 0, 0]) > 0.5


def test_cosine_palette_refuses_parameters_that_are_not_colours():
    with pytest.raises(ValueError, match="shape"):
        cosine_palette(0.5, (0.5, 0.5), B, C, D)


# --- HSV -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("hsv, rgb", [
    ((0.0, 1.0, 1.0), (1.0, 0.0, 0.0)),
    ((1 / 3, 1.0, 1.0), (0.0, 1.0, 0.0)),
    ((2 / 3, 1.0, 1.0), (0.0, 0.0, 1.0)),
    ((1 / 6, 1.0, 1.0), (1.0, 1.0, 0.0)),
    ((0.5, 0.5, 0.8), (0.4, 0.8, 0.8)),
    ((0.7, 0.0, 0.25), (0.25, 0.25, 0.25)),
    ((0.3, 0.9, 0.0), (0.0, 0.0, 0.0)),
])
def test_hsv_to_rgb_known_colours(hsv, rgb):
    np.testing.assert_allclose(hsv_to_rgb(*hsv), rgb, atol=1e-6)


def test_hue_wraps_around():
    hue = np.array([0.25, 1.25, -0.75, 3.25], dtype=np.float32)
    rgb = hsv_to_rgb(hue, 0.8, 0.9)
    np.testing.assert_allclose(rgb, np.broadcast_to(rgb[0], rgb.shape), atol=1e-5)


def test_hsv_round_trips_on_random_colours():
    rng = np.random.default_rng(7)
    rgb = rng.random((200, 300, 3), dtype=np.float32)
    h, s, v = rgb_to_hsv(rgb)
    assert h.shape == s.shape == v.shape == (200, 300)
    assert h.dtype == s.dtype == v.dtype == np.float32
    assert h.min() >= 0 and h.max() < 1
    np.testing.assert_allclose(hsv_to_rgb(h, s, v), rgb, atol=2e-6)


def test_rgb_to_hsv_recovers_random_hues():
    rng = np.random.default_rng(8)
    h = rng.random(10_000, dtype=np.float32)
    s = rng.uniform(0.05, 1, 10_000).astype(np.float32)
    v = rng.uniform(0.05, 1, 10_000).astype(np.float32)
    h2, s2, v2 = rgb_to_hsv(hsv_to_rgb(h, s, v))
    hue_distance = np.abs((h2 - h + 0.5) % 1 - 0.5)
    assert hue_distance.max() < 1e-4
    np.testing.assert_allclose(s2, s, atol=1e-5)
    np.testing.assert_allclose(v2, v, atol=1e-6)


def test_grays_have_no_hue_or_saturation_and_alpha_is_ignored():
    h, s, v = rgb_to_hsv([[0.0, 0.0, 0.0, 1.0], [0.4, 0.4, 0.4, 0.2], [1.0, 1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(h, 0)
    np.testing.assert_array_equal(s, 0)
    np.testing.assert_allclose(v, [0.0, 0.4, 1.0])


def test_hsv_to_rgb_broadcasts_a_field_with_scalars():
    rgb = hsv_to_rgb(np.zeros((4, 5)), 1.0, np.linspace(0, 1, 5))
    assert rgb.shape == (4, 5, 3) and rgb.dtype == np.float32
    np.testing.assert_allclose(rgb[2, :, 0], np.linspace(0, 1, 5), atol=1e-6)


# --- hex -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("#f80", (1.0, 0x88 / 255, 0.0, 1.0)),
    ("#F80", (1.0, 0x88 / 255, 0.0, 1.0)),
    ("#f808", (1.0, 0x88 / 255, 0.0, 0x88 / 255)),
    ("#ff8000", (1.0, 128 / 255, 0.0, 1.0)),
    ("#FF8000", (1.0, 128 / 255, 0.0, 1.0)),
    ("#ff800040", (1.0, 128 / 255, 0.0, 64 / 255)),
    ("#000", (0.0, 0.0, 0.0, 1.0)),
    ("#ffffffff", (1.0, 1.0, 1.0, 1.0)),
    ("#12aB9c", (0x12 / 255, 0xAB / 255, 0x9C / 255, 1.0)),
])
def test_parse_hex_accepts_every_form(text, expected):
    parsed = parse_hex(text)
    assert isinstance(parsed, tuple) and len(parsed) == 4
    assert all(isinstance(channel, float) for channel in parsed)
    assert parsed == pytest.approx(expected, abs=1e-12)


def test_short_and_long_forms_agree():
    assert parse_hex("#abc") == pytest.approx(parse_hex("#aabbcc"))
    assert parse_hex("#abcd") == pytest.approx(parse_hex("#aabbccdd"))


@pytest.mark.parametrize("text", [
    "", "#", "fff", "ff8000", "#f", "#ff", "#fffff", "#fffffff", "#fffffffff",
    "#ggg", "#ff80zz", "# fff", " #fff", "#fff ", "#fff\n", "##fff", "#+ff", "#f_f", "#0x0f",
    "#\u0661\u0662\u0663",  # Arabic-Indic digits: str.isdigit but not hex
    None, 0xFF8000,
])
def test_parse_hex_rejects_anything_else_with_a_clear_message(text):
    with pytest.raises(ValueError, match=r"not a hex colour.*#rgb, #rgba, #rrggbb or #rrggbbaa"):
        parse_hex(text)


def test_parse_hex_message_quotes_the_value():
    with pytest.raises(ValueError, match=r"'#12345'"):
        parse_hex("#12345")


# --- sRGB ------------------------------------------------------------------------------------------

def test_srgb_known_values():
    np.testing.assert_allclose(srgb_to_linear([0.0, 0.5, 1.0]), [0.0, 0.2140411, 1.0], atol=1e-6)
    np.testing.assert_allclose(linear_to_srgb([0.0, 0.5, 1.0]), [0.0, 0.7353570, 1.0], atol=1e-6)
    np.testing.assert_allclose(srgb_to_linear(0.02), 0.02 / 12.92, rtol=1e-6)
    np.testing.assert_allclose(linear_to_srgb(0.002), 0.002 * 12.92, rtol=1e-6)


def test_srgb_pieces_meet_at_the_thresholds():
    below, above = np.nextafter(np.float32(0.04045), np.float32(0)), np.float32(0.04046)
    assert abs(float(srgb_to_linear(above)) - float(srgb_to_linear(below))) < 1e-6
    below, above = np.nextafter(np.float32(0.0031308), np.float32(0)), np.float32(0.0031309)
    assert abs(float(linear_to_srgb(above)) - float(linear_to_srgb(below))) < 1e-5


def test_srgb_round_trips_and_is_monotone():
    x = np.linspace(0, 1, 100_001, dtype=np.float32)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=2e-6)
    np.testing.assert_allclose(srgb_to_linear(linear_to_srgb(x)), x, atol=2e-6)
    assert np.all(np.diff(srgb_to_linear(x)) >= 0) and np.all(np.diff(linear_to_srgb(x)) >= 0)


def test_srgb_handles_out_of_range_values_without_floating_point_errors():
    with np.errstate(all="raise"):
        decoded = srgb_to_linear([-0.5, 1.5])
        encoded = linear_to_srgb([-0.5, 1.5])
    np.testing.assert_allclose(decoded, [-0.5 / 12.92, ((1.5 + 0.055) / 1.055) ** 2.4], rtol=1e-6)
    np.testing.assert_allclose(encoded, [-0.5 * 12.92, 1.055 * 1.5 ** (1 / 2.4) - 0.055], rtol=1e-6)


def test_srgb_keeps_shape_and_gives_float32():
    field = np.full((3, 4, 4), 0.5, dtype=np.float64)
    for convert in (srgb_to_linear, linear_to_srgb):
        assert convert(field).shape == (3, 4, 4) and convert(field).dtype == np.float32


# --- to_rgba ---------------------------------------------------------------------------------------

def test_a_number_becomes_an_opaque_gray():
    rgba = to_rgba(0.25)
    assert rgba.shape == (4,) and rgba.dtype == np.float32
    np.testing.assert_array_equal(rgba, [0.25, 0.25, 0.25, 1.0])


@pytest.mark.parametrize("shape", [(5, 7), (5, 3), (5, 4), (1, 1)])
def test_a_field_becomes_gray_even_when_it_is_three_or_four_wide(shape):
    field = np.random.default_rng(1).random(shape)
    rgba = to_rgba(field)
    assert rgba.shape == shape + (4,) and rgba.dtype == np.float32
    for channel in range(3):
        np.testing.assert_allclose(rgba[..., channel], field, rtol=1e-6)
    np.testing.assert_array_equal(rgba[..., 3], 1.0)


def test_rgb_gains_an_opaque_alpha():
    rgb = np.random.default_rng(2).random((5, 7, 3)).astype(np.float32)
    rgba = to_rgba(rgb)
    assert rgba.shape == (5, 7, 4)
    np.testing.assert_array_equal(rgba[..., :3], rgb)
    np.testing.assert_array_equal(rgba[..., 3], 1.0)
    np.testing.assert_array_equal(to_rgba((1, 0, 0)), [1.0, 0.0, 0.0, 1.0])


def test_rgba_passes_through():
    rgba = np.random.default_rng(3).random((5, 7, 4)).astype(np.float32)
    np.testing.assert_array_equal(to_rgba(rgba), rgba)
    np.testing.assert_array_equal(to_rgba(parse_hex("#ff800040")), np.float32(parse_hex("#ff800040")))


def test_one_channel_colours_become_gray_and_two_channels_are_refused():
    np.testing.assert_array_equal(to_rgba(np.full((2, 2, 1), 0.5)), np.full((2, 2, 4), [0.5, 0.5, 0.5, 1]))
    with pytest.raises(ValueError, match=r"\(5, 7, 2\)"):
        to_rgba(np.zeros((5, 7, 2)))


# --- linear light colours --------------------------------------------------------------------------

def random_colours(seed: int, shape=(200, 300)) -> np.ndarray:
    return np.random.default_rng(seed).random(shape + (4,), dtype=np.float32)


def test_to_linear_decodes_rgb_and_keeps_alpha():
    rgba = random_colours(11)
    linear = to_linear(rgba)
    assert linear.shape == rgba.shape and linear.dtype == np.float32
    np.testing.assert_array_equal(linear[..., :3], srgb_to_linear(rgba[..., :3]))
    np.testing.assert_array_equal(linear[..., 3], rgba[..., 3])
    np.testing.assert_allclose(to_linear((0.5, 0.5, 0.5)), [0.2140411] * 3, atol=1e-6)


def test_to_srgb_and_to_linear_round_trip_and_leave_the_input_alone():
    rgba = random_colours(12)
    before = rgba.copy()
    np.testing.assert_allclose(to_srgb(to_linear(rgba)), rgba, atol=2e-6)
    np.testing.assert_allclose(to_linear(to_srgb(rgba)), rgba, atol=2e-6)
    np.testing.assert_array_equal(rgba, before)


def test_linear_conversions_refuse_what_is_not_a_colour():
    with pytest.raises(ValueError, match="shape"):
        to_linear(np.zeros((4, 2)))


# --- OKLab and OKLCH -------------------------------------------------------------------------------

@pytest.mark.parametrize("srgb, lab", [
    ((1.0, 1.0, 1.0), (1.0, 0.0, 0.0)),
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
    ((1.0, 0.0, 0.0), (0.6279554, 0.2248631, 0.1258463)),
    ((0.0, 1.0, 0.0), (0.8664396, -0.2338876, 0.1794985)),
    ((0.0, 0.0, 1.0), (0.4520137, -0.0324570, -0.3115281)),
])
def test_oklab_known_values(srgb, lab):
    np.testing.assert_allclose(srgb_to_oklab(srgb), lab, atol=1e-4)
    np.testing.assert_allclose(oklab_to_srgb(lab), srgb, atol=1e-4)


def test_the_published_oklab_matrices_are_inverse_pairs():
    for forward, backward in ((colour._LINEAR_TO_LMS, colour._LMS_TO_LINEAR),
                              (colour._LMS_TO_OKLAB, colour._OKLAB_TO_LMS)):
        product = np.array(backward, dtype=np.float64) @ np.array(forward, dtype=np.float64)
        np.testing.assert_allclose(product, np.eye(3), atol=2e-7)


def test_srgb_oklab_srgb_round_trips_on_random_colours():
    rgba = random_colours(13)
    lab = srgb_to_oklab(rgba)
    assert lab.shape == rgba.shape and lab.dtype == np.float32
    np.testing.assert_array_equal(lab[..., 3], rgba[..., 3])
    assert lab[..., 0].min() >= -1e-6 and lab[..., 0].max() <= 1 + 1e-6
    np.testing.assert_allclose(oklab_to_srgb(lab), rgba, atol=1e-4)


def test_srgb_oklch_srgb_round_trips_on_random_colours():
    rgba = random_colours(14)
    lch = oklab_to_oklch(srgb_to_oklab(rgba))
    assert lch[..., 2].min() >= 0 and lch[..., 2].max() < 1
    assert lch[..., 1].min() >= 0
    np.testing.assert_allclose(oklab_to_srgb(oklch_to_oklab(lch)), rgba, atol=1e-4)


def test_oklab_and_oklch_round_trip_including_negative_a_and_b():
    rng = np.random.default_rng(15)
    lab = np.stack([rng.uniform(0, 1, 5000), rng.uniform(-0.4, 0.4, 5000),
                    rng.uniform(-0.4, 0.4, 5000)], axis=-1).astype(np.float32)
    np.testing.assert_allclose(oklch_to_oklab(oklab_to_oklch(lab)), lab, atol=1e-6)
    srgb = oklab_to_srgb(lab)
    in_gamut = np.all((srgb >= 0) & (srgb <= 1), axis=-1)
    assert 100 < in_gamut.sum() < len(lab)          # out-of-gamut colours come back unclipped
    np.testing.assert_allclose(srgb_to_oklab(srgb[in_gamut]), lab[in_gamut], atol=1e-4)


def test_grays_have_no_chroma_and_their_lightness_rises_with_the_gray():
    ramp = np.linspace(0, 1, 1001, dtype=np.float32)
    lch = oklab_to_oklch(srgb_to_oklab(np.stack([ramp] * 3, axis=-1)))
    assert np.abs(lch[:, 1]).max() < 1e-4
    np.testing.assert_array_equal(lch[0], [0, 0, 0])
    assert np.all(np.diff(lch[:, 0]) > 0)


def test_oklch_hue_is_in_turns_and_wraps():
    red = oklab_to_oklch(srgb_to_oklab((1.0, 0.0, 0.0)))
    assert red[2] == pytest.approx(29.2338851923426 / 360, abs=1e-4)
    hues = np.array([0.3, 1.3, -0.7, 2.3], dtype=np.float32)
    lab = oklch_to_oklab(np.stack([np.full(4, 0.7), np.full(4, 0.1), hues], axis=-1))
    np.testing.assert_allclose(lab, np.broadcast_to(lab[0], lab.shape), atol=1e-6)


# --- mixing ----------------------------------------------------------------------------------------

BLACK, WHITE = (0.0, 0.0, 0.0, 1.0), (1.0, 1.0, 1.0, 1.0)


def test_the_oklab_midpoint_of_black_and_white_has_lightness_one_half():
    middle = mix_in(BLACK, WHITE, 0.5, "oklab")
    assert srgb_to_oklab(middle)[0] == pytest.approx(0.5, abs=1e-5)
    # L = 0.5 is linear luminance 0.125: between sRGB's 0.5 midpoint and linear light's 0.735
    np.testing.assert_allclose(middle, [linear_to_srgb(0.125)] * 3 + [1], atol=1e-5)


@pytest.mark.parametrize("space, middle", [("srgb", 0.5), ("linear", 0.7353570), ("oklab", 0.3885728)])
def test_each_space_mixes_black_and_white_to_its_own_gray(space, middle):
    np.testing.assert_allclose(mix_in(BLACK, WHITE, 0.5, space)[:3], middle, atol=1e-4)


def test_mixing_reaches_both_ends_mixes_alpha_and_broadcasts_a_field():
    a, b = (1.0, 0.2, 0.0, 0.0), (0.1, 0.3, 0.9, 1.0)
    amount = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    for space in colour.MIX_SPACES:
        mixed = mix_in(a, b, amount, space)
        assert mixed.shape == (3, 4, 4) and mixed.dtype == np.float32
        np.testing.assert_allclose(mixed[0, 0], a, atol=1e-4)
        np.testing.assert_allclose(mixed[-1, -1], b, atol=1e-4)
        np.testing.assert_allclose(mixed[..., 3], amount, atol=1e-6)


def test_linear_mixing_is_the_average_of_the_light():
    a, b = random_colours(16, (50,)), random_colours(17, (50,))
    mixed = mix_in(a, b, 0.25, "linear")
    expected = 0.75 * srgb_to_linear(a[:, :3]) + 0.25 * srgb_to_linear(b[:, :3])
    np.testing.assert_allclose(srgb_to_linear(mixed[:, :3]), expected, atol=1e-5)


def test_mixing_does_not_clip_and_refuses_unknown_spaces():
    np.testing.assert_allclose(mix_in(BLACK, (0.5, 0.5, 0.5, 1), 2.0, "srgb"), [1, 1, 1, 1])
    with pytest.raises(ValueError, match="'lab'.*srgb, linear, oklab"):
        mix_in(BLACK, WHITE, 0.5, "lab")


# --- gradients -------------------------------------------------------------------------------------

@pytest.mark.parametrize("space", ["oklab", "srgb", "linear"])
def test_gradient_ends_and_stops_are_the_stops_exactly(space):
    stops = list(random_colours(18, (5,)))
    at_stops = gradient(np.arange(5, dtype=np.float32) / np.float32(4), stops, space=space)
    np.testing.assert_array_equal(at_stops, np.array(stops))
    outside = gradient(np.array([-3.0, 7.0], dtype=np.float32), stops, space=space)
    np.testing.assert_array_equal(outside, np.array([stops[0], stops[-1]]))


def test_any_number_of_evenly_spaced_stops_is_hit_exactly():
    for count in range(2, 40):
        stops = random_colours(count, (count,))
        t = np.arange(count, dtype=np.float32) / np.float32(count - 1)
        np.testing.assert_array_equal(gradient(t, list(stops)), stops, err_msg=f"{count} stops")


def test_the_middle_of_a_three_stop_gradient_is_the_middle_stop():
    stops = [parse_hex("#1d2b53"), parse_hex("#ff004d"), parse_hex("#ffec27")]
    np.testing.assert_array_equal(gradient(0.5, stops), np.float32(stops[1]))


def test_gradient_between_two_stops_is_mixing_in_its_space():
    t = np.linspace(0, 1, 101, dtype=np.float32)
    a, b = parse_hex("#203080"), parse_hex("#f0c040c0")
    for space in colour.MIX_SPACES:
        np.testing.assert_allclose(gradient(t, [a, b], space=space), mix_in(a, b, t, space), atol=1e-6)


def test_an_oklab_gradient_from_black_to_white_steps_evenly_in_lightness():
    t = np.linspace(0, 1, 257, dtype=np.float32)
    lightness = srgb_to_oklab(gradient(t, [BLACK, WHITE]))[:, 0]
    np.testing.assert_allclose(lightness, t, atol=1e-5)


def test_gradient_segments_use_their_own_pair_of_stops():
    stops = [BLACK, (1.0, 0.0, 0.0, 1.0), WHITE]
    np.testing.assert_allclose(gradient(0.25, stops, space="srgb"), [0.5, 0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(gradient(0.75, stops, space="srgb"), [1, 0.5, 0.5, 1], atol=1e-6)


def test_gradient_positions_place_the_stops():
    stops = [BLACK, (1.0, 0.0, 0.0, 1.0), WHITE]
    positions = [0.2, 0.4, 1.0]
    t = np.array([0.0, 0.2, 0.3, 0.4, 0.7, 1.0], dtype=np.float32)
    got = gradient(t, stops, positions=positions, space="srgb")
    np.testing.assert_array_equal(got[[0, 1]], np.float32([BLACK, BLACK]))
    np.testing.assert_array_equal(got[3], [1, 0, 0, 1])
    np.testing.assert_allclose(got[2], [0.5, 0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(got[4], [1, 0.5, 0.5, 1], atol=1e-6)
    np.testing.assert_array_equal(got[5], WHITE)


def test_two_stops_at_one_position_make_a_hard_edge_where_the_later_stop_wins():
    red, blue = (1.0, 0.0, 0.0, 1.0), (0.0, 0.0, 1.0, 1.0)
    t = np.array([0.0, 0.49, 0.5, 0.51, 1.0], dtype=np.float32)
    got = gradient(t, [red, red, blue, blue], positions=[0, 0.5, 0.5, 1])
    np.testing.assert_allclose(got, np.float32([red, red, blue, blue, blue]), atol=1e-6)
    np.testing.assert_array_equal(got[2], blue)


@pytest.mark.parametrize("positions, message", [
    ([0, 1], r"\[0, 1\] do not match the 3 colour stops"),
    ([[0, 1, 2]], "do not match"),
    ([0, 0.7, 0.3], r"\[0, 0.7, 0.3\] must be finite numbers that never decrease"),
    ([0, float("nan"), 1], "finite"),
])
def test_gradient_positions_must_fit_the_stops(positions, message):
    with pytest.raises(ValueError, match=message):
        gradient(0.5, [BLACK, WHITE, BLACK], positions=positions)


def test_gradient_takes_per_pixel_stops_and_t():
    rng = np.random.default_rng(19)
    t = rng.random((5, 6), dtype=np.float32)
    first, last = random_colours(20, (5, 6)), random_colours(21, (5, 6))
    middle = np.float32((0.2, 0.9, 0.4, 1.0))
    got = gradient(t, [first, middle, last])
    assert got.shape == (5, 6, 4)
    for row, column in [(0, 0), (2, 3), (4, 5)]:
        pixel = gradient(t[row, column], [first[row, column], middle, last[row, column]])
        np.testing.assert_allclose(got[row, column], pixel, atol=1e-5)
    assert gradient(0.25, [first, middle, last]).shape == (5, 6, 4)


def test_a_gradient_of_one_stop_is_that_stop_and_rgb_stops_stay_rgb():
    np.testing.assert_array_equal(gradient(np.zeros((2, 3)), [(0.1, 0.2, 0.3, 0.4)]),
                                  np.broadcast_to(np.float32((0.1, 0.2, 0.3, 0.4)), (2, 3, 4)))
    assert gradient(0.3, [(0, 0, 0), (1, 1, 1)]).shape == (3,)


def test_gradient_refuses_missing_or_mixed_stops():
    with pytest.raises(ValueError, match="at least one"):
        gradient(0.5, [])
    with pytest.raises(ValueError, match="all be RGB or all be RGBA"):
        gradient(0.5, [(0, 0, 0), (1, 1, 1, 1)])


# --- posterize -------------------------------------------------------------------------------------

@pytest.mark.parametrize("levels", [2, 3, 4, 7, 16])
def test_posterize_gives_exactly_levels_evenly_spaced_values_in_equal_bins(levels):
    ramp = np.linspace(0, 1, 4096, dtype=np.float32)
    got = posterize(np.stack([ramp, ramp, ramp, ramp], axis=-1), levels)
    values, counts = np.unique(got[:, 0], return_counts=True)
    np.testing.assert_allclose(values, np.linspace(0, 1, levels), atol=1e-6)
    assert counts.max() - counts.min() <= 2
    np.testing.assert_array_equal(got[:, 3], ramp)
    np.testing.assert_array_equal(got[:, 0], got[:, 2])


def test_posterize_clips_rounds_levels_and_takes_a_field_of_levels():
    np.testing.assert_array_equal(posterize((-0.5, 1.5, 0.6, 1.0), 2), [0, 1, 1, 1])
    np.testing.assert_array_equal(posterize((0.4, 0.6, 0.9), 1), posterize((0.4, 0.6, 0.9), 2))
    np.testing.assert_array_equal(posterize((0.5, 0.5, 0.5), 2.6), posterize((0.5, 0.5, 0.5), 3))
    levels = np.array([[2.0, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(posterize((0.5, 0.5, 0.5, 1), levels)[..., 0], [[1.0, 0.5]])


# --- ordered dithering -----------------------------------------------------------------------------

@pytest.mark.parametrize("size", BAYER_SIZES)
def test_each_bayer_matrix_holds_every_index_once(size):
    matrix = bayer_matrix(size)
    assert matrix.shape == (size, size)
    np.testing.assert_array_equal(np.sort(matrix.ravel()), np.arange(size * size))


def test_bayer_matrices_are_the_classic_ones():
    assert bayer_matrix(2).tolist() == [[0, 2], [3, 1]]
    assert bayer_matrix(4).tolist() == [[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]
    with pytest.raises(ValueError, match="2, 4, 8, 16"):
        bayer_matrix(3)


def pixel_grid(width: int, height: int, x0: int = 0, y0: int = 0):
    columns, rows = np.meshgrid(np.arange(x0, x0 + width), np.arange(y0, y0 + height))
    return columns, rows


@pytest.mark.parametrize("size", BAYER_SIZES)
def test_a_flat_gray_of_k_over_size_squared_whitens_exactly_k_pixels_of_every_block(size):
    columns, rows = pixel_grid(2 * size, 3 * size)
    for k in range(size * size + 1):
        gray = np.float32(k) / np.float32(size * size)
        got = dither((gray, gray, gray, 1.0), 2, columns, rows, size)
        assert set(np.unique(got[..., :3]).tolist()) <= {0.0, 1.0}
        blocks = got[..., 0].reshape(3, size, 2, size).sum(axis=(1, 3))
        np.testing.assert_array_equal(blocks, k)


def test_a_quarter_gray_with_the_4x4_matrix_is_a_quarter_white():
    columns, rows = pixel_grid(64, 32)
    got = dither((0.25, 0.25, 0.25, 0.5), 2, columns, rows, 4)
    assert got.shape == (32, 64, 4)
    assert got[..., 0].mean() == 0.25
    np.testing.assert_array_equal(got[..., 3], 0.5)


def test_dithering_depends_on_the_canvas_position_not_on_the_tile():
    rng = np.random.default_rng(22)
    image = rng.random((40, 48, 4), dtype=np.float32)
    whole = dither(image, 3, *pixel_grid(48, 40), 8)
    tile = dither(image[13:31, 5:27], 3, *pixel_grid(22, 18, x0=5, y0=13), 8)
    np.testing.assert_array_equal(tile, whole[13:31, 5:27])
    shifted = dither(image[13:31, 5:27], 3, *pixel_grid(22, 18), 8)
    assert not np.array_equal(shifted, tile)


def test_dithering_keeps_the_average_shade_and_uses_only_the_levels():
    columns, rows = pixel_grid(16, 16)
    shades = np.random.default_rng(23).random(200, dtype=np.float32)
    for levels in (2, 3, 5):
        for shade in shades:
            got = dither((shade, shade, shade, 1.0), levels, columns, rows, 8)[..., 0]
            assert abs(got.mean() - shade) <= 1 / (128 * (levels - 1)) + 1e-6
            values = np.unique(got) * (levels - 1)
            np.testing.assert_array_equal(values, np.round(values))
            assert len(values) <= 2
    for shade, levels in ((0.0, 2), (1.0, 2), (0.5, 3)):
        np.testing.assert_array_equal(dither((shade,) * 4, levels, columns, rows)[..., 0], shade)


def test_dither_refuses_a_matrix_size_it_does_not_have():
    with pytest.raises(ValueError, match="2, 4, 8, 16 wide, not 5"):
        dither((0.5, 0.5, 0.5, 1), 2, *pixel_grid(4, 4), 5)
