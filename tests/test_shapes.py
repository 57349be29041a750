"""Shapes and space: distances against analytic values and brute force, symmetries, transforms."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from artlang.builtins import load_all
from conftest import render_source

TABLE = load_all()
CONTEXT = SimpleNamespace(pixel_size=2 / 64)
F32 = np.float32
POINTS = np.random.default_rng(7).uniform(-1.5, 1.5, (1500, 2)).astype(F32)


def call(name, *arguments):
    """Call a built-in's implementation the way the compiler does: numbers and vectors as float32 arrays."""
    return TABLE[name].implementation(CONTEXT, *(np.asarray(a, F32) if not isinstance(a, str) else a
                                                 for a in arguments))


def vec(x, y):
    return np.array([x, y], F32)


def distance_to_curve(points, curve):
    """Unsigned distance from each point to a densely sampled curve, by brute force."""
    result = np.empty(len(points))
    for start in range(0, len(points), 100):
        chunk = points[start:start + 100, None, :] - curve[None]
        result[start:start + 100] = np.sqrt((chunk ** 2).sum(-1)).min(1)
    return result


def sampled_polyline(corners, samples=20000):
    corners = np.asarray(corners, float)
    s = np.linspace(0, 1, samples)[:, None]
    return np.concatenate([a + (b - a) * s for a, b in zip(corners, np.roll(corners, -1, axis=0))])


def render_fields(tmp_path, *expressions, size=64, lets=""):
    """Evaluate up to three num expressions of artlang over a size x size canvas; also returns uv."""
    channels = list(expressions) + ["0"] * (3 - len(expressions))
    source = f"canvas {size} x {size}\nimport shapes\n{lets}\noutput rgb({', '.join(channels)})\n"
    image = render_source(source, tmp_path)
    uv_image = render_source(f"canvas {size} x {size}\noutput rgb(uv.x, uv.y, 0)\n", tmp_path, "uv.art")
    fields = [image[..., i].astype(np.float64) for i in range(len(expressions))]
    return fields, uv_image[..., :2].reshape(-1, 2).astype(np.float64)


# ---- primitives ---------------------------------------------------------------------------------

@pytest.mark.parametrize("radii", [(0.9, 0.5), (0.3, 0.8), (0.5, 0.5), (1.0, 0.05)])
def test_ellipse_is_the_exact_distance(radii):
    a, b = radii
    angle = np.linspace(0, 2 * np.pi, 100001)
    curve = np.stack([a * np.cos(angle), b * np.sin(angle)], axis=-1)
    d = call("ellipse", POINTS, radii).astype(np.float64)
    np.testing.assert_allclose(np.abs(d), distance_to_curve(POINTS, curve), atol=2e-5)
    inside = (POINTS[:, 0] / a) ** 2 + (POINTS[:, 1] / b) ** 2 < 1
    assert (d[inside] <= 0).all() and (d[~inside] >= 0).all()


def test_ellipse_at_known_points():
    # on the long axis the nearest point is the axis' end only beyond a - b^2 / a = 0.6 from the centre
    radii = vec(0.8, 0.4)
    points = np.array([[0.8, 0], [0, 0.4], [0, 0], [1.1, 0], [0, -0.6], [-0.7, 0]], F32)
    np.testing.assert_allclose(call("ellipse", points, radii), [0, 0, -0.4, 0.3, 0.2, -0.1], atol=1e-5)


def test_ellipse_with_equal_radii_is_a_circle():
    np.testing.assert_allclose(call("ellipse", POINTS, vec(0.6, 0.6)), call("circle", POINTS, 0.6), atol=1e-5)


CORNERS = [(0.0, 0.8), (-0.7, -0.5), (0.7, -0.3)]


def test_triangle_is_the_exact_distance_with_the_sign_inside():
    d = call("triangle", POINTS, *CORNERS).astype(np.float64)
    np.testing.assert_allclose(np.abs(d), distance_to_curve(POINTS, sampled_polyline(CORNERS)), atol=1e-4)
    centroid = np.mean(CORNERS, axis=0).astype(F32)
    assert call("triangle", centroid, *CORNERS) < -0.2
    assert call("triangle", vec(0, 0.9), *CORNERS) == pytest.approx(0.1, abs=1e-5)
    assert call("triangle", vec(0, 0.8), *CORNERS) == pytest.approx(0, abs=1e-6)


