"""Real stylizations with the real offline VGG-19, at small sizes: the Job, its events and result."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kornia.color import rgb_to_ycbcr
from PIL import Image

from fixtures.yardstick import Yardstick
from style_core import (
    DivergedError,
    Finished,
    ImageError,
    InvalidSettingError,
    Job,
    OutOfMemoryError,
    Progress,
    Result,
    StyleCoreError,
    stylize,
    stylize_iter,
)
from style_core.engine.network import network
from style_core.engine.optimize import Convergence
from style_core.image import load_image, resize, size_for_long_side


@pytest.fixture(scope="module")
def result(content_image, style_image):
    """One real run at 128 px with the default settings but size."""
    events = list(stylize_iter(content_image, style_image, size=128, start_size=64))
    return events


def _tensor(image: Image.Image) -> torch.Tensor:
    return load_image(image).rgb


def test_style_loss_falls_many_fold_and_content_stays(result, content_image, style_image):
    final = result[-1]
    assert isinstance(final, Finished) and final.result.image.size == (128, 85)
    assert (final.width, final.height) == final.result.size == (128, 85)
    net, _ = network("offline", "max", "relu5_1", "cpu")
    content = _tensor(content_image)
    content = resize(content, *size_for_long_side(content.shape[-1], content.shape[-2], 128))
    yardstick = Yardstick(net, content, _tensor(style_image))
    ratios = yardstick.ratios(final.result.rgb)
    assert ratios.style < 1 / 8, ratios
    assert ratios.content < 1.0, ratios
    # the cat is still there: the result's luma correlates with the content's
    luma = lambda x: rgb_to_ycbcr(x)[0, 0].flatten()  # noqa: E731
    correlation = torch.corrcoef(torch.stack([luma(final.result.rgb), luma(content)]))[0, 1]
    assert correlation > 0.45


def test_events_stream_stages_losses_and_previews(result):
    progress = result[:-1]
    assert all(isinstance(e, Progress) for e in progress)
    assert [e.step for e in progress] == list(range(1, len(progress) + 1))
    assert {e.stage for e in progress} == {1, 2, 3} and progress[0].num_stages == 3
    assert progress[0].width < progress[-1].width
    assert all(set(e.losses) == {"content", "style", "tv", "total"} for e in progress)
    fractions = [e.fraction for e in progress]
    assert fractions == sorted(fractions) and 0 < fractions[0] < fractions[-1] <= 1
    previews = [e for e in progress if e.preview is not None]
    assert len(previews) >= 4
    first, last = (
        np.asarray(previews[0].preview, float),
        np.asarray(previews[-1].preview.resize(previews[0].preview.size), float),
    )
    assert np.abs(first - last).mean() > 2
    recipe = result[-1].result.recipe
    assert recipe["weights"]["source"] == "offline"
    assert recipe["settings"]["size"] == 128 and recipe["settings"]["style_loss"] == "gram"


def test_closing_the_generator_stops_the_work(content_image, style_image, monkeypatch):
    calls = []
    from style_core.engine import optimize

    original = optimize.StageOptimizer.step
    monkeypatch.setattr(optimize.StageOptimizer, "step", lambda self: calls.append(1) or original(self))
    events = stylize_iter(content_image, style_image, size=96, start_size=64, steps=20)
    for event in events:
        if event.step == 3:
            break
    events.close()
    assert len(calls) == 3


def test_same_seed_same_result(content_image, style_image, tiny_settings):
    a = np.asarray(stylize(content_image, style_image, start="noise", seed=5, **tiny_settings))
    b = np.asarray(stylize(content_image, style_image, start="noise", seed=5, **tiny_settings))
    assert np.array_equal(a, b)


def test_luminance_preservation_keeps_content_chroma(content_image, style_image, tiny_settings):
    out = stylize(content_image, style_image, preserve_colors="luminance", **tiny_settings)
    got = rgb_to_ycbcr(_tensor(out))[:, 1:]
    content = _tensor(content_image)
    want = rgb_to_ycbcr(resize(content, *out.size))[:, 1:]
    assert (got - want).abs().mean() < 0.01
    plain = rgb_to_ycbcr(_tensor(stylize(content_image, style_image, **tiny_settings)))[:, 1:]
    assert (plain - want).abs().mean() > 2 * (got - want).abs().mean()


def test_match_preservation_and_several_styles(content_image, style_image, tiny_settings):
    mosaic = Image.new("RGB", (64, 64), (200, 30, 30))
    out = stylize(content_image, [style_image, mosaic], style_blend=[1, 2], preserve_colors="match", **tiny_settings)
    assert out.size == (96, 64)


def test_alpha_is_carried_to_the_output(style_image, tiny_settings):
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[..., :3] = 120
    rgba[..., 3] = np.linspace(0, 255, 64, dtype=np.uint8)
    out = stylize(Image.fromarray(rgba, "RGBA"), style_image, **tiny_settings)
    assert out.mode == "RGBA"
    alpha = np.asarray(out)[..., 3]
    assert alpha[:, 0].max() < 10 and alpha[:, -1].min() > 245


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": -1}, "size must be a whole number from 0 to 8192"),
        ({"steps": -1}, "steps must be a whole number from 0 to 10000"),
        ({"steps": 10**9}, "steps must be"),
        ({"style_strength": float("nan")}, "style_strength"),
        ({"preserve_colors": "sepia"}, "off, luminance, match"),
        ({"optimizer": "sgd"}, "lbfgs, adam"),
        ({"style_layers": ("relu9_1",)}, "unknown layer"),
        ({"style_blend": [1, 2]}, "2 weights for 1 style"),
        ({"colour": 1}, "unknown setting 'colour'"),
        ({"preserve_color": "off"}, "did you mean 'preserve_colors'"),
        ({"style_loss": "l1"}, "gram, w2, sliced"),
    ],
)
def test_bad_settings_are_named(content_image, style_image, options, message):
    with pytest.raises(StyleCoreError, match=message):
        next(stylize_iter(content_image, style_image, **options))


def test_bad_images_raise_image_error(tmp_path, style_image):
    with pytest.raises(ImageError, match="content image"):
        next(stylize_iter(tmp_path / "missing.jpg", style_image))
    with pytest.raises(ImageError, match="style image 1"):
        next(stylize_iter(style_image, Image.new("RGB", (1, 1))))
    with pytest.raises(InvalidSettingError):
        next(stylize_iter(style_image, style_image, size=100_000))


def test_nan_loss_is_reported(content_image, style_image, monkeypatch, tiny_settings):
    monkeypatch.setattr("style_core.engine.objective.total_variation", lambda image: image.sum() * float("nan"))
    with pytest.raises(DivergedError, match="NaN"):
        stylize(content_image, style_image, **tiny_settings)


def test_running_out_of_memory_says_so(content_image, style_image, monkeypatch, tiny_settings):
    def exhausted(self):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("style_core.engine.optimize.StageOptimizer.step", exhausted)
    with pytest.raises(OutOfMemoryError, match="out of memory at 96x64 px on cpu; choose a smaller size"):
        stylize(content_image, style_image, **tiny_settings)


def test_eta_counts_down(result):
    progress = result[:-1]
    assert progress[-1].eta < progress[len(progress) // 2].eta
    assert progress[-1].eta == 0.0


def _settles(losses: list[float]) -> bool:
    convergence = Convergence()
    return [convergence.settled(loss) for loss in losses][-1]


def test_a_stage_stops_when_its_best_loss_stalls_not_on_a_spike():
    falling = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.5, 1.2]
    assert not _settles(falling)
    # L-BFGS without a line search sometimes spikes for one step; the best is still falling
    assert not _settles([*falling[:-1], 200.0])
    flat = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    assert _settles(flat)
    assert _settles([*flat[:-1], 300.0])
    assert not _settles(flat[:-1])  # too early to tell


def test_bad_input_is_refused_when_the_job_is_made_before_any_work(style_image, monkeypatch):
    monkeypatch.setattr("style_core.engine.runner.network", lambda *a: pytest.fail("the network was loaded"))
    with pytest.raises(ImageError, match="content image"):
        Job(np.zeros((4, 4, 3), np.uint8), style_image)
    with pytest.raises(InvalidSettingError, match="style_blend has 1 weights for 2 style images"):
        Job(style_image, [style_image, style_image], {"style_blend": [1.0]})


def test_refining_a_result_starts_from_it_at_full_size(content_image, style_image, tiny_settings):
    first = Job(content_image, style_image, tiny_settings).result()
    job = Job(content_image, style_image, tiny_settings | {"steps": 3}, init=first)
    assert len(job.plan.stages) == 1
    events = list(job.run())
    assert [e.step for e in events[:-1]] == [1, 2, 3] and events[0].width == 96
    refined = events[-1].result
    assert isinstance(refined, Result) and refined.recipe["refined"] is True
    # it goes on from the first result: closer to it than the content is
    content = resize(load_image(content_image).rgb, *refined.size)
    assert (refined.rgb - first.rgb).abs().mean() < (content - first.rgb).abs().mean()


def test_settings_accept_numpy_numbers_and_a_single_layer_name(content_image, style_image):
    job = Job(
        content_image, style_image, {"size": np.int64(64), "style_strength": np.float32(2), "style_layers": "relu2_1"}
    )
    assert job.settings.size == 64 and type(job.settings.size) is int
    assert job.settings.style_layers == ("relu2_1",)


@pytest.mark.parametrize("shape", [(16, 20), (20, 300), (300, 18)])
def test_tiny_and_thin_pictures_paint_at_their_own_size(style_image, shape):
    photo = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    result = stylize(photo, style_image, size=0, steps=4)
    assert result.size == (shape[1], shape[0])


def test_flat_pictures_take_the_style_like_a_busy_one(content_image, style_image):
    """A grey wall and a sky have little feature energy; the content term must not hold them flat."""
    net, _ = network("offline", "max", "relu5_1", "cpu")
    style = _tensor(style_image)
    height, width = 85, 128
    ramp = np.linspace(0, 0.5, height)[:, None, None]
    pictures = {
        "photo": content_image,
        "grey": np.full((height, width, 3), 128, np.uint8),
        "sky": (np.array([90, 140, 220]) * (1 - ramp) * np.ones((1, width, 1))).astype(np.uint8),
    }
    ratios = {}
    for name, picture in pictures.items():
        result = Job(picture, style_image, {"size": 128}).result()
        content = resize(
            _tensor(picture if not isinstance(picture, np.ndarray) else Image.fromarray(picture)), *result.size
        )
        ratios[name] = Yardstick(net, content, style).ratios(result.rgb).style
    assert ratios["grey"] < 2 * ratios["photo"] and ratios["sky"] < 2 * ratios["photo"], ratios
