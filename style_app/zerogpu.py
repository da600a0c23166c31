"""ZeroGPU on Hugging Face Spaces: ``spaces.GPU`` where the ``spaces`` package is, nothing elsewhere.

``spaces`` must be imported before torch sets up CUDA, so :mod:`style_app` imports this module
first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

try:
    import spaces
except ImportError:
    spaces = None

Function = TypeVar("Function", bound=Callable)


def on_gpu(function: Function, seconds: float) -> Function:
    """``function`` run on a ZeroGPU slice for at most ``seconds``; ``function`` itself off ZeroGPU."""
    return function if spaces is None else spaces.GPU(duration=int(seconds))(function)
