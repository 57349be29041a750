"""Time: looping closes exactly, and exports get their time only from the frame number."""
from __future__ import annotations

import numpy as np

from artlang.runtime.render import Renderer, load_source


def frames_of(text: str, *indices: int) -> list[np.ndarray]:
    renderer = Renderer(load_source(text))
    return [renderer.render(i) for i in indices]


def test_loop_noise_closes_after_the_loop_not_the_animation():
    first, middle, closed = frames_of("canvas 32 x 32\nframes 12\nloop 4\n"
                                      "output loop_noise(uv * 3, octaves=2) * 0.5 + 0.5", 0, 2, 4)
    assert np.array_equal(first, closed)
    assert np.abs(first - middle).mean() > 0.01


def test_cycle_driven_motion_closes_every_loop():
    text = "canvas 16 x 16\nframes 30\nloop 10\noutput 0.5 + 0.5 * sin(tau * (cycle + st.x))"
    first, tenth, twentieth, fifth = frames_of(text, 0, 10, 20, 5)
    assert np.array_equal(first, tenth) and np.array_equal(first, twentieth)
    assert not np.array_equal(first, fifth)


def test_pingpong_of_twice_cycle_returns_to_the_start():
    text = "canvas 8 x 8\nframes 24\noutput pingpong(2 * cycle)"
    start, half, end = frames_of(text, 0, 12, 23)
    assert start[0, 0, 0] == 0 and half[0, 0, 0] == 1
    assert end[0, 0, 0] < 0.1


def test_easing_curves_are_monotonic_where_they_should_be():
    from artlang.builtins.easing import EASINGS, _eased
    x = np.linspace(0, 1, 1001)
    for curve in EASINGS:
        for form in ("in", "out", "in_out"):
            y = _eased(x, curve, form)
            assert abs(float(y[0])) < 1e-6 and abs(float(y[-1]) - 1) < 1e-6, (curve, form)
            if curve not in ("back", "elastic", "bounce"):
                assert np.all(np.diff(y) >= -1e-7), (curve, form)
