"""The training recipes: what one step of GAN or VAE training does, and the state it keeps.

The issue's warning is that the recipe matters more than the architecture at this scale (a plain
DCGAN trained for minutes on shapes collapsed into a checkerboard; a plain VAE gave blurry colour
fields). The choices, and why:

GAN (`GanRecipe`)
  - hinge loss; spectral norm in the discriminator (in `architectures.Discriminator`): a bounded,
    Lipschitz critic whose gradients stay useful when it wins;
  - DiffAugment (Zhao et al. 2020: colour, translation, cutout; `--augment` picks) applied to
    real *and* generated images before the discriminator, in both steps, so it cannot memorise a
    small data set and the generator is not taught the augmentations;
  - a discriminator of its own width (`--discriminator-width`, default 64: twice the
    generator's), which costs little since it has no up-sampling;
  - Adam with beta1 = 0 and beta2 = 0.99, equal learning rates (2e-4); one batch of fakes per
    step serves both the discriminator's and the generator's update;
  - an exponential moving average of the generator, weights and batch-norm buffers both, with
    StyleGAN2's ramp-up (half-life of 10k images, at most 5% of the images seen so far); the EMA
    is the generator that is saved, after its batch-norm statistics are measured again on its own
    outputs (`recalibrate_batch_norm`), so that decoding one latent at a time in eval mode matches.

VAE (`VaeRecipe`)
  - a Gaussian likelihood with the calibrated decoder variance of sigma-VAE (Rybkin et al. 2021):
    sigma^2 is the batch's mean squared error, in closed form, so the reconstruction term is
    summed over pixels at its right weight against the KL. A fixed weighting (MSE + KL) is what
    gives blurry colour fields: the KL wins and the decoder learns the mean. sigma is floored at
    0.1 (`--sigma-floor`): with no floor the reconstructions were perfect but the KL grew to
    ~100 nats and samples from the prior fell between letters (holes in the aggregate
    posterior); with the floor and a 16-number latent, samples are recognisable letters. On the colour `shapes` neither end
    worked in 20 minutes: the 0.1 floor gave soft colour fields, a 0.03 floor with 32 latent
    numbers gave prior samples that were mixtures of colours and shapes (the holes again);
  - KL warm-up over the first steps (from 0 to 1), and free bits (a KL floor per latent dimension)
    so the latent is used before the prior pulls it in;
  - Adam at 1e-3.

Every random draw of a step comes from a generator seeded by (seed, step), so a run resumed from a
checkpoint continues exactly as the uninterrupted run would have.
"""
from __future__ import annotations

import copy
import math
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from artlang.models.architectures import Discriminator, build
from artlang.models.config import ModelConfig
from artlang.training.settings import AUGMENTATIONS


def random_stream(*keys: int) -> torch.Generator:
    """A torch generator seeded by a tuple of integers, e.g. (seed, step). Keys may be negative:
    the run's fixed streams use (seed, -1), (seed, -2)...; a run's seed itself is 0 or more.

    >>> a, b = random_stream(0, 5), random_stream(0, 5)
    >>> bool(torch.equal(torch.rand(3, generator=a), torch.rand(3, generator=b)))
    True
    """
    state = np.random.SeedSequence([k % 2**63 for k in keys]).generate_state(1, np.uint64)[0]
    return torch.Generator().manual_seed(int(state) % 2**63)


# -- DiffAugment ----------------------------------------------------------------------------



def diff_augment(images: torch.Tensor, stream: torch.Generator,
                 augmentations: tuple[str, ...] = AUGMENTATIONS) -> torch.Tensor:
    """Differentiable augmentation of images in [-1, 1]: random brightness, saturation and
    contrast ("colour"), a shift of up to 1/8 of the size, zero padded ("translation"), and a
    cutout of half the size ("cutout").

    >>> images = torch.zeros(2, 3, 8, 8)
    >>> tuple(diff_augment(images, random_stream(0)).shape)
    (2, 3, 8, 8)
    """
    if "colour" in augmentations:
        images = _colour(images, stream)
    if "translation" in augmentations:
        images = _translate(images, stream)
    if "cutout" in augmentations:
        images = _cutout(images, stream)
    return images


def _colour(images: torch.Tensor, stream: torch.Generator) -> torch.Tensor:
    count = images.shape[0]

    def uniform():
        return torch.rand(count, 1, 1, 1, generator=stream)

    images = images + (uniform() - 0.5)
    if images.shape[1] > 1:
        mean = images.mean(dim=1, keepdim=True)
        images = (images - mean) * (uniform() * 2) + mean
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * (uniform() + 0.5) + mean


