"""Every setting of a run, declared once.

Each field of :class:`Settings` carries its :class:`Spec`: the kind of value, the default,
the range or the choices with their labels, a label and a one-line help, and a tier
(``basic`` or ``advanced``). Every door is generated from these specs: the commands' options
(:mod:`style_core.cli.options`), the app's widgets and API parameters (``style_app/controls.py``,
``style_app/parameters.py``) and the GIMP procedure's arguments (the plug-in reads
:func:`schema_record`, written as JSON beside it at install time). A
door may narrow a range for a reason (the app's size cap on a CPU) as an override of a
spec, never as a second list.

Building a :class:`Settings` checks and normalises every value (numpy numbers become
Python numbers, a single layer name becomes a one-layer tuple); a bad value raises
:class:`~style_core.errors.InvalidSettingError` naming the setting and what it accepts.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal

from .errors import InvalidSettingError

Kind = Literal["int", "float", "choice", "layers", "floats", "text"]
Tier = Literal["basic", "advanced"]

#: The layers a content or style loss can tap: VGG-19's ReLU outputs, in forward order.
RELU_LAYERS: tuple[str, ...] = tuple(
    f"relu{block}_{conv}" for block, convs in enumerate((2, 2, 4, 4, 4), start=1) for conv in range(1, convs + 1)
)


@dataclass(frozen=True)
class Spec:
    """The declaration of one setting.

    Attributes:
        name: the keyword of :func:`style_core.stylize` (``style_strength``).
        kind: ``int``, ``float``, ``choice`` (one of ``choices``), ``layers`` (several of
            ``choices``), ``floats`` (a list of numbers) or ``text``.
        default: the value when none is given.
        label: a short name for a widget ("Style strength").
        help: one line saying what it does and what the special values mean.
        tier: ``basic`` (always shown) or ``advanced`` (behind an "Advanced" fold).
        minimum, maximum: the allowed range of a number (of each number of ``floats``).
        step: a sensible increment for a slider or spin box.
        choices: allowed values and their labels, in the order to show them.
        optional: None is allowed (and means "automatic").
        ui: offered by the interactive doors (the app and the GIMP plug-in); the others
            (the device, the weights, ...) are the CLI's and the API's alone.
        per_style: one value per style image (``style_blend``).
        zero: what 0 means, when it means something special ("the photo's own size"), for
            doors to show beside the control.
        auto: what None (the automatic choice) picks, for doors to show as the default of an
            ``optional`` setting ("the best available").
    """

    name: str
    kind: Kind
    default: Any
    label: str
    help: str
    tier: Tier = "advanced"
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: Mapping[str, str] | None = None
    optional: bool = False
    ui: bool = True
    per_style: bool = False
    zero: str | None = None
    auto: str | None = None

    def check(self, value: Any) -> Any:
        """``value`` normalised to this setting's type; :class:`InvalidSettingError` if it is not allowed."""
        if value is None and self.optional:
            return None
        return _CHECKS[self.kind](self, value)

    @property
    def explained(self) -> str:
        """The help, with what 0 means when it means something special."""
        return f"{self.help} (0: {self.zero})" if self.zero else self.help

    def as_record(self) -> dict[str, Any]:
        """JSON-ready fields, for doors that can't import this package (the GIMP plug-in)."""
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record["choices"] = None if self.choices is None else [[value, label] for value, label in self.choices.items()]
        record["default"] = list(self.default) if isinstance(self.default, tuple) else self.default
        return record

    def narrowed(self, **changes: Any) -> Spec:
        """This spec with some fields replaced: a door's override (a smaller maximum, say)."""
        return replace(self, **changes)


def setting(kind: Kind, default: Any, label: str, help: str, **spec: Any) -> Any:
    """A :class:`Settings` field declared with its :class:`Spec` (the name is filled in below)."""
    return field(
        default=default, metadata={"spec": {"kind": kind, "default": default, "label": label, "help": help} | spec}
    )


QUALITY_LABELS = {"draft": "Draft (fast)", "balanced": "Balanced", "high": "High (slow)"}


