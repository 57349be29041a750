"""Where a picture came from: everything needed to render it again, byte for byte.

Every PNG artlang writes carries, in its text chunks, the source of the sketch and of every module
it imports (the stdlib ones too), a hash of every other file it read (images), the seed, the params,
the canvas size, the frame and the artlang version. Other formats carry the same in a sidecar JSON.
`Recipe` is that record; `Recipe.materialise` lays its sources out in a fresh folder (with the
images copied from where they are, after checking their hashes) so the sketch can be loaded again:
by `artlang reproduce`, and by export workers on other machines.

>>> from artlang.runtime.render import Renderer, load_source
>>> recipe = Recipe.of(Renderer(load_source("canvas 4 x 4\\noutput 0.5")), frame=0)
>>> Recipe.from_text(recipe.to_text()) == recipe
True
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from artlang import __version__
from artlang.core.errors import USAGE, error
from artlang.language.project import stdlib_dir
from artlang.output.formats import FORMATS, Format, sidecar_path
from artlang.output.writers import png_bit_depth, png_text, write_png
from artlang.runtime.render import Renderer, load_sketch, param_as_text

STDLIB_PREFIX = "<stdlib>/"


def file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Recipe:
    """One rendered picture's inputs (see the module docstring)."""
    main: str                                   # the sketch, relative to the project folder
    sources: dict = field(default_factory=dict)  # relative path (or <stdlib>/name) -> text
    inputs: dict = field(default_factory=dict)   # relative path of another file read -> hash
    seed: int = 0
    params: dict = field(default_factory=dict)   # name -> value as given (text or number)
    size: tuple = (0, 0)
    frame: int = 0
    version: str = __version__

    @classmethod
    def of(cls, renderer, frame: int = 0) -> "Recipe":
        """The recipe of a frame drawn by `renderer` (a `render.Renderer`)."""
        program = renderer.program
        files = program.files
        root = Path(files.root)
        stdlib = stdlib_dir().resolve()
        sources, inputs = {}, {}

        def name_of(resolved: Path) -> str | None:
            if resolved.is_relative_to(stdlib):
                return STDLIB_PREFIX + resolved.relative_to(stdlib).as_posix()
            if resolved.is_relative_to(root):
                return resolved.relative_to(root).as_posix()
            return None

        for path, text in files.texts.items():           # the exact text that was checked
            if (name := name_of(Path(path).resolve())) is not None:
                sources[name] = text
        for path in sorted(files.touched):
            resolved = Path(path).resolve()
            name = name_of(resolved)
            if name is None or name in sources or resolved.suffix == ".art" or not resolved.is_file():
                continue
            inputs[name] = file_hash(resolved.read_bytes())
        main_name = name_of(Path(files.main).resolve()) if files.main else "sketch.art"
        params = {name: param_as_text(program.params[name].kind, value)
                  for name, value in renderer.param_values.items()}
        return cls(main_name, sources, inputs, renderer.seed, params,
                   (renderer.canvas.width, renderer.canvas.height), frame)

    # text form, for PNG chunks and sidecars ─────────────────────────────────────────────────────
    def to_dict(self) -> dict:
        return {"main": self.main, "sources": self.sources, "inputs": self.inputs, "seed": self.seed,
                "params": self.params, "size": list(self.size), "frame": self.frame,
                "version": self.version}

    def to_text(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_text(cls, text: str) -> "Recipe":
        """The recipe in `text`, checked against `RECIPE_FIELDS` before any of it is used; a
        `DamagedRecipe` says what is wrong (a recipe is data from whoever sent the picture)."""
        data = _parsed(text)
        if not isinstance(data, dict):
            raise DamagedRecipe("it is not a JSON object")
        for key in data.keys() - RECIPE_FIELDS.keys():
            raise DamagedRecipe(f"unknown field `{key[:40]}`")
        for key, (valid, meaning) in RECIPE_FIELDS.items():
            if key not in data:
                raise DamagedRecipe(f"the field `{key}` is missing")
            if not valid(data[key]):
                raise DamagedRecipe(f"`{key}` must be {meaning}")
        for name in [data["main"], *data["sources"], *data["inputs"]]:
            if (problem := name_problem(name)) is not None:
                raise DamagedRecipe(f"it names {problem}")
        files = [*data["sources"], *data["inputs"]]
        if (twice := next((n for n in data["inputs"] if n in data["sources"]), None)) is not None:
            raise DamagedRecipe(f"it names `{twice[:200]}` both as a source and as an input")
        folders = {"/".join(n.split("/")[:depth]) for n in files for depth in range(1, n.count("/") + 1)}
        if (both := next((n for n in files if n in folders), None)) is not None:
            raise DamagedRecipe(f"it names `{both[:200]}` both as a file and as a folder")
        if data["main"] not in data["sources"]:
            raise DamagedRecipe(f"the sketch `{data['main']}` is not among its sources")
        return cls(data["main"], data["sources"], data["inputs"], data["seed"], data["params"],
                   tuple(data["size"]), data["frame"], data["version"])

    def png_text(self) -> dict[str, str]:
        """The PNG text chunks: the recipe, plus plain ones a person or another tool can read."""
        return {"Software": f"artlang {self.version}", "artlang:seed": str(self.seed),
                "artlang:params": json.dumps(self.params, sort_keys=True),
                "artlang:frame": str(self.frame), "artlang:recipe": self.to_text()}

    def digest(self) -> str:
        """A hash of everything that decides the picture (for resuming exports)."""
        return file_hash(self.to_text().encode())

    # laying the sources out again ───────────────────────────────────────────────────────────────
    def materialise(self, folder: Path, images_from: list[Path] = (),
                    images: dict[str, bytes] | None = None) -> Path:
        """Write the sources into `folder`, an empty folder artlang made (the project root of the
        copy), with every other input taken from `images` (name -> bytes) or read from the first
        of `images_from` that has it inside it, each checked against its hash. Returns the path of
        the main sketch. A stdlib module or file is compared with this artlang's own, read from the
        installed package only, and never written (a different one is an error naming the version
        that made it). Every path is checked after it is resolved: nothing is read from outside
        its folder, and nothing is written outside `folder`."""
        folder = Path(folder).resolve()
        for name, text in self.sources.items():
            if name.startswith(STDLIB_PREFIX):
                _same_as_installed(name, text.encode("utf-8"), self.version)
            else:
                _write_inside(folder, name, text.encode("utf-8"))
        for name, expected in self.inputs.items():
            if name.startswith(STDLIB_PREFIX):
                installed = _installed_stdlib_file(name, self.version)
                if file_hash(installed.read_bytes()) != expected:
                    _refuse_other_stdlib(name, self.version)
                continue
            data = (images or {}).get(name)
            for place in images_from:
                if data is None:
                    data = _read_inside(Path(place), name)
            if data is None:
                raise error(f"the sketch reads `{name}`, which is not stored in the picture",
                            stage=USAGE, hint="pass --root DIR, the folder where the sketch and "
                                              f"`{name}` are")
            if file_hash(data) != expected:
                raise error(f"`{name}` is not the file the picture was made with (its contents "
                            "changed)", stage=USAGE, hint="restore that version of the file")
            _write_inside(folder, name, data)
        return folder / self.main


class DamagedRecipe(ValueError):
    """A recipe that does not follow `RECIPE_FIELDS`; the message says what is wrong."""


def name_problem(name) -> str | None:
    """What is wrong with a file name in a recipe, or None for a relative POSIX path of plain
    parts (what `Recipe.of` writes), optionally behind `<stdlib>/`.

    >>> name_problem("images/photo.png") is None, name_problem("<stdlib>/shapes.art") is None
    (True, True)
    >>> name_problem("<stdlib>/../../etc/passwd")
    'a file outside its project: `<stdlib>/../../etc/passwd`'
    """
    if not isinstance(name, str):
        return "a file name that is not text"
    plain = name[len(STDLIB_PREFIX):] if name.startswith(STDLIB_PREFIX) else name
    parts = plain.split("/")
    if "\0" in name:
        return f"a file name holding a NUL character: {name[:80]!r}"
    if plain.startswith("/") or ".." in parts:
        return f"a file outside its project: `{name[:200]}`"
    if not 0 < len(name) <= 4096 or "\\" in plain or "" in parts or "." in parts:
        return f"`{name[:200]}`, which is not a plain relative file name"
    return None


def _is_text(value) -> bool:
    return isinstance(value, str)


def _whole(value, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _mapping(value, key_valid, value_valid) -> bool:
    return isinstance(value, dict) and all(key_valid(k) and value_valid(v) for k, v in value.items())


def _param_value(value) -> bool:
    return isinstance(value, str) or (type(value) in (int, float) and math.isfinite(value))


# The recipe's fields: key -> (is it valid, what it must be). `Recipe.from_text` checks each.
RECIPE_FIELDS = {
    "main": (lambda v: isinstance(v, str) and not v.startswith(STDLIB_PREFIX),
             "the sketch's file name"),
    "sources": (lambda v: _mapping(v, _is_text, _is_text),
                "an object of file names (or `<stdlib>/NAME`) to source texts"),
    "inputs": (lambda v: _mapping(v, _is_text, lambda h: isinstance(h, str)
                                  and re.fullmatch(r"[0-9a-f]{32}", h) is not None),
               "an object of file names to 32-digit hashes"),
    "seed": (lambda v: type(v) is int, "a whole number"),
    "params": (lambda v: _mapping(v, lambda k: isinstance(k, str), _param_value),
               "an object of param names to numbers or texts"),
    "size": (lambda v: isinstance(v, list) and len(v) == 2
             and all(_whole(side, 1, 2 ** 31 - 1) for side in v), "[width, height] in pixels"),
    "frame": (lambda v: _whole(v, 0, 2 ** 53), "a frame number, 0 or more"),
    "version": (lambda v: isinstance(v, str) and len(v) <= 100, "an artlang version"),
}


def _installed_stdlib_file(name: str, version: str) -> Path:
    """The installed package's file for `<stdlib>/NAME`, resolved and checked to be inside it."""
    stdlib = stdlib_dir().resolve()
    installed = (stdlib / name[len(STDLIB_PREFIX):]).resolve()
    if not installed.is_relative_to(stdlib) or not installed.is_file():
        _refuse_other_stdlib(name, version)
    return installed


def _same_as_installed(name: str, data: bytes, version: str) -> None:
    if _installed_stdlib_file(name, version).read_bytes() != data:
        _refuse_other_stdlib(name, version)


def _refuse_other_stdlib(name: str, version: str):
    raise error(f"this picture was made with a different stdlib module "
                f"`{name[len(STDLIB_PREFIX):]}` (artlang {version}; this is artlang "
                f"{__version__})", stage=USAGE, hint=f"install artlang {version} to reproduce it")


def _read_inside(place: Path, name: str) -> bytes | None:
    """The bytes of `place/name`, None if there is no such file; refused if, symlinks followed,
    it lies outside `place`."""
    place = place.resolve()
    source = (place / name).resolve()
    if not source.is_relative_to(place):
        raise error(f"`{name}` beside the picture leads outside its folder {place}", stage=USAGE,
                    hint="a symlink there points elsewhere; copy the file into the folder itself")
    return source.read_bytes() if source.is_file() else None


def _write_inside(folder: Path, name: str, data: bytes) -> None:
    """Write a new file `folder/name`: its folder checked after resolution, the file itself
    created, never opened through an existing file or symlink."""
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.parent.resolve().is_relative_to(folder):
        raise error(f"the recipe names a file outside its project: `{name}`", stage=USAGE,
                    hint="this picture's recipe was altered; it cannot be reproduced safely")
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def picture_text(renderer, frame: int = 0) -> dict[str, str]:
    """What a picture's text chunks (or sidecar) record of a frame drawn by `renderer`: the
    sources, seed, params, size and frame, so `artlang reproduce` can draw it again."""
    return Recipe.of(renderer, frame).png_text()


def _format_of_picture(path: Path) -> Format | None:
    """The format a picture was written in, by its extension (None: not one of ours)."""
    return next((f for f in FORMATS.values() if path.suffix.lower() in f.extensions), None)


def _from_chunks(path: Path) -> str | None:
    return png_text(path, "artlang:recipe")


def _from_description(path: Path) -> str | None:
    import tifffile                                  # heavy, and only for TIFF pictures
    with tifffile.TiffFile(path) as tiff:
        return _held_in(tiff.pages[0].description or "{}", "artlang:recipe")


def _from_sidecar(path: Path) -> str | None:
    sidecar = sidecar_path(path)
    return _held_in(sidecar.read_text(encoding="utf-8"), "recipe") if sidecar.is_file() else None


# How the recipe is read back, by where the format keeps it (`Format.recipe`).
RECIPE_READERS = {"chunks": _from_chunks, "description": _from_description, "sidecar": _from_sidecar}


def read_recipe(path: Path) -> Recipe:
    """The recipe stored in an artlang picture, where its format keeps it: a PNG's text chunk, a
    TIFF's description, or the `.json` sidecar of another format."""
    path = Path(path)
    written = _format_of_picture(path)
    try:
        text = RECIPE_READERS[written.recipe if written else "sidecar"](path)
        if text is None:
            raise error(f"{path} carries no artlang recipe", stage=USAGE,
                        hint="only pictures written by artlang (PNG text chunks, or a .json "
                             "sidecar beside other formats) can be reproduced")
        return Recipe.from_text(text)
    except DamagedRecipe as failure:
        raise error(f"the recipe in {path.name} is damaged: {failure}", stage=USAGE,
                    hint="this picture's recipe was altered or cut short; it cannot be "
                         "reproduced") from None
    except (OSError, ValueError) as failure:
        raise error(f"cannot read {path}: {failure}", stage=USAGE) from None


def _parsed(text: str):
    """JSON from a file someone sent: a `DamagedRecipe` for anything that is not JSON, nested
    too deep included."""
    try:
        return json.loads(text)
    except RecursionError:
        raise DamagedRecipe("it nests too deeply") from None
    except ValueError as failure:
        raise DamagedRecipe(f"it is not JSON ({failure})") from None


def _held_in(text: str, key: str) -> str | None:
    """The recipe held under `key` in a JSON object (a TIFF description, a sidecar), as text."""
    holder = _parsed(text)
    if not isinstance(holder, dict) or key not in holder:
        return None
    return holder[key] if isinstance(holder[key], str) else json.dumps(holder[key])


def _pixels(picture: Path, written: Format) -> np.ndarray:
    """The 8-bit RGBA pixels of a picture in an exact format."""
    if written.recipe == "description":
        import tifffile                              # heavy, and only for TIFF pictures
        return tifffile.imread(picture)
    with Image.open(picture) as original:
        return np.asarray(original.convert("RGBA"))


@dataclass
class Reproduction:
    recipe: Recipe
    compared: bool                     # False for formats whose pixels are not exact (GIF, MP4...)
    pixels_equal: bool
    bytes_equal: bool
    differing: int                     # pixels that differ


def reproduce(picture: Path, output: Path | None = None, root: Path | None = None,
              trust: bool = False) -> Reproduction:
    """Render `picture` again from its recipe and compare (see `artlang reproduce`)."""
    picture = Path(picture)
    recipe = read_recipe(picture)
    places = [Path(root)] if root else [picture.parent, Path.cwd()]
    with tempfile.TemporaryDirectory(prefix="artlang-reproduce-") as folder:
        main = recipe.materialise(Path(folder), images_from=places)
        renderer = Renderer(load_sketch(main, root=folder), size=tuple(recipe.size),
                            seed=recipe.seed, params=recipe.params, trust=trust)
        image = renderer.render(recipe.frame)
        target = Path(output) if output else Path(folder) / "again.png"
        written = _format_of_picture(picture)
        sixteen = written is not None and written.recipe == "chunks" and png_bit_depth(picture) == 16
        write_png(image, target, picture_text(renderer, recipe.frame), bits=16 if sixteen else 8)
        if sixteen:                                          # Pillow reads only 8 of the bits
            same = target.read_bytes() == picture.read_bytes()
            return Reproduction(recipe, True, same, same, 0 if same else -1)
        if written is None or not written.exact:           # lossy or palette formats
            return Reproduction(recipe, False, False, False, 0)
        with Image.open(target) as drawn:
            again = np.asarray(drawn.convert("RGBA"))
        before = _pixels(picture, written)
        same_shape = before.shape == again.shape
        differing = int((before != again).any(axis=-1).sum()) if same_shape else again.shape[0] * again.shape[1]
        bytes_equal = target.read_bytes() == picture.read_bytes()
    return Reproduction(recipe, True, same_shape and differing == 0, bytes_equal, differing)
