"""A big picture is the small one made sharp: same layout, same look, more detail (real runs).

The layout stages stop at :data:`~style_core.engine.plan.LAYOUT_SIDE` (512 px); here it is lowered to
128 px so that a 256 px run has a detail stage at a size CI affords (planned as a 1024 px
stage above a 512 px layout is), with a painting half the result's size (128 px), as The
Starry Night (1024 px) is for a 2048 px result.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from fixtures.pictures import swirl_painting
from fixtures.yardstick import Yardstick
from style_core import Job, stylize
from style_core.engine import plan
from style_core.engine.network import network
from style_core.engine.runner import Runner
from style_core.engine.style_losses import STYLE_LOSSES, SlicedLoss
from style_core.engine.style_losses.sliced import DETAIL_DIRECTION_SHARE
from style_core.image import load_image, resize, size_for_long_side

SMALL, BIG = 128, 256
SETTINGS = {"start_size": 64, "quality": "draft", "preview_every": 0, "precision": "fp32", "seed": 3}


def _tensor(image: Image.Image) -> torch.Tensor:
    return load_image(image).rgb


@pytest.fixture(scope="module")
def painting() -> Image.Image:
    return swirl_painting(128)


#: The least a detail stage sharpens the small result enlarged, by style loss (the Laplacian's
#: energy, big over enlarged; measured 1.58 and 1.09). The Gram loss's detail stage is held
#: lightly to the enlarged result; the sliced loss's 256 times as hard (see
#: :attr:`~style_core.engine.style_losses.StyleLoss.detail_content_factor`), so it sharpens
#: less here, where the painting's strokes are the layout's own size.
SHARPENS = {"gram": 1.4, "sliced": 1.04}


@pytest.fixture(scope="module", params=sorted(SHARPENS))
def pictures(request, content_image, painting):
    """The style loss, the 128 px result, and the 256 px one with its detail stages above 128 px."""
    settings = {**SETTINGS, "style_loss": request.param}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "LAYOUT_SIDE", SMALL)
        small = stylize(content_image, painting, size=SMALL, **settings)
        big = stylize(content_image, painting, size=BIG, **settings)
    return request.param, _tensor(small), _tensor(big)


@pytest.mark.parametrize("style_loss", sorted(SHARPENS))
def test_a_detail_stage_holds_the_layout_and_measures_as_its_loss_says(content_image, painting, style_loss):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "LAYOUT_SIDE", SMALL)
        job = Job(content_image, painting, {**SETTINGS, "size": BIG, "style_loss": style_loss})
    runner, stage = Runner(job.inputs), job.plan.stages[-1]
    assert stage.detail
    previous = resize(runner.content, *size_for_long_side(stage.width, stage.height, SMALL))
    objective = runner.objective(stage, previous)
    loss_class = STYLE_LOSSES[style_loss]
    assert objective.weights.content == runner.loss_weights.content * loss_class.detail_content_factor
    assert objective.weights.content_layers == (plan.DETAIL_CONTENT_LAYER,)
    for term in objective.style_terms:
        assert type(term.loss) is loss_class
        if isinstance(term.loss, SlicedLoss):
            assert len(term.loss.directions) == round(term.loss.channels * DETAIL_DIRECTION_SHARE)


def test_the_big_picture_scaled_down_is_the_small_one(pictures):
    _, small, big = pictures
    down = resize(big, small.shape[-1], small.shape[-2])
    # The detail stage starts from the small result and keeps it as its content: scaled back
    # down, the big picture is the small one give or take its new detail (Gram 0.034 of the
    # range here, sliced 0.010). Repainting every stage with every layer, as before, painted
    # another picture: 0.138.
    assert float((down - small).abs().mean()) < 0.05


def test_the_big_picture_keeps_the_small_ones_style_and_content(pictures, content_image, painting):
    _, small, big = pictures
    net, _ = network("offline", "max", "relu5_1", "cpu")
    content = _tensor(content_image)
    yardstick = Yardstick(
        net, resize(content, *size_for_long_side(content.shape[-1], content.shape[-2], SMALL)), _tensor(painting)
    )
    down = resize(big, small.shape[-1], small.shape[-2])
    round_trip = resize(resize(small, big.shape[-1], big.shape[-2]), small.shape[-1], small.shape[-2])
    small_ratios, big_ratios = yardstick.ratios(small), yardstick.ratios(down)
    # The yardstick is sensitive to resampling alone, so the big picture is held to the small
    # one enlarged 2x and scaled back (bench/big.py's "x up"). Measured, Gram: style 0.016
    # small, 0.023 round trip, 0.050 big scaled down (2.2x the round trip), content 0.56 and
    # 0.63; sliced: 0.021, 0.029, 0.023 (0.8x), content 0.54 and 0.59.
    round_trip_style = yardstick.ratios(round_trip).style
    assert big_ratios.style < 3 * round_trip_style
    assert big_ratios.content < 1.6 * small_ratios.content


def test_the_big_picture_is_sharper_than_the_small_one_enlarged(pictures):
    loss, small, big = pictures
    enlarged = resize(small, big.shape[-1], big.shape[-2])

    def detail(image: torch.Tensor) -> float:
        luma = image[0].mean(0).numpy() * 255
        laplacian = 4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
        return float(np.mean(laplacian**2))

    # The painting (128 px) is enlarged 2x for this stage, as every layer measures it scaled to
    # the stage: the new detail is the painting's own, softened by that.
    assert detail(big) > SHARPENS[loss] * detail(enlarged)
