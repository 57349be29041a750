"""`artlang export` and `artlang reproduce`: sequences, animations, sweeps, data sets, workers,
Dask, resuming after a kill, and pictures that carry their own recipe."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli

ANIMATION = """canvas 48 x 32
seed 4
frames 8
fps 8
param scale = 3 in 1..6
param tint = #ff7e5f "a colour param travels in the recipe too"
let n = loop_noise(uv * scale, octaves=3)
output gradient(n * 0.5 + 0.5, #0b1d51, tint, #feb47b)
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "anim.art").write_text(ANIMATION, encoding="utf-8")
    return tmp_path


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as picture:
        return np.asarray(picture.convert("RGBA"))


def export(*arguments) -> str:
    result = run_cli("export", *arguments)
    assert result.code == 0, result.stderr
    return result.stdout


def test_a_png_sequence_is_zero_padded_and_each_frame_is_what_render_draws(project):
    export(project / "anim.art", "-o", project / "out" / "anim.png")
    names = sorted(p.name for p in (project / "out").iterdir())
    assert names == [f"anim_{i}.png" for i in range(8)]                 # 8 frames: one digit
    for frame in (0, 5):
        single = project / f"single{frame}.png"
        assert run_cli("render", project / "anim.art", "-o", single, "--frame", frame).code == 0
        assert (project / "out" / f"anim_{frame}.png").read_bytes() == single.read_bytes()
    assert not np.array_equal(pixels(project / "out" / "anim_0.png"), pixels(project / "out" / "anim_5.png"))


def test_an_explicit_pattern_sets_the_width(project):
    export(project / "anim.art", "-o", project / "f_####.png", "--frames", "2..3")
    assert sorted(p.name for p in project.glob("f_*.png")) == ["f_0002.png", "f_0003.png"]


def test_sixteen_bit_frames(project):
    export(project / "anim.art", "-o", project / "deep.png", "--bits", "16", "--frames", "0..0")
    data = (project / "deep_0.png").read_bytes()
    assert data[24] == 16                                              # IHDR bit depth


def test_a_gif_and_its_sidecar(project):
    export(project / "anim.art", "-o", project / "anim.gif")
    with Image.open(project / "anim.gif") as gif:
        assert gif.n_frames == 8
        assert gif.info.get("loop") == 0
    sidecar = json.loads((project / "anim.gif.json").read_text())
    assert sidecar["recipe"]["seed"] == 4 and sidecar["fps"] == 8
    assert not list(project.glob(".anim.gif.frames"))                   # the frame cache is gone


def test_workers_give_the_same_bytes(project):
    export(project / "anim.art", "-o", project / "one" / "a.png")
    export(project / "anim.art", "-o", project / "two" / "a.png", "--workers", "2")
    for frame in range(8):
        assert (project / "one" / f"a_{frame}.png").read_bytes() == \
            (project / "two" / f"a_{frame}.png").read_bytes()


@pytest.mark.parametrize("suffix", [".mp4", ".gif", ".webp"])
def test_animations_encoded_while_workers_render_are_the_same_bytes(project, suffix):
    """Frames reach the encoder as the workers finish them; the workers must not inherit the
    encoder's pipe (ffmpeg would wait for an end of input that never comes: a hang)."""
    outputs = []
    for workers in ("1", "2"):
        target = project / f"w{workers}" / f"a{suffix}"
        done = subprocess.run([sys.executable, "-m", "artlang", "export", str(project / "anim.art"),
                               "-o", str(target), "--workers", workers],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert not (target.parent / f".{target.name}.frames").exists()     # cache removed
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] and len(outputs[0]) > 1000


def test_a_sweep_names_each_combination_and_makes_a_labelled_sheet(project):
    output = export(project / "anim.art", "-o", project / "s" / "v.png", "--frames", "0..0",
                    "--seed", "0..2", "--param", "scale=2..4:2", "--sheet", project / "sheet.png")
    names = sorted(p.name for p in (project / "s").iterdir())
    assert len(names) == 6 and "v_seed1_scale4_0.png" in names, names
    assert "wrote" in output
    sheet = pixels(project / "sheet.png")
    assert sheet.shape[0] > 2 * 32 and sheet.shape[1] > 3 * 48
    first, other = pixels(project / "s" / "v_seed0_scale2_0.png"), pixels(project / "s" / "v_seed2_scale4_0.png")
    assert not np.array_equal(first, other)


def test_a_data_set_writes_a_manifest_and_is_the_same_every_time(project):
    for folder in ("d1", "d2"):
        export(project / "anim.art", "-o", project / folder / "img.png", "--frames", "0..0",
               "--dataset", "5", "--seed", "10", "--param", "scale=1..6")
    lines = [json.loads(line) for line in (project / "d1" / "img.jsonl").read_text().splitlines()]
    assert [line["seed"] for line in lines] == [10, 11, 12, 13, 14]
    scales = [line["params"]["scale"] for line in lines]
    assert all(1 <= s <= 6 for s in scales) and len(set(scales)) == 5
    for line in lines:
        assert (project / "d1" / line["file"]).is_file()
        assert (project / "d1" / line["file"]).read_bytes() == (project / "d2" / line["file"]).read_bytes()


