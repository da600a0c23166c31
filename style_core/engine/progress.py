"""Turning iterations into :class:`~style_core.events.Progress` events: the share of work done,
an estimate of the time left, and when to render a preview."""

from __future__ import annotations

import time

from ..events import Progress
from .plan import Plan


class ProgressClock:
    """Keeps the clock of a run. Work is counted as each stage's
    :attr:`~style_core.engine.plan.Stage.target_work` and :attr:`~style_core.engine.plan.Stage.work` per
    iteration, so that each part weighs as much as it costs; the time left is the work left at
    the pace of the run so far (loading the network and the images aside), and from the second
    iteration on, at the pace since the first: the first pays once for what every later one
    reuses (the kernels' set-up, memory touched for the first time), and counting it made the
    first minutes' estimates 1.2-1.5x too long.

    Args:
        plan: the run's stages.
        preview_every: a preview every this many iterations of a stage (0: only at its end).
        started: ``time.perf_counter()`` when the run began.
    """

    def __init__(self, plan: Plan, preview_every: int, started: float) -> None:
        self.plan = plan
        self.preview_every = preview_every
        self.started = started
        self.planned = [stage.steps for stage in plan.stages]
        self.step = 0
        self.work_done = 0.0
        self.stage_index = 0
        self.working_since: float | None = None
        #: The clock and the work done when the first iteration ended.
        self.warmed_up: tuple[float, float] | None = None

    def begin_stage(self, index: int) -> None:
        """Stage ``index`` begins: its targets are built next, then its iterations run."""
        if self.working_since is None:
            self.working_since = time.perf_counter()
        self.stage_index = index
        self.work_done += self.plan.stages[index].target_work

    def wants_preview(self, iteration: int, last: bool) -> bool:
        """Whether the event after ``iteration`` (0-based, within the stage) shows the picture."""
        return last or bool(self.preview_every and (iteration + 1) % self.preview_every == 0)

    def end_stage_early(self, iterations: int) -> None:
        """The current stage settled after ``iterations``: plan no more for it."""
        self.planned[self.stage_index] = iterations

    def iteration(self, losses: dict[str, float], preview=None) -> Progress:
        """Count one iteration of the current stage and describe where the run stands."""
        self.step += 1
        self.work_done += self.plan.stages[self.stage_index].work
        if self.warmed_up is None:
            self.warmed_up = time.perf_counter(), self.work_done
        return self._progress(losses, preview, within=0.0)

    def partway(self, share: float, losses: dict[str, float]) -> Progress:
        """Describe where the run stands ``share`` (0 to 1) of the way through the current
        stage's next iteration (``losses``: the last iteration's)."""
        return self._progress(losses, None, within=share)

    def _progress(self, losses: dict[str, float], preview, within: float) -> Progress:
        stage = self.plan.stages[self.stage_index]
        done = self.work_done + within * stage.work
        total_work = sum(
            s.target_work + steps * s.work for steps, s in zip(self.planned, self.plan.stages, strict=True)
        )
        since, work_then = self.warmed_up if self.warmed_up and done > self.warmed_up[1] else (self.working_since, 0.0)
        seconds_per_work = (time.perf_counter() - since) / (done - work_then)
        return Progress(
            step=self.step,
            total_steps=sum(self.planned),
            stage=self.stage_index + 1,
            num_stages=len(self.plan.stages),
            width=stage.width,
            height=stage.height,
            losses=losses,
            elapsed=time.perf_counter() - self.started,
            fraction=min(round(done / total_work, 9), 1.0),  # work is a sum of fractions: round it
            eta=max(round(total_work - done, 6), 0.0) * seconds_per_work,  # likewise: no float dust
            preview=preview,
            within=within,
        )
