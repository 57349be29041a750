"""`python -m artlang` is the `artlang` command."""
from .cli import run

run()
