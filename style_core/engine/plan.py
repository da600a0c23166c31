"""Planning a run: the output size, the coarse-to-fine stages, their iterations and tiles.

Stages grow by √2 in long side from ``start_size`` to the output size, in two kinds:

- *Layout* stages, up to :data:`LAYOUT_SIDE`, paint with every layer: they settle the
  composition, the colours and the strokes. They are planned as the run at that size would
  be, so a big picture starts from the very picture the 512 px run paints.
- *Detail* stages, above it, follow Gatys et al. 2017's recipe for high resolutions: each
  starts from the previous result enlarged, keeps it as its content (the layout is settled),
  and refines only the fine style layers (:data:`DETAIL_STRIDE`). The network is cut after
  the deepest layer they use, so a pass costs a fraction of a whole one and tiles need
  margins of that layer's receptive field only (16 px, not 96).

Iterations fall as stages grow, in proportion to ``side ** -STEP_EXPONENT``: coarse stages
are cheap; the big ones only refine, and the biggest get a few iterations. The quality
presets count iterations at :data:`REFERENCE_SIDE`; ``steps`` sets the final stage's own
count. Refining a previous result (``init=``) skips the coarse stages: it starts at full size.

A stage bigger than a tile is computed tile by tile (:mod:`style_core.engine.tiles`); its
``work`` per iteration counts the pixels the network sees, margins and the extra gathering pass
included, each weighted by the cost of the network's depth (:func:`pass_cost`), so that the
time left is estimated honestly from the first iteration on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..image import size_for_long_side
from ..settings import Settings
from .tiles import Tile, Tiling
from .vgg import CONV_NAMES, LAYER_NAMES, VGG19_CONFIG, deepest_layer, stride

#: Iterations at :data:`REFERENCE_SIDE` per quality preset.
QUALITY_STEPS: dict[str, int] = {"draft": 5, "balanced": 10, "high": 30}
#: The long side, in pixels, at which the presets count their iterations.
REFERENCE_SIDE = 512
#: Iterations of a stage fall as ``side ** -STEP_EXPONENT``.
STEP_EXPONENT = 0.8
#: The fewest iterations of a final stage (one L-BFGS step refines little).
MIN_FINAL_STEPS = 2
#: Each stage's long side is this factor above the previous one.
GROWTH = math.sqrt(2)
#: The gathering pass of a tiled iteration (a forward pass) costs this share of a forward and
#: backward pass.
GATHER_COST = 1 / 3
#: The longest side of the layout stages; bigger stages refine the detail only.
LAYOUT_SIDE = 512
#: Detail stages refine the style layers at most this many pixels a step apart (relu1_x to relu3_x).
DETAIL_STRIDE = 4
#: Detail stages hold the enlarged previous result at this layer, this many times as hard as
#: the layout stages hold the photo.
DETAIL_CONTENT_LAYER = "relu2_1"
DETAIL_CONTENT_FACTOR = 1.0
#: The cost of writing one activation value, in multiply-accumulates: the passes are bound by
#: memory in the first layers, where few channels meet many pixels.
ACTIVATION_COST = 150.0


def _conv_costs() -> dict[str, float]:
    """Each convolution's cost per input pixel, forward and backward: its multiply-accumulates
    and :data:`ACTIVATION_COST` per value it writes, at its layer's resolution."""
    channels = [item for item in VGG19_CONFIG if item != "M"]
    costs, c_in = {}, 3
    for name, c_out in zip(CONV_NAMES, channels, strict=True):
        costs[name] = (9 * c_in * c_out + ACTIVATION_COST * c_out) / stride(name) ** 2
        c_in = c_out
    return costs


def pass_cost(deepest: str) -> float:
    """The cost of a pass up to ``deepest`` per input pixel, relative to one up to relu5_1."""
    costs = _conv_costs()

    def upto(layer: str) -> float:
        return sum(cost for name, cost in costs.items() if LAYER_NAMES.index(name) <= LAYER_NAMES.index(layer))

    return upto(deepest) / upto("relu5_1")


