"""What one job of the app may use, by device kind, and how that narrows the schema.

A web app shares one machine between visitors, so it caps the output size and the time a job
may take. Both caps come from the device kind (a CPU is the slowest) and can be changed with
``STYLE_APP_*`` variables. The size cap is the app's one override of the settings schema: it
narrows ``size`` with :meth:`~style_core.settings.Spec.narrowed`, never with a second list.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from style_core.errors import InvalidSettingError
from style_core.image import MIN_SIDE
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
        """The limits for a device kind (``cpu``, ``mps``, ``cuda``; default: the best one here),
        changed by the :data:`VARIABLES` that are set (an empty one is unset); an
        :class:`InvalidSettingError` naming a variable whose value it does not accept."""
        if kind is None:
            from style_core.engine.device import resolve_device

            kind = resolve_device(None).type
        max_size, time_limit = cls.BY_DEVICE.get(kind, cls.BY_DEVICE["cpu"])
        limits = cls(max_size, time_limit, queue_size=20, max_file_size="20mb", max_pixels=50_000_000)
        return replace(
            limits, **{v.field: v.read(getattr(limits, v.field)) for v in VARIABLES if os.environ.get(v.name)}
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
        return f"at most {self.max_size} px and {in_words(self.time_limit)} per picture"


def in_words(seconds: float) -> str:
    """A duration as a visitor reads it: ``15 minutes``, ``1.5 minutes``, ``45 seconds``."""
    if seconds < 90:
        return f"{round(seconds)} second{'s' if round(seconds) != 1 else ''}"
    minutes = round(seconds / 60, 1)
    return f"{minutes:g} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True)
class Variable:
    """A ``STYLE_APP_*`` variable: the :class:`Limits` field it sets and what it accepts."""

    name: str
    field: str
    accepts: str  #: for the message when a value is not accepted ("a whole number from 1 up")
    parse: Callable[[str], Any]  #: the value, or a ValueError when it is not accepted

    def read(self, default: Any) -> Any:
        """The variable's value; an :class:`InvalidSettingError` naming it when it is not accepted."""
        raw = os.environ[self.name]
        try:
            return self.parse(raw)
        except ValueError:
            raise InvalidSettingError(
                f"{self.name} must be {self.accepts}; got {raw!r}",
                hint=f"fix it, or unset it for the default ({default})",
            ) from None


def _whole(low: int, high: float = math.inf) -> Callable[[str], int]:
    """A parser of a whole number from ``low`` to ``high``."""

    def parse(raw: str) -> int:
        value = int(raw.strip())
        if not low <= value <= high:
            raise ValueError(raw)
        return value

    return parse


def _seconds(raw: str) -> float:
    value = float(raw)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(raw)
    return value


def _file_size(raw: str) -> str:
    """A size as gradio's ``max_file_size`` takes it: a whole number and a unit (``20mb``)."""
    if not re.fullmatch(r"[1-9][0-9]*(b|kb|mb|gb)", value := raw.replace(" ", "").lower()):
        raise ValueError(raw)
    return value


#: The variables, in the order of :class:`Limits`' fields.
VARIABLES = (
    Variable(
        "STYLE_APP_MAX_SIZE",
        "max_size",
        f"a whole number of pixels from {MIN_SIDE} to {SPECS['size'].maximum}",
        _whole(MIN_SIDE, SPECS["size"].maximum),
    ),
    Variable("STYLE_APP_TIME_LIMIT", "time_limit", "a number of seconds above 0", _seconds),
    Variable("STYLE_APP_QUEUE_SIZE", "queue_size", "a whole number of jobs from 1 up", _whole(1)),
    Variable(
        "STYLE_APP_MAX_UPLOAD", "max_file_size", "a size such as 20mb (a whole number and b, kb, mb or gb)", _file_size
    ),
    Variable(
        "STYLE_APP_MAX_PIXELS", "max_pixels", f"a whole number of pixels from {MIN_SIDE**2} up", _whole(MIN_SIDE**2)
    ),
)
