"""The documentation stays true: the generated reference is current and every sketch in the docs checks.

Code blocks in docs/language.md, docs/tutorial.md and the generated docs/reference.md:
  ```art           a whole sketch: `artlang check` must accept it (exit 0)
  ```art-error     a sketch that shows a mistake: `artlang check` must refuse it (exit 1)
  ```art-fragment  part of a sketch: not checked
An ```art block whose first line is `# file: PATH` is a module the later blocks of the same page
import; it is written to PATH beside them instead of being checked. A small `photo.png` lies beside
every sketch, for examples of `image("photo.png")`.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT, run_cli

DOCS = ROOT / "docs"
CHECKED_PAGES = ("language.md", "tutorial.md", "reference.md")
FENCE = re.compile(r"^```(art(?:-error|-fragment)?)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
MODULE_FILE = re.compile(r"^#\s*file:\s*(\S+)\s*$")


def code_blocks(page: str) -> list[tuple[str, int, str]]:
    """(kind, line number, text) of every artlang code block of a docs page, in order."""
    text = (DOCS / page).read_text(encoding="utf-8")
    return [(match.group(1), text.count("\n", 0, match.start()) + 1, match.group(2))
            for match in FENCE.finditer(text)]


def module_path(block: str) -> str | None:
    first = block.splitlines()[0] if block.strip() else ""
    match = MODULE_FILE.match(first)
    return match.group(1) if match else None


def sketch_cases() -> list:
    cases = []
    for page in CHECKED_PAGES:
        for kind, line, text in code_blocks(page):
            if kind != "art-fragment" and module_path(text) is None:
                cases.append(pytest.param(page, line, kind, id=f"{page}:{line}"))
    return cases


def test_reference_is_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_docs.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, (result.stderr or result.stdout) + \
        "\nregenerate it: .venv/bin/python tools/make_docs.py"


def test_reference_images_exist():
    reference = (DOCS / "reference.md").read_text(encoding="utf-8")
    linked = re.findall(r'<img src="([^"]+)"', reference)
    missing = [link for link in linked if not (DOCS / link).is_file()]
    assert not missing, f"images linked from reference.md but not rendered: {missing[:5]}; " \
                        "run .venv/bin/python tools/make_docs.py"


def test_every_page_has_sketches():
    for page in CHECKED_PAGES:
        kinds = {kind for kind, _, _ in code_blocks(page)}
        assert "art" in kinds, f"{page} has no ```art blocks: is the fence pattern still right?"


@pytest.mark.parametrize("page, line, kind", sketch_cases())
def test_doc_sketch_checks(page: str, line: int, kind: str, tmp_path: Path):
    blocks = code_blocks(page)
    for _, other_line, text in blocks:          # the modules a page defines, for its imports
        path = module_path(text)
        if path is not None and other_line < line:
            target = tmp_path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    Image.new("RGB", (8, 6), (200, 120, 40)).save(tmp_path / "photo.png")
    text = next(text for _, other_line, text in blocks if other_line == line)
    sketch = tmp_path / "sketch.art"
    sketch.write_text(text, encoding="utf-8")
    result = run_cli("check", sketch)
    expected = 1 if kind == "art-error" else 0
    assert result.code == expected, (
        f"docs/{page}:{line}: `artlang check` exited {result.code}, expected {expected}\n"
        f"{text}\n{result.stdout}{result.stderr}")
