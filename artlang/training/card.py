"""A trained model's pictures and its card (`card.md`): the data, the exact command, the minutes
on the machine it trained on (its CPU count and torch version), the step count, the metrics next to
the same metrics for held-out real images (or why it was not measured), a sample grid and an
interpolation strip.

>>> import torch
>>> sample_grid(torch.zeros(6, 1, 4, 4), columns=3).size     # 1 px between images
(14, 9)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from artlang.core.files import atomic_write, write_bytes
from artlang.models import latent
from artlang.models.config import ModelConfig

SCALE = 2                               # pictures in the card are drawn at twice the model's size


def save_picture(picture: Image.Image, path: Path) -> None:
    """Write a PNG atomically (so a viewer never shows half a grid)."""
    atomic_write(path, lambda temporary: picture.save(temporary, format="PNG"))


def save_text(text: str, path: Path) -> None:
    """Write a text file (the card, metrics.json) atomically, in UTF-8."""
    write_bytes(text.encode("utf-8"), path)


def sample_grid(images: torch.Tensor, columns: int, scale: int = 1) -> Image.Image:
    """Images (N, C, H, W) in [0, 1] laid out in rows of `columns`, 1 px apart, as RGB."""
    images = images.detach().float().clamp(0, 1)
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    count, _, height, width = images.shape
    rows = -(-count // columns)
    sheet = torch.ones(3, rows * (height + 1) - 1, columns * (width + 1) - 1) * 0.5
    for index in range(count):
        row, column = divmod(index, columns)
        sheet[:, row * (height + 1):row * (height + 1) + height,
              column * (width + 1):column * (width + 1) + width] = images[index]
    pixels = (sheet.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    picture = Image.fromarray(pixels)
    return picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)


def seed_latents(seeds, z_size: int) -> torch.Tensor:
    """The latents artlang draws for these seeds (`latent.from_seed`), stacked."""
    return torch.from_numpy(np.stack([latent.from_seed(seed, z_size) for seed in seeds]))


def decode(model, config: ModelConfig, latents: torch.Tensor) -> torch.Tensor:
    """The model's images for latents, mapped from its output range to [0, 1]."""
    low, high = config.output_range
    with torch.no_grad():
        return (model.eval()(latents) - low) / (high - low)


PICTURES = (                            # (what it shows, its file, the kinds of model that have it)
    ("samples of seeds 0 to 63", "samples.png", ("gan", "vae")),
    ("slerp walks from seed 0 to 1, 2 to 3, 4 to 5 and 6 to 7", "walk.png", ("gan", "vae")),
    ("held-out images (top) and their reconstructions", "reconstructions.png", ("vae",)),
)


def pictures_of(config: ModelConfig) -> dict[str, str]:
    """{what: file name} of the pictures `draw_pictures` draws for this model."""
    return {what: file for what, file, kinds in PICTURES if config.kind in kinds}


def draw_pictures(model, config: ModelConfig, held_out, output: Path) -> dict[str, str]:
    """samples.png (seeds 0..63), walk.png (four slerp walks of ten steps between seed pairs)
    and, for a VAE, reconstructions.png (held-out images over their reconstructions). Returns
    {what: file name}."""
    grid = sample_grid(decode(model, config, seed_latents(range(64), config.z_size)), 8, SCALE)
    save_picture(grid, output / "samples.png")
    ends = seed_latents(range(8), config.z_size).numpy()
    walk = torch.from_numpy(np.concatenate([latent.slerp(ends[2 * row], ends[2 * row + 1],
                                                         np.linspace(0, 1, 10))
                                            for row in range(4)]))
    save_picture(sample_grid(decode(model, config, walk), 10, SCALE), output / "walk.png")
    if config.kind == "vae":
        originals = torch.from_numpy(held_out.images[:12]).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            mean, _ = model.eval().encode(originals)
        pairs = torch.cat([originals, decode(model, config, mean)])
        save_picture(sample_grid(pairs, 12, SCALE), output / "reconstructions.png")
    return pictures_of(config)


