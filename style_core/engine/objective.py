"""The objective of one stage: content, style and total-variation terms, their targets set once.

- Content: mean squared error of features, divided by the target's mean square, but by no
  less than a share of the painting's: a flat picture (a sky, a grey wall, a product on
  white) has little feature energy, and dividing by it alone would hold the flat picture
  so hard that the style could not paint over it.
- Style: the chosen :mod:`style loss <style_core.engine.style_losses>` per layer, each divided by its
  scale and weighted by the layer's share.
- Total variation: :func:`kornia.losses.total_variation`, the mean absolute difference of
  horizontal neighbours plus that of vertical neighbours (image in [0, 1]).
- Anchor (optional): the mean squared difference to a given picture where a mask allows,
  ``Σ m·(x - a)² / (3·Σ m)``; video ties each frame to the previous one warped by the
  optical flow with it (Ruder et al. 2016).

Every term is summed in float32, whatever precision the network ran in, and its weight
means the same at any image size. The content and style terms are written so that they can
be evaluated on a whole picture at once or gathered tile by tile
(:mod:`style_core.engine.evaluate`): the content term is a sum over positions, and the style term a
function of statistics that are means over positions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import kornia
import torch.nn.functional as F
from torch import Tensor

from ..settings import Settings
from .squared_error import squared_error
from .style_losses import Stats, StyleLoss
from .tiles import Box
from .vgg import stride


def total_variation(image: Tensor) -> Tensor:
    """Mean |horizontal difference| + mean |vertical difference| of ``(B, C, H, W)``,
    averaged over channels and batch: a scalar."""
    return kornia.losses.total_variation(image, reduction="mean").mean()


#: The style weight at ``style_strength=1``.
BASE_STYLE_WEIGHT = 17.0
#: Style layer weights when none are given: the layers whose statistics carry the
#: brush-stroke texture (relu2_1) and the motifs (relu4_1) count double; relu5_1, whose
#: statistics are coarse enough to rearrange the layout (faces lose their features), a fifth.
DEFAULT_LAYER_WEIGHTS = {"relu2_1": 2.0, "relu4_1": 2.0, "relu5_1": 0.2}
#: The content term is divided by the content's feature energy, but by no less than this share
#: of the painting's (see above).
CONTENT_FLOOR = 0.5


def layer_shares(settings: Settings) -> dict[str, float]:
    """Each style layer's share of the style term (they sum to 1)."""
    raw = settings.style_layer_weights or [DEFAULT_LAYER_WEIGHTS.get(n, 1.0) for n in settings.style_layers]
    total = float(sum(raw))
    return {name: weight / total for name, weight in zip(settings.style_layers, raw, strict=True)}


@dataclass(frozen=True)
class LossWeights:
    """How much each term counts. ``style_layers`` maps a layer to its share of the style term."""

    content: float
    style: float
    tv: float
    content_layers: tuple[str, ...]
    style_layers: Mapping[str, float]

    @classmethod
    def from_settings(cls, settings: Settings) -> LossWeights:
        """The weights the settings ask for (``style_strength`` scales :data:`BASE_STYLE_WEIGHT`)."""
        return cls(
            content=settings.content_weight,
            style=BASE_STYLE_WEIGHT * settings.style_strength,
            tv=settings.tv_weight,
            content_layers=settings.content_layers,
            style_layers=layer_shares(settings),
        )

    @property
    def layers(self) -> list[str]:
        """The content layers, then the style layers not among them."""
        return list(dict.fromkeys([*self.content_layers, *self.style_layers]))

    def for_detail(self, style_layers: Sequence[str], content_layer: str, content_factor: float) -> LossWeights:
        """These weights for a detail stage: the content held at ``content_layer``, ``content_factor``
        times as hard, the style term shared among ``style_layers`` alone in their proportions."""
        shares = {name: self.style_layers[name] for name in style_layers}
        total = sum(shares.values()) or 1.0
        return replace(
            self,
            content=self.content * content_factor,
            content_layers=(content_layer,),
            style_layers={name: s / total for name, s in shares.items()},
        )


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
    """One style loss at one layer over one region: its target, its scale and its share.

    Attributes:
        layer: the VGG-19 layer.
        loss: the loss, holding what it draws once (the sliced loss's directions).
        target: the statistics to reach there.
        scale: the loss's distance is divided by it.
        share: its weight in the style term (the layer's share times the region's).
        weight: the region at the layer's resolution over the whole picture, (1, 1, h, w) in
            [0, 1]; None for the whole picture.
    """

    layer: str
    loss: StyleLoss
    target: Stats
    scale: Tensor
    share: float
    weight: Tensor | None = None


class Objective:
    """The loss of one image size.

    Args:
        content_targets: ``{layer: (1, C, h, w)}`` features of the content at this size, in the
            network's precision.
        content_scale: ``{layer: scalar}``: each content layer's squared error is divided by it.
        style_terms: the style loss of each layer (and region).
        weights: the term weights.
        anchor: an optional picture to stay close to, at this size.
    """

    def __init__(
        self,
        content_targets: Mapping[str, Tensor],
        content_scale: Mapping[str, Tensor],
        style_terms: Sequence[StyleTerm],
        weights: LossWeights,
        anchor: Anchor | None = None,
    ) -> None:
        self.content_targets = {name: content_targets[name].detach() for name in weights.content_layers}
        self.content_scale = {name: content_scale[name].clamp_min(1e-12) for name in weights.content_layers}
        self.style_terms = list(style_terms)
        self.weights = weights
        self.anchor = anchor

    @property
    def layers(self) -> list[str]:
        """Every layer whose activations the terms need."""
        return self.weights.layers

    def content(self, features: Mapping[str, Tensor], core: Box | None = None) -> Tensor:
        """The weighted content term of ``features`` (whole-picture features, or those of the
        ``core`` box of the picture): summed over their positions, divided by the whole count."""
        total = 0.0
        for name, target in self.content_targets.items():
            if core is not None:
                step = stride(name)
                target = target[..., core.top // step : core.bottom // step, core.left // step : core.right // step]
            squared = squared_error(features[name], target)
            total = total + squared / (self.content_targets[name].numel() * self.content_scale[name])
        return self.weights.content * total / len(self.content_targets)

    def style(self, features: Mapping[str, Tensor]) -> Tensor:
        """The weighted style term of the whole picture's features."""
        return self.weights.style * sum(
            term.share * term.loss.distance(features[term.layer], term.target, term.weight) / term.scale
            for term in self.style_terms
        )

    def pixel_terms(self, image: Tensor) -> dict[str, Tensor]:
        """The terms computed on the pixels themselves: total variation and the anchor."""
        terms = {"tv": self.weights.tv * total_variation(image)}
        if self.anchor is not None:
            terms["anchor"] = self.anchor.weight * self.anchor(image)
        return terms

    def __call__(self, image: Tensor, features: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Total loss (scalar) and its weighted terms ``{"content", "style", "tv"}`` (and ``"anchor"``),
        from the whole picture's features."""
        terms = {"content": self.content(features), "style": self.style(features)}
        terms |= self.pixel_terms(image)
        return sum(terms.values()), terms
