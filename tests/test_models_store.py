"""Model files: saving, loading safely, refusing what could run code, clear errors, and decoding
that gives the same bytes however frames are grouped."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from safetensors.torch import save_file

from artlang.language import project
from artlang.core.errors import RUNTIME, USAGE, ArtError
from artlang.models import store
from artlang.models.architectures import build
from artlang.models.config import ModelConfig

ROOT = Path(__file__).resolve().parent.parent
GAN = ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=8, width=8, name="tiny-gan")
VAE = ModelConfig(kind="vae", architecture="convvae", image_size=32, z_size=8, width=8, name="tiny-vae")


@pytest.fixture(autouse=True)
def fresh_cache_and_one_thread():
    """Each test reads its files afresh; torch runs on one thread (on a busy machine two threads
    wait for each other), except where a test asks for two."""
    store.clear_cache()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
    store.clear_cache()


def trained_looking(config: ModelConfig, seed: int = 0):
    """An untrained module whose BatchNorm statistics are not the trivial 0 and 1."""
    torch.manual_seed(seed)
    module = build(config)
    for layer in module.modules():
        if isinstance(layer, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            layer.running_mean.normal_()
            layer.running_var.uniform_(0.5, 2.0)
    return module.eval()


def save_by_hand(path: Path, state: dict, config: dict) -> Path:
    """The documented format written with plain safetensors and json calls (not save_model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: tensor.contiguous() for name, tensor in state.items()}, str(path))
    path.with_suffix(".json").write_text(json.dumps(config), encoding="utf-8")
    return path


def failure(source: Path, **options) -> str:
    with pytest.raises(ArtError) as caught:
        store.load_model(source, **options)
    assert caught.value.stage == RUNTIME
    diagnostic = caught.value.diagnostics[0]
    return diagnostic.message + " | hint: " + (diagnostic.hint or "")


def latents(count: int, z_size: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((count, z_size)).astype(np.float32)


# ── bring your own ───────────────────────────────────────────────────────────────────────────────

def test_a_model_saved_by_hand_in_the_documented_format_loads_and_decodes(tmp_path):
    module = trained_looking(GAN)
    weights = save_by_hand(tmp_path / "mine.safetensors", module.state_dict(), GAN.to_dict())
    model = store.load_model(weights)
    z = latents(3)
    pictures = model.decode(z)
    assert pictures.shape == (3, 32, 32, 4) and pictures.dtype == np.float32
    assert (pictures[..., 3] == 1).all() and 0 <= pictures.min() and pictures.max() <= 1
    with torch.no_grad():
        expected = (module(torch.from_numpy(z)).permute(0, 2, 3, 1).numpy() + 1) / 2
    assert np.abs(pictures[..., :3] - expected).max() < 1e-5      # tanh's [-1, 1] mapped to 0..1


def test_the_guide_lists_every_config_field():
    guide = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    table = guide.split("## Config fields", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)
    assert listed == [field.name for field in dataclasses.fields(ModelConfig)]


def test_the_guides_python_example_runs(tmp_path):
    guide = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", guide, re.DOTALL).group(1)
    result = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, capture_output=True,
                            text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "models" / "my-gan" / "model.safetensors").is_file()


def test_importing_the_store_does_not_import_torch():
    code = "import sys, artlang.models.store, artlang.models.latent; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr


# ── saving and reading back ──────────────────────────────────────────────────────────────────────

def test_save_model_writes_both_files_and_half_weights_read_back_as_float32(tmp_path):
    module = trained_looking(GAN)
    store.save_model(tmp_path / "full", module, GAN)
    store.save_model(tmp_path / "half", module, GAN, half=True)
    full, half = (tmp_path / "full" / store.WEIGHTS), (tmp_path / "half" / store.WEIGHTS)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    assert ModelConfig.read(tmp_path / "half" / store.CONFIG) == GAN
    model = store.load_model(tmp_path / "half")
    assert next(model.module.parameters()).dtype == torch.float32
    z = latents(4)
    difference = np.abs(model.decode(z) - store.load_model(tmp_path / "full").decode(z)).max()
    assert 0 < difference < 0.01
    assert not list(tmp_path.glob("*/.*.tmp"))                    # no temporaries left


def test_save_model_refuses_a_module_the_config_does_not_describe(tmp_path):
    with pytest.raises(ArtError, match="z_size"):
        store.save_model(tmp_path / "m", build(GAN), dataclasses.replace(GAN, z_size=16))
    assert not (tmp_path / "m" / store.CONFIG).exists()


