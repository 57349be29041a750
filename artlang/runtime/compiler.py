"""The compiler: turns the checked graph (ir.py) into a plan of closures over whole numpy arrays.

Every node gets a structural key (a hash of what it computes, params and stream seeds included).
Nodes that do not change with time are cached by that key across frames (and, when the caller
keeps the cache, across re-renders of an edited sketch); nodes used twice are computed once per
frame. Constant subtrees are folded when the plan is built.

Drawn in tiles (a context whose region is part of the canvas), a built-in that reads its picture
beyond each pixel (its record's `neighbourhood`) is computed over its region grown by its reach and cut
back, so every tile gets exactly the bytes of the whole canvas; on the whole canvas nothing changes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from artlang.language import ir
from artlang.language.kinds import PROMOTES_FROM_NUM, Kind
from artlang.kernels.blend import composite, composite_onto_empty
from artlang.runtime.context import FrameContext
from artlang.kernels.region import Region
from artlang.core.errors import RUNTIME, USAGE, ArtError, Diagnostic, error

F32 = np.float32
HUGE = 1e30          # what an infinite value becomes before compositing (the writer clips it to 1)
Evaluator = Callable[[FrameContext], np.ndarray]
_FOLDABLE = (ir.Arithmetic, ir.Comparison, ir.Logic, ir.Negate, ir.Select, ir.Component, ir.Promote,
             ir.ListValue)
_EXPENSIVE = (ir.BuiltinCall, ir.Select)


def as_array(value, kind: Kind):
    """A literal (float, tuple, bool) as the array artlang uses for its kind."""
    if kind == Kind.STRING:
        return value
    if kind == Kind.BOOL:
        return np.asarray(value, dtype=bool)
    with np.errstate(over="ignore"):          # a literal beyond float32 is infinite, silently
        return np.asarray(value, dtype=F32)


def _expand(value, own_kind: Kind, kind: Kind):
    """Give a number a trailing axis so it broadcasts against a vector or colour."""
    if own_kind == Kind.NUM and kind in PROMOTES_FROM_NUM:
        return np.asarray(value)[..., None]
    return value


def _arithmetic(operator: str):
    return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "%": np.mod,
            "**": np.power}[operator]


def _comparison(operator: str):
    return {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal,
            ">": np.greater, ">=": np.greater_equal}[operator]


def located(failure: ArtError, span) -> ArtError:
    """The failure with the call's span on every diagnostic that has none."""
    failure.diagnostics = [d if d.span is not None else
                           Diagnostic(d.message, span, d.hint, d.label, d.notes, d.severity)
                           for d in failure.diagnostics]
    return failure


def promote(value, kind: Kind):
    """A number as a vec2 (both components) or a colour (gray, alpha 1)."""
    value = np.asarray(value, dtype=F32)
    if kind == Kind.VEC2:
        return np.stack([value, value], axis=-1)
    return np.stack([value, value, value, np.ones_like(value)], axis=-1)


def combine_colour(operation, left, right, left_kind: Kind, right_kind: Kind):
    """Arithmetic on colours works on r, g, b; the alpha of the (left) colour is kept."""
    alpha = left[..., 3:] if left_kind == Kind.COLOR else right[..., 3:]
    lhs = left[..., :3] if left_kind == Kind.COLOR else np.asarray(left)[..., None]
    rhs = right[..., :3] if right_kind == Kind.COLOR else np.asarray(right)[..., None]
    rgb = operation(lhs, rhs)
    shape = np.broadcast_shapes(rgb.shape[:-1], alpha.shape[:-1])
    return np.concatenate([np.broadcast_to(rgb, shape + (3,)), np.broadcast_to(alpha, shape + (1,))],
                          axis=-1).astype(F32)


def neighbourhood_of(node: ir.Node):
    """(spec, picture argument) when the node reads its picture beyond each pixel, else None
    (a flat picture, where every pixel sees the same, counts as pointwise)."""
    if not isinstance(node, ir.BuiltinCall):
        return None
    spec = node.builtin.neighbourhood
    if spec is None:
        return None
    names = [param.name for param in node.builtin.params]
    picture = node.arguments[names.index(spec.picture)]
    if picture is None or not picture.per_pixel:
        return None
    return spec, picture


