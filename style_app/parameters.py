"""The app's API parameters, generated from the schema (the same specs as the widgets).

``/stylize`` takes the photo (``content``), the paintings (``style_1`` .. ``style_3``), the
region of each painting (``mask_1`` .. ``mask_3``, optional), one weight per painting
(``style_blend_1`` .. ``style_blend_3``), then every setting the app offers, by its name
(``size``, ``quality``, ``style_loss``, ...), and last the regions painted on the page
(``regions``); ``/refine`` takes a previous result (``init``) first. The masks and regions are
inputs like the images, not settings (see :mod:`style_app.regions`). The handler's signature
and docstring are built here, so gradio and gradio_client name and document each parameter as
the schema does.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence

from style_core.settings import Spec

from .controls import SLOT_WEIGHT, SLOTS, widget_names
from .regions import MASK_PARAMETERS, REGIONS_PARAMETER

#: The API's parameters before the settings: (name, description).
IMAGE_PARAMETERS = (
    ("content", "the photo to repaint (an image file)"),
    *((f"style_{slot}", f"painting {slot} (an image file; at least one painting)") for slot in range(1, SLOTS + 1)),
    *MASK_PARAMETERS,
)
INIT_PARAMETER = ("init", "the result to refine (the PNG of a previous run)")


def _inputs(*, refine: bool) -> list[tuple[str, str]]:
    """The (name, description) of the parameters before the settings."""
    return [INIT_PARAMETER, *IMAGE_PARAMETERS] if refine else list(IMAGE_PARAMETERS)


def parameter_names(specs: Sequence[Spec], *, refine: bool = False) -> list[str]:
    """The handler's parameters in order: the images and masks, each setting (a per-style one
    per slot), then the painted regions."""
    names = [name for name, _ in _inputs(refine=refine)]
    return names + [name for spec in specs for name in widget_names(spec)] + [REGIONS_PARAMETER[0]]


#: The Python type a widget hands over, by the setting's kind (sliders give floats).
_TYPES = {"int": float, "float": float, "floats": float, "choice": str, "layers": list[str]}


def signature(specs: Sequence[Spec], *, refine: bool = False) -> inspect.Signature:
    """The handler's signature: images default to None, settings to their spec's default."""
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [
        inspect.Parameter(name, kind, default=None, annotation=str | None) for name, _ in _inputs(refine=refine)
    ]
    for spec in specs:
        default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
        default = SLOT_WEIGHT if spec.per_style else default
        parameters += [
            inspect.Parameter(name, kind, default=default, annotation=_TYPES[spec.kind]) for name in widget_names(spec)
        ]
    parameters.append(inspect.Parameter(REGIONS_PARAMETER[0], kind, default=None, annotation=dict | None))
    return inspect.Signature(parameters, return_annotation=Iterator[tuple])


def descriptions(specs: Sequence[Spec], *, refine: bool = False) -> dict[str, str]:
    """Each parameter's description, by name: the images' own, and each setting's help from the schema."""
    described = dict(_inputs(refine=refine))
    for spec in specs:
        for slot, name in enumerate(widget_names(spec), start=1):
            described[name] = spec.explained + (f" (painting {slot})" if spec.per_style else "")
    described[REGIONS_PARAMETER[0]] = REGIONS_PARAMETER[1]
    return described


def docstring(specs: Sequence[Spec], *, refine: bool = False) -> str:
    """The API's description (gradio reads the ``Args:`` lines into each parameter's description)."""
    what = (
        "Refine a previous result: run the full size again from it, with these settings."
        if refine
        else "Repaint the photo in the style of up to three paintings, blended by their weights, "
        "or each in its own region (mask_1 .. mask_3)."
    )
    streams = "Streams (image, png, status): a new preview or None, the PNG with its recipe at the end, the status."
    lines = [what, "", streams, "", "Args:"]
    lines += [f"    {name}: {text}" for name, text in descriptions(specs, refine=refine).items()]
    return "\n".join(lines)