@dataclass(frozen=True)
class Settings:
    """How to stylize: every setting with its default. See :data:`SCHEMA` for ranges and help."""

    size: int = setting(
        "int", 512, "Output size", "Long side of the result in pixels (refused where the short side would be under 16)",
        tier="basic", minimum=0, maximum=8192, step=32, zero="the photo's own size",
    )  # fmt: skip
    quality: str = setting(
        "choice", "balanced", "Quality", "How many iterations: more is slower and more finished",
        tier="basic", choices=QUALITY_LABELS,
    )  # fmt: skip
    style_strength: float = setting(
        "float", 1.0, "Style strength", "How strongly the style is painted on: 1 the usual look, 0 keeps the photo",
        tier="basic", minimum=0.0, maximum=10.0, step=0.1,
    )  # fmt: skip
    style_scale: float = setting(
        "float", 1.0, "Brush scale", "Size of the painting's strokes: 0.5 finer, 2 coarser",
        tier="basic", minimum=0.1, maximum=4.0, step=0.05,
    )  # fmt: skip
    preserve_colors: str = setting(
        "choice", "off", "Preserve colours", "Keep the photo's colours and take only the painting's brushwork",
        tier="basic", choices={
            "off": "Off: the painting's colours",
            "luminance": "Keep the photo's colours",
            "match": "Recolour the painting like the photo",
        },
    )  # fmt: skip
    style_blend: tuple[float, ...] | None = setting(
        "floats", None, "Style weight", "How much each painting counts when several are blended",
        tier="basic", minimum=0.0, maximum=10.0, step=0.1, optional=True, per_style=True, auto="equal weights",
    )  # fmt: skip
    style_loss: str = setting(
        "choice", "gram", "Style measure", "How the painting's look is measured: Gram matrices, Gaussians or sliced",
        choices={"gram": "Gram matrices", "w2": "Wasserstein-2 (Gaussian)", "sliced": "Sliced Wasserstein"},
    )  # fmt: skip
    steps: int = setting(
        "int", 0, "Iterations", "Iterations at full size",
        minimum=0, maximum=10_000, step=1, zero="set by the quality",
    )  # fmt: skip
    start: str = setting(
        "choice", "content", "Start from", "The picture the optimisation starts from",
        choices={"content": "The photo", "noise": "Noise", "style": "The first painting"},
    )  # fmt: skip
    optimizer: str = setting(
        "choice", "lbfgs", "Optimiser", "L-BFGS converges in fewer iterations; Adam uses less memory",
        choices={"lbfgs": "L-BFGS", "adam": "Adam"},
    )  # fmt: skip
    content_weight: float = setting(
        "float", 1.0, "Content weight", "How closely the photo's shapes are kept",
        minimum=0.0, maximum=100.0, step=0.1,
    )  # fmt: skip
    tv_weight: float = setting(
        "float", 0.0, "Smoothing", "Total-variation weight: smooths fine noise",
        minimum=0.0, maximum=100.0, step=0.01,
    )  # fmt: skip
    content_layers: tuple[str, ...] = setting(
        "layers", ("relu4_2",), "Content layers", "VGG-19 layers whose features keep the photo's shapes",
        choices={name: name for name in RELU_LAYERS},
    )  # fmt: skip
    style_layers: tuple[str, ...] = setting(
        "layers", ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), "Style layers",
        "VGG-19 layers whose statistics carry the painting's look", choices={name: name for name in RELU_LAYERS},
    )  # fmt: skip
    style_layer_weights: tuple[float, ...] | None = setting(
        "floats", None, "Style layer weights", "One weight per style layer",
        minimum=0.0, maximum=1000.0, optional=True, ui=False, auto="relu2_1 and relu4_1 2, relu5_1 0.2, the others 1",
    )  # fmt: skip
    pooling: str = setting(
        "choice", "max", "Pooling", "VGG-19's pooling: max (crisper) or average (smoother)",
        choices={"max": "Max", "avg": "Average"},
    )  # fmt: skip
    start_size: int = setting(
        "int", 128, "Coarsest stage", "Long side in pixels of the first, coarsest stage",
        minimum=64, maximum=1024, step=16,
    )  # fmt: skip
    seed: int = setting(
        "int", 0, "Seed", "The same seed and settings give the same picture",
        minimum=0, maximum=2**31 - 1, step=1,
    )  # fmt: skip
    tile_size: int = setting(
        "int", 0, "Tile size", "Longest side in pixels of a tile's core: memory follows the tile, not the picture",
        minimum=0, maximum=8192, step=16, ui=False, zero="sized to the device's memory",
    )  # fmt: skip
    preview_every: int = setting(
        "int", 5, "Preview every", "A preview image every this many iterations, and at each stage's end",
        minimum=0, maximum=10_000, step=1, ui=False, zero="only at each stage's end",
    )  # fmt: skip
    device: str | None = setting(
        "text", None, "Device", "cuda, cuda:N, mps or cpu", optional=True, ui=False, auto="the best available",
    )  # fmt: skip
    precision: str = setting(
        "choice", "auto", "Precision", "The network's arithmetic: bf16 is faster where the processor has it",
        choices={"auto": "Measured: bf16 where it is faster", "fp32": "float32", "bf16": "bfloat16"}, ui=False,
    )  # fmt: skip
    weights: str | None = setting(
        "text", None, "Weights", "auto, hub, offline or a weights file",
        optional=True, ui=False, auto="$STYLE_CORE_WEIGHTS, else auto",
    )  # fmt: skip

    def __post_init__(self) -> None:
        for spec in SCHEMA:
            object.__setattr__(self, spec.name, spec.check(getattr(self, spec.name)))
        if self.style_layer_weights is not None and len(self.style_layer_weights) != len(self.style_layers):
            raise InvalidSettingError(
                f"style_layer_weights has {len(self.style_layer_weights)} values for "
                f"{len(self.style_layers)} style layers; give one per layer"
            )
        if self.style_layer_weights is not None and not any(self.style_layer_weights):
            raise InvalidSettingError(
                "style_layer_weights are all zero, which turns the style off; use style_strength=0"
            )

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Settings:
        """Settings from keyword options, naming an unknown one and the closest known name."""
        if not isinstance(options, Mapping):
            example = "{'size': 512}"
            raise InvalidSettingError(
                f"settings must be a Settings or a mapping of setting names to values; got a {type(options).__name__} "
                f"({options!r:.60})",
                hint=f"pass a dict such as {example}, or Settings(size=512)",
            )
        known = {spec.name for spec in SCHEMA}
        for name in options:
            if not isinstance(name, str):
                raise InvalidSettingError(f"setting names are text; got {name!r}")
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                also = f"; did you mean {close[0]!r}?" if close else f"; the settings are: {', '.join(sorted(known))}"
                raise InvalidSettingError(f"unknown setting {name!r}{also}")
        return cls(**options)

    def for_styles(self, count: int) -> Settings:
        """Check that ``style_blend`` has one weight per style image and that they don't all vanish."""
        if self.style_blend is not None:
            if len(self.style_blend) != count:
                raise InvalidSettingError(
                    f"style_blend has {len(self.style_blend)} weights for {count} style images; give one per image"
                )
            if not any(self.style_blend):
                raise InvalidSettingError("style_blend weights are all zero; give at least one style a weight")
        return self

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers the run's network must compute: the content layers, then the style layers
        not among them."""
        return tuple(dict.fromkeys([*self.content_layers, *self.style_layers]))

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values of every setting (for the recipe)."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}


#: Every setting's spec, in the order the doors show them.
SCHEMA: tuple[Spec, ...] = tuple(Spec(name=f.name, **f.metadata["spec"]) for f in fields(Settings))
SPECS: dict[str, Spec] = {spec.name: spec for spec in SCHEMA}


def schema_record() -> dict[str, Any]:
    """The schema as JSON-ready data: ``{"settings": [spec, ...]}`` (see :meth:`Spec.as_record`)."""
    return {"settings": [spec.as_record() for spec in SCHEMA]}


# -- checks, one per kind -----------------------------------------------------------------------


def format_number(number: float) -> str:
    """``8192`` rather than ``8192.0``, ``2147483647`` rather than ``2.14748e+09``."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _number_words(spec: Spec, whole: bool) -> str:
    what = "a whole number" if whole else "a number"
    return f"{spec.name} must be {what} from {format_number(spec.minimum)} to {format_number(spec.maximum)}"


