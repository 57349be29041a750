"""Resource limits and confinement, at the scale that would hurt without them.

docs/errors.md (tests/test_errors_catalogue.py) shows each limit's message at a small setting;
these tests show each one holds at its default, from the environment, and before the work starts.
"""
from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import pytest

from artlang.core.errors import ArtError
from artlang.core.limits import Limits
from artlang.runtime.render import Renderer, load_sketch


def write(folder: Path, text: str, name: str = "sketch.art") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def failure(action) -> ArtError:
    with pytest.raises(ArtError) as caught:
        action()
    return caught.value


def png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that claims width x height pixels of 8-bit RGBA but holds almost no data: what a
    decompression bomb looks like until it is decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


# ── each limit at its default ────────────────────────────────────────────────────────────────

def test_a_chain_of_functions_deeper_than_the_limit_is_a_clear_error(tmp_path):
    functions = "".join(f"fn f{i}(x) = f{i - 1}(x) + 1\n" for i in range(1, 200))
    sketch = write(tmp_path, "fn f0(x) = x\n" + functions + "output f199(uv.x)\n")
    message = str(failure(lambda: load_sketch(sketch)))
    assert "function calls nest more than 64 deep" in message


def test_calls_that_double_at_each_level_stop_at_the_limit_not_after_two_to_the_forty(tmp_path):
    functions = "".join(f"fn f{i}(x) = f{i - 1}(x) + f{i - 1}(x * 2)\n" for i in range(1, 41))
    sketch = write(tmp_path, "fn f0(x) = sin(x)\n" + functions + "output f40(uv.x)\n")
    error = failure(lambda: load_sketch(sketch, limits=Limits(max_inlined_calls=2_000)))
    assert "expand to more than 2,000 calls" in str(error) and len(error.diagnostics) == 1


def test_imports_deeper_than_the_limit_are_a_clear_error(tmp_path):
    for i in range(60):
        write(tmp_path, f'import "m{i + 1}.art"\nlet v = m{i + 1}.v\n', f"m{i}.art")
    write(tmp_path, "let v = 1\n", "m60.art")
    sketch = write(tmp_path, 'import "m0.art"\noutput m0.v\n')
    assert "imports nest more than 32 modules deep" in str(failure(lambda: load_sketch(sketch)))


def test_an_image_bomb_is_refused_from_its_header_before_any_decoding(tmp_path):
    png_header_only(tmp_path / "bomb.png", 30_000, 30_000)       # 3.6 GB once decoded
    sketch = write(tmp_path, 'canvas 8 x 8\noutput image("bomb.png")\n')
    renderer = Renderer(load_sketch(sketch))
    message = str(failure(lambda: renderer.render()))
    assert "900,000,000 pixels, over the limit of 100,000,000" in message


def test_an_image_under_pillows_own_limit_but_over_ours_is_refused(tmp_path):
    png_header_only(tmp_path / "wide.png", 12_000, 10_000)     # Pillow only warns at this size
    sketch = write(tmp_path, 'canvas 8 x 8\noutput image("wide.png")\n')
    message = str(failure(lambda: Renderer(load_sketch(sketch)).render()))
    assert "12000 x 10000 pixels, over the limit of 100,000,000" in message


def test_a_frame_past_its_time_budget_stops_between_calls(tmp_path):
    sketch = write(tmp_path, "canvas 256 x 256\n" + "".join(
        f"let b{i} = blur(fill(circle(uv, 0.{i + 1})), radius=8)\n" for i in range(8))
        + "output b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7\n")
    renderer = Renderer(load_sketch(sketch), limits=Limits(max_frame_seconds=0.01))
    started = time.monotonic()
    error = failure(renderer.render)
    assert "took longer than the limit of 0.01 s" in str(error) and error.stage == "runtime"
    assert error.diagnostics[0].span is not None                 # the call it stopped before
    assert time.monotonic() - started < 5


def test_a_tiled_render_checks_the_budget_of_each_tile(tmp_path):
    from artlang.runtime.tiles import TiledRenderer
    sketch = write(tmp_path, "canvas 512 x 512\noutput fbm(uv * 4, octaves=8)\n")
    tiled = TiledRenderer(load_sketch(sketch), tile=64, limits=Limits(max_frame_seconds=1e-6))
    assert "took longer than the limit" in str(failure(lambda: list(tiled.bands(0))))


