"""The built-in table: every entry is documented, and its example renders."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artlang.language.schema import BLEND_MODES
from artlang.builtins import load_all
from artlang.language.schema import KINDS, Builtin
from artlang.runtime.render import Renderer, load_sketch

TABLE = load_all()


def test_every_entry_has_a_summary_and_an_example():
    for name, entry in TABLE.items():
        assert entry.summary, name
        assert entry.example and entry.example.splitlines()[-1].startswith("output "), name


def test_signatures_use_known_kinds():
    for entry in TABLE.values():
        if isinstance(entry, Builtin):
            assert entry.returns in KINDS + ("T",), entry.name
            for param in entry.params:
                assert param.kind in KINDS + ("T",), (entry.name, param.name)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_each_example_renders_finite_pixels(name, tmp_path):
    Image.new("RGB", (8, 8), (120, 90, 60)).save(tmp_path / "photo.png")
    sketch = tmp_path / "example.art"
    sketch.write_text(TABLE[name].example + "\n", encoding="utf-8")
    image = Renderer(load_sketch(sketch), size=(24, 16)).render()
    assert image.shape == (16, 24, 4)
    assert np.isfinite(image).all()


def test_blend_modes_are_documented():
    assert {"normal", "add", "multiply", "screen", "overlay"} <= set(BLEND_MODES)
    assert all(mode.doc for mode in BLEND_MODES.values())
