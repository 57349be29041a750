"""`artlang train gan|vae DATA`: the command-line side of training (argument parsing, the progress
bar, Ctrl-C, the summary), and `artlang train --measure -o FOLDER`. The work is
`training.training.train` and `training.training.measure`; torch is imported only when they run.
"""
from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path

from artlang.core.errors import USAGE, error
from artlang.training import settings

TRAIN_HELP = """\
DATA is a folder of images (PNG, JPEG, WebP; searched recursively) or a built-in data set:
  glyphs    letters and digits drawn from the fonts installed on this machine
  shapes    coloured shapes drawn by artlang itself
A folder's images are turned upright by their EXIF orientation, their transparent parts are
composited over black (as a VAE's encode does in a sketch), and each is centre-cropped to a square.
A tenth of the images is held out for the metrics: with fewer than 50 held out (under about 500
images) the model is trained and saved but not measured, and its card says so.

examples:
  artlang train vae glyphs --size 32 --minutes 10 -o models/glyphs
  artlang train gan shapes --size 32 --minutes 20 -o models/shapes
  artlang train gan photos/ --size 64 -o models/mine --resume     go on from the last checkpoint
  artlang train --measure -o models/mine      measure a trained model again (no training): makes
                                              its data and held-out split again, rewrites
                                              metrics.json, the config's metrics and card.md

--minutes is the budget of the whole run: --resume goes on until the minutes trained add up to it.
Ctrl-C while training stops after the current step and saves a checkpoint (a second Ctrl-C stops
at once); at any other time it stops at once.
"""

TRAIN_USAGE = """\
%(prog)s {gan,vae} DATA -o FOLDER [--size 32|64] [--minutes M] [--resume] [options]
       %(prog)s --measure -o FOLDER [--threads N]"""
EXIT_INTERRUPTED = 130
NOT_IN_COMMAND = {"resume", "note", "measure"}       # they do not change the model a run makes
MEASURE_OPTIONS = {"measure", "output", "threads"}


def _checked(name: str, convert=int):
    """An argparse type: `convert`, then `settings.problem`'s check of the setting `name`."""
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        wrong = settings.problem(name, value, named=False)
        if wrong:
            raise argparse.ArgumentTypeError(wrong)
        return value
    return parse


def _define_options(train) -> list[argparse.Action]:
    """Add the train command's arguments to `train`; returns them (`command_line` rebuilds a
    command from them)."""
    return [
        train.add_argument("kind", nargs="?", choices=("gan", "vae"), help="what to train"),
        train.add_argument("data", nargs="?",
                           help="a folder of images, or a built-in data set's name"),
        train.add_argument("--size", type=int, choices=(32, 64), default=32,
                           help="image size (default 32)"),
        train.add_argument("--minutes", type=_checked("minutes", float), default=10.0,
                           help="how long to train (wall clock; default 10)"),
        train.add_argument("-o", "--output", type=Path, required=True,
                           help="the model's folder (config.json, model.safetensors, card, samples)"),
        train.add_argument("--resume", action="store_true",
                           help="go on from the folder's last checkpoint"),
        train.add_argument("--seed", type=_checked("seed"), default=0,
                           help="seed for initialisation and batches (0 or more)"),
        train.add_argument("--batch", type=_checked("batch"), default=64,
                           help="images per step (default 64)"),
        train.add_argument("--z-size", type=_checked("z_size"),
                           help="latent length (default 64 for a GAN, 16 for a VAE)"),
        train.add_argument("--width", type=_checked("width"),
                           help="base channel count of the model (default 32)"),
        train.add_argument("--discriminator-width", type=_checked("discriminator_width"),
                           help="a GAN discriminator's base channel count (default 64)"),
        train.add_argument("--augment", default="colour,translation,cutout",
                           help="a GAN's DiffAugment policies, comma separated (default "
                           "colour,translation,cutout; 'none' for none)"),
        train.add_argument("--sigma-floor", type=float, default=0.1,
                           help="a VAE's least decoder sigma: lower is sharper, higher gives "
                           "samples nearer the data (default 0.1)"),
        train.add_argument("--images", type=_checked("count"),
                           help="how many images a built-in data set draws (default 20000)"),
        train.add_argument("--gray", action="store_true", help="train a folder's images in gray"),
        train.add_argument("--threads", type=_checked("threads"), default=2,
                           help="torch threads (default 2)"),
        train.add_argument("--steps", type=_checked("steps"),
                           help="stop after this many steps (if before --minutes)"),
        train.add_argument("--name", default="", help="the model's name (default: the folder's)"),
        train.add_argument("--no-metrics", action="store_true",
                           help="skip the quality metrics at the end (they take a minute or two)"),
        train.add_argument("--note", default="",
                           help="a sentence for the card, e.g. what else ran on the machine"),
        train.add_argument("--measure", action="store_true",
                           help="measure the model in -o FOLDER again instead of training"),
    ]


