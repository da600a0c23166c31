"""``style-core CONTENT STYLE [STYLE ...] -o OUT``: one picture from the command line.

Every setting is an option generated from the schema (:mod:`style_core.cli.options`). ``--json``
prints one record per line (the GIMP plug-in reads them) and ends every failure with an
error record; otherwise a progress bar with the same status line is drawn on stderr
(:mod:`style_core.cli.console`). ``style-core batch|video|gimp ...`` are the other commands.

Only the standard library and the schema are imported until the options are parsed, so
``--help`` is quick and Ctrl-C during start-up ends quietly.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import protocol
from .._version import __version__
from ..errors import UsageError
from .console import Reporter, run_command
from .options import Parser, add_setting_options, settings_from_args


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="style-core",
        description="Paint CONTENT in the style of one or more STYLE images (Gatys et al. 2015). "
        "Other commands: style-core batch ... (many pictures), style-core video ... (a video), "
        "style-core gimp {install,uninstall,path,probe} (the GIMP plug-in); each takes --help.",
    )
    parser.add_argument("content", nargs="?", help="the photo to repaint")
    parser.add_argument("styles", nargs="*", metavar="style", help="one or more style images")
    parser.add_argument("-o", "--output", type=Path, default=Path("result.png"), help="where to write the result")
    parser.add_argument(
        "--example", action="store_true", help="paint the shipped photo of Tübingen as The Starry Night"
    )
    parser.add_argument("--init", metavar="PATH", help="a previous result to refine at full size")
    parser.add_argument(
        "--mask",
        metavar="PATH",
        action="append",
        dest="masks",
        help="where a style paints (white), once per style in order; the rest of the photo is kept",
    )
    parser.add_argument(
        "--style-mask",
        metavar="PATH",
        action="append",
        dest="style_masks",
        help="the part of a painting (white) its style is taken from, once per style in order ('none': all of it)",
    )
    parser.add_argument("--bit-depth", type=int, choices=(8, 16), default=8, help="16 for .png/.tif output")
    parser.add_argument("--save-every", metavar="DIR", type=Path, help="write each preview into DIR")
    parser.add_argument("--json", action="store_true", help="print one JSON record per line instead of a bar")
    parser.add_argument("--version", action="version", version=f"style-core {__version__}")
    add_setting_options(parser)
    return parser


def _inputs(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    if args.example:
        from ..examples import PAINTINGS, PHOTO, example_folder

        if args.content or args.styles:
            given = " ".join(filter(None, [args.content, *args.styles]))
            raise UsageError(
                f"--example paints the shipped photo and painting; it takes no pictures (got {given})",
                hint="leave out --example to paint yours, or the pictures to paint the example",
            )

        return example_folder() / PHOTO, [example_folder() / PAINTINGS[0]]
    if not args.content or not args.styles:
        raise UsageError("give a CONTENT image and at least one STYLE image (or --example)")
    return args.content, list(args.styles)


def _stylize(args: argparse.Namespace, reporter: Reporter) -> None:
    from ..events import Finished
    from ..job import Job
    from ..output import check_output, output_folder, save_preview

    content, styles = _inputs(args)
    output = check_output(
        args.output, bit_depth=args.bit_depth, inputs=[content, *styles, args.init, *(args.masks or ())]
    )
    if args.save_every is not None:
        output_folder(args.save_every, "--save-every")
    style_masks = None if args.style_masks is None else [None if m == "none" else m for m in args.style_masks]
    job = Job(content, styles, settings_from_args(args), masks=args.masks, style_masks=style_masks, init=args.init)
    for event in job.run():
        if isinstance(event, Finished):
            event.result.save(output, bit_depth=args.bit_depth)
            reporter.show(protocol.record(event, output=str(output.resolve())))
            continue
        extra = {}
        if args.save_every is not None and event.preview is not None:
            path = save_preview(event.preview, args.save_every / f"preview-{event.step:05d}.png")
            extra["preview"] = str(path.resolve())
        reporter.show(protocol.record(event, **extra))


def run(argv: list[str]) -> int:
    """``style-core CONTENT STYLE ...``; returns the exit status."""
    reporter = Reporter(as_json="--json" in argv)

    def body() -> int:
        _stylize(build_parser().parse_args(argv), reporter)
        return 0

    return run_command(reporter, body)
