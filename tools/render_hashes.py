"""The bytes every sketch, stdlib module and test `.art` file renders to, as one hash each: run it
before and after a change that must not change behaviour (a move of modules, say) and compare.

    .venv/bin/python tools/render_hashes.py > before.txt
    ... the change ...
    .venv/bin/python tools/render_hashes.py | diff before.txt -

Each file is rendered through the command line at 48x48 (frames 0 and 5), in-process; a file that fails prints the hash of its error message instead, so a
changed message shows too. The files' folder is the project root, the working folder the repo's.
"""
from __future__ import annotations

import hashlib
import io
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("sketches", "stdlib", "tests")


def outcome(sketch: Path, output: Path, *options: str) -> str:
    from artlang.cli import main
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["render", str(sketch), "-o", str(output), "--size", "48x48", *options])
        except SystemExit as exit_:
            code = exit_.code
    if code == 0:
        return hashlib.sha256(output.read_bytes()).hexdigest()[:16]
    return f"exit {code} " + hashlib.sha256(err.getvalue().encode()).hexdigest()[:16]


def main() -> int:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as folder:
        for sketch in sorted(p for name in FOLDERS for p in (ROOT / name).rglob("*.art")):
            output = Path(folder) / "out.png"
            first = outcome(sketch, output)
            later = outcome(sketch, output, "--frame", "5")    # an error where there is no frame 5
            print(f"{sketch.relative_to(ROOT).as_posix()} {first} {later}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