SAMPLE_METRICS = {
    "frechet_distance": "Fréchet distance to held-out images (features of the local network)",
    "kid": "KID x 1000 to held-out images",
    "nearest_neighbour_ratio": "distance to the nearest training image, over held-out images' own",
    "copies": "share closer to a training image than any held-out image is (copies)",
}
VAE_METRICS = {
    "negative_elbo_nats": "negative ELBO, nats per image",
    "bits_per_dimension": "the same in bits per pixel channel",
    "reconstruction_mse": "reconstruction MSE (pixels in 0..1)",
}


def metrics_tables(metrics: dict) -> list[str]:
    """Markdown tables: the sample metrics for the model and for held-out real images (the
    baseline), and for a VAE its likelihood on held-out and on training images."""
    model, real = metrics.get("model", {}), metrics.get("real", {})
    rows = ["| metric | model samples | real images (baseline) |", "|---|---|---|"]
    rows += [f"| {label} | {_number(model.get(key))} | {_number(real.get(key))} |"
             for key, label in SAMPLE_METRICS.items() if key in model]
    if "negative_elbo_nats" in model:
        rows += ["", "| metric | held-out images | training images |", "|---|---|---|"]
        rows += [f"| {label} | {_number(model.get(key))} | {_number(real.get(key))} |"
                 for key, label in VAE_METRICS.items() if key in model]
    return rows


def _number(value) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _training_lines(config: ModelConfig) -> list[str]:
    info = config.training
    threads = info.get("threads", "?")
    cpus = info.get("cpus")
    machine = f"{cpus} CPU{'s' if cpus != 1 else ''}" if cpus else "a CPU"
    torch_version = f", torch {info['torch']}" if "torch" in info else ""
    note = [info["note"], ""] if info.get("note") else []
    return ["## Training", "", "```", info.get("command") or "(run from Python)", "```", "",
            (f"{info.get('seconds_trained', 0) / 60:.1f} minutes of training on {machine} "
            f"({threads} torch thread{'s' if threads != 1 else ''}{torch_version}), "
            f"{info.get('steps', '?')} steps of {info.get('batch', '?')} images "
            f"({info.get('epochs', '?')} epochs), seed {info.get('seed', 0)}{_gan_details(info)}. "
            "The recipe and why: `artlang/training/recipes.py`."), "", *note]


def _gan_details(info: dict) -> str:
    if "discriminator_width" not in info:
        return ""
    augment = ", ".join(info.get("augment", [])) or "none"
    return f", discriminator width {info['discriminator_width']}, DiffAugment: {augment}"


def write_card(output: Path, config: ModelConfig, metrics: dict, pictures: dict[str, str]) -> None:
    """card.md in the model's folder."""
    info = config.training
    colour = "colour" if config.channels == 3 else "gray"
    lines = [f"# {config.name}", "",
             (f"A {config.kind.upper()} ({config.architecture}, width {config.width}) drawing "
             f"{config.image_size} x {config.image_size} {colour} images from a latent of "
             f"{config.z_size} numbers; weights stored as {info.get('dtype', 'float32')}."), "",
             "## Data", "",
             (f"`{info.get('data', '')}`: {config.data}; {info.get('training_images', '?')} for "
             f"training, {info.get('held_out_images', '?')} held out for the metrics."), "",
             *_training_lines(config)]
    if "skipped" in metrics:
        lines += ["## Metrics", "", metrics["skipped"], ""]
    elif metrics:
        lines += ["## Metrics", "", *metrics_tables(metrics), "", metrics.get("about", ""), ""]
    lines += ["## Pictures", ""]
    for what, file in pictures.items():
        lines += [f"{what.capitalize()}:", "", f"![{what}]({file})", ""]
    save_text("\n".join(lines), output / "card.md")
