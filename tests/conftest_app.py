"""Fixtures shared by the app tests: the real app on 127.0.0.1 with the real engine, offline.

Not a ``conftest.py``: the test modules import what they use from here, so the app and
gradio are only imported where they are tested.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app.py and style_app/ live at the repository root, outside the package
    sys.path.insert(0, str(ROOT))

from style_app.examples import example_rows  # noqa: E402
from style_app.limits import Limits  # noqa: E402
from style_app.page import create_demo, launch_options  # noqa: E402
from style_core import Finished, stylize_iter  # noqa: E402
from style_core.events import Event  # noqa: E402


@dataclass
class Run:
    """What the engine did in one job."""

    steps: int = 0
    total_steps: int = 0
    done: bool = False
    options: dict = field(default_factory=dict)  #: the keywords the engine was called with
    ended: float | None = None  #: time.monotonic() when the engine's generator was closed


class RecordingEngine:
    """The real :func:`stylize_iter`, keeping a record of each run (its options, steps, end)."""

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.lock = threading.Lock()

    def __call__(self, content, styles, **options) -> Iterator[Event]:
        run = Run(options=dict(options, content=content, styles=list(styles)))
        with self.lock:
            self.runs.append(run)
        events = stylize_iter(content, styles, **options)
        try:
            for event in events:
                if isinstance(event, Finished):
                    run.done = True
                else:
                    run.steps, run.total_steps = event.step, event.total_steps
                yield event
        finally:
            events.close()
            run.ended = time.monotonic()

    def wait_for_end(self, run: Run, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while run.ended is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return run.ended is not None


@dataclass
class Served:
    url: str
    engine: RecordingEngine
    examples: list[list[str | None]]  #: rows of (photo, painting, painting or None)
    limits: Limits
    demo: object


#: Small limits so that the tests can reach each of them cheaply.
TEST_LIMITS = Limits(max_size=256, time_limit=120, queue_size=4, max_file_size="1mb", max_pixels=1_000_000)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """The app launched on 127.0.0.1 (a free port), its temp folders under tmp_path."""
    tmp = tmp_path_factory.mktemp("app")
    (tmp / "tmp").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("STYLE_CORE_WEIGHTS", "offline")
        mp.setenv("GRADIO_TEMP_DIR", str(tmp / "gradio"))
        mp.setenv("TMPDIR", str(tmp / "tmp"))
        mp.setattr(tempfile, "tempdir", str(tmp / "tmp"))
        mp.delenv("GRADIO_SERVER_NAME", raising=False)
        engine = RecordingEngine()
        demo = create_demo(engine=engine, limits=TEST_LIMITS, preview_interval=0)
        demo.launch(**launch_options(TEST_LIMITS), prevent_thread_lock=True, quiet=True)
        try:
            assert demo.local_url.startswith("http://127.0.0.1:")
            yield Served(demo.local_url.rstrip("/"), engine, example_rows(), TEST_LIMITS, demo)
        finally:
            demo.close()
