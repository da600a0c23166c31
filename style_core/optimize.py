"""One stage of the optimisation: the pixels of one image size, updated one iteration at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import Tensor

from .errors import DivergedError
from .losses import StyleObjective
from .vgg import VGG19Features

#: Adam's step size on pixels in [0, 1] (crowsonkb's choice).
ADAM_LR = 0.02
#: L-BFGS keeps this many past steps to estimate curvature.
LBFGS_HISTORY = 50


def _autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 for the network on CUDA (Gram matrices and losses stay float32); nothing elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class StageOptimizer:
    """Optimises ``image`` (1, 3, H, W), RGB in [0, 1], against ``objective``.

    Each :meth:`step` runs one iteration (one forward and backward pass of the network)
    and returns the weighted loss terms as floats.
    """

    def __init__(self, image: Tensor, network: VGG19Features, objective: StyleObjective, kind: str) -> None:
        self.image = image.detach().clone().requires_grad_(True)
        self.network = network
        self.objective = objective
        self.kind = kind
        if kind == "lbfgs":
            self.optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
                [self.image], lr=1.0, max_iter=1, history_size=LBFGS_HISTORY
            )
        else:
            self.optimizer = torch.optim.Adam([self.image], lr=ADAM_LR)
        self._terms: dict[str, float] = {}

    def _closure(self) -> Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        with _autocast(self.image.device):
            features = self.network(self.image, self.objective.layers)
        total, terms = self.objective(self.image, features)
        total.backward()
        self._terms = {name: float(value.detach()) for name, value in terms.items()} | {"total": float(total.detach())}
        return total

    def step(self) -> dict[str, float]:
        closure: Callable[[], Tensor] = self._closure
        self.optimizer.step(closure)
        if not all(map(_finite, self._terms.values())):
            raise DivergedError(
                "the loss became infinite or NaN; try a lower style strength, another optimizer or init"
            )
        if self.kind == "adam":
            with torch.no_grad():
                self.image.clamp_(0, 1)
        return self._terms

    def current(self) -> Tensor:
        """The image now, clamped to [0, 1], detached."""
        return self.image.detach().clamp(0, 1)


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")
