"""The frame loop: consecutive frames stylized in order, each tied to the one before (Ruder et al. 2016).

The first frame of a run, and the first of each new shot (where the flow finds little of the
frame before), is stylized like a picture (coarse to fine). Each later frame starts
from the previous stylized frame carried onto it by the optical flow, and an anchor term
holds it to that picture wherever the flow is trusted (the consistency mask): only the
full-size stage runs, with ``steps`` iterations or the quality's. Disoccluded pixels are
free, so the style fills them in; everything the camera saw before keeps its strokes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from ..engine.objective import Anchor
from ..events import Finished, Progress
from ..settings import Settings
from .flow import Motion, motion

#: A frame where less than this share of the pixels can be traced to the frame before is a
#: new shot (a cut): it is painted afresh, coarse to fine, rather than from a picture of
#: something else. Fast motion alone keeps well over half (the test clip: 90%).
NEW_SHOT_TRUSTED = 0.3


@dataclass(frozen=True)
class StylizedFrame:
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


def with_motion(
    frames: Iterable[tuple[int, np.ndarray]], previous: np.ndarray | None, *, ahead: bool = False
) -> Iterator[tuple[int, np.ndarray, Motion | None]]:
    """``(index, frame, motion from the frame before)`` for each of ``frames`` (the first one's
    motion from ``previous``, or None without it). With ``ahead``, the next frame is decoded
    and its motion computed in a thread while the caller works on this one (OpenCV releases
    the GIL)."""
    if not ahead:
        for index, frame in frames:
            yield index, frame, None if previous is None else motion(previous, frame)
            previous = frame
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = None
        for index, frame in frames:
            future = None if previous is None else pool.submit(motion, previous, frame)
            if waiting is not None:
                yield waiting[0], waiting[1], None if waiting[2] is None else waiting[2].result()
            waiting, previous = (index, frame, future), frame
        if waiting is not None:
            yield waiting[0], waiting[1], None if waiting[2] is None else waiting[2].result()


class FrameStylist:
    """Stylizes runs of consecutive frames with fixed styles and settings.

    Args:
        styles: the style images, each (1, 3, H, W) float32 in [0, 1].
        settings: the picture settings; ``size`` is set to the frames' long side.
        temporal_weight: the anchor's weight (see :data:`~style_core.video.options.TEMPORAL_WEIGHT`).
    """

    def __init__(self, styles: Sequence[Tensor], settings: Settings, temporal_weight: float) -> None:
        from ..engine.device import resolve_device

        self.styles = list(styles)
        self.settings = settings
        self.temporal_weight = temporal_weight
        # On an accelerator the flow (on the CPU) is computed a frame ahead, off the GPU's path.
        self.flow_ahead = resolve_device(settings.device).type != "cpu"

    def run(
        self,
        frames: Iterable[tuple[int, np.ndarray]],
        previous: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> Iterator[Progress | StylizedFrame]:
        """Stylize ``frames`` ((index, (H, W, 3) uint8) in order), yielding the engine's
        :class:`~style_core.events.Progress` and a :class:`StylizedFrame` per frame.

        ``previous`` (the source frame just before the first, and its stylized picture)
        continues an earlier run; without it the first frame is stylized on its own.
        """
        from ..job import Job

        source = None if previous is None else previous[0]
        for index, frame, step in with_motion(frames, source, ahead=self.flow_ahead):
            started = time.perf_counter()
            settings = dataclasses.replace(self.settings, size=max(frame.shape[:2]))
            if previous is None or step.mask.mean() < NEW_SHOT_TRUSTED:
                job = Job(frame, self.styles, settings)
            else:
                carried = _hwc_to_tensor(step.warp(previous[1].astype(np.float32) / 255))
                mask = torch.from_numpy(step.mask)[None, None]
                anchor = Anchor(carried, mask, self.temporal_weight)
                job = Job(frame, self.styles, settings, init=carried, anchor=anchor)
            for event in job.run():
                if isinstance(event, Finished):
                    stylized = to_frame(event.result.rgb)
                    yield StylizedFrame(index, stylized, event.steps, time.perf_counter() - started)
                else:
                    yield event
            previous = frame, stylized