def detail_layers(settings: Settings) -> tuple[str, ...]:
    """The style layers a detail stage refines; none when the settings use no fine layer."""
    return tuple(name for name in settings.style_layers if stride(name) <= DETAIL_STRIDE)


@dataclass(frozen=True)
class Stage:
    """One size of the schedule: ``width`` x ``height`` pixels, at most ``steps`` iterations,
    computed over ``tiles`` (one tile: the whole picture at once) by the network up to
    ``deepest``; a ``detail`` stage refines the previous result (see the module's docstring)."""

    width: int
    height: int
    steps: int
    tiles: tuple[Tile, ...]
    deepest: str = "relu5_1"
    detail: bool = False

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def work(self) -> float:
        """The cost of one iteration, in pixels through the whole network's forward and backward pass."""
        if len(self.tiles) == 1:
            return pass_cost(self.deepest) * self.pixels
        return pass_cost(self.deepest) * (1 + GATHER_COST) * sum(tile.crop.pixels for tile in self.tiles)

    @property
    def target_work(self) -> float:
        """The cost of the stage's targets: forward passes over the content and a painting."""
        return pass_cost(self.deepest) * 2 * GATHER_COST * sum(tile.crop.pixels for tile in self.tiles)


@dataclass(frozen=True)
class Plan:
    """The output size and the stages that lead to it, coarse to fine."""

    width: int
    height: int
    stages: tuple[Stage, ...]

    @property
    def work(self) -> float:
        """The planned work of the whole run (see :attr:`Stage.work`)."""
        return sum(stage.target_work + stage.steps * stage.work for stage in self.stages)


def stage_sides(size: int, start_size: int) -> list[int]:
    """Long sides from coarse to fine, ending at ``size``; just ``[size]`` if it is small."""
    sides = [size]
    while sides[0] / GROWTH >= start_size * 0.99:
        sides.insert(0, round(sides[0] / GROWTH))
    return sides


def final_steps(settings: Settings, side: int) -> int:
    """Iterations of the final stage, of long side ``side``: ``steps`` when set, else the quality's."""
    if settings.steps:
        return settings.steps
    steps = QUALITY_STEPS[settings.quality] * (REFERENCE_SIDE / side) ** STEP_EXPONENT
    return max(MIN_FINAL_STEPS, round(steps))


def _steps(last: int, final_side: int, side: int) -> int:
    """Iterations of a stage of long side ``side`` in a run whose final stage, of ``final_side``,
    gets ``last``."""
    return max(1, round(last * (final_side / side) ** STEP_EXPONENT))


def make_plan(
    settings: Settings, content_size: tuple[int, int], *, tiling: Tiling, deepest: str, refine: bool = False
) -> Plan:
    """The plan for a content of ``content_size`` (width, height), its layout stages cut by
    ``tiling`` for a network up to ``deepest``; ``refine`` runs the full size only."""
    width, height = size_for_long_side(*content_size, settings.size or max(content_size))
    final_side = max(width, height)
    if refine:
        tiles = tuple(tiling.layout(width, height, deepest))
        return Plan(width, height, (Stage(width, height, final_steps(settings, final_side), tiles, deepest),))
    sides = stage_sides(final_side, settings.start_size)
    fine = detail_layers(settings)
    layout_side = max([s for s in sides if s <= LAYOUT_SIDE] or sides[:1]) if fine else final_side
    layout_last = final_steps(settings, layout_side)
    detail_last = final_steps(settings, final_side)
    detail_deepest = deepest_layer([*fine, DETAIL_CONTENT_LAYER]) if fine else deepest
    stages = []
    for side in sides:
        stage_width, stage_height = size_for_long_side(width, height, side)
        if side <= layout_side:
            steps, depth = _steps(layout_last, layout_side, side), deepest
        else:
            steps, depth = _steps(detail_last, final_side, side), detail_deepest
        tiles = tuple(tiling.layout(stage_width, stage_height, depth))
        stages.append(Stage(stage_width, stage_height, steps, tiles, depth, side > layout_side))
    return Plan(width, height, tuple(stages))
