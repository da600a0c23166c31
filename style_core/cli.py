"""``style-core CONTENT STYLE [STYLE ...] -o OUT``: stylise from the command line.

Options mirror :class:`style_core.settings.Settings` and take their defaults from it.
``--json`` prints one JSON object per line (the GIMP plug-in reads these); otherwise a
progress bar is drawn on stderr. ``style-core gimp ...`` manages the GIMP plug-in.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import fields
from pathlib import Path

import torch

from . import __version__
from .color import PRESERVE_COLORS
from .errors import StyleCoreError
from .events import Progress
from .output import FORMATS_8, save_image
from .settings import INITS, OPTIMIZERS, POOLINGS, QUALITY_STEPS, Settings
from .stylize import stylize_iter

DEFAULTS = {f.name: f.default for f in fields(Settings)}
EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    d = DEFAULTS
    p = argparse.ArgumentParser(
        prog="style-core",
        description="Paint CONTENT in the style of one or more STYLE images (Gatys et al. 2015).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("content", nargs="?", help="the photo to repaint")
    p.add_argument("styles", nargs="*", metavar="style", help="one or more style images")
    p.add_argument("-o", "--output", default="result.png", help="where to write the result")
    p.add_argument("--example", action="store_true", help="use the bundled example content and style")
    p.add_argument("--size", type=int, default=d["size"], help="long side of the output, px")
    p.add_argument("--quality", choices=tuple(QUALITY_STEPS), default=d["quality"], help="iteration preset")
    p.add_argument("--steps", type=int, default=None, help="iterations at full size (overrides --quality)")
    p.add_argument("--style-strength", type=float, default=d["style_strength"])
    p.add_argument("--style-weights", type=float, nargs="+", default=None, help="blend weight per style")
    p.add_argument("--style-scale", type=float, default=d["style_scale"], help="style size relative to output")
    p.add_argument("--preserve-colors", choices=PRESERVE_COLORS, default=d["preserve_colors"])
    p.add_argument("--init", choices=INITS, default=d["init"])
    p.add_argument("--optimizer", choices=OPTIMIZERS, default=d["optimizer"])
    p.add_argument("--pooling", choices=POOLINGS, default=d["pooling"])
    p.add_argument("--content-weight", type=float, default=d["content_weight"])
    p.add_argument("--tv-weight", type=float, default=d["tv_weight"])
    p.add_argument("--seed", type=int, default=d["seed"])
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: best available)")
    p.add_argument("--weights", default=None, help="auto, hub, offline or a weights file (env STYLE_CORE_WEIGHTS)")
    p.add_argument("--preview-every", type=int, default=d["preview_every"], help="iterations between previews")
    p.add_argument("--save-every", metavar="DIR", type=Path, default=None, help="write each preview into DIR")
    p.add_argument("--bit-depth", type=int, choices=(8, 16), default=8, help="16 for .png/.tif output")
    p.add_argument("--json", action="store_true", help="print one JSON event per line instead of a bar")
    p.add_argument("--version", action="version", version=f"style-core {__version__}")
    return p


def _settings(args: argparse.Namespace) -> dict:
    return {
        "size": args.size,
        "quality": args.quality,
        "steps": args.steps,
        "style_strength": args.style_strength,
        "style_blend": args.style_weights,
        "style_scale": args.style_scale,
        "preserve_colors": args.preserve_colors,
        "init": args.init,
        "optimizer": args.optimizer,
        "pooling": args.pooling,
        "content_weight": args.content_weight,
        "tv_weight": args.tv_weight,
        "seed": args.seed,
        "device": args.device,
        "weights": args.weights,
        "preview_every": args.preview_every,
    }


def _check_output(output: Path, inputs: list, bit_depth: int) -> None:
    """Refuse an output that would overwrite an input or that can't be written."""
    for item in inputs:
        if isinstance(item, (str, Path)) and Path(item).exists() and output.exists() and output.samefile(item):
            raise StyleCoreError(f"output '{output}' is one of the input images; choose another name")
    if bit_depth == 8 and output.suffix.lower() not in FORMATS_8:
        raise StyleCoreError(f"output '{output}': unknown image type; use one of {', '.join(sorted(FORMATS_8))}")
    if not output.parent.exists():
        raise StyleCoreError(f"output '{output}': folder '{output.parent}' does not exist")


def _inputs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> tuple[object, list]:
    if args.example:
        from .examples import example_content, example_styles

        return example_content(), [next(iter(example_styles().values()))]
    if not args.content or not args.styles:
        parser.error("give a CONTENT image and at least one STYLE image (or --example)")
    return args.content, list(args.styles)


class _Reporter:
    """Turns events into JSON lines or a progress bar."""

    def __init__(self, as_json: bool, save_every: Path | None) -> None:
        self.as_json = as_json
        self.save_every = save_every
        self.bar = None

    def event(self, event: Progress) -> None:
        record = event.as_json()
        if self.save_every is not None and event.image is not None and not event.done:
            path = self.save_every / f"preview-{event.step:05d}.png"
            event.image.save(path)
            record["preview"] = str(path.resolve())
        if self.as_json:
            if not event.done:
                print(json.dumps(record), flush=True)
            return
        self._bar(event)

    def _bar(self, event: Progress) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=1000, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")
        self.bar.set_description(f"stage {event.stage}/{event.num_stages} {event.width}x{event.height}")
        self.bar.set_postfix_str(f"step {event.step}/{event.total_steps} style {event.losses['style']:.3g}")
        self.bar.update(round(event.fraction * 1000) - self.bar.n)

    def done(self, record: dict) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.as_json:
            print(json.dumps(record), flush=True)
        else:
            print(f"wrote {record['output']} in {record['elapsed']:.1f} s", file=sys.stderr)

    def error(self, message: str) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.as_json:
            print(json.dumps({"event": "error", "message": message}), flush=True)
        print(f"style-core: error: {message}", file=sys.stderr)


def run(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    reporter = _Reporter(args.json, args.save_every)
    logging.basicConfig(level=logging.WARNING, format="style-core: %(message)s")
    try:
        content, styles = _inputs(args, parser)
        output = Path(args.output)
        _check_output(output, [content, *styles], args.bit_depth)
        if args.save_every is not None:
            args.save_every.mkdir(parents=True, exist_ok=True)
        for event in stylize_iter(content, styles, **_settings(args)):
            reporter.event(event)
            if event.done:
                save_image(output, event.rgb, event.alpha, recipe=event.recipe, bit_depth=args.bit_depth)
                reporter.done(event.as_json() | {"output": str(output.resolve())})
    except StyleCoreError as exc:
        reporter.error(str(exc))
        return EXIT_USER_ERROR
    except (MemoryError, torch.OutOfMemoryError):
        reporter.error("out of memory; try a smaller --size")
        return 1
    except KeyboardInterrupt:
        reporter.error("cancelled")
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``style-core`` and ``python -m style_core``."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["gimp"]:
        from .gimp_install import main as gimp_main

        return gimp_main(argv[1:])
    return run(argv)
