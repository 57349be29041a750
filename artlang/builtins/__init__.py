"""The implementations of the built-ins: each module registers its records into the schema's
`BUILTINS` (`artlang.language.schema`) as it is imported.

`load_all()` imports them all and returns the complete table, which the runtime hands the checker
(the language itself never imports the implementations, or numpy).
"""
import importlib

from artlang.language.schema import BUILTINS, Builtin, BuiltinValue, Param  # noqa: F401

_MODULES = ("values", "math", "easing", "colour", "noise", "shapes", "space", "images", "filters",
            "compose", "models")


def load_all() -> dict:
    """Import every implementation module so the table is complete, and return it."""
    for module in _MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return BUILTINS
