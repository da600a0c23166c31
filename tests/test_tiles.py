"""Big pictures in tiles: exact features, the same loss and gradient as the whole, no seams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from style_core import Job
from style_core.engine.evaluate import TiledEvaluator, WholeEvaluator
from style_core.engine.network import network
from style_core.engine.tiles import core_side, crop_pixels, fitted_layout, layout, margin
from style_core.engine.vgg import receptive_radius, stride
from style_core.image import load_image, resize

LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1")


def test_margin_covers_the_deepest_receptive_field_on_the_stride_grid():
    assert receptive_radius("relu5_1") == 85 and margin("relu5_1") == 96
    assert margin("relu3_1") % stride("relu3_1") == 0 and margin("relu3_1") >= receptive_radius("relu3_1")


def _assert_partition(tiles, width: int, height: int) -> None:
    """The cores partition the picture on relu5_1's stride grid, each crop its core and margin."""
    covered = np.zeros((height, width), int)
    for tile in tiles:
        covered[tile.core.top : tile.core.bottom, tile.core.left : tile.core.right] += 1
        assert tile.crop.top % 16 == 0 and tile.crop.left % 16 == 0 and tile.core.top % 16 == 0
        assert tile.crop.top <= tile.core.top and tile.crop.bottom >= tile.core.bottom
        assert tile.core.top - tile.crop.top in (tile.core.top, 96)  # the margin, or the picture's edge
        assert min(tile.core.width, tile.core.height) >= min(16, width, height)  # a step of relu5_1 at least
    assert (covered == 1).all()


@pytest.mark.parametrize(
    ("width", "height", "core"), [(333, 250, 96), (1000, 17, 256), (64, 64, 512), (517, 400, 130), (20, 40, 16)]
)
def test_cores_partition_the_picture_on_the_stride_grid(width, height, core):
    _assert_partition(layout(width, height, core, "relu5_1"), width, height)


@pytest.mark.parametrize(
    ("width", "height", "budget"),
    [(1024, 768, 789_000), (2048, 1536, 789_000), (4096, 3072, 789_000), (4000, 300, 200_000), (900, 700, 90_000)],
)
def test_fitted_tiles_hold_the_memory_and_send_fewer_pixels_than_square_ones(width, height, budget):
    tiles = fitted_layout(width, height, budget, "relu5_1")
    _assert_partition(tiles, width, height)
    assert all(tile.crop.pixels <= budget for tile in tiles)
    square = layout(width, height, core_side(budget, "relu5_1"), "relu5_1")
    assert sum(t.crop.pixels for t in tiles) <= sum(t.crop.pixels for t in square)


def test_a_picture_that_fits_the_memory_is_one_tile():
    budget = crop_pixels(1.5e9)  # a CPU's
    assert core_side(crop_pixels(1.5e9), "relu5_1") > core_side(crop_pixels(0.5e9), "relu5_1") > 0
    assert len(fitted_layout(1024, 768, budget, "relu5_1")) == len(fitted_layout(724, 543, budget, "relu5_1")) == 1
    assert len(layout(1024, 768, core_side(budget, "relu5_1"), "relu5_1")) == 4  # square cores would cut it
    assert len(fitted_layout(2048, 1536, budget, "relu5_1")) > 1


@pytest.fixture(scope="module")
def net():
    return network("offline", "max", "relu5_1", "cpu")[0]


def test_core_features_equal_the_whole_pictures(net):
    image = torch.rand(1, 3, 300, 360, generator=torch.Generator().manual_seed(0))
    whole = net(image, LAYERS)
    for tile in layout(360, 300, 112, "relu5_1"):
        crop = net(tile.crop.of(image), LAYERS)
        for name in LAYERS:
            step = stride(name)
            expected = whole[name][
                ..., tile.core.top // step : tile.core.bottom // step, tile.core.left // step : tile.core.right // step
            ]
            torch.testing.assert_close(tile.core_of(crop[name], step), expected, rtol=1e-4, atol=1e-4)