def test_triangle_does_not_depend_on_the_winding_order():
    clockwise = call("triangle", POINTS, CORNERS[0], CORNERS[2], CORNERS[1])
    np.testing.assert_allclose(call("triangle", POINTS, *CORNERS), clockwise, atol=1e-6)


def test_a_flat_triangle_has_no_inside():
    assert (call("triangle", POINTS, (-0.5, 0), (0, 0), (0.5, 0)) >= 0).all()


def test_arc_is_the_exact_distance_with_round_ends():
    angle = np.linspace(0.3, 4.0, 100001)
    curve = np.stack([0.6 * np.cos(angle), 0.6 * np.sin(angle)], axis=-1)
    d = call("arc", POINTS, 0.6, 0.3, 4.0, 0.1).astype(np.float64)
    np.testing.assert_allclose(d, distance_to_curve(POINTS, curve) - 0.05, atol=2e-5)


def test_arc_at_known_points_and_a_full_turn_is_a_ring():
    assert call("arc", vec(0, 0.6), 0.6, 0, np.pi, 0.1) == pytest.approx(-0.05, abs=1e-6)
    assert call("arc", vec(0, -0.6), 0.6, 0, np.pi, 0.1) == pytest.approx(np.hypot(0.6, 0.6) - 0.05, abs=1e-5)
    ring = np.abs(np.hypot(POINTS[:, 0], POINTS[:, 1]) - 0.5) - 0.05
    np.testing.assert_allclose(call("arc", POINTS, 0.5, 1, 1 + 2 * np.pi, 0.1), ring, atol=1e-5)
    np.testing.assert_allclose(call("arc", POINTS, 0.5, 0, 9, 0.1), ring, atol=1e-5)


# ---- combining --------------------------------------------------------------------------------

A = np.linspace(-1, 1, 201, dtype=F32)[:, None]
B = np.linspace(-1, 1, 201, dtype=F32)[None, :]


def test_smooth_min_is_below_min_and_equal_to_it_away_from_the_join():
    k = 0.3
    smooth, sharp = call("smooth_min", A, B, k), np.minimum(A, B)
    assert (smooth <= sharp + 1e-7).all()
    assert (sharp - smooth <= k / 4 + 1e-6).all()
    far = np.abs(A - B) >= k
    np.testing.assert_array_equal(smooth[far], np.broadcast_to(sharp, smooth.shape)[far])
    assert call("smooth_min", 0.2, 0.2, k) == pytest.approx(0.2 - k / 4)


def test_smooth_min_tends_to_min_as_k_goes_to_zero():
    sharp = np.minimum(A, B)
    gaps = [np.abs(call("smooth_min", A, B, k) - sharp).max() for k in (0.4, 0.1, 0.01, 0.001)]
    assert gaps == sorted(gaps, reverse=True) and gaps[-1] < 3e-4
    np.testing.assert_array_equal(call("smooth_min", A, B, 0), np.broadcast_to(sharp, (201, 201)))


def test_smooth_max_mirrors_smooth_min():
    np.testing.assert_allclose(call("smooth_max", A, B, 0.3), -call("smooth_min", -A, -B, 0.3), atol=1e-7)
    assert (call("smooth_max", A, B, 0.3) >= np.maximum(A, B) - 1e-7).all()


def test_aura_is_opaque_inside_and_fades_outside():
    colour = np.array([1.0, 0.5, 0.25, 1.0], F32)
    glow = call("aura", np.array([-0.2, 0.0, 0.1, 0.2, 5.0], F32), 0.1, colour)
    np.testing.assert_allclose(glow[:, 3], [1, 1, np.exp(-1), np.exp(-2), 0], atol=1e-6)
    np.testing.assert_array_equal(glow[:, :3], np.broadcast_to(colour[:3], (5, 3)))


# ---- space ------------------------------------------------------------------------------------

