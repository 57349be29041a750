"""Latent maths: seeds that mean the same latent everywhere, and walks that stay proper samples."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from artlang.core.errors import ArtError
from artlang.models import latent


def seeds(count: int, z_size: int, first: int = 0) -> np.ndarray:
    return np.stack([latent.from_seed(seed, z_size) for seed in range(first, first + count)])


def test_a_seed_is_the_same_latent_on_every_machine():
    z = latent.from_seed(0, 8)
    assert z.dtype == np.float32 and z.shape == (8,)
    assert hashlib.sha256(z.tobytes()).hexdigest() == \
        "8a62358acfdcf50b648e4b881cc55760c6443a880627c54211ef70d95ac57942"


def test_seeds_give_different_standard_normal_latents():
    many = seeds(2000, 16)
    assert abs(many.mean()) < 0.02 and abs(many.std() - 1) < 0.02
    assert not np.array_equal(latent.from_seed(-1, 16), latent.from_seed(1, 16))
    assert np.array_equal(latent.from_seed(-1, 16), latent.from_seed(2 ** 64 - 1, 16))


def test_truncation_and_temperature_scale_toward_the_mean():
    z = latent.from_seed(3, 32)
    assert np.array_equal(latent.truncate(z, 1.0), z)
    assert not latent.truncate(z, 0.0).any()
    assert np.allclose(latent.temperature(z, 0.5), z / 2)


def test_lerp_and_slerp_end_exactly_at_their_ends():
    a, b = latent.from_seed(1, 64), latent.from_seed(2, 64)
    for walk in (latent.lerp, latent.slerp):
        assert np.array_equal(walk(a, b, 0.0), a) and np.array_equal(walk(a, b, 1.0), b)
        assert walk(a, b, np.linspace(0, 1, 7)).shape == (7, 64)
        assert walk(a, b, 0.3).dtype == np.float32


def test_slerp_keeps_the_length_lerp_loses():
    a = latent.from_seed(1, 256)
    b = latent.from_seed(2, 256)
    b = b * (np.linalg.norm(a) / np.linalg.norm(b))              # the same length
    t = np.linspace(0, 1, 11)
    arc = np.linalg.norm(latent.slerp(a, b, t), axis=-1)
    assert np.allclose(arc, np.linalg.norm(a), rtol=1e-5)
    line = np.linalg.norm(latent.lerp(a, b, 0.5))
    assert line < 0.8 * np.linalg.norm(a)                         # about 1/sqrt(2) of it


def test_slerp_of_nearly_parallel_latents_is_the_line_and_finite():
    a = latent.from_seed(1, 64)
    b = a * np.float32(1.5) + np.float32(1e-9)
    walk = latent.slerp(a, b, np.linspace(0, 1, 5))
    assert np.isfinite(walk).all()
    assert np.allclose(walk, latent.lerp(a, b, np.linspace(0, 1, 5)), atol=1e-6)
    assert np.array_equal(latent.slerp(a, a, 0.5), a)


def test_slerp_of_opposite_latents_turns_instead_of_passing_through_zero():
    a = latent.from_seed(1, 64)
    walk = latent.slerp(a, -a, np.linspace(0, 1, 9))
    assert np.isfinite(walk).all()
    assert np.allclose(np.linalg.norm(walk, axis=-1), np.linalg.norm(a), rtol=1e-5)
    assert np.array_equal(walk[-1], -a)


def test_slerp_broadcasts_pairs_and_positions():
    a, b = seeds(3, 8), seeds(3, 8, first=10)
    assert latent.slerp(a, b, np.array([0.0, 0.5, 1.0])).shape == (3, 8)
    assert np.array_equal(latent.slerp(a, b, np.array([0.0, 0.5, 1.0]))[2], b[2])


def test_a_loop_closes_exactly():
    a, b = latent.from_seed(1, 32), latent.from_seed(2, 32)
    assert np.array_equal(latent.loop(a, b, 0.0), a)
    assert np.array_equal(latent.loop(a, b, 1.0), a)
    assert np.array_equal(latent.loop(a, b, 2.25), latent.loop(a, b, 0.25))


def test_every_point_of_a_loop_is_a_standard_normal_sample():
    first, second = seeds(4000, 8), seeds(4000, 8, first=10_000)
    for phase in (0.0, 0.125, 0.3, 0.5, 0.9):
        points = latent.loop(first, second, np.full(len(first), phase))
        assert abs(points.mean()) < 0.03, phase
        assert abs(points.var() - 1) < 0.05, phase
    middle = latent.lerp(first, second, np.full(len(first), 0.5))
    assert middle.var() < 0.6                                     # what the loop avoids


def test_a_spline_passes_through_every_keyframe():
    keys = seeds(5, 16)
    assert np.array_equal(latent.spline(keys, np.arange(5) / 4), keys)
    assert np.array_equal(latent.spline(keys, np.arange(5) / 5, closed=True), keys)
    assert np.array_equal(latent.spline(keys, 1.0, closed=True), keys[0])


def test_a_spline_is_smooth_and_a_closed_one_wraps_round():
    keys = seeds(4, 16)
    u = np.linspace(0, 1, 401)
    curve = latent.spline(keys, u, closed=True)
    steps = np.linalg.norm(np.diff(curve, axis=0), axis=-1)
    assert steps.max() < 3 * np.median(steps)                     # no jumps
    wrap = np.linalg.norm(curve[0] - latent.spline(keys, -1 / 400, closed=True))
    assert wrap < 3 * np.median(steps)


def test_a_spline_survives_a_held_keyframe():
    a, b = latent.from_seed(1, 8), latent.from_seed(2, 8)
    curve = latent.spline(np.stack([a, a, b]), np.linspace(0, 1, 50))
    assert np.isfinite(curve).all() and np.array_equal(curve[-1], b)


def test_a_spline_needs_two_keyframes():
    with pytest.raises(ArtError, match="K >= 2"):
        latent.spline(seeds(1, 8), 0.5)
