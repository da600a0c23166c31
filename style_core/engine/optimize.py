"""Optimising the pixels of one stage, one iteration at a time, and telling when it has settled."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from ..errors import DivergedError

#: Adam's step size on pixels in [0, 1] (crowsonkb's choice).
ADAM_LR = 0.02
#: L-BFGS keeps this many past steps to estimate curvature.
LBFGS_HISTORY = 50

#: Computes the loss of an image (1, 3, H, W), puts its gradient in ``image.grad`` and returns
#: the weighted terms and their ``total`` as floats.
Evaluate = Callable[[Tensor], dict[str, float]]


class LBFGS:
    """Limited-memory BFGS on the pixels: one evaluation of the loss and gradient per
    iteration, no line search, the curvature history kept in ``history`` pairs.

    It departs from ``torch.optim.LBFGS(max_iter=1)`` where a stage begins. torch's first step
    is ``min(1, 1/|g|₁)·g``, far too short on a picture (the first iteration barely moves), and
    its second a full quasi-Newton step from one curvature pair, which overshoots (the loss
    spikes, 1000x at the coarsest stage). Here the first step uses the curvature scale
    ``gamma = sᵀy / yᵀy`` carried over from the previous stage, rescaled to this stage's pixels
    (the losses are means over pixels, so the inverse curvature grows with their count), and
    no step moves a pixel by more than :data:`MAX_MOVE`.

    Args:
        image: the leaf (1, 3, H, W) being optimised, updated in place.
        evaluate: puts the gradient at the current image in ``image.grad``, returns the terms.
        history: how many (s, y) pairs to keep.
        scale: the initial gamma, or None to start with a short gradient step.
    """

    #: The most one iteration changes a pixel (values in [0, 1]).
    MAX_MOVE = 0.25
    #: The most the first step changes a pixel when no curvature is known yet.
    FIRST_MOVE = 0.02

    def __init__(self, image: Tensor, evaluate: Evaluate, history: int, scale: float | None = None) -> None:
        self.image, self.evaluate, self.history = image, evaluate, history
        self.scale = scale
        self.pairs: list[tuple[Tensor, Tensor, float]] = []
        self.last_step: Tensor | None = None
        self.last_gradient: Tensor | None = None

    def step(self) -> dict[str, float]:
        self.image.grad = None
        terms = self.evaluate(self.image)
        gradient = self.image.grad.detach().flatten()
        if self.last_step is not None:
            change = gradient - self.last_gradient
            curvature = float(change @ self.last_step)
            if curvature > 1e-10 * float(change.norm() * self.last_step.norm()):
                if len(self.pairs) == self.history:
                    self.pairs.pop(0)
                self.pairs.append((self.last_step, change, 1.0 / curvature))
                self.scale = curvature / float(change @ change)
        direction = self._direction(gradient)
        largest = float(direction.abs().max())
        if largest > self.MAX_MOVE:
            direction *= self.MAX_MOVE / largest
        with torch.no_grad():
            self.image.view(-1).add_(direction)
        self.last_step, self.last_gradient = direction, gradient.clone()
        return terms

    def _direction(self, gradient: Tensor) -> Tensor:
        """``-H·g`` by the two-loop recursion, H the inverse curvature the pairs estimate."""
        if self.scale is None:  # nothing known yet: a gradient step that moves no pixel by more than FIRST_MOVE
            return gradient.neg() * (self.FIRST_MOVE / max(float(gradient.abs().max()), 1e-30))
        q = gradient.neg()
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * float(s @ q)
            q.add_(y, alpha=-alpha)
            alphas.append(alpha)
        q.mul_(self.scale)
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas), strict=True):
            beta = rho * float(y @ q)
            q.add_(s, alpha=alpha - beta)
        return q


class StageOptimizer:
    """Optimises ``image`` (1, 3, H, W), RGB in [0, 1], with :class:`LBFGS` or Adam.

    Each :meth:`step` runs one iteration (one evaluation of the loss and its gradient) and
    returns the weighted loss terms as floats. ``scale`` seeds L-BFGS's curvature (see
    :attr:`curvature` of the previous stage).
    """

    def __init__(
        self, image: Tensor, evaluate: Evaluate, kind: str, *, history: int = LBFGS_HISTORY, scale: float | None = None
    ) -> None:
        self.image = image.detach().clone().requires_grad_(True)
        self.kind = kind
        if kind == "lbfgs":
            self.lbfgs = LBFGS(self.image, evaluate, history, scale)
        else:
            self.evaluate = evaluate
            self.adam = torch.optim.Adam([self.image], lr=ADAM_LR)

    @property
    def curvature(self) -> float | None:
        """L-BFGS's latest curvature scale gamma (None for Adam, or before two iterations)."""
        return self.lbfgs.scale if self.kind == "lbfgs" else None

    def step(self) -> dict[str, float]:
        if self.kind == "lbfgs":
            terms = self.lbfgs.step()
        else:
            self.adam.zero_grad(set_to_none=True)
            terms = self.evaluate(self.image)
            self.adam.step()
            with torch.no_grad():
                self.image.clamp_(0, 1)
        if not all(map(_finite, terms.values())):
            raise DivergedError("the loss became infinite or NaN")
        return terms

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