def finite(values: np.ndarray) -> np.ndarray:
    """NaN as 0 and infinities as +-HUGE (checking first: most layers have neither)."""
    if np.isfinite(values).all():
        return values
    return np.nan_to_num(values, nan=0.0, posinf=HUGE, neginf=-HUGE)


def cut(value, outer: Region, inner: Region):
    """The part of a field computed over `outer` that lies in `inner`, as its own (contiguous) array,
    so later arithmetic runs on the same memory layout as on the whole canvas. A value that is the
    same everywhere is returned as it is."""
    value = np.asarray(value)
    if value.ndim < 2 or value.shape[:2] != (outer.height, outer.width):
        return value
    top, left = inner.y0 - outer.y0, inner.x0 - outer.x0
    return np.ascontiguousarray(value[top:top + inner.height, left:left + inner.width])


def not_tileable(node: ir.BuiltinCall) -> ArtError:
    """The error for a built-in that reads pixels from anywhere, met while drawing in tiles."""
    name = node.builtin.name
    return error(f"`{name}` reads its picture at any distance, so this sketch cannot be drawn in "
                 "tiles", node.span, stage=USAGE, label="reads pixels from anywhere",
                 hint=f"render at most --max-pixels pixels (one piece), or replace `{name}` by "
                      "filters with a fixed reach (blur, sharpen, edges, convolve)")


@dataclass
class Plan:
    """A compiled sketch: call `render_frame(context)` for an RGBA float32 image of the region."""
    layers: list[tuple[Evaluator, str, Evaluator | None]]
    keys: dict[int, str]
    evaluators: dict[int, Evaluator] = None     # id(node) -> its evaluator (for tiles.py's planning)

    def render_frame(self, context: FrameContext) -> np.ndarray:
        region = context.region
        shape = (region.height, region.width, 4)
        image = None
        with np.errstate(all="ignore"):
            try:
                for evaluate, mode, opacity in self.layers:
                    layer = finite(np.asarray(evaluate(context), dtype=F32))
                    amount = 1.0 if opacity is None else opacity(context)
                    layer = np.broadcast_to(layer, shape)
                    image = composite_onto_empty(layer, amount) if image is None else \
                        composite(image, layer, mode, amount)
            except RecursionError:          # each node's value is computed from its operands' in turn
                raise error("the sketch nests too deeply to draw: its lets and functions build on each "
                            "other more levels deep than Python's recursion allows", stage=RUNTIME,
                            hint="shorten the chain: a let that uses the one before is one level deeper; "
                                 "combine steps, or group `a + b + c + ...` as `(a + b) + (c + d)`") from None
        return np.zeros(shape, F32) if image is None else np.broadcast_to(image, shape)


