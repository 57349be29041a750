"""Fuzz the sketch pipeline: generated and mutated sketches through parse, check and a 16 x 16 render.

    .venv/bin/python tools/fuzz.py --cases 100000 --seed 1 --out fuzz-out

Every case must end in a picture or an `ArtError`. Anything else is a crash; a case still running
after its time budget is a hang. Both are saved to --out (the input, and a .txt with the
traceback), and the run exits 1. Cases come from hypothesis strategies (so tests/test_fuzz.py,
which runs a seeded subset, shrinks what it finds), in three families:

  grammar   sentences of artlang/language/grammar.lark (`hypothesis.extra.lark.from_lark`), its names,
            numbers and strings drawn from the built-in table and from edge cases
  typed     well-typed sketches built from the built-in table (lets, functions, params, layers,
            settings), so most get past the checker and render
  mutated   the real sketches (sketches/, stdlib/, tests/lang/) with tokens deleted, duplicated,
            swapped or replaced, characters inserted, edge-case numbers, deep nesting, CRLF, tabs

The budget is enforced twice: SIGPROF interrupts Python code after --budget seconds of CPU time,
and the parent kills a worker whose case runs on past a wall-clock limit (a loop in compiled code,
or a wait that never ends) or that dies.
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import re
import signal
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from artlang.language.schema import BLEND_MODES  # noqa: E402
from artlang.builtins import load_all  # noqa: E402
from artlang.language.kinds import GENERIC_KINDS, Kind, in_order  # noqa: E402
from artlang.language.schema import Builtin, BuiltinValue  # noqa: E402
from artlang.core.errors import CHECK, RUNTIME, SYNTAX, USAGE, ArtError  # noqa: E402
from artlang.language.project import zoo_names  # noqa: E402

SIZE = (16, 16)
BUDGET = 5.0                 # seconds a case may take (parse, check, compile and two frames)
CORPUS_GLOBS = ("sketches/*.art", "stdlib/*.art", "tests/lang/**/*.art")
FAILURES = ("crash", "hang")


# ── running one case ───────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class Case:
    text: str
    path: str              # where the sketch is checked as if saved (imports and images resolve there)
    family: str


@dataclass(frozen=True)
class Result:
    outcome: str           # "rendered", "syntax", "check", "usage", "runtime", "crash" or "hang"
    report: str = ""       # the traceback of a crash or hang


class Hang(BaseException):
    """Raised by SIGPROF in the middle of a case; a BaseException so no `except Exception` eats it."""


@contextmanager
def time_budget(seconds: float):
    """Interrupt the case once it has used `seconds` of CPU time: CPU time, not wall time, so a
    busy machine does not turn a slow case into a hang (the parent watches the wall clock)."""
    def interrupt(signum, frame):
        raise Hang(f"the case used more than {seconds:g} s of CPU time")
    previous = signal.signal(signal.SIGPROF, interrupt)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def render_case(case: Case) -> None:
    """Parse, check, compile and draw frame 0 and the last frame at 16 x 16."""
    from artlang.runtime.render import Renderer, load_source
    program = load_source(case.text, case.path)
    renderer = Renderer(program, size=SIZE, model_threads=1)
    frames = program.settings.frames
    for frame in sorted({0, frames - 1}):
        image = renderer.render(frame)
        if image.shape != (SIZE[1], SIZE[0], 4) or image.dtype.name != "float32":
            raise AssertionError(f"frame {frame} is {image.dtype} {image.shape}, not float32 16x16x4")


def run_case(case: Case, budget: float = BUDGET) -> Result:
    try:
        with time_budget(budget):
            render_case(case)
    except ArtError as failure:
        return Result(failure.stage)
    except Hang:
        return Result("hang", traceback.format_exc())
    except Exception:      # noqa: BLE001 - a runner boundary: any other exception is the finding
        return Result("crash", traceback.format_exc())
    return Result("rendered")


# ── what the strategies draw from ──────────────────────────────────────────────────────────────

VECTORISH = in_order(GENERIC_KINDS)          # num, vec2, color: what T may be
EDGE_NUMBERS = ("0", "1", "0.5", "2", "1e308", "1e309", "9e999", "1e-320", "1e-400", "0.0000001",
                "99999999999999999999999999", "4294967296", "2147483648", "65536", "1e18", "100000",
                "3.4028236e38", "1.7976931348623157e308", "255", "256", "16", "1000", "0e0", "00")
EDGE_INTS = ("0", "1", "2", "3", "16", "255", "1000", "65536", "2147483648", "99999999999999999999",
             "1" + "0" * 400)
EDGE_NAMES = ("nan", "inf", "NaN", "Infinity", "none", "None", "true", "_", "__", "x" * 300)
STRINGS = ('"photo.png"', '"x"', '""', '"screen"', '"oklab"', '"f1"', '"cubic"', '"../x.png"',
           '"/etc/passwd"', '"photo.png/"', '"."', '"é.png"', '"zoo:none"')
INSERTIONS = ("\t", "\r", "\r\n", "\n", "\\\n", "\x00", "\ufeff", "\u200b", "é", "×", "∞", "🎨", "\x0c",
              "\u2028", "\x85", " ", "\\", '"', "#", "(", ")", "[", "]", "{", "}", ",", "=", ".", "..",
              "**", "-", "not ", " if ", " else ", "x", "0", "1e", "#ff", "#fff", "\udcff")
NESTING_DEPTHS = (10, 60, 200, 400, 1000, 3000)
NESTINGS = {                 # a form of nesting: (prefix, suffix) repeated around a value
    "parens": ("(", ")"), "negations": ("-", ""), "nots": ("not ", ""), "lists": ("[", "]"),
    "calls": ("sin(", ")"), "sums": ("", " + 1"), "powers": ("2 ** ", ""), "members": ("", ".x"),
    "conditionals": ("1 if 1 < 2 else ", ""), "products": ("", " * 1"), "unary_plus": ("+", ""),
}
TOKEN = re.compile(r'#[0-9a-fA-F]{3,8}(?![0-9a-zA-Z_])|#[^\n]*|"[^"\n]*"|[0-9]+(?:\.[0-9]+)?'
                   r'(?:[eE][+-]?[0-9]+)?|[A-Za-z_][A-Za-z0-9_]*|\*\*|==|!=|<=|>=|\.\.|\r?\n|[ \t]+|.',
                   re.DOTALL)
NUMBER = re.compile(r"[0-9]")
VALUE = re.compile(r"[0-9A-Za-z_#]")


@cache
def grammar():
    """artlang/language/grammar.lark as a plain Lark parser (no post-lexer), for `from_lark`;
    comments, which the parser's token filter drops, are ignored text here, scattered between tokens."""
    from lark import Lark
    text = (ROOT / "artlang" / "language" / "grammar.lark").read_text(encoding="utf-8")
    return Lark(text + "%ignore COMMENT\n", parser="lalr", lexer="contextual")


