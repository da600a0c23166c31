"""Upload boxes whose unreadable uploads give a one-line message naming the box."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import PIL.Image

from .messages import visitor_error


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
