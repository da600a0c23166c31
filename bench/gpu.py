"""Time style_core's default run on CUDA at 512 to 8192 px (TF32, the network in the precision
the engine measures as faster there (bf16 on recent GPUs; ``--precision`` forces one),
tiles sized to the free memory), with generated images so it needs nothing but the package.

    python bench/gpu.py [--sizes 512 1024 2048 4096 8192] [--weights offline] [--precision auto]

Prints, for each size, the wall time of a whole run (weights already loaded), the time of one
full-size iteration, the number of tiles of the final stage, the engine's first estimate of
the run's time, and the peak GPU memory. The aim on an H200: 4096 px in under 30 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from style_core import Finished, Job, preload
from style_core.engine.precision import choose

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's fixtures/
from fixtures.pictures import example_content, swirl_painting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048, 4096, 8192])
    parser.add_argument("--weights", default="offline")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device here")
    content, style = example_content("astronaut"), swirl_painting(1024)
    preload(args.weights, device="cuda")
    chosen = choose(args.precision, torch.device("cuda"))
    print(f"{torch.cuda.get_device_name()}  torch {torch.__version__}  precision {args.precision}: {chosen}")
    print(f"{'size':>6} {'run s':>8} {'first ETA s':>11} {'last-stage s/iter':>18} {'tiles':>6} {'peak GiB':>9}")
    for size in args.sizes:
        torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
        started = time.perf_counter()
        job = Job(
            content,
            style,
            {"size": size, "weights": args.weights, "device": "cuda", "preview_every": 0, "precision": args.precision},
        )
        last_stage, first_eta = [], None
        for event in job.run():
            if isinstance(event, Finished):
                break
            if first_eta is None:
                first_eta = event.elapsed + event.eta
            if event.stage == event.num_stages:
                torch.cuda.synchronize()
                last_stage.append(time.perf_counter())
        torch.cuda.synchronize()
        total = time.perf_counter() - started
        per_iteration = (last_stage[-1] - last_stage[0]) / max(len(last_stage) - 1, 1)
        peak = torch.cuda.max_memory_allocated() / 2**30
        tiles = len(job.plan.stages[-1].tiles)
        print(f"{size:6d} {total:8.2f} {first_eta:11.2f} {per_iteration:18.4f} {tiles:6d} {peak:9.2f}", flush=True)


if __name__ == "__main__":
    main()