def test_repeat_is_periodic_and_centred():
    spacing = vec(0.5, 0.3)
    q = call("repeat", POINTS, spacing)
    for shift in [(1, 0), (0, 1), (-3, 2)]:
        moved = POINTS + spacing * np.array(shift, F32)
        np.testing.assert_allclose(call("repeat", moved, spacing), q, atol=2e-6)
    assert (np.abs(q) <= spacing / 2 + 1e-6).all()
    np.testing.assert_allclose(call("repeat", np.array([[1.0, -0.6], [0.2, 0.1]], F32), spacing),
                               [[0, 0], [0.2, 0.1]], atol=1e-6)


def test_repeat_with_zero_spacing_leaves_that_axis_alone():
    q = call("repeat", POINTS, vec(0.5, 0))
    np.testing.assert_array_equal(q[:, 1], POINTS[:, 1])
    assert (np.abs(q[:, 0]) <= 0.25 + 1e-6).all()


def test_cell_id_says_which_cell_repeat_used():
    spacing = vec(0.5, 0.3)
    cell = call("cell_id", POINTS, spacing)
    np.testing.assert_array_equal(cell, np.round(cell))
    np.testing.assert_allclose(POINTS - spacing * cell, call("repeat", POINTS, spacing), atol=1e-6)
    np.testing.assert_array_equal(call("cell_id", vec(1.1, -0.55), 0.5), [2, -1])


@pytest.mark.parametrize("count", [(3, 3), (4, 1)])
def test_repeat_limited_repeats_only_count_copies(count):
    spacing = vec(0.4, 0.4)
    count = np.array(count, F32)
    half_span = spacing * count / 2
    q = call("repeat_limited", POINTS, spacing, count)
    within = (np.abs(POINTS) < half_span).all(axis=1)
    centres = POINTS[within] - q[within]
    offsets = centres / spacing + (count - 1) / 2           # whole numbers 0 .. count-1
    np.testing.assert_allclose(offsets, np.round(offsets), atol=1e-5)
    assert (np.round(offsets) >= 0).all() and (np.round(offsets) <= count - 1).all()
    far = vec(5, 5)
    last = spacing * (count - 1) / 2
    np.testing.assert_allclose(call("repeat_limited", far, spacing, count), far - last, atol=1e-5)


def test_mirror_folds_the_chosen_axis():
    p = np.array([[-0.3, -0.7], [0.4, -0.2]], F32)
    np.testing.assert_array_equal(call("mirror", p, "x"), p * np.array([[-1, 1], [1, 1]], F32))
    np.testing.assert_array_equal(call("mirror", p, "y"), p * np.array([[1, -1], [1, -1]], F32))
    np.testing.assert_array_equal(call("mirror", p, "both"), np.abs(p))


def test_polar_and_cartesian_round_trip():
    q = call("polar", POINTS)
    np.testing.assert_allclose(q[:, 0], np.hypot(POINTS[:, 0], POINTS[:, 1]), rtol=1e-6)
    assert (np.abs(q[:, 1]) <= np.pi).all()
    np.testing.assert_allclose(call("cartesian", q), POINTS, atol=1e-5)
    np.testing.assert_allclose(call("polar", vec(0, 2)), [2, np.pi / 2], atol=1e-6)
    np.testing.assert_allclose(call("cartesian", vec(2, np.pi)), [-2, 0], atol=1e-6)


def rotated(points, angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * points[:, 0] - s * points[:, 1], s * points[:, 0] + c * points[:, 1]], axis=-1).astype(F32)


@pytest.mark.parametrize("segments", [1, 3, 6, 7])
def test_kaleidoscope_folds_into_one_mirrored_wedge(segments):
    q = call("kaleidoscope", POINTS, segments)
    np.testing.assert_allclose(np.hypot(q[:, 0], q[:, 1]), np.hypot(POINTS[:, 0], POINTS[:, 1]), rtol=1e-5)
    angle = np.arctan2(q[:, 1], q[:, 0])
    assert (angle >= -1e-6).all() and (angle <= np.pi / segments + 1e-6).all()
    turned = call("kaleidoscope", rotated(POINTS, 2 * np.pi / segments), segments)
    np.testing.assert_allclose(turned, q, atol=2e-5)
    flipped = call("kaleidoscope", POINTS * np.array([1, -1], F32), segments)
    np.testing.assert_allclose(flipped, q, atol=2e-6)


