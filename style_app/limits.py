"""What one job of the app may use, by device kind, and how that narrows the schema.

A web app shares one machine between visitors, so it caps the output size and the time a job
may take. Both caps come from the device kind (a CPU is the slowest) and can be changed with
``STYLE_APP_*`` variables. The size cap is the app's one override of the settings schema: it
narrows ``size`` with :meth:`~style_core.settings.Spec.narrowed`, never with a second list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import ClassVar

from style_core.protocol import format_seconds
from style_core.settings import SPECS, Spec


@dataclass(frozen=True)
class Limits:
    """What one job may use. Read from ``STYLE_APP_*`` variables, else from the device kind."""

    max_size: int  #: longest side of the output, in pixels
    time_limit: float  #: seconds a job may run before it is stopped
    queue_size: int  #: jobs that may wait; more are turned away
    max_file_size: str  #: per upload, e.g. "20mb"
    max_pixels: int  #: per input image, checked before it is decoded

    #: Per device kind: (max_size, time_limit in seconds). A 2048 px picture on a CPU (about
    #: 6 minutes on two cores with tiles, issue 10) fits its limit with room to spare; a GPU
    #: paints 4096 px in about a minute.
    BY_DEVICE: ClassVar[dict[str, tuple[int, float]]] = {
        "cpu": (2048, 900),
        "mps": (2048, 600),
        "cuda": (4096, 300),
    }

    @classmethod
    def for_device(cls, kind: str | None = None) -> Limits:
        """The limits for a device kind (``cpu``, ``mps``, ``cuda``; default: the best one here)."""
        if kind is None:
            from style_core.engine.device import resolve_device

            kind = resolve_device(None).type
        max_size, time_limit = cls.BY_DEVICE.get(kind, cls.BY_DEVICE["cpu"])
        env = os.environ.get
        return cls(
            max_size=int(env("STYLE_APP_MAX_SIZE", max_size)),
            time_limit=float(env("STYLE_APP_TIME_LIMIT", time_limit)),
            queue_size=int(env("STYLE_APP_QUEUE_SIZE", 20)),
            max_file_size=env("STYLE_APP_MAX_UPLOAD", "20mb"),
            max_pixels=int(env("STYLE_APP_MAX_PIXELS", 50_000_000)),
        )

    def overrides(self) -> dict[str, Spec]:
        """The schema's specs this app narrows, by name: ``size`` up to :attr:`max_size`."""
        size = SPECS["size"]
        return {
            "size": size.narrowed(
                maximum=self.max_size,
                default=min(size.default, self.max_size),
                help=f"{size.help}; at most {self.max_size} px on this server",
            )
        }

    def describe(self) -> str:
        """One line for the page's footnote."""
        return f"at most {self.max_size} px and {format_seconds(self.time_limit)} (min:s) per job"