@cache
def keywords() -> tuple[str, ...]:
    """The grammar's words: `let`, `fn`, `canvas`, `and`, ..."""
    return tuple(sorted(terminal.pattern.value for terminal in grammar().terminals
                        if terminal.pattern.type == "str" and terminal.pattern.value.isalpha()))


@cache
def builtins() -> dict:
    return load_all()


@cache
def usable_builtins() -> dict[str, list[Builtin]]:
    """Built-in functions by the kind they return (T counts for every kind but latents); `model`
    itself is written as a leaf, with a model of the zoo."""
    found: dict[str, list[Builtin]] = {kind: [] for kind in VECTORISH + (Kind.LATENT,)}
    for name, entry in sorted(builtins().items()):
        if not isinstance(entry, Builtin) or name != entry.name:
            continue
        for kind in (VECTORISH if entry.returns == Kind.GENERIC else (entry.returns,)):
            if kind in found:
                found[kind].append(entry)
    return found


@cache
def featured_builtins() -> list[Builtin]:
    return sorted({b.name: b for entries in usable_builtins().values() for b in entries}.values(),
                  key=lambda b: b.name)


@cache
def builtin_values() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {kind: [] for kind in VECTORISH}
    for name, entry in sorted(builtins().items()):
        if isinstance(entry, BuiltinValue) and entry.kind in found:
            found[entry.kind].append(name)
    return found


@cache
def corpus() -> tuple[tuple[str, str], ...]:
    """(path, text) of every real sketch and module."""
    paths = sorted({p for pattern in CORPUS_GLOBS for p in ROOT.glob(pattern)})
    return tuple((str(p), p.read_text(encoding="utf-8")) for p in paths)


@cache
def scratch_sketch() -> str:
    """Where generated sketches are checked as if saved: a folder holding a small photo.png."""
    import numpy as np
    from PIL import Image
    folder = Path(tempfile.mkdtemp(prefix="artlang-fuzz-"))
    pixels = (np.arange(48, dtype=np.uint8).reshape(4, 4, 3) * 5)
    Image.fromarray(pixels, "RGB").save(folder / "photo.png")
    return str(folder / "sketch.art")


# ── numbers ────────────────────────────────────────────────────────────────────────────────────

@cache
def number_text() -> st.SearchStrategy[str]:
    """Unsigned number literals: plain ones, and the edge cases (huge, tiny, overflowing)."""
    plain = st.floats(0, 10, allow_nan=False).map(lambda v: f"{v:.3g}".replace("e-0", "e-"))
    whole = st.integers(0, 100).map(str)
    exact = st.floats(0, 1e300, allow_nan=False, allow_infinity=False).map(repr)
    return st.one_of(plain, whole, st.sampled_from(EDGE_NUMBERS), exact)


