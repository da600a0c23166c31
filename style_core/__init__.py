"""style_core: neural style transfer (Gatys et al. 2015) by optimising pixels against VGG-19.

>>> from style_core import stylize
>>> image = stylize("photo.jpg", "painting.jpg", size=512)  # doctest: +SKIP

The names below are imported on first use, so that ``style-core`` answers ``--help`` (and
Ctrl-C) before torch has loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

#: Public name → the module that defines it.
_EXPORTS = {
    "Cancelled": "errors",
    "DivergedError": "errors",
    "ImageError": "errors",
    "InvalidSettingError": "errors",
    "OutOfMemoryError": "errors",
    "OutputError": "errors",
    "StyleCoreError": "errors",
    "WeightsUnavailableError": "errors",
    "Finished": "events",
    "Progress": "events",
    "Result": "events",
    "Job": "job",
    "preload": "engine.network",
    "read_recipe": "output",
    "save_image": "output",
    "SCHEMA": "settings",
    "Settings": "settings",
    "stylize": "api",
    "stylize_iter": "api",
    "load_weights": "engine.weights",
}

__all__ = [
    "SCHEMA",
    "Cancelled",
    "DivergedError",
    "Finished",
    "ImageError",
    "InvalidSettingError",
    "Job",
    "OutOfMemoryError",
    "OutputError",
    "Progress",
    "Result",
    "Settings",
    "StyleCoreError",
    "WeightsUnavailableError",
    "__version__",
    "load_weights",
    "preload",
    "read_recipe",
    "save_image",
    "stylize",
    "stylize_iter",
]

if TYPE_CHECKING:
    from .api import stylize, stylize_iter
    from .engine.network import preload
    from .engine.weights import load_weights
    from .errors import (
        Cancelled,
        DivergedError,
        ImageError,
        InvalidSettingError,
        OutOfMemoryError,
        OutputError,
        StyleCoreError,
        WeightsUnavailableError,
    )
    from .events import Finished, Progress, Result
    from .job import Job
    from .output import read_recipe, save_image
    from .settings import SCHEMA, Settings


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'style_core' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
