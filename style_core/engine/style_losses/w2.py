"""The Wasserstein-2 loss between Gaussians fitted to a layer's features (crowsonkb's default
since 2023).

Statistics: the mean ``μ`` (C,) and the second raw moment ``M = E[f fᵀ]`` (C, C), weighted
means over positions, which blend linearly across styles (a covariance would not); the
covariance is ``Σ = M - μ μᵀ``. The distance is the squared W2 distance of the two Gaussians::

    W2² = |μ - μs|² + tr Σ + tr Σs - 2 tr (Σs^½ Σ Σs^½)^½

The style's ``Σs^½`` is constant for a stage: it is computed once per target, by an
eigendecomposition. Each evaluation then needs ``tr A^½`` of the symmetric
``A = Σs^½ Σ Σs^½``: the sum of the square roots of its eigenvalues, whose gradient is
``½ A^-½`` (no eigengap in it, so it stays finite for repeated eigenvalues).

Why eigenvalues and not Newton-Schulz iterations (crowsonkb's choice), measured on real
relu3_1-relu5_1 covariances (Caffe VGG-19, 512 px, Tübingen against The Starry Night): Σs is
ill-conditioned (10⁴-10⁵ even with ε), so the eigenvalues of A span 10⁹ and Newton-Schulz
needs 25-30 iterations of three C-by-C products to converge. With 12 (crowsonkb's) the W2
value is off by 4-12 times the distance itself 90% of the way from the photo's statistics
to the painting's, by 90-770 times at 99%: L-BFGS would chase the error. An
eigendecomposition of a 512-by-512 matrix costs about seven products (float32: 9 ms on 2 CPU
cores, a product 1.3 ms; float64, as :meth:`W2Loss.compare` runs it, twice that) and is exact
to rounding: in float32 off by a few 10⁻⁴ of the distance at 90%.

Both covariances get ``ε·I`` added, ``ε = REGULARIZATION`` times the style's mean variance, so
that directions in which the painting hardly varies don't dominate the gradient. The scale
is ``sqrt(tr Mc · tr Ms)``: the geometric mean of the content's and the style's feature
energy ``E|f|²``, the content's floored at 1% of the style's (as the Gram loss does).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .base import MeanStyleLoss, Stats
from .moments import mean_over_positions, positions, second_moment

#: ``ε`` added to both covariances, relative to the style's mean variance ``tr Σs / C``.
REGULARIZATION = 1e-3


def trace_sqrt(matrix: Tensor) -> Tensor:
    """``tr A^½`` of a symmetric positive semi-definite ``(C, C)`` matrix (symmetrised against
    rounding): a differentiable scalar with gradient ``½ A^-½``. Eigenvalues below 10⁻¹² of the
    largest (rounding noise) count as that floor and pass no gradient."""
    if matrix.device.type == "mps":  # no eigendecomposition there
        return trace_sqrt(matrix.cpu()).to(matrix.device)
    eigenvalues = torch.linalg.eigvalsh((matrix + matrix.T) / 2)
    floor = (eigenvalues[-1].detach() * 1e-12).clamp_min(torch.finfo(matrix.dtype).tiny)
    return eigenvalues.clamp_min(floor).sqrt().sum()


def _covariance(mean: Tensor, moment: Tensor) -> Tensor:
    return moment - torch.outer(mean, mean)


@dataclass(frozen=True)
class _Style:
    """What the distance needs of a target, computed once: ``μs``, ``Σs^½`` (with ``ε·I``
    added), ``tr Σs`` (likewise) and ``ε``."""

    mean: Tensor
    covariance_sqrt: Tensor
    covariance_trace: Tensor
    epsilon: Tensor

    @classmethod
    def of(cls, target: Stats) -> _Style:
        mean, moment = target["mean"], target["moment"]
        covariance = _covariance(mean.double().cpu(), moment.double().cpu())  # once, on the CPU (MPS has none)
        covariance = (covariance + covariance.T) / 2
        channels = covariance.shape[0]
        epsilon = REGULARIZATION * covariance.trace().clamp_min(1e-30) / channels
        covariance = covariance + epsilon * torch.eye(channels, dtype=covariance.dtype)
        eigenvalues, vectors = torch.linalg.eigh(covariance)
        root = (vectors * eigenvalues.clamp_min(0).sqrt()) @ vectors.T
        dtype = torch.float32 if moment.device.type == "mps" else torch.float64
        device = moment.device
        return cls(
            mean.to(device, dtype),
            root.to(device, dtype),
            covariance.trace().to(device, dtype),
            epsilon.to(device, dtype),
        )


class W2Loss(MeanStyleLoss):
    """Squared W2 distance between Gaussians. Statistics: ``{"mean": (C,), "moment": (C, C)}``."""

    def __init__(self, channels: int, generator: torch.Generator) -> None:
        super().__init__(channels, generator)
        #: Each target's constant parts, by the identity of its moment (kept alive with them):
        #: an instance serves a layer for a stage, with a target per region.
        self._styles: dict[int, tuple[Tensor, _Style]] = {}

    def statistics(self, features: Tensor, weight: Tensor | None = None) -> Stats:
        flat, weights = positions(features, weight)
        return {"mean": mean_over_positions(flat, weights), "moment": second_moment(flat, weights)}

    def _prepared(self, target: Stats) -> _Style:
        """The target's constant parts, computed on its first use."""
        moment = target["moment"]
        if id(moment) not in self._styles:
            self._styles[id(moment)] = moment, _Style.of(target)
        return self._styles[id(moment)][1]

    def compare(self, stats: Stats, target: Stats) -> Tensor:
        """In float64 where the device has it: the covariance is a difference of raw moments, and
        ``A``'s spectrum spans 10⁹, so float32 would leave the gradient good to 10⁻³ only."""
        style = self._prepared(target)
        dtype = torch.float32 if stats["mean"].device.type == "mps" else torch.float64
        mean, moment = stats["mean"].to(dtype), stats["moment"].to(dtype)
        covariance = _covariance(mean, moment)
        covariance = covariance + style.epsilon * torch.eye(len(mean), dtype=dtype, device=mean.device)
        product = style.covariance_sqrt @ covariance @ style.covariance_sqrt
        bures = covariance.trace() + style.covariance_trace - 2 * trace_sqrt(product)
        return ((mean - style.mean).square().sum() + bures).to(stats["mean"].dtype)

    def scale(self, content: Stats, target: Stats) -> Tensor:
        style_energy = target["moment"].trace().clamp_min(1e-12)
        content_energy = content["moment"].trace().clamp_min(0.01 * style_energy)
        return (content_energy * style_energy).sqrt()
