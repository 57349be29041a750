"""Model files: saving a model, and loading one safely, from the zoo or from the user.

A model is weights plus a config (`config.ModelConfig`). Accepted, safest first:

- a folder holding `config.json` and `model.safetensors` (what `save_model` writes);
- `NAME.safetensors` with `NAME.json` beside it;
- `NAME.pt` or `NAME.pth` with `NAME.json`: a state dict, read only by
  `torch.load(weights_only=True)`, which refuses any pickle that would run code;
- TorchScript (`.ts`, `.torchscript`, or a `.pt` that is a TorchScript archive) with `NAME.json`:
  it runs code when loaded, so only with `trust=True` (the `--trust` flag).

Nothing else is ever unpickled. Sizes are checked before a byte is read, every tensor's name and
shape is checked against the model the config describes, and every failure is an `ArtError`
naming the file and the mismatch. torch is imported only when a model is saved or loaded.

>>> import tempfile
>>> import numpy as np
>>> from artlang.models.architectures import build
>>> config = ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=8, width=8)
>>> folder = Path(tempfile.mkdtemp()) / "tiny"
>>> save_model(folder, build(config), config)
>>> sorted(p.name for p in folder.iterdir())
['config.json', 'model.safetensors']
>>> load_model(folder).decode(np.zeros((2, 8), np.float32)).shape
(2, 32, 32, 4)
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import pickle
import threading
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from artlang.core.errors import RUNTIME, USAGE, did_you_mean, error
from artlang.core.files import atomic_write
from artlang.core.limits import Limits, size_text
from artlang.language import project
from artlang.language.project import display_name
from artlang.models.config import ARCHITECTURES, ConfigError, ModelConfig
from artlang.models.inference import LoadedModel, prepare

WEIGHTS, CONFIG, CARD = "model.safetensors", "config.json", "card.md"
SAFETENSORS, PICKLES, SCRIPTS = (".safetensors",), (".pt", ".pth"), (".ts", ".torchscript")
MAX_CONFIG_BYTES = 2 ** 20
INSTALL_HINT = "install them: pip install 'artlang[models]' (torch 2.13.0, the CPU build)"
TRUST_HINT = ("only load it if you trust who made it, with --trust; or ask for its weights as "
              "safetensors with a config.json (docs/models.md)")
CACHED_MODELS = 8


def _named(path: Path) -> str:
    return f"`{display_name(path)}`"


def _fail(message: str, hint: str | None = None):
    return error(message, stage=RUNTIME, hint=hint)


def _torch():
    try:
        import safetensors  # noqa: F401
        import torch  # heavy: loaded only when a model is used
    except ImportError:
        raise _fail("models need torch and safetensors, which are not installed",
                    INSTALL_HINT) from None
    return torch


# ── saving ───────────────────────────────────────────────────────────────────────────────────────

def save_model(folder: Path, module, config: ModelConfig, *, half: bool = False) -> None:
    """Write `config.json` and `model.safetensors` into `folder`, each atomically. The module's
    tensors must be those `architectures.build(config)` has; `half=True` stores floating tensors
    as float16 (half the bytes; they are read back as float32)."""
    torch = _torch()
    from safetensors.torch import save_file  # imports torch: only when a model is used

    state = {name: tensor.detach().to("cpu", torch.float16 if half and tensor.is_floating_point()
                                      else tensor.dtype).contiguous()
             for name, tensor in module.state_dict().items()}
    folder = Path(folder)
    check_tensors(state, config, folder / WEIGHTS)
    atomic_write(folder / WEIGHTS, lambda temporary: save_file(state, str(temporary)))
    save_config(folder, config)


def save_config(folder: Path, config: ModelConfig) -> None:
    """Write (or rewrite) `config.json` in `folder` atomically."""
    atomic_write(Path(folder) / CONFIG,
                 lambda temporary: temporary.write_text(config.to_json(), "utf-8"))


# ── loading ──────────────────────────────────────────────────────────────────────────────────────

_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def load_model(source: Path, *, trust: bool = False, max_bytes: int | None = None) -> LoadedModel:
    """The model at `source` (an absolute path the caller has confined: a folder or a weights file
    with its `.json`), ready to decode. Kept in a small cache keyed by path, trust and the files'
    modification times and sizes, so a live re-render does not read it again. `max_bytes`
    (default: `Limits.max_model_bytes` of the environment) is checked before the file is read."""
    weights, config_path = model_files(Path(source))
    limit = max_bytes if max_bytes is not None else Limits.from_environment().max_model_bytes
    stats = (_size_checked(weights, limit), _size_checked(config_path, MAX_CONFIG_BYTES))
    key = (str(weights), trust, *((s.st_mtime_ns, s.st_size, s.st_ino) for s in stats))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    model = _read_model(weights, config_path, trust, limit)
    with _cache_lock:
        _cache[key] = model
        while len(_cache) > CACHED_MODELS:
            _cache.popitem(last=False)
    return model


def clear_cache() -> None:
    """Forget every loaded model (the next `load_model` reads the files again)."""
    with _cache_lock:
        _cache.clear()


def model_files(source: Path) -> tuple[Path, Path]:
    """(weights, config) of a model folder or weights file; a clear error for a folder without
    weights or a file that is not a model's.

    >>> [p.name for p in model_files(Path("/models/cat.pt"))]
    ['cat.pt', 'cat.json']
    """
    if source.is_dir():
        found = [source / f"model{suffix}" for suffix in SAFETENSORS + PICKLES + SCRIPTS
                 if (source / f"model{suffix}").is_file()]
        if not found:
            raise _fail(f"the model folder {_named(source)} has no {WEIGHTS}",
                        "a model folder holds config.json and model.safetensors (docs/models.md)")
        return found[0], source / CONFIG
    if source.suffix.lower() not in SAFETENSORS + PICKLES + SCRIPTS:
        raise _fail(f"{_named(source)} is not a model file",
                    "a model is a folder with config.json and model.safetensors, or a "
                    ".safetensors, .pt, .pth, .ts or .torchscript file with a .json beside it")
    return source, source.with_suffix(".json")


def _size_checked(path: Path, limit: int):
    try:
        status = path.stat()
    except FileNotFoundError:
        what = "config" if path.suffix == ".json" else "weights"
        raise _fail(f"the model's {what} file {_named(path)} is missing",
                    "a model's weights need their config beside them: NAME.json for NAME.pt or "
                    "NAME.safetensors, config.json in a folder (docs/models.md)") from None
    if status.st_size > limit:
        raise _too_big(path, status.st_size, limit)
    return status


def _too_big(path: Path, size: int, limit: int):
    return _fail(f"{_named(path)} is {size_text(size)}, over the limit of {size_text(limit)} for "
                 "a model file",
                 "if you mean to load it, raise the limit: --limit model-bytes=N "
                 "(or ARTLANG_MAX_MODEL_BYTES)")


def _read_model(weights: Path, config_path: Path, trust: bool, limit: int) -> LoadedModel:
    torch = _torch()
    config = _read_config(config_path)
    with open(weights, "rb") as handle:
        data = handle.read(limit + 1)              # the file may have grown since it was measured
    if len(data) > limit:
        raise _too_big(weights, weights.stat().st_size, limit)
    digest = hashlib.sha256(data + b"\0" + config.to_json().encode()).hexdigest()
    suffix = weights.suffix.lower()
    if suffix in SCRIPTS or (suffix in PICKLES and _is_torchscript(data)):
        return _read_script(data, weights, config, digest, trust)
    state = _read_safetensors(data, weights) if suffix in SAFETENSORS else _read_pickle(data, weights)
    check_tensors(state, config, weights)
    from artlang.models.architectures import build  # imports torch

    module = build(config)
    defaults = module.state_dict()
    module.load_state_dict({name: state[name].to(torch.float32) if state[name].is_floating_point()
                            else state[name] for name in state} | {
                               name: defaults[name] for name in defaults if name not in state})
    return LoadedModel(config, weights, digest, prepare(module, scripted=False))


def _read_config(path: Path) -> ModelConfig:
    try:
        return ModelConfig.read(path)
    except ConfigError as problem:
        raise _fail(f"the model config {_named(path)} is wrong: {problem}",
                    "docs/models.md lists the fields and what each allows") from None
    except (OSError, UnicodeDecodeError) as problem:
        raise _fail(f"cannot read the model config {_named(path)}: {problem}") from None


def _read_safetensors(data: bytes, path: Path) -> dict:
    from safetensors import SafetensorError  # imports torch: only when a model is used
    from safetensors.torch import load  # imports torch: only when a model is used

    try:
        return load(data)
    except SafetensorError as problem:
        raise _fail(f"{_named(path)} is truncated or corrupt ({problem})",
                    "save or copy the model again") from None


def _read_pickle(data: bytes, path: Path) -> dict:
    """A state dict from a .pt file, through torch's weights-only unpickler and nothing else."""
    import torch  # heavy: loaded only when a model is used
    try:
        with warnings.catch_warnings():      # the outcome is ours to report, not torch's warnings
            warnings.simplefilter("ignore")
            state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise _fail(f"refused: {_named(path)} would run code when loaded (it pickles more than "
                    "tensors)",
                    "artlang reads .pt files only as plain weights, even with --trust (which admits "
                    "TorchScript); if you trust the file, re-save its state_dict as safetensors "
                    "(docs/models.md)") from None
    except (RuntimeError, EOFError, ValueError, zipfile.BadZipFile, OSError) as problem:
        raise _fail(f"{_named(path)} is truncated or corrupt ({str(problem).splitlines()[0]})",
                    "save or copy the model again") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise _fail(f"{_named(path)} holds a {type(state).__name__}, not a state dict of tensors",
                    "save `module.state_dict()` (a dict of names to tensors)")
    return state


