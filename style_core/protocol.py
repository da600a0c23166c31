"""The wire between the engine and its doors, in one place.

- Events become records (``{"event": "progress", "step": 3, ...}``) and JSON lines, and back.
- Exceptions become error records: ``{"event": "error", "kind": <class name>, "message": ...,
  "hint": ...}``; a door reacts to ``kind``, never to the wording.
- A record becomes one line of human status: stage, size, step and time left, from the
  engine's own estimate.

Standard library only: the GIMP plug-in, whose Python has no torch, gets a copy of this file
at install time and uses it as it is.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

#: The ``kind`` of an error whose exception is no style_core error: a bug, not bad input.
BUG_HINT = "this is a bug in style_core; please report it with the command that caused it"


def record(event: Any, **extra: Any) -> dict[str, Any]:
    """A JSON-ready record of an event dataclass: its ``kind`` as ``event``, then every field
    whose metadata doesn't say ``wire=False`` (images and tensors), then ``extra``."""
    fields = {
        field.name: getattr(event, field.name)
        for field in dataclasses.fields(event)
        if field.metadata.get("wire", True)
    }
    return {"event": event.kind, **fields, **extra}


def encode(data: dict[str, Any]) -> str:
    """One JSON line (no newline inside) for a record; floats rounded to 4 significant places.
    Plain ASCII (other characters as ``\\uXXXX``), so that it can be written to any stream,
    one whose encoding is not UTF-8 too."""
    return json.dumps(_rounded(data), separators=(",", ":"), ensure_ascii=True)


def decode(line: str | bytes) -> dict[str, Any] | None:
    """The record on a line, or None for a line that is not one (a stray print, say)."""
    try:
        data = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("event"), str) else None


def error_record(error: BaseException) -> dict[str, Any]:
    """The error event for ``error``: ``kind`` is its class name, ``message`` one line, and
    ``hint`` the way out (style_core's errors carry one; anything else is a bug)."""
    kind = type(error).__name__
    if isinstance(error, KeyboardInterrupt):
        kind, message, hint = "Cancelled", "cancelled", ""
    elif hasattr(error, "message") and hasattr(error, "hint"):
        message, hint = error.message, error.hint
    else:
        message, hint = f"{kind}: {error}" if str(error) else kind, BUG_HINT
    return {"event": "error", "kind": kind, "message": " ".join(str(message).split()), "hint": hint}


def format_seconds(seconds: float) -> str:
    """``0:07``, ``1:05``, ``1:02:03``: minutes and seconds, hours when there are any."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def describe(data: dict[str, Any]) -> str:
    """One line of status for a record, the same in every door."""
    kind = data.get("event")
    if kind == "progress":
        return (
            f"stage {data['stage']}/{data['num_stages']} ({data['width']}x{data['height']}) · "
            f"step {data['step']}/{data['total_steps']} · {format_seconds(data['elapsed'])} so far · "
            f"about {format_seconds(data['eta'])} left"
        )
    if kind == "done":
        took, size = format_seconds(data["elapsed"]), f"{data['width']}x{data['height']} px"
        return f"done in {took}: {size}, {data['steps']} iterations"
    if kind == "error":
        hint = data.get("hint")
        return f"{data['message']}; {hint}" if hint else data["message"]
    return str(kind)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}") if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(item) for item in value]
    return value
