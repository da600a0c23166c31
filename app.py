"""The web app of style_core: repaint your photo in the style of a painting and watch it form.

``python app.py`` serves it on http://127.0.0.1:7860 (``GRADIO_SERVER_NAME=0.0.0.0`` to share
it on a network; Hugging Face Spaces set that themselves). The same handler is the API
endpoint ``/stylize``, which ``gradio_client`` can call and stream from.

This module only wires widgets to :func:`style_core.stylize_iter`: the defaults come from
:class:`style_core.Settings`, the algorithm and its checks live in the engine. What is here:
the device-dependent limits, turning engine events into previews, a progress bar and a PNG
with the recipe, and engine errors into messages a person can read.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

try:  # ZeroGPU on Hugging Face Spaces; must be imported before torch sets up CUDA.
    import spaces
except ImportError:
    spaces = None

import inspect
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import gradio as gr
import PIL.Image
import torch

from style_core import (
    OutOfMemoryError,
    Progress,
    Settings,
    StyleCoreError,
    __version__,
    preload,
    save_image,
    stylize_iter,
)
from style_core.color import PRESERVE_COLORS
from style_core.device import resolve_device
from style_core.examples import CONTENT_NAMES, example_content, example_styles
from style_core.settings import INITS, MIN_SIZE, OPTIMIZERS, POOLINGS, QUALITY_STEPS
from style_core.vgg import LAYER_NAMES

log = logging.getLogger(__name__)

DEFAULTS = Settings()
#: Fewest seconds between two previews sent to the page; the last one always goes.
PREVIEW_INTERVAL = 0.5
#: The layers offered in the Advanced panel: the ReLU outputs, where the features live.
RELU_LAYERS = tuple(name for name in LAYER_NAMES if name.startswith("relu"))
#: Engine = a callable with the signature of :func:`style_core.stylize_iter`.
Engine = Callable[..., Iterator[Progress]]

QUALITY_LABELS = {"draft": "Draft (fast)", "balanced": "Balanced", "high": "High (slow)"}
COLOR_LABELS = {
    "off": "Off: the painting's colours",
    "luminance": "Keep the photo's colours",
    "match": "Recolour the painting like the photo",
}
INIT_LABELS = {"content": "the photo", "noise": "noise", "style": "the first painting"}


class UserError(gr.Error):
    """A problem the person can fix, shown in the page; no traceback in the server log."""

    def __init__(self, message: str) -> None:
        super().__init__(message, print_exception=False)


@dataclass(frozen=True)
class Limits:
    """What one job may use. Read from ``STYLE_APP_*`` variables, else from the device kind."""

    max_size: int  #: longest side of the output, in pixels
    time_limit: float  #: seconds a job may run before it is stopped
    queue_size: int  #: jobs that may wait; more are turned away
    max_file_size: str  #: per upload, e.g. "20mb"
    max_pixels: int  #: per input image, checked before it is decoded

    #: Per device kind: (max_size, time_limit). The CPU is the slowest, so it gets the least.
    BY_DEVICE: ClassVar[dict[str, tuple[int, float]]] = {
        "cpu": (768, 600),
        "mps": (1024, 300),
        "cuda": (2048, 120),
    }

    @classmethod
    def for_device(cls, kind: str | None = None) -> Limits:
        kind = kind or resolve_device(DEFAULTS.device).type
        max_size, time_limit = cls.BY_DEVICE.get(kind, cls.BY_DEVICE["cpu"])
        env = os.environ.get
        return cls(
            max_size=int(env("STYLE_APP_MAX_SIZE", max_size)),
            time_limit=float(env("STYLE_APP_TIME_LIMIT", time_limit)),
            queue_size=int(env("STYLE_APP_QUEUE_SIZE", 20)),
            max_file_size=env("STYLE_APP_MAX_UPLOAD", "20mb"),
            max_pixels=int(env("STYLE_APP_MAX_PIXELS", 50_000_000)),
        )


def image_input(label: str, value: str | None = None, **options) -> gr.Image:
    """An upload box handing the engine the file's path, whose unreadable uploads raise a
    :class:`gr.Error` naming the box.

    Gradio opens an upload with Pillow before the handler runs, so without this a text file
    fails with "cannot identify image file '/tmp/…'". The check wraps this one instance's
    ``preprocess``: a subclass of a gradio component would write a ``.pyi`` beside this file.
    """
    box = gr.Image(value, label=label, type="filepath", image_mode=None, sources=["upload", "clipboard"], **options)
    preprocess = box.preprocess

    def checked(payload: Any) -> Any:
        try:
            return preprocess(payload)
        except PIL.Image.DecompressionBombError as exc:
            raise UserError(f"{label}: the image has too many pixels; shrink it first.") from exc
        except (PIL.UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            name = Path(getattr(payload, "orig_name", None) or "the file").name
            raise UserError(f"{label}: {name} is not an image (or a format that can't be read).") from exc

    box.preprocess = checked
    return box


def _engine_events(engine: Engine, content: str, styles: list[str], options: dict) -> Iterator[Progress]:
    """The engine's events; on a GPU this is the part that holds it (ZeroGPU allots it here)."""
    events = engine(content, styles, **options)
    try:
        yield from events
    finally:
        events.close()
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.empty_cache()


