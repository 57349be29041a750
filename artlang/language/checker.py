"""The checker: resolves names, arity and kinds, and builds the typed graph of ir.py.

It reports every problem it finds at once (one `ArtError` with all diagnostics). User functions are
inlined at each call with their arguments' kinds; recursion is refused (every call would expand
forever, since both branches of a conditional are computed over the whole canvas).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from artlang.language import ast, ir
from artlang.language.kinds import (
    ARITHMETIC,
    COMPONENTS,
    GENERIC_KINDS,
    PROMOTES_FROM_NUM,
    WHOLE_CANVAS,
    Kind,
    join_kinds,
)
from artlang.language.schema import ABSENT, BLEND_MODES, Builtin, BuiltinValue
from artlang.core.errors import (
    CHECK,
    MAX_SHOWN_DIAGNOSTICS,
    ArtError,
    Diagnostic,
    Note,
    did_you_mean,
)
from artlang.language.project import LoadedModules, ProjectFiles

STATEMENT_NAMES = {ast.CanvasStmt: "canvas", ast.SeedStmt: "seed", ast.FramesStmt: "frames",
                   ast.FpsStmt: "fps", ast.DurationStmt: "duration", ast.LoopStmt: "loop"}
LIBRARY_STATEMENTS = (ast.ImportStmt, ast.LetStmt, ast.FnStmt)


class _Reported(Exception):
    """Raised inside the checker after a diagnostic was recorded, to abandon one expression."""


MAX_CHECK_NESTING = ast.MAX_NESTING * 3 // 2      # the checker's recursion, function bodies included

# What a name is bound to when its definition failed: uses of it report nothing more.
POISONED = ir.Node(Kind.ERROR, None)


@dataclass
class FunctionDef:
    statement: ast.FnStmt
    scope: "Scope"
    module: str


@dataclass
class ModuleScope:
    name: str
    scope: "Scope"


@dataclass
class LayerDef:
    statement: ast.LayerStmt
    node: ir.Node
    opacity: ir.Node | None


@dataclass
class Scope:
    names: dict = field(default_factory=dict)
    spans: dict = field(default_factory=dict)
    parent: "Scope | None" = None

    def lookup(self, name: str):
        scope = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        return None

    def visible(self) -> Iterator[str]:
        """The names this scope sees, its own then its parents' (read only when a hint is wanted)."""
        scope = self
        while scope is not None:
            yield from scope.names
            scope = scope.parent


@dataclass
class _Site:
    """Where an expression is being checked: names the random streams of its calls."""
    owner: str
    counters: dict = field(default_factory=dict)
    calls: tuple = ()                 # spans of the user-function calls that led here

    def next_stream(self, callee: str) -> str:
        index = self.counters.get(callee, 0)
        self.counters[callee] = index + 1
        return f"{self.owner}/{callee}#{index}"


