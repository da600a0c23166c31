"""One stylization: :class:`Job` checks the inputs, plans the stages, runs them and yields events.

Data flow: images in → colour preparation → for each coarse-to-fine stage, targets built once
(content features, blended style statistics) → iterations, each yielding a
:class:`~style_core.events.Progress` → a :class:`~style_core.events.Finished` event with the
:class:`~style_core.events.Result`. Closing the generator stops the work at the next
iteration. The job loads and checks everything into one frozen
:class:`~style_core.engine.inputs.RunInputs` and plans (:mod:`~style_core.engine.plan`); the
engine's :func:`~style_core.engine.runner.run` does the rest.
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .engine.device import resolve_device
from .engine.inputs import RunInputs
from .engine.objective import Anchor
from .engine.plan import Plan, make_plan
from .engine.runner import run
from .engine.tiles import Tiling, crop_pixels
from .engine.vgg import deepest_layer
from .errors import ImageError, InvalidSettingError, OutOfMemoryError, StyleCoreError
from .events import Event, Finished, Result
from .image import DEFAULT_MAX_PIXELS, ImageInput, RGBImage, check_max_pixels, load_image, output_size
from .masks import MaskInput, load_masks
from .settings import Settings

#: Memory for one tile's forward and backward pass on a CPU, in bytes; on CUDA, this share of
#: the free memory.
CPU_TILE_MEMORY = 1.5e9
CUDA_TILE_SHARE = 0.5


def tile_memory(device: torch.device) -> float:
    """Bytes one tile's forward and backward pass may use on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return CUDA_TILE_SHARE * free
    if device.type == "mps":
        return CUDA_TILE_SHARE * torch.mps.recommended_max_memory()
    return CPU_TILE_MEMORY


#: What one picture (or mask) may be given as; anything else that is iterable is a list of them.
_ONE_PICTURE = (str, bytes, os.PathLike, Image.Image, np.ndarray, Tensor)


def as_list(items: Any, what: str) -> list[Any]:
    """``items`` as a list: one picture (a path, an image, an array) alone becomes a list of one,
    any other iterable (a list, a tuple, a generator) is read once; else :class:`ImageError`."""
    if isinstance(items, _ONE_PICTURE):
        return [items]
    if isinstance(items, Iterable) and not isinstance(items, Mapping):
        return list(items)
    raise ImageError(
        f"{what}: got a {type(items).__name__}; expected a picture or a list of them",
        hint="pass a path, a PIL image, an array or a tensor, or a list of them",
    )


