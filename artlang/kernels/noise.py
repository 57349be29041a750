"""Deterministic noise kernels: value, Perlin and simplex noise in 2D, 3D and 4D, fractal sums (fbm,
turbulence, ridged; tileable in 2D), Worley noise, curl and looping noise, and white noise.

Every function returns float32 and is a pure function of its inputs: each output element is
computed on its own from its coordinates and the seed, so the bytes do not depend on the number of
threads, on how a canvas is cut into tiles, or on which process computes it.

    >>> import numpy as np
    >>> x = np.linspace(0, 4, 5, dtype=np.float32)
    >>> perlin2(x, 0.5, seed=7).shape
    (5,)
    >>> bool(np.all(np.abs(fbm2(x[:, None], x, seed=7, octaves=3)) <= 1))
    True

Numba is imported here and nowhere else; the rest of artlang imports this module lazily.

How the kernels stay fast and deterministic:
- No `fastmath`. With it, LLVM may fuse multiply-adds or reorder sums, and it did so differently in a
  freshly compiled kernel and in the same kernel loaded from numba's on-disk cache: simplex3 differed
  in the last bit on a quarter of the samples between two processes. It bought no speed here (the
  kernels vectorise without it), and without it every float32 operation is rounded as written, so the
  bytes do not depend on the compile, the cache, or the CPU's FMA support.
- Work is cut into blocks of `BLOCK` elements; each thread of a small pool runs a `nogil` kernel on
  its own range of blocks (the threads section says why not numba's `parallel=True`). The block loop has a
  constant trip count, so every element goes through the same vectorised code; the last, partial
  block is padded instead of falling into a scalar remainder loop.
- Lattice hashing is integer multiply/xor on uint32 (no permutation tables); gradients are picked with
  selects from the hash's top bits, so the inner loop has no branches and no gathers.
- A noise function is a fractal sum with one octave, so `perlin2(x, y, s) == fbm2(x, y, s, "perlin",
  octaves=1)` exactly and there is one fractal kernel per dimension, plus one Worley kernel (2D and
  3D), to compile. Tiling wraps the 2D lattice indices inside the same code (period 0 wraps nothing
  and gives the same bytes as before tiling existed); curl and looping noise are built on the
  fractal kernels in Python.

Coordinates should be finite and within about ±2**24 (float32 loses the fraction beyond that);
integer pixel coordinates for the white noise are taken modulo 2**32.
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from artlang.core.errors import RUNTIME, error
from artlang.kernels.noise_choices import BASES, DISTANCES, FRACTALS, WORLEY_MODES  # number the branches
from artlang.kernels.threads import get_threads, run_shares, set_threads  # noqa: F401  (set/get re-exported)

__all__ = ["BASES", "FRACTALS", "WORLEY_MODES", "DISTANCES", "value2", "value3", "value4", "perlin2",
           "perlin3", "perlin4", "simplex2", "simplex3", "simplex4", "fbm2", "fbm3", "fbm4", "worley2",
           "worley3", "curl2", "loop2", "white_uniform", "white_gaussian", "seed32", "set_threads",
           "get_threads"]

MAX_OCTAVES = 16
BLOCK = 512                      # elements per work unit; a multiple of every SIMD width

F32 = np.float32
U32 = np.uint32
_MASK32 = 0xFFFFFFFF

# Odd 32-bit constants: per-axis lattice primes and the corner-hash multipliers.
_PRIME_X = U32(0x9E3779B1)
_PRIME_Y = U32(0x85EBCA77)
_PRIME_Z = U32(0xC2B2AE3D)
_PRIME_W = U32(0xD3A2646D)
_HASH_MUL = U32(0x27D4EB2F)
_HASH_MUL_2 = U32(0x165667B1)
# murmur3's 32-bit finaliser constants, for the full-avalanche mixer used by white noise and seeds.
_FMIX_1 = U32(0x85EBCA6B)
_FMIX_2 = U32(0xC2B2AE35)
_STREAM_2 = U32(0x68E31DA4)      # second independent stream for Box-Muller's second uniform

_ZERO, _ONE, _TWO = F32(0.0), F32(1.0), F32(2.0)
_INT_TO_UNIT = F32(2.0 ** -31)   # int32 -> [-1, 1]
_COS_22_5 = F32(math.cos(math.pi / 8))
_SIN_22_5 = F32(math.sin(math.pi / 8))

# Output scales. Each is 1 / B, rounded down a little, where B is the largest value the noise can
# reach: the maximum over one lattice cell of sum_corners weight(p) * max_gradient |g . (p - corner)|,
# i.e. every corner picking its worst gradient at once. B was found by a dense grid search over the
# cell refined around the maxima (perlin2 0.66082, perlin3 0.73282 with the 12 edge gradients
# normalised, simplex2 0.0099960 and simplex3 0.0091975 with radius^2 0.5). The result is clamped to
# [-1, 1] as well, so float rounding can never leave the range.
_PERLIN2_SCALE = F32(1.5130)
_PERLIN3_SCALE = F32(1.3645 / math.sqrt(2.0))     # edge gradients (1, 1, 0) have length sqrt(2)
_SIMPLEX2_SCALE = F32(100.0)
_SIMPLEX3_SCALE = F32(108.7 / math.sqrt(2.0))
# 4D: measured, not derived: the largest |value| over 16 million random points was 1.18 for perlin4
# and 0.01591 for simplex4; the scales leave about 5% above that, and the clamp catches the rest.
_PERLIN4_SCALE = F32(0.8)
_SIMPLEX4_SCALE = F32(60.0)

_SKEW2 = F32((math.sqrt(3.0) - 1.0) / 2.0)
_UNSKEW2 = F32((3.0 - math.sqrt(3.0)) / 6.0)
_SKEW3 = F32(1.0 / 3.0)
_UNSKEW3 = F32(1.0 / 6.0)
_SKEW4 = F32((math.sqrt(5.0) - 1.0) / 4.0)
_UNSKEW4 = F32((5.0 - math.sqrt(5.0)) / 20.0)
_HALF = F32(0.5)                  # simplex kernel radius squared: 0.5 keeps it continuous in 2D and 3D

# Point functions are inlined at numba-IR level: LLVM's own inliner gives up on the bigger ones, and a
# call in the inner loop stops it from vectorising (perlin2 goes from ~13 to ~1.3 ms per megapixel).
_inline = njit(cache=True, error_model="numpy", inline="always")
_block = njit(cache=True, error_model="numpy")
_kernel = njit(cache=True, error_model="numpy", nogil=True)


# --- lattice helpers -----------------------------------------------------------------------------

@_inline
def _fade(t):
    """Quintic smoothstep 6t^5 - 15t^4 + 10t^3: zero first and second derivatives at 0 and 1."""
    return t * t * t * (t * (t * F32(6.0) - F32(15.0)) + F32(10.0))


@_inline
def _lerp(a, b, t):
    return a + t * (b - a)


@_inline
def _scramble(h):
    """Multiply, fold the high half down, multiply again: every input bit reaches the top bits.

    One multiply alone left the top bits (which pick the gradient) too alike for different seeds:
    simplex2 gave bit-identical values for two seeds at 1.4% of the points instead of ~0.2%.
    """
    h = U32(h * _HASH_MUL)
    h = U32(h ^ (h >> U32(15)))
    return U32(h * _HASH_MUL_2)


@_inline
def _hash(seed, a, b):
    return _scramble(seed ^ a ^ b)


@_inline
def _hash3(seed, a, b, c):
    return _scramble(seed ^ a ^ b ^ c)


@_inline
def _grad2(h, x, y):
    """Dot product with one of 8 unit gradients at odd multiples of 22.5 degrees (none on an axis)."""
    swap = (h & U32(0x20000000)) != 0
    u = y if swap else x
    v = x if swap else y
    a = _COS_22_5 * u
    b = _SIN_22_5 * v
    a = -a if (h & U32(0x80000000)) != 0 else a
    b = -b if (h & U32(0x40000000)) != 0 else b
    return a + b


@_inline
def _grad3(h, x, y, z):
    """Dot product with one of the 12 cube-edge gradients (four of them twice), unnormalised."""
    k = h >> U32(28)
    u = x if k < 8 else y
    v = y if k < 4 else (x if (k == 12 or k == 14) else z)
    u = -u if (k & U32(1)) != 0 else u
    v = -v if (k & U32(2)) != 0 else v
    return u + v


@_inline
def _lattice_value(h):
    return F32(np.int32(h)) * _INT_TO_UNIT


@_inline
def _corner3(seed, x, y, z):
    return _lattice_value(_hash3(seed, x, y, z))


# --- the six noises at one point -----------------------------------------------------------------

@_inline
def _wrap(f, period, inverse):
    """The lattice index f (a whole float) modulo `period`, given inverse = 1 / period; unchanged
    when both are 0 (no tiling). A multiply instead of a divide keeps the untiled noise fast; the
    quotient may be one off at a multiple of the period, which the two selects put right."""
    r = f - period * np.floor(f * inverse)
    r = r - period if r >= period else r       # period 0: r >= 0 subtracts nothing
    return r + period if r < _ZERO else r


@_inline
def _next(f, period):
    """The lattice index after the wrapped index f (f + 1, back to 0 at the period)."""
    g = f + _ONE
    return g - period if g >= period else g


@_inline
def _index(f, prime):
    return U32(U32(np.int32(f)) * prime)


@_inline
def _value2(x, y, seed, period_x, period_y, inverse_x, inverse_y):
    fx = np.floor(x)
    fy = np.floor(y)
    u = _fade(x - fx)
    v = _fade(y - fy)
    wx = _wrap(fx, period_x, inverse_x)
    wy = _wrap(fy, period_y, inverse_y)
    x0 = _index(wx, _PRIME_X)
    y0 = _index(wy, _PRIME_Y)
    x1 = _index(_next(wx, period_x), _PRIME_X)
    y1 = _index(_next(wy, period_y), _PRIME_Y)
    bottom = _lerp(_lattice_value(_hash(seed, x0, y0)), _lattice_value(_hash(seed, x1, y0)), u)
    top = _lerp(_lattice_value(_hash(seed, x0, y1)), _lattice_value(_hash(seed, x1, y1)), u)
    return _lerp(bottom, top, v)


@_inline
def _value3(x, y, z, seed):
    fx = np.floor(x)
    fy = np.floor(y)
    fz = np.floor(z)
    u = _fade(x - fx)
    v = _fade(y - fy)
    w = _fade(z - fz)
    x0 = U32(U32(np.int32(fx)) * _PRIME_X)
    y0 = U32(U32(np.int32(fy)) * _PRIME_Y)
    z0 = U32(U32(np.int32(fz)) * _PRIME_Z)
    x1 = U32(x0 + _PRIME_X)
    y1 = U32(y0 + _PRIME_Y)
    z1 = U32(z0 + _PRIME_Z)
    near = _lerp(_lerp(_corner3(seed, x0, y0, z0), _corner3(seed, x1, y0, z0), u),
                 _lerp(_corner3(seed, x0, y1, z0), _corner3(seed, x1, y1, z0), u), v)
    far = _lerp(_lerp(_corner3(seed, x0, y0, z1), _corner3(seed, x1, y0, z1), u),
                _lerp(_corner3(seed, x0, y1, z1), _corner3(seed, x1, y1, z1), u), v)
    return _lerp(near, far, w)


@_inline
def _perlin2(x, y, seed, period_x, period_y, inverse_x, inverse_y):
    fx = np.floor(x)
    fy = np.floor(y)
    dx0 = x - fx
    dy0 = y - fy
    dx1 = dx0 - _ONE
    dy1 = dy0 - _ONE
    wx = _wrap(fx, period_x, inverse_x)
    wy = _wrap(fy, period_y, inverse_y)
    x0 = _index(wx, _PRIME_X)
    y0 = _index(wy, _PRIME_Y)
    x1 = _index(_next(wx, period_x), _PRIME_X)
    y1 = _index(_next(wy, period_y), _PRIME_Y)
    u = _fade(dx0)
    bottom = _lerp(_grad2(_hash(seed, x0, y0), dx0, dy0), _grad2(_hash(seed, x1, y0), dx1, dy0), u)
    top = _lerp(_grad2(_hash(seed, x0, y1), dx0, dy1), _grad2(_hash(seed, x1, y1), dx1, dy1), u)
    return _lerp(bottom, top, _fade(dy0)) * _PERLIN2_SCALE


@_inline
def _perlin3(x, y, z, seed):
    fx = np.floor(x)
    fy = np.floor(y)
    fz = np.floor(z)
    dx0 = x - fx
    dy0 = y - fy
    dz0 = z - fz
    dx1 = dx0 - _ONE
    dy1 = dy0 - _ONE
    dz1 = dz0 - _ONE
    x0 = U32(U32(np.int32(fx)) * _PRIME_X)
    y0 = U32(U32(np.int32(fy)) * _PRIME_Y)
    z0 = U32(U32(np.int32(fz)) * _PRIME_Z)
    x1 = U32(x0 + _PRIME_X)
    y1 = U32(y0 + _PRIME_Y)
    z1 = U32(z0 + _PRIME_Z)
    u = _fade(dx0)
    v = _fade(dy0)
    near = _lerp(_lerp(_grad3(_hash3(seed, x0, y0, z0), dx0, dy0, dz0),
                       _grad3(_hash3(seed, x1, y0, z0), dx1, dy0, dz0), u),
                 _lerp(_grad3(_hash3(seed, x0, y1, z0), dx0, dy1, dz0),
                       _grad3(_hash3(seed, x1, y1, z0), dx1, dy1, dz0), u), v)
    far = _lerp(_lerp(_grad3(_hash3(seed, x0, y0, z1), dx0, dy0, dz1),
                      _grad3(_hash3(seed, x1, y0, z1), dx1, dy0, dz1), u),
                _lerp(_grad3(_hash3(seed, x0, y1, z1), dx0, dy1, dz1),
                      _grad3(_hash3(seed, x1, y1, z1), dx1, dy1, dz1), u), v)
    return _lerp(near, far, _fade(dz0)) * _PERLIN3_SCALE


@_inline
def _falloff(dx, dy, dz):
    t = max(_HALF - dx * dx - dy * dy - dz * dz, _ZERO)
    t = t * t
    return t * t


@_inline
def _simplex2(x, y, seed):
    skew = (x + y) * _SKEW2
    fi = np.floor(x + skew)
    fj = np.floor(y + skew)
    unskew = (fi + fj) * _UNSKEW2
    dx0 = x - (fi - unskew)
    dy0 = y - (fj - unskew)
    lower = dx0 > dy0                       # which triangle of the skewed square
    i1 = _ONE if lower else _ZERO
    j1 = _ZERO if lower else _ONE
    dx1 = dx0 - i1 + _UNSKEW2
    dy1 = dy0 - j1 + _UNSKEW2
    dx2 = dx0 - _ONE + _TWO * _UNSKEW2
    dy2 = dy0 - _ONE + _TWO * _UNSKEW2
    xa = U32(U32(np.int32(fi)) * _PRIME_X)
    ya = U32(U32(np.int32(fj)) * _PRIME_Y)
    xb = U32(xa + _PRIME_X)
    yb = U32(ya + _PRIME_Y)
    xm = xb if lower else xa
    ym = ya if lower else yb
    total = (_falloff(dx0, dy0, _ZERO) * _grad2(_hash(seed, xa, ya), dx0, dy0)
             + _falloff(dx1, dy1, _ZERO) * _grad2(_hash(seed, xm, ym), dx1, dy1)
             + _falloff(dx2, dy2, _ZERO) * _grad2(_hash(seed, xb, yb), dx2, dy2))
    return total * _SIMPLEX2_SCALE


@_inline
def _simplex3(x, y, z, seed):
    skew = (x + y + z) * _SKEW3
    fi = np.floor(x + skew)
    fj = np.floor(y + skew)
    fk = np.floor(z + skew)
    unskew = (fi + fj + fk) * _UNSKEW3
    dx0 = x - (fi - unskew)
    dy0 = y - (fj - unskew)
    dz0 = z - (fk - unskew)
    # Rank the offsets: the second corner steps along the largest axis, the third along the two largest.
    x_ge_y = dx0 >= dy0
    x_ge_z = dx0 >= dz0
    y_ge_z = dy0 >= dz0
    i1 = x_ge_y and x_ge_z
    j1 = (not x_ge_y) and y_ge_z
    k1 = (not x_ge_z) and (not y_ge_z)
    i2 = x_ge_y or x_ge_z
    j2 = (not x_ge_y) or y_ge_z
    k2 = (not x_ge_z) or (not y_ge_z)
    dx1 = dx0 - (_ONE if i1 else _ZERO) + _UNSKEW3
    dy1 = dy0 - (_ONE if j1 else _ZERO) + _UNSKEW3
    dz1 = dz0 - (_ONE if k1 else _ZERO) + _UNSKEW3
    dx2 = dx0 - (_ONE if i2 else _ZERO) + _TWO * _UNSKEW3
    dy2 = dy0 - (_ONE if j2 else _ZERO) + _TWO * _UNSKEW3
    dz2 = dz0 - (_ONE if k2 else _ZERO) + _TWO * _UNSKEW3
    dx3 = dx0 - _HALF
    dy3 = dy0 - _HALF
    dz3 = dz0 - _HALF
    xa = U32(U32(np.int32(fi)) * _PRIME_X)
    ya = U32(U32(np.int32(fj)) * _PRIME_Y)
    za = U32(U32(np.int32(fk)) * _PRIME_Z)
    xb = U32(xa + _PRIME_X)
    yb = U32(ya + _PRIME_Y)
    zb = U32(za + _PRIME_Z)
    total = (_falloff(dx0, dy0, dz0) * _grad3(_hash3(seed, xa, ya, za), dx0, dy0, dz0)
             + _falloff(dx1, dy1, dz1) * _grad3(_hash3(seed, xb if i1 else xa, yb if j1 else ya,
                                                        zb if k1 else za), dx1, dy1, dz1)
             + _falloff(dx2, dy2, dz2) * _grad3(_hash3(seed, xb if i2 else xa, yb if j2 else ya,
                                                        zb if k2 else za), dx2, dy2, dz2)
             + _falloff(dx3, dy3, dz3) * _grad3(_hash3(seed, xb, yb, zb), dx3, dy3, dz3))
    return total * _SIMPLEX3_SCALE


# --- 4D: the same three noises with a fourth coordinate (loops in time, tiles on a torus) ----------

@_inline
def _hash4(seed, a, b, c, d):
    return _scramble(seed ^ a ^ b ^ c ^ d)


@_inline
def _grad4(h, x, y, z, w):
    """Dot product with one of the 32 gradients (+-1, +-1, +-1, 0) and permutations: the top two
    bits pick the axis left out, the next three the signs."""
    k = h >> U32(30)
    u = y if k == 0 else x
    v = z if k <= 1 else y
    s = z if k == 3 else w
    u = -u if (h & U32(0x20000000)) != 0 else u
    v = -v if (h & U32(0x10000000)) != 0 else v
    s = -s if (h & U32(0x08000000)) != 0 else s
    return u + v + s


@_inline
def _value_cube(seed, x0, y0, z0, x1, y1, z1, wc, u, v, r):
    near = _lerp(_lerp(_lattice_value(_hash4(seed, x0, y0, z0, wc)),
                       _lattice_value(_hash4(seed, x1, y0, z0, wc)), u),
                 _lerp(_lattice_value(_hash4(seed, x0, y1, z0, wc)),
                       _lattice_value(_hash4(seed, x1, y1, z0, wc)), u), v)
    far = _lerp(_lerp(_lattice_value(_hash4(seed, x0, y0, z1, wc)),
                      _lattice_value(_hash4(seed, x1, y0, z1, wc)), u),
                _lerp(_lattice_value(_hash4(seed, x0, y1, z1, wc)),
                      _lattice_value(_hash4(seed, x1, y1, z1, wc)), u), v)
    return _lerp(near, far, r)


@_inline
def _value4(x, y, z, w, seed):
    fx = np.floor(x)
    fy = np.floor(y)
    fz = np.floor(z)
    fw = np.floor(w)
    x0 = _index(fx, _PRIME_X)
    y0 = _index(fy, _PRIME_Y)
    z0 = _index(fz, _PRIME_Z)
    w0 = _index(fw, _PRIME_W)
    x1 = U32(x0 + _PRIME_X)
    y1 = U32(y0 + _PRIME_Y)
    z1 = U32(z0 + _PRIME_Z)
    u = _fade(x - fx)
    v = _fade(y - fy)
    r = _fade(z - fz)
    return _lerp(_value_cube(seed, x0, y0, z0, x1, y1, z1, w0, u, v, r),
                 _value_cube(seed, x0, y0, z0, x1, y1, z1, U32(w0 + _PRIME_W), u, v, r), _fade(w - fw))


@_inline
def _perlin_cube(seed, x0, y0, z0, x1, y1, z1, wc, dx0, dy0, dz0, dx1, dy1, dz1, dw, u, v, r):
    near = _lerp(_lerp(_grad4(_hash4(seed, x0, y0, z0, wc), dx0, dy0, dz0, dw),
                       _grad4(_hash4(seed, x1, y0, z0, wc), dx1, dy0, dz0, dw), u),
                 _lerp(_grad4(_hash4(seed, x0, y1, z0, wc), dx0, dy1, dz0, dw),
                       _grad4(_hash4(seed, x1, y1, z0, wc), dx1, dy1, dz0, dw), u), v)
    far = _lerp(_lerp(_grad4(_hash4(seed, x0, y0, z1, wc), dx0, dy0, dz1, dw),
                      _grad4(_hash4(seed, x1, y0, z1, wc), dx1, dy0, dz1, dw), u),
                _lerp(_grad4(_hash4(seed, x0, y1, z1, wc), dx0, dy1, dz1, dw),
                      _grad4(_hash4(seed, x1, y1, z1, wc), dx1, dy1, dz1, dw), u), v)
    return _lerp(near, far, r)


@_inline
def _perlin4(x, y, z, w, seed):
    fx = np.floor(x)
    fy = np.floor(y)
    fz = np.floor(z)
    fw = np.floor(w)
    dx0 = x - fx
    dy0 = y - fy
    dz0 = z - fz
    dw0 = w - fw
    dx1 = dx0 - _ONE
    dy1 = dy0 - _ONE
    dz1 = dz0 - _ONE
    x0 = _index(fx, _PRIME_X)
    y0 = _index(fy, _PRIME_Y)
    z0 = _index(fz, _PRIME_Z)
    w0 = _index(fw, _PRIME_W)
    x1 = U32(x0 + _PRIME_X)
    y1 = U32(y0 + _PRIME_Y)
    z1 = U32(z0 + _PRIME_Z)
    u = _fade(dx0)
    v = _fade(dy0)
    r = _fade(dz0)
    low = _perlin_cube(seed, x0, y0, z0, x1, y1, z1, w0, dx0, dy0, dz0, dx1, dy1, dz1, dw0, u, v, r)
    high = _perlin_cube(seed, x0, y0, z0, x1, y1, z1, U32(w0 + _PRIME_W), dx0, dy0, dz0, dx1, dy1, dz1,
                        dw0 - _ONE, u, v, r)
    return _lerp(low, high, _fade(dw0)) * _PERLIN4_SCALE


@_inline
def _falloff4(dx, dy, dz, dw):
    t = max(_HALF - dx * dx - dy * dy - dz * dz - dw * dw, _ZERO)
    t = t * t
    return t * t


@_inline
def _simplex4(x, y, z, w, seed):
    skew = (x + y + z + w) * _SKEW4
    fi = np.floor(x + skew)
    fj = np.floor(y + skew)
    fk = np.floor(z + skew)
    fl = np.floor(w + skew)
    unskew = (fi + fj + fk + fl) * _UNSKEW4
    dx0 = x - (fi - unskew)
    dy0 = y - (fj - unskew)
    dz0 = z - (fk - unskew)
    dw0 = w - (fl - unskew)
    # Rank each offset among the four: corner c (1..3) steps along the axes ranked 4 - c and above.
    rank_x = np.int32(dx0 > dy0) + np.int32(dx0 > dz0) + np.int32(dx0 > dw0)
    rank_y = np.int32(dy0 >= dx0) + np.int32(dy0 > dz0) + np.int32(dy0 > dw0)
    rank_z = np.int32(dz0 >= dx0) + np.int32(dz0 >= dy0) + np.int32(dz0 > dw0)
    rank_w = np.int32(dw0 >= dx0) + np.int32(dw0 >= dy0) + np.int32(dw0 >= dz0)
    xa = _index(fi, _PRIME_X)
    ya = _index(fj, _PRIME_Y)
    za = _index(fk, _PRIME_Z)
    wa = _index(fl, _PRIME_W)
    xb = U32(xa + _PRIME_X)
    yb = U32(ya + _PRIME_Y)
    zb = U32(za + _PRIME_Z)
    wb = U32(wa + _PRIME_W)
    total = _falloff4(dx0, dy0, dz0, dw0) * _grad4(_hash4(seed, xa, ya, za, wa), dx0, dy0, dz0, dw0)
    for corner in range(1, 5):
        least = 4 - corner                      # an axis moves when its rank is at least this
        sx = rank_x >= least
        sy = rank_y >= least
        sz = rank_z >= least
        sw = rank_w >= least
        offset = F32(corner) * _UNSKEW4
        dx = dx0 - (_ONE if sx else _ZERO) + offset
        dy = dy0 - (_ONE if sy else _ZERO) + offset
        dz = dz0 - (_ONE if sz else _ZERO) + offset
        dw = dw0 - (_ONE if sw else _ZERO) + offset
        h = _hash4(seed, xb if sx else xa, yb if sy else ya, zb if sz else za, wb if sw else wa)
        total += _falloff4(dx, dy, dz, dw) * _grad4(h, dx, dy, dz, dw)
    return total * _SIMPLEX4_SCALE


# --- fractal kernels: one per dimension; a plain noise is one octave --------------------------------
#
# Each octave's noise goes into a scratch block first, then is folded into the sum: kept signed (fbm),
# as |n| (turbulence) or as (1 - |n|)^2 (ridged). The fold is a loop of its own, so the three folds
# add one small loop each instead of multiplying the basis loops.

@_block
def _fold_octave(fold, amplitude, octave, out):
    if fold == 0:
        for i in range(BLOCK):
            out[i] += amplitude * octave[i]
    elif fold == 1:
        for i in range(BLOCK):
            out[i] += amplitude * np.abs(octave[i])
    else:
        for i in range(BLOCK):
            ridge = _ONE - np.abs(octave[i])
            out[i] += amplitude * (ridge * ridge)


@_block
def _finish(fold, scale, out):
    low = -_ONE if fold == 0 else _ZERO
    for i in range(BLOCK):
        out[i] = min(max(out[i] * scale, low), _ONE)


@_block
def _fractal2_block(x, y, basis, fold, seeds, frequencies, amplitudes, periods_x, periods_y, scale,
                    octave, out):
    """Fill a block of BLOCK elements; every loop has that constant trip count."""
    for i in range(BLOCK):
        out[i] = _ZERO
    for k in range(seeds.size):
        seed = seeds[k]
        frequency = frequencies[k]
        px = periods_x[k]
        py = periods_y[k]
        ix = _ONE / px if px > _ZERO else _ZERO
        iy = _ONE / py if py > _ZERO else _ZERO
        if basis == 0:
            for i in range(BLOCK):
                octave[i] = _value2(x[i] * frequency, y[i] * frequency, seed, px, py, ix, iy)
        elif basis == 1:
            for i in range(BLOCK):
                octave[i] = _perlin2(x[i] * frequency, y[i] * frequency, seed, px, py, ix, iy)
        else:
            for i in range(BLOCK):
                octave[i] = _simplex2(x[i] * frequency, y[i] * frequency, seed)
        _fold_octave(fold, amplitudes[k], octave, out)
    _finish(fold, scale, out)


@_block
def _fractal3_block(x, y, z, basis, fold, seeds, frequencies, amplitudes, scale, octave, out):
    for i in range(BLOCK):
        out[i] = _ZERO
    for k in range(seeds.size):
        seed = seeds[k]
        frequency = frequencies[k]
        if basis == 0:
            for i in range(BLOCK):
                octave[i] = _value3(x[i] * frequency, y[i] * frequency, z[i] * frequency, seed)
        elif basis == 1:
            for i in range(BLOCK):
                octave[i] = _perlin3(x[i] * frequency, y[i] * frequency, z[i] * frequency, seed)
        else:
            for i in range(BLOCK):
                octave[i] = _simplex3(x[i] * frequency, y[i] * frequency, z[i] * frequency, seed)
        _fold_octave(fold, amplitudes[k], octave, out)
    _finish(fold, scale, out)


@_block
def _fractal4_block(x, y, z, w, basis, fold, seeds, frequencies, amplitudes, scale, octave, out):
    for i in range(BLOCK):
        out[i] = _ZERO
    for k in range(seeds.size):
        seed = seeds[k]
        f = frequencies[k]
        if basis == 0:
            for i in range(BLOCK):
                octave[i] = _value4(x[i] * f, y[i] * f, z[i] * f, w[i] * f, seed)
        elif basis == 1:
            for i in range(BLOCK):
                octave[i] = _perlin4(x[i] * f, y[i] * f, z[i] * f, w[i] * f, seed)
        else:
            for i in range(BLOCK):
                octave[i] = _simplex4(x[i] * f, y[i] * f, z[i] * f, w[i] * f, seed)
        _fold_octave(fold, amplitudes[k], octave, out)
    _finish(fold, scale, out)


@_kernel
def _fractal2_kernel(x, y, basis, fold, seeds, frequencies, amplitudes, periods_x, periods_y, scale,
                     out, first, end):
    """Blocks first .. end - 1 of `out`; threads run this on disjoint block ranges."""
    n = out.size
    xs = np.zeros(BLOCK, np.float32)           # the last, partial block is padded to a full one
    ys = np.zeros(BLOCK, np.float32)
    padded = np.empty(BLOCK, np.float32)
    octave = np.empty(BLOCK, np.float32)
    for block in range(first, end):
        start = block * BLOCK
        count = min(BLOCK, n - start)
        if count == BLOCK:
            bx, by, result = x[start:start + BLOCK], y[start:start + BLOCK], out[start:start + BLOCK]
        else:
            xs[:count] = x[start:n]
            ys[:count] = y[start:n]
            bx, by, result = xs, ys, padded
        _fractal2_block(bx, by, basis, fold, seeds, frequencies, amplitudes, periods_x, periods_y,
                        scale, octave, result)
        if count < BLOCK:
            out[start:n] = padded[:count]


@_kernel
def _fractal3_kernel(x, y, z, basis, fold, seeds, frequencies, amplitudes, scale, out, first, end):
    n = out.size
    xs = np.zeros(BLOCK, np.float32)
    ys = np.zeros(BLOCK, np.float32)
    zs = np.zeros(BLOCK, np.float32)
    padded = np.empty(BLOCK, np.float32)
    octave = np.empty(BLOCK, np.float32)
    for block in range(first, end):
        start = block * BLOCK
        count = min(BLOCK, n - start)
        if count == BLOCK:
            bx, by, bz = x[start:start + BLOCK], y[start:start + BLOCK], z[start:start + BLOCK]
            result = out[start:start + BLOCK]
        else:
            xs[:count] = x[start:n]
            ys[:count] = y[start:n]
            zs[:count] = z[start:n]
            bx, by, bz, result = xs, ys, zs, padded
        _fractal3_block(bx, by, bz, basis, fold, seeds, frequencies, amplitudes, scale, octave, result)
        if count < BLOCK:
            out[start:n] = padded[:count]


@_kernel
def _fractal4_kernel(x, y, z, w, basis, fold, seeds, frequencies, amplitudes, scale, out, first, end):
    n = out.size
    xs = np.zeros(BLOCK, np.float32)
    ys = np.zeros(BLOCK, np.float32)
    zs = np.zeros(BLOCK, np.float32)
    ws = np.zeros(BLOCK, np.float32)
    padded = np.empty(BLOCK, np.float32)
    octave = np.empty(BLOCK, np.float32)
    for block in range(first, end):
        start = block * BLOCK
        count = min(BLOCK, n - start)
        if count == BLOCK:
            bx, by, bz, bw = (x[start:start + BLOCK], y[start:start + BLOCK], z[start:start + BLOCK],
                              w[start:start + BLOCK])
            result = out[start:start + BLOCK]
        else:
            xs[:count] = x[start:n]
            ys[:count] = y[start:n]
            zs[:count] = z[start:n]
            ws[:count] = w[start:n]
            bx, by, bz, bw, result = xs, ys, zs, ws, padded
        _fractal4_block(bx, by, bz, bw, basis, fold, seeds, frequencies, amplitudes, scale, octave,
                        result)
        if count < BLOCK:
            out[start:n] = padded[:count]


# --- Worley (cellular) noise: distances to the nearest feature points, one point per lattice cell ---

_UNIT_24 = F32(2.0 ** -24)
_WORLEY_Y = U32(0x7FEB352D)       # re-scrambles a cell hash for the point's second and third coordinate
_WORLEY_Z = U32(0x846CA68B)


@_inline
def _feature(h, jitter):
    """A coordinate of a cell's feature point from 24 bits of its hash: 0.5 +- jitter / 2."""
    return _HALF + jitter * (F32(h >> U32(8)) * _UNIT_24 - _HALF)


