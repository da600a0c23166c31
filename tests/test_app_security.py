"""The app as a hostile visitor tries it: the real app on 127.0.0.1, through gradio_client and
plain HTTP. A file reaches the engine only if Gradio received it from the visitor: a red
200x150 PNG written outside every upload folder is asked for through every file parameter of
``/stylize`` and ``/refine``, in every payload shape (with or without ``meta``, a URL, nested in
the regions editor's value); it is never opened (an audit hook watches every ``open``), never
painted, never returned, and the visitor reads one line saying why. The same file uploaded
comes back red: the check would see it if it leaked.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

pytest.register_assert_rewrite("conftest_app")  # before it is imported, as a plugin too
from conftest_app import ROOT, Served  # noqa: E402

from style_app.limits import VARIABLES, Limits  # noqa: E402
from style_app.messages import LONGEST  # noqa: E402
from style_app.uploads import NOT_UPLOADED  # noqa: E402
from style_core.errors import InvalidSettingError  # noqa: E402

pytest_plugins = ["conftest_app"]  # the fixture: served

#: Every file parameter, as (endpoint, parameter, where in its value the file goes).
IMAGES = ["content", "style_1", "style_2", "style_3", "mask_1", "mask_2", "mask_3"]
REGIONS = ["background", "layers", "composite"]
FILE_PARAMETERS = [
    *((api, name, None) for api in ("stylize", "refine") for name in IMAGES),
    *((api, "regions", part) for api in ("stylize", "refine") for part in REGIONS),
    ("refine", "init", None),
]
META = {"_type": "gradio.FileData"}
#: What the visitor reads for any file not received from them, for a parameter named by the regex.
REFUSED = re.escape(NOT_UPLOADED).replace(re.escape("{name}"), r"(?P<name>\w+)")


class Opens:
    """Every ``open`` of the watched files in this process (the server runs in it), seen by an
    audit hook: Python's own record of file access, whatever opens the file."""

    def __init__(self) -> None:
        self.watched: dict[str, str] = {}  #: file name -> real path
        self.seen: list[str] = []
        sys.addaudithook(self._hook)  # for the life of the process: it only compares names unless watching

    def watch(self, path: Path) -> None:
        self.watched[path.name] = os.path.realpath(path)

    def _hook(self, event: str, args: tuple) -> None:
        if event != "open" or not self.watched or not isinstance(args[0], (str, os.PathLike)):
            return
        path = os.fspath(args[0])
        if os.path.basename(path) in self.watched and os.path.realpath(path) in self.watched.values():
            self.seen.append(path)


@pytest.fixture(scope="module")
def opens() -> Iterator[Opens]:
    watcher = Opens()
    yield watcher
    watcher.watched.clear()


@pytest.fixture(scope="module")
def secret(served: Served, opens: Opens, tmp_path_factory) -> Path:
    """A 200x150 red PNG on the server's disk, outside every upload folder, watched."""
    path = tmp_path_factory.mktemp("server-files") / "red.png"
    Image.new("RGB", (200, 150), (255, 0, 0)).save(path)
    opens.watch(path)
    return path


@pytest.fixture(scope="module")
def client(served: Served) -> Client:
    return Client(served.url, verbose=False)


@pytest.fixture(scope="module")
def defaults(served: Served) -> dict[str, dict[str, Any]]:
    """Each endpoint's parameters with their defaults (the example photo and painting: uploads)."""
    endpoints = served.demo.get_api_info()["named_endpoints"]
    return {
        api: {p["parameter_name"]: p["parameter_default"] for p in endpoints[f"/{api}"]["parameters"]}
        for api in ("stylize", "refine")
    }


def _upload(served: Served, path: Path | str) -> dict[str, Any]:
    """``path`` uploaded as a visitor's browser does: its file object, with meta."""
    with open(path, "rb") as file:
        (uploaded,) = httpx.post(f"{served.url}/gradio_api/upload", files={"files": file}).json()
    return {"path": uploaded, "orig_name": Path(path).name, "meta": META}