def _check_number(spec: Spec, value: Any, *, whole: bool) -> int | float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidSettingError(f"{_number_words(spec, whole)}; got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise InvalidSettingError(f"{_number_words(spec, whole)}; got a number too large to use") from None
    if not math.isfinite(number) or (whole and not number.is_integer()):
        raise InvalidSettingError(f"{_number_words(spec, whole)}; got {value!r}")
    if not spec.minimum <= number <= spec.maximum:
        raise InvalidSettingError(f"{_number_words(spec, whole)}; got {value!r}")
    return int(number) if whole else number


def _check_int(spec: Spec, value: Any) -> int:
    return int(_check_number(spec, value, whole=True))


def _check_float(spec: Spec, value: Any) -> float:
    return float(_check_number(spec, value, whole=False))


def _check_choice(spec: Spec, value: Any) -> str:
    if not isinstance(value, str) or value not in spec.choices:
        raise InvalidSettingError(f"{spec.name} must be one of {', '.join(spec.choices)}; got {value!r}")
    return value


def _check_layers(spec: Spec, value: Any) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, Sequence) or not names:
        raise InvalidSettingError(f"{spec.name} must name at least one layer of {', '.join(spec.choices)}")
    layers = tuple(names)
    for name in layers:
        if not isinstance(name, str) or name not in spec.choices:
            raise InvalidSettingError(f"{spec.name}: unknown layer {name!r}; choose from {', '.join(spec.choices)}")
    if len(set(layers)) != len(layers):
        raise InvalidSettingError(f"{spec.name} names a layer twice: {', '.join(layers)}")
    return layers


def _check_floats(spec: Spec, value: Any) -> tuple[float, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        words = _number_words(spec, False).replace("must be a number", "must be a list of numbers", 1)
        raise InvalidSettingError(f"{words}; got {value!r}")
    return tuple(_check_float(spec, item) for item in value)


def _check_text(spec: Spec, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidSettingError(f"{spec.name} must be a non-empty text; got {value!r}")
    return value.strip()


_CHECKS = {
    "int": _check_int,
    "float": _check_float,
    "choice": _check_choice,
    "layers": _check_layers,
    "floats": _check_floats,
    "text": _check_text,
}
