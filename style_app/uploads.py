"""What a visitor may send: files Gradio received from them, in upload boxes whose unreadable
uploads give a one-line message naming the box.

Gradio checks that a file argument is one of its uploads only when the payload carries
``meta: {"_type": "gradio.FileData"}``; an image payload without it (``{"path": "/srv/a.png"}``)
reaches the component, which opens whatever path it names. :func:`accept_only_uploads` puts
every argument of every event through one check before Gradio touches it: its shape is the
component's (Gradio's own validation), and each file in it, at any depth, is in Gradio's upload
folder (Gradio's own test of an upload). A refusal is one line naming the parameter.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import gradio.utils as gr_utils
import PIL.Image
from gradio.blocks import BlockFunction
from gradio_client.utils import is_http_url_like

from .messages import visitor_error

#: The one line for a file that Gradio did not receive from the visitor.
NOT_UPLOADED = (
    "{name}: this app reads only files uploaded to it, not a path on the server, a URL or a data: URL; "
    "upload the file (gradio_client: handle_file)"
)


def image_input(label: str, value: str | None = None, **options: Any) -> gr.Image:
    """An upload box handing the engine the file's path.

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
            raise visitor_error(f"{label}: the image has too many pixels; shrink it first") from exc
        except (PIL.UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            name = Path(getattr(payload, "orig_name", None) or "the file").name
            raise visitor_error(f"{label}: {name} is not an image, or a format that can't be read") from exc

    box.preprocess = checked
    return box


def checked_by_the_engine(component: gr.components.Component) -> gr.components.Component:
    """``component`` handing its value to the handler as it came, for the engine's settings
    checks to judge: gradio's own checks of a slider or number box raise a raw TypeError for
    None or text, and let NaN through."""
    component.preprocess = lambda payload: payload
    return component


def accept_only_uploads(demo: gr.Blocks) -> gr.Blocks:
    """``demo`` checking every event's arguments with :func:`check_argument` before Gradio
    reads them (its ``preprocess_data``, the one step every route takes: the queue, ``/call``,
    ``/run``)."""
    preprocess_data = demo.preprocess_data

    async def checked(block_fn: BlockFunction, inputs: list[Any], *args: Any, **kwargs: Any) -> list[Any]:
        for name, block, value in zip(_parameter_names(block_fn), block_fn.inputs, inputs, strict=False):
            check_argument(name, block, value, demo.blocked_paths)
        return await preprocess_data(block_fn, inputs, *args, **kwargs)

    demo.preprocess_data = checked  # type: ignore[method-assign]
    return demo


def check_argument(name: str, block: gr.blocks.Block, value: Any, blocked_paths: Sequence[str] = ()) -> None:
    """Refuse (a :class:`gr.Error`) an argument ``value`` for ``block`` that holds a file Gradio
    did not receive from the visitor, or is not of the component's shape."""
    if value is None:
        return
    if not all(_received(file, blocked_paths) for file in _files(value)):
        raise visitor_error(NOT_UPLOADED.format(name=name))
    model = getattr(block, "data_model", None)
    if model is not None:
        try:
            model.model_validate(value, context={"validate_meta": True})  # as Gradio does next
        except ValueError as exc:  # pydantic's ValidationError (gradio's dependency, not the Space's)
            error = exc.errors()[0]  # type: ignore[attr-defined]
            where = ".".join(str(part) for part in error["loc"])
            raise visitor_error(
                f"{name}: not a value this parameter takes ({where + ': ' if where else ''}{error['msg']}); "
                "see the app's API page for its shape"
            ) from None


def _parameter_names(block_fn: BlockFunction) -> list[str]:
    """The names of ``block_fn``'s inputs as the API shows them (its function's parameters),
    else the components' labels."""
    labels = [getattr(block, "label", None) or type(block).__name__ for block in block_fn.inputs]
    try:
        names = list(inspect.signature(block_fn.fn).parameters) if block_fn.fn else []
    except (TypeError, ValueError):
        names = []
    return names if len(names) >= len(labels) else labels


def _files(value: Any) -> Iterator[dict[str, Any]]:
    """Every file object in a payload (a dict with a ``path`` or a ``url``), at any depth:
    an image, or the editor's background, layers and composite."""
    if isinstance(value, dict):
        if "path" in value or "url" in value:
            yield value
        for item in value.values():
            yield from _files(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _files(item)


def _received(file: dict[str, Any], blocked_paths: Sequence[str]) -> bool:
    """Whether Gradio received ``file`` from the visitor: its path a file in Gradio's upload
    folder, as Gradio tests an upload (:func:`gradio.utils.is_allowed_file`), and no data: URL
    (which Gradio would decode, past the upload size limit). A ``url`` beside a path is never read."""
    path, url = file.get("path"), file.get("url")
    if isinstance(url, str) and url.startswith("data:"):
        return False
    if path is None:
        return True  # nothing to open (an image without a path is refused as unreadable)
    if not isinstance(path, str) or is_http_url_like(path):
        return False
    try:
        allowed, _ = gr_utils.is_allowed_file(
            gr_utils.abspath(path),
            blocked_paths=blocked_paths,
            allowed_paths=[],
            created_paths=[gr_utils.get_upload_folder()],
        )
        return allowed and os.path.isfile(path)
    except (OSError, ValueError):  # a NUL byte, a name too long
        return False
