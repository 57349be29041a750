"""Latent maths: the points a generator takes, drawn from seeds and walked between (numpy only).

A latent is a float32 vector of a model's `z_size` numbers, a sample of the standard normal
N(0, I) the model was trained on. Functions take one latent (z,) or a stack (..., z); a position
(`t`, `phase`, `u`) may be a number or an array, which adds its shape in front. The maths runs
in float64 and every result is float32.

>>> a, b = from_seed(1, 8), from_seed(2, 8)
>>> slerp(a, b, np.linspace(0, 1, 5)).shape
(5, 8)
"""
from __future__ import annotations

import numpy as np

from artlang.core.errors import RUNTIME, error

LATENT_STREAM = 0x6C6174656E74        # "latent" in ASCII: keeps these draws apart from others
F32 = np.float32
PARALLEL = 1e-6                        # sin(angle) below this: the arc is undefined, see slerp


def from_seed(seed: int, z_size: int) -> np.ndarray:
    """The latent of a seed: z_size numbers from a standard normal, the same for the same seed in
    any sketch, process and machine (numpy's PCG64 seeded by `SeedSequence([LATENT_STREAM,
    seed])`). Negative seeds are taken modulo 2**64.

    >>> z = from_seed(7, 4)
    >>> z.dtype, z.shape, bool((z == from_seed(7, 4)).all()), bool((z == from_seed(8, 4)).any())
    (dtype('float32'), (4,), True, False)
    """
    sequence = np.random.SeedSequence([LATENT_STREAM, int(seed) % 2 ** 64])
    return np.random.default_rng(sequence).standard_normal(int(z_size)).astype(F32)


def truncate(z, psi: float) -> np.ndarray:
    """GAN truncation: `psi * z`, pulling a latent toward the average latent (0 for our generators,
    which have no mapping network) by the factor psi. Below 1 samples are more typical and less
    varied; 0 is the average sample. This is StyleGAN's form, not BigGAN's resampling of large
    components: a scale is continuous in psi, so a sketch can animate it.

    >>> truncate(np.array([2.0, -1.0]), 0.5).tolist()
    [1.0, -0.5]
    """
    return (np.asarray(z, np.float64) * float(psi)).astype(F32)


def temperature(z, tau: float) -> np.ndarray:
    """VAE temperature: `tau * z`, a sample of N(0, tau^2 I) from a sample of N(0, I). Below 1 gives
    more typical, smoother pictures; above 1 stranger ones.

    >>> temperature(np.array([1.0, 2.0]), 0.8).tolist()
    [0.800000011920929, 1.600000023841858]
    """
    return (np.asarray(z, np.float64) * float(tau)).astype(F32)


def _position(t) -> np.ndarray:
    """A position as float64 with a trailing axis, to broadcast against (..., z)."""
    return np.asarray(t, np.float64)[..., None]


def lerp(a, b, t) -> np.ndarray:
    """The straight line `(1 - t) a + t b`: exactly a at 0 and b at 1. Its middle is shorter than
    a sample (the mean of two independent normals has variance 1/2), so `slerp` suits morphs.

    >>> lerp(np.array([0.0, 2.0]), np.array([4.0, 0.0]), [0.0, 0.25, 1.0]).tolist()
    [[0.0, 2.0], [1.0, 1.5], [4.0, 0.0]]
    """
    a, b, t = np.asarray(a, np.float64), np.asarray(b, np.float64), _position(t)
    return ((1 - t) * a + t * b).astype(F32)


def slerp(a, b, t) -> np.ndarray:
    """Spherical interpolation: the great-circle arc from a to b, exactly a at 0 and b at 1.
    Between two latents of the same length every point keeps that length (a lerp would shrink
    it); between different lengths the length changes smoothly. When a and b point the same way
    (sin of their angle below 1e-6) the arc is a line and this is `lerp`. When they point opposite
    ways every great circle joins them, so the walk turns through a fixed perpendicular direction
    with its length going linearly from |a| to |b|, never through the zero latent as a line would.

    >>> a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    >>> [round(float(v), 4) for v in slerp(a, b, 0.5)]
    [0.7071, 0.7071]
    >>> [round(float(v), 4) for v in slerp(a, -a, 0.5)]
    [0.0, 1.0]
    """
    a, b, t = np.asarray(a, np.float64), np.asarray(b, np.float64), _position(t)
    length_a = np.linalg.norm(a, axis=-1, keepdims=True)
    length_b = np.linalg.norm(b, axis=-1, keepdims=True)
    lengths = length_a * length_b
    cosine = np.clip(np.sum(a * b, axis=-1, keepdims=True) / np.where(lengths > 0, lengths, 1), -1, 1)
    angle = np.arccos(np.where(lengths > 0, cosine, 1.0))
    sine = np.sin(angle)
    arc = (np.sin((1 - t) * angle) * a + np.sin(t * angle) * b) / np.where(sine > PARALLEL, sine, 1)
    line = (1 - t) * a + t * b
    length = (1 - t) * length_a + t * length_b
    turn = (np.cos(np.pi * t) * a / np.where(length_a > 0, length_a, 1)
            + np.sin(np.pi * t) * _perpendicular(a)) * length
    turn = np.where(t == 1, b, turn)             # cos(pi) is not exactly -1 after rounding
    near = sine <= PARALLEL
    return np.where(near & (cosine < 0), turn, np.where(near, line, arc)).astype(F32)


