"""What `artlang reproduce` trusts in a picture's recipe: nothing. A recipe is data from whoever
sent the picture; every name in it is checked after resolution, written only inside a folder
artlang made, the stdlib is read from the installed package, and a damaged recipe is a usage
error (exit 2), never a traceback."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from conftest import run_cli
from artlang.output.provenance import DamagedRecipe, Recipe, file_hash
from artlang.language.project import stdlib_dir

GOOD = {"main": "sketch.art", "sources": {"sketch.art": "canvas 4 x 4\noutput 0.5\n"},
        "inputs": {}, "seed": 0, "params": {}, "size": [4, 4], "frame": 0, "version": "0"}


def picture_with(folder: Path, recipe_text: str, name: str = "gallery.png") -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("artlang:recipe", recipe_text)
    Image.new("RGB", (4, 4)).save(folder / name, pnginfo=info)
    return folder / name


def test_a_symlinked_stdlib_prefix_cannot_write_outside_the_temporary_folder(tmp_path):
    """The attack of issue 13: a gallery ships a symlink named `<stdlib>` a dozen folders deep and
    a recipe input `<stdlib>/../../…/victim`; the copy's source stays inside the gallery while its
    target climbs out of the temporary folder."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    gallery = tmp_path / "gallery"
    deep = gallery.joinpath(*[f"d{i}" for i in range(16)])
    deep.mkdir(parents=True)
    os.symlink(deep, gallery / "<stdlib>")
    climb = "../" * 16
    name = "<stdlib>/" + climb + str(victim).lstrip("/")
    payload = b"overwritten by a picture\n"
    source_of_copy = Path(os.path.normpath(deep.joinpath(*climb.split("/")[:-1]))) / str(victim).lstrip("/")
    assert source_of_copy.is_relative_to(gallery)      # the attack's copy source is inside the gallery
    source_of_copy.parent.mkdir(parents=True)
    source_of_copy.write_bytes(payload)
    recipe = dict(GOOD, inputs={name: file_hash(payload)})
    picture = picture_with(gallery, json.dumps(recipe))
    result = run_cli("reproduce", picture)
    assert victim.read_text() == "precious\n"
    assert result.code == 2, result.stderr
    assert "damaged" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["../escaped.art", "a/../../escaped.art", "/etc/passwd", "a//b.art",
                                  "./a.art", "a\\..\\b.art", "<stdlib>/../x.art",
                                  "<stdlib>/shapes.art/../../x", "nul\x00.art", ""])
def test_every_name_is_a_plain_relative_path(tmp_path, name):
    recipe = dict(GOOD, inputs={name: file_hash(b"x")})
    result = run_cli("reproduce", picture_with(tmp_path, json.dumps(recipe)))
    assert result.code == 2 and "damaged" in result.stderr and "Traceback" not in result.stderr, \
        result.stderr
    assert not (tmp_path.parent / "escaped.art").exists()


def test_the_stdlib_is_read_from_the_installed_package_never_the_users_folder(tmp_path):
    """A stdlib module named in a recipe is compared with the installed one; a `<stdlib>` folder
    beside the picture is never read."""
    (tmp_path / "<stdlib>").mkdir()
    text = (stdlib_dir() / "shapes.art").read_text(encoding="utf-8")
    (tmp_path / "<stdlib>" / "shapes.art").write_text(text + "\nlet sneaky = 1\n")
    sketch = "import shapes\ncanvas 4 x 4\noutput 0.5\n"
    recipe = dict(GOOD, sources={"sketch.art": sketch, "<stdlib>/shapes.art": text + "\nlet sneaky = 1\n"})
    result = run_cli("reproduce", picture_with(tmp_path, json.dumps(recipe)))
    assert result.code == 2 and "different stdlib module" in result.stderr, result.stderr
    recipe = dict(GOOD, sources={"sketch.art": sketch, "<stdlib>/nowhere.art": "let a = 1\n"})
    result = run_cli("reproduce", picture_with(tmp_path, json.dumps(recipe)))
    assert result.code == 2 and "nowhere.art" in result.stderr, result.stderr


def test_an_input_is_not_read_through_a_symlink_that_leaves_the_folder(tmp_path):
    secret = tmp_path / "secret.png"
    Image.new("RGB", (2, 2), (9, 9, 9)).save(secret)
    gallery = tmp_path / "gallery"
    gallery.mkdir()
    os.symlink(secret, gallery / "photo.png")
    recipe = dict(GOOD, sources={"sketch.art": 'canvas 4 x 4\noutput image("photo.png")\n'},
                  inputs={"photo.png": file_hash(secret.read_bytes())})
    result = run_cli("reproduce", picture_with(gallery, json.dumps(recipe)), "--root", gallery)
    assert result.code == 2 and "photo.png" in result.stderr and "outside" in result.stderr, result.stderr


def test_a_good_recipe_with_images_in_folders_still_reproduces(tmp_path):
    (tmp_path / "img").mkdir()
    Image.new("RGB", (3, 3), (200, 10, 10)).save(tmp_path / "img" / "photo.png")
    (tmp_path / "sketch.art").write_text('canvas 8 x 8\noutput image("img/photo.png")\n')
    assert run_cli("render", tmp_path / "sketch.art", "-o", tmp_path / "p.png").code == 0
    result = run_cli("reproduce", tmp_path / "p.png")
    assert result.code == 0 and "every pixel is the same" in result.stdout, result.stderr


