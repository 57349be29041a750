"""Parse `.art` source into the dataclass AST of ast.py, with friendly syntax errors."""
from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError

from artlang.core.errors import SYNTAX, ArtError, error
from artlang.language import ast, parse_tables
from artlang.language.literals import parse_hex
from artlang.language.syntax_errors import describe_syntax_error

# A newline is kept only after a token that can end a statement; anywhere else (after an operator,
# a comma, `=`, `(`...) and inside parentheses it is dropped, so expressions continue over lines.
_ENDS_STATEMENT = {"NAME", "NUMBER", "INT", "SIZE", "COLOR", "STRING", "RPAR", "RSQB", "RBRACE"}
_OPENING, _CLOSING = {"LPAR", "LSQB"}, {"RPAR", "RSQB"}
MAX_WHOLE_DIGITS = 18                # a seed, frame count or canvas side fits in 64 bits


class TokenFilter:
    """One parse's filter between the lexer and the parser: drops newlines that cannot end a
    statement and drops comments, keeping the comments and the unclosed brackets for the error."""

    def __init__(self):
        self.open_brackets: list[Token] = []
        self.comments: list[Token] = []

    def process(self, tokens):
        previous = None
        for token in tokens:
            if token.type == "COMMENT":
                self.comments.append(token)
                continue
            if token.type == "_NL":
                if self.open_brackets or previous is None or previous.type not in _ENDS_STATEMENT:
                    continue
            elif token.type in _OPENING:
                self.open_brackets.append(token)
            elif token.type in _CLOSING and self.open_brackets:
                self.open_brackets.pop()
            previous = token
            yield token
        if previous is not None and previous.type != "_NL":
            yield Token.new_borrow_pos("_NL", "\n", previous)


class _AcceptedEverywhere:
    """Lark's postlexer slot, only to have the lexer accept a newline and a comment in any parser
    state; each parse runs its own `TokenFilter` (`parse_tree`), so parses share no state."""

    always_accept = ("_NL", "COMMENT")

    @staticmethod
    def process(tokens):
        return tokens


GRAMMAR = Path(__file__).parent / "grammar.lark"
LARK_OPTIONS = dict(parser="lalr", lexer="contextual", propagate_positions=True,
                    maybe_placeholders=True)


def grammar_digest(text: str) -> str:
    """What the parse tables in `parse_tables.py` were built from: the grammar, the options, and
    the Lark and Python versions (whose internals the tables are)."""
    made_with = f"lark {lark.__version__}, Python {sys.version_info[:2]}"
    return hashlib.blake2b((text + repr(sorted(LARK_OPTIONS.items())) + made_with).encode(),
                           digest_size=16).hexdigest()


def build_lark(text: str) -> Lark:
    """The LALR parser of the grammar `text`, built from scratch (about 0.1 s)."""
    return Lark(text, postlex=_AcceptedEverywhere(), **LARK_OPTIONS)


@functools.cache
def _lark() -> Lark:
    """The parser, loaded from the tables built ahead of time (`tools/make_parse_tables.py`, plain
    Python data: no pickle) when they belong to this grammar, else built from the grammar."""
    text = GRAMMAR.read_text(encoding="utf-8")
    if parse_tables.GRAMMAR_DIGEST == grammar_digest(text):
        try:
            return Lark._load_from_dict(parse_tables.DATA, parse_tables.MEMO,
                                        postlex=_AcceptedEverywhere())
        except Exception:       # tables Lark cannot read back (a private format): build instead
            pass
    return build_lark(text)


def parse_tree(text: str, token_filter: TokenFilter | None = None) -> Tree:
    """The Lark tree of `text` (ending with a newline), its tokens passed through `token_filter`
    (a fresh one if not given); raises Lark's `UnexpectedInput`."""
    token_filter = TokenFilter() if token_filter is None else token_filter
    parser = _lark().parse_interactive(text)
    feed, last = parser.parser_state.feed_token, None
    try:
        for token in token_filter.process(parser.lexer_thread.lex(parser.parser_state)):
            feed(token)
            last = token
        return parser.feed_eof(last)
    except UnexpectedInput as failure:
        failure.interactive_parser = parser    # as Lark's own parse loop does; `accepts` reads it
        raise


def _file_span(file: str, item) -> ast.Span:
    return ast.Span(file, item.line, item.column, item.end_line, item.end_column)


