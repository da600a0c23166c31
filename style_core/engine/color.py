"""Colour preservation, both ways of Gatys et al. 2016, "Preserving Color in Neural Artistic
Style Transfer". Images are ``(B, 3, H, W)`` RGB in [0, 1].

- ``"luminance"``: style is transferred on luminance only. Content and style become grey
  (their YCbCr luma), the style's luma is matched to the content's mean and spread, and the
  result's luma is recombined with the content's chroma (Cb, Cr).
- ``"match"``: the style image's colours are mapped onto the content's before optimising:
  an affine map that gives the style pixels the content's mean and covariance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from kornia.color import rgb_to_ycbcr, ycbcr_to_rgb
from torch import Tensor


def luminance(image: Tensor) -> Tensor:
    """The luma (YCbCr's Y) of ``(B, 3, H, W)`` as ``(B, 1, H, W)``."""
    return rgb_to_ycbcr(image)[:, :1]


def grey(image: Tensor) -> Tensor:
    """``(B, 3, H, W)`` with each channel set to the luma."""
    return luminance(image).expand(-1, 3, -1, -1).contiguous()


def match_luminance(style: Tensor, content: Tensor) -> Tensor:
    """Grey version of ``style`` whose luma has the content's mean and standard deviation."""
    y_style, y_content = luminance(style), luminance(content)
    std_style = y_style.std().clamp_min(1e-6)
    matched = (y_style - y_style.mean()) / std_style * y_content.std() + y_content.mean()
    return matched.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()


def recombine_luminance(stylized: Tensor, content: Tensor) -> Tensor:
    """The luma of ``stylized`` with the chroma of ``content`` (resized to match)."""
    if content.shape[-2:] != stylized.shape[-2:]:
        content = F.interpolate(content, size=stylized.shape[-2:], mode="bilinear", align_corners=False)
    ycbcr = torch.cat([luminance(stylized), rgb_to_ycbcr(content)[:, 1:]], dim=1)
    return ycbcr_to_rgb(ycbcr).clamp(0, 1)


def _mean_cov(image: Tensor) -> tuple[Tensor, Tensor]:
    pixels = image.double().reshape(3, -1)
    mean = pixels.mean(1, keepdim=True)
    centered = pixels - mean
    return mean, centered @ centered.T / pixels.shape[1] + 1e-5 * torch.eye(3, dtype=torch.float64)


def _sqrtm(matrix: Tensor, inverse: bool = False) -> Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    values = values.clamp_min(1e-8).sqrt()
    if inverse:
        values = 1 / values
    return vectors @ torch.diag(values) @ vectors.T


def match_color_statistics(style: Tensor, content: Tensor) -> Tensor:
    """``style`` (1, 3, H, W) recoloured to the mean and covariance of ``content``'s pixels."""
    mean_s, cov_s = _mean_cov(style)
    mean_c, cov_c = _mean_cov(content)
    transform = _sqrtm(cov_c) @ _sqrtm(cov_s, inverse=True)
    pixels = transform @ (style.double().reshape(3, -1) - mean_s) + mean_c
    return pixels.reshape(style.shape).to(style.dtype).clamp(0, 1)


def prepare_colors(mode: str, content: Tensor, styles: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
    """The content and styles as the network sees them under ``preserve_colors`` ``mode``
    (``"none"``, ``"luminance"``, ``"match"``); all ``(1, 3, H, W)`` in [0, 1]."""
    if mode == "luminance":
        return grey(content), [match_luminance(style, content) for style in styles]
    if mode == "match":
        return content, [match_color_statistics(style, content) for style in styles]
    return content, styles


def restore_colors(mode: str, image: Tensor, content: Tensor) -> Tensor:
    """The optimised ``image`` with the colours ``mode`` took away given back (the content's chroma)."""
    return recombine_luminance(image, content) if mode == "luminance" else image
