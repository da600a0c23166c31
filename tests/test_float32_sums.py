"""Float32 sums of bf16 activations, block by block, with gradients in the activations'
precision: the moments over positions behind the Gram and W2 losses, and the content term's
squared error."""

from __future__ import annotations

import pytest
import torch

from style_core.engine import squared_error as squared_error_module
from style_core.engine.squared_error import squared_error
from style_core.engine.style_losses import moments
from style_core.engine.style_losses.moments import mean_over_positions, positions, second_moment


def activations(channels: int, height: int, width: int, dtype: torch.dtype, seed: int = 0) -> torch.Tensor:
    """Non-negative (1, C, H, W) features in channels_last, like the network's on the CPU."""
    values = torch.rand(1, channels, height, width, generator=torch.Generator().manual_seed(seed))
    return values.to(dtype).contiguous(memory_format=torch.channels_last)


def reference(features: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """E[f fᵀ] in float64 by plain autograd operations."""
    flat = features.double().reshape(features.shape[1], -1)
    if weight is None:
        return flat @ flat.T / flat.shape[1]
    weights = weight.double().reshape(-1)
    return (flat * weights / weights.sum()) @ flat.T


@pytest.mark.parametrize("weighted", [False, True])
def test_bf16_moments_are_float32_sums_and_their_gradient_is_the_reference(weighted, monkeypatch):
    monkeypatch.setattr(moments, "BLOCK_VALUES", 8 * 7)  # many blocks, the last one short
    features = activations(8, 9, 11, torch.bfloat16).requires_grad_()
    weight = torch.rand(1, 1, 9, 11, generator=torch.Generator().manual_seed(1)) if weighted else None
    flat, weights = positions(features, weight)
    assert flat.dtype == torch.bfloat16 and flat.data_ptr() == features.data_ptr()  # a view, not a copy
    moment = second_moment(flat, weights)
    assert moment.dtype == torch.float32
    exact = reference(features.detach(), weight)
    torch.testing.assert_close(moment.double(), exact, rtol=1e-6, atol=1e-7)

    direction = torch.randn(8, 8, generator=torch.Generator().manual_seed(2))
    (moment * direction).sum().backward()
    leaf = features.detach().double().requires_grad_()
    (reference(leaf, weight) * direction.double()).sum().backward()
    assert features.grad.dtype == torch.bfloat16
    torch.testing.assert_close(features.grad.double(), leaf.grad, rtol=2e-2, atol=1e-3)


def test_a_bf16_mean_is_summed_in_float32():
    features = activations(4, 64, 64, torch.bfloat16)
    flat, _ = positions(features)
    mean = mean_over_positions(flat, None)
    assert mean.dtype == torch.float32
    torch.testing.assert_close(mean.double(), features.double().mean(dim=(0, 2, 3)), rtol=1e-6, atol=1e-7)


def test_float64_stays_float64():
    features = activations(3, 4, 5, torch.float64)
    flat, _ = positions(features)
    assert second_moment(flat, None).dtype == mean_over_positions(flat, None).dtype == torch.float64


def test_the_squared_error_of_bf16_features_is_summed_in_float32(monkeypatch):
    monkeypatch.setattr(squared_error_module, "BLOCK_VALUES", 100)  # many blocks, the last one short
    features = activations(16, 33, 40, torch.bfloat16).requires_grad_()
    target = activations(16, 33, 40, torch.bfloat16, seed=1)
    error = squared_error(features, target)
    assert error.dtype == torch.float32
    difference = (features.detach().double() - target.double()).to(torch.bfloat16).double()  # rounded as bf16 is
    torch.testing.assert_close(error.double(), difference.square().sum(), rtol=1e-6, atol=0)
    error.backward()
    assert features.grad.dtype == torch.bfloat16
    torch.testing.assert_close(features.grad.double(), 2 * difference, rtol=1e-2, atol=0)


def test_the_squared_error_gradient_in_float64_in_any_memory_format():
    target = torch.rand(1, 3, 4, 5, dtype=torch.float64)
    for layout in (torch.contiguous_format, torch.channels_last):
        features = torch.rand(1, 3, 4, 5, dtype=torch.float64).contiguous(memory_format=layout).requires_grad_()
        torch.testing.assert_close(squared_error(features, target), (features - target).square().sum())
        assert torch.autograd.gradcheck(lambda f: squared_error(f, target), (features,))
