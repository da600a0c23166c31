"""The one-call entry points: :func:`stylize_iter` yields events, :func:`stylize` returns the picture."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from PIL import Image

from .events import Event
from .image import ImageInput
from .job import Job, job_from_keywords


def stylize_iter(content: ImageInput, styles: ImageInput | Sequence[ImageInput], **options: Any) -> Iterator[Event]:
    """Stylize ``content`` with one or more ``styles``: a :class:`~style_core.events.Progress`
    per iteration, then :class:`~style_core.events.Finished` carrying the result.

    ``options`` are :class:`~style_core.job.Job`'s keywords (``masks``: one per style, where it
    paints; ``style_masks``: per style, the part of the painting to take it from; ``init``: a
    previous result to refine; ``max_pixels``) and the fields of
    :class:`~style_core.settings.Settings` (``size=512``, ``style_strength=1.0``, ...). The
    inputs are checked when this is called, before any work: bad ones raise a
    :class:`~style_core.errors.StyleCoreError`. Closing the generator (or breaking out of the
    loop) stops the work after the current iteration.
    """
    return job_from_keywords(Job, content, styles, options=options).run()


def stylize(content: ImageInput, styles: ImageInput | Sequence[ImageInput], **options: Any) -> Image.Image:
    """Stylize ``content`` with ``styles`` and return the picture (RGBA if the content had
    alpha). Takes the same arguments as :func:`stylize_iter`."""
    return job_from_keywords(Job, content, styles, options=options).result().image
