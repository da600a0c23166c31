"""The procedure's arguments, generated from the engine's settings schema, and back to engine options.

``style-core gimp install`` writes ``schema.json`` (``style_core.settings.schema_record()``) and
``engine.json`` beside this file. Every setting the schema offers to interactive doors (``ui``)
becomes one argument, named like the setting with dashes (``style_strength`` -> ``style-strength``),
with the schema's label, help, range, step, default and choice labels:

- a ``choice`` is a choice argument whose labels are the schema's;
- a list of layer names (``layers``) is a string argument: the names separated by spaces or commas;
- a setting with one value per style image (``per_style``: ``style_blend``) is one argument per
  style slot, beside that slot's file: ``style-file``/``style-weight``,
  ``style-file-2``/``style-weight-2``, ``style-file-3``/``style-weight-3``.

The plug-in's own changes are :data:`OVERRIDES`, each with its reason, applied to the schema's
fields; there is no second list of settings. Only settings that differ from the schema's defaults
are passed to the engine, which holds the defaults.

Standard library only: the tests import it without GIMP.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from typing import Any

SCHEMA_FILE = "schema.json"
#: Style images the dialog offers (each with its weight).
STYLE_SLOTS = 3
#: Letters the dialog's own buttons use as mnemonics (_Help, _Reset, _Cancel, _OK).
RESERVED_MNEMONICS = "hrco"
MORE_STYLES = "More styles"
ADVANCED = "Advanced"


@dataclass(frozen=True)
class Argument:
    """One argument of the procedure, and its place in the dialog.

    Attributes:
        name: the argument's name: the setting's with dashes, and ``-N`` for style slot N > 1.
        kind: ``int``, ``float``, ``choice``, ``string``, ``file`` or ``boolean``.
        label: the dialog's label, without a mnemonic (see :attr:`nick`).
        nick: the label with its mnemonic (``St_yle strength``), unique within the dialog.
        help: the tooltip and the procedure browser's text.
        tier: ``basic`` (always shown) or ``advanced`` (in the collapsed Advanced section).
        setting: the engine setting it feeds, None for the plug-in's own (style files, preview).
        default, minimum, maximum, step: its value's default and range.
        choices: ``(value, label)`` pairs of a choice.
        caption: a line shown under the widget, for what a special value such as 0 means.
        slot: the style image (1, 2, 3) it belongs to, 0 for the others.
        separated: for a string holding a list: the schema kind of that list (``layers``).
    """

    name: str
    kind: str
    label: str
    help: str
    tier: str = "basic"
    setting: str | None = None
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[tuple[str, str], ...] = ()
    caption: str | None = None
    slot: int = 0
    separated: str | None = None
    nick: str = ""


def load_schema(folder: str) -> dict[str, dict[str, Any]]:
    """The settings of ``folder``'s schema.json by name, in the schema's order."""
    with open(os.path.join(folder, SCHEMA_FILE), encoding="utf-8") as file:
        return {spec["name"]: spec for spec in json.load(file)["settings"]}


def dashed(name: str) -> str:
    return name.replace("_", "-")


def slot_suffix(slot: int) -> str:
    """``""`` for the first style slot, ``"-2"`` for the second, ..."""
    return "" if slot == 1 else f"-{slot}"


def from_spec(spec: dict[str, Any]) -> Argument:
    """The argument of one setting, as the schema declares it."""
    kind, default = spec["kind"], spec["default"]
    separated = None
    if kind in ("layers", "floats", "text"):
        separated = None if kind == "text" else kind
        default = " ".join(str(item) for item in default) if isinstance(default, list) else (default or "")
        kind = "string"
    return Argument(
        name=dashed(spec["name"]),
        kind=kind,
        label=spec["label"],
        help=spec["help"],
        tier=spec["tier"],
        setting=spec["name"],
        default=default,
        minimum=spec["minimum"],
        maximum=spec["maximum"],
        step=spec["step"],
        choices=tuple((value, label) for value, label in spec["choices"] or ()),
        separated=separated,
    )


def overrides(engine: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The plug-in's changes to the schema's fields, each for the reason given beside it."""
    max_size = engine["max_size"]
    device = engine["device_kind"]
    return {
        # A layer is painted at its own size by default, so the result needs no upscaling; the
        # device-aware cap (style_core.plan.DEVICE_MAX_SIZE) keeps the time and memory what a
        # person waits for, and a bigger layer is painted at the cap and scaled up.
        "size": {
            "default": 0,
            "maximum": max_size,
            "help": f"Long side of the result in pixels; 0 paints at the layer's (or selection's) own size, "
            f"at most {max_size} px on this computer's {device}. The result is scaled to fit the layer.",
            "caption": f"0 = the layer's own size (at most {max_size} px)",
        },
        # Seen only in tooltips, the meaning of 0 was missed (issue 13): say it under the field.
        "steps": {"caption": "0 = as many as the Quality gives"},
    }


