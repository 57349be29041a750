"""Variadic parameters and list arguments, bound as Python binds them (with a built-in made for the test)."""
from __future__ import annotations

import numpy as np
import pytest

from artlang.builtins import load_all
from artlang.language.schema import BUILTINS, Builtin, P
from artlang.core.errors import ArtError


def _pick(context, first, values, index, weights):
    chosen = values[int(np.ravel(index)[0])] if values else first
    return np.asarray(chosen * float(np.sum(weights)), np.float32)


@pytest.fixture
def pick(monkeypatch):
    load_all()
    entry = Builtin("pick", (P("first", "num"), P("values", "T", None, variadic=True),
                             P("index", "num", 0.0), P("weights", "list", (1.0,))),
                    "T", "test", _pick, "pick a value", "pick a value", None)
    monkeypatch.setitem(BUILTINS, "pick", entry)
    return entry


def test_extra_positionals_go_to_the_variadic_parameter(render, pick):
    image = render("canvas 2 x 2\noutput pick(0, 0.1, 0.2, 0.3, index=2)\n")
    assert np.allclose(image[..., 0], 0.3)


def test_parameters_after_the_variadic_one_are_keyword_only(render, pick):
    image = render("canvas 2 x 2\noutput pick(0, 0.2, 0.4, weights=[0.5, 0.5, 1])\n")
    assert np.allclose(image[..., 0], 0.4)


def test_an_empty_variadic_is_allowed_when_not_required(render, pick):
    image = render("canvas 2 x 2\noutput pick(0.25)\n")
    assert np.allclose(image[..., 0], 0.25)


def test_variadic_values_share_the_generic_kind(render, pick):
    image = render("canvas 2 x 2\noutput pick(0, 0.5, #ff0000, index=1)\n")
    assert np.allclose(image[0, 0], [1, 0, 0, 1])


def test_a_keyword_cannot_name_the_variadic_parameter(render, pick):
    with pytest.raises(ArtError) as caught:
        render("canvas 2 x 2\noutput pick(0, values=1)\n")
    assert "`pick` has no parameter `values`" in caught.value.diagnostics[0].message


def test_signature_shows_the_variadic_parameter(pick):
    assert pick.signature() == "pick(first: num, *values: T, index: num = 0, weights: list = (1)) -> T"
    assert not pick.params[1].required
