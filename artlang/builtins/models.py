"""Model built-ins: GANs and VAEs in a sketch. A model is loaded by zoo name or path, a latent made
from a seed, walked (lerp, slerp, loops, splines, arithmetic) and decoded to a picture that is
fitted, placed and composited like any image. torch is imported only when a model is loaded.

The latent maths is `models.latent` (numpy); loading and decoding is `models.store`.
"""
from __future__ import annotations

import numpy as np

from artlang.core.errors import RUNTIME, error
from artlang.kernels.images import FITS
from artlang.language.schema import ABSENT, Neighbourhood, P, builtin
from artlang.models import latent as latents

F32 = np.float32
MODELS = "models"


def _whole(value) -> int:
    number = float(np.asarray(value))
    if not np.isfinite(number) or number != round(number):
        raise error(f"a seed must be a whole number, got {number:g}", stage=RUNTIME,
                    hint="round it, e.g. `floor(t * 2)`")
    return int(round(number))


@builtin(returns="model", category=MODELS,
         params=(P("source", "string", model=True,
                   doc="a zoo model's name (`artlang models` lists them), or a model folder or "
                       "file relative to the sketch"),))
def model(context, source):
    """A GAN or VAE: from the zoo by name, or your own (a folder with config.json and
    model.safetensors; see docs/models.md). Files that would run code when loaded (TorchScript,
    pickles) are refused unless the command was given `--trust`.

    Example: `let m = model("glyphs-vae")\\noutput decode(m, latent(m, 7))`
    """
    return context.inputs.load_model(source)


@builtin(returns="latent", category=MODELS, random=True,
         params=(P("m", "model"),
                 P("seed", "num", ABSENT, "the same seed gives the same latent in any sketch; "
                                          "none: a latent of its own from the sketch's seed",
                   uniform=True),
                 P("truncation", "num", 1.0, "GANs: below 1 pulls toward the average sample "
                                             "(safer, less varied)", uniform=True),
                 P("temperature", "num", 1.0, "VAEs: below 1 gives more typical samples",
                   uniform=True)))
def latent(context, stream, m, seed, truncation, temperature):
    """A point of the model's latent space drawn from a standard normal: the model's input.

    Latents add, subtract and scale (`a + (b - c) * 0.5`), and `lerp`, `slerp`, `spline` and
    `latent_loop` walk between them.

    Example: `let m = model("shapes-gan")\\noutput decode(m, latent(m, 3, truncation=0.7))`
    """
    z_size = m.config.z_size
    number = _whole(seed) if seed is not None else context.stream_seed(stream)
    z = latents.from_seed(number, z_size)
    return _scaled(m, z, truncation, temperature)


def _scaled(m, z: np.ndarray, truncation, temperature) -> np.ndarray:
    truncation, temperature = float(truncation), float(temperature)
    if truncation != 1.0:
        if m.config.kind != "gan":
            raise error("`truncation` is for GANs; this model is a VAE", stage=RUNTIME,
                        hint="use `temperature` for a VAE")
        z = latents.truncate(z, truncation)
    if temperature != 1.0:
        if m.config.kind != "vae":
            raise error("`temperature` is for VAEs; this model is a GAN", stage=RUNTIME,
                        hint="use `truncation` for a GAN")
        z = latents.temperature(z, temperature)
    return np.asarray(z, F32)


@builtin(returns="latent", category=MODELS, random=True, animated=True,
         params=(P("m", "model"),
                 P("seed", "num", ABSENT, "which loop (none: one of its own from the sketch's "
                                          "seed)", uniform=True),
                 P("phase", "num", ABSENT, "where on the loop, 0..1 once round (none: `cycle`, "
                                           "so the loop closes with the animation)", uniform=True),
                 P("truncation", "num", 1.0, "GANs, as in `latent`", uniform=True),
                 P("temperature", "num", 1.0, "VAEs, as in `latent`", uniform=True)))
def latent_loop(context, stream, m, seed, phase, truncation, temperature):
    """A closed walk through latent space: cos(2 pi phase) a + sin(2 pi phase) b for two
    independent normal latents a and b. Every point is itself a standard normal sample (so every
    frame looks like a real sample, unlike a lerp's washed-out middle), and the walk ends where it
    began: an animation's last frame leads smoothly back to its first.

    Example: `let m = model("shapes-gan")\\noutput decode(m, latent_loop(m, 4))`
    """
    z_size = m.config.z_size
    base = _whole(seed) if seed is not None else context.stream_seed(stream)
    first = latents.from_seed(base, z_size)
    second = latents.from_seed(context.stream_seed(f"loop/{base}", 1), z_size)
    if phase is None:
        phase = (context.frame % context.loop_frames) / context.loop_frames
    return _scaled(m, latents.loop(first, second, float(phase)), truncation, temperature)


LERP_PARAMS = (P("a", "latent"), P("b", "latent"),
               P("amount", "num", doc="0 gives a, 1 gives b", uniform=True))


