"""Many pictures in one style: ``style-core batch INPUT... --style S [S ...] -o OUTDIR``.

Inputs are files, folders (the pictures directly inside) or globs (``'photos/**/*.jpg'``,
quoted so that the shell leaves them alone). Each result is named after its input, with the
folders below a folder's or a glob's root kept: ``photos/2024/a.jpg`` given as ``photos``
... → ``OUTDIR/2024/a.png``. Results carry their recipe and are written atomically, so a
result on disk is complete: ``--resume`` skips them and a stopped run continues. A picture
that fails is reported in one line and the others go on; the exit status says whether any
failed (:data:`EXIT_SOME_FAILED`).

In Python, :func:`stylize_batch` yields one event per picture (and, in this process, the
progress of the one being painted). With ``ray=`` the pictures are spread over a Ray
cluster's GPUs or CPUs (:mod:`style_core.cluster`); without it the same worker runs here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .job import stylize_batch

__all__ = ["stylize_batch"]


def __getattr__(name: str) -> Any:
    """``stylize_batch`` on first use, so that ``style-core batch --help`` needs no torch."""
    if name == "stylize_batch":
        from .job import stylize_batch

        return stylize_batch
    raise AttributeError(f"module 'style_core.batch' has no attribute {name!r}")
