"""Running a :class:`~style_core.job.Job`: inputs prepared once, then stage after stage.

For each stage the targets are measured once (:mod:`~style_core.targets`: the content's
features, each painting's statistics, per region), the objective is evaluated whole or in
tiles (:mod:`~style_core.evaluate`), the pixels are optimised (:mod:`~style_core.optimize`),
and each iteration becomes an event (:mod:`~style_core.report`). A detail stage
(:mod:`~style_core.plan`) takes the previous result, enlarged, as its content and the fine
style layers only.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from . import __version__
from .color import grey, match_color_statistics, match_luminance, recombine_luminance
from .evaluate import TiledEvaluator, WholeEvaluator
from .events import Event, Finished, Result
from .image import resize, to_pil
from .masks import at_resolution
from .network import network
from .objective import Anchor, LossWeights, Objective, StyleTerm
from .optimize import LBFGS_HISTORY, Convergence, Evaluate, StageOptimizer
from .plan import DETAIL_CONTENT_LAYER, Stage, detail_layers
from .precision import autocast, choose
from .report import Reporter
from .settings import Settings
from .style_losses import STYLE_LOSSES, blend
from .targets import Request, measure, measure_style, region_at_layer
from .vgg import deepest_layer

if TYPE_CHECKING:
    from .job import Job

#: The style weight at ``style_strength=1``.
BASE_STYLE_WEIGHT = 17.0
#: Style layer weights when none are given: the layers whose statistics carry the
#: brush-stroke texture (relu2_1) and the motifs (relu4_1) count double; relu5_1, whose
#: statistics are coarse enough to rearrange the layout (faces lose their features), a fifth.
DEFAULT_LAYER_WEIGHTS = {"relu2_1": 2.0, "relu4_1": 2.0, "relu5_1": 0.2}
#: The content term is divided by the content's feature energy, but by no less than this share
#: of the painting's (see :mod:`style_core.objective`).
CONTENT_FLOOR = 0.5
#: Memory for L-BFGS's curvature history, in bytes: big stages keep fewer pairs.
HISTORY_MEMORY = 1e9


def layer_shares(settings: Settings) -> dict[str, float]:
    """Each style layer's share of the style term (they sum to 1)."""
    raw = settings.style_layer_weights or [DEFAULT_LAYER_WEIGHTS.get(n, 1.0) for n in settings.style_layers]
    total = float(sum(raw))
    return {name: weight / total for name, weight in zip(settings.style_layers, raw, strict=True)}


@dataclass(frozen=True)
class Region:
    """Part of the picture painted with some styles: their indices and blend weights, and its
    mask (1, 1, H, W) at the content's size, or None for the whole picture."""

    styles: tuple[int, ...]
    blend: tuple[float, ...]
    mask: Tensor | None


class Runner:
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
        self.precision = choose(settings.precision, self.device)
        self.loss_weights = LossWeights(
            content=settings.content_weight,
            style=BASE_STYLE_WEIGHT * settings.style_strength,
            tv=settings.tv_weight,
            content_layers=settings.content_layers,
            style_layers=layer_shares(settings),
        )
        fine = detail_layers(settings)
        shares = {name: self.loss_weights.style_layers[name] for name in fine}
        self.detail_weights = LossWeights(
            content=settings.content_weight,
            style=self.loss_weights.style,
            tv=settings.tv_weight,
            content_layers=(DETAIL_CONTENT_LAYER,),
            style_layers={name: share / (sum(shares.values()) or 1.0) for name, share in shares.items()},
        )

    def regions(self) -> list[Region]:
        """What each part of the picture is painted with: one region of all the styles blended,
        or, with masks, one region per style."""
        if self.job.masks is None:
            return [Region(tuple(range(len(self.styles))), tuple(self.blend), None)]
        return [Region((i,), (1.0,), mask.to(self.device)) for i, mask in enumerate(self.job.masks)]

    @torch.no_grad()
    def objective(self, stage: Stage, previous: Tensor | None = None) -> Objective:
        """Targets of one stage: content features at its size, style statistics at the style
        scale. A detail stage's content is the ``previous`` stage's result, enlarged."""
        settings = self.settings
        weights = self.detail_weights if stage.detail else self.loss_weights
        content = resize(self.content if previous is None else previous, stage.width, stage.height)
        loss_class = STYLE_LOSSES[settings.style_loss]
        losses = {name: loss_class(self.net.channels(name), self.generator) for name in weights.style_layers}
        deepest = deepest_layer(weights.layers)
        regions = self.regions()
        requests = {
            (r, name): Request(name, loss, region_at_layer(region.mask, stage.width, stage.height, name, deepest))
            for r, region in enumerate(regions)
            for name, loss in losses.items()
        }
        content_layers = weights.content_layers
        side = max(stage.width, stage.height)
        with autocast(self.device, self.precision):
            photo = measure(
                self.net, content, stage.tiles, maps=content_layers, requests=requests, energy=content_layers
            )
            paintings = []
            for style, style_mask in zip(self.styles, self.job.style_masks, strict=True):
                mask = None if style_mask is None else style_mask.to(self.device)
                requested = {name: Request(name, loss, mask) for name, loss in losses.items()}
                scale, tiling = settings.style_scale, self.job.tiling
                paintings.append(
                    measure_style(
                        self.net, style, side, scale, requested, content_layers, tiling, enlarge=not stage.detail
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

    def evaluator(self, stage: Stage, previous: Tensor | None) -> Evaluate:
        """The loss and gradient of a picture at ``stage``: at once, or tile by tile; a detail
        stage's content is the ``previous`` result."""
        objective = self.objective(stage, previous if stage.detail else None)
        if len(stage.tiles) == 1:
            return WholeEvaluator(self.net, objective, self.precision)
        return TiledEvaluator(self.net, objective, stage.tiles, self.precision)

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
                start, self.evaluator(stage, image), self.settings.optimizer, history=history, scale=curvature
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
