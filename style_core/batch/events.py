"""What a batch yields: an event per picture, then :class:`BatchDone`; and their status lines."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from .. import protocol


@dataclass(frozen=True)
class ImageProgress:
    """An iteration of the picture being painted (in-process runs only).

    Attributes:
        index: the picture's place in the batch (1-based), of ``total``.
        input: its path.
        step, total_steps: iterations of this picture.
        fraction: share of the whole batch done, 0 to 1.
        elapsed: seconds since the batch started.
        eta: the picture's own estimate of its seconds left.
    """

    kind: ClassVar[str] = "image-progress"

    index: int
    total: int
    input: str
    step: int
    total_steps: int
    fraction: float
    elapsed: float
    eta: float


@dataclass(frozen=True)
class ImageDone:
    """A picture is written (``output``), ``width`` x ``height`` px after ``steps`` iterations
    taking ``seconds``; ``fraction`` of the batch is done after ``elapsed`` seconds."""

    kind: ClassVar[str] = "image"

    index: int
    total: int
    input: str
    output: str
    width: int
    height: int
    steps: int
    seconds: float
    fraction: float
    elapsed: float


@dataclass(frozen=True)
class ImageSkipped:
    """A picture whose result was on disk already (``--resume``)."""

    kind: ClassVar[str] = "skipped"

    index: int
    total: int
    input: str
    output: str
    fraction: float
    elapsed: float


@dataclass(frozen=True)
class ImageFailed:
    """A picture that could not be made: ``error`` is the exception's kind (class name), with
    its one-line ``message`` and ``hint``. The batch goes on."""

    kind: ClassVar[str] = "failed"

    index: int
    total: int
    input: str
    error: str
    message: str
    hint: str
    fraction: float
    elapsed: float


@dataclass(frozen=True)
class BatchDone:
    """The batch is over: how many pictures were made, skipped and failed."""

    kind: ClassVar[str] = "batch-done"

    done: int
    skipped: int
    failed: int
    elapsed: float
    output: str


BatchEvent = ImageProgress | ImageDone | ImageSkipped | ImageFailed | BatchDone


def describe(data: dict[str, Any]) -> str:
    """One line of status for a batch record."""
    kind = data.get("event")
    where = f"[{data.get('index')}/{data.get('total')}] {data.get('input')}"
    if kind == "image-progress":
        return (
            f"{where} · step {data['step']}/{data['total_steps']} · about {protocol.format_seconds(data['eta'])} left"
        )
    if kind == "image":
        return f"{where} → {data['output']} ({protocol.format_seconds(data['seconds'])})"
    if kind == "skipped":
        return f"{where}: already done"
    if kind == "failed":
        named = Path(str(data["input"])).name in data["message"]  # most messages name the picture
        head = f"[{data['index']}/{data['total']}] " if named else f"{where}: "
        return head + data["message"] + (f"; {data['hint']}" if data["hint"] else "")
    if kind == "batch-done":
        parts = [f"{data['done']} made", f"{data['skipped']} already done", f"{data['failed']} failed"]
        took = protocol.format_seconds(data["elapsed"])
        return f"batch finished in {took}: {', '.join(parts)}; results in {data['output']}"
    return protocol.describe(data)