@_block
def _worley_block(x, y, z, third, seed, jitter, metric, period_x, period_y, f1, f2, out, mode):
    """F1 and F2 over the 3 x 3 (x 3) neighbouring cells, each cell a loop over the whole block."""
    for i in range(BLOCK):
        f1[i] = np.inf
        f2[i] = np.inf
    reach = 1 if third else 0
    inverse_x = _ONE / period_x if period_x > _ZERO else _ZERO
    inverse_y = _ONE / period_y if period_y > _ZERO else _ZERO
    for cz in range(-reach, reach + 1):
        for cy in range(-1, 2):
            for cx in range(-1, 2):
                ox = F32(cx)
                oy = F32(cy)
                oz = F32(cz)
                for i in range(BLOCK):
                    fx = np.floor(x[i]) + ox
                    fy = np.floor(y[i]) + oy
                    fz = (np.floor(z[i]) + oz) if third else _ZERO
                    h = _hash3(seed, _index(_wrap(fx, period_x, inverse_x), _PRIME_X),
                               _index(_wrap(fy, period_y, inverse_y), _PRIME_Y), _index(fz, _PRIME_Z))
                    dx = fx + _feature(h, jitter) - x[i]
                    dy = fy + _feature(_scramble(h ^ _WORLEY_Y), jitter) - y[i]
                    dz = (fz + _feature(_scramble(h ^ _WORLEY_Z), jitter) - z[i]) if third else _ZERO
                    if metric == 0:
                        d = dx * dx + dy * dy + dz * dz
                    elif metric == 1:
                        d = np.abs(dx) + np.abs(dy) + np.abs(dz)
                    else:
                        d = max(max(np.abs(dx), np.abs(dy)), np.abs(dz))
                    f2[i] = min(f2[i], max(f1[i], d))
                    f1[i] = min(f1[i], d)
    for i in range(BLOCK):
        a = np.sqrt(f1[i]) if metric == 0 else f1[i]
        b = np.sqrt(f2[i]) if metric == 0 else f2[i]
        out[i] = a if mode == 0 else (b if mode == 1 else b - a)


