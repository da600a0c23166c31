"""Reading images from paths, PIL images, numpy arrays or tensors into ``(1, 3, H, W)`` RGB in [0, 1].

EXIF orientation is applied; greyscale, palette, RGBA, CMYK and 16-bit images are handled;
an alpha channel is kept apart as ``(1, 1, H, W)`` so the caller can carry it to the output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from .errors import ImageError

ImageInput = str | os.PathLike | Image.Image | np.ndarray | Tensor

#: Images with more pixels than this are refused before they are decoded (decompression bombs).
DEFAULT_MAX_PIXELS = 64_000_000
#: The smallest width or height accepted for an input image.
MIN_SIDE = 16


@dataclass
class RGBImage:
    """``rgb``: (1, 3, H, W) float32 in [0, 1]; ``alpha``: (1, 1, H, W) or None."""

    rgb: Tensor
    alpha: Tensor | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[-1], self.rgb.shape[-2]


def _open_path(path: Path, what: str, max_pixels: int) -> Image.Image:
    if not path.exists():
        raise ImageError(f"{what} '{path}': no such file")
    if path.is_dir():
        raise ImageError(f"{what} '{path}': is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{what} '{path}': the file is empty (0 bytes)")
    try:
        image = Image.open(path)
    except UnidentifiedImageError as exc:
        raise ImageError(f"{what} '{path}': not an image, or a format Pillow can't read") from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{what} '{path}': too many pixels ({exc})") from exc
    except OSError as exc:
        raise ImageError(f"{what} '{path}': can't be read ({exc})") from exc
    _check_pixels(image, f"{what} '{path}'", max_pixels)
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{what} '{path}': the file is corrupt or truncated ({exc})") from exc
    return image


def _check_pixels(image: Image.Image, what: str, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(
            f"{what}: {width}x{height} = {width * height:,} pixels is more than the limit of "
            f"{max_pixels:,}; shrink it first"
        )


def _from_pil(image: Image.Image) -> RGBImage:
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        grey = np.asarray(image, dtype=np.float32) / 65535.0
        rgb = torch.from_numpy(np.clip(grey, 0, 1)).expand(3, -1, -1)
        return RGBImage(rgb.unsqueeze(0).contiguous())
    if image.mode == "F":
        grey = torch.from_numpy(np.asarray(image, dtype=np.float32)).clamp(0, 1)
        return RGBImage(grey.expand(3, -1, -1).unsqueeze(0).contiguous())
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    array = np.asarray(image.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255.0
    return _from_hwc(array)


def _from_hwc(array: np.ndarray) -> RGBImage:
    tensor = torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).unsqueeze(0)
    alpha = tensor[:, 3:4].contiguous() if tensor.shape[1] == 4 else None
    return RGBImage(tensor[:, :3].contiguous(), alpha)


def _from_numpy(array: np.ndarray, what: str) -> RGBImage:
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise ImageError(f"{what}: numpy array of shape {array.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        array = array.astype(np.float32) / 65535.0
    elif np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
    else:
        raise ImageError(f"{what}: numpy dtype {array.dtype}; expected uint8, uint16 or float in [0, 1]")
    if not np.isfinite(array).all():
        raise ImageError(f"{what}: the array holds NaN or infinite values")
    if array.shape[2] == 1:
        array = np.repeat(array, 3, axis=2)
    return _from_hwc(np.clip(array, 0, 1))


def _from_tensor(tensor: Tensor, what: str) -> RGBImage:
    t = tensor.detach().cpu()
    if t.ndim == 4:
        if t.shape[0] != 1:
            raise ImageError(f"{what}: tensor batch of {t.shape[0]}; pass one image (1, C, H, W)")
        t = t[0]
    if t.ndim == 2:
        t = t.unsqueeze(0)
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4):
        raise ImageError(f"{what}: tensor of shape {tuple(tensor.shape)}; expected (C, H, W) with C in 1, 3, 4")
    t = t.float() / 255.0 if t.dtype == torch.uint8 else t.float()
    if not torch.isfinite(t).all():
        raise ImageError(f"{what}: the tensor holds NaN or infinite values")
    if t.shape[0] == 1:
        t = t.expand(3, -1, -1)
    t = t.clamp(0, 1).unsqueeze(0).contiguous()
    return RGBImage(t[:, :3].contiguous(), t[:, 3:4].contiguous() if t.shape[1] == 4 else None)


def load_image(source: ImageInput, what: str = "image", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> RGBImage:
    """Read ``source`` into an :class:`RGBImage`. ``what`` names it in error messages.

    Raises :class:`~style_core.errors.ImageError` with a one-line reason for a missing, empty,
    corrupt, non-image, too large (more than ``max_pixels``) or too small input.
    """
    if isinstance(source, (str, os.PathLike)):
        image = _from_pil(_open_path(Path(source), what, max_pixels))
    elif isinstance(source, Image.Image):
        _check_pixels(source, what, max_pixels)
        image = _from_pil(source)
    elif isinstance(source, np.ndarray):
        image = _from_numpy(source, what)
    elif isinstance(source, Tensor):
        image = _from_tensor(source, what)
    else:
        raise ImageError(f"{what}: can't read a {type(source).__name__}; pass a path, PIL image, numpy array or tensor")
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise ImageError(f"{what}: {width}x{height} is too small; each side must be at least {MIN_SIDE} pixels")
    return image


def size_for_long_side(width: int, height: int, long_side: int) -> tuple[int, int]:
    """(width, height) scaled so that the longer side is ``long_side``, each side at least 1."""
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize(image: Tensor, width: int, height: int) -> Tensor:
    """Resize ``(B, C, H, W)`` to ``height x width`` (antialiased bicubic when shrinking)."""
    if image.shape[-2:] == (height, width):
        return image
    shrinking = height < image.shape[-2] or width < image.shape[-1]
    out = F.interpolate(image, size=(height, width), mode="bicubic", align_corners=False, antialias=shrinking)
    return out.clamp(0, 1)


def to_pil(rgb: Tensor, alpha: Tensor | None = None) -> Image.Image:
    """``(1, 3, H, W)`` in [0, 1] (and optional ``(1, 1, H, W)`` alpha) to an 8-bit PIL image."""
    planes = rgb if alpha is None else torch.cat([rgb, resize(alpha, rgb.shape[-1], rgb.shape[-2])], dim=1)
    array = (planes[0].detach().float().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(array, "RGB" if alpha is None else "RGBA")
