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


def _cuts(length: int, count: int, align: int) -> list[int]:
    """Where ``count`` cores of one axis begin and end: aligned, as even as alignment allows
    (fewer where a core would span less than one step of the deepest layer)."""
    cuts = [0]
    for i in range(1, count):
        cut = round(length * i / count / align) * align
        if cuts[-1] < cut <= length - align:  # every core spans at least one step of the deepest layer
            cuts.append(cut)
    return [*cuts, length]


def _spans(cuts: list[int], length: int, extra: int) -> list[int]:
    """The crops' lengths along one axis for cores between ``cuts``, with margins ``extra``."""
    return [min(length, end + extra) - max(0, start - extra) for start, end in itertools.pairwise(cuts)]


def _tiles(rows: list[int], columns: list[int], height: int, width: int, extra: int) -> list[Tile]:
    tiles = []
    for top, bottom in itertools.pairwise(rows):
        for left, right in itertools.pairwise(columns):
            crop = Box(
                max(0, top - extra), max(0, left - extra), min(height, bottom + extra), min(width, right + extra)
            )
            tiles.append(Tile(Box(top, left, bottom, right), crop))
    return tiles


def layout(width: int, height: int, core: int, deepest: str) -> list[Tile]:
    """Tiles covering a ``width`` x ``height`` picture with cores of at most about ``core``
    pixels a side (a multiple of the stride of ``deepest``); one tile when it fits."""
    align = stride(deepest)
    core = max(align, core // align * align)
    rows = _cuts(height, max(1, math.ceil(height / core)), align)
    columns = _cuts(width, max(1, math.ceil(width / core)), align)
    return _tiles(rows, columns, height, width, margin(deepest))


def fitted_layout(width: int, height: int, budget: int, deepest: str) -> list[Tile]:
    """Tiles covering a ``width`` x ``height`` picture whose crops hold at most ``budget`` pixels
    each (what the memory holds), cut into the rows and columns that send the fewest pixels
    through the network, margins included: one tile when the picture fits, and cores as
    wide or as tall as the picture when that costs less (a 1024x768 picture in 0.8 Mpx
    crops is one tile, not four square ones). Square cores when no grid fits."""
    align, extra = stride(deepest), margin(deepest)
    if width * height <= budget:
        return _tiles([0, height], [0, width], height, width, extra)
    narrowest = min(width, align + extra)  # no crop is narrower than a core of one step
    best: tuple[tuple[int, int], list[int], list[int]] | None = None
    for row_count in range(1, math.ceil(height / align) + 1):
        rows = _cuts(height, row_count, align)
        row_spans = _spans(rows, height, extra)
        tallest = max(row_spans)
        if best is not None and sum(row_spans) * width >= best[0][0]:
            break  # more rows only add margins
        if tallest * narrowest > budget:
            continue  # rows this tall fit no column
        for column_count in range(1, math.ceil(width / align) + 1):
            columns = _cuts(width, column_count, align)
            column_spans = _spans(columns, width, extra)
            if tallest * max(column_spans) <= budget:
                cost = (sum(row_spans) * sum(column_spans), (len(rows) - 1) * (len(columns) - 1))
                if best is None or cost < best[0]:
                    best = (cost, rows, columns)
                break  # more columns only add margins
    if best is None:
        return layout(width, height, core_side(budget, deepest), deepest)
    return _tiles(best[1], best[2], height, width, extra)


def crop_pixels(memory_bytes: float) -> int:
    """The most pixels a crop may have for its activations to fit in ``memory_bytes``."""
    return int(memory_bytes / BYTES_PER_PIXEL)


def core_side(budget: int, deepest: str) -> int:
    """The longest side of a square core whose crop holds at most ``budget`` pixels."""
    return max(stride(deepest), int(math.sqrt(budget)) - 2 * margin(deepest))


@dataclass(frozen=True)
class Tiling:
    """How a job cuts its pictures: square cores of ``core_side`` pixels a side (the
    ``tile_size`` setting) when it is set, else crops of at most ``crop_pixels`` pixels (what
    the device's memory holds) cut by :func:`fitted_layout`."""

    core_side: int = 0
    crop_pixels: int = 0

    def layout(self, width: int, height: int, deepest: str) -> list[Tile]:
        """The tiles of a ``width`` x ``height`` picture for a network up to ``deepest``."""
        if self.core_side:
            return layout(width, height, self.core_side, deepest)
        return fitted_layout(width, height, self.crop_pixels, deepest)
