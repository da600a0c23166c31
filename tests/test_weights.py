"""Every weight source loads the same VGG-19; the Hub path runs against a real HTTP server."""

from __future__ import annotations

import hashlib
import math
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from style_core.engine.vgg import CONV_NAMES
from style_core.engine.weights import (
    _TORCHVISION_INDEX,
    HUB_FILENAME,
    HUB_REPO,
    HUB_REVISION,
    decode_quantized,
    hub_reachable,
    load_hub,
    load_offline,
    load_weights,
    offline_weights_path,
)
from style_core.errors import WeightsUnavailableError

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def offline():
    return load_offline()


def _torchvision_state(weights) -> dict[str, torch.Tensor]:
    state = {}
    for name, (w, b) in weights.convs.items():
        index = _TORCHVISION_INDEX[name]
        state[f"features.{index}.weight"], state[f"features.{index}.bias"] = w.clone(), b.clone()
    state["head.fc.weight"] = torch.zeros(2, 2)  # a classifier key, ignored
    return state


def _assert_same_network(a, b) -> None:
    assert list(a.convs) == list(CONV_NAMES)
    for name in CONV_NAMES:
        torch.testing.assert_close(a.convs[name][0], b.convs[name][0], rtol=0, atol=0)
        torch.testing.assert_close(a.convs[name][1], b.convs[name][1], rtol=0, atol=0)


def test_offline_weights_decode_exactly(offline):
    raw = torch.load(offline_weights_path(), map_location="cpu", weights_only=True)
    indices, table = raw["block3_conv2_W_q"], raw["block3_conv2_W_table"]
    # element by element, as the file's format defines it: weight = table[index]
    flat = [table[i].item() for i in indices.flatten()[:5000].tolist()]
    assert offline.convs["conv3_2"][0].flatten()[:5000].tolist() == flat
    assert offline.convs["conv3_2"][0].shape == (256, 256, 3, 3)
    assert offline.convention.name == "caffe"
    shapes = [tuple(offline.convs[n][0].shape[:2]) for n in CONV_NAMES]
    assert shapes[0] == (64, 3) and shapes[-1] == (512, 512)


def test_decode_quantized_checks_its_input():
    with pytest.raises(ValueError):
        decode_quantized(torch.zeros(3, dtype=torch.int64), torch.zeros(256))
    table = torch.arange(256, dtype=torch.float32)
    indices = torch.tensor([[0, 255], [7, 7]], dtype=torch.uint8)
    assert decode_quantized(indices, table).tolist() == [[0.0, 255.0], [7.0, 7.0]]


def test_safetensors_and_pth_state_dicts(tmp_path: Path, offline):
    state = _torchvision_state(offline)
    save_file(state, tmp_path / "vgg.safetensors")
    torch.save({"module." + k: v for k, v in state.items()}, tmp_path / "vgg.pth")
    from_safetensors = load_weights(tmp_path / "vgg.safetensors")
    from_pth = load_weights(tmp_path / "vgg.pth", convention="caffe")
    _assert_same_network(from_safetensors, offline)
    _assert_same_network(from_pth, offline)
    assert from_safetensors.convention.name == "torchvision"
    assert from_pth.convention.name == "caffe"


def test_matconvnet_file(tmp_path: Path, offline):
    scipy_io = pytest.importorskip("scipy.io", reason="scipy is part of the test extra")
    layers = np.empty((1, len(CONV_NAMES) + 1), dtype=object)
    layers[0, 0] = {"name": "relu0", "type": "relu"}
    for i, name in enumerate(CONV_NAMES, start=1):
        w, b = offline.convs[name]
        cell = np.empty((1, 2), dtype=object)
        cell[0, 0] = w.permute(3, 2, 1, 0).numpy()  # MatConvNet: (W, H, C_in, C_out)
        cell[0, 1] = b.numpy().reshape(-1, 1)
        layers[0, i] = {"name": name, "type": "conv", "weights": cell}
    average = np.broadcast_to(np.array([123.68, 116.779, 103.939]), (4, 4, 3)).copy()
    scipy_io.savemat(tmp_path / "vgg.mat", {"layers": layers, "normalization": {"averageImage": average}})
    weights = load_weights(tmp_path / "vgg.mat")
    _assert_same_network(weights, offline)
    assert weights.convention.bgr is False
    assert weights.convention.mean == pytest.approx((123.68, 116.779, 103.939))