HOSTILE = {
    "nested 200,000 deep": "[" * 200_000 + "]" * 200_000,
    "not JSON": "{not json",
    "not an object": "[1, 2]",
    "size is text": json.dumps(dict(GOOD, size="abc")),
    "size of three": json.dumps(dict(GOOD, size=[4, 4, 4])),
    "size negative": json.dumps(dict(GOOD, size=[-4, 4])),
    "size huge": json.dumps(dict(GOOD, size=[10 ** 30, 4])),
    "a source is a number": json.dumps(dict(GOOD, sources={"sketch.art": 7})),
    "sources is a list": json.dumps(dict(GOOD, sources=["sketch.art"])),
    "a NUL in a file name": json.dumps(dict(GOOD, main="a\x00.art", sources={"a\x00.art": "output 1"})),
    "main missing from sources": json.dumps(dict(GOOD, main="other.art")),
    "seed is text": json.dumps(dict(GOOD, seed="abc")),
    "seed is true": json.dumps(dict(GOOD, seed=True)),
    "frame negative": json.dumps(dict(GOOD, frame=-1)),
    "a hash is a list": json.dumps(dict(GOOD, inputs={"a.png": [1]})),
    "a param is an object": json.dumps(dict(GOOD, params={"k": {"a": 1}})),
    "a key missing": json.dumps({k: v for k, v in GOOD.items() if k != "seed"}),
    "an unknown key": json.dumps(dict(GOOD, extra=1)),
    "version is a number": json.dumps(dict(GOOD, version=3)),
    "a name both a source and an input": json.dumps(dict(GOOD, inputs={"sketch.art": "0" * 32})),
    "a name both a file and a folder": json.dumps(dict(GOOD, inputs={"sketch.art/x.png": "0" * 32})),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_recipe_is_reported_as_damaged(tmp_path, text):
    result = run_cli("reproduce", picture_with(tmp_path, text))
    assert result.code == 2, result.stderr
    assert "recipe" in result.stderr and "damaged" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_the_recipe_round_trips_and_rejects_in_python_too():
    recipe = Recipe.from_text(json.dumps(GOOD))
    assert Recipe.from_text(recipe.to_text()) == recipe
    with pytest.raises(DamagedRecipe, match="`size` must be"):
        Recipe.from_text(HOSTILE["size is text"])


@pytest.mark.parametrize("sidecar", ["[" * 200_000 + "]" * 200_000, "[1]", '{"recipe": 5}',
                                     '{"recipe": {"main": 1}}'])
def test_a_hostile_sidecar_is_reported_as_damaged(tmp_path, sidecar):
    (tmp_path / "clip.gif").write_bytes(b"GIF89a")
    (tmp_path / "clip.gif.json").write_text(sidecar)
    result = run_cli("reproduce", tmp_path / "clip.gif")
    assert result.code == 2, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_damaged_sidecar_beside_an_animation_is_rendered_again(tmp_path):
    (tmp_path / "a.art").write_text("canvas 8 x 8\nframes 2\noutput gray(frame / 2)\n")
    assert run_cli("export", tmp_path / "a.art", "-o", tmp_path / "a.gif").code == 0
    (tmp_path / "a.gif.json").write_text("[" * 200_000 + "]" * 200_000)
    result = run_cli("export", tmp_path / "a.art", "-o", tmp_path / "a.gif")
    assert result.code == 0, result.stderr


# ── any JSON at all: a recipe or a DamagedRecipe, and nothing written outside the folder ─────────
from hypothesis import given, settings, strategies as st  # noqa: E402

PLAIN = st.sampled_from(["sketch.art", "a/b.png", "c.png", "d/e/f.art", "<stdlib>/shapes.art"])
NAMES = st.one_of(PLAIN, PLAIN, PLAIN,
                  st.sampled_from(["../x", "/x",
                                   "<stdlib>/../x", "a//b", ".", "", "a\\b", "<stdlib>", "x\x00"]),
                  st.text(alphabet="ab./<>\\", max_size=12))
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)


@st.composite
def recipes(draw):
    """Mostly well-formed recipes whose names are anything, and now and then any JSON at all."""
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    fields = {"main": names[0], "sources": {name: "output 1\n" for name in names[:2]},
              "inputs": {name: "0" * 32 for name in names[2:]}, "seed": 0, "params": {},
              "size": [4, 4], "frame": 0, "version": "0"}
    for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=1)):
        fields[key] = draw(JSON)
    return fields


@settings(max_examples=300, deadline=None, derandomize=True)
@given(recipes())
def test_any_recipe_is_read_or_refused_and_never_writes_outside(tmp_path_factory, fields):
    text = json.dumps(fields)
    try:
        recipe = Recipe.from_text(text)
    except DamagedRecipe:
        return
    from artlang.core.errors import ArtError
    place = tmp_path_factory.mktemp("place")
    folder = place / "made"
    folder.mkdir()
    try:
        recipe.materialise(folder, images_from=[place])
    except ArtError:
        pass
    outside = [p for p in place.rglob("*") if not p.is_relative_to(folder)]
    assert outside == [folder] or outside == [], outside


def test_the_recipe_of_a_huge_picture_is_read_without_decoding_it(tmp_path):
    """A PNG over Pillow's decompression-bomb size (here only its header says so) still gives up
    its recipe: the text chunks are read without touching the pixels."""
    import struct
    import zlib

    from artlang.output.writers import png_chunk, png_head
    text = json.dumps(GOOD)
    head = png_head(100_000, 100_000, 8, 2, {"artlang:recipe": text})
    (tmp_path / "huge.png").write_bytes(head + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))
    from artlang.output.provenance import read_recipe
    assert read_recipe(tmp_path / "huge.png") == Recipe.from_text(text)
    assert struct.unpack(">I", head[16:20])[0] == 100_000
