"""Syntax errors that name the mistake, not the token.

`SYNTAX_MISTAKES` is a table of common mistakes, each with example sources that make it; when a
parse fails, we find the example that failed in the same parser state with the same acceptable
tokens (the idea of Lark's `match_examples`, which cannot parse through our token filter) and
report that entry's message and hint. tests/test_syntax_errors.py checks every example.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from artlang.core.errors import SYNTAX, ArtError, Diagnostic
from artlang.language.ast import Span


@dataclass(frozen=True)
class SyntaxMistake:
    message: str
    hint: str
    examples: tuple[str, ...]
    same_token_only: bool = False     # match only when the unexpected token is the examples' token


SYNTAX_MISTAKES: dict[str, SyntaxMistake] = {
    "missing operand": SyntaxMistake(
        "an operator is missing its right-hand operand",
        "finish the expression, e.g. `a + b`",
        ("let a = 1 +\n", "let a = 2 *\n", "let a = uv.x -\n", "output 1 /\n", "let a = 1 ** \n",
         "let a = 1 <\n", "let a = 1 and\n", "let a = not\n")),
    "assignment in expression": SyntaxMistake(
        "`=` inside an expression",
        "to compare, use `==`; `=` only appears in `let`, `param`, `fn` and keyword arguments",
        ("let a = 1 if uv.x = 0 else 2\n", "output uv.x = 0\n", "let a = b = 2\n",
         "let a = (uv.x = 1)\n", "let a = f(1, uv.x = 1)\n", "let a = f(x.y = 1)\n")),
    "missing comma": SyntaxMistake(
        "two values side by side with nothing between them",
        "separate arguments with `,` or join values with an operator such as `*`",
        ("let a = circle(uv 0.3)\n", "let a = f(x y)\n", "let a = 2 uv\n", "let a = f(1)(2) 3\n",
         "output a b\n", "let a = f(1, 2 3)\n",
         "output circle(uv 0.3)\n", "output f(x y)\n", "output f(1 2)\n", "output f(1, x 2)\n",
         "output 2 uv\n", "output 1 2\n", "layer l = f(a b)\n", "layer l = f(1 2)\n", "layer l = a b\n",
         "let a = f(1 2)\n", "let a = f(1, 2 x)\n", "let a = f(1, x 2)\n", "let a = 1 2\n",
         "let a = f(x=1 2)\n", "output f(x=1 2)\n", "let a = f(x.y 2)\n", "output f(x.y z)\n",
         "fn f(x) = x 2\n", "let a = (1 2)\n", "output (1 2)\n", "let a = f(\"s\" 2)\n")),
    "missing let": SyntaxMistake(
        "a statement must start with a keyword",
        "to name a value write `let name = ...`; statements start with let, fn, param, layer, "
        "output, import, canvas, seed, frames, fps, duration or loop",
        ("a = 3\n", "x\n", "sin(uv.x)\n", "1 + 2\n", "\"text\"\n")),
    "let without name": SyntaxMistake(
        "`let` needs a name",
        "write `let name = expression`",
        ("let = 3\n", "let 3 = 4\n", "let (a) = 1\n", "let \"a\" = 1\n")),
    "let without equals": SyntaxMistake(
        "expected `=` after the name",
        "write `let name = expression`",
        ("let a 3\n", "let a\n", "let a == 3\n", "let a sin(1)\n", "param p 3\n", "layer l circle\n")),
    "missing expression": SyntaxMistake(
        "expected an expression",
        "write a value here, e.g. `0.5`, `uv` or `sin(t)`",
        ("let a =\n", "let a = )\n", "output\n", "let a = ,\n", "layer l =\n", "let a = f(,)\n",
         "let a = f(1,,2)\n", "let a = if\n")),
    "extra closing parenthesis": SyntaxMistake(
        "this `)` closes nothing",
        "remove it, or add the `(` it was meant to close",
        ("let a = sin(1))\n", "let a = 1)\n", "output a)\n", "let a = (1))\n")),
    "conditional without else": SyntaxMistake(
        "a conditional needs `else`",
        "write `a if condition else b`",
        ("let a = 1 if uv.x > 0\n", "let a = 1 if b\n", "output 1 if 2 3\n")),
    "bad canvas": SyntaxMistake(
        "`canvas` needs a size WIDTH x HEIGHT",
        "write e.g. `canvas 800 x 600`",
        ("canvas 512\n", "canvas\n", "canvas a\n", "canvas 1.5 x 2\n", "canvas 512 512\n")),
    "bad function": SyntaxMistake(
        "a function needs a parameter list and a body",
        "write `fn name(a, b = 1) = expression` or `fn name(a) { let x = ...\\n x * 2 }`",
        ("fn f = 1\n", "fn f\n", "fn f(x)\n", "fn f(x) 1\n", "fn (x) = 1\n", "fn f(1) = 1\n")),
    "bad param": SyntaxMistake(
        "a param needs a literal default and, for numbers, an optional range",
        "write e.g. `param scale = 3 in 1..10` or `param tint = #ff8800`",
        ("param p = uv\n", "param p = 1 in 2\n", "param p = 1 in 0..\n", "param p = 1 in ..2\n",
         "param p = sin(1)\n", "param = 1\n")),
    "bad blend": SyntaxMistake(
        "expected a blend mode name after `blend`",
        "e.g. `layer glow = ... blend screen opacity 0.5`",
        ("layer l = 1 blend\n", "layer l = 1 blend 2\n", "layer l = 1 blend \"screen\"\n")),
    "layer clause on its own line": SyntaxMistake(
        "`blend` and `opacity` belong on the line of their `layer`",
        "keep them on the layer's line, or end the line before them with `\\`",
        ("layer l = 1\nblend screen\n", "layer l = 1\n  opacity 0.5\n", "layer l = 1 blend add\nopacity 1\n",
         "output 1\nblend add\n", "let a = 1\nopacity 2\n", "canvas 2 x 2\nlayer l = 1\nopacity 0.5\n",
         "let a = 1\nlayer l = 1\n  blend add\n", "let a = 1\nlet b = 1\nblend add\n"),
        same_token_only=True),
    "bad import": SyntaxMistake(
        "expected a module name or a quoted path after `import`",
        "write `import palettes` or `import \"lib/waves.art\" as waves`",
        ("import\n", "import 3\n", "import palettes as\n", "import a.b\n")),
}

# Characters the lexer cannot start a token with, and what the user probably meant.
CHARACTER_HINTS: dict[str, tuple[str, str]] = {
    "^": ("`^` is not an operator here", "use `**` for powers, e.g. `x ** 2`"),
    ":": ("unexpected `:`", "keyword arguments use `=`, e.g. `fbm(p, octaves=4)`"),
    "&": ("unexpected `&`", "use `and`"),
    "|": ("unexpected `|`", "use `or`"),
    "!": ("unexpected `!`", "use `not` for negation, `!=` for 'not equal'"),
    '"': ("this string is not closed", "strings are written in double quotes on one line: \"photo.png\""),
    "'": ("unexpected `'`", "strings use double quotes: \"photo.png\""),
    ";": ("unexpected `;`", "a statement ends at the end of its line; no `;` is needed"),
    ".": ("unexpected `.`", "write numbers with a leading digit, e.g. `0.5`"),
    "#": ("`#` starts a colour only with 3, 4, 6 or 8 hex digits", "e.g. `#f80` or `#ff8800`"),
    "$": ("unexpected `$`", "names are made of letters, digits and `_`"),
    "@": ("unexpected `@`", "operators are + - * / % ** and comparisons == != < <= > >="),
    "`": ("unexpected backquote", "names need no quotes"),
}

# How the terminals of grammar.lark are named in messages (COMMENT, which the lexer accepts
# everywhere and the parser drops, and the anonymous `__` ones are never named as expected).
_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "INT": "a whole number", "SIZE": "a size like 800 x 600",
    "COLOR": "a colour", "STRING": "a string", "_NL": "end of line", "$END": "end of file",
    "LPAR": "`(`", "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "EQUAL": "`=`", "LBRACE": "`{`", "RBRACE": "`}`",
    "DOT": "`.`", "PLUS": "`+`", "MINUS": "`-`", "STAR": "`*`", "SLASH": "`/`", "PERCENT": "`%`",
    "POWER": "`**`", "COMPARE": "a comparison", "__ANON_0": "`..`",
}


def _terminal_name(name: str) -> str:
    return _TERMINAL_NAMES.get(name, f"`{name.lower()}`")


def _token_text(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type == "$END":
        return "end of file"
    return f"`{token}`"


def _signature(failure: UnexpectedInput) -> tuple:
    """What identifies a parse failure: the parser state and the tokens it would have accepted."""
    state = getattr(failure, "state", None)
    state = getattr(state, "position", state)
    accepts = getattr(failure, "accepts", None) or getattr(failure, "expected", None) or ()
    return type(failure).__name__, state, frozenset(accepts)


_AFTER_A_STATEMENT = ("canvas 4 x 4\n", "let a = 1\n", "seed 1\nlet a = 1\n", "seed 1\ncanvas 4 x 4\n")


@functools.cache
def _example_signatures(parse: Callable[[str], object]) -> tuple[tuple[str, tuple, str | None], ...]:
    """How each example of the table fails under `parse`: (label, signature, unexpected token type)."""
    signatures = []
    for label, mistake in SYNTAX_MISTAKES.items():
        # the parser is in another state after a first statement: learn both
        for example in mistake.examples + tuple(before + e for e in mistake.examples
                                                for before in _AFTER_A_STATEMENT):
            try:
                parse(example)
            except UnexpectedInput as example_failure:
                token = getattr(example_failure, "token", None)
                signatures.append((label, _signature(example_failure), getattr(token, "type", None)))
    return tuple(signatures)


def _match_example(failure: UnexpectedInput, parse: Callable[[str], object]) -> str | None:
    """The label of the mistake whose examples fail like `failure` (same token first, then any)."""
    signature = _signature(failure)
    token_type = getattr(getattr(failure, "token", None), "type", None)
    same_state = [(label, kind) for label, other, kind in _example_signatures(parse) if other == signature]
    exact = [label for label, kind in same_state if kind == token_type]
    loose = [label for label, _ in same_state if not SYNTAX_MISTAKES[label].same_token_only]
    return (exact or loose or [None])[0]


_MALFORMED_COLOUR = re.compile(r"#[0-9a-fA-F]+(?![0-9a-zA-Z_])")
_VALUE_EXPECTED_BEFORE = tuple("=(,+-*/%<>")


def _malformed_colour(comments: list[Token], text: str, file: str) -> ArtError | None:
    """A `#abcde` where a value was expected lexes as a comment; name it as a bad colour instead."""
    lines = text.splitlines()
    for comment in comments:
        match = _MALFORMED_COLOUR.match(str(comment))
        before = lines[comment.line - 1][: comment.column - 1].rstrip()
        if match and (before.endswith(_VALUE_EXPECTED_BEFORE)
                      or before.rsplit(None, 1)[-1:] in (["output"], ["if"], ["else"])):
            digits = len(match.group()) - 1
            span = Span(file, comment.line, comment.column, comment.line, comment.column + len(match.group()))
            return ArtError(Diagnostic(
                f"`{match.group()}` is not a colour: it has {digits} hex digit{'s' if digits != 1 else ''}",
                span, "a colour has 3, 4, 6 or 8 hex digits, e.g. `#f80`, `#ff8800`, `#ff880080`"), SYNTAX)
    return None


def describe_syntax_error(failure: UnexpectedInput, text: str, file: str, parse: Callable[[str], object],
                          open_brackets: list[Token], comments: list[Token] = ()) -> ArtError:
    """Turn a Lark failure into an ArtError with one diagnostic naming the likely mistake; `parse`
    parses the table's examples the way `text` was parsed (it raises their `UnexpectedInput`)."""
    malformed = _malformed_colour(list(comments), text, file)
    if malformed is not None:
        return malformed
    line, column = getattr(failure, "line", 1), getattr(failure, "column", 1)
    if isinstance(failure, UnexpectedCharacters):
        char = text[failure.pos_in_stream] if failure.pos_in_stream < len(text) else ""
        message, hint = CHARACTER_HINTS.get(char, (f"unexpected character `{char}`", None))
        span = Span(file, line, column, line, column + 1)
        return ArtError(Diagnostic(message, span, hint), SYNTAX)

    token = getattr(failure, "token", None)
    if isinstance(failure, UnexpectedToken) and token is not None and open_brackets and (
            token.type in ("_NL", "$END") or token.line > open_brackets[-1].line):
        opening = open_brackets[-1]
        span = Span(file, opening.line, opening.column, opening.line, opening.column + 1)
        return ArtError(Diagnostic("this `(` is never closed", span, "add the matching `)`",
                                   label="opened here"), SYNTAX)

    if token is not None and token.type == "DOT" and text[token.end_pos:token.end_pos + 1].isdigit():
        span = Span(file, token.line, token.column, token.line, token.column + 1)
        return ArtError(Diagnostic("unexpected `.`", span,
                                   "write numbers with a leading digit, e.g. `0.5`"), SYNTAX)
    label = _match_example(failure, parse)
    if token is not None and token.type not in ("$END",):
        end = token.end_column if token.end_line == token.line and token.type != "_NL" else column + 1
        span = Span(file, token.line, token.column, token.line, end)
    else:
        span = Span(file, line, column, line, column + 1)
    found = _token_text(token) if token is not None else "this"
    expected = sorted(getattr(failure, "expected", set()) or getattr(failure, "accepts", set()) or [])
    names = [_terminal_name(e) for e in expected if not e.startswith("__") and e != "COMMENT"]
    expected_text = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    if label is not None:
        mistake = SYNTAX_MISTAKES[label]
        return ArtError(Diagnostic(mistake.message, span, mistake.hint, label=f"found {found}"), SYNTAX)
    return ArtError(Diagnostic(f"unexpected {found}", span,
                               f"expected {expected_text}" if expected_text else None), SYNTAX)