def _is_torchscript(data: bytes) -> bool:
    """Whether a .pt file is a TorchScript archive (a zip with code/ and constants.pkl)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return any("/code/" in name or name.endswith("/constants.pkl")
                       for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _read_script(data: bytes, path: Path, config: ModelConfig, digest: str, trust: bool):
    if not trust:
        raise _fail(f"refused: {_named(path)} is TorchScript, which would run code when loaded",
                    TRUST_HINT)
    import torch  # heavy: loaded only when a model is used
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = torch.jit.load(io.BytesIO(data), map_location="cpu")
    except RuntimeError as problem:
        raise _fail(f"{_named(path)} is not a TorchScript model torch can load "
                    f"({str(problem).splitlines()[0]})") from None
    model = LoadedModel(config, path, digest, prepare(module, scripted=True), one_at_a_time=True)
    model.check_output(path)
    return model


# ── checking tensors against the config ──────────────────────────────────────────────────────────

def check_tensors(state: dict, config: ModelConfig, path: Path) -> None:
    """Refuse tensors that are not exactly those of the model `config` describes: none missing
    (BatchNorm's step counters may be), none extra, each of the right shape and a float type."""
    shapes = {name: tuple(tensor.shape) for name, tensor in state.items()}
    expected = _expected_tensors(config)
    extra = sorted(set(state) - set(expected))
    missing = sorted(n for n in set(expected) - set(state) if not n.endswith("num_batches_tracked"))
    if extra or missing:
        which = f"has a tensor `{extra[0]}` that" if extra else f"lacks the tensor `{missing[0]}`"
        more = len(extra) + len(missing) - 1
        raise _fail(f"{_named(path)} {which} a {config.architecture} of this config "
                    f"{'does not have' if extra else 'needs'}"
                    + (f" ({more} more names differ)" if more else ""),
                    _fits_hint(_fitting_change(shapes, config))
                    or "is the config's architecture the model's?")
    for name in (name for name in expected if name in state):       # in the network's order
        tensor = state[name]
        if tensor.is_floating_point() != expected[name].is_floating_point():
            raise _fail(f"{_named(path)}: the tensor `{name}` is {tensor.dtype}; artlang reads "
                        "float32, float16 or bfloat16 weights")
        needed = tuple(expected[name].shape)
        if shapes[name] == needed:
            continue
        fits = _fitting_change(shapes, config)
        if list(fits) == ["z_size"]:
            raise _fail(f"{_named(path)} takes latents of {fits['z_size']} numbers, but its "
                        f"config says z_size {config.z_size}", _fits_hint(fits))
        said = ", ".join(f"{field} {getattr(config, field)}" for field in fits or _SHAPING)
        raise _fail(f"{_named(path)}: `{name}` is {_shape(shapes[name])} in the file, but the "
                    f"config ({said}) needs {_shape(needed)}",
                    _fits_hint(fits) or "the config must be the one the model was saved with")


_SHAPING = ("z_size", "channels", "image_size", "width")
_WIDTHS = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)


