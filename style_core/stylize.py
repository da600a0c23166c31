"""The entry points: :func:`stylize_iter` yields progress events; :func:`stylize` returns the image.

Data flow: images in → colour preparation → for each coarse-to-fine stage, targets built
once (content features, blended style Gram matrices) → iterations, each yielding a
:class:`~style_core.events.Progress` → the result. Closing the generator stops the work at
the next iteration.
"""

from __future__ import annotations

import functools
import logging
import platform
import time
from collections.abc import Iterator, Sequence

import torch
from PIL import Image
from torch import Tensor

from . import __version__
from .color import grey, match_color_statistics, match_luminance, recombine_luminance
from .device import resolve_device
from .errors import OutOfMemoryError, StyleCoreError
from .events import Progress
from .image import DEFAULT_MAX_PIXELS, ImageInput, RGBImage, load_image, resize, size_for_long_side, to_pil
from .losses import LossWeights, StyleObjective, blend_grams, gram_matrix
from .optimize import StageOptimizer
from .schedule import Stage, schedule
from .settings import Settings
from .vgg import VGG19Features, deepest_layer
from .weights import VGGWeights, load_weights

log = logging.getLogger(__name__)

#: The style weight at ``style_strength=1``.
BASE_STYLE_WEIGHT = 14.0
#: Style layer weights when none are given: the layers whose Gram statistics carry the
#: brush-stroke texture (relu2_1) and the motifs (relu4_1) count double; relu5_1, whose
#: statistics are coarse enough to rearrange the layout (faces lose their features), a fifth.
DEFAULT_LAYER_WEIGHTS = {"relu2_1": 2.0, "relu4_1": 2.0, "relu5_1": 0.2}
#: A stage stops early when its best loss fell by less than this share over the last 5
#: iterations (the best, not the latest: a one-step spike of L-BFGS is not convergence).
CONVERGED_GAIN = 1e-3


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


def _stalled(history: list[float], window: int = 5) -> bool:
    """True when the lowest loss of the last ``window`` iterations improved on the lowest
    before them by less than :data:`CONVERGED_GAIN` of it."""
    best_before = min(history[:-window])
    return best_before - min(history[-window:]) < CONVERGED_GAIN * abs(best_before)


def _as_list(styles: ImageInput | Sequence[ImageInput]) -> list[ImageInput]:
    if isinstance(styles, (list, tuple)):
        return list(styles)
    return [styles]


def _layer_shares(settings: Settings) -> dict[str, float]:
    raw = settings.style_layer_weights or [DEFAULT_LAYER_WEIGHTS.get(n, 1.0) for n in settings.style_layers]
    total = float(sum(raw)) or 1.0
    return {name: weight / total for name, weight in zip(settings.style_layers, raw, strict=True)}


