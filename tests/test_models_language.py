"""Models in a sketch: `model`, `latent`, the latent walks, `decode` and `encode`, checked with small
untrained models the tests save themselves (the zoo's are tested in test_zoo.py)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")

from artlang.core.errors import ArtError  # noqa: E402
from artlang.models import store  # noqa: E402
from artlang.models.architectures import build  # noqa: E402
from artlang.models.config import ModelConfig  # noqa: E402
from artlang.runtime.render import Renderer, load_sketch  # noqa: E402
from conftest import run_cli  # noqa: E402


def save_tiny(folder: Path, kind: str = "gan", seed: int = 0, z_size: int = 8) -> Path:
    architecture = {"gan": "dcgan", "vae": "convvae"}[kind]
    config = ModelConfig(kind=kind, architecture=architecture, image_size=32, z_size=z_size, width=8,
                         output_range=(-1.0, 1.0) if kind == "gan" else (0.0, 1.0), name=f"tiny-{kind}")
    torch.manual_seed(seed)
    module = build(config)
    with torch.no_grad():                      # untrained batch norm would give a flat picture
        for parameter in module.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.2)
    store.save_model(folder, module.eval(), config)
    return folder


@pytest.fixture
def project(tmp_path):
    save_tiny(tmp_path / "models" / "gan", "gan")
    save_tiny(tmp_path / "models" / "vae", "vae", z_size=6)
    return tmp_path


def draw(project: Path, text: str, frame: int = 0, name: str = "s.art", **options) -> np.ndarray:
    path = project / name
    path.write_text(text, encoding="utf-8")
    return Renderer(load_sketch(path), **options).render(frame)


def digest(image: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()


def failure(project: Path, text: str) -> ArtError:
    with pytest.raises(ArtError) as raised:
        draw(project, text)
    return raised.value


GAN = 'canvas 64 x 48\nlet m = model("models/gan")\n'
VAE = 'canvas 64 x 48\nlet m = model("models/vae")\n'


def test_a_decoded_latent_is_a_picture_fitted_to_the_canvas(project):
    image = draw(project, GAN + "output decode(m, latent(m, 3))")
    assert image.shape == (48, 64, 4) and np.isfinite(image).all()
    inside, beside = image[:, 8:56], image[:, :8]          # contain: 48 x 48 in the middle
    assert inside[..., 3].min() == 1.0 and beside[..., 3].max() == 0.0
    assert inside[..., :3].std() > 0.01                     # a picture, not a flat colour
    assert digest(draw(project, GAN + "output decode(m, latent(m, 3))")) == digest(image)
    assert digest(draw(project, GAN + "output decode(m, latent(m, 4))")) != digest(image)


def test_cover_fills_the_canvas_and_the_picture_composites_like_an_image(project):
    image = draw(project, GAN + "layer ground = #000000\n"
                                "layer picture = decode(m, latent(m, 3), fit=\"cover\") * 0.5 + 0.25\n"
                                "output ground, picture")
    assert image[..., 3].min() == 1.0
    assert 0.2 <= image[..., :3].min() and image[..., :3].max() <= 0.76


def test_the_same_seed_is_the_same_latent_in_any_sketch_and_without_a_seed_the_sketch_seed_decides(project):
    one = draw(project, GAN + "output decode(m, latent(m, 9))")
    other = draw(project, GAN + "let unused = latent(m)\noutput decode(m, latent(m, 9))", name="o.art")
    assert digest(one) == digest(other)
    a = draw(project, GAN + "output decode(m, latent(m))", seed=1)
    b = draw(project, GAN + "output decode(m, latent(m))", seed=2)
    assert digest(a) != digest(b)
    assert digest(a) == digest(draw(project, GAN + "output decode(m, latent(m))", seed=1))


def test_walks_pass_through_their_ends(project):
    a = draw(project, GAN + "output decode(m, latent(m, 1))")
    b = draw(project, GAN + "output decode(m, latent(m, 2))")
    for walk in ("slerp", "lerp"):
        start = draw(project, GAN + f"output decode(m, {walk}(latent(m, 1), latent(m, 2), 0))")
        end = draw(project, GAN + f"output decode(m, {walk}(latent(m, 1), latent(m, 2), 1))")
        assert np.abs(start - a).max() < 2e-3 and np.abs(end - b).max() < 2e-3, walk
    keys = "latent(m, 1), latent(m, 2), latent(m, 5)"
    assert np.abs(draw(project, GAN + f"output decode(m, spline(0, {keys}))") - a).max() < 2e-3
    middle = draw(project, GAN + f"output decode(m, spline(0.5, {keys}))")
    c = draw(project, GAN + "output decode(m, latent(m, 2))")
    assert np.abs(middle - c).max() < 2e-3


def test_a_latent_loop_closes_with_the_animation(project):
    sketch = GAN + "frames 12\noutput decode(m, latent_loop(m, 4))"
    frames = [draw(project, sketch, frame) for frame in (0, 1, 11)]
    explicit = draw(project, GAN + "output decode(m, latent_loop(m, 4, phase=1))")
    assert digest(explicit) == digest(frames[0])              # once round is where it began
    step = np.abs(frames[1] - frames[0]).mean()
    wrap = np.abs(frames[0] - frames[2]).mean()
    assert 0 < wrap < 3 * step                                 # the last frame leads back smoothly


def test_latent_arithmetic(project):
    a = draw(project, GAN + "output decode(m, latent(m, 1) * 1 + (latent(m, 2) - latent(m, 2)))")
    assert digest(a) == digest(draw(project, GAN + "output decode(m, latent(m, 1))"))
    assert digest(draw(project, GAN + "output decode(m, -latent(m, 1) * 0.5)")) != digest(a)


def test_a_vae_encodes_a_picture_and_decodes_it(project):
    from PIL import Image
    Image.new("RGB", (20, 20), (200, 40, 40)).save(project / "red.png")
    image = draw(project, VAE + 'output decode(m, encode(m, image("red.png")))')
    assert image.shape == (48, 64, 4) and np.isfinite(image).all()
    cooler = draw(project, VAE + 'output decode(m, latent(m, 1, temperature=0.5))')
    assert np.isfinite(cooler).all()


@pytest.mark.parametrize("text, message, stage", [
    ('let m = model("models/gan")\noutput decode(m, latent(m, 1, temperature=0.5))',
     "`temperature` is for VAEs", "runtime"),
    ('let m = model("models/vae")\noutput decode(m, latent(m, 1, truncation=0.5))',
     "`truncation` is for GANs", "runtime"),
    ('let m = model("models/gan")\noutput decode(m, encode(m, #ff0000))',
     "only a VAE can encode", "runtime"),
    ('let m = model("models/gan")\noutput decode(m, latent(m, 1) + uv.x)',
     "a latent must be the same for every pixel", "check"),
    ('let m = model("models/gan")\noutput decode(m, latent(m, 1) + vec(1, 2))',
     "cannot combine a latent and a 2-vector", "check"),
    ('let m = model("models/gan")\noutput decode(m, latent(m, 1.5))',
     "a seed must be a whole number", "runtime"),
    ('let m = model("models/gan")\nlet v = model("models/vae")\noutput decode(m, latent(v, 1))',
     "this latent has", "runtime"),
    ('let m = model("../outside")\noutput decode(m, latent(m, 1))',
     "leaves the project folder", "check"),
    ('let m = model("no-such-model")\noutput decode(m, latent(m, 1))',
     "no model `no-such-model`", "check"),
    ('let m = model("models/gan")\noutput m + 1', "needs numbers", "check"),
])
def test_mistakes_are_clear_errors(project, text, message, stage):
    found = failure(project, "canvas 32 x 32\n" + text)
    assert found.stage == stage
    assert any(message in d.message for d in found.diagnostics), found.diagnostics
    assert all(d.span is not None for d in found.diagnostics)     # file:line:col for every one


def test_an_export_decodes_its_frames_in_batches_and_gives_the_same_bytes_as_render(project, monkeypatch):
    from artlang.export.backends import Backend
    from artlang.export.jobs import Job
    from artlang.export.variations import sweep
    sketch = project / "walk.art"
    sketch.write_text(GAN + "frames 10\noutput decode(m, latent_loop(m, 2))", encoding="utf-8")
    batches = []
    original = store.LoadedModel.decode

    def counting(self, z, *arguments, **options):
        batches.append(len(z))
        return original(self, z, *arguments, **options)
    monkeypatch.setattr(store.LoadedModel, "decode", counting)
    job = Job(sketch, project / "out" / "w.png", format="png", variations=sweep(None, {}))
    job.run(Backend())
    assert sum(batches) == 10 and max(batches) > 1
    for frame in (0, 7):
        assert run_cli("render", sketch, "--frame", frame, "-o", project / f"r{frame}.png").code == 0
        assert (project / f"r{frame}.png").read_bytes() == \
            (project / "out" / f"w_{frame}.png").read_bytes()


def test_watch_decodes_with_one_torch_thread(project, monkeypatch):
    from artlang.live.session import LiveSession
    sketch = project / "live.art"
    sketch.write_text(GAN + "output decode(m, latent(m, 1))", encoding="utf-8")
    original = store.LoadedModel.decode

    def recording(self, z, threads=None):
        threads_used.append(threads)
        return original(self, z, threads=threads)
    threads_used = []
    monkeypatch.setattr(store.LoadedModel, "decode", recording)
    outcome = LiveSession(sketch).render()
    assert outcome.status == "rendered", outcome
    assert threads_used == [1]


def test_the_recipe_records_the_model_and_reproduce_gives_the_same_bytes(project):
    sketch = project / "rec.art"
    sketch.write_text(GAN + "output decode(m, latent(m, 6))", encoding="utf-8")
    assert run_cli("render", sketch, "-o", project / "rec.png").code == 0
    from artlang.output.provenance import read_recipe
    inputs = read_recipe(project / "rec.png").inputs
    assert {"models/gan/config.json", "models/gan/model.safetensors"} <= set(inputs)
    again = run_cli("reproduce", project / "rec.png")
    assert again.code == 0, again.stderr
    assert "identical" in again.stdout


@pytest.mark.filterwarnings("ignore::DeprecationWarning")       # torch.jit.script is deprecated
def test_code_carrying_model_files_need_trust(project):
    config = ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=8, width=8)
    scripted = torch.jit.script(build(config).eval())
    scripted.save(str(project / "scripted.ts"))
    (project / "scripted.json").write_text(config.to_json(), encoding="utf-8")
    sketch = project / "ts.art"
    sketch.write_text('canvas 32 x 32\nlet m = model("scripted.ts")\noutput decode(m, latent(m, 1))',
                      encoding="utf-8")
    refused = run_cli("render", sketch, "-o", project / "ts.png")
    assert refused.code == 3 and "--trust" in refused.stderr and "Traceback" not in refused.stderr
    assert not (project / "ts.png").exists()
    assert run_cli("render", sketch, "-o", project / "ts.png", "--trust").code == 0
    tiled = run_cli("render", sketch, "-o", project / "tiles.png", "--trust", "--tile", "16")
    assert tiled.code == 0, tiled.stderr                    # trust reaches every tile's context
    with Image.open(project / "ts.png") as whole, Image.open(project / "tiles.png") as tiles:
        assert np.array_equal(np.asarray(whole), np.asarray(tiles))


def test_watch_draws_again_when_the_model_file_changes(project):
    from artlang.live.session import LiveSession
    sketch = project / "live.art"
    sketch.write_text(GAN + "output decode(m, latent(m, 1))", encoding="utf-8")
    session = LiveSession(sketch, project / "live.png")
    assert session.render().status == "rendered"
    before = (project / "live.png").read_bytes()
    assert session.render().status == "unchanged"                 # nothing it reads changed
    save_tiny(project / "models" / "gan", "gan", seed=5)           # new weights, same config
    assert project / "models" / "gan" / "model.safetensors" in {p.resolve() for p in session.dependencies}
    assert session.render().status == "rendered"
    assert (project / "live.png").read_bytes() != before