def _expected_tensors(config: ModelConfig) -> dict:
    """The state dict of the model a config describes, as shapes only (torch's meta device)."""
    import torch  # heavy: loaded only when a model is used

    from artlang.models.architectures import build  # imports torch
    with torch.device("meta"):
        return build(config).state_dict()


def _shape(shape: tuple) -> str:
    return " x ".join(map(str, shape)) or "a single number"


def _fitting_change(shapes: dict, config: ModelConfig) -> dict:
    """{field: value} of config fields whose change makes every tensor fit, else {}: one of
    z_size, channels, image_size, width, or the architecture (with its kind)."""
    sizes = sorted({shape[-1] for shape in shapes.values() if len(shape) == 2})
    changes = [{"z_size": size} for size in sizes] + [{"channels": c} for c in (1, 3)] \
        + [{"image_size": s} for s in (32, 64)] + [{"width": w} for w in _WIDTHS] \
        + [{"architecture": a, "kind": k} for a, k in ARCHITECTURES.items()]
    for change in changes:
        try:
            changed = dataclasses.replace(config, **change)
        except ConfigError:
            continue
        if changed == config:
            continue
        expected = _expected_tensors(changed)
        required = {n for n in expected if not n.endswith("num_batches_tracked")}
        if required <= set(shapes) and all(name in expected and tuple(expected[name].shape) == shape
                                           for name, shape in shapes.items()):
            return change
    return {}


