"""``style-core video IN --style S [S ...] -o OUT``: stylize a video, coherent in time.

Only the standard library and the schema are imported until the options are parsed, so
``--help`` is quick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import protocol
from ..errors import UsageError
from ..video.events import describe
from ..video.options import OVERLAP, TEMPORAL_WEIGHT
from .console import Reporter, run_command
from .options import (
    Parser,
    add_option,
    add_ray_options,
    add_setting_options,
    check_swallowed,
    positive,
    settings_from_args,
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="style-core video",
        description="Paint every frame of the video IN in the style of the --style images, each frame "
        "tied to the one before along the optical flow (Ruder et al. 2016), into OUT (.mp4, .mov, .mkv, "
        ".webm) with IN's frame rate and audio. Finished frames are kept in OUT.frames/ until the "
        "video is written, so --resume continues a stopped run.",
    )
    parser.add_argument("video", nargs="?", metavar="IN", help="the video to paint")
    parser.add_argument("--style", dest="styles", nargs="+", required=True, metavar="S", help="style images")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="the video to write")
    parser.add_argument("--resume", action="store_true", help="continue from the frames in OUT.frames/")
    parser.add_argument("--keep-frames", action="store_true", help="keep OUT.frames/ after writing the video")
    add_option(parser, TEMPORAL_WEIGHT, default=TEMPORAL_WEIGHT.default)
    parser.add_argument("--json", action="store_true", help="print one JSON record per line instead of a bar")
    ray = add_ray_options(parser)
    ray.add_argument(
        "--chunk-frames",
        type=positive,
        metavar="N",
        help="frames per chunk on Ray (default: the frames over the workers)",
    )
    add_option(ray, OVERLAP, default=OVERLAP.default)
    add_setting_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``style-core video ...``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    reporter = Reporter("--json" in argv, describe, frozenset({"video", "encoding", "video-done"}))

    def body() -> int:
        args = build_parser().parse_args(argv)
        check_swallowed([args.video] if args.video else [], args.styles, "IN", "style-core video", args.styles[-1])
        try:
            from ..video.job import stylize_video
        except ImportError as exc:
            raise UsageError(
                f"video needs PyAV and OpenCV, which are not installed ({exc.name} is missing)",
                hint="pip install 'style-core[video]'",
            ) from exc
        events = stylize_video(
            args.video, args.styles, args.output, temporal_weight=args.temporal_weight, resume=args.resume,
            keep_frames=args.keep_frames, ray=args.ray, workers=args.workers, cpus_per_worker=args.cpus_per_worker,
            chunk_frames=args.chunk_frames, overlap=args.overlap, **settings_from_args(args),
        )  # fmt: skip
        for event in events:
            reporter.show(protocol.record(event))
        return 0

    return run_command(reporter, body)