def test_bad_weight_files_name_the_problem(tmp_path: Path):
    with pytest.raises(WeightsUnavailableError, match="no such file"):
        load_weights(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a tensor file")
    with pytest.raises(WeightsUnavailableError, match="safetensors"):
        load_weights(garbage)
    other = tmp_path / "other.safetensors"
    save_file({"fc.weight": torch.zeros(2, 2)}, other)
    with pytest.raises(WeightsUnavailableError, match="conv1_1"):
        load_weights(other)
    with pytest.raises(WeightsUnavailableError, match="unknown file type"):
        (tmp_path / "w.txt").write_text("x")
        load_weights(tmp_path / "w.txt")


class FakeHub:
    """A loopback HTTP server answering like the Hub for one file of one repo."""

    def __init__(self, payload: bytes, *, etag: str | None = None) -> None:
        self.payload = payload
        self.etag = etag or hashlib.sha256(payload).hexdigest()
        self.requests: list[tuple[str, str]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _answer(self, with_body: bool) -> None:
                hub.requests.append((self.command, self.path))
                expected = {f"/{HUB_REPO}/resolve/{rev}/{HUB_FILENAME}" for rev in ("main", COMMIT, HUB_REVISION)}
                if self.path.split("?")[0] not in expected:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = hub.payload
                start = 0
                if "Range" in self.headers:
                    start = int(self.headers["Range"].split("=")[1].split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("ETag", f'"{hub.etag}"')
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if with_body:
                    self.wfile.write(body[start:])

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

            def do_GET(self) -> None:
                self._answer(with_body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_hub_download_through_a_loopback_server(tmp_path: Path, offline):
    file = tmp_path / "served.safetensors"
    save_file(_torchvision_state(offline), file)
    cache = tmp_path / "cache"
    with FakeHub(file.read_bytes()) as hub:
        assert hub_reachable(hub.url)
        weights = load_hub(endpoint=hub.url, cache_dir=cache, revision=COMMIT)
        assert [method for method, _ in hub.requests] == ["HEAD", "GET"]
    _assert_same_network(weights, offline)
    assert weights.source == "hub" and weights.convention.name == "torchvision"
    # Pinned to a commit and cached: no request at all, the server is gone.
    again = load_hub(endpoint=hub.url, cache_dir=cache, revision=COMMIT)
    _assert_same_network(again, offline)
    assert not hub_reachable(hub.url)


def test_hub_missing_file_and_unreachable_hub(tmp_path: Path):
    with FakeHub(b"") as hub, pytest.raises(WeightsUnavailableError, match=r"no .* at that revision"):
        load_hub(endpoint=hub.url, cache_dir=tmp_path, repo_id="someone/else")
    with pytest.raises(WeightsUnavailableError, match="Ways out"):
        load_hub(endpoint=hub.url, cache_dir=tmp_path, local_files_only=True)


def test_auto_falls_back_to_offline_weights_when_the_hub_is_unreachable(monkeypatch, offline):
    monkeypatch.setattr("style_core.engine.weights.hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr("style_core.engine.weights.load_hub", _no_cached_hub)
    weights = load_weights("auto")
    assert weights.source == "offline"
    _assert_same_network(weights, offline)


def _no_cached_hub(**options):
    assert options == {"local_files_only": True}
    raise WeightsUnavailableError("not cached")


def test_nothing_available_says_the_three_ways_out(monkeypatch):
    monkeypatch.setattr("style_core.engine.weights.load_hub", _no_cached_hub)
    monkeypatch.setattr("style_core.engine.weights.hub_reachable", lambda *a, **k: False)
    monkeypatch.setattr("style_core.engine.weights.offline_weights_path", lambda: None)
    with pytest.raises(WeightsUnavailableError) as error:
        load_weights("auto")
    message = str(error.value)
    assert "HF_ENDPOINT" in message and "style-core[offline]" in message and "--weights PATH" in message


# -- damaged or foreign weight files are refused when loaded, in one line naming the file


def _saved(tmp_path: Path, state: dict, name: str = "vgg.safetensors") -> Path:
    path = tmp_path / name
    save_file(state, path) if path.suffix == ".safetensors" else torch.save(state, path)
    return path


def _refused(path: Path, pattern: str) -> str:
    with pytest.raises(WeightsUnavailableError, match=pattern) as error:
        load_weights(path)
    message = str(error.value)
    assert len(message.splitlines()) == 1 and str(path) in message
    return message


@pytest.mark.parametrize(
    ("key", "where", "value"), [("features.10.weight", (0, 0, 0, 0), math.nan), ("features.0.bias", (3,), math.inf)]
)
def test_non_finite_weights_are_refused_at_load_not_reported_as_divergence(tmp_path, offline, key, where, value):
    state = _torchvision_state(offline)
    state[key][where] = value
    message = _refused(_saved(tmp_path, state), r"(conv3_1 weight|conv1_1 bias) holds NaN or infinite values")
    assert "damaged" in message and "style strength" not in message


@pytest.mark.parametrize(
    ("key", "change", "pattern"),
    [
        (
            "features.5.weight",
            lambda t: t[:, :, :2, :2],
            r"conv2_1 weight has shape \(128, 64, 2, 2\); VGG-19's is \(128, 64, 3, 3\)",
        ),
        ("features.2.weight", lambda t: t[:32], r"conv1_2 weight has shape \(32, 64, 3, 3\)"),
        ("features.0.bias", lambda t: t[:10], r"conv1_1 bias has shape \(10,\); VGG-19's is \(64,\)"),
    ],
)
def test_wrong_shapes_are_refused_at_load(tmp_path, offline, key, change, pattern):
    state = _torchvision_state(offline)
    state[key] = change(state[key]).contiguous()
    assert "VGG-19 file" in _refused(_saved(tmp_path, state), pattern)


def test_a_missing_bias_or_a_non_tensor_is_refused(tmp_path, offline):
    state = _torchvision_state(offline)
    del state["features.7.bias"]
    _refused(_saved(tmp_path, state), r"has features\.7\.weight but no features\.7\.bias")
    state = _torchvision_state(offline)
    state["features.0.weight"] = 3
    _refused(_saved(tmp_path, state, "vgg.pth"), "features.0.weight is of type int, not a tensor")


class _Model:
    """Stands for a pickled model: an object that weights_only loading refuses."""


def test_a_pickled_model_is_refused_in_one_line_without_unsafe_advice(tmp_path, offline):
    path = _saved(tmp_path, {"model": _Model(), **_torchvision_state(offline)}, "model.pth")
    message = _refused(path, r"holds code to run \(.*_Model\), not only weights; it was not loaded")
    assert "weights_only" not in message and "state_dict()" in message and ".safetensors" in message
    (tmp_path / "noise.pth").write_bytes(bytes(range(256)) * 4)
    _refused(tmp_path / "noise.pth", "not a readable PyTorch file")


def test_the_hub_revision_is_pinned_to_a_commit():
    assert re.fullmatch(r"[0-9a-f]{40}", HUB_REVISION)


def test_a_download_that_does_not_match_its_etag_is_refused_and_removed(tmp_path, offline):
    file = tmp_path / "served.safetensors"
    save_file(_torchvision_state(offline), file)
    good = file.read_bytes()
    damaged = good[:-4096] + bytes(4096)  # the same length: only the hash tells
    cache = tmp_path / "cache"
    expect_refusal = pytest.raises(WeightsUnavailableError, match="not the expected file")
    with FakeHub(damaged, etag=hashlib.sha256(good).hexdigest()) as hub, expect_refusal as error:
        load_hub(endpoint=hub.url, cache_dir=cache, revision=COMMIT)
    assert "run again" in str(error.value) and not list(cache.rglob("*.safetensors"))
    assert not [p for p in cache.rglob("*") if p.is_file() and len(p.name) == 64]
    with FakeHub(good) as hub:
        _assert_same_network(load_hub(endpoint=hub.url, cache_dir=cache, revision=COMMIT), offline)


def test_the_pinned_revision_is_checked_against_the_known_sha256(tmp_path, offline, monkeypatch):
    file = tmp_path / "served.safetensors"
    save_file(_torchvision_state(offline), file)
    with FakeHub(file.read_bytes()) as hub:
        with pytest.raises(WeightsUnavailableError, match="not the expected file"):
            load_hub(endpoint=hub.url, cache_dir=tmp_path / "a")  # the real pin: this file is not the real one
        assert hub.requests[0][1].startswith(f"/{HUB_REPO}/resolve/{HUB_REVISION}/")
        monkeypatch.setattr("style_core.engine.weights.HUB_SHA256", hub.etag)
        _assert_same_network(load_hub(endpoint=hub.url, cache_dir=tmp_path / "b"), offline)
