"""The function behind Run and Refine, and behind the API endpoints ``/stylize`` and ``/refine``.

Its named parameters come from the schema (:mod:`style_app.parameters`). ``/refine`` takes a
previous result first (``init``) and runs the full size only, from it. Each streams (image,
png, status): previews as the picture forms, then the result as a PNG with its recipe; for
the page with a progress bar and unchanged outputs skipped (:data:`PAGE`), for scripts as
plain text and None (:data:`API`). With
regions (:mod:`style_app.regions`), each painting repaints its own and the previews show the
rest of the photo as it was.

Values are checked by the specs themselves (:meth:`~style_core.settings.Spec.check`), so a
size, seed or strength that is None, NaN or text gives the engine's one-line message.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import PIL.Image
import torch

from style_core import protocol
from style_core.errors import StyleCoreError
from style_core.events import Event, Finished
from style_core.settings import Spec

from . import parameters
from .controls import SLOTS, slot_name
from .limits import Limits, in_words
from .messages import error_for, visitor_error
from .regions import masks_for
from .zerogpu import GpuClock, gpu_module, on_gpu, planned_work

#: Engine = a callable with the signature of :func:`style_core.stylize_iter`.
Engine = Callable[..., Iterator[Event]]
#: Fewest seconds between two previews sent to the page; the last one always goes.
PREVIEW_INTERVAL = 0.5
#: The status until the engine's first event (loading the images, the network, the targets).
PREPARING = "Preparing the images and the network…"


@dataclass(frozen=True)
class JobRequest:
    """One checked job: the engine's arguments (plain values, so ZeroGPU can send them to its worker)."""

    content: str
    styles: list[str]
    masks: list[str | np.ndarray] | None  #: one per style (a path or an (H, W) uint8 array), or None
    settings: dict[str, Any]
    init: str | None
    max_pixels: int  #: per input image
    paths: list[str]  #: the uploads, shortened to their names in messages


def _size_for(size: int, content: str, max_size: int) -> int:
    """``size``, or for 0 (the photo's own size) the photo's long side, at most ``max_size``."""
    if size:
        return size
    try:
        with PIL.Image.open(content) as image:
            return min(max(image.size), max_size)
    except (OSError, ValueError, PIL.Image.DecompressionBombError):
        return size  # not an image: the engine says so


def make_request(values: Mapping[str, Any], specs: Sequence[Spec], limits: Limits, *, refine: bool) -> JobRequest:
    """The handler's arguments checked and turned into the engine's; a :class:`gr.Error` if one is wrong."""
    if refine and not values["init"]:
        raise visitor_error("nothing to refine yet: press Run first, then refine its result")
    if not values["content"]:
        raise visitor_error("add a photo first (the content image)")
    slots = [slot for slot in range(1, SLOTS + 1) if values[f"style_{slot}"]]
    if not slots:
        raise visitor_error("add at least one painting (a style image)")
    styles = [values[f"style_{slot}"] for slot in slots]
    masks = masks_for(values, slots)
    paths = [p for p in (values.get("init"), values["content"], *styles, *(masks or ())) if isinstance(p, str)]
    settings: dict[str, Any] = {}
    try:
        for spec in specs:
            if not spec.per_style:
                settings[spec.name] = spec.check(values[spec.name])
            elif masks is None:  # a painting's weight (style_blend): with regions, each paints its own
                settings[spec.name] = spec.check([values[slot_name(spec, slot)] for slot in slots])
    except StyleCoreError as exc:
        raise error_for(exc) from None
    settings["size"] = _size_for(settings["size"], values["content"], limits.max_size)
    settings["preview_every"] = 1  # the app thins previews out by time instead
    return JobRequest(values["content"], styles, masks, settings, values.get("init"), limits.max_pixels, paths)


def _engine_events(engine: Engine, request: JobRequest) -> Iterator[Event]:
    """The engine's events; on ZeroGPU the part that holds the GPU."""
    events = engine(
        request.content,
        request.styles,
        masks=request.masks,
        init=request.init,
        max_pixels=request.max_pixels,
        **request.settings,
    )
    try:
        yield from events
    finally:
        events.close()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()


def status(record: Mapping[str, Any]) -> str:
    """The status as Markdown: :func:`style_core.protocol.describe`'s line, under a progress
    bar while it runs. (Drawn here: gradio's own bar flickers when a handler also streams.)"""
    line = protocol.describe(record)
    if record["event"] != "progress":
        return line
    return f'<progress value="{record["fraction"]:.3f}" max="1"></progress>\n\n{line}'


