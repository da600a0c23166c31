"""What one run is given: the inputs loaded and checked, the device, the tiling and the plan.

A door (through :class:`style_core.job.Job`) builds one :class:`RunInputs`; the runner
(:mod:`.runner`) takes it and knows nothing of where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..image import RGBImage
from ..settings import Settings
from .objective import Anchor
from .plan import Plan
from .tiles import Tiling


@dataclass(frozen=True)
class RunInputs:
    """One run's inputs, frozen.

    Attributes:
        settings: the checked settings.
        content: the photo, (1, 3, H, W) in [0, 1] with its alpha.
        styles: the paintings, in order.
        masks: per style, where it paints: (1, 1, H, W) in [0, 1] at the content's size; None
            for all the styles blended over the whole picture.
        style_masks: per style, the part of its painting it is taken from (or None: all of it).
        init: a previous result to start from, at full size (or None).
        anchor: a picture to stay close to where its mask says (or None).
        device: where the run computes.
        tiling: how a stage is cut into tiles.
        plan: the output size and the stages that lead to it.
    """

    settings: Settings
    content: RGBImage
    styles: tuple[RGBImage, ...]
    masks: tuple[Tensor, ...] | None
    style_masks: tuple[Tensor | None, ...]
    init: RGBImage | None
    anchor: Anchor | None
    device: torch.device
    tiling: Tiling
    plan: Plan
