"""Running one stylization: the inputs prepared once, then the stages, coarse to fine.

:func:`run` is the whole story; :meth:`Runner.paint_stage` is one stage of it, step by step.
The details live behind well-named calls: colours (:mod:`.color`), regions (:mod:`.regions`),
targets (:mod:`.targets`), the objective whole or in tiles (:mod:`.evaluate`), the optimiser
(:mod:`.optimize`) and the clock that turns iterations into events (:mod:`.progress`).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import torch
from torch import Tensor

from .._version import __version__
from ..events import Event, Finished, Progress, Result
from ..image import resize, to_pil
from . import plan
from .color import prepare_colors, restore_colors
from .evaluate import TiledEvaluator, WholeEvaluator
from .inputs import RunInputs
from .network import network
from .objective import CONTENT_FLOOR, Anchor, LossWeights, Objective, StyleTerm
from .optimize import LBFGS_HISTORY, Convergence, Evaluate, StageOptimizer
from .precision import choose
from .progress import ProgressClock
from .regions import compose, regions
from .style_losses import STYLE_LOSSES, blend
from .targets import StatisticsRequest, measure, measure_style, region_at_layer
from .vgg import VGG19Features, deepest_layer
from .weights import VGGWeights

#: Memory for L-BFGS's curvature history, in bytes: big stages keep fewer pairs.
HISTORY_MEMORY = 1e9


def run(inputs: RunInputs, started: float, partway: Callable[[Progress], None] | None = None) -> Iterator[Event]:
    """The whole run: a :class:`~style_core.events.Progress` per iteration of each stage, coarse
    to fine, then :class:`~style_core.events.Finished` with the result. ``started`` is
    ``time.perf_counter()`` when the door asked for the run; ``partway``, when given, also hears
    a :class:`~style_core.events.Progress` after each tile of a stage computed tile by tile."""
    runner = Runner(inputs)
    clock = ProgressClock(inputs.plan, inputs.settings.preview_every, started)
    image: Tensor | None = None
    curvature: float | None = None
    for index, stage in enumerate(inputs.plan.stages):
        if index and stage.detail != inputs.plan.stages[index - 1].detail:
            curvature = None  # another objective: the layout stages' curvature says nothing of it
        image, curvature = yield from runner.paint_stage(index, stage, image, curvature, clock, partway)
    result = Result(runner.finish(image), inputs.content.alpha, runner.recipe())
    yield Finished(clock.step, inputs.plan.width, inputs.plan.height, time.perf_counter() - started, result)


class Runner:
    """What every stage of a run shares, prepared once: the pictures as the network sees them,
    the network, the regions and the loss weights."""

    def __init__(self, inputs: RunInputs) -> None:
        settings = self.settings = inputs.settings
        self.inputs = inputs
        self.device = inputs.device
        self.generator = torch.Generator().manual_seed(settings.seed)
        self.content_color = inputs.content.rgb.to(self.device)
        self.content, self.styles = prepare_colors(
            settings.preserve_colors, self.content_color, [s.rgb.to(self.device) for s in inputs.styles]
        )
        masks = None if inputs.masks is None else [mask.to(self.device) for mask in inputs.masks]
        self.blend = settings.style_blend or [1.0] * len(self.styles)
        self.regions = regions(masks, self.blend)
        _, self.weights = self.network(settings.pooling)  # loaded before the first stage
        self.precision = choose(settings.precision, self.device)
        self.loss_weights = LossWeights.from_settings(settings)

    def network(self, pooling: str) -> tuple[VGG19Features, VGGWeights]:
        """The run's feature extractor, pooling by ``pooling`` (built once per process)."""
        settings = self.settings
        return network(settings.weights, pooling, deepest_layer(settings.layers), str(self.device))

    def paint_stage(
        self,
        index: int,
        stage: plan.Stage,
        previous: Tensor | None,
        curvature: float | None,
        clock: ProgressClock,
        partway: Callable[[Progress], None] | None = None,
    ) -> Generator[Progress, None, tuple[Tensor, float | None]]:
        """One stage: yields a :class:`~style_core.events.Progress` per iteration and returns
        the stage's picture (1, 3, H, W) and the optimiser's curvature, for the next stage."""
        clock.begin_stage(index)
        # 1. Where the stage starts: the previous stage's picture scaled up, or the start image.
        if previous is None:
            start = self.start_image(stage)
        else:
            start = resize(previous, stage.width, stage.height)
            if curvature is not None:  # the inverse curvature of a mean over pixels grows with their count
                curvature *= stage.pixels / (previous.shape[-1] * previous.shape[-2])
        # 2. The targets, measured once: the photo's features (a detail stage's photo is the
        # previous picture), each painting's statistics.
        objective = self.objective(stage, previous if stage.detail else None)
        # 3. The loss and its gradient for any picture of the stage: at once, or tile by tile
        #    (then ``partway`` hears how far each iteration is, tile by tile).
        losses: dict[str, float] = {}

        def report(share: float) -> None:
            if partway is not None:
                partway(clock.partway(share, losses))

        evaluate = self.evaluator(stage, objective, report)
        # 4. The optimiser, keeping as much curvature history as the memory allows.
        history = max(2, min(LBFGS_HISTORY, int(HISTORY_MEMORY // (24 * stage.pixels))))
        optimizer = StageOptimizer(start, evaluate, self.settings.optimizer, history=history, scale=curvature)
        # 5. Iterate until the planned steps are done or the loss settles; each is an event.
        convergence = Convergence()
        for i in range(stage.steps):
            losses = optimizer.step()
            settled = convergence.settled(losses["total"])
            if settled:
                clock.end_stage_early(i + 1)
            preview = None
            if clock.wants_preview(i, last=settled or i == stage.steps - 1):
                preview = to_pil(self.finish(optimizer.current()), self.inputs.content.alpha)
            yield clock.iteration(losses, preview)
            if settled:
                break
        return optimizer.current(), optimizer.curvature

    def start_image(self, stage: plan.Stage) -> Tensor:
        """The first stage's picture (1, 3, H, W): the result to refine, noise, a painting or the photo."""
        if self.inputs.init is not None:
            return resize(self.inputs.init.rgb.to(self.device), stage.width, stage.height)
        if self.settings.start == "noise":
            return torch.rand(1, 3, stage.height, stage.width, generator=self.generator).to(self.device)
        if self.settings.start == "style":
            return resize(self.styles[0], stage.width, stage.height)
        return resize(self.content, stage.width, stage.height)

    @torch.no_grad()
    def objective(self, stage: plan.Stage, previous: Tensor | None = None) -> Objective:
        """Targets of one stage: content features at its size, style statistics at the style
        scale. A detail stage (see :mod:`.plan`) holds the ``previous`` stage's picture, enlarged,
        at a shallow layer, and takes its detail layers alone."""
        settings = self.settings
        weights = self.loss_weights
        loss_class = STYLE_LOSSES[settings.style_loss]
        make_loss = loss_class.for_detail if stage.detail else loss_class
        if stage.detail:
            hold = loss_class.detail_content_factor
            weights = weights.for_detail(stage.detail_layers, plan.DETAIL_CONTENT_LAYER, hold)
        content = resize(self.content if previous is None else previous, stage.width, stage.height)
        net, _ = self.network(stage.pooling)
        losses = {name: make_loss(net.channels(name), self.generator) for name in weights.style_layers}
        deepest = deepest_layer(weights.layers)
        requests = {
            (r, name): StatisticsRequest(
                name, loss, region_at_layer(region.mask, stage.width, stage.height, name, deepest)
            )
            for r, region in enumerate(self.regions)
            for name, loss in losses.items()
        }
        content_layers = weights.content_layers
        side, precision = max(stage.width, stage.height), self.precision
        photo = measure(
            net, content, stage.tiles, maps=content_layers, requests=requests, energy=content_layers,
            precision=precision,
        )  # fmt: skip
        paintings = []
        for style, style_mask in zip(self.styles, self.inputs.style_masks, strict=True):
            mask = None if style_mask is None else style_mask.to(self.device)
            requested = {name: StatisticsRequest(name, loss, mask) for name, loss in losses.items()}
            style_args = (side, settings.style_scale, requested, content_layers, self.inputs.tiling, precision)
            paintings.append(measure_style(net, style, *style_args))
        painting_energy = blend([p.energy for p in paintings], self.blend)
        content_scale = {
            name: torch.maximum(photo.energy[name], CONTENT_FLOOR * painting_energy[name]) for name in content_layers
        }
        coverage = [1.0 if region.mask is None else float(region.mask.mean()) for region in self.regions]
        terms = []
        for (r, name), request in requests.items():
            region = self.regions[r]
            target = blend([paintings[i].statistics[name] for i in region.styles], region.blend)
            scale = request.loss.scale(photo.statistics[(r, name)], target)
            share = weights.style_layers[name] * coverage[r] / sum(coverage)
            terms.append(StyleTerm(name, request.loss, target, scale, share, request.weight))
        anchor = self.inputs.anchor
        if anchor is not None:
            anchor = Anchor(anchor.image.to(self.device), anchor.mask.to(self.device), anchor.weight)
            anchor = anchor.resized(stage.width, stage.height)
        return Objective(photo.maps, content_scale, terms, weights, anchor)

    def evaluator(
        self, stage: plan.Stage, objective: Objective, partway: Callable[[float], None] | None = None
    ) -> Evaluate:
        """The loss and gradient of a picture at ``stage``: at once, or tile by tile (then
        ``partway`` hears the share of each evaluation done, tile by tile)."""
        net, _ = self.network(stage.pooling)
        if len(stage.tiles) == 1:
            return WholeEvaluator(net, objective, self.precision)
        return TiledEvaluator(net, objective, stage.tiles, self.precision, partway)

    def finish(self, image: Tensor) -> Tensor:
        """The optimised image as it is shown: the colours given back; with masks, the photo as it
        was wherever no mask covers (soft edges blend)."""
        image = restore_colors(self.settings.preserve_colors, image, self.content_color)
        image = compose(image, self.content_color, self.inputs.masks)
        return image.detach().float().clamp(0, 1).cpu()

    def recipe(self) -> dict[str, Any]:
        """How the result was made: settings, inputs, weights, device and versions."""
        inputs = self.inputs
        return {
            "settings": self.settings.as_dict(),
            "refined": inputs.init is not None,
            "masks": 0 if inputs.masks is None else len(inputs.masks),
            "output_size": [inputs.plan.width, inputs.plan.height],
            "weights": {
                "source": self.weights.source,
                "convention": self.weights.convention.name,
                "fingerprint": self.weights.fingerprint(),
            },
            "device": str(self.device),
            "versions": {"style_core": __version__, "torch": torch.__version__, "python": platform.python_version()},
        }
