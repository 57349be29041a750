"""docs/errors.md, the bad-input catalogue: read it, run its examples, and check or update what
each one prints.

Each example in docs/errors.md is a `### heading` followed by the files it needs and one console
block: the command, what artlang prints, and `[exit N]`. Files are fenced blocks whose info string
names them: ```` ```art sketch.art ```` (text as written), ```` ```recipe NAME.png ```` (a 4x4 PNG
carrying the block's text as its artlang recipe), or ```` ```file NAME KIND [ARG] ```` for a
file this tool makes (KIND: `png` of ARG = WxH pixels, `pickle` with code in it, `truncated` model
weights, `torchscript` that would run code). The command runs in a fresh folder holding those
files, in-process, and the folder's path prints as /path/to/project.

    .venv/bin/python tools/errors_catalogue.py            # check: exit 1 if any example differs
    .venv/bin/python tools/errors_catalogue.py --update   # write what artlang prints now
tests/test_errors_catalogue.py runs every example through `check`.
"""
from __future__ import annotations

import io
import os
import re
import shlex
import sys
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "docs" / "errors.md"
PROJECT = "/path/to/project"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```\n", re.M | re.S)


@dataclass
class Example:
    title: str
    files: list[tuple[str, str, str]] = field(default_factory=list)   # (name, kind, text or arg)
    command: str = ""
    printed: str = ""             # the console block after the command line, with [exit N]
    span: tuple[int, int] = (0, 0)  # where the console block's body lies in the markdown


def read(text: str) -> list[Example]:
    """The examples of the catalogue, in order."""
    examples: list[Example] = []
    headings = [(m.start(), m.group(1).strip()) for m in re.finditer(r"^### (.+)$", text, re.M)]
    for block in FENCE.finditer(text):
        owner = [title for start, title in headings if start < block.start()]
        if not owner:
            continue
        if not examples or examples[-1].title != owner[-1]:
            examples.append(Example(owner[-1]))
        example = examples[-1]
        info, body = block.group(1).split(), block.group(2)
        if info[:1] == ["console"]:
            command, _, printed = body.partition("\n")
            example.command, example.printed = command.removeprefix("$ "), printed
            example.span = (block.start(2), block.end(2))
        elif len(info) >= 2 and info[0] in ("art", "recipe"):
            example.files.append((info[1], info[0], body))
        elif len(info) >= 3 and info[0] == "file":
            example.files.append((info[1], info[2], " ".join(info[3:])))
    return examples


def TINY_GAN():
    from artlang.models.config import ModelConfig
    return ModelConfig(kind="gan", architecture="dcgan", image_size=32, z_size=8, width=8)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo the catalogue's pickle ran code",))


def make_file(path: Path, kind: str, argument: str) -> None:
    """Write one of the files the catalogue's examples need."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "art":
        path.write_text(argument, encoding="utf-8")
    elif kind == "png":
        import numpy as np
        from PIL import Image
        width, height = (int(n) for n in argument.split("x"))
        ramp = np.linspace(0, 255, width * height, dtype=np.float64).reshape(height, width)
        Image.fromarray(ramp.astype(np.uint8)).save(path)
    elif kind == "recipe":                  # a picture whose recipe says what the block says
        from PIL import Image, PngImagePlugin
        chunks = PngImagePlugin.PngInfo()
        chunks.add_itxt("artlang:recipe", argument.rstrip("\n"))
        Image.new("RGB", (4, 4)).save(path, pnginfo=chunks)
    elif kind == "bytes":
        path.write_bytes(argument.encode())
    elif kind == "pickle":                  # a .pt whose unpickling would call os.system
        import torch
        torch.save({"weight": _RunsCode()}, path)
        path.with_suffix(".json").write_text(TINY_GAN().to_json(), encoding="utf-8")
    elif kind in ("truncated", "mismatched"):
        import json
        from artlang.models.architectures import build
        from artlang.models.store import save_model
        save_model(path, build(TINY_GAN()), TINY_GAN())
        if kind == "truncated":
            weights = path / "model.safetensors"
            weights.write_bytes(weights.read_bytes()[:200])
        else:                               # the config says 16 numbers, the weights take 8
            config = path / "config.json"
            config.write_text(json.dumps(json.loads(config.read_text()) | {"z_size": 16}))
    elif kind == "torchscript":
        import warnings
        import torch
        from artlang.models.architectures import build
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            traced = torch.jit.trace(build(TINY_GAN()).eval(), torch.zeros(2, 8))
        traced.save(str(path))
        path.with_suffix(".json").write_text(TINY_GAN().to_json(), encoding="utf-8")
    else:
        raise ValueError(f"unknown file kind {kind}")


def run(example: Example) -> str:
    """What the example's command prints (stdout then stderr) and its exit code, as
    `[exit N]`, run in a fresh folder with the example's files."""
    from artlang.cli import main
    words = shlex.split(example.command)
    environment = {}
    while words and "=" in words[0]:           # leading NAME=VALUE environment settings
        name, _, value = words.pop(0).partition("=")
        environment[name] = value
    assert words[:1] == ["artlang"], example.command
    with tempfile.TemporaryDirectory() as folder:
        for name, kind, text in example.files:
            make_file(Path(folder) / name, kind, text)
        out, err = io.StringIO(), io.StringIO()
        here, saved = os.getcwd(), {k: os.environ.get(k) for k in environment}
        os.chdir(folder)
        os.environ.update(environment)
        try:
            with redirect_stdout(out), redirect_stderr(err):
                try:
                    code = main(words[1:])
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else 0
        finally:
            os.chdir(here)
            for name, value in saved.items():
                os.environ.pop(name) if value is None else os.environ.__setitem__(name, value)
        printed = out.getvalue() + err.getvalue()
        real = str(Path(folder).resolve())
        printed = printed.replace(real, PROJECT).replace(folder, PROJECT)
    return printed.rstrip("\n") + f"\n[exit {code}]\n"


def main(arguments: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    text = CATALOGUE.read_text(encoding="utf-8")
    examples = read(text)
    differ = []
    for example in examples:
        printed = run(example)
        if printed != example.printed:
            differ.append((example, printed))
    if "--update" in arguments:
        for example, printed in sorted(differ, key=lambda pair: -pair[0].span[0]):
            start, end = example.span
            text = text[:start] + f"$ {example.command}\n{printed}" + text[end:]
        CATALOGUE.write_text(text, encoding="utf-8")
        print(f"{len(examples)} examples, {len(differ)} updated")
        return 0
    for example, printed in differ:
        print(f"### {example.title}: prints\n{printed}")
    print(f"{len(examples)} examples, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
