"""Cutting a picture into tiles whose cores get exactly the features of the whole picture.

A tile is a *core* (the part of the picture it is responsible for) and a *crop*: the core
widened by a margin at least the receptive-field radius of the deepest layer in use, clipped
to the picture. Every feature whose position lies in the core sees only pixels inside the
crop, and where the crop meets the picture's edge the network pads exactly as it pads the
whole picture, so core features equal the whole picture's. Cores and crops start at
multiples of the network's largest stride, so poolings see the same windows. The cores
partition the picture and, at every layer, its feature positions: statistics that are sums
over positions (Gram matrices, means) add up over tiles exactly.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from torch import Tensor

from .vgg import receptive_radius, stride

#: Bytes of activation memory per crop pixel for one forward and backward pass of VGG-19 up to
#: relu5_1 in float32 with in-place ReLUs (measured on the CPU as the peak RSS of one crop's pass).
BYTES_PER_PIXEL = 1900


@dataclass(frozen=True)
class Box:
    """Rows ``top:bottom`` and columns ``left:right`` of a picture, in pixels."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def pixels(self) -> int:
        return self.height * self.width

    def of(self, image: Tensor) -> Tensor:
        """This box of ``(B, C, H, W)``."""
        return image[..., self.top : self.bottom, self.left : self.right]


@dataclass(frozen=True)
class Tile:
    """A ``core`` box, and the ``crop`` box the network sees to compute the core's features."""

    core: Box
    crop: Box

    def core_of(self, features: Tensor, layer_stride: int) -> Tensor:
        """The core's part of ``(B, C, h, w)`` features of the crop at a layer of ``layer_stride``
        (all of them when the tile is the whole picture, which may have been padded)."""
        if self.core == self.crop:
            return features
        top = (self.core.top - self.crop.top) // layer_stride
        left = (self.core.left - self.crop.left) // layer_stride
        bottom = (self.core.bottom - self.crop.top) // layer_stride
        right = (self.core.right - self.crop.left) // layer_stride
        return features[..., top:bottom, left:right]


def margin(deepest: str) -> int:
    """The margin a crop needs around its core for ``deepest`` (a layer name): its
    receptive-field radius, rounded up to the layer's stride (relu5_1: 96 px)."""
    step = stride(deepest)
    return math.ceil(receptive_radius(deepest) / step) * step


def _cuts(length: int, core: int, align: int) -> list[int]:
    """Where the cores of one axis begin and end: aligned, as even as alignment allows."""
    count = max(1, math.ceil(length / core))
    cuts = [0]
    for i in range(1, count):
        cut = round(length * i / count / align) * align
        if cuts[-1] < cut <= length - align:  # every core spans at least one step of the deepest layer
            cuts.append(cut)
    return [*cuts, length]


def layout(width: int, height: int, core: int, deepest: str) -> list[Tile]:
    """Tiles covering a ``width`` x ``height`` picture with cores of at most about ``core``
    pixels a side (a multiple of the stride of ``deepest``); one tile when it fits."""
    align = stride(deepest)
    core = max(align, core // align * align)
    extra = margin(deepest)
    tiles = []
    rows, columns = _cuts(height, core, align), _cuts(width, core, align)
    for top, bottom in itertools.pairwise(rows):
        for left, right in itertools.pairwise(columns):
            crop = Box(
                max(0, top - extra), max(0, left - extra), min(height, bottom + extra), min(width, right + extra)
            )
            tiles.append(Tile(Box(top, left, bottom, right), crop))
    return tiles


def core_side(memory_bytes: float, deepest: str) -> int:
    """The longest core side whose crop's activations fit in ``memory_bytes``."""
    crop = math.sqrt(memory_bytes / BYTES_PER_PIXEL)
    return max(stride(deepest), int(crop) - 2 * margin(deepest))