def _call(served: Served, defaults: dict, api: str, **values: Any) -> tuple[str, Any]:
    """``/api`` over plain HTTP (``/gradio_api/call``): the last event of its stream and its data."""
    data = defaults[api] | {"size": 64, "steps": 1, "style_strength": 0} | values
    answer = httpx.post(f"{served.url}/gradio_api/call/{api}", json={"data": list(data.values())})
    answer.raise_for_status()
    event_id = answer.json()["event_id"]
    event = payload = None
    with httpx.stream("GET", f"{served.url}/gradio_api/call/{api}/{event_id}", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event in ("complete", "error"):
                payload = json.loads(line.removeprefix("data: "))
                break
    return event, payload


def _placed(name: str, part: str | None, file: Any) -> dict[str, Any]:
    """The argument(s) that put ``file`` in parameter ``name`` (in the regions' ``part``)."""
    if name != "regions":
        return {name: file}
    return {
        "regions": {"background": None, "layers": [], "composite": None} | {part: [file] if part == "layers" else file}
    }


def _is_red(path: str) -> bool:
    red, green, blue = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32).reshape(-1, 3).mean(0)
    return red > 200 and green < 60 and blue < 60


def _refused(message: str | None, name: str) -> bool:
    """Whether ``message`` is the one line refusing a file for parameter ``name``."""
    found = re.fullmatch(REFUSED, message or "", flags=re.IGNORECASE)
    return found is not None and found["name"].lower() == name


def test_an_uploaded_red_picture_comes_back_red(client, served, defaults, secret):
    """The control: the red picture, uploaded, is painted at style strength 0 into a red result,
    through gradio_client and over HTTP; so a leak of the server's copy would be seen."""
    _, png, _ = client.predict(
        content=handle_file(str(secret)), style_1=handle_file(served.examples[0][1]), size=64, steps=1,
        style_strength=0, api_name="/stylize",
    )  # fmt: skip
    assert _is_red(png)
    event, data = _call(served, defaults, "stylize", content=_upload(served, secret))
    assert event == "complete" and _is_red(data[1]["path"]), data


def test_an_upload_sent_without_meta_is_still_an_upload(served, defaults, secret):
    """The check is where a file is, not the payload's shape: an upload's path without meta runs."""
    uploaded = _upload(served, secret)
    event, data = _call(served, defaults, "stylize", content={"path": uploaded["path"]})
    assert event == "complete" and _is_red(data[1]["path"]), data


@pytest.mark.parametrize(("api", "name", "part"), FILE_PARAMETERS, ids=lambda v: str(v))
@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"orig_name": "photo.png"},
        {"url": "http://127.0.0.1/photo.png", "orig_name": "photo.png", "size": 100, "mime_type": "image/png"},
    ],
    ids=["path", "orig_name", "url"],
)
def test_a_server_file_is_refused_through_gradio_client(client, served, secret, opens, api, name, part, shape):
    """gradio_client sends a file object without meta as it is (with meta it uploads the
    client's own file, which is an upload)."""
    runs, opens.seen[:] = len(served.engine.runs), []
    values = {"content": handle_file(served.examples[0][0]), "style_1": handle_file(served.examples[0][1])}
    if api == "refine":
        values["init"] = handle_file(served.examples[0][0])
    values |= _placed(name, part, {"path": str(secret), **shape})
    with pytest.raises(AppError) as caught:
        client.predict(
            **values,
            size=64,
            steps=1,
            api_name=f"/{api}",
        )
    assert _refused(str(caught.value), name), str(caught.value)
    assert len(served.engine.runs) == runs and not opens.seen


@pytest.mark.parametrize(("api", "name", "part"), FILE_PARAMETERS, ids=lambda v: str(v))
@pytest.mark.parametrize("meta", [False, True], ids=["no-meta", "meta"])
def test_a_server_file_is_refused_over_http(served, defaults, secret, opens, api, name, part, meta):
    runs, opens.seen[:] = len(served.engine.runs), []
    file = {"path": str(secret), "orig_name": "red.png"} | ({"meta": META} if meta else {})
    extra = {"init": _upload(served, served.examples[0][0])} if api == "refine" and name != "init" else {}
    event, data = _call(served, defaults, api, **extra, **_placed(name, part, file))
    assert event == "error" and _refused(data["error"], name), data
    assert len(served.engine.runs) == runs and not opens.seen


