"""The fused convolution and ReLU give the separate layers' values and gradients."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from style_core.engine import conv_relu
from style_core.engine.vgg import CONV_NAMES, TORCHVISION, VGG19Features

pytestmark = pytest.mark.skipif(not conv_relu.available(torch.zeros(1)), reason="this torch has no oneDNN")


def _values_and_gradient(forward, image: torch.Tensor, bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
    x = image.clone().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        output = forward(x)
    weights = torch.linspace(-1, 1, output.numel()).reshape(output.shape)
    (output.float() * weights).sum().backward()
    return output.detach(), x.grad


@pytest.mark.parametrize("bf16", [False, True])
def test_one_pass_equals_a_convolution_then_a_relu(bf16):
    torch.manual_seed(0)
    conv = nn.Conv2d(8, 16, 3, padding=1).requires_grad_(False)
    image = torch.randn(1, 8, 20, 24).contiguous(memory_format=torch.channels_last)
    fused, fused_gradient = _values_and_gradient(lambda x: conv_relu.conv_relu(x, conv), image, bf16)
    apart, apart_gradient = _values_and_gradient(lambda x: F.relu(conv(x)), image, bf16)
    assert fused.dtype == (torch.bfloat16 if bf16 else torch.float32)
    assert (fused == 0).any() and (fused > 0).any()
    torch.testing.assert_close(fused, apart, rtol=0, atol=0)
    torch.testing.assert_close(fused_gradient, apart_gradient, rtol=1e-6, atol=1e-6)


def test_the_weights_get_their_gradient_too():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    image = torch.randn(1, 3, 9, 7)
    conv_relu.conv_relu(image, conv).sum().backward()
    fused = conv.weight.grad.clone(), conv.bias.grad.clone()
    conv.zero_grad()
    F.relu(conv(image)).sum().backward()
    torch.testing.assert_close(fused, (conv.weight.grad, conv.bias.grad))


def test_the_network_taps_the_same_features_fused_or_not(monkeypatch):
    torch.manual_seed(0)
    channels, convs = 3, {}
    for name in CONV_NAMES[:4]:
        out = 8 if name < "conv2" else 16
        convs[name] = (torch.randn(out, channels, 3, 3) * 0.3, torch.randn(out) * 0.1)
        channels = out
    net = VGG19Features(convs, TORCHVISION, last_layer="relu2_2")
    layers = ["conv1_2", "relu1_2", "relu2_1", "relu2_2"]
    image = torch.rand(1, 3, 16, 20)
    fused, fused_gradient = _values_and_gradient(lambda x: net(x, layers)["relu2_2"], image, bf16=False)
    features = net(image, layers)
    monkeypatch.setattr(conv_relu, "available", lambda x: False)
    apart, apart_gradient = _values_and_gradient(lambda x: net(x, layers)["relu2_2"], image, bf16=False)
    unfused = net(image, layers)
    torch.testing.assert_close(fused, apart)
    torch.testing.assert_close(fused_gradient, apart_gradient)
    for name in layers:
        torch.testing.assert_close(features[name], unfused[name])
    assert (features["conv1_2"] < 0).any()  # a wanted convolution keeps its own output
