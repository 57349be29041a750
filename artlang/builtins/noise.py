"""Noise built-ins. Each call site draws from its own stream, derived from the master seed."""
from __future__ import annotations

import importlib

import numpy as np

from .table import ABSENT, P, builtin

F32 = np.float32
NOISE = "noise"
BASES = ("value", "perlin", "simplex")       # also numbers the kernels in artlang/noise.py


def _kernels():
    """The numba kernels, imported on first use so sketches without noise never load numba."""
    return importlib.import_module("artlang.noise")


def _seed(context, stream, seed):
    return context.stream_seed(stream, int(seed))


POINT = (P("p", "vec2", doc="where to sample"),
         P("z", "num", ABSENT, doc="third coordinate (often t); gives 3D noise"),
         P("seed", "num", 0.0, uniform=True, doc="another variation of the same noise"))


def _lattice(kind: str):
    def sample(context, stream, p, z, seed):
        kernels = _kernels()
        s = _seed(context, stream, seed)
        if z is None:
            return getattr(kernels, f"{kind}2")(p[..., 0], p[..., 1], s)
        return getattr(kernels, f"{kind}3")(p[..., 0], p[..., 1], z, s)
    return sample


@builtin(returns="num", category=NOISE, params=POINT, random=True)
def perlin(context, stream, p, z, seed):
    """Perlin gradient noise in -1..1, one feature per unit; 3D when `z` is given.

    Example: `output perlin(uv * 4) * 0.5 + 0.5`
    """
    return _lattice("perlin")(context, stream, p, z, seed)


@builtin(returns="num", category=NOISE, params=POINT, random=True)
def simplex(context, stream, p, z, seed):
    """Simplex noise in -1..1; 3D when `z` is given.

    Example: `output simplex(uv * 4) * 0.5 + 0.5`
    """
    return _lattice("simplex")(context, stream, p, z, seed)


@builtin(returns="num", category=NOISE, params=POINT, random=True)
def value_noise(context, stream, p, z, seed):
    """Value noise in -1..1: smooth interpolation of random values on a grid; 3D when `z` is given.

    Example: `output value_noise(uv * 6) * 0.5 + 0.5`
    """
    return _lattice("value")(context, stream, p, z, seed)


@builtin(returns="num", category=NOISE, random=True,
         params=POINT + (P("octaves", "num", 5.0, uniform=True, doc="layers of detail, 1..16"),
                         P("lacunarity", "num", 2.0, uniform=True, doc="frequency step per octave"),
                         P("gain", "num", 0.5, uniform=True, doc="amplitude step per octave"),
                         P("basis", "string", "perlin", choices=BASES, doc="the noise summed")))
def fbm(context, stream, p, z, seed, octaves, lacunarity, gain, basis):
    """Fractal Brownian motion: octaves of noise summed, normalised to -1..1.

    Example: `output fbm(uv * 3, octaves=6) * 0.5 + 0.5`
    """
    kernels = _kernels()
    octaves = int(np.clip(np.round(octaves), 1, 16))
    s = _seed(context, stream, seed)
    options = dict(basis=basis, octaves=octaves, lacunarity=float(lacunarity), gain=float(gain))
    if z is None:
        return kernels.fbm2(p[..., 0], p[..., 1], s, **options)
    return kernels.fbm3(p[..., 0], p[..., 1], z, s, **options)


def _white(context, stream, seed, kind: str, channels: int):
    kernels = _kernels()
    columns, rows = context.pixel_indices
    sample = getattr(kernels, f"white_{kind}")
    if channels == 1:
        return sample(columns, rows, _seed(context, stream, seed))
    planes = [sample(columns, rows, context.stream_seed(stream, int(seed) * 4 + c + 1))
              for c in range(channels)]
    return np.stack(planes + [np.ones_like(planes[0])], axis=-1)


def _scaled_white(context, stream, scale, seed, kind: str, channels: int):
    """White noise times `scale`; for colours only r, g, b are scaled (alpha stays 1)."""
    noise = _white(context, stream, seed, kind, channels)
    scale = np.asarray(scale, F32)
    if channels == 1:
        return (noise * scale).astype(F32)
    noise[..., :3] *= scale[..., None]
    return noise


WHITE_SEED = P("seed", "num", 0.0, uniform=True, doc="another variation")


@builtin(returns="num", category=NOISE, random=True, per_pixel=True,
         params=(P("sigma", "num", 1.0, doc="standard deviation"), WHITE_SEED))
def gaussian(context, stream, sigma, seed):
    """Gaussian white noise: an independent normal sample with mean 0 and deviation `sigma` per pixel.

    Example: `output 0.5 + gaussian(0.15)`
    """
    return _scaled_white(context, stream, sigma, seed, "gaussian", 1)


@builtin(returns="num", category=NOISE, random=True, per_pixel=True,
         params=(P("amount", "num", 1.0, doc="half-width of the range"), WHITE_SEED))
def uniform(context, stream, amount, seed):
    """Uniform white noise in -amount..amount, independent per pixel.

    Example: `output 0.5 + uniform(0.25)`
    """
    return _scaled_white(context, stream, amount, seed, "uniform", 1)


@builtin(returns="color", category=NOISE, random=True, per_pixel=True,
         params=(P("sigma", "num", 1.0, doc="standard deviation"), WHITE_SEED))
def gaussian_rgb(context, stream, sigma, seed):
    """Gaussian noise drawn independently for r, g and b (alpha 1): colour grain for photos.

    Example: `output gray(0.5) + gaussian_rgb(0.1)`
    """
    return _scaled_white(context, stream, sigma, seed, "gaussian", 3)


@builtin(returns="color", category=NOISE, random=True, per_pixel=True,
         params=(P("amount", "num", 1.0, doc="half-width of the range"), WHITE_SEED))
def uniform_rgb(context, stream, amount, seed):
    """Uniform noise in -amount..amount drawn independently for r, g and b (alpha 1).

    Example: `output gray(0.5) + uniform_rgb(0.2)`
    """
    return _scaled_white(context, stream, amount, seed, "uniform", 3)
