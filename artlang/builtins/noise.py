"""Noise built-ins. Each call site draws from its own stream, derived from the master seed."""
from __future__ import annotations

import importlib
import math

import numpy as np

from artlang.core.errors import RUNTIME, error
from artlang.kernels.noise_choices import BASES, DISTANCES, WORLEY_MODES
from artlang.language.schema import ABSENT, P, builtin

F32 = np.float32
NOISE = "noise"


def _kernels():
    """The numba kernels, imported on first use so sketches without noise never load numba."""
    return importlib.import_module("artlang.kernels.noise")


def _whole_seed(seed) -> int:
    """A `seed` argument as the whole number it truncates to; one that is not finite is refused."""
    number = float(np.asarray(seed).reshape(-1)[0])
    if not math.isfinite(number):
        raise error(f"a noise seed must be a finite number, got {number:g}", stage=RUNTIME,
                    hint="use a whole number such as `seed=3` (a seed computed from t or a "
                         "large product can overflow)")
    return int(number)


def _seed(context, stream, seed):
    return context.stream_seed(stream, _whole_seed(seed))


P_POINT = P("p", "vec2", doc="where to sample")
P_Z = P("z", "num", ABSENT, doc="third coordinate (often t); gives 3D noise")
P_W = P("w", "num", ABSENT, doc="fourth coordinate; gives 4D noise (z is 0 when left out)")
P_SEED = P("seed", "num", 0.0, uniform=True, doc="another variation of the same noise")
P_PERIOD = P("period", "vec2", ABSENT, uniform=True,
             doc="repeat every this many units in x and y (whole numbers; 2D only): seamless tiles")
POINT = (P_POINT, P_Z, P_W, P_SEED)
FRACTAL = (P("octaves", "num", 5.0, uniform=True, doc="layers of detail, 1..16"),
           P("lacunarity", "num", 2.0, uniform=True, doc="frequency step per octave"),
           P("gain", "num", 0.5, uniform=True, doc="amplitude step per octave"),
           P("basis", "string", "perlin", choices=BASES, doc="the noise summed"))
ONE_OCTAVE = (P("octaves", "num", 1.0, uniform=True, doc="layers of detail, 1..16"),) + FRACTAL[1:]


def _octave_count(octaves) -> int:
    number = float(np.asarray(octaves).reshape(-1)[0])
    if math.isnan(number):
        raise error("octaves must be a number from 1 to 16, got nan", stage=RUNTIME,
                    hint="e.g. `octaves=4`; nan comes from 0 / 0 or the like")
    return int(np.clip(np.round(number), 1, 16))


def _period(period):
    """A uniform vec2 argument as an (x, y) pair of floats, or None."""
    if period is None:
        return None
    values = np.asarray(period, np.float64).reshape(-1)
    return float(values[0]), float(values[-1])


def _noise(context, stream, p, z, w, seed, period=None, fractal="fbm", basis="perlin", octaves=1,
           lacunarity=2.0, gain=0.5):
    """Sample fbm2, fbm3 or fbm4 by which coordinates are given; `period` tiles 2D noise only."""
    kernels = _kernels()
    options = dict(basis=basis, octaves=octaves, lacunarity=float(lacunarity), gain=float(gain),
                   fractal=fractal)
    s = _seed(context, stream, seed)
    if period is not None and (z is not None or w is not None):
        raise error("`period` tiles 2D noise; it cannot be combined with `z` or `w`", stage=RUNTIME,
                    hint="leave out z and w, or use loop_noise for noise that repeats in time")
    if w is not None:
        return kernels.fbm4(p[..., 0], p[..., 1], F32(0) if z is None else z, w, s, **options)
    if z is not None:
        return kernels.fbm3(p[..., 0], p[..., 1], z, s, **options)
    return kernels.fbm2(p[..., 0], p[..., 1], s, period=_period(period), **options)


@builtin(returns="num", category=NOISE, params=POINT + (P_PERIOD,), random=True)
def perlin(context, stream, p, z, w, seed, period):
    """Perlin gradient noise in -1..1, one feature per unit; 3D when `z` is given, 4D with `w`.

    With `period`, the noise repeats every `period` units in x and y, so a texture made from
    `st * k` with `period=k` tiles without a seam.

    Example: `output perlin(uv * 4) * 0.5 + 0.5`
    """
    return _noise(context, stream, p, z, w, seed, period, basis="perlin")


@builtin(returns="num", category=NOISE, params=POINT, random=True)
def simplex(context, stream, p, z, w, seed):
    """Simplex noise in -1..1; 3D when `z` is given, 4D with `w`.

    Example: `output simplex(uv * 4) * 0.5 + 0.5`
    """
    return _noise(context, stream, p, z, w, seed, basis="simplex")