if spaces is not None:  # effect-free off ZeroGPU
    _engine_events = spaces.GPU(duration=int(Limits.BY_DEVICE["cuda"][1]))(_engine_events)


def _readable(exc: StyleCoreError, paths: list[str]) -> str:
    """The engine's one-line message, with gradio's temporary paths shortened to file names."""
    text = str(exc)
    for path in paths:
        text = text.replace(f" '{path}'", f" ({Path(path).name})")
    return text[:1].upper() + text[1:]


def _seconds(value: float) -> str:
    value = round(value)
    if value < 60:
        return f"{value} s"
    minutes, seconds = divmod(value, 60)
    return f"{minutes} min {seconds:02d} s" if seconds else f"{minutes} min"


def describe(event: Progress) -> str:
    """One line about where a run stands: stage, step, size, time so far and left."""
    if event.done:
        took = _seconds(event.elapsed)
        return f"Done in {took}: {event.width}x{event.height} px, {event.step} steps."
    left = "estimating the time left" if event.eta is None else f"about {_seconds(event.eta)} left"
    return (
        f"Stage {event.stage} of {event.num_stages} ({event.width}x{event.height} px) · "
        f"step {event.step} of {event.total_steps} · {_seconds(event.elapsed)} so far · {left}"
    )


def _status(event: Progress) -> str:
    """The status as Markdown: a progress bar over the line of :func:`describe` while it runs."""
    if event.done:
        return describe(event)
    return f'<progress value="{event.fraction:.3f}" max="1"></progress>\n\n{describe(event)}'


def _stream(events: Iterator[Progress], folder: str, limits: Limits, preview_interval: float) -> Iterator[tuple]:
    """(image, png, status) per engine event: a preview at most every ``preview_interval``
    seconds, then the result saved as a PNG with its recipe.

    The progress bar is drawn in the status: gradio's own bar (``gr.Progress``) flickers when
    a handler also streams outputs, as its tracker toggles between "pending" and "generating".
    """
    last_sent = -float("inf")
    for event in events:
        if event.done:
            path = str(Path(folder, "stylized.png"))
            save_image(path, event.rgb, event.alpha, recipe=event.recipe)
            yield path, path, _status(event)
            return
        if event.elapsed > limits.time_limit:
            raise UserError(
                f"Cancelled: this run passed the time limit of {_seconds(limits.time_limit)}. "
                "Try a smaller output size or the draft quality."
            )
        now = time.monotonic()
        if event.image is not None and now - last_sent >= preview_interval:
            last_sent = now
            yield event.image, gr.skip(), _status(event)
        else:  # yield anyway: Stop can only close the generator at a yield
            yield gr.skip(), gr.skip(), _status(event)