def load_styles(
    styles: ImageInput | Sequence[ImageInput],
    settings: Settings | Mapping[str, Any] | None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[list[RGBImage], Settings]:
    """The style images loaded (one may be given alone) and the settings checked for them: what
    every job kind (a picture, a batch, a video) begins with."""
    style_list = as_list(styles, "styles")
    if not style_list:
        raise StyleCoreError("at least one style image is needed")
    if not isinstance(settings, Settings):
        settings = Settings.from_options({} if settings is None else settings)
    settings = settings.for_styles(len(style_list))
    loaded = [load_image(s, f"style image {i + 1}", max_pixels=max_pixels) for i, s in enumerate(style_list)]
    return loaded, settings


JobKind = TypeVar("JobKind")


def job_from_keywords(job_class: Callable[..., JobKind], *inputs: Any, options: Mapping[str, Any]) -> JobKind:
    """``job_class(*inputs, settings, **keywords)``: ``options`` split into the class's own
    keywords and the settings' fields, so that each job kind declares its keywords once (the
    ``stylize*`` functions take them as they are)."""
    own = set(inspect.signature(job_class).parameters) - {"settings"}
    keywords = {name: value for name, value in options.items() if name in own}
    settings = {name: value for name, value in options.items() if name not in own}
    return job_class(*inputs, settings, **keywords)


def _as_image(source: ImageInput | Result, what: str, max_pixels: int) -> RGBImage:
    if isinstance(source, Result):
        return RGBImage(source.rgb, source.alpha)
    return load_image(source, what, max_pixels=max_pixels)


class Job:
    """A stylization, checked and planned; :meth:`run` (or iterating) does the work.

    Args:
        content: the photo: a path, a PIL image, a numpy array (H, W[, C]) or a tensor (C, H, W).
        styles: one style image or a list of them (same kinds as ``content``).
        settings: a :class:`~style_core.settings.Settings` or a mapping of its fields.
        masks: one mask per style (see :mod:`style_core.masks`): each style paints only where
            its mask is white; where no mask covers, the photo is kept as it is. Soft edges blend.
        style_masks: per style, a mask of the painting (or None) whose white part the style is
            taken from.
        init: a previous result (a :class:`~style_core.events.Result`, path, image or tensor)
            to refine: the run starts from it at full size.
        anchor: a picture to stay close to where its mask says (see
            :class:`~style_core.engine.objective.Anchor`); video uses it to tie a frame to the last.
        max_pixels: the most pixels an input image may have.

    Raises :class:`~style_core.errors.StyleCoreError` subclasses for bad input, here, before
    any long work.
    """

    def __init__(
        self,
        content: ImageInput,
        styles: ImageInput | Sequence[ImageInput],
        settings: Settings | Mapping[str, Any] | None = None,
        *,
        masks: Sequence[MaskInput] | None = None,
        style_masks: Sequence[MaskInput | None] | None = None,
        init: ImageInput | Result | None = None,
        anchor: Anchor | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.max_pixels = check_max_pixels(max_pixels)
        self.styles, self.settings = load_styles(styles, settings, self.max_pixels)
        self.content = load_image(content, "content image", max_pixels=self.max_pixels)
        output_size(*self.content.size, self.settings.size)
        self.masks = None if masks is None else self._masks(masks)
        self.style_masks = self._style_masks(style_masks)
        self.init = None if init is None else self._init(_as_image(init, "init image", max_pixels))
        self.anchor = anchor
        self.device = resolve_device(self.settings.device)
        deepest = deepest_layer(self.settings.layers)
        if self.settings.tile_size:
            self.tiling = Tiling(core_side=self.settings.tile_size)
        else:
            self.tiling = Tiling(crop_pixels=crop_pixels(tile_memory(self.device)))
        self.plan: Plan = make_plan(
            self.settings, self.content.size, tiling=self.tiling, deepest=deepest, refine=self.init is not None
        )
        self.inputs = RunInputs(
            settings=self.settings,
            content=self.content,
            styles=tuple(self.styles),
            masks=None if self.masks is None else tuple(self.masks),
            style_masks=tuple(self.style_masks),
            init=self.init,
            anchor=self.anchor,
            device=self.device,
            tiling=self.tiling,
            plan=self.plan,
        )

    def _masks(self, masks: Sequence[MaskInput]) -> list[Tensor]:
        if self.settings.style_blend is not None:
            raise InvalidSettingError(
                "style_blend weighs paintings blended over the whole picture; with masks each paints its own region",
                hint="leave style_blend out",
            )
        loaded = load_masks(
            as_list(masks, "masks"), "mask", [self.content.size] * len(self.styles), max_pixels=self.max_pixels
        )
        for i, mask in enumerate(loaded):
            if float(mask.max()) <= 0:
                raise ImageError(f"mask {i + 1} is black everywhere: style {i + 1} would paint nothing")
        return loaded

    def _style_masks(self, style_masks: Sequence[MaskInput | None] | None) -> list[Tensor | None]:
        if style_masks is None:
            return [None] * len(self.styles)
        style_masks = as_list(style_masks, "style_masks")
        if len(style_masks) != len(self.styles):
            raise ImageError(
                f"{len(style_masks)} style masks for {len(self.styles)} style images",
                hint="give one per style image, in order (None where the whole painting counts)",
            )
        loaded = []
        for i, (mask, style) in enumerate(zip(style_masks, self.styles, strict=True)):
            if mask is not None:
                mask = load_masks([mask], "style mask", [style.size], max_pixels=self.max_pixels)[0]
            loaded.append(mask)
            if loaded[-1] is not None and float(loaded[-1].max()) <= 0:
                raise ImageError(f"style mask {i + 1} is black everywhere: no part of painting {i + 1} is left")
        return loaded

    def _init(self, init: RGBImage) -> RGBImage:
        """``init`` if it has the photo's shape (any size: it is scaled to the output); else
        :class:`ImageError`, rather than a result stretched out of shape."""
        (width, height), (photo_width, photo_height) = init.size, self.content.size
        if abs(width * photo_height - height * photo_width) > max(width, height, photo_width, photo_height):
            raise ImageError(
                f"init image is {width}x{height}, another shape than the photo's {photo_width}x{photo_height}; "
                "it would be stretched",
                hint="give a result painted from this photo (any size of the same shape), or crop it to that shape",
            )
        return init

    def __iter__(self) -> Iterator[Event]:
        return self.run()

    def run(self) -> Iterator[Event]:
        """Yield a :class:`~style_core.events.Progress` per iteration, then
        :class:`~style_core.events.Finished`. Closing the generator stops the work."""
        started = time.perf_counter()
        try:
            yield from run(self.inputs, started)
        except (torch.OutOfMemoryError, MemoryError) as exc:
            raise OutOfMemoryError(
                f"out of memory at {self.plan.width}x{self.plan.height} px on {self.device.type}"
            ) from exc

    def result(self) -> Result:
        """Run to the end and return the result."""
        for event in self.run():
            if isinstance(event, Finished):
                return event.result
        raise AssertionError("a run ended without a result")  # pragma: no cover