# ── well-typed sketches from the built-in table ────────────────────────────────────────────────

# The stdlib's functions take no declared kinds: guess them from the parameters' names.
STDLIB_POINTS = ("p", "offset", "size")                 # shapes' parameters that are points
STDLIB_MOVES = ("moved", "turned", "scaled")            # shapes' functions that return a point


@cache
def stdlib_functions() -> list[tuple[str, list[str], str]]:
    """(module.name, kinds of its required parameters, kind returned) for the stdlib's functions."""
    from artlang.language import ast
    from artlang.language.parser import parse_source
    found = []
    for module in ("palettes", "shapes"):
        text = (ROOT / "stdlib" / f"{module}.art").read_text(encoding="utf-8")
        for statement in parse_source(text, module).statements:
            if not isinstance(statement, ast.FnStmt):
                continue
            names = [p.name for p in statement.params if p.default is None]
            if module == "palettes":
                kinds, returns = ["num" if name == "t" else "color" for name in names], "color"
            else:
                kinds = ["vec2" if name in STDLIB_POINTS else "num" for name in names]
                returns = "vec2" if statement.name in STDLIB_MOVES else "num"
            found.append((f"{module}.{statement.name}", kinds, returns))
    return found


PERMILLE = st.integers(0, 999)


class TypedWriter:
    """Writes expressions of a wanted kind, drawing every choice from hypothesis."""

    def __init__(self, draw, tallest: int):
        self.draw, self.tallest = draw, tallest
        self.names: dict[str, list[str]] = {kind: [] for kind in VECTORISH}
        self.functions: list[tuple[str, list[str], str]] = []     # (name, parameter kinds, returns)
        self.params: list[str] = []
        self.imported: set[str] = set()
        self.taken: set[str] = set()           # every name defined so far
        self.zoo: str | None = None             # the model the sketch draws with, if any

    def choose(self, options):
        options = tuple(options)
        return self.draw(st.sampled_from(options)) if len(options) > 1 else options[0]

    def chance(self, p: float) -> bool:
        return self.draw(PERMILLE) < p * 1000

    def number(self) -> str:
        text = self.draw(number_text())
        return "-" + text if self.chance(0.1) else text

    def colour(self) -> str:
        digits = self.choose((3, 4, 6, 8))
        return "#" + self.draw(st.text("0123456789abcdefABCDEF", min_size=digits, max_size=digits))

    def uniform(self) -> str:
        """A value that is the same for every pixel: a literal, a param, or time."""
        if self.chance(0.6):
            return self.number()
        return self.choose(self.params + ["t", "frame", "cycle", f"2 + {self.number()}"])

    def model(self) -> str:
        """One model of the zoo, the same for the whole sketch (its latents fit each other)."""
        self.zoo = self.zoo or self.choose(zoo_names())
        return f'model("{self.zoo}")'

    def leaf(self, kind: str) -> str:
        """A literal, or a name: a let, a function's parameter, a param or a built-in value."""
        if kind == "latent":
            return f"latent({self.model()}, {self.number()})"
        names = self.names[kind] + builtin_values()[kind] + (self.params if kind == "num" else [])
        if names and self.chance(0.5):
            return self.choose(names)
        if kind == "num":
            return self.number()
        if kind == "vec2":
            return f"vec({self.number()}, {self.number()})"
        if self.chance(0.5):
            return self.colour()
        return f"rgb({self.number()}, {self.number()}, {self.number()})"

    def expression(self, kind: str, depth: int) -> str:
        if kind == "bool":
            return self.condition(depth)
        if depth <= 0 or self.chance(0.2):
            return self.leaf(kind)
        forms = ("call", "call", "call", "arithmetic", "negate", "conditional", "component",
                 "function", "stdlib", "paren")
        form = self.choose(forms if kind in VECTORISH else ("call", "call", "arithmetic", "negate"))
        inner = depth - 1
        if form == "call":
            return self.call(self.choose(usable_builtins()[kind]), kind, inner)
        if form == "arithmetic":
            operator = self.choose(("+", "-", "*", "/", "%", "**"))
            other = kind if kind != "num" and self.chance(0.5) else "num"
            pair = [self.expression(kind, inner), self.expression(other, inner)]
            if self.chance(0.5):
                pair.reverse()
            return f"{pair[0]} {operator} {pair[1]}"
        if form == "negate":
            return f"-{self.expression(kind, inner)}"
        if form == "conditional":
            return (f"({self.expression(kind, inner)} if {self.condition(inner)} "
                    f"else {self.expression(kind, inner)})")
        if form == "component" and kind == "num":
            source = self.choose(("vec2", "color"))
            component = self.choose(("x", "y") if source == "vec2" else ("r", "g", "b", "a"))
            return f"({self.expression(source, inner)}).{component}"
        if form == "function":
            fitting = [f for f in self.functions if f[2] == kind]
            if fitting:
                name, kinds, _ = self.choose(fitting)
                return f"{name}({', '.join(self.expression(k, inner) for k in kinds)})"
        if form == "stdlib":
            fitting = [f for f in stdlib_functions() if f[2] == kind]
            if fitting:
                name, kinds, _ = self.choose(fitting)
                self.imported.add(name.split(".")[0])
                return f"{name}({', '.join(self.expression(k, inner) for k in kinds)})"
        return f"({self.expression(kind, inner)})"

    def condition(self, depth: int) -> str:
        if depth > 0 and self.chance(0.3):
            if self.chance(0.3):
                return f"not {self.condition(depth - 1)}"
            return f"{self.condition(depth - 1)} {self.choose(('and', 'or'))} {self.condition(depth - 1)}"
        operator = self.choose(("<", "<=", ">", ">=", "==", "!="))
        return f"{self.expression('num', depth - 1)} {operator} {self.expression('num', depth - 1)}"

    def argument(self, builtin: Builtin, param, generic: str, depth: int) -> str:
        kind = generic if param.kind == Kind.GENERIC else param.kind
        if param.kind == Kind.STRING:
            if param.path:
                return '"photo.png"'
            return f'"{self.choose(param.choices)}"' if param.choices else '"x"'
        if param.kind == Kind.LIST:
            width = self.choose((1, 2, 3, 4))
            row = lambda: "[" + ", ".join(self.number() for _ in range(width)) + "]"  # noqa: E731
            if builtin.name == "convolve" or self.chance(0.2):
                return "[" + ", ".join(row() for _ in range(self.choose((1, 2, 3)))) + "]"
            return row()
        if param.kind == Kind.MODEL:
            return self.model()
        if param.uniform and kind in ("num", "vec2"):
            return self.uniform()
        return self.expression(kind, depth)

    def call(self, builtin: Builtin, kind: str, depth: int) -> str:
        generic = kind if builtin.returns == Kind.GENERIC else self.choose(VECTORISH)
        positional, keywords = [], []
        after_variadic = False
        for param in builtin.params:
            if param.variadic:
                count = self.choose((1, 2, 3))
                positional += [self.argument(builtin, param, generic, depth) for _ in range(count)]
                after_variadic = True
            elif param.required and not after_variadic:
                positional.append(self.argument(builtin, param, generic, depth))
            elif self.chance(0.25):
                keywords.append(f"{param.name}={self.argument(builtin, param, generic, depth)}")
        return f"{builtin.name}({', '.join(positional + keywords)})"

    def fresh(self, prefix: str) -> str:
        name = next(f"{prefix}{i}" for i in range(1000) if f"{prefix}{i}" not in self.taken)
        self.taken.add(name)
        return name

    # statements
    def whole(self) -> str:
        """A whole number for a statement: mostly a fitting one, sometimes an edge case."""
        return self.choose(EDGE_INTS) if self.chance(0.1) else str(self.draw(st.integers(1, 300)))

    def positive(self) -> str:
        return self.draw(number_text()) if self.chance(0.1) else str(self.draw(st.integers(1, 60)))

    def settings(self) -> list[str]:
        lines = []
        if self.chance(0.3):
            lines.append(f"canvas {self.whole()} x {self.whole()}")
        if self.chance(0.3):
            lines.append(f"seed {self.whole()}")
        if self.chance(0.3):
            lines.append(f"frames {self.whole()}" if self.chance(0.6) else f"duration {self.positive()}")
        if self.chance(0.2):
            lines.append(f"fps {self.positive()}")
        if self.chance(0.2):
            lines.append(f"loop {self.whole()}")
        return lines

    def param(self) -> str:
        name = self.fresh("k")
        self.params.append(name)
        if self.chance(0.5):
            low, high = sorted((self.number(), self.number()), key=float)
            value = self.choose((low, high))
            return f'param {name} = {value} in {low}..{high} "doc"'
        return f"param {name} = {self.number()}"

    def let(self, depth: int) -> str:
        kind = self.choose(VECTORISH)
        name = self.fresh({"num": "n", "vec2": "p", "color": "c"}[kind])
        line = f"let {name} = {self.expression(kind, depth)}"
        self.names[kind].append(name)
        return line

    def function(self, depth: int) -> str:
        kinds = [self.choose(VECTORISH) for _ in range(self.choose((0, 1, 2, 3)))]
        returns = self.choose(VECTORISH)
        name = self.fresh("f")
        outer = self.names
        self.names = {kind: list(names) for kind, names in outer.items()}
        default = self.expression(kinds[-1], 1) if kinds and self.chance(0.3) else None
        parameters = []
        for index, kind in enumerate(kinds):
            self.names[kind].append(f"a{index}")
            parameters.append(f"a{index}")
        if default is not None:
            parameters[-1] += f" = {default}"
        if self.chance(0.4):
            local = self.fresh("v")
            kind = self.choose(VECTORISH)
            first = self.expression(kind, depth)
            self.names[kind].append(local)
            body = f" {{\n  let {local} = {first}\n  {self.expression(returns, depth)}\n}}"
        else:
            body = f" = {self.expression(returns, depth)}"
        self.names = outer
        self.functions.append((name, kinds, returns))
        return f"fn {name}({', '.join(parameters)}){body}"

    def tower(self) -> list[str]:
        """Functions that each call the one before twice, nested (every level doubles how deep the
        expression is) or side by side (every level doubles the calls to expand)."""
        height = self.choose([h for h in (3, 8, 16, 30, 60) if h <= self.tallest])
        kind = self.choose(VECTORISH)
        name = self.fresh("tower") + "_"
        twice = "{0}({0}(x))" if self.chance(0.5) else "{0}(x) + {0}(x * 0.5)"
        lines = [f"fn {name}0(x) = x * 0.5 + x"]
        lines += [f"fn {name}{i}(x) = " + twice.format(f"{name}{i - 1}") for i in range(1, height)]
        self.functions.append((f"{name}{height - 1}", [kind], kind))
        return lines

    def featured(self, depth: int, lines: list[str]) -> str:
        """A layer drawn from a call of one built-in, drawn evenly from all of them, so that every
        built-in is met often even in a short run."""
        builtin = self.draw(st.sampled_from(featured_builtins()))
        kind = self.choose([kind for kind, entries in usable_builtins().items() if builtin in entries])
        value = self.call(builtin, kind, depth)
        name = self.fresh("l")
        drawn = {"vec2": f"rgb(({value}).x, ({value}).y, 0.5)", "latent": f"decode({self.model()}, {value})"}
        lines.append(f"layer {name} = {drawn.get(kind, value)}")
        return name

    def sketch(self) -> str:
        lines = self.settings()
        for _ in range(self.draw(st.integers(0, 2))):
            lines.append(self.param())
        depth = self.choose((1, 2, 3, 4))
        for _ in range(self.draw(st.integers(0, 5))):
            statement = "tower" if self.chance(0.03) else self.choose(("let", "let", "fn"))
            lines += self.tower() if statement == "tower" else \
                [self.let(depth) if statement == "let" else self.function(depth)]
        layers = [self.featured(depth, lines)]
        for _ in range(self.draw(st.integers(0, 2))):
            name = self.fresh("l")
            clause = f" blend {self.choose(BLEND_MODES)}" if self.chance(0.5) else ""
            if self.chance(0.3):
                clause += f" opacity {self.expression('num', 1)}"
            lines.append(f"layer {name} = {self.expression(self.choose(('color', 'num')), depth)}{clause}")
            layers.append(name)
        items = layers + [self.expression("color", depth) for _ in range(self.choose((0, 1)))]
        lines.append("output " + ", ".join(items))
        imports = [f"import {module}" for module in sorted(self.imported)]
        return "\n".join(imports + lines) + "\n"