def make_handler(engine: Engine, limits: Limits, preview_interval: float) -> Callable:
    """The function behind the Run button and the ``/stylize`` endpoint."""

    def stylize(
        content: str | None = None,
        style_1: str | None = None,
        weight_1: float = 1.0,
        style_2: str | None = None,
        weight_2: float = 1.0,
        style_3: str | None = None,
        weight_3: float = 1.0,
        style_strength: float = DEFAULTS.style_strength,
        size: float = DEFAULTS.size,
        quality: str = DEFAULTS.quality,
        preserve_colors: str = DEFAULTS.preserve_colors,
        optimizer: str = DEFAULTS.optimizer,
        init: str = DEFAULTS.init,
        steps: float | None = DEFAULTS.steps,
        tv_weight: float = DEFAULTS.tv_weight,
        seed: float = DEFAULTS.seed,
        style_scale: float = DEFAULTS.style_scale,
        content_layers: Sequence[str] = DEFAULTS.content_layers,
        style_layers: Sequence[str] = DEFAULTS.style_layers,
        pooling: str = DEFAULTS.pooling,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's way to ask for a bar)
    ) -> Iterator[tuple]:
        """Stylise `content` with up to three style images blended by their weights.

        Streams (image, png, status): previews as the image forms, then the result as a PNG
        file with the recipe in its metadata. Leave `steps` at 0 to take them from `quality`.
        """
        if not content:
            raise UserError("Add a photo first (the content image).")
        slots = ((style_1, weight_1), (style_2, weight_2), (style_3, weight_3))
        pairs = [(style, weight) for style, weight in slots if style]
        if not pairs:
            raise UserError("Add at least one painting (a style image).")
        if int(size) > limits.max_size:
            raise UserError(f"Output size {int(size)} px is over this machine's limit of {limits.max_size} px.")
        styles = [s for s, _ in pairs]
        options = {  # widget values as stylize_iter keywords; the engine validates them
            "size": int(size),
            "quality": quality,
            "steps": int(steps) if steps else None,
            "style_strength": float(style_strength),
            "style_blend": [float(w) for _, w in pairs],
            "style_scale": float(style_scale),
            "preserve_colors": preserve_colors,
            "init": init,
            "optimizer": optimizer,
            "tv_weight": float(tv_weight),
            "content_layers": tuple(content_layers or ()),
            "style_layers": tuple(style_layers or ()),
            "pooling": pooling,
            "seed": int(seed),
            "preview_every": 1,  # the app thins previews out by time instead
            "max_pixels": limits.max_pixels,
        }
        progress(0, desc="Preparing the images and the network")  # until the first event
        events = _engine_events(engine, content, styles, options)
        try:
            with tempfile.TemporaryDirectory(prefix="style_core-app-") as folder:
                yield from _stream(events, folder, limits, preview_interval)
        except OutOfMemoryError:
            raise UserError(f"Out of memory at {int(size)} px. Choose a smaller output size and run again.") from None
        except StyleCoreError as exc:
            raise UserError(_readable(exc, [content, *styles])) from None
        finally:
            events.close()

    return stylize


def examples_folder() -> Path:
    """Where the example images are written once (``STYLE_APP_EXAMPLES`` or a temp folder)."""
    default = Path(tempfile.gettempdir(), f"style_core-examples-{__version__}")
    return Path(os.environ.get("STYLE_APP_EXAMPLES", default))


def _save(image: PIL.Image.Image, path: Path) -> None:
    """Save through a temporary name, so that a half-written file is never taken for an example."""
    part = path.with_name(f".{path.name}.part")
    image.save(part, format="JPEG" if path.suffix == ".jpg" else "PNG")
    part.replace(path)


