"""The noise built-ins of the generative library, rendered through sketches: 4D noise, Worley,
ridged and turbulence, domain warping, curl noise, salt and pepper, looping and tileable noise."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from artlang.core.errors import ArtError


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def field(render, expression: str, size: str = "64 x 64", head: str = "", **options) -> np.ndarray:
    """The red channel of `output <expression>` (numbers render as grays)."""
    return render(f"canvas {size}\n{head}output {expression}\n", **options)[..., 0]


def loop_frame(frame: int, frames: int = 12, fps: float = 6.0) -> np.ndarray:
    """loop_noise at one frame, called through the table (the renderer stops at frame frames - 1)."""
    from artlang.builtins import load_all
    from artlang.runtime.context import FrameContext
    context = FrameContext(48, 32, seed=5, frame=frame, fps=fps, frames=frames)
    loop_noise = load_all()["loop_noise"].implementation
    return loop_noise(context, "main/x/loop_noise#0", context.uv * 3, None, np.float32(1), np.float32(0),
                      np.float32(3), np.float32(2), np.float32(0.5), "perlin")


def test_looping_noise_returns_to_frame_zero_byte_for_byte():
    frames = [loop_frame(k) for k in (0, 1, 6, 11, 12)]
    assert digest(frames[0]) == digest(frames[-1])
    assert len({digest(f) for f in frames[:-1]}) == 4              # the frames in between all differ
    assert np.abs(frames[1] - frames[0]).mean() < np.abs(frames[2] - frames[0]).mean()   # smooth
    assert np.abs(frames[3] - frames[0]).mean() < np.abs(frames[2] - frames[0]).mean()   # closing in
    assert frames[0].min() >= -1 and frames[0].max() <= 1


def test_looping_noise_in_a_sketch_moves_and_is_animated(render):
    sketch = "canvas 48 x 32\nframes 12\nfps 6\noutput loop_noise(uv * 3) * 0.5 + 0.5\n"
    assert digest(render(sketch, frame=0)) != digest(render(sketch, frame=3))


def test_looping_noise_with_a_duration_loops_after_that_many_seconds(render):
    sketch = "canvas 32 x 32\nframes 20\nfps 10\noutput loop_noise(uv * 2, duration=1) * 0.5 + 0.5\n"
    assert digest(render(sketch, frame=0)) == digest(render(sketch, frame=10))
    assert digest(render(sketch, frame=0)) != digest(render(sketch, frame=5))


def test_tileable_noise_continues_across_the_edges(render):
    # st spans one tile; the pixel one past the last column is the first column of the next tile
    for expression in ("fbm(st * 4, period=4, octaves=4)", "perlin(st * 5, period=5)",
                       "worley(st * 6, period=6)", "ridged(st * 3, period=3, basis=\"value\")"):
        image = field(render, f"{expression} * 0.5 + 0.5", size="96 x 64")
        wide = field(render, f"{expression.replace('st *', 'px / vec(96, -64) *')} * 0.5 + 0.5",
                     size="192 x 64")
        step_inside = np.abs(np.diff(image, axis=1)).max()
        seam_x = np.abs(image[:, 0] - image[:, -1]).max()        # neighbours across the left/right edge
        seam_y = np.abs(image[0, :] - image[-1, :]).max()         # and across top/bottom
        assert seam_x <= 1.5 * step_inside and seam_y <= 1.5 * np.abs(np.diff(image, axis=0)).max()
        assert np.allclose(wide[:, 96:], wide[:, :96], atol=1 / 255), expression


def test_fourth_coordinate_gives_4d_noise(render):
    three = field(render, "perlin(uv * 3, 0.5) * 0.5 + 0.5")
    four = field(render, "perlin(uv * 3, 0.5, 0.25) * 0.5 + 0.5")
    also_four = field(render, "simplex(uv * 3, w=0.25) * 0.5 + 0.5")
    assert not np.array_equal(three, four)
    for image in (four, also_four):
        assert 0.35 < image.mean() < 0.65 and image.std() > 0.05


def test_worley_modes_and_distances(render):
    f1 = field(render, "worley(uv * 4)")
    f2 = field(render, "worley(uv * 4, mode=\"f2\")")
    border = field(render, "worley(uv * 4, mode=\"f2-f1\")")
    assert np.all(f1 <= f2) and np.all(border >= 0)
    np.testing.assert_allclose(border, f2 - f1, atol=1e-5)
    grid = field(render, "worley(uv * 4, jitter=0, distance=\"chebyshev\")")
    assert grid.max() <= 0.5 + 1e-6                        # points on the cell centres


def test_ridged_and_turbulence_are_in_zero_to_one(render):
    for name in ("ridged", "turbulence"):
        image = field(render, f"{name}(uv * 3, octaves=4)")
        assert image.min() >= 0 and image.max() <= 1 and image.std() > 0.03


def test_domain_warp_and_curl_return_vectors(render):
    warped = field(render, "fbm(domain_warp(uv * 3, 0.8)) * 0.5 + 0.5")
    plain = field(render, "fbm(uv * 3) * 0.5 + 0.5")
    assert not np.array_equal(warped, plain) and warped.std() > 0.03
    speed = field(render, "length(curl_noise(uv * 3)) * 0.25")
    assert speed.std() > 0.02 and speed.mean() > 0.1


def test_salt_and_pepper_hits_the_given_fraction_half_black_half_white(render):
    image = render("canvas 200 x 200\noutput salt_pepper(gray(0.5), 0.2)\n")
    rgb = image[..., :3]
    assert np.all(image[..., 3] == 1)
    black = np.all(rgb == 0, axis=-1).mean()
    white = np.all(rgb == 1, axis=-1).mean()
    assert abs(black - 0.1) < 0.01 and abs(white - 0.1) < 0.01
    assert np.all(np.isin(rgb, (0.0, 0.5, 1.0)))


@pytest.mark.parametrize("expression, message", [
    ("perlin(st * 4, t, period=4)", "cannot be combined with `z` or `w`"),
    ("fbm(st * 4, period=4.5)", "whole number of at least 1"),
    ("fbm(st * 4, period=4, lacunarity=2.5)", "whole-number lacunarity"),
    ("fbm(st * 4, period=4, basis=\"simplex\")", "simplex noise cannot tile"),
])
def test_bad_tiling_is_reported(render, expression, message):
    with pytest.raises(ArtError, match=message):
        field(render, expression)
