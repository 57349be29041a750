"""`python -m artlang` is the `artlang` command."""
from artlang.cli import run

run()