def write_examples(folder: Path) -> list[list[str | None]]:
    """Write the example photos and paintings into ``folder`` (once); rows of (photo, painting,
    painting). None of them ships with the repository: style_core makes them."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        photos = []
        for name in CONTENT_NAMES:
            path = folder / f"photo-{name}.jpg"
            if not path.exists():
                _save(example_content(name), path)
            photos.append(str(path))
        if not any(folder.glob("painting-*.png")):
            for index, (name, image) in enumerate(example_styles().items()):
                _save(image, folder / f"painting-{index}-{name}.png")
    except (StyleCoreError, OSError) as exc:
        log.warning("the examples are left out: %s", exc)
        return []
    paintings = [str(path) for path in sorted(folder.glob("painting-*.png"))]
    rows: list[list[str | None]] = [[photo, paintings[i % len(paintings)], None] for i, photo in enumerate(photos)]
    if len(paintings) > 1:  # the last photo with two paintings blended
        rows[-1][2] = next(p for p in paintings if p != rows[-1][1])
    return rows


CSS = """
#output img { object-fit: contain; }
#status { min-height: 5em; }
#status progress { width: 100%; height: 0.8em; appearance: none; border: none; border-radius: 999px; }
#status progress::-webkit-progress-bar { background: var(--neutral-200); border-radius: 999px; }
#status progress::-webkit-progress-value { background: var(--color-accent); border-radius: 999px; }
#status progress::-moz-progress-bar { background: var(--color-accent); border-radius: 999px; }
.footnote { font-size: 0.85em; opacity: 0.8; }
"""

INTRO = """# Paint your photo like a painting
Pick a **photo** and a **painting** (or click an example below), press **Run**, and watch the
picture form: it starts small and coarse and grows sharper stage by stage. Neural style transfer
(Gatys et al.) with VGG-19: the pixels are optimised until the photo's shapes carry the
painting's textures and colours.
"""


def _image_inputs(example: list[str | None]) -> dict[str, gr.components.Component]:
    """The photo and up to three paintings, each painting with its blend weight."""
    with gr.Row():
        content = image_input("Your photo", example[0], elem_id="content", height=260)
        style_1 = image_input("Painting", example[1], elem_id="style1", height=260)
    with gr.Accordion("Blend more paintings", open=False):
        gr.Markdown("Each painting counts by its weight.", elem_classes="footnote")
        weight_1 = gr.Slider(0, 10, value=1.0, step=0.1, label="Weight of the first painting")
        with gr.Row():
            style_2 = image_input("Painting 2", elem_id="style2", height=160)
            style_3 = image_input("Painting 3", elem_id="style3", height=160)
        with gr.Row():
            weight_2 = gr.Slider(0, 10, value=1.0, step=0.1, label="Weight of painting 2")
            weight_3 = gr.Slider(0, 10, value=1.0, step=0.1, label="Weight of painting 3")
    return {
        "content": content,
        "style_1": style_1,
        "weight_1": weight_1,
        "style_2": style_2,
        "weight_2": weight_2,
        "style_3": style_3,
        "weight_3": weight_3,
    }


def _main_controls(limits: Limits) -> dict[str, gr.components.Component]:
    """The four controls most people need, starting at the engine's defaults."""
    d = DEFAULTS
    per_quality = ", ".join(f"{name} {n}" for name, n in QUALITY_STEPS.items())
    return {
        "style_strength": gr.Slider(
            0,
            5,
            value=d.style_strength,
            step=0.1,
            label="Style strength",
            elem_id="strength",
            info="0 keeps the photo; higher paints over it more",
        ),
        "size": gr.Slider(
            MIN_SIZE,
            limits.max_size,
            value=min(d.size, limits.max_size),
            step=32,
            elem_id="size",
            label="Output size (long side, px)",
            info=f"Up to {limits.max_size} px here; bigger takes longer",
        ),
        "quality": gr.Radio(
            [(QUALITY_LABELS.get(q, q), q) for q in QUALITY_STEPS],
            value=d.quality,
            label="Quality",
            info=f"Iterations at full size: {per_quality}",
            elem_id="quality",
        ),
        "preserve_colors": gr.Radio(
            [(COLOR_LABELS.get(c, c), c) for c in PRESERVE_COLORS],
            value=d.preserve_colors,
            label="Preserve colours",
            elem_id="colors",
        ),
    }


