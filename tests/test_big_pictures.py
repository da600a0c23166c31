"""A big picture is the small one made sharp: same layout, same look, more detail (real runs).

The layout stages stop at :data:`~style_core.engine.plan.LAYOUT_SIDE` (512 px); here it is lowered to
128 px so that a 256 px run has two detail stages at a size CI affords, with a painting half
the result's size (128 px), as The Starry Night (1024 px) is for a 2048 px result.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from fixtures.pictures import swirl_painting
from fixtures.yardstick import Yardstick
from style_core import stylize
from style_core.engine import plan
from style_core.engine.network import network
from style_core.image import load_image, resize, size_for_long_side

SMALL, BIG = 128, 256
SETTINGS = {"start_size": 64, "steps": 4, "preview_every": 0, "precision": "fp32", "seed": 3}


def _tensor(image: Image.Image) -> torch.Tensor:
    return load_image(image).rgb


@pytest.fixture(scope="module")
def painting() -> Image.Image:
    return swirl_painting(128)


@pytest.fixture(scope="module")
def pictures(content_image, painting):
    """The 128 px result, and the 256 px one with its detail stages above 128 px."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "LAYOUT_SIDE", SMALL)
        small = stylize(content_image, painting, size=SMALL, **SETTINGS)
        big = stylize(content_image, painting, size=BIG, **SETTINGS)
    return _tensor(small), _tensor(big)


def test_the_big_picture_scaled_down_is_the_small_one(pictures):
    small, big = pictures
    down = resize(big, small.shape[-1], small.shape[-2])
    # The detail stages start from the small result and keep it as their content: scaled back
    # down, the big picture is the small one give or take its new detail (0.068 of the range
    # here). Repainting every stage with every layer, as before, painted another picture: 0.138.
    assert float((down - small).abs().mean()) < 0.1


def test_the_big_picture_keeps_the_small_ones_style_and_content(pictures, content_image, painting):
    small, big = pictures
    net, _ = network("offline", "max", "relu5_1", "cpu")
    content = _tensor(content_image)
    yardstick = Yardstick(
        net, resize(content, *size_for_long_side(content.shape[-1], content.shape[-2], SMALL)), _tensor(painting)
    )
    down = resize(big, small.shape[-1], small.shape[-2])
    small_ratios, big_ratios = yardstick.ratios(small), yardstick.ratios(down)
    # Measured: style 0.090 small, 0.200 big scaled down (0.191 before: the fine detail a
    # 128 px yardstick sees as noise), content 0.51 and 0.74 (0.77 before).
    assert big_ratios.style < 3 * small_ratios.style
    assert big_ratios.content < 1.6 * small_ratios.content


def test_the_big_picture_is_sharper_than_the_small_one_enlarged(pictures):
    small, big = pictures
    enlarged = resize(small, big.shape[-1], big.shape[-2])

    def detail(image: torch.Tensor) -> float:
        luma = image[0].mean(0).numpy() * 255
        laplacian = 4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
        return float(np.mean(laplacian**2))

    assert detail(big) > 3 * detail(enlarged)
