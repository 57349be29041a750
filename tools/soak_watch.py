"""Soak `artlang watch`: a thousand saves, in every way editors save, against the real command.

    .venv/bin/python tools/soak_watch.py                  1000 saves
    .venv/bin/python tools/soak_watch.py --saves 200      a shorter run
    .venv/bin/python tools/soak_watch.py --keep DIR       run in DIR and keep it (for a post-mortem)
    .venv/bin/python tools/soak_watch.py --busy 3         with 3 processes spinning: a loaded machine

`artlang watch sketch.art -o out.png --port 0` runs as a subprocess in a temporary project: a sketch
that imports `lib/tones.art`. Saves alternate broken and good, in pairs that share a save style:

- write in place (truncate, then write), and in two chunks with a pause between (a file seen while
  it is half written); write a temporary file and rename it over the sketch (vim, VS Code,
  JetBrains); delete, then create; rename the sketch to `sketch.art~`, then write a new one (these
  two pause between their steps, as an editor does: the watcher may look between them);
- save the imported module instead (in each of those styles in turn);
- touch only: a new mtime, the same content (two in a row, for the sketch and for the module).

Every good save is a new picture (another colour, noise scale or position), rendered beforehand by
the library (`load_sketch`, `Renderer`), so the watcher's output file can be compared pixel for
pixel. Every fifth pair is a burst: the broken and the good save back to back, faster than the
debounce; only the last state is checked (and a render the second save landed in may draw the same
picture again: the watcher cannot tell which version it loaded). The goals, checked after every step:

- every final state is rendered: after a good save the output file soon holds exactly its pixels;
- a broken save is reported on stderr (naming the file that is broken) and renders nothing: the
  output file keeps the last good image, byte for byte; a touch renders nothing and reports nothing;
- the output is never half-written (every read of it decodes), no stray temporary files remain;
- the watcher stays alive, never reports an internal error, and stops cleanly on Ctrl-C (exit 0);
- from /proc/PID, after warm-up and at the end: RSS grows less than 10%, threads and open file
  descriptors do not grow.

The figures are printed; the exit status is 1 if any goal is missed. tests/test_soak.py runs a short
version of the same soak (`run_soak`), and pins the watcher bugs it found.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:          # run as a script from a checkout
    sys.path.insert(0, str(ROOT))

SKETCH, MODULE, OUTPUT = "sketch.art", "lib/tones.art", "out.png"
STEP_TIMEOUT = 30.0          # seconds a save may take to show (generous: the machine may be loaded)
START_TIMEOUT = 120.0        # the first render loads the compiled kernels
TOUCH_SETTLE = 0.45          # seconds after a touch in which nothing may happen (WRITE_GRACE + margin)
CHUNK_PAUSE = 0.05           # the pause inside a two-chunk write (the file stays open)
EDITOR_PAUSE = 0.008         # the most an editor waits between the steps of a save
MEMORY_GROWTH_GOAL = 0.10


# ── the project: a sketch importing a module, good and broken versions of both ───────────────────
def sketch_text(index: int) -> str:
    """Good sketch number `index`: its own colour, noise scale and disc position."""
    colour = f"#{(index * 97 + 16) % 256:02x}{(index * 31 + 40) % 256:02x}{(index * 53 + 5) % 256:02x}"
    return (f'import "{MODULE}" as tones\n'
            "canvas 48 x 32\n"
            "seed 7\n"
            f"let n = fbm(uv * {2 + index % 5 * 0.5:g}, octaves=3) * 0.5 + 0.5\n"
            f"layer base = gradient(n, {colour}, tones.tint())\n"
            f"layer disc = fill(circle(uv - vec({(index % 7) * 0.1 - 0.3:.1f}, 0), 0.3), #ff8040) "
            "blend screen opacity 0.8\n"
            "output base, disc\n")


def module_text(index: int) -> str:
    """Good module number `index`: the colour `tint()` gives."""
    red, green, blue = (index * 71 + 90) % 256, (index * 43 + 200) % 256, (index * 17) % 256
    return f"fn tint() = #{red:02x}{green:02x}{blue:02x}\n"


BROKEN_SKETCHES = [             # a syntax error, an unknown name, a type error, a name defined twice
    lambda n: sketch_text(n).replace("output base, disc", "output blend(base,"),
    lambda n: sketch_text(n).replace("fill(", "fil("),
    lambda n: sketch_text(n).replace("output base, disc", 'output base + "disc"'),
    lambda n: sketch_text(n) + "let n = 2\n",
]
BROKEN_MODULES = [
    lambda n: f"fn tint() = nope{n}\n",
    lambda n: "fn tint( = #ffffff\n",
]


# ── the ways editors save ────────────────────────────────────────────────────────────────────────
def write_in_place(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:      # truncate, then write
        handle.write(text)


def write_in_two_chunks(path: Path, text: str) -> None:
    """Truncate and write half, pause with the file open, write the rest: a half-written file."""
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text[:len(text) // 2])
        handle.flush()
        time.sleep(CHUNK_PAUSE)
        handle.write(text[len(text) // 2:])


def write_via_rename(path: Path, text: str) -> None:       # vim, VS Code, JetBrains' safe write
    temporary = path.with_name(path.name + "___jb_tmp___")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


_pauses = random.Random(13)


def editor_pause() -> None:
    """The time an editor spends between the steps of a save (copying the file's mode, syncing the
    backup): up to EDITOR_PAUSE, twice the watcher's debounce, so that the watcher sometimes looks
    at a file taken away, or created and not yet written."""
    time.sleep(_pauses.uniform(0, EDITOR_PAUSE))


def create_and_write(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8") as handle:      # created empty ...
        editor_pause()
        handle.write(text)                                 # ... and written a moment later


def delete_and_create(path: Path, text: str) -> None:
    path.unlink()
    editor_pause()
    create_and_write(path, text)


def write_after_backup(path: Path, text: str) -> None:     # vim's writebackup: rename, write, drop
    backup = path.with_name(path.name + "~")
    os.replace(path, backup)
    editor_pause()
    create_and_write(path, text)
    backup.unlink()


WRITES = {"in place": write_in_place, "two chunks": write_in_two_chunks,
          "rename over": write_via_rename, "delete+create": delete_and_create,
          "backup rename": write_after_backup}
STYLES = list(WRITES) + ["module", "touch"]      # a pair of saves takes each in turn


@dataclass
class Step:
    """One save: `kind` is good, broken or touch; `state` the (sketch, module) versions after it."""
    number: int
    style: str                  # a WRITES name, or "touch"
    target: str                 # SKETCH or MODULE
    kind: str
    text: str | None
    state: tuple[int, int]
    burst: bool = False         # saved with the next one back to back: not checked on its own


def schedule(saves: int) -> list[Step]:
    """`saves` steps in pairs: broken then good in one style (the module's pairs rotate through the
    write styles), or two touches; every fifth pair a burst."""
    steps: list[Step] = []
    sketch, module = 0, 0
    pair = 0
    while len(steps) < saves:
        style = STYLES[pair % len(STYLES)]
        if style == "touch":
            steps += [Step(len(steps), "touch", SKETCH, "touch", None, (sketch, module)),
                      Step(len(steps) + 1, "touch", MODULE, "touch", None, (sketch, module))]
        else:
            on_module = style == "module"
            write = list(WRITES)[pair // len(STYLES) % len(WRITES)] if on_module else style
            target = MODULE if on_module else SKETCH
            broken = (BROKEN_MODULES[pair % len(BROKEN_MODULES)](pair) if on_module
                      else BROKEN_SKETCHES[pair % len(BROKEN_SKETCHES)](sketch))
            if on_module:
                module += 1
            else:
                sketch += 1
            good = module_text(module) if on_module else sketch_text(sketch)
            burst = pair % 5 == 4
            steps += [Step(len(steps), write, target, "broken", broken, (sketch, module), burst),
                      Step(len(steps) + 1, write, target, "good", good, (sketch, module))]
        pair += 1
    return steps[:saves]


def save(project: Path, step: Step) -> None:
    path = project / step.target
    if step.kind == "touch":
        now = time.time_ns()
        os.utime(path, ns=(now, now))
    else:
        WRITES[step.style](path, step.text)


def pixels_digest(png: bytes) -> str:
    """The digest of a PNG's pixels as 8-bit RGBA (raises if the file does not decode)."""
    from PIL import Image
    with Image.open(io.BytesIO(png)) as picture:
        return hashlib.sha256(picture.convert("RGBA").tobytes()).hexdigest()