def test_a_state_dict_pt_file_loads_with_weights_only(tmp_path):
    torch.save(trained_looking(GAN).state_dict(), tmp_path / "mine.pt")
    (tmp_path / "mine.json").write_text(GAN.to_json(), encoding="utf-8")
    assert store.load_model(tmp_path / "mine.pt").decode(latents(1)).shape == (1, 32, 32, 4)


def test_the_cache_returns_the_same_model_until_a_file_changes(tmp_path):
    store.save_model(tmp_path / "m", trained_looking(GAN), GAN)
    first = store.load_model(tmp_path / "m")
    assert store.load_model(tmp_path / "m") is first
    store.save_model(tmp_path / "m", trained_looking(GAN, seed=1), GAN)
    second = store.load_model(tmp_path / "m")
    assert second is not first and second.digest != first.digest


def test_the_digest_covers_the_config(tmp_path):
    module = trained_looking(GAN)
    store.save_model(tmp_path / "a", module, GAN)
    store.save_model(tmp_path / "b", module, dataclasses.replace(GAN, output_range=(0.0, 1.0)))
    assert store.load_model(tmp_path / "a").digest != store.load_model(tmp_path / "b").digest


# ── refusing code ────────────────────────────────────────────────────────────────────────────────

class RunsCode:
    """Unpickling this runs a shell command that creates a marker file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


@pytest.mark.parametrize("trust", [False, True])
def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path, trust):
    marker = tmp_path / "pwned"
    torch.save({"project.0.weight": RunsCode(marker)}, tmp_path / "evil.pt")
    (tmp_path / "evil.json").write_text(GAN.to_json(), encoding="utf-8")
    message = failure(tmp_path / "evil.pt", trust=trust)
    assert "refused" in message and "would run code when loaded" in message and "evil.pt" in message
    assert not marker.exists()


def test_a_pickle_of_another_protocol_is_refused_without_torchs_warning(tmp_path):
    """torch warns on pickle protocol 4 before refusing; the refusal is the whole message."""
    marker = tmp_path / "pwned"
    torch.save({"project.0.weight": RunsCode(marker)}, tmp_path / "evil.pth", pickle_protocol=4,
               _use_new_zipfile_serialization=False)
    (tmp_path / "evil.json").write_text(GAN.to_json(), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        message = failure(tmp_path / "evil.pth")
    assert "refused" in message and "would run code when loaded" in message
    assert [str(w.message) for w in caught] == [] and not marker.exists()


def torchscript(path: Path, config: ModelConfig) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(trained_looking(config), torch.zeros(2, config.z_size))
        traced.save(str(path))
    path.with_suffix(".json").write_text(config.to_json(), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["gen.ts", "gen.pt"])
def test_torchscript_is_refused_without_trust_and_loaded_with_it(tmp_path, name):
    path = torchscript(tmp_path / name, GAN)
    message = failure(path)
    assert "refused" in message and "TorchScript" in message and "--trust" in message
    model = store.load_model(path, trust=True)
    pictures = model.decode(latents(3))
    assert pictures.shape == (3, 32, 32, 4)
    one_by_one = np.concatenate([model.decode(z[None]) for z in latents(3)])
    assert np.array_equal(pictures, one_by_one)


def test_torchscript_whose_pictures_do_not_match_the_config_is_refused(tmp_path):
    path = torchscript(tmp_path / "gen.ts", GAN)
    path.with_suffix(".json").write_text(dataclasses.replace(GAN, channels=1).to_json())
    assert "(1, 3, 32, 32)" in failure(path, trust=True)


# ── broken and mismatched files ──────────────────────────────────────────────────────────────────

def test_a_truncated_safetensors_file_is_named(tmp_path):
    store.save_model(tmp_path / "m", build(GAN), GAN)
    weights = tmp_path / "m" / store.WEIGHTS
    weights.write_bytes(weights.read_bytes()[:-100])
    message = failure(tmp_path / "m")
    assert "model.safetensors" in message and "truncated or corrupt" in message


def test_a_wrong_z_size_names_both_sizes(tmp_path):
    config = GAN.to_dict() | {"z_size": 16}
    weights = save_by_hand(tmp_path / "m.safetensors", build(GAN).state_dict(), config)
    message = failure(weights)
    assert "m.safetensors" in message and "latents of 8 numbers" in message
    assert "z_size 16" in message and '"z_size": 8' in message


def test_a_wrong_shape_names_the_tensor_both_shapes_and_the_field_that_fits(tmp_path):
    wider = dataclasses.replace(GAN, width=16)
    weights = save_by_hand(tmp_path / "m.safetensors", build(wider).state_dict(), GAN.to_dict())
    message = failure(weights)
    assert re.search(r"`project\.0\.weight` is 1024 x 8 in the file, but the config \(width 8\) "
                     r"needs 512 x 8", message), message
    assert '"width": 16' in message


def test_a_shape_no_single_field_explains_lists_the_fields(tmp_path):
    state = build(GAN).state_dict()
    state["to_image.weight"] = torch.zeros(3, 4, 5, 5)
    message = failure(save_by_hand(tmp_path / "m.safetensors", state, GAN.to_dict()))
    assert "`to_image.weight` is 3 x 4 x 5 x 5 in the file" in message
    assert "z_size 8, channels 3, image_size 32, width 8" in message


def test_an_unknown_tensor_is_named(tmp_path):
    state = build(GAN).state_dict() | {"extra.weight": torch.zeros(2)}
    message = failure(save_by_hand(tmp_path / "m.safetensors", state, GAN.to_dict()))
    assert "has a tensor `extra.weight`" in message


def test_a_missing_tensor_is_named_and_a_vae_for_a_gan_config_is_spotted(tmp_path):
    state = build(GAN).state_dict()
    del state["to_image.bias"]
    assert "lacks the tensor `to_image.bias`" in failure(
        save_by_hand(tmp_path / "a.safetensors", state, GAN.to_dict()))
    vae_weights = save_by_hand(tmp_path / "b.safetensors", build(VAE).state_dict(), GAN.to_dict())
    assert '"architecture": "convvae", "kind": "vae"' in failure(vae_weights)


def test_integer_weights_are_refused(tmp_path):
    state = build(GAN).state_dict()
    state["to_image.bias"] = torch.zeros(3, dtype=torch.int32)
    assert "torch.int32" in failure(save_by_hand(tmp_path / "m.safetensors", state, GAN.to_dict()))


@pytest.mark.parametrize("text, expected", [
    ("{", "not JSON"),
    ('{"kind": "gun", "architecture": "dcgan", "image_size": 32, "z_size": 8}', "kind is 'gun'"),
    ('{"kind": "gan", "architecture": "dcgan", "image_size": 48, "z_size": 8}', "image_size is 48"),
    ('{"kind": "gan", "architecture": "dcgan", "image_size": 32}', "missing field 'z_size'"),
    ('{"kind": "gan", "architecture": "dcgan", "image_size": 32, "z_size": 8, "colour": 1}',
     "unknown field 'colour'"),
    ("[" * 100_000 + "]" * 100_000, "nests too deeply to be a model config"),
])
def test_config_problems_name_the_config_and_the_field(tmp_path, text, expected):
    weights = save_by_hand(tmp_path / "m.safetensors", build(GAN).state_dict(), {})
    weights.with_suffix(".json").write_text(text, encoding="utf-8")
    message = failure(weights)
    assert "m.json" in message and expected in message


def test_missing_files_are_named(tmp_path):
    store.save_model(tmp_path / "m", build(GAN), GAN)
    (tmp_path / "m" / store.CONFIG).unlink()
    assert "config.json" in failure(tmp_path / "m") and "missing" in failure(tmp_path / "m")
    (tmp_path / "empty").mkdir()
    assert "has no model.safetensors" in failure(tmp_path / "empty")
    assert "is not a model file" in failure(tmp_path / "m.onnx")


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    store.save_model(tmp_path / "m", build(GAN), GAN)
    size = (tmp_path / "m" / store.WEIGHTS).stat().st_size

    def no_reading(*arguments, **options):
        raise AssertionError(f"{arguments[0]} was read")
    monkeypatch.setattr(store, "open", no_reading, raising=False)
    message = failure(tmp_path / "m", max_bytes=size - 1)
    assert "model.safetensors" in message and "over the limit" in message
    assert "ARTLANG_MAX_MODEL_BYTES" in message
    monkeypatch.setenv("ARTLANG_MAX_MODEL_BYTES", str(size - 1))
    assert "over the limit" in failure(tmp_path / "m")


def test_without_torch_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    store.save_model(tmp_path / "m", build(GAN), GAN)
    monkeypatch.setitem(sys.modules, "torch", None)        # `import torch` now fails
    assert "pip install 'artlang[models]'" in failure(tmp_path / "m")


# ── decoding and encoding ────────────────────────────────────────────────────────────────────────

def test_decoding_gives_the_same_bytes_on_every_load_and_call(tmp_path):
    store.save_model(tmp_path / "m", trained_looking(GAN), GAN)
    z = latents(5)
    first = hashlib.sha256(store.load_model(tmp_path / "m").decode(z).tobytes()).hexdigest()
    store.clear_cache()
    model = store.load_model(tmp_path / "m")
    assert hashlib.sha256(model.decode(z).tobytes()).hexdigest() == first
    assert hashlib.sha256(model.decode(z).tobytes()).hexdigest() == first


def test_a_frame_is_the_same_bytes_however_frames_are_grouped(tmp_path):
    # width 64 at 32 x 32 has the layers whose plain torch output depends on the batch size
    config = dataclasses.replace(GAN, width=64, z_size=32)
    store.save_model(tmp_path / "m", trained_looking(config), config)
    model = store.load_model(tmp_path / "m")
    z = latents(8, 32)
    whole = model.decode(z, threads=1)
    for group, threads in [(1, 1), (1, 2), (3, 2), (5, 1)]:
        grouped = np.concatenate([model.decode(z[i:i + group], threads=threads)
                                  for i in range(0, len(z), group)])
        assert np.array_equal(grouped, whole), (group, threads)


def test_decode_sets_the_thread_count_for_the_call_and_restores_it(tmp_path):
    store.save_model(tmp_path / "m", build(GAN), GAN)
    model = store.load_model(tmp_path / "m")
    seen = []
    model.module.register_forward_pre_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        model.decode(latents(2), threads=1)
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_decode_maps_the_output_range_and_repeats_gray(tmp_path):
    config = dataclasses.replace(VAE, channels=1, output_range=(0.0, 1.0))
    module = trained_looking(config)
    store.save_model(tmp_path / "m", module, config)
    pictures = store.load_model(tmp_path / "m").decode(latents(2))
    with torch.no_grad():
        expected = module(torch.from_numpy(latents(2)))[:, 0].numpy()
    assert np.abs(pictures[..., 0] - expected).max() < 1e-5
    assert np.array_equal(pictures[..., 0], pictures[..., 2])


def test_decode_refuses_latents_of_another_size(tmp_path):
    store.save_model(tmp_path / "m", build(GAN), GAN)
    with pytest.raises(ArtError, match="takes latents of 8 numbers"):
        store.load_model(tmp_path / "m").decode(latents(2, 9))


def test_a_vae_encodes_pictures_over_black_and_a_gan_refuses(tmp_path):
    store.save_model(tmp_path / "vae", trained_looking(VAE), VAE)
    store.save_model(tmp_path / "gan", build(GAN), GAN)
    vae = store.load_model(tmp_path / "vae")
    pictures = np.random.default_rng(0).random((3, 48, 64, 4)).astype(np.float32)
    means = vae.encode(pictures)
    assert means.shape == (3, 8) and means.dtype == np.float32
    one_by_one = np.concatenate([vae.encode(p[None]) for p in pictures])
    assert np.array_equal(means, one_by_one)
    clear = pictures.copy()
    clear[..., 3] = 0
    black = np.zeros_like(pictures)
    assert np.array_equal(vae.encode(clear), vae.encode(black))
    with pytest.raises(ArtError, match="`tiny-gan` is a GAN: only a VAE can encode an image"):
        store.load_model(tmp_path / "gan").encode(pictures)


# ── the zoo ──────────────────────────────────────────────────────────────────────────────────────

def test_the_zoo_lists_its_models_and_suggests_near_names(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "zoo_dir", lambda: tmp_path)
    store.save_model(tmp_path / "glyphs-vae", build(VAE), VAE)
    (tmp_path / "notes").mkdir()
    assert store.zoo_names() == ["glyphs-vae"]
    entry = store.zoo_entry("glyphs-vae")
    assert entry.config == VAE and entry.folder == tmp_path / "glyphs-vae"
    assert entry.card.name == "card.md" and store.zoo_path("notes") is None
    with pytest.raises(ArtError) as caught:
        store.zoo_entry("glyph-vae")
    assert caught.value.stage == USAGE and "did you mean `glyphs-vae`" in caught.value.diagnostics[0].hint
