"""The parser: parses share no state, and the expression trees come from the grammar itself."""
from __future__ import annotations

import re
import sys
import threading
import typing
from pathlib import Path

import pytest
from lark import Lark

from artlang.core.errors import ArtError
from artlang.language import ast, parser
from artlang.language.parser import expression_trees, parse_source

GRAMMAR = Path(parser.__file__).with_name("grammar.lark")

# Each leans on what a parse keeps while it runs: brackets open over lines (newlines dropped inside
# them), plain lines (newlines kept), comments and an unclosed bracket (both read by the error).
SKETCHES = {
    "brackets": "".join(f"let a{k} = mix(1,\n  [{k}, 2],\n  0.5)\n" for k in range(60)) + "output a1\n",
    "lines": "".join(f"let b{k} = {k} * 2  # b{k}\n" for k in range(180)) + "output b1\n",
    "malformed colour": "".join(f"let c{k} = {k}\n" for k in range(120)) + "let bad = #12345\n",
    "unclosed": "".join(f"let d{k} = {k}\n" for k in range(120)) + "let e = f(1,\n  2\n\noutput e\n",
}


def outcome(text: str) -> str:
    try:
        return repr(parse_source(text, "sketch.art"))
    except ArtError as failure:
        return repr(failure.diagnostics)


def test_parses_on_several_threads_at_once_give_their_single_threaded_results():
    expected = {name: outcome(text) for name, text in SKETCHES.items()}
    assert "is not a colour" in expected["malformed colour"]
    assert "is never closed" in expected["unclosed"]
    # switch threads every few bytecodes, so the parses interleave token by token (with a filter
    # shared between parses, as before, most of these came out wrong)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    wrong = []

    def parse_repeatedly(name: str) -> None:
        for _ in range(2):
            if outcome(SKETCHES[name]) != expected[name]:
                wrong.append(name)

    threads = [threading.Thread(target=parse_repeatedly, args=(name,)) for name in SKETCHES for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert wrong == []


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_the_expression_trees_are_the_ast_expression_classes():
    # `ListExpr` is the class of the alias `list` (a class `List` would read as the builtin)
    classes = {snake_case(cls.__name__).removesuffix("_expr") for cls in typing.get_args(ast.Expr)}
    assert expression_trees(Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr").rules) == classes
    assert parser._expression_rules() == classes


def test_a_new_expression_alias_in_the_grammar_is_counted():
    grammar = GRAMMAR.read_text(encoding="utf-8")
    grown = grammar.replace('     | "(" expr ")"\n', '     | "(" expr ")"\n     | "@" atom -> pinned\n')
    assert grown != grammar
    assert "pinned" in expression_trees(Lark(grown, parser="lalr").rules)


def test_a_statement_clause_or_argument_is_not_an_expression_tree():
    trees = parser._expression_rules()
    assert not trees & {"argument", "keyword_argument", "blend_clause", "opacity_clause", "let_stmt", "block"}


@pytest.mark.parametrize("text, too_deep", [
    ("let a = " + "-" * 99 + "1\n", False),                    # 99 unary and a number: 100 levels
    ("let a = " + "-" * 100 + "1\n", True),
    ("let a = " + "f(" * 99 + "1" + ")" * 99 + "\n", False),   # an argument is not a level of its own
])
def test_the_nesting_limit_counts_expression_trees(text, too_deep):
    if too_deep:
        with pytest.raises(ArtError, match="nests more than 100 levels deep"):
            parse_source(text)
    else:
        parse_source(text)


def test_the_committed_parse_tables_are_the_grammars_and_parse_the_same():
    """artlang/language/parse_tables.py (made by tools/make_parse_tables.py) belongs to the current
    grammar, so a render loads the parser instead of building it; and the loaded parser gives the
    same trees as one built from the grammar."""
    import subprocess
    import sys

    from conftest import ROOT
    from artlang.language import parse_tables, parser
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_parse_tables.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout
    assert parse_tables.GRAMMAR_DIGEST == parser.grammar_digest(parser.GRAMMAR.read_text(encoding="utf-8"))
    built = parser.build_lark(parser.GRAMMAR.read_text(encoding="utf-8"))
    for sketch in sorted((ROOT / "sketches").glob("*.art")):
        text = sketch.read_text(encoding="utf-8")
        assert parser.parse_tree(text) == _tree_with(built, text), sketch.name


def _tree_with(lark, text: str):
    """`parse_tree(text)` with another Lark object standing in for the cached one."""
    from artlang.language import parser
    saved = parser._lark
    parser._lark = lambda: lark
    try:
        return parser.parse_tree(text)
    finally:
        parser._lark = saved


def test_stale_parse_tables_are_not_used(monkeypatch):
    from artlang.language import parse_tables, parser
    monkeypatch.setattr(parse_tables, "GRAMMAR_DIGEST", "from another grammar")
    parser._lark.cache_clear()
    try:
        assert parser.parse_source("let a = 1\noutput a").statements[0].name == "a"
    finally:
        parser._lark.cache_clear()
