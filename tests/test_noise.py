"""Properties of artlang.kernels.noise: ranges, smoothness, seeds, broadcasting, fractal sums, white noise,
and byte-identical output however the work is split (threads, tiles, processes)."""
from __future__ import annotations

import doctest
import hashlib
import math
import multiprocessing
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from artlang.kernels import noise
from artlang.core.errors import ArtError

ROOT = Path(__file__).resolve().parent.parent
NOISES = {  # (dimensions, basis) -> the plain noise function
    (2, "value"): noise.value2, (2, "perlin"): noise.perlin2, (2, "simplex"): noise.simplex2,
    (3, "value"): noise.value3, (3, "perlin"): noise.perlin3, (3, "simplex"): noise.simplex3,
}
CASES = [pytest.param(dims, basis, id=f"{basis}{dims}") for dims, basis in NOISES]


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def random_points(count: int, dims: int, spread: float, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-spread, spread, count).astype(np.float32) for _ in range(dims)]


def sample(dims: int, basis: str, points, seed: int = 11) -> np.ndarray:
    return NOISES[dims, basis](*points, seed)


def fractal(dims: int, *args, **options) -> np.ndarray:
    return (noise.fbm2 if dims == 2 else noise.fbm3)(*args, **options)


def test_the_module_examples_run():
    failures, tried = doctest.testmod(noise, extraglobs={"np": np})
    assert tried >= 6 and failures == 0


def test_bases_lists_the_three_noises():
    assert noise.BASES == ("value", "perlin", "simplex")


# --- distribution ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dims, basis", CASES)
def test_values_stay_in_range_and_use_most_of_it(dims, basis):
    values = sample(dims, basis, random_points(200_000, dims, 500.0))
    assert values.dtype == np.float32
    assert np.all(np.isfinite(values))
    assert values.min() >= -1.0 and values.max() <= 1.0
    assert values.std() > 0.1
    assert values.max() - values.min() > 1.0
    # each scale is a bound worked out for that noise, not a clamp: hardly any value sits on the limits
    assert np.count_nonzero(np.abs(values) == 1.0) < 10


@pytest.mark.parametrize("dims, basis", CASES)
def test_the_mean_is_near_zero(dims, basis):
    values = sample(dims, basis, random_points(200_000, dims, 2000.0, seed=1))
    assert abs(float(values.mean(dtype=np.float64))) < 0.02


@pytest.mark.parametrize("dims, basis", CASES)
def test_fbm_stays_in_range_for_other_gains_and_lacunarities(dims, basis):
    points = random_points(50_000, dims, 300.0, seed=2)
    for lacunarity, gain in ((2.0, 0.5), (1.7, 0.9), (3.1, 1.3)):
        values = fractal(dims, *points, 5, basis=basis, octaves=6, lacunarity=lacunarity, gain=gain)
        assert values.min() >= -1.0 and values.max() <= 1.0
        assert values.std() > 0.05


# --- smoothness --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims, basis", CASES)
def test_nearby_points_have_nearby_values(dims, basis):
    points = random_points(100_000, dims, 50.0, seed=3)
    rng = np.random.default_rng(4)
    direction = rng.normal(size=(dims, points[0].size))
    direction /= np.linalg.norm(direction, axis=0)

    def largest_change(step):
        moved = [p + np.float32(step) * d.astype(np.float32) for p, d in zip(points, direction)]
        return float(np.abs(sample(dims, basis, moved) - sample(dims, basis, points)).max())

    # Lipschitz: a step of 1e-3 changes the value by at most ~1e-2 (a jump would show as ~0.1 or more),
    # and ten times smaller steps give roughly ten times smaller changes.
    coarse, fine = largest_change(1e-3), largest_change(1e-4)
    assert coarse < 0.015
    assert fine < 0.25 * coarse


@pytest.mark.parametrize("dims, basis", CASES)
def test_points_ten_apart_are_nearly_uncorrelated(dims, basis):
    points = random_points(100_000, dims, 1000.0, seed=5)
    here = sample(dims, basis, points)
    for axis in range(dims):
        there = sample(dims, basis, [p + np.float32(10.0 * (a == axis)) for a, p in enumerate(points)])
        assert abs(np.corrcoef(here, there)[0, 1]) < 0.03