def _advanced_controls() -> dict[str, gr.components.Component]:
    """Optimiser, start, smoothing, seed, layers and pooling, in a closed accordion."""
    d = DEFAULTS
    with gr.Accordion("Advanced", open=False):
        with gr.Row():
            optimizer = gr.Radio(list(OPTIMIZERS), value=d.optimizer, label="Optimiser")
            init = gr.Radio([(INIT_LABELS.get(i, i), i) for i in INITS], value=d.init, label="Start from")
            pooling = gr.Radio(list(POOLINGS), value=d.pooling, label="Pooling")
        with gr.Row():
            steps = gr.Number(0, precision=0, minimum=0, label="Steps at full size", info="0: from quality")
            tv_weight = gr.Number(d.tv_weight, minimum=0, label="TV weight", info="smooths noise")
            seed = gr.Number(d.seed, precision=0, label="Seed")
            style_scale = gr.Slider(
                0.25, 2, value=d.style_scale, step=0.05, label="Style scale", info="size of the brush strokes"
            )
        style_layers = gr.CheckboxGroup(list(RELU_LAYERS), value=list(d.style_layers), label="Style layers")
        content_layers = gr.Dropdown(
            list(RELU_LAYERS), value=list(d.content_layers), multiselect=True, label="Content layers"
        )
    return {
        "optimizer": optimizer,
        "init": init,
        "steps": steps,
        "tv_weight": tv_weight,
        "seed": seed,
        "style_scale": style_scale,
        "content_layers": content_layers,
        "style_layers": style_layers,
        "pooling": pooling,
    }


def create_demo(
    *,
    engine: Engine = stylize_iter,
    limits: Limits | None = None,
    preview_interval: float = PREVIEW_INTERVAL,
    examples_dir: Path | None = None,
) -> gr.Blocks:
    """Build the page. ``engine`` is :func:`style_core.stylize_iter` or a callable like it."""
    limits = limits or Limits.for_device()
    examples = write_examples(examples_dir or examples_folder())
    handler = make_handler(engine, limits, preview_interval)

    with gr.Blocks(title="style_core: paint your photo", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                widgets = _image_inputs(examples[0] if examples else [None, None])
                widgets |= _main_controls(limits)
                widgets |= _advanced_controls()
                with gr.Row():
                    run = gr.Button("Run", variant="primary", elem_id="run")
                    stop = gr.Button("Stop", variant="stop", elem_id="stop")
            with gr.Column(scale=1):
                output = gr.Image(
                    label="Result", type="pil", format="webp", interactive=False, elem_id="output", height=460
                )
                status = gr.Markdown("Press **Run** to start.", label="Run status", elem_id="status")
                download = gr.File(label="Download PNG (the recipe is inside)", elem_id="download", height=60)
        if examples:
            gr.Examples(
                examples,
                inputs=[widgets["content"], widgets["style_1"], widgets["style_2"]],
                label="Examples: click one, then Run",
            )
        gr.Markdown(
            f"style_core {__version__} · one job at a time, the others wait in the queue and see their place · "
            f"at most {limits.max_size} px and {_seconds(limits.time_limit)} per job.",
            elem_classes="footnote",
        )
        parameters = [name for name in inspect.signature(handler).parameters if name != "progress"]
        job = run.click(
            handler,
            inputs=[widgets[name] for name in parameters],
            outputs=[output, download, status],
            api_name="stylize",
            concurrency_limit=1,
            concurrency_id="engine",
            show_progress_on=[status],
        )
        stop.click(_stopped, outputs=[status], cancels=[job], queue=False, api_visibility="private")
    demo.queue(max_size=limits.queue_size, default_concurrency_limit=1)
    return demo


def _stopped() -> str:
    """What the page says after Stop. (Not a toast: Stop skips the queue, so that it is never
    turned away when the queue is full, and toasts travel only with queued events.)"""
    return "**Stopped**: the run was cancelled and the machine is free. Press **Run** to start again."


def launch_options(limits: Limits | None = None) -> dict:
    """Keywords for ``demo.launch``: where to listen, the upload limit, no SSR."""
    limits = limits or Limits.for_device()
    return {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "max_file_size": limits.max_file_size,
        "ssr_mode": False,
        "css": CSS,
        "theme": gr.themes.Soft(),
    }


def _fetch_weights() -> None:
    """Fetch the VGG-19 weights (from the Hub on a Space) while the first visitor looks at the
    page, so that their run doesn't wait for the download; on ZeroGPU, outside the GPU's time."""
    try:
        preload()
    except StyleCoreError as exc:
        log.warning("%s", exc)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    threading.Thread(target=_fetch_weights, name="fetch-weights", daemon=True).start()
    limits = Limits.for_device()
    create_demo(limits=limits).launch(**launch_options(limits))


if __name__ == "__main__":
    main()
