"""The wire format: records, JSON lines, error records and the status line."""

from __future__ import annotations

import ast
from pathlib import Path

import torch

from style_core import protocol
from style_core.errors import OutOfMemoryError, UsageError
from style_core.events import Finished, Progress, Result


def _progress(**changes) -> Progress:
    fields = dict(step=61, total_steps=132, stage=2, num_stages=5, width=181, height=136)
    fields |= dict(losses={"total": 1.23456789}, elapsed=12.3, fraction=0.4, eta=40.4)
    return Progress(**(fields | changes))


def test_a_progress_record_round_trips_without_its_picture():
    event = _progress(preview=object())
    line = protocol.encode(protocol.record(event, preview="/tmp/p.png"))
    assert "\n" not in line
    data = protocol.decode(line)
    assert data["event"] == "progress" and data["step"] == 61 and data["preview"] == "/tmp/p.png"
    assert data["losses"] == {"total": 1.235}  # rounded to 4 significant places


def test_a_finished_record_leaves_the_result_out():
    result = Result(torch.zeros(1, 3, 4, 4), None, {"settings": {}})
    data = protocol.record(Finished(steps=10, width=4, height=4, elapsed=65.2, result=result), output="/o.png")
    assert data == {"event": "done", "steps": 10, "width": 4, "height": 4, "elapsed": 65.2, "output": "/o.png"}
    assert protocol.describe(data) == "done in 1:05: 4x4 px, 10 iterations"


def test_decode_skips_lines_that_are_not_records():
    assert protocol.decode("hello") is None
    assert protocol.decode("[1, 2]") is None
    assert protocol.decode(b'{"event": "progress"}') == {"event": "progress"}


def test_errors_become_records_with_their_kind_and_way_out():
    oom = protocol.error_record(OutOfMemoryError("out of memory at 4096x3072 px on cpu"))
    assert oom == {
        "event": "error",
        "kind": "OutOfMemoryError",
        "message": "out of memory at 4096x3072 px on cpu",
        "hint": "choose a smaller size",
    }
    assert protocol.describe(oom) == "out of memory at 4096x3072 px on cpu; choose a smaller size"
    assert protocol.error_record(UsageError("no image"))["hint"] == "see style-core --help"
    assert protocol.error_record(KeyboardInterrupt())["kind"] == "Cancelled"
    bug = protocol.error_record(ZeroDivisionError("division by zero"))
    assert bug["kind"] == "ZeroDivisionError" and bug["hint"] == protocol.BUG_HINT


def test_the_status_line_uses_the_engines_estimate():
    line = protocol.describe(protocol.record(_progress()))
    assert line == "stage 2/5 (181x136) · step 61/132 · 0:12 so far · about 0:40 left"
    assert protocol.format_seconds(3723) == "1:02:03"


def test_the_module_needs_only_the_standard_library():
    """The GIMP plug-in's Python has no torch: it runs a copy of this file."""
    tree = ast.parse(Path(protocol.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0
    }
    assert imported <= {"__future__", "dataclasses", "json", "typing"}
