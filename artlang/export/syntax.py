"""The text forms an export's options take, read into values: seeds (`7`, `1,5,9`, `0..99`), a
param's values (`3`, `a,b,c`, `1..5:5`, `1..5`) and frames (`0..59`, `0,10,20`).

Each raises `ArtError` (USAGE) quoting the text it was given; the command line prints it. A range
stays a `range`, so one as long as `0..1000000000` is counted against the limits before it is
listed.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from artlang.core.errors import USAGE, error
from artlang.core.limits import Limits


def parse_seeds(text: str) -> Sequence[int]:
    """`7`, `1,5,9` or the inclusive range `0..99` (a `range`: counted before it is listed).

    >>> list(parse_seeds("0..3")), parse_seeds("4,2")
    ([0, 1, 2, 3], [4, 2])
    """
    try:
        if ".." in text:
            low, high = (int(part) for part in text.split(".."))
            if high < low:
                raise ValueError
            return range(low, high + 1)
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise error(f"--seed {text}: expected a seed (7), a list (1,5,9) or a range (0..99)",
                    stage=USAGE) from None


def parse_values(name: str, text: str, limits: Limits | None = None) -> list | tuple:
    """A param's values in a sweep: `3`, `a,b,c`, `1..5:5` (five evenly spaced, ends included),
    or `1..5` without a count: a range sampled at random (for data sets), as ("random", 1, 5).
    A count over the export-frames limit is refused before the values are made.

    >>> parse_values("s", "1..2:3"), parse_values("s", "1..5"), parse_values("ink", "#ff0000,2")
    ([1.0, 1.5, 2.0], ('random', 1.0, 5.0), ['#ff0000', 2.0])
    """
    try:
        if ".." in text:
            bounds, _, count = text.partition(":")
            low, high = (float(part) for part in bounds.split(".."))
            if not count:
                return ("random", low, high)
            count = int(count)
            if count < 1:
                raise ValueError
            (limits or Limits.from_environment()).check_export_frames(count)
            return [float(v) for v in np.linspace(low, high, count)] if count > 1 else [low]
    except ValueError:
        raise error(f"--param {name}={text}: expected VALUE, V1,V2,..., LOW..HIGH:COUNT or LOW..HIGH",
                    stage=USAGE) from None
    return [_number_or_text(part) for part in text.split(",")]


def _number_or_text(text: str):
    try:
        return float(text)
    except ValueError:
        return text.strip()


def parse_frames(text: str | None) -> range | list[int] | None:
    """`A..B` (inclusive, a `range`: the job checks it against the animation before listing it)
    or a list `0,10,20`; None (all frames) when no text is given.

    >>> parse_frames("2..4"), parse_frames("0,10"), parse_frames(None)
    (range(2, 5), [0, 10], None)
    """
    if text is None:
        return None
    try:
        if ".." in text:
            first, last = (int(part) for part in text.split(".."))
            frames = range(first, last + 1)
        else:
            frames = [int(part) for part in text.split(",")]
    except ValueError:
        frames = []
    if not frames:
        raise error(f"--frames {text}: expected A..B like 0..59 (A at most B), or a list 0,10,20",
                    stage=USAGE)
    return frames
