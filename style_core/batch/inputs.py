"""The pictures a batch paints: files, folders and globs, each with its result's path."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImageError, UsageError

#: Files taken from a folder or a glob: the suffixes Pillow reads that photos come in.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".jfif"})
#: Result types (suffix without the dot) and the bit depths they take.
RESULT_TYPES = {"png": (8, 16), "jpg": (8,), "webp": (8,), "tif": (8, 16)}


@dataclass(frozen=True)
class BatchItem:
    """One picture of the batch: where it is read and where its result goes."""

    source: Path
    output: Path


def _glob_root(pattern: str) -> Path:
    """The folder above a glob's first wildcard: results keep the folders below it."""
    fixed = []
    for part in Path(pattern).parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path()


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def collect_inputs(inputs: Sequence[str | os.PathLike], out_dir: Path, result_type: str = "png") -> list[BatchItem]:
    """The pictures named by ``inputs`` (files, folders, globs), each with its result's path in
    ``out_dir``. Results already in ``out_dir`` are never taken as inputs. Raises
    :class:`ImageError` for an input that names nothing and :class:`UsageError` when two
    pictures would be written to the same result."""
    from ..image import regular_file  # here: `style-core batch --help` needs no torch

    out_root = out_dir.resolve()
    items: dict[Path, BatchItem] = {}
    taken: dict[Path, Path] = {}
    for given in map(str, inputs):
        path = Path(given)
        if glob.has_magic(given):
            root = _glob_root(given)
            found = sorted(Path(p) for p in glob.glob(given, recursive=True))
            found = [p for p in found if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
            if not found:
                raise ImageError(f"input '{given}' matches no pictures ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif path.is_dir():
            root, found = path, _images_in(path)
            if not found:
                raise ImageError(f"input folder '{given}' holds no pictures ({', '.join(sorted(IMAGE_SUFFIXES))})")
        elif path.exists():
            regular_file(path, f"input '{given}'")  # not a device or a pipe, not empty, not too big
            root, found = path.parent, [path]
        else:
            raise ImageError(f"input '{given}': no such file or folder")
        for source in found:
            resolved = source.resolve()
            if resolved in items or resolved.is_relative_to(out_root):
                continue
            output = out_dir / source.relative_to(root).with_suffix(f".{result_type}")
            key = output.resolve()
            if key in taken:
                raise UsageError(
                    f"'{taken[key]}' and '{source}' would both be written to '{output}'",
                    hint="give them in separate runs, or rename one",
                )
            taken[key] = source
            items[resolved] = BatchItem(source, output)
    return list(items.values())