@builtin(returns="num", category=NOISE, params=POINT + (P_PERIOD,), random=True)
def value_noise(context, stream, p, z, w, seed, period):
    """Value noise in -1..1: smooth interpolation of random values on a grid; 3D when `z` is given,
    4D with `w`, tileable with `period` as in `perlin`.

    Example: `output value_noise(uv * 6) * 0.5 + 0.5`
    """
    return _noise(context, stream, p, z, w, seed, period, basis="value")


@builtin(returns="num", category=NOISE, random=True, params=POINT + FRACTAL + (P_PERIOD,))
def fbm(context, stream, p, z, w, seed, octaves, lacunarity, gain, basis, period):
    """Fractal Brownian motion: octaves of noise summed, normalised to -1..1.

    3D with `z`, 4D with `w`; with `period` it tiles (whole-number lacunarity, basis perlin or value).

    Example: `output fbm(uv * 3, octaves=6) * 0.5 + 0.5`
    """
    return _noise(context, stream, p, z, w, seed, period, "fbm", basis, _octave_count(octaves),
                  lacunarity, gain)


@builtin(returns="num", category=NOISE, random=True, params=POINT + FRACTAL + (P_PERIOD,))
def ridged(context, stream, p, z, w, seed, octaves, lacunarity, gain, basis, period):
    """Ridged fractal noise in 0..1: octaves of (1 - |noise|) squared, so the zero lines of the noise
    become sharp bright ridges (mountain ranges, veins). Parameters as in `fbm`.

    Example: `output ridged(uv * 2, octaves=6)`
    """
    return _noise(context, stream, p, z, w, seed, period, "ridged", basis, _octave_count(octaves),
                  lacunarity, gain)


@builtin(returns="num", category=NOISE, random=True, params=POINT + FRACTAL + (P_PERIOD,))
def turbulence(context, stream, p, z, w, seed, octaves, lacunarity, gain, basis, period):
    """Turbulence in 0..1: octaves of |noise| summed, with creases where the noise crosses zero
    (fire, smoke, marble veins); mean about 0.25. Parameters as in `fbm`.

    Example: `output turbulence(uv * 3) * 2`
    """
    return _noise(context, stream, p, z, w, seed, period, "turbulence", basis,
                  _octave_count(octaves), lacunarity, gain)


@builtin(returns="num", category=NOISE, random=True,
         params=(P_POINT, P_Z, P_SEED,
                 P("mode", "string", "f1", choices=WORLEY_MODES,
                   doc="f1: nearest point, f2: second nearest, f2-f1: cell borders"),
                 P("distance", "string", "euclidean", choices=DISTANCES, doc="how distance is measured"),
                 P("jitter", "num", 1.0, uniform=True, doc="0: points on a grid .. 1: anywhere in the cell"),
                 P_PERIOD))
def worley(context, stream, p, z, seed, mode, distance, jitter, period):
    """Worley (cellular) noise: the distance to the nearest of random points, one per unit cell.

    Distances are in cell units: euclidean F1 lies in 0..about 1.2 with mean about 0.43 (0.52 in
    3D), F2 in 0..about 1.4, and F2 - F1 is 0 on the borders between cells; manhattan distances run
    about a third longer, chebyshev ones a little shorter. 3D when `z` is given; `period` tiles
    x and y as in `perlin`.

    Example: `output worley(uv * 5)`
    """
    kernels = _kernels()
    s = _seed(context, stream, seed)
    options = dict(mode=mode, distance=distance, jitter=float(np.clip(jitter, 0, 1)),
                   period=_period(period))
    if z is None:
        return kernels.worley2(p[..., 0], p[..., 1], s, **options)
    return kernels.worley3(p[..., 0], p[..., 1], z, s, **options)


def _second_seed(seed: int) -> int:
    """A seed unrelated to `seed` (noise seeds are folded from any size of integer)."""
    return seed + (1 << 32)


@builtin(returns="vec2", category=NOISE, random=True,
         params=(P_POINT, P("amount", "num", 1.0, doc="how far points move, in p's units"), P_SEED)
         + (P("octaves", "num", 4.0, uniform=True, doc="layers of detail, 1..16"),) + FRACTAL[1:])
