"""VGG-19 feature extractor with named taps (``relu4_2``), cut after the deepest one needed.

The architecture is data (:data:`VGG19_CONFIG`); weights and their input convention come
from :mod:`style_core.engine.weights`. Inputs are always RGB in [0, 1]; the weight set's own
convention (channel order, scale, mean, std) is applied inside :meth:`VGG19Features.forward`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import conv_relu

#: Output channels of each conv layer per block; "M" closes a block with a pooling layer.
VGG19_CONFIG: tuple[int | str, ...] = (
    64, 64, "M",
    128, 128, "M",
    256, 256, 256, 256, "M",
    512, 512, 512, 512, "M",
    512, 512, 512, 512, "M",
)  # fmt: skip

Pooling = Literal["max", "avg"]


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    block, conv = 1, 1
    for item in VGG19_CONFIG:
        if item == "M":
            names.append(f"pool{block}")
            block, conv = block + 1, 1
        else:
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
            conv += 1
    return tuple(names)


#: Every layer in forward order: ``conv1_1, relu1_1, conv1_2, relu1_2, pool1, ...``.
LAYER_NAMES: tuple[str, ...] = _layer_names()
#: The 16 convolutions, in order.
CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))


@dataclass(frozen=True)
class InputConvention:
    """How a weight set wants its input, given an RGB image in [0, 1].

    ``net_input = (rgb01[channel_order] * scale - mean) / std``, per channel in the
    network's own channel order.
    """

    name: str
    bgr: bool
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)


#: torchvision / timm ImageNet weights: RGB, [0, 1], ImageNet mean and std.
TORCHVISION = InputConvention(
    "torchvision", bgr=False, scale=1.0,
    mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
)  # fmt: skip
#: The original Oxford/Caffe weights: BGR, [0, 255], minus the mean pixel.
CAFFE = InputConvention("caffe", bgr=True, scale=255.0, mean=(103.939, 116.779, 123.68))


def stride(layer: str) -> int:
    """How many input pixels one step of ``layer``'s feature map spans: 2 per pooling before it."""
    return 2 ** sum(name.startswith("pool") for name in LAYER_NAMES[: LAYER_NAMES.index(layer)])


def feature_size(width: int, height: int, layer: str, deepest: str) -> tuple[int, int]:
    """(width, height) of ``layer``'s activations for a picture of ``width`` x ``height`` when the
    network runs up to ``deepest`` (a picture too thin for it is padded first)."""
    least, step = stride(deepest), stride(layer)
    return max(width, least) // step, max(height, least) // step


def receptive_radius(layer: str) -> int:
    """How far, in input pixels, a feature of ``layer`` sees from its own position: each 3x3
    convolution adds one step of its stride, each 2x2 pooling half a window."""
    radius, step = 0, 1
    for name in LAYER_NAMES[: LAYER_NAMES.index(layer) + 1]:
        if name.startswith("conv"):
            radius += step
        elif name.startswith("pool"):
            radius += step
            step *= 2
    return radius


def deepest_layer(layers: Iterable[str]) -> str:
    """The layer among ``layers`` that comes last in the network; raises on unknown names."""
    layers = list(layers)
    unknown = [name for name in layers if name not in LAYER_NAMES]
    if unknown or not layers:
        raise ValueError(f"unknown VGG-19 layer(s) {unknown or layers}; expected names from {LAYER_NAMES}")
    return max(layers, key=LAYER_NAMES.index)


class VGG19Features(nn.Module):
    """Frozen VGG-19 convolutional trunk up to ``last_layer``, returning named activations.

    Args:
        convs: ``{"conv1_1": (weight (C_out, C_in, 3, 3), bias (C_out,)), ...}``; only the
            convolutions up to ``last_layer`` are needed.
        convention: how the weights want their input.
        last_layer: the deepest layer kept (``"relu5_1"`` for the usual style losses).
        pooling: ``"max"`` or ``"avg"``.
    """

    def __init__(
        self,
        convs: dict[str, tuple[Tensor, Tensor]],
        convention: InputConvention,
        *,
        last_layer: str = "relu5_1",
        pooling: Pooling = "max",
    ) -> None:
        super().__init__()
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        self.convention = convention
        self.layer_names = LAYER_NAMES[: LAYER_NAMES.index(deepest_layer([last_layer])) + 1]
        layers: dict[str, nn.Module] = {}
        in_channels = 3
        for name in self.layer_names:
            if name.startswith("conv"):
                weight, bias = convs[name]
                conv = nn.Conv2d(in_channels, weight.shape[0], kernel_size=3, padding=1)
                if tuple(conv.weight.shape) != tuple(weight.shape):
                    raise ValueError(f"{name}: weight shape {tuple(weight.shape)}, expected {tuple(conv.weight.shape)}")
                with torch.no_grad():
                    conv.weight.copy_(weight)
                    conv.bias.copy_(bias.reshape(-1))
                layers[name] = conv
                in_channels = weight.shape[0]
            elif name.startswith("pool"):
                pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                layers[name] = pool(kernel_size=2, stride=2)
        self.layers = nn.ModuleDict(layers)
        order = [2, 1, 0] if convention.bgr else [0, 1, 2]
        self.register_buffer("channel_order", torch.tensor(order), persistent=False)
        self.register_buffer("mean", torch.tensor(convention.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(convention.std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def channels(self, layer: str) -> int:
        """The number of channels of ``layer``'s activations."""
        convs = [name for name in self.layer_names[: self.layer_names.index(layer) + 1] if name.startswith("conv")]
        return self.layers[convs[-1]].out_channels

    def normalize(self, image: Tensor) -> Tensor:
        """RGB [0, 1] ``(B, 3, H, W)`` to this weight set's input convention."""
        x = image.index_select(1, self.channel_order)
        return (x * self.convention.scale - self.mean) / self.std

    def forward(self, image: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        """Activations of ``layers`` for ``image`` (B, 3, H, W), RGB in [0, 1].

        Returns ``{name: (B, C, H / 2**k, W / 2**k)}``; stops after the deepest requested layer.
        An image too thin for the poolings before that layer is padded first (edge replicated).
        """
        wanted = set(layers)
        last = deepest_layer(wanted)
        if last not in self.layer_names:
            raise ValueError(f"layer {last} is beyond this extractor's last layer {self.layer_names[-1]}")
        x = self.normalize(image)
        least = stride(last)
        if min(x.shape[-2:]) < least:  # a thin image: pad it (replicating its edge) so that every pooling has pixels
            x = F.pad(x, (0, max(0, least - x.shape[-1]), 0, max(0, least - x.shape[-2])), mode="replicate")
        if x.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)
        fuse = conv_relu.available(x)
        out: dict[str, Tensor] = {}
        previous, fused = "", False
        for name in self.layer_names:
            if name.startswith("conv"):
                fused = fuse and name not in wanted  # its ReLU too, in one pass
                x = conv_relu.conv_relu(x, self.layers[name]) if fused else self.layers[name](x)
            elif name.startswith("relu"):
                if not fused:  # in place unless the convolution's output is wanted: half the memory
                    x = F.relu(x, inplace=previous not in wanted)
            else:
                x = self.layers[name](x)
            previous = name
            if name in wanted:
                out[name] = x
            if name == last:
                break
        return out
