"""The sliced Wasserstein loss of Heitz et al. (2021), "A Sliced Wasserstein Loss for Neural
Texture Synthesis": the features' distribution compared along random directions.

The features are projected on ``D`` random unit directions (``C`` but in detail stages; drawn
once per instance from the run's generator, so that the objective stays fixed while L-BFGS
builds its curvature). Along each direction the distance is the 1-D squared W2 distance between
the output's and the style's projections: the mean squared difference of their sorted values
(their quantile functions); the loss is its mean over directions.

So that output and style may differ in pixel count (and styles may blend), the statistics
are each direction's quantile function kept at :data:`QUANTILE_LEVELS` levels: the mean of
the quantile function over each of the equal bins ``[k/L, (k+1)/L)``. Averaged across
styles, quantile functions give the 1-D W2 barycentre. The output pixel of rank ``r`` among
``N`` is compared to the target at level ``(r + ½)/N``, interpolated linearly between bin
centres. With a weight map, each position counts with its weight: ranks become cumulative
weights (the level of a position is the weight below it plus half its own) and the squared
differences are averaged with the weights.

The scale is ``sqrt(mean(qc²) · mean(qs²)) / PULL`` over directions and levels: the geometric
mean of the content's and the style's mean squared projection (the content's floored at 1%
of the style's, as the Gram loss does), divided by :data:`PULL`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch import Tensor

from .base import Stats, StyleLoss
from .moments import positions, promoted

#: Levels (equal bins of the quantile function) at which the target is kept.
QUANTILE_LEVELS = 1024
#: How much harder this loss pulls than its energies alone say. Seen one direction at a time,
#: two distributions look closer than they are: at the start of a run its distance over its
#: energy is 0.2-0.9 times the W2 loss's (Caffe VGG-19, relu1_1-relu5_1, Tübingen against The
#: Starry Night and The Scream), and with no factor ``style_strength=1`` leaves about twice as
#: much of the photo as the Gram loss does. With 4, about as much (yardstick content ratio at
#: 256 px, sliced / Gram: 0.33 / 0.38 on Tübingen + The Starry Night, 0.34 / 0.31 on Woman with
#: a Hat + The Shipwreck; with 1: 0.18 and 0.19).
PULL = 4.0
#: The share of the ``C`` directions a detail stage (see :mod:`style_core.engine.plan`) sorts:
#: it refines a settled picture's fine layers, held hard to it (:attr:`SlicedLoss.detail_content_factor`).
DETAIL_DIRECTION_SHARE = 0.5


def _by_rows(work: Callable[[slice], None], rows: int) -> None:
    """``work`` on slices of ``rows`` rows, the slices shared among torch's threads: numpy's
    sorts and interpolation run on one core and release the GIL (its sorts are three to five
    times faster than torch's on the CPU)."""
    parts = [
        slice(int(r[0]), int(r[-1]) + 1) for r in np.array_split(np.arange(rows), torch.get_num_threads()) if len(r)
    ]
    with ThreadPoolExecutor(len(parts)) as pool:
        list(pool.map(work, parts))


def _row_order(row: np.ndarray, keys: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """The indices that sort a row of ``N`` values ascending, ties in index order, ``(N,)``.

    float32 rows sort as one array of 64-bit keys (``keys``, an ``(N,)`` uint64 buffer): each
    value's bits, mapped so that unsigned order is the values' order, above its index (from
    ``indices``, ``0 .. N-1`` as uint32); numpy's sort of integers is vectorised where its
    argsort of floats is not (786k values: 9.5 ms with the gathers, against 25 ms)."""
    if row.dtype != np.float32:
        return np.argsort(row, kind="stable")
    halves = keys.view(np.uint32)
    index, value = (halves[0::2], halves[1::2]) if np.little_endian else (halves[1::2], halves[0::2])
    bits = row.view(np.uint32)
    sign = (row.view(np.int32) >> 31).view(np.uint32)  # all ones where negative
    np.bitwise_xor(bits, sign | np.uint32(0x80000000), out=value)  # flip negatives, lift positives
    index[:] = indices
    keys.sort()
    return index.astype(np.intp)


def _each_row_sorted(array: np.ndarray, visit: Callable[[int, np.ndarray], None]) -> None:
    """``visit(row, order)`` for each row of a ``(D, N)`` array, ``order`` the ``(N,)`` indices
    that sort it (:func:`_row_order`); the rows shared among torch's threads as in
    :func:`_by_rows`, each thread with its own key buffer."""
    count = array.shape[1]

    def work(rows: slice) -> None:
        keys, indices = np.empty(count, dtype=np.uint64), np.arange(count, dtype=np.uint32)
        for row in range(rows.start, rows.stop):
            visit(row, _row_order(array[row], keys, indices))

    _by_rows(work, array.shape[0])


def sort_order(values: Tensor) -> Tensor:
    """The indices that sort each row of ``(D, N)`` values ascending, ``(D, N)``; on the CPU ties
    are in index order (``-0.0`` before ``0.0``)."""
    if values.device.type != "cpu":
        return values.detach().argsort(dim=1)
    array = values.detach().numpy()
    order = np.empty(array.shape, dtype=np.intp)

    def visit(row: int, row_order: np.ndarray) -> None:
        order[row] = row_order

    _each_row_sorted(array, visit)
    return torch.from_numpy(order)


def _rank_residual(values: Tensor, by_rank: Tensor) -> Tensor:
    """Each of ``(D, N)`` values less the target for its rank in its row (``by_rank``, ``(D, N)``,
    the target of rank ``r`` at ``[:, r]``), ``(D, N)``, without gradient. On the CPU each row
    is sorted and matched in one numpy pass on torch's threads, not sorted in one and scattered
    in another."""
    if values.device.type != "cpu":
        return values.detach() - torch.empty_like(values).scatter_(1, sort_order(values), by_rank)
    array, goals = values.detach().numpy(), by_rank.numpy()
    residual = np.empty_like(array)

    def visit(row: int, order: np.ndarray) -> None:
        residual[row, order] = array[row, order] - goals[row]

    _each_row_sorted(array, visit)
    return torch.from_numpy(residual)


class _RankDistance(torch.autograd.Function):
    """The mean squared difference of ``(D, N)`` values from the targets of their ranks
    (``by_rank``, see :func:`_rank_residual`). The targets are constants, so the gradient is the
    residual, kept from the forward pass: ``2 (values - target) / (D N)``."""

    @staticmethod
    def forward(ctx, values: Tensor, by_rank: Tensor) -> Tensor:  # type: ignore[override]
        residual = _rank_residual(values, by_rank)
        ctx.save_for_backward(residual)
        return residual.square().mean()

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        (residual,) = ctx.saved_tensors
        return residual * (2 * grad / residual.numel()), None


def _exact_dtype(device: torch.device) -> torch.dtype:
    """float64 where the device has it (the bins' means are differences of long cumulative sums)."""
    return torch.float32 if device.type == "mps" else torch.float64


def quantile_bins(values: Tensor, weights: Tensor | None, levels: int = QUANTILE_LEVELS) -> Tensor:
    """The quantile function of each row of ``(D, N)`` values, where position ``i`` has mass
    ``weights[i]`` (``(N,)`` summing to 1; None: ``1/N`` each), averaged over each of ``levels``
    equal bins of [0, 1]: ``(D, levels)``, without gradient.

    Exact for the empirical distribution: the integral of the quantile function is piecewise
    linear between cumulative masses, so each bin's mean is a difference of two interpolations.
    Positions of zero mass don't count.
    """
    if weights is None and values.device.type == "cpu":
        return _equal_mass_bins(values, levels)
    rows, count = values.shape
    dtype = _exact_dtype(values.device)
    weights = values.new_ones(count, dtype=dtype) if weights is None else weights.to(dtype)
    edges = torch.linspace(0.0, 1.0, levels + 1, dtype=dtype, device=values.device).expand(rows, -1).contiguous()
    zero = values.new_zeros(rows, 1, dtype=dtype)
    order = sort_order(values)
    ordered = values.detach().gather(1, order).to(dtype)
    mass = (weights / weights.sum())[order]
    cumulative = torch.cat([zero, mass.cumsum(dim=1)], dim=1)  # (D, N + 1): level at each knot
    integral = torch.cat([zero, (ordered * mass).cumsum(dim=1)], dim=1)  # ∫ quantile up to each knot
    segment = (torch.searchsorted(cumulative, edges, right=True) - 1).clamp(0, count - 1)
    at_edges = integral.gather(1, segment) + ordered.gather(1, segment) * (edges - cumulative.gather(1, segment))
    return (at_edges.diff(dim=1) * levels).to(values.dtype)


def _equal_mass_bins(values: Tensor, levels: int) -> Tensor:
    """:func:`quantile_bins` of CPU values of equal masses: the knots are at levels ``k / N``, so
    each row takes a plain sort and a float64 integral, row by row on torch's threads (no argsort
    or search, and no float64 copy of the whole)."""
    array = values.detach().numpy()
    rows, count = array.shape
    edges = np.linspace(0.0, 1.0, levels + 1)
    segment = np.minimum(np.floor(edges * count).astype(np.intp), count - 1)
    above = edges - segment / count  # each edge's level above its segment's first knot
    bins = np.empty((rows, levels))

    def work(part: slice) -> None:
        integral = np.zeros(count + 1)  # ∫ quantile up to each knot
        for row in range(part.start, part.stop):
            ordered = np.sort(array[row])
            np.cumsum(ordered, dtype=np.float64, out=integral[1:])
            bins[row] = np.diff(integral[segment] / count + ordered[segment] * above) * levels

    _by_rows(work, rows)
    return torch.from_numpy(bins).to(values.dtype)


def quantiles_at(bins: Tensor, levels: Tensor) -> Tensor:
    """The quantile functions ``(D, L)`` (bin means, see :func:`quantile_bins`) at ``levels`` in
    [0, 1] (``(D, N)`` or ``(1, N)``), interpolated linearly between bin centres: ``(D, N)``."""
    count = bins.shape[1]
    position = (levels * count - 0.5).clamp(0, count - 1)
    lower = position.floor().clamp(max=count - 2).long()
    fraction = position - lower
    rows = (bins.shape[0], levels.shape[1])
    lower, fraction = lower.expand(rows), fraction.expand(rows)
    return torch.lerp(bins.gather(1, lower), bins.gather(1, lower + 1), fraction.to(bins.dtype))


def levels_of(bins: Tensor, values: Tensor) -> Tensor:
    """Where ``(D, N)`` values lie in the quantile functions ``(D, L)`` (bin means, see
    :func:`quantile_bins`): their levels in [0, 1], interpolated linearly between bin centres
    (the inverse of :func:`quantiles_at`), ``(D, N)``."""
    count = bins.shape[1]
    bins = bins.contiguous()
    upper = torch.searchsorted(bins, values.contiguous()).clamp(1, count - 1)
    low, high = bins.gather(1, upper - 1), bins.gather(1, upper)
    fraction = ((values - low) / (high - low).clamp_min(1e-12)).clamp(0, 1)
    position = upper - 1 + fraction
    return ((position + 0.5) / count).clamp(0, 1)


def transported(values: Tensor, source: Tensor, target: Tensor) -> Tensor:
    """``(D, N)`` values carried from the quantile functions ``source`` to ``target`` (``(D, L)``
    bin means each, see :func:`quantile_bins`): the target's quantile at each value's level in
    the source (``quantiles_at(target, levels_of(source, values))``), ``(D, N)``.

    On the CPU one pass of :func:`numpy.interp` per row, over the row sorted (a search in
    order: 13 ms for 786k values, not 32 ms, sort included): the map is piecewise linear
    between the bins, a value tied with several bins taking the first's level, as
    :func:`levels_of` does (hence the rows reversed and negated)."""
    if values.device.type != "cpu":
        return quantiles_at(target, levels_of(source, values))
    array, knots, goals = values.detach().numpy(), (-source.flip(1)).numpy(), target.flip(1).numpy()
    out = np.empty(array.shape, dtype=array.dtype)

    def visit(row: int, order: np.ndarray) -> None:
        descending = order[::-1]
        out[row, descending] = np.interp(-array[row, descending], knots[row], goals[row])

    _each_row_sorted(array, visit)
    return torch.from_numpy(out)


class SlicedLoss(StyleLoss):
    """Sliced W2 over ``D`` fixed random directions (``directions``, by default ``C``).
    Statistics: ``{"quantiles": (D, L)}``."""

    #: Matched along every direction, the fine layers pull a detail stage far from the enlarged
    #: previous result (a woven texture with white specks at 100%): it is held this much harder
    #: than with the other losses. (Tübingen and The Starry Night at 2048 px, scaled to 512 px,
    #: single runs, yardstick style: 0.200 at 0.25, 0.167 at 16; with half the directions 0.138
    #: at 32, 0.100 at 64; the 512 px result enlarged and scaled back: about 0.09.)
    detail_content_factor = 64.0

    def __init__(self, channels: int, generator: torch.Generator, directions: int | None = None) -> None:
        super().__init__(channels, generator)
        drawn = torch.randn(directions or channels, channels, generator=generator)
        #: ``(D, C)``: one unit direction per row.
        self.directions = drawn / drawn.norm(dim=1, keepdim=True)
        self._ranked: tuple[Tensor, int, Tensor] | None = None

    @classmethod
    def for_detail(cls, channels: int, generator: torch.Generator) -> SlicedLoss:
        """A detail stage's instance: :data:`DETAIL_DIRECTION_SHARE` of the directions, as its
        sorts are most of its time (a 2048 px run's 1024 px stage: 50 s, not 66 s, with a result
        no further from the painting)."""
        return cls(channels, generator, max(1, round(channels * DETAIL_DIRECTION_SHARE)))

    def _project(self, features: Tensor, weight: Tensor | None) -> tuple[Tensor, Tensor | None]:
        flat, weights = positions(features, weight)
        flat = promoted(flat)
        directions = self.directions.to(device=flat.device, dtype=flat.dtype)
        return directions @ flat, weights

    def statistics(self, features: Tensor, weight: Tensor | None = None) -> Stats:
        projections, weights = self._project(features, weight)
        return {"quantiles": quantile_bins(projections, weights)}

    def _by_rank(self, quantiles: Tensor, count: int) -> Tensor:
        """The target for each rank of ``count`` equal positions, ``(D, count)``: kept while the
        target and the count stay (all the iterations of a stage)."""
        if self._ranked is None or self._ranked[0] is not quantiles or self._ranked[1] != count:
            levels = (torch.arange(count, device=quantiles.device, dtype=quantiles.dtype) + 0.5)[None] / count
            self._ranked = quantiles, count, quantiles_at(quantiles, levels)
        return self._ranked[2]

    def distance(self, features: Tensor, target: Stats, weight: Tensor | None = None) -> Tensor:
        projections, weights = self._project(features, weight)
        # each position's target, for its rank: a constant, so the gradient needs no sort
        if weights is None:
            return _RankDistance.apply(projections, self._by_rank(target["quantiles"], projections.shape[1]))
        order = sort_order(projections)
        mass = weights[order]
        levels = mass.cumsum(dim=1) - mass / 2
        matched = torch.empty_like(projections).scatter_(1, order, quantiles_at(target["quantiles"], levels))
        return (weights * (projections - matched).square()).sum(dim=1).mean()

    def scale(self, content: Stats, target: Stats) -> Tensor:
        style_energy = target["quantiles"].square().mean().clamp_min(1e-12)
        content_energy = content["quantiles"].square().mean().clamp_min(0.01 * style_energy)
        return (content_energy * style_energy).sqrt() / PULL

    def compare(self, stats: Stats, target: Stats) -> Tensor:
        """The distance from quantile functions: the mean squared difference of the bins."""
        return (stats["quantiles"] - target["quantiles"]).square().mean()

    def surrogate(
        self, features: Tensor, weight: Tensor | None, whole: Stats, target: Stats, residual: Stats
    ) -> Tensor:
        """Each position's level is its projection's place in the whole picture's quantile
        function (``whole``), so the part is compared to the target where the whole would be;
        the squared differences to those (fixed) targets, weighted within the part, have the
        whole distance's gradient there."""
        projections, weights = self._project(features, weight)
        goals = transported(projections.detach(), whole["quantiles"], target["quantiles"])
        squared = (projections - goals).square()
        if weights is None:
            return squared.mean()
        return (weights * squared).sum(dim=1).mean()

    def merge(self, parts: Sequence[tuple[Stats, float]]) -> Stats:
        """The quantile functions of the mixture of the parts (the whole's, up to the bins):
        every part's bins as positions of mass ``part mass / L``."""
        total = float(sum(mass for _, mass in parts))
        values = torch.cat([stats["quantiles"] for stats, _ in parts], dim=1)
        weights = torch.cat(
            [torch.full((s["quantiles"].shape[1],), m / total / s["quantiles"].shape[1]) for s, m in parts]
        )
        return {"quantiles": quantile_bins(values, weights.to(values.device, values.dtype))}
