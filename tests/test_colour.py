"""Properties of artlang.colour: colormaps, cosine palettes, HSV, hex, sRGB and to_rgba."""
from __future__ import annotations

import doctest
import math
import zipfile

import numpy as np
import pytest

from artlang import colour
from artlang.colour import (COLORMAP_NAMES, colormap, cosine_palette, hsv_to_rgb, linear_to_srgb,
                            parse_hex, rgb_to_hsv, srgb_to_linear, to_rgba)

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
