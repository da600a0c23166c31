"""Masks: which part of the picture each style paints (and which part of a painting it is taken from).

A mask is a greyscale picture of the content's size: white = this style, black = not,
grey = a soft edge where styles (or the style and the untouched photo) blend. It may be a
path, a PIL image (modes ``L``, ``1``, ``LA``, ``I``, ``I;16``, ``F``, or RGB(A) or a palette
whose colours are all greys), a numpy array or a tensor (H, W), (1, H, W) or (1, 1, H, W); its values
are read as pixels are (:func:`style_core.image.unit_values`: uint8 0-255, uint16, bool,
floats in [0, 1], other whole numbers by their range).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from .errors import ImageError
from .image import DEFAULT_MAX_PIXELS, checked_pil, open_picture, unit_values

MaskInput = str | os.PathLike | Image.Image | np.ndarray | Tensor


def _from_pil(image: Image.Image, what: str) -> np.ndarray:
    if image.mode in ("RGB", "RGBA", "P", "PA"):
        rgb = np.asarray(image.convert("RGB"), dtype=np.int16)
        if (np.abs(rgb - rgb[..., :1]) > 1).any():
            raise ImageError(
                f"{what} has colours; a mask must be greyscale (white = this style, black = not)",
                hint="save it in greys only (mode L)",
            )
        return rgb[..., 0].astype(np.uint8)
    if image.mode in ("L", "1", "LA", "I", "F") or image.mode.startswith("I;16"):
        grey = image.getchannel(0) if image.mode == "LA" else image
        values = np.asarray(grey)
        return values.astype(np.uint16) if image.mode.startswith("I;16") else values
    raise ImageError(f"{what}: a picture in mode {image.mode}; a mask is greyscale", hint="save it as greyscale (L)")


def _from_array(array: np.ndarray, what: str) -> np.ndarray:
    """One channel of values read as :func:`style_core.image.unit_values` reads pixels."""
    array = np.squeeze(array)
    if array.ndim != 2:
        raise ImageError(f"{what}: an array of shape {array.shape}; a mask is one channel (H, W)")
    return unit_values(array, what)


def load_mask(source: MaskInput, what: str, size: tuple[int, int], *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Tensor:
    """``source`` as a ``(1, 1, H, W)`` float32 map in [0, 1], checked to be ``size`` (width, height).
    A path is read as every picture is (:func:`style_core.image.open_picture`: a regular file,
    at most ``max_pixels``)."""
    if isinstance(source, (str, os.PathLike)):
        named = f"{what} '{source}'"
        with open_picture(Path(source), named, max_pixels) as image:
            values = _from_array(_from_pil(image, named), named)
    elif isinstance(source, Image.Image):
        values = _from_array(_from_pil(checked_pil(source, what, max_pixels), what), what)
    elif isinstance(source, np.ndarray):
        values = _from_array(source, what)
    elif isinstance(source, Tensor):
        tensor = source.detach().cpu()
        values = _from_array(tensor.numpy() if tensor.dtype != torch.bfloat16 else tensor.float().numpy(), what)
    else:
        raise ImageError(f"{what}: can't read a {type(source).__name__}; pass a path, PIL image, array or tensor")
    height, width = values.shape
    if (width, height) != tuple(size):
        raise ImageError(
            f"{what} is {width}x{height}, the picture it masks is {size[0]}x{size[1]}",
            hint=f"give a mask of {size[0]}x{size[1]} pixels",
        )
    return torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))[None, None]


def load_masks(
    sources: Sequence[MaskInput], what: str, sizes: Sequence[tuple[int, int]], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> list[Tensor]:
    """One mask per picture of ``sizes``; ``what`` names them ("mask" → "mask 1", "mask 2", ...)."""
    if len(sources) != len(sizes):
        raise ImageError(f"{len(sources)} {what}s for {len(sizes)} style images; give one per style image, in order")
    return [
        load_mask(source, f"{what} {i + 1}", size, max_pixels=max_pixels)
        for i, (source, size) in enumerate(zip(sources, sizes, strict=True))
    ]
