"""The frames of a video job on disk, in a folder beside the output (``clip.mp4`` →
``clip.mp4.frames/``), so that a stopped run continues where it stopped (``--resume``).

- ``frame-000012.png``: frame 12 as its chunk made it.
- ``lead-000046-000050.png``: frame 46 as the lead-in of the chunk that starts at frame 50;
  blended with ``frame-000046.png`` when the video is written (see
  :func:`~style_core.video.chunks.lead_share`). A lead-in whose chunk never finished its first
  frame is discarded on resume.
- ``job.json``: what the frames were made from (the video's fingerprint, the styles', every
  setting); a resume with anything else is refused, naming what changed, and so is one whose
  ``job.json`` is damaged (nothing says what its frames are), saying which folder to delete.

On resume, a frame file that no longer decodes (damaged on disk since) is removed, said in
one line, and painted again.

Every file is written under a temporary name and renamed, and a frame already on disk is
never written again, so a frame is either complete or absent.
"""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ..errors import OutputError, UsageError
from ..output import replacing
from .chunks import lead_share

log = logging.getLogger(__name__)

_FRAME = re.compile(r"frame-(\d{6,})\.png")
_LEAD = re.compile(r"lead-(\d{6,})-(\d{6,})\.png")
MANIFEST = "job.json"


def encode_png(frame: np.ndarray) -> bytes:
    """(H, W, 3) uint8 as PNG bytes (light compression: frames are many and short-lived)."""
    buffer = io.BytesIO()
    Image.fromarray(frame, "RGB").save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def decode_png(data: bytes | Path) -> np.ndarray:
    """PNG bytes (or a PNG file) as (H, W, 3) uint8."""
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
        return np.asarray(image.convert("RGB"))


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    names = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            names += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            names.append(f"{prefix}{key} ({a!r} then, {b!r} now)")
    return names


class WorkFolder:
    """The frames folder of the video written to ``output``."""

    def __init__(self, output: Path) -> None:
        self.path = output.with_name(output.name + ".frames")

    def frame_path(self, index: int) -> Path:
        return self.path / f"frame-{index:06d}.png"

    def lead_path(self, index: int, into: int) -> Path:
        return self.path / f"lead-{index:06d}-{into:06d}.png"

    def open(self, manifest: dict[str, Any], *, resume: bool) -> None:
        """Create the folder for a job described by ``manifest`` (JSON-ready), or check that the
        frames already there belong to it. Without ``resume``, frames already there are an
        error: nothing the user made is overwritten or mixed with another job's."""
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"'{self.path}' is a file; the frames of this video go in a folder of that name")
        existing = self.path / MANIFEST
        if existing.is_file():
            if not resume:
                frames = len(self.done())
                raise UsageError(
                    f"'{self.path}' holds {frames} frames of an earlier run of this output",
                    hint="add --resume to continue it, or delete that folder to start again",
                )
            old = self._manifest(existing)
            changed = _differences(old, manifest)
            if changed:
                raise UsageError(
                    f"the frames in '{self.path}' were made differently: {'; '.join(changed)}",
                    hint="run with what you used then, or delete that folder to start again",
                )
            self.drop_damaged()
            return
        self.path.mkdir(exist_ok=True)
        with replacing(existing) as temporary:
            temporary.write_text(json.dumps(manifest, indent=1, sort_keys=True))

    def _manifest(self, path: Path) -> dict[str, Any]:
        """The manifest on disk, or a one-line :class:`UsageError` saying what to delete."""
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"'{path}' is damaged ({exc}): what the frames in '{self.path}' were made from is unknown",
                hint="delete that folder to start again",
            ) from exc
        if not isinstance(manifest, dict):
            raise UsageError(
                f"'{path}' is damaged (not a job description)", hint=f"delete '{self.path}' to start again"
            )
        return manifest

    def drop_damaged(self) -> None:
        """Remove the frame and lead-in files that don't decode (truncated or damaged on disk):
        they are painted again."""
        damaged = []
        for path in sorted(self.path.iterdir()):
            if _FRAME.fullmatch(path.name) or _LEAD.fullmatch(path.name):
                try:
                    with Image.open(path) as image:
                        image.load()
                except (OSError, SyntaxError, ValueError):
                    path.unlink(missing_ok=True)
                    damaged.append(path.name)
        if damaged:
            names = ", ".join(damaged[:5]) + ("…" if len(damaged) > 5 else "")
            log.warning("%d damaged frame files in %s (%s) removed: painted again", len(damaged), self.path, names)

    def done(self) -> set[int]:
        """The frames whose own file is on disk."""
        if not self.path.is_dir():
            return set()
        return {int(m.group(1)) for p in self.path.iterdir() if (m := _FRAME.fullmatch(p.name))}

    def _leads(self) -> dict[int, list[tuple[int, int]]]:
        """``{into: [(index, into), ...]}`` of the lead-in files on disk."""
        leads: dict[int, list[tuple[int, int]]] = {}
        for path in self.path.iterdir():
            if m := _LEAD.fullmatch(path.name):
                index, into = int(m.group(1)), int(m.group(2))
                leads.setdefault(into, []).append((index, into))
        return leads

    def discard_unfinished_leads(self, done: set[int]) -> None:
        """Remove lead-ins whose chunk didn't finish its first own frame: they are redone."""
        for into, items in self._leads().items():
            if into not in done:
                for index, _ in items:
                    self.lead_path(index, into).unlink(missing_ok=True)

    def write(self, path: Path, png: bytes) -> bool:
        """Write a frame's PNG bytes unless that frame is on disk already; True if written."""
        if path.exists():
            return False
        with replacing(path) as temporary:
            temporary.write_bytes(png)
        return True

    def final_frames(self, total: int) -> Iterator[np.ndarray]:
        """Frames 0 to ``total`` - 1 as they go into the video: each frame cross-faded with the
        lead-ins that cover it (uint8 (H, W, 3))."""
        covering: dict[int, list[tuple[int, int, int]]] = {}
        for into, items in self._leads().items():
            first = min(index for index, _ in items)
            for index, _ in items:
                covering.setdefault(index, []).append((into, index - first, into - first))
        for index in range(total):
            frame = decode_png(self.frame_path(index))
            if index in covering:
                blended = frame.astype(np.float32)
                for into, position, lead in sorted(covering[index]):
                    share = lead_share(position, lead)
                    blended = (1 - share) * blended + share * decode_png(self.lead_path(index, into))
                frame = blended.round().clip(0, 255).astype(np.uint8)
            yield frame

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
