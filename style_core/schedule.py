"""Coarse-to-fine: which sizes the image is optimised at, and for how many iterations.

Stages grow by √2 in long side from ``start_size`` to the requested size. A stage at a
quarter of the final area costs about a quarter as much per iteration, so coarse stages get
more iterations: they settle the layout and colours cheaply, and the few full-size
iterations only refine the brush strokes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Each stage's long side is this factor above the previous one.
GROWTH = math.sqrt(2)
#: Iterations of a stage, relative to the final stage's, grow by this per stage coarser.
COARSE_STEP_FACTOR = 1.5


@dataclass(frozen=True)
class Stage:
    """One size of the schedule: ``long_side`` in pixels, ``steps`` iterations."""

    long_side: int
    steps: int


def stage_sizes(size: int, start_size: int) -> list[int]:
    """Long sides from coarse to fine, ending at ``size``; just ``[size]`` if it is small."""
    sizes = [size]
    while sizes[0] / GROWTH >= start_size * 0.99:
        sizes.insert(0, round(sizes[0] / GROWTH))
    return sizes


def schedule(size: int, start_size: int, final_steps: int) -> list[Stage]:
    """The stages for an output of long side ``size`` with ``final_steps`` at full size."""
    sizes = stage_sizes(size, start_size)
    last = len(sizes) - 1
    return [Stage(side, max(1, round(final_steps * COARSE_STEP_FACTOR ** (last - i)))) for i, side in enumerate(sizes)]