def style_arguments(blend: dict[str, Any]) -> list[Argument]:
    """Each style slot's file and its value of the per-style setting ``blend``, side by side."""
    # One value of the blend per slot: named (and labelled) a style weight, not a blend.
    weight = replace(from_spec(blend), name="style-weight", kind="float", separated=None)
    result = []
    for slot in range(1, STYLE_SLOTS + 1):
        number = "" if slot == 1 else f" {slot}"
        optional = "" if slot == 1 else " (optional)"
        result.append(
            Argument(
                name=f"style-file{slot_suffix(slot)}",
                kind="file",
                label=f"Style image{number}",
                help=f"A painting whose style to use{optional}",
                slot=slot,
            )
        )
        # The schema's default (None) means equal weights: 1 for every slot says the same.
        result.append(
            replace(
                weight,
                name=f"{weight.name}{slot_suffix(slot)}",
                label=f"{weight.label}{number}",
                default=1.0,
                slot=slot,
            )
        )
    return result


def build(schema: dict[str, dict[str, Any]], engine: dict[str, Any]) -> list[Argument]:
    """Every argument, in the procedure's order, with unique mnemonics in the dialog's order."""
    changes = overrides(engine)
    arguments: list[Argument] = []
    for spec in schema.values():
        if not spec["ui"]:
            continue
        if spec["per_style"]:
            arguments[:0] = style_arguments(spec)
            continue
        arguments.append(replace(from_spec(spec), **changes.get(spec["name"], {})))
    arguments.append(
        Argument(
            name="preview",
            kind="boolean",
            label="Show the picture forming in a preview layer",
            help="Update a preview layer above the source while painting; it is removed at the end",
            default=True,
        )
    )
    return with_mnemonics(arguments)


# -- the dialog's layout and mnemonics ------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Argument names by part of the dialog: always shown, more styles, and advanced."""

    main: list[str]
    more_styles: list[str]
    advanced: list[str]


def layout(arguments: list[Argument]) -> Layout:
    main = [a.name for a in arguments if a.slot == 1] + [a.name for a in arguments if not a.slot and a.tier == "basic"]
    more = [a.name for a in arguments if a.slot > 1]
    advanced = [a.name for a in arguments if not a.slot and a.tier == "advanced"]
    return Layout(main, more, advanced)


def section_nicks(arguments: list[Argument]) -> dict[str, str]:
    """The mnemonic labels of the dialog's two collapsible sections."""
    return {title: nick for title, nick in _mnemonic_labels(arguments).items() if title in (MORE_STYLES, ADVANCED)}


def _dialog_order(arguments: list[Argument]) -> list[str]:
    parts = layout(arguments)
    by_name = {a.name: a for a in arguments}
    names = [*parts.main, MORE_STYLES, *parts.more_styles, ADVANCED, *parts.advanced]
    return [by_name[name].label if name in by_name else name for name in names]


def _mnemonic_labels(arguments: list[Argument]) -> dict[str, str]:
    return dict(zip(_dialog_order(arguments), mnemonics(_dialog_order(arguments)), strict=True))


def with_mnemonics(arguments: list[Argument]) -> list[Argument]:
    labelled = _mnemonic_labels(arguments)
    return [replace(a, nick=labelled[a.label]) for a in arguments]