def expected_pictures(steps: list[Step], folder: Path) -> dict[tuple[int, int], str]:
    """The pixel digest of every good state, rendered by the library in `folder`. Each good state
    must differ from the one before it, or its save could not be told from a missed one."""
    from artlang.runtime.render import Renderer, load_sketch
    from artlang.kernels.pixels import to_8bit

    (folder / "lib").mkdir(parents=True, exist_ok=True)
    expected, previous = {}, None
    for state in [(0, 0)] + [step.state for step in steps if step.kind == "good"]:
        (folder / SKETCH).write_text(sketch_text(state[0]), encoding="utf-8")
        (folder / MODULE).write_text(module_text(state[1]), encoding="utf-8")
        image = Renderer(load_sketch(folder / SKETCH)).render(0)
        expected[state] = hashlib.sha256(to_8bit(image).tobytes()).hexdigest()
        if expected[state] == previous:
            raise AssertionError(f"state {state} draws the same picture as the one before it")
        previous = expected[state]
    return expected


# ── the watcher under test ───────────────────────────────────────────────────────────────────────
def status_field(pid: int, name: str) -> str:
    """A field of /proc/PID/status, e.g. `VmRSS` ("151232 kB" gives "151232")."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(line.split()[1] for line in status.splitlines() if line.startswith(name + ":"))


def process_figures(pid: int) -> dict[str, int]:
    """RSS (kB), threads and open file descriptors of a live process, from /proc."""
    return {"rss_kb": int(status_field(pid, "VmRSS")), "threads": len(os.listdir(f"/proc/{pid}/task")),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


def artlang_command() -> list[str]:
    script = Path(sys.executable).with_name("artlang")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "artlang"]


class WatchProcess:
    """`artlang watch SKETCH -o OUTPUT OPTIONS` running in `project`, its stdout and stderr read
    as they come."""

    def __init__(self, project: Path, sketch: str = SKETCH, output: str = OUTPUT,
                 options: tuple[str, ...] = ("--port", "0")):
        self.project = project
        self.output = project / output
        self.changed = threading.Condition()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.errors: list[str] = []         # each error report: its lines, joined
        self._error_lines: list[str] = []
        self.process = subprocess.Popen(
            artlang_command() + ["watch", sketch, "-o", output, *options], cwd=project,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self.stdout),
                                               (self.process.stderr, self.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, lines: list[str]) -> None:
        for line in stream:
            with self.changed:
                lines.append(line.rstrip("\n"))
                if lines is self.stderr:
                    self._error_lines.append(line)
                    if "(keeping the last good image)" in line:
                        self.errors.append("".join(self._error_lines))
                        self._error_lines = []
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def renders(self) -> int:
        return sum("rendered in" in line for line in self.stdout)

    def crashes(self) -> int:
        return sum("internal error" in line for line in self.stderr)

    def wait_for(self, condition, timeout: float) -> bool:
        """Wait until `condition()` holds (checked on every line printed, and every 20 ms)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive():
                    return condition()
                self.changed.wait(min(remaining, 0.02))
        return True

    def stop(self) -> int:
        """Ctrl-C, as the user stops it; its exit status. (SIGTERM, which watch takes alike, where
        SIGINT is ignored: a process started in the background by a shell inherits that.)"""
        if self.alive():
            ignored = int(status_field(self.pid, "SigIgn"), 16)
            interrupt = signal.SIGTERM if ignored & 1 << (signal.SIGINT - 1) else signal.SIGINT
            self.process.send_signal(interrupt)
        try:
            code = self.process.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        return code