@st.composite
def typed_sketches(draw, tallest: int = 60) -> Case:
    """`tallest`: the most functions in a tower (from 16 up, one expands to the limit of inlined
    calls, which takes the checker about a second)."""
    return Case(TypedWriter(draw, tallest).sketch(), scratch_sketch(), "typed")


# ── sentences of the grammar ───────────────────────────────────────────────────────────────────

@cache
def grammar_strategy() -> st.SearchStrategy[str]:
    from hypothesis.extra.lark import from_lark
    names = sorted(builtins()) + ["a", "b", "p", "x", "palettes", "shapes", "screen", "add"]
    explicit = {
        "NAME": st.one_of(st.sampled_from(names), st.sampled_from(EDGE_NAMES),
                          st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
                          .filter(lambda name: name not in keywords())),
        "NUMBER": number_text(), "INT": st.sampled_from(EDGE_INTS),
        "SIZE": st.tuples(st.sampled_from(EDGE_INTS[:6]), st.sampled_from(EDGE_INTS[:6])).map(" x ".join),
        "STRING": st.sampled_from(STRINGS), "_NL": st.sampled_from(("\n", "\r\n", "\n\n  ")),
        "COLOR": st.sampled_from(("#fff", "#ff8800", "#12345678", "#abcd", "#000")),
    }
    for terminal in grammar().terminals:
        if terminal.name not in explicit and terminal.pattern.type == "str":
            explicit[terminal.name] = st.just(terminal.pattern.value)
    spaced = {name: strategy.map(lambda text: f" {text} ") if name != "_NL" else strategy
              for name, strategy in explicit.items()}
    return from_lark(grammar(), start="start", explicit=spaced)


