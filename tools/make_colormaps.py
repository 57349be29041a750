"""Bake the colormap lookup tables into artlang/data/colormaps.npz (a dev-time generator).

artlang does not depend on matplotlib; only this script does, and only when the tables need to be
made again. Run it with matplotlib installed somewhere throwaway:

    python3 -m venv /tmp/mplenv && /tmp/mplenv/bin/pip install matplotlib
    /tmp/mplenv/bin/python tools/make_colormaps.py

The names come from `artlang.kernels.colour.COLORMAP_NAMES` (the one list; this script loads that file by
path so it does not need artlang's own dependencies). Each map is written as 256 float32 sRGB
entries, RGB in 0..1 (alpha is always 1 and is added at load time). Maps that matplotlib keeps at
another length (twilight has 510 entries) are resampled linearly to 256. The file is written with
fixed timestamps, so running the script twice gives the same bytes.

Licences of the data: viridis, magma, inferno, plasma (Stéfan van der Walt, Nathaniel Smith,
Eric Firing) and cividis (Jamie Nuñez, Christopher Anderton, Ryan Renslow) are CC0 (public domain);
turbo (Anton Mikhailov, Google LLC) is Apache-2.0; twilight (Bastian Bechtold) comes from
Matplotlib under the Matplotlib licence (BSD-style). The same notice is stored in the file under
the key "NOTICE".
"""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
import matplotlib

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "artlang" / "kernels" / "data" / "colormaps.npz"
ENTRIES = 256

NOTICE = (
    "artlang colormap lookup tables, 256 float32 sRGB RGB entries each, baked from matplotlib "
    f"{matplotlib.__version__} by tools/make_colormaps.py. "
    "viridis, magma, inferno, plasma (van der Walt, Smith, Firing) and cividis (Nunez, Anderton, "
    "Renslow): CC0. turbo (Anton Mikhailov, Google LLC): Apache-2.0. "
    "twilight (Bastian Bechtold): Matplotlib licence (BSD-style)."
)


def colormap_names() -> tuple[str, ...]:
    """COLORMAP_NAMES from artlang/kernels/colour.py (which imports only numpy and the language's
    literals)."""
    sys.path.insert(0, str(ROOT))
    from artlang.kernels.colour import COLORMAP_NAMES
    return COLORMAP_NAMES


def lookup_table(name: str) -> np.ndarray:
    """matplotlib's table for `name` as (256, 3) float32, resampled linearly if it has another length."""
    source = np.asarray(matplotlib.colormaps[name].colors, dtype=np.float64)[:, :3]
    if len(source) != ENTRIES:
        positions = np.linspace(0, len(source) - 1, ENTRIES)
        source = np.stack([np.interp(positions, np.arange(len(source)), source[:, channel])
                           for channel in range(3)], axis=-1)
    table = source.astype(np.float32)
    assert table.shape == (ENTRIES, 3) and table.min() >= 0 and table.max() <= 1, name
    return table


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like np.savez_compressed, but with fixed timestamps so the bytes depend only on the data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for key, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def main() -> None:
    arrays: dict[str, np.ndarray] = {"NOTICE": np.array(NOTICE)}
    for name in colormap_names():
        arrays[name] = lookup_table(name)
    write_npz(OUTPUT, arrays)
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size} bytes): "
          f"{', '.join(name for name in arrays if name != 'NOTICE')}")


if __name__ == "__main__":
    main()
