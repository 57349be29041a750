"""Watch a sketch and everything it reads, and re-render it on every save.

watchdog watches the folders (not the files) of the sketch and of each file it depends on, so
every way editors save is seen: writing in place, writing a temporary file and renaming it over the
original (vim, JetBrains' safe write), renaming the original to a backup and writing a new file,
deleting and creating. Events are debounced (a render starts once the files have been quiet for
`debounce` seconds); a render whose inputs hash the same as the last one is skipped; a render still
running when a newer save arrives is cancelled at its next built-in call and started again. A
failure is held until no news of a newer save can still be on its way (the debounce, or the time
an event takes to come, or the poll interval, whichever is longest): if an event comes meanwhile,
the render read a file being saved (an editor deleted it, or renamed it away, and had created it
but not yet written it), and the failure is dropped for the render that event brings. The
set of watched folders follows the sketch's imports and images after every load.

The watcher reports through the `report(outcome)` callback, called from its worker thread; it
never prints. `stop()` ends the observer and the worker and joins both.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Callable

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
)
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from artlang.live.session import LiveSession, Outcome

MISSING_GRACE = 1.0        # seconds a vanished sketch may stay missing before it is an error
WRITE_GRACE = 0.3          # seconds to wait for a file being written to be closed
EVENT_DELAY = 0.05         # seconds a file event may take to reach us (watchdog's threads, a busy machine)


def _existing(folder: str) -> str:
    """The folder, or its nearest ancestor that exists (where the folder will appear)."""
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


def _identity(folder: str):
    """The folder's device and inode (None if it is not a folder): a folder deleted and created
    again is another folder, and needs a new watch."""
    try:
        status = os.stat(folder)
    except OSError:
        return None
    return (status.st_dev, status.st_ino) if os.path.isdir(folder) else None


class _Handler:
    """watchdog's event handler protocol: only `dispatch(event)` is called."""

    def __init__(self, watcher: "Watcher"):
        self.watcher = watcher

    def dispatch(self, event) -> None:
        if event.is_directory:
            if event.event_type in ("deleted", "moved"):
                self.watcher.folder_gone(os.fsdecode(event.src_path))
            made = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
            if self.watcher.needs_folder(made):     # a folder an input needs appeared: look again
                self.watcher.request()
            return
        source = os.fsdecode(event.src_path)
        if self.watcher.is_input(source):
            self.watcher.file_event(source, event.event_type)
        destination = os.fsdecode(getattr(event, "dest_path", "") or "")
        if destination and self.watcher.is_input(destination):
            self.watcher.file_event(destination, "moved_here")