def test_frames_over_the_limit_are_refused_before_the_first_is_drawn(tmp_path):
    sketch = write(tmp_path, "canvas 8 x 8\nframes 1000\noutput t\n")
    error = failure(lambda: Renderer(load_sketch(sketch), limits=Limits(max_frames=999)))
    assert "`frames 1000` is over the limit of 999 frames" in str(error)


# ── where limits come from ───────────────────────────────────────────────────────────────────

def test_limits_come_from_the_environment_and_the_command_line(cli, tmp_path, monkeypatch):
    sketch = write(tmp_path, "canvas 8 x 8\nframes 50\noutput t\n")
    monkeypatch.setenv("ARTLANG_MAX_FRAMES", "20")
    result = cli("export", sketch, "-o", tmp_path / "anim.gif")
    assert result.code == 1 and "over the limit of 20 frames" in result.stderr
    result = cli("export", sketch, "-o", tmp_path / "anim.gif", "--limit", "frames=50")
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("value", ["many", "0", "-3", "nan", "inf"])
def test_a_bad_limit_value_is_a_usage_error(cli, tmp_path, monkeypatch, value):
    sketch = write(tmp_path, "canvas 8 x 8\noutput 1\n")
    result = cli("render", sketch, "--limit", f"call-depth={value}")
    assert result.code == 2 and "expected a positive" in result.stderr
    monkeypatch.setenv("ARTLANG_MAX_IMPORT_DEPTH", value)
    result = cli("render", sketch)
    assert result.code == 2 and "ARTLANG_MAX_IMPORT_DEPTH" in result.stderr
    assert "Traceback" not in result.stderr


def test_artlang_limits_lists_every_limit_with_its_value_here(cli, monkeypatch):
    monkeypatch.setenv("ARTLANG_MAX_FRAME_SECONDS", "42")
    result = cli("limits")
    assert result.code == 0
    for name in Limits.names():
        assert f"\n{name} " in result.stdout
    assert "42.0" in result.stdout and "$ARTLANG_MAX_FRAME_SECONDS" in result.stdout


def test_export_workers_keep_the_limits_of_the_command(cli, tmp_path):
    sketch = write(tmp_path, "canvas 64 x 64\nframes 4\noutput fbm(uv * 4 + vec(t, 0), octaves=8)\n")
    result = cli("export", sketch, "-o", tmp_path / "frames" / "f.png", "--workers", "2",
                 "--limit", "frame-seconds=0.000001")
    assert result.code == 3 and "took longer than the limit" in result.stderr


# ── confinement ──────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("reference", ['image("link/photo.png")', 'image("../secret/photo.png")',
                                       'image("sub/../../secret/photo.png")'])
def test_images_outside_the_project_are_refused_however_named(tmp_path, reference):
    from PIL import Image
    project, outside = tmp_path / "project", tmp_path / "secret"
    project.mkdir(), outside.mkdir(), (project / "sub").mkdir()
    Image.new("RGB", (2, 2)).save(outside / "photo.png")
    (project / "link").symlink_to(outside, target_is_directory=True)
    sketch = write(project, f"canvas 4 x 4\noutput {reference}\n")
    assert "leaves the project folder" in str(failure(lambda: load_sketch(sketch)))


def test_an_import_through_a_symlink_out_of_the_project_is_refused(tmp_path):
    project, outside = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir(), outside.mkdir()
    write(outside, "let v = 1\n", "lib.art")
    (project / "lib.art").symlink_to(outside / "lib.art")
    sketch = write(project, 'import "lib.art"\noutput lib.v\n')
    assert "leaves the project folder" in str(failure(lambda: load_sketch(sketch)))


def test_a_model_through_a_symlink_out_of_the_project_is_refused(tmp_path):
    project, outside = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir(), (outside / "mine").mkdir(parents=True)
    (project / "mine").symlink_to(outside / "mine", target_is_directory=True)
    sketch = write(project, 'let m = model("mine")\noutput decode(m, latent(m, 1))\n')
    assert "leaves the project folder" in str(failure(lambda: load_sketch(sketch)))


def test_a_symlink_swapped_in_after_the_check_is_refused_when_read(tmp_path):
    from PIL import Image
    project, outside = tmp_path / "project", tmp_path / "secret"
    project.mkdir(), outside.mkdir()
    Image.new("RGB", (2, 2)).save(project / "photo.png")
    Image.new("RGB", (2, 2), "red").save(outside / "photo.png")
    sketch = write(project, 'canvas 4 x 4\noutput image("photo.png")\n')
    program = load_sketch(sketch)
    (project / "photo.png").unlink()
    (project / "photo.png").symlink_to(outside / "photo.png")
    assert "leaves the project folder" in str(failure(lambda: Renderer(program).render()))


