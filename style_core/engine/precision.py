"""The network's precision on this machine: bf16 autocast where it is faster, else float32.

bf16 halves the network's memory traffic, and CPUs with native bf16 units (``avx512_bf16``,
AMX) and CUDA GPUs run its convolutions 2x faster or more; CPUs without them emulate it, 4-5x
slower than float32. No list of CPU names can tell which: :func:`choose` times a tiny
VGG-like forward and backward pass in both precisions, once per machine, and keeps the answer
in a cache file keyed by the processor and torch's version (:func:`cache_path`), unless the
machine was busy with other work while it measured (:func:`busy`). Only the
network runs in bf16: the statistics (Gram matrices, means), the losses and the optimiser
stay float32 (the style losses promote their inputs).

The ``precision`` setting forces either: ``auto`` (measure), ``fp32`` or ``bf16``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

log = logging.getLogger(__name__)

#: bf16 is chosen when float32 takes at least this many times as long (a margin for noise).
MIN_SPEEDUP = 1.15
#: Timed passes per precision; the fastest counts (the least disturbed by other work).
REPEATS = 3
#: Rounds in which the precisions take turns (each round times :data:`REPEATS` passes of each).
ROUNDS = 3

#: Times one forward and backward pass: ``(device, bf16) -> seconds``.
Timer = Callable[[torch.device, bool], float]


def autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """bf16 autocast for the network's pass on ``device`` when ``precision`` is ``"bf16"``."""
    if precision == "bf16" and device.type in ("cpu", "cuda"):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def faster(fp32_seconds: float, bf16_seconds: float) -> str:
    """``"bf16"`` when it beats float32 by :data:`MIN_SPEEDUP`, else ``"fp32"``."""
    return "bf16" if fp32_seconds >= MIN_SPEEDUP * bf16_seconds else "fp32"


def _probe(device: torch.device) -> tuple[nn.Module, torch.Tensor]:
    """A VGG-like block (the first convolutions, where most of the pixels' work is) and a
    (1, 3, 128, 128) input, with fixed random weights."""
    generator = torch.Generator().manual_seed(0)
    convs = [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256)]
    layers: list[nn.Module] = []
    for i, (c_in, c_out) in enumerate(convs):
        conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        with torch.no_grad():
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * (2 / (9 * c_in)) ** 0.5)
        layers += [conv, nn.ReLU()] + ([nn.MaxPool2d(2)] if i in (1, 3) else [])
    net = nn.Sequential(*layers).requires_grad_(False).to(device)
    image = torch.rand(1, 3, 128, 128, generator=generator).to(device)
    if device.type == "cpu":
        net, image = net.to(memory_format=torch.channels_last), image.contiguous(memory_format=torch.channels_last)
    return net, image


def time_pass(device: torch.device, bf16: bool) -> float:
    """The fastest of :data:`REPEATS` forward and backward passes of :func:`_probe`, in seconds
    (after one untimed pass that warms the kernels up)."""
    net, image = _probe(device)
    best = float("inf")
    for i in range(REPEATS + 1):
        x = image.clone().requires_grad_()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        started = time.perf_counter()
        with autocast(device, "bf16" if bf16 else "fp32"):
            features = net(x)
        features.float().square().mean().backward()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i:
            best = min(best, time.perf_counter() - started)
    return best


def machine_key(device: torch.device) -> str:
    """What the answer depends on: the processor (model and flags) or the GPU, and torch."""
    if device.type == "cuda":
        hardware = torch.cuda.get_device_name(device)
    else:
        hardware = platform.processor() or platform.machine()
        with contextlib.suppress(OSError):
            lines = Path("/proc/cpuinfo").read_text().splitlines()
            hardware = "|".join(sorted({line for line in lines if line.startswith(("model name", "flags"))}))
        hardware += f"|threads={torch.get_num_threads()}"
    digest = hashlib.sha256(hardware.encode()).hexdigest()[:16]
    return f"{device.type}-{digest}-torch{torch.__version__}"


def cache_path() -> Path:
    """Where measured choices are kept: ``$STYLE_CORE_CACHE`` or ``$XDG_CACHE_HOME/style_core``
    (``~/.cache/style_core``), file ``precision.json``."""
    root = os.environ.get("STYLE_CORE_CACHE") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "style_core"
    )
    return Path(root) / "precision.json"


def _read(path: Path) -> dict[str, str]:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _write(path: Path, record: dict[str, str]) -> None:
    """Write ``record`` to a temporary name beside ``path``, then rename it; a cache that can't
    be written is only logged (the choice is measured again next time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as out:
            json.dump(record, out, indent=1)
        os.replace(out.name, path)
    except OSError as error:
        log.info("could not keep the precision choice in %s: %s", path, error)


def measure(device: torch.device, timer: Timer = time_pass) -> str:
    """The faster precision on ``device`` by ``timer``'s figures (MPS: float32)."""
    if device.type not in ("cpu", "cuda"):
        return "fp32"
    # the two precisions take turns, so that other work on a busy machine slows both alike
    rounds = [(timer(device, False), timer(device, True)) for _ in range(ROUNDS)]
    fp32_seconds, bf16_seconds = min(r[0] for r in rounds), min(r[1] for r in rounds)
    choice = faster(fp32_seconds, bf16_seconds)
    log.info("precision on %s: fp32 %.4f s, bf16 %.4f s: %s", device, fp32_seconds, bf16_seconds, choice)
    return choice


@functools.lru_cache(maxsize=8)
def _auto(device: torch.device) -> str:
    path = cache_path()
    key = machine_key(device)
    known = _read(path)
    if known.get(key) in ("fp32", "bf16"):
        return known[key]
    choice = measure(device, time_pass)
    if device.type == "cuda" or not busy():
        _write(path, _read(path) | {key: choice})
    return choice


def busy() -> bool:
    """Whether other work keeps this machine's processors busy (a load average above their
    count): the timings then say more about that work than about bf16, so the choice made is
    not kept, and the next process measures again."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1)
    except (AttributeError, OSError):  # no load average on this system
        return False


def choose(setting: str, device: torch.device) -> str:
    """The network's precision for the ``precision`` setting on ``device``: ``fp32`` or
    ``bf16`` as given; ``auto``: the faster one on this machine, measured once and cached."""
    if setting != "auto":
        return setting
    return _auto(device)
