"""Many pictures in one style: ``style-core batch INPUT... --style S [S ...] -o OUTDIR``.

Inputs are files, folders (the pictures directly inside) or globs (``'photos/**/*.jpg'``,
quoted so that the shell leaves them alone). Each result is named after its input, with the
folders below a folder's or a glob's root kept: ``photos/2024/a.jpg`` given as ``photos``
... → ``OUTDIR/2024/a.png``. Results carry their recipe and are written atomically, so a
result on disk is complete: ``--resume`` skips them and a stopped run continues. A picture
that fails is reported in one line and the others go on; the exit status says whether any
failed (:data:`EXIT_SOME_FAILED`).

In Python, :func:`stylize_batch` yields one event per picture (and, in this process, the
progress of the one being painted). With ``ray=`` the pictures are spread over a Ray
cluster's GPUs or CPUs (:mod:`style_core.cluster`); without it the same worker runs here.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from . import protocol
from .cli import EXIT_BUG, EXIT_CANCELLED, EXIT_USER_ERROR, Reporter, _Parser, add_setting_options, settings_from_args
from .cluster import Worker
from .errors import ImageError, StyleCoreError, UsageError
from .settings import Settings

if TYPE_CHECKING:
    from .image import ImageInput

log = logging.getLogger(__name__)

#: The exit status when some pictures failed (the others are written).
EXIT_SOME_FAILED = 3
#: Files taken from a folder or a glob: the suffixes Pillow reads that photos come in.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".jfif"})
#: Result types (suffix without the dot) and the bit depths they take.
RESULT_TYPES = {"png": (8, 16), "jpg": (8,), "webp": (8,), "tif": (8, 16)}


# -- events -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageProgress:
    """An iteration of the picture being painted (in-process runs only).

    Attributes:
        index: the picture's place in the batch (1-based), of ``total``.
        input: its path.
        step, total_steps: iterations of this picture.
        fraction: share of the whole batch done, 0 to 1.
        elapsed: seconds since the batch started.
        eta: the picture's own estimate of its seconds left.
    """

    kind: ClassVar[str] = "image-progress"

    index: int
    total: int
    input: str
    step: int
    total_steps: int
    fraction: float
    elapsed: float
    eta: float


@dataclass(frozen=True)
class ImageDone:
    """A picture is written (``output``), ``width`` x ``height`` px after ``steps`` iterations
    taking ``seconds``; ``fraction`` of the batch is done after ``elapsed`` seconds."""

    kind: ClassVar[str] = "image"

    index: int
    total: int
    input: str
    output: str
    width: int
    height: int
    steps: int
    seconds: float
    fraction: float
    elapsed: float


@dataclass(frozen=True)
class ImageSkipped:
    """A picture whose result was on disk already (``--resume``)."""

    kind: ClassVar[str] = "skipped"

    index: int
    total: int
    input: str
    output: str
    fraction: float
    elapsed: float


@dataclass(frozen=True)
class ImageFailed:
    """A picture that could not be made: ``error`` is the exception's kind (class name), with
    its one-line ``message`` and ``hint``. The batch goes on."""

    kind: ClassVar[str] = "failed"

    index: int
    total: int
    input: str
    error: str
    message: str
    hint: str
    fraction: float
    elapsed: float


@dataclass(frozen=True)
class BatchDone:
    """The batch is over: how many pictures were made, skipped and failed."""

    kind: ClassVar[str] = "batch-done"

    done: int
    skipped: int
    failed: int
    elapsed: float
    output: str


BatchEvent = ImageProgress | ImageDone | ImageSkipped | ImageFailed | BatchDone


def describe(data: dict[str, Any]) -> str:
    """One line of status for a batch record."""
    kind = data.get("event")
    where = f"[{data.get('index')}/{data.get('total')}] {data.get('input')}"
    if kind == "image-progress":
        return (
            f"{where} · step {data['step']}/{data['total_steps']} · about {protocol.format_seconds(data['eta'])} left"
        )
    if kind == "image":
        return f"{where} → {data['output']} ({protocol.format_seconds(data['seconds'])})"
    if kind == "skipped":
        return f"{where}: already done"
    if kind == "failed":
        named = Path(str(data["input"])).name in data["message"]  # most messages name the picture
        head = f"[{data['index']}/{data['total']}] " if named else f"{where}: "
        return head + data["message"] + (f"; {data['hint']}" if data["hint"] else "")
    if kind == "batch-done":
        parts = [f"{data['done']} made", f"{data['skipped']} already done", f"{data['failed']} failed"]
        took = protocol.format_seconds(data["elapsed"])
        return f"batch finished in {took}: {', '.join(parts)}; results in {data['output']}"
    return protocol.describe(data)


# -- inputs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchItem:
    """One picture of the batch: where it is read and where its result goes."""

    source: Path
    output: Path


def _glob_root(pattern: str) -> Path:
    """The folder above a glob's first wildcard: results keep the folders below it."""
    fixed = []
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def collect_inputs(inputs: Sequence[str | os.PathLike], out_dir: Path, result_type: str = "png") -> list[BatchItem]:
    """The pictures named by ``inputs`` (files, folders, globs), each with its result's path in
    ``out_dir``. Results already in ``out_dir`` are never taken as inputs. Raises
    :class:`ImageError` for an input that names nothing and :class:`UsageError` when two
    pictures would be written to the same result."""
    out_root = out_dir.resolve()
    items: dict[Path, BatchItem] = {}
    taken: dict[Path, Path] = {}
    for given in map(str, inputs):
        path = Path(given)
        if glob.has_magic(given):
            root = _glob_root(given)
            found = sorted(Path(p) for p in glob.glob(given, recursive=True))
            found = [p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
            if not found:
                raise ImageError(f"input '{given}' matches no pictures ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif path.is_dir():
            root, found = path, _images_in(path)
            if not found:
                raise ImageError(f"input folder '{given}' holds no pictures ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif path.exists():
            root, found = path.parent, [path]
        else:
            raise ImageError(f"input '{given}': no such file or folder")
        for source in found:
            resolved = source.resolve()
            if resolved in items or resolved.is_relative_to(out_root):
                continue
            output = out_dir / source.relative_to(root).with_suffix(f".{result_type}")
            key = output.resolve()
            if key in taken:
                raise UsageError(
                    f"'{taken[key]}' and '{source}' would both be written to '{output}'",
                    hint="give them in separate runs, or rename one",
                )
            taken[key] = source
            items[resolved] = BatchItem(source, output)
    return list(items.values())


# -- the worker -----------------------------------------------------------------------------------


def decode_image(name: str, data: bytes, max_pixels: int):
    """A picture file's bytes as a loaded PIL image; :class:`ImageError` naming ``name`` if they
    are empty, not a picture, too large or truncated."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ImageError(f"image '{name}': the file is empty (0 bytes)")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ImageError(f"image '{name}': not an image, or a format Pillow can't read") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image '{name}': too many pixels ({exc})") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(f"image '{name}': {width}x{height} is more than the limit of {max_pixels:,} pixels")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"image '{name}': the file is corrupt or truncated ({exc})") from exc
    return image


class ImageWorker(Worker):
    """Paints pictures with fixed styles and settings, holding the network.

    Args:
        styles: the style images, each (1, 3, H, W) float32 in [0, 1].
        settings: the settings of every picture.
        max_pixels: the most pixels an input may have.
    """

    def __init__(self, styles: Sequence[Any], settings: Settings, max_pixels: int) -> None:
        super().__init__(settings)
        self.styles = list(styles)
        self.max_pixels = max_pixels

    def stylise(self, name: str, data: bytes) -> Iterator[Any]:
        """The engine's events for one picture file's bytes (``name`` is for messages)."""
        from .job import Job

        image = decode_image(name, data, self.max_pixels)
        yield from Job(image, self.styles, self.settings, max_pixels=self.max_pixels).run()

    def process(self, row: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """For Ray: ``index``, ``name``, ``data`` → the result's planes as raw float32 bytes and
        its recipe, or an error record; a picture's failure is data, not an exception."""
        from .events import Finished

        out: dict[str, Any] = {"index": row["index"], "error": "", "rgb": b"", "alpha": b"", "recipe": ""}
        out |= {"width": 0, "height": 0, "alpha_width": 0, "alpha_height": 0, "steps": 0, "seconds": 0.0}
        started = time.perf_counter()
        try:
            for event in self.stylise(row["name"], row["data"]):
                if isinstance(event, Finished):
                    result = event.result
                    out |= {"rgb": result.rgb.numpy().tobytes(), "recipe": json.dumps(result.recipe)}
                    out |= {"width": result.size[0], "height": result.size[1], "steps": event.steps}
                    if result.alpha is not None:
                        alpha = result.alpha
                        out |= {"alpha": alpha.numpy().tobytes(), "alpha_width": alpha.shape[-1]}
                        out["alpha_height"] = alpha.shape[-2]
        except Exception as exc:  # reported for this picture; the batch goes on
            if not isinstance(exc, StyleCoreError):
                log.exception("painting %s failed", row["name"])
            out["error"] = json.dumps(protocol.error_record(exc))
        out["seconds"] = time.perf_counter() - started
        yield out


def _result_from_row(row: Mapping[str, Any]):
    """The :class:`~style_core.events.Result` a Ray worker sent back."""
    import numpy as np
    import torch

    from .events import Result

    rgb = torch.from_numpy(np.frombuffer(row["rgb"], np.float32).reshape(1, 3, row["height"], row["width"]).copy())
    alpha = None
    if row["alpha"]:
        shape = (1, 1, row["alpha_height"], row["alpha_width"])
        alpha = torch.from_numpy(np.frombuffer(row["alpha"], np.float32).reshape(shape).copy())
    return Result(rgb, alpha, json.loads(row["recipe"]))


# -- the batch ----------------------------------------------------------------------------------


class Batch:
    """Pictures to paint, checked (see :func:`stylize_batch` for the arguments)."""

    def __init__(
        self,
        inputs: Sequence[str | os.PathLike],
        styles: ImageInput | Sequence[ImageInput],
        out_dir: str | os.PathLike,
        settings: Settings | Mapping[str, Any] | None = None,
        *,
        resume: bool = False,
        result_type: str = "png",
        bit_depth: int = 8,
        ray: str | bool | None = None,
        workers: int | None = None,
        cpus_per_worker: int = 1,
        max_pixels: int | None = None,
    ) -> None:
        from .image import DEFAULT_MAX_PIXELS, load_image

        max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
        if result_type not in RESULT_TYPES or bit_depth not in RESULT_TYPES[result_type]:
            allowed = ", ".join(f"{t} ({'/'.join(map(str, d))} bit)" for t, d in RESULT_TYPES.items())
            raise UsageError(f"results can't be {bit_depth}-bit {result_type}", hint=f"choose one of {allowed}")
        style_list = list(styles) if isinstance(styles, (list, tuple)) else [styles]
        if not style_list:
            raise StyleCoreError("at least one style image is needed")
        if not isinstance(settings, Settings):
            settings = Settings.from_options(settings or {})
        self.settings = settings.for_styles(len(style_list))
        self.styles = [
            load_image(s, f"style image {i + 1}", max_pixels=max_pixels).rgb for i, s in enumerate(style_list)
        ]
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise UsageError(f"output folder '{self.out_dir}' is a file", hint="give a folder for the results")
        self.items = collect_inputs(inputs, self.out_dir, result_type)
        if not self.items:
            raise ImageError("no pictures to paint: every input is inside the output folder")
        self.ray = "local" if ray is True else (ray or None)
        if self.ray is not None:
            from .cluster import require_ray

            require_ray(None if self.ray == "local" else self.ray)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(self.out_dir, os.W_OK | os.X_OK):
            raise UsageError(f"output folder '{self.out_dir}' is not writable", hint="choose another folder")
        self.resume, self.bit_depth = resume, bit_depth
        self.workers, self.cpus_per_worker, self.max_pixels = workers, cpus_per_worker, max_pixels

    def run(self) -> Iterator[BatchEvent]:
        started = time.perf_counter()
        total = len(self.items)
        counts = {"image": 0, "skipped": 0, "failed": 0}
        todo: list[int] = []
        for index, item in enumerate(self.items, start=1):
            if self.resume and item.output.exists():
                counts["skipped"] += 1
                fraction = sum(counts.values()) / total
                yield ImageSkipped(index, total, str(item.source), str(item.output), fraction, _since(started))
            else:
                todo.append(index)
        if todo:
            run = self._run_on_ray if self.ray is not None else self._run_here
            for event in run(todo, started, counts):
                if not isinstance(event, ImageProgress):
                    counts[event.kind] += 1
                yield event
        yield BatchDone(counts["image"], counts["skipped"], counts["failed"], _since(started), str(self.out_dir))

    def _save(self, index: int, result: Any, steps: int, seconds: float, counts: Mapping[str, int], started: float):
        item = self.items[index - 1]
        item.output.parent.mkdir(parents=True, exist_ok=True)
        result.save(item.output, bit_depth=self.bit_depth)
        width, height = result.size
        fraction = (sum(counts.values()) + 1) / len(self.items)
        src, out = str(item.source), str(item.output)
        return ImageDone(index, len(self.items), src, out, width, height, steps, seconds, fraction, _since(started))

    def _failed(self, index: int, record: Mapping[str, Any], counts: Mapping[str, int], started: float):
        fraction = (sum(counts.values()) + 1) / len(self.items)
        source = str(self.items[index - 1].source)
        return ImageFailed(
            index, len(self.items), source, record["kind"], record["message"], record["hint"], fraction, _since(started)
        )

    def _run_here(self, todo: list[int], started: float, counts: Mapping[str, int]) -> Iterator[BatchEvent]:
        from .events import Finished

        worker = ImageWorker(self.styles, self.settings, self.max_pixels)
        total = len(self.items)
        for index in todo:
            item = self.items[index - 1]
            begun = time.perf_counter()
            try:
                data = item.source.read_bytes()
                for event in worker.stylise(str(item.source), data):
                    if isinstance(event, Finished):
                        seconds = time.perf_counter() - begun
                        yield self._save(index, event.result, event.steps, seconds, counts, started)
                    else:
                        fraction = (sum(counts.values()) + event.fraction) / total
                        yield ImageProgress(
                            index, total, str(item.source), event.step, event.total_steps, fraction,
                            _since(started), event.eta,
                        )  # fmt: skip
            except OSError as exc:
                error = ImageError(f"image '{item.source}': can't be read ({exc.strerror or exc})")
                yield self._failed(index, protocol.error_record(error), counts, started)
            except StyleCoreError as exc:
                yield self._failed(index, protocol.error_record(exc), counts, started)
            except Exception as exc:  # a bug: its traceback in the log, and the batch goes on
                log.error("painting %s failed:\n%s", item.source, traceback.format_exc())
                yield self._failed(index, protocol.error_record(exc), counts, started)

    def _run_on_ray(self, todo: list[int], started: float, counts: Mapping[str, int]) -> Iterator[BatchEvent]:
        from .cluster import cluster_pool, connected, stream

        with connected(None if self.ray == "local" else self.ray):
            rows = []
            for index in todo:
                item = self.items[index - 1]
                try:
                    data = item.source.read_bytes()
                except OSError as exc:
                    error = ImageError(f"image '{item.source}': can't be read ({exc.strerror or exc})")
                    yield self._failed(index, protocol.error_record(error), counts, started)
                    continue
                rows.append({"index": index, "name": str(item.source), "data": data})
            if not rows:
                return
            pool = cluster_pool(items=len(rows), workers=self.workers, cpus_per_worker=self.cpus_per_worker)
            arguments = {"styles": self.styles, "settings": self.settings, "max_pixels": self.max_pixels}
            seen: set[int] = set()
            for row in stream(ImageWorker, arguments, rows, pool):
                index = row["index"]
                if index in seen:  # a retried worker's second answer: it was written already
                    continue
                seen.add(index)
                if row["error"]:
                    yield self._failed(index, json.loads(row["error"]), counts, started)
                else:
                    yield self._save(index, _result_from_row(row), row["steps"], row["seconds"], counts, started)


def _since(started: float) -> float:
    return time.perf_counter() - started


def stylize_batch(
    inputs: Sequence[str | os.PathLike],
    styles: ImageInput | Sequence[ImageInput],
    out_dir: str | os.PathLike,
    *,
    resume: bool = False,
    result_type: str = "png",
    bit_depth: int = 8,
    ray: str | bool | None = None,
    workers: int | None = None,
    cpus_per_worker: int = 1,
    max_pixels: int | None = None,
    **settings: Any,
) -> Iterator[BatchEvent]:
    """Paint every picture of ``inputs`` (files, folders, globs) with ``styles`` into
    ``out_dir``; yields an event per picture (:class:`ImageDone`, :class:`ImageSkipped`,
    :class:`ImageFailed`; :class:`ImageProgress` while one is painted in this process), then
    :class:`BatchDone`.

    Args:
        resume: skip pictures whose result is on disk already.
        result_type: ``png``, ``jpg``, ``webp`` or ``tif``.
        bit_depth: 8, or 16 for png and tif.
        ray: None runs here; True or ``"local"`` on a local Ray; else a Ray address.
        workers: Ray actors (default: one per GPU, else one per ``cpus_per_worker`` CPUs).
        settings: the picture settings (:class:`~style_core.settings.Settings` fields).

    The inputs, styles and settings are checked when this is called; the pictures are painted
    as the returned iterator is consumed.
    """
    batch = Batch(
        inputs, styles, out_dir, settings, resume=resume, result_type=result_type, bit_depth=bit_depth,
        ray=ray, workers=workers, cpus_per_worker=cpus_per_worker, max_pixels=max_pixels,
    )  # fmt: skip
    return batch.run()


# -- the command --------------------------------------------------------------------------------


class ItemsReporter(Reporter):
    """Records of a job over many items (pictures, frames): JSON lines with ``--json``, else a
    bar over the items on stderr, with a line above it for the records in ``lines``."""

    def __init__(self, as_json: bool, describe: Callable[[dict[str, Any]], str], lines: frozenset[str]) -> None:
        super().__init__(as_json)
        self.describe = describe
        self.lines = lines

    def show(self, data: dict[str, Any]) -> None:
        if self.as_json:
            print(protocol.encode(data), flush=True)
            return
        if data["event"] in ("batch-done", "video-done"):
            self._close()
        if data["event"] in self.lines or "fraction" not in data:
            line = "style-core: " + ("error: " if data["event"] == "failed" else "") + self.describe(data)
            if self.bar is not None:
                self.bar.write(line, file=sys.stderr)
            else:
                print(line, file=sys.stderr)
        if "fraction" in data:
            self._items_bar(data)

    def _items_bar(self, data: dict[str, Any]) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=1000, bar_format="{percentage:3.0f}%|{bar:24}| {desc}", file=sys.stderr)
        self.bar.set_description_str(self.describe(data), refresh=False)
        self.bar.update(round(data["fraction"] * 1000) - self.bar.n)


def add_ray_options(parser: argparse.ArgumentParser) -> None:
    """``--ray [ADDRESS]``, ``--workers``, ``--cpus-per-worker``: shared by batch and video."""
    group = parser.add_argument_group("Ray (pip install 'style-core[ray]')")
    group.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="run on Ray: alone, a local Ray on this machine; with an address (auto, HOST:6379, "
        "ray://HOST:10001), that cluster",
    )  # fmt: skip
    group.add_argument(
        "--workers", type=_positive, metavar="N", help="Ray workers (default: one per GPU, else per CPU slot)"
    )
    group.add_argument(
        "--cpus-per-worker", type=_positive, default=1, metavar="N", help="CPUs per worker without GPUs (default: 1)"
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is less than 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="style-core batch",
        description="Paint every picture of INPUT (files, folders, quoted globs such as 'photos/**/*.jpg') "
        "in the style of the --style images, one result per picture in OUTDIR.",
        epilog=f"Exit status: 0 all made, {EXIT_SOME_FAILED} some pictures failed (the others are written), "
        f"{EXIT_USER_ERROR} bad input, {EXIT_CANCELLED} cancelled.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="pictures, folders or globs")
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
    lines = frozenset({"failed", "batch-done"})
    reporter = ItemsReporter("--json" in argv, describe, lines)
    logging.basicConfig(level=logging.WARNING, format="style-core: %(message)s")
    try:
        args = build_parser().parse_args(argv)
        events = stylize_batch(
            args.inputs, args.styles, args.output, resume=args.resume, result_type=args.result_type,
            bit_depth=args.bit_depth, ray=args.ray, workers=args.workers, cpus_per_worker=args.cpus_per_worker,
            **settings_from_args(args),
        )  # fmt: skip
        failed = 0
        for event in events:
            reporter.show(protocol.record(event))
            failed += isinstance(event, ImageFailed)
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
    return EXIT_SOME_FAILED if failed else 0