def test_a_missing_file_is_refused_in_the_same_words(served, defaults, secret):
    """The answer tells nothing of which files exist on the server."""
    answers = [
        _call(served, defaults, "stylize", content={"path": str(path)})
        for path in (secret, secret.with_name("absent.png"))
    ]
    assert answers[0] == answers[1] and answers[0][0] == "error"


def test_the_page_s_own_event_refuses_a_server_file_too(served, secret, opens):
    """The photo's change event (which draws it into the regions editor, and is not in the API)
    is reachable by its index: it refuses the server's file as the API does."""
    opens.seen[:] = []
    editor_id = next(block._id for block in served.demo.blocks.values() if isinstance(block, gr.ImageEditor))
    config = httpx.get(f"{served.url}/config").json()
    (index,) = [d["id"] for d in config["dependencies"] if d["outputs"] == [editor_id]]
    answer = httpx.post(
        f"{served.url}/gradio_api/run/predict",
        json={"data": [{"path": str(secret)}], "fn_index": index, "session_hash": "hostile"},
    )
    assert answer.status_code >= 400 or "error" in answer.json()
    assert _refused(answer.json().get("error"), "photo"), answer.text
    assert not opens.seen


@pytest.fixture(scope="module")
def hostile_paths(served: Served, secret: Path) -> list[str]:
    """Ways to name the server's file: absolute, relative, through ``..`` from the upload folder,
    a symlink to it inside the upload folder, as URLs of this server and of files."""
    upload_folder = Path(os.environ["GRADIO_TEMP_DIR"])
    link = upload_folder / "planted" / "red.png"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    return [
        str(secret),
        os.path.relpath(secret),
        f"{upload_folder}/../{os.path.relpath(secret, upload_folder.parent)}",
        str(link),
        f"file://{secret}",
        f"{served.url}/gradio_api/file={secret}",
        f"http://127.0.0.1:1/{secret.name}",
        str(ROOT / "assets" / "app-screenshot.png"),  # in the server's working directory
        "/etc/passwd",
        f"{secret}\x00.png",
    ]


def _data_url(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_payload_shape_reaches_a_server_file(served, defaults, secret, opens, hostile_paths, data):
    """Any file object for any file parameter: a server path in any spelling, with or without
    meta, url, orig_name; or a real upload with a data: URL beside it (which Gradio would decode)."""
    api, name, part = data.draw(st.sampled_from(FILE_PARAMETERS), label="parameter")
    path, url = data.draw(
        st.one_of(
            st.tuples(
                st.sampled_from(hostile_paths),
                st.sampled_from([None, "http://127.0.0.1:1/a.png", f"/gradio_api/file={secret}", _data_url(secret)]),
            ),
            st.tuples(st.just(_upload(served, served.examples[0][0])["path"]), st.just(_data_url(secret))),
        ),
        label="path, url",
    )
    file = {"path": path}
    if url is not None:
        file["url"] = url
    file |= data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "meta": st.sampled_from([META, {"_type": "other"}, {}]),
                "orig_name": st.sampled_from(["photo.png", "x.svg", "../../red.png", ""]),
                "mime_type": st.sampled_from(["image/png", "image/svg+xml", "text/html"]),
                "size": st.integers(0, 10**12),
                "is_stream": st.booleans(),
            },
        ),
        label="fields",
    )
    runs, opens.seen[:] = len(served.engine.runs), []
    extra = {"init": _upload(served, served.examples[0][0])} if api == "refine" and name != "init" else {}
    event, answer = _call(served, defaults, api, **extra, **_placed(name, part, file))
    assert event == "error" and _refused(answer["error"], name), answer
    assert len(served.engine.runs) == runs and not opens.seen


