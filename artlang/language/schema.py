"""The one table of built-ins.

Every built-in function and value is declared once, here, by the `builtin` and `builtin_value`
decorators: name, parameters (kind, default, choices, doc), return kind, whether it depends on
time, on the pixel or on randomness, and its vectorised numpy implementation. The checker (arity,
kinds, "did you mean"), the compiler, `artlang check`, the generated reference in docs/ and the
tests all read `BUILTINS`. This module imports no numpy: the checker reads the table without it.

Kinds are the closed set of `kinds.Kind` (num, vec2, color, bool, string, list, model, latent;
"T" in a signature means "num, vec2 or color, the same for every T parameter"); a declaration names
them as text and its record holds the `Kind`, checked when it is declared. A number passed where a
vec2 or colour is wanted is promoted (splat / gray). A `variadic` parameter takes the positional
values left over (the implementation gets a list); the parameters after it can only be given by
keyword, as in Python.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable

from artlang.language.kinds import VALUE_KINDS, Kind, declared

REQUIRED = object()      # a parameter with no default
ABSENT = None            # an optional parameter that may be left out (the implementation gets None)


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind                               # given as text ("num"), checked and kept as a Kind
    default: Any = REQUIRED
    doc: str = ""
    choices: tuple[str, ...] | None = None   # allowed values of a string parameter
    uniform: bool = False                    # must be the same for every pixel (e.g. octaves)
    path: bool = False                       # a file path relative to the sketch, checked before rendering
    model: bool = False                      # a zoo model's name, or a model file / folder like `path`
    variadic: bool = False                   # takes any number of positional values; later ones are keyword-only

    def __post_init__(self):
        object.__setattr__(self, "kind", declared(self.kind, f"parameter `{self.name}`"))

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Neighbourhood:
    """A built-in whose result at a pixel reads its `picture` parameter at other pixels too.

    `reach(context, **other_arguments)` gives the margin it reads beyond each pixel (a
    `kernels.region.Margin`; the other arguments are the same for every pixel); None means it may
    read any pixel (it cannot be drawn in tiles). Every such built-in declares one, or tiles would
    differ from the whole canvas.
    """
    picture: str
    reach: Callable | None = None


@dataclass(frozen=True)
class Builtin:
    name: str
    params: tuple[Param, ...]
    returns: Kind                # given as text ("color"), checked and kept as a Kind
    category: str
    implementation: Callable
    summary: str
    doc: str
    example: str | None
    random: bool = False        # draws from its own seeded stream
    per_pixel: bool = False     # result varies over the canvas even for uniform arguments
    animated: bool = False      # depends on time
    aliases: tuple[str, ...] = ()
    keeps_alpha: bool = True    # with T = color, apply to r, g, b only and keep the first alpha
    lookahead: bool = False     # also gets `later(frame)`: its arguments at an upcoming frame
    neighbourhood: Neighbourhood | None = None   # reads its picture beyond each pixel

    def __post_init__(self):
        object.__setattr__(self, "returns", declared(self.returns, f"built-in `{self.name}` returns"))

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def signature(self) -> str:
        parts = []
        for p in self.params:
            if p.variadic:
                parts.append(f"*{p.name}: {p.kind}")
            elif p.required:
                parts.append(f"{p.name}: {p.kind}")
            elif p.default is ABSENT:
                parts.append(f"{p.name}: {p.kind} = none")
            elif isinstance(p.default, str):
                parts.append(f'{p.name}: {p.kind} = "{p.default}"')
            else:
                parts.append(f"{p.name}: {p.kind} = {_format_default(p.default)}")
        return f"{self.name}({', '.join(parts)}) -> {self.returns}"


@dataclass(frozen=True)
class BuiltinValue:
    name: str
    kind: Kind                 # given as text ("vec2"), checked and kept as a Kind
    category: str
    compute: Callable          # compute(context) -> value
    summary: str
    doc: str
    example: str | None
    per_pixel: bool = False
    animated: bool = False

    def __post_init__(self):
        object.__setattr__(self, "kind", declared(self.kind, f"built-in value `{self.name}`", VALUE_KINDS))

    def signature(self) -> str:
        return f"{self.name}: {self.kind}"


@dataclass(frozen=True)
class BlendMode:
    """A way a layer or `blend()` mixes a colour onto the one below (mixed in `kernels.blend`)."""
    name: str
    doc: str


# The blend modes: read by the checker, `blend(mode=...)`, the compositing kernels and the docs.
BLEND_MODES: dict[str, BlendMode] = {m.name: m for m in (
    BlendMode("normal", "the top layer covers the one below"),
    BlendMode("add", "sum of both: light adds up (linear dodge)"),
    BlendMode("multiply", "product: darkens, white is neutral"),
    BlendMode("screen", "inverse of multiplying the inverses: lightens, black is neutral"),
    BlendMode("overlay", "multiply in the darks, screen in the lights of the layer below"),
    BlendMode("soft_light", "a gentle overlay (W3C soft-light)"),
    BlendMode("darken", "the darker of the two"),
    BlendMode("lighten", "the lighter of the two"),
    BlendMode("difference", "absolute difference"),
    BlendMode("subtract", "the top layer taken from the one below"),
)}

BUILTINS: dict[str, Builtin | BuiltinValue] = {}
_EXAMPLE = re.compile(r"^\s*Example:\s*`(.+)`\s*$", re.MULTILINE)


def _format_default(value) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_format_default(v) for v in value) + ")"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split_doc(function: Callable) -> tuple[str, str, str | None]:
    text = inspect.cleandoc(function.__doc__ or "")
    if not text:
        raise ValueError(f"built-in {function.__name__} needs a docstring")
    match = _EXAMPLE.search(text)
    example = match.group(1).replace("\\n", "\n") if match else None
    body = _EXAMPLE.sub("", text).strip()
    summary = body.split("\n\n")[0].replace("\n", " ")
    return summary, body, example


def _register(entry) -> None:
    for name in (entry.name, *getattr(entry, "aliases", ())):
        if name in BUILTINS:
            raise ValueError(f"built-in {name!r} declared twice")
        BUILTINS[name] = entry


def builtin(*, returns: str, category: str, params: tuple[Param, ...] = (), name: str | None = None,
            random: bool = False, per_pixel: bool = False, animated: bool = False,
            aliases: tuple[str, ...] = (), keeps_alpha: bool = True, lookahead: bool = False,
            neighbourhood: Neighbourhood | None = None):
    """Declare a built-in function; the decorated function is its implementation.

    The implementation is called as `implementation(context, *arguments)`, with each argument
    already converted to its parameter's kind (numbers as float32 arrays, vec2 as (..., 2),
    colours as (..., 4)). Its docstring gives the reference text and an `Example:` line of artlang.
    """
    def register(function: Callable) -> Callable:
        summary, doc, example = _split_doc(function)
        _register(Builtin(name or function.__name__.rstrip("_"), tuple(params), returns, category,
                          function, summary, doc, example, random, per_pixel, animated, aliases,
                          keeps_alpha, lookahead, neighbourhood))
        return function
    return register


def declare(name: str, function: Callable, **options) -> None:
    """Declare a built-in from a function made in a loop (e.g. one per colormap)."""
    builtin(name=name, **options)(function)


def builtin_value(*, kind: str, category: str, per_pixel: bool = False, animated: bool = False,
                  name: str | None = None):
    """Declare a built-in value such as `uv` or `t`; the function computes it from the context."""
    def register(function: Callable) -> Callable:
        summary, doc, example = _split_doc(function)
        _register(BuiltinValue(name or function.__name__.rstrip("_"), kind, category, function,
                               summary, doc, example, per_pixel, animated))
        return function
    return register


def P(name: str, kind: str, default: Any = REQUIRED, doc: str = "", **options) -> Param:
    """Shorthand for a `Param` in a declaration."""
    return Param(name, kind, default, doc, **options)
