"""A sketch full of mistakes is checked in time linear in its length (issue 13, point 5).

Every `let aK = zzK` below names an unknown `zzK` and defines one more name a suggestion could
point at, so a checker that compares every unknown name with every defined one is quadratic.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

SUMMARY = re.compile(r"^([\d,]+) errors: the first (\d+) are shown, ([\d,]+) more are not$", re.M)


def unknown_names_sketch(folder: Path, count: int) -> Path:
    path = folder / f"unknown-{count}.art"
    lines = [f"let a{k} = zz{k}" for k in range(count)] + ["output fill(circle(uv, 0.5))"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def number(text: str) -> int:
    return int(text.replace(",", ""))


def check_within(sketch: Path, limit: float) -> subprocess.CompletedProcess:
    """`artlang check SKETCH` in a fresh process, failing the test if it runs past `limit` seconds."""
    try:
        return subprocess.run([sys.executable, "-m", "artlang", "check", str(sketch)], cwd=ROOT,
                              capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"checking {sketch.name} took more than {limit} s")


def test_twenty_thousand_unknown_names_check_in_seconds_and_the_rest_are_counted(tmp_path):
    result = check_within(unknown_names_sketch(tmp_path, 20_000), limit=10)   # ~2 s here
    assert result.returncode == 1
    summary = SUMMARY.search(result.stderr)
    assert summary, result.stderr[-500:]
    total, shown, more = (number(g) for g in summary.groups())
    assert total == 20_000 and shown + more == total and 0 < shown <= 100
    assert result.stderr.count("unknown name `zz") == shown


def test_misspelt_names_after_ten_thousand_definitions_still_get_suggestions_quickly(tmp_path):
    sketch = tmp_path / "misspelt.art"
    lines = [f"let a{k} = {k}" for k in range(10_000)] + [f"let b{k} = aa{k}" for k in range(10_000)]
    sketch.write_text("\n".join(lines + ["output fill(circle(uv, 0.5))"]) + "\n", encoding="utf-8")
    result = check_within(sketch, limit=10)                                   # ~2 s here
    assert result.returncode == 1 and "10,000 errors" in result.stderr
    assert "unknown name `aa0`" in result.stderr and "did you mean `a0`" in result.stderr


def seconds_to_check(sketch: Path) -> float:
    """How long `artlang check SKETCH` takes in process (parse, check and print)."""
    started = time.perf_counter()
    assert run_cli("check", sketch).code == 1
    return time.perf_counter() - started


def test_checking_four_times_the_unknown_names_takes_about_four_times_as_long(tmp_path):
    run_cli("check", unknown_names_sketch(tmp_path, 10))       # builds the parser once
    small_sketch, large_sketch = (unknown_names_sketch(tmp_path, n) for n in (2_000, 8_000))
    small = min(seconds_to_check(small_sketch) for _ in range(2))
    large = seconds_to_check(large_sketch)
    if 8 * small <= large < 16 * small:                         # a busy moment, or quadratic?
        large = min(large, seconds_to_check(large_sketch))
    assert large < 8 * small, f"2,000 lines: {small:.2f} s, 8,000 lines: {large:.2f} s"


def test_quoting_every_line_of_a_long_file_takes_well_under_a_second():
    """The warnings of a sketch with thousands of unused layers each quote a line of the same file."""
    from artlang.core.errors import SourceCache

    sources = SourceCache()
    sources.add("long.art", "\n".join(f"let a{k} = {k}" for k in range(10_000)))
    started = time.perf_counter()
    assert all(sources.line("long.art", k + 1) == f"let a{k} = {k}" for k in range(10_000))
    assert time.perf_counter() - started < 0.5             # ~2 ms here; splitting it each time: ~3 s
