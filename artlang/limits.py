"""Resource limits, checked before work starts. Configurable by flags and environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass


def _from_environment(name: str, default: int) -> int:
    text = os.environ.get(name)
    try:
        return int(text) if text else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    max_pixels: int = 16_777_216        # 4096 x 4096; every colour field of it takes 256 MiB. Also
                                        # the most pixels one tile (grown by its filters' reach) has
    max_tiled_pixels: int = 1 << 30     # 32768 x 32768: a canvas drawn in tiles and streamed to a
                                        # file (tiles.py), in memory bounded by the tile, not the canvas

    @classmethod
    def from_environment(cls) -> "Limits":
        return cls(max_pixels=_from_environment("ARTLANG_MAX_PIXELS", cls.max_pixels),
                   max_tiled_pixels=_from_environment("ARTLANG_MAX_TILED_PIXELS", cls.max_tiled_pixels))
