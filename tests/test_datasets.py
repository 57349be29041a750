"""The training data: built-in data sets drawn here (deterministic by seed) and folders of images."""
from __future__ import annotations

import doctest
import hashlib

import numpy as np
import pytest
from PIL import Image

from artlang.core.errors import ArtError
from artlang.training import datasets
from artlang.training.datasets import load_data


def digest(array: np.ndarray) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


@pytest.mark.parametrize("name", ["glyphs", "shapes"])
def test_a_built_in_data_set_is_the_same_bytes_for_the_same_seed(name):
    first = load_data(name, 32, count=12, seed=3)
    again = load_data(name, 32, count=12, seed=3)
    other = load_data(name, 32, count=12, seed=4)
    assert digest(first.images) == digest(again.images)
    assert np.array_equal(first.labels, again.labels)
    assert digest(first.images) != digest(other.images)


def test_glyphs_are_gray_white_on_black_and_labelled_by_character():
    data = load_data("glyphs", 32, count=40, seed=0)
    assert data.images.shape == (40, 32, 32, 1) and data.images.dtype == np.uint8
    assert data.classes[data.labels[0]] in datasets.GLYPH_CHARACTERS
    border = np.concatenate([data.images[:, 0], data.images[:, -1], data.images[:, :, 0]])
    assert border.mean() < 10                      # black around the letter
    assert (data.images.reshape(40, -1).max(1) > 200).all()   # every image has white ink
    ink = (data.images > 128).mean()
    assert 0.04 < ink < 0.4


def test_shapes_are_coloured_shapes_drawn_by_artlang_and_stand_out_from_the_background():
    data = load_data("shapes", 32, count=20, seed=0)
    assert data.images.shape == (20, 32, 32, 3)
    assert set(data.labels) <= set(range(len(datasets.SHAPE_KINDS)))
    for image in data.images.astype(float) / 255:
        luma = image @ np.array([0.299, 0.587, 0.114])
        centre, corners = luma[12:20, 12:20], luma[[0, 0, -1, -1], [0, -1, 0, -1]]
        # the shape sits near the centre and differs from the background by its lightness
        assert abs(np.median(centre) - np.median(corners)) > 0.15


def test_a_64_pixel_data_set_draws_at_that_size():
    assert load_data("shapes", 64, count=2).images.shape == (2, 64, 64, 3)


def test_split_keeps_images_and_labels_together_and_apart():
    data = load_data("glyphs", 32, count=30, seed=1)
    training, held_out = data.split(0.2, seed=0)
    assert len(training.images) == 24 and len(held_out.images) == 6
    for part in (training, held_out):
        for image, label in zip(part.images, part.labels):
            index = next(i for i in range(30) if np.array_equal(data.images[i], image))
            assert data.labels[index] == label
    together = {digest(i) for i in training.images} | {digest(i) for i in held_out.images}
    assert len(together) == len({digest(i) for i in data.images})


def test_a_folder_of_images_is_read_recursively_centre_cropped_and_labelled_by_subfolder(tmp_path):
    wide = np.zeros((40, 80, 3), np.uint8)
    wide[:, 20:60] = (255, 0, 0)                    # the middle square is red, the sides black
    (tmp_path / "cats").mkdir()
    (tmp_path / "dogs" / "more").mkdir(parents=True)
    Image.fromarray(wide).save(tmp_path / "cats" / "a.png")
    Image.fromarray(wide).save(tmp_path / "dogs" / "more" / "b.jpg", quality=95)
    Image.fromarray(wide).convert("RGBA").save(tmp_path / "dogs" / "c.webp", lossless=True)
    (tmp_path / "notes.txt").write_text("not an image")
    data = load_data(str(tmp_path), 16)
    assert data.images.shape == (3, 16, 16, 3)
    assert data.classes == ("cats", "dogs") and list(data.labels) == [0, 1, 1]
    assert (data.images[:, :, :, 0].astype(int) > 200).mean() > 0.9    # cropped to the red middle
    gray = load_data(str(tmp_path), 16, channels=1)
    assert gray.images.shape == (3, 16, 16, 1)


def test_a_folder_without_images_is_a_clear_error(tmp_path):
    (tmp_path / "readme.txt").write_text("nothing here")
    with pytest.raises(ArtError) as failure:
        load_data(str(tmp_path), 32)
    assert "has no images" in str(failure.value)


def test_an_unreadable_image_is_named(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(ArtError) as failure:
        load_data(str(tmp_path), 32)
    assert "broken.png" in str(failure.value)


def test_a_misspelt_data_set_gets_a_suggestion():
    with pytest.raises(ArtError) as failure:
        load_data("glyph", 32)
    assert "did you mean `glyphs`" in failure.value.diagnostics[0].hint


def test_docstring_examples_run():
    failures, tried = doctest.testmod(datasets)
    assert tried > 0 and failures == 0


def test_transparent_parts_of_folder_images_are_composited_over_black(tmp_path):
    pixels = np.full((16, 16, 4), 255, np.uint8)
    pixels[:, :8, 3] = 0                               # the left half is transparent white
    Image.fromarray(pixels, "RGBA").save(tmp_path / "half.png")
    Image.fromarray(np.ascontiguousarray(pixels[..., 2:]), "LA").save(tmp_path / "gray.png")
    for channels in (3, 1):
        images = load_data(str(tmp_path), 16, channels=channels).images
        assert images[:, :, :7].max() == 0 and images[:, :, 9:].min() == 255
    assert datasets.BACKGROUND == (0, 0, 0)


def test_folder_images_are_turned_upright_by_their_exif_orientation(tmp_path):
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[:8] = (255, 0, 0)                           # stored: red on top, blue below
    pixels[8:] = (0, 0, 255)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6                                   # shown turned 90 degrees clockwise
    image.save(tmp_path / "turned.jpg", exif=exif, quality=95)
    upright = load_data(str(tmp_path), 16).images[0].astype(int)
    assert upright[:, 12:, 0].mean() > 200 and upright[:, 12:, 2].mean() < 50   # red on the right
    assert upright[:, :4, 2].mean() > 200 and upright[:, :4, 0].mean() < 50     # blue on the left


def test_a_folder_fingerprint_changes_with_its_images_and_not_with_how_it_is_named(tmp_path):
    for index in range(3):
        Image.new("RGB", (8, 8), (index, 0, 0)).save(tmp_path / f"{index}.png")
    identity = datasets.data_identity(str(tmp_path))
    assert identity == datasets.data_identity(str(tmp_path) + "/")
    assert identity["images"] == 3 and identity["data"] == str(tmp_path.resolve())
    Image.new("RGB", (8, 8), (9, 9, 9)).save(tmp_path / "3.png")
    changed = datasets.data_identity(str(tmp_path))
    assert changed["images"] == 4 and changed["fingerprint"] != identity["fingerprint"]
    assert datasets.data_identity("glyphs") == {"data": "glyphs"}


def test_a_count_below_one_is_refused():
    with pytest.raises(ArtError, match="0"):
        load_data("glyphs", 32, count=0)
