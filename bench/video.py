"""Frames per second of ``style-core video`` on this CPU at 256 px, in this process and on a
local Ray, with the flicker it leaves (warping error against frames painted one by one).

    python bench/video.py [--frames 12] [--size 256] [--quality balanced] [--skip-ray] [--skip-alone]

The clip is made here: a camera panning across a photo with a disc crossing it (what real
footage does: everything moves, and an object uncovers what is behind it), written as an
.mp4 with audio. Prints, per mode, the wall time from start to the written video, the
painting time per frame (the first, coarse to fine, and the median of the others) and
frames per second; then the warping error (DIS flow, trusted pixels) of video mode and of
frames painted alone, and writes a contact sheet of consecutive frames from the middle of
the clip (where Ray's two chunks meet) to bench/out/: the source, each mode, frames alone.
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
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's fixtures/
from fixtures.clips import panning_clip, write_clip
from fixtures.pictures import example_content, swirl_painting
from style_core.image import load_image
from style_core.settings import Settings
from style_core.video.events import FrameDone, VideoDone, VideoPlanned
from style_core.video.flow import warping_error
from style_core.video.frames import FrameStylist, StylizedFrame
from style_core.video.job import stylize_video
from style_core.video.media import read_frames
from style_core.video.workdir import decode_png

OUT = Path(__file__).parent / "out"


def make_clip(folder: Path, size: int, frames: int) -> tuple[Path, Path]:
    width, height = size, round(size * 2 / 3) // 2 * 2
    photo = example_content("coffee")
    photo = np.asarray(photo.resize((round(width * 1.6), round(width * 1.6 * photo.height / photo.width))))
    photo = photo[(photo.shape[0] - height) // 2 :][:height]
    video, style = folder / "clip.mp4", folder / "style.png"
    write_clip(video, panning_clip(photo, width, height, frames, pan=1.5 * size / 256))
    swirl_painting(512).save(style)
    return video, style


def run(video: Path, style: Path, out: Path, ray: bool, settings: dict) -> tuple[dict, list[np.ndarray]]:
    started = time.perf_counter()
    seconds: dict[int, float] = {}
    finished_at = []
    for event in stylize_video(video, style, out, ray=ray, keep_frames=True, **settings):
        if isinstance(event, VideoPlanned):
            print(
                f"  {event.frames} frames at {event.width}x{event.height} on {event.workers}, {event.chunks} chunk(s)"
            )
        elif isinstance(event, FrameDone):
            seconds[event.frame] = event.seconds
            finished_at.append(time.perf_counter() - started)
        elif isinstance(event, VideoDone):
            wall = event.elapsed
    folder = out.with_name(out.name + ".frames")
    frames = [decode_png(folder / f"frame-{i:06d}.png") for i in range(len(seconds))]
    later = [s for i, s in seconds.items() if i]
    painting = finished_at[-1] - finished_at[0]  # first to last finished frame: start-up excluded
    figures = {
        "wall s": wall,
        "first frame s": seconds[0],
        "later frame s (median)": statistics.median(later),
        "fps (wall)": len(frames) / wall,
        "fps (steady)": (len(finished_at) - 1) / painting if painting > 0 else float("nan"),
    }
    return figures, frames


def alone(video: Path, style: Path, settings: dict, size: tuple[int, int]) -> list[np.ndarray]:
    stylist = FrameStylist([load_image(style).rgb], Settings(**settings), temporal_weight=0.0)
    return [
        event.image
        for index, frame in read_frames(video, size)
        for event in stylist.run([(index, frame)])
        if isinstance(event, StylizedFrame)
    ]


def sheet(rows: list[list[np.ndarray]], path: Path) -> None:
    OUT.mkdir(exist_ok=True)
    Image.fromarray(np.concatenate([np.concatenate(row, axis=1) for row in rows], axis=0)).save(path)
    print(f"  contact sheet: {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--quality", default="balanced")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-alone", action="store_true", help="don't paint frames one by one for the flicker")
    args = parser.parse_args()
    os.environ.setdefault("STYLE_CORE_WEIGHTS", "offline")
    settings = {"size": args.size, "quality": args.quality, "preview_every": 0}
    with tempfile.TemporaryDirectory() as folder:
        video, style = make_clip(Path(folder), args.size, args.frames)
        sources = [frame for _, frame in read_frames(video, _size(video))]
        results = {}
        modes = [("in-process", False)] + ([] if args.skip_ray else [("local Ray", True)])
        for name, ray in modes:
            print(f"{name}:")
            if ray:
                import ray as ray_module

                ray_module.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
            try:
                figures, frames = run(video, style, Path(folder) / f"{name[:5]}.mp4", ray, settings)
            finally:
                if ray:
                    ray_module.shutdown()
            results[name] = frames
            for key, value in figures.items():
                print(f"  {key:>24}: {value:8.3f}")
            print(f"  {'warping error':>24}: {warping_error(sources, frames):8.5f}")
        first = next(iter(results.values()))
        consecutive = slice(len(first) // 2 - 2, len(first) // 2 + 2)
        rows = [sources[consecutive], *(frames[consecutive] for frames in results.values())]
        if not args.skip_alone:
            print("frames painted one by one:")
            started = time.perf_counter()
            single = alone(video, style, settings, _size(video))
            print(f"  {'s per frame':>24}: {(time.perf_counter() - started) / len(single):8.3f}")
            error = warping_error(sources, single)
            print(f"  {'warping error':>24}: {error:8.5f}")
            for name, frames in results.items():
                print(f"  {name} / one by one: {warping_error(sources, frames) / error:.3f}")
            rows.append(single[consecutive])
        sheet(rows, OUT / f"video-{args.size}.png")


def _size(video: Path) -> tuple[int, int]:
    from style_core.video.media import probe

    info = probe(video)
    return info.width, info.height


if __name__ == "__main__":
    main()
