"""The variations of an export: one seed and set of param values each, from a sweep (every
combination) or a data set (seeded random draws). Each is counted against the export-frames
limit before any is made.

>>> [v.slug for v in sweep([1, 2], {"scale": [2.0, 4.5]})]
['seed1_scale2', 'seed1_scale4.5', 'seed2_scale2', 'seed2_scale4.5']
>>> sweep(None, {"ink": ["#ff0000"]})[0].label
'ink #ff0000'
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from artlang.core.errors import USAGE, error
from artlang.core.limits import Limits


@dataclass(frozen=True)
class Variation:
    """One seed and set of param overrides; `slug` names its files, `label` its sheet cell."""
    seed: int | None                # None: the sketch's own seed
    params: tuple = ()              # ((name, value), ...) in the order given
    index: int = 0                  # its place in the export (names its files when it has no slug)

    @property
    def label(self) -> str:
        parts = ([] if self.seed is None else [f"seed {self.seed}"]) + \
            [f"{name} {_short(value)}" for name, value in self.params]
        return ", ".join(parts)

    @property
    def slug(self) -> str:
        parts = ([] if self.seed is None else [f"seed{self.seed}"]) + \
            [f"{name}{_short(value)}" for name, value in self.params]
        return "_".join(part.replace("#", "") for part in parts)


def _short(value) -> str:
    return f"{value:.9g}" if isinstance(value, float) else str(value)


def sweep(seeds: Sequence[int] | None, params: dict[str, list],
          limits: Limits | None = None) -> list[Variation]:
    """Every combination of the seeds and param values (a random range is not allowed here),
    counted against the export-frames limit before any is made."""
    for name, values in params.items():
        if isinstance(values, tuple):
            raise error(f"--param {name}: give a count to sweep a range (LOW..HIGH:COUNT); a range "
                        "without one is sampled at random, in --dataset mode", stage=USAGE)
    names = list(params)
    (limits or Limits.from_environment()).check_export_frames(
        math.prod([len(seeds or [None]), *(len(values) for values in params.values())]))
    combos = itertools.product(seeds or [None], *(params[n] for n in names))
    return [Variation(seed, tuple(zip(names, values)), index)
            for index, (seed, *values) in enumerate(combos)]


def dataset(count: int, first_seed: int, params: dict[str, list | tuple],
            limits: Limits | None = None) -> list[Variation]:
    """`count` variations with seeds `first_seed`, `first_seed + 1`, ...; params given as a range
    are drawn uniformly from it, lists are drawn from, single values kept (all seeded: the same
    command gives the same data set)."""
    (limits or Limits.from_environment()).check_export_frames(count)
    variations = []
    for index in range(count):
        generator = np.random.default_rng([first_seed, index])
        chosen = []
        for name, values in params.items():
            if isinstance(values, tuple):
                chosen.append((name, float(np.float32(generator.uniform(values[1], values[2])))))
            else:
                chosen.append((name, values[int(generator.integers(len(values)))]))
        variations.append(Variation(first_seed + index, tuple(chosen), index))
    return variations