@_kernel
def _worley_kernel(x, y, z, third, seed, jitter, metric, mode, period_x, period_y, out, first, end):
    n = out.size
    xs = np.zeros(BLOCK, np.float32)
    ys = np.zeros(BLOCK, np.float32)
    zs = np.zeros(BLOCK, np.float32)
    f1 = np.empty(BLOCK, np.float32)
    f2 = np.empty(BLOCK, np.float32)
    padded = np.empty(BLOCK, np.float32)
    for block in range(first, end):
        start = block * BLOCK
        count = min(BLOCK, n - start)
        if count == BLOCK:
            bx, by, bz = x[start:start + BLOCK], y[start:start + BLOCK], z[start:start + BLOCK]
            result = out[start:start + BLOCK]
        else:
            xs[:count] = x[start:n]
            ys[:count] = y[start:n]
            zs[:count] = z[start:n]
            bx, by, bz, result = xs, ys, zs, padded
        _worley_block(bx, by, bz, third, seed, jitter, metric, period_x, period_y, f1, f2, result, mode)
        if count < BLOCK:
            out[start:n] = padded[:count]


# --- white noise ---------------------------------------------------------------------------------

@_inline
def _mix32(h):
    """A bijective full-avalanche mix of 32 bits (murmur3's finaliser)."""
    h = U32(h ^ (h >> U32(16)))
    h = U32(h * _FMIX_1)
    h = U32(h ^ (h >> U32(13)))
    h = U32(h * _FMIX_2)
    return U32(h ^ (h >> U32(16)))


