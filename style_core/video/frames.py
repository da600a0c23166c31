"""The frame loop: consecutive frames stylised in order, each tied to the one before (Ruder et al. 2016).

The first frame of a run is stylised like a picture (coarse to fine). Each later frame starts
from the previous stylised frame carried onto it by the optical flow, and an anchor term
holds it to that picture wherever the flow is trusted (the consistency mask): only the
full-size stage runs, with ``steps`` iterations or the quality's. Disoccluded pixels are
free, so the style fills them in; everything the camera saw before keeps its strokes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..events import Finished, Progress
from ..objective import Anchor
from ..settings import Settings
from .flow import motion


@dataclass(frozen=True)
class StylisedFrame:
    """A finished frame.

    Attributes:
        index: the frame's number in the video (0-based).
        image: (H, W, 3) uint8 RGB.
        steps: iterations it took.
        elapsed: seconds it took (flow included).
    """

    index: int
    image: np.ndarray = field(repr=False)
    steps: int
    elapsed: float


def _hwc_to_tensor(image: np.ndarray) -> Tensor:
    """(H, W, 3) float32 in [0, 1] → (1, 3, H, W)."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).unsqueeze(0).clamp(0, 1)


def to_frame(image: Tensor) -> np.ndarray:
    """(1, 3, H, W) in [0, 1] → (H, W, 3) uint8."""
    return (image[0].clamp(0, 1) * 255).round().byte().permute(1, 2, 0).contiguous().numpy()


class FrameStylist:
    """Stylises runs of consecutive frames with fixed styles and settings.

    Args:
        styles: the style images, each (1, 3, H, W) float32 in [0, 1].
        settings: the picture settings; ``size`` is set to the frames' long side.
        temporal_weight: the anchor's weight (see :data:`~style_core.video.options.TEMPORAL_WEIGHT`).
    """

    def __init__(self, styles: Sequence[Tensor], settings: Settings, temporal_weight: float) -> None:
        self.styles = list(styles)
        self.settings = settings
        self.temporal_weight = temporal_weight

    def run(
        self,
        frames: Iterable[tuple[int, np.ndarray]],
        previous: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Iterator[Progress | StylisedFrame]:
        """Stylise ``frames`` ((index, (H, W, 3) uint8) in order), yielding the engine's
        :class:`~style_core.events.Progress` and a :class:`StylisedFrame` per frame.

        ``previous`` (the source frame just before the first, and its stylised picture)
        continues an earlier run; without it the first frame is stylised on its own.
        """
        from ..job import Job

        for index, frame in frames:
            started = time.perf_counter()
            settings = dataclasses.replace(self.settings, size=max(frame.shape[:2]))
            if previous is None:
                job = Job(frame, self.styles, settings)
            else:
                step = motion(previous[0], frame)
                carried = _hwc_to_tensor(step.warp(previous[1].astype(np.float32) / 255))
                mask = torch.from_numpy(step.mask)[None, None]
                anchor = Anchor(carried, mask, self.temporal_weight)
                job = Job(frame, self.styles, settings, init=carried, anchor=anchor)
            for event in job.run():
                if isinstance(event, Finished):
                    stylised = to_frame(event.result.rgb)
                    yield StylisedFrame(index, stylised, event.steps, time.perf_counter() - started)
                else:
                    yield event
            previous = frame, stylised
