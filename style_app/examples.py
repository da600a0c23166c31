"""The app's examples: the engine's shipped paintings and photograph
(:mod:`style_core.examples`), in rows for :class:`gradio.Examples`."""

from __future__ import annotations

from pathlib import Path

from style_core.examples import CREDITS as EXAMPLE_CREDITS
from style_core.examples import example_folder

FOLDER = example_folder()

#: Rows of (photo, painting, painting or None), as file names in :data:`FOLDER`.
ROWS: tuple[tuple[str, str, str | None], ...] = (
    ("tubingen.jpg", "starry-night.jpg", None),
    ("tubingen.jpg", "the-scream.jpg", None),
    ("woman-with-hat.jpg", "shipwreck.jpg", None),
    ("tubingen.jpg", "starry-night.jpg", "the-scream.jpg"),
)

CREDITS = f"Examples: {EXAMPLE_CREDITS}"


def example_rows(folder: Path = FOLDER) -> list[list[str | None]]:
    """The examples as paths, for :class:`gradio.Examples`; a missing file raises
    :class:`FileNotFoundError` naming it (the examples ship with the app)."""
    rows = []
    for row in ROWS:
        paths = [None if name is None else folder / name for name in row]
        for path in paths:
            if path is not None and not path.is_file():
                raise FileNotFoundError(f"the app's example image {path} is missing")
        rows.append([None if path is None else str(path) for path in paths])
    return rows
