"""The stdlib: every module is exercised by tests/lang/stdlib, and ships inside the wheel."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from artlang.language import ast
from artlang.language.parser import parse_source
from artlang.language.project import stdlib_dir, stdlib_modules
from conftest import ROOT

LANG_STDLIB = ROOT / "tests" / "lang" / "stdlib"


def functions(module: str) -> list[str]:
    path = stdlib_dir() / f"{module}.art"
    parsed = parse_source(path.read_text(encoding="utf-8"), str(path), module)
    return [s.name for s in parsed.statements if isinstance(s, ast.FnStmt)]


def test_stdlib_has_palettes_and_shapes():
    assert {"palettes", "shapes"} <= set(stdlib_modules())


@pytest.mark.parametrize("module", stdlib_modules())
def test_every_stdlib_function_is_called_by_a_test(module):
    test_file = LANG_STDLIB / f"{module}.art"
    assert test_file.is_file(), f"add {test_file} exercising every fn of {module}"
    text = test_file.read_text(encoding="utf-8")
    missing = [name for name in functions(module) if f"{module}.{name}(" not in text]
    assert not missing, f"{module} functions not exercised: {missing}"


def test_the_wheel_carries_stdlib_grammar_and_data(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = tmp_path.glob("artlang-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module in stdlib_modules():
        assert f"artlang/stdlib/{module}.art" in names
    assert "artlang/language/grammar.lark" in names
    assert "artlang/kernels/data/colormaps.npz" in names
    assert "artlang/live/preview_page.html" in names
    assert "artlang/training/shapes.art" in names
