"""Model decoding speed: artlang against the same model run by a hand-written torch script, in one
run; and the time of a 240-frame latent-walk export.

Run as `.venv/bin/python benchmarks/models.py [ZOO_NAME] [--rounds N] [--no-export]` (default: the
first GAN of the zoo).

- Throughput: latents decoded by `LoadedModel.decode` (what a sketch's `decode` runs: batch-invariant
  linear layers, a lone latent doubled, channels_last, threads, range mapping, RGBA) against the same
  weights in a plain module, called as a torch user would for CPU inference. The peers, all in eval
  mode with `requires_grad_(False)`, under `torch.inference_mode()`, with torch set to the same thread
  count as artlang's call (batch 16: torch's default; batch 1: 1 thread, as the live preview decodes):
  - `eager, channels_last`: module converted with `.to(memory_format=torch.channels_last)` (the
    convolution weights; the input is a (N, z) latent, which has no memory format: the first
    convolution's input is the linear layer's output reshaped, and a channels_last weight makes
    torch run the convolutions channels_last);
  - `eager, contiguous`: the module as built;
  - `TorchScript, frozen + optimize_for_inference`: `torch.jit.freeze` folds batch norm into the
    convolutions, then `torch.jit.optimize_for_inference` (channels_last weights).
  The peer's pictures are checked against artlang's before timing. The ratio is artlang's time over
  the fastest peer's (the strongest), by median over interleaved rounds (each round decodes all
  LATENTS latents once with every contender, in turn); minimums too. Goals: batch 1 <= 1.2x (issue 15),
  batch 16 <= 1.1x (issue 6).
- Export: `artlang export` of a 240-frame looping latent walk at 256 x 256 to MP4, whole command
  (one worker, then two), frames decoded in batches.
A report, not a test: it exits 0 whatever the numbers are.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROUNDS = 9
LATENTS = 256
GOALS = {1: 1.2, 16: 1.1}
WALK = """canvas 256 x 256
frames 240
fps 30
let m = model("{name}")
layer ground = #101018
layer walk = decode(m, latent_loop(m, 7, truncation=0.8))
output ground, walk
"""


def raw_module(folder: Path, config):
    """The same weights in a plain module, as a hand-written torch script loads them."""
    from safetensors.torch import load_file

    from artlang.models.architectures import build
    module = build(config).eval()
    module.load_state_dict({k: v.float() for k, v in load_file(folder / "model.safetensors").items()})
    return module.requires_grad_(False)


def peers(folder: Path, config) -> dict:
    """name -> callable module, the ways a torch user runs the model for inference."""
    import torch
    made = {"eager, channels_last": raw_module(folder, config).to(memory_format=torch.channels_last),
            "eager, contiguous": raw_module(folder, config)}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # TorchScript's deprecation notice
            scripted = torch.jit.script(raw_module(folder, config).to(memory_format=torch.channels_last))
            made["TorchScript frozen + optimized"] = torch.jit.optimize_for_inference(
                torch.jit.freeze(scripted))
    except Exception as problem:                     # a report: say so and carry on
        print(f"(TorchScript peer left out: {type(problem).__name__}: {problem})")
    return made


def main() -> int:
    import numpy as np
    import torch

    from artlang.language.project import zoo_dir, zoo_names
    from artlang.models import store
    from artlang.models.latent import from_seed

    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("name", nargs="?")
    options.add_argument("--rounds", type=int, default=ROUNDS)
    options.add_argument("--no-export", action="store_true", help="leave out the export timing")
    arguments = options.parse_args()
    names = [arguments.name] if arguments.name else [
        n for n in zoo_names() if store.load_model(zoo_dir() / n).config.kind == "gan"][:1]
    if not names:
        print("no GAN in the zoo to measure")
        return 0
    name = names[0]
    loaded = store.load_model(zoo_dir() / name)
    config = loaded.config
    raw = peers(zoo_dir() / name, config)
    z = np.stack([from_seed(seed, config.z_size) for seed in range(LATENTS)])
    low, high = config.output_range
    with torch.inference_mode():                     # the peers compute artlang's pictures
        expected = loaded.decode(z[:8], threads=1)[..., :3]
        for peer_name, module in raw.items():
            out = module(torch.from_numpy(z[:8])).permute(0, 2, 3, 1).numpy()
            pictures = np.clip((out - low) / (high - low), 0, 1)
            pictures = np.broadcast_to(pictures, expected.shape)
            difference = float(np.abs(pictures - expected).max())
            print(f"{peer_name}: largest difference from artlang's pictures {difference:.1e}")
            if difference > 1e-3:
                raise RuntimeError(f"{peer_name} does not compute artlang's pictures")

    print(f"\ndecoding {name} ({config.kind}, {config.image_size} x {config.image_size}, z {config.z_size}), "
          f"{LATENTS} latents per pass, {arguments.rounds} interleaved rounds; latents per second")
    print(f"{'batch':>5} {'threads':>7}  {'contender':<32} {'median /s':>10} {'best /s':>9}")
    summary = []
    for batch, threads in ((16, torch.get_num_threads()), (1, 1)):
        chunks = [z[i:i + batch] for i in range(0, LATENTS, batch)]
        tensors = [torch.from_numpy(c) for c in chunks]

        def through_artlang():
            for chunk in chunks:
                loaded.decode(chunk, threads=threads)

        def by_hand(module):
            def run():
                with torch.inference_mode():
                    for tensor in tensors:
                        module(tensor)
            return run

        contenders = {"artlang decode": through_artlang} | {n: by_hand(m) for n, m in raw.items()}
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)       # the peers' thread count (artlang sets its own per call)
        try:
            seconds = {n: [] for n in contenders}
            for work in contenders.values():
                work(), work()                                   # warm up (TorchScript profiles twice)
            for _ in range(arguments.rounds):
                for contender, work in contenders.items():
                    started = time.perf_counter()
                    work()
                    seconds[contender].append(time.perf_counter() - started)
        finally:
            torch.set_num_threads(previous)
        for contender, times in seconds.items():
            print(f"{batch:>5} {threads:>7}  {contender:<32} {LATENTS / statistics.median(times):>10.0f} "
                  f"{LATENTS / min(times):>9.0f}")
        strongest = min(raw, key=lambda n: statistics.median(seconds[n]))
        ratio = statistics.median(seconds["artlang decode"]) / statistics.median(seconds[strongest])
        best_ratio = min(seconds["artlang decode"]) / min(seconds[strongest])
        verdict = "meets" if ratio <= GOALS[batch] else "misses"
        line = (f"batch {batch}, {threads} thread{'s' if threads > 1 else ''}: artlang / raw torch "
                f"({strongest}) {ratio:.2f}x (minimums {best_ratio:.2f}x; {verdict} the "
                f"<= {GOALS[batch]}x goal)")
        print(line + "\n")
        summary.append(line)
    print("summary: " + "; ".join(summary))

    if arguments.no_export:
        return 0
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
