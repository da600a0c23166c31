"""Print the README's settings table, generated from the schema (``style_core.settings.SCHEMA``).

    .venv/bin/python scripts/settings_table.py

tests/test_readme.py checks that README.md holds exactly this table.
"""

from __future__ import annotations

from style_core.settings import SCHEMA, Spec, format_number


def _default(spec: Spec) -> str:
    if spec.default is None:
        return spec.auto or "auto"
    if isinstance(spec.default, tuple):
        return " ".join(spec.default)
    return f"`{spec.default}`" if isinstance(spec.default, str) else format_number(spec.default)


def _allowed(spec: Spec) -> str:
    if spec.kind == "choice":
        return ", ".join(f"`{value}`" for value in spec.choices)
    if spec.kind in ("int", "float", "floats"):
        text = f"{format_number(spec.minimum)} to {format_number(spec.maximum)}"
        return f"{text}, each" if spec.kind == "floats" else text
    if spec.kind == "layers":
        return "ReLU layers"
    return "text"


def table() -> str:
    """The settings as a Markdown table: name, default, allowed values, what it does."""
    lines = ["| setting | default | allowed | what it does |", "|---|---|---|---|"]
    for spec in SCHEMA:
        lines.append(f"| `{spec.name}` | {_default(spec)} | {_allowed(spec)} | {spec.explained} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