@st.composite
def grammar_sketches(draw) -> Case:
    return Case(draw(grammar_strategy()), scratch_sketch(), "grammar")


# ── mutations of the real sketches ─────────────────────────────────────────────────────────────

def _position(draw, tokens: list[str], wanted=None) -> int | None:
    places = [i for i, token in enumerate(tokens) if wanted is None or wanted.match(token)]
    return draw(st.sampled_from(places)) if places else None


def _delete(draw, tokens):
    at = _position(draw, tokens)
    return tokens[:at] + tokens[at + 1:]


def _duplicate(draw, tokens):
    at = _position(draw, tokens)
    return tokens[:at + 1] + tokens[at:]


def _swap(draw, tokens):
    first, second = _position(draw, tokens), _position(draw, tokens)
    tokens = list(tokens)
    tokens[first], tokens[second] = tokens[second], tokens[first]
    return tokens


def _replace(draw, tokens):
    at = _position(draw, tokens)
    vocabulary = keywords() + tuple(sorted(builtins())) + EDGE_NAMES + STRINGS + \
        ("+", "-", "*", "/", "%", "**", "==", "<", "(", ")", "[", "]", ",", "=", "..", ".", "{", "}")
    replacement = draw(st.one_of(st.sampled_from(vocabulary), st.sampled_from(tokens)))
    return tokens[:at] + [replacement] + tokens[at + 1:]