# --- seeds and determinism -------------------------------------------------------------------------

@pytest.mark.parametrize("dims, basis", CASES)
def test_same_inputs_give_the_same_bytes(dims, basis):
    points = random_points(20_000, dims, 100.0, seed=6)
    assert digest(sample(dims, basis, points, seed=3)) == digest(sample(dims, basis, points, seed=3))


@pytest.mark.parametrize("dims, basis", CASES)
def test_different_seeds_give_unrelated_noise(dims, basis):
    points = random_points(50_000, dims, 100.0, seed=7)
    outputs = [sample(dims, basis, points, seed=s) for s in (0, 1, -1, 2**32, 2**40 + 5, 10**30)]
    # Close to a simplex vertex only that vertex contributes, so two seeds that happen to pick the same
    # of its 8 (2D) or 12 (3D) gradients agree exactly there: about 1% of points for simplex, none else.
    allowed = 0.03 if basis == "simplex" else 0.002
    for i, first in enumerate(outputs):
        for second in outputs[i + 1:]:
            assert np.mean(first == second) < allowed
            assert abs(np.corrcoef(first, second)[0, 1]) < 0.05


def test_seed_reduction_is_a_fixed_rule_over_any_size_of_integer():
    assert noise.seed32(12345) == noise.seed32(np.int64(12345))
    reduced = {noise.seed32(s) for s in (0, 1, 2, -1, -2, 2**32, 2**32 + 1, 2**64, -(2**64), 10**40)}
    assert len(reduced) == 10
    assert all(0 <= s < 2**32 for s in reduced)
    with pytest.raises(ArtError, match="integer"):
        noise.seed32(1.5)
    with pytest.raises(ArtError, match="integer"):
        noise.seed32(True)


def test_two_and_three_dimensions_do_not_repeat_each_other():
    x, y = random_points(10_000, 2, 50.0, seed=8)
    assert abs(np.corrcoef(noise.value2(x, y, 1), noise.value3(x, y, 0.0, 1))[0, 1]) < 0.05


def pinned_outputs() -> dict[str, np.ndarray]:
    x = np.array([0.25, 3.7, -12.3, 101.01], np.float32)
    y = np.array([0.5, -2.2, 7.9, 55.5], np.float32)
    return {"value2": noise.value2(x, y, 42), "perlin2": noise.perlin2(x, y, 42),
            "simplex2": noise.simplex2(x, y, 42), "value3": noise.value3(x, y, 0.3, 42),
            "perlin3": noise.perlin3(x, y, 0.3, 42), "simplex3": noise.simplex3(x, y, 0.3, 42),
            "fbm2": noise.fbm2(x, y, 42)}


PINNED = {
    "value2": [-0.555390, -0.053026, -0.401730, 0.092744],
    "perlin2": [0.274501, 0.277360, -0.108339, 0.194831],
    "simplex2": [0.621759, -0.886845, 0.852356, 0.553539],
    "value3": [-0.043467, 0.310504, -0.072916, -0.406955],
    "perlin3": [0.047549, 0.238938, -0.099434, -0.278581],
    "simplex3": [0.097684, -0.001461, -0.260241, -0.149079],
    "fbm2": [0.269215, 0.194712, 0.011964, 0.089163],
}


def test_pinned_values_catch_an_accidental_change_of_algorithm():
    got = pinned_outputs()
    for name, expected in PINNED.items():
        np.testing.assert_allclose(got[name], expected, atol=2e-6, err_msg=name)


