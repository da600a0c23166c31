"""The progress events that :func:`style_core.stylize_iter` yields, one per iteration."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image
from torch import Tensor


@dataclass
class Progress:
    """Where the optimisation stands after one iteration.

    Attributes:
        step: iterations done so far, over all stages (1-based).
        total_steps: iterations planned over all stages (it shrinks if a stage converges early).
        stage: the current stage (1-based) of ``num_stages``.
        width, height: the image size of this stage, in pixels.
        losses: the weighted terms ``content``, ``style``, ``tv`` and their ``total``.
        elapsed: seconds since the run started (target extraction included).
        fraction: share of the planned work done, 0 to 1, each iteration counted by its pixels.
        eta: estimated seconds left, from the time per pixel of the current stage.
        image: a preview (every ``preview_every`` iterations and at each stage's end) or,
            when ``done``, the result; otherwise None.
        done: True on the last event, which carries the result.
        rgb, alpha: on the last event, the result as (1, 3, H, W) float in [0, 1] on the CPU
            and the input's alpha (1, 1, h, w) or None, for 16-bit output.
        recipe: on the last event, every setting, the weights and versions, for the file.
    """

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
    image: Image.Image | None = None
    done: bool = False
    rgb: Tensor | None = field(default=None, repr=False)
    alpha: Tensor | None = field(default=None, repr=False)
    recipe: dict | None = field(default=None, repr=False)

    def as_json(self) -> dict:
        """The event without images or tensors, as JSON-ready values."""
        return {
            "event": "done" if self.done else "progress",
            "step": self.step,
            "total_steps": self.total_steps,
            "stage": self.stage,
            "num_stages": self.num_stages,
            "width": self.width,
            "height": self.height,
            "losses": self.losses,
            "elapsed": round(self.elapsed, 3),
            "fraction": round(self.fraction, 4),
            "eta": round(self.eta, 1),
        }
