"""The app's examples: small copies (512 px on the long side, JPEG) of public-domain paintings
and of one CC BY photograph, shipped in ``assets/examples/``, with their credits."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1] / "assets" / "examples"

#: Rows of (photo, painting, painting or None), as file names in :data:`FOLDER`.
ROWS: tuple[tuple[str, str, str | None], ...] = (
    ("tubingen.jpg", "starry-night.jpg", None),
    ("tubingen.jpg", "the-scream.jpg", None),
    ("woman-with-hat.jpg", "shipwreck.jpg", None),
    ("tubingen.jpg", "starry-night.jpg", "the-scream.jpg"),
)

CREDITS = (
    "Examples: *The Starry Night* (Vincent van Gogh, 1889), *The Scream* (Edvard Munch, 1893), "
    "*The Shipwreck* (J. M. W. Turner, 1805) and *Woman with a Hat* (Henri Matisse, 1905), public domain; "
    "*Neckarfront in Tübingen*, photograph by Andreas Praefcke, "
    "[CC BY 3.0](https://creativecommons.org/licenses/by/3.0/)."
)


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