def _insert(draw, tokens):
    at = draw(st.integers(0, len(tokens)))
    text = draw(st.one_of(st.sampled_from(INSERTIONS), st.characters(codec="utf-8").map(str)))
    return tokens[:at] + [text] + tokens[at:]


def _edge_number(draw, tokens):
    at = _position(draw, tokens, NUMBER)
    if at is None:
        return tokens
    return tokens[:at] + [draw(st.sampled_from(EDGE_NUMBERS + ("-0", "- 0") + EDGE_NAMES))] + tokens[at + 1:]


def _nest(draw, tokens):
    at = _position(draw, tokens, VALUE)
    if at is None:
        return tokens
    prefix, suffix = NESTINGS[draw(st.sampled_from(sorted(NESTINGS)))]
    depth = draw(st.sampled_from(NESTING_DEPTHS))
    return tokens[:at] + [prefix * depth + tokens[at] + suffix * depth] + tokens[at + 1:]


def _line_ending(draw, tokens):
    ending = draw(st.sampled_from(("\r\n", "\r", "\n\n", "\n\t", " \\\n")))
    return [ending if token in ("\n", "\r\n") else token for token in tokens]


def _tabs(draw, tokens):
    return ["\t" if token.isspace() and "\n" not in token else token for token in tokens]


def _splice(draw, tokens):
    _, other = draw(mutation_seeds())
    donor = TOKEN.findall(other)
    start = draw(st.integers(0, max(0, len(donor) - 1)))
    at = draw(st.integers(0, len(tokens)))
    return tokens[:at] + donor[start:start + draw(st.integers(1, 40))] + tokens[at:]


def _truncate(draw, tokens):
    return tokens[:draw(st.integers(0, len(tokens)))]


MUTATIONS = {"delete": _delete, "duplicate": _duplicate, "swap": _swap, "replace": _replace,
             "insert": _insert, "edge number": _edge_number, "nest": _nest, "line ending": _line_ending,
             "tabs": _tabs, "splice": _splice, "truncate": _truncate}


@st.composite
def mutated_sketches(draw) -> Case:
    path, text = draw(mutation_seeds())
    tokens = TOKEN.findall(text)
    for name in draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=4)):
        if tokens:
            tokens = MUTATIONS[name](draw, tokens)
    return Case("".join(tokens), path, "mutated")


# ── every built-in with one argument per pixel, the others flat ────────────────────────────────

FLAT = {"num": "0.3", "vec2": "vec(0.2, 0.1)", "color": "#80402080"}
PER_PIXEL = {"num": "st.x", "vec2": "st", "color": "rgb(st.x, st.y, 0.5, st.x)"}
PROBE_MODEL = 'model("glyphs-vae")'
PROBE_LISTS = {"convolve": "[[0, 1, 0], [1, 2, 1], [0, 1, 0]]", "gradient_at": "[0, 1]"}


def _probe_argument(builtin: Builtin, param, kind: str, per_pixel: bool) -> str:
    if kind == "string":
        value = '"photo.png"' if param.path else f'"{param.choices[0]}"' if param.choices else '"x"'
    elif kind == "list":
        value = PROBE_LISTS.get(builtin.name, "[0, 0, 1, 1]")
    elif kind in ("model", "latent"):
        value = PROBE_MODEL if kind == "model" else f"latent({PROBE_MODEL}, 1)"
    else:
        value = (PER_PIXEL if per_pixel else FLAT)[kind]
    return f"{value}, {value}" if param.variadic else value      # two of each: gradient, spline


