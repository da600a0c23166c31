"""The worker that stylizes chunks of a video: in this process, or as a Ray actor's (see
:mod:`style_core.cluster`). It holds the network, decodes its chunk's frames from the video
(a path, or the file's bytes on a cluster) and paints them in order."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from torch import Tensor

from ..cluster import Worker
from ..events import Progress
from ..settings import Settings
from .chunks import Chunk
from .frames import FrameStylist, StylizedFrame
from .media import VideoSource, read_frames
from .workdir import decode_png, encode_png


class ChunkWorker(Worker):
    """Stylizes :class:`~style_core.video.chunks.Chunk` s of one video.

    Args:
        source: the video (a path, or its bytes).
        styles: the style images, each (1, 3, H, W) float32 in [0, 1].
        settings: the picture settings.
        temporal_weight: the weight of the tie to the previous frame.
        size: (width, height) the frames are stylized at.
    """

    def __init__(
        self,
        source: VideoSource,
        styles: Sequence[Tensor],
        settings: Settings,
        temporal_weight: float,
        size: tuple[int, int],
    ) -> None:
        super().__init__(settings)
        self.source = source
        self.size = size
        self.stylist = FrameStylist(styles, settings, temporal_weight)

    def frames(self, chunk: Chunk, previous: np.ndarray | None) -> Iterator[Progress | StylizedFrame]:
        """The chunk's frames in order, with the engine's progress between them. ``previous``,
        the stylized frame before ``chunk.lead_start`` ((H, W, 3) uint8), is needed when the
        chunk continues from it."""
        if chunk.continues and previous is None:
            raise ValueError(f"chunk at frame {chunk.lead_start} continues from a frame it wasn't given")
        first = chunk.lead_start - 1 if chunk.continues else chunk.lead_start
        decoded = read_frames(self.source, self.size, first, chunk.stop)
        before = None
        if chunk.continues:
            _, source_frame = next(decoded)
            before = (source_frame, previous)
        yield from self.stylist.run(decoded, before)

    def process(self, row: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """For Ray: a chunk row (``lead_start``, ``start``, ``stop``, ``continues``, ``previous``
        PNG bytes or empty) → one row per finished frame (``frame``, ``into`` = the chunk's
        start for a lead-in frame else -1, ``png``, ``steps``, ``seconds``)."""
        chunk = Chunk(row["lead_start"], row["start"], row["stop"], bool(row["continues"]))
        previous = decode_png(row["previous"]) if row["previous"] else None
        for event in self.frames(chunk, previous):
            if isinstance(event, StylizedFrame):
                yield {
                    "frame": event.index,
                    "into": chunk.start if event.index < chunk.start else -1,
                    "png": encode_png(event.image),
                    "steps": event.steps,
                    "seconds": event.elapsed,
                }
