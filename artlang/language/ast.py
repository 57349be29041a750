"""The artlang syntax tree: plain dataclasses, each carrying the `Span` it came from.

Class names match the grammar's rule aliases in grammar.lark (snake_case there, CamelCase here),
so a rule, its parser method and its node share one name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from artlang.core.errors import Span  # noqa: F401  (every node carries one; `ast.Span` for readers)

# How deep one expression may nest as written (the parser refuses more; the checker, which also
# walks the bodies of the functions it expands, half as much again): the stages walk expressions
# recursively, and this keeps them well inside Python's recursion limit.
MAX_NESTING = 100


# ── expressions ────────────────────────────────────────────────────────────────────────────────

@dataclass(eq=False)
class Number:
    value: float
    text: str
    span: Span


@dataclass(eq=False)
class Color:
    rgba: tuple[float, float, float, float]
    text: str
    span: Span


@dataclass(eq=False)
class String:
    value: str
    span: Span


@dataclass(eq=False)
class Name:
    name: str
    span: Span


@dataclass(eq=False)
class ListExpr:
    items: list["Expr"]
    span: Span


@dataclass(eq=False)
class Argument:
    value: "Expr"
    keyword: str | None
    span: Span


@dataclass(eq=False)
class Call:
    callee: "Expr"
    arguments: list[Argument]
    span: Span


@dataclass(eq=False)
class Member:
    target: "Expr"
    name: str
    span: Span
    name_span: Span


@dataclass(eq=False)
class Binary:
    operator: str          # + - * / % ** == != < <= > >=
    left: "Expr"
    right: "Expr"
    span: Span
    operator_span: Span


@dataclass(eq=False)
class Logical:
    operator: str          # and, or
    left: "Expr"
    right: "Expr"
    span: Span
    operator_span: Span


@dataclass(eq=False)
class Unary:
    operator: str          # -, +, not
    operand: "Expr"
    span: Span


@dataclass(eq=False)
class Conditional:
    condition: "Expr"
    then: "Expr"
    otherwise: "Expr"
    span: Span


Expr = Union[Number, Color, String, Name, ListExpr, Call, Member, Binary, Logical, Unary, Conditional]


# ── statements ─────────────────────────────────────────────────────────────────────────────────

@dataclass(eq=False)
class CanvasStmt:
    width: int
    height: int
    span: Span


@dataclass(eq=False)
class SeedStmt:
    value: int
    span: Span


@dataclass(eq=False)
class FramesStmt:
    count: int
    span: Span


@dataclass(eq=False)
class FpsStmt:
    value: float
    span: Span


@dataclass(eq=False)
class DurationStmt:
    seconds: float
    span: Span


@dataclass(eq=False)
class LoopStmt:
    frames: int
    span: Span


@dataclass(eq=False)
class ImportStmt:
    target: str            # a stdlib module name, or a path relative to the importing file
    is_path: bool
    alias: str
    span: Span
    target_span: Span


@dataclass(eq=False)
class ParamStmt:
    name: str
    default: Number | Color
    low: float | None
    high: float | None
    doc: str | None
    span: Span
    name_span: Span


@dataclass(eq=False)
class LetStmt:
    name: str
    value: Expr
    span: Span
    name_span: Span


@dataclass(eq=False)
class FnParam:
    name: str
    default: Expr | None
    span: Span


@dataclass(eq=False)
class Block:
    lets: list[LetStmt]
    result: Expr
    span: Span


@dataclass(eq=False)
class FnStmt:
    name: str
    params: list[FnParam]
    body: Block
    span: Span
    name_span: Span


@dataclass(eq=False)
class LayerStmt:
    name: str
    value: Expr
    blend: str
    blend_span: Span | None
    opacity: Expr | None
    span: Span
    name_span: Span


@dataclass(eq=False)
class OutputStmt:
    items: list[Expr]
    span: Span


Statement = Union[CanvasStmt, SeedStmt, FramesStmt, FpsStmt, DurationStmt, LoopStmt, ImportStmt, ParamStmt, LetStmt,
                  FnStmt, LayerStmt, OutputStmt]


@dataclass(eq=False)
class Module:
    """One parsed `.art` file."""
    path: str
    name: str
    statements: list[Statement] = field(default_factory=list)


def children(node) -> list:
    """The direct sub-expressions of an expression node, in source order."""
    match node:
        case Call():
            return [node.callee] + [a.value for a in node.arguments]
        case Member():
            return [node.target]
        case Binary() | Logical():
            return [node.left, node.right]
        case Unary():
            return [node.operand]
        case Conditional():
            return [node.condition, node.then, node.otherwise]
        case ListExpr():
            return list(node.items)
    return []