def test_kaleidoscope_leaves_the_first_half_wedge_alone():
    p = rotated(np.array([[0.7, 0.0]], F32), 0.2)
    np.testing.assert_allclose(call("kaleidoscope", p, 6), p, atol=1e-6)


# ---- the stdlib shapes module (artlang on top of the core) ---------------------------------------

def test_stdlib_polygon_is_exact_and_symmetric(tmp_path):
    (d, turned), uv = render_fields(tmp_path, "shapes.polygon(uv, 5, 0.7)",
                                    "shapes.polygon(rotate(uv, tau / 5), 5, 0.7)")
    corners = [(0.7 * np.cos(a), 0.7 * np.sin(a)) for a in np.pi / 5 + 2 * np.pi / 5 * np.arange(5)]
    np.testing.assert_allclose(np.abs(d.ravel()), distance_to_curve(uv, sampled_polyline(corners)), atol=1e-4)
    np.testing.assert_allclose(turned, d, atol=1e-4)
    assert d[32, 32] == pytest.approx(-0.7 * np.cos(np.pi / 5) + np.hypot(*uv[32 * 64 + 32]), abs=0.05)
    assert d[0, 0] > 0 and d[31, 31] < 0


def test_stdlib_star_is_exact_symmetric_and_points_up(tmp_path):
    (d, turned, mirrored), uv = render_fields(
        tmp_path, "shapes.star(uv, 5, 0.9, 0.4)", "shapes.star(rotate(uv, tau / 5), 5, 0.9, 0.4)",
        "shapes.star(uv * vec(-1, 1), 5, 0.9, 0.4)")
    tips = [(0.9 * np.cos(a), 0.9 * np.sin(a)) for a in np.pi / 2 + 2 * np.pi / 5 * np.arange(5)]
    notches = [(0.4 * np.cos(a), 0.4 * np.sin(a)) for a in np.pi / 2 + np.pi / 5 + 2 * np.pi / 5 * np.arange(5)]
    outline = [corner for pair in zip(tips, notches) for corner in pair]
    np.testing.assert_allclose(np.abs(d.ravel()), distance_to_curve(uv, sampled_polyline(outline)), atol=1e-4)
    np.testing.assert_allclose(turned, d, atol=1e-4)
    np.testing.assert_allclose(mirrored, d, atol=1e-5)
    column = 32
    assert d[4, column] < 0 < d[60, column]      # a point up near the top, a notch at the bottom


def test_stdlib_ring_scaled_moved_and_turned(tmp_path):
    lets = "let p = shapes.turned(shapes.turned(shapes.moved(uv, vec(0.2, 0.1)), 0.7), -0.7)"
    (ring, scaled, back), uv = render_fields(
        tmp_path, "shapes.ring(uv, 0.5, 0.1)", "circle(shapes.scaled(uv, 2), 0.3) * 2 - circle(uv, 0.6)",
        "length(p + vec(0.2, 0.1) - uv)", lets=lets)
    np.testing.assert_allclose(ring.ravel(), np.abs(np.hypot(uv[:, 0], uv[:, 1]) - 0.5) - 0.05, atol=1e-6)
    np.testing.assert_allclose(scaled, 0, atol=1e-6)
    np.testing.assert_allclose(back, 0, atol=1e-6)


def test_stdlib_smooth_union_keeps_its_old_formula(tmp_path):
    """The sketches were drawn with the mix/clamp smooth union; smooth_min must give the same values."""
    a, b, k = "circle(uv - vec(0.3, 0), 0.4)", "box(uv + vec(0.3, 0), vec(0.6, 0.5))", 0.25
    old = f"mix({b}, {a}, clamp(0.5 + 0.5 * ({b} - {a}) / {k}, 0, 1)) - {k} * " \
          f"clamp(0.5 + 0.5 * ({b} - {a}) / {k}, 0, 1) * (1 - clamp(0.5 + 0.5 * ({b} - {a}) / {k}, 0, 1))"
    (new, previous, difference), _ = render_fields(
        tmp_path, f"shapes.smooth_union({a}, {b}, {k})", old,
        f"shapes.smooth_difference({a}, {b}, {k}) - smooth_max({a}, -({b}), {k})")
    np.testing.assert_allclose(new, previous, atol=1e-5)
    np.testing.assert_array_equal(difference, 0)
