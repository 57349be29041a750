"""Offline quality metrics. No Inception weights exist here, so the features come from a small
network trained on this machine, on the model's own training data: a classifier of the data set's
labels when it has labels, else an autoencoder's bottleneck. It is deterministic (seeded) and is
saved beside the model (`feature_network.safetensors`) so the numbers can be checked again.

Every metric is reported for the model and, as the baseline, for held-out real images measured the
same way (`real`): a model is as good as real data when its numbers match the baseline's.

- Fréchet distance (FD) and KID between the features of generated images and of held-out images,
  each feature standardised by its mean and spread over the held-out images; the baseline compares
  an equal number of training images with the held-out ones.
- Nearest neighbours in pixels: each generated image's distance to its nearest training image,
  as a ratio to the same distance for held-out images (below 1 means closer to the training set
  than new real images are), and the share of images closer to a training image than any held-out
  real image is (copies).
- For a VAE: the negative ELBO in nats per image (a Gaussian over the 256 pixel levels, with the
  decoder's sigma fitted to sampled reconstructions of training images the baseline does not use)
  and the reconstruction MSE, on held-out images and, as the baseline, on training images.

Fewer than MIN_HELD_OUT held-out images measure nothing reliable (and break the covariances), so
such a model is not measured: the result says why instead.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> same = frechet_distance(rng.normal(size=(500, 4)), rng.normal(size=(500, 4)))
>>> moved = frechet_distance(rng.normal(size=(500, 4)), rng.normal(size=(500, 4)) + 3)
>>> same < 0.2 < 30 < moved
True
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from artlang.core.files import atomic_write
from artlang.training.card import decode
from artlang.models.config import ModelConfig
from artlang.training.datasets import DataSet
from artlang.training.recipes import kl_to_prior, random_stream

FEATURE_FILE = "feature_network.safetensors"
FEATURES = 64
FEATURE_STEPS = 400                    # Adam steps of the feature network
SAMPLE_COUNT = 2000                    # generated images measured (at most the held-out count)
MIN_HELD_OUT = 50                      # held-out images needed to measure anything
SIGMA_FIT_COUNT = 500                  # training images the VAE's decoder sigma is fitted to


# -- the feature network ---------------------------------------------------------------------

class FeatureNetwork(nn.Module):
    """Four strided convolutions to a 64-number feature vector; a linear head on top (class
    logits for a classifier; for an autoencoder, a small decoder back to the image)."""

    def __init__(self, channels: int, size: int, classes: int):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 16, 3, 1, 1), nn.ReLU(),
            nn.Conv2d(16, 32, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(),
            nn.Conv2d(64, 64, 4, 2, 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(64 * 16, FEATURES))
        self.classes = classes
        if classes:
            self.head = nn.Sequential(nn.ReLU(), nn.Linear(FEATURES, classes))
        else:
            self.head = nn.Sequential(nn.Linear(FEATURES, channels * size * size), nn.Sigmoid(),
                                      nn.Unflatten(1, (channels, size, size)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))

    def loss(self, images: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.classes:
            return functional.cross_entropy(self(images), labels)
        return functional.mse_loss(self(images), images)


def _as_input(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, C) -> float (N, C, H, W) in [0, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255


def _untrained_network(data: DataSet) -> FeatureNetwork:
    size, channels = data.images.shape[1], data.images.shape[3]
    return FeatureNetwork(channels, size, len(data.classes) if data.labels is not None else 0)


def train_feature_network(data: DataSet, seed: int = 0, steps: int = FEATURE_STEPS,
                          batch: int = 128) -> FeatureNetwork:
    """A classifier of `data`'s labels (or an autoencoder when it has none), trained for `steps`
    Adam steps from a seeded start."""
    torch.manual_seed(seed)
    network = _untrained_network(data)
    optimizer = torch.optim.Adam(network.parameters(), 2e-3)
    labels = None if data.labels is None else torch.from_numpy(data.labels).long()
    network.train()
    for step in range(steps):
        picks = torch.randint(0, len(data.images), (min(batch, len(data.images)),),
                              generator=random_stream(seed, step, 7))
        loss = network.loss(_as_input(data.images[picks.numpy()]),
                            None if labels is None else labels[picks])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return network.eval()


def load_or_train_feature_network(data: DataSet, folder: Path, seed: int,
                                  steps: int = FEATURE_STEPS) -> FeatureNetwork:
    """The network saved in `folder` when its metadata says it was trained for this data, seed
    and step count; else (or when the file cannot be read) a new one trained on `data` and saved
    there, with what it was trained for."""
    from safetensors.torch import save_file  # imports torch: only when a model is used

    path = Path(folder) / FEATURE_FILE
    purpose = trained_for(data, seed, steps)
    network = _saved_network(path, purpose, data)
    if network is None:
        network = train_feature_network(data, seed, steps)
        state = {name: tensor.contiguous() for name, tensor in network.state_dict().items()}
        atomic_write(path, lambda temporary: save_file(state, str(temporary),
                                                       metadata={"trained_for": purpose}))
    return network


def trained_for(data: DataSet, seed: int, steps: int) -> str:
    """What a feature network was trained for, as the JSON kept in its file's metadata."""
    return json.dumps({
        "data": data.description, "size": data.images.shape[1], "channels": data.channels,
        "classes": len(data.classes) if data.labels is not None else 0, "seed": seed,
        "images": len(data.images), "steps": steps,
        "pixels_sha256": hashlib.sha256(np.ascontiguousarray(data.images).data).hexdigest()},
        sort_keys=True)