class OutputFile:
    """Reads the watcher's output file, decoding each new version once."""

    def __init__(self, path: Path):
        self.path = path
        self.torn = 0               # versions that did not decode: a half-written file
        self._seen: dict = {}

    def stamp(self):
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return None
        return status.st_ino, status.st_mtime_ns, status.st_size

    def digest(self) -> str | None:
        stamp = self.stamp()
        if stamp is None:
            return None
        if stamp not in self._seen:
            try:
                self._seen[stamp] = pixels_digest(self.path.read_bytes())
            except FileNotFoundError:
                return None
            except (OSError, SyntaxError, ValueError):      # what Pillow raises for a broken PNG
                self.torn += 1
                self._seen[stamp] = "torn"
        return self._seen[stamp]


# ── the run ──────────────────────────────────────────────────────────────────────────────────────
@dataclass
class Figures:
    saves: int = 0
    good: int = 0
    broken: int = 0
    touches: int = 0
    renders_seen: int = 0
    errors_seen: int = 0
    errors_expected: int = 0            # broken saves not in a burst
    missed_states: list = field(default_factory=list)     # good saves whose picture never came
    missed_errors: list = field(default_factory=list)     # broken saves never reported
    unexpected_errors: list = field(default_factory=list)  # reported after a good save or a touch
    needless_renders: list = field(default_factory=list)  # renders after a broken save or a touch
    changed_after_broken: list = field(default_factory=list)  # output changed by a broken save
    torn_outputs: int = 0
    stray_files: list = field(default_factory=list)
    crashes: int = 0
    alive_at_end: bool = False
    exit_code: int | None = None
    stopped_cleanly: bool = False                         # Ctrl-C: exit 0 and `stopped` printed
    latencies: list = field(default_factory=list)         # seconds from a good save to its picture
    first: dict = field(default_factory=dict)             # /proc figures after the first render
    start: dict = field(default_factory=dict)             # ... after warm-up
    end: dict = field(default_factory=dict)               # ... at the end
    seconds: float = 0.0

    @property
    def memory_growth(self) -> float:
        return self.end["rss_kb"] / self.start["rss_kb"] - 1 if self.start and self.end else 0.0

    def failures(self, memory_tolerance: float = MEMORY_GROWTH_GOAL) -> list[str]:
        """Every goal missed, in words (empty when the soak passed)."""
        problems = {
            "good saves never rendered": self.missed_states,
            "broken saves never reported": self.missed_errors,
            "errors reported after a good save or a touch": self.unexpected_errors,
            "renders after a broken save or a touch": self.needless_renders,
            "output changed by a broken save": self.changed_after_broken,
            "stray files": self.stray_files}
        found = [f"{what}: {items[:10]}" for what, items in problems.items() if items]
        if self.torn_outputs:
            found.append(f"{self.torn_outputs} half-written output files read")
        if self.crashes:
            found.append(f"{self.crashes} internal errors reported")
        if not self.alive_at_end:
            found.append("the watcher died")
        if not self.stopped_cleanly:
            found.append(f"Ctrl-C did not stop the watcher cleanly (exit status {self.exit_code})")
        if not self.start or not self.end:
            found.append("no /proc figures taken")
            return found
        if self.memory_growth >= memory_tolerance:
            found.append(f"RSS grew {self.memory_growth:.1%} (goal: under {memory_tolerance:.0%})")
        for what in ("threads", "fds"):
            if self.end[what] > self.start[what]:
                found.append(f"{what} grew from {self.start[what]} to {self.end[what]}")
        return found

    def report(self) -> str:
        def median_ms(values):
            return f"{1000 * statistics.median(values):.0f} ms" if values else "-"
        latency = (f"{median_ms(self.latencies)} p50, {1000 * max(self.latencies):.0f} ms max"
                   if self.latencies else "-")
        rows = [
            ("saves", f"{self.saves} ({self.good} good, {self.broken} broken, {self.touches} touches)"),
            ("renders seen", self.renders_seen),
            ("errors seen", f"{self.errors_seen} (expected at least {self.errors_expected})"),
            ("missed states", len(self.missed_states)),
            ("missed errors", len(self.missed_errors)),
            ("unexpected errors", len(self.unexpected_errors)),
            ("needless renders", len(self.needless_renders)),
            ("output changed by a broken save", len(self.changed_after_broken)),
            ("half-written outputs read", self.torn_outputs),
            ("internal errors", self.crashes),
            ("save to picture", latency),
        ]
        if self.start and self.end:
            rows += [
                ("RSS first/start/end", (f"{self.first['rss_kb'] / 1024:.1f} / "
                                         f"{self.start['rss_kb'] / 1024:.1f} / "
                                         f"{self.end['rss_kb'] / 1024:.1f} MiB "
                                         f"(growth after warm-up {self.memory_growth:+.1%})")),
                ("threads first/start/end",
                 f"{self.first['threads']} / {self.start['threads']} / {self.end['threads']}"),
                ("fds first/start/end", f"{self.first['fds']} / {self.start['fds']} / {self.end['fds']}"),
            ]
        rows += [("alive at end, exit code", f"{self.alive_at_end}, {self.exit_code}"),
                 ("wall time", f"{self.seconds:.1f} s")]
        return "\n".join(f"{name:<34} {value}" for name, value in rows)


