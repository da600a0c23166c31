"""Planning a run: the output size, the coarse-to-fine stages, their iterations and tiles.

Stages come in two kinds:

- *Layout* stages grow by √2 in long side from ``start_size`` up to :data:`LAYOUT_SIDE` (or
  the output, if smaller) and paint with every layer: they settle the composition, the colours
  and the strokes. They are the 512 px run's own plan, so a big picture starts from the very
  picture the 512 px run paints.
- *Detail* stages, above it, follow Gatys et al. 2017's recipe for high resolutions: each
  starts from the previous result enlarged, keeps it as its content (the layout is settled),
  and refines only the fine style layers (:data:`DETAIL_STRIDE`). The network is cut after
  the deepest layer they use, so a pass costs a fraction of a whole one and tiles need
  margins of that layer's receptive field only (16 px, not 96). They double in side
  (:data:`DETAIL_GROWTH`) and spend their iterations where they are cheap: the first, at
  about twice the layout's side, gets the most (an unfinished detail stage leaves a grain of
  dots, not strokes); each bigger one starts closer to its result and gets far fewer
  (:data:`DETAIL_STEP_EXPONENT`).

Layout iterations fall as stages grow, in proportion to ``side ** -STEP_EXPONENT``. The
quality presets count them at :data:`REFERENCE_SIDE` (:data:`QUALITY_STEPS`) and at twice the
layout side for detail stages (:data:`DETAIL_STEPS`); ``steps`` sets the final stage's own
count. Refining a previous result (``init=``) skips the coarse stages: it starts at full size.

A stage bigger than a tile is computed tile by tile (:mod:`style_core.engine.tiles`); its
``work`` per iteration counts the pixels the network sees, margins and the extra gathering pass
included, each weighted by the cost of the network's depth (:func:`pass_cost`), so that the
time left is estimated honestly from the first iteration on.
"""

from __future__ import annotations

import functools
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
#: Each detail stage's long side is this factor above the previous one, and at least
#: :data:`DETAIL_MIN_GROWTH` times the layout's.
DETAIL_GROWTH = 2.0
DETAIL_MIN_GROWTH = 1.25
#: Iterations of a detail stage at twice :data:`LAYOUT_SIDE`, per quality preset; they fall
#: as ``side ** -DETAIL_STEP_EXPONENT`` (a bigger stage starts closer to its result).
DETAIL_STEPS: dict[str, int] = {"draft": 10, "balanced": 25, "high": 60}
DETAIL_STEP_EXPONENT = 3.0
#: Detail stages hold the enlarged previous result at this layer, this many times as hard as
#: the layout stages hold the photo.
DETAIL_CONTENT_LAYER = "relu2_1"
DETAIL_CONTENT_FACTOR = 1.0
#: The cost of writing one activation value, in multiply-accumulates: the passes are bound by
#: memory in the first layers, where few channels meet many pixels.
ACTIVATION_COST = 150.0
#: What an iteration costs besides its pixels (the optimiser, the loss terms, the calls), in
#: pixels through the whole network: measured on 2 CPU cores, a 128x96 iteration takes 1.9x
#: the time per pixel of a 512x384 one.
ITERATION_OVERHEAD = 12_000
#: A detail stage's pass costs this many times what its convolutions predict: its activations,
#: a megapixel and more at 64-128 channels, are far bigger than the caches, and its passes are
#: bound by memory. Measured on 2 CPU cores (bf16): an iteration at 1024 px takes 0.99 s (this
#: model: 1.14 s), one at 2048 px, in 6 tiles, 6.8 s (this model: 6.3 s).
DETAIL_PASS_COST = 3.0


def _conv_costs() -> dict[str, float]:
    """Each convolution's cost per input pixel, forward and backward: its multiply-accumulates
    and :data:`ACTIVATION_COST` per value it writes, at its layer's resolution."""
    channels = [item for item in VGG19_CONFIG if item != "M"]
    costs, c_in = {}, 3
    for name, c_out in zip(CONV_NAMES, channels, strict=True):
        costs[name] = (9 * c_in * c_out + ACTIVATION_COST * c_out) / stride(name) ** 2
        c_in = c_out
    return costs


@functools.cache
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
    def pass_cost(self) -> float:
        """The cost of one pass of a pixel, relative to the whole network's (see :func:`pass_cost`)."""
        return pass_cost(self.deepest) * (DETAIL_PASS_COST if self.detail else 1.0)

    @property
    def work(self) -> float:
        """The cost of one iteration, in pixels through the whole network's forward and backward
        pass, :data:`ITERATION_OVERHEAD` included."""
        seen = self.pixels if len(self.tiles) == 1 else (1 + GATHER_COST) * sum(t.crop.pixels for t in self.tiles)
        return self.pass_cost * seen + ITERATION_OVERHEAD

    @property
    def target_work(self) -> float:
        """The cost of the stage's targets: forward passes over the content and a painting."""
        return self.pass_cost * 2 * GATHER_COST * sum(tile.crop.pixels for tile in self.tiles)


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


def detail_sides(final_side: int) -> list[int]:
    """Long sides of the detail stages of an output of long side ``final_side`` (above
    :data:`LAYOUT_SIDE`): halving from it while a half stays clearly above the layout."""
    sides = [final_side]
    while sides[0] / DETAIL_GROWTH > LAYOUT_SIDE * DETAIL_MIN_GROWTH:
        sides.insert(0, round(sides[0] / DETAIL_GROWTH))
    return sides


def detail_steps(settings: Settings, side: int, final_side: int) -> int:
    """Iterations of a detail stage of long side ``side``: :data:`DETAIL_STEPS` at twice the
    layout side, falling as ``side ** -DETAIL_STEP_EXPONENT``; ``steps``, when set, for the final one."""
    if settings.steps and side == final_side:
        return settings.steps
    steps = DETAIL_STEPS[settings.quality] * min(1.0, 2 * LAYOUT_SIDE / side) ** DETAIL_STEP_EXPONENT
    return max(MIN_FINAL_STEPS, round(steps))


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
    fine = detail_layers(settings)
    layout_side = LAYOUT_SIDE if fine and final_side > LAYOUT_SIDE else final_side
    layout_last = final_steps(settings, layout_side)
    stages = []
    for side in stage_sides(layout_side, settings.start_size):
        stage_width, stage_height = size_for_long_side(width, height, side)
        tiles = tuple(tiling.layout(stage_width, stage_height, deepest))
        stages.append(Stage(stage_width, stage_height, _steps(layout_last, layout_side, side), tiles, deepest))
    if layout_side < final_side:
        depth = deepest_layer([*fine, DETAIL_CONTENT_LAYER])
        for side in detail_sides(final_side):
            stage_width, stage_height = size_for_long_side(width, height, side)
            tiles = tuple(tiling.layout(stage_width, stage_height, depth))
            steps = detail_steps(settings, side, final_side)
            stages.append(Stage(stage_width, stage_height, steps, tiles, depth, detail=True))
    return Plan(width, height, tuple(stages))