def test_reproduce_renders_a_picture_again_byte_for_byte(project):
    (project / "lib").mkdir()
    (project / "lib" / "tint.art").write_text("fn tint(c) = c * #ffeedd\n", encoding="utf-8")
    Image.new("RGB", (6, 4), (200, 40, 90)).save(project / "photo.png")
    sketch = project / "with_inputs.art"
    sketch.write_text('import "lib/tint.art" as lib\nimport shapes\ncanvas 40 x 30\nseed 9\n'
                      'param k = 0.5 in 0..1\nparam ink = #00ff00\n'
                      'output mix(lib.tint(image("photo.png")), ink, k * fbm(uv * 2)) \n',
                      encoding="utf-8")
    picture = project / "out" / "p.png"
    assert run_cli("render", sketch, "-o", picture, "--param", "k=0.7", "--seed", "3",
                   "--param", "ink=#3366ff80").code == 0
    sketch.write_text("canvas 4 x 4\noutput 0\n", encoding="utf-8")       # the sources may change
    (project / "lib" / "tint.art").unlink()
    result = run_cli("reproduce", picture, "--root", project, "-o", project / "again.png")
    assert result.code == 0, result.stderr
    assert "byte-identical" in result.stdout
    assert (project / "again.png").read_bytes() == picture.read_bytes()
    Image.new("RGB", (6, 4), (0, 0, 0)).save(project / "photo.png")      # but not the images
    result = run_cli("reproduce", picture, "--root", project)
    assert result.code == 2 and "photo.png" in result.stderr and "changed" in result.stderr


def test_reproduce_refuses_a_picture_without_a_recipe(tmp_path):
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    result = run_cli("reproduce", tmp_path / "plain.png")
    assert result.code == 2 and "no artlang recipe" in result.stderr


def test_a_second_run_renders_nothing_and_a_changed_param_renders_again(project):
    export(project / "anim.art", "-o", project / "r" / "a.png")
    stamps = {p: p.stat().st_mtime_ns for p in (project / "r").iterdir()}
    output = export(project / "anim.art", "-o", project / "r" / "a.png")
    assert "0 frames rendered, 8 already there" in output
    assert stamps == {p: p.stat().st_mtime_ns for p in (project / "r").iterdir()}
    output = export(project / "anim.art", "-o", project / "r" / "a.png", "--param", "scale=2")
    assert "8 frames rendered" in output


SLOW = """canvas 160 x 120
seed 2
frames 24
fps 12
let n = fbm(vec(uv.x * 3, uv.y * 3) + vec(t, 0), octaves=8) + fbm(uv * 9 + vec(0, t), octaves=8)
output gradient(n * 0.35 + 0.5, #000000, #ff8000, #ffffff)
"""


