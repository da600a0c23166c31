"""Optimising the pixels of one stage, one iteration at a time, and telling when it has settled."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch
from torch import Tensor

from .errors import DivergedError

#: Adam's step size on pixels in [0, 1] (crowsonkb's choice).
ADAM_LR = 0.02
#: L-BFGS keeps this many past steps to estimate curvature.
LBFGS_HISTORY = 50

#: Computes the loss of an image (1, 3, H, W), puts its gradient in ``image.grad`` and returns
#: the weighted terms and their ``total`` as floats.
Evaluate = Callable[[Tensor], dict[str, float]]


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 for the network on CUDA (Gram matrices and losses stay float32); nothing elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


class StageOptimizer:
    """Optimises ``image`` (1, 3, H, W), RGB in [0, 1], with L-BFGS or Adam.

    Each :meth:`step` runs one iteration (one evaluation of the loss and its gradient) and
    returns the weighted loss terms as floats.
    """

    def __init__(self, image: Tensor, evaluate: Evaluate, kind: str) -> None:
        self.image = image.detach().clone().requires_grad_(True)
        self.evaluate = evaluate
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
        self._terms = self.evaluate(self.image)
        return torch.tensor(self._terms["total"])

    def step(self) -> dict[str, float]:
        self.optimizer.step(self._closure)
        if not all(map(_finite, self._terms.values())):
            raise DivergedError("the loss became infinite or NaN")
        if self.kind == "adam":
            with torch.no_grad():
                self.image.clamp_(0, 1)
        return self._terms

    def current(self) -> Tensor:
        """The image now, clamped to [0, 1], detached."""
        return self.image.detach().clamp(0, 1)


class Convergence:
    """Tells when a stage has settled: after ``min_steps``, when the lowest loss of the last
    ``window`` iterations improved on the lowest before them by less than ``gain`` of it.
    (The best, not the latest: a one-step spike of L-BFGS is not convergence.)"""

    def __init__(self, gain: float = 1e-3, window: int = 5, min_steps: int = 11) -> None:
        self.gain, self.window, self.min_steps = gain, window, min_steps
        self.history: list[float] = []

    def settled(self, loss: float) -> bool:
        """Record one iteration's loss; True when the stage has settled."""
        self.history.append(loss)
        if len(self.history) < max(self.min_steps, self.window + 1):
            return False
        best_before = min(self.history[: -self.window])
        return best_before - min(self.history[-self.window :]) < self.gain * abs(best_before)


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")
