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


# -- how pixel values are read: by the storage type when it says how many bits, else by the values


@pytest.fixture
def photo_uint8(gradient_rgb) -> np.ndarray:
    return gradient_rgb


def _same_as_uint8(loaded, array: np.ndarray) -> None:
    torch.testing.assert_close(loaded.rgb, load_image(array.astype(np.uint8)).rgb, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.uint32])
def test_whole_numbers_in_0_255_are_8_bit(photo_uint8, dtype):
    _same_as_uint8(load_image(photo_uint8.astype(dtype)), photo_uint8)
    tensor = torch.from_numpy(photo_uint8.astype(np.int64)).permute(2, 0, 1)
    _same_as_uint8(load_image(tensor), photo_uint8)
    _same_as_uint8(load_image(tensor.int()), photo_uint8)


def test_whole_numbers_above_255_are_16_bit_and_uint16_tensors_too(photo_uint8):
    wide = photo_uint8.astype(np.int32) * 257  # 0-65535
    expected = load_image(wide.astype(np.uint16)).rgb
    torch.testing.assert_close(load_image(wide).rgb, expected)
    torch.testing.assert_close(load_image(torch.from_numpy(wide.astype(np.uint16)).permute(2, 0, 1)).rgb, expected)
    _same_as_uint8(load_image(wide.astype(np.uint16)), photo_uint8)


@pytest.mark.parametrize("values", [np.array([-1, 200]), np.array([0, 70_000])])
def test_whole_numbers_out_of_16_bits_are_refused(values):
    array = np.resize(values, (20, 20)).astype(np.int64)
    with pytest.raises(ImageError, match=r"from -?\d+ to \d+; expected 0-255 \(8-bit\) or 0-65535 \(16-bit\)"):
        load_image(array)


@pytest.mark.parametrize("kind", ["float32 array", "float64 array", "float tensor", "half tensor"])
def test_floats_in_0_255_are_refused_not_clipped_to_white(photo_uint8, kind):
    array = photo_uint8.astype(np.float64)
    source = {
        "float32 array": array.astype(np.float32),
        "float64 array": array,
        "float tensor": torch.from_numpy(array).permute(2, 0, 1).float(),
        "half tensor": torch.from_numpy(array).permute(2, 0, 1).half(),
    }[kind]
    with pytest.raises(
        ImageError, match=r"float values from 0 to \d+; floats must be in \[0, 1\]; .*divide them by 255"
    ):
        load_image(source, "content image")


def test_floats_in_minus_1_1_are_refused_with_the_mapping():
    array = np.linspace(-1, 1, 20 * 30 * 3, dtype=np.float32).reshape(20, 30, 3)
    with pytest.raises(ImageError, match=r"\(x \+ 1\) / 2"):
        load_image(array)


def test_floats_in_0_1_are_read_and_a_slight_overshoot_is_clipped(photo_uint8):
    unit = photo_uint8.astype(np.float32) / 255
    _same_as_uint8(load_image(unit), photo_uint8)
    from_bfloat16 = load_image(torch.from_numpy(unit).permute(2, 0, 1).bfloat16())  # no numpy twin: via float64
    torch.testing.assert_close(from_bfloat16.rgb, load_image(photo_uint8).rgb, rtol=0, atol=1 / 255)
    overshoot = load_image(unit * 1.05 - 0.02)
    assert overshoot.rgb.min() == 0 and overshoot.rgb.max() == 1


def test_bool_arrays_are_black_and_white():
    mask = np.zeros((20, 30), bool)
    mask[:, 15:] = True
    loaded = load_image(mask)
    assert loaded.rgb[0, :, 0, 0].tolist() == [0, 0, 0] and loaded.rgb[0, :, 0, -1].tolist() == [1, 1, 1]


def test_pil_mode_i_of_an_8_bit_photo_is_8_bit_not_black(photo_uint8, tmp_path: Path):
    grey = Image.fromarray(photo_uint8).convert("L")
    expected = load_image(grey).rgb
    torch.testing.assert_close(load_image(grey.convert("I")).rgb, expected)
    path = _save(grey.convert("I"), tmp_path / "i32.tif")
    torch.testing.assert_close(load_image(path).rgb, expected)
    sixteen = Image.fromarray(np.asarray(grey).astype(np.int32) * 257, "I")  # 16-bit values held in mode I
    torch.testing.assert_close(load_image(sixteen).rgb, expected)


def test_pil_mode_f_must_hold_0_1(photo_uint8):
    grey = Image.fromarray(photo_uint8).convert("L")
    with pytest.raises(ImageError, match=r"mode F\): float values from \d+ to \d+"):
        load_image(grey.convert("F"))
    unit = Image.fromarray(np.asarray(grey, np.float32) / 255, "F")
    torch.testing.assert_close(load_image(unit).rgb, load_image(grey).rgb)


def test_values_that_are_no_numbers_are_refused():
    with pytest.raises(ImageError, match="complex64"):
        load_image(np.zeros((20, 20), np.complex64))
    with pytest.raises(ImageError, match="object"):
        load_image(np.full((20, 20), None, object))


def test_errors_say_what_to_do_not_which_library(tmp_path: Path):
    (tmp_path / "notes.png").write_text("hello")
    with pytest.raises(ImageError) as error:
        load_image(tmp_path / "notes.png")
    assert "Pillow" not in str(error.value) and "save it as PNG, JPEG" in str(error.value)
    with pytest.raises(ImageError, match="can't be read"):
        load_image(tmp_path / ("x" * 5000 + ".png"))
