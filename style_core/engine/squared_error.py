"""The summed squared difference of a layer's features and their target, the content term's core.

The network may run in bf16 (:mod:`style_core.engine.precision`), and its content targets are
its own activations, in its own precision. The difference is taken in that precision, squared
and summed in float32 block by block (:data:`~.style_losses.moments.BLOCK_VALUES`), and its
gradient, ``2 (f - t)``, goes back in that precision too. On 2 CPU cores these passes over a
megapixel's relu2_1 are bound by memory: autograd's float32 copies, powers and products of
the whole map took twice to ten times as long.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .style_losses.moments import BLOCK_VALUES, promoted


def _values(dense: Tensor) -> Tensor:
    """Every value of a tensor whose memory is dense, in any order of dimensions (channels_last
    too), as a flat view."""
    outer_to_inner = sorted(range(dense.dim()), key=lambda dim: -dense.stride(dim))
    return dense.permute(outer_to_inner).reshape(-1)


class _SquaredError(torch.autograd.Function):
    @staticmethod
    def forward(ctx, features: Tensor, target: Tensor) -> Tensor:  # type: ignore[override]
        difference = features - target
        ctx.save_for_backward(difference)
        ctx.dtype = features.dtype
        return sum(promoted(block).square().sum() for block in _values(difference).split(BLOCK_VALUES))

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, None]:  # type: ignore[override]
        (difference,) = ctx.saved_tensors
        return (difference * (2 * grad).to(difference.dtype)).to(ctx.dtype), None


def squared_error(features: Tensor, target: Tensor) -> Tensor:
    """``Σ (features - target)²`` over every value of two tensors of one shape: a float32 (or
    finer) scalar, differentiable in ``features`` (``target`` is a constant)."""
    return _SquaredError.apply(features, target.detach())
