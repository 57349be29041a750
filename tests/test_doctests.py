"""The runnable examples in the core's module and function docstrings (colour and noise have their
own tests)."""
from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

MODULES = ["artlang.kernels.blend", "artlang.kernels.pixels", "artlang.kernels.region", "artlang.language.literals", "artlang.runtime.context", "artlang.core.errors", "artlang.export.syntax", "artlang.export.variations", "artlang.live.session",
           "artlang.output.provenance", "artlang.runtime.render",
           "artlang.live.watcher", "artlang.output.writers", "artlang.models.architectures",
           "artlang.models.config", "artlang.models.inference", "artlang.models.latent",
           "artlang.models.store"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    failures, tried = doctest.testmod(module, extraglobs={"np": np})
    assert tried > 0, f"{name} has no examples"
    assert failures == 0
