"""Diagnostics: what went wrong, where, and what to do about it.

The core never prints. It raises `ArtError` carrying one or more `Diagnostic`s; the command line
turns them into text with `format_diagnostic` and picks an exit code from `ArtError.stage`.
"""
from __future__ import annotations

import difflib
import heapq
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Span:
    """Where something is in a source file: `file:line:column` to the end line and column."""
    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


# Which stage of the pipeline a failure belongs to decides the exit code (see cli.EXIT_CODES).
SYNTAX, CHECK, USAGE, RUNTIME = "syntax", "check", "usage", "runtime"

# A failure lists this many diagnostics and counts the rest: nobody reads thirty thousand, and
# the checker spends no time suggesting names for diagnostics that are not shown.
MAX_SHOWN_DIAGNOSTICS = 50
# A "did you mean" compares the misspelt name with at most this many names (see `did_you_mean`).
MAX_SUGGESTION_CANDIDATES = 1000


@dataclass(frozen=True)
class Note:
    message: str
    span: Span | None = None


@dataclass(frozen=True)
class Diagnostic:
    message: str
    span: Span | None = None
    hint: str | None = None
    label: str | None = None          # short text printed under the caret
    notes: tuple[Note, ...] = ()
    severity: str = "error"


class ArtError(Exception):
    """Every user-facing failure in artlang: one or more diagnostics from one pipeline stage."""

    def __init__(self, diagnostics: Diagnostic | Iterable[Diagnostic], stage: str):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        self.stage = stage
        super().__init__("; ".join(d.message for d in self.diagnostics))

    def __reduce__(self):                    # so a worker process can send it back
        return (ArtError, (self.diagnostics, self.stage))


def error(message: str, span: Span | None = None, *, stage: str, hint: str | None = None,
          label: str | None = None, notes: Iterable[Note] = ()) -> ArtError:
    """Build an `ArtError` with a single diagnostic (raise it at the call site)."""
    return ArtError(Diagnostic(message, span, hint, label, tuple(notes)), stage)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidates to a misspelt `word`, or None.

    It compares `word` with at most `MAX_SUGGESTION_CANDIDATES` names, those nearest to it in length,
    so one suggestion costs little more in a scope of thirty thousand names than in one of ten.

    >>> did_you_mean("fmb", ["fbm", "floor", "fract"])
    'did you mean `fbm`?'
    """
    by_length: dict[int, list[str]] = {}
    for name in set(candidates):
        by_length.setdefault(len(name), []).append(name)
    close = difflib.get_close_matches(word, _nearest_in_length(word, by_length), n=3, cutoff=0.6)
    if not close:           # the same name in other capitals, e.g. `FBM`
        close = sorted(c for c in by_length.get(len(word), ()) if c.lower() == word.lower())[:1]
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


def _nearest_in_length(word: str, by_length: dict[int, list[str]]) -> list[str]:
    """Up to `MAX_SUGGESTION_CANDIDATES` names, the lengths nearest to `word`'s first; from a length
    with more names than room, those starting with `word`'s first letter, then alphabetically."""
    chosen: list[str] = []
    for length in sorted(by_length, key=lambda n: (abs(n - len(word)), n)):
        names, room = by_length[length], MAX_SUGGESTION_CANDIDATES - len(chosen)
        if len(names) > room:
            same_start = [n for n in names if n[:1] == word[:1]]
            others = [n for n in names if n[:1] != word[:1]]
            names = heapq.nsmallest(room, same_start) + heapq.nsmallest(room, others)
        chosen += names[:room]
        if len(chosen) == MAX_SUGGESTION_CANDIDATES:
            break
    return chosen


@dataclass
class SourceCache:
    """Source text by file name, so diagnostics can quote the offending line."""

    texts: dict[str, str] = field(default_factory=dict)
    # each text split once, so quoting many diagnostics costs one pass over the file, not one each
    lines_by_file: dict[str, list[str]] = field(default_factory=dict, repr=False, compare=False)

    def add(self, file: str, text: str) -> None:
        self.texts[file] = text
        self.lines_by_file.pop(file, None)

    def line(self, file: str, number: int) -> str | None:
        lines = self.lines_by_file.get(file)
        if lines is None:
            text = self.texts.get(file)
            if text is None:
                try:
                    with open(file, encoding="utf-8") as handle:
                        text = handle.read()
                except (OSError, UnicodeDecodeError):
                    return None
                self.texts[file] = text
            lines = self.lines_by_file[file] = text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else None


def _quote(span: Span, sources: SourceCache, label: str | None) -> list[str]:
    line = sources.line(span.file, span.line)
    if line is None:
        return []
    gutter = str(span.line)
    pad = " " * len(gutter)
    expanded = line.replace("\t", "    ")
    column = len(line[: span.column - 1].replace("\t", "    ")) + 1
    width = 1
    if span.end_line == span.line and span.end_column > span.column:
        width = span.end_column - span.column
    width = max(1, min(width, len(expanded) - column + 1))
    caret = " " * (column - 1) + "^" * width + (f" {label}" if label else "")
    return [f" {gutter} | {expanded}", f" {pad} | {caret}"]


def format_diagnostic(diagnostic: Diagnostic, sources: SourceCache) -> str:
    """Render a diagnostic as `file:line:col: error: message`, the quoted line, a caret and hints."""
    span = diagnostic.span
    where = f"{span.file}:{span.line}:{span.column}: " if span else ""
    out = [f"{where}{diagnostic.severity}: {diagnostic.message}"]
    if span:
        out += _quote(span, sources, diagnostic.label)
    for note in diagnostic.notes:
        if note.span:
            out.append(f"  note: {note.message} ({note.span.file}:{note.span.line}:{note.span.column})")
            out += _quote(note.span, sources, None)
        else:
            out.append(f"  note: {note.message}")
    if diagnostic.hint:
        out.append(f"  hint: {diagnostic.hint}")
    return "\n".join(out)


def format_failure(failure: ArtError, sources: SourceCache) -> str:
    """Every diagnostic of `failure` up to `MAX_SHOWN_DIAGNOSTICS`, then how many there are and how
    many were not shown."""
    shown = failure.diagnostics[:MAX_SHOWN_DIAGNOSTICS]
    out = [format_diagnostic(diagnostic, sources) for diagnostic in shown]
    count = len(failure.diagnostics)
    if count > len(shown):
        out.append(f"{count:,} errors: the first {len(shown)} are shown, "
                   f"{count - len(shown):,} more are not")
    elif count > 1:
        out.append(f"{count} errors")
    return "\n".join(out)
