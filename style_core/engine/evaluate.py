"""The loss of a picture and its gradient: in one pass, or tile by tile with the same result.

Both are an :data:`~style_core.engine.optimize.Evaluate`: called with the picture (a leaf tensor
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

As each core feature is exact (:mod:`style_core.engine.tiles`) and the style term is a function of
means over positions, the loss and the gradient equal the whole picture's, up to rounding.
Memory is that of one crop's forward and backward pass, whatever the picture's size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

import torch
from torch import Tensor

from .objective import Objective
from .plan import GATHER_COST
from .precision import autocast
from .style_losses import Stats
from .targets import StatisticsRequest, core_weight, mass, measure
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


def _spread(
    tile: Tile, features: dict[str, Tensor], cores: dict[str, Tensor], surrogate: Tensor
) -> tuple[list[Tensor], list[Tensor]]:
    """A crop's features and the gradients of ``surrogate`` with respect to them: each core's
    own (``cores`` are leaves cut from ``features``), zero around it, in the features' memory
    format. (Autograd's slicing would pad with contiguous zeros, and adding those to
    channels_last gradients is slow on the CPU; so would a leaf's ``.grad``, which is made
    contiguous because a core is not dense.)"""
    if not surrogate.requires_grad:
        return [], []
    grads = torch.autograd.grad(surrogate, list(cores.values()), allow_unused=True)
    outputs, gradients = [], []
    for name, grad in zip(cores, grads, strict=True):
        if grad is None:
            continue
        whole = torch.zeros_like(features[name])
        tile.core_of(whole, stride(name)).copy_(grad)
        outputs.append(features[name])
        gradients.append(whole)
    return outputs, gradients


class WholeEvaluator:
    """The loss of the whole picture in one forward and backward pass."""

    def __init__(self, network: VGG19Features, objective: Objective, precision: str = "fp32") -> None:
        self.network, self.objective, self.precision = network, objective, precision

    def __call__(self, image: Tensor) -> dict[str, float]:
        with tf32(image.device):
            with autocast(image.device, self.precision):
                features = self.network(image, self.objective.layers)
            total, terms = self.objective(image, features)
            total.backward()
        return _floats(terms)


class TiledEvaluator:
    """The loss of the picture gathered over ``tiles`` (see the module's docstring).

    ``partway``, when given, is called after the gathering pass and after each tile of the
    backward pass with the share of the evaluation's work done (0 to 1, the gathering pass
    weighing :data:`~style_core.engine.plan.GATHER_COST` of a tile's forward and backward pass), so
    that a big picture reports progress within an iteration. ``precision`` is the network's
    (see :mod:`.precision`).
    """

    def __init__(
        self,
        network: VGG19Features,
        objective: Objective,
        tiles: Sequence[Tile],
        precision: str = "fp32",
        partway: Callable[[float], None] | None = None,
    ) -> None:
        self.network, self.objective, self.tiles, self.precision = network, objective, list(tiles), precision
        self.partway = partway
        self.requests = {i: StatisticsRequest(t.layer, t.loss, t.weight) for i, t in enumerate(objective.style_terms)}

    def _features(self, crop: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:
        with autocast(crop.device, self.precision):
            return self.network(crop, layers)

    def gather(self, image: Tensor) -> dict[int, Stats]:
        """Each style term's statistics of the whole picture, merged over its tiles."""
        return measure(
            self.network, image.detach(), self.tiles, requests=self.requests, precision=self.precision
        ).statistics

    def residual(self, whole: dict[int, Stats]) -> tuple[Tensor, dict[int, Stats]]:
        """The style term of the whole picture's statistics, and each term's gradient of its
        distance with respect to them (the global residual)."""
        style, residual = 0.0, {}
        for i, term in enumerate(self.objective.style_terms):
            leaves = {key: value.detach().requires_grad_() for key, value in whole[i].items()}
            distance = term.loss.compare(leaves, term.target)
            distance.backward()
            residual[i] = {key: value.grad for key, value in leaves.items()}
            style = style + self.objective.weights.style * term.share * distance.detach() / term.scale
        return style, residual

    def masses(self, image: Tensor) -> dict[int, float]:
        """How much each term's region counts over the whole picture (positions or weights)."""
        height, width = image.shape[-2:]
        masses = {}
        for i, term in enumerate(self.objective.style_terms):
            step = stride(term.layer)
            masses[i] = float(term.weight.sum()) if term.weight is not None else (height // step) * (width // step)
        return masses

    def __call__(self, image: Tensor) -> dict[str, float]:
        objective = self.objective
        masses = self.masses(image)
        with tf32(image.device):
            whole = self.gather(image)
            style, residual = self.residual(whole)
            if image.grad is None:
                image.grad = torch.zeros_like(image)
            content = torch.zeros((), device=image.device)
            gathered = GATHER_COST / (1 + GATHER_COST)
            self._report(gathered)
            for done, tile in enumerate(self.tiles, start=1):
                crop = tile.crop.of(image.detach()).clone().requires_grad_()
                features = self._features(crop, objective.layers)
                cores = {
                    name: tile.core_of(value, stride(name)).detach().requires_grad_()
                    for name, value in features.items()
                }
                tile_content = objective.content(cores, tile.core)
                surrogate = tile_content
                for i, term in enumerate(objective.style_terms):
                    core = cores[term.layer]
                    weight = core_weight(term.weight, tile, stride(term.layer))
                    share = mass(core, weight) / masses[i]
                    if share > 0:
                        part = term.loss.surrogate(core, weight, whole[i], term.target, residual[i])
                        surrogate = surrogate + objective.weights.style * term.share * share * part / term.scale
                outputs, gradients = _spread(tile, features, cores, surrogate)
                if outputs:
                    torch.autograd.backward(outputs, gradients)
                tile.crop.of(image.grad).add_(crop.grad)
                content = content + tile_content.detach()
                if done < len(self.tiles):  # the whole evaluation is reported as an iteration
                    self._report(gathered + (1 - gathered) * done / len(self.tiles))
            pixel_terms = objective.pixel_terms(image)
            sum(pixel_terms.values()).backward()
        return _floats({"content": content, "style": style} | pixel_terms)

    def _report(self, share: float) -> None:
        if self.partway is not None:
            self.partway(share)
