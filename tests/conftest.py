"""Shared helpers for the test suite."""
from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
ZOO_GAN, ZOO_VAE = "shapes-gan", "glyphs-vae"      # the zoo models the tests draw with


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(*arguments: str) -> CliResult:
    """Run `artlang ARGS` in-process and capture what it prints."""
    from artlang.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main([str(a) for a in arguments])
        except SystemExit as exit_:          # argparse's --help / usage errors
            code = exit_.code if isinstance(exit_.code, int) else 0
    return CliResult(code, out.getvalue(), err.getvalue())


def render_source(text: str, tmp_path: Path, name: str = "sketch.art", **options) -> np.ndarray:
    """Render sketch text saved in tmp_path; returns the float RGBA image."""
    from artlang.runtime.render import Renderer, load_sketch

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    frame = options.pop("frame", 0)
    return Renderer(load_sketch(path), **options).render(frame)


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def render(tmp_path):
    return lambda text, **options: render_source(text, tmp_path, **options)