@_inline
def _pixel_hash(px, py, seed):
    return _mix32(_mix32(seed ^ U32(px & _MASK32)) ^ U32(py & _MASK32))


@_kernel
def _white_uniform_kernel(px, py, seed, out, first, end):
    for i in range(first * BLOCK, min(end * BLOCK, out.size)):
        h = _pixel_hash(px[i], py[i], seed)
        out[i] = F32(h >> U32(8)) * F32(2.0 ** -23) - _ONE       # k / 2**23 - 1, exact: [-1, 1)


@_kernel
def _white_gaussian_kernel(px, py, seed, out, first, end):
    for i in range(first * BLOCK, min(end * BLOCK, out.size)):
        h = _pixel_hash(px[i], py[i], seed)
        # Box-Muller in float64, rounded once to float32: u1 in (0, 1] so the log is finite.
        u1 = (np.float64(h) + 1.0) * 2.0 ** -32
        u2 = np.float64(_mix32(h ^ _STREAM_2)) * 2.0 ** -32
        out[i] = F32(math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2))


# --- threads: a small pool of Python threads running nogil kernels on disjoint block ranges ---------
#
# Not numba's `parallel=True`: its OpenMP layer kills any child forked after a parallel kernel has run
# ("fork() called from a process already using GNU OpenMP"), and Python 3.11 forks by default, which
# the renderer does to spread frames over processes. A thread pool is dropped in a forked child and
# made anew on first use. Each thread gets one equal share in one kernel call: handing out many small
# shares made the threads queue for the GIL between calls and took away all of the speed-up.

