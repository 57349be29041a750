"""One harness for tests/lang/**/*.art: each file carries its expectations in comments.

Directives (one per comment line, `# name: value`):
  # args: --seed 3 --param k=2      extra command-line arguments for `artlang render`
  # exit: 2                         expected exit code (default 0, or 1 when an `error:` is given)
  # error: 3:9 unknown name `fmb`   a diagnostic at line:col whose message contains the text
  # hint: did you mean `fbm`?       text that must appear in the output's hints
  # stderr: some text               text that must appear in what the command printed
  # pixel X Y: #rrggbb ±N           the 8-bit pixel at column X, row Y (alpha too if #rrggbbaa)
  # mean: 0.5 ±0.02                 mean of r, g, b over the image, in 0..1 (`mean r:` for one channel)
  # std: 0.1 ±0.02                  standard deviation of r, g, b over the image
Files under a folder named `lib` are modules imported by tests, not tests themselves.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli

LANG = Path(__file__).parent / "lang"
DIRECTIVE = re.compile(r"^#\s*(args|exit|error|hint|stderr|pixel [0-9]+ [0-9]+|mean(?: [rgba])?|std):\s*(.*)$")
TOLERANCE = re.compile(r"^(.*?)\s*±\s*([0-9.]+)\s*$")
CHANNELS = {"r": 0, "g": 1, "b": 2, "a": 3}


def lang_files() -> list[Path]:
    return sorted(p for p in LANG.rglob("*.art") if "lib" not in p.relative_to(LANG).parts)


def directives(path: Path) -> list[tuple[str, str]]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        match = DIRECTIVE.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2).strip()))
    return found


def split_tolerance(text: str, default: float) -> tuple[str, float]:
    match = TOLERANCE.match(text)
    return (match.group(1), float(match.group(2))) if match else (text, default)


@pytest.mark.parametrize("path", lang_files(), ids=lambda p: str(p.relative_to(LANG)))
def test_lang_file(path: Path, tmp_path: Path):
    expected = directives(path)
    assert expected, f"{path} has no expectations"
    arguments = []
    for name, value in expected:
        if name == "args":
            arguments += shlex.split(value)
    output = tmp_path / "out.png"
    result = run_cli("render", path, "-o", output, *arguments)
    printed = result.stdout + result.stderr
    errors = [value for name, value in expected if name == "error"]
    exit_code = next((int(v) for n, v in expected if n == "exit"), 1 if errors else 0)
    assert result.code == exit_code, f"exit {result.code}, expected {exit_code}:\n{printed}"

    for text in errors:
        location, message = text.split(" ", 1)
        pattern = f"{path.name}:{location}: error: "
        lines = [line for line in printed.splitlines() if pattern in line]
        assert lines, f"no error at {location}:\n{printed}"
        assert any(message in line for line in lines), f"error at {location} is not {message!r}:\n{printed}"
    if errors:
        reported = len(re.findall(r": error: ", printed))
        assert reported == len(errors), f"{reported} errors reported, {len(errors)} expected:\n{printed}"
    for name, value in expected:
        if name == "hint":
            assert f"hint: {value}" in printed, f"missing hint {value!r}:\n{printed}"
        if name == "stderr":
            assert value in printed, f"missing {value!r}:\n{printed}"
    checks = [(n, v) for n, v in expected if n.split()[0] in ("pixel", "mean", "std")]
    if not checks:
        return
    with Image.open(output) as opened:
        pixels = np.asarray(opened.convert("RGBA")).astype(np.float64)
    for name, value in checks:
        if name.startswith("pixel"):
            _, x, y = name.split()
            colour, tolerance = split_tolerance(value, 1)
            want = bytes.fromhex(colour.lstrip("#"))
            got = pixels[int(y), int(x), :len(want)]
            assert np.all(np.abs(got - np.array(list(want))) <= tolerance), \
                f"pixel {x},{y} is {got}, expected {list(want)} ±{tolerance}"
            continue
        target, tolerance = split_tolerance(value, 0.01)
        parts = name.split()
        channel = pixels[..., CHANNELS[parts[1]]] if len(parts) > 1 else pixels[..., :3]
        statistic = (np.mean if parts[0] == "mean" else np.std)(channel / 255.0)
        assert abs(statistic - float(target)) <= tolerance, \
            f"{name} is {statistic:.4f}, expected {target} ±{tolerance}"
