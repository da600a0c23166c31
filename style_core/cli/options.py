"""Command-line options generated from the settings schema, for every ``style-core`` command.

Each setting of :data:`style_core.settings.SCHEMA` becomes an option: its name with dashes,
its range checked by the option's type, its choices, its help with what 0 means and its
default. Options default to None, so that only the settings given on the command line reach
:class:`~style_core.settings.Settings`, which holds the defaults.
"""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from ..errors import UsageError
from ..settings import SCHEMA, Spec, format_number


class Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of printing and exiting, so
    that a bad option ends a ``--json`` stream with an error record like any other failure."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def number_type(spec: Spec):
    """An argparse ``type`` for a number spec that refuses values outside its range."""
    whole = spec.kind == "int"

    def parse(text: str) -> int | float:
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {'whole ' if whole else ''}number: {text!r}") from None
        if not spec.minimum <= value <= spec.maximum:
            raise argparse.ArgumentTypeError(
                f"{text} is outside {format_number(spec.minimum)} to {format_number(spec.maximum)}"
            )
        return value

    parse.__name__ = spec.name  # argparse names the option's type in its messages
    parse.spec = spec  # type: ignore[attr-defined]
    return parse


def option_name(spec: Spec) -> str:
    """``--style-strength`` for ``style_strength``."""
    return "--" + spec.name.replace("_", "-")


def _shown(spec: Spec) -> str:
    default = spec.default
    if default is None:
        return spec.auto or "auto"
    if isinstance(default, tuple):
        return " ".join(map(str, default))
    return format_number(default) if isinstance(default, (int, float)) else str(default)


def add_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, spec: Spec, *, default: Any = None) -> None:
    """The option for one spec; ``default`` is what argparse fills in when it is not given."""
    help_text = spec.explained
    if spec.kind == "choice":
        help_text += ": " + "; ".join(_choice(value, label) for value, label in spec.choices.items())
    options: dict[str, Any] = {"default": default, "help": f"{help_text} (default: {_shown(spec)})"}
    if spec.kind in ("int", "float"):
        span = f"{format_number(spec.minimum)}-{format_number(spec.maximum)}"
        options |= {"type": number_type(spec), "metavar": span}
    elif spec.kind == "choice":
        options["choices"] = list(spec.choices)
    elif spec.kind == "layers":
        options |= {"choices": list(spec.choices), "nargs": "+", "metavar": "LAYER"}
    elif spec.kind == "floats":
        options |= {"type": number_type(spec.narrowed(kind="float")), "nargs": "+", "metavar": "W"}
    parser.add_argument(option_name(spec), dest=spec.name, **options)


def _choice(value: str, label: str) -> str:
    """``avg = Average``; where the label begins with the value, the value and the rest of the
    label (``max`` for Max, ``draft (fast)`` for Draft (fast)): no word said twice."""
    if label.lower().replace("-", "").startswith(value.lower()):
        return value + label[len(value) + label[: len(value) + 1].count("-") :]
    return f"{value} = {label}"


def add_setting_options(parser: argparse.ArgumentParser) -> None:
    """One option per setting, in two groups by tier."""
    groups = {
        "basic": parser.add_argument_group("settings"),
        "advanced": parser.add_argument_group("advanced settings"),
    }
    for spec in SCHEMA:
        add_option(groups[spec.tier], spec)


def settings_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, by name (the others keep their defaults)."""
    return {spec.name: getattr(args, spec.name) for spec in SCHEMA if getattr(args, spec.name) is not None}


def add_ray_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """``--ray [ADDRESS]``, ``--workers``, ``--cpus-per-worker``: shared by batch and video; returns
    the group, for a command's own Ray options."""
    group = parser.add_argument_group("Ray (pip install 'style-core[ray]')")
    group.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="run on Ray: alone, a local Ray on this machine; with an address (auto, HOST:6379, "
        "ray://HOST:10001), that cluster",
    )  # fmt: skip
    group.add_argument(
        "--workers", type=positive, metavar="N", help="Ray workers (default: one per GPU, else per CPU slot)"
    )
    group.add_argument(
        "--cpus-per-worker", type=positive, default=1, metavar="N", help="CPUs per worker without GPUs (default: 1)"
    )
    return group


def check_swallowed(given: list[str], styles: list[str], what: str, command: str, example: str) -> None:
    """A one-line :class:`UsageError` when no ``what`` was given: if ``--style`` took more than
    one name, the ``what`` was probably among them (``--style`` takes every name after it), and
    the hint shows ``command`` written both ways that work, with ``example`` as the ``what``."""
    if given:
        return
    if len(styles) > 1:
        raise UsageError(
            f"no {what}: --style took every name after it ({' '.join(styles)})",
            hint=f"put the {what} first ({command} {example} --style {styles[0]} -o OUT), or last after -- "
            f"({command} --style {styles[0]} -o OUT -- {example})",
        )
    raise UsageError(f"no {what} given")


def positive(text: str) -> int:
    """An argparse ``type`` for a count: a whole number from 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is less than 1")
    return value
