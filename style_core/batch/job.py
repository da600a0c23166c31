"""Painting a batch: the worker that holds the network, and the batch run here or on Ray."""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..cluster import Worker
from ..errors import ImageError, StyleCoreError, UsageError
from ..image import read_file
from ..output import output_folder
from ..settings import Settings
from .events import BatchDone, BatchEvent, ImageDone, ImageFailed, ImageProgress, ImageSkipped
from .inputs import RESULT_TYPES, collect_inputs

if TYPE_CHECKING:
    from ..image import ImageInput

log = logging.getLogger(__name__)


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

    def stylize(self, name: str, data: bytes) -> Iterator[Any]:
        """The engine's events for one picture file's bytes (``name`` is for messages)."""
        from ..image import open_picture
        from ..job import Job

        image = open_picture(data, f"image '{name}'", self.max_pixels)
        yield from Job(image, self.styles, self.settings, max_pixels=self.max_pixels).run()

    def process(self, row: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """For Ray: ``index``, ``name``, ``data`` → the result's planes as raw float32 bytes and
        its recipe, or an error record; a picture's failure is data, not an exception."""
        from ..events import Finished

        out: dict[str, Any] = {"index": row["index"], "error": "", "rgb": b"", "alpha": b"", "recipe": ""}
        out |= {"width": 0, "height": 0, "alpha_width": 0, "alpha_height": 0, "steps": 0, "seconds": 0.0}
        started = time.perf_counter()
        try:
            for event in self.stylize(row["name"], row["data"]):
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

    from ..events import Result

    rgb = torch.from_numpy(np.frombuffer(row["rgb"], np.float32).reshape(1, 3, row["height"], row["width"]).copy())
    alpha = None
    if row["alpha"]:
        shape = (1, 1, row["alpha_height"], row["alpha_width"])
        alpha = torch.from_numpy(np.frombuffer(row["alpha"], np.float32).reshape(shape).copy())
    return Result(rgb, alpha, json.loads(row["recipe"]))


class BatchJob:
    """Pictures to paint, checked; :meth:`run` paints them (see :func:`stylize_batch`).

    Args:
        inputs: files, folders (the pictures directly inside) or globs.
        styles: one style image or a list of them.
        out_dir: the folder for the results.
        settings: a :class:`~style_core.settings.Settings` or a mapping of its fields.
        resume: skip pictures whose result is on disk already.
        result_type: ``png``, ``jpg``, ``webp`` or ``tif``.
        bit_depth: 8, or 16 for png and tif.
        ray: None runs here; True or ``"local"`` on a local Ray; else a Ray address.
        workers: Ray actors (default: one per GPU, else one per ``cpus_per_worker`` CPUs).
        cpus_per_worker: CPUs each Ray actor reserves on machines without GPUs.
        max_pixels: the most pixels an input may have.
    """

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
        from ..cluster import Placement
        from ..image import DEFAULT_MAX_PIXELS
        from ..job import load_styles

        max_pixels = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
        if isinstance(inputs, (str, os.PathLike)):  # one picture, folder or glob
            inputs = [inputs]
        if not isinstance(inputs, Iterable) or isinstance(inputs, (bytes, Mapping)):
            raise UsageError(f"inputs must be paths, folders or globs; got a {type(inputs).__name__}")
        inputs = list(inputs)
        if not inputs:
            raise UsageError("no inputs given", hint="give the pictures, folders or globs to paint")
        if not isinstance(out_dir, (str, os.PathLike)):
            raise UsageError(
                f"out_dir must be a folder's path; got {out_dir!r:.60}", hint="pass the folder for the results"
            )
        if result_type not in RESULT_TYPES or bit_depth not in RESULT_TYPES[result_type]:
            allowed = ", ".join(f"{t} ({'/'.join(map(str, d))} bit)" for t, d in RESULT_TYPES.items())
            raise UsageError(f"results can't be {bit_depth}-bit {result_type}", hint=f"choose one of {allowed}")
        loaded, self.settings = load_styles(styles, settings, max_pixels)
        self.styles = [style.rgb for style in loaded]
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise UsageError(f"output folder '{self.out_dir}' is a file", hint="give a folder for the results")
        self.items = collect_inputs(inputs, self.out_dir, result_type)
        if not self.items:
            raise ImageError("no pictures to paint: every input is inside the output folder")
        self.placement = Placement.checked(ray, workers, cpus_per_worker)
        output_folder(self.out_dir, "output folder")
        self.resume, self.bit_depth, self.max_pixels = resume, bit_depth, max_pixels

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
            run = self._run_on_ray if self.placement.ray is not None else self._run_here
            for event in run(todo, started, counts):
                if not isinstance(event, ImageProgress):
                    counts[event.kind] += 1
                yield event
        yield BatchDone(counts["image"], counts["skipped"], counts["failed"], _since(started), str(self.out_dir))

    def _save(self, index: int, result: Any, steps: int, seconds: float, counts: Mapping[str, int], started: float):
        item = self.items[index - 1]
        output_folder(item.output.parent, "output folder")
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
        from ..events import Finished

        worker = ImageWorker(self.styles, self.settings, self.max_pixels)
        total = len(self.items)
        for index in todo:
            item = self.items[index - 1]
            begun = time.perf_counter()
            try:
                data = read_file(item.source, f"image '{item.source}'")
                for event in worker.stylize(str(item.source), data):
                    if isinstance(event, Finished):
                        seconds = time.perf_counter() - begun
                        yield self._save(index, event.result, event.steps, seconds, counts, started)
                    else:
                        fraction = (sum(counts.values()) + event.fraction) / total
                        yield ImageProgress(
                            index, total, str(item.source), event.step, event.total_steps, fraction,
                            _since(started), event.eta,
                        )  # fmt: skip
            except StyleCoreError as exc:
                yield self._failed(index, protocol.error_record(exc), counts, started)
            except Exception as exc:  # a bug: its traceback in the log, and the batch goes on
                log.error("painting %s failed:\n%s", item.source, traceback.format_exc())
                yield self._failed(index, protocol.error_record(exc), counts, started)

    def _run_on_ray(self, todo: list[int], started: float, counts: Mapping[str, int]) -> Iterator[BatchEvent]:
        from ..cluster import connected, stream

        with connected(self.placement.address):
            rows = []
            for index in todo:
                item = self.items[index - 1]
                try:
                    data = read_file(item.source, f"image '{item.source}'")
                except ImageError as exc:
                    yield self._failed(index, protocol.error_record(exc), counts, started)
                    continue
                rows.append({"index": index, "name": str(item.source), "data": data})
            if not rows:
                return
            pool = self.placement.pool(len(rows))
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
    **options: Any,
) -> Iterator[BatchEvent]:
    """Paint every picture of ``inputs`` (files, folders, globs) with ``styles`` into
    ``out_dir``; yields an event per picture (:class:`ImageDone`, :class:`ImageSkipped`,
    :class:`ImageFailed`; :class:`ImageProgress` while one is painted in this process), then
    :class:`BatchDone`.

    ``options`` are :class:`BatchJob`'s keywords and the settings' fields (``size=1024``, ...).
    The inputs, styles and settings are checked when this is called; the pictures are painted
    as the returned iterator is consumed.
    """
    from ..job import job_from_keywords

    return job_from_keywords(BatchJob, inputs, styles, out_dir, options=options).run()
