"""Planning a run: the output size, the coarse-to-fine stages, their iterations and tiles.

Stages come in two kinds:

- *Layout* stages grow by √2 in long side from ``start_size`` up to :data:`LAYOUT_SIDE` (or
  the output, if smaller) and paint with every layer: they settle the composition, the colours
  and the strokes. They are the 512 px run's own plan, so a big picture starts from the very
  picture the 512 px run paints.
- *Detail* stages, above it, follow Gatys et al. 2017's recipe for high resolutions: each
  starts from the previous result enlarged, keeps it as its content (the layout is settled),
  and refines only the fine style layers (:data:`DETAIL_STRIDE`; the stages after the first,
  only the finest, :data:`LATER_DETAIL_STRIDE`). The network is cut after the deepest layer
  they use, so a pass costs a fraction of a whole one and tiles need margins of that layer's
  receptive field only (16 px, not 96). The first is at twice the layout's side (or the
  output, if smaller); the others grow to the output in equal factors of at most
  :data:`DETAIL_GROWTH` (1024, 2048, 4096 px; 1024, 1448 px). The first gets the most
  iterations (an unfinished detail stage leaves a grain of dots, not strokes); each later one
  starts closer to its result and gets far fewer (:data:`DETAIL_STEP_EXPONENT`). So a picture
  between two of those sizes runs the smaller one's plan and a stage more: a bigger picture is
  more work (but for a few percent where a late stage splits in two).

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

#: Iterations at :data:`REFERENCE_SIDE` per quality preset. (Tübingen and The Starry Night at
#: 512 px, balanced, yardstick style / content / seconds: 10 iterations 0.020 / 0.468 / 14.1,
#: 12: 0.020 / 0.443 / 16.5, 13: 0.020 / 0.432 / 17.3, 15: 0.019 / 0.406 / 20.0.)
QUALITY_STEPS: dict[str, int] = {"draft": 5, "balanced": 13, "high": 30}
#: The long side, in pixels, at which the presets count their iterations.
REFERENCE_SIDE = 512
#: Iterations of a stage fall as ``side ** -STEP_EXPONENT``.
STEP_EXPONENT = 0.8
#: The fewest iterations of a final stage (one L-BFGS step refines little).
MIN_FINAL_STEPS = 2
#: Each stage's long side is this factor above the previous one.
GROWTH = math.sqrt(2)
#: The gathering pass of a tiled iteration (a forward pass) costs this share of a forward and
#: backward pass (bound by memory as they are, a forward pass costs more than the third its
#: multiply-accumulates say; fitted with :data:`ACTIVATION_COST`).
GATHER_COST = 2 / 3
#: The longest side of the layout stages; bigger stages refine the detail only.
LAYOUT_SIDE = 512
#: The first detail stage refines the style layers at most this many pixels a step apart
#: (relu1_x to relu3_x).
DETAIL_STRIDE = 4
#: Later detail stages refine those at most this many pixels apart (relu1_x, relu2_x): the first
#: has settled the strokes' texture at relu3_1, and enlarged twice it only wants sharpening.
#: (A 2048 px run, Tübingen and The Starry Night: its last stage without relu3_1 took 15 s, not
#: 20, and the result, scaled to 512 px, came closer to the 512 px one: x up 1.79, not 1.96.)
LATER_DETAIL_STRIDE = 2
#: Each detail stage's long side is at most this factor above the previous one.
DETAIL_GROWTH = 2.0
#: Iterations of the first detail stage, per quality preset; the n-th after it gets
#: ``DETAIL_GROWTH ** (-n * DETAIL_STEP_EXPONENT)`` as many (at least :data:`MIN_FINAL_STEPS`):
#: each starts from a result closer to its own. (With average pooling, below, 18 at 1024 px
#: paint strokes as smooth as 25 did: a 2048 px run 46 -> 36 s.)
DETAIL_STEPS: dict[str, int] = {"draft": 10, "balanced": 18, "high": 60}
DETAIL_STEP_EXPONENT = 3.0
#: Detail stages hold the enlarged previous result at this layer (as hard as their style loss's
#: :attr:`~style_core.engine.style_losses.StyleLoss.detail_content_factor` says).
DETAIL_CONTENT_LAYER = "relu2_1"
#: Detail stages pool by average, whatever the ``pooling`` setting: the gradient of a max
#: pooling passes through one pixel of each 2x2 window, which leaves a lattice of dots 2 px
#: apart on a stage that refines the fine layers, and each bigger stage enlarges it (a mesh of
#: dots 8 px apart at 4096 px). With averages a 2048 px run's strokes are smooth at 100%, and
#: its result, scaled to 512 px, is closer to the 512 px one (Tübingen and The Starry Night:
#: x up 1.79 -> 1.42).
DETAIL_POOLING = "avg"
#: The cost of writing one activation value, in multiply-accumulates: the passes are bound by
#: memory in the first layers, where few channels meet many pixels (their element-wise passes,
#: poolings and gradient sums cost more than their convolutions on a CPU with bf16 units).
ACTIVATION_COST = 1600.0
#: What an iteration costs besides its pixels (the optimiser, the loss terms, the calls), in
#: pixels through the whole network.
ITERATION_OVERHEAD = 20_000
#: A detail stage's pass costs this many times what its convolutions and activations predict:
#: its activations, a megapixel and more, are far bigger than the caches.
#: These and :data:`GATHER_COST` are fitted to the iterations of a 2048 and a 4096 px run on 2
#: CPU cores (bf16): each stage's time per iteration, from 128 px (0.04 s) to 4096 px (19.8 s,
#: in 18 tiles), is within 10% of its work at one pace (with the earlier 150, 12 000, 3.0 and
#: 1/3: 25% off, the last stages' too short).
DETAIL_PASS_COST = 1.75


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


def detail_layers(settings: Settings, finest: int = DETAIL_STRIDE) -> tuple[str, ...]:
    """The style layers a detail stage refines, those at most ``finest`` pixels a step apart;
    none when the settings use no such layer."""
    return tuple(name for name in settings.style_layers if stride(name) <= finest)


@dataclass(frozen=True)
class Stage:
    """One size of the schedule: ``width`` x ``height`` pixels, at most ``steps`` iterations,
    computed over ``tiles`` (one tile: the whole picture at once) by the network up to
    ``deepest``, with ``pooling`` (``"max"`` or ``"avg"``); a detail stage refines the previous
    result in its ``detail_layers`` alone (see the module's docstring), a layout stage has none."""

    width: int
    height: int
    steps: int
    tiles: tuple[Tile, ...]
    pooling: str
    deepest: str = "relu5_1"
    detail_layers: tuple[str, ...] = ()

    @property
    def detail(self) -> bool:
        """Whether this stage refines the previous result's detail (else it paints the layout)."""
        return bool(self.detail_layers)

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
    :data:`LAYOUT_SIDE`): from twice the layout's side (or the output, if smaller) to the output
    in equal factors of at most :data:`DETAIL_GROWTH`."""
    first = min(final_side, 2 * LAYOUT_SIDE)
    count = math.ceil(math.log(final_side / first, DETAIL_GROWTH) - 1e-9)
    return [round(first * (final_side / first) ** (i / count)) for i in range(count)] + [final_side]


def detail_steps(settings: Settings, rank: int, final: bool) -> int:
    """Iterations of the detail stage of this ``rank`` (0 for the first; see
    :data:`DETAIL_STEPS`); ``steps``, when set, for the ``final`` one."""
    if settings.steps and final:
        return settings.steps
    if rank == 0:
        return DETAIL_STEPS[settings.quality]
    steps = DETAIL_STEPS[settings.quality] * DETAIL_GROWTH ** (-rank * DETAIL_STEP_EXPONENT)
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
        steps = final_steps(settings, final_side)
        return Plan(width, height, (Stage(width, height, steps, tiles, settings.pooling, deepest),))
    fine = detail_layers(settings)
    layout_side = LAYOUT_SIDE if fine and final_side > LAYOUT_SIDE else final_side
    layout_last = final_steps(settings, layout_side)
    stages = []
    for side in stage_sides(layout_side, settings.start_size):
        stage_width, stage_height = size_for_long_side(width, height, side)
        tiles = tuple(tiling.layout(stage_width, stage_height, deepest))
        steps = _steps(layout_last, layout_side, side)
        stages.append(Stage(stage_width, stage_height, steps, tiles, settings.pooling, deepest))
    if layout_side < final_side:
        sides = detail_sides(final_side)
        for i, side in enumerate(sides):
            layers = fine if i == 0 else detail_layers(settings, LATER_DETAIL_STRIDE) or fine
            depth = deepest_layer([*layers, DETAIL_CONTENT_LAYER])
            stage_width, stage_height = size_for_long_side(width, height, side)
            tiles = tuple(tiling.layout(stage_width, stage_height, depth))
            steps = detail_steps(settings, i, final=i == len(sides) - 1)
            stages.append(Stage(stage_width, stage_height, steps, tiles, DETAIL_POOLING, depth, layers))
    return Plan(width, height, tuple(stages))
