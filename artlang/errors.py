"""Diagnostics: what went wrong, where, and what to do about it.

The core never prints. It raises `ArtError` carrying one or more `Diagnostic`s; the command line
turns them into text with `format_diagnostic` and picks an exit code from `ArtError.stage`.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable

from .ast import Span

# Which stage of the pipeline a failure belongs to decides the exit code (see cli.EXIT_CODES).
SYNTAX, CHECK, USAGE, RUNTIME = "syntax", "check", "usage", "runtime"


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

    >>> did_you_mean("fmb", ["fbm", "floor", "fract"])
    'did you mean `fbm`?'
    """
    close = difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in candidates}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    if not close:
        return None
    return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"


@dataclass
class SourceCache:
    """Source text by file name, so diagnostics can quote the offending line."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, file: str, text: str) -> None:
        self.texts[file] = text

    def line(self, file: str, number: int) -> str | None:
        text = self.texts.get(file)
        if text is None:
            try:
                with open(file, encoding="utf-8") as handle:
                    text = handle.read()
            except (OSError, UnicodeDecodeError):
                return None
            self.texts[file] = text
        lines = text.splitlines()
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
