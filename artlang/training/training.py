"""Training a GAN or VAE for a wall-clock budget, with checkpoints, exact resume, a sample grid per
epoch, and at the end the model, its pictures, its metrics and its card; and `measure`, which
measures a saved model again. The recipes themselves are in `recipes.py`, the checks of the
settings in `settings.py`.

What ends up in the output folder:
  checkpoint.pt     every `checkpoint_every` steps, at the end and when stopped: state dicts and
                    plain numbers only (`torch.load(weights_only=True)` reads it), written atomically
  samples/          a grid per epoch from fixed latents (epoch-0001.png, ...)
  config.json, model.safetensors    the averaged generator or the VAE, float16 when that changes
                    no sample by more than 2/255 (else float32); written before anything is measured
  samples.png, walk.png (and reconstructions.png for a VAE), metrics.json, card.md

`--minutes` is the budget of the whole run: a resumed run continues until the time trained adds
up to it (pass a larger number to train longer). Each step draws its batch from a permutation
seeded by (seed, epoch) and its noise from a generator seeded by (seed, step), so stopping and
resuming gives bit-for-bit the weights of an uninterrupted run of the same number of steps.

A tenth of the data is held out for the metrics. Training needs at least a batch (MIN_BATCH
images) left after that; with fewer than `metrics.MIN_HELD_OUT` held-out images the model is
trained and saved but not measured, and its card says why.

>>> import tempfile
>>> result = train("vae", "glyphs", size=32, steps=2, count=64, batch=16, width=8, z_size=4,
...                output=Path(tempfile.mkdtemp()) / "tiny", evaluate=False)
>>> result.steps, result.finished, (result.output / "model.safetensors").exists()
(2, True, True)
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import os
import pickle
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch

from artlang.core.errors import RUNTIME, USAGE, error
from artlang.core.files import atomic_write
from artlang.training.card import (
    draw_pictures,
    pictures_of,
    sample_grid,
    save_picture,
    save_text,
    write_card,
)
from artlang.models.config import ModelConfig
from artlang.training.datasets import DataSet, data_identity, held_out_count, load_data
from artlang.training.metrics import FEATURE_STEPS, evaluate_model
from artlang.training.recipes import GanRecipe, VaeRecipe, random_stream
from artlang.training.settings import (
    AUGMENTATIONS,
    MIN_BATCH,
    check,
    check_unchanged,
    data_settings,
    run_settings,
)
from artlang.models.store import CONFIG, load_model, save_config, save_model

CHECKPOINT = "checkpoint.pt"
LOCK = ".train.lock"                   # held while a run writes into the folder (kept, ignored by git)
CHECKPOINT_FORMAT = 1
HELD_OUT = 0.1                          # of the data kept aside for the metrics
FLOAT16_TOLERANCE = 2 / 255             # largest sample change allowed by storing float16
# what a run does, in order, as `phase` is told (the loop is TRAINING: only there is `stop` polled)
LOADING, TRAINING, SAVING, MEASURING = "making the data set", "training", "saving", "measuring"


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


@dataclass(frozen=True)
class _Run:
    """How a run goes, beside the settings that shape the model (which a resumed run repeats)."""

    output: Path
    minutes: float
    steps: int | None
    threads: int
    checkpoint_every: int
    name: str
    command: str
    note: str
    evaluate: bool
    feature_steps: int
    progress: Callable[[Progress], None] | None
    stop: Callable[[], bool] | None
    phase: Callable[[str], None] | None

    def announce(self, phase: str) -> None:
        if self.phase is not None:
            self.phase(phase)


def train(kind: str, data: str, *, output: str | Path, size: int = 32, minutes: float = 10.0,
          resume: bool = False, seed: int = 0, steps: int | None = None, batch: int = 64,
          z_size: int | None = None, width: int | None = None,
          discriminator_width: int | None = None, augment: tuple[str, ...] = AUGMENTATIONS,
          sigma_floor: float = 0.1, count: int | None = None, channels: int = 3,
          threads: int = 2, checkpoint_every: int = 500, name: str = "", command: str = "",
          note: str = "", evaluate: bool = True, feature_steps: int = FEATURE_STEPS,
          progress: Callable[[Progress], None] | None = None,
          stop: Callable[[], bool] | None = None,
          phase: Callable[[str], None] | None = None) -> TrainingResult:
    """Train a `kind` ("gan" or "vae") model on `data` (a built-in data set's name or a folder)
    for `minutes` of wall clock (or `steps` steps, whichever comes first) into `output`.

    Every setting is checked before any data is made. `stop` is polled between steps: when it
    returns True the run saves a checkpoint and returns with `finished=False`. `phase` is told
    what the run does next (LOADING, TRAINING, SAVING, MEASURING). `evaluate=False` skips the
    metrics (for tests and quick runs). `discriminator_width` and `augment` (DiffAugment's
    policies) apply to GANs, `sigma_floor` (the least decoder sigma) to VAEs; `note` goes on the
    card (say there what the numbers depend on, e.g. other work on the machine).
    """
    settings = run_settings(kind, data, size=size, seed=seed, batch=batch, z_size=z_size,
                            width=width, discriminator_width=discriminator_width, augment=augment,
                            sigma_floor=sigma_floor, count=count, channels=channels)
    check(minutes=minutes, steps=steps, threads=threads, checkpoint_every=checkpoint_every)
    run = _Run(Path(output), minutes, steps, threads, checkpoint_every, name, command, note,
               evaluate, feature_steps, progress, stop, phase)
    with _only_run_in(run.output):
        return _train(str(data), settings, run, resume)


@contextmanager
def _only_run_in(output: Path):
    """Hold the folder's lock for the run: a second `artlang train` into the same folder (which
    would interleave checkpoints) is refused while the first runs. The lock goes with the process."""
    output.mkdir(parents=True, exist_ok=True)
    with open(output / LOCK, "a+b") as handle:
        try:
            import fcntl  # POSIX only
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:              # not on a POSIX system: no lock
            pass
        except OSError:
            raise error(f"another `artlang train` is writing into {output}", stage=USAGE,
                        hint="wait for it to finish, or train into another folder with -o") from None
        yield


def _train(data: str, settings: dict, run: _Run, resume: bool) -> TrainingResult:
    torch.set_num_threads(run.threads)
    checkpoint = _checkpoint_to_resume(run.output, resume)
    if checkpoint is not None:
        check_unchanged(json.loads(checkpoint["options"]), settings, "the checkpoint was saved")
    run.announce(LOADING)
    dataset = load_data(data, settings["size"], count=settings["count"], seed=settings["seed"],
                        channels=settings["channels"])
    training_set, held_out = dataset.split(HELD_OUT, settings["seed"])
    _check_enough_to_train(data, len(dataset.images), len(training_set.images))
    config = _model_config(settings, dataset, run)
    recipe = _recipe(config, settings, checkpoint)
    step, elapsed = (int(checkpoint["step"]), float(checkpoint["elapsed"])) if checkpoint else (0, 0.0)
    loop = _Loop(recipe, training_set, settings, run.output)
    run.announce(TRAINING)
    step, elapsed, stopped = loop.run(step, elapsed, run)
    run.announce(SAVING)
    if stopped:
        return TrainingResult(run.output, config, step, elapsed, finished=False)
    config = dataclasses.replace(config, training=_training_record(
        data, settings, run, len(dataset.images), len(training_set.images), loop, step, elapsed))
    return _finish(recipe.final_model(settings["seed"]), config, training_set, held_out, run)


def _checkpoint_to_resume(output: Path, resume: bool) -> dict | None:
    if resume:
        return _read_checkpoint(output / CHECKPOINT)
    if (output / CHECKPOINT).exists() or (output / CONFIG).exists():
        raise error(f"{output} already holds a model or a checkpoint", stage=USAGE,
                    hint="add --resume to go on training it, or choose another folder with -o")
    return None


def _check_enough_to_train(data: str, images: int, training_images: int) -> None:
    """A usage error when the data leaves less than a batch to train on once some is held out."""
    if training_images >= MIN_BATCH:
        return
    needed = next(n for n in itertools.count(1) if n - held_out_count(n, HELD_OUT) >= MIN_BATCH)
    raise error(f"only {images} image{'' if images == 1 else 's'} in {data}: training needs at "
                f"least {needed} ({MIN_BATCH} to train on, a batch, and "
                f"{held_out_count(needed, HELD_OUT)} held out for the metrics)", stage=USAGE,
                hint="add images to the folder, or ask a built-in data set for more with --images")


def _model_config(settings: dict, dataset: DataSet, run: _Run) -> ModelConfig:
    kind = settings["kind"]
    return ModelConfig(kind=kind, architecture="dcgan" if kind == "gan" else "convvae",
                       image_size=settings["size"], z_size=settings["z_size"],
                       channels=dataset.channels, width=settings["width"],
                       output_range=(-1.0, 1.0) if kind == "gan" else (0.0, 1.0),
                       name=run.name or run.output.name, data=dataset.description)


def _recipe(config: ModelConfig, settings: dict, checkpoint: dict | None):
    torch.manual_seed(settings["seed"])
    recipe = GanRecipe(config, settings["discriminator_width"], settings["augment"]) \
        if config.kind == "gan" else VaeRecipe(config, settings["sigma_floor"])
    if checkpoint is not None:
        recipe.load_state_dict(checkpoint["recipe"])
    return recipe


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity, where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _training_record(data: str, settings: dict, run: _Run, images: int, training_images: int,
                     loop: _Loop, step: int, elapsed: float) -> dict:
    """The config's `training`: how the model was made, on what machine, and the data's identity
    (which `measure` makes it again from)."""
    details = ({"discriminator_width": settings["discriminator_width"],
                "augment": list(settings["augment"])} if settings["kind"] == "gan"
               else {"sigma_floor": settings["sigma_floor"]})
    return {"command": run.command, "data": data, "data_identity": data_settings(settings),
            "images": images, "training_images": training_images,
            "held_out_images": images - training_images, "minutes": run.minutes,
            "seconds_trained": round(elapsed, 1), "steps": step,
            "epochs": round(step / loop.steps_per_epoch, 2), "batch": loop.batch,
            "seed": settings["seed"], "threads": run.threads, "cpus": cpu_count(),
            "torch": torch.__version__, **({"note": run.note} if run.note else {}), **details}


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
    """Write the checkpoint atomically (`writers.atomic_write`: no half-written file, even when
    interrupted)."""
    state = {"format": CHECKPOINT_FORMAT, "step": step, "elapsed": elapsed,
             "options": json.dumps(options), "recipe": recipe.state_dict()}
    atomic_write(path, lambda temporary: torch.save(state, temporary))


class _Loop:
    """Batches, steps, sample grids and checkpoints."""

    def __init__(self, recipe, training_set: DataSet, settings: dict, output: Path):
        self.recipe, self.settings, self.seed, self.output = recipe, settings, settings["seed"], output
        self.images = torch.from_numpy(training_set.images).permute(0, 3, 1, 2).contiguous()
        self.batch = min(settings["batch"], len(self.images))
        self.steps_per_epoch = len(self.images) // self.batch
        self.fixed_latents = torch.randn(64, recipe.config.z_size,
                                         generator=random_stream(self.seed, -2))
        self._order = (-1, None)

    def batch_at(self, step: int) -> torch.Tensor:
        epoch, index = divmod(step, self.steps_per_epoch)
        if self._order[0] != epoch:
            order = torch.randperm(len(self.images), generator=random_stream(self.seed, epoch, 1))
            self._order = (epoch, order)
        picks = self._order[1][index * self.batch:(index + 1) * self.batch]
        return self.recipe.to_model_range(self.images[picks])

    def run(self, step: int, elapsed: float, run: _Run) -> tuple[int, float, bool]:
        """Train until the budget or step count is reached or `run.stop()`; returns (step,
        elapsed, stopped). A stop asked for during the last step still counts."""
        self.recipe.train()
        budget, started = run.minutes * 60, time.monotonic() - elapsed
        while elapsed < budget and (run.steps is None or step < run.steps):
            if run.stop is not None and run.stop():
                break
            losses = self.recipe.step(self.batch_at(step), step, random_stream(self.seed, step))
            step += 1
            if step % self.steps_per_epoch == 0:
                self.save_epoch_grid(step // self.steps_per_epoch)
            if step % run.checkpoint_every == 0:
                self.save_checkpoint(step, time.monotonic() - started)
            elapsed = time.monotonic() - started
            if run.progress is not None:
                run.progress(self._progress(step, elapsed, budget, run.steps, losses))
        self.save_checkpoint(step, elapsed)
        return step, elapsed, run.stop is not None and run.stop()

    def save_checkpoint(self, step: int, elapsed: float) -> None:
        save_checkpoint(self.output / CHECKPOINT, self.recipe, step, elapsed, self.settings)

    def _progress(self, step, elapsed, budget, steps, losses) -> Progress:
        remaining = budget - elapsed
        if steps is not None:
            remaining = min(remaining, (steps - step) * elapsed / max(step, 1))
        return Progress(step, step // self.steps_per_epoch, self.steps_per_epoch, losses,
                        elapsed, max(remaining, 0.0))

    def save_epoch_grid(self, epoch: int) -> None:
        images = self.recipe.sample(self.fixed_latents)
        save_picture(sample_grid(images, 8), self.output / "samples" / f"epoch-{epoch:04d}.png")
        self.recipe.train()


def _finish(model, config: ModelConfig, training_set: DataSet, held_out: DataSet,
            run: _Run) -> TrainingResult:
    """Store the model (float16 if close enough) and its config, draw its pictures and write its
    card; then measure it and write the config, metrics.json and the card again."""
    model, dtype = _rounded_to_float16(model, config)
    config = _with_training(config, dtype=dtype, metrics={})
    save_model(run.output, model, config, half=dtype == "float16")
    pictures = draw_pictures(model, config, held_out, run.output)
    write_card(run.output, config, {}, pictures)
    if run.evaluate:
        run.announce(MEASURING)
        metrics = evaluate_model(model, config, training_set, held_out, run.output,
                                 config.training["seed"], run.feature_steps)
        config = record_metrics(run.output, config, metrics, pictures)
    info = config.training
    return TrainingResult(run.output, config, info["steps"], info["seconds_trained"], True,
                          info["metrics"])


def _with_training(config: ModelConfig, **values) -> ModelConfig:
    return dataclasses.replace(config, training={**config.training, **values})


def record_metrics(output: Path, config: ModelConfig, metrics: dict,
                   pictures: dict[str, str]) -> ModelConfig:
    """Write `metrics` to metrics.json, into the config's training record and onto the card."""
    config = _with_training(config, metrics=metrics)
    save_text(json.dumps(metrics, indent=2) + "\n", output / "metrics.json")
    save_config(output, config)
    write_card(output, config, metrics, pictures)
    return config


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