@pytest.mark.parametrize("suffix", [".png", ".gif", ".mp4"])
def test_an_export_killed_mid_way_resumes_to_the_same_bytes(tmp_path, suffix):
    (tmp_path / "slow.art").write_text(SLOW, encoding="utf-8")
    command = [sys.executable, "-m", "artlang", "export", str(tmp_path / "slow.art")]
    clean = tmp_path / "clean"
    done = subprocess.run(command + ["-o", str(clean / f"s{suffix}")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    killed = tmp_path / "killed"
    process = subprocess.Popen(command + ["-o", str(killed / f"s{suffix}")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(list(killed.rglob("*.png"))) < 4:                      # a few frames in
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    for path in killed.rglob("*"):                                    # nothing half-written
        if path.is_file() and path.suffix == ".png":
            with Image.open(path) as picture:
                picture.load()
    again = subprocess.run(command + ["-o", str(killed / f"s{suffix}")], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stdout
    finished = sorted(p.relative_to(killed) for p in killed.rglob("*") if p.is_file())
    expected = sorted(p.relative_to(clean) for p in clean.rglob("*") if p.is_file())
    assert finished == expected
    for name in expected:
        assert (killed / name).read_bytes() == (clean / name).read_bytes(), name


def test_ctrl_c_stops_an_export_cleanly(tmp_path):
    (tmp_path / "slow.art").write_text(SLOW.replace("frames 24", "frames 400"), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "artlang", "export", str(tmp_path / "slow.art"),
                                "-o", str(tmp_path / "o" / "s.png"), "--workers", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(list((tmp_path / "o").glob("*.png"))) < 2:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "run the same command again" in err and "Traceback" not in err
    assert not [p for p in (tmp_path / "o").iterdir() if p.suffix == ".tmp"]


def _start_export_with_workers(tmp_path, output, frames=400, **popen):
    """`artlang export --workers 2` of a slow sketch, returned once both workers run and a frame is
    written (so the workers are busy or between units, as a real export is when it is stopped)."""
    import psutil
    (tmp_path / "slow.art").write_text(SLOW.replace("frames 24", f"frames {frames}"), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "artlang", "export", str(tmp_path / "slow.art"),
                                "-o", str(output), "--workers", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    deadline = time.monotonic() + 60
    while not list(output.parent.glob("*.png")) or len(psutil.Process(process.pid).children()) < 2:
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.01)
    return process, psutil.Process(process.pid).children()


def _still_running(processes, seconds: float) -> list:
    """The processes that have not ended `seconds` from now (a zombie has ended: its parent is
    gone and whoever adopted it may not reap it at once)."""
    import psutil
    deadline = time.monotonic() + seconds
    while True:
        alive = []
        for process in processes:
            try:
                if process.status() != psutil.STATUS_ZOMBIE:
                    alive.append(process)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


def _kill(processes) -> None:
    """Ends what a failed test left running."""
    import psutil
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def test_workers_die_with_an_export_killed_by_sigkill(tmp_path):
    import tempfile
    process, workers = _start_export_with_workers(tmp_path, tmp_path / "o" / "s.png")
    try:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert _still_running(workers, 3) == []
    finally:
        _kill(_still_running(workers, 0))
    left = [p for w in workers for p in Path(tempfile.gettempdir()).glob(f"artlang-unit-{w.pid}-*")]
    assert left, "the killed workers' folders are there (SIGKILL leaves no chance to remove them)"
    export(tmp_path / "slow.art", "-o", tmp_path / "again" / "s.png", "--frames", "0..1",
           "--workers", "2")
    assert not [p for p in left if p.exists()]           # the next export with workers sweeps them


@pytest.mark.parametrize("to_group", [False, True], ids=["kill", "timeout"])
def test_sigterm_stops_an_export_like_ctrl_c_and_it_resumes_to_the_same_bytes(tmp_path, to_group):
    """`kill PID` signals the export alone; `timeout`, CI runners and systemd signal its workers
    too. Either way the export stops cleanly, its workers end with it, and running it again
    finishes it with the bytes of an export that never stopped."""
    output = tmp_path / "stopped" / "s.png"
    process, workers = _start_export_with_workers(tmp_path, output, frames=24,
                                                  start_new_session=True)
    try:
        if to_group:
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        assert _still_running(workers, 3) == []
        err = process.stderr.read()
        assert process.returncode == 143, err
        assert "run the same command again" in err and "Traceback" not in err
    finally:
        _kill(_still_running(workers, 0))
    assert "already there" in export(tmp_path / "slow.art", "-o", output)
    clean = tmp_path / "clean" / "s.png"
    export(tmp_path / "slow.art", "-o", clean)
    names = sorted(p.name for p in clean.parent.iterdir())
    assert sorted(p.name for p in output.parent.iterdir()) == names and len(names) == 24
    for name in names:
        assert (output.parent / name).read_bytes() == (clean.parent / name).read_bytes(), name


def test_a_dask_cluster_gives_the_same_bytes(project):
    distributed = pytest.importorskip("distributed")
    export(project / "anim.art", "-o", project / "here" / "a.png")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        export(project / "anim.art", "-o", project / "there" / "a.png", "--scheduler", cluster.scheduler_address)
    for frame in range(8):
        assert (project / "here" / f"a_{frame}.png").read_bytes() == \
            (project / "there" / f"a_{frame}.png").read_bytes()


def test_bad_export_options_are_usage_errors(project):
    result = run_cli("export", project / "anim.art", "-o", project / "x.bmp")
    assert result.code == 2 and ".gif" in result.stderr
    result = run_cli("export", project / "anim.art", "-o", project / "x.png", "--seed", "5..1")
    assert result.code == 2 and "range" in result.stderr
    result = run_cli("export", project / "anim.art", "-o", project / "x.png", "--param", "scale=1..4")
    assert result.code == 2 and "COUNT" in result.stderr
    result = run_cli("export", project / "anim.art", "-o", project / "x.png", "--frames", "3..9")
    assert result.code == 2 and "outside the animation" in result.stderr


def test_a_tiff_drawn_in_tiles_is_reproduced_pixel_for_pixel(project):
    picture = project / "big.tif"
    assert run_cli("render", project / "anim.art", "-o", picture, "--tile", "16", "--frame", "3").code == 0
    result = run_cli("reproduce", picture)
    assert result.code == 0 and "every pixel is the same" in result.stdout, result.stderr


def test_an_error_on_a_later_frame_is_clean_with_workers_and_names_the_sketch(project):
    (project / "late.art").write_text("canvas 16 x 16\nframes 6\n"
                                      "output dither(gray(st.x), 2, 4 + 3 * step(3, frame))\n",
                                      encoding="utf-8")
    for workers in ("1", "2"):
        result = run_cli("export", project / "late.art", "-o", project / f"w{workers}" / "l.png",
                         "--workers", workers)
        assert result.code == 3, result.stderr
        assert "late.art:3:" in result.stderr and "artlang-unit" not in result.stderr


def test_a_recipe_naming_files_outside_its_folder_is_refused(tmp_path):
    from PIL import PngImagePlugin
    recipe = {"main": "../escaped.art", "sources": {"../escaped.art": "output 1\n"}, "inputs": {},
              "seed": 0, "params": {}, "size": [4, 4], "frame": 0, "version": "0"}
    info = PngImagePlugin.PngInfo()
    info.add_itxt("artlang:recipe", json.dumps(recipe))
    Image.new("RGB", (4, 4)).save(tmp_path / "evil.png", pnginfo=info)
    result = run_cli("reproduce", tmp_path / "evil.png")
    assert result.code == 2 and "outside its project" in result.stderr
    assert not list(Path(tmp_path.parent).glob("escaped.art"))


def test_output_problems_are_reported_before_or_instead_of_a_traceback(project):
    (project / "afile").write_text("not a folder")
    result = run_cli("export", project / "anim.art", "-o", project / "afile" / "x.png")
    assert result.code == 3 and "cannot write" in result.stderr
    result = run_cli("export", project / "anim.art", "-o", project / "x.jpg", "--quality", "500")
    assert result.code == 2 and "1 to 100" in result.stderr and not list(project.glob("x_*"))
    result = run_cli("export", project / "anim.art", "-o", project / "x.png", "--frames", "4..2")
    assert result.code == 2 and "--frames" in result.stderr


def test_a_jpeg_sequence_resumes_too(project):
    export(project / "anim.art", "-o", project / "j" / "a.jpg")
    assert "0 frames rendered, 8 already there" in export(project / "anim.art", "-o", project / "j" / "a.jpg")


SWEPT = """canvas 24 x 16
seed 3
param k = 0.5 in 0..1
param ink = #00ff00
output mix(image("photo.png"), ink, k * fbm(uv * 2))
"""


def test_each_picture_of_a_sweep_is_what_render_draws_here_or_in_workers(tmp_path):
    """Here the job draws from its own checked program, in workers from self-contained specs
    (sources and image bytes): both give the bytes `artlang render` gives."""
    Image.new("RGB", (6, 4), (200, 40, 90)).save(tmp_path / "photo.png")
    (tmp_path / "s.art").write_text(SWEPT, encoding="utf-8")
    swept = ["--seed", "1,2", "--param", "k=0.25,0.75", "--param", "ink=#3366ff80"]
    for workers in ("1", "2"):
        export(tmp_path / "s.art", "-o", tmp_path / f"w{workers}" / "p.png", "--workers", workers, *swept)
    for seed in (1, 2):
        for k in ("0.25", "0.75"):
            name = f"p_seed{seed}_k{k}_ink3366ff80.png"
            single = tmp_path / f"render_{name}"
            assert run_cli("render", tmp_path / "s.art", "-o", single, "--seed", seed,
                           "--param", f"k={k}", "--param", "ink=#3366ff80").code == 0
            assert (tmp_path / "w1" / name).read_bytes() == single.read_bytes()
            assert (tmp_path / "w2" / name).read_bytes() == single.read_bytes()


def test_an_export_here_draws_from_the_checked_program_without_loading_it_again(project, monkeypatch):
    import pickle

    from artlang.export.backends import Backend
    from artlang.export.jobs import Job
    from artlang.export.units import render_units
    from artlang.export.variations import sweep
    from artlang.output.provenance import Recipe
    from artlang.runtime.render import Renderer
    job = Job(project / "anim.art", project / "o" / "a.png", format="png",
              variations=sweep([1, 2, 3], {}), frames=range(4))

    def refused(*arguments, **options):
        raise AssertionError("a unit drawn here was laid out on disk to be loaded again")
    built = []
    compile_renderer = Renderer.__init__

    def counted(self, *arguments, **options):
        built.append(options.get("seed"))
        compile_renderer(self, *arguments, **options)
    with monkeypatch.context() as patched:
        patched.setattr(Recipe, "materialise", refused)
        patched.setattr(Renderer, "__init__", counted)
        result = job.run(Backend())
    assert result.rendered == 12
    assert built == [2, 3]          # one compiled plan a variation; the first one's from planning
    unit = job.units[6]
    spec, = job.specs([unit])       # what another process or machine gets: a picklable dataclass
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert render_units([spec])[0][0] == unit.target.read_bytes()
