"""The network's precision: measured once per machine, cached, and float32 where bf16 is slower."""

from __future__ import annotations

import json

import pytest
import torch

from style_core.engine import precision
from style_core.engine.precision import cache_path, choose, machine_key, measure

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def fresh_cache(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """Each test keeps its choices in its own cache file, and forgets the process's."""
    monkeypatch.setenv("STYLE_CORE_CACHE", str(tmp_path))
    precision._auto.cache_clear()
    yield
    precision._auto.cache_clear()


def timings(fp32: float, bf16: float):
    """A timer that reports these measured seconds (a CPU without bf16 units: 0.74 s and 3.4 s)."""
    calls = []

    def timer(device: torch.device, bf16_pass: bool) -> float:
        calls.append(bf16_pass)
        return bf16 if bf16_pass else fp32

    return timer, calls


@pytest.mark.parametrize(
    ("fp32", "bf16", "expected"),
    [
        (0.74, 0.34, "bf16"),  # a CPU with avx512_bf16: 2.2x faster
        (0.74, 3.40, "fp32"),  # a CPU that emulates bf16: 4.6x slower
        (0.74, 0.70, "fp32"),  # within the noise: not worth the rounding
    ],
)
def test_bf16_only_where_it_is_clearly_faster(fp32, bf16, expected):
    timer, calls = timings(fp32, bf16)
    assert measure(CPU, timer) == expected
    assert calls == [False, True] * precision.ROUNDS  # both precisions timed, taking turns


def test_the_choice_is_measured_once_and_kept_in_the_cache(monkeypatch: pytest.MonkeyPatch):
    timer, calls = timings(0.74, 3.40)
    monkeypatch.setattr(precision, "time_pass", timer)
    monkeypatch.setattr(precision, "busy", lambda: False)
    assert choose("auto", CPU) == "fp32"
    assert json.loads(cache_path().read_text()) == {machine_key(CPU): "fp32"}
    precision._auto.cache_clear()  # a new process reads the file and times nothing
    assert choose("auto", CPU) == "fp32" and len(calls) == 2 * precision.ROUNDS


def test_a_setting_forces_either_without_measuring():
    assert choose("fp32", CPU) == "fp32" and choose("bf16", CPU) == "bf16"
    assert not cache_path().exists()


def test_the_real_probe_times_both_precisions():
    assert 0 < precision.time_pass(CPU, False) < 60 and 0 < precision.time_pass(CPU, True) < 60


def test_the_key_names_the_processor_and_torch():
    key = machine_key(CPU)
    assert key.startswith("cpu-") and key.endswith(f"torch{torch.__version__}")


def test_a_choice_measured_on_a_busy_machine_is_not_kept(monkeypatch: pytest.MonkeyPatch):
    timer, _ = timings(0.74, 0.34)
    monkeypatch.setattr(precision, "time_pass", timer)
    monkeypatch.setattr(precision, "busy", lambda: True)
    assert choose("auto", CPU) == "bf16"
    assert not cache_path().exists()  # the next process measures again