def _translate(images: torch.Tensor, stream: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    count, _, height, width = images.shape
    reach = int(height * ratio + 0.5)
    shift = torch.randint(-reach, reach + 1, (count, 2, 1, 1), generator=stream)
    rows = torch.arange(height).view(1, height, 1) + shift[:, 0]
    columns = torch.arange(width).view(1, 1, width) + shift[:, 1]
    rows = rows.clamp(-1, height).expand(count, height, width) + 1
    columns = columns.clamp(-1, width).expand(count, height, width) + 1
    padded = functional.pad(images, [1, 1, 1, 1])
    batch = torch.arange(count).view(count, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, rows, columns].permute(0, 3, 1, 2)


def _cutout(images: torch.Tensor, stream: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    count, _, height, width = images.shape
    cut = int(height * ratio + 0.5)
    corner = torch.randint(0, height + (1 - cut % 2), (count, 2, 1, 1), generator=stream) - cut // 2
    rows = torch.arange(height).view(1, height, 1)
    columns = torch.arange(width).view(1, 1, width)
    inside = ((rows >= corner[:, 0]) & (rows < corner[:, 0] + cut)
              & (columns >= corner[:, 1]) & (columns < corner[:, 1] + cut))
    return images * (~inside).unsqueeze(1).to(images.dtype)


# -- exponential moving average -------------------------------------------------------------

@torch.no_grad()
def update_average(average: nn.Module, model: nn.Module, images_seen: int, batch: int,
                   half_life: int = 10_000, ramp_up: float = 0.05) -> None:
    """Move `average` toward `model`: weights and floating buffers (batch-norm statistics) both.
    The half-life is in images, capped at `ramp_up` of the images seen so far, so early on the
    average follows the model closely (StyleGAN2's EMA ramp-up)."""
    life = min(half_life, images_seen * ramp_up)
    keep = 0.5 ** (batch / max(life, 1e-8))
    for mine, theirs in zip(average.parameters(), model.parameters()):
        mine.lerp_(theirs, 1 - keep)
    for mine, theirs in zip(average.buffers(), model.buffers()):
        if mine.dtype.is_floating_point:
            mine.lerp_(theirs, 1 - keep)
        else:
            mine.copy_(theirs)


@torch.no_grad()
def recalibrate_batch_norm(generator: nn.Module, z_size: int, seed: int, batches: int = 8,
                           batch: int = 128) -> None:
    """Recompute the batch-norm statistics of a generator from its own outputs on random latents
    (an exact average over `batches`), so that eval mode, batch of one, sees the same statistics
    as training did. Used on the averaged generator, whose averaged statistics only approximate
    its own."""
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for module in norms:
        module.reset_running_stats()
        module.momentum = None                   # a cumulative average over the batches
    generator.train()
    stream = random_stream(seed, -1)
    for _ in range(batches):
        generator(torch.randn(batch, z_size, generator=stream))
    for module, momentum in zip(norms, saved):
        module.momentum = momentum
    generator.eval()


# -- recipes --------------------------------------------------------------------------------

@contextmanager
def _frozen(module: nn.Module):
    """`module`'s parameters without gradients inside the block (its weight gradients would be
    computed and thrown away); the generator's gradient is bit-for-bit the same."""
    module.requires_grad_(False)
    try:
        yield module
    finally:
        module.requires_grad_(True)


class GanRecipe:
    """Hinge-loss GAN with spectral norm, DiffAugment and an EMA generator (see the module)."""

    learning_rate = 2e-4
    betas = (0.0, 0.99)

    def __init__(self, config: ModelConfig, discriminator_width: int,
                 augmentations: tuple[str, ...] = AUGMENTATIONS):
        self.config = config
        self.augmentations = tuple(augmentations)
        self.generator = build(config)
        self.discriminator = Discriminator(config, width=discriminator_width)
        self.average = copy.deepcopy(self.generator).eval()
        for parameter in self.average.parameters():
            parameter.requires_grad_(False)
        self.generator_optimizer = torch.optim.Adam(self.generator.parameters(), self.learning_rate,
                                                    betas=self.betas)
        self.discriminator_optimizer = torch.optim.Adam(self.discriminator.parameters(),
                                                        self.learning_rate, betas=self.betas)

    def to_model_range(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NCHW -> [-1, 1]."""
        return images.float() / 127.5 - 1

    def _critic(self, images: torch.Tensor, stream: torch.Generator) -> torch.Tensor:
        return self.discriminator(diff_augment(images, stream, self.augmentations))

    def step(self, real: torch.Tensor, step: int, stream: torch.Generator) -> dict[str, float]:
        batch = real.shape[0]
        # one batch of fakes serves both steps (as in PyTorch's DCGAN example): a quarter less
        # generator work than drawing a second batch for the generator's step
        fake = self.generator(torch.randn(batch, self.config.z_size, generator=stream))
        real_loss = functional.relu(1 - self._critic(real, stream)).mean()
        fake_loss = functional.relu(1 + self._critic(fake.detach(), stream)).mean()
        self.discriminator_optimizer.zero_grad(set_to_none=True)
        (real_loss + fake_loss).backward()
        self.discriminator_optimizer.step()

        with _frozen(self.discriminator):        # the gradient flows through it to the generator
            generator_loss = -self._critic(fake, stream).mean()
            self.generator_optimizer.zero_grad(set_to_none=True)
            generator_loss.backward()
        self.generator_optimizer.step()
        update_average(self.average, self.generator, (step + 1) * batch, batch)
        return {"d_real": real_loss.item(), "d_fake": fake_loss.item(), "g": generator_loss.item()}

    def final_model(self, seed: int) -> nn.Module:
        """The averaged generator with recalibrated batch-norm statistics (a copy)."""
        final = copy.deepcopy(self.average)
        recalibrate_batch_norm(final, self.config.z_size, seed)
        return final

    def sample(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from the averaged generator (eval mode)."""
        with torch.no_grad():
            return (self.average.eval()(z) + 1) / 2

    def state_dict(self) -> dict:
        return {"generator": self.generator.state_dict(), "average": self.average.state_dict(),
                "discriminator": self.discriminator.state_dict(),
                "generator_optimizer": self.generator_optimizer.state_dict(),
                "discriminator_optimizer": self.discriminator_optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.average.load_state_dict(state["average"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.generator_optimizer.load_state_dict(state["generator_optimizer"])
        self.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])

    def train(self) -> None:
        self.generator.train()
        self.discriminator.train()


LOG_TWO_PI = math.log(2 * math.pi)


def gaussian_nll(images: torch.Tensor, decoded: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """Per-image negative log-likelihood (nats) of `images` under N(decoded, sigma^2) per pixel.

    >>> round(gaussian_nll(torch.zeros(1, 4), torch.zeros(1, 4), torch.tensor(0.0)).item(), 4)
    3.6758
    """
    squared = ((images - decoded) ** 2).flatten(1)
    per_pixel = 0.5 * squared * torch.exp(-2 * log_sigma) + log_sigma + 0.5 * LOG_TWO_PI
    return per_pixel.sum(1)


def kl_to_prior(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, var) || N(0, 1)) per latent dimension (nats), shape (N, z_size).

    >>> kl_to_prior(torch.tensor([[0.0, 1.0]]), torch.zeros(1, 2)).tolist()
    [[0.0, 0.5]]
    """
    return 0.5 * (mean ** 2 + log_variance.exp() - log_variance - 1)


class VaeRecipe:
    """A sigma-VAE with KL warm-up and free bits (see the module)."""

    learning_rate = 1e-3
    warm_up_steps = 1000
    free_bits = 0.05                  # nats per latent dimension, averaged over the batch
    def __init__(self, config: ModelConfig, sigma_floor: float = 0.1):
        self.config = config
        self.min_log_sigma = math.log(sigma_floor)
        self.model = build(config)
        self.optimizer = torch.optim.Adam(self.model.parameters(), self.learning_rate)

    def to_model_range(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NCHW -> [0, 1]."""
        return images.float() / 255

    def calibrated_log_sigma(self, images: torch.Tensor, decoded: torch.Tensor) -> torch.Tensor:
        """The decoder's sigma in closed form: log sqrt(mean squared error), floored, no gradient."""
        mse = ((images - decoded) ** 2).mean().detach()
        return (0.5 * torch.log(mse)).clamp(min=self.min_log_sigma)

    def step(self, images: torch.Tensor, step: int, stream: torch.Generator) -> dict[str, float]:
        mean, log_variance = self.model.encode(images)
        noise = torch.randn(mean.shape, generator=stream)
        decoded = self.model(mean + noise * torch.exp(0.5 * log_variance))
        log_sigma = self.calibrated_log_sigma(images, decoded)
        reconstruction = gaussian_nll(images, decoded, log_sigma).mean()
        kl = kl_to_prior(mean, log_variance)
        kl_floored = torch.clamp(kl.mean(0), min=self.free_bits).sum()
        warm = min(1.0, (step + 1) / self.warm_up_steps)
        loss = reconstruction + warm * kl_floored
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"nll": reconstruction.item(), "kl": kl.sum(1).mean().item(),
                "mse": ((images - decoded) ** 2).mean().item()}

    def final_model(self, seed: int) -> nn.Module:
        return copy.deepcopy(self.model).eval()

    def sample(self, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model.eval()(z)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])

    def train(self) -> None:
        self.model.train()