def _saved_network(path: Path, purpose: str, data: DataSet) -> FeatureNetwork | None:
    """The network in `path` if it exists, reads cleanly and was trained for `purpose`."""
    from safetensors import SafetensorError, safe_open  # imports torch: only when a model is used

    if not path.is_file():
        return None
    network = _untrained_network(data)
    try:
        with safe_open(str(path), "pt") as saved:
            if (saved.metadata() or {}).get("trained_for") != purpose:
                return None
            names = saved.keys()
            network.load_state_dict({name: saved.get_tensor(name) for name in names})
    except (SafetensorError, OSError, RuntimeError, ValueError):
        return None
    return network.eval()


@torch.no_grad()
def features_of(network: FeatureNetwork, images: np.ndarray, batch: int = 500) -> np.ndarray:
    """Feature vectors (N, 64) of uint8 images, float64."""
    parts = [network.features(_as_input(images[start:start + batch]))
             for start in range(0, len(images), batch)]
    return torch.cat(parts).double().numpy()


@torch.no_grad()
def classifier_accuracy(network: FeatureNetwork, data: DataSet) -> float | None:
    if data.labels is None:
        return None
    guesses = np.concatenate([network(_as_input(data.images[s:s + 500])).argmax(1).numpy()
                              for s in range(0, len(data.images), 500)])
    return float((guesses == data.labels).mean())


# -- distances between sets of features -------------------------------------------------------

