"""Example images that need no download: photos from scikit-image's bundled data, and
style images painted here by code (brush strokes along a swirling flow field, a stained-glass
mosaic). Used by ``style-core --example``, the app's examples and the tests.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from .errors import StyleCoreError

#: scikit-image data images used as example photos.
CONTENT_NAMES = ("chelsea", "coffee", "astronaut")

NIGHT_PALETTE = ((16, 38, 94), (28, 70, 150), (60, 110, 190), (120, 160, 210), (235, 200, 70), (250, 230, 140))
GLASS_PALETTE = ((200, 40, 40), (240, 170, 30), (40, 120, 190), (30, 150, 90), (130, 60, 160), (240, 230, 200))


def example_content(name: str = "chelsea") -> Image.Image:
    """A photo from scikit-image's bundled data (``chelsea``, ``coffee`` or ``astronaut``)."""
    if name not in CONTENT_NAMES:
        raise StyleCoreError(f"unknown example {name!r}; choose from {', '.join(CONTENT_NAMES)}")
    try:
        import skimage.data
    except ImportError as exc:
        raise StyleCoreError("the example photos need scikit-image: pip install 'style-core[examples]'") from exc
    return Image.fromarray(getattr(skimage.data, name)()).convert("RGB")


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


def mosaic_painting(size: int = 512, seed: int = 2, cells: int = 90) -> Image.Image:
    """A stained-glass mosaic: bright Voronoi cells separated by dark lead lines."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, size, (cells, 2)).astype(np.float32)
    colors = np.array(GLASS_PALETTE)[rng.integers(len(GLASS_PALETTE), size=cells)]
    colors = np.clip(colors + rng.integers(-25, 25, colors.shape), 0, 255)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    distances = (xs[..., None] - centers[:, 0]) ** 2 + (ys[..., None] - centers[:, 1]) ** 2
    order = np.sort(distances, axis=-1)
    nearest = distances.argmin(-1)
    pixels = colors[nearest].astype(np.float32)
    edge = np.sqrt(order[..., 1]) - np.sqrt(order[..., 0]) < 3.0
    pixels[edge] = (25, 20, 20)
    return Image.fromarray(pixels.astype(np.uint8))


def example_styles() -> dict[str, Image.Image]:
    """The generated style images, by name (the first is the default)."""
    return {"swirls": swirl_painting(), "mosaic": mosaic_painting()}
