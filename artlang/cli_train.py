"""`artlang train gan|vae DATA`: the command-line side of training (argument parsing, the progress
bar, the summary). The work is `models.training.train`; torch is imported only when this runs.
"""
from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path

TRAIN_HELP = """\
DATA is a folder of images (PNG, JPEG, WebP; searched recursively) or a built-in data set:
  glyphs    letters and digits drawn from the fonts installed on this machine
  shapes    coloured shapes drawn by artlang itself

examples:
  artlang train vae glyphs --size 32 --minutes 10 -o models/glyphs
  artlang train gan shapes --size 32 --minutes 20 -o models/shapes
  artlang train gan photos/ --size 64 -o models/mine --resume     go on from the last checkpoint

--minutes is the budget of the whole run: --resume goes on until the minutes trained add up to it.
Ctrl-C stops after the current step and saves a checkpoint.
"""

EXIT_INTERRUPTED = 130


def add_train_parser(commands) -> None:
    train = commands.add_parser("train", help="train a GAN or VAE on a folder of images or a "
                                "built-in data set", epilog=TRAIN_HELP,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("kind", choices=("gan", "vae"), help="what to train")
    train.add_argument("data", help="a folder of images, or a built-in data set's name")
    train.add_argument("--size", type=int, choices=(32, 64), default=32, help="image size (default 32)")
    train.add_argument("--minutes", type=float, default=10.0,
                       help="how long to train (wall clock; default 10)")
    train.add_argument("-o", "--output", type=Path, required=True,
                       help="the model's folder (config.json, model.safetensors, card, samples)")
    train.add_argument("--resume", action="store_true", help="go on from the folder's last checkpoint")
    train.add_argument("--seed", type=int, default=0, help="seed for initialisation and batches")
    train.add_argument("--batch", type=int, default=64, help="images per step (default 64)")
    train.add_argument("--z-size", type=int, help="latent length (default 64 for a GAN, 16 for a VAE)")
    train.add_argument("--width", type=int, help="base channel count of the model (default 32)")
    train.add_argument("--discriminator-width", type=int,
                       help="a GAN discriminator's base channel count (default 64)")
    train.add_argument("--augment", default="colour,translation,cutout",
                       help="a GAN's DiffAugment policies, comma separated (default "
                       "colour,translation,cutout; 'none' for none)")
    train.add_argument("--sigma-floor", type=float, default=0.1,
                       help="a VAE's least decoder sigma: lower is sharper, higher gives samples "
                       "nearer the data (default 0.1)")
    train.add_argument("--images", type=int, help="how many images a built-in data set draws "
                       "(default 20000)")
    train.add_argument("--gray", action="store_true", help="train a folder's images in gray")
    train.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    train.add_argument("--steps", type=int, help="stop after this many steps (if before --minutes)")
    train.add_argument("--name", default="", help="the model's name (default: the folder's)")
    train.add_argument("--no-metrics", action="store_true",
                       help="skip the quality metrics at the end (they take a minute or two)")


class _StopOnInterrupt:
    """The first Ctrl-C asks training to stop after its current step; a second one stops now."""

    def __init__(self):
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def handle(self, number, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def __exit__(self, *problem):
        signal.signal(signal.SIGINT, self.previous)


def _policies(text: str) -> tuple[str, ...]:
    """`--augment colour,translation` as a tuple; "none" is the empty one."""
    return tuple(word.strip() for word in text.split(",") if word.strip() not in ("", "none"))


def command_line(arguments) -> str:
    """The command as typed, for the card (without --resume, which only continues it)."""
    words = ["artlang", *[w for w in sys.argv[1:] if w != "--resume"]] \
        if sys.argv[1:2] == ["train"] else ["artlang", "train", arguments.kind, arguments.data,
                                            "--size", str(arguments.size), "--minutes",
                                            f"{arguments.minutes:g}", "-o", str(arguments.output)]
    return shlex.join(words)


def command_train(arguments, out) -> int:
    from tqdm import tqdm

    from .models import training

    bar = tqdm(total=round(arguments.minutes * 60), unit="s", file=sys.stderr, disable=None,
               leave=False, bar_format="{desc}{percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s{postfix}")

    def show(progress: training.Progress) -> None:
        bar.n = min(round(progress.elapsed), bar.total)
        minutes, seconds = divmod(round(progress.remaining), 60)
        losses = " ".join(f"{k} {v:.3g}" for k, v in progress.losses.items())
        bar.set_description(f"step {progress.step} epoch {progress.epoch}", refresh=False)
        bar.set_postfix_str(f"{minutes}:{seconds:02d} left, {losses}", refresh=False)
        bar.refresh()

    try:
        with _StopOnInterrupt() as stop:
            result = training.train(
                arguments.kind, arguments.data, output=arguments.output, size=arguments.size,
                minutes=arguments.minutes, resume=arguments.resume, seed=arguments.seed,
                steps=arguments.steps, batch=arguments.batch, z_size=arguments.z_size,
                width=arguments.width, discriminator_width=arguments.discriminator_width,
                augment=_policies(arguments.augment), sigma_floor=arguments.sigma_floor,
                count=arguments.images,
                channels=1 if arguments.gray else 3, threads=arguments.threads,
                name=arguments.name, command=command_line(arguments),
                evaluate=not arguments.no_metrics, progress=show, stop=stop)
    except KeyboardInterrupt:
        bar.close()
        print("interrupted before the first checkpoint could be saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    bar.close()
    if not result.finished:
        print(f"stopped at step {result.steps}; the checkpoint is in {result.output}: run the same "
              "command with --resume to go on", file=sys.stderr)
        return EXIT_INTERRUPTED
    summary = f"trained {result.config.kind} {result.output} ({result.steps} steps, " \
              f"{result.seconds / 60:.1f} min)"
    model, real = result.metrics.get("model", {}), result.metrics.get("real", {})
    if model:
        summary += f"; FD {model['frechet_distance']:.3g} (real {real['frechet_distance']:.3g})"
    print(summary + f"; card: {result.output / 'card.md'}", file=out)
    return 0
