"""``style-core CONTENT STYLE [STYLE ...] -o OUT``: stylise from the command line.

Every setting's option is generated from :data:`style_core.settings.SCHEMA` (name, range,
choices, default, help). ``--json`` prints one record per line (:mod:`style_core.protocol`;
the GIMP plug-in reads them), and every failure, a bad option included, ends that stream
with an error record; otherwise a progress bar with the same status line is drawn on stderr.
``style-core gimp ...`` manages the GIMP plug-in.

Only the standard library and the schema are imported until the options are parsed, so
``--help`` is quick and Ctrl-C during start-up ends quietly.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

from . import __version__, protocol
from .errors import StyleCoreError, UsageError
from .settings import SCHEMA, Spec, format_number

EXIT_USER_ERROR = 2
EXIT_BUG = 1
EXIT_CANCELLED = 130


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of printing and exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _number(spec: Spec, whole: bool):
    """An argparse ``type`` for a number setting that refuses values outside its range."""

    def parse(text: str) -> int | float:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {'whole ' if whole else ''}number: {text!r}") from None
        if not spec.minimum <= value <= spec.maximum:
            raise argparse.ArgumentTypeError(
                f"{text} is outside {format_number(spec.minimum)} to {format_number(spec.maximum)}"
            )
        return value

    parse.__name__ = spec.name  # argparse names the option's type in its messages
    parse.spec = spec  # type: ignore[attr-defined]
    return parse


def option_name(spec: Spec) -> str:
    return "--" + spec.name.replace("_", "-")


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per setting, as the schema declares it. Each defaults to None: only the
    options given reach :class:`~style_core.settings.Settings`, which holds the defaults."""
    groups = {
        "basic": parser.add_argument_group("settings"),
        "advanced": parser.add_argument_group("advanced settings"),
    }
    for spec in SCHEMA:
        default = "auto" if spec.default is None else spec.default
        if isinstance(default, tuple):
            default = " ".join(map(str, default))
        help_text = f"{spec.explained} (default: {default})"
        options: dict[str, Any] = {"default": None, "help": help_text, "dest": spec.name}
        if spec.kind in ("int", "float"):
            options |= {
                "type": _number(spec, spec.kind == "int"),
                "metavar": f"{format_number(spec.minimum)}-{format_number(spec.maximum)}",
            }
        elif spec.kind == "choice":
            options |= {"choices": list(spec.choices)}
            help_text = f"{spec.help}: " + "; ".join(f"{value} = {label}" for value, label in spec.choices.items())
            options["help"] = f"{help_text} (default: {default})"
        elif spec.kind == "layers":
            options |= {"choices": list(spec.choices), "nargs": "+", "metavar": "LAYER"}
        elif spec.kind == "floats":
            options |= {"type": _number(spec, False), "nargs": "+", "metavar": "W"}
        groups[spec.tier].add_argument(option_name(spec), **options)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="style-core",
        description="Paint CONTENT in the style of one or more STYLE images (Gatys et al. 2015). "
        "Other commands: style-core gimp {install,uninstall,path}.",
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


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, by name (the others keep their defaults)."""
    return {spec.name: getattr(args, spec.name) for spec in SCHEMA if getattr(args, spec.name) is not None}


class Reporter:
    """Shows records as JSON lines on stdout, or as a progress bar on stderr."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.bar = None

    def show(self, data: dict[str, Any]) -> None:
        if self.as_json:
            print(protocol.encode(data), flush=True)
        elif data["event"] == "progress":
            self._bar(data)
        else:
            self._close()
            line = protocol.describe(data)
            prefix = "style-core: error: " if data["event"] == "error" else "style-core: "
            print(prefix + line, file=sys.stderr)

    def _bar(self, data: dict[str, Any]) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=1000, bar_format="{percentage:3.0f}%|{bar:24}| {desc}", file=sys.stderr)
        self.bar.set_description_str(protocol.describe(data), refresh=False)
        self.bar.update(round(data["fraction"] * 1000) - self.bar.n)

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def error(self, error: BaseException) -> None:
        """The error record on stdout (JSON mode) and its line on stderr."""
        self._close()
        data = protocol.error_record(error)
        if self.as_json:
            print(protocol.encode(data), flush=True)
        print(f"style-core: error: {protocol.describe(data)}", file=sys.stderr)


def _inputs(args: argparse.Namespace) -> tuple[Any, list[Any]]:
    if args.example:
        from .examples import PAINTINGS, PHOTO, example_folder

        return example_folder() / PHOTO, [example_folder() / PAINTINGS[0]]
    if not args.content or not args.styles:
        raise UsageError("give a CONTENT image and at least one STYLE image (or --example)")
    return args.content, list(args.styles)


def _stylise(args: argparse.Namespace, reporter: Reporter) -> None:
    from .events import Finished
    from .job import Job
    from .output import check_output, save_preview

    content, styles = _inputs(args)
    output = check_output(
        args.output, bit_depth=args.bit_depth, inputs=[content, *styles, args.init, *(args.masks or ())]
    )
    if args.save_every is not None:
        if args.save_every.exists() and not args.save_every.is_dir():
            raise UsageError(f"--save-every '{args.save_every}' is a file, not a folder", hint="give a folder")
        args.save_every.mkdir(parents=True, exist_ok=True)
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
    logging.basicConfig(level=logging.WARNING, format="style-core: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        _stylise(args, reporter)
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``style-core`` and ``python -m style_core``."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["gimp"]:
            from .gimp_install import main as gimp_main

            return gimp_main(argv[1:])
        return run(argv)
    except KeyboardInterrupt:  # while the engine's modules were still loading
        print("style-core: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