def frechet_distance(first: np.ndarray, second: np.ndarray) -> float:
    """The Fréchet distance between Gaussians fitted to two sets of features (rows):
    |mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2), with symmetric square roots from
    eigendecompositions (no scipy)."""
    mean_gap = np.sum((first.mean(0) - second.mean(0)) ** 2)
    c1, c2 = np.cov(first, rowvar=False), np.cov(second, rowvar=False)
    values, vectors = np.linalg.eigh(c1)
    root = (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T
    middle = np.linalg.eigvalsh(root @ c2 @ root)
    return float(mean_gap + np.trace(c1) + np.trace(c2) - 2 * np.sqrt(np.clip(middle, 0, None)).sum())


def kernel_inception_distance(first: np.ndarray, second: np.ndarray, subsets: int = 10,
                              subset_size: int = 1000, seed: int = 0) -> float:
    """KID: the unbiased squared MMD with the kernel (x.y / d + 1)^3, averaged over random subsets
    (Binkowski et al. 2018). Near 0 (it can dip below) for sets from the same distribution.

    >>> rng = np.random.default_rng(1)
    >>> abs(kernel_inception_distance(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)))) < 0.01
    True
    """
    rng = np.random.default_rng(seed)
    size = min(subset_size, len(first), len(second))
    dimensions = first.shape[1]
    total = 0.0
    for _ in range(subsets):
        x = first[rng.choice(len(first), size, replace=False)]
        y = second[rng.choice(len(second), size, replace=False)]
        kxx, kyy = (x @ x.T / dimensions + 1) ** 3, (y @ y.T / dimensions + 1) ** 3
        kxy = (x @ y.T / dimensions + 1) ** 3
        total += ((kxx.sum() - np.trace(kxx)) / (size * (size - 1))
                  + (kyy.sum() - np.trace(kyy)) / (size * (size - 1)) - 2 * kxy.mean())
    return float(total / subsets)


def nearest_distances(images: np.ndarray, references: np.ndarray, batch: int = 256) -> np.ndarray:
    """Each image's root-mean-square pixel distance (0..1 scale) to its nearest reference image.

    >>> black, white = np.zeros((1, 2, 2, 1), np.uint8), np.full((1, 2, 2, 1), 255, np.uint8)
    >>> nearest_distances(np.concatenate([black, white]), black).tolist()
    [0.0, 1.0]
    """
    reference = torch.from_numpy(references.reshape(len(references), -1)).float() / 255
    reference_norms = (reference ** 2).sum(1)
    nearest = []
    for start in range(0, len(images), batch):
        part = torch.from_numpy(images[start:start + batch].reshape(-1, reference.shape[1])).float() / 255
        squared = (part ** 2).sum(1, keepdim=True) - 2 * part @ reference.T + reference_norms
        nearest.append(squared.min(1).values.clamp(min=0))
    return np.sqrt(torch.cat(nearest).numpy() / reference.shape[1])


def copy_check(images: np.ndarray, training: np.ndarray, held_out: np.ndarray) -> dict:
    """How close `images` sit to the training set, against held-out real images. The held-out
    images are halved: the first half sets the bar (its closest distance to a training image and
    its median), the second half is the baseline measured against that bar."""
    half = len(held_out) // 2
    bar = nearest_distances(held_out[:half], training)
    closest, median = float(bar.min()), float(np.median(bar))
    result = {}
    for who, pictures in (("model", images), ("real", held_out[half:])):
        distances = nearest_distances(pictures, training)
        result[who] = {"nearest_neighbour_ratio": float(np.median(distances)) / median,
                       "copies": float((distances < closest).mean())}
    return result


# -- VAE likelihood -------------------------------------------------------------------------

def discretised_gaussian_nll(images: torch.Tensor, decoded: torch.Tensor, sigma: float) -> torch.Tensor:
    """Per-image negative log-likelihood (nats) of 8-bit images (given in [0, 1]) under a Gaussian
    of mean `decoded` and `sigma`, integrated over each pixel's 1/255-wide bin (the end bins reach
    to infinity), so it is a probability of the actual bytes. In float64, each bin's probability
    from the tail it lies in (`log_normal_mass`): a pixel far from the mean costs all it should.

    >>> pixel = torch.full((1, 1), 128 / 255)
    >>> round(discretised_gaussian_nll(pixel, pixel, 1 / 255).item(), 4)     # -log P(|X| < 0.5)
    0.9599
    """
    levels = torch.round(images.double() * 255)
    mean = decoded.double() * 255
    lower = torch.where(levels == 0, -math.inf, (levels - 0.5 - mean) / (sigma * 255))
    upper = torch.where(levels == 255, math.inf, (levels + 0.5 - mean) / (sigma * 255))
    return -log_normal_mass(lower, upper).flatten(1).sum(1)


def log_normal_mass(lower: torch.Tensor, upper: torch.Tensor) -> torch.Tensor:
    """log P(lower < X < upper) for a standard normal X (lower < upper), accurate far out in
    either tail: a bin right of 0 is mirrored to the left, where `log_ndtr` keeps its precision.

    >>> round(log_normal_mass(torch.tensor([10.0]), torch.tensor([math.inf])).item(), 4)
    -53.2313
    """
    from torch.special import log_ndtr, ndtr  # heavy: loaded only when a model is used

    mirrored = lower > 0
    low, high = torch.where(mirrored, -upper, lower), torch.where(mirrored, -lower, upper)
    in_tail = log_ndtr(high) + torch.log1p(-torch.exp(log_ndtr(low) - log_ndtr(high)))
    across_the_mean = torch.log(ndtr(high) - ndtr(low))
    return torch.where(high < 0, in_tail, across_the_mean)


def _sampled_reconstruction(model, batch: torch.Tensor, stream: torch.Generator):
    """(decoded, mean, log variance): `batch` decoded from one latent sampled per image."""
    mean, log_variance = model.encode(batch)
    noise = torch.randn(mean.shape, generator=stream)
    return model(mean + noise * torch.exp(0.5 * log_variance)), mean, log_variance


@torch.no_grad()
def vae_scores(model, images: np.ndarray, sigma: float, seed: int) -> dict:
    """Negative ELBO (nats per image, one latent sample per image) and reconstruction MSE."""
    elbo, mse = [], []
    for start in range(0, len(images), 500):
        batch = _as_input(images[start:start + 500])
        decoded, mean, log_variance = _sampled_reconstruction(
            model, batch, random_stream(seed, start, 9))
        kl = kl_to_prior(mean, log_variance).sum(1)
        elbo.append(discretised_gaussian_nll(batch, decoded, sigma) + kl)
        mse.append(((model(mean) - batch) ** 2).flatten(1).mean(1))
    negative_elbo = torch.cat(elbo).mean().item()
    pixels = images[0].size
    return {"negative_elbo_nats": negative_elbo,
            "bits_per_dimension": negative_elbo / (pixels * math.log(2)),
            "reconstruction_mse": torch.cat(mse).mean().item()}


@torch.no_grad()
def calibrated_sigma(model, images: np.ndarray, seed: int) -> float:
    """The decoder's sigma fitted as the recipe fits it, the root mean squared reconstruction
    error, with the reconstructions decoded as the ELBO decodes them: from a sampled latent."""
    batch = _as_input(images)
    decoded, _, _ = _sampled_reconstruction(model, batch, random_stream(seed, 11))
    return max(math.sqrt(((decoded - batch) ** 2).mean().item()), 1e-3)


# -- everything, for a trained model ----------------------------------------------------------

@torch.no_grad()
def generate(model, config: ModelConfig, count: int, seed: int) -> np.ndarray:
    """`count` images from random latents, as uint8 (N, H, W, C) like the data."""
    parts = []
    stream = random_stream(seed, -4)
    for start in range(0, count, 250):
        z = torch.randn(min(250, count - start), config.z_size, generator=stream)
        parts.append(decode(model, config, z))
    images = torch.cat(parts).clamp(0, 1).permute(0, 2, 3, 1).numpy()
    return (images * 255 + 0.5).astype(np.uint8)


def evaluate_model(model, config: ModelConfig, training: DataSet, held_out: DataSet,
                   folder: Path, seed: int = 0, feature_steps: int = FEATURE_STEPS) -> dict:
    """All the metrics of a trained model, as {"model": {...}, "real": {...}, ...} (see the module),
    or {"skipped": why} when there are too few held-out images. Trains (or loads) the feature
    network in `folder`."""
    reason = too_few_to_measure(held_out)
    if reason:
        return {"skipped": reason}
    model = model.eval()
    network = load_or_train_feature_network(training, Path(folder), seed, feature_steps)
    count = min(SAMPLE_COUNT, len(held_out.images))
    generated = generate(model, config, count, seed)
    picks = np.random.default_rng([seed, 5]).choice(len(training.images), count, replace=False)
    training_sample = training.images[picks]
    held_features = features_of(network, held_out.images[:count])
    # in units of the held-out features' spread, so KID's cubic kernel sees numbers near 1
    centre, spread = held_features.mean(0), held_features.std(0) + 1e-8
    held_features = (held_features - centre) / spread
    metrics = {"model": {}, "real": {}}
    for who, images in (("model", generated), ("real", training_sample)):
        mine = (features_of(network, images) - centre) / spread
        metrics[who]["frechet_distance"] = frechet_distance(mine, held_features)
        metrics[who]["kid"] = 1000 * kernel_inception_distance(mine, held_features, seed=seed)
    for who, values in copy_check(generated, training.images, held_out.images).items():
        metrics[who].update(values)
    if config.kind == "vae":
        # the sigma is fitted to training images the baseline does not measure
        others = np.delete(training.images, picks, axis=0)[:SIGMA_FIT_COUNT]
        sigma = calibrated_sigma(model, others, seed)
        metrics["model"].update(vae_scores(model, held_out.images, sigma, seed))
        metrics["real"].update(vae_scores(model, training_sample, sigma, seed))
        metrics["vae_sigma"] = sigma
        metrics["vae_sigma_images"] = len(others)
    accuracy = classifier_accuracy(network, held_out)
    metrics["feature_network"] = {
        "kind": "classifier" if network.classes else "autoencoder", "file": FEATURE_FILE,
        "held_out_accuracy": accuracy, "images_measured": count, "steps": feature_steps}
    metrics["about"] = _about(metrics, network.classes, config.kind)
    return metrics


def too_few_to_measure(held_out: DataSet) -> str | None:
    """Why a model with these held-out images is not measured, or None when it can be."""
    count = len(held_out.images)
    if count >= MIN_HELD_OUT:
        return None
    return (f"Not measured: there {'is' if count == 1 else 'are'} only {count} held-out "
            f"image{'' if count == 1 else 's'}, and the metrics need at least {MIN_HELD_OUT} "
            "(a tenth of the data is held out: train on more images to have the model measured).")


def _about(metrics: dict, classes: int, kind: str) -> str:
    """The paragraph under the card's tables: what the numbers were measured with."""
    network, count = metrics["feature_network"], metrics["feature_network"]["images_measured"]
    accuracy = network["held_out_accuracy"]
    text = (f"Features: a {f'classifier of the {classes} classes' if classes else 'small autoencoder'}"
            f" trained here ({FEATURE_FILE}"
            + (f", {accuracy:.1%} accurate on held-out images" if accuracy is not None else "")
            + f"). {count} generated images against {count} held-out real ones; the baseline "
            "column measures as many training images the same way")
    if kind != "vae":
        return text + "."
    return text + (
        f" (and the ELBO and MSE are measured on training images). The ELBO's decoder sigma is "
        f"{metrics['vae_sigma']:.4g} (pixels in 0..1): the root mean squared error of sampled "
        f"reconstructions of {metrics['vae_sigma_images']} other training images.")
