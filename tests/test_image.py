import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from style_core.errors import ImageError
from style_core.image import load_image, resize, size_for_long_side, to_pil


def _save(image: Image.Image, path: Path, **kw) -> Path:
    image.save(path, **kw)
    return path


def test_rgb_path_numpy_tensor_agree(tmp_path: Path, gradient_rgb):
    from_path = load_image(_save(Image.fromarray(gradient_rgb), tmp_path / "a.png"))
    from_numpy = load_image(gradient_rgb)
    from_tensor = load_image(torch.from_numpy(gradient_rgb).permute(2, 0, 1))
    assert from_path.rgb.shape == (1, 3, 40, 64)
    torch.testing.assert_close(from_path.rgb, from_numpy.rgb)
    torch.testing.assert_close(from_path.rgb, from_tensor.rgb)
    assert from_path.alpha is None


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "1", "LA", "RGBA", "P+transparency"])
def test_modes_become_rgb_and_alpha_is_kept_apart(tmp_path: Path, gradient_rgb, mode):
    image = Image.fromarray(gradient_rgb).convert(mode.split("+")[0])
    options = {"transparency": 0} if mode.endswith("transparency") else {}
    suffix = ".jpg" if mode == "CMYK" else ".png"
    loaded = load_image(_save(image, tmp_path / f"x{suffix}", **options))
    assert loaded.rgb.shape == (1, 3, 40, 64)
    assert loaded.rgb.min() >= 0 and loaded.rgb.max() <= 1
    assert (loaded.alpha is not None) == (mode in ("LA", "RGBA", "P+transparency"))


def test_alpha_values_are_carried(tmp_path: Path, gradient_rgb):
    rgba = np.dstack([gradient_rgb, np.full((40, 64), 128, np.uint8)])
    loaded = load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "a.png"))
    assert loaded.alpha.shape == (1, 1, 40, 64)
    assert loaded.alpha.unique().tolist() == [pytest.approx(128 / 255)]
    assert to_pil(loaded.rgb, loaded.alpha).mode == "RGBA"


def test_16_bit_greyscale_keeps_its_range(tmp_path: Path):
    values = (np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 64).astype(np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "g16.png")
    loaded = load_image(path)
    assert loaded.rgb[0, 0, -1, -1].item() == pytest.approx(values[-1, -1] / 65535, abs=1e-6)
    assert loaded.rgb.shape == (1, 3, 32, 32)


def test_exif_orientation_is_applied(tmp_path: Path, gradient_rgb):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = _save(Image.fromarray(gradient_rgb), tmp_path / "rot.jpg", exif=exif)
    assert load_image(path).size == (40, 64)


def test_missing_empty_and_non_image_files(tmp_path: Path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.png", "content image")
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty"):
        load_image(tmp_path / "empty.png")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ImageError, match="not an image"):
        load_image(tmp_path / "notes.txt")
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


def test_truncated_file_is_reported_as_corrupt(tmp_path: Path, gradient_rgb):
    buffer = io.BytesIO()
    Image.fromarray(gradient_rgb).save(buffer, "PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="corrupt or truncated"):
        load_image(tmp_path / "cut.png")


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path):
    path = _save(Image.new("1", (6000, 6000)), tmp_path / "bomb.png")
    assert path.stat().st_size < 100_000
    with pytest.raises(ImageError, match="more than the limit"):
        load_image(path, max_pixels=10_000_000)


def test_tiny_images_and_bad_arrays():
    with pytest.raises(ImageError, match="too small"):
        load_image(Image.new("RGB", (1, 1)))
    with pytest.raises(ImageError, match="shape"):
        load_image(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ImageError, match="NaN"):
        load_image(np.full((20, 20, 3), np.nan, np.float32))
    with pytest.raises(ImageError, match="can't read a int"):
        load_image(3)


def test_size_for_long_side_and_resize():
    assert size_for_long_side(1024, 768, 512) == (512, 384)
    assert size_for_long_side(300, 451, 128) == (85, 128)
    out = resize(torch.rand(1, 3, 40, 64), 32, 20)
    assert out.shape == (1, 3, 20, 32) and out.min() >= 0 and out.max() <= 1
