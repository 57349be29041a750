"""The offline quality metrics: Fréchet distance, KID, the nearest-neighbour copy check and the
VAE's likelihood, each checked on cases whose answer is known."""
from __future__ import annotations

import doctest
import math
import os

import numpy as np
import pytest
import torch
from safetensors import safe_open

from artlang.training import metrics
from artlang.training.datasets import load_data
from artlang.training.metrics import (
    copy_check,
    discretised_gaussian_nll,
    features_of,
    frechet_distance,
    kernel_inception_distance,
    train_feature_network,
)
from artlang.training.training import train


@pytest.fixture(scope="module")
def glyphs():
    return load_data("glyphs", 32, count=600, seed=0).split(0.5, seed=0)


@pytest.fixture(scope="module")
def feature_network(glyphs):
    return train_feature_network(glyphs[0], seed=0, steps=40, batch=32)


def noise_images(count, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (count, 32, 32, 1), dtype=np.uint8)


def test_frechet_distance_of_gaussians_matches_the_formula():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20000, 4))
    assert frechet_distance(base, base + 3) == pytest.approx(4 * 9, rel=1e-6)
    # N(0, I) against N(0, 4 I): tr(I + 4 I - 2 * 2 I) = 4
    assert frechet_distance(base, rng.normal(size=(20000, 4)) * 2) == pytest.approx(4, abs=0.15)


def test_real_images_are_close_to_real_images_and_far_from_noise(glyphs, feature_network):
    training, held_out = glyphs
    real = features_of(feature_network, training.images[:250])
    other_real = features_of(feature_network, held_out.images[:250])
    noise = features_of(feature_network, noise_images(250))
    assert frechet_distance(real, other_real) * 10 < frechet_distance(real, noise)
    same = kernel_inception_distance(real, other_real, subset_size=200)
    different = kernel_inception_distance(real, noise, subset_size=200)
    assert abs(same) * 10 < different


def test_the_feature_network_is_deterministic_and_learns_the_labels(glyphs, feature_network):
    training, held_out = glyphs
    again = train_feature_network(training, seed=0, steps=40, batch=32)
    assert np.array_equal(features_of(again, held_out.images[:50]),
                          features_of(feature_network, held_out.images[:50]))
    accuracy = metrics.classifier_accuracy(feature_network, held_out)
    assert accuracy > 3 / 62                        # better than guessing among 62 characters


def test_the_copy_check_flags_copies_of_training_images_and_not_new_ones(glyphs):
    training, held_out = glyphs
    copied = copy_check(training.images[:50], training.images, held_out.images)
    assert copied["model"]["copies"] == 1.0 and copied["model"]["nearest_neighbour_ratio"] == 0
    fresh = copy_check(held_out.images[:50], training.images, held_out.images[50:])
    assert fresh["model"]["copies"] < 0.2
    assert 0.7 < fresh["model"]["nearest_neighbour_ratio"] < 1.3
    assert 0.7 < fresh["real"]["nearest_neighbour_ratio"] < 1.3


def test_the_discretised_likelihood_is_a_probability_over_the_256_levels():
    levels = torch.arange(256).float().view(256, 1, 1, 1) / 255
    for mean, sigma in ((0.3, 0.05), (0.999, 0.2), (0.0, 0.01)):
        probabilities = torch.exp(-discretised_gaussian_nll(levels, torch.full_like(levels, mean), sigma))
        assert probabilities.sum().item() == pytest.approx(1, abs=1e-4)
    exact = torch.rand(2, 1, 8, 8).mul(255).round() / 255
    assert discretised_gaussian_nll(exact, exact, 1e-4).max().item() < 1e-3


def test_a_vae_is_measured_with_a_finite_elbo_that_training_lowers(tmp_path):
    def measured(steps):
        result = train("vae", "glyphs", output=tmp_path / f"steps{steps}", size=32, count=500,
                       batch=32, width=8, z_size=8, threads=1, steps=steps, evaluate=False)
        from safetensors.torch import load_file

        from artlang.models.architectures import build
        model = build(result.config)
        model.load_state_dict(load_file(result.output / "model.safetensors"))
        training_set, held_out = load_data("glyphs", 32, count=500, seed=0).split(0.1, 0)
        return metrics.evaluate_model(model, result.config, training_set, held_out, result.output,
                                      feature_steps=10), result.output

    early, _ = measured(1)
    late, folder = measured(40)
    for key in ("negative_elbo_nats", "reconstruction_mse", "frechet_distance", "kid",
                "nearest_neighbour_ratio", "copies"):
        assert math.isfinite(late["model"][key]) and math.isfinite(late["real"][key])
    assert 0 < late["model"]["negative_elbo_nats"] < early["model"]["negative_elbo_nats"]
    assert late["model"]["reconstruction_mse"] < early["model"]["reconstruction_mse"]
    assert 0 < late["model"]["bits_per_dimension"] < 8
    assert (folder / metrics.FEATURE_FILE).exists()


def test_docstring_examples_run():
    failures, tried = doctest.testmod(metrics)
    assert tried > 0 and failures == 0