def settled_figures(pid: int, baseline: dict | None = None) -> dict[str, int]:
    """/proc figures; if threads or fds are above `baseline`, look again for up to 2 s (a thread
    finishing its work is not a leak; one that stays is)."""
    figures = process_figures(pid)
    deadline = time.monotonic() + 2.0
    while baseline and time.monotonic() < deadline and any(
            figures[what] > baseline[what] for what in ("threads", "fds")):
        time.sleep(0.1)
        again = process_figures(pid)
        figures = {what: min(figures[what], again[what]) for what in figures}
    return figures


class Soak:
    """Saves the steps one by one and checks what the watcher does after each."""

    def __init__(self, project: Path, expected: dict, figures: Figures):
        self.project, self.expected, self.figures = project, expected, figures
        self.watch = WatchProcess(project)
        self.output = OutputFile(project / OUTPUT)
        self.last_good = b""
        self.burst_start = None         # (renders, errors) before the first save of a burst

    def first_render(self) -> None:
        picture = self.expected[0, 0]
        if not self.watch.wait_for(lambda: self.output.digest() == picture and self.watch.renders(),
                                   START_TIMEOUT):
            self.figures.missed_states.append("the first render")
        self.last_good = self.output.path.read_bytes() if self.output.digest() else b""

    def take(self, step: Step) -> None:
        watch, figures = self.watch, self.figures
        renders, errors = self.burst_start or (watch.renders(), len(watch.errors))
        stamp = self.output.stamp()
        saved_at = time.monotonic()
        save(self.project, step)
        figures.saves += 1
        if step.burst:                              # the next save follows at once
            self.burst_start = renders, errors
            figures.broken += 1
            return
        after_burst, self.burst_start = self.burst_start is not None, None
        allowed_errors = errors + after_burst           # the burst's broken save may be reported
        if step.kind == "good":
            self.check_good(step, renders, saved_at)
            if after_burst:     # a render the second save landed in draws again (the same picture)
                time.sleep(TOUCH_SETTLE)
            if len(watch.errors) > allowed_errors:
                figures.unexpected_errors.append(self.described(step, errors))
            return
        if step.kind == "broken":
            self.check_broken(step, errors)
        else:
            figures.touches += 1
            time.sleep(TOUCH_SETTLE)
            if len(watch.errors) > errors:
                figures.unexpected_errors.append(self.described(step, errors))
        if watch.renders() > renders or self.output.stamp() != stamp:
            figures.needless_renders.append(step.number)

    def check_good(self, step: Step, renders: int, saved_at: float) -> None:
        """The output soon holds the new state's pixels, written by a render the watcher reports."""
        self.figures.good += 1
        picture = self.expected[step.state]
        if self.watch.wait_for(lambda: self.watch.renders() > renders
                               and self.output.digest() == picture, STEP_TIMEOUT):
            self.figures.latencies.append(time.monotonic() - saved_at)
            self.last_good = self.output.path.read_bytes()
        else:
            self.figures.missed_states.append(step.number)

    def check_broken(self, step: Step, errors: int) -> None:
        """An error naming the broken file is reported; the output keeps the last good bytes."""
        figures, watch = self.figures, self.watch
        figures.broken += 1
        figures.errors_expected += 1
        name = Path(step.target).name + ":"
        if not watch.wait_for(lambda: len(watch.errors) > errors, STEP_TIMEOUT):
            figures.missed_errors.append(step.number)
        elif not any(name in text for text in watch.errors[errors:]):
            figures.missed_errors.append(self.described(step, errors, f"no {name} in the error: "))
        if self.output.path.read_bytes() != self.last_good:
            figures.changed_after_broken.append(step.number)

    def described(self, step: Step, errors: int, why: str = "") -> str:
        """The step, and the first line of each error reported since it was saved."""
        reported = "; ".join(text.splitlines()[0] for text in self.watch.errors[errors:])
        return f"{step.number} ({step.kind}, {step.style}, {step.target}; {why}{reported})"

    def finish(self) -> None:
        """Ctrl-C, then the counts from what the watcher printed and left behind."""
        figures, watch = self.figures, self.watch
        figures.exit_code = watch.stop()
        figures.stopped_cleanly = figures.exit_code == 0 and "stopped" in watch.stdout
        figures.renders_seen, figures.errors_seen = watch.renders(), len(watch.errors)
        figures.crashes, figures.torn_outputs = watch.crashes(), self.output.torn
        figures.stray_files = sorted(
            str(path.relative_to(self.project)) for path in self.project.rglob("*")
            if path.is_file() and path.name not in (SKETCH, Path(MODULE).name, OUTPUT))


