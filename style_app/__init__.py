"""The web app of style_core (a Gradio page and its ``/stylize`` and ``/refine`` API), built
from the engine's settings schema and protocol. ``app.py`` beside this package starts it.

Modules: :mod:`~style_app.limits` (what one job may use, per device), :mod:`~style_app.controls`
(widgets generated from :data:`style_core.settings.SCHEMA`), :mod:`~style_app.parameters` (the
API's named parameters, from the same specs), :mod:`~style_app.handler` (the function behind
Run and Refine), :mod:`~style_app.regions` (a painting per part of the photo: painted in
the editor or uploaded as masks), :mod:`~style_app.messages` (errors as one line for a
visitor), :mod:`~style_app.uploads`, :mod:`~style_app.examples` and :mod:`~style_app.page`
(the layout and the launch).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported

from . import zerogpu  # noqa: F401 (before torch: ZeroGPU's `spaces` must come first)
