"""A model's config: the JSON file beside its weights that says what the weights are.

The generator interface every model follows: a latent of `z_size` numbers in, an NCHW image of
`channels` (1 or 3) by `image_size` x `image_size` out, in `output_range` (e.g. [-1, 1] for a
tanh GAN, [0, 1] for a VAE's sigmoid). Plain Python: no torch, no numpy.

>>> config = ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=64)
>>> ModelConfig.from_dict(config.to_dict()) == config
True
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("gan", "vae")
ARCHITECTURES = {"dcgan": "gan", "convvae": "vae"}      # architecture -> the kind it is
SIZES = (32, 64)
Z_SIZES = range(1, 4097)                 # the latent lengths allowed
WIDTHS = range(4, 1025)                  # the base channel counts allowed
FORMAT_VERSION = 1


def _span(allowed: range) -> str:
    """'4..1024' for range(4, 1025)."""
    return f"{allowed.start}..{allowed.stop - 1}"


class ConfigError(ValueError):
    """A config that cannot describe a model; the message names the field and what is allowed."""


@dataclass(frozen=True)
class ModelConfig:
    kind: str                                # "gan" or "vae"
    architecture: str                        # "dcgan" or "convvae" (see architectures.py)
    image_size: int                          # 32 or 64
    z_size: int                              # length of a latent
    channels: int = 3                        # 1 (gray) or 3 (RGB)
    width: int = 64                          # base channel count of the convolutions
    output_range: tuple[float, float] = (-1.0, 1.0)
    name: str = ""
    description: str = ""
    data: str = ""                           # what it was trained on
    training: dict = field(default_factory=dict, compare=False)   # command, minutes, metrics...
    format_version: int = FORMAT_VERSION

    def __post_init__(self):
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind is {self.kind!r}; allowed: {', '.join(KINDS)}")
        if self.architecture not in ARCHITECTURES:
            problems.append(f"architecture is {self.architecture!r}; allowed: "
                            f"{', '.join(ARCHITECTURES)}")
        elif self.kind in KINDS and ARCHITECTURES[self.architecture] != self.kind:
            problems.append(f"architecture {self.architecture!r} is a {ARCHITECTURES[self.architecture]}, "
                            f"not a {self.kind}")
        if self.image_size not in SIZES:
            problems.append(f"image_size is {self.image_size!r}; allowed: {', '.join(map(str, SIZES))}")
        if not (isinstance(self.z_size, int) and self.z_size in Z_SIZES):
            problems.append(f"z_size is {self.z_size!r}; allowed: a whole number {_span(Z_SIZES)}")
        if self.channels not in (1, 3):
            problems.append(f"channels is {self.channels!r}; allowed: 1 or 3")
        if not (isinstance(self.width, int) and self.width in WIDTHS):
            problems.append(f"width is {self.width!r}; allowed: a whole number {_span(WIDTHS)}")
        low_high = tuple(self.output_range) if isinstance(self.output_range, (list, tuple)) else ()
        if len(low_high) != 2 or not all(isinstance(v, (int, float)) for v in low_high) \
                or not low_high[0] < low_high[1]:
            problems.append(f"output_range is {self.output_range!r}; allowed: [low, high], low < high")
        if self.format_version != FORMAT_VERSION:
            problems.append(f"format_version is {self.format_version!r}; this artlang reads "
                            f"{FORMAT_VERSION}")
        if problems:
            raise ConfigError("; ".join(problems))
        object.__setattr__(self, "output_range", tuple(float(v) for v in low_high))

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "output_range": list(self.output_range)}

    @classmethod
    def from_dict(cls, values: dict) -> ModelConfig:
        if not isinstance(values, dict):
            raise ConfigError("the config is not a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown field {unknown[0]!r}; the fields are {', '.join(sorted(known))}")
        missing = [f.name for f in dataclasses.fields(cls)
                   if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
                   and f.name not in values]
        if missing:
            raise ConfigError(f"missing field {missing[0]!r}")
        return cls(**values)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path) -> ModelConfig:
        """The config in a JSON file; `ConfigError` (naming no file: the caller adds it)."""
        try:
            values = json.loads(Path(path).read_text(encoding="utf-8"))
        except json.JSONDecodeError as problem:
            raise ConfigError(f"not JSON ({problem.msg} at line {problem.lineno})") from None
        except RecursionError:
            raise ConfigError("it nests too deeply to be a model config") from None
        return cls.from_dict(values)
