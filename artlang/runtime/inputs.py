"""What a render reads from outside the sketch: the image and model files of its project.

`Renderer.context` hands the same `Inputs` to every frame and tile of a render. It finds, checks
and loads files; where their pixels are kept between calls is the frame's business
(`FrameContext.load_image`, `FrameContext.decoded`, and the caches of `caches.py`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from artlang.core.limits import Limits
from artlang.kernels.images import FittedPicture, load_fitted
from artlang.kernels.threads import get_threads
from artlang.language.project import ZOO_PREFIX, ProjectFiles, zoo_dir
from artlang.models import store


@dataclass(frozen=True)
class Inputs:
    """The project's files, and the rules for reading them."""
    files: ProjectFiles | None = None        # where `image(...)` and `model(...)` files are found
    limits: Limits = field(default_factory=Limits)   # image and model file sizes
    trust: bool = False                      # models that run code when loaded may be loaded
    model_threads: int | None = None         # torch threads for decoding (None: artlang's count)

    def fitted_image(self, path: str, width: int, height: int, fit: str, crop=None) -> np.ndarray:
        """The image file fitted to a width x height canvas, as float32 RGBA."""
        return load_fitted(self.files.image_path(path), width, height, fit, crop, self.limits)

    def fitted_picture(self, path: str, width: int, height: int, fit: str,
                       crop=None) -> FittedPicture:
        """The image file fitted to a width x height canvas, kept 8-bit: what each tile cuts its
        part from."""
        return FittedPicture.load(self.files.image_path(path), width, height, fit, crop,
                                  self.limits)

    def load_model(self, source: str):
        """The model a checked `model(...)` names: `zoo:NAME` or a path inside the project."""
        if source.startswith(ZOO_PREFIX):
            path = zoo_dir() / source[len(ZOO_PREFIX):]
        else:
            path = self.files.model_path(source) if self.files is not None else Path(source)
        return store.load_model(path, trust=self.trust, max_bytes=self.limits.max_model_bytes)

    def decoding_threads(self) -> int:
        """torch threads a model decodes with."""
        return self.model_threads or get_threads()
