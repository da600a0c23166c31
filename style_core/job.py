"""One stylisation: :class:`Job` checks the inputs, plans the stages, runs them and yields events.

Data flow: images in → colour preparation → for each coarse-to-fine stage, targets built once
(content features, blended style statistics) → iterations, each yielding a
:class:`~style_core.events.Progress` → a :class:`~style_core.events.Finished` event with the
:class:`~style_core.events.Result`. Closing the generator stops the work at the next
iteration. Planning lives in :mod:`~style_core.plan`, optimising in
:mod:`~style_core.optimize`, reporting in :mod:`~style_core.report`.
"""

from __future__ import annotations

import functools
import os
import platform
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from . import __version__
from .color import grey, match_color_statistics, match_luminance, recombine_luminance
from .device import resolve_device
from .errors import ImageError, InvalidSettingError, OutOfMemoryError, StyleCoreError
from .evaluate import TiledEvaluator, WholeEvaluator
from .events import Event, Finished, Result
from .image import DEFAULT_MAX_PIXELS, ImageInput, RGBImage, load_image, resize, to_pil
from .masks import MaskInput, at_resolution, load_masks
from .objective import Anchor, LossWeights, Objective, StyleTerm
from .optimize import LBFGS_HISTORY, Convergence, Evaluate, StageOptimizer
from .plan import Plan, Stage, make_plan
from .report import Reporter
from .settings import Settings
from .style_losses import STYLE_LOSSES, blend
from .targets import Request, measure, measure_style, region_at_layer
from .tiles import core_side
from .vgg import VGG19Features, deepest_layer
from .weights import VGGWeights, load_weights

#: The style weight at ``style_strength=1``.
BASE_STYLE_WEIGHT = 14.0
#: Style layer weights when none are given: the layers whose statistics carry the
#: brush-stroke texture (relu2_1) and the motifs (relu4_1) count double; relu5_1, whose
#: statistics are coarse enough to rearrange the layout (faces lose their features), a fifth.
DEFAULT_LAYER_WEIGHTS = {"relu2_1": 2.0, "relu4_1": 2.0, "relu5_1": 0.2}
#: Memory for one tile's forward and backward pass on a CPU, in bytes; on CUDA, this share of
#: the free memory.
CPU_TILE_MEMORY = 1.5e9
#: The content term is divided by the content's feature energy, but by no less than this share
#: of the painting's (see :mod:`style_core.objective`).
CONTENT_FLOOR = 0.5
CUDA_TILE_SHARE = 0.5
#: Memory for L-BFGS's curvature history, in bytes: big stages keep fewer pairs.
HISTORY_MEMORY = 1e9


@functools.lru_cache(maxsize=2)
def _weights(spec: str | None) -> VGGWeights:
    return load_weights(spec)


@functools.lru_cache(maxsize=4)
def network(spec: str | None, pooling: str, last_layer: str, device: str) -> tuple[VGG19Features, VGGWeights]:
    """The feature extractor for a weight source, built once per process and device."""
    weights = _weights(spec)
    net = VGG19Features(weights.convs, weights.convention, last_layer=last_layer, pooling=pooling)
    net = net.to(device)
    if torch.device(device).type == "cpu":
        net = net.to(memory_format=torch.channels_last)
    return net, weights


def preload(weights: str | None = None, *, device: str | None = None, pooling: str = "max") -> None:
    """Load the weights and build the network now (a download, on first use of the Hub), so
    that the first run doesn't wait for it. Later runs reuse them."""
    network(weights, pooling, "relu5_1", str(resolve_device(device)))


def layer_shares(settings: Settings) -> dict[str, float]:
    """Each style layer's share of the style term (they sum to 1)."""
    raw = settings.style_layer_weights or [DEFAULT_LAYER_WEIGHTS.get(n, 1.0) for n in settings.style_layers]
    total = float(sum(raw))
    return {name: weight / total for name, weight in zip(settings.style_layers, raw, strict=True)}


