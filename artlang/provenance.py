"""Where a picture came from: everything needed to render it again, byte for byte.

Every PNG artlang writes carries, in its text chunks, the source of the sketch and of every module
it imports (the stdlib ones too), a hash of every other file it read (images), the seed, the params,
the canvas size, the frame and the artlang version. Other formats carry the same in a sidecar JSON.
`Recipe` is that record; `Recipe.materialise` lays its sources out in a fresh folder (with the
images copied from where they are, after checking their hashes) so the sketch can be loaded again:
by `artlang reproduce`, and by export workers on other machines.

>>> from artlang.render import Renderer, load_source
>>> recipe = Recipe.of(Renderer(load_source("canvas 4 x 4\\noutput 0.5")), frame=0)
>>> Recipe.from_text(recipe.to_text()) == recipe
True
"""
from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .errors import USAGE, error
from .project import stdlib_dir

STDLIB_PREFIX = "<stdlib>/"
KEYS = ("artlang:recipe",)


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
        from .render import param_as_text
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
        data = json.loads(text)
        return cls(data["main"], data["sources"], data["inputs"], int(data["seed"]), data["params"],
                   tuple(data["size"]), int(data["frame"]), data["version"])

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
        """Write the sources into `folder` (the project root of the copy), with every other input
        taken from `images` (name -> bytes) or copied from the first of `images_from` that has it,
        each checked against its hash. Returns the path of the main sketch. Stdlib modules must be
        this artlang's own (a different one is an error naming the version that made it)."""
        folder = Path(folder)
        for name in [self.main, *self.sources, *self.inputs]:
            inside = (folder / name).resolve().is_relative_to(folder.resolve())
            if Path(name).is_absolute() or not inside and not name.startswith(STDLIB_PREFIX):
                raise error(f"the recipe names a file outside its project: `{name}`", stage=USAGE,
                            hint="this picture's recipe was altered; it cannot be reproduced safely")
        for name, text in self.sources.items():
            if name.startswith(STDLIB_PREFIX):
                installed = stdlib_dir() / name[len(STDLIB_PREFIX):]
                if installed.is_file() and installed.read_text(encoding="utf-8") == text:
                    continue
                raise error(f"this picture was made with a different stdlib module "
                            f"`{name[len(STDLIB_PREFIX):]}` (artlang {self.version}; this is "
                            f"artlang {__version__})", stage=USAGE,
                            hint=f"install artlang {self.version} to reproduce it")
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        for name, expected in self.inputs.items():
            data = (images or {}).get(name)
            for place in images_from:
                if data is None and (Path(place) / name).is_file():
                    data = (Path(place) / name).read_bytes()
            if data is None:
                raise error(f"the sketch reads `{name}`, which is not stored in the picture",
                            stage=USAGE, hint="pass --root DIR, the folder where the sketch and "
                                              f"`{name}` are")
            if file_hash(data) != expected:
                raise error(f"`{name}` is not the file the picture was made with (its contents "
                            "changed)", stage=USAGE, hint="restore that version of the file")
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return folder / self.main


def read_recipe(path: Path) -> Recipe:
    """The recipe stored in an artlang PNG (text chunk) or TIFF (description), or in the sidecar
    JSON of another format."""
    path = Path(path)
    sidecar = path.with_name(path.name + ".json")
    try:
        if path.suffix.lower() == ".png":
            from PIL import Image
            with Image.open(path) as picture:
                text = picture.text.get("artlang:recipe")
        elif path.suffix.lower() in (".tif", ".tiff"):
            import tifffile
            with tifffile.TiffFile(path) as tiff:
                text = json.loads(tiff.pages[0].description or "{}").get("artlang:recipe")
        else:
            text = json.dumps(json.loads(sidecar.read_text(encoding="utf-8"))["recipe"]) \
                if sidecar.is_file() else None
    except (OSError, ValueError, KeyError) as failure:
        raise error(f"cannot read {path}: {failure}", stage=USAGE) from None
    if text is None:
        raise error(f"{path} carries no artlang recipe", stage=USAGE,
                    hint="only pictures written by artlang (PNG text chunks, or a .json sidecar "
                         "beside other formats) can be reproduced")
    try:
        return Recipe.from_text(text)
    except (ValueError, KeyError, TypeError) as failure:
        raise error(f"the recipe in {path} is damaged: {failure}", stage=USAGE) from None


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
    import numpy as np
    from PIL import Image

    from .render import Renderer, load_sketch
    from .writers import write_png

    picture = Path(picture)
    recipe = read_recipe(picture)
    places = [Path(root)] if root else [picture.parent, Path.cwd()]
    with tempfile.TemporaryDirectory(prefix="artlang-reproduce-") as folder:
        main = recipe.materialise(Path(folder), images_from=places)
        renderer = Renderer(load_sketch(main, root=folder), size=tuple(recipe.size),
                            seed=recipe.seed, params=recipe.params, trust=trust)
        image = renderer.render(recipe.frame)
        target = Path(output) if output else Path(folder) / "again.png"
        suffix = picture.suffix.lower()
        sixteen = suffix == ".png" and picture.read_bytes()[24:25] == b"\x10"   # IHDR bit depth
        write_png(image, target, renderer.metadata(recipe.frame), bits=16 if sixteen else 8)
        if sixteen:                                          # Pillow reads only 8 of the bits
            same = target.read_bytes() == picture.read_bytes()
            return Reproduction(recipe, True, same, same, 0 if same else -1)
        if suffix not in (".png", ".tif", ".tiff"):        # lossy or palette formats
            return Reproduction(recipe, False, False, False, 0)
        again = np.asarray(Image.open(target).convert("RGBA"))
        if suffix == ".png":
            with Image.open(picture) as original:
                before = np.asarray(original.convert("RGBA"))
        else:
            import tifffile
            before = tifffile.imread(picture)
        same_shape = before.shape == again.shape
        differing = int((before != again).any(axis=-1).sum()) if same_shape else again.shape[0] * again.shape[1]
        bytes_equal = target.read_bytes() == picture.read_bytes()
    return Reproduction(recipe, True, same_shape and differing == 0, bytes_equal, differing)
