"""The built-in table: importing this package registers every built-in into `BUILTINS`.

The checker imports only `table` (no numpy); `load_all()` imports the implementations.
"""
from artlang.language.schema import BUILTINS, Builtin, BuiltinValue, Param  # noqa: F401

_MODULES = ("values", "math", "easing", "colour", "noise", "shapes", "space", "images", "filters",
            "compose", "models")


def load_all() -> dict:
    """Import every implementation module so the table is complete, and return it."""
    import importlib
    for module in _MODULES:
        importlib.import_module(f"{__name__}.{module}")
    return BUILTINS
