"""Planning a run: the output size, and the coarse-to-fine stages with their iterations.

Stages grow by √2 in long side from ``start_size`` to the output size. A stage at a quarter
of the final area costs about a quarter as much per iteration, so coarse stages get more
iterations: they settle the layout and colours cheaply, and the few full-size iterations
only refine the brush strokes. Refining a previous result (``init=``) skips the coarse
stages: it starts at full size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .image import size_for_long_side
from .settings import Settings

#: Iterations at the final size per quality preset; coarser stages get more.
QUALITY_STEPS: dict[str, int] = {"draft": 5, "balanced": 10, "high": 30}
#: Each stage's long side is this factor above the previous one.
GROWTH = math.sqrt(2)
#: Iterations of a stage, relative to the final stage's, grow by this per stage coarser.
COARSE_STEP_FACTOR = 1.5
#: The longest side an interactive door paints at, per device kind, when it paints at the
#: picture's own size: what the memory holds (with tiles) in a time a person waits for.
DEVICE_MAX_SIZE: dict[str, int] = {"cpu": 4096, "mps": 4096, "cuda": 8192}


@dataclass(frozen=True)
class Stage:
    """One size of the schedule: ``width`` x ``height`` pixels, ``steps`` iterations at most."""

    width: int
    height: int
    steps: int

    @property
    def pixels(self) -> int:
        """The cost of one iteration, in pixels (the network's work grows with them)."""
        return self.width * self.height


@dataclass(frozen=True)
class Plan:
    """The output size and the stages that lead to it, coarse to fine."""

    width: int
    height: int
    stages: tuple[Stage, ...]


def stage_sides(size: int, start_size: int) -> list[int]:
    """Long sides from coarse to fine, ending at ``size``; just ``[size]`` if it is small."""
    sides = [size]
    while sides[0] / GROWTH >= start_size * 0.99:
        sides.insert(0, round(sides[0] / GROWTH))
    return sides


def final_steps(settings: Settings) -> int:
    """Iterations at full size: ``steps`` when set, else the quality's."""
    return settings.steps or QUALITY_STEPS[settings.quality]


def make_plan(settings: Settings, content_size: tuple[int, int], *, refine: bool = False) -> Plan:
    """The plan for a content of ``content_size`` (width, height); ``refine`` runs the full size only."""
    width, height = size_for_long_side(*content_size, settings.size or max(content_size))
    sides = [max(width, height)] if refine else stage_sides(max(width, height), settings.start_size)
    last = len(sides) - 1
    stages = tuple(
        Stage(
            *size_for_long_side(width, height, side),
            steps=max(1, round(final_steps(settings) * COARSE_STEP_FACTOR ** (last - i))),
        )
        for i, side in enumerate(sides)
    )
    return Plan(width, height, stages)