# Without fastmath every float32 operation is rounded as written, so the bytes are the same on any
# CPU and after any compile; these hashes pin them. white_gaussian is left out: it calls libm.
PINNED_DIGESTS = {
    "value2": "910e05369d86a105",
    "perlin2": "1b5ade2d33eca11f",
    "simplex2": "5fde09f72b1528dd",
    "value3": "f0153d9093b814fe",
    "perlin3": "eacc1f6208c982e1",
    "simplex3": "8347c2e8d1f99090",
    "fbm2 value": "667d91ddaf089484",
    "fbm3 value": "5c779e6a80f60cc6",
    "fbm2 perlin": "219e459ebfbe5041",
    "fbm3 perlin": "175eec8ab7f1a7a5",
    "fbm2 simplex": "94b7f909635a9c0f",
    "fbm3 simplex": "bd94647c5a2cc135",
    "white_uniform": "b041b2cebac48798",
    "value4": "2f35e2553d72f698",
    "perlin4": "5826a45a7fdcf4ce",
    "simplex4": "cb4bfaeae2ecad0a",
    "turbulence2": "d8d66d303f19319b",
    "ridged2": "7e9a91d92d309e1e",
    "fbm2 tiled": "16680c43d363330f",
    "worley2": "116ef543e6fe1d4b",
    "worley2 f2-f1 manhattan": "a8635b5908a35475",
    "worley3 f2 chebyshev tiled": "be6e4235bf1cb7ce",
}


def test_pinned_bytes_hold_across_compiles_and_machines():
    got = {name: digest(values)[:16] for name, values in every_output(*grid(48, 64, -7, 5)).items()
           if name != "white_gaussian"}
    assert got == PINNED_DIGESTS


# --- shapes ----------------------------------------------------------------------------------------

def test_scalar_and_array_inputs_broadcast_like_numpy():
    x = np.linspace(0, 5, 7, dtype=np.float32)
    y = np.linspace(-3, 2, 4, dtype=np.float32)[:, None]
    values = noise.perlin2(x, y, 9)
    assert values.shape == (4, 7) and values.dtype == np.float32
    full_x, full_y = np.broadcast_arrays(x, y)
    assert digest(values) == digest(noise.perlin2(full_x.copy(), full_y.copy(), 9))
    line = noise.simplex3(x, 1.5, 0.25, 9)
    assert line.shape == (7,)
    assert digest(line) == digest(noise.simplex3(x, np.full(7, 1.5), np.full(7, 0.25), 9))
    assert noise.fbm3(y, x, 2.0, 9).shape == (4, 7)
    point = noise.value2(0.3, 0.6, 9)
    assert point.shape == () and point.dtype == np.float32
    assert float(point) == float(noise.value2(np.array([0.3]), np.array([0.6]), 9)[0])


def test_other_dtypes_and_layouts_give_the_same_values():
    x, y = random_points(3_000, 2, 20.0, seed=9)
    expected = noise.perlin2(x, y, 4)
    assert digest(noise.perlin2(x.astype(np.float64), y.astype(np.float64), 4)) == digest(expected)
    strided = np.stack([x, y], axis=-1)                 # how the built-ins pass p[..., 0], p[..., 1]
    assert digest(noise.perlin2(strided[..., 0], strided[..., 1], 4)) == digest(expected)
    frozen_x, frozen_y = x.copy(), y.copy()
    frozen_x.flags.writeable = frozen_y.flags.writeable = False
    assert digest(noise.perlin2(frozen_x, frozen_y, 4)) == digest(expected)
    assert noise.perlin2(np.zeros((0, 3)), 0.0, 4).shape == (0, 3)
    assert noise.white_uniform(np.zeros((2, 0), np.int32), 0, 4).shape == (2, 0)
    # one compiled version serves every layout, dtype and writability above
    assert len(noise._fractal2_kernel.signatures) == 1


# --- fractal sums ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims, basis", CASES)
def test_one_octave_is_the_basis_noise_itself(dims, basis):
    points = random_points(10_000, dims, 100.0, seed=10)
    one = fractal(dims, *points, 21, basis=basis, octaves=1, lacunarity=3.0, gain=0.2)
    assert digest(one) == digest(sample(dims, basis, points, seed=21))