@pytest.mark.parametrize("line", ["import NAME\noutput 1", 'import "NAME.art"\noutput 1',
                                  'output image("NAME.png")',
                                  'let m = model("NAME")\noutput decode(m, latent(m, 1))'])
def test_a_name_too_long_for_the_file_system_is_not_found_not_a_crash(tmp_path, line):
    sketch = write(tmp_path, line.replace("NAME", "x" * 300) + "\n")     # found by tools/fuzz.py
    message = str(failure(lambda: load_sketch(sketch)))
    assert "not found" in message or "no stdlib module" in message or "no model" in message


@pytest.mark.parametrize("line", ['import "a\0b"\noutput 1', 'output image("a\0b.png")',
                                  'let m = model("a\0")\noutput decode(m, latent(m, 1))'])
def test_a_path_with_a_nul_character_is_refused_clearly(tmp_path, line):
    sketch = write(tmp_path, line + "\n")                              # found by tools/fuzz.py
    assert "holds a NUL character" in str(failure(lambda: load_sketch(sketch)))


# ── every command checks a limit before the work that grows with it ──────────────────────────

_MEASURE = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-m", "artlang", *sys.argv[1:]], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss // 1024)
"""


def _run_measured(*arguments) -> tuple[int, str, float, int]:
    """`artlang ARGS` in a process of its own: (exit code, stderr, seconds, peak memory in MiB).
    It is started by a small middle process, since a child's peak memory counts the pages it
    shared with its parent before exec (the test process itself, hundreds of MiB)."""
    import subprocess
    import sys
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", _MEASURE, *map(str, arguments)],
                            capture_output=True, text=True)
    code, memory = (int(word) for word in result.stdout.split())
    return code, result.stderr, time.monotonic() - started, memory


@pytest.mark.parametrize("frames", [100_000_000, 1_000_000_000])
@pytest.mark.parametrize("command", ["render", "check", "export"])
def test_frames_over_the_limit_are_refused_at_once_by_every_command(tmp_path, command, frames):
    sketch = write(tmp_path, f"canvas 16 x 16\nframes {frames}\noutput gray(st.x)\n")
    output = ["-o", tmp_path / "out.png"] if command != "check" else []
    code, stderr, seconds, memory = _run_measured(command, sketch, *output)
    assert code == 1 and f"`frames {frames}` is over the limit of 100,000 frames" in stderr, stderr
    assert seconds < 5 and memory < 500, (seconds, memory)


def test_export_refuses_a_frame_range_past_the_animation_before_counting_it(tmp_path):
    sketch = write(tmp_path, "canvas 16 x 16\nframes 10\noutput gray(st.x)\n")
    code, stderr, seconds, memory = _run_measured("export", sketch, "-o", tmp_path / "out.png",
                                                  "--frames", "0..1000000000")
    assert code == 2 and "outside the animation (frames 0..9)" in stderr, stderr
    assert seconds < 5 and memory < 500, (seconds, memory)


@pytest.mark.parametrize("options", [["--seed", "0..1000000000"], ["--dataset", "1000000000"],
                                     ["--param", "k=0..1:1000000000"],
                                     ["--seed", "0..99999", "--param", "k=0..1:100"]],
                         ids=["seeds", "dataset", "param values", "seeds times values"])
def test_an_export_of_too_many_variations_is_refused_before_they_are_made(tmp_path, options):
    sketch = write(tmp_path, "canvas 16 x 16\nparam k = 0.5 in 0..1\noutput gray(st.x * k)\n")
    code, stderr, seconds, memory = _run_measured("export", sketch, "-o", tmp_path / "out.png",
                                                  *options)
    assert code == 2 and "over the limit of 1,000,000" in stderr, stderr
    assert "--limit export-frames=N" in stderr
    assert seconds < 5 and memory < 500, (seconds, memory)


def test_the_export_frames_limit_counts_every_variations_frames(tmp_path):
    sketch = write(tmp_path, "canvas 16 x 16\nframes 100\noutput gray(st.x * t)\n")
    code, stderr, _, _ = _run_measured("export", sketch, "-o", tmp_path / "out.png",
                                       "--seed", "0..9", "--limit", "export-frames=999")
    assert code == 2 and "1,000 frames (10 variations of 100 frames)" in stderr, stderr
