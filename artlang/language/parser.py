"""Parse `.art` source into the dataclass AST of ast.py, with friendly syntax errors."""
from __future__ import annotations

import functools
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from artlang.language import ast
from artlang.language.literals import parse_hex
from artlang.core.errors import SYNTAX, ArtError, error
from artlang.language.syntax_errors import describe_syntax_error

# A newline is kept only after a token that can end a statement; anywhere else (after an operator,
# a comma, `=`, `(`...) and inside parentheses it is dropped, so expressions continue over lines.
_ENDS_STATEMENT = {"NAME", "NUMBER", "INT", "SIZE", "COLOR", "STRING", "RPAR", "RSQB", "RBRACE"}
_OPENING, _CLOSING = {"LPAR", "LSQB"}, {"RPAR", "RSQB"}


class NewlinePostLexer:
    """Drops newlines that cannot end a statement, and remembers unclosed parentheses."""

    always_accept = ("_NL",)

    def __init__(self):
        self.open_parens: list[Token] = []

    def process(self, stream):
        self.open_parens = []
        previous = None
        for token in stream:
            if token.type == "_NL":
                if self.open_parens or previous is None or previous.type not in _ENDS_STATEMENT:
                    continue
            elif token.type in _OPENING:
                self.open_parens.append(token)
            elif token.type in _CLOSING and self.open_parens:
                self.open_parens.pop()
            previous = token
            yield token
        if previous is not None and previous.type != "_NL":
            yield Token.new_borrow_pos("_NL", "\n", previous)


_POSTLEXER = NewlinePostLexer()
MAX_WHOLE_DIGITS = 18                # a seed, frame count or canvas side fits in 64 bits
_COMMENTS: list[Token] = []          # comments seen by the last parse, for syntax_errors


@functools.cache
def _lark() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=True, postlex=_POSTLEXER,
                lexer_callbacks={"COMMENT": _COMMENTS.append})


def _span(file: str, item) -> ast.Span:
    return ast.Span(file, item.line, item.column, item.end_line, item.end_column)


