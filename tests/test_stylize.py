"""Real stylisations with the real offline VGG-19, at small sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from kornia.color import rgb_to_ycbcr
from PIL import Image

from style_core import (
    DivergedError,
    ImageError,
    InvalidSettingError,
    OutOfMemoryError,
    StyleCoreError,
    stylize,
    stylize_iter,
)
from style_core.image import load_image, resize, size_for_long_side
from style_core.metrics import Yardstick
from style_core.stylize import _stalled, network


@pytest.fixture(scope="module")
def result(content_image, style_image):
    """One real run at 128 px with the default settings but size."""
    events = list(stylize_iter(content_image, style_image, size=128, start_size=64))
    return events


def _tensor(image: Image.Image) -> torch.Tensor:
    return load_image(image).rgb


def test_style_loss_falls_many_fold_and_content_stays(result, content_image, style_image):
    final = result[-1]
    assert final.done and final.image.size == (128, 85)
    net, _ = network("offline", "max", "relu5_1", "cpu")
    content = _tensor(content_image)
    content = resize(content, *size_for_long_side(content.shape[-1], content.shape[-2], 128))
    yardstick = Yardstick(net, content, _tensor(style_image))
    ratios = yardstick.ratios(final.rgb)
    assert ratios.style < 1 / 8, ratios
    assert ratios.content < 1.0, ratios
    # the cat is still there: the result's luma correlates with the content's
    luma = lambda x: rgb_to_ycbcr(x)[0, 0].flatten()  # noqa: E731
    correlation = torch.corrcoef(torch.stack([luma(final.rgb), luma(content)]))[0, 1]
    assert correlation > 0.5


def test_events_stream_stages_losses_and_previews(result):
    progress = [e for e in result if not e.done]
    assert [e.step for e in progress] == list(range(1, len(progress) + 1))
    assert {e.stage for e in progress} == {1, 2, 3} and progress[0].num_stages == 3
    assert progress[0].width < progress[-1].width
    assert all(set(e.losses) == {"content", "style", "tv", "total"} for e in progress)
    fractions = [e.fraction for e in progress]
    assert fractions == sorted(fractions) and 0 < fractions[0] < fractions[-1] <= 1
    previews = [e for e in progress if e.image is not None]
    assert len(previews) >= 4
    first, last = (
        np.asarray(previews[0].image, float),
        np.asarray(previews[-1].image.resize(previews[0].image.size), float),
    )
    assert np.abs(first - last).mean() > 2
    assert result[-1].recipe["weights"]["source"] == "offline"
    assert result[-1].recipe["settings"]["size"] == 128


def test_closing_the_generator_stops_the_work(content_image, style_image, monkeypatch):
    calls = []
    from style_core import optimize

    original = optimize.StageOptimizer.step
    monkeypatch.setattr(optimize.StageOptimizer, "step", lambda self: calls.append(1) or original(self))
    events = stylize_iter(content_image, style_image, size=96, start_size=64, steps=20)
    for event in events:
        if event.step == 3:
            break
    events.close()
    assert len(calls) == 3


def test_same_seed_same_result(content_image, style_image, tiny_settings):
    a = np.asarray(stylize(content_image, style_image, init="noise", seed=5, **tiny_settings))
    b = np.asarray(stylize(content_image, style_image, init="noise", seed=5, **tiny_settings))
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
        ({"size": 10}, "size must be a whole number from 64"),
        ({"steps": 0}, "steps must be"),
        ({"steps": 10**9}, "steps must be"),
        ({"style_strength": float("nan")}, "style_strength"),
        ({"preserve_colors": "sepia"}, "off, luminance, match"),
        ({"optimizer": "sgd"}, "lbfgs, adam"),
        ({"style_layers": ("relu9_1",)}, "unknown layer"),
        ({"style_blend": [1, 2]}, "2 weights for 1 style"),
        ({"colour": 1}, "unexpected keyword"),
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
    monkeypatch.setattr("style_core.losses.total_variation", lambda image: image.sum() * float("nan"))
    with pytest.raises(DivergedError, match="NaN"):
        stylize(content_image, style_image, **tiny_settings)


def test_running_out_of_memory_says_so(content_image, style_image, monkeypatch, tiny_settings):
    def exhausted(self):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("style_core.optimize.StageOptimizer.step", exhausted)
    with pytest.raises(OutOfMemoryError, match="out of memory at 96x64 px on cpu; choose a smaller size"):
        stylize(content_image, style_image, **tiny_settings)


def test_eta_counts_down(result):
    progress = [e for e in result if not e.done]
    assert progress[-1].eta < progress[len(progress) // 2].eta
    assert result[-1].eta == 0.0


def test_a_stage_stops_when_its_best_loss_stalls_not_on_a_spike():
    falling = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.5, 1.2]
    assert not _stalled(falling)
    # L-BFGS without a line search sometimes spikes for one step; the best is still falling
    assert not _stalled([*falling[:-1], 200.0])
    flat = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    assert _stalled(flat)
    assert _stalled([*flat[:-1], 300.0])