class Checker:
    def __init__(self, loaded: LoadedModules, files: ProjectFiles, builtins: dict):
        self.loaded = loaded
        self.files = files
        self.builtins = builtins                  # the schema's table, every built-in registered
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[tuple] = set()       # (message, span) of each diagnostic, to report it once
        self.warnings: list[Diagnostic] = []
        self.module_scopes: dict[str, ModuleScope] = {}
        self.function_stack: list[int] = []
        self.nesting = 0                        # expressions being checked inside one another
        self.inlined_calls = 0                  # user function calls expanded so far
        self.params: dict[str, ir.ParamInfo] = {}
        self.settings = ir.Settings()

    # ── reporting ──────────────────────────────────────────────────────────────────────────────
    def report(self, message, span, hint=None, label=None, notes=(), site: _Site | None = None):
        if site is not None and site.calls:
            notes = tuple(notes) + tuple(Note("in the function called here", s) for s in site.calls)
        if (message, span) not in self.reported:
            self.reported.add((message, span))
            self.diagnostics.append(Diagnostic(message, span, hint, label, tuple(notes)))
        raise _Reported

    def suggest(self, word: str, candidates: Iterable[str]) -> str | None:
        """A "did you mean" for the next diagnostic, or None once no more diagnostics are shown:
        a sketch with thousands of mistakes gets hints for the ones it reads, in linear time."""
        if len(self.diagnostics) >= MAX_SHOWN_DIAGNOSTICS:
            return None
        return did_you_mean(word, candidates)

    def attempt(self, action, *arguments):
        try:
            return action(*arguments)
        except _Reported:
            return None

    # ── modules and statements ─────────────────────────────────────────────────────────────────
    def check_program(self) -> ir.Program:
        main = self.loaded.main
        scope = self.check_module(main, is_main=True)
        self.attempt(self.settle_timing)
        output = scope.names.get("\0output")
        if output is None and not self.diagnostics:
            last = main.statements[-1].span if main.statements else None
            self.diagnostics.append(Diagnostic(
                "the sketch has no `output` statement", last,
                "end the sketch with what to draw, e.g. `output fill(circle(uv, 0.5))`"))
        if self.diagnostics:
            raise ArtError(self.diagnostics, CHECK)
        return ir.Program(self.settings, self.params, output, self.files, self.files.sources,
                          self.warnings)

    def check_module(self, module: ast.Module, is_main: bool) -> Scope:
        if module.path in self.module_scopes:
            return self.module_scopes[module.path].scope
        scope = Scope()
        self.module_scopes[module.path] = ModuleScope(module.name, scope)
        layers: dict[str, LayerDef] = {}
        used_layers: set[str] = set()
        for statement in module.statements:
            if not is_main and not isinstance(statement, LIBRARY_STATEMENTS):
                self.attempt(self.report, "a module may only contain `import`, `let` and `fn`",
                             statement.span, "canvas, seed, params, layers and output belong in the "
                             "sketch that imports this module")
                continue
            self.attempt(self.check_statement, statement, module, scope, layers, used_layers)
        for name, layer in layers.items():
            if name not in used_layers:
                self.warnings.append(Diagnostic(
                    f"layer `{name}` is not in the output", layer.statement.name_span,
                    f"add it to the output statement: `output ..., {name}`", severity="warning"))
        return scope

    def poison(self, scope: Scope, name: str, span) -> None:
        """Bind a name whose definition failed (with its span, for a later "first defined here")."""
        if name not in scope.names:
            scope.names[name], scope.spans[name] = POISONED, span

    def define(self, scope: Scope, name: str, value, span) -> None:
        if name in scope.names:
            self.report(f"`{name}` is already defined", span, "choose another name",
                        notes=(Note("first defined here", scope.spans[name]),))
        scope.names[name] = value
        scope.spans[name] = span
        if name in self.builtins:
            self.report(f"`{name}` is a built-in name", span,
                        "choose another name; built-ins cannot be redefined", label="redefined here")

    def check_statement(self, statement, module: ast.Module, scope: Scope, layers, used_layers):
        owner = module.name
        match statement:
            case ast.CanvasStmt() | ast.SeedStmt() | ast.FramesStmt() | ast.FpsStmt() | \
                    ast.DurationStmt() | ast.LoopStmt():
                self.check_setting(statement)
            case ast.ImportStmt():
                path = self.loaded.imports[id(statement)]
                imported = self.check_module(self.loaded.modules[path], is_main=False)
                self.define(scope, statement.alias, ModuleScope(statement.alias, imported),
                            statement.target_span)
            case ast.ParamStmt():
                try:
                    param = self.check_param(statement)
                except _Reported:
                    self.poison(scope, statement.name, statement.name_span)
                    raise
                self.define(scope, statement.name, param, statement.name_span)
            case ast.LetStmt():
                try:
                    node = self.expression(statement.value, scope, _Site(f"{owner}/{statement.name}"))
                except _Reported:
                    self.poison(scope, statement.name, statement.name_span)
                    raise
                self.define(scope, statement.name, node, statement.name_span)
            case ast.FnStmt():
                self.define(scope, statement.name, FunctionDef(statement, scope, owner),
                            statement.name_span)
                self.resolve_function_names(statement, scope)
            case ast.LayerStmt():
                try:
                    layer = self.check_layer(statement, scope, owner)
                except _Reported:
                    self.poison(scope, statement.name, statement.name_span)
                    raise
                self.define(scope, statement.name, layer, statement.name_span)
                layers[statement.name] = layer
            case ast.OutputStmt():
                if "\0output" in scope.names:
                    self.report("the sketch has a second `output` statement", statement.span,
                                "list every layer in one `output a, b, c` (bottom first)",
                                notes=(Note("the first is here", scope.spans["\0output"]),))
                items = [self.output_item(item, scope, owner, used_layers) for item in statement.items]
                if all(items):
                    scope.names["\0output"] = items
                    scope.spans["\0output"] = statement.span

    def check_setting(self, statement):
        name = STATEMENT_NAMES[type(statement)]
        if name in self.settings.spans:
            self.report(f"`{name}` is set twice", statement.span,
                        notes=(Note("first set here", self.settings.spans[name]),))
        self.settings.spans[name] = statement.span
        match statement:
            case ast.CanvasStmt(width=w, height=h):
                if w < 1 or h < 1:
                    self.report("the canvas needs at least 1 x 1 pixels", statement.span)
                self.settings.width, self.settings.height = w, h
            case ast.SeedStmt(value=value):
                self.settings.seed = value
            case ast.FramesStmt(count=count):
                if count < 1:
                    self.report("an animation needs at least 1 frame", statement.span)
                self.settings.frames = count
            case ast.FpsStmt(value=value):
                if not 0 < value < math.inf:
                    self.report(f"fps must be a finite number above 0, got {value:g}", statement.span,
                                "e.g. `fps 30`")
                self.settings.fps = value
            case ast.DurationStmt(seconds=seconds):
                if not 0 < seconds < math.inf:
                    self.report(f"a duration must be a finite number of seconds above 0, got {seconds:g}",
                                statement.span, "e.g. `duration 4`")
                self.settings.duration = seconds
            case ast.LoopStmt(frames=frames):
                if frames < 1:
                    self.report("a loop needs at least 1 frame", statement.span)
                self.settings.loop = frames

    def settle_timing(self) -> None:
        """`duration` gives the frame count (at the sketch's fps) unless `frames` is set too."""
        settings = self.settings
        if settings.duration is None:
            return
        if "frames" in settings.spans:
            self.report("set `frames` or `duration`, not both", settings.spans["duration"],
                        "`duration 4` at `fps 30` is `frames 120`",
                        notes=(Note("frames set here", settings.spans["frames"]),))
        frames = settings.duration * settings.fps
        if not math.isfinite(frames):
            self.report(f"`duration {settings.duration:g}` at {settings.fps:g} fps is too many frames to "
                        "count", settings.spans["duration"], "a shorter duration or a lower fps")
        settings.frames = max(1, round(frames))

    def check_param(self, statement: ast.ParamStmt) -> ir.ParamRef:
        default = statement.default
        if isinstance(default, ast.Color):
            kind, value = Kind.COLOR, default.rgba
            if statement.low is not None:
                self.report("a colour param has no range", statement.span,
                            "remove `in low..high`, or use a number param")
        else:
            kind, value = Kind.NUM, default.value
            low, high = statement.low, statement.high
            if low is not None and low > high:
                self.report(f"the range {low:g}..{high:g} is empty", statement.span,
                            f"write it low first: `in {high:g}..{low:g}`")
            if low is not None and not low <= value <= high:
                self.report(f"the default {value:g} is outside the range {low:g}..{high:g}",
                            default.span)
        self.params[statement.name] = ir.ParamInfo(statement.name, kind, value, statement.low,
                                                   statement.high, statement.doc, statement.span)
        return ir.ParamRef(kind, statement.name_span, name=statement.name)

    def check_layer(self, statement: ast.LayerStmt, scope: Scope, owner: str) -> LayerDef:
        site = _Site(f"{owner}/{statement.name}")
        node = self.as_colour(self.expression(statement.value, scope, site), statement.value.span)
        if statement.blend not in BLEND_MODES:
            self.report(f"unknown blend mode `{statement.blend}`", statement.blend_span,
                        self.suggest(statement.blend, BLEND_MODES)
                        or "blend modes: " + ", ".join(BLEND_MODES))
        opacity = None
        if statement.opacity is not None:
            opacity = self.expression(statement.opacity, scope, site)
            self.expect_kind(opacity, Kind.NUM, statement.opacity.span, "opacity")
        return LayerDef(statement, node, opacity)

    def output_item(self, item: ast.Expr, scope: Scope, owner: str, used_layers) -> ir.OutputItem | None:
        if isinstance(item, ast.Name) and isinstance(scope.lookup(item.name), LayerDef):
            layer = scope.lookup(item.name)
            used_layers.add(item.name)
            return ir.OutputItem(layer.node, layer.statement.blend, layer.opacity, item.name)
        try:
            node = self.as_colour(self.expression(item, scope, _Site(f"{owner}/output")), item.span)
        except _Reported:
            return None
        return ir.OutputItem(node, "normal", None, None)

    def as_colour(self, node: ir.Node, span) -> ir.Node:
        if node.kind == Kind.COLOR:
            return node
        if node.kind == Kind.NUM:
            return self.promote(node, Kind.COLOR)
        hints = {Kind.VEC2: "map it to a colour, e.g. `rgb(p.x, p.y, 0)` or `viridis(length(p))`",
                 Kind.BOOL: "turn the condition into a value, e.g. `1 if c else 0`"}
        self.report(f"an image needs a colour or a number; this is {node.kind.described}", span,
                    hints.get(node.kind))

    # ── functions ──────────────────────────────────────────────────────────────────────────────
    def resolve_function_names(self, statement: ast.FnStmt, scope: Scope) -> None:
        """Report unknown names in a function body even if it is never called."""
        local = Scope(parent=scope)
        for param in statement.params:
            if param.name in local.names:
                self.attempt(self.report, f"parameter `{param.name}` is listed twice", param.span)
            if param.default is not None:
                self.resolve_names(param.default, scope)
            local.names[param.name] = POISONED
        local.names[statement.name] = POISONED
        for let in statement.body.lets:
            self.resolve_names(let.value, local)
            local.names[let.name] = POISONED
        self.resolve_names(statement.body.result, local)

    def resolve_names(self, expression: ast.Expr, scope: Scope) -> None:
        if isinstance(expression, ast.Name) and scope.lookup(expression.name) is None \
                and expression.name not in self.builtins:
            self.attempt(self.unknown_name, expression.name, expression.span, scope)
        if isinstance(expression, ast.Member):
            self.resolve_names(expression.target, scope)
            return
        for child in ast.children(expression):
            self.resolve_names(child, scope)

    def unknown_name(self, name: str, span, scope: Scope):
        hint = self.suggest(name, itertools.chain(scope.visible(), self.builtins))
        self.report(f"unknown name `{name}`", span, hint, label="not defined")

    # ── expressions ────────────────────────────────────────────────────────────────────────────
    def expression(self, node: ast.Expr, scope: Scope, site: _Site) -> ir.Node:
        """The graph of one expression. The checker recurses into the bodies of the functions it
        expands too, so it stops at half as deep again as one expression may be written, well
        inside Python's recursion limit."""
        self.nesting += 1
        try:
            if self.nesting > MAX_CHECK_NESTING:
                self.report(f"this expression nests more than {MAX_CHECK_NESTING} levels deep, counting "
                            "the bodies of the functions it calls", node.span,
                            "write it flatter: a function called in the body of another adds its "
                            "nesting to that one's", label="nested too deeply", site=site)
            return self.expression_graph(node, scope, site)
        finally:
            self.nesting -= 1

    def expression_graph(self, node: ast.Expr, scope: Scope, site: _Site) -> ir.Node:
        match node:
            case ast.Number(value=value):
                return ir.Const(Kind.NUM, node.span, value=float(value))
            case ast.Color(rgba=rgba):
                return ir.Const(Kind.COLOR, node.span, value=tuple(rgba))
            case ast.String(value=value):
                return ir.Const(Kind.STRING, node.span, value=value)
            case ast.Name():
                return self.name(node, scope)
            case ast.ListExpr():
                return self.list_value(node, scope, site)
            case ast.Member():
                return self.member(node, scope, site)
            case ast.Call():
                return self.call(node, scope, site)
            case ast.Binary():
                return self.binary(node, scope, site)
            case ast.Logical():
                left = self.expression(node.left, scope, site)
                right = self.expression(node.right, scope, site)
                for operand, source in ((left, node.left), (right, node.right)):
                    self.expect_condition(operand, source.span, node.operator)
                return ir.Logic(Kind.BOOL, node.span, *_flags(left, right), operator=node.operator,
                                left=left, right=right)
            case ast.Unary():
                operand = self.expression(node.operand, scope, site)
                if node.operator == "not":
                    self.expect_condition(operand, node.operand.span, "not")
                    return ir.Logic(Kind.BOOL, node.span, *_flags(operand), operator="not", left=operand)
                self.expect_numeric(operand, node.operand.span, f"unary `{node.operator}`")
                if node.operator == "+":
                    return operand
                return ir.Negate(operand.kind, node.span, *_flags(operand), operand=operand)
            case ast.Conditional():
                condition = self.expression(node.condition, scope, site)
                self.expect_condition(condition, node.condition.span, "if")
                then = self.expression(node.then, scope, site)
                otherwise = self.expression(node.otherwise, scope, site)
                kind = join_kinds(then.kind, otherwise.kind)
                if kind is None or kind not in ARITHMETIC:
                    self.report(f"the two branches differ: {then.kind.described} if …, else "
                                f"{otherwise.kind.described}", node.span,
                                "both branches must be numbers, vectors or colours of the same kind")
                return ir.Select(kind, node.span, *_flags(condition, then, otherwise),
                                 condition=condition, then=then, otherwise=otherwise)
        raise AssertionError(f"unhandled expression {node!r}")

    def list_value(self, node: ast.ListExpr, scope: Scope, site: _Site) -> ir.Node:
        items = [self.expression(item, scope, site) for item in node.items]
        if not items:
            self.report("an empty list", node.span, "write at least one number, e.g. `[1, 2, 1]`")
        for item, source in zip(items, node.items):
            if item.kind not in (Kind.NUM, Kind.LIST):
                self.report(f"a list holds numbers (or lists of numbers); this is {item.kind.described}",
                            source.span)
            if item.per_pixel:
                self.report("a list item must be the same for every pixel", source.span,
                            "use numbers, params or `t` here, not something that depends on uv or noise")
        kinds = {item.kind for item in items}
        if len(kinds) > 1:
            self.report("a list mixes numbers and lists", node.span, "make every row a list, e.g. `[[1, 2], [3, 4]]`")
        if kinds == {Kind.LIST}:
            lengths = {len(item.items) for item in items}
            if len(lengths) > 1 or any(isinstance(i, ir.ListValue) and
                                       {c.kind for c in i.items} != {Kind.NUM} for i in items):
                self.report("the rows of a list must be lists of numbers of the same length", node.span)
        return ir.ListValue(Kind.LIST, node.span, False, any(i.animated for i in items), items=tuple(items))

    def name(self, node: ast.Name, scope: Scope) -> ir.Node:
        binding = scope.lookup(node.name)
        if binding is None:
            binding = self.builtins.get(node.name)
        match binding:
            case None:
                self.unknown_name(node.name, node.span, scope)
            case ir.Node() if binding is POISONED:
                raise _Reported
            case ir.Node():
                return binding
            case BuiltinValue():
                return ir.BuiltinValueRef(binding.kind, node.span, binding.per_pixel,
                                          binding.animated, builtin=binding)
            case LayerDef():
                return binding.node
            case Builtin() | FunctionDef():
                self.report(f"`{node.name}` is a function", node.span,
                            f"call it with its arguments, e.g. `{node.name}(...)`")
            case ModuleScope():
                self.report(f"`{node.name}` is a module", node.span,
                            f"use one of its names, e.g. `{node.name}.something`; it defines: "
                            + ", ".join(sorted(n for n in binding.scope.names if n[0] != "\0")[:8]))
        self.report(f"`{node.name}` cannot be used here", node.span)

    def module_member(self, node: ast.Member, scope: Scope):
        if isinstance(node.target, ast.Name):
            binding = scope.lookup(node.target.name)
            if isinstance(binding, ModuleScope):
                found = binding.scope.names.get(node.name)
                if found is None:
                    self.report(f"module `{node.target.name}` has no `{node.name}`", node.name_span,
                                self.suggest(node.name, binding.scope.names))
                return found
        return None

    def member(self, node: ast.Member, scope: Scope, site: _Site) -> ir.Node:
        found = self.module_member(node, scope)
        if found is not None:
            if isinstance(found, FunctionDef):
                self.report(f"`{node.name}` is a function", node.span, "call it with its arguments")
            return found
        target = self.expression(node.target, scope, site)
        components = COMPONENTS.get(target.kind)
        if components is None:
            self.report(f"{target.kind.described} has no `.{node.name}`", node.name_span,
                        "only vectors (.x .y) and colours (.r .g .b .a) have components")
        if node.name not in components:
            self.report(f"{target.kind.described} has no `.{node.name}`", node.name_span,
                        "its components are " + ", ".join(f"`.{c}`" for c in components))
        return ir.Component(Kind.NUM, node.span, *_flags(target), target=target,
                            index=components[node.name])

    def binary(self, node: ast.Binary, scope: Scope, site: _Site) -> ir.Node:
        left = self.expression(node.left, scope, site)
        right = self.expression(node.right, scope, site)
        operator = node.operator
        if operator in ("==", "!=", "<", "<=", ">", ">="):
            for operand, source in ((left, node.left), (right, node.right)):
                if operand.kind != Kind.NUM:
                    self.report(f"`{operator}` compares numbers; this is {operand.kind.described}",
                                source.span, "compare one component, e.g. `p.x > 0` or `c.r > 0.5`")
            return ir.Comparison(Kind.BOOL, node.span, *_flags(left, right), operator=operator,
                                 left=left, right=right)
        for operand, source in ((left, node.left), (right, node.right)):
            self.expect_numeric(operand, source.span, f"`{operator}`")
        kind = join_kinds(left.kind, right.kind)
        if kind is None:
            latent = Kind.LATENT in (left.kind, right.kind)
            self.report(f"cannot combine {left.kind.described} and {right.kind.described} with "
                        f"`{operator}`", node.operator_span,
                        "a latent combines with latents and numbers only" if latent else
                        "a vector and a colour do not mix; pick components, e.g. `rgb(p.x, p.y, 0)`")
        elif kind == Kind.LATENT and (left.per_pixel or right.per_pixel):
            self.report("a latent must be the same for every pixel", node.span,
                        "scale it by a number, `t`, `cycle` or a param, not by something that "
                        "depends on uv or noise")
        return ir.Arithmetic(kind, node.span, *_flags(left, right), operator=operator, left=left,
                             right=right)

    def expect_numeric(self, node: ir.Node, span, what: str) -> None:
        if node.kind not in ARITHMETIC:
            hint = {Kind.BOOL: "a condition is not a number; use `1 if c else 0` or `step(edge, x)`",
                    Kind.STRING: "strings are only used as arguments such as file names",
                    Kind.MODEL: "a model is used through `latent`, `decode` and `encode`"}.get(node.kind)
            self.report(f"{what} needs numbers, vectors or colours; this is {node.kind.described}",
                        span, hint)

    def expect_condition(self, node: ir.Node, span, what: str) -> None:
        if node.kind != Kind.BOOL:
            self.report(f"`{what}` needs a condition; this is {node.kind.described}", span,
                        "compare it, e.g. `x > 0.5`")

    def expect_kind(self, node: ir.Node, kind: Kind, span, what: str) -> None:
        if node.kind != kind:
            self.report(f"{what} must be {kind.described}; this is {node.kind.described}", span)

    def promote(self, node: ir.Node, kind: Kind) -> ir.Node:
        if node.kind == kind:
            return node
        return ir.Promote(kind, node.span, node.per_pixel, node.animated, operand=node)

    # ── calls ──────────────────────────────────────────────────────────────────────────────────
    def call(self, node: ast.Call, scope: Scope, site: _Site) -> ir.Node:
        callee = node.callee
        if isinstance(callee, ast.Name):
            target = scope.lookup(callee.name) or self.builtins.get(callee.name)
            if target is None:
                self.unknown_name(callee.name, callee.span, scope)
        elif isinstance(callee, ast.Member):
            target = self.module_member(callee, scope)
        else:
            target = None
        label = getattr(callee, "name", "this")
        if isinstance(target, Builtin):
            return self.builtin_call(node, target, scope, site)
        if isinstance(target, FunctionDef):
            return self.function_call(node, target, scope, site)
        self.report(f"`{label}` is not a function", callee.span,
                    "only built-ins and functions made with `fn` can be called")

    def bind_arguments(self, node: ast.Call, name: str, param_names: list[str],
                       required: list[str], variadic: str | None = None) -> dict:
        """Arguments by parameter name, as Python binds them.

        A variadic parameter gets the list of the positionals left over after the parameters
        before it; parameters after it can only be given by keyword.
        """
        bound: dict = {}
        positional = [a for a in node.arguments if a.keyword is None]
        signature = f"`{name}({', '.join(('*' if p == variadic else '') + p for p in param_names)})`"
        by_position = param_names
        if variadic is not None:
            by_position = param_names[:param_names.index(variadic)]
            bound[variadic] = positional[len(by_position):]
            if variadic in required and not bound[variadic]:
                self.report(f"`{name}` needs at least one `{variadic}`", node.span,
                            f"the signature is {signature}")
            positional = positional[:len(by_position)]
        if len(positional) > len(by_position):
            self.report(f"`{name}` takes at most {len(by_position)} argument"
                        f"{'s' if len(by_position) != 1 else ''}, got {len(positional)}",
                        positional[len(by_position)].span, f"the signature is {signature}")
        by_keyword = [p for p in param_names if p != variadic]
        seen_keyword = False
        for argument in node.arguments:
            if argument.keyword is None:
                if seen_keyword:
                    self.report("a positional argument after a keyword argument", argument.span,
                                "put positional arguments first")
                if argument in positional:
                    bound[by_position[positional.index(argument)]] = argument
                continue
            seen_keyword = True
            if argument.keyword not in by_keyword:
                self.report(f"`{name}` has no parameter `{argument.keyword}`", argument.span,
                            self.suggest(argument.keyword, by_keyword) or f"the signature is {signature}")
            if argument.keyword in bound:
                self.report(f"`{argument.keyword}` is given twice", argument.span)
            bound[argument.keyword] = argument
        missing = [p for p in required if p not in bound]
        if missing:
            self.report(f"`{name}` is missing its argument{'s' if len(missing) > 1 else ''} "
                        + ", ".join(f"`{m}`" for m in missing), node.span,
                        f"the signature is {signature}")
        return bound

    def builtin_call(self, node: ast.Call, builtin: Builtin, scope: Scope, site: _Site) -> ir.Node:
        names = [p.name for p in builtin.params]
        variadic = next((p.name for p in builtin.params if p.variadic), None)
        bound = self.bind_arguments(node, builtin.name, names,
                                    [p.name for p in builtin.params if p.required], variadic)
        stream = site.next_stream(builtin.name) if builtin.random else None
        # (parameter, value node, span) for every value given or defaulted, variadic ones included
        given: list[tuple] = []
        for param in builtin.params:
            if param.variadic:
                given += [(param, self.expression(a.value, scope, site), a.span) for a in bound[param.name]]
                continue
            argument = bound.get(param.name)
            if argument is not None:
                given.append((param, self.expression(argument.value, scope, site), argument.span))
            elif param.default is not ABSENT:
                given.append((param, ir.Const(_default_kind(param), None, value=param.default), node.span))
        generic = None
        for param, value, span in given:
            if param.kind != Kind.GENERIC:
                continue
            if value.kind not in GENERIC_KINDS:
                self.report(f"argument `{param.name}` of `{builtin.name}` must be a number, vector or "
                            f"colour; this is {value.kind.described}", span)
            joined = value.kind if generic is None else join_kinds(generic, value.kind)
            if joined is None:
                self.report(f"the arguments of `{builtin.name}` mix {generic.described} and "
                            f"{value.kind.described}", span, "use the same kind for all of them")
            generic = joined
        checked = [(param, self.check_argument(builtin, param, value, generic, span))
                   for param, value, span in given]
        arguments = []
        for param in builtin.params:
            values = [value for owner, value in checked if owner is param]
            arguments.append(tuple(values) if param.variadic else (values[0] if values else None))
        present = ir.child_nodes(ir.BuiltinCall(Kind.NUM, None, arguments=tuple(arguments)))
        generic = generic or Kind.NUM          # no T argument given: T is a number
        returns = generic if builtin.returns == Kind.GENERIC else builtin.returns
        per_pixel = (builtin.per_pixel or any(a.per_pixel for a in present)) and \
            returns not in WHOLE_CANVAS          # `encode` reads a picture, gives one latent
        return ir.BuiltinCall(returns, node.span, per_pixel,
                              builtin.animated or any(a.animated for a in present),
                              builtin=builtin, arguments=tuple(arguments), generic_kind=generic,
                              stream=stream)

    def check_argument(self, builtin: Builtin, param, value: ir.Node, generic, span) -> ir.Node:
        wanted = generic if param.kind == Kind.GENERIC else param.kind
        where = f"argument `{param.name}` of `{builtin.name}`"
        if value.kind != wanted:
            if value.kind == Kind.NUM and wanted in PROMOTES_FROM_NUM:
                value = self.promote(value, wanted)
            else:
                hint = {(Kind.VEC2, Kind.NUM): "use one component (`p.x`) or `length(p)`",
                        (Kind.COLOR, Kind.NUM): "use one channel, e.g. `c.r`",
                        (Kind.NUM, Kind.STRING): "write it in double quotes"}.get((value.kind, wanted))
                self.report(f"{where} must be {wanted.described}; this is {value.kind.described}",
                            span, hint)
        if param.uniform and value.per_pixel:
            self.report(f"{where} must be the same for every pixel", span,
                        "use a number or a param here, not something that depends on uv or noise")
        if param.choices is not None and value.value not in param.choices:
            self.report(f"{where} must be one of " + ", ".join(f'"{c}"' for c in param.choices)
                        + f"; got \"{value.value}\"", span, self.suggest(value.value, param.choices))
        if param.path:
            resolved = self.files.resolve(value.value, Path(span.file).resolve(), value.span, builtin.name)
            value = ir.Const(Kind.STRING, value.span, value=str(resolved))
        if param.model:
            source = self.files.resolve_model(value.value, Path(span.file).resolve(), value.span)
            value = ir.Const(Kind.STRING, value.span, value=source)
        return value

    def function_call(self, node: ast.Call, function: FunctionDef, scope: Scope, site: _Site) -> ir.Node:
        statement = function.statement
        if id(statement) in self.function_stack:
            self.report(f"`{statement.name}` calls itself", node.span,
                        "recursion is not supported: every call is expanded over the whole canvas; "
                        "use a loop-free formula or a fixed number of nested calls",
                        notes=(Note(f"`{statement.name}` is defined here", statement.name_span),))
        self.check_call_limits(node, statement)
        names = [p.name for p in statement.params]
        bound = self.bind_arguments(node, statement.name, names,
                                    [p.name for p in statement.params if p.default is None])
        local = Scope(parent=function.scope)
        local.names[statement.name] = function
        for param in statement.params:
            argument = bound.get(param.name)
            if argument is not None:
                local.names[param.name] = self.expression(argument.value, scope, site)
            else:
                local.names[param.name] = self.expression(
                    param.default, function.scope,
                    _Site(f"{function.module}/{statement.name}/{param.name}=default"))
        inner = _Site(f"{function.module}/{statement.name}", calls=site.calls + (node.span,))
        self.function_stack.append(id(statement))
        try:
            defined = {p.name: p.span for p in statement.params}
            for let in statement.body.lets:
                if let.name in defined:
                    self.report(f"`{let.name}` is already defined in `{statement.name}`", let.name_span,
                                "choose another name", notes=(Note("first defined here", defined[let.name]),))
                defined[let.name] = let.name_span
                local.names[let.name] = self.expression(let.value, local, inner)
            return self.expression(statement.body.result, local, inner)
        finally:
            self.function_stack.pop()


    def check_call_limits(self, node: ast.Call, statement) -> None:
        """Refuse calls nested deeper than the call-depth limit, and a sketch whose calls expand
        to more than the inlined-calls limit (reported once: the rest of the sketch stops)."""
        limits = self.files.limits
        self.inlined_calls += 1
        if self.inlined_calls == limits.max_inlined_calls + 1:
            self.report(f"the sketch's function calls expand to more than "
                        f"{limits.max_inlined_calls:,} calls", node.span,
                        "every call is expanded over the whole canvas, so a function that calls "
                        "another twice, nested deep, grows exponentially; compute a value once with "
                        "`let` and reuse it, or raise the limit: --limit inlined-calls=N",
                        label="the call past the limit")
        if self.inlined_calls > limits.max_inlined_calls:
            raise _Reported
        if len(self.function_stack) >= limits.max_call_depth:
            self.report(f"function calls nest more than {limits.max_call_depth} deep (here "
                        f"`{statement.name}`)", node.span,
                        "flatten the chain of functions, or raise the limit: --limit call-depth=N",
                        label="one call too deep")


def _default_kind(param) -> Kind:
    if param.kind == Kind.GENERIC:
        return Kind.NUM
    return param.kind


def _flags(*nodes: ir.Node) -> tuple[bool, bool]:
    return any(n.per_pixel for n in nodes), any(n.animated for n in nodes)


def check(loaded: LoadedModules, files: ProjectFiles, builtins: dict) -> ir.Program:
    """Check a loaded sketch against `builtins` (the schema's table, `artlang.builtins.load_all()`)
    and build its typed graph; raises `ArtError` listing every problem."""
    return Checker(loaded, files, builtins).check_program()
