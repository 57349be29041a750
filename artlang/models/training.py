"""Training a GAN or VAE for a wall-clock budget, with checkpoints, exact resume, a sample grid per
epoch, and at the end the model, its pictures, its metrics and its card. The recipes themselves
are in `recipes.py`.

What ends up in the output folder:
  checkpoint.pt     every `checkpoint_every` steps, at the end and when stopped: state dicts and
                    plain numbers only (`torch.load(weights_only=True)` reads it), written atomically
  samples/          a grid per epoch from fixed latents (epoch-0001.png, ...)
  config.json, model.safetensors    the averaged generator or the VAE, float16 when that changes
                    no sample by more than 2/255 (else float32)
  samples.png, walk.png (and reconstructions.png for a VAE), metrics.json, card.md

`--minutes` is the budget of the whole run: a resumed run continues until the time trained adds
up to it (pass a larger number to train longer). Each step draws its batch from a permutation
seeded by (seed, epoch) and its noise from a generator seeded by (seed, step), so stopping and
resuming gives bit-for-bit the weights of an uninterrupted run of the same number of steps.

>>> import tempfile
>>> result = train("vae", "glyphs", size=32, steps=2, count=64, batch=16, width=8, z_size=4,
...                output=Path(tempfile.mkdtemp()) / "tiny", evaluate=False)
>>> result.steps, result.finished, (result.output / "model.safetensors").exists()
(2, True, True)
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import pickle
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import USAGE, error
from .card import draw_pictures, sample_grid, save_picture, write_card
from .config import ModelConfig
from .datasets import DataSet, load_data
from .metrics import evaluate_model
from .recipes import AUGMENTATIONS, GanRecipe, VaeRecipe, random_stream
from .store import save_model

CHECKPOINT = "checkpoint.pt"
LOCK = ".train.lock"                   # held while a run writes into the folder (kept, ignored by git)
CHECKPOINT_FORMAT = 1
HELD_OUT = 0.1                          # of the data kept aside for the metrics
FLOAT16_TOLERANCE = 2 / 255             # largest sample change allowed by storing float16
DEFAULTS = {"gan": {"z_size": 64, "width": 32, "discriminator_width": 64},
            "vae": {"z_size": 16, "width": 32}}


@dataclass(frozen=True)
class Progress:
    """What the progress callback receives after each step."""

    step: int
    epoch: int
    steps_per_epoch: int
    losses: dict
    elapsed: float                      # seconds trained, over all resumed runs
    remaining: float                    # seconds left of the budget (or estimated, with `steps`)


@dataclass(frozen=True)
class TrainingResult:
    output: Path
    config: ModelConfig
    steps: int
    seconds: float
    finished: bool                      # False when stopped early: resume to go on
    metrics: dict = dataclasses.field(default_factory=dict)


def train(kind: str, data: str, *, output: str | Path, size: int = 32, minutes: float = 10.0,
          resume: bool = False, seed: int = 0, steps: int | None = None, batch: int = 64,
          z_size: int | None = None, width: int | None = None,
          discriminator_width: int | None = None, augment: tuple[str, ...] = AUGMENTATIONS,
          sigma_floor: float = 0.1,
          count: int | None = None, channels: int = 3, threads: int = 2, checkpoint_every: int = 500, name: str = "",
          command: str = "", evaluate: bool = True,
          progress: Callable[[Progress], None] | None = None,
          stop: Callable[[], bool] | None = None) -> TrainingResult:
    """Train a `kind` ("gan" or "vae") model on `data` (a built-in data set's name or a folder)
    for `minutes` of wall clock (or `steps` steps, whichever comes first) into `output`.

    `stop` is polled between steps: when it returns True the run saves a checkpoint and returns
    with `finished=False`. `evaluate=False` skips the metrics (for tests and quick runs).
    `discriminator_width` and `augment` (DiffAugment's policies) apply to GANs, `sigma_floor`
    (the least decoder sigma) to VAEs.
    """
    output = Path(output)
    with _only_run_in(output):
        return _train(kind, data, output, size, minutes, resume, seed, steps, batch, z_size, width,
                      discriminator_width, augment, sigma_floor, count, channels, threads,
                      checkpoint_every, name, command, evaluate, progress, stop)


@contextmanager
def _only_run_in(output: Path):
    """Hold the folder's lock for the run: a second `artlang train` into the same folder (which
    would interleave checkpoints) is refused while the first runs. The lock goes with the process."""
    output.mkdir(parents=True, exist_ok=True)
    with open(output / LOCK, "a+b") as handle:
        try:
            import fcntl
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:              # not on a POSIX system: no lock
            pass
        except OSError:
            raise error(f"another `artlang train` is writing into {output}", stage=USAGE,
                        hint="wait for it to finish, or train into another folder with -o") from None
        yield


def _train(kind, data, output, size, minutes, resume, seed, steps, batch, z_size, width,
           discriminator_width, augment, sigma_floor, count, channels, threads, checkpoint_every,
           name, command, evaluate, progress, stop) -> TrainingResult:
    torch.set_num_threads(threads)
    checkpoint_path = output / CHECKPOINT
    if not resume and (checkpoint_path.exists() or (output / "config.json").exists()):
        raise error(f"{output} already holds a model or a checkpoint", stage=USAGE,
                    hint="add --resume to go on training it, or choose another folder with -o")
    checkpoint = _read_checkpoint(checkpoint_path) if resume else None
    options = _options(kind, data, size, seed, batch, z_size, width, count, channels, checkpoint,
                       discriminator_width=discriminator_width, augment=augment,
                       sigma_floor=sigma_floor)
    dataset = load_data(data, size, count=options["count"], seed=seed, channels=channels)
    training_set, held_out = dataset.split(HELD_OUT, seed)
    config = ModelConfig(kind=kind, architecture="dcgan" if kind == "gan" else "convvae",
                         image_size=size, z_size=options["z_size"], channels=dataset.channels,
                         width=options["width"],
                         output_range=(-1.0, 1.0) if kind == "gan" else (0.0, 1.0),
                         name=name or output.name, data=dataset.description)
    torch.manual_seed(seed)
    recipe = GanRecipe(config, options["discriminator_width"], options["augment"]) \
        if kind == "gan" else VaeRecipe(config, options["sigma_floor"])
    step, elapsed = 0, 0.0
    if checkpoint is not None:
        recipe.load_state_dict(checkpoint["recipe"])
        step, elapsed = int(checkpoint["step"]), float(checkpoint["elapsed"])
    output.mkdir(parents=True, exist_ok=True)

    loop = _Loop(recipe, training_set, options, seed, output)
    step, elapsed, stopped = loop.run(step, elapsed, minutes * 60, steps, checkpoint_every,
                                      progress, stop)
    if stopped:
        return TrainingResult(output, config, step, elapsed, finished=False)
    config = dataclasses.replace(config, training={
        "command": command, "data": data, "images": len(dataset.images),
        "training_images": len(training_set.images), "held_out_images": len(held_out.images),
        "minutes": minutes, "seconds_trained": round(elapsed, 1), "steps": step,
        "epochs": round(step / loop.steps_per_epoch, 2), "batch": batch, "seed": seed,
        "threads": threads, **({"discriminator_width": options["discriminator_width"],
                                 "augment": list(options["augment"])} if kind == "gan"
                                else {"sigma_floor": options["sigma_floor"]})})
    model = recipe.final_model(seed)
    return _finish(model, config, training_set, held_out, output, seed, evaluate)


def _options(kind, data, size, seed, batch, z_size, width, count, channels, checkpoint, *,
             discriminator_width, augment, sigma_floor) -> dict:
    """The settings that shape the run; a resumed run must be given the same ones."""
    defaults = DEFAULTS[kind]
    unknown = sorted(set(augment) - set(AUGMENTATIONS))
    if unknown:
        raise error(f"unknown augmentation {unknown[0]!r}", stage=USAGE,
                    hint=f"the augmentations: {', '.join(AUGMENTATIONS)}")
    if kind == "vae" and not 0 < sigma_floor < 1:
        raise error(f"--sigma-floor {sigma_floor:g} is outside 0..1 (exclusive)", stage=USAGE,
                    hint="the decoder's sigma is in pixel units (0..1): try 0.03 to 0.2")
    options = {"kind": kind, "data": str(data), "size": size, "seed": seed, "batch": batch,
               "z_size": z_size or defaults["z_size"], "width": width or defaults["width"],
               "discriminator_width": discriminator_width or defaults.get("discriminator_width", 0),
               "augment": [a for a in AUGMENTATIONS if a in augment] if kind == "gan" else [],
               "sigma_floor": sigma_floor if kind == "vae" else 0,
               "count": count, "channels": channels}
    if checkpoint is not None:
        saved = json.loads(checkpoint["options"])
        differing = [key for key in saved if options.get(key) != saved[key]]
        if differing:
            key = differing[0]
            raise error(f"the checkpoint was trained with {key} = {saved.get(key)!r}, not "
                        f"{options[key]!r}", stage=USAGE,
                        hint="resume with the options of the first run (only --minutes may change)")
    return options


def _read_checkpoint(path: Path) -> dict:
    if not path.exists():
        raise error(f"there is no checkpoint to resume in {path.parent}", stage=USAGE,
                    hint="train without --resume to start")
    try:
        checkpoint = torch.load(path, weights_only=True)
    except (RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError) as problem:
        raise error(f"cannot read the checkpoint {path}: {problem}", stage=USAGE,
                    hint="delete it to start again") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise error(f"{path} is not an artlang training checkpoint", stage=USAGE)
    return checkpoint


def save_checkpoint(path: Path, recipe, step: int, elapsed: float, options: dict) -> None:
    """Write the checkpoint atomically (a temporary file renamed over the old one)."""
    temporary = path.with_name(path.name + ".tmp")
    torch.save({"format": CHECKPOINT_FORMAT, "step": step, "elapsed": elapsed,
                "options": json.dumps(options), "recipe": recipe.state_dict()}, temporary)
    os.replace(temporary, path)


class _Loop:
    """Batches, steps, sample grids and checkpoints."""

    def __init__(self, recipe, training_set: DataSet, options: dict, seed: int, output: Path):
        self.recipe, self.options, self.seed, self.output = recipe, options, seed, output
        self.images = torch.from_numpy(training_set.images).permute(0, 3, 1, 2).contiguous()
        self.batch = min(options["batch"], len(self.images))
        self.steps_per_epoch = len(self.images) // self.batch
        self.fixed_latents = torch.randn(64, recipe.config.z_size, generator=random_stream(seed, -2))
        self._order = (-1, None)

    def batch_at(self, step: int) -> torch.Tensor:
        epoch, index = divmod(step, self.steps_per_epoch)
        if self._order[0] != epoch:
            order = torch.randperm(len(self.images), generator=random_stream(self.seed, epoch, 1))
            self._order = (epoch, order)
        picks = self._order[1][index * self.batch:(index + 1) * self.batch]
        return self.recipe.to_model_range(self.images[picks])

    def run(self, step, elapsed, budget, steps, checkpoint_every, progress, stop):
        """Train until the budget or step count is reached or `stop()`; returns (step, elapsed,
        stopped)."""
        self.recipe.train()
        started = time.monotonic() - elapsed
        stopped = False
        while elapsed < budget and (steps is None or step < steps):
            if stop is not None and stop():
                stopped = True
                break
            losses = self.recipe.step(self.batch_at(step), step, random_stream(self.seed, step))
            step += 1
            if step % self.steps_per_epoch == 0:
                self.save_epoch_grid(step // self.steps_per_epoch)
            if step % checkpoint_every == 0:
                save_checkpoint(self.output / CHECKPOINT, self.recipe, step,
                                time.monotonic() - started, self.options)
            elapsed = time.monotonic() - started
            if progress is not None:
                remaining = budget - elapsed
                if steps is not None:
                    remaining = min(remaining, (steps - step) * elapsed / max(step, 1))
                progress(Progress(step, step // self.steps_per_epoch, self.steps_per_epoch, losses,
                                  elapsed, max(remaining, 0.0)))
        save_checkpoint(self.output / CHECKPOINT, self.recipe, step, elapsed, self.options)
        return step, elapsed, stopped

    def save_epoch_grid(self, epoch: int) -> None:
        images = self.recipe.sample(self.fixed_latents)
        save_picture(sample_grid(images, 8), self.output / "samples" / f"epoch-{epoch:04d}.png")
        self.recipe.train()


def _finish(model, config: ModelConfig, training_set: DataSet, held_out: DataSet, output: Path,
            seed: int, evaluate: bool) -> TrainingResult:
    """Store the model (float16 if close enough), draw its pictures, measure it, write its card."""
    model, dtype = _rounded_to_float16(model, config)
    pictures = draw_pictures(model, config, held_out, output)
    metrics = {}
    if evaluate:
        metrics = evaluate_model(model, config, training_set, held_out, output, seed)
        (output / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    config = dataclasses.replace(config, training={**config.training, "dtype": dtype,
                                                   "metrics": metrics})
    save_model(output, model, config, half=dtype == "float16")
    write_card(output, config, metrics, pictures)
    return TrainingResult(output, config, config.training["steps"],
                          config.training["seconds_trained"], True, metrics)


def _rounded_to_float16(model, config: ModelConfig):
    """The model with its weights rounded through float16, if that moves no sample by more than
    FLOAT16_TOLERANCE (of the [0, 1] range); else the float32 model. Returns (model, dtype)."""
    z = torch.randn(64, config.z_size, generator=random_stream(0, -3))
    rounded = copy.deepcopy(model)
    rounded.load_state_dict({k: v.half() if v.is_floating_point() else v
                             for k, v in model.state_dict().items()})
    low, high = config.output_range
    with torch.no_grad():
        change = (model(z) - rounded(z)).abs().max().item() / (high - low)
    return (rounded, "float16") if change <= FLOAT16_TOLERANCE else (model, "float32")
