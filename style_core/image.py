"""Reading images from paths, PIL images, numpy arrays or tensors into ``(1, 3, H, W)`` RGB in [0, 1].

EXIF orientation is applied; greyscale, palette, RGBA, CMYK and 16-bit images are handled;
an alpha channel is kept apart as ``(1, 1, H, W)`` so the caller can carry it to the output.

How pixel values are read: the storage type decides when it says how many bits it holds,
otherwise the values do, by the rules below; values that fit none of them (0-255 floats,
negative numbers) are refused with the range found and the way to scale them, never clipped.

- ``uint8``: 0-255. ``uint16``: 0-65535. ``bool``: False black, True white.
- Other whole-number types (``int8``-``int64``, ``uint32``, ``uint64``; torch's integer tensors):
  values that all fit in 0-255 are 8-bit, values up to 65535 are 16-bit; negative or larger
  values are refused.
- Floats (numpy, tensors, PIL mode ``F``): [0, 1]. A slight overshoot (up to
  :data:`FLOAT_SLACK`, as resampling leaves) is clipped; anything else (0-255 floats, [-1, 1]
  floats) is refused with the range found and the way to scale it.
- PIL modes ``I;16*``: 16-bit. Mode ``I`` (32-bit integers, Pillow's mode both for some 16-bit
  files and for ``convert("I")`` of an 8-bit picture): by the values, as other whole numbers.
"""

from __future__ import annotations

import io
import math
import numbers
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from .errors import ImageError, InvalidSettingError

ImageInput = str | os.PathLike | Image.Image | np.ndarray | Tensor

#: Images with more pixels than this are refused before they are decoded (decompression bombs).
DEFAULT_MAX_PIXELS = 64_000_000
#: Picture files bigger than this are refused before they are read, in bytes (64 Mpx of 16-bit
#: RGBA, uncompressed, is 512 MiB).
MAX_FILE_BYTES = 1 << 30
#: The smallest width or height accepted for an input image, and made for an output.
MIN_SIDE = 16
#: How far float values may stray outside [0, 1] (resampling overshoot) before they are refused.
FLOAT_SLACK = 0.1
#: What to do with a file that can't be decoded.
READABLE_FORMATS_HINT = "save it as PNG, JPEG, WebP or TIFF (any image editor can) and try again"


@dataclass
class RGBImage:
    """``rgb``: (1, 3, H, W) float32 in [0, 1]; ``alpha``: (1, 1, H, W) or None."""

    rgb: Tensor
    alpha: Tensor | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[-1], self.rgb.shape[-2]


def regular_file(path: Path, what: str, max_bytes: int | None = MAX_FILE_BYTES) -> int:
    """The size in bytes of the file at ``path``; :class:`ImageError` naming ``what`` unless it is
    a regular, non-empty file of at most ``max_bytes`` (None: any size). A device (``/dev/zero``),
    a FIFO or a socket is refused without being opened, so nothing blocks or runs away."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ImageError(f"{what}: no such file") from None
    except (OSError, ValueError) as exc:  # permissions, a name too long or holding a NUL byte
        raise ImageError(f"{what}: can't be read ({getattr(exc, 'strerror', None) or exc})") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(f"{what}: is a folder, not a file", hint="name a file inside it")
    if not stat.S_ISREG(info.st_mode):
        raise ImageError(
            f"{what}: is not a regular file (a device, a pipe or a socket)", hint="save what it holds to a file first"
        )
    if info.st_size == 0:
        raise ImageError(f"{what}: the file is empty (0 bytes)")
    if max_bytes is not None and info.st_size > max_bytes:
        raise ImageError(
            f"{what}: {info.st_size:,} bytes is more than the limit of {max_bytes:,}", hint="shrink it first"
        )
    return info.st_size


def read_file(path: Path, what: str, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see :func:`regular_file`). The
    file is opened without blocking and checked again once open, and no more than
    ``max_bytes`` are read even if it grows meanwhile."""
    regular_file(path, what, max_bytes)
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ImageError(f"{what}: can't be read ({exc.strerror or exc})") from exc
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):  # swapped for something else since the check
            raise ImageError(f"{what}: is not a regular file", hint="save what it holds to a file first")
        try:
            data = file.read(max_bytes + 1)
        except OSError as exc:
            raise ImageError(f"{what}: can't be read ({exc.strerror or exc})") from exc
    if len(data) > max_bytes:
        raise ImageError(f"{what}: more than the limit of {max_bytes:,} bytes", hint="shrink it first")
    return data


