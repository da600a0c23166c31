"""Regions: which part of the picture each painting repaints, and how the result is composed.

Without masks there is one region, the whole picture, painted with every style blended by
``style_blend``. With masks each style has its own region; where no mask covers, the photo is
kept as it is, and grey edges blend (:func:`compose`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor

from ..image import resize


@dataclass(frozen=True)
class Region:
    """Part of the picture painted with some styles: their indices and blend weights, and its
    mask (1, 1, H, W) at the content's size, or None for the whole picture."""

    styles: tuple[int, ...]
    blend: tuple[float, ...]
    mask: Tensor | None


def regions(masks: Sequence[Tensor] | None, blend: Sequence[float]) -> list[Region]:
    """One region of all the styles blended by ``blend`` (masks None), or one region per mask."""
    if masks is None:
        return [Region(tuple(range(len(blend))), tuple(blend), None)]
    return [Region((i,), (1.0,), mask) for i, mask in enumerate(masks)]


def at_resolution(mask: Tensor, width: int, height: int) -> Tensor:
    """A ``(1, 1, H, W)`` mask averaged (or interpolated, when enlarging) to ``height x width``."""
    if mask.shape[-2:] == (height, width):
        return mask
    if height <= mask.shape[-2] and width <= mask.shape[-1]:
        return F.interpolate(mask, size=(height, width), mode="area")
    return F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False).clamp(0, 1)


def compose(painted: Tensor, photo: Tensor, masks: Sequence[Tensor] | None) -> Tensor:
    """``painted`` (1, 3, H, W) where the masks cover, ``photo`` (resized to it) elsewhere."""
    if masks is None:
        return painted
    width, height = painted.shape[-1], painted.shape[-2]
    cover = sum(at_resolution(mask.to(painted.device), width, height) for mask in masks).clamp(0, 1)
    return cover * painted + (1 - cover) * resize(photo, width, height)