def _perpendicular(a: np.ndarray) -> np.ndarray:
    """A unit vector at right angles to each a: the axis a leans on least, with a's part removed."""
    axis = np.zeros_like(a)
    np.put_along_axis(axis, np.argmin(np.abs(a), axis=-1)[..., None], 1.0, axis=-1)
    squared = np.sum(a * a, axis=-1, keepdims=True)
    away = axis - a * np.sum(a * axis, axis=-1, keepdims=True) / np.where(squared > 0, squared, 1)
    return away / np.linalg.norm(away, axis=-1, keepdims=True)


def loop(a, b, phase) -> np.ndarray:
    """A closed walk `cos(2 pi phase) a + sin(2 pi phase) b` through two independent standard normal
    latents a and b. Every point is itself a standard normal sample: it is a sum of independent
    normals with variances cos^2 + sin^2 = 1, so every frame looks like a real sample, unlike a
    lerp's faded middle. The phase is taken modulo 1, so 1 gives exactly a, as 0 does.

    >>> a, b = from_seed(1, 3), from_seed(2, 3)
    >>> bool((loop(a, b, 1.0) == a).all()), bool((loop(a, b, 0.25) - b < 1e-6).all())
    (True, True)
    """
    a, b, phase = np.asarray(a, np.float64), np.asarray(b, np.float64), _position(phase)
    angle = 2 * np.pi * (phase - np.floor(phase))
    return (np.cos(angle) * a + np.sin(angle) * b).astype(F32)


def spline(keyframes, u, closed: bool = False) -> np.ndarray:
    """A centripetal Catmull-Rom curve through keyframe latents (K, z), at u in 0..1: keyframe i is
    at u = i / (K - 1), or i / K when `closed` (the curve then loops back to the first, and u is
    taken modulo 1). It passes exactly through every keyframe. Centripetal (knots spaced by the
    square root of the distances between keyframes) never overshoots into a cusp or a loop when
    keyframes are unevenly spaced, as the uniform kind can. The ends of an open curve are guided
    by the keyframes mirrored beyond them.

    >>> keys = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    >>> spline(keys, [0.0, 0.5, 1.0]).tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]
    >>> bool((spline(keys, 1.0, closed=True) == keys[0]).all())
    True
    """
    keys = np.asarray(keyframes, np.float64)
    if keys.ndim != 2 or len(keys) < 2:
        raise error(f"a spline needs keyframe latents of shape (K >= 2, z), got {keys.shape}",
                    stage=RUNTIME, hint="give at least two keyframes of one model")
    count = len(keys)
    u = np.asarray(u, np.float64)
    if closed:
        place = (u - np.floor(u)) * count
        segment = np.minimum(np.floor(place), count - 1).astype(int)
        points = keys
        indices = (segment[..., None] + np.arange(-1, 3)) % count
    else:
        place = np.clip(u, 0.0, 1.0) * (count - 1)
        segment = np.minimum(np.floor(place), count - 2).astype(int)
        points = np.concatenate([2 * keys[:1] - keys[1:2], keys, 2 * keys[-1:] - keys[-2:-1]])
        indices = segment[..., None] + np.arange(4)
    local = (place - segment)[..., None]
    p0, p1, p2, p3 = (points[indices[..., k]] for k in range(4))
    curve = _centripetal(p0, p1, p2, p3, local)
    return np.where(local == 0, p1, np.where(local == 1, p2, curve)).astype(F32)


def _centripetal(p0, p1, p2, p3, local) -> np.ndarray:
    """Barry and Goldman's pyramid for the Catmull-Rom segment from p1 to p2 at fraction local."""
    def knot_step(p, q):                         # sqrt of the distance, never exactly 0
        return np.maximum(np.linalg.norm(q - p, axis=-1, keepdims=True) ** 0.5, 1e-12)

    t0 = np.zeros_like(local)
    t1 = t0 + knot_step(p0, p1)
    t2 = t1 + knot_step(p1, p2)
    t3 = t2 + knot_step(p2, p3)
    t = t1 + local * (t2 - t1)

    def blend(p, q, start, end):
        return ((end - t) * p + (t - start) * q) / (end - start)

    a1, a2, a3 = blend(p0, p1, t0, t1), blend(p1, p2, t1, t2), blend(p2, p3, t2, t3)
    b1, b2 = blend(a1, a2, t0, t2), blend(a2, a3, t1, t3)
    return blend(b1, b2, t1, t2)