class Compiler:
    def __init__(self, program: ir.Program, param_values: dict):
        self.program = program
        self.param_values = param_values
        self.compiled: dict[int, Evaluator] = {}
        self.keys: dict[int, str] = {}
        self.uses: dict[int, int] = {}
        self.folded: set[int] = set()

    # structural keys ─────────────────────────────────────────────────────────────────────────────
    def key(self, node: ir.Node) -> str:
        cached = self.keys.get(id(node))
        if cached is not None:
            return cached
        parts = [type(node).__name__, node.kind]
        match node:
            case ir.Const(value=value):
                parts.append(repr(value))
            case ir.BuiltinValueRef(builtin=builtin):
                parts.append(builtin.name)
            case ir.ParamRef(name=name):
                parts += [name, repr(self.param_values[name])]
            case ir.BuiltinCall():
                parts += [node.builtin.name, node.generic_kind, node.stream]
                for argument in node.arguments:
                    if isinstance(argument, tuple):
                        parts.append("(" + ",".join(self.key(a) for a in argument) + ")")
                    else:
                        parts.append("-" if argument is None else self.key(argument))
            case ir.Component(index=index):
                parts += [str(index), self.key(node.target)]
            case _:
                parts += [getattr(node, "operator", "")] + [self.key(c) for c in ir.child_nodes(node)]
        digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12).hexdigest()
        self.keys[id(node)] = digest
        return digest

    def count_uses(self, roots: list[ir.Node], order: list[ir.Node]) -> None:
        """How often each node is used: as a root, and by each node that has it as an operand."""
        for node in roots + [child for parent in order for child in ir.child_nodes(parent)]:
            self.uses[id(node)] = self.uses.get(id(node), 0) + 1

    # compiling ───────────────────────────────────────────────────────────────────────────────────
    def compile(self, node: ir.Node) -> Evaluator:
        found = self.compiled.get(id(node))
        if found is None:
            found = self.cached(node, self.build(node))
            self.compiled[id(node)] = found
        return found

    def cached(self, node: ir.Node, evaluate: Evaluator) -> Evaluator:
        """Memoise nodes that are costly or shared: across frames if time-invariant, else per frame."""
        if id(node) in self.folded or not (isinstance(node, _EXPENSIVE) or self.uses.get(id(node), 0) > 1):
            return evaluate
        key = self.key(node)
        if not node.animated:
            def across_frames(context: FrameContext):
                slot = (key, context.cache_scope)
                value = context.caches.across_frames.get(slot)
                if value is None:
                    value = context.caches.across_frames[slot] = evaluate(context)
                return value
            return across_frames

        def per_frame(context: FrameContext):
            value = context.caches.this_frame.get(key)
            if value is None:
                value = context.caches.this_frame[key] = evaluate(context)
            return value
        return per_frame

    def build(self, node: ir.Node) -> Evaluator:
        evaluate = self.build_unfolded(node)
        children = ir.child_nodes(node)
        if isinstance(node, _FOLDABLE) and children and all(id(c) in self.folded for c in children):
            with np.errstate(all="ignore"):
                value = evaluate(None)
            self.folded.add(id(node))
            return lambda context: value
        return evaluate

    def build_unfolded(self, node: ir.Node) -> Evaluator:
        match node:
            case ir.Const(value=value, kind=kind):
                constant = as_array(value, kind)
                self.folded.add(id(node))
                return lambda context: constant
            case ir.ParamRef(name=name, kind=kind):
                value = as_array(self.param_values[name], kind)
                return lambda context: value
            case ir.BuiltinValueRef(builtin=builtin):
                return builtin.compute
            case ir.BuiltinCall():
                return self.build_call(node)
            case ir.Arithmetic():
                return self.build_arithmetic(node)
            case ir.Comparison(operator=operator):
                compare, left, right = _comparison(operator), self.compile(node.left), self.compile(node.right)
                return lambda context: compare(left(context), right(context))
            case ir.Logic(operator="not"):
                operand = self.compile(node.left)
                return lambda context: np.logical_not(operand(context))
            case ir.Logic(operator=operator):
                combine = np.logical_and if operator == "and" else np.logical_or
                left, right = self.compile(node.left), self.compile(node.right)
                return lambda context: combine(left(context), right(context))
            case ir.Negate():
                operand, kind = self.compile(node.operand), node.kind
                if kind == Kind.COLOR:
                    return lambda context: combine_colour(lambda a, b: -a, operand(context), 0,
                                                          Kind.COLOR, Kind.NUM)
                return lambda context: np.negative(operand(context))
            case ir.Select():
                return self.build_select(node)
            case ir.Component(index=index):
                target = self.compile(node.target)
                return lambda context: target(context)[..., index]
            case ir.Promote(kind=kind):
                operand = self.compile(node.operand)
                return lambda context: promote(operand(context), kind)
            case ir.ListValue(items=items):
                compiled = [self.compile(item) for item in items]
                return lambda context: np.stack([np.asarray(f(context), F32) for f in compiled])
        raise AssertionError(f"cannot compile {type(node).__name__}")

    def build_arithmetic(self, node: ir.Arithmetic) -> Evaluator:
        operation = _arithmetic(node.operator)
        left, right = self.compile(node.left), self.compile(node.right)
        left_kind, right_kind, kind = node.left.kind, node.right.kind, node.kind
        if kind == Kind.COLOR:
            return lambda context: combine_colour(operation, left(context), right(context),
                                                  left_kind, right_kind)
        return lambda context: np.asarray(operation(_expand(left(context), left_kind, kind),
                                                    _expand(right(context), right_kind, kind)), F32)

    def build_select(self, node: ir.Select) -> Evaluator:
        condition, then, otherwise = (self.compile(n) for n in (node.condition, node.then, node.otherwise))
        then_kind, otherwise_kind, kind = node.then.kind, node.otherwise.kind, node.kind

        def select(context):
            a, b = then(context), otherwise(context)
            if then_kind != kind:
                a = promote(a, kind)
            if otherwise_kind != kind:
                b = promote(b, kind)
            c = condition(context)
            return np.where(_expand(c, Kind.NUM, kind), a, b).astype(F32)
        return select

    def build_call(self, node: ir.BuiltinCall) -> Evaluator:
        builtin = node.builtin
        generic = node.generic_kind
        rgb_only = generic == Kind.COLOR and builtin.returns == Kind.GENERIC and builtin.keeps_alpha
        expand = generic in PROMOTES_FROM_NUM and builtin.returns == Kind.GENERIC
        implementation, stream = builtin.implementation, node.stream
        alpha_from = []                     # evaluators whose alpha the result keeps (rgb_only)

        def prepare(param, argument: ir.Node | None) -> Evaluator | None:
            """The evaluator of one argument, shaped as the implementation wants it."""
            if argument is None:
                return None
            evaluate = self.compile(argument)
            if param.kind == Kind.GENERIC and rgb_only:
                alpha_from.append(evaluate)
                return lambda context: evaluate(context)[..., :3]
            if expand and argument.kind == Kind.NUM:
                return lambda context: np.asarray(evaluate(context))[..., None]
            return evaluate

        prepared = []
        for param, argument in zip(builtin.params, node.arguments):
            if param.variadic:
                many = [prepare(param, a) for a in argument]
                prepared.append(lambda context, many=many: [f(context) for f in many])
            else:
                one = prepare(param, argument)
                prepared.append((lambda context: None) if one is None else one)
        leading = (stream,) if stream is not None else ()

        def call(context):
            arguments = [f(context) for f in prepared]
            extra = {}
            if builtin.lookahead:              # its arguments at an upcoming frame (batching)
                extra["later"] = lambda frame: [f(context.for_frame(frame)) for f in prepared]
            try:
                context.check_cancelled()      # after the arguments: just before the costly part
                result = implementation(context, *leading, *arguments, **extra)
            except ArtError as failure:
                raise located(failure, node.span) from None
            if rgb_only:
                alpha = alpha_from[0](context)[..., 3:]
                shape = np.broadcast_shapes(result.shape[:-1], alpha.shape[:-1])
                result = np.concatenate([np.broadcast_to(result, shape + (3,)),
                                         np.broadcast_to(alpha, shape + (1,))], axis=-1)
            return result
        return self.neighbourhood(node, call, prepared) or call

    def neighbourhood(self, node: ir.BuiltinCall, call: Evaluator, prepared: list) -> Evaluator | None:
        """For a built-in that reads its picture beyond each pixel: an evaluator that, on a tile,
        computes it over the tile grown by its reach (the canvas's edge stops the growth, so the
        filter mirrors there as on the whole canvas) and keeps the tile. None for other calls."""
        found = neighbourhood_of(node)
        if found is None:
            return None
        spec, _ = found
        names = [param.name for param in node.builtin.params]
        others = [(name, evaluate) for name, evaluate in zip(names, prepared) if name != spec.picture]
        reach = spec.reach

        def in_tiles(context: FrameContext):
            if context.whole:
                return call(context)
            if reach is None:
                raise not_tileable(node)
            wider = context.around(reach(context, **{name: f(context) for name, f in others}))
            if wider is context:
                return call(context)
            return cut(call(wider), wider.region, context.region)
        return in_tiles

    def compile_program(self) -> Plan:
        output = self.program.output
        roots = [item.node for item in output] + \
            [item.opacity for item in output if item.opacity is not None]
        order = ir.post_order(roots)
        self.count_uses(roots, order)
        for node in order:          # children first, so neither keying nor compiling recurses deep
            self.key(node)
            self.compile(node)
        layers = [(self.compile(item.node), item.mode,
                   None if item.opacity is None else self.compile(item.opacity))
                  for item in self.program.output]
        return Plan(layers, self.keys, self.compiled)


def compile_program(program: ir.Program, param_values: dict) -> Plan:
    """Build the plan of a checked program with its params bound."""
    return Compiler(program, param_values).compile_program()