@v_args(meta=True)
class _ToAst(Transformer):
    """Turns the Lark tree into ast nodes; each method is named after the rule or alias it builds
    and is handed the node's `meta` (its position) and its children."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file

    # helpers start with `_`, so the class's `v_args` leaves them plain methods
    def _span(self, item) -> ast.Span:
        return _file_span(self.file, item)

    def _whole(self, token: Token, text: str | None = None) -> int:
        """A whole number of a statement (`seed`, `frames`, `loop`, `canvas`: `text`, a part of
        `token`, for the canvas's sides), at most 18 digits."""
        text = str(token) if text is None else text
        digits = text.strip().lstrip("0")
        if len(digits) > MAX_WHOLE_DIGITS:
            raise error(f"`{digits[:12]}...` ({len(digits)} digits) is too large for a whole number here",
                        self._span(token), stage=SYNTAX,
                        hint=f"seeds, frame counts and canvas sizes have at most {MAX_WHOLE_DIGITS} digits")
        return int(text)

    def start(self, meta, statements):
        return [s for s in statements if s is not None]

    # statements
    def canvas_stmt(self, meta, children):
        text = str(children[0]).replace("×", "x")
        width, height = (self._whole(children[0], part) for part in text.split("x"))
        return ast.CanvasStmt(width, height, self._span(meta))

    def seed_stmt(self, meta, children):
        return ast.SeedStmt(self._whole(children[0]), self._span(meta))

    def frames_stmt(self, meta, children):
        return ast.FramesStmt(self._whole(children[0]), self._span(meta))

    def fps_stmt(self, meta, children):
        return ast.FpsStmt(float(children[0]), self._span(meta))

    def duration_stmt(self, meta, children):
        return ast.DurationStmt(float(children[0]), self._span(meta))

    def loop_stmt(self, meta, children):
        return ast.LoopStmt(self._whole(children[0]), self._span(meta))

    def import_stmt(self, meta, children):
        target, alias = children
        is_path = target.type == "STRING"
        text = str(target)[1:-1] if is_path else str(target)
        if alias is None:
            alias = Path(text).stem if is_path else text
        return ast.ImportStmt(text, is_path, str(alias), self._span(meta), self._span(target))

    def param_stmt(self, meta, children):
        name, default, bounds, doc = children
        low, high = bounds if bounds else (None, None)
        return ast.ParamStmt(str(name), default, low, high, str(doc)[1:-1] if doc else None,
                             self._span(meta), self._span(name))

    def param_range(self, meta, children):
        return (children[0].value, children[1].value)

    def signed_number(self, meta, children):
        sign, number = children
        value = float(number) * (-1 if sign else 1)
        return ast.Number(value, ("-" if sign else "") + str(number), self._span(meta))

    def let_stmt(self, meta, children):
        name, value = children
        return ast.LetStmt(str(name), value, self._span(meta), self._span(name))

    def fn_stmt(self, meta, children):
        name, *params, body = children
        params = [p for p in params if p is not None]
        if not isinstance(body, ast.Block):
            body = ast.Block([], body, body.span)
        return ast.FnStmt(str(name), params, body, self._span(meta), self._span(name))

    def fn_param(self, meta, children):
        name, default = children
        return ast.FnParam(str(name), default, self._span(meta))

    def block(self, meta, children):
        *lets, result = children
        return ast.Block(lets, result, self._span(meta))

    def layer_stmt(self, meta, children):
        name, value, blend, opacity = children
        blend_name, blend_span = ("normal", None) if blend is None else (str(blend), self._span(blend))
        return ast.LayerStmt(str(name), value, blend_name, blend_span, opacity,
                             self._span(meta), self._span(name))

    def output_stmt(self, meta, children):
        return ast.OutputStmt(list(children), self._span(meta))

    # expressions
    def number(self, meta, children):
        return ast.Number(float(children[0]), str(children[0]), self._span(meta))

    def color(self, meta, children):
        token = children[0]
        return ast.Color(parse_hex(str(token)), str(token), self._span(meta))

    def string(self, meta, children):
        return ast.String(str(children[0])[1:-1], self._span(meta))

    def name(self, meta, children):
        return ast.Name(str(children[0]), self._span(meta))

    def call(self, meta, children):
        callee, *arguments = children
        return ast.Call(callee, [a for a in arguments if a is not None], self._span(meta))

    def list(self, meta, children):
        return ast.ListExpr([c for c in children if c is not None], self._span(meta))

    def argument(self, meta, children):
        return ast.Argument(children[0], None, self._span(meta))

    def keyword_argument(self, meta, children):
        name, value = children
        return ast.Argument(value, str(name), self._span(meta))

    def member(self, meta, children):
        target, name = children
        return ast.Member(target, str(name), self._span(meta), self._span(name))

    def binary(self, meta, children):
        left, operator, right = children
        return ast.Binary(str(operator), left, right, self._span(meta), self._span(operator))

    def logical(self, meta, children):
        left, operator, right = children
        return ast.Logical(str(operator), left, right, self._span(meta), self._span(operator))

    def unary(self, meta, children):
        operator, operand = children
        return ast.Unary(str(operator), operand, self._span(meta))

    def conditional(self, meta, children):
        then, condition, otherwise = children
        return ast.Conditional(condition, then, otherwise, self._span(meta))


def expression_trees(rules) -> frozenset[str]:
    """The names a tree standing for an expression can have: the aliases (and plain rules) reached
    from `expr` through the `?` rules of grammar.lark that pass their one child up."""
    by_origin: dict[str, list] = {}
    for rule in rules:
        by_origin.setdefault(rule.origin.name, []).append(rule)
    names, seen, waiting = set(), set(), ["expr"]
    while waiting:
        origin = waiting.pop()
        if origin in seen:
            continue
        seen.add(origin)
        for rule in by_origin[origin]:
            if rule.alias:
                names.add(rule.alias)
            elif rule.options.expand1:
                waiting.extend(symbol.name for symbol in rule.expansion if not symbol.is_term)
            else:
                names.add(origin)
    return frozenset(names)


@functools.cache
def _expression_rules() -> frozenset[str]:
    return expression_trees(_lark().rules)


def _refuse_deep_nesting(tree: Tree, file: str) -> None:
    """Refuse an expression nested more than `ast.MAX_NESTING` deep, before the (recursive)
    transform to the AST meets it: walks the parse tree with a stack of its own."""
    expression_rules = _expression_rules()
    stack = [(tree, 0, None)]
    while stack:
        node, depth, outermost = stack.pop()
        if node.data in expression_rules:
            depth, outermost = depth + 1, outermost or node
            if depth > ast.MAX_NESTING:
                raise error(f"this expression nests more than {ast.MAX_NESTING} levels deep",
                            None if outermost.meta.empty else _file_span(file, outermost.meta),
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
    if not text.endswith("\n"):
        text += "\n"
    token_filter = TokenFilter()
    try:
        tree = parse_tree(text, token_filter)
    except UnexpectedInput as failure:
        raise describe_syntax_error(failure, text, file, parse_tree, token_filter.open_brackets,
                                    token_filter.comments) from None
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
