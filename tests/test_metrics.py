"""The offline quality metrics: Fréchet distance, KID, the nearest-neighbour copy check and the
VAE's likelihood, each checked on cases whose answer is known."""
from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
import torch

from artlang.models import metrics
from artlang.models.datasets import load_data
from artlang.models.metrics import (
    copy_check,
    discretised_gaussian_nll,
    features_of,
    frechet_distance,
    kernel_inception_distance,
    train_feature_network,
)
from artlang.models.training import train


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
        result = train("vae", "glyphs", output=tmp_path / f"steps{steps}", size=32, count=300,
                       batch=32, width=8, z_size=8, threads=1, steps=steps, evaluate=False)
        from safetensors.torch import load_file

        from artlang.models.architectures import build
        model = build(result.config)
        model.load_state_dict(load_file(result.output / "model.safetensors"))
        training_set, held_out = load_data("glyphs", 32, count=300, seed=0).split(0.1, 0)
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
    from artlang.models.card import metrics_tables
    rows = metrics_tables({"model": {"frechet_distance": 12.5, "negative_elbo_nats": 700.0},
                           "real": {"frechet_distance": 0.5, "negative_elbo_nats": 650.0}})
    assert any(row.startswith("| Fréchet distance") and "| 12.5 | 0.5 |" in row for row in rows)
    assert any("held-out images | training images" in row for row in rows)
    assert any(row.startswith("| negative ELBO") and "| 700 | 650 |" in row for row in rows)
