"""The feature extractor of a run: VGG-19 with a weight source's weights, built once per process."""

from __future__ import annotations

import functools

import torch

from .device import resolve_device
from .vgg import VGG19Features
from .weights import VGGWeights, load_weights


@functools.lru_cache(maxsize=2)
def _weights(spec: str | None) -> VGGWeights:
    return load_weights(spec)


@functools.lru_cache(maxsize=4)
def network(spec: str | None, pooling: str, last_layer: str, device: str) -> tuple[VGG19Features, VGGWeights]:
    """The feature extractor for a weight source, built once per process and device."""
    weights = _weights(spec)
    net = VGG19Features(weights.convs, weights.convention, last_layer=last_layer, pooling=pooling)
    net = net.to(device)
    if torch.device(device).type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    return net, weights


def preload(weights: str | None = None, *, device: str | None = None, pooling: str = "max") -> None:
    """Load the weights and build the network now (a download, on first use of the Hub), so
    that the first run doesn't wait for it. Later runs reuse them."""
    network(weights, pooling, "relu5_1", str(resolve_device(device)))
