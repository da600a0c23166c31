"""``style-core batch INPUT... --style S [S ...] -o OUTDIR``: the command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import protocol
from ..batch.events import ImageFailed, describe
from ..batch.inputs import RESULT_TYPES
from .console import EXIT_CANCELLED, EXIT_SOME_FAILED, EXIT_USER_ERROR, Reporter, run_command
from .options import Parser, add_ray_options, add_setting_options, check_swallowed, settings_from_args


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="style-core batch",
        description="Paint every picture of INPUT (files, folders, quoted globs such as 'photos/**/*.jpg') "
        "in the style of the --style images, one result per picture in OUTDIR.",
        epilog=f"Exit status: 0 all made, {EXIT_SOME_FAILED} some pictures failed (the others are written), "
        f"{EXIT_USER_ERROR} bad input, {EXIT_CANCELLED} cancelled.",
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="pictures, folders or globs")
    parser.add_argument("--style", dest="styles", nargs="+", required=True, metavar="S", help="style images")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="folder for the results")
    parser.add_argument("--resume", action="store_true", help="skip pictures whose result is in OUTDIR already")
    parser.add_argument("--type", dest="result_type", choices=list(RESULT_TYPES), default="png", help="result type")
    parser.add_argument("--bit-depth", type=int, choices=(8, 16), default=8, help="16 for png and tif results")
    parser.add_argument("--json", action="store_true", help="print one JSON record per line instead of a bar")
    add_ray_options(parser)
    add_setting_options(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``style-core batch ...``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    reporter = Reporter("--json" in argv, describe, frozenset({"failed", "batch-done"}))

    def body() -> int:
        args = build_parser().parse_args(argv)
        check_swallowed(args.inputs, args.styles, "INPUT", "style-core batch", args.styles[-1])
        from ..batch.job import stylize_batch

        events = stylize_batch(
            args.inputs, args.styles, args.output, resume=args.resume, result_type=args.result_type,
            bit_depth=args.bit_depth, ray=args.ray, workers=args.workers, cpus_per_worker=args.cpus_per_worker,
            **settings_from_args(args),
        )  # fmt: skip
        failed = 0
        for event in events:
            reporter.show(protocol.record(event))
            failed += isinstance(event, ImageFailed)
        return EXIT_SOME_FAILED if failed else 0

    return run_command(reporter, body)
