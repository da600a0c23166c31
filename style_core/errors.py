"""The exceptions style_core raises for problems a user can fix. One line each, no traceback needed."""


class StyleCoreError(Exception):
    """Base class: a problem with the user's input or environment, described in one line."""


class ImageError(StyleCoreError, ValueError):
    """An image could not be read or is unusable (missing, corrupt, too small, too large)."""


class InvalidSettingError(StyleCoreError, ValueError):
    """A setting is out of range or not one of the allowed values."""


class WeightsUnavailableError(StyleCoreError, RuntimeError):
    """No VGG-19 weights could be loaded from the requested source."""


class DivergedError(StyleCoreError, RuntimeError):
    """The optimisation produced a non-finite loss."""


class OutOfMemoryError(StyleCoreError, MemoryError):
    """The device ran out of memory; a smaller size needs less."""
