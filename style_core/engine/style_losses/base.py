"""The style-loss contract: statistics that blend across styles and merge across tiles, and a
distance to a target; see the package's docstring for the whole story."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

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

    #: How hard a detail stage (see :mod:`style_core.engine.plan`) holds the enlarged previous
    #: result, in times the layout stages' content weight: lightly, as the layout is settled and
    #: the fine layers must be free to paint (Gram, Tübingen and The Starry Night at 2048 px,
    #: scaled to 512 px: content 0.555 at 0.25, 0.547 at 1; style over the 512 px round trip's
    #: 1.23 at 0.25, 1.67 at 1).
    detail_content_factor: ClassVar[float] = 0.25

    def __init__(self, channels: int, generator: torch.Generator) -> None:
        self.channels = channels

    @classmethod
    def for_detail(cls, channels: int, generator: torch.Generator) -> StyleLoss:
        """An instance for a layer of a detail stage: by default the same as for any stage."""
        return cls(channels, generator)

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
