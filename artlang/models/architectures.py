"""The architectures models are built from (torch): a DCGAN-style generator and discriminator, and
a convolutional VAE, at 32 x 32 and 64 x 64. `build(config)` makes the module a config describes.

The generator interface every decoder follows: `forward(z)` takes (N, z_size) and returns
(N, channels, size, size) in the config's `output_range`. Upsampling is nearest-neighbour followed
by a 3 x 3 convolution, not a transposed convolution, whose uneven overlap prints checkerboards.

>>> from artlang.models.config import ModelConfig
>>> import torch
>>> generator = build(ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=16, width=8))
>>> tuple(generator(torch.zeros(2, 16)).shape)
(2, 3, 32, 32)
"""
from __future__ import annotations

import math

import torch
from torch import nn

from artlang.models.config import ModelConfig


def _levels(size: int) -> int:
    """How many times 4 x 4 is doubled to reach `size`."""
    return int(math.log2(size)) - 2


class _UpBlock(nn.Sequential):
    def __init__(self, inputs: int, outputs: int):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"),
                         nn.Conv2d(inputs, outputs, 3, padding=1, bias=False),
                         nn.BatchNorm2d(outputs), nn.ReLU(inplace=True))


class Decoder(nn.Module):
    """z (N, z_size) -> (N, channels, size, size): a linear layer to 4 x 4, then up blocks that
    halve the channels as they double the size; `tanh` or `sigmoid` at the end."""

    def __init__(self, z_size: int, size: int, channels: int, width: int, final: str):
        super().__init__()
        levels = _levels(size)
        features = width * 2 ** (levels - 1)
        self.start = features
        self.project = nn.Sequential(nn.Linear(z_size, features * 16, bias=False),
                                     nn.BatchNorm1d(features * 16), nn.ReLU(inplace=True))
        blocks = []
        for _ in range(levels):
            blocks.append(_UpBlock(features, max(features // 2, width // 2)))
            features = max(features // 2, width // 2)
        self.blocks = nn.Sequential(*blocks)
        self.to_image = nn.Conv2d(features, channels, 3, padding=1)
        self.final = nn.Tanh() if final == "tanh" else nn.Sigmoid()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.project(z).view(z.shape[0], self.start, 4, 4)
        return self.final(self.to_image(self.blocks(x)))


class Generator(Decoder):
    """The GAN's generator: images in [-1, 1]."""

    def __init__(self, config: ModelConfig):
        super().__init__(config.z_size, config.image_size, config.channels, config.width, "tanh")


class Discriminator(nn.Module):
    """Strided 4 x 4 convolutions with spectral norm and leaky ReLU, down to 4 x 4, then one
    logit per image. No batch norm: spectral norm keeps it Lipschitz, which small GANs need.
    `width` (default the config's) is the discriminator's own: it is not saved with the model."""

    def __init__(self, config: ModelConfig, width: int | None = None):
        super().__init__()
        sn = nn.utils.parametrizations.spectral_norm
        layers, features = [], (width or config.width) // 2
        inputs = config.channels
        for _ in range(_levels(config.image_size)):
            layers += [sn(nn.Conv2d(inputs, features, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True)]
            inputs, features = features, features * 2
        self.features = nn.Sequential(*layers)
        self.logit = sn(nn.Linear(inputs * 16, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logit(self.features(images).flatten(1)).squeeze(1)


class Encoder(nn.Module):
    """(N, channels, size, size) in [0, 1] -> (mean, log variance), each (N, z_size)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        layers, inputs, features = [], config.channels, config.width // 2
        for _ in range(_levels(config.image_size)):
            layers += [nn.Conv2d(inputs, features, 4, 2, 1, bias=False), nn.BatchNorm2d(features),
                       nn.LeakyReLU(0.2, inplace=True)]
            inputs, features = features, features * 2
        self.features = nn.Sequential(*layers)
        self.mean = nn.Linear(inputs * 16, config.z_size)
        self.log_variance = nn.Linear(inputs * 16, config.z_size)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        flat = self.features(images).flatten(1)
        return self.mean(flat), self.log_variance(flat)


class VAE(nn.Module):
    """A convolutional VAE: `encoder(images)` gives (mean, log variance); `decoder(z)` (and
    `forward(z)`, so a VAE is a generator too) gives images in [0, 1]."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.encoder = Encoder(config)
        self.decoder = Decoder(config.z_size, config.image_size, config.channels, config.width,
                               "sigmoid")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(images)


ARCHITECTURES = {"dcgan": Generator, "convvae": VAE}


def build(config: ModelConfig) -> nn.Module:
    """The (untrained) module a config describes: the generator of a GAN, or a whole VAE."""
    return ARCHITECTURES[config.architecture](config)
