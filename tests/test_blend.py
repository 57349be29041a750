"""Blend modes against the W3C Compositing and Blending formulas, and alpha compositing edge cases.

The formulas below are written out again from https://www.w3.org/TR/compositing-1/ (one scalar
channel at a time, plain Python) so a slip in `blend.py` cannot hide behind shared code.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from artlang.kernels.blend import MIXES, composite
from artlang.language.schema import BLEND_MODES


def _hard_light(cb, cs):
    return cb * 2 * cs if cs <= 0.5 else cb + (2 * cs - 1) - cb * (2 * cs - 1)   # multiply / screen


def _soft_light(cb, cs):
    if cs <= 0.5:
        return cb - (1 - 2 * cs) * cb * (1 - cb)
    d = ((16 * cb - 12) * cb + 4) * cb if cb <= 0.25 else math.sqrt(cb)
    return cb + (2 * cs - 1) * (d - cb)


W3C = {
    "normal": lambda cb, cs: cs,
    "add": lambda cb, cs: cb + cs,
    "multiply": lambda cb, cs: cb * cs,
    "screen": lambda cb, cs: cb + cs - cb * cs,
    "overlay": lambda cb, cs: _hard_light(cs, cb),          # overlay(cb, cs) = hard-light(cs, cb)
    "soft_light": _soft_light,
    "darken": min,
    "lighten": max,
    "difference": lambda cb, cs: abs(cb - cs),
    "subtract": lambda cb, cs: cb - cs,
}
LEVELS = [0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0]


def w3c_composite(backdrop, source, mode, opacity=1.0):
    """Straight-alpha RGBA result of the W3C 'source-over with blending' formula, in plain Python."""
    ab, as_ = backdrop[3], source[3] * opacity
    ao = as_ + ab * (1 - as_)
    colour = []
    for cb, cs in zip(backdrop[:3], source[:3]):
        blended = (1 - ab) * cs + ab * W3C[mode](cb, cs)               # Cs' = (1 - ab) Cs + ab B(Cb, Cs)
        premultiplied = as_ * blended + (1 - as_) * ab * cb              # co = as Cs' + (1 - as) ab Cb
        colour.append(premultiplied / ao if ao > 0 else 0.0)
    return [*colour, ao]


def test_every_mode_has_a_reference_formula():
    assert set(BLEND_MODES) == set(W3C) == set(MIXES)


@pytest.mark.parametrize("mode", sorted(W3C))
def test_mode_matches_the_formula_on_a_grid_of_opaque_pixels(mode):
    pairs = list(itertools.product(LEVELS, LEVELS))
    backdrop = np.array([[cb, cb, cb, 1] for cb, _ in pairs], np.float32)
    source = np.array([[cs, cs, cs, 1] for _, cs in pairs], np.float32)
    result = composite(backdrop, source, mode)
    expected = np.array([[W3C[mode](cb, cs)] * 3 + [1] for cb, cs in pairs])
    assert np.abs(result - expected).max() < 1e-6


@pytest.mark.parametrize("mode", sorted(W3C))
def test_mode_matches_the_formula_with_partial_alpha_and_opacity(mode):
    rng = np.random.default_rng(len(mode))
    backdrop, source = rng.random((50, 4)).astype(np.float32), rng.random((50, 4)).astype(np.float32)
    opacity = rng.random(50).astype(np.float32)
    result = composite(backdrop, source, mode, opacity)
    expected = np.array([w3c_composite(b.tolist(), s.tolist(), mode, float(o))
                         for b, s, o in zip(backdrop, source, opacity)])
    assert np.abs(result - expected).max() < 1e-5


@pytest.mark.parametrize("mode, backdrop, source, expected", [
    ("multiply", 0.5, 0.4, 0.2),
    ("screen", 0.5, 0.4, 0.7),                 # 0.5 + 0.4 - 0.2
    ("overlay", 0.25, 0.75, 0.375),            # dark backdrop: 2 * 0.25 * 0.75
    ("overlay", 0.75, 0.25, 0.625),            # light backdrop: 1 - 2 * 0.25 * 0.75
    ("soft_light", 0.5, 0.25, 0.375),          # 0.5 - 0.5 * 0.5 * 0.5
    ("soft_light", 0.16, 0.75, 0.16 + 0.5 * ((16 * 0.16 - 12) * 0.16 + 4) * 0.16 - 0.5 * 0.16),
    ("soft_light", 0.64, 1.0, 0.8),            # sqrt(0.64)
    ("difference", 0.2, 0.7, 0.5),
    ("add", 0.25, 0.5, 0.75),
])
def test_known_pixels(mode, backdrop, source, expected):
    result = composite(np.array([backdrop] * 3 + [1], np.float32), np.array([source] * 3 + [1], np.float32), mode)
    assert result[:3] == pytest.approx([expected] * 3, abs=1e-6)
    assert result[3] == 1


# --- alpha edge cases --------------------------------------------------------------------------------

BACKDROP = np.array([0.3, 0.6, 0.9, 0.7], np.float32)
SOURCE = np.array([0.2, 0.4, 0.1, 0.5], np.float32)


@pytest.mark.parametrize("mode", sorted(W3C))
def test_an_invisible_source_leaves_the_backdrop_exactly(mode):
    assert np.array_equal(composite(BACKDROP, SOURCE, mode, 0.0), BACKDROP)
    assert np.array_equal(composite(BACKDROP, SOURCE * [1, 1, 1, 0], mode), BACKDROP)


@pytest.mark.parametrize("mode", sorted(W3C))
def test_over_a_transparent_backdrop_the_mode_does_not_apply(mode):
    result = composite(np.array([0.9, 0.9, 0.9, 0], np.float32), SOURCE, mode)
    assert result == pytest.approx(SOURCE, abs=1e-6)


def test_two_transparent_pixels_give_transparent_black():
    result = composite(np.array([0.5, 0.5, 0.5, 0], np.float32), np.array([0.8, 0.1, 0.3, 0], np.float32))
    assert np.array_equal(result, [0, 0, 0, 0])
    assert np.isfinite(composite(np.zeros((3, 3, 4), np.float32), np.zeros(4, np.float32))).all()


def test_an_opaque_source_at_full_opacity_covers_the_backdrop():
    source = np.array([0.2, 0.4, 0.1, 1.0], np.float32)
    assert composite(BACKDROP, source, "normal", 1.0) == pytest.approx(source, abs=1e-7)


def test_opacity_and_alpha_are_clamped_to_0_1():
    assert np.array_equal(composite(BACKDROP, SOURCE, "normal", 3.0),
                          composite(BACKDROP, SOURCE * [1, 1, 1, 2], "normal", 1.0))
    assert composite(BACKDROP, SOURCE, "normal", 3.0)[3] == 1
    assert np.array_equal(composite(BACKDROP, SOURCE, "normal", -1.0), BACKDROP)


def test_half_transparent_over_half_transparent():
    result = composite(np.array([0, 0, 1, 0.5], np.float32), np.array([1, 0, 0, 0.5], np.float32))
    assert result == pytest.approx([2 / 3, 0, 1 / 3, 0.75], abs=1e-6)   # alpha 0.5 + 0.5 * 0.5


def test_fields_and_uniform_colours_broadcast():
    backdrop = np.zeros((2, 3, 4), np.float32)
    backdrop[..., 3] = 1
    result = composite(backdrop, SOURCE, "screen", np.array([[0, 1, 1], [1, 1, 0]], np.float32))
    assert result.shape == (2, 3, 4) and result.dtype == np.float32
    assert np.array_equal(result[0, 0], backdrop[0, 0])


# --- over and mask in sketches -----------------------------------------------------------------------

def test_over_is_blend_normal_in_reading_order(render):
    assert np.array_equal(render("canvas 4 x 4\noutput over(#ff000080, #0000ff)"),
                          render("canvas 4 x 4\noutput blend(#0000ff, #ff000080)"))
    pixel = render("canvas 2 x 2\noutput over(#ff000080, #0000ff)")[0, 0]
    assert pixel == pytest.approx([128 / 255, 0, 127 / 255, 1], abs=1e-6)


def test_mask_multiplies_alpha_and_is_clamped(render):
    image = render("canvas 4 x 2\noutput mask(#ff000080, st.x * 2 - 0.5)")
    assert image[0, :, 3] == pytest.approx([0, 0.25 * 128 / 255, 0.75 * 128 / 255, 128 / 255], abs=1e-6)
    assert np.allclose(image[0, 1:, 0], 1)
    assert render("canvas 2 x 2\noutput mask(#ffffff, 0)")[..., 3].max() == 0
