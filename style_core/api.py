"""The one-call entry points: :func:`stylize_iter` yields events, :func:`stylize` returns the picture."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from PIL import Image

from .events import Event
from .image import DEFAULT_MAX_PIXELS, ImageInput
from .job import Job
from .masks import MaskInput


def stylize_iter(
    content: ImageInput,
    styles: ImageInput | Sequence[ImageInput],
    *,
    masks: Sequence[MaskInput] | None = None,
    style_masks: Sequence[MaskInput | None] | None = None,
    init: Any = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    **settings: Any,
) -> Iterator[Event]:
    """Stylise ``content`` with one or more ``styles``: a :class:`~style_core.events.Progress`
    per iteration, then :class:`~style_core.events.Finished` carrying the result.

    ``settings`` are the fields of :class:`~style_core.settings.Settings` (``size=512``,
    ``style_strength=1.0``, ...). ``masks``: one per style, where it paints (white); the rest
    of the photo is kept. ``style_masks``: per style, the part of the painting to take it from.
    ``init``: a previous result to refine. The inputs are checked
    when this is called, before any work: bad ones raise a
    :class:`~style_core.errors.StyleCoreError`. Closing the generator (or breaking out of the
    loop) stops the work after the current iteration.
    """
    job = Job(content, styles, settings, masks=masks, style_masks=style_masks, init=init, max_pixels=max_pixels)
    return job.run()


def stylize(content: ImageInput, styles: ImageInput | Sequence[ImageInput], **options: Any) -> Image.Image:
    """Stylise ``content`` with ``styles`` and return the picture (RGBA if the content had
    alpha). Takes the same arguments as :func:`stylize_iter`."""
    inputs = {name: options.pop(name) for name in ("masks", "style_masks", "init", "max_pixels") if name in options}
    return Job(content, styles, options, **inputs).result().image
