"""Training data as uint8 arrays: the built-in data sets (made on this machine, nothing is
downloaded) and folders of images.

Built-ins:
  glyphs  letters and digits drawn with Pillow from the fonts installed here, each slightly turned,
          sheared, scaled and moved; gray, white on black; labelled by character.
  shapes  one coloured shape (circle, square, triangle, star, heart) on a plain or gradient
          background, drawn by artlang itself from `shapes.art`; labelled by shape.

Both are deterministic: the same seed, size and count give the same bytes.

A folder's images are turned upright by their EXIF orientation, and their transparent parts are
composited over BACKGROUND (black, as a VAE's `encode` composites a sketch's pictures).

>>> data = load_data("glyphs", 32, count=4, seed=1)
>>> data.images.shape, data.images.dtype, len(data.classes)
((4, 32, 32, 1), dtype('uint8'), 62)
"""
from __future__ import annotations

import colorsys
import hashlib
import json
import string
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from artlang.core.errors import USAGE, did_you_mean, error
from artlang.runtime.render import Renderer, load_sketch

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
FONT_FOLDERS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts",
                "/Library/Fonts", "/System/Library/Fonts", "C:/Windows/Fonts")
GLYPH_CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits
SHAPE_KINDS = ("circle", "square", "triangle", "star", "heart")
SHAPES_SKETCH = Path(__file__).with_name("shapes.art")
DEFAULT_COUNT = 20000
BACKGROUND = (0, 0, 0)                  # under the transparent parts of a folder's images


@dataclass(frozen=True)
class DataSet:
    """Images (N, size, size, channels) uint8, and when known a class index per image."""
    name: str
    images: np.ndarray
    labels: np.ndarray | None = None
    classes: tuple[str, ...] = ()
    description: str = ""

    @property
    def channels(self) -> int:
        return self.images.shape[3]

    def split(self, held_out: float, seed: int = 0) -> tuple[DataSet, DataSet]:
        """(training, held-out): a seeded shuffle cut so `held_out` of the images are kept aside.

        >>> training, held = load_data("glyphs", 32, count=10).split(0.2)
        >>> len(training.images), len(held.images)
        (8, 2)
        """
        order = np.random.default_rng(seed).permutation(len(self.images))
        cut = len(order) - held_out_count(len(order), held_out)
        return self._subset(order[:cut]), self._subset(order[cut:])

    def _subset(self, indices: np.ndarray) -> DataSet:
        labels = None if self.labels is None else self.labels[indices]
        return replace(self, images=self.images[indices], labels=labels)


def held_out_count(total: int, held_out: float) -> int:
    """How many of `total` images `DataSet.split` keeps aside: the share, rounded, and at least one.

    >>> held_out_count(20000, 0.1), held_out_count(3, 0.1)
    (2000, 1)
    """
    return max(1, round(total * held_out))


def find_fonts() -> list[Path]:
    """TrueType and OpenType fonts in the usual font folders, sorted (so data sets are
    reproducible on one machine)."""
    fonts = set()
    for folder in FONT_FOLDERS:
        root = Path(folder).expanduser()
        if root.is_dir():
            fonts.update(p for p in root.rglob("*") if p.suffix.lower() in (".ttf", ".otf"))
    return sorted(fonts)


def _draws_characters(font: ImageFont.FreeTypeFont) -> bool:
    """Whether the font has real outlines for letters and digits (not a symbol or emoji font)."""
    try:
        boxes = [font.getbbox(c) for c in "Ag5"]
    except OSError:
        return False
    return all(b[2] > b[0] and b[3] > b[1] for b in boxes) and len({tuple(b) for b in boxes}) == 3


def _glyph_fonts(render_size: int) -> list[ImageFont.FreeTypeFont]:
    fonts = []
    for path in find_fonts():
        try:
            font = ImageFont.truetype(str(path), render_size)
        except OSError:
            continue
        if _draws_characters(font):
            fonts.append(font)
    if not fonts:
        raise error("the glyphs data set needs fonts, and none were found in "
                    + ", ".join(FONT_FOLDERS), stage=USAGE,
                    hint="install a font package (fonts-dejavu-core on Debian), or train on a folder")
    return fonts


