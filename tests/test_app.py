"""The web app through gradio_client, as a person's script would use it: the app launched on
127.0.0.1 with the real engine and the offline weights, at small sizes."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import style_core
from style_core import Settings, read_recipe, stylize_iter

pytest.register_assert_rewrite("conftest_app")  # before it is imported, as a plugin too
from conftest_app import RecordingEngine, Served, app  # noqa: E402

pytest_plugins = ["conftest_app"]  # the fixtures: served, examples_dir


@pytest.fixture(scope="module")
def client(served: Served) -> Client:
    return Client(served.url, verbose=False)


def _inputs(served: Served, **options) -> dict:
    """A small job on the example photo and painting; ``options`` override."""
    return {
        "content": handle_file(served.examples[0][0]),
        "style_1": handle_file(served.examples[0][1]),
        "size": 96,
        "steps": 3,
        **options,
    }


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _is_file(value: object) -> bool:
    return isinstance(value, str) and Path(value).is_file()


def _long_job(client: Client, served: Served):
    """A job far longer than the test waits for it: one 128 px stage of 400 iterations."""
    return client.submit(**_inputs(served, size=128, steps=400), api_name="/stylize")


def test_a_small_job_streams_previews_then_a_png_with_its_recipe(client, served):
    job = client.submit(**_inputs(served), api_name="/stylize")
    outputs = list(job)
    image, png, status = job.result()

    previews = [out[0] for out in outputs[:-1] if _is_file(out[0])]
    assert len({_digest(p) for p in previews}) >= 2, f"previews before the end: {previews}"
    assert all(Path(p).name != "stylized.png" for p in previews)
    assert Path(png).name == "stylized.png" and _digest(png) == _digest(image)
    assert any("step 1 of 3" in out[2] and "<progress" in out[2] for out in outputs[:-1])
    assert status.startswith("Done in"), status
    with Image.open(png) as result:
        assert result.format == "PNG" and max(result.size) == 96
    recipe = read_recipe(png)
    assert recipe["settings"]["size"] == 96 and recipe["settings"]["steps"] == 3
    assert recipe["weights"]["source"]
    assert served.engine.runs[-1].done


def test_stop_closes_the_engine_within_a_step(client, served):
    job = _long_job(client, served)
    for seen, _out in enumerate(job, start=1):
        if seen == 3:
            break
    run = served.engine.runs[-1]
    steps_at_cancel = run.steps
    job.cancel()
    assert served.engine.wait_for_end(run, timeout=10), "the engine kept running after Stop"
    assert not run.done and run.steps < run.total_steps
    # the step in flight, and any that ran while the cancel request travelled to the server
    assert run.steps - steps_at_cancel <= 3, "the engine went on for steps after Stop"
    steps_after_end = run.steps
    time.sleep(0.5)
    assert run.steps == steps_after_end
    assert str(job.status().code).endswith("CANCELLED")


def test_closing_the_handler_stops_the_engine_at_once(served):
    """What Stop does on the server: gradio closes the handler between two yields (one per
    engine step), and the engine ends there without another step."""
    engine = RecordingEngine()
    job = _handler(engine)(*served.examples[0][:2], size=64, steps=50)
    for _ in range(3):
        next(job)
    run = engine.runs[-1]
    steps = run.steps
    job.close()
    assert run.ended is not None and run.steps == steps < run.total_steps and not run.done


def test_a_second_job_waits_in_the_queue_and_sees_its_place(client, served):
    first = _long_job(client, served)
    next(iter(first))  # running
    second = client.submit(**_inputs(served), api_name="/stylize")
    try:
        deadline = time.monotonic() + 10
        status = second.status()
        while not str(status.code).endswith("IN_QUEUE") and time.monotonic() < deadline:
            time.sleep(0.05)
            status = second.status()
        assert str(status.code).endswith("IN_QUEUE")
        assert status.rank == 0 and status.queue_size >= 1, status  # rank 0: next in line
    finally:
        first.cancel()
    assert served.engine.wait_for_end(served.engine.runs[-1], timeout=10)
    assert second.result(timeout=60)[2].startswith("Done in")  # then it runs


def _not_an_image(tmp_path: Path) -> dict:
    path = tmp_path / "notes.txt"
    path.write_text("not a picture")
    return {"content": handle_file(str(path))}


def _too_many_pixels(tmp_path: Path) -> dict:
    path = tmp_path / "huge.png"
    Image.new("RGB", (1200, 1000), (40, 90, 160)).save(path)  # small file, 1.2 MP > the limit
    return {"style_1": handle_file(str(path))}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: {"content": None}, "Add a photo first"),
        (lambda tmp: {"style_1": None}, "Add at least one painting"),
        (_not_an_image, "notes.txt is not an image"),
        (_too_many_pixels, "Style image 1 (huge.png): 1200x1000 = 1,200,000 pixels"),
        (lambda tmp: {"style_strength": -1}, "less than minimum"),
        (lambda tmp: {"style_layers": []}, "must each name at least one layer"),
    ],
    ids=["no-photo", "no-painting", "not-an-image", "too-many-pixels", "off-the-slider", "engine"],
)
def test_a_bad_request_gets_a_readable_error(client, served, tmp_path, make, message):
    with pytest.raises(AppError, match=re.escape(message)):
        client.predict(**_inputs(served, **make(tmp_path)), api_name="/stylize")


def test_an_upload_over_the_size_limit_is_refused(client, served, tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (700, 700, 3), dtype=np.uint8)
    path = tmp_path / "big.png"
    Image.fromarray(noise).save(path)
    assert path.stat().st_size > 1024**2
    with pytest.raises(ValueError, match="exceeds the maximum file size"):
        client.predict(**_inputs(served, content=handle_file(str(path))), api_name="/stylize")
    with path.open("rb") as file:  # the server refuses it too, whatever the client does
        response = httpx.post(f"{served.url}/gradio_api/upload", files={"files": file})
    assert response.status_code == 413


def _handler(engine, **limits):
    fields = vars(app.Limits.for_device("cpu")) | limits
    return app.make_handler(engine, app.Limits(**fields), preview_interval=0)


def test_a_job_over_the_time_limit_is_cancelled_with_a_message(served):
    handler = _handler(stylize_iter, time_limit=0)
    job = handler(*served.examples[0][:2], size=64)
    with pytest.raises(app.UserError, match="Cancelled: this run passed the time limit"):
        list(job)


def test_out_of_memory_suggests_a_smaller_size(served):
    def engine(content, styles, **options):
        yield from ()
        raise style_core.OutOfMemoryError("out of memory at 512x384 px on cuda; choose a smaller size")

    job = _handler(engine)(*served.examples[0][:2], size=512)
    with pytest.raises(app.UserError, match=r"Out of memory at 512 px\. Choose a smaller output size"):
        list(job)


def test_launch_defaults_are_local_and_quiet(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert app.launch_options()["server_name"] == "127.0.0.1"
    assert app.launch_options()["ssr_mode"] is False
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert app.launch_options()["server_name"] == "0.0.0.0"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_limits_depend_on_the_device_and_the_environment(monkeypatch):
    for name in ("MAX_SIZE", "TIME_LIMIT", "QUEUE_SIZE", "MAX_UPLOAD", "MAX_PIXELS"):
        monkeypatch.delenv(f"STYLE_APP_{name}", raising=False)
    cpu, gpu = app.Limits.for_device("cpu"), app.Limits.for_device("cuda")
    assert Settings().size <= cpu.max_size < gpu.max_size
    monkeypatch.setenv("STYLE_APP_MAX_SIZE", "320")
    assert app.Limits.for_device("cpu").max_size == 320


def test_the_controls_start_at_the_engine_defaults(served):
    defaults = Settings()
    values = {
        c["props"].get("label"): c["props"].get("value") for c in served.demo.config["components"] if "props" in c
    }
    assert values["Style strength"] == defaults.style_strength
    assert values["Output size (long side, px)"] == min(defaults.size, served.limits.max_size)
    assert values["Quality"] == defaults.quality
    assert values["Preserve colours"] == defaults.preserve_colors
    assert values["Style layers"] == list(defaults.style_layers)
    assert values["Optimiser"] == defaults.optimizer