def broadcast_cases() -> list[Case]:
    """Each built-in called with its required arguments flat (the same for every pixel) and then
    with one argument, required or optional, per pixel: a built-in must broadcast a flat value
    against a per-pixel one whichever argument it comes in (hsv's alpha and blend's opacity did not)."""
    cases = []
    for builtin in featured_builtins():
        generics = VECTORISH if any(p.kind == Kind.GENERIC for p in builtin.params) else (Kind.NUM,)
        for generic in generics:
            kinds = [generic if p.kind == Kind.GENERIC else p.kind for p in builtin.params]
            varying = [i for i, (p, kind) in enumerate(zip(builtin.params, kinds))
                       if kind in PER_PIXEL and not p.uniform]
            for chosen in [None] + varying:
                arguments, keywords_only = [], False
                for index, (param, kind) in enumerate(zip(builtin.params, kinds)):
                    keywords_only = keywords_only or param.variadic
                    if param.required or index == chosen:
                        value = _probe_argument(builtin, param, kind, index == chosen)
                        by_name = not param.variadic and (not param.required or keywords_only)
                        arguments.append(f"{param.name}={value}" if by_name else value)
                call = f"{builtin.name}({', '.join(arguments)})"
                returns = generic if builtin.returns == Kind.GENERIC else builtin.returns
                drawn = {"vec2": f"rgb(({call}).x, ({call}).y, 0)",
                         "latent": f"decode({PROBE_MODEL}, {call})"}.get(returns, call)
                cases.append(Case(f"canvas 8 x 8\noutput {drawn}\n", scratch_sketch(), "broadcast"))
    return cases


@cache
def mutation_seeds() -> st.SearchStrategy[tuple[str, str]]:
    """What mutations start from, (path, text): a sketch of the corpus, or as often a call of one
    built-in (`broadcast_cases`), so every built-in is mutated too."""
    calls = tuple((case.path, case.text) for case in broadcast_cases())
    return st.one_of(st.sampled_from(corpus()), st.sampled_from(calls))


def sketches() -> st.SearchStrategy[Case]:
    """Every family of case, mutations and typed sketches drawn most."""
    return st.one_of(mutated_sketches(), typed_sketches(), grammar_sketches())


def fuzz_settings(cases: int, shrink: bool = False, **options):
    """hypothesis settings for `cases` cases: no example database, no deadline (the budget is
    ours), and shrinking only when a failure should be reported small (the tests)."""
    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    return settings(max_examples=cases, database=None, deadline=None, phases=phases,
                    suppress_health_check=list(HealthCheck), **options)


def warm_up() -> None:
    """Render the corpus once without a budget: the first call of a numba kernel compiles it."""
    for path, text in corpus():
        try:
            render_case(Case(text, path, "corpus"))
        except ArtError:
            pass


# ── the long run ───────────────────────────────────────────────────────────────────────────────

def worker(connection, cases: int, worker_seed: int, budget: float) -> None:
    """Run `cases` cases, telling the parent each case before it runs and its outcome after."""
    warnings.simplefilter("ignore")          # numpy's overflow warnings: expected with edge numbers
    warm_up()
    connection.send(("ready",))

    @seed(worker_seed)
    @fuzz_settings(cases)
    @given(sketches())
    def run(case):
        connection.send(("start", case))
        connection.send(("done", run_case(case, budget)))
    run()
    connection.send(("finished",))


def outcome_text(counts: Counter) -> str:
    """`rendered 10, ArtError (syntax 3, check 5, usage 0, runtime 1), crash 0, hang 0`."""
    errors = ", ".join(f"{stage} {counts[stage]}" for stage in (SYNTAX, CHECK, USAGE, RUNTIME))
    return (f"rendered {counts['rendered']}, ArtError ({errors}), crash {counts['crash']}, "
            f"hang {counts['hang']}")


