"""The checked program: a typed graph of expressions the checker builds and the compiler runs.

Names are resolved, user functions are inlined at each call (with their arguments' kinds),
arguments are promoted to their parameters' kinds, and every random call site carries the name of
its own stream. A `let` used twice is one shared node, so the graph is a DAG.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from artlang.language.ast import Span
from artlang.language.kinds import Kind


@dataclass(eq=False)
class Node:
    kind: Kind                # what it computes (Kind.ERROR for a name whose definition was reported)
    span: Span | None
    per_pixel: bool = False   # varies over the canvas
    animated: bool = False    # varies with time


@dataclass(eq=False)
class Const(Node):
    value: Any = None         # float, tuple of floats (vec2 / colour), str or bool


@dataclass(eq=False)
class BuiltinValueRef(Node):
    builtin: Any = None       # schema.BuiltinValue


@dataclass(eq=False)
class ParamRef(Node):
    name: str = ""


@dataclass(eq=False)
class BuiltinCall(Node):
    builtin: Any = None                    # schema.Builtin
    arguments: tuple = ()                  # one Node (or None for an absent optional) per parameter
    generic_kind: Kind | None = None       # what T resolved to
    stream: str | None = None              # the random stream of this call site


@dataclass(eq=False)
class Arithmetic(Node):
    operator: str = "+"
    left: Node | None = None
    right: Node | None = None


@dataclass(eq=False)
class Comparison(Node):
    operator: str = "=="
    left: Node | None = None
    right: Node | None = None


@dataclass(eq=False)
class Logic(Node):
    operator: str = "and"     # and, or, not (right is None for not)
    left: Node | None = None
    right: Node | None = None


@dataclass(eq=False)
class Negate(Node):
    operand: Node | None = None


@dataclass(eq=False)
class Select(Node):
    condition: Node | None = None
    then: Node | None = None
    otherwise: Node | None = None


@dataclass(eq=False)
class Component(Node):
    target: Node | None = None
    index: int = 0


@dataclass(eq=False)
class ListValue(Node):
    items: tuple = ()                      # numbers, or lists of equal length (a matrix)


@dataclass(eq=False)
class Promote(Node):
    operand: Node | None = None            # a num becoming a vec2 (splat) or a colour (gray)


@dataclass(eq=False)
class OutputItem:
    node: Node
    mode: str
    opacity: Node | None
    name: str | None          # the layer's name, when the item is a layer


@dataclass
class ParamInfo:
    name: str
    kind: Kind                # Kind.NUM or Kind.COLOR
    default: Any
    low: float | None
    high: float | None
    doc: str | None
    span: Span


@dataclass
class Settings:
    width: int = 512
    height: int = 512
    seed: int = 0
    frames: int = 1
    fps: float = 30.0
    duration: float | None = None               # seconds; gives `frames` when set
    loop: int | None = None                     # frames per loop; the whole animation when None
    spans: dict = field(default_factory=dict)   # statement name -> Span, for messages

    @property
    def loop_frames(self) -> int:
        return self.loop or self.frames


@dataclass
class Program:
    settings: Settings
    params: dict[str, ParamInfo]
    output: list[OutputItem]
    files: Any                 # project.ProjectFiles
    sources: Any               # errors.SourceCache
    warnings: list = field(default_factory=list)


def child_nodes(node: Node) -> list[Node]:
    """The operands of a node (absent optional arguments left out)."""
    match node:
        case BuiltinCall():
            flat = []
            for argument in node.arguments:
                if isinstance(argument, tuple):        # the values of a variadic parameter
                    flat.extend(argument)
                elif argument is not None:
                    flat.append(argument)
            return flat
        case ListValue():
            return list(node.items)
        case Arithmetic() | Comparison() | Logic():
            return [n for n in (node.left, node.right) if n is not None]
        case Negate() | Promote():
            return [node.operand]
        case Select():
            return [node.condition, node.then, node.otherwise]
        case Component():
            return [node.target]
    return []


def post_order(roots: list[Node]) -> list[Node]:
    """Every node under `roots` once, each after its children: walked with a stack of its own, so
    a graph of any depth is safe to walk (the compiler then meets every node's children compiled)."""
    order: list[Node] = []
    placed: set[int] = set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if id(node) in placed:
            continue
        if expanded:
            placed.add(id(node))
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(child_nodes(node)) if id(child) not in placed)
    return order


def reachable(program: Program) -> Iterator[Node]:
    """Every node the output depends on, once each."""
    seen: set[int] = set()
    stack = [item.node for item in program.output] + \
        [item.opacity for item in program.output if item.opacity is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(child_nodes(node))
