"""A convolution and the ReLU after it in one oneDNN pass on the CPU.

On the CPU the ReLU of a big activation map is a pass of its own over memory, and in bf16 a
slow one: at 1024x768, relu1_2's in-place ReLU takes 27 ms where its convolution takes 58 ms
(2 cores with native bf16). oneDNN applies it as the convolution writes its output (the
kernel PyTorch's compiler uses), so the pass disappears. The backward is autograd's own for a
convolution followed by a ReLU: the gradient masked where the output is zero, then the
convolution's backward, so gradients are those of the separate layers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def available(x: Tensor) -> bool:
    """Whether ``x``'s device has the fused kernel (the CPU, with oneDNN)."""
    if x.device.type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    return hasattr(torch.ops.mkldnn, "_convolution_pointwise")


class _ConvReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, padding: list[int]) -> Tensor:  # type: ignore[override]
        ones = [1, 1]
        output = torch.ops.mkldnn._convolution_pointwise(x, weight, bias, padding, ones, ones, 1, "relu", [], "")
        ctx.save_for_backward(x, weight, output)
        ctx.padding, ctx.has_bias = padding, bias is not None
        return output

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, Tensor | None, Tensor | None, None]:  # type: ignore[override]
        x, weight, output = ctx.saved_tensors
        masked = torch.ops.aten.threshold_backward(grad, output, 0)
        wanted = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.needs_input_grad[2] and ctx.has_bias]
        ones = [1, 1]
        bias_sizes = [weight.shape[0]] if ctx.has_bias else None
        grad_x, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
            masked, x, weight, bias_sizes, ones, ctx.padding, ones, False, [0, 0], 1, wanted
        )
        return grad_x, grad_weight, grad_bias, None


def conv_relu(x: Tensor, conv: nn.Conv2d) -> Tensor:
    """``relu(conv(x))`` for ``(B, C_in, H, W)`` ``x`` and a stride-1, ungrouped ``conv``, as
    one pass (see :func:`available`); in autocast's precision when autocast is on."""
    dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else x.dtype
    bias = None if conv.bias is None else conv.bias.to(dtype)
    return _ConvReLU.apply(x.to(dtype), conv.weight.to(dtype), bias, list(conv.padding))