class Run:
    """The parent: starts workers, enforces the hard budget, counts and saves what they find."""

    def __init__(self, arguments):
        self.arguments = arguments
        self.out = Path(arguments.out)
        self.counts: Counter = Counter()
        self.by_family: Counter = Counter()
        self.signatures: Counter = Counter()
        self.saved = 0
        self.started = 0                # workers started, so each gets its own seed
        self.context = multiprocessing.get_context("spawn")

    def start_worker(self, cases: int) -> dict:
        parent, child = self.context.Pipe()
        worker_seed = self.arguments.seed * 1000 + self.started
        self.started += 1
        process = self.context.Process(target=worker, args=(child, cases, worker_seed, self.arguments.budget),
                                       daemon=True)
        process.start()
        child.close()
        return {"process": process, "connection": parent, "left": cases, "case": None, "since": None}

    def save(self, case: Case, result: Result) -> None:
        lines = [line for line in result.report.strip().splitlines() if line.strip()]
        signature = f"{result.outcome}: {lines[-1][:160] if lines else '?'}"
        frames = [line for line in lines if line.strip().startswith("File ")]
        signature += f" at {frames[-1].strip() if frames else '?'}"
        self.signatures[signature] += 1
        if self.signatures[signature] > self.arguments.keep:
            return
        self.saved += 1
        self.out.mkdir(parents=True, exist_ok=True)
        stem = self.out / f"{result.outcome}-{self.saved:04d}"
        stem.with_suffix(".art").write_text(case.text, encoding="utf-8", errors="surrogatepass")
        stem.with_suffix(".txt").write_text(
            f"family: {case.family}\nchecked as if saved at: {case.path}\noutcome: {result.outcome}\n\n"
            f"{result.report}", encoding="utf-8")

    def record(self, case: Case, result: Result) -> None:
        self.counts[result.outcome] += 1
        self.by_family[case.family, result.outcome] += 1
        if result.outcome in FAILURES:
            self.save(case, result)

    def lost(self, state: dict, why: str) -> None:
        """A worker hung in compiled code or died: record its case, start another for the rest."""
        process = state["process"]
        if process.is_alive():
            process.kill()
        process.join()
        if state["case"] is not None:
            outcome = "hang" if why == "hang" else "crash"
            self.record(state["case"], Result(outcome, f"worker {why} (exit code {process.exitcode})"))
            state["left"] -= 1
        if state["left"] > 0:
            state.update(self.start_worker(state["left"]))

    def progress(self, begun: float) -> str:
        done = sum(self.counts.values())
        rate = done / max(time.monotonic() - begun, 1e-9)
        return f"{done} cases, {rate:.1f} cases/s: {outcome_text(self.counts)}"

    def main(self) -> int:
        arguments = self.arguments
        shares = [arguments.cases // arguments.workers + (i < arguments.cases % arguments.workers)
                  for i in range(arguments.workers)]
        states = [self.start_worker(share) for share in shares if share]
        print(f"fuzzing {arguments.cases} cases with {len(states)} worker(s), seed {arguments.seed}, "
              f"budget {arguments.budget:g} CPU s a case, saving failures to {self.out}", flush=True)
        begun = None
        last_report = time.monotonic()
        wall = time.monotonic()
        hard = 4 * arguments.budget + 10       # wall-clock seconds: a busy machine stretches CPU time
        from multiprocessing.connection import wait
        while any(s["left"] > 0 for s in states):
            live = [s for s in states if s["left"] > 0]
            ready = wait([s["connection"] for s in live], timeout=1.0)
            for state in live:
                if state["connection"] not in ready:
                    continue
                try:
                    message = state["connection"].recv()
                except (EOFError, OSError):
                    self.lost(state, "died")
                    continue
                if message[0] == "ready":
                    begun = begun or time.monotonic()
                elif message[0] == "start":
                    state["case"], state["since"] = message[1], time.monotonic()
                elif message[0] == "done":
                    self.record(state["case"], message[1])
                    state["case"], state["left"] = None, state["left"] - 1
                elif message[0] == "finished":
                    state["left"] = 0           # hypothesis ran out of new cases early
            for state in live:
                if state["case"] is not None and time.monotonic() - state["since"] > hard:
                    self.lost(state, "hang")
            if begun and time.monotonic() - last_report > arguments.report_every:
                print(self.progress(begun), flush=True)
                last_report = time.monotonic()
        for state in states:
            state["process"].join(timeout=10)
        print(self.progress(begun or wall))
        print(f"wall time {time.monotonic() - wall:.0f} s (the first "
              f"{(begun or wall) - wall:.0f} s warming up: every corpus sketch rendered once)")
        for family in sorted({family for family, _ in self.by_family}):
            counts = Counter({outcome: n for (f, outcome), n in self.by_family.items() if f == family})
            print(f"  {family}: {outcome_text(counts)}")
        for signature, count in self.signatures.most_common():
            print(f"  {count} x {signature}")
        failures = sum(self.counts[outcome] for outcome in FAILURES)
        print(f"{failures} crash(es) or hang(s)" + (f", saved in {self.out}" if failures else ""))
        return 1 if failures else 0


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000, help="how many cases to run (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="the seed of the run (default 0)")
    parser.add_argument("--out", default="fuzz-out", help="where crashes and hangs are saved")
    parser.add_argument("--workers", type=int, default=1, help="processes to run cases in (default 1)")
    parser.add_argument("--budget", type=float, default=BUDGET,
                        help=f"CPU seconds per case (default {BUDGET:g})")
    parser.add_argument("--keep", type=int, default=20, help="inputs saved per distinct failure (default 20)")
    parser.add_argument("--report-every", type=float, default=30, help="seconds between progress lines")
    arguments = parser.parse_args(argv)
    if arguments.workers < 1 or arguments.cases < 0 or not math.isfinite(arguments.budget):
        parser.error("--workers must be at least 1, --cases at least 0, --budget finite")
    return arguments


if __name__ == "__main__":
    sys.exit(Run(parse_arguments()).main())
