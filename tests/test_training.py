"""Training: tiny models for a few steps, checkpoints and exact resume, the files a run leaves, the
command line."""
from __future__ import annotations

import doctest
import json
import os
import signal
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from conftest import run_cli
from PIL import Image
from safetensors.torch import load_file

from artlang.cli import EXIT_USAGE
from artlang.core.errors import USAGE, ArtError
from artlang.training import card, recipes, settings, training
from artlang.models.architectures import build
from artlang.models.config import ModelConfig
from artlang.training.recipes import diff_augment, random_stream, update_average
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


@pytest.mark.parametrize("module", [training, recipes, card, settings])
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


def image_folder(folder, count, seed=0):
    """`count` 32 x 32 noise PNGs in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / f"{index}.png")
    return folder


def test_too_few_images_to_train_on_is_a_usage_error_naming_the_counts(tmp_path):
    one = image_folder(tmp_path / "one", 1)
    with pytest.raises(ArtError, match=r"1 image .*at least 3") as failure:
        training.train("vae", str(one), output=tmp_path / "run", **{**TINY, "steps": 1})
    assert failure.value.stage == USAGE
    result = run_cli("train", "gan", one, "-o", tmp_path / "cli", "--steps", "1")
    assert result.code == EXIT_USAGE and "internal error" not in result.stderr


def test_a_small_data_set_is_trained_and_saved_and_its_card_says_why_it_was_not_measured(tmp_path):
    result = tiny_train("vae", tmp_path / "small", count=12, steps=2, evaluate=True)
    folder = result.output
    assert result.finished and (folder / "model.safetensors").exists()
    skipped = json.loads((folder / "metrics.json").read_text())["skipped"]
    assert "1 held-out image" in skipped and skipped in (folder / "card.md").read_text()


def test_the_model_is_saved_before_it_is_measured(tmp_path, monkeypatch):
    def failing(*arguments, **options):
        raise RuntimeError("the metrics failed")
    monkeypatch.setattr(training, "evaluate_model", failing)
    with pytest.raises(RuntimeError):
        tiny_train("vae", tmp_path / "run", count=500, steps=1, evaluate=True)
    assert ModelConfig.read(tmp_path / "run" / "config.json").training["steps"] == 1
    assert (tmp_path / "run" / "model.safetensors").exists()


BAD_VALUES = [("z_size", 5000), ("z_size", 0), ("width", 2), ("width", 0),
              ("discriminator_width", 1), ("threads", 0), ("batch", 0), ("batch", 1),
              ("batch", -4), ("seed", -1), ("minutes", 0), ("minutes", -1),
              ("minutes", float("nan")), ("count", 0), ("steps", 0), ("size", 48),
              ("channels", 2), ("checkpoint_every", 0)]


@pytest.mark.parametrize("name, value", BAD_VALUES)
def test_a_bad_option_is_refused_before_the_data_is_made(name, value, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "load_data", lambda *a, **k: pytest.fail("made the data"))
    with pytest.raises(ArtError) as failure:
        tiny_train("gan", tmp_path / "run", **{name: value})
    assert failure.value.stage == USAGE
    assert str(value) in str(failure.value) or name == "minutes"


@pytest.mark.parametrize("option, value", [("--width", "2"), ("--z-size", "5000"),
                                           ("--threads", "0"), ("--batch", "0"),
                                           ("--batch", "-2"), ("--seed", "-1"),
                                           ("--minutes", "0"), ("--minutes", "-3"),
                                           ("--images", "0"), ("--steps", "0"),
                                           ("--discriminator-width", "1")])
def test_a_bad_option_on_the_command_line_is_a_usage_error(option, value, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "load_data", lambda *a, **k: pytest.fail("made the data"))
    result = run_cli("train", "gan", "shapes", "-o", tmp_path / "run", option, value)
    assert result.code == EXIT_USAGE and "internal error" not in result.stderr
    assert value in result.stderr


def test_the_card_states_the_machine_and_the_batch_really_used(tmp_path):
    result = tiny_train("vae", tmp_path / "run", count=12, steps=1, note="nothing else ran")
    info = ModelConfig.read(result.output / "config.json").training
    cpus = len(os.sched_getaffinity(0))
    assert (info["batch"], info["cpus"], info["torch"]) == (11, cpus, torch.__version__)
    text = (result.output / "card.md").read_text()
    assert f"{cpus} CPU" in text and f"torch {torch.__version__}" in text
    assert "steps of 11 images" in text and "nothing else ran" in text
    assert "shared with other work" not in text


def test_the_card_command_is_rebuilt_from_the_parsed_options(tmp_path):
    folder = tmp_path / "cli"
    typed = ["train", "vae", "glyphs", "--min", "0.02", "-o", folder, "--ima", "64", "--bat", "16",
             "--wid", "8", "--z-s", "4", "--thr", "1", "--no-met", "--size", "32"]
    assert run_cli(*typed).code == 0
    expected = (f"artlang train vae glyphs --minutes 0.02 -o {folder} --batch 16 --z-size 4 "
                "--width 8 --images 64 --threads 1 --no-metrics")
    assert ModelConfig.read(folder / "config.json").training["command"] == expected
    assert run_cli(*typed, "--minutes", "0.03", "--resume").code == 0
    assert ModelConfig.read(folder / "config.json").training["command"] == \
        expected.replace("0.02", "0.03")


def interrupt_when_called(monkeypatch, name, times=1):
    """Make `training.NAME` send this process `times` Ctrl-Cs before it runs."""
    original = getattr(training, name)

    def interrupting(*arguments, **options):
        for _ in range(times):
            os.kill(os.getpid(), signal.SIGINT)
        return original(*arguments, **options)
    monkeypatch.setattr(training, name, interrupting)


TINY_COMMAND = ["--images", "64", "--batch", "16", "--width", "8", "--z-size", "4", "--threads", "1"]


def test_ctrl_c_while_the_data_is_made_stops_at_once(tmp_path, monkeypatch):
    interrupt_when_called(monkeypatch, "load_data")
    result = run_cli("train", "vae", "glyphs", "-o", tmp_path / "run", *TINY_COMMAND)
    assert result.code == 130 and "before the first checkpoint" in result.stderr
    assert not (tmp_path / "run" / training.CHECKPOINT).exists()


def test_ctrl_c_while_measuring_stops_and_says_how_to_go_on(tmp_path, monkeypatch):
    interrupt_when_called(monkeypatch, "evaluate_model")
    command = ["train", "vae", "glyphs", "-o", tmp_path / "run", "--steps", "1",
               *TINY_COMMAND[2:], "--images", "500"]
    result = run_cli(*command)
    assert result.code == 130 and "before the first checkpoint" not in result.stderr
    assert "--resume" in result.stderr and (tmp_path / "run" / "model.safetensors").exists()
    monkeypatch.undo()
    assert run_cli(*command, "--resume", "--no-metrics").code == 0


def test_a_second_ctrl_c_stops_at_once_and_names_the_checkpoint_left(tmp_path, monkeypatch):
    command = ["train", "vae", "glyphs", "-o", tmp_path / "run", "--steps", "1", *TINY_COMMAND,
               "--no-metrics"]
    assert run_cli(*command).code == 0
    interrupt_when_called(monkeypatch, "save_checkpoint", times=2)
    result = run_cli(*command[:6], "3", *command[7:], "--resume")
    assert result.code == 130 and "stopping after this step" in result.stderr
    assert "before the first checkpoint" not in result.stderr
    assert f"the last checkpoint is in {tmp_path / 'run'}" in result.stderr


def test_an_interrupted_checkpoint_leaves_the_old_one_and_no_temporary_file(tmp_path, monkeypatch):
    tiny_train("vae", tmp_path / "run", steps=1)
    before = (tmp_path / "run" / training.CHECKPOINT).read_bytes()

    def half_written(state, path):
        Path(path).write_bytes(b"half")
        raise KeyboardInterrupt
    monkeypatch.setattr(torch, "save", half_written)
    with pytest.raises(KeyboardInterrupt):
        training.save_checkpoint(tmp_path / "run" / training.CHECKPOINT,
                                 SimpleNamespace(state_dict=dict), 0, 0.0, {})
    assert (tmp_path / "run" / training.CHECKPOINT).read_bytes() == before
    assert not [p for p in (tmp_path / "run").iterdir() if p.name.endswith(".tmp")]


def test_resume_refuses_a_folder_whose_images_changed_and_names_the_change(tmp_path):
    photos = image_folder(tmp_path / "photos", 12)
    options = {**TINY, "output": tmp_path / "run"}
    training.train("vae", str(photos), steps=1, **options)
    assert training.train("vae", f"{photos}/", steps=2, resume=True, **options).steps == 2
    image_folder(photos / "more", 1, seed=1)
    with pytest.raises(ArtError, match="12 images .* 13"):
        training.train("vae", str(photos), steps=3, resume=True, **options)
    (photos / "more" / "0.png").unlink()
    (photos / "3.png").write_bytes((photos / "4.png").read_bytes() + b"\0")
    with pytest.raises(ArtError, match="changed"):
        training.train("vae", str(photos), steps=3, resume=True, **options)


def test_measure_rewrites_the_metrics_of_a_saved_model_from_the_same_data_and_split(tmp_path):
    result = tiny_train("vae", tmp_path / "run", count=500, steps=2, evaluate=True, feature_steps=5)
    folder = result.output
    trained = json.loads((folder / "metrics.json").read_text())
    for name in ("metrics.json", "card.md", training.CHECKPOINT, "feature_network.safetensors"):
        (folder / name).unlink()
    measured = training.measure(folder, threads=1)
    again = json.loads((folder / "metrics.json").read_text())
    assert measured.metrics == again
    assert again["model"] == pytest.approx(trained["model"], rel=1e-4)
    assert again["real"] == pytest.approx(trained["real"], rel=1e-4)
    info = ModelConfig.read(folder / "config.json").training
    assert info["metrics"] == again and info["steps"] == 2
    assert "## Metrics" in (folder / "card.md").read_text()
    cli = run_cli("train", "--measure", "-o", folder, "--threads", "1")
    assert cli.code == 0, cli.stderr
    assert json.loads((folder / "metrics.json").read_text())["model"] == \
        pytest.approx(again["model"], rel=1e-6)


def test_measure_takes_no_kind_or_data_and_training_needs_them(tmp_path):
    assert run_cli("train", "--measure", "vae", "glyphs", "-o", tmp_path).code == EXIT_USAGE
    assert run_cli("train", "-o", tmp_path).code == EXIT_USAGE
    assert run_cli("train", "--measure", "-o", tmp_path / "nothing").code == EXIT_USAGE


def test_the_help_says_how_folder_images_are_read_and_how_to_measure_again():
    text = " ".join(run_cli("train", "--help").stdout.split())
    assert "over black" in text and "EXIF" in text and "--measure" in text


def test_the_generator_step_computes_no_gradients_for_the_discriminator_weights():
    config = ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=4, width=8)
    recipe = recipes.GanRecipe(config, 8)
    after_its_own_step = []
    optimizer_step = recipe.discriminator_optimizer.step

    def step_and_keep_gradients():
        optimizer_step()
        after_its_own_step.extend(p.grad.clone() for p in recipe.discriminator.parameters())
    recipe.discriminator_optimizer.step = step_and_keep_gradients
    recipe.step(torch.rand(4, 3, 32, 32) * 2 - 1, 0, random_stream(0))
    for kept, parameter in zip(after_its_own_step, recipe.discriminator.parameters(), strict=True):
        assert torch.equal(kept, parameter.grad)             # the generator's step added nothing
        assert parameter.requires_grad