def run_soak(saves: int, folder: Path, *, warmup: int | None = None,
             progress=lambda step, figures: None) -> Figures:
    """Run the soak in `folder` (made if missing); the figures. The /proc figures are taken
    after the first render, after `warmup` saves (the baseline) and at the end."""
    project = folder / "project"
    steps = schedule(saves)
    expected = expected_pictures(steps, folder / "reference")
    (project / "lib").mkdir(parents=True, exist_ok=True)
    (project / SKETCH).write_text(sketch_text(0), encoding="utf-8")
    (project / MODULE).write_text(module_text(0), encoding="utf-8")
    warmup = min(2 * len(STYLES), saves // 10) if warmup is None else warmup
    figures = Figures()
    started = time.monotonic()
    soak = Soak(project, expected, figures)
    try:
        soak.first_render()
        figures.first = figures.start = settled_figures(soak.watch.pid)
        for step in steps:
            if not soak.watch.alive():
                break
            soak.take(step)
            if step.number + 1 >= warmup and figures.start is figures.first and not step.burst:
                figures.start = settled_figures(soak.watch.pid)
            progress(step, figures)
        figures.alive_at_end = soak.watch.alive()
        if figures.alive_at_end:
            figures.end = settled_figures(soak.watch.pid, figures.start)
    finally:
        soak.finish()
    figures.seconds = time.monotonic() - started
    return figures


@contextmanager
def busy_machine(processes: int):
    """`processes` processes spinning on the CPU while the soak runs: on a loaded machine file
    events come late, and races between an editor's steps and the watcher's reads show."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--saves", type=int, default=1000, help="how many saves (default 1000)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="run in DIR and keep it")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="keep N processes spinning on the CPU meanwhile (default 0)")
    arguments = parser.parse_args(argv)

    def progress(step: Step, figures: Figures) -> None:
        if (step.number + 1) % 100 == 0:
            print(f"  {step.number + 1} saves, {len(figures.missed_states)} missed states, "
                  f"{len(figures.missed_errors)} missed errors", file=sys.stderr, flush=True)

    print(f"soaking `artlang watch` with {arguments.saves} saves ...", file=sys.stderr, flush=True)
    with busy_machine(arguments.busy):
        if arguments.keep:
            figures = run_soak(arguments.saves, arguments.keep, progress=progress)
        else:
            with tempfile.TemporaryDirectory(prefix="artlang-soak-") as folder:
                figures = run_soak(arguments.saves, Path(folder), progress=progress)
    print(figures.report())
    failures = figures.failures()
    for failure in failures:
        print(f"MISSED: {failure}")
    print("all goals met" if not failures else f"{len(failures)} goals missed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
