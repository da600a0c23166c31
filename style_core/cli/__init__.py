"""The command-line door: ``style-core`` and its commands, each a module here.

``style-core CONTENT STYLE ...`` paints one picture (:mod:`.picture`); ``style-core batch``
(:mod:`.batch`) and ``style-core video`` (:mod:`.video`) take many pictures or a video;
``style-core gimp`` installs the GIMP plug-in (:mod:`style_core.gimp.install`). Every setting is
an option generated from the schema (:mod:`.options`); what a command prints and how it ends is
:mod:`.console`'s.
"""

from __future__ import annotations

import importlib
import sys

from .console import EXIT_CANCELLED

#: The other commands, by their first word: the module whose ``main(argv)`` runs each.
COMMANDS = {"batch": ".batch", "video": ".video", "gimp": "..gimp.install"}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``style-core`` and ``python -m style_core``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] and argv[0] in COMMANDS:
            command = importlib.import_module(COMMANDS[argv[0]], __package__)
            return command.main(argv[1:])
        from .picture import run

        return run(argv)
    except KeyboardInterrupt:  # while the engine's modules were still loading
        print("style-core: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