def add_train_parser(commands) -> None:
    train = commands.add_parser("train", help="train a GAN or VAE on a folder of images or a "
                                "built-in data set", epilog=TRAIN_HELP, usage=TRAIN_USAGE,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    _define_options(train)


def _word(value) -> str:
    """A value as the command line spells it (20.0 as 20, a Path as text)."""
    if isinstance(value, float) and float(f"{value:g}") == value:
        return f"{value:g}"
    return str(value)


def _changed_options(arguments) -> list[argparse.Action]:
    """The arguments given a value other than their default, in the order `--help` lists them."""
    return [action for action in _define_options(argparse.ArgumentParser(add_help=False))
            if getattr(arguments, action.dest) != action.default]


def command_line(arguments) -> str:
    """The command that makes this model again, rebuilt from the parsed arguments (the same
    however they were typed or abbreviated, and when `main` is called from Python): options at
    their defaults and those that do not change the model (--resume, --note) left out."""
    words = ["artlang", "train"]
    for action in _changed_options(arguments):
        value = getattr(arguments, action.dest)
        if action.dest in NOT_IN_COMMAND:
            continue
        if not action.option_strings:
            words.append(_word(value))
        elif action.nargs == 0:                            # a flag: --gray, --no-metrics
            words.append(action.option_strings[0])
        else:
            words += [action.option_strings[0], _word(value)]
    return shlex.join(words)


class _StopOnInterrupt:
    """Ctrl-C while the training loop runs: the first asks it to stop after the current step,
    the second stops at once. In every other phase (making the data, saving, measuring) Ctrl-C
    keeps its usual meaning, stop at once: the handler is installed only for the loop."""

    def __init__(self, loop_phase: str, say):
        self.loop_phase, self.say = loop_phase, say
        self.requested = False
        self.previous = None

    def __call__(self) -> bool:
        return self.requested

    def phase(self, name: str) -> None:
        if name == self.loop_phase and self.previous is None:
            self.previous = signal.signal(signal.SIGINT, self.handle)
        elif name != self.loop_phase:
            self.restore()

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None

    def handle(self, number, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.say("stopping after this step (Ctrl-C again to stop at once)")

    def __enter__(self):
        return self

    def __exit__(self, *problem):
        self.restore()


def _policies(text: str) -> tuple[str, ...]:
    """`--augment colour,translation` as a tuple; "none" is the empty one."""
    return tuple(word.strip() for word in text.split(",") if word.strip() not in ("", "none"))


def _interrupted(output: Path, checkpoint: str) -> str:
    if (output / checkpoint).exists():
        return (f"interrupted; the last checkpoint is in {output}: run the same command with "
                "--resume to go on")
    return "interrupted before the first checkpoint could be saved"


def _check_command(arguments) -> None:
    """KIND and DATA are needed to train; --measure takes only -o and --threads."""
    if arguments.measure:
        extra = [a for a in _changed_options(arguments) if a.dest not in MEASURE_OPTIONS]
        if extra:
            name = extra[0].option_strings[0] if extra[0].option_strings else extra[0].dest.upper()
            raise error(f"--measure takes only -o FOLDER and --threads, not {name}", stage=USAGE,
                        hint="what to measure is read from FOLDER/config.json")
    elif arguments.kind is None or arguments.data is None:
        raise error("artlang train needs what to train (gan or vae) and the data", stage=USAGE,
                    hint="artlang train KIND DATA -o FOLDER, or artlang train --measure -o FOLDER "
                    "to measure a trained model again")


def command_train(arguments, out) -> int:
    _check_command(arguments)
    from tqdm import tqdm  # only for a command that shows progress

    from artlang.training import training  # imports torch: only for `artlang train`

    if arguments.measure:
        return _measure(training, arguments, out)
    bar = tqdm(total=round(arguments.minutes * 60), unit="s", file=sys.stderr, disable=None,
               leave=False, bar_format="{desc}{percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s{postfix}")

    def show(progress: training.Progress) -> None:
        bar.n = min(round(progress.elapsed), bar.total)
        minutes, seconds = divmod(round(progress.remaining), 60)
        losses = " ".join(f"{k} {v:.3g}" for k, v in progress.losses.items())
        bar.set_description(f"step {progress.step} epoch {progress.epoch}", refresh=False)
        bar.set_postfix_str(f"{minutes}:{seconds:02d} left, {losses}", refresh=False)
        bar.refresh()

    def say(text: str) -> None:
        tqdm.write(text, file=sys.stderr)

    try:
        with _StopOnInterrupt(training.TRAINING, say) as stop:
            def phase(name: str) -> None:
                stop.phase(name)
                bar.set_description(name)
            result = training.train(
                arguments.kind, arguments.data, output=arguments.output, size=arguments.size,
                minutes=arguments.minutes, resume=arguments.resume, seed=arguments.seed,
                steps=arguments.steps, batch=arguments.batch, z_size=arguments.z_size,
                width=arguments.width, discriminator_width=arguments.discriminator_width,
                augment=_policies(arguments.augment), sigma_floor=arguments.sigma_floor,
                count=arguments.images, channels=1 if arguments.gray else 3,
                threads=arguments.threads, name=arguments.name, command=command_line(arguments),
                note=arguments.note, evaluate=not arguments.no_metrics, progress=show,
                stop=stop, phase=phase)
    except KeyboardInterrupt:
        bar.close()
        print(_interrupted(arguments.output, training.CHECKPOINT), file=sys.stderr)
        return EXIT_INTERRUPTED
    bar.close()
    if not result.finished:
        print(f"stopped at step {result.steps}; the checkpoint is in {result.output}: run the same "
              "command with --resume to go on", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"trained {result.config.kind} {result.output} ({result.steps} steps, "
          f"{result.seconds / 60:.1f} min){_metrics_summary(result.metrics)}; card: "
          f"{result.output / 'card.md'}", file=out)
    return 0


def _metrics_summary(metrics: dict) -> str:
    if "skipped" in metrics:
        return "; not measured (too few held-out images: see the card)"
    model, real = metrics.get("model", {}), metrics.get("real", {})
    if not model:
        return ""
    return f"; FD {model['frechet_distance']:.3g} (real {real['frechet_distance']:.3g})"


def _measure(training, arguments, out) -> int:
    def phase(name: str) -> None:
        print(f"{arguments.output}: {name}", file=sys.stderr)
    try:
        result = training.measure(arguments.output, threads=arguments.threads, phase=phase)
    except KeyboardInterrupt:
        print(f"interrupted; {arguments.output} keeps the metrics it had", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"measured {result.config.kind} {result.output}{_metrics_summary(result.metrics)}; "
          f"card: {result.output / 'card.md'}", file=out)
    return 0
