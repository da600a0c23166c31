"""The exceptions style_core raises for problems a person can fix: one line each, no traceback needed.

Each carries a ``message`` (what is wrong) and a ``hint`` (the way out), which doors show as
they see fit; ``str(error)`` joins the two. :func:`style_core.protocol.error_record` turns one
into an error event whose ``kind`` is the class name, so a door reacts to the kind, never to
the wording.
"""

from __future__ import annotations


class StyleCoreError(Exception):
    """Base class: a problem with the user's input or environment, described in one line."""

    #: The way out when the raiser gives none.
    default_hint = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = " ".join(message.split())
        self.hint = " ".join((self.default_hint if hint is None else hint).split())
        super().__init__(f"{self.message}; {self.hint}" if self.hint else self.message)


class ImageError(StyleCoreError, ValueError):
    """An image could not be read or is unusable (missing, corrupt, too small, too large)."""


class InvalidSettingError(StyleCoreError, ValueError):
    """A setting is out of range or not one of the allowed values."""


class UsageError(StyleCoreError, ValueError):
    """A command line that can't be run as given (an unknown option, a missing image)."""

    default_hint = "see style-core --help"


class OutputError(StyleCoreError, OSError):
    """The result can't be written where it was asked for."""


class WeightsUnavailableError(StyleCoreError, RuntimeError):
    """No VGG-19 weights could be loaded from the requested source."""


class DivergedError(StyleCoreError, RuntimeError):
    """The optimisation produced a non-finite loss."""

    default_hint = "try a lower style strength, another optimiser or another start"


class OutOfMemoryError(StyleCoreError, MemoryError):
    """The device ran out of memory; a smaller size needs less."""

    default_hint = "choose a smaller size"


class Cancelled(StyleCoreError):
    """The run was stopped before it finished (Ctrl-C, a Stop button, a closed plug-in)."""
