"""A loaded model at work: latents to RGBA pictures (`decode`), pictures to latents (`encode`).

**Same latent, same bytes.** A frame must come out identical however an export groups frames into
batches and however many threads torch uses. On this machine torch's CPU kernels are not batch
invariant out of the box: a linear layer's matrix product takes other code paths (and summation
orders) for different batch sizes and thread counts, and oneDNN's convolutions treat a batch of one
differently from larger ones (differences of about 1e-7). So `prepare` makes every linear layer
multiply one row at a time, and a lone latent is decoded as a batch of two copies of itself; with
both, outputs were bit-identical for every batch size 1..64 and 1 or 2 threads (see
tests/test_models_store.py). A TorchScript model cannot be changed that way and is run one latent
at a time.

**Speed.** Inference runs under `torch.inference_mode()` with the model in eval mode and its
convolution weights in `channels_last` layout (measured here: 1.2-1.7x faster at batch 1, 1.4-2x
at batch 16), in batches of at most 64. `threads` sets torch's thread count for one call (the
live preview decodes with 1, an export with all); torch's setting is process-wide, so calls take
a lock and put the old count back.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from artlang.core.errors import RUNTIME, error
from artlang.models.config import ModelConfig

BATCH = 64                               # latents (or pictures) per forward call at the most
GRAY = np.array([0.299, 0.587, 0.114], np.float32)   # Pillow's "L", as the training images were
F32 = np.float32
_threads_lock = threading.Lock()


def prepare(module, *, scripted: bool):
    """The module ready for inference: eval mode, no gradients, and (unless TorchScript) linear
    layers one row at a time and convolution weights channels_last."""
    import torch  # heavy: loaded only when a model is used
    module.eval()
    if scripted:
        return module
    module.requires_grad_(False)
    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            layer.forward = _row_by_row(layer)
    return module.to(memory_format=torch.channels_last)


def _row_by_row(layer):
    """A linear layer's forward that multiplies each row on its own: the same bits for a row
    whatever batch it comes in (torch's matrix product is not batch invariant)."""
    import torch  # heavy: loaded only when a model is used

    def forward(x):
        rows = [torch.nn.functional.linear(row, layer.weight, layer.bias) for row in x.split(1)]
        return rows[0] if len(rows) == 1 else torch.cat(rows)
    return forward


@contextmanager
def torch_threads(threads: int | None):
    """Run torch with `threads` intra-op threads (None: as it is), one caller at a time, and put
    the previous count back.

    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch  # heavy: loaded only when a model is used
    with _threads_lock:
        previous = torch.get_num_threads()
        change = bool(threads) and threads != previous
        if change:
            torch.set_num_threads(threads)
        try:
            with torch.inference_mode():
                yield torch
        finally:
            if change:
                torch.set_num_threads(previous)


@dataclass(eq=False)
class LoadedModel:
    """A model read by `store.load_model`: its config, the file it came from, a digest of its
    weights and config (for cache keys), and the torch module.

    >>> from artlang.models.architectures import build
    >>> config = ModelConfig(kind="vae", architecture="convvae", image_size=32, z_size=4, width=8)
    >>> model = LoadedModel(config, Path("tiny"), "", prepare(build(config), scripted=False))
    >>> model.decode(np.zeros((3, 4))).shape, model.encode(np.ones((1, 50, 40, 4))).shape
    ((3, 32, 32, 4), (1, 4))
    """

    config: ModelConfig
    source: Path
    digest: str
    module: object
    one_at_a_time: bool = False          # TorchScript: see the module docstring

    @property
    def name(self) -> str:
        return self.config.name or self.source.stem

    def decode(self, z: np.ndarray, threads: int | None = None) -> np.ndarray:
        """Pictures for latents (N, z_size) (or one latent (z_size,)): float32 RGBA (N, S, S, 4) in
        0..1, mapped from the model's output range, gray repeated to RGB, alpha 1."""
        z = np.asarray(z, F32)
        z = z[None] if z.ndim == 1 else z
        if z.ndim != 2 or z.shape[1] != self.config.z_size:
            raise error(f"the model `{self.name}` takes latents of {self.config.z_size} numbers, "
                        f"got an array of shape {z.shape}", stage=RUNTIME,
                        hint="make latents for this model (its z_size)")
        with torch_threads(threads) as torch:
            out = self._batched(torch.from_numpy(np.ascontiguousarray(z)), self.module)
        low, high = self.config.output_range
        pixels = (out.permute(0, 2, 3, 1).numpy() - F32(low)) / F32(high - low)
        pictures = np.ones(pixels.shape[:3] + (4,), F32)
        pictures[..., :3] = np.fmin(np.fmax(pixels, F32(0)), F32(1))    # fmax turns NaN into 0
        return pictures

    def encode(self, images: np.ndarray, threads: int | None = None) -> np.ndarray:
        """The VAE's latents (means) for RGBA pictures (N, H, W, 4) in 0..1, (N, z_size) float32.
        A picture is composited over black (straight alpha, as artlang's writers do without an
        alpha channel), cropped to its middle square and resized to the model's size with
        antialiasing (as training images are fitted), and made gray with Pillow's weights for a
        one-channel model."""
        if self.config.kind != "vae":
            raise error(f"`{self.name}` is a GAN: only a VAE can encode an image", stage=RUNTIME,
                        hint="load a VAE to encode pictures")
        images = np.asarray(images, F32)
        if images.ndim != 4 or images.shape[-1] != 4:
            raise error(f"encode takes RGBA pictures (N, height, width, 4), got {images.shape}",
                        stage=RUNTIME)
        encode = getattr(self.module, "encode", None)
        if encode is None:
            raise error(f"the VAE `{self.name}` has no `encode` method", stage=RUNTIME,
                        hint="a TorchScript VAE must export encode(images) -> (mean, log_variance)")
        with torch_threads(threads) as torch:
            batch = torch.from_numpy(np.ascontiguousarray(self._model_input(images)))
            return self._batched(batch, lambda x: encode(x)[0]).numpy().astype(F32)

    def _model_input(self, images: np.ndarray) -> np.ndarray:
        """RGBA (N, H, W, 4) to the model's input (N, channels, S, S) in 0..1."""
        import torch  # heavy: loaded only when a model is used
        clean = np.fmin(np.fmax(images, F32(0)), F32(1))
        rgb = clean[..., :3] * clean[..., 3:]
        height, width = rgb.shape[1:3]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        square = np.ascontiguousarray(rgb[:, top:top + side, left:left + side].transpose(0, 3, 1, 2))
        size = self.config.image_size
        if side != size:
            square = torch.nn.functional.interpolate(torch.from_numpy(square), size=(size, size),
                                                     mode="bilinear", antialias=True,
                                                     align_corners=False).numpy()
        if self.config.channels == 1:
            square = np.tensordot(GRAY, square, axes=([0], [1]))[:, None]
        return square.astype(F32)

    def _batched(self, inputs, run):
        """`run` over inputs in batches of at most BATCH (one at a time for TorchScript), a lone
        input doubled so it takes the same kernels as in a larger batch."""
        import torch  # heavy: loaded only when a model is used
        largest = 1 if self.one_at_a_time else BATCH
        outputs = []
        for part in inputs.split(largest):
            try:
                if len(part) == 1 and not self.one_at_a_time:
                    outputs.append(run(torch.cat([part, part]))[:1])
                else:
                    outputs.append(run(part))
            except RuntimeError as problem:
                raise error(f"the model `{self.name}` ({self.source}) failed: "
                            f"{str(problem).splitlines()[0]}", stage=RUNTIME) from None
        return torch.cat(outputs).float()

    def check_output(self, path: Path) -> None:
        """Refuse a model (TorchScript) whose pictures do not have the config's shape."""
        config = self.config
        needed = (1, config.channels, config.image_size, config.image_size)
        with torch_threads(None) as torch:
            shape = tuple(self._batched(torch.zeros(1, config.z_size), self.module).shape)
        if shape != needed:
            raise error(f"`{path}` gives pictures of shape {shape} for one latent, but its config "
                        f"says {needed}", stage=RUNTIME,
                        hint="the config must describe the model: channels and image_size")
