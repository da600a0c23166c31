"""The three loss terms of Gatys et al., scaled so that their weights mean the same at any size.

- Content: mean squared error of features, divided by the target's mean square.
- Style: mean squared error of Gram matrices ``G = F Fᵀ / (C·H·W)`` (the mean over positions,
  so independent of image size), divided per layer by ``sqrt(mean(Gc²) · mean(Gs²))``, the
  geometric mean of the content's and the style's Gram energy. Layers and weight sources
  with very different activation scales (Caffe's 0-255 input vs torchvision's normalised
  input) get comparable losses, so one set of default weights serves them all; and being
  symmetric in the two images, a loud painting (large Grams, like *The Starry Night*) pulls
  as hard as a muted one, where dividing by the style's energy alone would weaken it and
  overpower the content of muted pairs.
- Total variation: :func:`kornia.losses.total_variation`, the mean absolute difference of
  horizontal neighbours plus that of vertical neighbours (image in [0, 1]).

Everything is computed in float32, whatever precision the network ran in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import kornia
import torch
from torch import Tensor, nn


def gram_matrix(features: Tensor) -> Tensor:
    """``(B, C, H, W)`` features to ``(B, C, C)`` Gram matrices ``F Fᵀ / (C·H·W)``, in float32
    or better (bf16/fp16 activations are promoted)."""
    b, c, h, w = features.shape
    flat = features.to(torch.promote_types(features.dtype, torch.float32)).reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def relative_mse(value: Tensor, target: Tensor) -> Tensor:
    """``mean((value - target)²) / mean(target²)``: 1 when ``value`` is all zeros."""
    target = target.float()
    scale = target.square().mean().clamp_min(1e-12)
    return (value.float() - target).square().mean() / scale


def style_scale(content_gram: Tensor, style_gram: Tensor) -> Tensor:
    """``sqrt(mean(Gc²) · mean(Gs²))`` of two ``(B, C, C)`` Grams: a scalar. The content's
    energy is floored at 1% of the style's, so a flat content image (a blank layer) raises
    the style's pull at most tenfold."""
    style_energy = style_gram.float().square().mean().clamp_min(1e-12)
    content_energy = content_gram.float().square().mean().clamp_min(0.01 * style_energy)
    return (content_energy * style_energy).sqrt()


def total_variation(image: Tensor) -> Tensor:
    """Mean |horizontal difference| + mean |vertical difference| of ``(B, C, H, W)``,
    averaged over channels and batch: a scalar."""
    return kornia.losses.total_variation(image, reduction="mean").mean()


@dataclass(frozen=True)
class LossWeights:
    """How much each term counts. ``style_layers`` maps layer name to its share of the style term."""

    content: float
    style: float
    tv: float
    content_layers: tuple[str, ...]
    style_layers: Mapping[str, float]

    @property
    def layers(self) -> list[str]:
        """The content layers, then the style layers not among them."""
        return list(dict.fromkeys([*self.content_layers, *self.style_layers]))


class StyleObjective(nn.Module):
    """The loss of one image size: targets registered once, then evaluated each step.

    Args:
        content_features: ``{layer: (1, C, H, W)}`` of the content image at this size, for
            the content layers and the style layers (whose Grams set each style layer's scale).
        style_grams: ``{layer: (1, C, C)}`` blended Gram targets of the style images.
        weights: the term weights.
    """

    def __init__(
        self,
        content_features: Mapping[str, Tensor],
        style_grams: Mapping[str, Tensor],
        weights: LossWeights,
    ) -> None:
        super().__init__()
        self.weights = weights
        for name in weights.content_layers:
            self.register_buffer(f"content_{name}", content_features[name].detach().float())
        for name in weights.style_layers:
            target = style_grams[name].detach().float()
            self.register_buffer(f"gram_{name}", target)
            self.register_buffer(f"scale_{name}", style_scale(gram_matrix(content_features[name].detach()), target))

    @property
    def layers(self) -> list[str]:
        """Every layer whose activations :meth:`forward` needs."""
        return self.weights.layers

    def forward(self, image: Tensor, features: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Total loss (scalar) and its weighted terms ``{"content", "style", "tv"}``."""
        w = self.weights
        content = sum(
            relative_mse(features[name], getattr(self, f"content_{name}")) for name in w.content_layers
        ) / max(len(w.content_layers), 1)
        style = sum(
            share
            * (gram_matrix(features[name]) - getattr(self, f"gram_{name}")).square().mean()
            / getattr(self, f"scale_{name}")
            for name, share in w.style_layers.items()
        )
        terms = {
            "content": w.content * content,
            "style": w.style * style,
            "tv": w.tv * total_variation(image),
        }
        return sum(terms.values()), terms


def blend_grams(grams: Sequence[Mapping[str, Tensor]], blend: Sequence[float]) -> dict[str, Tensor]:
    """Weighted mean of several styles' Gram targets; ``blend`` need not sum to 1."""
    total = float(sum(blend))
    return {name: sum(weight / total * g[name] for g, weight in zip(grams, blend, strict=True)) for name in grams[0]}
