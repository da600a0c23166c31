"""The Gram loss of Gatys et al. (2015): the channels' mean co-activations.

``G = F Fᵀ / (C·H·W)`` (a mean over positions, so independent of the image size; with a
weight map, ``Σ w·f fᵀ / (C·Σ w)``); the distance is ``mean((G - T)²)``. The scale is
``sqrt(mean(Gc²) · mean(Gs²))``, the geometric mean of the content's and the style's Gram
energy: weight sets with very different activation scales (Caffe's 0-255 input,
torchvision's normalised one) get comparable losses, and, being symmetric in the two
images, a loud painting (*The Starry Night*) pulls as hard as a muted one, where dividing
by the style's energy alone would weaken it. The content's energy is floored at 1% of the
style's, so a blank layer raises the pull at most tenfold.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .base import MeanStyleLoss, Stats
from .moments import positions, second_moment


def gram_matrix(features: Tensor) -> Tensor:
    """``(B, C, H, W)`` features to ``(B, C, C)`` Gram matrices ``F Fᵀ / (C·H·W)``, in float32
    or better (bf16/fp16 activations are promoted)."""
    b, c, h, w = features.shape
    flat = features.to(torch.promote_types(features.dtype, torch.float32)).reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


class GramLoss(MeanStyleLoss):
    """Mean squared difference of Gram matrices. Statistics: ``{"gram": (C, C)}``."""

    def statistics(self, features: Tensor, weight: Tensor | None = None) -> Stats:
        flat, weights = positions(features, weight)
        return {"gram": second_moment(flat, weights) / flat.shape[0]}

    def compare(self, stats: Stats, target: Stats) -> Tensor:
        return (stats["gram"] - target["gram"]).square().mean()

    def scale(self, content: Stats, target: Stats) -> Tensor:
        style_energy = target["gram"].square().mean().clamp_min(1e-12)
        content_energy = content["gram"].square().mean().clamp_min(0.01 * style_energy)
        return (content_energy * style_energy).sqrt()