class Watcher:
    """Keeps a `LiveSession` rendered while its files change.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "dot.art").write_text("canvas 8 x 8\\noutput fill(circle(uv, 0.5))")
    >>> done = []
    >>> watcher = Watcher(LiveSession(folder / "dot.art"), report=done.append)
    >>> watcher.start(); watcher.wait_idle(10); watcher.stop()
    True
    >>> [outcome.status for outcome in done]
    ['rendered']
    """

    def __init__(self, session: LiveSession, *, report: Callable[[Outcome], None] = lambda o: None,
                 poll: float | None = None, debounce: float = 0.004):
        self.session = session
        self.report = report
        self.poll = poll
        self.debounce = debounce
        self._condition = threading.Condition()
        self._requested_at: float | None = None     # monotonic time of the newest unhandled request
        self._settle = debounce                     # quiet time that request needs before rendering
        self._generation = 0                        # bumped by every request: a render checks it
        self._busy = False
        self._stopping = False
        self._inputs: set[str] = set()
        self._being_written: set[str] = set()       # modified, not yet closed (inotify only)
        self._stale: set[str] = set()               # watched folders deleted since the last look
        self._tracks_writes = False
        self._watches: dict[str, object] = {}
        self._observer = None
        self._worker: threading.Thread | None = None
        self._ignored = {os.path.abspath(session.output)}
        self._present: set = set()                  # the files the last render read, but the sketch
        self._vanished_at: float | None = None
        self._update_inputs()

    # which files matter ─────────────────────────────────────────────────────────────────────────
    def is_input(self, path: str) -> bool:
        path = os.path.abspath(path)
        return path in self._inputs and path not in self._ignored

    def _update_inputs(self) -> None:
        paths = set()
        for dependency in self.session.dependencies | {self.session.sketch}:
            paths.add(os.path.abspath(dependency))
            paths.add(os.path.realpath(dependency))    # an editor may report either spelling
        self._inputs = paths

    def folder_gone(self, folder: str) -> None:
        """A watched folder was deleted or moved away: its watch is dead even if a new folder of
        the same name (even the same inode number) appears, so it is made again."""
        folder = os.path.abspath(folder)
        with self._condition:
            if folder in self._watches:
                self._stale.add(folder)
        self.request()

    def needs_folder(self, folder: str) -> bool:
        prefix = os.path.abspath(folder) + os.sep
        return any(path.startswith(prefix) for path in self._inputs)

    def watched_folders(self) -> set[str]:
        return set(self._watches)

    def _follow_dependencies(self) -> None:
        """Watch the folders of the files the sketch read last time, and no others."""
        self._update_inputs()
        if self._observer is None:
            return
        wanted = {folder: _identity(folder)
                  for folder in {_existing(os.path.dirname(p)) for p in self._inputs}}
        wanted = {folder: identity for folder, identity in wanted.items() if identity is not None}
        with self._condition:
            stale, self._stale = self._stale, set()
        for folder, (watch, identity) in list(self._watches.items()):
            if wanted.get(folder) != identity or folder in stale:   # gone, or deleted and made again
                try:
                    self._observer.unschedule(watch)
                except KeyError:                                   # its emitter already ended
                    pass
                del self._watches[folder]
        added = set(wanted) - set(self._watches)
        for folder in added:
            watch = self._observer.schedule(_Handler(self), folder, recursive=False,
                                            event_filter=self._event_types())
            self._watches[folder] = (watch, wanted[folder])
        if added and self._worker is not None:
            # a save made before the new folder was watched: hashing tells. Not at once: the user's
            # next save may be starting, its events not yet here, and a look now would read (and
            # report) the half-written file; in WRITE_GRACE those events have arrived
            self.request(settle=WRITE_GRACE)

    @staticmethod
    def _event_types():
        # not opened / closed-without-writing: those are our own reads
        return [FileClosedEvent, FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
                DirCreatedEvent, DirDeletedEvent, DirMovedEvent]

    # the render loop ────────────────────────────────────────────────────────────────────────────
    def file_event(self, path: str, kind: str) -> None:
        """An input changed on disk. With inotify, a file modified in place is not read until
        its writer closes it (or WRITE_GRACE passes), so a half-written sketch is never rendered."""
        with self._condition:
            if self._tracks_writes:
                if kind in ("modified", "created"):
                    self._being_written.add(path)
                else:                               # closed, deleted, moved away or moved here
                    self._being_written.discard(path)
            # a writer closing the file, or a rename putting it in place, ends a save: no need
            # to wait for more (a later event would cancel the render and start it again)
            finished = self._tracks_writes and kind in ("closed", "moved_here")
        self.request(settle=0.0 if finished and not self._being_written else None)

    def request(self, settle: float | None = None) -> None:
        """Ask for a render (a file changed, or a param was set); cancels one in progress. It
        starts once nothing else was requested for `settle` seconds (default: `debounce`)."""
        with self._condition:
            self._requested_at = time.monotonic()
            self._settle = self.debounce if settle is None else settle
            self._generation += 1
            self._condition.notify_all()

    def set_param(self, name: str, value) -> None:
        """For the preview's sliders: override a param and re-render (raises `ArtError`)."""
        self.session.set_param(name, value)
        self.request()

    def reset_params(self) -> None:
        self.session.reset_params()
        self.request()

    def start(self) -> None:
        """Start watching, and render once straight away."""
        if self.poll:
            self._observer = PollingObserver(timeout=self.poll)
        else:
            self._observer = Observer()
        self._tracks_writes = "Inotify" in type(self._observer).__name__   # it reports closes
        self._follow_dependencies()
        self._observer.start()
        with self._condition:
            self._requested_at = time.monotonic() - self.debounce
            self._generation += 1
        self._worker = threading.Thread(target=self._run, name="artlang-watch-render", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        """Stop watching; a render in progress is cancelled. Joins every thread it started."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
        if self._worker is not None:
            self._worker.join()
        self.session.state.close()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no render is pending or running (for tests and scripts)."""
        with self._condition:
            return self._condition.wait_for(
                lambda: self._requested_at is None and not self._busy or self._stopping, timeout)

    def _next_request(self) -> int | None:
        """Wait for a request and for the files to settle; the request's generation, or None to stop."""
        with self._condition:
            while True:
                if self._stopping:
                    return None
                if self._requested_at is None:
                    self._condition.wait()
                    continue
                quiet_until = self._requested_at + (WRITE_GRACE if self._being_written
                                                    else self._settle)
                now = time.monotonic()
                if now < quiet_until:
                    self._condition.wait(quiet_until - now)
                    continue
                self._requested_at = None
                self._being_written.clear()
                self._busy = True
                return self._generation

    def _run(self) -> None:
        missing_since = None
        while True:
            generation = self._next_request()
            if generation is None:
                return
            if self._vanished_recently():
                with self._condition:
                    self._busy = False
                self._retry_after(0.1)
                continue
            stale = lambda: self._stopping or self._generation != generation
            self.session.state.set_rendering(True)
            try:
                outcome = self.session.render(cancelled=stale,
                                              hold_error=lambda: self._await_news(generation))
                if outcome.status == "missing":
                    missing_since = missing_since or time.monotonic()
                    if time.monotonic() - missing_since > MISSING_GRACE:
                        outcome = Outcome("failed", error_text=f"error: {self.session.sketch} "
                                          "is gone: restore it, or stop with Ctrl-C",
                                          error_stage="usage")
                        self.session.state.publish_error(outcome.error_text)
                    else:
                        self._retry_after(0.1)
                else:
                    missing_since = None
                self._follow_dependencies()
                self._present = {path for path in self.session.dependencies
                                 if path != self.session.sketch and path.exists()}
                if outcome.status != "missing":
                    self.report(outcome)
                if outcome.status == "rendered" and outcome.frames > 1:
                    self.session.render_animation(stale)
            except Exception:                  # a bug: keep watching, let the front end say so
                self.report(Outcome("crashed", error_text=traceback.format_exc(), error_stage="internal"))
            finally:
                self.session.state.set_rendering(False)
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def _await_news(self, generation: int) -> None:
        """Before a failure is published: wait until an event of a save made before the render read
        the files must have come (or one newer than `generation` comes, or the watcher stops)."""
        longest_delay = max(self.debounce, EVENT_DELAY, self.poll or 0.0)
        with self._condition:
            self._condition.wait_for(lambda: self._stopping or self._generation != generation,
                                     longest_delay)

    def _vanished_recently(self) -> bool:
        """A module or image the last render read is missing, for less than MISSING_GRACE: an
        editor between deleting it (or renaming it to a backup) and writing it again. Rendering now
        would report it missing; the render waits for it instead (then reports it, if still gone)."""
        if all(path.exists() for path in self._present):
            self._vanished_at = None
            return False
        self._vanished_at = self._vanished_at or time.monotonic()
        return time.monotonic() - self._vanished_at < MISSING_GRACE

    def _retry_after(self, seconds: float) -> None:
        with self._condition:
            if self._requested_at is None:
                self._requested_at = time.monotonic() + seconds - self.debounce
            self._condition.notify_all()
