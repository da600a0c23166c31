"""Style losses: how the look of a painting is measured at one VGG-19 layer.

A :class:`StyleLoss` turns a layer's features into target statistics (a dict of tensors)
that blend linearly across several styles (:func:`blend`), and measures a distance from an
image's features to such a target. Each loss divides its distance by a scale (set once per
stage from the content's and the style's statistics) so that ``style_strength=1`` gives a
comparable look at any size, for any weight set, with any of the losses.

Every statistic and distance takes an optional *weight map* ``(1, 1, H, W)`` in [0, 1] (a soft
region mask resized to the layer): statistics become weighted means over positions
``Σ w·φ(f) / Σ w``, and the distance measures only the weighted region.

Two kinds of loss:

- :class:`MeanStyleLoss` (Gram, W2): the statistics are weighted means of per-position
  functions of the features, and the distance is a function of them alone,
  ``distance(f, target, w) = compare(statistics(f, w), target)``. Statistics of parts of a
  picture (tiles) merge exactly into the whole's (:meth:`StyleLoss.merge`), and the gradient
  of :meth:`StyleLoss.compare` with respect to the whole's statistics back-propagates into
  each part (:meth:`StyleLoss.surrogate`): the tiled objective is exact.
- Others (sliced Wasserstein) override :meth:`StyleLoss.distance` itself, and merge and
  back-propagate in their own way, up to their statistics' resolution.

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


def positions(features: Tensor, weight: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """``(1, C, H, W)`` features as ``(C, H·W)`` in float32 or better (bf16/fp16 activations are
    promoted), and the ``(1, 1, H, W)`` weight map as ``(H·W,)`` weights that sum to 1
    (``None`` stays ``None``: every position counts the same)."""
    if features.dim() != 4 or features.shape[0] != 1:
        raise ValueError(f"expected features of shape (1, C, H, W), got {tuple(features.shape)}")
    _, channels, height, width = features.shape
    flat = features.to(torch.promote_types(features.dtype, torch.float32)).reshape(channels, height * width)
    if weight is None:
        return flat, None
    if weight.shape != (1, 1, height, width):
        raise ValueError(f"expected a weight map of shape (1, 1, {height}, {width}), got {tuple(weight.shape)}")
    weights = weight.to(flat.dtype).reshape(height * width)
    return flat, weights / weights.sum().clamp_min(1e-12)


def mean_over_positions(flat: Tensor, weights: Tensor | None) -> Tensor:
    """``(C, N)`` values to their ``(C,)`` (weighted) mean over positions."""
    return flat.mean(dim=1) if weights is None else flat @ weights


def second_moment(flat: Tensor, weights: Tensor | None) -> Tensor:
    """``(C, N)`` values to their ``(C, C)`` (weighted) second raw moment ``E[f fᵀ]``."""
    if weights is None:
        return flat @ flat.T / flat.shape[1]
    return (flat * weights) @ flat.T


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
    def statistics(self, features: Tensor, weight: Tensor | None = None) -> Stats:
        """Statistics of ``(1, C, H, W)`` features, independent of H and W (means, not sums),
        over the positions weighted by the ``(1, 1, H, W)`` map ``weight`` (None: all alike)."""

    @abstractmethod
    def distance(self, features: Tensor, target: Stats, weight: Tensor | None = None) -> Tensor:
        """A differentiable scalar: how far ``(1, C, H, W)`` features, over the region
        ``weight`` gives (None: all of them), are from ``target``."""

    @abstractmethod
    def scale(self, content: Stats, target: Stats) -> Tensor:
        """A positive scalar to divide :meth:`distance` by, from the content's statistics at
        this stage and the (blended) target."""

    def merge(self, parts: Sequence[tuple[Stats, float]]) -> Stats:
        """The statistics of a whole from those of disjoint parts, each with its mass (its count
        of positions, or the sum of its weights): their mean weighted by mass. Exact for
        :class:`MeanStyleLoss`; other losses override it."""
        return blend([stats for stats, _ in parts], [mass for _, mass in parts])

    @abstractmethod
    def compare(self, stats: Stats, target: Stats) -> Tensor:
        """A differentiable scalar: how far a whole picture whose statistics are ``stats`` is
        from ``target`` (what :meth:`distance` gives for its features)."""

    @abstractmethod
    def surrogate(
        self, features: Tensor, weight: Tensor | None, whole: Stats, target: Stats, residual: Stats
    ) -> Tensor:
        """For a part of a picture (a tile's core): a scalar whose gradient with respect to
        ``features`` is that of the whole picture's distance to ``target``, divided by the
        part's share of the whole's mass. ``whole``: the whole picture's statistics (merged over
        its parts); ``residual``: the gradient of :meth:`compare` with respect to them."""


class MeanStyleLoss(StyleLoss):
    """A loss whose statistics are weighted means of per-position functions of the features,
    and whose distance depends on the features only through them."""

    def distance(self, features: Tensor, target: Stats, weight: Tensor | None = None) -> Tensor:
        return self.compare(self.statistics(features, weight), target)

    def surrogate(
        self, features: Tensor, weight: Tensor | None, whole: Stats, target: Stats, residual: Stats
    ) -> Tensor:
        """The residual's inner product with the part's statistics: the whole's statistics are
        the parts' mass-weighted mean, so the chain rule stops there."""
        stats = self.statistics(features, weight)
        return sum((residual[key] * value.float()).sum() for key, value in stats.items())


def blend(stats: Sequence[Stats], weights: Sequence[float]) -> Stats:
    """The weighted mean of several styles' statistics; ``weights`` need not sum to 1."""
    total = float(sum(weights))
    return {key: sum(w / total * s[key] for s, w in zip(stats, weights, strict=True)) for key in stats[0]}


def _registry() -> dict[str, type[StyleLoss]]:
    from .gram import GramLoss
    from .sliced import SlicedLoss
    from .w2 import W2Loss

    return {"gram": GramLoss, "w2": W2Loss, "sliced": SlicedLoss}


#: The losses by the name ``style_loss`` takes.
STYLE_LOSSES: dict[str, type[StyleLoss]] = _registry()
