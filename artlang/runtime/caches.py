"""Where a render keeps what it computed, from the longest-lived to the shortest.

- `across_frames`: values that do not change with time, keyed by (structural key, cache scope)
  (`compiler.Compiler.cached`), image files fitted to the whole canvas and decoded model pictures.
  The renderer's own (the live session keeps it across edits too); a tile gets one of its own,
  dropped with the tile.
- `across_tiles`: image files fitted to the canvas, kept 8-bit for all the tiles of one canvas.
- `this_frame`: values used twice within one frame, for one region.
- `regions`: the contexts of the regions grown around a tile within one frame (`FrameContext.at`).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace

_ACROSS_TILES_LOCK = threading.Lock()


@dataclass
class Caches:
    """The caches one frame's context reads and fills."""
    across_frames: dict = field(default_factory=dict)
    across_tiles: dict = field(default_factory=dict)
    this_frame: dict = field(default_factory=dict)
    regions: dict = field(default_factory=dict, repr=False)   # Region -> FrameContext

    def for_region(self) -> Caches:
        """The caches of another region of the same frame: its own `this_frame`."""
        return replace(self, this_frame={})

    def for_frame(self) -> Caches:
        """The caches of another frame: its own `this_frame` and regions."""
        return replace(self, this_frame={}, regions={})

    def kept(self, key, make):
        """The value kept across frames under `key`, made by `make()` the first time."""
        if key not in self.across_frames:
            self.across_frames[key] = make()
        return self.across_frames[key]

    def shared_by_tiles(self, key, make):
        """The value all the tiles of the canvas read under `key`, made once by `make()` even when
        the tiles are drawn on threads."""
        with _ACROSS_TILES_LOCK:
            if key not in self.across_tiles:
                self.across_tiles[key] = make()
            return self.across_tiles[key]

    def drop(self) -> None:
        """Forget a tile's values once it is drawn (the grown regions' contexts refer to each
        other, so their values are dropped by hand)."""
        for grown in self.regions.values():
            grown.caches.this_frame.clear()
        self.regions.clear()
        self.across_frames.clear()
        self.this_frame.clear()