def test_the_card_tables_put_each_metric_beside_its_baseline():
    from artlang.training.card import metrics_tables
    rows = metrics_tables({"model": {"frechet_distance": 12.5, "negative_elbo_nats": 700.0},
                           "real": {"frechet_distance": 0.5, "negative_elbo_nats": 650.0}})
    assert any(row.startswith("| Fréchet distance") and "| 12.5 | 0.5 |" in row for row in rows)
    assert any("held-out images | training images" in row for row in rows)
    assert any(row.startswith("| negative ELBO") and "| 700 | 650 |" in row for row in rows)


LEVELS = torch.arange(256).float().view(256, 1, 1, 1) / 255       # float32, as a model gives them


@pytest.mark.parametrize("mean, sigma", [(0.3, 0.05), (0.999, 0.2), (0.0, 0.01), (0.5, 0.001),
                                         (-0.4, 0.03), (1.3, 0.002)])
def test_the_256_bins_of_the_discretised_likelihood_sum_to_one(mean, sigma):
    nll = discretised_gaussian_nll(LEVELS, torch.full_like(LEVELS, mean), sigma)
    assert torch.exp(-nll).sum().item() == pytest.approx(1, abs=1e-9)


@pytest.mark.parametrize("side", [-1, 1])
def test_a_pixel_ten_sigma_away_costs_its_tail_probability_about_fifty_nats(side):
    sigma, pixel = 0.01, torch.full((1, 1, 1, 1), 128 / 255, dtype=torch.float64)
    mean = pixel - side * 10 * sigma
    near, far = 10 - 0.5 / 255 / sigma, 10 + 0.5 / 255 / sigma       # the bin, in sigmas
    exact = -math.log(0.5 * math.erfc(near / math.sqrt(2)) - 0.5 * math.erfc(far / math.sqrt(2)))
    assert 50 < exact < 56
    assert discretised_gaussian_nll(pixel, mean, sigma).item() == pytest.approx(exact, rel=1e-9)


def test_a_pixel_far_out_in_an_end_bin_is_not_capped():
    black = torch.zeros(1, 1, 1, 1)
    assert discretised_gaussian_nll(black, torch.full_like(black, 0.5), 0.01).item() > 1000


def test_the_feature_network_is_saved_with_what_it_was_trained_for_and_reused_only_for_that(
        glyphs, tmp_path, monkeypatch):
    training = glyphs[0]
    first = metrics.load_or_train_feature_network(training, tmp_path, seed=0, steps=3)
    path = tmp_path / metrics.FEATURE_FILE
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask          # like the model's other files
    with safe_open(str(path), "pt") as saved:
        assert training.description in saved.metadata()["trained_for"]
    other = load_data("glyphs", 32, count=80, seed=1)
    retrained = metrics.load_or_train_feature_network(other, tmp_path, seed=0, steps=3)
    expected = train_feature_network(other, seed=0, steps=3)
    probe = other.images[:20]
    assert np.array_equal(features_of(retrained, probe), features_of(expected, probe))
    assert not np.array_equal(features_of(retrained, probe), features_of(first, probe))

    def no_training(*arguments, **options):
        raise AssertionError("trained again")
    monkeypatch.setattr(metrics, "train_feature_network", no_training)
    again = metrics.load_or_train_feature_network(other, tmp_path, seed=0, steps=3)
    assert np.array_equal(features_of(again, probe), features_of(expected, probe))


def test_a_broken_feature_network_file_is_trained_again(glyphs, tmp_path):
    (tmp_path / metrics.FEATURE_FILE).write_bytes(b"not safetensors at all")
    network = metrics.load_or_train_feature_network(glyphs[0], tmp_path, seed=0, steps=2)
    assert features_of(network, glyphs[1].images[:3]).shape == (3, metrics.FEATURES)


def test_too_few_held_out_images_are_not_measured_and_the_reason_is_given(glyphs):
    training, held_out = glyphs
    few = held_out._subset(np.arange(10))
    measured = metrics.evaluate_model(None, None, training, few, "/nonexistent")
    assert "10 held-out images" in measured["skipped"] and "model" not in measured


class SpreadOutVae:
    """A VAE whose posterior is N(0, 0.2^2) and whose decoder paints every pixel 0.5 + z: its
    reconstructions from the mean are perfect gray, from a sample 0.2 off on average."""

    def encode(self, batch):
        return torch.zeros(len(batch), 1), torch.full((len(batch), 1), math.log(0.2 ** 2))

    def __call__(self, z):
        return (0.5 + z).view(-1, 1, 1, 1).expand(-1, 1, 8, 8)


def test_the_elbo_sigma_is_fitted_to_sampled_reconstructions():
    gray = np.full((400, 8, 8, 1), 128, np.uint8)
    sigma = metrics.calibrated_sigma(SpreadOutVae(), gray, seed=0)
    assert sigma == pytest.approx(0.2, rel=0.1)
    assert sigma == metrics.calibrated_sigma(SpreadOutVae(), gray, seed=0)