BAD_VARIABLES = [
    ("STYLE_APP_MAX_SIZE", "abc"),
    ("STYLE_APP_MAX_SIZE", "4"),
    ("STYLE_APP_MAX_SIZE", "99999"),
    ("STYLE_APP_MAX_SIZE", "512.5"),
    ("STYLE_APP_TIME_LIMIT", "soon"),
    ("STYLE_APP_TIME_LIMIT", "nan"),
    ("STYLE_APP_TIME_LIMIT", "-5"),
    ("STYLE_APP_QUEUE_SIZE", "0"),
    ("STYLE_APP_QUEUE_SIZE", "many"),
    ("STYLE_APP_MAX_UPLOAD", "lots"),
    ("STYLE_APP_MAX_UPLOAD", "20"),
    ("STYLE_APP_MAX_UPLOAD", "0mb"),
    ("STYLE_APP_MAX_UPLOAD", "-1mb"),
    ("STYLE_APP_MAX_PIXELS", "1e9"),
    ("STYLE_APP_MAX_PIXELS", "10"),
]


@pytest.mark.parametrize(("name", "value"), BAD_VARIABLES)
def test_a_limit_variable_it_cant_use_is_one_line_naming_it_and_what_it_takes(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSettingError) as caught:
        Limits.for_device("cpu")
    line = str(caught.value)
    assert re.fullmatch(rf"{name} must be (a|an) .+; got {re.escape(repr(value))}; fix it, or unset it .+", line)
    assert {name for name, _ in BAD_VARIABLES} == {variable.name for variable in VARIABLES}


def test_limit_variables_it_can_use_are_used(monkeypatch):
    values = {"MAX_SIZE": " 320", "TIME_LIMIT": "90.5", "QUEUE_SIZE": "3", "MAX_UPLOAD": "5 MB", "MAX_PIXELS": "4096"}
    for name, value in values.items():
        monkeypatch.setenv(f"STYLE_APP_{name}", value)
    assert Limits.for_device("cpu") == Limits(320, 90.5, queue_size=3, max_file_size="5mb", max_pixels=4096)
    monkeypatch.setenv("STYLE_APP_MAX_SIZE", "")  # set but empty: unset
    assert Limits.for_device("cpu").max_size == Limits.BY_DEVICE["cpu"][0]


@pytest.mark.parametrize(("name", "value"), [("STYLE_APP_MAX_SIZE", "abc"), ("STYLE_APP_MAX_UPLOAD", "lots")])
def test_the_server_with_a_variable_it_cant_use_says_so_and_exits_2(tmp_path, name, value):
    environment = os.environ | {name: value, "GRADIO_TEMP_DIR": str(tmp_path), "STYLE_CORE_WEIGHTS": "offline"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py")], env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"style_app: {name} must be " + done.stderr.split(" must be ", 1)[1].strip()]
    assert "Traceback" not in done.stderr and not done.stdout


def _regions_with(layer: dict | None = None, **parts: Any) -> dict:
    return {"regions": {"background": None, "layers": [layer] if layer else [], "composite": None} | parts}


@pytest.mark.parametrize(
    "regions",
    ["abc", 5, [1, 2], {"layers": "abc"}, {"layers": [5]}, {"background": 7}, {"layers": [{"url": 3}]}],
    ids=["text", "number", "list", "layers-text", "layer-number", "background-number", "layer-url-number"],
)
def test_a_malformed_regions_value_is_one_line(served, defaults, regions):
    event, data = _call(served, defaults, "stylize", regions=regions)
    assert event == "error" and data["error"], data
    assert re.fullmatch(
        r"Regions: not a value this parameter takes \(.+\); see the app's API page for its shape", data["error"]
    )


def _bomb(path: Path) -> Path:
    Image.new("1", (20_000, 10_000)).save(path)  # 200 M pixels in a few kilobytes: over Pillow's bomb limit
    return path


def _text(path: Path) -> Path:
    path.write_text("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")
    return path


def _over_the_limit(path: Path) -> Path:
    Image.new("RGBA", (1200, 1000)).save(path)  # 1.2 M pixels, over the test's 1 M
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_text, r"Regions: an image \(background, layer or composite\) is not a picture Pillow reads"),
        (_bomb, r"Regions: an image has more pixels than this server reads \(1,000,000\)"),
        (_over_the_limit, r"Regions: an image of 1200x1000 = 1,200,000 pixels is more than this server reads .+"),
    ],
    ids=["text", "bomb", "over-the-limit"],
)
@pytest.mark.parametrize("part", REGIONS)
def test_a_regions_image_that_cant_be_read_is_one_line(served, defaults, tmp_path, make, message, part):
    uploaded = _upload(served, make(tmp_path / "layer.png"))
    regions = _regions_with(uploaded) if part == "layers" else _regions_with(**{part: uploaded})
    event, data = _call(served, defaults, "stylize", **regions)
    assert event == "error" and data["error"] and re.fullmatch(message, data["error"]), data


