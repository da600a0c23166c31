"""The objective of one stage: content, style and total-variation terms, their targets set once.

- Content: mean squared error of features, divided by the target's mean square.
- Style: the chosen :mod:`style loss <style_core.style_losses>` per layer, each divided by its
  scale and weighted by the layer's share.
- Total variation: :func:`kornia.losses.total_variation`, the mean absolute difference of
  horizontal neighbours plus that of vertical neighbours (image in [0, 1]).
- Anchor (optional): the mean squared difference to a given picture where a mask allows,
  ``Σ m·(x - a)² / (3·Σ m)``; video ties each frame to the previous one warped by the
  optical flow with it (Ruder et al. 2016).

Every term is computed in float32, whatever precision the network ran in, and its weight
means the same at any image size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import kornia
import torch.nn.functional as F
from torch import Tensor

from .style_losses import Stats, StyleLoss


def relative_mse(value: Tensor, target: Tensor) -> Tensor:
    """``mean((value - target)²) / mean(target²)``: 1 when ``value`` is all zeros."""
    target = target.float()
    scale = target.square().mean().clamp_min(1e-12)
    return (value.float() - target).square().mean() / scale


def total_variation(image: Tensor) -> Tensor:
    """Mean |horizontal difference| + mean |vertical difference| of ``(B, C, H, W)``,
    averaged over channels and batch: a scalar."""
    return kornia.losses.total_variation(image, reduction="mean").mean()


@dataclass(frozen=True)
class LossWeights:
    """How much each term counts. ``style_layers`` maps a layer to its share of the style term."""

    content: float
    style: float
    tv: float
    content_layers: tuple[str, ...]
    style_layers: Mapping[str, float]

    @property
    def layers(self) -> list[str]:
        """The content layers, then the style layers not among them."""
        return list(dict.fromkeys([*self.content_layers, *self.style_layers]))


@dataclass(frozen=True)
class Anchor:
    """A picture the result should stay close to where ``mask`` is high.

    Attributes:
        image: (1, 3, H, W) RGB in [0, 1].
        mask: (1, 1, H, W) in [0, 1]: how much each pixel is held (0: free).
        weight: the weight of the term.
    """

    image: Tensor
    mask: Tensor
    weight: float

    def resized(self, width: int, height: int) -> Anchor:
        """The anchor at another size (bilinear)."""
        if self.image.shape[-2:] == (height, width):
            return self
        size = (height, width)
        return Anchor(
            F.interpolate(self.image, size=size, mode="bilinear", align_corners=False),
            F.interpolate(self.mask, size=size, mode="bilinear", align_corners=False),
            self.weight,
        )

    def __call__(self, image: Tensor) -> Tensor:
        held = self.mask.sum().clamp_min(1e-6)
        return (self.mask * (image - self.image).square()).sum() / (3 * held)


@dataclass(frozen=True)
class StyleTerm:
    """One style layer's loss, its blended target and the scale its distance is divided by."""

    loss: StyleLoss
    target: Stats
    scale: Tensor

    def __call__(self, features: Tensor) -> Tensor:
        return self.loss.distance(features, self.target) / self.scale


class Objective:
    """The loss of one image size.

    Args:
        content_targets: ``{layer: (1, C, H, W)}`` features of the content at this size.
        style_terms: ``{layer: StyleTerm}``.
        weights: the term weights.
        anchor: an optional picture to stay close to, at this size.
    """

    def __init__(
        self,
        content_targets: Mapping[str, Tensor],
        style_terms: Mapping[str, StyleTerm],
        weights: LossWeights,
        anchor: Anchor | None = None,
    ) -> None:
        self.content_targets = {name: content_targets[name].detach().float() for name in weights.content_layers}
        self.style_terms = dict(style_terms)
        self.weights = weights
        self.anchor = anchor

    @property
    def layers(self) -> list[str]:
        """Every layer whose activations :meth:`__call__` needs."""
        return self.weights.layers

    def __call__(self, image: Tensor, features: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Total loss (scalar) and its weighted terms ``{"content", "style", "tv"}`` (and ``"anchor"``)."""
        w = self.weights
        content = sum(relative_mse(features[name], target) for name, target in self.content_targets.items())
        style = sum(share * self.style_terms[name](features[name]) for name, share in w.style_layers.items())
        terms = {
            "content": w.content * content / len(self.content_targets),
            "style": w.style * style,
            "tv": w.tv * total_variation(image),
        }
        if self.anchor is not None:
            terms["anchor"] = self.anchor.weight * self.anchor(image)
        return sum(terms.values()), terms
