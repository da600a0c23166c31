"""The loss of a picture and its gradient: in one pass, or tile by tile with the same result.

Both are an :data:`~style_core.optimize.Evaluate`: called with the picture (a leaf tensor
(1, 3, H, W) that requires grad), they put the gradient in ``picture.grad`` and return the
weighted terms and their total as floats.

Tile by tile (Gatys' statistics are global, so tiles must not each chase their own):

1. *Gather*, without autograd: each tile's crop goes through the network, and the style
   statistics of its core are added up, weighted by the core's share of the positions.
2. The style term is evaluated on the gathered (global) statistics, and its gradient with
   respect to them is taken: the global residual.
3. *Backward*, tile by tile: the crop goes through the network again, and the inner product
   of the residual with the core's statistics (plus the core's content term) is
   back-propagated into the crop; crops' gradients add up in the picture's.

As each core feature is exact (:mod:`style_core.tiles`) and the style term is a function of
means over positions, the loss and the gradient equal the whole picture's, up to rounding.
Memory is that of one crop's forward and backward pass, whatever the picture's size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import Tensor

from .objective import Objective
from .optimize import autocast
from .style_losses import Stats
from .targets import measure
from .tiles import Tile
from .vgg import VGG19Features, stride


@contextlib.contextmanager
def tf32(device: torch.device) -> Iterator[None]:
    """TF32 matmuls and convolutions on CUDA while the block runs; the flags are restored after."""
    if device.type != "cuda":
        yield
        return
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _floats(terms: dict[str, Tensor]) -> dict[str, float]:
    values = {name: float(value.detach()) for name, value in terms.items()}
    return values | {"total": sum(values.values())}


class WholeEvaluator:
    """The loss of the whole picture in one forward and backward pass."""

    def __init__(self, network: VGG19Features, objective: Objective) -> None:
        self.network, self.objective = network, objective

    def __call__(self, image: Tensor) -> dict[str, float]:
        with tf32(image.device):
            with autocast(image.device):
                features = self.network(image, self.objective.layers)
            total, terms = self.objective(image, features)
            total.backward()
        return _floats(terms)


class TiledEvaluator:
    """The loss of the picture gathered over ``tiles`` (see the module's docstring)."""

    def __init__(self, network: VGG19Features, objective: Objective, tiles: Sequence[Tile]) -> None:
        self.network, self.objective, self.tiles = network, objective, list(tiles)
        self.style_layers = list(objective.weights.style_layers)

    def _features(self, crop: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        with autocast(crop.device):
            return self.network(crop, layers)

    def gather(self, image: Tensor) -> dict[str, Stats]:
        """Each style layer's statistics of the whole picture, merged over its tiles."""
        losses = {name: self.objective.style_terms[name].loss for name in self.style_layers}
        with autocast(image.device):
            return measure(self.network, image.detach(), self.tiles, losses=losses).statistics

    def residual(self, statistics: dict[str, Stats]) -> tuple[Tensor, dict[str, Stats]]:
        """The style term of the gathered statistics and its gradient with respect to them."""
        leaves = {name: {k: v.detach().requires_grad_() for k, v in s.items()} for name, s in statistics.items()}
        objective = self.objective
        style = objective.weights.style * sum(
            share * term.loss.compare(leaves[name], term.target) / term.scale
            for name, share in objective.weights.style_layers.items()
            for term in (objective.style_terms[name],)
        )
        style.backward()
        return style.detach(), {name: {key: value.grad for key, value in s.items()} for name, s in leaves.items()}

    def __call__(self, image: Tensor) -> dict[str, float]:
        objective = self.objective
        height, width = image.shape[-2:]
        with tf32(image.device):
            style, residual = self.residual(self.gather(image))
            if image.grad is None:
                image.grad = torch.zeros_like(image)
            content = torch.zeros((), device=image.device)
            for tile in self.tiles:
                crop = tile.crop.of(image.detach()).clone().requires_grad_()
                features = self._features(crop, objective.layers)
                core = {name: tile.core_of(value, stride(name)) for name, value in features.items()}
                tile_content = objective.content(core, tile.core)
                surrogate = tile_content
                for name in self.style_layers:
                    step = stride(name)
                    share = core[name].shape[-2] * core[name].shape[-1] / ((height // step) * (width // step))
                    stats = objective.style_terms[name].loss.statistics(core[name])
                    surrogate = surrogate + share * sum((residual[name][k] * v.float()).sum() for k, v in stats.items())
                surrogate.backward()
                tile.crop.of(image.grad).add_(crop.grad)
                content = content + tile_content.detach()
            pixel_terms = objective.pixel_terms(image)
            sum(pixel_terms.values()).backward()
        return _floats({"content": content, "style": style} | pixel_terms)