def tile_memory(device: torch.device) -> float:
    """Bytes one tile's forward and backward pass may use on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return CUDA_TILE_SHARE * free
    if device.type == "mps":
        return CUDA_TILE_SHARE * torch.mps.recommended_max_memory()
    return CPU_TILE_MEMORY


def _as_list(styles: ImageInput | Sequence[ImageInput]) -> list[ImageInput]:
    return list(styles) if isinstance(styles, (list, tuple)) else [styles]


def _as_image(source: ImageInput | Result, what: str, max_pixels: int) -> RGBImage:
    if isinstance(source, Result):
        return RGBImage(source.rgb, source.alpha)
    return load_image(source, what, max_pixels=max_pixels)


class Job:
    """A stylisation, checked and planned; :meth:`run` (or iterating) does the work.

    Args:
        content: the photo: a path, a PIL image, a numpy array (H, W[, C]) or a tensor (C, H, W).
        styles: one style image or a list of them (same kinds as ``content``).
        settings: a :class:`~style_core.settings.Settings` or a mapping of its fields.
        masks: one mask per style (see :mod:`style_core.masks`): each style paints only where
            its mask is white; where no mask covers, the photo is kept as it is. Soft edges blend.
        style_masks: per style, a mask of the painting (or None) whose white part the style is
            taken from.
        init: a previous result (a :class:`~style_core.events.Result`, path, image or tensor)
            to refine: the run starts from it at full size.
        anchor: a picture to stay close to where its mask says (see
            :class:`~style_core.objective.Anchor`); video uses it to tie a frame to the last.
        max_pixels: the most pixels an input image may have.

    Raises :class:`~style_core.errors.StyleCoreError` subclasses for bad input, here, before
    any long work.
    """

    def __init__(
        self,
        content: ImageInput,
        styles: ImageInput | Sequence[ImageInput],
        settings: Settings | Mapping[str, Any] | None = None,
        *,
        masks: Sequence[MaskInput] | None = None,
        style_masks: Sequence[MaskInput | None] | None = None,
        init: ImageInput | Result | None = None,
        anchor: Anchor | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        if not isinstance(settings, Settings):
            settings = Settings.from_options(settings or {})
        style_list = _as_list(styles)
        if not style_list:
            raise StyleCoreError("at least one style image is needed")
        self.settings = settings.for_styles(len(style_list))
        self.content = load_image(content, "content image", max_pixels=max_pixels)
        self.styles = [load_image(s, f"style image {i + 1}", max_pixels=max_pixels) for i, s in enumerate(style_list)]
        self.masks = None if masks is None else self._masks(masks)
        self.style_masks = self._style_masks(style_masks)
        self.init = None if init is None else _as_image(init, "init image", max_pixels)
        self.anchor = anchor
        self.device = resolve_device(settings.device)
        deepest = deepest_layer([*settings.content_layers, *settings.style_layers])
        self.core_side = settings.tile_size or core_side(tile_memory(self.device), deepest)
        self.plan: Plan = make_plan(
            settings, self.content.size, core_side=self.core_side, deepest=deepest, refine=self.init is not None
        )

    def _masks(self, masks: Sequence[MaskInput]) -> list[Tensor]:
        if self.settings.style_blend is not None:
            raise InvalidSettingError(
                "style_blend weighs paintings blended over the whole picture; with masks each paints its own region",
                hint="leave style_blend out",
            )
        if isinstance(masks, (str, os.PathLike)) or not isinstance(masks, Sequence):
            masks = [masks]
        loaded = load_masks(masks, "mask", [self.content.size] * len(self.styles))
        for i, mask in enumerate(loaded):
            if float(mask.max()) <= 0:
                raise ImageError(f"mask {i + 1} is black everywhere: style {i + 1} would paint nothing")
        return loaded

    def _style_masks(self, style_masks: Sequence[MaskInput | None] | None) -> list[Tensor | None]:
        if style_masks is None:
            return [None] * len(self.styles)
        if len(style_masks) != len(self.styles):
            raise ImageError(
                f"{len(style_masks)} style masks for {len(self.styles)} style images",
                hint="give one per style image, in order (None where the whole painting counts)",
            )
        loaded = []
        for i, (mask, style) in enumerate(zip(style_masks, self.styles, strict=True)):
            loaded.append(None if mask is None else load_masks([mask], "style mask", [style.size])[0])
            if loaded[-1] is not None and float(loaded[-1].max()) <= 0:
                raise ImageError(f"style mask {i + 1} is black everywhere: no part of painting {i + 1} is left")
        return loaded

    def __iter__(self) -> Iterator[Event]:
        return self.run()

    def run(self) -> Iterator[Event]:
        """Yield a :class:`~style_core.events.Progress` per iteration, then
        :class:`~style_core.events.Finished`. Closing the generator stops the work."""
        started = time.perf_counter()
        try:
            yield from _Run(self).events(started)
        except (torch.OutOfMemoryError, MemoryError) as exc:
            raise OutOfMemoryError(
                f"out of memory at {self.plan.width}x{self.plan.height} px on {self.device.type}"
            ) from exc

    def result(self) -> Result:
        """Run to the end and return the result."""
        for event in self.run():
            if isinstance(event, Finished):
                return event.result
        raise AssertionError("a run ended without a result")  # pragma: no cover


@dataclass(frozen=True)
class Region:
    """Part of the picture painted with some styles: their indices and blend weights, and its
    mask (1, 1, H, W) at the content's size, or None for the whole picture."""

    styles: tuple[int, ...]
    blend: tuple[float, ...]
    mask: Tensor | None


