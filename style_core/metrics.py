"""A yardstick for results that is independent of any program's own loss scaling.

With a VGG-19 (the original Caffe weights for comparisons), for images in RGB [0, 1]:

- style distance: mean over ``relu1_1 … relu5_1`` of the mean squared difference between
  the Gram matrices ``F Fᵀ / (C·H·W)`` of the image and of the style image;
- content distance: mean squared difference of ``relu4_2`` features of image and content.

Ratios make them readable: a result's style distance over the content image's (how much
closer to the style it got), and its content distance over the style image's (how much of
the content is left; the style image is resized to the content's size for this).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .engine.style_losses.gram import gram_matrix
from .engine.vgg import VGG19Features
from .image import resize, size_for_long_side

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
CONTENT_LAYER = "relu4_2"


@dataclass(frozen=True)
class Ratios:
    """``style``: style distance of the result / of the content. ``content``: content distance
    of the result / of the style image. Lower is better for both."""

    style: float
    content: float

    def at_least_as_good_as(self, other: Ratios) -> bool:
        return self.style <= other.style and self.content <= other.content


class Yardstick:
    """Distances of images (1, 3, H, W) to one content and one style image, with ``network``."""

    @torch.no_grad()
    def __init__(self, network: VGG19Features, content: Tensor, style: Tensor) -> None:
        self.network = network
        self.content = content
        height, width = content.shape[-2:]
        style_dims = size_for_long_side(style.shape[-1], style.shape[-2], max(height, width))
        self.style_grams = self._grams(resize(style, *style_dims))
        self.content_features = network(content, [CONTENT_LAYER])[CONTENT_LAYER]
        self.baseline = Ratios(
            style=self.style_distance(content),
            content=self.content_distance(resize(style, width, height)),
        )

    def _grams(self, image: Tensor) -> dict[str, Tensor]:
        return {name: gram_matrix(f) for name, f in self.network(image, STYLE_LAYERS).items()}

    @torch.no_grad()
    def style_distance(self, image: Tensor) -> float:
        grams = self._grams(image)
        return float(sum((grams[n] - self.style_grams[n]).square().mean() for n in STYLE_LAYERS) / len(STYLE_LAYERS))

    @torch.no_grad()
    def content_distance(self, image: Tensor) -> float:
        if image.shape[-2:] != self.content.shape[-2:]:
            image = resize(image, self.content.shape[-1], self.content.shape[-2])
        features = self.network(image, [CONTENT_LAYER])[CONTENT_LAYER]
        return float((features - self.content_features).square().mean())

    def ratios(self, image: Tensor) -> Ratios:
        """The result's distances relative to the baseline (see the module docstring)."""
        return Ratios(
            style=self.style_distance(image) / self.baseline.style,
            content=self.content_distance(image) / self.baseline.content,
        )
