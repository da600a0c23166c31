"""Planning a run: the output size, the coarse-to-fine stages, their iterations and tiles.

Stages grow by √2 in long side from ``start_size`` to the output size. Iterations fall as
stages grow, in proportion to ``side ** -STEP_EXPONENT``: the coarse stages are cheap and
settle the composition and colours; the big ones only refine the texture, and the biggest
get a few iterations, each worth many small ones. The quality presets count iterations at
:data:`REFERENCE_SIDE`; ``steps`` sets the final stage's own count. Refining a previous
result (``init=``) skips the coarse stages: it starts at full size.

A stage bigger than a tile is computed tile by tile (:mod:`style_core.engine.tiles`); its ``work``
per iteration counts the pixels the network sees, margins and the extra gathering pass
included, so that the time left is estimated honestly from the first iteration on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..image import size_for_long_side
from ..settings import Settings
from .tiles import Tile, Tiling

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


@dataclass(frozen=True)
class Stage:
    """One size of the schedule: ``width`` x ``height`` pixels, at most ``steps`` iterations,
    computed over ``tiles`` (one tile: the whole picture at once)."""

    width: int
    height: int
    steps: int
    tiles: tuple[Tile, ...]

    @property
    def pixels(self) -> int:
        return self.width * self.height

    @property
    def work(self) -> float:
        """The cost of one iteration, in pixels through the network's forward and backward pass."""
        if len(self.tiles) == 1:
            return float(self.pixels)
        return (1 + GATHER_COST) * sum(tile.crop.pixels for tile in self.tiles)

    @property
    def target_work(self) -> float:
        """The cost of the stage's targets: forward passes over the content and a painting."""
        return 2 * GATHER_COST * sum(tile.crop.pixels for tile in self.tiles)


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


def make_plan(
    settings: Settings, content_size: tuple[int, int], *, tiling: Tiling, deepest: str, refine: bool = False
) -> Plan:
    """The plan for a content of ``content_size`` (width, height), its stages cut by ``tiling``
    for a network up to ``deepest``; ``refine`` runs the full size only."""
    width, height = size_for_long_side(*content_size, settings.size or max(content_size))
    final_side = max(width, height)
    sides = [final_side] if refine else stage_sides(final_side, settings.start_size)
    last = final_steps(settings, final_side)
    stages = []
    for side in sides:
        stage_width, stage_height = size_for_long_side(width, height, side)
        steps = max(1, round(last * (final_side / side) ** STEP_EXPONENT))
        tiles = tuple(tiling.layout(stage_width, stage_height, deepest))
        stages.append(Stage(stage_width, stage_height, steps, tiles))
    return Plan(width, height, tuple(stages))
