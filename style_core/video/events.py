"""What a video job yields, in order: :class:`VideoPlanned`, then per frame (in-process)
:class:`FrameProgress` while it is painted and :class:`FrameDone` when it is on disk, then
:class:`Encoding` and :class:`VideoDone`. Each is a dataclass with a ``kind``, so
:func:`style_core.protocol.record` makes a JSON record of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class VideoPlanned:
    """The job as planned.

    Attributes:
        frames: frames in the video.
        done: frames already on disk from an earlier run (``--resume``).
        work: frames to stylize now, lead-ins included.
        width, height: the size frames are stylized and encoded at, in pixels.
        frame_rate: frames per second.
        chunks: how many sequences run side by side (1 on one machine).
        workers: who does the work ("this machine (one process)", or Ray's pool).
        folder: where finished frames are kept until the video is written.
    """

    kind: ClassVar[str] = "video"

    frames: int
    done: int
    work: int
    width: int
    height: int
    frame_rate: float
    chunks: int
    workers: str
    folder: str


@dataclass(frozen=True)
class FrameProgress:
    """An iteration of the frame being painted (in-process runs only).

    Attributes:
        frame: its number (0-based).
        step, total_steps: iterations of this frame.
        fraction: share of the whole job's work done, 0 to 1.
        elapsed: seconds since the job started.
        eta: estimated seconds left.
    """

    kind: ClassVar[str] = "frame-progress"

    frame: int
    step: int
    total_steps: int
    fraction: float
    elapsed: float
    eta: float


@dataclass(frozen=True)
class FrameDone:
    """A frame is finished and on disk.

    Attributes:
        frame: its number (0-based).
        lead_into: for a lead-in frame, the frame its chunk starts at; else None.
        done, work: frames finished so far, of ``work``.
        fraction: ``done / work``.
        steps: iterations it took.
        seconds: how long it took.
        elapsed: seconds since the job started.
        eta: estimated seconds left.
        path: the frame as a PNG (a preview; it goes when the video is written, unless kept).
    """

    kind: ClassVar[str] = "frame"

    frame: int
    lead_into: int | None
    done: int
    work: int
    fraction: float
    steps: int
    seconds: float
    elapsed: float
    eta: float
    path: str


@dataclass(frozen=True)
class Encoding:
    """Every frame is done; the video is being written."""

    kind: ClassVar[str] = "encoding"

    output: str


@dataclass(frozen=True)
class VideoDone:
    """The video is written."""

    kind: ClassVar[str] = "video-done"

    output: str
    frames: int
    width: int
    height: int
    elapsed: float


VideoEvent = VideoPlanned | FrameProgress | FrameDone | Encoding | VideoDone


def describe(data: dict) -> str:
    """One line of status for a video record (see :func:`style_core.protocol.describe`)."""
    from ..protocol import describe as describe_engine
    from ..protocol import format_seconds

    kind = data.get("event")
    if kind == "video":
        resumed = f", {data['done']} already done" if data["done"] else ""
        return (
            f"{data['frames']} frames at {data['width']}x{data['height']}, {data['frame_rate']:g} fps{resumed}; "
            f"{data['work']} to paint on {data['workers']}; frames kept in {data['folder']}"
        )
    if kind == "frame-progress":
        return (
            f"frame {data['frame'] + 1} · step {data['step']}/{data['total_steps']} · "
            f"{format_seconds(data['elapsed'])} so far · about {format_seconds(data['eta'])} left"
        )
    if kind == "frame":
        lead = f" (lead-in to {data['lead_into'] + 1})" if data["lead_into"] is not None else ""
        return (
            f"frame {data['frame'] + 1}{lead} done · {data['done']}/{data['work']} · "
            f"{format_seconds(data['elapsed'])} so far · about {format_seconds(data['eta'])} left"
        )
    if kind == "encoding":
        return f"writing {data['output']}"
    if kind == "video-done":
        return (
            f"done in {format_seconds(data['elapsed'])}: {data['output']}, "
            f"{data['frames']} frames at {data['width']}x{data['height']}"
        )
    return describe_engine(data)
