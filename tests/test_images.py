"""Images: loading (PNG/JPEG/WebP with alpha), crop and fit, sampling, and the neighbourhood filters."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artlang.kernels import filters
from artlang.core.errors import ArtError
from artlang.kernels.images import load_fitted

RNG = np.random.default_rng(7)


def noisy(height=40, width=56, channels=4, opaque=True) -> np.ndarray:
    image = RNG.random((height, width, channels), dtype=np.float32)
    if opaque and channels == 4:
        image[..., 3] = 1
    return image


def reference_correlation(image: np.ndarray, kernel) -> np.ndarray:
    """Slow, obvious float64 correlation with mirrored edges, to check the kernels against."""
    kernel = np.atleast_2d(np.asarray(kernel, np.float64))
    ry, rx = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = np.pad(image.astype(np.float64), ((ry, ry), (rx, rx), (0, 0)), mode="symmetric")
    height, width = image.shape[:2]
    out = np.zeros(image.shape)
    for i in range(kernel.shape[0]):
        for j in range(kernel.shape[1]):
            out += kernel[i, j] * padded[i:i + height, j:j + width]
    return out


# --- loading -----------------------------------------------------------------------------------------

def test_png_keeps_its_alpha(tmp_path):
    pixels = np.zeros((4, 6, 4), np.uint8)
    pixels[..., 0] = 200
    pixels[:, 3:, 3] = 255                      # right half opaque red, left half fully transparent
    pixels[:, :3, 3] = 0
    Image.fromarray(pixels, "RGBA").save(tmp_path / "half.png")
    loaded = load_fitted(tmp_path / "half.png", 6, 4, "stretch")
    assert loaded.dtype == np.float32 and loaded.shape == (4, 6, 4)
    assert np.allclose(loaded[:, 4:, :], [200 / 255, 0, 0, 1], atol=1e-6)
    assert np.allclose(loaded[:, :2, 3], 0)


@pytest.mark.parametrize("suffix, options, tolerance", [
    (".jpg", {"quality": 95}, 4 / 255), (".webp", {"lossless": True}, 1e-6),
    (".webp", {"quality": 90}, 6 / 255)])
def test_jpeg_and_webp_load(tmp_path, suffix, options, tolerance):
    path = tmp_path / f"photo{suffix}"
    Image.new("RGB", (16, 8), (30, 120, 210)).save(path, **options)
    loaded = load_fitted(path, 16, 8, "stretch")
    assert np.allclose(loaded, [30 / 255, 120 / 255, 210 / 255, 1], atol=tolerance)


def test_webp_with_alpha(tmp_path):
    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[..., 1] = 255
    pixels[..., 3] = 128
    Image.fromarray(pixels, "RGBA").save(tmp_path / "glass.webp", lossless=True)
    loaded = load_fitted(tmp_path / "glass.webp", 8, 8, "stretch")
    assert np.allclose(loaded[..., 3], 128 / 255, atol=1e-6)


def test_jpeg_rotation_from_exif_is_applied(tmp_path):
    picture = Image.new("RGB", (20, 10), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6                            # "rotate 90 degrees clockwise to display"
    picture.save(tmp_path / "phone.jpg", exif=exif)
    loaded = load_fitted(tmp_path / "phone.jpg", 10, 20, "none")
    assert loaded[..., 3].min() == 1           # a 10 x 20 upright picture fills a 10 x 20 canvas


@pytest.fixture
def quadrants(tmp_path):
    """A 20 x 10 picture: left half red, right half blue, with a green top-left quarter."""
    pixels = np.zeros((10, 20, 3), np.uint8)
    pixels[:, :10] = (255, 0, 0)
    pixels[:, 10:] = (0, 0, 255)
    pixels[:5, :10] = (0, 255, 0)
    Image.fromarray(pixels).save(tmp_path / "quadrants.png")
    return tmp_path / "quadrants.png"


def test_fit_modes(quadrants):
    cover = load_fitted(quadrants, 10, 10, "cover")        # the middle 10 x 10 of the picture
    assert cover[..., 3].min() == 1
    assert np.allclose(cover[8, 1], [1, 0, 0, 1], atol=0.02) and np.allclose(cover[8, 8], [0, 0, 1, 1], atol=0.02)
    contain = load_fitted(quadrants, 10, 10, "contain")    # 10 x 5 in the middle, transparent above and below
    assert contain[:2, :, 3].max() == 0 and contain[8:, :, 3].max() == 0
    assert np.allclose(contain[4:6, :, 3], 1)
    stretch = load_fitted(quadrants, 10, 10, "stretch")
    assert stretch[..., 3].min() == 1 and np.allclose(stretch[1, 1], [0, 1, 0, 1], atol=0.02)
    natural = load_fitted(quadrants, 30, 14, "none")       # one to one, centred
    assert natural[2:12, 5:25, 3].min() == 1 and natural[:2, :, 3].max() == 0 and natural[:, :5, 3].max() == 0
    assert np.allclose(natural[2, 5, :3], [0, 1, 0]) and np.allclose(natural[11, 24, :3], [0, 0, 1])


def test_crop_picks_a_part_of_the_picture(quadrants):
    green = load_fitted(quadrants, 8, 8, "stretch", crop=[0, 0, 0.5, 0.5])
    assert np.allclose(green, [0, 1, 0, 1], atol=0.01)
    blue = load_fitted(quadrants, 8, 8, "cover", crop=[0.5, 0, 1, 1])
    assert np.allclose(blue, [0, 0, 1, 1], atol=0.01)


@pytest.mark.parametrize("crop", [[0, 0, 1], [0.5, 0, 0.5, 1], [0, 0, 1.5, 1], [0.8, 0, 0.2, 1]])
def test_a_bad_crop_is_refused(quadrants, crop):
    with pytest.raises(ArtError, match="crop"):
        load_fitted(quadrants, 8, 8, "cover", crop=crop)


def test_image_crop_and_fit_in_a_sketch(render, quadrants):
    image = render('canvas 8 x 8\noutput image("quadrants.png", "stretch", crop=[0, 0, 0.5, 0.5])')
    assert np.allclose(image, [0, 1, 0, 1], atol=0.01)


# --- sampling ----------------------------------------------------------------------------------------

def test_sampling_at_uv_gives_the_picture_back(render, quadrants):
    direct = render('canvas 12 x 8\noutput image("quadrants.png")')
    sampled = render('canvas 12 x 8\noutput sample(image("quadrants.png"), uv)')
    assert np.allclose(direct, sampled, atol=1e-5)


def test_sampling_at_twice_uv_shows_the_picture_at_half_size(render, quadrants):
    image = render('canvas 20 x 10\noutput sample(image("quadrants.png", "stretch"), uv * 2, "transparent")')
    assert image[:, :5, 3].max() == 0 and image[:, 16:, 3].max() == 0
    assert np.allclose(image[3, 6:9], [0, 1, 0, 1], atol=0.05) and np.allclose(image[7, 12:14], [0, 0, 1, 1], atol=0.05)


def test_sample_edges():
    row = np.array([[[0.0], [1.0], [2.0], [3.0]]], np.float32)     # 1 x 4, one channel
    x = np.array([-2.0, -1.0, 4.0, 5.0, 1.5], np.float32)
    y = np.zeros_like(x)
    assert filters.sample(row, x, y, "clamp")[..., 0].tolist() == [0, 0, 3, 3, 1.5]
    assert filters.sample(row, x, y, "repeat")[..., 0].tolist() == [2, 3, 0, 1, 1.5]
    assert filters.sample(row, x, y, "mirror")[..., 0].tolist() == [1, 0, 3, 2, 1.5]
    assert filters.sample(row, x, y, "transparent")[..., 0].tolist() == [0, 0, 0, 0, 1.5]


# --- blur --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sigma", [0.7, 2.0, 5.0, 7.5])     # above filters.BOX_SIGMA: test_box_blur.py
def test_blur_is_the_gaussian_with_mirrored_edges(sigma):
    image = noisy()
    weights = filters.gaussian_weights(sigma)
    expected = reference_correlation(image, np.outer(weights, weights))
    assert np.abs(filters.blur(image, sigma) - expected).max() < 1e-5


def test_blur_keeps_the_mean_and_lowers_the_variance():
    image = noisy()
    blurred = filters.blur(image, 2.0)
    assert np.allclose(blurred.mean(axis=(0, 1)), image.mean(axis=(0, 1)), atol=1e-5)
    assert (blurred[..., :3].std(axis=(0, 1)) < 0.5 * image[..., :3].std(axis=(0, 1))).all()


def test_blurring_a_constant_gives_the_constant():
    flat = np.broadcast_to(np.array([0.2, 0.5, 0.9, 1.0], np.float32), (30, 20, 4))
    assert np.allclose(filters.blur(flat, 3.0), flat, atol=1e-6)


def test_blur_in_a_sketch_uses_uv_units(render, tmp_path):
    Image.fromarray((noisy(32, 32, 3) * 255).astype(np.uint8)).save(tmp_path / "noise.png")
    original = render('canvas 32 x 32\noutput image("noise.png")')
    blurred = render('canvas 32 x 32\noutput blur(image("noise.png"), 2 * pixel)')
    weights = filters.gaussian_weights(2.0)
    expected = reference_correlation(original, np.outer(weights, weights))
    assert np.abs(blurred[..., :3] - expected[..., :3]).max() < 1e-5
    assert (blurred[..., 3] == 1).all()
    assert np.array_equal(render('canvas 8 x 8\noutput blur(#336699, 0.1)'),
                          render('canvas 8 x 8\noutput #336699'))


def test_blur_does_not_darken_next_to_transparent_pixels(render):
    image = render('canvas 32 x 32\noutput blur(fill(box(uv, 1), #ffffff), 3 * pixel)')
    visible = image[..., 3] > 0.01
    assert visible.sum() > 16 * 16 and np.allclose(image[visible][:, :3], 1, atol=1e-5)


def test_blur_radius_must_be_the_same_for_every_pixel(tmp_path):
    from artlang.runtime.render import load_sketch
    (tmp_path / "s.art").write_text("output blur(#fff, uv.x)\n")
    with pytest.raises(ArtError, match="radius"):
        load_sketch(tmp_path / "s.art")


# --- sharpen -----------------------------------------------------------------------------------------

def test_sharpen_is_the_unsharp_mask(render, tmp_path):
    Image.fromarray((noisy(24, 24, 3) * 255).astype(np.uint8)).save(tmp_path / "noise.png")
    original = render('canvas 24 x 24\noutput image("noise.png")')
    sharpened = render('canvas 24 x 24\noutput sharpen(image("noise.png"), 1.5, 2 * pixel)')
    weights = filters.gaussian_weights(2.0)
    blurred = reference_correlation(original, np.outer(weights, weights))
    expected = original + 1.5 * (original - blurred)
    assert np.abs(sharpened[..., :3] - expected[..., :3]).max() < 1e-5
    assert sharpened[..., :3].std() > original[..., :3].std()
    assert (sharpened[..., 3] == 1).all()


# --- edges -------------------------------------------------------------------------------------------

def test_sobel_of_a_flat_picture_is_zero():
    assert np.abs(filters.sobel(np.full((20, 30, 4), 0.6, np.float32))).max() == 0


def test_sobel_peaks_on_a_vertical_edge():
    image = np.zeros((10, 12, 4), np.float32)
    image[..., 3] = 1
    image[:, 6:, :3] = 1                        # black | white between columns 5 and 6
    magnitude = filters.sobel(image)
    assert np.allclose(magnitude[:, 5:7], 1, atol=1e-6)
    assert np.allclose(magnitude[:, :4], 0) and np.allclose(magnitude[:, 8:], 0)


def test_sobel_matches_the_two_kernels():
    image = noisy()
    luma = filters.luma(image)[..., None]
    gx = reference_correlation(luma, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    gy = reference_correlation(luma, [[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
    assert np.abs(filters.sobel(image) - np.hypot(gx, gy)[..., 0] / 4).max() < 1e-5


def test_edges_sees_shapes_drawn_on_transparency(render):
    image = render('canvas 32 x 32\noutput edges(fill(circle(uv, 0.5), #ffffff))')
    assert image[16, 16, 0] == 0 and image[16, 8, 0] > 0.2 and image[0, 0, 0] == 0


def test_threshold_is_a_mask_of_the_bright_parts(render):
    image = render('canvas 4 x 2\noutput threshold(gray(st.x), 0.5)')
    assert image[0, :, 0].tolist() == [0, 0, 1, 1]
    assert render('canvas 2 x 2\noutput threshold(#ffffff80, 0.6)')[0, 0, 0] == 0   # luma times alpha


# --- convolution -------------------------------------------------------------------------------------

def test_convolving_with_the_identity_kernel_is_the_identity():
    image = noisy()
    assert np.array_equal(filters.convolve(image, [[0, 0, 0], [0, 1, 0], [0, 0, 0]]), image)
    assert np.array_equal(filters.convolve(image, [[1]]), image)


@pytest.mark.parametrize("kernel", [
    [[1, 2, 1], [2, 4, 2], [1, 2, 1]],                    # separable: done as two passes
    [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    RNG.random((5, 7)).tolist(),
    [[1, 2, 3, 2, 1]]])
def test_convolve_matches_the_reference(kernel):
    image = noisy()
    assert np.abs(filters.convolve(image, kernel) - reference_correlation(image, kernel)).max() < 1e-5


def test_the_kernel_is_laid_out_as_on_screen(render, quadrants):
    """[[0,0,0],[1,0,0],[0,0,0]] gives each pixel its left neighbour: the picture moves right."""
    picture = render('canvas 20 x 10\noutput image("quadrants.png")')
    moved = render('canvas 20 x 10\noutput convolve(image("quadrants.png"), [[0, 0, 0], [1, 0, 0], [0, 0, 0]])')
    assert np.array_equal(moved[:, 1:], picture[:, :-1])
    down = render('canvas 20 x 10\noutput convolve(image("quadrants.png"), [[0, 1, 0], [0, 0, 0], [0, 0, 0]])')
    assert np.array_equal(down[1:], picture[:-1])


def test_convolve_normalises_by_the_sum_unless_told_not_to(render):
    assert render('canvas 4 x 4\noutput convolve(gray(0.1 * st.x), [[1, 1, 1]])')[0, 1, 0] == \
        pytest.approx(0.1 * 0.375, abs=1e-6)
    assert render('canvas 4 x 4\noutput convolve(gray(0.1 * st.x), [[1, 1, 1]], "none")')[0, 1, 0] == \
        pytest.approx(0.1 * 3 * 0.375, abs=1e-6)
    edge = render('canvas 4 x 4\noutput convolve(gray(0.1), [[-1, 0, 1]])')    # sums to 0: kept as is
    assert np.allclose(edge[..., :3], 0) and np.allclose(edge[..., 3], 1)


def test_an_even_kernel_is_refused(render):
    with pytest.raises(ArtError, match="odd number"):
        render('canvas 4 x 4\noutput convolve(gray(st.x), [[1, 1], [1, 1]])')


# --- displacement ------------------------------------------------------------------------------------

def test_displacing_by_zero_is_the_identity(render, quadrants):
    picture = render('canvas 20 x 10\noutput image("quadrants.png")')
    assert np.array_equal(render('canvas 20 x 10\noutput displace(image("quadrants.png"), vec(0, 0))'), picture)
    assert np.array_equal(render('canvas 20 x 10\noutput displace(image("quadrants.png"), uv, 0)'), picture)


def test_a_constant_offset_shifts_by_that_many_pixels(render, quadrants):
    picture = render('canvas 20 x 10\noutput image("quadrants.png")')
    left = render('canvas 20 x 10\noutput displace(image("quadrants.png"), vec(3 * pixel, 0))')
    assert np.allclose(left[:, :-3], picture[:, 3:], atol=1e-5)
    assert np.allclose(left[:, -3:], picture[:, -1:], atol=1e-5)               # clamped at the edge
    down = render('canvas 20 x 10\noutput displace(image("quadrants.png"), vec(0, 2 * pixel), edge="transparent")')
    assert np.allclose(down[2:], picture[:-2], atol=1e-5) and down[:2, :, 3].max() == 0
    half = render('canvas 20 x 10\noutput displace(image("quadrants.png"), vec(pixel, 0), 0.5)')
    assert np.allclose(half[:, :-1], (picture[:, :-1] + picture[:, 1:]) / 2, atol=1e-5)   # bilinear


def test_displace_by_a_noise_field_is_deterministic(render, quadrants):
    sketch = 'canvas 20 x 10\noutput displace(image("quadrants.png"), vec(perlin(uv * 3), perlin(uv * 3 + 5)), 0.2)'
    assert np.array_equal(render(sketch), render(sketch))


# --- threads ----------------------------------------------------------------------------------------

def test_filters_give_the_same_bytes_on_any_number_of_threads():
    from artlang.kernels import noise
    image = noisy(300, 260, opaque=False)
    before = noise.get_threads()
    results = []
    try:
        for threads in (1, 2, 3):
            noise.set_threads(threads)
            results.append([filters.blur(image, 2.5, alpha=True), filters.sobel(image),
                            filters.convolve(image, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])])
    finally:
        noise.set_threads(before)
    for other in results[1:]:
        for a, b in zip(results[0], other):
            assert np.array_equal(a, b)
