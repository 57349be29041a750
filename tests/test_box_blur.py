"""Large blurs: three box passes approximate the gaussian at a cost that does not grow with sigma."""
from __future__ import annotations

import numpy as np
import pytest

from artlang.kernels import filters, noise


def impulse(size: int = 241) -> np.ndarray:
    image = np.zeros((size, size, 1), np.float32)
    image[size // 2, size // 2, 0] = 1.0
    return image


@pytest.mark.parametrize("sigma", [8.5, 17.5, 30.0])
def test_the_spread_matches_the_gaussian(sigma):
    assert sigma > filters.BOX_SIGMA
    row = filters.blur(impulse(), sigma)[120, :, 0].astype(np.float64)
    row /= row.sum()
    offsets = np.arange(row.size) - 120
    variance = float(np.sum(row * offsets ** 2))
    assert variance == pytest.approx(sigma ** 2, rel=0.06)


def test_the_box_path_keeps_the_mean_and_smooths():
    rng = np.random.default_rng(1)
    picture = rng.random((160, 200, 4), dtype=np.float32)
    blurred = filters.blur(picture, 20.0)
    assert np.allclose(blurred.mean(axis=(0, 1)), picture.mean(axis=(0, 1)), atol=1e-4)
    assert blurred.std() < picture.std() / 10


def test_the_box_path_keeps_a_constant():
    flat = np.full((90, 70, 4), 0.375, np.float32)
    assert np.allclose(filters.blur(flat, 25.0), 0.375, atol=1e-6)


def test_the_box_path_does_not_depend_on_the_thread_count():
    rng = np.random.default_rng(2)
    picture = rng.random((300, 257, 4), dtype=np.float32)
    before = noise.get_threads()
    try:
        noise.set_threads(1)
        one = filters.blur(picture, 40.0)
        noise.set_threads(2)
        two = filters.blur(picture, 40.0)
    finally:
        noise.set_threads(before)
    assert one.tobytes() == two.tobytes()


def test_alpha_is_blurred_premultiplied_on_the_box_path():
    picture = np.zeros((64, 64, 4), np.float32)
    picture[:, :32] = (1.0, 0.0, 0.0, 1.0)            # red on the left, transparent black right
    blurred = filters.blur(picture, 12.0, alpha=True)
    visible = blurred[..., 3] > 1e-3
    assert np.allclose(blurred[visible][:, 0], 1.0, atol=1e-4)   # no dark fringe: red stays red


def _mirrored_box(values: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """A box of 2*radius+1 along `axis`, mirrored with the edge repeated, the slow obvious way."""
    size = values.shape[axis]
    out = np.empty_like(values, dtype=np.float64)
    for i in range(size):
        taps = np.arange(i - radius, i + radius + 1) % (2 * size)
        taps = np.where(taps < size, taps, 2 * size - 1 - taps)
        np.take(values, taps, axis=axis).mean(axis=axis, out=np.moveaxis(out, axis, 0)[i])
    return out


@pytest.mark.parametrize("sigma", [30.0, 400.0, 5_000.0])
def test_a_radius_far_over_the_canvas_is_exact_and_costs_what_the_canvas_does(sigma):
    picture = np.random.default_rng(3).random((17, 24, 4), dtype=np.float32)
    expected = picture.astype(np.float64)
    for radius in filters.box_radii(sigma):
        expected = _mirrored_box(_mirrored_box(expected, radius, 1), radius, 0)
    assert np.allclose(filters.box_blur(picture, sigma), expected, rtol=0, atol=1e-5)
