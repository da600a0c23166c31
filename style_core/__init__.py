"""style_core: neural style transfer (Gatys et al. 2015) by optimising pixels against VGG-19.

>>> from style_core import stylize
>>> image = stylize("photo.jpg", "painting.jpg", size=512)  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .errors import (
    DivergedError,
    ImageError,
    InvalidSettingError,
    OutOfMemoryError,
    StyleCoreError,
    WeightsUnavailableError,
)
from .events import Progress
from .output import read_recipe, save_image
from .settings import Settings
from .stylize import preload, stylize, stylize_iter
from .weights import load_weights

__all__ = [
    "DivergedError",
    "ImageError",
    "InvalidSettingError",
    "OutOfMemoryError",
    "Progress",
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
