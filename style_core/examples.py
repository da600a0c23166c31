"""Example pictures that need no download.

- Shipped with the package (``example_images/``, at most 512 px, JPEG): public-domain
  paintings and one CC BY photograph, for ``style-core --example``, the app's examples and
  the README (:data:`PAINTINGS`, :data:`PHOTO`, :data:`CREDITS`).
- Painted here by code, for tests and benchmarks: brush strokes along a swirling flow field;
  and photos from scikit-image's bundled data.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .errors import StyleCoreError

#: The shipped photograph and paintings, by file name in :func:`example_folder`.
PHOTO = "tubingen.jpg"
PAINTINGS = ("starry-night.jpg", "the-scream.jpg", "shipwreck.jpg", "woman-with-hat.jpg")
CREDITS = (
    "*The Starry Night* (Vincent van Gogh, 1889), *The Scream* (Edvard Munch, 1893), "
    "*The Shipwreck* (J. M. W. Turner, 1805) and *Woman with a Hat* (Henri Matisse, 1905), public domain; "
    "*Neckarfront in Tübingen*, photograph by Andreas Praefcke, "
    "[CC BY 3.0](https://creativecommons.org/licenses/by/3.0/)."
)
#: scikit-image data images used as example photos in tests and benchmarks.
CONTENT_NAMES = ("chelsea", "coffee", "astronaut")


def example_folder() -> Path:
    """The folder of the shipped example pictures."""
    return Path(str(resources.files(__package__).joinpath("example_images")))


def example_content(name: str = "chelsea") -> Image.Image:
    """A photo from scikit-image's bundled data (``chelsea``, ``coffee`` or ``astronaut``)."""
    if name not in CONTENT_NAMES:
        raise StyleCoreError(f"unknown example {name!r}; choose from {', '.join(CONTENT_NAMES)}")
    try:
        import skimage.data
    except ImportError as exc:
        raise StyleCoreError("the example photos need scikit-image", hint="pip install scikit-image") from exc
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


NIGHT_PALETTE = ((16, 38, 94), (28, 70, 150), (60, 110, 190), (120, 160, 210), (235, 200, 70), (250, 230, 140))


def _flow_angle(x: float, y: float, size: int) -> float:
    """Direction of a field of three vortices and a gentle horizontal drift at (x, y)."""
    angle_x, angle_y = 1.0, 0.0
    for cx, cy, strength in ((0.3, 0.3, 1.0), (0.72, 0.45, -0.8), (0.5, 0.8, 0.6)):
        dx, dy = x / size - cx, y / size - cy
        falloff = strength / (dx * dx + dy * dy + 0.02)
        angle_x += -dy * falloff
        angle_y += dx * falloff
    return math.atan2(angle_y, angle_x)


def swirl_painting(size: int = 512, seed: int = 1) -> Image.Image:
    """Thick, short brush strokes that follow swirling currents, in night blues and yellows."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), NIGHT_PALETTE[0])
    draw = ImageDraw.Draw(image)
    for _ in range(size * 9):
        x, y = rng.uniform(0, size, 2)
        color = np.array(NIGHT_PALETTE[rng.integers(len(NIGHT_PALETTE))]) + rng.integers(-20, 20, 3)
        points = [(x, y)]
        for _ in range(int(rng.integers(4, 10))):
            angle = _flow_angle(x, y, size)
            x, y = x + 3 * math.cos(angle), y + 3 * math.sin(angle)
            points.append((x, y))
        draw.line(points, fill=tuple(int(c) for c in np.clip(color, 0, 255)), width=int(rng.integers(3, 7)))
    return image.filter(ImageFilter.SMOOTH)
