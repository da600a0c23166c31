"""Writing results: PNG, JPEG, WebP, TIFF in 8 bits; PNG and TIFF in 16 bits per channel.

The recipe (every setting, the weight source, versions, seed) is stored in the file as JSON
under :data:`RECIPE_KEY`: a PNG text chunk, the TIFF ImageDescription, or a JPEG comment.
Pillow cannot write 16-bit RGB, so those two formats are written here directly.

Every file is written to a temporary name in the same folder and renamed over the target
when complete (:func:`replacing`): a write that fails part-way (a full disk) leaves what
was there before untouched. :func:`check_output` refuses, before any work, a target that
can't be written: it creates a temporary file there (:func:`check_writable`), so a folder
that only looks writable (``/proc``, a read-only mount) is found out before the run, and
the hint follows the reason the system gave (:func:`hint_for`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, PngImagePlugin
from torch import Tensor

from .errors import ImageError, OutputError
from .image import DEFAULT_MAX_PIXELS, open_picture, resize, to_pil

RECIPE_KEY = "style_core"
FORMATS_8 = {".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"}
FORMATS_16 = {".png", ".tif", ".tiff"}
#: Pillow's format name for each suffix (the temporary file's name says nothing).
PIL_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}


#: The way out for each reason a file can't be written (``errno``); others get the generic one.
_ERRNO_HINTS = {
    errno.ENOSPC: "free some space on that disk, or choose another folder",
    errno.EDQUOT: "free some space (your disk quota is full), or choose another folder",
    errno.EROFS: "that folder is on a read-only file system: choose another folder",
    errno.EACCES: "you may not write there: choose another folder, or change its permissions",
    errno.EPERM: "you may not write there: choose another folder, or change its permissions",
    errno.ENOENT: "that folder can't hold files (a system folder such as /proc?): choose another folder",
    errno.ENOTDIR: "part of that path is a file, not a folder: choose another folder",
    errno.ENAMETOOLONG: "the name is too long: choose a shorter one",
    errno.EFBIG: "the file is too large for that disk or for your limits (ulimit -f): choose a smaller size",
}


def hint_for(error: OSError) -> str:
    """The way out of an :class:`OSError` met while writing, by its ``errno``."""
    return _ERRNO_HINTS.get(error.errno, "choose another folder")


def _temporary(path: Path) -> Path:
    """The temporary name a file is written under before it is renamed to ``path`` (its start
    only: a name near the system's limit must still leave room)."""
    return path.with_name(f".{path.name[:100]}.{secrets.token_hex(4)}.part")


def check_writable(folder: Path, what: str, name: str = "style-core-check") -> None:
    """:class:`OutputError` unless a file can be created in ``folder``: the temporary file of
    one called ``name`` (as :func:`replacing` names it) is created and removed, which finds out
    what a permission check can't (``/proc``, a read-only mount, a full quota, a name too long)."""
    probe = _temporary(folder / name)
    try:
        if len(os.fsencode(name)) > os.pathconf(folder, "PC_NAME_MAX"):
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG))
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise OutputError(f"{what}: can't write into '{folder}' ({exc.strerror or exc})", hint=hint_for(exc)) from exc
    with contextlib.suppress(OSError):
        probe.unlink()


def output_folder(folder: str | os.PathLike, what: str) -> Path:
    """``folder`` created if need be (with its parents) and checked to take files; else
    :class:`OutputError` saying why, with the way out."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{what} '{folder}' is a file, not a folder", hint="give a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{what} '{folder}' can't be created ({exc.strerror or exc})", hint=hint_for(exc)) from exc
    check_writable(folder, f"{what} '{folder}'")
    return folder


def _is_folder(path: Path) -> bool:
    """``path.is_dir()``, but False for a path the system can't even look up (a name too long)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def check_output(path: str | Path, *, bit_depth: int = 8, inputs: Sequence[object] = ()) -> Path:
    """``path`` if a result can be written there; else :class:`OutputError` saying why and what to do.

    Checks the type (by suffix, for the bit depth), that it is not a folder, that its folder
    exists and takes a new file (:func:`check_writable`), and that it is none of ``inputs``
    (paths among them).
    """
    path = Path(path)
    allowed = FORMATS_16 if bit_depth == 16 else FORMATS_8
    if path.suffix.lower() not in allowed and not _is_folder(path):
        raise OutputError(
            f"output '{path}': {bit_depth}-bit pictures can't be written as '{path.suffix or path.name}'",
            hint=f"use one of {', '.join(sorted(allowed))}",
        )
    if _is_folder(path):
        raise OutputError(f"output '{path}' is a folder", hint="give a file name such as result.png")
    folder = path.parent
    if not _is_folder(folder):
        raise OutputError(f"output '{path}': the folder '{folder}' does not exist", hint="create it first")
    check_writable(folder, f"output '{path}'", path.name)
    for item in inputs:
        if isinstance(item, (str, os.PathLike)) and path.exists() and Path(item).exists() and path.samefile(item):
            raise OutputError(f"output '{path}' is one of the input images", hint="choose another name")
    return path