def _objective(content_image, style_image, style_loss: str, size: int, masks=None):
    """The objective of a real job's final stage, and a picture to evaluate it at."""
    settings = {"size": size, "style_loss": style_loss, "tile_size": 4096}
    job = Job(content_image, style_image, settings, masks=masks)
    from style_core.engine.runner import Runner

    run = Runner(job.inputs)
    stage = job.plan.stages[-1]
    objective = run.objective(stage)
    content = resize(load_image(content_image).rgb, stage.width, stage.height)
    picture = (0.7 * content + 0.3 * torch.rand(content.shape, generator=torch.Generator().manual_seed(1))).clamp(0, 1)
    return run.network(stage.pooling)[0], objective, picture, stage


@pytest.mark.parametrize(
    ("style_loss", "masked", "tolerance"),
    [("gram", False, 1e-4), ("w2", False, 1e-4), ("gram", True, 1e-4), ("w2", True, 1e-4), ("sliced", False, 0.05)],
)
def test_tiled_loss_and_gradient_agree_with_the_whole(content_image, style_image, style_loss, masked, tolerance):
    """Exact for the losses of means (Gram, W2); the sliced loss merges quantile functions of
    1024 levels, so its tiles agree up to that resolution."""
    width, height = content_image.size
    mask = np.zeros((height, width), np.float32)
    mask[:, : width // 3] = 1.0
    mask[:, width // 3 : width // 2] = 0.5  # a soft edge
    masks = [mask] if masked else None
    net, objective, picture, stage = _objective(content_image, style_image, style_loss, 320, masks)
    tiles = layout(stage.width, stage.height, 96, "relu5_1")
    assert len(tiles) >= 6 and all(t.crop.pixels < stage.pixels for t in tiles)
    results = []
    for evaluate in (WholeEvaluator(net, objective), TiledEvaluator(net, objective, tiles)):
        image = picture.clone().requires_grad_()
        terms = evaluate(image)
        results.append((terms, image.grad.clone()))
    (whole_terms, whole_grad), (tiled_terms, tiled_grad) = results
    for name in ("content", "style", "total"):
        assert tiled_terms[name] == pytest.approx(whole_terms[name], rel=tolerance), name
    assert float((tiled_grad - whole_grad).norm() / whole_grad.norm()) < tolerance


def _jumps(pixels: np.ndarray, axis: int) -> np.ndarray:
    """Mean absolute difference between each line and the one before it, along ``axis``."""
    return np.abs(np.diff(pixels.astype(float), axis=axis)).mean(axis=(1 - axis, 2))


def test_a_flat_picture_painted_in_tiles_shows_no_seams(style_image):
    """A flat grey picture, the worst case for seams: painted in tiles and painted whole, the
    lines at the tiles' boundaries jump no more than the same lines of the whole picture's
    (VGG's poolings leave a faint 16-pixel grid in both, on the tiles' grid), and the two
    pictures are the same."""
    flat = np.full((240, 320, 3), 128, np.uint8)
    # float32: tiles and the whole picture then round alike (bf16's rounding differs between them)
    settings = {"size": 320, "steps": 5, "start_size": 320, "precision": "fp32"}
    tiled_job = Job(flat, style_image, settings | {"tile_size": 96})
    final = tiled_job.plan.stages[-1]
    assert len(final.tiles) >= 6
    tiled = np.asarray(tiled_job.result().image).astype(float)
    whole = np.asarray(Job(flat, style_image, settings | {"tile_size": 4096}).result().image).astype(float)
    assert tiled.std() > 5  # the style took: not a flat picture any more
    assert np.abs(tiled - whole).mean() < 1.0  # out of 255
    for axis, cuts in ((0, {t.core.top for t in final.tiles}), (1, {t.core.left for t in final.tiles})):
        tiled_jumps, whole_jumps = _jumps(tiled, axis), _jumps(whole, axis)
        for cut in sorted(cuts - {0}):
            assert tiled_jumps[cut - 1] <= 1.25 * whole_jumps[cut - 1] + 1, (axis, cut)
