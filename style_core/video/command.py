"""``style-core video IN --style S [S ...] -o OUT``: stylise a video, coherent in time.

Only the standard library and the schema are imported until the options are parsed, so
``--help`` is quick.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path

from .. import protocol
from ..batch import ItemsReporter, _positive, add_ray_options
from ..cli import (
    EXIT_BUG,
    EXIT_CANCELLED,
    EXIT_USER_ERROR,
    _number,
    _Parser,
    add_setting_options,
    option_name,
    settings_from_args,
)
from ..errors import StyleCoreError, UsageError
from ..settings import Spec, format_number
from .events import describe
from .options import OVERLAP, TEMPORAL_WEIGHT


def _add_spec(parser: argparse.ArgumentParser, spec: Spec) -> None:
    """An option for a video option's spec: its range checked, its default shown."""
    parser.add_argument(
        option_name(spec),
        type=_number(spec, spec.kind == "int"),
        default=spec.default,
        metavar=f"{format_number(spec.minimum)}-{format_number(spec.maximum)}",
        help=f"{spec.help} (default: {format_number(spec.default)})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="style-core video",
        description="Paint every frame of the video IN in the style of the --style images, each frame "
        "tied to the one before along the optical flow (Ruder et al. 2016), into OUT (.mp4, .mov, .mkv, "
        ".webm) with IN's frame rate and audio. Finished frames are kept in OUT.frames/ until the "
        "video is written, so --resume continues a stopped run.",
    )
    parser.add_argument("video", metavar="IN", help="the video to paint")
    parser.add_argument("--style", dest="styles", nargs="+", required=True, metavar="S", help="style images")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="the video to write")
    parser.add_argument("--resume", action="store_true", help="continue from the frames in OUT.frames/")
    parser.add_argument("--keep-frames", action="store_true", help="keep OUT.frames/ after writing the video")
    _add_spec(parser, TEMPORAL_WEIGHT)
    parser.add_argument("--json", action="store_true", help="print one JSON record per line instead of a bar")
    add_ray_options(parser)
    parser.add_argument(
        "--chunk-frames",
        type=_positive,
        metavar="N",
        help="frames per chunk on Ray (default: the frames over the workers)",
    )
    _add_spec(parser, OVERLAP)
    add_setting_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``style-core video ...``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    reporter = ItemsReporter("--json" in argv, describe, frozenset({"video", "encoding", "video-done"}))
    logging.basicConfig(level=logging.WARNING, format="style-core: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        try:
            from .job import stylize_video
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
    except KeyboardInterrupt as exc:
        reporter.error(exc)
        return EXIT_CANCELLED
    except StyleCoreError as exc:
        reporter.error(exc)
        return EXIT_USER_ERROR
    except Exception as exc:  # a bug: the traceback for the report, and the stream still ends
        traceback.print_exc()
        reporter.error(exc)
        return EXIT_BUG
    return 0
