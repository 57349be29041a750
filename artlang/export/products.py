"""What an export writes beside its pictures: a data set's manifest and a contact sheet."""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np

from artlang.core.files import write_bytes
from artlang.export.animations import read_png
from artlang.export.jobs import Job, Unit
from artlang.output.encoders import contact_sheet
from artlang.output.writers import write_png


def write_manifest(job: Job) -> Path:
    """The data set's manifest beside its files: one JSON line per file (file, seed, params)."""
    path = job.output.with_suffix(".jsonl")
    lines = []
    for unit in job.units:
        name = os.path.relpath(unit.target if job.kind == "sequence" else
                               job.variation_path(unit.variation, True), path.parent)
        if job.kind != "sequence" and unit.frame != job.frames[0]:
            continue
        lines.append(json.dumps({"file": name, "index": unit.variation.index,
                                 "seed": unit.recipe.seed, "params": unit.recipe.params,
                                 "frame": unit.frame}, sort_keys=True))
    write_bytes(("\n".join(lines) + "\n").encode(), path)
    return path


def write_sheet(job: Job, path: Path, most_frames: int = 16) -> Path:
    """A labelled contact sheet: one cell per variation (its first frame), or, for a single
    animation, up to `most_frames` frames spread over it."""
    if len(job.variations) > 1:
        cells = [job.variation_units(v)[0] for v in job.variations]
        labels = [unit.variation.label for unit in cells]
    else:
        units = job.units
        step = max(1, math.ceil(len(units) / most_frames))
        cells = units[::step]
        labels = [f"frame {unit.frame}" for unit in cells]
    images = [_frame_image(job, unit) for unit in cells]
    longest = max(job.size)
    cell = None if longest <= 256 else (round(job.size[0] * 256 / longest),
                                         round(job.size[1] * 256 / longest))
    write_png(contact_sheet(images, labels, cell=cell), Path(path))
    return Path(path)


def _frame_image(job: Job, unit: Unit) -> np.ndarray:
    """A unit's picture, from its file, or drawn again when the file is a video or was removed
    (an animation's frame cache goes once the animation is encoded)."""
    if unit.target.is_file() and unit.target.suffix.lower() == ".png":
        return read_png(unit.target)
    return job.picture(unit)
