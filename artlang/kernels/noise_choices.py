"""The choices of the noise kernels' text options, in the order that numbers their branches in
`kernels/noise.py`: append, never reorder. A module of its own, without numba, so the built-in
table can offer them as choices without loading the kernels."""

BASES = ("value", "perlin", "simplex")
FRACTALS = ("fbm", "turbulence", "ridged")
WORLEY_MODES = ("f1", "f2", "f2-f1")
DISTANCES = ("euclidean", "manhattan", "chebyshev")
