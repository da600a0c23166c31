"""The web app of style_core: repaint your photo in the style of a painting and watch it form.

``python app.py`` serves it on http://127.0.0.1:7860 (``GRADIO_SERVER_NAME=0.0.0.0`` to share
it on a network; Hugging Face Spaces set that themselves). The page and its API endpoints
``/stylize`` and ``/refine`` (which ``gradio_client`` can call and stream from) live in the
:mod:`style_app` package beside this file; this is the Space's entry file.

``demo`` is the page, built at import and not launched (gradio's reload mode, ``gradio
app.py``, looks for it): building it loads no weights and runs nothing.
"""

from __future__ import annotations

from style_app.page import create_demo, main, server_limits

demo = create_demo(limits=server_limits())

if __name__ == "__main__":
    main(demo)