# -- measuring a saved model again -----------------------------------------------------------

def measure(output: str | Path, *, threads: int = 2,
            phase: Callable[[str], None] | None = None) -> TrainingResult:
    """Measure the model saved in `output` again, without training: make its data set and
    held-out split again from its config's training record (data, image count, seed: both are
    deterministic), then rewrite metrics.json, the config's metrics and card.md. The pictures
    are left as they are."""
    check(threads=threads)
    output = Path(output)
    if not (output / CONFIG).is_file():
        raise error(f"there is no model to measure in {output} (no {CONFIG})", stage=USAGE,
                    hint="give --measure the folder `artlang train ... -o FOLDER` wrote")
    with _only_run_in(output):
        torch.set_num_threads(threads)
        loaded = load_model(output.resolve())
        config, info = loaded.config, loaded.config.training
        announce = phase or (lambda name: None)
        announce(LOADING)
        training_set, held_out = _data_again(config)
        announce(MEASURING)
        steps = info.get("metrics", {}).get("feature_network", {}).get("steps", FEATURE_STEPS)
        metrics = evaluate_model(loaded.module, config, training_set, held_out, output,
                                 info["seed"], steps)
        config = record_metrics(output, config, metrics, pictures_of(config))
    return TrainingResult(output, config, info.get("steps", 0), info.get("seconds_trained", 0.0),
                          True, metrics)


def _data_again(config: ModelConfig) -> tuple[DataSet, DataSet]:
    """The training and held-out images a model was trained and measured on, made again from
    its training record; an error when they cannot be (the folder changed, other fonts...)."""
    info = config.training
    if not {"data", "images", "seed"} <= set(info):
        raise error(f"the config of {config.name or 'this model'} has no training record to make "
                    "its data again from", stage=USAGE,
                    hint="only models `artlang train` made can be measured again")
    saved = info.get("data_identity") or {"data": info["data"]}     # older records: the name
    check_unchanged(saved, data_identity(saved["data"]), "the model was trained",
                    hint="measure it with the data it was trained on")
    dataset = load_data(saved["data"], config.image_size, count=info["images"], seed=info["seed"],
                        channels=config.channels)
    if dataset.description != config.data:
        raise error(f"the data set made again is not the one the model was trained on: "
                    f"{dataset.description!r}, not {config.data!r}", stage=RUNTIME,
                    hint="measure it on the machine it was trained on (the glyphs depend on the "
                    "fonts installed)")
    return dataset.split(HELD_OUT, info["seed"])
