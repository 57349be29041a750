"""Writers: float RGBA canvases to files, always through a temporary name renamed into place."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np


def to_8bit(image: np.ndarray) -> np.ndarray:
    """Float RGBA in 0..1 (anything else clipped, NaN as 0) to uint8, rounding to nearest."""
    clean = np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)
    return np.floor(np.clip(clean, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def _file_mode() -> int:
    """The mode a newly created file gets under the current umask (mkstemp's files are 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: Path, write) -> None:
    """Call `write(temporary_path)`, then rename the result over `path` (never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.chmod(temporary, _file_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def png_bytes_image(image: np.ndarray):
    """The Pillow image for a float RGBA canvas: RGB when fully opaque, else RGBA."""
    from PIL import Image

    pixels = to_8bit(image)
    if (pixels[..., 3] == 255).all():
        return Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
    return Image.fromarray(np.ascontiguousarray(pixels), "RGBA")


def write_png(image: np.ndarray, path: Path, text: dict[str, str] | None = None) -> None:
    """Write an 8-bit PNG atomically, with `text` as its tEXt chunks (no timestamps: same bytes each run)."""
    from PIL import PngImagePlugin

    picture = png_bytes_image(image)
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_itxt(key, value)
    atomic_write(path, lambda temporary: picture.save(temporary, format="PNG", pnginfo=info,
                                                      compress_level=6))


WRITERS = {".png": write_png}


def write_image(image: np.ndarray, path: Path, text: dict[str, str] | None = None) -> None:
    """Write with the writer for the file's extension."""
    WRITERS[Path(path).suffix.lower()](image, path, text)
