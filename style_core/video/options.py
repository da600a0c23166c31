"""The video job's own options, declared once as :class:`~style_core.settings.Spec` s: they are
not picture settings (a picture has no previous frame), so they live here rather than in the
schema, and the video command derives its options from them. Standard library only, so that
``style-core video --help`` doesn't wait for torch."""

from __future__ import annotations

from ..settings import Spec

TEMPORAL_WEIGHT = Spec(
    name="temporal_weight",
    kind="float",
    default=40.0,
    label="Temporal weight",
    help="How strongly a frame holds to the one before where the motion is trusted; 0 only starts from it",
    minimum=0.0,
    maximum=10_000.0,
    step=1.0,
    ui=False,
)
OVERLAP = Spec(
    name="overlap",
    kind="int",
    default=4,
    label="Overlap",
    help="Lead-in frames cross-faded where two chunks of frames meet (Ray)",
    minimum=0,
    maximum=100,
    step=1,
    ui=False,
)