@pytest.mark.parametrize("dims, basis", CASES)
def test_more_octaves_add_fine_detail(dims, basis):
    x = np.arange(4096, dtype=np.float32) * np.float32(1 / 64)
    coordinates = (x, np.float32(0.37)) if dims == 2 else (x, np.float32(0.37), np.float32(1.61))

    def roughness(octaves):
        values = fractal(dims, *coordinates, 3, basis=basis, octaves=octaves)
        return float(np.abs(np.diff(values)).mean() / values.std())

    levels = [roughness(octaves) for octaves in (1, 2, 4, 6)]
    assert all(a < b for a, b in zip(levels, levels[1:])), levels


def test_each_octave_has_its_own_seed():
    x, y = random_points(20_000, 2, 100.0, seed=11)
    octave_seeds = noise._octaves(5, "perlin", 4, 2.0, 0.5, 2)[1]
    assert len(set(octave_seeds.tolist())) == 4
    # with lacunarity 1 and gain 1 every octave samples the same points, so equal seeds would give
    # back the first octave exactly
    same_points = noise.fbm2(x, y, 5, octaves=4, lacunarity=1.0, gain=1.0)
    assert np.mean(same_points == noise.perlin2(x, y, 5)) < 0.01


@pytest.mark.parametrize("options, message", [
    (dict(basis="perlinn"), "unknown noise basis 'perlinn'"),
    (dict(octaves=0), "octaves must be a whole number from 1 to 16"),
    (dict(octaves=17), "octaves must be a whole number from 1 to 16"),
    (dict(octaves=2.5), "octaves must be a whole number from 1 to 16"),
    (dict(gain=float("nan")), "gain must be a finite number"),
    (dict(lacunarity=1e10, octaves=6), "lacunarity 10000000000.0 grows beyond float32 over 6 octaves"),
])
def test_bad_fractal_options_are_reported(options, message):
    with pytest.raises(ArtError, match=message):
        noise.fbm2(0.5, 0.5, 1, **options)


# --- splitting the work ----------------------------------------------------------------------------

def every_output(x, y, z, px, py) -> dict[str, str]:
    outputs = {name: function(x, y, 3) for name, function in
               (("value2", noise.value2), ("perlin2", noise.perlin2), ("simplex2", noise.simplex2))}
    outputs.update({name: function(x, y, z, 3) for name, function in
                    (("value3", noise.value3), ("perlin3", noise.perlin3), ("simplex3", noise.simplex3))})
    for basis in noise.BASES:
        outputs[f"fbm2 {basis}"] = noise.fbm2(x, y, 3, basis=basis, octaves=4)
        outputs[f"fbm3 {basis}"] = noise.fbm3(x, y, z, 3, basis=basis, octaves=3)
    outputs.update({name: function(x, y, z, x * np.float32(0.7), 3) for name, function in
                    (("value4", noise.value4), ("perlin4", noise.perlin4), ("simplex4", noise.simplex4))})
    for fractal in ("turbulence", "ridged"):
        outputs[f"{fractal}2"] = noise.fbm2(x, y, 3, octaves=3, fractal=fractal)
    outputs["fbm2 tiled"] = noise.fbm2(x, y, 3, basis="value", octaves=3, period=(5, 7))
    outputs["worley2"] = noise.worley2(x, y, 3)
    outputs["worley2 f2-f1 manhattan"] = noise.worley2(x, y, 3, mode="f2-f1", distance="manhattan")
    outputs["worley3 f2 chebyshev tiled"] = noise.worley3(x, y, z, 3, mode="f2", distance="chebyshev",
                                                          period=4)
    outputs["white_uniform"] = noise.white_uniform(px, py, 3)
    outputs["white_gaussian"] = noise.white_gaussian(px, py, 3)
    return outputs


def grid(rows: int, columns: int, row0: int = 0, column0: int = 0):
    py, px = np.mgrid[row0:row0 + rows, column0:column0 + columns]
    scale = np.float32(0.173)
    return px.astype(np.float32) * scale, py.astype(np.float32) * scale, np.float32(0.8), px, py


