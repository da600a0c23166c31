"""Seconds per 1080p frame of ``style-core video`` on a CUDA GPU: the first frame (coarse to
fine), the later ones (full size only, tied to the one before), and what the optical flow
costs of it, per quality preset; with ``--ray``, the same through a local Ray with one actor
per GPU.

    python bench/gpu_video.py [--frames 8] [--size 1920] [--qualities draft balanced] [--ray]

The clip is made here (a camera panning across a photo with a disc crossing it). On a
machine without CUDA it says so and stops; ``--device cpu --size 256`` runs it anyway as a
smoke test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's fixtures/
from fixtures.clips import panning_clip, write_clip
from fixtures.pictures import example_content, swirl_painting
from style_core.video import flow
from style_core.video.events import FrameDone, VideoDone, VideoPlanned
from style_core.video.job import stylize_video


class FlowClock:
    """Adds up the time spent in :func:`style_core.video.flow.motion` (wrapped for the run)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.original = flow.motion

    def __enter__(self) -> FlowClock:
        def timed(previous, current):
            started = time.perf_counter()
            try:
                return self.original(previous, current)
            finally:
                self.seconds += time.perf_counter() - started
                self.calls += 1

        import style_core.video.frames as frames

        frames.motion = timed
        return self

    def __exit__(self, *exc) -> None:
        import style_core.video.frames as frames

        frames.motion = self.original


def make_clip(folder: Path, width: int, frames: int) -> tuple[Path, Path]:
    height = round(width * 9 / 16) // 2 * 2
    photo = example_content("astronaut")
    photo = np.asarray(photo.resize((round(width * 1.3), round(width * 1.3))))[:height]
    video, style = folder / "clip.mp4", folder / "style.png"
    write_clip(video, panning_clip(photo, width, height, frames, pan=3.0 * width / 1920))
    swirl_painting(1024).save(style)
    return video, style


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--size", type=int, default=1920, help="frame width (1920: 1080p)")
    parser.add_argument("--qualities", nargs="+", default=["draft", "balanced"])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--weights", default="offline")
    parser.add_argument("--ray", action="store_true", help="also through a local Ray, one actor per GPU")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device here (use --device cpu --size 256 for a smoke test)")
    os.environ.setdefault("STYLE_CORE_WEIGHTS", args.weights)
    if args.device == "cuda":
        print(f"{torch.cuda.get_device_name()}  torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        video, style = make_clip(Path(folder), args.size, args.frames)
        columns = [("quality", 9), ("where", 10), ("first s", 8), ("later s", 8), ("flow s", 7), ("fps", 6)]
        print(" ".join(f"{name:>{width}}" for name, width in [*columns, ("wall s", 7), ("peak GiB", 8)]))
        for quality in args.qualities:
            for ray in [False, True] if args.ray else [False]:
                if ray:
                    import ray as ray_module

                    ray_module.init(include_dashboard=False, log_to_driver=False)
                if args.device == "cuda":
                    torch.cuda.reset_peak_memory_stats()
                settings = {"size": args.size, "quality": quality, "device": args.device, "preview_every": 0}
                out = Path(folder) / f"out-{quality}-{ray}.mp4"
                seconds: dict[int, float] = {}
                with FlowClock() as clock:
                    for event in stylize_video(video, style, out, ray=ray, **settings):
                        if isinstance(event, VideoPlanned) and quality == args.qualities[0] and not ray:
                            print(f"  {event.frames} frames at {event.width}x{event.height}")
                        if isinstance(event, FrameDone):
                            seconds[event.frame] = event.seconds
                        if isinstance(event, VideoDone):
                            wall = event.elapsed
                if ray:
                    ray_module.shutdown()
                later = statistics.median(s for i, s in seconds.items() if i) if len(seconds) > 1 else float("nan")
                flow_s = clock.seconds / clock.calls if clock.calls else float("nan")  # in-process only
                peak = torch.cuda.max_memory_allocated() / 2**30 if args.device == "cuda" and not ray else float("nan")
                where = "Ray" if ray else "in-process"
                print(
                    f"{quality:>9} {where:>10} {seconds[0]:8.2f} {later:8.2f} {flow_s:7.3f} {1 / later:6.2f} "
                    f"{wall:7.1f} {peak:8.2f}"
                )


if __name__ == "__main__":
    main()
