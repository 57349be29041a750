"""The table of common syntax mistakes: every example must be reported as its own mistake."""
from __future__ import annotations

import pytest

from artlang.core.errors import ArtError
from artlang.language.parser import parse_source
from artlang.language.syntax_errors import CHARACTER_HINTS, SYNTAX_MISTAKES

EXAMPLES = [(label, example) for label, mistake in SYNTAX_MISTAKES.items() for example in mistake.examples]


def syntax_error(text: str):
    with pytest.raises(ArtError) as caught:
        parse_source(text, "mistake.art")
    assert caught.value.stage == "syntax"
    (diagnostic,) = caught.value.diagnostics
    return diagnostic


@pytest.mark.parametrize("label, example", EXAMPLES, ids=[f"{l}:{e!r}" for l, e in EXAMPLES])
def test_each_example_is_recognised_after_other_statements(label, example):
    diagnostic = syntax_error("seed 1\nlet unrelated = 2\n" + example)
    assert diagnostic.message == SYNTAX_MISTAKES[label].message
    assert diagnostic.span.line >= 3


def test_the_table_covers_at_least_ten_mistakes():
    assert len(SYNTAX_MISTAKES) >= 10


@pytest.mark.parametrize("label, example", EXAMPLES, ids=[f"{l}:{e!r}" for l, e in EXAMPLES])
def test_each_example_is_reported_as_its_mistake(label, example):
    diagnostic = syntax_error(example)
    assert diagnostic.message == SYNTAX_MISTAKES[label].message
    assert diagnostic.hint == SYNTAX_MISTAKES[label].hint
    assert diagnostic.span.file == "mistake.art" and diagnostic.span.line >= 1


@pytest.mark.parametrize("character", sorted(set(CHARACTER_HINTS) - {'"', "#", "."}))
def test_stray_characters_are_named(character):
    diagnostic = syntax_error(f"let a = 1 {character} 2\noutput a\n")
    assert diagnostic.message == CHARACTER_HINTS[character][0]
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 11)


def test_unclosed_parenthesis_points_at_the_opening_one():
    diagnostic = syntax_error("let a = mix(1,\n  sin(2), 3\n\noutput a\n")
    assert diagnostic.message == "this `(` is never closed"
    assert (diagnostic.span.line, diagnostic.span.column) == (1, 12)


def test_a_valid_sketch_still_parses_after_errors():
    module = parse_source("canvas 4 x 4\noutput 1\n")
    assert len(module.statements) == 2
