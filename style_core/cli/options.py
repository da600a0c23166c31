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


def _shown(default: Any) -> str:
    if default is None:
        return "auto"
    if isinstance(default, tuple):
        return " ".join(map(str, default))
    return format_number(default) if isinstance(default, (int, float)) else str(default)


def add_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, spec: Spec, *, default: Any = None) -> None:
    """The option for one spec; ``default`` is what argparse fills in when it is not given."""
    help_text = spec.explained
    if spec.kind == "choice":
        help_text += ": " + "; ".join(f"{value} = {label}" for value, label in spec.choices.items())
    options: dict[str, Any] = {"default": default, "help": f"{help_text} (default: {_shown(spec.default)})"}
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


def add_ray_options(parser: argparse.ArgumentParser) -> None:
    """``--ray [ADDRESS]``, ``--workers``, ``--cpus-per-worker``: shared by batch and video."""
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


def positive(text: str) -> int:
    """An argparse ``type`` for a count: a whole number from 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is less than 1")
    return value