def mnemonics(labels: list[str], reserved: str = RESERVED_MNEMONICS) -> list[str]:
    """Each label with a mnemonic (``_``) unique among ``labels`` and ``reserved``.

    In the dialog's order each label takes its first free letter, preferring one that starts a
    word; then labels left without one get one by augmenting paths where possible, so that as
    many labels as possible have one (a maximum matching of labels to letters and digits).
    """
    texts = [label.replace("_", "__") for label in labels]
    starts = [{m.start() for m in re.finditer(r"\b\w", text)} for text in texts]
    preferred = [
        list(dict.fromkeys(text[i].lower() for i in [*sorted(first), *range(len(text))] if text[i].isalnum()))
        for text, first in zip(texts, starts, strict=True)
    ]
    owner: dict[str, int] = {}

    def augment(index: int, seen: set[str]) -> bool:
        for key in preferred[index]:
            if key in reserved or key in seen:
                continue
            seen.add(key)
            if key not in owner or augment(owner[key], seen):
                owner[key] = index
                return True
        return False

    for index in range(len(texts)):  # first come, first served: each takes its first free key
        free = [key for key in preferred[index] if key not in reserved and key not in owner]
        if free:
            owner[free[0]] = index
    for index in set(range(len(texts))) - set(owner.values()):  # then make room where it can
        augment(index, set())
    result = list(texts)
    for key, index in owner.items():
        text = texts[index]
        positions = [i for i, char in enumerate(text) if char.lower() == key]
        at = next((i for i in positions if i in starts[index]), positions[0])
        result[index] = text[:at] + "_" + text[at:]
    return result


# -- back to the engine -----------------------------------------------------------------------


class InvalidValue(ValueError):
    """A value the engine can't take, described for the dialog."""


def split_list(argument: Argument, text: str) -> list[Any]:
    """The items of a string argument, separated by spaces or commas: names checked against the
    choices (``layers``), or numbers (``floats``)."""
    items = [item for item in re.split(r"[\s,]+", text.strip()) if item]
    if not items:
        raise InvalidValue(f"'{argument.label}' is empty: give at least one.")
    if argument.separated == "floats":
        try:
            return [float(item) for item in items]
        except ValueError:
            raise InvalidValue(f"'{argument.label}' takes numbers separated by spaces; got '{text}'.") from None
    allowed = [value for value, _ in argument.choices]
    for item in items:
        if item not in allowed:
            raise InvalidValue(f"'{argument.label}': there is no layer '{item}'; choose from {', '.join(allowed)}.")
    return items


def paint_size(requested: int, width: int, height: int, max_size: int) -> int:
    """The long side, in pixels, the engine paints a ``width`` x ``height`` region at:
    ``requested``, or (0) the region's own, at most ``max_size``."""
    return requested or min(max(width, height), max_size)


def output_dimensions(width: int, height: int, side: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled to a long side of ``side`` pixels."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def styles(values: dict[str, Any]) -> list[tuple[str, float]]:
    """The chosen style images with their weights: slots with a file and a weight above 0."""
    chosen = []
    for slot in range(1, STYLE_SLOTS + 1):
        path, weight = values.get(f"style-file{slot_suffix(slot)}"), values.get(f"style-weight{slot_suffix(slot)}", 1.0)
        if path and weight > 0:
            chosen.append((path, weight))
    return chosen


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def engine_options(
    arguments: list[Argument], schema: dict[str, dict[str, Any]], values: dict[str, Any], size: int
) -> list[str]:
    """Command-line options for the engine: ``--size`` and every setting that differs from the
    schema's default (the engine holds the defaults), ``--style-blend`` when the weights differ.

    Raises :class:`InvalidValue` for a list that names an unknown layer.
    """
    options = ["--size", str(size)]
    for argument in arguments:
        if argument.setting is None or argument.slot or argument.setting == "size":
            continue
        value = values[argument.name]
        default = schema[argument.setting]["default"]
        if argument.separated:
            value = split_list(argument, value)
            words = [_number(item) if isinstance(item, float) else item for item in value]
        elif argument.kind == "string":
            value = value.strip() or None
            words = [value]
        else:
            words = [_number(value) if argument.kind in ("int", "float") else str(value)]
        if value != default:
            options += ["--" + argument.name, *words]
    weights = [weight for _, weight in styles(values)]
    if len(set(weights)) > 1:
        blend = next(a for a in arguments if a.slot == 1 and a.setting)
        options += ["--" + dashed(blend.setting), *map(_number, weights)]
    return options