@dataclass(frozen=True)
class View:
    """Who reads a handler's outputs: the page (:data:`PAGE`) or a script (:data:`API`)."""

    status: Callable[[Mapping[str, Any]], str]  #: the status of a record
    unchanged: Callable[[], Any]  #: an output that has not changed


#: The page: the status under a progress bar; unchanged outputs are left as they are.
PAGE = View(status=status, unchanged=gr.skip)
#: A script (``/stylize``, ``/refine``): the status as plain text; unchanged outputs are None.
API = View(status=protocol.describe, unchanged=lambda: None)


def _stream(
    events: Iterator[Event], folder: str, limits: Limits, preview_interval: float, view: View
) -> Iterator[tuple]:
    """(image, png, status) per engine event: a preview at most every ``preview_interval``
    seconds, then the result saved as a PNG with its recipe."""
    last_sent = -float("inf")
    for event in events:
        if isinstance(event, Finished):
            path = str(event.result.save(Path(folder, "stylized.png")))
            yield path, path, view.status(protocol.record(event))
            return
        if event.elapsed > limits.time_limit:
            raise visitor_error(
                f"stopped: the run passed this server's time limit of {protocol.format_seconds(limits.time_limit)} "
                "(min:s); choose a smaller size or the draft quality"
            )
        now = time.monotonic()
        if event.preview is not None and now - last_sent >= preview_interval:
            last_sent = now
            yield event.preview, view.unchanged(), view.status(protocol.record(event))
        else:  # yield anyway: Stop can only close the generator at a yield
            yield view.unchanged(), view.unchanged(), view.status(protocol.record(event))


def _gpu_work(request: JobRequest) -> float | None:
    """The planned work of ``request`` on a ZeroGPU slice (see :mod:`style_app.zerogpu`); None
    when the photo is not an image (the engine says so)."""
    try:
        return planned_work(request.content, request.settings, refine=request.init is not None)
    except (OSError, ValueError, PIL.Image.DecompressionBombError):
        return None


def check_gpu_time(request: JobRequest, clock: GpuClock) -> None:
    """On ZeroGPU, refuse a job that would need the GPU longer than ``clock`` allows."""
    work = None if gpu_module() is None else _gpu_work(request)
    if work is not None and not clock.fits(work):
        raise visitor_error(
            f"this picture would need the GPU for about {in_words(clock.needs(work))}, more than this server's "
            f"{in_words(clock.limit)} per picture: choose a smaller size or the draft quality"
        )


def make_handler(
    engine: Engine,
    limits: Limits,
    specs: Sequence[Spec],
    *,
    refine: bool = False,
    view: View = PAGE,
    preview_interval: float = PREVIEW_INTERVAL,
) -> Callable[..., Iterator[tuple]]:
    """The function behind Run or, with ``refine``, Refine: for the page, or with ``view=API``
    the API endpoints ``/stylize`` and ``/refine``.

    ``specs`` are the settings it takes (:func:`style_app.controls.app_specs`); its signature
    and docstring are generated from them, so gradio names and documents the API by them. On
    ZeroGPU each job asks for the GPU time its plan needs (:class:`~style_app.zerogpu.GpuClock`).
    """
    signature = parameters.signature(specs, refine=refine)
    clock = GpuClock(limits.time_limit)

    def gpu_seconds(engine: Engine, request: JobRequest) -> int:  # spaces.GPU passes the function's arguments
        work = _gpu_work(request)
        return clock.duration(work) if work is not None else int(clock.limit)

    run_engine = on_gpu(_engine_events, gpu_seconds)

    def handler(*args: Any, **kwargs: Any) -> Iterator[tuple]:
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        request = make_request(arguments.arguments, specs, limits, refine=refine)
        check_gpu_time(request, clock)
        yield view.unchanged(), view.unchanged(), PREPARING
        events = run_engine(engine, request)
        try:
            with tempfile.TemporaryDirectory(prefix="style_app-") as folder:
                yield from _stream(events, folder, limits, preview_interval, view)
        except gr.Error:
            raise
        except Exception as exc:  # every engine error, as one line (a bug's traceback goes to the log)
            raise error_for(exc, request.paths) from None
        finally:
            events.close()

    handler.__name__ = handler.__qualname__ = "refine" if refine else "stylize"
    handler.__signature__ = signature  # type: ignore[attr-defined]
    handler.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    handler.__doc__ = parameters.docstring(specs, refine=refine)
    return handler
