import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from style_core.errors import OutputError
from style_core.output import check_output, read_recipe, save_image

RECIPE = {"settings": {"size": 64, "seed": 3}, "weights": {"source": "offline"}}


def _png_chunks(data: bytes) -> dict[bytes, list[bytes]]:
    chunks, pos = {}, 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunks.setdefault(kind, []).append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return chunks


def test_png_keeps_the_recipe(tmp_path: Path):
    path = save_image(tmp_path / "r.png", torch.rand(1, 3, 10, 12), recipe=RECIPE)
    assert read_recipe(path) == RECIPE
    assert Image.open(path).size == (12, 10)


def test_16_bit_png_is_exact_and_readable(tmp_path: Path):
    rgb = torch.rand(1, 3, 9, 7, dtype=torch.float64).float()
    alpha = torch.rand(1, 1, 9, 7)
    path = save_image(tmp_path / "r16.png", rgb, alpha, recipe=RECIPE, bit_depth=16)
    data = path.read_bytes()
    chunks = _png_chunks(data)
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert (width, height, depth, color_type) == (7, 9, 16, 6)
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    rows = np.frombuffer(raw, np.uint8).reshape(9, 1 + 7 * 4 * 2)[:, 1:]
    pixels = rows.copy().view(">u2").reshape(9, 7, 4)
    expected = (torch.cat([rgb, alpha], 1)[0].permute(1, 2, 0) * 65535).round().numpy()
    assert np.array_equal(pixels, expected.astype(np.uint16))
    assert read_recipe(path) == RECIPE
    Image.open(path).load()  # a valid PNG for other readers too


def test_16_bit_tiff_is_exact(tmp_path: Path):
    rgb = torch.rand(1, 3, 5, 6)
    path = save_image(tmp_path / "r16.tif", rgb, recipe=RECIPE, bit_depth=16)
    data = path.read_bytes()
    assert data[:4] == b"II*\0"
    (ifd,) = struct.unpack("<I", data[4:8])
    (count,) = struct.unpack("<H", data[ifd : ifd + 2])
    tags = {}
    for i in range(count):
        tag, kind, n, value = struct.unpack("<HHII", data[ifd + 2 + 12 * i : ifd + 14 + 12 * i])
        tags[tag] = value & 0xFFFF if kind == 3 and n == 1 else value
    assert (tags[256], tags[257], tags[277]) == (6, 5, 3)
    pixels = np.frombuffer(data[tags[273] : tags[273] + tags[279]], "<u2").reshape(5, 6, 3)
    assert np.array_equal(pixels, (rgb[0].permute(1, 2, 0) * 65535).round().numpy().astype(np.uint16))
    assert b'"seed": 3' in data


def test_jpeg_and_unknown_formats(tmp_path: Path):
    save_image(tmp_path / "r.jpg", torch.rand(1, 3, 8, 8), torch.ones(1, 1, 8, 8), recipe=RECIPE)
    assert Image.open(tmp_path / "r.jpg").mode == "RGB"
    with pytest.raises(OutputError, match=re.escape("can't be written as '.jpg'; use one of .png, .tif")):
        save_image(tmp_path / "r.jpg", torch.rand(1, 3, 8, 8), bit_depth=16)
    with pytest.raises(OutputError, match=re.escape("use one of .jpeg, .jpg, .png")):
        save_image(tmp_path / "r.xyz", torch.rand(1, 3, 8, 8))


def test_a_write_that_fails_part_way_leaves_the_old_file_whole(tmp_path: Path):
    """A file size limit (EFBIG) in a child process: the write fails after some bytes."""
    path = tmp_path / "result.png"
    save_image(path, torch.zeros(1, 3, 8, 8), recipe=RECIPE)
    before = path.read_bytes()
    script = f"""
import resource, signal, sys, torch
from style_core.errors import OutputError
from style_core.output import save_image
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    save_image({str(path)!r}, torch.rand(1, 3, 256, 256))
except OutputError as exc:
    print(exc)
    sys.exit(3)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith(f"can't write '{path}': File too large; ")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]  # no temporary file left


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t, "is a folder; give a file name"),
        (lambda t: t / "missing" / "r.png", "the folder '.*missing' does not exist"),
        (lambda t: t / "r.gif", "8-bit pictures can't be written as '.gif'"),
    ],
)
def test_check_output_says_what_is_wrong_before_any_work(tmp_path: Path, make, message):
    with pytest.raises(OutputError, match=message):
        check_output(make(tmp_path))
