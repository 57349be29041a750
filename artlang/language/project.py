"""Files a sketch may touch: its project folder and the stdlib, nothing else.

Paths written in a sketch (imports, images) are resolved against the file that names them and must
stay inside the project folder (by default the folder of the main sketch), after following
symlinks. Modules are parsed here, imports followed depth first, and cycles reported.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from artlang.language import ast
from artlang.core.errors import CHECK, USAGE, ArtError, Diagnostic, SourceCache, did_you_mean, error
from artlang.core.limits import Limits
from artlang.language.parser import parse_source


PACKAGE = Path(__file__).resolve().parent.parent        # the artlang package folder


def stdlib_dir() -> Path:
    """The stdlib folder: inside the package when installed from a wheel, beside it in a checkout."""
    packaged = PACKAGE / "stdlib"
    return packaged if packaged.is_dir() else PACKAGE.parent / "stdlib"


def stdlib_modules() -> list[str]:
    return sorted(p.stem for p in stdlib_dir().glob("*.art"))


def zoo_dir() -> Path:
    """The models artlang ships, one folder each (config.json, model.safetensors, card.md)."""
    return PACKAGE / "zoo"


def zoo_names() -> list[str]:
    """The models artlang ships, by name (folders of the zoo holding a config.json)."""
    folder = zoo_dir()
    return sorted(p.parent.name for p in folder.glob("*/config.json")) if folder.is_dir() else []


ZOO_PREFIX = "zoo:"
MODEL_WEIGHTS = (".safetensors", ".pt", ".pth", ".ts", ".torchscript")



@dataclass
class ProjectFiles:
    """Resolves and reads the files of one sketch, confined to `root` and the stdlib."""
    root: Path
    sources: SourceCache = field(default_factory=SourceCache)
    touched: set[Path] = field(default_factory=set)   # every file resolved or read: what a watcher watches
    texts: dict[Path, str] = field(default_factory=dict)  # the source of every module loaded
    main: Path | None = None                           # the sketch itself
    limits: Limits = field(default_factory=Limits.from_environment)   # source size, import depth

    def __post_init__(self):
        self.root = Path(self.root).resolve()

    def inside(self, path: Path) -> bool:
        resolved = path.resolve()
        return resolved.is_relative_to(self.root) or resolved.is_relative_to(stdlib_dir().resolve())

    def confined(self, text: str, relative_to: Path, span: ast.Span, what: str, example: str) -> Path:
        """`text` written in the file at `relative_to`, as a path; refused when it is absolute
        or leaves the project (symlinks followed)."""
        if "\0" in text:
            raise error(f"{what} path `{text!r}` holds a NUL character", span, stage=CHECK,
                        label="not a file name", hint=f"write a plain relative path, e.g. \"{example}\"")
        if Path(text).is_absolute():
            raise error(f"{what} path `{text}` is absolute", span, stage=CHECK, label="absolute path",
                        hint=f"write paths relative to the sketch, e.g. \"{example}\"")
        candidate = relative_to.parent / text
        if not self.inside(candidate):
            raise error(f"{what} path `{text}` leaves the project folder", span, stage=CHECK,
                        label="outside the project",
                        hint=f"a sketch may only read files inside {self.root}; copy it there")
        return candidate

    def resolve(self, text: str, relative_to: Path, span: ast.Span, what: str) -> Path:
        """The real path of `text` written in the file at `relative_to`, refused if it leaves the project."""
        candidate = self.confined(text, relative_to, span, what, "images/photo.png")
        self.touched.add(candidate.absolute())
        if not _exists(candidate, "file"):
            siblings = [p.name for p in candidate.parent.iterdir()] \
                if _exists(candidate.parent, "dir") else []
            raise error(f"{what} file `{text}` not found", span, stage=CHECK, label="no such file",
                        hint=did_you_mean(candidate.name, siblings)
                        or f"looked for {candidate.resolve()}")
        return candidate.resolve()

    def resolve_model(self, text: str, relative_to: Path, span: ast.Span) -> str:
        """`zoo:NAME` for a model of the zoo, else the real path of a model file or folder inside
        the project (a file of the project wins over a zoo model of the same name). The model's
        files are touched, so a watcher follows them and a recipe records their hashes."""
        candidate = self.confined(text, relative_to, span, "model", "models/mine")
        if _exists(candidate, "dir") or _exists(candidate, "file"):
            for part in model_files(candidate):
                self.touched.add(part.absolute())
            return str(candidate.resolve())
        self.touched.add(candidate.absolute())          # watched: it may be made later
        if text in zoo_names():
            return ZOO_PREFIX + text
        near = did_you_mean(text, zoo_names())
        raise error(f"no model `{text}`: not in the zoo, and no such file or folder", span,
                    stage=CHECK, label="unknown model",
                    hint=near or ("the zoo has " + ", ".join(f"`{n}`" for n in zoo_names())
                                  if zoo_names() else f"looked for {candidate.resolve()}")
                    + "; `artlang models` lists the zoo")

    def model_path(self, resolved: str) -> Path:
        path = Path(resolved)
        if not self.inside(path):          # re-checked when read: the file may have changed
            raise error(f"model path `{resolved}` leaves the project folder", stage=CHECK)
        return path

    def image_path(self, resolved: str) -> Path:
        path = Path(resolved)
        if not self.inside(path):          # re-checked when read: the file may have changed
            raise error(f"image path `{resolved}` leaves the project folder", stage=CHECK)
        return path

    def read_source(self, path: Path, span: ast.Span | None) -> str:
        self.touched.add(Path(path).absolute())
        try:
            size, most = path.stat().st_size, self.limits.max_source_bytes
            if size > most:
                raise error(f"`{path.name}` is {size:,} bytes, over the limit of {most:,} bytes for "
                            "a sketch or module", span, stage=CHECK,
                            hint="split it into modules, or raise the limit: --limit source-bytes=N")
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise error(f"`{path}` is not UTF-8 text", span, stage=CHECK) from None
        except OSError as failure:
            stage = USAGE if span is None else CHECK
            raise error(f"cannot read `{path}`: {failure.strerror}", span, stage=stage) from None
        self.sources.add(str(path), text)
        self.texts[Path(path).resolve()] = text
        return text


def _exists(path: Path, kind: str) -> bool:
    """Whether `path` is a file (or a folder), False for any name the system refuses outright
    (too long, say), which `Path.is_file` would raise for."""
    try:
        return path.is_file() if kind == "file" else path.is_dir()
    except (OSError, ValueError):
        return False


def model_files(source: Path) -> list[Path]:
    """The files a model source is read from: a folder's config.json and weights, or a weights
    file and the config beside it (`x.json`)."""
    source = Path(source)
    if source.is_dir():
        return [source / "config.json"] + [source / f"model{suffix}" for suffix in MODEL_WEIGHTS]
    return [source, source.with_suffix(".json")]


def display_name(path: Path) -> str:
    """How a file is named in messages: relative to the working folder when it is below it,
    `zoo:NAME/FILE` in the zoo, else in full.

    >>> display_name(zoo_dir() / "shapes-gan" / "config.json")
    'zoo:shapes-gan/config.json'
    """
    path = Path(os.path.abspath(path))
    for folder, prefix in ((Path.cwd(), ""), (zoo_dir().absolute(), ZOO_PREFIX)):
        if path.is_relative_to(folder):
            return prefix + path.relative_to(folder).as_posix()
    return str(path)


@dataclass
class LoadedModules:
    main: ast.Module
    modules: dict[str, ast.Module]                  # by resolved path
    imports: dict[int, str]                          # id(ImportStmt) -> resolved path of its module


def load_modules(main_path: Path, files: ProjectFiles, text: str | None = None) -> LoadedModules:
    """Parse the main sketch and, depth first, every module it imports; report cycles."""
    modules: dict[str, ast.Module] = {}
    imports: dict[int, str] = {}
    diagnostics: list[Diagnostic] = []

    def load(path: Path, name: str, source: str | None, chain: list[tuple[str, ast.Span]]):
        key = str(path)
        if key in modules:
            return
        if source is None:
            source = files.read_source(path, chain[-1][1] if chain else None)
        file = display_name(path)
        files.sources.add(file, source)
        module = parse_source(source, file, name)
        modules[key] = module
        for statement in module.statements:
            if not isinstance(statement, ast.ImportStmt):
                continue
            try:
                target = resolve_import(statement, path, files)
            except ArtError as failure:
                diagnostics.extend(failure.diagnostics)
                continue
            imports[id(statement)] = str(target)
            stack = [entry[0] for entry in chain] + [key]
            if len(stack) > files.limits.max_import_depth:
                diagnostics.append(Diagnostic(
                    f"imports nest more than {files.limits.max_import_depth} modules deep",
                    statement.target_span, "import the modules you need from the sketch itself, "
                    "or raise the limit: --limit import-depth=N", label="one import too many"))
                continue
            if str(target) in stack:
                loop = [Path(p).name for p in stack[stack.index(str(target)):]] + [target.name]
                diagnostics.append(Diagnostic(
                    "import cycle: " + " → ".join(loop), statement.target_span,
                    "move what both modules need into a third module that imports neither",
                    label="imports a module that is still loading"))
                continue
            try:
                load(target, statement.target, None, chain + [(key, statement.target_span)])
            except ArtError as failure:
                diagnostics.extend(failure.diagnostics)

    main_path = main_path.resolve()
    files.main = main_path
    files.touched.add(main_path)
    if text is not None:
        files.texts[main_path] = text
    load(main_path, "main", text, [])
    if diagnostics:
        raise ArtError(diagnostics, CHECK)
    return LoadedModules(modules[str(main_path)], modules, imports)


def resolve_import(statement: ast.ImportStmt, importer: Path, files: ProjectFiles) -> Path:
    if not statement.is_path:
        path = stdlib_dir() / f"{statement.target}.art"
        if not _exists(path, "file"):
            raise error(f"no stdlib module named `{statement.target}`", statement.target_span,
                        stage=CHECK, hint=did_you_mean(statement.target, stdlib_modules())
                        or f"stdlib modules: {', '.join(stdlib_modules())}; "
                           "to import your own file write `import \"file.art\"`")
        return path.resolve()
    text = statement.target if statement.target.endswith(".art") else statement.target + ".art"
    return files.resolve(text, importer, statement.target_span, "import")

