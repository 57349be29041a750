"""A job's animations (GIF, WebP, MP4), each encoded while its frames are still being rendered.

A frame goes to the encoder as soon as every frame before it is there, so x264 (or the GIF / WebP
encoder) works beside the renderers instead of after the last frame. Frames are cached on disk all
the same (`frame_cache`), so an interrupted export resumes; a finished animation gets a sidecar
JSON with its recipe and its frame cache is removed.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from artlang.export.variations import Variation
from artlang.output.encoders import AnimationWriter, prepare_frame, write_sidecar


class Animations:
    """The animations of a job (`jobs.Job`) that are not finished yet, fed frame by frame."""

    def __init__(self, job, todo: list):
        """`todo`: the units rendered in this run; the others are cached on disk already."""
        self.job, self.many = job, len(job.variations) > 1
        self.writers: dict[int, AnimationWriter] = {}   # id(variation) -> its open writer
        self.next: dict[int, int] = {}            # id(variation) -> position of the frame it waits for
        self.ready: dict[int, dict] = {}          # id(variation) -> {position: prepared frame,
                                                  #   or None when it is cached on disk}
        self.position = {}                        # id(unit) -> its position in its animation
        pending = {id(unit) for unit in todo}
        for variation in job.variations:
            if job.finished(variation):
                continue
            units = job.variation_units(variation)
            self.position.update((id(unit), index) for index, unit in enumerate(units))
            self.next[id(variation)] = 0
            self.ready[id(variation)] = {index: None for index, unit in enumerate(units)
                                         if id(unit) not in pending}      # cached on disk
        # no encoder starts before the first frame arrives: a process backend forks its workers
        # before that, and they must not inherit an encoder's pipe (ffmpeg would never see EOF)

    def finish(self) -> None:
        """Encode what is left: animations whose frames were all cached by an earlier run."""
        for variation in self.job.variations:
            if id(variation) in self.next:
                self._advance(variation)

    def arrived(self, unit, prepared) -> None:
        """A frame rendered now, as `encoders.prepare_frame` made it."""
        self.ready[id(unit.variation)][self.position[id(unit)]] = prepared
        self._advance(unit.variation)

    def _advance(self, variation: Variation) -> None:
        key, units = id(variation), self.job.variation_units(variation)
        ready, job = self.ready[key], self.job
        while self.next[key] in ready:
            prepared = ready.pop(self.next[key])
            if prepared is None:                          # cached by an earlier run
                image = read_png(units[self.next[key]].target)
                prepared = prepare_frame(job.format, image, job.size)
            if key not in self.writers:
                self.writers[key] = AnimationWriter(job.variation_path(variation, self.many),
                                                    job.format, job.fps, job.size, quality=job.quality)
            self.writers[key].add_prepared(prepared)
            self.next[key] += 1
        if self.next[key] == len(units) and key in self.writers:
            self._finish(variation, self.writers.pop(key))

    def _finish(self, variation: Variation, writer: AnimationWriter) -> None:
        job = self.job
        writer.close()
        first = job.variation_units(variation)[0].recipe
        write_sidecar(writer.path, {"recipe": first.to_dict(), "frames": job.frames,
                                    "fps": job.fps, "format": job.format, "quality": job.quality,
                                    "job": job.animation_key(variation)})
        shutil.rmtree(frame_cache(writer.path), ignore_errors=True)

    def abort(self) -> None:
        """Drop the half-encoded animations (their cached frames stay for the next run)."""
        for writer in self.writers.values():
            writer.abort()
        self.writers.clear()


def frame_cache(output: Path) -> Path:
    """Where an animation's frames wait until it is encoded (kept if the export is interrupted)."""
    return output.with_name(f".{output.name}.frames")


def read_png(path: Path) -> np.ndarray:
    """A PNG as RGBA float32 in 0..1 (an 8-bit frame read back exactly)."""
    with Image.open(path) as picture:
        pixels = np.asarray(picture.convert("RGBA"), dtype=np.float32)
    return pixels / np.float32(255.0)
