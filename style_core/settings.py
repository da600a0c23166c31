"""Every setting of a stylisation, with its default, in one place.

The CLI options, the Gradio controls and the GIMP plug-in's arguments are derived from
:class:`Settings`; :meth:`Settings.validate` gives errors that name the allowed values.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Literal

from .color import PRESERVE_COLORS, PreserveColors
from .errors import InvalidSettingError
from .vgg import LAYER_NAMES, Pooling

Init = Literal["content", "noise", "style"]
Optimizer = Literal["lbfgs", "adam"]
Quality = Literal["draft", "balanced", "high"]

INITS: tuple[str, ...] = ("content", "noise", "style")
OPTIMIZERS: tuple[str, ...] = ("lbfgs", "adam")
POOLINGS: tuple[str, ...] = ("max", "avg")

#: Iterations at the final size per quality preset; coarser stages get more (see schedule).
QUALITY_STEPS: dict[str, int] = {"draft": 5, "balanced": 10, "high": 30}

MIN_SIZE, MAX_SIZE = 64, 8192
MAX_STEPS = 10_000


@dataclass
class Settings:
    """How to stylise. Sizes are the long side in pixels; weights are relative.

    Attributes:
        size: long side of the output.
        quality: preset for the number of iterations (``draft``, ``balanced``, ``high``).
        steps: iterations at the final size; overrides ``quality``. Coarser stages get more.
        style_strength: multiplies the style weight; 1 is the default look, 0 keeps the content.
        style_blend: one weight per style image (default: equal).
        style_scale: size of the style image relative to the output (0.5 = finer brush strokes
            of the style at half the size, 2 = bigger ones).
        preserve_colors: ``off``, ``luminance`` (transfer luminance only) or ``match`` (map the
            style's colours onto the content's first).
        init: start from the ``content``, from ``noise`` or from the ``style`` image.
        optimizer: ``lbfgs`` or ``adam``.
        content_weight, tv_weight: weights of the content and total-variation terms.
        content_layers, style_layers, style_layer_weights: VGG-19 layers and their weights
            (default: ``relu2_1`` and ``relu4_1`` count double, other layers once).
        pooling: ``max`` or ``avg``.
        start_size: long side of the first, coarsest stage; stages grow by √2 to ``size``.
        seed: makes runs reproducible (noise init, CPU).
        preview_every: a preview image every this many iterations (0: only at stage ends).
        device: ``cuda``, ``mps``, ``cpu`` or ``None`` for the best available.
        weights: ``auto``, ``hub``, ``offline`` or a file path (see :mod:`style_core.weights`).
    """

    size: int = 512
    quality: Quality = "balanced"
    steps: int | None = None
    style_strength: float = 1.0
    style_blend: list[float] | None = None
    style_scale: float = 1.0
    preserve_colors: PreserveColors = "off"
    init: Init = "content"
    optimizer: Optimizer = "lbfgs"
    content_weight: float = 1.0
    tv_weight: float = 0.0
    content_layers: tuple[str, ...] = ("relu4_2",)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    style_layer_weights: tuple[float, ...] | None = None
    pooling: Pooling = "max"
    start_size: int = 128
    seed: int = 0
    preview_every: int = 5
    device: str | None = None
    weights: str | None = None

    @property
    def final_steps(self) -> int:
        return self.steps if self.steps is not None else QUALITY_STEPS[self.quality]

    def validate(self, num_styles: int = 1) -> Settings:
        """Raise :class:`InvalidSettingError` for the first bad value; return self."""
        _choice("quality", self.quality, tuple(QUALITY_STEPS))
        _choice("preserve_colors", self.preserve_colors, PRESERVE_COLORS)
        _choice("init", self.init, INITS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("pooling", self.pooling, POOLINGS)
        _int_range("size", self.size, MIN_SIZE, MAX_SIZE)
        _int_range("start_size", self.start_size, MIN_SIZE, MAX_SIZE)
        if self.steps is not None:
            _int_range("steps", self.steps, 1, MAX_STEPS)
        _int_range("preview_every", self.preview_every, 0, MAX_STEPS)
        _number_range("style_strength", self.style_strength, 0, 1000)
        _number_range("style_scale", self.style_scale, 0.1, 4)
        _number_range("content_weight", self.content_weight, 0, 1e6)
        _number_range("tv_weight", self.tv_weight, 0, 1e6)
        for layer in (*self.content_layers, *self.style_layers):
            if layer not in LAYER_NAMES:
                raise InvalidSettingError(f"unknown layer {layer!r}; choose from {', '.join(LAYER_NAMES)}")
        if not self.style_layers or not self.content_layers:
            raise InvalidSettingError("content_layers and style_layers must each name at least one layer")
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise InvalidSettingError(
                f"style_layer_weights has {len(self.style_layer_weights)} values for "
                f"{len(self.style_layers)} style layers"
            )
        if self.style_blend is not None:
            if len(self.style_blend) != num_styles:
                raise InvalidSettingError(
                    f"style_blend has {len(self.style_blend)} weights for {num_styles} style images"
                )
            for weight in self.style_blend:
                _number_range("style_blend weight", weight, 0, 1e6)
            if sum(self.style_blend) <= 0:
                raise InvalidSettingError("style_blend weights must not all be zero")
        return self

    def as_dict(self) -> dict:
        """Plain JSON-ready values of every setting (for the recipe)."""
        return asdict(self)


def setting_names() -> list[str]:
    """The names of all settings, as keyword arguments of :func:`style_core.stylize`."""
    return [f.name for f in fields(Settings)]


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidSettingError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _int_range(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSettingError(f"{name} must be a whole number from {low} to {high}; got {value!r}")


def _number_range(name: str, value: object, low: float, high: float) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        raise InvalidSettingError(f"{name} must be a number from {low:g} to {high:g}; got {value!r}")
