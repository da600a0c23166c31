"""ZeroGPU on Hugging Face Spaces: ``spaces.GPU`` where the ``spaces`` package is, nothing elsewhere.

A ZeroGPU call says up front how long it will hold the GPU, and a shorter call gets a visitor a
GPU sooner. So each job asks for what it needs (:class:`GpuClock`): the engine's plan of the
job (:func:`style_core.engine.plan.make_plan`, its work in pixels through the network, tiles
and targets included) at a pace in seconds per unit of work, times a margin, plus the start
(the worker attaching the GPU and moving the network onto it); at most the server's time
limit. A job that would need more is refused before it takes the GPU, with a message saying
to choose a smaller size or the draft quality: refused rather than shrunk, so that nobody gets
a smaller picture than they asked for without noticing.

``spaces`` must be imported before torch sets up CUDA, so :mod:`style_app` imports this module
first.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

import PIL.Image

Function = TypeVar("Function", bound=Callable)

#: Memory of a ZeroGPU slice in bytes (half an H200); a job's tiles are cut for it.
ZEROGPU_MEMORY = 70e9
#: Seconds per unit of planned work on ZeroGPU's H200: the aim of ``bench/gpu.py`` (4096 px at
#: the balanced quality, 9.1e7 units, in 60 s). Not yet measured on a Space.
SECONDS_PER_WORK = 60 / 9.14e7
#: Seconds a call takes besides the planned work: the worker starts, the network moves to the GPU.
START_SECONDS = 15.0
#: The estimate of the work's seconds is multiplied by this, for a slower GPU or a busy machine.
MARGIN = 1.5


def gpu_module() -> ModuleType | None:
    """The ``spaces`` package on a ZeroGPU Space, else None."""
    try:
        return importlib.import_module("spaces")
    except ImportError:
        return None


gpu_module()  # now, before torch: ZeroGPU's `spaces` must come first


def on_gpu(function: Function, duration: Callable[..., float]) -> Function:
    """``function`` run on a ZeroGPU slice for ``duration(*args, **kwargs)`` seconds (asked
    for at each call); ``function`` itself off ZeroGPU."""
    module = gpu_module()
    return function if module is None else module.GPU(duration=duration)(function)


def planned_work(content: str, settings: Mapping[str, Any], *, refine: bool) -> float:
    """The engine's planned work (:attr:`style_core.engine.plan.Plan.work`) of a job on a
    ZeroGPU slice: ``content`` a path, ``settings`` the checked settings (``size`` already
    resolved), ``refine`` when it starts from a previous result."""
    from style_core.engine.plan import make_plan
    from style_core.engine.tiles import Tiling, crop_pixels
    from style_core.engine.vgg import deepest_layer
    from style_core.job import CUDA_TILE_SHARE
    from style_core.settings import Settings

    options = Settings.from_options({k: v for k, v in settings.items() if k != "style_blend"})
    if options.tile_size:
        tiling = Tiling(core_side=options.tile_size)
    else:
        tiling = Tiling(crop_pixels=crop_pixels(CUDA_TILE_SHARE * ZEROGPU_MEMORY))
    with PIL.Image.open(content) as image:
        size = image.size
    deepest = deepest_layer([*options.content_layers, *options.style_layers])
    return make_plan(options, size, tiling=tiling, deepest=deepest, refine=refine).work


@dataclass(frozen=True)
class GpuClock:
    """What a job asks ZeroGPU for: ``start + margin * seconds_per_work * work`` seconds, at
    most ``limit`` (the server's time limit per job)."""

    limit: float
    seconds_per_work: float = SECONDS_PER_WORK
    start: float = START_SECONDS
    margin: float = MARGIN

    def needs(self, work: float) -> float:
        """Seconds a job of ``work`` units needs, margin included (not capped)."""
        return self.start + self.margin * self.seconds_per_work * work

    def fits(self, work: float) -> bool:
        return self.needs(work) <= self.limit

    def duration(self, work: float) -> int:
        """Whole seconds to ask for, at most :attr:`limit`."""
        return min(math.ceil(self.needs(work)), math.floor(self.limit))
