"""Cutting the frames still to do into contiguous chunks that run side by side, and blending
where two chunks meet.

A chunk stylizes its frames in order, each tied to the one before. A chunk that starts just
after a finished frame continues from it: no seam at all. A chunk that starts where the frame
before is not finished yet (another chunk is making it) first stylizes a *lead-in*: the
``overlap`` frames before its start, from scratch. By its start it is coherent, and across the
lead-in the video cross-fades from the earlier chunk's frames to the lead-in's
(:func:`lead_share`), so the seam is a short dissolve rather than a jump.

On one machine there is one chunk per run of missing frames: the frames are stylized in a
single sequence, as if there were no chunks.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    """Frames ``lead_start`` to ``stop`` (exclusive) stylized in order.

    Attributes:
        lead_start: the first frame it stylizes.
        start: the first frame it owns; frames ``lead_start..start`` are its lead-in.
        stop: one past its last frame.
        continues: the frame before ``lead_start`` is finished and the chunk goes on from it.
    """

    lead_start: int
    start: int
    stop: int
    continues: bool

    @property
    def lead(self) -> int:
        """How many lead-in frames it stylizes before its own."""
        return self.start - self.lead_start

    @property
    def work(self) -> int:
        """Frames it stylizes, lead-in included."""
        return self.stop - self.lead_start


def missing_runs(done: Collection[int], total: int) -> list[tuple[int, int]]:
    """Maximal runs ``(start, stop)`` of frame numbers below ``total`` that are not in ``done``."""
    runs: list[tuple[int, int]] = []
    start = None
    for index in range(total + 1):
        missing = index < total and index not in done
        if missing and start is None:
            start = index
        elif not missing and start is not None:
            runs.append((start, index))
            start = None
    return runs


def plan_chunks(
    done: Collection[int], total: int, *, workers: int, overlap: int, chunk_frames: int | None = None
) -> list[Chunk]:
    """Chunks covering every frame below ``total`` that isn't ``done``.

    Each run of missing frames is cut into near-equal pieces of about ``chunk_frames`` (by
    default, the frames left divided by ``workers``, so each worker gets one contiguous
    piece), each longer than ``overlap`` so lead-ins never meet. A run's first piece
    continues from the finished frame before it; the others get a lead-in of ``overlap``
    frames.
    """
    runs = missing_runs(done, total)
    left = sum(stop - start for start, stop in runs)
    if not left:
        return []
    length = max(chunk_frames or math.ceil(left / max(1, workers)), overlap + 1)
    chunks = []
    for run_start, run_stop in runs:
        size = run_stop - run_start
        pieces = max(1, min(math.ceil(size / length), size // (overlap + 1)))
        bounds = [run_start + round(i * size / pieces) for i in range(pieces + 1)]
        for start, stop in itertools.pairwise(bounds):
            if start == run_start:  # after a finished frame (or the video's start): no seam
                chunks.append(Chunk(start, start, stop, continues=start > 0))
            else:  # pieces are longer than the overlap, so the lead-in stays inside the run
                chunks.append(Chunk(start - overlap, start, stop, continues=False))
    return chunks


def lead_share(position: int, lead: int) -> float:
    """The lead-in's share of frame ``position`` (0-based) of a lead-in ``lead`` frames long:
    rising evenly from 1/(lead+1) to lead/(lead+1); the earlier chunk's frame has the rest."""
    return (position + 1) / (lead + 1)