@contextlib.contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """A fresh temporary path beside ``path``, renamed onto it when the block succeeds and
    removed when it fails; an :class:`OSError` becomes an :class:`OutputError` whose hint
    follows its reason (:func:`hint_for`)."""
    path = Path(path)
    if "\0" in str(path):  # the system refuses such a name with a ValueError
        raise OutputError(f"can't write {str(path)!r}: the name holds a NUL character", hint="choose another name")
    temporary = _temporary(path)
    try:
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))  # the umask applies
        yield temporary
        os.replace(temporary, path)
    except OSError as exc:
        raise OutputError(f"can't write '{path}': {exc.strerror or exc}", hint=hint_for(exc)) from exc
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def _is_planes(planes: object, channels: int) -> bool:
    """Whether ``planes`` is a (1, ``channels``, H, W) tensor."""
    return isinstance(planes, Tensor) and planes.ndim == 4 and tuple(planes.shape[:2]) == (1, channels)


def _planes(rgb: Tensor, alpha: Tensor | None) -> Tensor:
    if alpha is None:
        return rgb
    return torch.cat([rgb, resize(alpha, rgb.shape[-1], rgb.shape[-2])], dim=1)


def _uint16_hwc(rgb: Tensor, alpha: Tensor | None) -> np.ndarray:
    planes = _planes(rgb, alpha)[0].detach().float().clamp(0, 1).cpu()
    return (planes * 65535).round().to(torch.int32).permute(1, 2, 0).numpy().astype(np.uint16)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png16(path: Path, pixels: np.ndarray, text: dict[str, str]) -> None:
    """Write ``pixels`` (H, W, 3 or 4) uint16 as a 16-bit RGB(A) PNG with iTXt chunks."""
    height, width, channels = pixels.shape
    color_type = {3: 2, 4: 6}[channels]
    rows = pixels.astype(">u2").reshape(height, width * channels).view(np.uint8)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()
    chunks = [_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0))]
    for key, value in text.items():
        chunks.append(_png_chunk(b"iTXt", key.encode("latin-1") + b"\0\0\0\0\0" + value.encode("utf-8")))
    chunks += [_png_chunk(b"IDAT", zlib.compress(raw, 6)), _png_chunk(b"IEND", b"")]
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(chunks))


def write_tiff16(path: Path, pixels: np.ndarray, description: str) -> None:
    """Write ``pixels`` (H, W, 3 or 4) uint16 as an uncompressed little-endian 16-bit TIFF."""
    height, width, channels = pixels.shape
    data = pixels.astype("<u2").tobytes()
    desc = (description.encode("utf-8") + b"\0").ljust(5, b"\0")  # > 4 bytes: stored at an offset
    bits_offset = 8
    desc_offset = bits_offset + 2 * channels
    data_offset = desc_offset + len(desc) + (len(desc) % 2)
    ifd_offset = data_offset + len(data)
    short, long_, ascii_ = 3, 4, 2
    entries = [
        (256, long_, 1, width),
        (257, long_, 1, height),
        (258, short, channels, bits_offset),
        (259, short, 1, 1),  # no compression
        (262, short, 1, 2),  # RGB
        (270, ascii_, len(desc), desc_offset),
        (273, long_, 1, data_offset),
        (277, short, 1, channels),
        (278, long_, 1, height),
        (279, long_, 1, len(data)),
        (284, short, 1, 1),  # chunky
    ]
    if channels == 4:
        entries.append((338, short, 1, 2))  # unassociated alpha
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<HH", value, 0) if kind == short and count == 1 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    ifd += struct.pack("<I", 0)
    header = b"II*\0" + struct.pack("<I", ifd_offset)
    body = struct.pack(f"<{channels}H", *([16] * channels)) + desc + b"\0" * (len(desc) % 2) + data
    path.write_bytes(header + body + ifd)


