"""style_core: neural style transfer (Gatys et al. 2015) by optimising pixels against VGG-19.

>>> from style_core import stylize
>>> image = stylize("photo.jpg", "painting.jpg", size=512)  # doctest: +SKIP

The names below are imported on first use, so that ``style-core`` answers ``--help`` (and
Ctrl-C) before torch has loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

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
    "preload": "network",
    "read_recipe": "output",
    "save_image": "output",
    "SCHEMA": "settings",
    "Settings": "settings",
    "stylize": "api",
    "stylize_iter": "api",
    "load_weights": "weights",
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
    from .network import preload
    from .output import read_recipe, save_image
    from .settings import SCHEMA, Settings
    from .weights import load_weights


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'style_core' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