def domain_warp(context, stream, p, amount, seed, octaves, lacunarity, gain, basis):
    """Domain warping: `p` moved by `amount` times a vector of two independent fbm noises, to be
    sampled by another noise or shape (`fbm(domain_warp(p))` gives marbled, swirling patterns).

    Example: `output fbm(domain_warp(uv * 3, 0.8), octaves=5) * 0.5 + 0.5`
    """
    kernels = _kernels()
    s = _seed(context, stream, seed)
    options = dict(basis=basis, octaves=_octave_count(octaves), lacunarity=float(lacunarity),
                   gain=float(gain))
    dx = kernels.fbm2(p[..., 0], p[..., 1], s, **options)
    dy = kernels.fbm2(p[..., 0], p[..., 1], _second_seed(s), **options)
    amount = np.asarray(amount, F32)
    return (p + amount[..., None] * np.stack([dx, dy], axis=-1)).astype(F32)


@builtin(returns="vec2", category=NOISE, random=True, params=(P_POINT, P_Z, P_SEED) + ONE_OCTAVE)
def curl_noise(context, stream, p, z, seed, octaves, lacunarity, gain, basis):
    """Curl noise: a swirling, divergence-free flow field (no sources or sinks), the curl of a noise
    potential; 3D potential when `z` is given, so the flow evolves with t.

    Each component is a derivative of noise: for one octave of Perlin noise the speed averages about
    1.2 and rarely passes 3 (more octaves add faster eddies). Use it to move points or coordinates.

    Example: `output length(curl_noise(uv * 3)) * 0.3`
    """
    kernels = _kernels()
    options = dict(basis=basis, octaves=_octave_count(octaves), lacunarity=float(lacunarity),
                   gain=float(gain))
    vx, vy = kernels.curl2(p[..., 0], p[..., 1], _seed(context, stream, seed), z=z, **options)
    return np.stack([vx, vy], axis=-1)


@builtin(returns="num", category=NOISE, random=True, animated=True,
         params=(P_POINT,
                 P("duration", "num", ABSENT, uniform=True,
                   doc="seconds per loop; the sketch's `loop` (or the whole animation) when left out"),
                 P("radius", "num", 1.0, uniform=True, doc="how much the noise changes over a loop"),
                 P_SEED) + ONE_OCTAVE)
def loop_noise(context, stream, p, duration, radius, seed, octaves, lacunarity, gain, basis):
    """Noise in -1..1 that changes with time and comes back to where it started after `duration`
    seconds (by default after the sketch's `loop` frames, or the whole animation), so an exported
    animation loops without a seam: frame `loop` is byte for byte frame 0. It is 4D noise on a
    circle of `radius` in its last two coordinates.

    Example: `output loop_noise(uv * 3, octaves=4) * 0.5 + 0.5`
    """
    if duration is None:
        phase = context.frame / context.loop_frames     # exact: frame `loop` gives phase 1
    else:
        seconds = float(duration)
        if not (math.isfinite(seconds) and seconds > 0):
            raise error(f"the duration of a loop must be a positive number of seconds, got {seconds:g}",
                        stage=RUNTIME)
        phase = context.time / seconds
    return _kernels().loop2(p[..., 0], p[..., 1], phase, _seed(context, stream, seed),
                            radius=float(radius), basis=basis, octaves=_octave_count(octaves),
                            lacunarity=float(lacunarity), gain=float(gain))


@builtin(returns="color", category=NOISE, random=True, per_pixel=True,
         params=(P("c", "color", doc="the picture (a number is a gray)"),
                 P("amount", "num", 0.05, doc="fraction of pixels hit, 0..1"),
                 P("seed", "num", 0.0, uniform=True, doc="another variation")))
def salt_pepper(context, stream, c, amount, seed):
    """Salt-and-pepper (impulse) noise: a fraction `amount` of the pixels of `c` turn black or white,
    half each, the way dust and dead sensor pixels look; alpha is kept.

    Example: `output salt_pepper(gray(0.5), 0.1)`
    """
    white = _kernels().white_uniform(*context.pixel_indices, _seed(context, stream, seed))
    amount = np.clip(np.asarray(amount, F32), 0, 1)
    pepper = (white < amount - 1)[..., None]                 # white is uniform on [-1, 1)
    salt = (white >= 1 - amount)[..., None]
    c = np.broadcast_to(c, white.shape + (4,))
    rgb = np.where(pepper, F32(0), np.where(salt, F32(1), c[..., :3]))
    return np.concatenate([rgb, c[..., 3:]], axis=-1).astype(F32)


def _white(context, stream, seed, kind: str, channels: int):
    kernels = _kernels()
    columns, rows = context.pixel_indices
    sample = getattr(kernels, f"white_{kind}")
    if channels == 1:
        return sample(columns, rows, _seed(context, stream, seed))
    planes = [sample(columns, rows, context.stream_seed(stream, _whole_seed(seed) * 4 + c + 1))
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