def test_thread_count_does_not_change_a_byte():
    before = noise.get_threads()
    inputs = grid(301, 257)                             # 151 blocks: enough for three shares
    try:
        by_threads = {}
        for threads in (1, 2, 3):
            noise.set_threads(threads)
            by_threads[threads] = {name: digest(v) for name, v in every_output(*inputs).items()}
    finally:
        noise.set_threads(before)
    assert by_threads[1] == by_threads[2] == by_threads[3]


def test_the_thread_count_must_be_a_positive_whole_number():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ArtError, match="number of threads"):
            noise.set_threads(bad)


def forked_digests(_):
    return {name: digest(v) for name, v in every_output(*grid(60, 90)).items()}


def test_forked_children_compute_the_same_bytes_after_the_parent_used_the_threads():
    # the renderer forks worker processes; a parent that already ran noise on several threads
    # must not break them (numba's OpenMP threading layer would abort every such child)
    before = noise.get_threads()
    noise.set_threads(2)
    try:
        here = forked_digests(None)
        with multiprocessing.get_context("fork").Pool(2) as pool:
            children = pool.map_async(forked_digests, range(2)).get(timeout=120)
    finally:
        noise.set_threads(before)
    assert children == [here, here]


def test_tiles_give_the_same_bytes_as_the_whole_canvas():
    whole = every_output(*grid(150, 211))
    tiles = ((37, 53, 11, 29), (150, 1, 0, 210), (1, 211, 149, 0), (64, 100, 40, 9))
    for rows, columns, row0, column0 in tiles:
        tile = every_output(*grid(rows, columns, row0, column0))
        for name, values in tile.items():
            expected = whole[name][row0:row0 + rows, column0:column0 + columns]
            assert digest(values) == digest(expected), name


