"""The settings of a training run, each checked before any data is made (an error quotes the value
and says what is allowed), and compared with a checkpoint's when a run is resumed. Plain Python:
the command line checks its numbers with `problem` while it parses them.

>>> problem("batch", 1)
'--batch 1 is out of range; allowed: a whole number 2 or more (batch norm needs two images a batch)'
>>> problem("minutes", 0.5) is None
True
"""
from __future__ import annotations

import math

from artlang.core.errors import USAGE, error
from artlang.models.config import SIZES, WIDTHS, Z_SIZES

KINDS = ("gan", "vae")
DEFAULTS = {"gan": {"z_size": 64, "width": 32, "discriminator_width": 64},
            "vae": {"z_size": 16, "width": 32}}
AUGMENTATIONS = ("colour", "translation", "cutout")      # DiffAugment's policies (recipes.py)
MIN_BATCH = 2                     # the generator's batch norm needs two images in a batch
ANY = 2 ** 63                     # "or more": the largest seed and count torch takes
WHOLE_NUMBERS = {                 # setting: (how the command line names it, values allowed, why)
    "size": ("--size", SIZES, ""),
    "seed": ("--seed", range(ANY), ""),
    "batch": ("--batch", range(MIN_BATCH, ANY), "batch norm needs two images a batch"),
    "z_size": ("--z-size", Z_SIZES, ""),
    "width": ("--width", WIDTHS, ""),
    "discriminator_width": ("--discriminator-width", WIDTHS, ""),
    "count": ("--images", range(1, ANY), ""),
    "channels": ("channels", (1, 3), ""),
    "threads": ("--threads", range(1, 1025), ""),
    "steps": ("--steps", range(1, ANY), ""),
    "checkpoint_every": ("checkpoint_every", range(1, ANY), ""),
}


def _allowed(values, why: str) -> str:
    if isinstance(values, range):
        text = (f"a whole number {values.start} or more" if values.stop == ANY
                else f"a whole number {values.start}..{values.stop - 1}")
    else:
        text = " or ".join(map(str, values))
    return text + (f" ({why})" if why else "")


def problem(name: str, value, *, named: bool = True) -> str | None:
    """What is wrong with a setting's value, or None (None itself is fine: the default). The
    text starts with the setting's flag unless `named` is False."""
    if value is None:
        return None
    if name == "minutes":
        flag, allowed = "--minutes", "a number of minutes above 0"
        if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
            return None
    else:
        flag, values, why = WHOLE_NUMBERS[name]
        allowed = _allowed(values, why)
        if isinstance(value, int) and not isinstance(value, bool) and value in values:
            return None
    return f"{flag + ' ' if named else ''}{value} is out of range; allowed: {allowed}"


def check(**values) -> None:
    """A usage error for the first value `problem` finds wrong."""
    for name, value in values.items():
        wrong = problem(name, value)
        if wrong:
            raise error(wrong, stage=USAGE)


def run_settings(kind: str, data: str, *, size: int, seed: int, batch: int, z_size, width,
                 discriminator_width, augment, sigma_floor: float, count, channels: int) -> dict:
    """The settings that shape a run (a resumed run must be given the same ones), checked, with
    the kind's defaults filled in and the data named by `datasets.data_identity`."""
    # imported here: datasets needs numpy and Pillow, which the command line's checks do not
    from artlang.training.datasets import data_identity
    if kind not in KINDS:
        raise error(f"cannot train a {kind!r}", stage=USAGE, hint=f"allowed: {', '.join(KINDS)}")
    check(size=size, seed=seed, batch=batch, z_size=z_size, width=width,
          discriminator_width=discriminator_width, count=count, channels=channels)
    unknown = sorted(set(augment) - set(AUGMENTATIONS))
    if unknown:
        raise error(f"unknown augmentation {unknown[0]!r}", stage=USAGE,
                    hint=f"the augmentations: {', '.join(AUGMENTATIONS)}")
    if kind == "vae" and not 0 < sigma_floor < 1:
        raise error(f"--sigma-floor {sigma_floor:g} is outside 0..1 (exclusive)", stage=USAGE,
                    hint="the decoder's sigma is in pixel units (0..1): try 0.03 to 0.2")
    defaults = DEFAULTS[kind]

    def chosen(name, value):
        return defaults.get(name, 0) if value is None else value
    return {"kind": kind, **data_identity(data), "size": size, "seed": seed, "batch": batch,
            "z_size": chosen("z_size", z_size), "width": chosen("width", width),
            "discriminator_width": chosen("discriminator_width", discriminator_width)
            if kind == "gan" else 0,
            "augment": [a for a in AUGMENTATIONS if a in augment] if kind == "gan" else [],
            "sigma_floor": sigma_floor if kind == "vae" else 0,
            "count": count, "channels": channels}


RESUME_HINT = ("resume with the data and options of the first run (only --minutes and --steps "
               "may change), or train into a new folder with -o")


def check_unchanged(saved: dict, now: dict, since: str, hint: str = RESUME_HINT) -> None:
    """A usage error naming the first setting in `saved` that `now` has otherwise (keys `saved`
    lacks, from an older artlang, are not compared). `since`: "the checkpoint was saved"."""
    for key, value in saved.items():
        if now.get(key) != value:
            raise error(_changed(key, saved, now, since), stage=USAGE, hint=hint)


def data_settings(settings: dict) -> dict:
    """The settings that name the data (those `datasets.data_identity` gave)."""
    return {key: settings[key] for key in ("data", "images", "fingerprint") if key in settings}


def _changed(key: str, saved: dict, now: dict, since: str) -> str:
    if key == "images":
        return (f"{now['data']} held {saved['images']} images when {since} and holds "
                f"{now.get('images')} now")
    if key == "fingerprint":
        return (f"the images in {now['data']} changed since {since} (a file was renamed, "
                "replaced or edited)")
    return f"{key} was {saved[key]!r} when {since}, and is {now.get(key)!r} now"
