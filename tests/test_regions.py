"""Regions: a style per mask, the rest of the photo kept, real runs at small sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from style_core import ImageError, InvalidSettingError, Job, stylize
from style_core.engine.network import network
from style_core.engine.style_losses.gram import gram_matrix
from style_core.image import load_image, resize

SIZE = 128
LAYERS = ("relu1_1", "relu2_1", "relu3_1")


def _palette_painting(colors: tuple[tuple[int, int, int], ...], seed: int) -> Image.Image:
    """Random strokes in a few colours: a painting whose palette says which it is."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((128, 128, 3), np.uint8)
    pixels[:] = colors[0]
    for _ in range(300):
        y, x = rng.integers(0, 128, 2)
        pixels[y : y + rng.integers(2, 6), x : x + rng.integers(8, 20)] = colors[rng.integers(len(colors))]
    return Image.fromarray(pixels)


@pytest.fixture(scope="module")
def paintings() -> tuple[Image.Image, Image.Image]:
    warm = _palette_painting(((200, 40, 20), (250, 180, 30), (120, 20, 10)), seed=1)
    cold = _palette_painting(((20, 60, 190), (40, 180, 170), (10, 20, 80)), seed=2)
    return warm, cold


def _halves(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    left = np.zeros((height, width), np.uint8)
    left[:, : width // 2] = 255
    return left, 255 - left


def _grams(image: torch.Tensor) -> dict[str, torch.Tensor]:
    net, _ = network("offline", "max", "relu5_1", "cpu")
    with torch.no_grad():
        return {name: gram_matrix(f) for name, f in net(image, LAYERS).items()}


def _distance(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    return float(sum((a[n] - b[n]).square().mean() / b[n].square().mean() for n in LAYERS))


def test_two_styles_paint_their_own_halves(content_image, paintings):
    width, height = content_image.size
    left, right = _halves(width, height)
    result = stylize(content_image, list(paintings), masks=[left, right], size=SIZE, steps=8, start_size=64)
    pixels = load_image(result).rgb
    half = pixels.shape[-1] // 2
    parts = {"left": pixels[..., : half - 4], "right": pixels[..., half + 4 :]}
    styles = [_grams(resize(load_image(p).rgb, 96, 96)) for p in paintings]
    own = {"left": 0, "right": 1}
    for side, part in parts.items():
        grams = _grams(part)
        mine, other = _distance(grams, styles[own[side]]), _distance(grams, styles[1 - own[side]])
        assert mine < 0.6 * other, (side, mine, other)


def test_a_half_mask_leaves_the_other_half_as_it_was(content_image, paintings):
    width, height = content_image.size
    left, _ = _halves(width, height)
    soft = np.asarray(Image.fromarray(left).resize((width, height)), np.uint8)
    result = stylize(content_image, paintings[0], masks=[soft], size=0, steps=3, start_size=128)
    assert result.size == content_image.size
    got, want = np.asarray(result, int), np.asarray(content_image, int)
    assert np.abs(got[:, width // 2 :] - want[:, width // 2 :]).max() <= 1
    assert np.abs(got[:, : width // 2 - 8] - want[:, : width // 2 - 8]).mean() > 10  # the left half was painted


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.zeros((10, 10), np.uint8), "mask 1 is 10x10, the picture it masks is 451x300; give a mask of 451x300"),
        (Image.new("RGB", (451, 300), (255, 0, 0)), "mask 1 has colours; a mask must be greyscale"),
        (np.zeros((300, 451, 3, 2), np.uint8), "a mask is one channel"),
        (np.full((300, 451), 2.0), "float values from 2 to 2; floats must be in"),
        (np.zeros((300, 451), np.uint8), "mask 1 is black everywhere"),
        ("no-such-mask.png", "no such file"),
    ],
)
def test_bad_masks_get_one_clear_line(content_image, paintings, mask, message):
    with pytest.raises(ImageError, match=message.replace("(", r"\(")) as caught:
        Job(content_image, paintings[0], masks=[mask])
    assert "\n" not in str(caught.value)


def test_masks_are_one_per_style_and_exclude_a_blend(content_image, paintings):
    left, right = _halves(*content_image.size)
    with pytest.raises(ImageError, match="1 masks for 2 style images"):
        Job(content_image, list(paintings), masks=[left])
    with pytest.raises(InvalidSettingError, match="leave style_blend out"):
        Job(content_image, list(paintings), {"style_blend": [1, 2]}, masks=[left, right])


def test_a_style_mask_takes_the_style_from_part_of_the_painting(content_image, paintings):
    """A painting half warm, half cold: masked to its cold half it paints cold, to its warm half warm."""
    warm, cold = (np.asarray(p) for p in paintings)
    both = Image.fromarray(np.concatenate([warm, cold], axis=1))
    cold_half = np.zeros((128, 256), np.uint8)
    cold_half[:, 128:] = 255
    blue_minus_red = []
    for mask in (cold_half, 255 - cold_half):
        result = load_image(stylize(content_image, both, style_masks=[mask], size=SIZE, steps=8, start_size=64)).rgb
        blue_minus_red.append(float((result[:, 2] - result[:, 0]).mean()))
    assert blue_minus_red[0] > blue_minus_red[1] + 0.3, blue_minus_red