def _same_size(name: str, *zs) -> None:
    sizes = {np.shape(z) for z in zs}
    if len(sizes) > 1:
        raise error(f"`{name}` got latents of different sizes: "
                    + ", ".join(str(s[-1]) for s in sorted(sizes)), stage=RUNTIME,
                    hint="latents of different models do not mix")


@builtin(returns="latent", category=MODELS, params=LERP_PARAMS)
def lerp(context, a, b, amount):
    """The straight line from latent a to b. Its middle is shorter than a real sample (two
    independent normals average to a smaller vector), so midpoints can look faded: `slerp`
    keeps the length.

    Example: `let m = model("glyphs-vae")\\noutput decode(m, lerp(latent(m, 1), latent(m, 2), cycle))`
    """
    _same_size("lerp", a, b)
    return np.asarray(latents.lerp(a, b, float(amount)), F32)


@builtin(returns="latent", category=MODELS, params=LERP_PARAMS)
def slerp(context, a, b, amount):
    """The great-circle arc from latent a to b (spherical interpolation): the way to morph
    between two samples. Falls back to `lerp` when a and b point the same way.

    Example: `let m = model("shapes-gan")\\noutput decode(m, slerp(latent(m, 1), latent(m, 2), ease_in_out(cycle)))`
    """
    _same_size("slerp", a, b)
    return np.asarray(latents.slerp(a, b, float(amount)), F32)


@builtin(returns="latent", category=MODELS,
         params=(P("amount", "num", doc="0..1 from the first keyframe to the last (round to the "
                                        "first again when closed)", uniform=True),
                 P("keys", "latent", variadic=True, doc="the keyframe latents, at least two"),
                 P("ends", "string", "open", choices=("open", "closed"),
                   doc="\"closed\": loop back to the first keyframe")))
def spline(context, amount, keys, ends):
    """A smooth Catmull-Rom curve through keyframe latents, passing exactly through each one;
    `ends="closed"` makes a loop (drive it with `cycle`).

    Example: `let m = model("shapes-gan")\\noutput decode(m, spline(cycle, latent(m, 1), latent(m, 2), latent(m, 3), ends="closed"))`
    """
    if len(keys) < 2:
        raise error("`spline` needs at least two keyframe latents", stage=RUNTIME)
    _same_size("spline", *keys)
    amount = float(np.asarray(amount))
    if not np.isfinite(amount):
        raise error(f"the amount along a spline must be a finite number, got {amount:g}", stage=RUNTIME,
                    hint="0..1 runs from the first keyframe to the last; drive it with `cycle` or `t`")
    return np.asarray(latents.spline(np.stack(keys), amount, closed=ends == "closed"), F32)


@builtin(returns="color", category=MODELS, per_pixel=True, lookahead=True,
         params=(P("m", "model"),
                 P("z", "latent", doc="the latent to draw", uniform=True),
                 P("fit", "string", "contain", choices=FITS, doc="how it is fitted to the canvas, "
                                                                 "as in `image`"),
                 P("crop", "list", None, doc="`[left, top, right, bottom]` part to use, as "
                                             "fractions, as in `image`")))
def decode(context, m, z, fit, crop, later=None):
    """The model's picture for latent `z`, fitted to the canvas like an `image` (move, scale or
    turn it with `sample`). When an export draws many frames, the frames' latents are decoded
    together in batches.

    Example: `let m = model("shapes-gan")\\noutput decode(m, latent(m, 5), fit="cover")`
    """
    _same_size_as_model(m, z)
    pixels = context.decoded(m, np.asarray(z, F32),
                             None if later is None else (lambda frame: later(frame)[1]))
    return context.fit_pixels(pixels, fit, crop)


def _same_size_as_model(m, z) -> None:
    if np.shape(z)[-1] != m.config.z_size:
        raise error(f"this latent has {np.shape(z)[-1]} numbers, but the model takes "
                    f"{m.config.z_size}", stage=RUNTIME,
                    hint="make latents with `latent(m, ...)` of the same model")


@builtin(neighbourhood=Neighbourhood("c"),       # reads the whole canvas: not drawn in tiles
         returns="latent", category=MODELS,
         params=(P("m", "model", doc="a VAE"),
                 P("c", "color", doc="the picture, e.g. an `image(...)`")))
def encode(context, m, c):
    """The latent a VAE gives a picture (its mean): morph between photos, or push one toward
    another with latent arithmetic. The whole canvas is read, squeezed to the model's size.

    Example: `let m = model("glyphs-vae")\\nlet a = encode(m, image("photo.png"))\\noutput decode(m, a)`
    """
    if m.config.kind != "vae":
        raise error(f"`{m.config.name or 'this model'}` is a GAN: only a VAE can encode a picture",
                    stage=RUNTIME, hint="load a VAE, e.g. `model(\"glyphs-vae\")`")
    picture = np.broadcast_to(c, (context.height, context.width, 4))
    return np.asarray(m.encode(picture[None], threads=context.inputs.model_threads)[0], F32)


