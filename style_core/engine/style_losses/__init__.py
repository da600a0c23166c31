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

The contract is :mod:`.base`'s. Adding a loss is adding a module here and a line in :data:`STYLE_LOSSES` (and its label
in :mod:`style_core.settings`).
"""

from __future__ import annotations

from .base import MeanStyleLoss, Stats, StyleLoss, blend
from .gram import GramLoss
from .moments import mean_over_positions, positions, second_moment
from .sliced import SlicedLoss
from .w2 import W2Loss

__all__ = [
    "STYLE_LOSSES",
    "GramLoss",
    "MeanStyleLoss",
    "SlicedLoss",
    "Stats",
    "StyleLoss",
    "W2Loss",
    "blend",
    "mean_over_positions",
    "positions",
    "second_moment",
]

#: The losses by the name ``style_loss`` takes.
STYLE_LOSSES: dict[str, type[StyleLoss]] = {"gram": GramLoss, "w2": W2Loss, "sliced": SlicedLoss}