def _fits_hint(fits: dict) -> str | None:
    if not fits:
        return None
    return "the weights fit " + " and ".join(f"{f} {v!r}" for f, v in fits.items()) \
        + ": set " + ", ".join(f"\"{f}\": {json.dumps(v)}" for f, v in fits.items()) + " in the config"


# ── the zoo ──────────────────────────────────────────────────────────────────────────────────────

@dataclass(frozen=True)
class ZooEntry:
    name: str
    folder: Path
    config: ModelConfig
    card: Path


def zoo_names() -> list[str]:
    """The models artlang ships, by name (`project.zoo_names`, which the checker reads too)."""
    return project.zoo_names()


def zoo_path(name: str) -> Path | None:
    """The folder of the zoo model `name`, or None when the zoo has no such model."""
    return project.zoo_dir() / name if name in zoo_names() else None


def zoo_entry(name: str) -> ZooEntry:
    """A zoo model's folder, config and card (`card.md`); a usage error naming the nearest names
    when there is no such model."""
    folder = zoo_path(name)
    if folder is None:
        names = zoo_names()
        raise error(f"the zoo has no model `{name}`", stage=USAGE,
                    hint=did_you_mean(name, names) or ("the zoo has " + ", ".join(
                        f"`{n}`" for n in names) if names else "the zoo is empty"))
    return ZooEntry(name, folder, _read_config(folder / CONFIG), folder / CARD)
