"""The procedures' arguments, generated from the engine's settings schema, and back to engine options.

``style-core gimp install`` writes ``schema.json`` (``style_core.settings.schema_record()``) and
``engine.json`` beside this file. Every setting the schema offers to interactive doors (``ui``)
becomes one argument, named like the setting with dashes (``style_strength`` -> ``style-strength``),
with the schema's label, help, range, step, default, choice labels and meaning of 0 (``zero``):

- a ``choice`` is a choice argument whose labels are the schema's;
- a list of layer names (``layers``) is a string argument: the names separated by spaces or commas;
- a setting with one value per style image (``per_style``: ``style_blend``) is one argument per
  style slot, beside that slot's file and region: ``style-file``/``style-weight``/``style-region``,
  then the same with ``-2`` and ``-3``.

The plug-in's own change is :func:`overrides`, with its reason; there is no second list of
settings. Only settings that differ from the schema's defaults are passed to the engine, which
holds the defaults.

Standard library only: the tests import it without GIMP.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from typing import Any

SCHEMA_FILE = "schema.json"
#: Style images the dialog offers (each with its weight and region).
STYLE_SLOTS = 3
#: Letters the dialog's own buttons use as mnemonics (_Help, _Reset, _Cancel, _OK).
RESERVED_MNEMONICS = "hrco"
MORE_STYLES = "More styles"
REGION_HELP = (
    "A channel (a saved selection) where this style paints, within the selection; none: the part of the "
    "selection (or layer) that no style's channel covers, shared by the styles without one by weight"
)
ADVANCED = "Advanced"


@dataclass(frozen=True)
class Argument:
    """One argument of a procedure, and its place in the dialog.

    Attributes:
        name: the argument's name: the setting's with dashes, and ``-N`` for style slot N > 1.
        kind: ``int``, ``float``, ``choice``, ``string``, ``file``, ``channel`` or ``boolean``.
        label: the dialog's label, without a mnemonic (see :attr:`nick`).
        help: the tooltip and the procedure browser's text.
        tier: ``basic`` (always shown) or ``advanced`` (in the collapsed Advanced section).
        setting: the engine setting it feeds, None for the plug-in's own (style files, preview).
        default, minimum, maximum, step: its value's default and range.
        choices: ``(value, label)`` pairs of a choice, or the names a list may hold.
        caption: a line shown under the widget: what 0 means (the schema's ``zero``).
        slot: the style image (1, 2, 3) it belongs to, 0 for the others.
        separated: for a string holding a list: the schema kind of that list (``layers``, ``floats``).
        nick: the label with its mnemonic (``St_yle strength``), unique within the dialog.
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


@dataclass(frozen=True)
class Style:
    """A chosen style image: its file, its weight, its region (a channel, or None) and its slot."""

    path: str
    weight: float
    region: Any = None
    slot: int = 1

    @property
    def name(self) -> str:
        return os.path.splitext(os.path.basename(self.path))[0]


def load_schema(folder: str) -> dict[str, dict[str, Any]]:
    """The settings of ``folder``'s schema.json by name, in the schema's order."""
    with open(os.path.join(folder, SCHEMA_FILE), encoding="utf-8") as file:
        return {spec["name"]: spec for spec in json.load(file)["settings"]}


def slot_suffix(slot: int) -> str:
    """``""`` for the first style slot, ``"-2"`` for the second, ..."""
    return "" if slot == 1 else f"-{slot}"


def numbered(label: str, slot: int) -> str:
    """A style slot's label: ``Region``, ``Region 2``, ..."""
    return label if slot == 1 else f"{label} {slot}"


def explained(spec: dict[str, Any], limit: str = "") -> str:
    """The setting's help with what 0 means (as ``Spec.explained`` says it), and ``limit``."""
    zero = f" (0: {spec['zero']}{limit})" if spec.get("zero") else ""
    return spec["help"] + zero


def from_spec(spec: dict[str, Any]) -> Argument:
    """The argument of one setting, as the schema declares it."""
    kind, default = spec["kind"], spec["default"]
    separated = kind if kind in ("layers", "floats") else None
    if kind in ("layers", "floats", "text"):
        default = " ".join(str(item) for item in default) if isinstance(default, list) else (default or "")
        kind = "string"
    return Argument(
        name=spec["name"].replace("_", "-"),
        kind=kind,
        label=spec["label"],
        help=explained(spec),
        tier=spec["tier"],
        setting=spec["name"],
        default=default,
        minimum=spec["minimum"],
        maximum=spec["maximum"],
        step=spec["step"],
        choices=tuple((value, label) for value, label in spec["choices"] or ()),
        caption=f"0 = {spec['zero']}" if spec.get("zero") else None,
        separated=separated,
    )


def overrides(schema: dict[str, dict[str, Any]], max_size: int, device: str) -> dict[str, dict[str, Any]]:
    """The plug-in's changes to the schema's fields, each for the reason given beside it (the device's
    largest size and its kind come from the engine)."""
    return {
        # A layer is painted at its own size by default, so the result needs no upscaling; the
        # device-aware cap (style_core.engine.plan.DEVICE_MAX_SIZE) keeps the time and memory what a
        # person waits for, and a bigger layer is painted at the cap and scaled up.
        "size": {
            "default": 0,
            "maximum": max_size,
            "help": explained(schema["size"], f", at most {max_size} px on this computer's {device}")
            + "; the result is scaled to fit the layer",
        },
    }


def style_arguments(blend: dict[str, Any]) -> list[Argument]:
    """Each style slot's file, its value of the per-style setting ``blend`` and its region."""
    # One value of the blend per slot: named (and labelled) a style weight, not a blend. The
    # schema's default (None) means equal weights: 1 for every slot says the same.
    weight = replace(from_spec(blend), kind="float", separated=None, default=1.0)
    result = []
    for slot in range(1, STYLE_SLOTS + 1):
        suffix, optional = slot_suffix(slot), "" if slot == 1 else " (optional)"
        result += [
            Argument(
                f"style-file{suffix}", "file", numbered("Style image", slot), f"A painting whose style to use{optional}"
            ),
            replace(weight, name=f"style-weight{suffix}", label=numbered(weight.label, slot)),
            Argument(f"style-region{suffix}", "channel", numbered("Region", slot), REGION_HELP),
        ]
        result[-3:] = [replace(argument, slot=slot) for argument in result[-3:]]
    return result


def preview_argument() -> Argument:
    return Argument(
        "preview",
        "boolean",
        "Show the picture forming in a preview layer",
        "Update a preview layer above the source while painting; it is removed at the end",
        default=True,
    )


def build(schema: dict[str, dict[str, Any]], max_size: int, device: str) -> list[Argument]:
    """Every argument of the painting procedure, in its order, with unique mnemonics."""
    changes = overrides(schema, max_size, device)
    arguments: list[Argument] = []
    for spec in schema.values():
        if spec["per_style"] and spec["ui"]:
            arguments[:0] = style_arguments(spec)
        elif spec["ui"]:
            arguments.append(replace(from_spec(spec), **changes.get(spec["name"], {})))
    return with_nicks([*arguments, preview_argument()])


def build_refine(schema: dict[str, dict[str, Any]]) -> list[Argument]:
    """The arguments of the refining procedure: its iterations and the preview."""
    steps = replace(from_spec(schema["steps"]), tier="basic")
    return with_nicks([steps, preview_argument()])


# -- the dialog's layout and mnemonics ------------------------------------------------------------


def sections(arguments: list[Argument]) -> dict[str, list[str]]:
    """Argument names by part of the dialog, in its order: always shown, more styles, advanced."""
    return {
        "": [a.name for a in arguments if a.slot == 1]
        + [a.name for a in arguments if not a.slot and a.tier == "basic"],
        MORE_STYLES: [a.name for a in arguments if a.slot > 1],
        ADVANCED: [a.name for a in arguments if not a.slot and a.tier == "advanced"],
    }


def nicks(arguments: list[Argument]) -> dict[str, str]:
    """Each label of the dialog, section titles included, with its mnemonic."""
    by_name = {a.name: a for a in arguments}
    labels = []
    for title, names in sections(arguments).items():
        labels += ([title] if title and names else []) + [by_name[name].label for name in names]
    return dict(zip(labels, mnemonics(labels), strict=True))


def with_nicks(arguments: list[Argument]) -> list[Argument]:
    labelled = nicks(arguments)
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
    """The long side, in pixels, the engine paints a ``width`` x ``height`` area at:
    ``requested``, or (0) the area's own, at most ``max_size``."""
    return requested or min(max(width, height), max_size)


def output_dimensions(width: int, height: int, side: int) -> tuple[int, int]:
    """``width`` x ``height`` scaled to a long side of ``side`` pixels."""
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def styles(values: dict[str, Any]) -> list[Style]:
    """The chosen style images: slots with a file and a weight above 0."""
    chosen = []
    for slot in range(1, STYLE_SLOTS + 1):
        suffix = slot_suffix(slot)
        path, weight = values.get(f"style-file{suffix}"), values.get(f"style-weight{suffix}", 1.0)
        if path and weight > 0:
            chosen.append(Style(path, weight, values.get(f"style-region{suffix}"), slot))
    return chosen


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def engine_options(
    arguments: list[Argument], schema: dict[str, dict[str, Any]], values: dict[str, Any], size: int, blend: bool
) -> list[str]:
    """Command-line options for the engine: ``--size`` and every setting that differs from the
    schema's default (the engine holds the defaults); with ``blend``, the style weights when they
    differ (with masks the weights divide the regions instead, see ``regions``).

    Raises :class:`InvalidValue` for a list that names an unknown layer.
    """
    options = ["--size", str(size)]
    for argument in arguments:
        if argument.setting is None or argument.slot or argument.setting == "size":
            continue
        value = values[argument.name]
        if argument.separated:
            value = split_list(argument, value)
            words = [_number(item) if isinstance(item, float) else item for item in value]
        elif argument.kind == "string":
            value = value.strip() or None
            words = [value]
        else:
            words = [_number(value) if argument.kind in ("int", "float") else str(value)]
        if value != schema[argument.setting]["default"]:
            options += ["--" + argument.name, *words]
    weights = [style.weight for style in styles(values)]
    if blend and len(set(weights)) > 1:
        setting = next(a.setting for a in arguments if a.slot == 1 and a.setting)
        options += ["--" + setting.replace("_", "-"), *map(_number, weights)]
    return options