_MIN_BLOCKS_PER_THREAD = 32          # 16384 samples: less is not worth waking a thread for


def _run(kernel, size: int, *args) -> None:
    """Call kernel(*args, first, end) over all blocks of an output of `size` elements, one equal
    share of the blocks per thread (see artlang/threads.py)."""
    blocks = -(-size // BLOCK)
    run_shares(kernel, blocks, blocks // _MIN_BLOCKS_PER_THREAD, *args)


# --- Python side: seeds, validation, broadcasting ------------------------------------------------

def _mix32_py(h: int) -> int:
    """`_mix32` on Python ints."""
    h ^= h >> 16
    h = (h * int(_FMIX_1)) & _MASK32
    h ^= h >> 13
    h = (h * int(_FMIX_2)) & _MASK32
    return h ^ (h >> 16)


def seed32(seed) -> int:
    """Reduce an integer seed of any size to 32 bits.

    The magnitude is folded 32 bits at a time through a bijective mix, and the sign picks the
    starting value, so the seeds 0 .. 2**32 - 1 all map to different 32-bit seeds and small
    neighbouring seeds give unrelated noise.

    >>> seed32(0) != seed32(1) != seed32(-1)
    True
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise error(f"a noise seed must be an integer, got {seed!r}", stage=RUNTIME,
                    hint="use a whole number such as 0, 7 or 2**40")
    seed = int(seed)
    h = 0x2545F491 if seed >= 0 else 0x9B0C3A6D
    magnitude = abs(seed)
    while True:
        h = _mix32_py(h ^ (magnitude & _MASK32))
        magnitude >>= 32
        if not magnitude:
            return h


def _octave_seed(seed: int, octave: int, dimensions: int) -> int:
    """The seed of one octave; 3D gets its own seeds so value3(x, y, 0) does not repeat value2(x, y)."""
    return _mix32_py((seed + octave * 0x9E3779B9 + dimensions * 0x632BE5AB) & _MASK32)


def _flat(array: np.ndarray, shape: tuple, dtype) -> np.ndarray:
    """`array` broadcast to `shape` as a flat, contiguous, writable array of `dtype`, copied only when
    it is not one already. Always the same array type, so numba compiles each kernel once: a
    read-only array (an empty broadcast, a frozen input) would make it compile a second version."""
    if array.shape != shape:
        array = np.broadcast_to(array, shape)
    flat = np.ascontiguousarray(array, dtype=dtype).reshape(-1)
    return flat if flat.flags.writeable else flat.copy()


def _as_float32(*coordinates):
    """Broadcast to one shape and return flat contiguous float32 arrays and the shape."""
    arrays = [np.asarray(c, dtype=np.float32) for c in coordinates]
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    return [_flat(a, shape, np.float32) for a in arrays], shape


def _choice(name: str, value, allowed: tuple) -> int:
    if value not in allowed:
        raise error(f"unknown {name} {value!r}", stage=RUNTIME,
                    hint="use one of " + ", ".join(f'"{a}"' for a in allowed))
    return allowed.index(value)


def _octaves(seed, basis, octaves, lacunarity, gain, dimensions):
    _choice("noise basis", basis, BASES)
    if isinstance(octaves, (bool, np.bool_)) or not isinstance(octaves, (int, np.integer)) \
            or not 1 <= octaves <= MAX_OCTAVES:
        raise error(f"octaves must be a whole number from 1 to {MAX_OCTAVES}, got {octaves!r}",
                    stage=RUNTIME)
    count = int(octaves)
    steps = {}
    for name, number in (("lacunarity", lacunarity), ("gain", gain)):
        if not math.isfinite(float(number)):
            raise error(f"{name} must be a finite number, got {number!r}", stage=RUNTIME)
        with np.errstate(over="ignore"):
            steps[name] = (np.float64(number) ** np.arange(count)).astype(np.float32)
        if not np.all(np.isfinite(steps[name])):
            raise error(f"{name} {number!r} grows beyond float32 over {count} octaves", stage=RUNTIME,
                        hint=f"use a smaller {name} or fewer octaves")
    frequencies, amplitudes = steps["lacunarity"], steps["gain"]
    base = seed32(seed)
    seeds = np.array([_octave_seed(base, o, dimensions) for o in range(count)], dtype=np.uint32)
    total = float(np.abs(amplitudes).sum(dtype=np.float64))
    scale = np.float32(1.0 / total)                    # total >= 1: the first amplitude is 1
    return BASES.index(basis), seeds, frequencies, amplitudes, scale


_LARGEST_PERIOD = 2 ** 24        # lattice indices stay exact in float32 below this


def _whole_period(period) -> tuple[float, float]:
    """(x, y) periods in lattice cells: whole numbers of at least 1."""
    values = np.broadcast_to(np.asarray(period, dtype=np.float64), (2,))
    for value in values:
        if not (math.isfinite(value) and value >= 1 and value == round(value)):
            raise error(f"a tiling period must be a whole number of at least 1, got {value:g}",
                        stage=RUNTIME, hint="sample at p * k and tile with period k, e.g. "
                                            "`perlin(st * 4, period=4)`")
    return float(values[0]), float(values[1])


def _periods(period, basis: str, octaves: int, lacunarity) -> tuple[np.ndarray, np.ndarray]:
    """Per-octave lattice periods; zeros (no wrapping) when `period` is None.

    Octave k samples at lacunarity**k times the coordinates, so it repeats after period * lacunarity**k
    of its own cells; that is a whole number only for a whole-number lacunarity."""
    if period is None:
        zeros = np.zeros(octaves, dtype=np.float32)
        return zeros, zeros
    if basis == "simplex":
        raise error("simplex noise cannot tile: its triangular lattice does not repeat on a square",
                    stage=RUNTIME, hint='use basis "perlin" or "value" for tileable noise')
    if not (float(lacunarity) >= 1 and float(lacunarity) == round(float(lacunarity))):
        raise error(f"tileable fractal noise needs a whole-number lacunarity, got {lacunarity!r}",
                    stage=RUNTIME, hint="use lacunarity=2 or 3 with a period")
    steps = float(lacunarity) ** np.arange(octaves)
    planes = []
    for whole in _whole_period(period):
        cells = whole * steps
        if cells[-1] > _LARGEST_PERIOD:
            raise error(f"a period of {whole:g} grows beyond {_LARGEST_PERIOD} cells over {octaves} "
                        "octaves", stage=RUNTIME, hint="use a smaller period or fewer octaves")
        planes.append(cells.astype(np.float32))
    return planes[0], planes[1]


def _fractal(kernel, coordinates, seed, basis, octaves, lacunarity, gain, fractal, period=None):
    fold = _choice("fractal", fractal, FRACTALS)
    index, seeds, frequencies, amplitudes, scale = _octaves(seed, basis, octaves, lacunarity, gain,
                                                            len(coordinates))
    arrays, shape = _as_float32(*coordinates)
    out = np.empty(arrays[0].size, dtype=np.float32)
    periods = _periods(period, basis, seeds.size, lacunarity) if len(coordinates) == 2 else ()
    _run(kernel, out.size, *arrays, index, fold, seeds, frequencies, amplitudes, *periods, scale, out)
    return out.reshape(shape)


def fbm2(x, y, seed, basis="perlin", octaves=5, lacunarity=2.0, gain=0.5, fractal="fbm", period=None):
    """Fractal sum of 2D noise: octave k has frequency lacunarity**k, amplitude gain**k and its own
    seed; the sum is divided by the sum of |amplitudes|, so it stays in [-1, 1].

    `fractal` folds each octave n before summing: "fbm" keeps n (-1..1), "turbulence" sums |n| and
    "ridged" sums (1 - |n|)**2 (both 0..1). `period` (a whole number, or (x, y)) makes the noise
    repeat after that many units in x and y: lattice indices wrap, octave by octave.

    >>> bool(fbm2(0.3, 0.7, seed=1, octaves=1) == perlin2(0.3, 0.7, seed=1))
    True
    >>> bool(fbm2(0.25, 0.75, 1, period=4) == fbm2(4.25, -3.25, 1, period=4))
    True
    """
    return _fractal(_fractal2_kernel, (x, y), seed, basis, octaves, lacunarity, gain, fractal, period)


def fbm3(x, y, z, seed, basis="perlin", octaves=5, lacunarity=2.0, gain=0.5, fractal="fbm"):
    """Fractal sum of 3D noise, as `fbm2` with a third coordinate (often time).

    >>> fbm3(0.3, 0.7, 2.5, seed=1, basis="simplex").dtype
    dtype('float32')
    """
    return _fractal(_fractal3_kernel, (x, y, z), seed, basis, octaves, lacunarity, gain, fractal)


def fbm4(x, y, z, w, seed, basis="perlin", octaves=5, lacunarity=2.0, gain=0.5, fractal="fbm"):
    """Fractal sum of 4D noise, as `fbm2` with two more coordinates (a circle in z, w loops)."""
    return _fractal(_fractal4_kernel, (x, y, z, w), seed, basis, octaves, lacunarity, gain, fractal)


def value2(x, y, seed):
    """Value noise in [-1, 1]: random lattice values blended with the quintic fade."""
    return fbm2(x, y, seed, "value", octaves=1)


def value3(x, y, z, seed):
    """3D value noise in [-1, 1]."""
    return fbm3(x, y, z, seed, "value", octaves=1)


def value4(x, y, z, w, seed):
    """4D value noise in [-1, 1]."""
    return fbm4(x, y, z, w, seed, "value", octaves=1)


def perlin2(x, y, seed):
    """Perlin gradient noise in [-1, 1], zero on the integer lattice.

    >>> float(perlin2(3.0, 5.0, seed=0)) == 0
    True
    """
    return fbm2(x, y, seed, "perlin", octaves=1)


def perlin3(x, y, z, seed):
    """3D Perlin gradient noise in [-1, 1]."""
    return fbm3(x, y, z, seed, "perlin", octaves=1)


def perlin4(x, y, z, w, seed):
    """4D Perlin gradient noise in [-1, 1] (32 edge gradients)."""
    return fbm4(x, y, z, w, seed, "perlin", octaves=1)


def simplex2(x, y, seed):
    """Simplex noise in [-1, 1] on the skewed triangular lattice."""
    return fbm2(x, y, seed, "simplex", octaves=1)


def simplex3(x, y, z, seed):
    """3D simplex noise in [-1, 1] on the skewed tetrahedral lattice."""
    return fbm3(x, y, z, seed, "simplex", octaves=1)


def simplex4(x, y, z, w, seed):
    """4D simplex noise in [-1, 1] on the skewed 4-simplex lattice."""
    return fbm4(x, y, z, w, seed, "simplex", octaves=1)


def worley2(x, y, seed, mode="f1", distance="euclidean", jitter=1.0, period=None):
    """Worley (cellular) noise: the distance from (x, y) to the nearest feature point (F1), the
    second nearest (F2), or F2 - F1; one random point per unit cell, moved up to `jitter` / 2 from
    the cell's centre. Distances are in cell units: euclidean F1 lies in 0..~1.2 (mean ~0.43 with
    jitter 1), F2 in 0..~1.4, F2 - F1 >= 0. The 3 x 3 cells around the point are searched, which
    is exact for F1 and very nearly so for F2. `period` wraps the cells as in `fbm2`.

    >>> bool(worley2(0.5, 0.5, seed=1, jitter=0.0) == 0.0)
    True
    """
    return _worley((x, y), seed, mode, distance, jitter, period)


def worley3(x, y, z, seed, mode="f1", distance="euclidean", jitter=1.0, period=None):
    """3D Worley noise (27 cells searched); `period` wraps x and y only."""
    return _worley((x, y, z), seed, mode, distance, jitter, period)


def _worley(coordinates, seed, mode, distance, jitter, period):
    mode_index = _choice("Worley mode", mode, WORLEY_MODES)
    metric = _choice("distance", distance, DISTANCES)
    if not 0.0 <= float(jitter) <= 1.0:
        raise error(f"jitter must be from 0 to 1, got {jitter!r}", stage=RUNTIME,
                    hint="0 puts every point at its cell's centre, 1 anywhere in the cell")
    periods = _whole_period(period) if period is not None else (0.0, 0.0)
    arrays, shape = _as_float32(*coordinates)
    third = len(arrays) == 3
    z = arrays[2] if third else arrays[0]              # unread in 2D
    out = np.empty(arrays[0].size, dtype=np.float32)
    cell_seed = U32(_octave_seed(seed32(seed), 0, 10 + len(arrays)))
    _run(_worley_kernel, out.size, arrays[0], arrays[1], z, third, cell_seed, F32(jitter), metric,
         mode_index, F32(periods[0]), F32(periods[1]), out)
    return out.reshape(shape)


CURL_STEP = F32(2.0 ** -7)      # central-difference step in noise units; exact in float32


def curl2(x, y, seed, z=None, **fractal_options):
    """The curl (d psi/dy, -d psi/dx) of the potential psi = fbm(x, y[, z]): a divergence-free 2D
    flow, by central differences with step CURL_STEP. Returns (vx, vy).

    Each component is a difference of two potentials divided by the step actually taken (the
    difference of the two float32 coordinates), so moving far from the origin adds no bias.
    """
    x, y = np.asarray(x, np.float32), np.asarray(y, np.float32)

    def potential(px, py):
        if z is None:
            return fbm2(px, py, seed, **fractal_options)
        return fbm3(px, py, z, seed, **fractal_options)

    up, down = y + CURL_STEP, y - CURL_STEP
    right, left = x + CURL_STEP, x - CURL_STEP
    vx = (potential(x, up) - potential(x, down)) / (up - down)
    vy = (potential(left, y) - potential(right, y)) / (right - left)
    return vx.astype(np.float32), vy.astype(np.float32)


def loop2(x, y, phase, seed, radius=1.0, **fractal_options):
    """2D noise that changes with `phase` and comes back to itself: fbm4(x, y, r cos a, r sin a)
    with a = 2 pi phase. Phases that differ by a whole number give the same bytes when they reduce
    to the same fraction (phase is taken modulo 1 in float64 first; phase 0 and 1 both give a = 0).
    """
    turn = math.fmod(float(phase), 1.0) % 1.0
    angle = 2.0 * math.pi * turn
    z = F32(float(radius) * math.cos(angle))
    w = F32(float(radius) * math.sin(angle))
    return fbm4(x, y, z, w, seed, **fractal_options)


def _as_pixels(*coordinates):
    arrays = [np.asarray(c) for c in coordinates]
    for name, a in zip(("px", "py"), arrays):
        if a.dtype.kind not in "iu":
            raise error(f"white noise needs integer pixel coordinates, got {name} of dtype {a.dtype}",
                        stage=RUNTIME, hint="pass pixel indices, e.g. from np.indices")
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    return [_flat(a, shape, np.int64) for a in arrays], shape


def white_uniform(px, py, seed):
    """Uniform white noise in [-1, 1): a pure function of the integer pixel (px, py) and the seed.

    >>> a = white_uniform(np.arange(4)[:, None], np.arange(6), seed=3)
    >>> bool(np.array_equal(a[1:3, 2:], white_uniform(np.arange(1, 3)[:, None], np.arange(2, 6), 3)))
    True
    """
    (xs, ys), shape = _as_pixels(px, py)
    out = np.empty(xs.size, dtype=np.float32)
    _run(_white_uniform_kernel, out.size, xs, ys, U32(seed32(seed)), out)
    return out.reshape(shape)


def white_gaussian(px, py, seed):
    """Standard normal white noise (Box-Muller): a pure function of the pixel (px, py) and the seed."""
    (xs, ys), shape = _as_pixels(px, py)
    out = np.empty(xs.size, dtype=np.float32)
    _run(_white_gaussian_kernel, out.size, xs, ys, U32(seed32(seed)), out)
    return out.reshape(shape)
