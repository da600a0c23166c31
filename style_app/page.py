"""The page: photo and paintings, their regions (painted on the photo or uploaded as masks),
the settings (generated from the schema), Run, Refine and Stop, the result as it forms; and
how the server is launched."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

import gradio as gr

from style_core import __version__, preload, stylize_iter
from style_core.errors import StyleCoreError
from style_core.settings import Spec

from .controls import SLOTS, app_specs, control, slot_name, slot_weight
from .examples import CREDITS, example_rows
from .handler import API, PAGE, PREVIEW_INTERVAL, Engine, View, make_handler
from .limits import Limits
from .messages import tell_operator
from .parameters import descriptions, parameter_names
from .regions import LEGEND, editor, editor_value
from .uploads import accept_only_uploads, checked_by_the_engine, image_input

CSS = """
#output img { object-fit: contain; }
#status { min-height: 5em; }
#status progress { width: 100%; height: 0.8em; appearance: none; border: none; border-radius: 999px; }
#status progress::-webkit-progress-bar { background: var(--neutral-200); border-radius: 999px; }
#status progress::-webkit-progress-value { background: var(--color-accent); border-radius: 999px; }
#status progress::-moz-progress-bar { background: var(--color-accent); border-radius: 999px; }
#download .empty { min-height: 4.5em; }
#download .empty .icon { height: 1.5em; }
.footnote { font-size: 0.85em; opacity: 0.8; }
"""

INTRO = """# Paint your photo like a painting
Pick a **photo** and a **painting** (or click an example below), press **Run**, and watch the
picture form: it starts small and coarse and grows sharper stage by stage. **Regions** give
each painting its own part of the photo. **Refine the result** runs more iterations at full
size from the last result. Neural style transfer (Gatys et al.) with VGG-19: the pixels are
optimised until the photo's shapes carry the painting's textures and colours.
"""

#: What the page says after Stop. (Not a toast: Stop skips the queue, so that it is never
#: turned away when the queue is full, and toasts travel only with queued events.)
STOPPED = "**Stopped**: the run was cancelled and the machine is free. Press **Run** to start again."

Widgets = dict[str, gr.components.Component]


def _paintings(example: Sequence[str | None], blend: Spec | None) -> Widgets:
    """The photo and the painting slots, each painting with its weight (``style_blend``)."""
    with gr.Row():
        widgets = {
            "content": image_input("Your photo", example[0], elem_id="content", height=260),
            "style_1": image_input("Painting 1", example[1], elem_id="style_1", height=260),
        }
    with gr.Accordion("More paintings", open=False, elem_id="blend"):
        gr.Markdown(
            "Blended over the whole photo, each by its weight; or each in its own region (Regions, below).",
            elem_classes="footnote",
        )
        with gr.Row():
            for slot in range(2, SLOTS + 1):
                widgets[f"style_{slot}"] = image_input(f"Painting {slot}", elem_id=f"style_{slot}", height=160)
        if blend is not None:
            with gr.Row():
                for slot in range(1, SLOTS + 1):
                    widgets[slot_name(blend, slot)] = checked_by_the_engine(slot_weight(blend, slot))
    return widgets


def _regions(photo: str | None, limits: Limits) -> Widgets:
    """The regions: painted over the photo in the editor, or uploaded as masks."""
    with gr.Accordion("Regions: a painting for each part of the photo", open=False, elem_id="regions"):
        gr.Markdown(LEGEND, elem_classes="footnote")
        widgets: Widgets = {"regions": editor(photo, limits, label="Regions", elem_id="regions_editor", height=420)}
        with gr.Accordion("Or upload a mask per painting", open=False, elem_id="masks"):
            gr.Markdown(
                "A greyscale picture of the photo's size: white where the painting goes, black where not.",
                elem_classes="footnote",
            )
            with gr.Row():
                for slot in range(1, SLOTS + 1):
                    name = f"mask_{slot}"
                    widgets[name] = image_input(f"Mask {slot}", elem_id=name, height=140)
    return widgets


def describe(components: Sequence[gr.components.Component], texts: Mapping[str, str]) -> None:
    """Give each API parameter its description (what ``client.view_api()`` shows beside it):
    ``texts`` by parameter name, in the order of ``components``. gradio takes it from the
    component's ``api_info_as_input()``, not from the handler's docstring."""
    for component, text in zip(components, texts.values(), strict=True):
        info = component.api_info_as_input()
        component.api_info_as_input = lambda info=info, text=text: {**info, "additional_description": text}


def _settings(specs: Sequence[Spec]) -> Widgets:
    """The basic settings, then the advanced ones in a closed accordion (per-style ones are
    with their paintings)."""
    widgets: Widgets = {}
    for spec in specs:
        if spec.tier == "basic" and not spec.per_style:
            widgets[spec.name] = checked_by_the_engine(control(spec))
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        for spec in specs:
            if spec.tier == "advanced" and not spec.per_style:
                widgets[spec.name] = checked_by_the_engine(control(spec))
    return widgets


def create_demo(
    *, engine: Engine = stylize_iter, limits: Limits | None = None, preview_interval: float = PREVIEW_INTERVAL
) -> gr.Blocks:
    """Build the page. ``engine`` is :func:`style_core.stylize_iter` or a callable like it."""
    limits = limits or Limits.for_device()
    specs = app_specs(limits.overrides())
    examples = example_rows()

    def handler(refine: bool, view: View) -> Callable[..., Iterator[tuple]]:
        return make_handler(engine, limits, specs, refine=refine, view=view, preview_interval=preview_interval)

    blend = next((spec for spec in specs if spec.per_style), None)

    with gr.Blocks(title="style_core: paint your photo", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            with gr.Column(scale=1):
                widgets = _paintings(examples[0], blend)
                widgets |= _regions(examples[0][0], limits)
                widgets |= _settings(specs)
                with gr.Row():
                    run = gr.Button("Run", variant="primary", elem_id="run")
                    again = gr.Button("Refine the result", elem_id="refine")
                    stop = gr.Button("Stop", variant="stop", elem_id="stop")
            with gr.Column(scale=1):
                output = gr.Image(
                    label="Result", type="pil", format="webp", interactive=False, elem_id="output", height=460
                )
                status = gr.Markdown("Press **Run** to start.", label="Run status", elem_id="status")
                result = gr.File(
                    label="Download PNG (the recipe is inside)", elem_id="download", height=60, interactive=False
                )
        gr.Examples(
            examples,
            inputs=[widgets["content"], *(widgets[f"style_{slot}"] for slot in range(1, SLOTS))],
            label="Examples: click one, then Run",
        )
        gr.Markdown(
            f"style_core {__version__} · one job at a time, the others wait in the queue and see their place · "
            f"{limits.describe()}.  \n{CREDITS}",
            elem_classes="footnote",
        )
        inputs = [widgets[name] for name in parameter_names(specs)]
        describe([result, *inputs], descriptions(specs, refine=True))
        events = {"outputs": [output, result, status], "concurrency_id": "engine", "concurrency_limit": 1}
        page = {"show_progress_on": [status], "api_visibility": "private", **events}
        jobs = [
            run.click(handler(False, PAGE), inputs=inputs, api_name="page_stylize", **page),
            again.click(handler(True, PAGE), inputs=[result, *inputs], api_name="page_refine", **page),
        ]
        stopped = {"outputs": [status], "queue": False, "api_visibility": "private"}
        # Said again once the cancel is through: a last update of the run, already on its way,
        # would otherwise overwrite it (seen on a busy machine).
        stop.click(lambda: STOPPED, cancels=jobs, **stopped).then(lambda: STOPPED, **stopped)
        # The API for scripts: the same work, with plain values (see style_app.handler.API)
        gr.on([], handler(False, API), inputs=inputs, api_name="stylize", **events)
        gr.on([], handler(True, API), inputs=[result, *inputs], api_name="refine", **events)
        widgets["content"].change(
            partial(editor_value, max_pixels=limits.max_pixels),
            inputs=widgets["content"],
            outputs=widgets["regions"],
            queue=False,
            show_progress="hidden",
            api_name="editor_value",  # a partial has no name of its own
            api_visibility="private",
        )
    demo.queue(max_size=limits.queue_size, default_concurrency_limit=1)
    return accept_only_uploads(demo)


def launch_options(limits: Limits | None = None) -> dict[str, Any]:
    """Keywords for ``demo.launch``: where to listen, the upload limit, no SSR."""
    limits = limits or Limits.for_device()
    return {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "max_file_size": limits.max_file_size,
        "ssr_mode": False,
        "css": CSS,
        "theme": gr.themes.Soft(),
    }


def fetch_weights() -> None:
    """Load the VGG-19 weights (from the Hub on a Space, else the offline ones) while the first
    visitor looks at the page, so that their run doesn't wait for them. Without weights the
    page still serves; runs say so, and the operator's ways out are logged here."""
    try:
        preload()
    except StyleCoreError as exc:
        tell_operator(exc)


def server_limits() -> Limits:
    """This server's :class:`Limits`; a ``STYLE_APP_*`` variable it can't use ends the process
    with one line (exit status 2), before any work."""
    try:
        return Limits.for_device()
    except StyleCoreError as exc:
        print(f"style_app: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def main(demo: gr.Blocks | None = None) -> None:
    """Serve ``demo`` (default: a new :func:`create_demo`), as ``python app.py`` does."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    limits = server_limits()
    threading.Thread(target=fetch_weights, name="fetch-weights", daemon=True).start()
    (demo or create_demo(limits=limits)).launch(**launch_options(limits))
