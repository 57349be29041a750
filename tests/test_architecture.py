"""The folders are the architecture: each wing imports only the wings below it (import-linter's
contracts in pyproject.toml), and the language reads no arrays."""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(folder: Path, config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"], cwd=folder,
                          capture_output=True, text=True, env={"PYTHONPATH": str(folder)}, timeout=120)


def test_every_wing_imports_only_downward():
    result = lint_imports(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """The contract can fail: the same package with one upward import (the language importing the
    runtime) is refused, naming the import."""
    shutil.copytree(ROOT / "artlang", tmp_path / "artlang",
                    ignore=shutil.ignore_patterns("__pycache__", "zoo", "data"))
    parser = tmp_path / "artlang" / "language" / "parser.py"
    parser.write_text(parser.read_text(encoding="utf-8") + "\nfrom artlang.runtime import render\n",
                      encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    result = lint_imports(tmp_path, tmp_path / "pyproject.toml")
    assert result.returncode != 0
    assert "artlang.language.parser -> artlang.runtime.render" in result.stdout


def test_the_language_loads_without_numpy():
    """Parsing and checking need no arrays: a fresh interpreter that imports the whole language
    wing (and checks a sketch against a schema with no built-ins) has not imported numpy."""
    code = textwrap.dedent("""
        import sys
        import artlang.language
        from artlang.language import ast, checker, ir, literals, parser, project, schema, syntax_errors
        from artlang.language.project import ProjectFiles, load_modules
        import pathlib, tempfile
        folder = pathlib.Path(tempfile.mkdtemp())
        (folder / "s.art").write_text("canvas 4 x 4\\nlet a = 0.5\\noutput a")
        files = ProjectFiles(folder)
        program = checker.check(load_modules(folder / "s.art", files), files, {})
        assert program.settings.width == 4
        print(sorted(m for m in ("numpy", "PIL", "numba", "torch") if m in sys.modules))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
