"""A short soak of the real `artlang watch` command: every save style, good and broken alternating.

The long run is `.venv/bin/python tools/soak_watch.py` (1000 saves); this one is 70 saves, five
rounds of every style (so the module is saved in each write style). It checks the same goals, with a
looser memory bound (a short run has not amortised its first allocations): among them, no error is
reported for a good save (issue 13.6: a file read between an editor's steps). The other tests pin
the watcher bugs the soak found.
"""
from __future__ import annotations

import sys
import time

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import soak_watch  # noqa: E402

SAVES = 5 * 2 * len(soak_watch.STYLES)


def test_the_schedule_alternates_broken_and_good_in_every_style():
    steps = soak_watch.schedule(SAVES)
    saved = [step for step in steps if step.kind != "touch"]
    assert [step.kind for step in saved[:4]] == ["broken", "good", "broken", "good"]
    assert {step.style for step in saved} == set(soak_watch.WRITES)
    assert {step.style for step in saved if step.target == soak_watch.MODULE} == set(soak_watch.WRITES)
    assert sum(step.kind == "touch" for step in steps) == 10
    assert any(step.burst for step in steps)


def test_a_short_soak_renders_every_state_reports_every_error_and_leaks_nothing(tmp_path):
    figures = soak_watch.run_soak(SAVES, tmp_path, warmup=2 * len(soak_watch.STYLES))
    report = figures.report()
    assert figures.saves == SAVES, report
    assert figures.missed_states == [] and figures.missed_errors == [], report
    assert figures.errors_seen >= figures.errors_expected > 0, report
    assert figures.unexpected_errors == [] and figures.needless_renders == [], report
    assert figures.changed_after_broken == [] and figures.torn_outputs == 0, report
    assert figures.alive_at_end and figures.stopped_cleanly and figures.crashes == 0, report
    assert figures.end["threads"] <= figures.start["threads"], report
    assert figures.end["fds"] <= figures.start["fds"], report
    assert figures.failures(memory_tolerance=0.25) == [], report


def take_away_and_write_later(path, text: str, backup: bool) -> None:
    """An editor slower than the debounce: the file is deleted (or renamed to a backup), and
    written again 50 ms later."""
    if backup:
        path.replace(path.with_name(path.name + "~"))
    else:
        path.unlink()
    time.sleep(0.05)
    path.write_text(text, encoding="utf-8")


def test_a_module_taken_away_and_written_again_a_moment_later_is_not_reported_missing(tmp_path):
    """Found by the soak: a module saved by delete-then-create (or by renaming it to a backup) was
    reported as "import file `lib/tones.art` not found" when the editor took longer than the
    debounce to write it again. A file the last render read now gets MISSING_GRACE to come back,
    as the sketch does; one gone for good is still reported."""
    from artlang.live.session import LiveSession
    from artlang.live.watcher import MISSING_GRACE, Watcher

    (tmp_path / "lib").mkdir()
    module = tmp_path / soak_watch.MODULE
    module.write_text(soak_watch.module_text(0), encoding="utf-8")
    (tmp_path / "sketch.art").write_text(soak_watch.sketch_text(0), encoding="utf-8")
    outcomes = []
    watcher = Watcher(LiveSession(tmp_path / "sketch.art"), report=outcomes.append)
    watcher.start()
    try:
        assert watcher.wait_idle(60)
        for index, backup in ((1, False), (2, True)):
            take_away_and_write_later(module, soak_watch.module_text(index), backup)
            time.sleep(0.05)
            assert watcher.wait_idle(30)
        shown = [o.status for o in outcomes if o.status not in ("unchanged", "cancelled")]
        assert shown == ["rendered"] * 3, [o.error_text for o in outcomes]
        module.unlink()                                             # now gone for good
        started = time.monotonic()
        time.sleep(0.05)
        assert watcher.wait_idle(30)
        assert outcomes[-1].status == "failed" and "not found" in outcomes[-1].error_text
        assert time.monotonic() - started >= MISSING_GRACE * 0.9
    finally:
        watcher.stop()


def test_the_look_after_watching_a_new_folder_waits_for_a_save_in_progress(tmp_path):
    """Found by the soak: after a render that starts watching a folder again (a fix that lets the
    sketch's import be read), the watcher looks at the files once more, for a save it could not
    hear. It looked 4 ms later, just as the user's next save was starting: when that save's events
    came late (a loaded machine), the look read the half-written sketch and reported its error
    ("the sketch has no `output` statement"). The look now waits WRITE_GRACE, by which time the
    save's events have arrived and hold it until the file is closed."""
    from artlang.live.session import LiveSession
    from artlang.live.watcher import WRITE_GRACE, Watcher

    (tmp_path / "lib").mkdir()
    (tmp_path / soak_watch.MODULE).write_text(soak_watch.module_text(0), encoding="utf-8")
    sketch = tmp_path / "sketch.art"
    sketch.write_text(soak_watch.BROKEN_SKETCHES[0](0), encoding="utf-8")   # a syntax error:
    outcomes = []                                                         # the import is not read
    watcher = Watcher(LiveSession(sketch), report=lambda o: outcomes.append((time.monotonic(), o)))
    watcher.start()
    try:
        assert watcher.wait_idle(60) and outcomes[-1][1].status == "failed"
        assert str(tmp_path / "lib") not in watcher.watched_folders()
        soak_watch.write_in_place(sketch, soak_watch.sketch_text(1))
        time.sleep(0.05)
        assert watcher.wait_idle(30)
        assert str(tmp_path / "lib") in watcher.watched_folders()
        (rendered_at, rendered), (looked_at, looked) = outcomes[-2:]
        assert (rendered.status, looked.status) == ("rendered", "unchanged")
        assert looked_at - rendered_at >= WRITE_GRACE * 0.9
    finally:
        watcher.stop()


@pytest.mark.parametrize("first", ["broken", "good"])
def test_a_save_landing_while_the_module_is_loaded_is_drawn_next(tmp_path, monkeypatch, first):
    """Found by the soak (a burst of two module saves): the render loaded the module, the next
    save landed, and the render then hashed the module again to record what it had seen, taking
    the new version for seen. When that save's event came, its render found nothing changed
    ("unchanged"): the last save was never drawn. A render during which an input was written
    no longer records it as seen."""
    import artlang.live.session
    from artlang.live.session import LiveSession

    (tmp_path / "lib").mkdir()
    module = tmp_path / soak_watch.MODULE
    module.write_text(soak_watch.module_text(0), encoding="utf-8")
    (tmp_path / "sketch.art").write_text(soak_watch.sketch_text(0), encoding="utf-8")
    session = LiveSession(tmp_path / "sketch.art")
    assert session.render().status == "rendered"
    soak_watch.write_via_rename(module, soak_watch.BROKEN_MODULES[0](1) if first == "broken"
                                else soak_watch.module_text(1))
    load = artlang.live.session.load_sketch

    def load_while_the_next_save_lands(*arguments, **options):
        try:
            return load(*arguments, **options)
        finally:
            soak_watch.write_via_rename(module, soak_watch.module_text(2))

    monkeypatch.setattr(artlang.live.session, "load_sketch", load_while_the_next_save_lands)
    assert session.render().status == ("cancelled" if first == "broken" else "rendered")
    monkeypatch.setattr(artlang.live.session, "load_sketch", load)
    assert session.render().status == "rendered"           # the last save, drawn
    assert session.render().status == "unchanged"