def test_a_fresh_process_computes_the_same_bytes():
    here = {name: digest(v) for name, v in every_output(*grid(40, 70)).items()}
    script = ("import json, sys; sys.path.insert(0, sys.argv[1]); import tests.test_noise as t; "
              "print(json.dumps({n: t.digest(v) for n, v in t.every_output(*t.grid(40, 70)).items()}))")
    result = subprocess.run([sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    import json
    assert json.loads(result.stdout) == here


# --- white noise -----------------------------------------------------------------------------------

def pixel_block(rows=1000, columns=1000):
    return np.arange(columns)[None, :], np.arange(rows)[:, None]


def test_white_uniform_is_uniform_on_minus_one_to_one():
    values = noise.white_uniform(*pixel_block(), 17)
    assert values.dtype == np.float32 and values.shape == (1000, 1000)
    assert values.min() >= -1.0 and values.max() < 1.0
    assert abs(values.mean()) < 0.003
    assert abs(values.std() - 1 / math.sqrt(3)) < 0.002
    counts = np.histogram(values, bins=20, range=(-1, 1))[0]
    assert np.all(np.abs(counts / values.size - 0.05) < 0.002)


def test_white_gaussian_is_standard_normal():
    values = noise.white_gaussian(*pixel_block(), 17).astype(np.float64)
    assert abs(values.mean()) < 0.005
    assert abs(values.std() - 1.0) < 0.005
    for threshold, tail in ((1.0, 0.3173), (2.0, 0.0455), (3.0, 0.0027)):
        assert abs(np.mean(np.abs(values) > threshold) - tail) < 0.15 * tail + 0.001


@pytest.mark.parametrize("kind", ["uniform", "gaussian"])
def test_neighbouring_pixels_are_uncorrelated(kind):
    values = getattr(noise, f"white_{kind}")(*pixel_block(), 5)
    for shifted, original in ((values[:, 1:], values[:, :-1]), (values[1:, :], values[:-1, :])):
        assert abs(np.corrcoef(shifted.ravel(), original.ravel())[0, 1]) < 0.01


@pytest.mark.parametrize("kind", ["uniform", "gaussian"])
def test_white_noise_is_a_pure_function_of_the_pixel(kind):
    white = getattr(noise, f"white_{kind}")
    full = white(np.arange(-50, 150)[None, :], np.arange(-20, 80)[:, None], 8)
    part = white(np.arange(30, 97, dtype=np.uint16)[None, :], np.arange(-3, 61, dtype=np.int16)[:, None], 8)
    assert digest(part) == digest(full[17:81, 80:147])
    assert float(white(95, -20, 8)) == float(full[0, 145])
    assert not np.array_equal(full, white(np.arange(-50, 150)[None, :], np.arange(-20, 80)[:, None], 9))


def test_white_noise_needs_integer_pixels():
    with pytest.raises(ArtError, match="integer pixel coordinates"):
        noise.white_uniform(np.array([0.5]), np.array([1]), 0)


# --- 4D noise, Worley, fractal folds, tiling, curl and looping ------------------------------------

@pytest.mark.parametrize("basis", noise.BASES)
def test_4d_noise_stays_in_range_and_is_smooth(basis):
    points = random_points(200_000, 4, 300.0, seed=12)
    values = noise.fbm4(*points, 7, basis=basis, octaves=1)
    assert values.min() >= -1 and values.max() <= 1 and values.std() > 0.15
    assert abs(values.mean()) < 0.01
    assert np.mean(np.abs(values) > 0.999) < 1e-4
    x = np.arange(2000, dtype=np.float32) / np.float32(200)
    line = noise.fbm4(x, 0.3, 0.6, 0.9, 7, basis=basis, octaves=1)
    assert np.abs(np.diff(line)).max() < 0.1                      # 10 samples per unit: no jumps


def test_4d_noise_differs_from_3d_and_by_w():
    x, y, z = random_points(10_000, 3, 50.0, seed=13)
    assert np.corrcoef(noise.perlin4(x, y, z, 0.0, 2), noise.perlin3(x, y, z, 2))[0, 1] < 0.1
    assert np.corrcoef(noise.simplex4(x, y, z, 0.0, 2), noise.simplex4(x, y, z, 3.5, 2))[0, 1] < 0.1


@pytest.mark.parametrize("dims", [2, 3])
def test_worley_f1_is_at_most_f2_and_in_range(dims):
    points = random_points(100_000, dims, 200.0, seed=14)
    worley = noise.worley2 if dims == 2 else noise.worley3
    for distance in noise.DISTANCES:
        f1, f2, gap = (worley(*points, 4, mode=mode, distance=distance) for mode in noise.WORLEY_MODES)
        assert np.all(f1 >= 0) and np.all(f1 <= f2) and np.all(gap >= 0)
        np.testing.assert_allclose(gap, f2 - f1, atol=1e-6)
        assert f1.max() < 2.0 and f2.max() < 2.1
    f1 = worley(*points, 4)
    assert 0.38 < f1.mean() < 0.58 and f1.max() < 1.3


def test_worley_jitter_zero_puts_points_on_cell_centres():
    x, y = random_points(10_000, 2, 50.0, seed=15)
    expected = np.hypot(x - np.floor(x) - 0.5, y - np.floor(y) - 0.5)
    np.testing.assert_allclose(noise.worley2(x, y, 1, jitter=0.0), expected, atol=1e-5)


def test_turbulence_and_ridged_lie_in_zero_to_one():
    x, y = random_points(100_000, 2, 100.0, seed=16)
    turbulence = noise.fbm2(x, y, 5, fractal="turbulence")
    ridged = noise.fbm2(x, y, 5, fractal="ridged")
    assert turbulence.min() >= 0 and turbulence.max() <= 1 and 0.15 < turbulence.mean() < 0.35
    assert ridged.min() >= 0 and ridged.max() <= 1 and 0.45 < ridged.mean() < 0.7
    one = noise.fbm2(x, y, 5, octaves=1, fractal="turbulence")
    assert digest(one) == digest(np.abs(noise.perlin2(x, y, 5)))


@pytest.mark.parametrize("basis", ["value", "perlin"])
def test_tiled_noise_repeats_after_its_period_exactly(basis):
    # coordinates on a 1/64 grid: x and x + period are both exact in float32
    x = (np.arange(-300, 900) / 64).astype(np.float32)
    y = np.float32(1.25)
    for period, octaves, lacunarity in ((3, 1, 2), (4, 4, 2), (5, 3, 3)):
        tiled = noise.fbm2(x, y, 8, basis=basis, octaves=octaves, lacunarity=lacunarity, period=period)
        shifted = noise.fbm2(x + np.float32(period), y - np.float32(2 * period), 8, basis=basis,
                             octaves=octaves, lacunarity=lacunarity, period=period)
        assert digest(tiled) == digest(shifted)
    # on 0 .. period, where no lattice index wraps, tiled noise is the plain noise
    inside = np.abs(x)
    assert digest(noise.fbm2(inside, y, 8, basis=basis, period=4096)) == \
        digest(noise.fbm2(inside, y, 8, basis=basis))


def test_tiled_worley_repeats_after_its_period():
    x = (np.arange(0, 640) / 64).astype(np.float32)
    y = (np.arange(0, 640) / 80).astype(np.float32)[:, None]
    tiled = noise.worley2(x, y, 3, period=(5, 4))
    shifted = noise.worley2(x + np.float32(5), y + np.float32(4), 3, period=(5, 4))
    # the same feature points; the distances are rounded from other coordinates, hence the tolerance
    np.testing.assert_allclose(shifted, tiled, atol=2e-6)
    assert np.abs(noise.worley2(x + np.float32(1), y, 3, period=(5, 4)) - tiled).max() > 0.1


def divergence(x, y, h, **options):
    """Central-difference divergence of curl2 with step h, and the size of one of its two terms."""
    vx_right, _ = noise.curl2(x + h, y, 9, **options)
    vx_left, _ = noise.curl2(x - h, y, 9, **options)
    _, vy_up = noise.curl2(x, y + h, 9, **options)
    _, vy_down = noise.curl2(x, y - h, 9, **options)
    dvx_dx = (vx_right - vx_left) / (2 * h)
    dvy_dy = (vy_up - vy_down) / (2 * h)
    return np.abs(dvx_dx + dvy_dy).mean(), np.abs(dvx_dx).mean()


def test_curl_noise_is_divergence_free():
    # points on a 1/128 grid, so x +- h is exact
    x, y = (np.round(c * 128) / 128 for c in random_points(20_000, 2, 40.0, seed=17))
    # measured with a step of its own: zero up to the O(h^2) error of the differences
    error, size = divergence(x, y, np.float32(0.01), octaves=1)
    assert size > 0.5 and error < 0.002 * size
    # measured with the step curl2 uses, the discrete divergence cancels up to float rounding
    error, size = divergence(x, y, noise.CURL_STEP, octaves=4)
    assert size > 1 and error < 1e-3 * size


def test_loop_noise_comes_back_to_phase_zero_and_moves_in_between():
    x, y = random_points(5_000, 2, 10.0, seed=18)
    start = noise.loop2(x, y, 0.0, 4, octaves=3)
    assert digest(start) == digest(noise.loop2(x, y, 1.0, 4, octaves=3))
    assert digest(start) == digest(noise.loop2(x, y, 3.0, 4, octaves=3))
    near, far = noise.loop2(x, y, 0.02, 4, octaves=3), noise.loop2(x, y, 0.5, 4, octaves=3)
    assert 0 < np.abs(near - start).mean() < np.abs(far - start).mean()


@pytest.mark.parametrize("call, message", [
    (lambda: noise.worley2(0.5, 0.5, 1, mode="f3"), "unknown Worley mode 'f3'"),
    (lambda: noise.worley2(0.5, 0.5, 1, distance="taxicab"), "unknown distance 'taxicab'"),
    (lambda: noise.worley2(0.5, 0.5, 1, jitter=1.5), "jitter must be from 0 to 1"),
    (lambda: noise.fbm2(0.5, 0.5, 1, fractal="billow"), "unknown fractal 'billow'"),
    (lambda: noise.fbm2(0.5, 0.5, 1, period=0), "whole number of at least 1"),
])
def test_bad_new_options_are_reported(call, message):
    with pytest.raises(ArtError, match=message):
        call()
