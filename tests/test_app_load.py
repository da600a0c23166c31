"""The web app under load, as ``bench/app_load.py`` measures it: the app in its own process
with the real engine at tiny sizes, driven through gradio_client. About a minute on 2 cores."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "app_load.py"


def _app_load():
    spec = importlib.util.spec_from_file_location("app_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_a_burst_a_stop_storm_and_many_jobs_lose_nothing_and_leak_nothing(tmp_path):
    """5 clients at once with the queue bounded at 2: each finishes or is told the queue is
    full; 10 jobs cancelled mid-run leave no worker busy; a warmed-up server's RSS does not
    grow by the bench's LEAK_GROWTH in every interval between its MEMORY_MARKS."""
    app_load = _app_load()
    burst, storm, memory, problems = app_load.run(tmp_path)
    print(app_load.report(burst, storm, memory))
    assert burst.finished + burst.turned_away == 5 and burst.lost == 0 and burst.finished >= 1
    assert storm.cancelled == 10 and storm.next_finished
    assert not problems, problems