def open_picture(source: Path | bytes, name: str, max_pixels: int) -> Image.Image:
    """A picture file (a path, or its bytes) decoded by Pillow; :class:`ImageError` naming
    ``name`` for a file that is missing, empty, not a regular file, not a picture, too large
    or truncated. A path is read by :func:`read_file` (at most :data:`MAX_FILE_BYTES`)."""
    data = source if isinstance(source, bytes) else read_file(source, name)
    if not data:
        raise ImageError(f"{name}: the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():  # the pixels are counted below, against max_pixels
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ImageError(
            f"{name}: not an image, or in a format that can't be read here", hint=READABLE_FORMATS_HINT
        ) from exc
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{name}: too many pixels ({exc})", hint="shrink it first") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"{name}: can't be read ({exc})", hint=READABLE_FORMATS_HINT) from exc
    _check_pixels(image.size, name, max_pixels)
    _load(image, name)
    return image


def _load(image: Image.Image, name: str) -> None:
    """Decode ``image`` now: :class:`ImageError` for a truncated, corrupt or closed one."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        if "closed image" in str(exc):  # Pillow's ValueError for any use of a closed image
            raise ImageError(
                f"{name}: the PIL image is closed", hint="pass it before closing it, or open it again"
            ) from exc
        raise ImageError(
            f"{name}: the file is corrupt or truncated ({exc})", hint="use another copy, or open and save it again"
        ) from exc


def checked_pil(image: Image.Image, what: str, max_pixels: int) -> Image.Image:
    """A PIL image a caller passed, decoded now: :class:`ImageError` if it has more than
    ``max_pixels`` or is closed, truncated or corrupt (Pillow opens files lazily)."""
    _check_pixels(image.size, what, max_pixels)
    _load(image, what)
    return image


def check_max_pixels(max_pixels: object) -> int:
    """``max_pixels`` as an int, or :class:`InvalidSettingError` unless it is a whole number from 1."""
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, numbers.Real) or not math.isfinite(max_pixels):
        raise InvalidSettingError(f"max_pixels must be a whole number of pixels from 1; got {max_pixels!r}")
    if max_pixels < 1 or not float(max_pixels).is_integer():
        raise InvalidSettingError(f"max_pixels must be a whole number of pixels from 1; got {max_pixels!r}")
    return int(max_pixels)


def _check_pixels(size: tuple[int, int], what: str, max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageError(
            f"{what}: {width}x{height} = {width * height:,} pixels is more than the limit of "
            f"{max_pixels:,}; shrink it first"
        )


def _check_sides(size: tuple[int, int], what: str) -> None:
    width, height = size
    if min(width, height) < MIN_SIDE:
        raise ImageError(f"{what}: {width}x{height} is too small; each side must be at least {MIN_SIDE} pixels")


def _float_hint(low: float, high: float) -> str:
    if low >= 0 and high <= 255:
        return "these look like 8-bit values: divide them by 255, or pass a uint8 array"
    if low >= -1 - FLOAT_SLACK and high <= 1 + FLOAT_SLACK:
        return "these look like values in [-1, 1]: map them with (x + 1) / 2"
    return "scale them to [0, 1], or pass whole numbers as uint8 (0-255) or uint16 (0-65535)"


def unit_values(values: np.ndarray, what: str) -> np.ndarray:
    """Pixel ``values`` of any shape and numeric dtype as float32 in [0, 1], read by the rules
    of this module's docstring; :class:`ImageError` for values that can't be read unambiguously."""
    kind, bits = values.dtype.kind, values.dtype.itemsize * 8
    if kind == "b":
        return values.astype(np.float32)
    if kind == "u" and bits in (8, 16):
        return values.astype(np.float32) / (255.0 if bits == 8 else 65535.0)
    if kind in "iu":
        low, high = int(values.min()), int(values.max())
        if low < 0 or high > 65535:
            raise ImageError(
                f"{what}: whole-number values from {low} to {high}; expected 0-255 (8-bit) or 0-65535 (16-bit)",
                hint="scale them into one of those ranges, or pass floats in [0, 1]",
            )
        return values.astype(np.float32) / (255.0 if high <= 255 else 65535.0)
    if kind == "f":
        if not np.isfinite(values).all():
            raise ImageError(f"{what}: holds NaN or infinite values", hint="replace them with numbers in [0, 1]")
        low, high = float(values.min()), float(values.max())
        if low < -FLOAT_SLACK or high > 1 + FLOAT_SLACK:
            raise ImageError(
                f"{what}: float values from {low:g} to {high:g}; floats must be in [0, 1]", hint=_float_hint(low, high)
            )
        return np.clip(values.astype(np.float32), 0.0, 1.0)
    raise ImageError(
        f"{what}: values of type {values.dtype}; expected whole numbers (uint8, uint16) or floats in [0, 1]"
    )


def _from_channels_last(values: np.ndarray, what: str, max_pixels: int) -> RGBImage:
    """``(H, W)`` or ``(H, W, C)`` with C in 1, 3, 4 (grey, RGB, RGBA) of any readable dtype."""
    if values.ndim == 2:
        values = values[..., None]
    height, width = values.shape[:2]
    _check_pixels((width, height), what, max_pixels)
    _check_sides((width, height), what)
    planes = torch.from_numpy(np.ascontiguousarray(unit_values(values, what))).permute(2, 0, 1).unsqueeze(0)
    if planes.shape[1] == 1:
        planes = planes.expand(-1, 3, -1, -1)
    alpha = planes[:, 3:4].contiguous() if planes.shape[1] == 4 else None
    return RGBImage(planes[:, :3].contiguous(), alpha)


def _from_pil(image: Image.Image, what: str, max_pixels: int) -> RGBImage:
    image = ImageOps.exif_transpose(image)
    if image.mode.startswith("I;16"):
        return _from_channels_last(np.array(image).astype(np.uint16), what, max_pixels)
    if image.mode in ("I", "F"):
        return _from_channels_last(np.array(image), f"{what} (mode {image.mode})", max_pixels)
    if image.mode == "La":  # premultiplied grey + alpha: Pillow converts it to nothing but LA
        image = image.convert("LA")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa") or "transparency" in image.info
    try:
        converted = image.convert("RGBA" if has_alpha else "RGB")
    except ValueError as exc:
        raise ImageError(
            f"{what}: Pillow image of mode {image.mode} can't be turned into RGB ({exc})",
            hint="convert it to RGB or RGBA first",
        ) from exc
    return _from_channels_last(np.array(converted), what, max_pixels)


def _from_numpy(array: np.ndarray, what: str, max_pixels: int) -> RGBImage:
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageError(
            f"{what}: numpy array of shape {array.shape}; expected (H, W), (H, W, 3) or (H, W, 4)",
            hint="for channels first (C, H, W), pass array.transpose(1, 2, 0)",
        )
    return _from_channels_last(array, what, max_pixels)


def _from_tensor(tensor: Tensor, what: str, max_pixels: int) -> RGBImage:
    shape = tuple(tensor.shape)
    t = tensor[0] if tensor.ndim == 4 and shape[0] == 1 else tensor
    if t.ndim == 2:
        t = t.unsqueeze(0)
    if tensor.ndim == 4 and shape[0] != 1:
        raise ImageError(f"{what}: tensor batch of {shape[0]}; pass one image (1, C, H, W)")
    if t.ndim != 3 or t.shape[0] not in (1, 3, 4):
        raise ImageError(f"{what}: tensor of shape {shape}; expected (C, H, W) with C in 1, 3, 4")
    try:
        t = t.detach().to("cpu")
        if t.is_floating_point():
            t = t.double()
        values = t.permute(1, 2, 0).numpy()
    except (RuntimeError, TypeError, NotImplementedError) as exc:
        raise ImageError(f"{what}: a {t.dtype} tensor can't be read ({exc})", hint="pass a plain CPU tensor") from exc
    return _from_channels_last(values, what, max_pixels)


def load_image(source: ImageInput, what: str = "image", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> RGBImage:
    """Read ``source`` into an :class:`RGBImage`. ``what`` names it in error messages.

    Pixel values are read as this module's docstring says. Raises
    :class:`~style_core.errors.ImageError` with a one-line reason for a missing, empty, corrupt,
    non-image, too large (more than ``max_pixels``), too small or ambiguous input, and for a
    path that is no regular file or a PIL image that is closed or truncated.
    """
    max_pixels = check_max_pixels(max_pixels)
    if isinstance(source, (str, os.PathLike)):
        what = f"{what} '{source}'"
        image = _from_pil(open_picture(Path(source), what, max_pixels), what, max_pixels)
    elif isinstance(source, Image.Image):
        image = _from_pil(checked_pil(source, what, max_pixels), what, max_pixels)
    elif isinstance(source, np.ndarray):
        image = _from_numpy(source, what, max_pixels)
    elif isinstance(source, Tensor):
        image = _from_tensor(source, what, max_pixels)
    else:
        raise ImageError(f"{what}: can't read a {type(source).__name__}; pass a path, PIL image, numpy array or tensor")
    _check_sides(image.size, what)
    return image


def size_for_long_side(width: int, height: int, long_side: int) -> tuple[int, int]:
    """(width, height) scaled so that the longer side is ``long_side``, each side at least 1."""
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def output_size(width: int, height: int, size: int, what: str = "the photo") -> tuple[int, int]:
    """The (width, height) of a result of long side ``size`` (0: the photo's own) made from a
    ``width`` x ``height`` photo. An output has the inputs' minimum side: a size that would make
    the short side less than :data:`MIN_SIDE` is refused (:class:`ImageError`), naming the
    smallest size that keeps it, rather than painting a sliver or changing the shape."""
    out = size_for_long_side(width, height, size or max(width, height))
    if min(out) >= MIN_SIDE:
        return out
    smallest = max(1, math.floor((MIN_SIDE - 0.5) * max(width, height) / min(width, height)))
    while min(size_for_long_side(width, height, smallest)) < MIN_SIDE:  # rounding decides the last pixel
        smallest += 1
    raise ImageError(
        f"size {size}: {what} ({width}x{height}) would be {out[0]}x{out[1]}; each side of a result must be "
        f"at least {MIN_SIDE} pixels",
        hint=f"choose a size of {smallest} or more",
    )


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
