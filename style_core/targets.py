"""The targets of one stage, computed once: the content's features, the styles' blended statistics.

Each picture goes through the network once per stage (:func:`measure`), tile by tile when it
is bigger than a tile (:mod:`style_core.tiles`), without autograd: feature maps are
assembled from the tiles' cores and statistics merged over them, so the targets equal the
whole picture's.

Paintings are often smaller than the output. Scaled up to the output, their finest
statistics go blurry, and so would the result. After Gatys et al. 2017 ("Controlling
Perceptual Factors in Neural Style Transfer", on scale): the fine layers, which see a few
pixels, take their statistics from the painting at its own resolution whenever the stage
would enlarge it; the coarse layers, which carry the layout of strokes and motifs, take
theirs from the painting scaled to the stage. The result's fine texture stays as crisp as
the painting's brushwork at any output size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from .image import resize, size_for_long_side
from .style_losses import Stats, StyleLoss
from .tiles import Tile, layout
from .vgg import VGG19Features, deepest_layer, stride

#: Layers whose statistics come from the painting at its own resolution when the stage
#: would enlarge it: those a step of at most 2 pixels apart (relu1_x, relu2_x).
FINE_STRIDE = 2


@dataclass
class Measures:
    """What one pass over a picture gives: assembled ``maps`` ``{layer: (1, C, H/s, W/s)}``,
    ``statistics`` ``{layer: Stats}`` under each layer's loss, and ``energy`` ``{layer:
    mean(f²)}`` (a scalar tensor)."""

    maps: dict[str, Tensor] = field(default_factory=dict)
    statistics: dict[str, Stats] = field(default_factory=dict)
    energy: dict[str, Tensor] = field(default_factory=dict)


@torch.no_grad()
def measure(
    network: VGG19Features,
    image: Tensor,
    tiles: Sequence[Tile],
    *,
    maps: Sequence[str] = (),
    losses: Mapping[str, StyleLoss] | None = None,
    energy: Sequence[str] = (),
) -> Measures:
    """One pass of ``image`` (1, 3, H, W) through the network, tile by tile: the feature
    ``maps`` of some layers, the statistics of others under their ``losses``, the ``energy``
    of others."""
    losses = losses or {}
    layers = list(dict.fromkeys([*maps, *losses, *energy]))
    result = Measures()
    parts: dict[str, list[tuple[Stats, float]]] = {name: [] for name in losses}
    energy_parts: dict[str, list[tuple[Tensor, int]]] = {name: [] for name in energy}
    for tile in tiles:
        crop = network(tile.crop.of(image), layers)
        for name in layers:
            step = stride(name)
            core = tile.core_of(crop[name], step).float()
            count = core.shape[-2] * core.shape[-1]
            if name in maps:
                _place(result.maps, name, core, tile, step, image)
            if name in losses:
                parts[name].append((losses[name].statistics(core), count))
            if name in energy:
                energy_parts[name].append((core.square().mean(), count))
    result.statistics = {name: losses[name].merge(parts[name]) for name in losses}
    result.energy = {
        name: sum(value * count for value, count in items) / sum(count for _, count in items)
        for name, items in energy_parts.items()
    }
    return result


def _place(maps: dict[str, Tensor], name: str, core: Tensor, tile: Tile, step: int, image: Tensor) -> None:
    """Put a tile's core features into the whole picture's map of ``name``."""
    if name not in maps:
        if tile.crop.pixels == image.shape[-2] * image.shape[-1]:  # one tile: the core is the whole map
            maps[name] = core
            return
        height, width = image.shape[-2] // step, image.shape[-1] // step
        maps[name] = core.new_zeros((1, core.shape[1], height, width))
    top, left = tile.core.top // step, tile.core.left // step
    maps[name][..., top : top + core.shape[-2], left : left + core.shape[-1]] = core


def tiles_for(image: Tensor, core_side: int, layers: Sequence[str]) -> list[Tile]:
    """The tiles for ``image`` (1, 3, H, W) with cores of about ``core_side`` pixels."""
    return layout(image.shape[-1], image.shape[-2], core_side, deepest_layer(layers))


def measure_style(
    network: VGG19Features,
    style: Tensor,
    stage_side: int,
    style_scale: float,
    losses: Mapping[str, StyleLoss],
    energy: Sequence[str],
    core_side: int,
) -> Measures:
    """One painting's statistics (and ``energy`` at some layers) for a stage of long side
    ``stage_side``: coarse layers from the painting scaled to ``stage_side · style_scale``,
    fine layers from it at its own size when that scale would enlarge it."""
    own_side = max(style.shape[-2:])
    side = max(16, round(stage_side * style_scale))
    groups: dict[int, tuple[dict[str, StyleLoss], list[str]]] = {}
    for name in dict.fromkeys([*losses, *energy]):
        group_side = own_side if stride(name) <= FINE_STRIDE and side > own_side else side
        group_losses, group_energy = groups.setdefault(group_side, ({}, []))
        if name in losses:
            group_losses[name] = losses[name]
        if name in energy:
            group_energy.append(name)
    result = Measures()
    for group_side, (group_losses, group_energy) in groups.items():
        scaled = resize(style, *size_for_long_side(style.shape[-1], style.shape[-2], group_side))
        tiles = tiles_for(scaled, core_side, [*group_losses, *group_energy])
        measured = measure(network, scaled, tiles, losses=group_losses, energy=group_energy)
        result.statistics |= measured.statistics
        result.energy |= measured.energy
    return result
