"""ZeroGPU: each job asks for the GPU time its plan needs, tested with a stand-in ``spaces``.

The stand-in is a real module object put into ``sys.modules`` as ``spaces`` (where the Space's
package would be), whose ``GPU(duration=...)`` does what ZeroGPU does with a callable duration:
at each call it calls ``duration`` with the function's arguments, records the seconds asked
for, then runs the function (here, on this machine's CPU, with the real engine).
"""

from __future__ import annotations

import subprocess
import sys
import types
from collections.abc import Callable

import gradio as gr
import pytest

pytest.register_assert_rewrite("conftest_app")
from conftest_app import ROOT, RecordingEngine  # noqa: E402

from style_app import zerogpu  # noqa: E402
from style_app.controls import app_specs  # noqa: E402
from style_app.examples import example_rows  # noqa: E402
from style_app.handler import API, make_handler, make_request  # noqa: E402
from style_app.limits import Limits  # noqa: E402
from style_app.parameters import signature  # noqa: E402
from style_app.zerogpu import START_SECONDS, GpuClock, planned_work  # noqa: E402

#: The CUDA limits of style_app.limits (what ZeroGPU's main process sees).
CUDA = Limits.for_device("cuda")


class StandInSpaces(types.ModuleType):
    """A ``spaces`` module whose ``GPU`` records the durations asked for."""

    def __init__(self) -> None:
        super().__init__("spaces")
        self.asked: list[int] = []
        self.durations: list[Callable] = []

    def GPU(self, duration: Callable[..., float]) -> Callable:  # the spaces package's name
        self.durations.append(duration)

        def decorate(function: Callable) -> Callable:
            def on_gpu(*args, **kwargs):
                self.asked.append(duration(*args, **kwargs))
                return function(*args, **kwargs)

            return on_gpu

        return decorate


@pytest.fixture
def spaces(monkeypatch) -> StandInSpaces:
    module = StandInSpaces()
    monkeypatch.setitem(sys.modules, "spaces", module)
    monkeypatch.setenv("STYLE_CORE_WEIGHTS", "offline")
    return module


def _values(photo: str, painting: str, refine: bool = False, **settings) -> dict:
    arguments = signature(app_specs(CUDA.overrides()), refine=refine).bind(content=photo, style_1=painting, **settings)
    arguments.apply_defaults()
    return arguments.arguments


def _request(size: int, **settings):
    photo, painting = example_rows()[0][:2]
    specs = app_specs(CUDA.overrides())
    return make_request(_values(photo, painting, size=size, **settings), specs, CUDA, refine=False)


def test_a_job_asks_zerogpu_for_the_time_its_plan_needs(spaces):
    engine = RecordingEngine()
    handler = make_handler(engine, CUDA, app_specs(CUDA.overrides()), view=API, preview_interval=0)
    photo, painting = example_rows()[0][:2]
    outputs = list(handler(photo, painting, size=64, steps=2))

    assert outputs[-1][2].startswith("done in") and engine.runs[-1].done
    [asked] = spaces.asked
    expected = GpuClock(CUDA.time_limit).duration(planned_work(photo, _request(64, steps=2).settings, refine=False))
    assert asked == expected and START_SECONDS <= asked < 30


def test_bigger_jobs_ask_for_more_time_below_the_limit(spaces):
    make_handler(RecordingEngine(), CUDA, app_specs(CUDA.overrides()), view=API)
    [duration] = spaces.durations
    asked = {size: duration(None, _request(size)) for size in (512, 1024, 2048, 4096)}
    assert asked[512] < asked[1024] < asked[2048] < asked[4096] <= CUDA.time_limit, asked
    assert duration(None, _request(2048, quality="high")) > asked[2048]


def test_a_job_that_would_not_fit_is_refused_before_it_starts(spaces):
    limits = Limits(**(vars(CUDA) | {"time_limit": 60}))
    engine = RecordingEngine()
    handler = make_handler(engine, limits, app_specs(limits.overrides()), view=API)
    photo, painting = example_rows()[0][:2]
    with pytest.raises(gr.Error) as refused:
        next(handler(photo, painting, size=4096, quality="high"))
    assert refused.value.message.startswith("This picture would need the GPU for about ")
    assert "more than this server's 60 seconds per picture: choose a smaller size or the draft quality" in (
        refused.value.message
    )
    assert not engine.runs and not spaces.asked


def test_without_spaces_the_engine_runs_undecorated(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces raises ImportError
    assert zerogpu.gpu_module() is None
    assert zerogpu.on_gpu(len, lambda *args: 1) is len


def test_app_py_has_a_module_level_demo_built_without_loading_or_launching():
    """gradio's reload mode imports app.py and looks for ``demo``; importing it must do no work."""
    check = (
        "import app, gradio; from style_core.engine import network; "
        "assert isinstance(app.demo, gradio.Blocks), type(app.demo); "
        "assert network.network.cache_info().currsize == 0 and network._weights.cache_info().currsize == 0; "
        "assert not app.demo.is_running; "
        "print('ok', len(app.demo.fns))"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout.startswith("ok"), done.stderr[-2000:]
