"""The targets of one stage, computed once: the content's features, the styles' blended statistics.

Each picture goes through the network once per stage (:func:`measure`), tile by tile when it
is bigger than a tile (:mod:`style_core.engine.tiles`), without autograd: feature maps are
assembled from the tiles' cores and statistics merged over them, so the targets equal the
whole picture's.

A painting's statistics are measured on it scaled to the stage's long side times
``style_scale``, every layer alike, so that all layers agree on how big a stroke is (where the
fine layers took theirs from a smaller painting at its own resolution, a big picture became a
mosaic of strokes half the size of the coarse ones). A stage bigger than the painting enlarges
it: its brushwork then softens a little, never the layout.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..image import resize, size_for_long_side
from .precision import autocast
from .regions import at_resolution
from .style_losses import Stats, StyleLoss
from .tiles import Tile, Tiling
from .vgg import VGG19Features, deepest_layer, feature_size, stride


@dataclass(frozen=True)
class StatisticsRequest:
    """Statistics to measure: of ``layer``'s features under ``loss``, over the region ``weight``
    ((1, 1, h, w) at the layer's resolution over the whole picture; None: everywhere)."""

    layer: str
    loss: StyleLoss
    weight: Tensor | None = None


@dataclass
class Measures:
    """What one pass over a picture gives: assembled ``maps`` ``{layer: (1, C, H/s, W/s)}``,
    ``statistics`` per request, and ``energy`` ``{layer: mean(f²)}`` (a scalar tensor)."""

    maps: dict[str, Tensor] = field(default_factory=dict)
    statistics: dict[Hashable, Stats] = field(default_factory=dict)
    energy: dict[str, Tensor] = field(default_factory=dict)


def core_weight(weight: Tensor | None, tile: Tile, step: int) -> Tensor | None:
    """The part of a whole-picture region map at a layer of ``step`` that a tile's core covers."""
    if weight is None or tile.core == tile.crop:
        return weight
    core = tile.core
    return weight[..., core.top // step : core.bottom // step, core.left // step : core.right // step]


def mass(core: Tensor, weight: Tensor | None) -> float:
    """How much a core counts: its positions, or the sum of its region's weights."""
    return float(core.shape[-2] * core.shape[-1]) if weight is None else float(weight.sum())


@torch.no_grad()
def measure(
    network: VGG19Features,
    image: Tensor,
    tiles: Sequence[Tile],
    *,
    maps: Sequence[str] = (),
    requests: Mapping[Hashable, StatisticsRequest] | None = None,
    energy: Sequence[str] = (),
    precision: str = "fp32",
) -> Measures:
    """One pass of ``image`` (1, 3, H, W) through the network in ``precision``, tile by tile: the
    feature ``maps`` of some layers (in the network's precision), the statistics of each request
    and the ``energy`` of some layers (in float32)."""
    requests = requests or {}
    layers = list(dict.fromkeys([*maps, *(r.layer for r in requests.values()), *energy]))
    result = Measures()
    parts: dict[Hashable, list[tuple[Stats, float]]] = {key: [] for key in requests}
    energy_parts: dict[str, list[tuple[Tensor, float]]] = {name: [] for name in energy}
    for tile in tiles:
        with autocast(image.device, precision):
            crop = network(tile.crop.of(image), layers)
        cores = {name: tile.core_of(crop[name], stride(name)) for name in layers}
        for name in maps:
            _place(result.maps, name, cores[name], tile, image)
        for key, request in requests.items():
            core = cores[request.layer]
            weight = core_weight(request.weight, tile, stride(request.layer))
            if mass(core, weight) > 0:
                parts[key].append((request.loss.statistics(core, weight), mass(core, weight)))
        for name in energy:
            energy_parts[name].append((cores[name].float().square().mean(), mass(cores[name], None)))
    result.statistics = {key: requests[key].loss.merge(parts[key]) for key in requests}
    result.energy = {
        name: sum(value * count for value, count in items) / sum(count for _, count in items)
        for name, items in energy_parts.items()
    }
    return result


def _place(maps: dict[str, Tensor], name: str, core: Tensor, tile: Tile, image: Tensor) -> None:
    """Put a tile's core features into the whole picture's map of ``name``."""
    step = stride(name)
    if name not in maps:
        if tile.crop.pixels == image.shape[-2] * image.shape[-1]:  # one tile: the core is the whole map
            maps[name] = core
            return
        height, width = image.shape[-2] // step, image.shape[-1] // step
        # in the features' memory format: the content term compares them position by position
        layout = torch.channels_last if core.stride(1) == 1 else torch.contiguous_format
        shape = (1, core.shape[1], height, width)
        maps[name] = torch.zeros(shape, dtype=core.dtype, device=core.device).contiguous(memory_format=layout)
    top, left = tile.core.top // step, tile.core.left // step
    maps[name][..., top : top + core.shape[-2], left : left + core.shape[-1]] = core


def tiles_for(image: Tensor, tiling: Tiling, layers: Sequence[str]) -> list[Tile]:
    """The tiles for ``image`` (1, 3, H, W), cut by ``tiling`` for the deepest of ``layers``."""
    return tiling.layout(image.shape[-1], image.shape[-2], deepest_layer(layers))


def measure_style(
    network: VGG19Features,
    style: Tensor,
    stage_side: int,
    style_scale: float,
    requests: Mapping[Hashable, StatisticsRequest],
    energy: Sequence[str],
    tiling: Tiling,
    precision: str = "fp32",
) -> Measures:
    """One painting's statistics (and ``energy`` at some layers) for a stage of long side
    ``stage_side``, from the painting scaled to ``stage_side · style_scale``. A request's region
    map is given at the painting's own size (1, 1, h, w) and resized here."""
    side = max(16, round(stage_side * style_scale))
    width, height = size_for_long_side(style.shape[-1], style.shape[-2], side)
    scaled = resize(style, width, height)
    layers = [*(r.layer for r in requests.values()), *energy]
    deepest = deepest_layer(layers)
    resized = {
        key: StatisticsRequest(r.layer, r.loss, region_at_layer(r.weight, width, height, r.layer, deepest))
        for key, r in requests.items()
    }
    tiles = tiles_for(scaled, tiling, layers)
    return measure(network, scaled, tiles, requests=resized, energy=energy, precision=precision)


def region_at_layer(mask: Tensor | None, width: int, height: int, layer: str, deepest: str) -> Tensor | None:
    """A (1, 1, H, W) mask as the region map of a ``width`` x ``height`` picture at ``layer``'s
    resolution, when the network runs up to ``deepest`` (None stays None)."""
    if mask is None:
        return None
    return at_resolution(mask, *feature_size(width, height, layer, deepest))