def _editor(served: Served):
    return next(block for block in served.demo.blocks.values() if isinstance(block, gr.ImageEditor))


def _send_blob(served: Served, blob_id: str, content: bytes, index: object = 0, kind: str = "layer") -> httpx.Response:
    """What a page may send the editor as bytes (gradio's ``accept_blobs``), ahead of a run."""
    fields = {"component_id": str(_editor(served)._id), "session_hash": "hostile", "fn_name": "accept_blobs"}
    fields |= {"type": kind, "index": str(index), "id": blob_id}
    return httpx.post(f"{served.url}/gradio_api/component_server", data=fields, files={"file": ("blob", content)})


@pytest.mark.parametrize("index", [10**9, 1, -1, "many"])
def test_a_layer_index_beyond_the_editors_layer_is_refused_before_room_is_made_for_it(served, index):
    """Gradio makes room for a layer at any index it is told: 10**9 would take gigabytes."""
    answer = _send_blob(served, "far", b"x", index=index)
    assert answer.status_code >= 400 and "far" not in _editor(served).blob_storage


def test_images_left_waiting_by_pages_are_bounded_and_a_run_that_lost_them_is_told(served, defaults):
    for k in range(served.limits.queue_size + 5):
        assert _send_blob(served, f"flood-{k}", b"x" * 1000).status_code == 200
    waiting = served.limits.queue_size + 1  # the jobs in the queue and the one running
    assert list(_editor(served).blob_storage) == [f"flood-{k}" for k in range(served.limits.queue_size + 5)][-waiting:]
    event, data = _call(served, defaults, "stylize", regions={"id": "flood-0", "layers": []})
    assert (event, data["error"]) == ("error", "Regions: the painted regions did not reach the server; press Run again")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_text, r"Regions: an image \(background, layer or composite\) is not a picture Pillow reads"),
        (_bomb, r"Regions: an image has more pixels than this server reads \(1,000,000\)"),
    ],
    ids=["text", "bomb"],
)
def test_an_editor_image_sent_as_bytes_is_read_as_carefully_as_an_upload(served, defaults, tmp_path, make, message):
    assert _send_blob(served, f"bytes-{make.__name__}", make(tmp_path / "layer.png").read_bytes()).status_code == 200
    event, data = _call(served, defaults, "stylize", regions={"id": f"bytes-{make.__name__}", "layers": []})
    assert event == "error" and re.fullmatch(message, data["error"]), data


@pytest.mark.parametrize(("name", "value"), [("quality", "x" * 1_000_000), ("size", "9" * 100_000)])
def test_a_huge_value_is_quoted_in_a_short_line(served, defaults, name, value):
    event, data = _call(served, defaults, "stylize", **{name: value})
    assert event == "error" and data["error"].startswith(f"{name.capitalize()} must be "), data["error"][:200]
    assert len(data["error"]) <= LONGEST + 3 and "\n" not in data["error"]


#: Any JSON value (JSON has no NaN or infinity, and httpx refuses to send them).
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["path", "url", "meta", "id", "layers", "background", "composite", "orig_name", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=8,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(["content", "mask_1", "regions"]), value=JSON)
def test_any_json_for_a_file_parameter_is_a_run_or_one_line(served, defaults, opens, name, value):
    """Whatever JSON a script sends where a file goes: never ``{"error": null}`` nor a traceback's words."""
    event, data = _call(served, defaults, "stylize", **{name: value})
    if event == "error":
        assert data["error"] and "\n" not in data["error"] and "Traceback" not in data["error"], data
    else:
        assert event == "complete", (event, data)