class _Run:
    """The state of one stylisation: inputs prepared once, then stage after stage."""

    def __init__(self, content: RGBImage, styles: list[RGBImage], settings: Settings) -> None:
        self.settings = settings
        self.device = resolve_device(settings.device)
        self.alpha = content.alpha
        self.content_color = content.rgb.to(self.device)
        self.width, self.height = size_for_long_side(*content.size, settings.size)
        style_tensors = [s.rgb.to(self.device) for s in styles]
        mode = settings.preserve_colors
        if mode == "luminance":
            self.content = grey(self.content_color)
            self.styles = [match_luminance(s, self.content_color) for s in style_tensors]
        elif mode == "match":
            self.content = self.content_color
            self.styles = [match_color_statistics(s, self.content_color) for s in style_tensors]
        else:
            self.content, self.styles = self.content_color, style_tensors
        self.blend = settings.style_blend or [1.0] * len(styles)
        layers = [*settings.content_layers, *settings.style_layers]
        self.net, self.weights = network(settings.weights, settings.pooling, deepest_layer(layers), str(self.device))
        self.loss_weights = LossWeights(
            content=settings.content_weight,
            style=BASE_STYLE_WEIGHT * settings.style_strength,
            tv=settings.tv_weight,
            content_layers=tuple(settings.content_layers),
            style_layers=_layer_shares(settings),
        )

    def stage_dims(self, stage: Stage) -> tuple[int, int]:
        return size_for_long_side(self.width, self.height, stage.long_side)

    @torch.no_grad()
    def objective(self, stage: Stage) -> StyleObjective:
        """Targets of one stage: content features at its size, style Grams at the style scale."""
        width, height = self.stage_dims(stage)
        content = resize(self.content, width, height)
        content_features = self.net(content, self.loss_weights.layers)
        style_side = max(16, round(stage.long_side * self.settings.style_scale))
        grams = []
        for style in self.styles:
            style = resize(style, *size_for_long_side(style.shape[-1], style.shape[-2], style_side))
            features = self.net(style, list(self.loss_weights.style_layers))
            grams.append({name: gram_matrix(f) for name, f in features.items()})
        return StyleObjective(content_features, blend_grams(grams, self.blend), self.loss_weights).to(self.device)

    def initial_image(self, stage: Stage) -> Tensor:
        width, height = self.stage_dims(stage)
        if self.settings.init == "noise":
            generator = torch.Generator().manual_seed(self.settings.seed)
            return torch.rand(1, 3, height, width, generator=generator).to(self.device)
        if self.settings.init == "style":
            return resize(self.styles[0], width, height)
        return resize(self.content, width, height)

    def finish(self, image: Tensor) -> Tensor:
        """The optimised image as it is shown: luminance recombined with the content's chroma."""
        if self.settings.preserve_colors == "luminance":
            image = recombine_luminance(image, self.content_color)
        return image.detach().float().clamp(0, 1).cpu()

    def recipe(self) -> dict:
        return {
            "settings": self.settings.as_dict(),
            "output_size": [self.width, self.height],
            "weights": {
                "source": self.weights.source,
                "convention": self.weights.convention.name,
                "fingerprint": self.weights.fingerprint(),
            },
            "device": str(self.device),
            "versions": {"style_core": __version__, "torch": torch.__version__, "python": platform.python_version()},
        }

    def iterate(self, started: float) -> Iterator[Progress]:
        """Run every stage, yielding one event per iteration and a final one with the result."""
        settings = self.settings
        stages = schedule(settings.size, settings.start_size, settings.final_steps)
        costs = [self.stage_dims(s)[0] * self.stage_dims(s)[1] for s in stages]
        planned = [s.steps for s in stages]
        done_work, step = 0.0, 0
        image: Tensor | None = None
        losses: dict[str, float] = {}
        for index, stage in enumerate(stages):
            stage_started, stage_work = time.perf_counter(), 0.0
            width, height = self.stage_dims(stage)
            start = self.initial_image(stage) if image is None else resize(image, width, height)
            optimizer = StageOptimizer(start, self.net, self.objective(stage), settings.optimizer)
            history: list[float] = []
            for i in range(stage.steps):
                losses = optimizer.step()
                step += 1
                done_work += costs[index]
                stage_work += costs[index]
                history.append(losses["total"])
                converged = i >= 10 and _stalled(history)
                if converged:
                    planned[index] = i + 1
                    log.debug("stage %d converged after %d iterations", index + 1, i + 1)
                last = i == stage.steps - 1 or converged
                show = last or (settings.preview_every and (i + 1) % settings.preview_every == 0)
                total_work = sum(p * c for p, c in zip(planned, costs, strict=True))
                seconds_per_work = (time.perf_counter() - stage_started) / stage_work
                yield Progress(
                    step=step,
                    total_steps=sum(planned),
                    stage=index + 1,
                    num_stages=len(stages),
                    width=width,
                    height=height,
                    losses=losses,
                    elapsed=time.perf_counter() - started,
                    fraction=min(done_work / total_work, 1.0),
                    eta=max(total_work - done_work, 0.0) * seconds_per_work,
                    image=to_pil(self.finish(optimizer.current()), self.alpha) if show else None,
                )
                if converged:
                    break
            image = optimizer.current()
        result = self.finish(image)
        yield Progress(
            step=step,
            total_steps=step,
            stage=len(stages),
            num_stages=len(stages),
            width=self.width,
            height=self.height,
            losses=losses,
            elapsed=time.perf_counter() - started,
            fraction=1.0,
            eta=0.0,
            image=to_pil(result, self.alpha),
            done=True,
            rgb=result,
            alpha=self.alpha,
            recipe=self.recipe(),
        )


def stylize_iter(
    content: ImageInput,
    styles: ImageInput | Sequence[ImageInput],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    **options,
) -> Iterator[Progress]:
    """Stylise ``content`` with one or more ``styles``, yielding a :class:`Progress` per iteration.

    ``content`` and each style may be a path, a PIL image, a numpy array (H, W[, C]) or a
    tensor (C, H, W). ``options`` are the fields of :class:`~style_core.settings.Settings`
    (``size=512``, ``style_strength=1.0``, ``preserve_colors="off"``, ...). The last event has
    ``done=True`` and carries the result in ``image`` (PIL) and ``rgb`` (tensor). Closing the
    generator (or breaking out of the loop) stops the work after the current iteration.

    Raises :class:`~style_core.errors.StyleCoreError` subclasses for bad input.
    """
    started = time.perf_counter()
    try:
        settings = Settings(**options)
    except TypeError as exc:
        raise StyleCoreError(f"{exc}; the settings are: {', '.join(Settings.__dataclass_fields__)}") from None
    style_list = _as_list(styles)
    if not style_list:
        raise StyleCoreError("at least one style image is needed")
    settings.validate(num_styles=len(style_list))
    content_image = load_image(content, "content image", max_pixels=max_pixels)
    style_images = [load_image(s, f"style image {i + 1}", max_pixels=max_pixels) for i, s in enumerate(style_list)]
    run = _Run(content_image, style_images, settings)
    torch.manual_seed(settings.seed)
    if run.device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    try:
        yield from run.iterate(started)
    except (torch.OutOfMemoryError, MemoryError) as exc:
        raise OutOfMemoryError(
            f"out of memory at {run.width}x{run.height} px on {run.device.type}; choose a smaller size"
        ) from exc


def preload(weights: str | None = None, *, device: str | None = None, pooling: str = "max") -> None:
    """Load the weights and build the network now (a download, on first use of the Hub), so
    that the first :func:`stylize` call doesn't wait for it. Later runs reuse them."""
    network(weights, pooling, "relu5_1", str(resolve_device(device)))


def stylize(content: ImageInput, styles: ImageInput | Sequence[ImageInput], **options) -> Image.Image:
    """Stylise ``content`` with ``styles`` and return the result as a PIL image (RGBA if the
    content had alpha). Takes the same arguments as :func:`stylize_iter`."""
    for event in stylize_iter(content, styles, **options):
        if event.done:
            return event.image
    raise AssertionError("stylize_iter ended without a result")  # pragma: no cover
