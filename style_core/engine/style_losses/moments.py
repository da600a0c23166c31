"""Means and second moments of a layer's features over positions, the statistics of the Gram
and W2 losses.

The network may run in bf16 (:mod:`style_core.engine.precision`); the moments are float32
sums all the same: each block of :data:`BLOCK_VALUES` activations is promoted on its own (a
bf16 product is exact in float32), so a megapixel's activations are never copied whole. The
gradient goes back in the activations' precision in one product, ``F (G + Gᵀ)``, where
autograd's would take two float32 products over transposed copies and add them (on 2 CPU
cores at 1024 px, the second moment of relu1_1 and its gradient fall from 1.0 s to 0.07 s).
"""

from __future__ import annotations

import torch
from torch import Tensor

#: Activations promoted to float32 at a time (2 MiB): a pass over a block stays in the caches,
#: where one over a megapixel's activations is bound by memory (on 2 CPU cores, 2-5x slower).
BLOCK_VALUES = 1 << 19


def positions(features: Tensor, weight: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
    """``(1, C, H, W)`` features as ``(C, H·W)`` in their own precision (a view of
    channels_last features), and the ``(1, 1, H, W)`` weight map as ``(H·W,)`` float32 (or
    better) weights that sum to 1 (``None`` stays ``None``: every position counts the same)."""
    if features.dim() != 4 or features.shape[0] != 1:
        raise ValueError(f"expected features of shape (1, C, H, W), got {tuple(features.shape)}")
    _, channels, height, width = features.shape
    flat = features.permute(0, 2, 3, 1).reshape(height * width, channels).T
    if weight is None:
        return flat, None
    if weight.shape != (1, 1, height, width):
        raise ValueError(f"expected a weight map of shape (1, 1, {height}, {width}), got {tuple(weight.shape)}")
    weights = weight.to(torch.promote_types(weight.dtype, torch.float32)).reshape(height * width)
    return flat, weights / weights.sum().clamp_min(1e-12)


def promoted(values: Tensor) -> Tensor:
    """``values`` in float32, or in their own precision when it is finer."""
    return values.to(torch.promote_types(values.dtype, torch.float32))


def mean_over_positions(flat: Tensor, weights: Tensor | None) -> Tensor:
    """``(C, N)`` values to their ``(C,)`` (weighted) mean over positions, in float32 or better."""
    if weights is None:
        return flat.sum(dim=1, dtype=torch.promote_types(flat.dtype, torch.float32)) / flat.shape[1]
    return promoted(flat) @ weights.to(promoted(flat).dtype)


class _SecondMoment(torch.autograd.Function):
    """``E[f fᵀ]`` of ``(N, C)`` rows (optionally weighted by ``(N,)`` weights summing to 1),
    summed in float32 block by block; the gradient, in the rows' precision, is
    ``w ⊙ F (G + Gᵀ)``."""

    @staticmethod
    def forward(ctx, rows: Tensor, weights: Tensor | None) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(rows, weights)
        count, channels = rows.shape
        block = max(1, BLOCK_VALUES // channels)
        dtype = torch.promote_types(rows.dtype, torch.float32)
        moment = torch.zeros((channels, channels), dtype=dtype, device=rows.device)
        for start in range(0, count, block):
            part = rows[start : start + block].to(dtype)
            weighted = part if weights is None else part * weights[start : start + block, None].to(dtype)
            moment.addmm_(weighted.T, part)
        return moment / count if weights is None else moment

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        rows, weights = ctx.saved_tensors
        symmetric = grad + grad.T
        if weights is None:
            symmetric = symmetric / rows.shape[0]
        grad_rows = rows @ symmetric.to(rows.dtype)
        if weights is not None:
            grad_rows = grad_rows * weights[:, None].to(rows.dtype)
        return grad_rows, None


def second_moment(flat: Tensor, weights: Tensor | None) -> Tensor:
    """``(C, N)`` values to their ``(C, C)`` (weighted) second raw moment ``E[f fᵀ]``, in float32
    or better."""
    return _SecondMoment.apply(flat.T, weights)
