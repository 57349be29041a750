"""Training: tiny models for a few steps, checkpoints and exact resume, the files a run leaves, the
command line."""
from __future__ import annotations

import doctest
import json
import os
import signal

import pytest
import torch
from conftest import run_cli
from safetensors.torch import load_file

from artlang.errors import ArtError
from artlang.models import card, recipes, training
from artlang.models.architectures import build
from artlang.models.config import ModelConfig
from artlang.models.recipes import diff_augment, random_stream, update_average
from artlang.models.store import zoo_names, zoo_path

TINY = {"size": 32, "count": 64, "batch": 16, "width": 8, "z_size": 8, "threads": 1,
        "evaluate": False}


def tiny_train(kind, output, **options):
    return training.train(kind, "glyphs" if kind == "vae" else "shapes", output=output,
                          **{**TINY, **options})


def checkpoint_state(folder):
    return torch.load(folder / training.CHECKPOINT, weights_only=True)


def assert_same_tensors(first, second, where=""):
    if isinstance(first, torch.Tensor):
        assert torch.equal(first, second), f"{where} differs"
    elif isinstance(first, dict):
        assert first.keys() == second.keys(), where
        for key in first:
            assert_same_tensors(first[key], second[key], f"{where}/{key}")
    elif isinstance(first, (list, tuple)):
        for index, (a, b) in enumerate(zip(first, second, strict=True)):
            assert_same_tensors(a, b, f"{where}/{index}")
    else:
        assert first == second, where


@pytest.mark.parametrize("kind", ["gan", "vae"])
def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(kind, tmp_path):
    tiny_train(kind, tmp_path / "straight", steps=6)
    tiny_train(kind, tmp_path / "halves", steps=3)
    assert checkpoint_state(tmp_path / "halves")["step"] == 3
    tiny_train(kind, tmp_path / "halves", steps=6, resume=True)
    straight, halves = checkpoint_state(tmp_path / "straight"), checkpoint_state(tmp_path / "halves")
    assert straight["step"] == halves["step"] == 6
    assert_same_tensors(straight["recipe"], halves["recipe"])
    assert (load_file(tmp_path / "straight" / "model.safetensors").keys()
            == load_file(tmp_path / "halves" / "model.safetensors").keys())


def test_a_run_leaves_a_loadable_model_its_pictures_and_a_card(tmp_path):
    result = tiny_train("gan", tmp_path / "run", steps=4)
    folder = result.output
    config = ModelConfig.read(folder / "config.json")
    assert (config.kind, config.z_size, config.width, config.channels) == ("gan", 8, 8, 3)
    assert config.training["steps"] == 4 and config.training["data"] == "shapes"
    model = build(config)
    weights = load_file(folder / "model.safetensors")
    assert {w.dtype for w in weights.values() if w.is_floating_point()} == {torch.float16}
    model.load_state_dict(weights)
    images = model.eval()(torch.randn(2, 8))
    assert images.shape == (2, 3, 32, 32) and images.abs().max() <= 1
    for name in ("samples.png", "walk.png", "card.md", "samples/epoch-0001.png"):
        assert (folder / name).exists(), name
    assert "samples.png" in (folder / "card.md").read_text()


@pytest.mark.parametrize("kind", ["gan", "vae"])
def test_64_pixel_models_train_too(kind, tmp_path):
    result = tiny_train(kind, tmp_path / "big", size=64, count=32, steps=1)
    assert ModelConfig.read(result.output / "config.json").image_size == 64


def test_a_vae_run_also_draws_reconstructions_and_the_vae_encodes(tmp_path):
    result = tiny_train("vae", tmp_path / "vae", steps=2)
    assert (result.output / "reconstructions.png").exists()
    config = ModelConfig.read(result.output / "config.json")
    assert config.output_range == (0.0, 1.0) and config.channels == 1


def test_the_checkpoint_holds_only_state_dicts_and_plain_values(tmp_path):
    tiny_train("gan", tmp_path / "run", steps=2)
    state = checkpoint_state(tmp_path / "run")       # weights_only: no pickled objects
    assert set(state) == {"format", "step", "elapsed", "options", "recipe"}
    assert json.loads(state["options"])["kind"] == "gan"


def test_vae_loss_goes_down(tmp_path):
    losses = []
    tiny_train("vae", tmp_path / "run", steps=40, progress=lambda p: losses.append(p.losses["nll"]))
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 100     # nats per image


def test_stop_saves_a_checkpoint_and_the_run_can_go_on(tmp_path):
    seen = []
    result = tiny_train("vae", tmp_path / "run", steps=10, progress=lambda p: seen.append(p.step),
                        stop=lambda: len(seen) >= 3)
    assert not result.finished and result.steps == 3
    assert not (tmp_path / "run" / "model.safetensors").exists()
    assert tiny_train("vae", tmp_path / "run", steps=5, resume=True).steps == 5