def save_image(
    path: str | Path,
    rgb: Tensor,
    alpha: Tensor | None = None,
    *,
    recipe: dict | None = None,
    bit_depth: int = 8,
) -> Path:
    """Save ``rgb`` (1, 3, H, W) in [0, 1], with optional alpha (1, 1, h, w), to ``path``.

    The format follows the suffix. ``bit_depth=16`` is for ``.png`` and ``.tif``/``.tiff``.
    The file appears complete or not at all (see :func:`replacing`).
    """
    if bit_depth not in (8, 16):
        raise OutputError(f"bit depth must be 8 or 16; got {bit_depth!r}")
    if not isinstance(path, (str, os.PathLike)):
        raise OutputError(f"save_image: the path must be text or a Path; got {path!r:.60}", hint="pass where to write")
    for name, planes, channels in (("rgb", rgb, 3), ("alpha", alpha, 1)):
        if not (planes is None and name == "alpha") and not _is_planes(planes, channels):
            shape = tuple(planes.shape) if hasattr(planes, "shape") else type(planes).__name__
            raise ImageError(
                f"{name} must be a (1, {channels}, H, W) tensor; got {shape}",
                hint="pass the result's .rgb and .alpha, or save a Result with result.save(path)",
            )
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (FORMATS_16 if bit_depth == 16 else FORMATS_8):
        check_output(path, bit_depth=bit_depth)  # raises, naming the allowed types
    text = json.dumps(recipe or {}, sort_keys=True)
    with replacing(path) as temporary:
        if bit_depth == 16:
            pixels = _uint16_hwc(rgb, alpha)
            if suffix == ".png":
                write_png16(temporary, pixels, {RECIPE_KEY: text})
            else:
                write_tiff16(temporary, pixels, text)
        else:
            _save_8bit(to_pil(rgb, alpha), temporary, suffix, text)
    return path


def save_preview(image: Image.Image, path: str | Path) -> Path:
    """Write a preview (a PIL image) as PNG, through a temporary file like every result."""
    path = Path(path)
    with replacing(path) as temporary:
        image.save(temporary, format="PNG")
    return path


def _save_8bit(image: Image.Image, path: Path, suffix: str, text: str) -> None:
    kind = PIL_FORMATS[suffix]
    if kind == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt(RECIPE_KEY, text)
        image.save(path, format=kind, pnginfo=info)
    elif kind == "JPEG":
        image.convert("RGB").save(path, format=kind, quality=95, comment=text.encode("utf-8"))
    elif kind == "TIFF":
        image.save(path, format=kind, description=text)
    else:
        image.save(path, format=kind, quality=95)


def read_recipe(path: str | Path) -> dict:
    """The recipe stored in a PNG written by :func:`save_image` (empty if there is none).

    Raises :class:`~style_core.errors.ImageError` for a file that is missing or no picture,
    and for a recipe that is not a JSON object (damaged, or written by something else)."""
    if not isinstance(path, (str, os.PathLike)):
        raise ImageError(f"read_recipe: can't read a {type(path).__name__}", hint="pass the path of a result")
    what = f"picture '{path}'"
    with open_picture(Path(path), what, DEFAULT_MAX_PIXELS) as image:
        text = image.text.get(RECIPE_KEY) if hasattr(image, "text") else None
    if text is None:
        return {}
    try:
        recipe = json.loads(text)
    except ValueError as exc:
        raise ImageError(
            f"{what}: its recipe is not valid JSON ({exc})", hint="it was damaged or written by another program"
        ) from exc
    if not isinstance(recipe, dict):
        raise ImageError(
            f"{what}: its recipe is a {type(recipe).__name__}, not a recipe", hint="it was written by another program"
        )
    return recipe
