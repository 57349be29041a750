"""docs/errors.md, the bad-input catalogue: every example prints exactly what the page shows.

After changing a message, `.venv/bin/python tools/errors_catalogue.py --update` writes the page
again; review its diff.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import errors_catalogue  # noqa: E402

EXAMPLES = errors_catalogue.read(errors_catalogue.CATALOGUE.read_text(encoding="utf-8"))
EXIT_CODES = {"Syntax errors": {1}, "Check errors": {1}, "Limits": {1, 2, 3}, "Usage errors": {2},
              "Runtime errors": {3}}


def test_the_catalogue_covers_every_kind_of_error():
    text = errors_catalogue.CATALOGUE.read_text(encoding="utf-8")
    for section in EXIT_CODES:
        assert f"\n## {section}\n" in text
    assert len(EXAMPLES) >= 40
    from artlang.core.limits import Limits
    for name in Limits.names():                       # every limit's message is shown
        assert f"--limit {name}=N" in text or f"--limit {name}=BYTES" in text, name


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.title for e in EXAMPLES])
def test_each_example_prints_what_the_catalogue_shows(example):
    printed = errors_catalogue.run(example)
    assert printed == example.printed, (
        f"`{example.command}` now prints:\n{printed}\nrun tools/errors_catalogue.py --update "
        "if the change is meant")
    assert "Traceback" not in printed
    code = int(printed.rsplit("[exit ", 1)[1].rstrip("]\n"))
    assert code != 0 and "error:" in printed


def test_a_changed_message_is_caught(tmp_path):
    example = next(e for e in EXAMPLES if e.title == "An unknown name")
    altered = errors_catalogue.Example(example.title, example.files, example.command,
                                       example.printed.replace("fbm", "fmb"))
    assert errors_catalogue.run(altered) != altered.printed
