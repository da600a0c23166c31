"""The app's widgets, generated from the settings schema (:data:`style_core.settings.SCHEMA`).

Every setting with ``ui=True`` gets one widget whose range, step, choices, label, help and
default are its spec's (after the app's overrides, :meth:`style_app.limits.Limits.overrides`):

- a number gets a slider, or a box to type in when a slider would have too many positions to
  hit one (the seed: 2³¹ of them);
- a choice gets radio buttons, or a dropdown when there are many choices;
- a list of layers gets a group of checkboxes;
- a per-style setting (``style_blend``) gets one slider per painting slot.

The ``elem_id`` of each widget is its setting's name (``style_blend_2`` for a slot), so tests
and a browser find them by name.
"""

from __future__ import annotations

from collections.abc import Mapping

import gradio as gr

from style_core.settings import SCHEMA, Spec

#: A number gets a slider when its range has at most this many steps, else a number box.
SLIDER_MAX_POSITIONS = 1000
#: A choice gets radio buttons up to this many choices, else a dropdown.
RADIO_MAX_CHOICES = 4
#: Painting slots in the page (and style images in the API).
SLOTS = 3
#: A slot's weight when none is given: the schema's default (None) means equal weights.
SLOT_WEIGHT = 1.0


def app_specs(overrides: Mapping[str, Spec]) -> tuple[Spec, ...]:
    """The settings the app offers (``ui=True``), in the schema's order, with its overrides."""
    return tuple(overrides.get(spec.name, spec) for spec in SCHEMA if spec.ui)


def uses_slider(spec: Spec) -> bool:
    """Whether a number setting is shown as a slider (rather than a box to type in)."""
    if spec.step is None:
        return False
    return (spec.maximum - spec.minimum) / spec.step <= SLIDER_MAX_POSITIONS


def _choices(spec: Spec) -> list[tuple[str, str]]:
    """(label, value) pairs, the way gradio takes them."""
    return [(label, value) for value, label in spec.choices.items()]


def _number(spec: Spec, value: float, label: str, elem_id: str) -> gr.components.Component:
    common = {"value": value, "label": label, "info": spec.explained, "elem_id": elem_id}
    if uses_slider(spec):
        return gr.Slider(spec.minimum, spec.maximum, step=spec.step, **common)
    precision = 0 if spec.kind == "int" else None
    return gr.Number(minimum=spec.minimum, maximum=spec.maximum, step=spec.step, precision=precision, **common)


def control(spec: Spec) -> gr.components.Component:
    """The widget of one setting (not a per-style one: see :func:`slot_weight`)."""
    if spec.kind in ("int", "float"):
        return _number(spec, spec.default, spec.label, spec.name)
    common = {"label": spec.label, "info": spec.explained, "elem_id": spec.name}
    if spec.kind == "choice":
        if len(spec.choices) <= RADIO_MAX_CHOICES:
            return gr.Radio(_choices(spec), value=spec.default, **common)
        return gr.Dropdown(_choices(spec), value=spec.default, **common)
    if spec.kind == "layers":
        return gr.CheckboxGroup(_choices(spec), value=list(spec.default), **common)
    raise ValueError(f"the app has no widget for {spec.name} ({spec.kind}); set ui=False or add one here")


def slot_weight(spec: Spec, slot: int) -> gr.components.Component:
    """The weight of painting ``slot`` (1-based) for a per-style setting (``style_blend``)."""
    return _number(spec, SLOT_WEIGHT, f"{spec.label}, painting {slot}", slot_name(spec, slot))


def slot_name(spec: Spec, slot: int) -> str:
    """The API parameter (and ``elem_id``) of a per-style setting's slot: ``style_blend_2``."""
    return f"{spec.name}_{slot}"


def widget_names(spec: Spec) -> list[str]:
    """The names of a setting's widgets (and API parameters): one per slot for a per-style one."""
    return [slot_name(spec, slot) for slot in range(1, SLOTS + 1)] if spec.per_style else [spec.name]