def glyphs(size: int, count: int = DEFAULT_COUNT, seed: int = 0) -> DataSet:
    """Letters and digits in the installed fonts, white on black, centred with a little random
    rotation (up to 8 degrees), shear, scale and shift. Drawn 4x larger and shrunk with a box filter,
    so edges are anti-aliased."""
    big = size * 4
    fonts = _glyph_fonts(int(big * 0.7))
    rng = np.random.default_rng([seed, 1])
    images = np.empty((count, size, size, 1), np.uint8)
    labels = rng.integers(0, len(GLYPH_CHARACTERS), count)
    font_picks = rng.integers(0, len(fonts), count)
    jitter = rng.uniform(-1, 1, (count, 5))
    for index in range(count):
        character, font = GLYPH_CHARACTERS[labels[index]], fonts[font_picks[index]]
        images[index, :, :, 0] = _draw_glyph(character, font, big, size, jitter[index])
    return DataSet("glyphs", images, labels, tuple(GLYPH_CHARACTERS),
                   f"{count} letters and digits drawn from {len(fonts)} installed fonts")


def _draw_glyph(character: str, font, big: int, size: int, jitter: np.ndarray) -> np.ndarray:
    canvas = Image.new("L", (big, big), 0)
    left, top, right, bottom = font.getbbox(character)
    origin = ((big - (right - left)) / 2 - left, (big - (bottom - top)) / 2 - top)
    ImageDraw.Draw(canvas).text(origin, character, fill=255, font=font)
    turn, shear, scale = np.radians(8) * jitter[0], 0.15 * jitter[1], 1 + 0.1 * jitter[2]
    shift = big * 0.05 * jitter[3:5]
    # the inverse map from output pixels to input pixels, about the centre
    cos, sin = np.cos(turn) / scale, np.sin(turn) / scale
    a, b, d, e = cos, sin + shear * cos, -sin, cos - shear * sin
    centre = big / 2
    c = centre - a * (centre + shift[0]) - b * (centre + shift[1])
    f = centre - d * (centre + shift[0]) - e * (centre + shift[1])
    moved = canvas.transform((big, big), Image.AFFINE, (a, b, c, d, e, f), Image.BILINEAR)
    return np.asarray(moved.resize((size, size), Image.BOX))


def _random_colour(rng: np.random.Generator, saturation, value) -> tuple[np.ndarray, str]:
    rgb = np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*saturation), rng.uniform(*value)))
    return rgb, "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def shape_params(rng: np.random.Generator) -> dict:
    """One random draw of `shapes.art`'s params: a shape and colours that stand apart from the
    background (their lightness differs by at least 0.3)."""
    kind = int(rng.integers(0, len(SHAPE_KINDS)))
    ink, ink_hex = _random_colour(rng, (0.5, 1.0), (0.6, 1.0))
    dark_ground = _luma(ink) > 0.45
    value = (0.05, 0.35) if dark_ground else (0.85, 1.0)
    while True:
        top, top_hex = _random_colour(rng, (0.0, 0.6), value)
        bottom, bottom_hex = (top, top_hex) if rng.uniform() < 0.4 else \
            _random_colour(rng, (0.0, 0.6), value)
        if min(abs(_luma(ink) - _luma(top)), abs(_luma(ink) - _luma(bottom))) >= 0.3:
            break
    turn = 0.5 if SHAPE_KINDS[kind] == "heart" else np.pi      # a heart upside down reads as a blob
    return {"kind": kind, "x": rng.uniform(-0.2, 0.2), "y": rng.uniform(-0.2, 0.2),
            "size": rng.uniform(0.9, 1.4), "angle": rng.uniform(-turn, turn),
            "ink": ink_hex, "top": top_hex, "bottom": bottom_hex,
            "slope": rng.uniform(-np.pi, np.pi)}


def shapes(size: int, count: int = DEFAULT_COUNT, seed: int = 0) -> DataSet:
    """Coloured shapes drawn by artlang: `shapes.art` rendered once per image with params from
    `shape_params` (about 2 ms an image at 32 x 32)."""
    program = load_sketch(SHAPES_SKETCH)
    rng = np.random.default_rng([seed, 2])
    images = np.empty((count, size, size, 3), np.uint8)
    labels = np.empty(count, np.int64)
    for index in range(count):
        params = shape_params(rng)
        labels[index] = params["kind"]
        frame = Renderer(program, size=(size, size), seed=index, params=params).render(0)
        images[index] = np.round(np.clip(frame[:, :, :3], 0, 1) * 255)
    return DataSet("shapes", images, labels, SHAPE_KINDS,
                   f"{count} shapes ({', '.join(SHAPE_KINDS)}) drawn by artlang's shapes.art")


