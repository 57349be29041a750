"""Model decoding speed: artlang against a raw torch forward of the same model, in one run; and the
time of a 240-frame latent-walk export.

Run as `.venv/bin/python benchmarks/models.py [ZOO_NAME]` (default: the first GAN of the zoo).

- Throughput: latents decoded to float RGBA pictures by `LoadedModel.decode` (what a sketch's
  `decode` runs: batch-invariant linear layers, channels_last, threads, range mapping, RGBA)
  against `module(z)` alone in `torch.inference_mode()` on the same weights in a plain module (the
  peer: a hand-written torch script), batch 16 and batch 1 (1 thread, as the live preview
  decodes), best of REPEATS. Goal (issue 6): artlang's overhead at most 10%.
- Export: `artlang export` of a 240-frame looping latent walk at 256 x 256 to MP4, whole command
  (one worker, then two), frames decoded in batches.
A report, not a test: it exits 0 whatever the numbers are.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPEATS = 5
LATENTS = 256
WALK = """canvas 256 x 256
frames 240
fps 30
let m = model("{name}")
layer ground = #101018
layer walk = decode(m, latent_loop(m, 7, truncation=0.8))
output ground, walk
"""


def best_rate(work, count: int) -> float:
    """Items per second of the fastest of REPEATS runs of `work()` (which handles `count` items)."""
    work()                                               # warm up
    fastest = min(_timed(work) for _ in range(REPEATS))
    return count / fastest


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def raw_module(folder: Path, config):
    """The same weights in a plain module, as a hand-written torch script would run them."""
    from safetensors.torch import load_file

    from artlang.models.architectures import build
    module = build(config).eval()
    module.load_state_dict({k: v.float() for k, v in load_file(folder / "model.safetensors").items()})
    return module


def main() -> int:
    import numpy as np
    import torch

    from artlang.models import store
    from artlang.models.latent import from_seed
    from artlang.language.project import zoo_dir, zoo_names

    names = sys.argv[1:] or [n for n in zoo_names()
                             if store.load_model(zoo_dir() / n).config.kind == "gan"][:1]
    if not names:
        print("no GAN in the zoo to measure")
        return 0
    name = names[0]
    loaded = store.load_model(zoo_dir() / name)
    config = loaded.config
    module = raw_module(zoo_dir() / name, config)
    z = np.stack([from_seed(seed, config.z_size) for seed in range(LATENTS)])
    print(f"decoding {name} ({config.kind}, {config.image_size} x {config.image_size}, "
          f"z {config.z_size}), best of {REPEATS}")
    print(f"{'batch':>6} {'threads':>8} {'raw torch /s':>13} {'artlang /s':>11} {'overhead':>9}")
    for batch, threads in ((16, torch.get_num_threads()), (1, 1)):
        chunks = [z[i:i + batch] for i in range(0, LATENTS, batch)]
        tensors = [torch.from_numpy(c) for c in chunks]

        def raw():
            previous = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                with torch.inference_mode():
                    for tensor in tensors:
                        module(tensor)
            finally:
                torch.set_num_threads(previous)

        def through_artlang():
            for chunk in chunks:
                loaded.decode(chunk, threads=threads)

        raw_rate, artlang_rate = best_rate(raw, LATENTS), best_rate(through_artlang, LATENTS)
        overhead = raw_rate / artlang_rate - 1
        verdict = "meets" if overhead <= 0.10 else "misses"
        print(f"{batch:>6} {threads:>8} {raw_rate:>13.0f} {artlang_rate:>11.0f} "
              f"{overhead:>8.1%}  ({verdict} the 10% goal)")

    with tempfile.TemporaryDirectory() as directory:
        sketch = Path(directory) / "walk.art"
        sketch.write_text(WALK.format(name=name), encoding="utf-8")
        for workers in (1, 2):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "artlang", "export", str(sketch), "-o",
                            str(Path(directory) / f"walk{workers}.mp4"), "--workers", str(workers)],
                           check=True, capture_output=True, env=dict(os.environ))
            seconds = time.perf_counter() - started
            print(f"export of a 240-frame latent walk at 256 x 256 to MP4, {workers} worker"
                  f"{'s' if workers > 1 else ''}: {seconds:.1f} s ({240 / seconds:.0f} frames/s)")
        same = (Path(directory) / "walk1.mp4").read_bytes() == \
            (Path(directory) / "walk2.mp4").read_bytes()
        print(f"the two exports are byte-identical: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
