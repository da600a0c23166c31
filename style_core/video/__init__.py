"""Stylizing videos, coherent in time (Ruder et al. 2016): ``style-core video IN --style S -o OUT``.

Each frame starts from the previous stylized frame carried along the optical flow (OpenCV's
DIS) and is held to it where the flow is trusted; frames are decoded and encoded with PyAV
(frame rate and audio kept). On Ray, contiguous chunks of frames run side by side and are
cross-faded where they meet. Needs the ``video`` extra: ``pip install 'style-core[video]'``.

>>> from style_core.video import stylize_video
>>> for event in stylize_video("clip.mp4", "painting.jpg", "out.mp4", size=512):  # doctest: +SKIP
...     print(event)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["stylize_video"]

if TYPE_CHECKING:
    from .job import stylize_video


def __getattr__(name: str) -> Any:
    if name == "main":
        from ..cli.video import main

        return main
    if name == "stylize_video":
        from .job import stylize_video

        return stylize_video
    raise AttributeError(f"module 'style_core.video' has no attribute {name!r}")
