"""The kinds of value: one closed set, and the groupings the checker and compiler read.

A `Kind` is a `StrEnum`: `Kind.NUM == "num"` and it formats as "num", so signatures, messages and
structural hashes read the same as plain names would. Each kind carries the words messages use for
it (`Kind.COLOR.described` is "a colour"). A built-in's record names its kinds as text ("num",
"T") and `declared` turns the text into a `Kind` when the built-in is declared, so a misspelt
kind fails at import, not in a user's sketch.
"""
from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    described: str

    def __new__(cls, value: str, described: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.described = described
        return member

    NUM = "num", "a number"                 # a number, or a field of numbers over the canvas
    VEC2 = "vec2", "a 2-vector"
    COLOR = "color", "a colour"             # RGBA, floats in 0..1
    BOOL = "bool", "a condition"
    STRING = "string", "a string"           # only as an argument: a file name, a choice
    LIST = "list", "a list"                 # numbers, or equal-length lists of numbers, flat
    MODEL = "model", "a model"              # a GAN or VAE, from `model`
    LATENT = "latent", "a latent"           # a model's input vector, flat; adds, subtracts, scales
    GENERIC = "T", "a number, vector or colour"   # in a signature: the same kind for every T parameter
    ERROR = "error", "a value that failed to check"   # a name whose definition was reported


# A value's kind, as a sketch computes it (what the reference lists).
VALUE_KINDS = frozenset({Kind.NUM, Kind.VEC2, Kind.COLOR, Kind.BOOL, Kind.STRING, Kind.LIST,
                         Kind.MODEL, Kind.LATENT})
# What a built-in's parameters and result may be declared as.
DECLARABLE = VALUE_KINDS | {Kind.GENERIC}
# What a T parameter may be.
GENERIC_KINDS = frozenset({Kind.NUM, Kind.VEC2, Kind.COLOR})
# What adds, subtracts and scales (latents like vectors).
ARITHMETIC = GENERIC_KINDS | {Kind.LATENT}
# One value for the whole canvas, never per pixel.
WHOLE_CANVAS = frozenset({Kind.MODEL, Kind.LATENT})
# The components of the kinds that have them; a number promotes to these (splat / gray).
COMPONENTS = {Kind.VEC2: {"x": 0, "y": 1}, Kind.COLOR: {"r": 0, "g": 1, "b": 2, "a": 3}}
PROMOTES_FROM_NUM = frozenset(COMPONENTS)


def join_kinds(a: Kind, b: Kind) -> Kind | None:
    """The kind two operands meet at: a number joins anything arithmetic; vec2 and colour do not mix."""
    if a == b:
        return a
    if a == Kind.NUM and b in ARITHMETIC:
        return b
    if b == Kind.NUM and a in ARITHMETIC:
        return a
    return None


def in_order(kinds: frozenset[Kind]) -> tuple[Kind, ...]:
    """A grouping in the order the kinds are declared above (for listings and reproducible draws)."""
    return tuple(kind for kind in Kind if kind in kinds)


def declared(text: str, where: str, allowed: frozenset[Kind] = DECLARABLE) -> Kind:
    """The kind a built-in declares as `text`; a ValueError naming `where` if it is not allowed."""
    if text not in allowed:
        raise ValueError(f"{where}: unknown kind {text!r}; the kinds are " + ", ".join(in_order(allowed)))
    return Kind(text)