def test_training_over_a_model_needs_resume_and_resume_needs_the_same_options(tmp_path):
    tiny_train("vae", tmp_path / "run", steps=1)
    with pytest.raises(ArtError, match="already holds"):
        tiny_train("vae", tmp_path / "run", steps=1)
    with pytest.raises(ArtError, match="z_size"):
        tiny_train("vae", tmp_path / "run", steps=2, resume=True, z_size=4)
    with pytest.raises(ArtError, match="no checkpoint"):
        tiny_train("vae", tmp_path / "new", steps=1, resume=True)


def test_the_budget_is_wall_clock_and_a_resumed_run_counts_the_time_already_trained(tmp_path):
    result = tiny_train("vae", tmp_path / "run", minutes=0.01)
    assert 0.6 <= result.seconds < 5 and result.steps > 0
    again = tiny_train("vae", tmp_path / "run", minutes=0.01, resume=True)
    assert again.steps == result.steps                  # the budget was already spent


def test_diff_augment_is_seeded_and_changes_images_but_keeps_their_shape():
    images = torch.rand(4, 3, 16, 16) * 2 - 1
    first = diff_augment(images, random_stream(1, 2))
    assert torch.equal(first, diff_augment(images, random_stream(1, 2)))
    assert not torch.equal(first, diff_augment(images, random_stream(1, 3)))
    assert first.shape == images.shape and not torch.allclose(first, images)


def test_the_average_follows_the_model_slowly_after_the_ramp_up():
    config = ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=4, width=8)
    model, average = build(config), build(config)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(1.0)
    before = [p.clone() for p in average.parameters()]
    update_average(average, model, images_seen=1_000_000, batch=64)
    moved = [(a - b).abs().mean().item() for a, b in zip(average.parameters(), before)]
    assert all(0 < m < 0.01 for m in moved)          # a small step toward the model


def test_the_command_line_trains_for_the_minutes_given(tmp_path):
    folder = tmp_path / "cli"
    result = run_cli("train", "vae", "glyphs", "--minutes", "0.05", "-o", folder, "--images", "64",
                     "--batch", "16", "--width", "8", "--z-size", "4", "--threads", "1",
                     "--no-metrics")
    assert result.code == 0, result.stderr
    assert "trained vae" in result.stdout and "card.md" in result.stdout
    config = ModelConfig.read(folder / "config.json")
    assert config.training["command"].startswith("artlang train vae glyphs")
    again = run_cli("train", "vae", "glyphs", "-o", folder)
    assert again.code != 0 and "--resume" in again.stderr


def test_ctrl_c_saves_a_checkpoint_exits_130_and_the_same_command_resumes(tmp_path, monkeypatch):
    train = training.train

    def interrupted_at_step_two(*arguments, progress, **options):
        def progress_then_interrupt(report):
            progress(report)
            if report.step == 2:
                os.kill(os.getpid(), signal.SIGINT)
        return train(*arguments, progress=progress_then_interrupt, **options)

    monkeypatch.setattr(training, "train", interrupted_at_step_two)
    command = ["train", "vae", "glyphs", "--steps", "4", "-o", tmp_path / "run", "--images", "64",
               "--batch", "16", "--width", "8", "--z-size", "4", "--threads", "1", "--no-metrics"]
    stopped = run_cli(*command)
    assert stopped.code == 130 and "run the same command with --resume" in stopped.stderr
    assert checkpoint_state(tmp_path / "run")["step"] == 2
    monkeypatch.setattr(training, "train", train)
    resumed = run_cli(*command, "--resume")
    assert resumed.code == 0, resumed.stderr
    assert checkpoint_state(tmp_path / "run")["step"] == 4


@pytest.mark.parametrize("module", [training, recipes, card])
def test_docstring_examples_run(module):
    failures, tried = doctest.testmod(module)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize("name", zoo_names())
def test_each_zoo_model_has_its_card_pictures_and_metrics_beside_the_baseline(name):
    folder = zoo_path(name)
    config = ModelConfig.read(folder / "config.json")
    info = config.training
    assert info["command"].startswith(f"artlang train {config.kind} ")
    assert info["steps"] > 0 and info["seconds_trained"] > 0
    for key in ("frechet_distance", "kid", "nearest_neighbour_ratio", "copies"):
        assert key in info["metrics"]["model"] and key in info["metrics"]["real"]
    assert info["metrics"]["model"]["copies"] < 0.05          # not copies of training images
    card_text = (folder / "card.md").read_text()
    assert info["command"] in card_text
    for picture in ("samples.png", "walk.png"):
        assert (folder / picture).exists() and f"]({picture})" in card_text
    assert (folder / "model.safetensors").stat().st_size < 4 * 2**20
    assert not (folder / training.CHECKPOINT).exists()        # the zoo ships the model only


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    import fcntl
    folder = tmp_path / "run"
    folder.mkdir()
    with open(folder / training.LOCK, "a+b") as held:         # as a running `artlang train` holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ArtError, match="another `artlang train` is writing into"):
            tiny_train("vae", folder, steps=1)
    assert tiny_train("vae", folder, steps=1).finished           # free again once it ends
