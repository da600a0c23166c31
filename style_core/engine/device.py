"""Choosing the compute device: CUDA if present, else Apple MPS, else the CPU."""

from __future__ import annotations

import torch

from ..errors import InvalidSettingError

DEVICE_KINDS = ("cuda", "mps", "cpu")
_ACCEPTED = f"auto, {', '.join(DEVICE_KINDS)} or cuda:N"


def resolve_device(name: str | torch.device | None = None) -> torch.device:
    """``None``/``"auto"`` picks the best available; ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"``
    (any case, surrounding spaces ignored) or a :class:`torch.device` are checked against this machine."""
    if isinstance(name, torch.device):
        name = str(name)
    if name is not None and not isinstance(name, str):
        raise InvalidSettingError(f"device must be one of {_ACCEPTED}; got {name!r}")
    name = (name or "").strip().lower()
    if name in ("", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise InvalidSettingError(f"device must be one of {_ACCEPTED}; got {name!r}") from exc
    if device.type not in DEVICE_KINDS:
        raise InvalidSettingError(f"device must be one of {_ACCEPTED}; got {name!r}")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise InvalidSettingError(f"device {name!r} was asked for, but no CUDA GPU is available here")
        if device.index is not None and device.index >= count:
            have = f"{count} CUDA GPU{'s' if count > 1 else ''} (cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})"
            raise InvalidSettingError(f"device {name!r} was asked for, but this machine has {have}")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise InvalidSettingError(f"device {name!r} was asked for, but Apple's MPS is not available here")
    return device
