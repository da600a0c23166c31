"""The example pictures shipped with the package (``example_images/``, at most 512 px, JPEG):
public-domain paintings and one CC BY photograph, for ``style-core --example``, the app's
examples and the README (:data:`PAINTINGS`, :data:`PHOTO`, :data:`CREDITS`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The shipped photograph and paintings, by file name in :func:`example_folder`.
PHOTO = "tubingen.jpg"
PAINTINGS = ("starry-night.jpg", "the-scream.jpg", "shipwreck.jpg", "woman-with-hat.jpg")
CREDITS = (
    "*The Starry Night* (Vincent van Gogh, 1889), *The Scream* (Edvard Munch, 1893), "
    "*The Shipwreck* (J. M. W. Turner, 1805) and *Woman with a Hat* (Henri Matisse, 1905), public domain; "
    "*Neckarfront in Tübingen*, photograph by Andreas Praefcke, "
    "[CC BY 3.0](https://creativecommons.org/licenses/by/3.0/)."
)


def example_folder() -> Path:
    """The folder of the shipped example pictures."""
    return Path(str(resources.files(__package__).joinpath("example_images")))
