"""`artlang watch`: real watchdog events from real file operations, every save style, many saves."""
from __future__ import annotations

import dataclasses
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from artlang.builtins import load_all
from artlang.live.session import LiveSession
from artlang.live.watcher import Watcher

TIMEOUT = 15.0


def colour_sketch(index: int) -> str:
    """A 16 x 16 sketch filled with a colour that encodes `index`."""
    return f"canvas 16 x 16\noutput #{index % 256:02x}{(index * 7) % 256:02x}40\n"


def expected_colour(index: int) -> tuple[int, int, int]:
    return index % 256, (index * 7) % 256, 0x40


def pixel(png: bytes) -> tuple[int, ...]:
    return Image.open(io.BytesIO(png)).convert("RGB").getpixel((8, 8))


# the ways editors save ──────────────────────────────────────────────────────────────────────────
def save_in_place(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:      # truncate, then write
        handle.write(text)


def save_via_temporary(path: Path, text: str) -> None:      # vim's and JetBrains' safe write
    temporary = path.with_name(f".{path.name}.swp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def save_after_backup(path: Path, text: str) -> None:       # rename the original away, write anew
    backup = path.with_name(path.name + "~")
    os.replace(path, backup)
    path.write_text(text, encoding="utf-8")
    backup.unlink()


def save_by_delete_and_create(path: Path, text: str) -> None:
    path.unlink()
    path.write_text(text, encoding="utf-8")


SAVE_STYLES = [save_in_place, save_via_temporary, save_after_backup, save_by_delete_and_create]


class Live:
    """A watcher on a sketch in a temporary folder, with helpers to wait for what it shows."""

    def __init__(self, folder: Path, text: str, poll: float | None = None, debounce: float = 0.004,
                 **session_options):
        self.sketch = folder / "sketch.art"
        self.sketch.write_text(text, encoding="utf-8")
        self.outcomes = []
        self.session = LiveSession(self.sketch, **session_options)
        self.watcher = Watcher(self.session, report=self.outcomes.append, poll=poll, debounce=debounce)
        self.state = self.session.state

    def __enter__(self):
        self.watcher.start()
        return self

    def __exit__(self, *exc):
        self.watcher.stop()

    def wait_until(self, condition, what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        version = -1
        while not condition():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out waiting for {what}; outcomes: {self.statuses()}"
            snapshot = self.state.snapshot()
            if snapshot["version"] == version:
                self.state.wait(version, min(remaining, 0.2))
            version = snapshot["version"]

    def shown_pixel(self):
        png = self.state.frame(self.state.generation, self.state.shown_frame)
        return None if png is None else pixel(png)

    def wait_for_colour(self, index: int) -> None:
        self.wait_until(lambda: self.shown_pixel() == expected_colour(index) and self.state.error is None,
                        f"colour {index}")

    def statuses(self) -> list[str]:
        return [outcome.status for outcome in self.outcomes]


@pytest.mark.parametrize("save", SAVE_STYLES, ids=lambda f: f.__name__)
def test_every_save_style_is_seen_again_and_again(tmp_path, save):
    with Live(tmp_path, colour_sketch(0)) as live:
        live.wait_for_colour(0)
        for index in range(1, 8):
            save(live.sketch, colour_sketch(index))
            live.wait_for_colour(index)
        assert pixel(live.session.output.read_bytes()) == expected_colour(7)


def test_a_burst_of_saves_in_every_style_ends_on_the_last(tmp_path):
    with Live(tmp_path, colour_sketch(0)) as live:
        live.wait_for_colour(0)
        for index in range(1, 41):
            SAVE_STYLES[index % 4](live.sketch, colour_sketch(index))
        live.wait_for_colour(40)
        assert live.watcher.wait_idle(TIMEOUT)
        assert pixel(live.session.output.read_bytes()) == expected_colour(40)
        assert live.statuses().count("rendered") <= 41


@pytest.mark.parametrize("save", [save_in_place, save_via_temporary], ids=lambda f: f.__name__)
def test_polling_sees_saves_without_file_events(tmp_path, save):
    with Live(tmp_path, colour_sketch(0), poll=0.05) as live:
        assert live.watcher._observer.__class__.__name__ == "PollingObserver"
        live.wait_for_colour(0)
        for index in (1, 2, 3):
            time.sleep(0.02)                        # mtimes must differ for a poller to see it
            save(live.sketch, colour_sketch(index) + "\n" * index)
            live.wait_for_colour(index)


def test_an_error_keeps_the_last_good_image_and_the_next_good_save_clears_it(tmp_path):
    with Live(tmp_path, colour_sketch(1)) as live:
        live.wait_for_colour(1)
        good_bytes = live.session.output.read_bytes()
        save_via_temporary(live.sketch, "canvas 16 x 16\noutput fil(circle(uv, 0.5))\n")
        live.wait_until(lambda: live.state.error is not None, "the error")
        assert "sketch.art:2:8: error" in live.state.error
        assert "did you mean `fill`?" in live.state.error
        assert " 2 | output fil(circle(uv, 0.5))" in live.state.error
        assert live.session.output.read_bytes() == good_bytes
        assert live.shown_pixel() == expected_colour(1)
        save_in_place(live.sketch, "canvas 16 x 16\noutput fill(\n")      # a syntax error too
        live.wait_until(lambda: "never closed" in (live.state.error or ""), "the syntax error")
        assert live.session.output.read_bytes() == good_bytes
        save_in_place(live.sketch, colour_sketch(2))
        live.wait_for_colour(2)
        assert live.state.error is None


def test_a_runtime_error_keeps_the_last_good_image(tmp_path):
    with Live(tmp_path, colour_sketch(3)) as live:
        live.wait_for_colour(3)
        (tmp_path / "photo.png").write_bytes(b"not a png")
        save_in_place(live.sketch, 'canvas 16 x 16\noutput image("photo.png")\n')
        live.wait_until(lambda: live.state.error is not None, "the error")
        assert "sketch.art:2:8" in live.state.error
        assert live.shown_pixel() == expected_colour(3)


def test_a_save_with_the_same_content_is_not_rendered_again(tmp_path):
    with Live(tmp_path, colour_sketch(5)) as live:
        live.wait_for_colour(5)
        assert live.watcher.wait_idle(TIMEOUT)
        generation = live.state.generation
        for save in SAVE_STYLES:
            save(live.sketch, colour_sketch(5))
            live.watcher.request()
            assert live.watcher.wait_idle(TIMEOUT)
        assert live.state.generation == generation
        assert "unchanged" in live.statuses()


def watched_module(tmp_path: Path) -> tuple[Path, "Live"]:
    """A sketch drawing the red of lib/tint.art, and the module's path."""
    (tmp_path / "lib").mkdir()
    module = tmp_path / "lib" / "tint.art"
    module.write_text("fn tint() = #ff0000\n", encoding="utf-8")
    return module, Live(tmp_path, 'import "lib/tint.art" as lib\ncanvas 16 x 16\noutput lib.tint()\n')


def wait_for_red(live: "Live") -> None:
    live.wait_until(lambda: live.shown_pixel() == (255, 0, 0), "the module's colour")
    assert live.watcher.wait_idle(TIMEOUT)


def test_imported_modules_are_watched_and_followed_as_imports_change(tmp_path):
    module, live = watched_module(tmp_path)
    with live:
        wait_for_red(live)
        assert str(tmp_path / "lib") in live.watcher.watched_folders()
        save_via_temporary(module, "fn tint() = #0000ff\n")
        live.wait_until(lambda: live.shown_pixel() == (0, 0, 255), "the edited module's colour")
        save_in_place(module, "fn tint() = nope\n")                    # a broken module
        live.wait_until(lambda: "lib/tint.art:1:13" in (live.state.error or ""), "the module's error")
        save_in_place(live.sketch, colour_sketch(9))                  # the import is dropped
        live.wait_for_colour(9)
        assert live.watcher.wait_idle(TIMEOUT)
        assert str(tmp_path / "lib") not in live.watcher.watched_folders()
        module.write_text("fn tint() = #00ff00\n", encoding="utf-8")
        live.watcher.wait_idle(TIMEOUT)
        assert live.shown_pixel() == expected_colour(9)


def test_an_edited_image_is_decoded_again(tmp_path):
    photo = tmp_path / "photo.png"
    Image.new("RGB", (4, 4), (255, 0, 0)).save(photo)
    with Live(tmp_path, 'canvas 16 x 16\noutput image("photo.png")\n') as live:
        live.wait_until(lambda: live.shown_pixel() == (255, 0, 0), "the red photo")
        Image.new("RGB", (4, 4), (0, 255, 0)).save(photo)
        live.wait_until(lambda: live.shown_pixel() == (0, 255, 0), "the green photo")


def count_fbm_calls(monkeypatch) -> list:
    """A list that grows by one for every call of the `fbm` built-in."""
    table = load_all()
    calls = []
    original = table["fbm"].implementation
    monkeypatch.setitem(table, "fbm", dataclasses.replace(
        table["fbm"], implementation=lambda *a, **k: calls.append(1) or original(*a, **k)))
    return calls


def test_a_palette_edit_reuses_the_noise_a_frequency_edit_recomputes_it(tmp_path, monkeypatch):
    calls = count_fbm_calls(monkeypatch)
    base = "canvas 64 x 64\nlet clouds = fbm(uv * {f}, octaves=5)\noutput gradient(clouds, {a}, #ffffff)\n"
    with Live(tmp_path, base.format(f=3, a="#000000")) as live:
        live.wait_until(lambda: live.state.generation == 1, "the first image")
        assert len(calls) == 1
        save_in_place(live.sketch, base.format(f=3, a="#ff0000"))
        live.wait_until(lambda: live.state.generation == 2, "the palette edit")
        assert len(calls) == 1
        save_in_place(live.sketch, base.format(f=4, a="#ff0000"))
        live.wait_until(lambda: live.state.generation == 3, "the frequency edit")
        assert len(calls) == 2
        assert len(live.session.cache) <= 4         # stale entries are swept


def test_a_newer_save_cancels_a_render_in_progress(tmp_path, monkeypatch):
    calls = count_fbm_calls(monkeypatch)
    slow = "canvas 16 x 16\nlet v0 = 0\n" + "".join(
        f"let v{i} = fbm(uv * {i} + v{i - 1}, octaves=8)\n" for i in range(1, 100)) + "output v99 + #ff0000\n"
    with Live(tmp_path, colour_sketch(0), size=(512, 512)) as live:
        live.wait_for_colour(0)
        save_in_place(live.sketch, slow)
        deadline = time.monotonic() + TIMEOUT
        while len(calls) < 5:                       # well into the slow render
            assert time.monotonic() < deadline
            time.sleep(0.002)
        save_in_place(live.sketch, colour_sketch(4))
        live.wait_for_colour(4)
        assert "cancelled" in live.statuses()
        assert len(calls) < 99                      # the slow render stopped early


def test_params_set_from_the_preview_re_render_and_are_validated(tmp_path):
    from artlang.core.errors import ArtError
    text = 'canvas 16 x 16\nparam level = 0.2 in 0..1 "grey level"\noutput level\n'
    with Live(tmp_path, text) as live:
        live.wait_until(lambda: live.shown_pixel() == (51, 51, 51), "the default level")
        assert live.state.params[0].name == "level" and live.state.params[0].low == 0
        live.watcher.set_param("level", 1.0)
        live.wait_until(lambda: live.shown_pixel() == (255, 255, 255), "the new level")
        with pytest.raises(ArtError, match="outside the range"):
            live.watcher.set_param("level", 3)
        with pytest.raises(ArtError, match="no param `levle`"):
            live.watcher.set_param("levle", 0.5)
        save_in_place(live.sketch, text.replace("0..1", "0..0.5"))     # the override no longer fits
        live.wait_until(lambda: live.shown_pixel() == (51, 51, 51), "the sketch's value again")
        assert live.watcher.wait_idle(TIMEOUT)
        assert any("outside the range" in n for o in live.outcomes for n in o.notices)


def test_a_sketch_gone_for_good_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr("artlang.live.watcher.MISSING_GRACE", 0.2)
    with Live(tmp_path, colour_sketch(1)) as live:
        live.wait_for_colour(1)
        live.sketch.unlink()
        live.wait_until(lambda: "is gone" in (live.state.error or ""), "the missing-file error")
        live.sketch.write_text(colour_sketch(2), encoding="utf-8")
        live.wait_for_colour(2)


SLOW_DEBOUNCE = 0.3      # a failure is held this long: room for a test to act while it is held


class SilentInotifyObserver:
    """Stands in for watchdog's inotify observer and hears nothing: the test tells the watcher of
    each event itself, in the order and at the moment it wants (`hear`)."""

    def schedule(self, handler, folder, **options):
        return folder

    def unschedule(self, watch):
        pass

    def start(self):
        pass

    def stop(self):
        pass

    def join(self):
        pass


def hear(live: "Live", *kinds: str) -> None:
    """The watcher hears of events on the sketch, as watchdog would tell it."""
    for kind in kinds:
        live.watcher.file_event(str(live.sketch), kind)


def on_load(monkeypatch) -> threading.Event:
    """An event set each time a render has loaded the sketch."""
    import artlang.live.session
    loaded, load = threading.Event(), artlang.live.session.load_sketch

    def load_and_tell(*arguments, **options):
        try:
            return load(*arguments, **options)
        finally:
            loaded.set()
    monkeypatch.setattr(artlang.live.session, "load_sketch", load_and_tell)
    return loaded


@pytest.mark.parametrize("taken_away", ["deleted", "moved"])
def test_a_file_read_before_its_write_was_heard_of_reports_no_error(tmp_path, monkeypatch, taken_away):
    """Issue 13.6: an editor deletes the sketch (or renames it to a backup) and creates it again.
    The watcher heard of the deletion, read the new file while it was still empty, and reported
    "the sketch has no `output` statement" before the event of its creation came, a moment later.
    A failure is now held for the debounce (at least): an event that comes meanwhile drops it."""
    monkeypatch.setattr("artlang.live.watcher.Observer", SilentInotifyObserver)
    with Live(tmp_path, colour_sketch(0), debounce=SLOW_DEBOUNCE) as live:
        live.wait_for_colour(0)
        loaded = on_load(monkeypatch)
        live.sketch.unlink()
        live.sketch.write_text("", encoding="utf-8")          # created, not yet written
        hear(live, taken_away)                                # only the first step is heard
        assert loaded.wait(TIMEOUT)                           # and the empty file is read
        time.sleep(0.05)                                      # the creation is heard late
        hear(live, "created")
        save_in_place(live.sketch, colour_sketch(1))
        hear(live, "modified", "closed")
        live.wait_for_colour(1)
        assert live.watcher.wait_idle(TIMEOUT)
        assert "failed" not in live.statuses(), [o.error_text for o in live.outcomes]
        assert live.state.error is None


def test_a_broken_save_is_still_reported_once_no_newer_event_came(tmp_path, monkeypatch):
    """The other side of issue 13.6: a failure is held only while news of a newer save may be on
    its way. A broken save is reported after the debounce; one whose file is touched while its
    failure is held is read again, and reported then."""
    monkeypatch.setattr("artlang.live.watcher.Observer", SilentInotifyObserver)
    debounce = SLOW_DEBOUNCE
    with Live(tmp_path, colour_sketch(0), debounce=debounce) as live:
        live.wait_for_colour(0)
        save_in_place(live.sketch, "canvas 16 x 16\noutput fil(circle(uv, 0.5))\n")
        saved = time.monotonic()
        hear(live, "modified", "closed")                      # closed: rendered at once
        live.wait_until(lambda: live.state.error is not None, "the error")
        assert debounce <= time.monotonic() - saved < debounce + 2.0
        assert "did you mean `fill`?" in live.state.error and live.shown_pixel() == expected_colour(0)
        save_in_place(live.sketch, "canvas 16 x 16\noutput fill(\n")
        hear(live, "modified", "closed")
        live.wait_until(lambda: live.state.rendering, "the render of the syntax error")
        time.sleep(0.05)
        hear(live, "modified")                                # a touch, while its failure is held
        live.wait_until(lambda: "never closed" in (live.state.error or ""), "the syntax error")
        assert live.watcher.wait_idle(TIMEOUT)
        assert live.statuses()[-2:] == ["cancelled", "failed"]


def test_animated_sketches_render_every_frame_for_playback(tmp_path):
    with Live(tmp_path, "canvas 16 x 16\nframes 6\nfps 12\noutput frame / 5\n") as live:
        live.wait_until(lambda: live.state.snapshot()["frames_ready"] == 6, "all six frames")
        levels = [pixel(live.state.frame(live.state.generation, i))[0] for i in range(6)]
        assert levels == [0, 51, 102, 153, 204, 255]
        assert live.state.snapshot()["fps"] == 12


def test_stop_leaves_no_thread_behind(tmp_path):
    before = set(threading.enumerate())
    with Live(tmp_path, colour_sketch(1)) as live:
        live.wait_for_colour(1)
        save_in_place(live.sketch, colour_sketch(2))
    time.sleep(0.05)
    assert set(threading.enumerate()) - before == set()


def test_ctrl_c_stops_the_command_cleanly(tmp_path):
    sketch = tmp_path / "sketch.art"
    sketch.write_text(colour_sketch(1), encoding="utf-8")
    process = subprocess.Popen([sys.executable, "-m", "artlang", "watch", str(sketch), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + TIMEOUT
        while not any("rendered in" in line for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, lines
            lines.append(process.stdout.readline())
        assert any(line.startswith("preview: http://127.0.0.1:") for line in lines)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopped" in out and "Traceback" not in err
    assert (tmp_path / "sketch.png").is_file()


def test_watch_writes_the_pixels_render_writes(tmp_path):
    from conftest import run_cli
    text = "canvas 48 x 32\nseed 5\nlet n = fbm(uv * 3, octaves=4)\n" \
           "output gradient(n * 0.5 + 0.5, #0b1d51, #ff7e5f, #feb47b40)\n"
    with Live(tmp_path, text) as live:
        live.wait_until(lambda: live.state.generation == 1, "the first image")
        watched = np.asarray(Image.open(io.BytesIO(live.session.output.read_bytes())))
    result = run_cli("render", str(live.sketch), "-o", str(tmp_path / "rendered.png"))
    assert result.code == 0, result.stderr
    rendered = np.asarray(Image.open(tmp_path / "rendered.png"))
    assert watched.shape == rendered.shape == (32, 48, 4)
    assert np.array_equal(watched, rendered)


def test_a_module_folder_deleted_and_made_again_is_watched_again(tmp_path):
    import shutil
    module, live = watched_module(tmp_path)
    with live:
        wait_for_red(live)
        shutil.rmtree(tmp_path / "lib")                       # as a checkout of another branch does
        live.wait_until(lambda: live.state.error is not None, "the missing module's error")
        (tmp_path / "lib").mkdir()
        module.write_text("fn tint() = #0000ff\n", encoding="utf-8")
        live.wait_until(lambda: live.shown_pixel() == (0, 0, 255), "the module back")
        assert live.watcher.wait_idle(TIMEOUT)
        save_in_place(module, "fn tint() = #00ff00\n")        # a later edit of the new folder
        live.wait_until(lambda: live.shown_pixel() == (0, 255, 0), "the edit in the new folder")


def test_an_unknown_param_on_the_command_line_is_a_usage_error(tmp_path):
    from conftest import run_cli
    sketch = tmp_path / "sketch.art"
    sketch.write_text("canvas 8 x 8\nparam level = 0.5 in 0..1\noutput level\n", encoding="utf-8")
    result = run_cli("watch", sketch, "--no-preview", "--param", "levle=1")
    assert result.code == 2 and "did you mean `level`?" in result.stderr
