"""Style losses: how the look of a painting is measured at one VGG-19 layer.

A :class:`StyleLoss` turns a layer's features into target statistics (a dict of tensors)
that blend linearly across several styles (:func:`blend`), and measures a distance from an
image's features to such a target. Each loss divides its distance by a scale (set once per
stage from the content's and the style's statistics) so that ``style_strength=1`` gives a
comparable look at any size, for any weight set, with any of the losses.

Adding a loss is adding a module here and a line in :data:`STYLE_LOSSES` (and its label
in :mod:`style_core.settings`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch
from torch import Tensor

#: Target statistics of one layer: named tensors that blend linearly.
Stats = dict[str, Tensor]


class StyleLoss(ABC):
    """The style statistics of one layer and the distance to them.

    One instance serves one layer during one stage: losses with random parts (the directions
    of the sliced loss) draw them once, in the constructor, so that they stay fixed while
    L-BFGS builds its curvature estimate.

    Args:
        channels: the layer's channel count C.
        generator: the run's random source (on the CPU).
    """

    def __init__(self, channels: int, generator: torch.Generator) -> None:
        self.channels = channels

    @abstractmethod
    def statistics(self, features: Tensor) -> Stats:
        """Statistics of ``(1, C, H, W)`` features, independent of H and W (means, not sums)."""

    @abstractmethod
    def distance(self, features: Tensor, target: Stats) -> Tensor:
        """A differentiable scalar: how far ``(1, C, H, W)`` features are from ``target``."""

    @abstractmethod
    def scale(self, content: Stats, target: Stats) -> Tensor:
        """A positive scalar to divide :meth:`distance` by, from the content's statistics at
        this stage and the (blended) target."""


def blend(stats: Sequence[Stats], weights: Sequence[float]) -> Stats:
    """The weighted mean of several styles' statistics; ``weights`` need not sum to 1."""
    total = float(sum(weights))
    return {key: sum(w / total * s[key] for s, w in zip(stats, weights, strict=True)) for key in stats[0]}


def _registry() -> dict[str, type[StyleLoss]]:
    from .gram import GramLoss

    return {"gram": GramLoss}


#: The losses by the name ``style_loss`` takes.
STYLE_LOSSES: dict[str, type[StyleLoss]] = _registry()
