"""What a run yields: a :class:`Progress` per iteration, then :class:`Finished` with the :class:`Result`.

Doors turn them into their own progress with :mod:`style_core.protocol` (JSON lines, one
line of status); fields marked ``wire=False`` (images, tensors) stay in the process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image
from torch import Tensor

from .image import to_pil

_LOCAL = {"wire": False}


@dataclass(frozen=True)
class Progress:
    """Where the optimisation stands after one iteration.

    Attributes:
        step: iterations done so far, over all stages (1-based).
        total_steps: iterations planned over all stages (it shrinks when a stage converges early).
        stage: the current stage (1-based) of ``num_stages``.
        width, height: the image size of this stage, in pixels.
        losses: the weighted terms (``content``, ``style``, ``tv``) and their ``total``.
        elapsed: seconds since the run started (loading and targets included).
        fraction: share of the planned work done, 0 to 1, each iteration counted by its cost.
        eta: estimated seconds left.
        preview: the picture now (every ``preview_every`` iterations and at each stage's
            end), else None.
        within: for an event sent partway through an iteration (a big stage, computed tile by
            tile, reports after each tile): the share of that iteration done, 0 to 1; else 0.
    """

    kind: ClassVar[str] = "progress"

    step: int
    total_steps: int
    stage: int
    num_stages: int
    width: int
    height: int
    losses: dict[str, float]
    elapsed: float
    fraction: float
    eta: float
    preview: Image.Image | None = field(default=None, metadata=_LOCAL, repr=False)
    within: float = 0.0


@dataclass(frozen=True)
class Result:
    """A finished picture.

    Attributes:
        rgb: (1, 3, H, W) float32 in [0, 1] on the CPU.
        alpha: the content's alpha, (1, 1, h, w) in [0, 1], or None.
        recipe: every setting, the weights and the versions, stored in the file it is saved to.
    """

    rgb: Tensor = field(repr=False)
    alpha: Tensor | None = field(repr=False)
    recipe: dict[str, Any] = field(repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[-1], self.rgb.shape[-2]

    @cached_property
    def image(self) -> Image.Image:
        """An 8-bit PIL image, RGBA when the content had alpha."""
        return to_pil(self.rgb, self.alpha)

    def save(self, path: str | Path, *, bit_depth: int = 8) -> Path:
        """Write the picture with its recipe (through a temporary file, so nothing is half-written)."""
        from .output import save_image

        return save_image(path, self.rgb, self.alpha, recipe=self.recipe, bit_depth=bit_depth)


@dataclass(frozen=True)
class Finished:
    """The last event of a run: how it went, and the :class:`Result`."""

    kind: ClassVar[str] = "done"

    steps: int
    width: int
    height: int
    elapsed: float
    result: Result = field(metadata=_LOCAL, repr=False)


Event = Progress | Finished
