"""Resource limits: one table, read by the checks, `--limit NAME=VALUE`, the environment
(`ARTLANG_MAX_NAME`), `artlang limits` and docs/errors.md.

Each limit is checked before the work it bounds starts where that is possible (a canvas's pixels
before any array is made, an image's size from its header before it is decoded, a model file's
size before it is read, a sketch's frames before the first is drawn); time per frame is checked
between built-in calls, so a frame stops at the first call that ends past its budget.

>>> Limits().max_frames, Limits.parse("frames=10").max_frames
(100000, 10)
>>> Limits.parse("frame-seconds=0.5").max_frame_seconds
0.5
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from artlang.core.errors import USAGE, did_you_mean, error

ENVIRONMENT_PREFIX = "ARTLANG_MAX_"


def _limit(default, about: str):
    return field(default=default, metadata={"about": about})


@dataclass(frozen=True)
class Limits:
    max_pixels: int = _limit(
        16_777_216, "pixels of a canvas drawn in memory (4096 x 4096: each colour field of it "
                    "takes 256 MiB); also the most one tile, grown by its filters' reach, may have")
    max_tiled_pixels: int = _limit(
        1 << 30, "pixels of a canvas drawn in tiles and streamed to a .png or .tif (32768 x 32768)")
    max_frames: int = _limit(100_000, "frames of an animation (55 minutes at 30 fps)")
    max_export_frames: int = _limit(
        1_000_000, "frames one export renders in all: the frames of each variation (every seed "
                   "and param value of a sweep, or each picture of --dataset N)")
    max_frame_seconds: float = _limit(
        600.0, "seconds one frame (or one tile) may take; checked between built-in calls")
    max_call_depth: int = _limit(64, "user functions called inside one another")
    max_inlined_calls: int = _limit(
        20_000, "user function calls in a sketch once every call is expanded (a function that "
                "calls another twice, ten deep, expands to 1,024 calls)")
    max_import_depth: int = _limit(32, "modules imported inside one another")
    max_source_bytes: int = _limit(1_000_000, "bytes of one .art file")
    max_image_bytes: int = _limit(256 * 2 ** 20, "bytes of an image file a sketch reads")
    max_image_pixels: int = _limit(
        100_000_000, "pixels of an image file a sketch reads, from its header before decoding "
                     "(a decompression bomb is refused before it takes memory)")
    max_model_bytes: int = _limit(
        512 * 2 ** 20, "bytes of a model's weights file (a 64 x 64 model of width 64 is ~10 MiB)")

    @staticmethod
    def names() -> list[str]:
        """The limits by the name `--limit` takes: `pixels`, `frame-seconds`, ..."""
        return [_name(f) for f in dataclasses.fields(Limits)]

    @staticmethod
    def describe() -> list[tuple[str, object, str, str]]:
        """(name, default, environment variable, meaning) for every limit."""
        return [(_name(f), f.default, _variable(f), f.metadata["about"])
                for f in dataclasses.fields(Limits)]

    @classmethod
    def from_environment(cls, environment=None) -> "Limits":
        """The defaults, with any `ARTLANG_MAX_NAME` variable set in the environment."""
        environment = os.environ if environment is None else environment
        values = {}
        for limit in dataclasses.fields(cls):
            text = environment.get(_variable(limit))
            if text:
                values[limit.name] = _value(limit, text, _variable(limit))
        return cls(**values)

    @classmethod
    def parse(cls, *settings: str, base: "Limits | None" = None) -> "Limits":
        """`base` (the environment's limits by default) with `NAME=VALUE` settings applied."""
        limits = base or cls.from_environment()
        by_name = {_name(f): f for f in dataclasses.fields(cls)}
        for setting in settings:
            name, _, text = setting.partition("=")
            limit = by_name.get(name.strip().lower().replace("_", "-"))
            if limit is None or not text:
                raise error(f"--limit {setting}: expected NAME=VALUE with a NAME of "
                            + ", ".join(by_name), stage=USAGE,
                            hint=did_you_mean(name, by_name) or "`artlang limits` lists them")
            limits = dataclasses.replace(limits, **{limit.name: _value(limit, text, "--limit " + name)})
        return limits

    def check_export_frames(self, variations: int, frames: int = 1) -> None:
        """Refuse an export of `variations` x `frames` frames over `max_export_frames`, before any
        list of them is made."""
        if variations * frames > self.max_export_frames:
            what = f"{variations:,} variations" + (f" of {frames:,} frames" if frames > 1 else "")
            raise error(f"the export would render {variations * frames:,} frames ({what}), over "
                        f"the limit of {self.max_export_frames:,}", stage=USAGE,
                        hint="fewer seeds, param values or frames, or raise the limit: "
                             "--limit export-frames=N")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def size_text(size: int) -> str:
    """A number of bytes as people read it.

    >>> size_text(30), size_text(1_234), size_text(536_870_912)
    ('30 bytes', '1.2 KiB', '512.0 MiB')
    """
    for unit, scale in (("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:,} bytes"


def _name(limit) -> str:
    return limit.name.removeprefix("max_").replace("_", "-")


def _variable(limit) -> str:
    return ENVIRONMENT_PREFIX + limit.name.removeprefix("max_").upper()


def _value(limit, text: str, where: str):
    number = float if limit.type in (float, "float") else int
    try:
        value = number(text.strip().replace("_", ""))
    except ValueError:
        value = None
    if value is None or not value > 0 or value != value or value == float("inf"):
        raise error(f"{where}={text}: expected a positive {'number' if number is float else 'whole number'}",
                    stage=USAGE, hint=f"the default is {limit.default:,}")
    return value
