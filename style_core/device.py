"""Choosing the compute device: CUDA if present, else Apple MPS, else the CPU."""

from __future__ import annotations

import torch

from .errors import InvalidSettingError

DEVICE_KINDS = ("cuda", "mps", "cpu")


def resolve_device(name: str | None = None) -> torch.device:
    """``None``/``"auto"`` picks the best available; ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"`` are checked."""
    if name in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise InvalidSettingError(f"device must be auto, {', '.join(DEVICE_KINDS)} (or cuda:N); got {name!r}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidSettingError("device 'cuda' was asked for, but no CUDA GPU is available here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidSettingError("device 'mps' was asked for, but Apple's MPS is not available here")
    if device.type not in DEVICE_KINDS:
        raise InvalidSettingError(f"device must be auto, {', '.join(DEVICE_KINDS)}; got {name!r}")
    return device