class _ToAst(Transformer):
    """Turns the Lark tree into ast nodes; each method is named after the rule or alias it builds."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    def span(self, item) -> ast.Span:
        return _span(self.file, item)

    def whole(self, token: Token, text: str | None = None) -> int:
        """A whole number of a statement (`seed`, `frames`, `loop`, `canvas`: `text`, a part of
        `token`, for the canvas's sides), at most 18 digits."""
        text = str(token) if text is None else text
        digits = text.strip().lstrip("0")
        if len(digits) > MAX_WHOLE_DIGITS:
            raise error(f"`{digits[:12]}...` ({len(digits)} digits) is too large for a whole number here",
                        self.span(token), stage=SYNTAX,
                        hint=f"seeds, frame counts and canvas sizes have at most {MAX_WHOLE_DIGITS} digits")
        return int(text)

    @v_args(meta=True)
    def start(self, meta, statements):
        return [s for s in statements if s is not None]

    # statements
    @v_args(meta=True)
    def canvas_stmt(self, meta, children):
        text = str(children[0]).replace("×", "x")
        width, height = (self.whole(children[0], part) for part in text.split("x"))
        return ast.CanvasStmt(width, height, self.span(meta))

    @v_args(meta=True)
    def seed_stmt(self, meta, children):
        return ast.SeedStmt(self.whole(children[0]), self.span(meta))

    @v_args(meta=True)
    def frames_stmt(self, meta, children):
        return ast.FramesStmt(self.whole(children[0]), self.span(meta))

    @v_args(meta=True)
    def fps_stmt(self, meta, children):
        return ast.FpsStmt(float(children[0]), self.span(meta))

    @v_args(meta=True)
    def duration_stmt(self, meta, children):
        return ast.DurationStmt(float(children[0]), self.span(meta))

    @v_args(meta=True)
    def loop_stmt(self, meta, children):
        return ast.LoopStmt(self.whole(children[0]), self.span(meta))

    @v_args(meta=True)
    def import_stmt(self, meta, children):
        target, alias = children
        is_path = target.type == "STRING"
        text = str(target)[1:-1] if is_path else str(target)
        if alias is None:
            alias = Path(text).stem if is_path else text
        return ast.ImportStmt(text, is_path, str(alias), self.span(meta), self.span(target))

    @v_args(meta=True)
    def param_stmt(self, meta, children):
        name, default, bounds, doc = children
        low, high = bounds if bounds else (None, None)
        return ast.ParamStmt(str(name), default, low, high, str(doc)[1:-1] if doc else None,
                             self.span(meta), self.span(name))

    def param_range(self, children):
        return (children[0].value, children[1].value)

    @v_args(meta=True)
    def signed_number(self, meta, children):
        sign, number = children
        value = float(number) * (-1 if sign else 1)
        return ast.Number(value, ("-" if sign else "") + str(number), self.span(meta))

    @v_args(meta=True)
    def let_stmt(self, meta, children):
        name, value = children
        return ast.LetStmt(str(name), value, self.span(meta), self.span(name))

    @v_args(meta=True)
    def fn_stmt(self, meta, children):
        name, *params, body = children
        params = [p for p in params if p is not None]
        if not isinstance(body, ast.Block):
            body = ast.Block([], body, body.span)
        return ast.FnStmt(str(name), params, body, self.span(meta), self.span(name))

    @v_args(meta=True)
    def fn_param(self, meta, children):
        name, default = children
        return ast.FnParam(str(name), default, self.span(meta))

    @v_args(meta=True)
    def block(self, meta, children):
        *lets, result = children
        return ast.Block(lets, result, self.span(meta))

    @v_args(meta=True)
    def layer_stmt(self, meta, children):
        name, value, blend, opacity = children
        blend_name, blend_span = ("normal", None) if blend is None else (str(blend), self.span(blend))
        return ast.LayerStmt(str(name), value, blend_name, blend_span, opacity,
                             self.span(meta), self.span(name))

    def blend_clause(self, children):
        return children[0]

    def opacity_clause(self, children):
        return children[0]

    @v_args(meta=True)
    def output_stmt(self, meta, children):
        return ast.OutputStmt(list(children), self.span(meta))

    # expressions
    @v_args(meta=True)
    def number(self, meta, children):
        return ast.Number(float(children[0]), str(children[0]), self.span(meta))

    @v_args(meta=True)
    def color(self, meta, children):
        token = children[0]
        return ast.Color(parse_hex(str(token)), str(token), self.span(meta))

    @v_args(meta=True)
    def string(self, meta, children):
        return ast.String(str(children[0])[1:-1], self.span(meta))

    @v_args(meta=True)
    def name(self, meta, children):
        return ast.Name(str(children[0]), self.span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        callee, *arguments = children
        return ast.Call(callee, [a for a in arguments if a is not None], self.span(meta))

    @v_args(meta=True)
    def list(self, meta, children):
        return ast.ListExpr([c for c in children if c is not None], self.span(meta))

    @v_args(meta=True)
    def argument(self, meta, children):
        return ast.Argument(children[0], None, self.span(meta))

    @v_args(meta=True)
    def keyword_argument(self, meta, children):
        name, value = children
        return ast.Argument(value, str(name), self.span(meta))

    @v_args(meta=True)
    def member(self, meta, children):
        target, name = children
        return ast.Member(target, str(name), self.span(meta), self.span(name))

    @v_args(meta=True)
    def binary(self, meta, children):
        left, operator, right = children
        return ast.Binary(str(operator), left, right, self.span(meta), self.span(operator))

    @v_args(meta=True)
    def logical(self, meta, children):
        left, operator, right = children
        return ast.Logical(str(operator), left, right, self.span(meta), self.span(operator))

    @v_args(meta=True)
    def unary(self, meta, children):
        operator, operand = children
        return ast.Unary(str(operator), operand, self.span(meta))

    @v_args(meta=True)
    def conditional(self, meta, children):
        then, condition, otherwise = children
        return ast.Conditional(condition, then, otherwise, self.span(meta))


# The rules (aliases) of grammar.lark that make an expression node, for the nesting limit.
_EXPRESSION_RULES = {"conditional", "logical", "unary", "binary", "call", "member", "list", "number",
                     "color", "string", "name"}


def _refuse_deep_nesting(tree: Tree, file: str) -> None:
    """Refuse an expression nested more than `ast.MAX_NESTING` deep, before the (recursive)
    transform to the AST meets it: walks the parse tree with a stack of its own."""
    stack = [(tree, 0, None)]
    while stack:
        node, depth, outermost = stack.pop()
        if node.data in _EXPRESSION_RULES:
            depth, outermost = depth + 1, outermost or node
            if depth > ast.MAX_NESTING:
                raise error(f"this expression nests more than {ast.MAX_NESTING} levels deep",
                            None if outermost.meta.empty else _span(file, outermost.meta),
                            stage=SYNTAX, label="nested too deeply",
                            hint="write it flatter: a chain `a + b + c + ...` nests one level per term, "
                                 "grouped as `(a + b) + (c + d)` it nests far less")
        stack.extend((child, depth, outermost) for child in node.children if isinstance(child, Tree))


def parse_source(text: str, file: str = "<sketch>", module_name: str = "main") -> ast.Module:
    """Parse `.art` source text into an `ast.Module`; raises `ArtError` (stage "syntax").

    >>> module = parse_source("let r = 0.3\\noutput fill(circle(uv, r))")
    >>> [type(s).__name__ for s in module.statements]
    ['LetStmt', 'OutputStmt']
    """
    parser = _lark()
    if not text.endswith("\n"):
        text += "\n"
    _COMMENTS.clear()
    try:
        tree = parser.parse(text)
    except UnexpectedInput as failure:
        comments = list(_COMMENTS)
        raise describe_syntax_error(failure, text, file, parser, _POSTLEXER.open_parens,
                                    comments) from None
    except ValueError as failure:          # e.g. a colour literal parse_hex refused
        raise error(str(failure), None, stage=SYNTAX) from None
    _refuse_deep_nesting(tree, file)
    try:
        statements = _ToAst(file).transform(tree)
    except VisitError as failure:           # Lark wraps what a transformer method raises
        if isinstance(failure.orig_exc, ArtError):
            raise failure.orig_exc from None
        raise
    return ast.Module(file, module_name, statements)


__all__ = ["parse_source"]
