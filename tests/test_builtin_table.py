"""The built-in table: every entry is documented, and its example renders."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from artlang.builtins import load_all
from artlang.language.kinds import DECLARABLE, Kind
from artlang.language.schema import (
    BLEND_MODES,
    BUILTINS,
    Builtin,
    BuiltinValue,
    P,
    builtin,
    builtin_value,
)
from artlang.runtime.render import Renderer, load_sketch

TABLE = load_all()


def test_every_entry_has_a_summary_and_an_example():
    for name, entry in TABLE.items():
        assert entry.summary, name
        assert entry.example and entry.example.splitlines()[-1].startswith("output "), name


def test_signatures_use_known_kinds():
    for entry in TABLE.values():
        if isinstance(entry, Builtin):
            assert isinstance(entry.returns, Kind) and entry.returns in DECLARABLE, entry.name
            for param in entry.params:
                assert isinstance(param.kind, Kind) and param.kind in DECLARABLE, (entry.name, param.name)
        else:
            assert isinstance(entry, BuiltinValue) and entry.kind in DECLARABLE - {Kind.GENERIC}, entry.name


def _misspelt(context):
    """A built-in declared with a kind that does not exist.

    Example: `output misspelt()`
    """


@pytest.mark.parametrize("declare", [
    lambda: P("c", "colour"),
    lambda: builtin(returns="colour", category="test", name="misspelt")(_misspelt),
    lambda: builtin_value(kind="T", category="test", name="misspelt")(_misspelt),
], ids=["parameter", "result", "value"])
def test_a_declaration_with_an_unknown_kind_fails_when_declared(declare):
    with pytest.raises(ValueError, match="unknown kind") as caught:
        declare()
    assert "the kinds are num, vec2, color, bool, string, list, model, latent" in str(caught.value)
    assert "misspelt" not in BUILTINS


def test_kinds_read_as_their_names():
    assert Kind.COLOR == "color" and f"{Kind.COLOR}" == "color"
    assert Kind.COLOR.described == "a colour" and Kind.GENERIC == "T"
    assert P("c", "color").kind is Kind.COLOR


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
