"""The command line, as a user meets it: help, version, exit codes, no tracebacks, atomic output."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image



def write(folder: Path, text: str, name: str = "sketch.art") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_version(cli):
    result = cli("--version")
    assert result.code == 0 and result.stdout.startswith("artlang ")


@pytest.mark.parametrize("command", ["render", "check", "builtins"])
def test_help_teaches_with_examples(cli, command):
    result = cli(command, "--help")
    assert result.code == 0
    assert "examples:" in result.stdout and f"artlang {command}" in result.stdout


def test_no_command_prints_help_and_is_a_usage_error(cli):
    result = cli()
    assert result.code == 2 and "artlang render" in result.stdout


def test_python_dash_m_runs_the_cli(tmp_path):
    sketch = write(tmp_path, "canvas 4 x 4\noutput 1\n")
    done = subprocess.run([sys.executable, "-m", "artlang", "render", sketch, "-o", tmp_path / "o.png"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o.png").is_file()


def test_render_writes_png_beside_the_sketch_by_default(cli, tmp_path):
    sketch = write(tmp_path, "canvas 6 x 3\noutput #102030\n")
    result = cli("render", sketch)
    assert result.code == 0, result.stderr
    with Image.open(tmp_path / "sketch.png") as image:
        assert image.size == (6, 3) and image.mode == "RGB"
        assert image.getpixel((0, 0)) == (0x10, 0x20, 0x30)


def test_png_records_seed_params_and_version(cli, tmp_path):
    sketch = write(tmp_path, "seed 5\nparam k = 0.5 in 0..1\ncanvas 2 x 2\noutput k\n")
    assert cli("render", sketch, "--param", "k=0.25").code == 0
    with Image.open(tmp_path / "sketch.png") as image:
        assert image.text["artlang:seed"] == "5"
        assert "0.25" in image.text["artlang:params"]
        assert image.text["Software"].startswith("artlang ")


def test_sketch_errors_exit_1_without_traceback(cli, tmp_path):
    sketch = write(tmp_path, "let a = fmb(uv)\noutput a\n")
    result = cli("render", sketch)
    assert result.code == 1
    assert "Traceback" not in result.stderr
    assert "sketch.art:1:9: error: unknown name `fmb`" in result.stderr
    assert " 1 | let a = fmb(uv)" in result.stderr and "^^^" in result.stderr
    assert not (tmp_path / "sketch.png").exists()


def test_check_reports_all_errors_and_renders_nothing(cli, tmp_path):
    sketch = write(tmp_path, "let a = nope\nlet b = circle(uv, 1, 2)\noutput 1\n")
    result = cli("check", sketch)
    assert result.code == 1 and "2 errors" in result.stderr
    good = write(tmp_path, "canvas 8 x 8\nparam s = 1 in 0..2\noutput s\n", "good.art")
    result = cli("check", good)
    assert result.code == 0 and "ok (8 x 8, 1 frame, 1 param)" in result.stdout
    assert not (tmp_path / "good.png").exists()


@pytest.mark.parametrize("arguments", [["--size", "12"], ["--size", "0x5"], ["--param", "novalue"],
                                       ["--seed", "x"], ["--bogus"]])
def test_bad_flags_are_usage_errors(cli, tmp_path, arguments):
    sketch = write(tmp_path, "output 1\n")
    result = cli("render", sketch, *arguments)
    assert result.code == 2 and "Traceback" not in result.stderr


def test_missing_sketch_file_is_a_usage_error(cli, tmp_path):
    result = cli("render", tmp_path / "nope.art")
    assert result.code == 2 and "no such sketch file" in result.stderr


def test_unreadable_image_is_a_runtime_error(cli, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    sketch = write(tmp_path, "canvas 4 x 4\noutput image(\"broken.png\")\n")
    result = cli("render", sketch)
    assert result.code == 3 and "cannot read image `broken.png`" in result.stderr
    assert "Traceback" not in result.stderr


def test_symlink_out_of_the_project_is_refused(cli, tmp_path):
    project, outside = tmp_path / "project", tmp_path / "secret"
    project.mkdir(), outside.mkdir()
    Image.new("RGB", (2, 2)).save(outside / "photo.png")
    (project / "link.png").symlink_to(outside / "photo.png")
    sketch = write(project, "output image(\"link.png\")\n")
    result = cli("render", sketch)
    assert result.code == 1 and "leaves the project folder" in result.stderr


def test_max_pixels_flag_lowers_the_limit_and_a_bigger_canvas_is_tiled(cli, tmp_path, monkeypatch):
    sketch = write(tmp_path, "canvas 100 x 100\noutput 1\n")
    result = cli("render", sketch, "--max-pixels", "5000")
    assert result.code == 0 and "in tiles" in result.stdout, result.stderr
    monkeypatch.setenv("ARTLANG_MAX_TILED_PIXELS", "5000")
    result = cli("render", sketch, "--max-pixels", "5000")
    assert result.code == 1 and "over the limit of 5,000 for a canvas drawn in tiles" in result.stderr


def test_output_is_written_atomically_and_replaces_old_file(cli, tmp_path):
    sketch = write(tmp_path, "canvas 4 x 4\noutput 1\n")
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    assert cli("render", sketch, "-o", target).code == 0
    assert target.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.png")] == []


def test_failed_render_leaves_the_previous_output(cli, tmp_path):
    target = tmp_path / "out.png"
    assert cli("render", write(tmp_path, "canvas 4 x 4\noutput 1\n"), "-o", target).code == 0
    before = target.read_bytes()
    assert cli("render", write(tmp_path, "output nope\n", "bad.art"), "-o", target).code == 1
    assert target.read_bytes() == before


def test_builtins_lists_and_describes(cli):
    listing = cli("builtins")
    assert listing.code == 0 and "fbm" in listing.stdout and "noise:" in listing.stdout
    described = cli("builtins", "fbm")
    assert described.code == 0 and "fbm(p: vec2" in described.stdout and "example:" in described.stdout
    unknown = cli("builtins", "fmb")
    assert unknown.code == 2 and "did you mean `fbm`?" in unknown.stderr


def test_noise_render_does_not_import_torch(tmp_path):
    sketch = write(tmp_path, "canvas 16 x 16\noutput fbm(uv * 3) + gaussian(0.1)\n")
    code = ("import sys; from artlang.cli import main; "
            f"code = main(['render', {str(sketch)!r}, '-o', {str(tmp_path / 'o.png')!r}]); "
            "assert code == 0, code; print('torch' in sys.modules, 'numba' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["False", "True"]


def test_trivial_render_imports_neither_torch_nor_numba(tmp_path):
    sketch = write(tmp_path, "canvas 16 x 16\noutput fill(circle(uv, 0.5), #ff8800)\n")
    code = ("import sys; from artlang.cli import main; "
            f"code = main(['render', {str(sketch)!r}, '-o', {str(tmp_path / 'o.png')!r}]); "
            "assert code == 0, code; "
            "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("[]")


def test_same_sketch_gives_identical_bytes_across_processes(tmp_path):
    sketch = write(tmp_path, "seed 3\ncanvas 48 x 32\nlet n = fbm(uv * 3) + gaussian(0.05)\n"
                             "output magma(n * 0.5 + 0.5)\n")
    digests = []
    for run in range(2):
        target = tmp_path / f"run{run}.png"
        done = subprocess.run([sys.executable, "-m", "artlang", "render", sketch, "-o", target],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        digests.append(hashlib.sha256(target.read_bytes()).hexdigest())
    assert digests[0] == digests[1]