BUILT_IN = {"glyphs": glyphs, "shapes": shapes}


def image_paths(folder: Path) -> list[Path]:
    """The PNG, JPEG and WebP files under `folder` (recursively), sorted; an error if none."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not paths:
        raise error(f"{folder} has no images to train on", stage=USAGE,
                    hint=f"put {', '.join(IMAGE_SUFFIXES)} files in it (subfolders are searched too)")
    return paths


def data_identity(data: str) -> dict:
    """What names a data set for a resumed run: a built-in's name; for a folder its resolved path,
    its image count and a fingerprint of its sorted (relative path, size, mtime) list, so that
    `photos` and `photos/` are the same and an added, removed or edited image is noticed."""
    folder = Path(data)
    if not folder.is_dir():
        _check_built_in(data)
        return {"data": str(data)}
    paths = image_paths(folder)
    listing = [(p.relative_to(folder).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
               for p in paths]
    return {"data": str(folder.resolve()), "images": len(paths),
            "fingerprint": hashlib.sha256(json.dumps(listing).encode()).hexdigest()}


def _read_image(path: Path, size: int, channels: int) -> np.ndarray:
    """One image upright (EXIF), over BACKGROUND, centre-cropped and shrunk to `size`."""
    try:
        with Image.open(path) as image:
            upright = ImageOps.exif_transpose(image).convert("RGBA")
            flat = Image.new("RGBA", upright.size, (*BACKGROUND, 255))
            flat.alpha_composite(upright)
            opaque = flat.convert("L" if channels == 1 else "RGB")
            fitted = ImageOps.fit(opaque, (size, size), Image.LANCZOS)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as problem:
        raise error(f"cannot read the image {path}: {problem}", stage=USAGE,
                    hint="remove or repair the file") from None
    return np.asarray(fitted).reshape(size, size, channels)


def image_folder(folder: Path, size: int, channels: int = 3) -> DataSet:
    """Every PNG, JPEG and WebP image under `folder` (recursively), turned upright by its EXIF
    orientation, composited over BACKGROUND, centre-cropped to a square and shrunk with Lanczos
    to `size`. When the images sit in two or more subfolders, each subfolder is a class (the
    metrics train their feature network on them)."""
    folder = Path(folder)
    paths = image_paths(folder)
    images = np.empty((len(paths), size, size, channels), np.uint8)
    for index, path in enumerate(paths):
        images[index] = _read_image(path, size, channels)
    groups = [p.relative_to(folder).parts[0] if len(p.relative_to(folder).parts) > 1 else ""
              for p in paths]
    classes = tuple(sorted(set(groups)))
    labels = np.array([classes.index(g) for g in groups]) if len(classes) > 1 else None
    name = folder.resolve().name or str(folder.resolve())
    return DataSet(name, images, labels, classes if labels is not None else (),
                   f"{len(paths)} images from the folder {name}")


def load_data(data: str, size: int, *, count: int | None = None, seed: int = 0,
              channels: int = 3) -> DataSet:
    """A built-in data set by name, or the images in a folder (`channels` applies to folders;
    glyphs are gray and shapes colour)."""
    if Path(data).is_dir():
        return image_folder(Path(data), size, channels)
    _check_built_in(data)
    if count is not None and count < 1:
        raise error(f"a data set of {count} images has nothing to train on", stage=USAGE,
                    hint=f"ask for 1 or more (the default is {DEFAULT_COUNT})")
    return BUILT_IN[data](size, DEFAULT_COUNT if count is None else count, seed)


def _check_built_in(data: str) -> None:
    """A usage error unless `data` names a built-in data set."""
    if data in BUILT_IN:
        return
    if Path(data).exists():
        raise error(f"{data} is a file; training needs a folder of images or a built-in data set",
                    stage=USAGE)
    raise error(f"there is no folder or built-in data set called {data!r}", stage=USAGE,
                hint=did_you_mean(data, BUILT_IN) or f"the built-in data sets: {', '.join(BUILT_IN)}")