class _Run:
    """The state of one run: inputs prepared once, then stage after stage."""

    def __init__(self, job: Job) -> None:
        settings = self.settings = job.settings
        self.job = job
        self.device = job.device
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.content_color = job.content.rgb.to(self.device)
        styles = [s.rgb.to(self.device) for s in job.styles]
        if settings.preserve_colors == "luminance":
            self.content = grey(self.content_color)
            self.styles = [match_luminance(s, self.content_color) for s in styles]
        elif settings.preserve_colors == "match":
            self.content = self.content_color
            self.styles = [match_color_statistics(s, self.content_color) for s in styles]
        else:
            self.content, self.styles = self.content_color, styles
        self.blend = settings.style_blend or [1.0] * len(styles)
        layers = [*settings.content_layers, *settings.style_layers]
        self.net, self.weights = network(settings.weights, settings.pooling, deepest_layer(layers), str(self.device))
        self.loss_weights = LossWeights(
            content=settings.content_weight,
            style=BASE_STYLE_WEIGHT * settings.style_strength,
            tv=settings.tv_weight,
            content_layers=settings.content_layers,
            style_layers=layer_shares(settings),
        )

    def regions(self) -> list[Region]:
        """What each part of the picture is painted with: one region of all the styles blended,
        or, with masks, one region per style."""
        if self.job.masks is None:
            return [Region(tuple(range(len(self.styles))), tuple(self.blend), None)]
        return [Region((i,), (1.0,), mask.to(self.device)) for i, mask in enumerate(self.job.masks)]

    @torch.no_grad()
    def objective(self, stage: Stage) -> Objective:
        """Targets of one stage: content features at its size, style statistics at the style scale."""
        settings, weights = self.settings, self.loss_weights
        content = resize(self.content, stage.width, stage.height)
        loss_class = STYLE_LOSSES[settings.style_loss]
        losses = {name: loss_class(self.net.channels(name), self.generator) for name in weights.style_layers}
        deepest = deepest_layer(weights.layers)
        regions = self.regions()
        requests = {
            (r, name): Request(name, loss, region_at_layer(region.mask, stage.width, stage.height, name, deepest))
            for r, region in enumerate(regions)
            for name, loss in losses.items()
        }
        content_layers = settings.content_layers
        photo = measure(self.net, content, stage.tiles, maps=content_layers, requests=requests, energy=content_layers)
        side = max(stage.width, stage.height)
        paintings = []
        for style, style_mask in zip(self.styles, self.job.style_masks, strict=True):
            mask = None if style_mask is None else style_mask.to(self.device)
            style_requests = {name: Request(name, loss, mask) for name, loss in losses.items()}
            paintings.append(
                measure_style(
                    self.net, style, side, settings.style_scale, style_requests, content_layers, self.job.core_side
                )
            )
        painting_energy = blend([p.energy for p in paintings], self.blend)
        content_scale = {
            name: torch.maximum(photo.energy[name], CONTENT_FLOOR * painting_energy[name]) for name in content_layers
        }
        coverage = [1.0 if region.mask is None else float(region.mask.mean()) for region in regions]
        terms = []
        for (r, name), request in requests.items():
            region = regions[r]
            target = blend([paintings[i].statistics[name] for i in region.styles], region.blend)
            scale = request.loss.scale(photo.statistics[(r, name)], target)
            share = weights.style_layers[name] * coverage[r] / sum(coverage)
            terms.append(StyleTerm(name, request.loss, target, scale, share, request.weight))
        anchor = self.job.anchor
        if anchor is not None:
            anchor = Anchor(anchor.image.to(self.device), anchor.mask.to(self.device), anchor.weight)
            anchor = anchor.resized(stage.width, stage.height)
        return Objective(photo.maps, content_scale, terms, weights, anchor)

    def start_image(self, stage: Stage) -> Tensor:
        if self.job.init is not None:
            return resize(self.job.init.rgb.to(self.device), stage.width, stage.height)
        if self.settings.start == "noise":
            return torch.rand(1, 3, stage.height, stage.width, generator=self.generator).to(self.device)
        if self.settings.start == "style":
            return resize(self.styles[0], stage.width, stage.height)
        return resize(self.content, stage.width, stage.height)

    def evaluator(self, stage: Stage) -> Evaluate:
        """The loss and gradient of a picture at ``stage``: at once, or tile by tile."""
        objective = self.objective(stage)
        if len(stage.tiles) == 1:
            return WholeEvaluator(self.net, objective)
        return TiledEvaluator(self.net, objective, stage.tiles)

    def finish(self, image: Tensor) -> Tensor:
        """The optimised image as it is shown: luminance recombined with the content's chroma;
        with masks, the photo as it was wherever no mask covers (soft edges blend)."""
        if self.settings.preserve_colors == "luminance":
            image = recombine_luminance(image, self.content_color)
        if self.job.masks is not None:
            width, height = image.shape[-1], image.shape[-2]
            cover = sum(at_resolution(mask.to(image.device), width, height) for mask in self.job.masks).clamp(0, 1)
            image = cover * image + (1 - cover) * resize(self.content_color, width, height)
        return image.detach().float().clamp(0, 1).cpu()

    def recipe(self) -> dict[str, Any]:
        return {
            "settings": self.settings.as_dict(),
            "refined": self.job.init is not None,
            "masks": 0 if self.job.masks is None else len(self.job.masks),
            "output_size": [self.job.plan.width, self.job.plan.height],
            "weights": {
                "source": self.weights.source,
                "convention": self.weights.convention.name,
                "fingerprint": self.weights.fingerprint(),
            },
            "device": str(self.device),
            "versions": {"style_core": __version__, "torch": torch.__version__, "python": platform.python_version()},
        }

    def events(self, started: float) -> Iterator[Event]:
        plan = self.job.plan
        reporter = Reporter(plan, self.settings.preview_every, started)
        image: Tensor | None = None
        curvature: float | None = None
        for index, stage in enumerate(plan.stages):
            reporter.begin_stage(index)
            start = self.start_image(stage) if image is None else resize(image, stage.width, stage.height)
            if curvature is not None:  # the inverse curvature of a mean over pixels grows with their count
                curvature *= stage.pixels / (image.shape[-1] * image.shape[-2])
            history = max(2, min(LBFGS_HISTORY, int(HISTORY_MEMORY // (24 * stage.pixels))))
            optimizer = StageOptimizer(
                start, self.evaluator(stage), self.settings.optimizer, history=history, scale=curvature
            )
            convergence = Convergence()
            for i in range(stage.steps):
                losses = optimizer.step()
                settled = convergence.settled(losses["total"])
                if settled:
                    reporter.end_stage_early(i + 1)
                last = settled or i == stage.steps - 1
                preview = None
                if reporter.wants_preview(i, last):
                    preview = to_pil(self.finish(optimizer.current()), self.job.content.alpha)
                yield reporter.iteration(losses, preview)
                if settled:
                    break
            image, curvature = optimizer.current(), optimizer.curvature
        result = Result(self.finish(image), self.job.content.alpha, self.recipe())
        yield Finished(reporter.step, plan.width, plan.height, time.perf_counter() - started, result)
