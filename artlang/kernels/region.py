"""The part of a canvas being computed (a tile, or all of it), and margins around it.

A built-in that reads pixels beyond its own (a blur) is computed over its region grown by its
margin and cut back, so a tile equals the whole canvas bit for bit.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """The part of the canvas being computed (the whole canvas, or one tile of it)."""
    x0: int
    y0: int
    width: int
    height: int

    def grown(self, margin: "Margin", width: int, height: int) -> "Region":
        """This region with `margin` pixels more on each side, cut to a width x height canvas.

        >>> Region(10, 0, 20, 5).grown(Margin(4, 4, 4, 4), 100, 100)
        Region(x0=6, y0=0, width=28, height=9)
        """
        x0, y0 = max(0, self.x0 - margin.left), max(0, self.y0 - margin.top)
        x1 = min(width, self.x0 + self.width + margin.right)
        y1 = min(height, self.y0 + self.height + margin.bottom)
        return Region(x0, y0, x1 - x0, y1 - y0)


@dataclass(frozen=True)
class Margin:
    """Pixels on each side of a region: how far a filter reads beyond the pixel it computes.

    >>> Margin(1, 2, 3, 4) + Margin(1, 1, 1, 1)
    Margin(left=2, top=3, right=4, bottom=5)
    """
    left: int = 0
    top: int = 0
    right: int = 0
    bottom: int = 0

    def __add__(self, other: "Margin") -> "Margin":
        return Margin(self.left + other.left, self.top + other.top, self.right + other.right,
                      self.bottom + other.bottom)

    def most(self, other: "Margin") -> "Margin":
        """The larger of the two on each side."""
        return Margin(max(self.left, other.left), max(self.top, other.top),
                      max(self.right, other.right), max(self.bottom, other.bottom))

    def covers(self, other: "Margin") -> bool:
        return self.most(other) == self

    @property
    def largest(self) -> int:
        return max(self.left, self.top, self.right, self.bottom)
