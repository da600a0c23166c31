"""The run's clock: work counted by cost, so the time left is right from the first iteration."""

from __future__ import annotations

import pytest

from style_core.engine import progress as report
from style_core.engine.plan import make_plan
from style_core.engine.tiles import Tiling
from style_core.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_time_left_is_right_from_the_first_event_when_cost_follows_the_work(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(report.time, "perf_counter", clock)
    plan = make_plan(Settings(size=2048), (4000, 3000), tiling=Tiling(core_side=700), deepest="relu5_1")
    assert len(plan.stages[-1].tiles) > 1 and len(plan.stages[0].tiles) == 1
    seconds_per_work = 2e-6
    reporter = report.ProgressClock(plan, preview_every=0, started=clock.now)
    clock.now = 3.0  # loading the network and the pictures
    events = []
    for index, stage in enumerate(plan.stages):
        reporter.begin_stage(index)
        clock.now += stage.target_work * seconds_per_work
        for _ in range(stage.steps):
            clock.now += stage.work * seconds_per_work
            events.append((clock.now, reporter.iteration({"total": 1.0})))
    finish = clock.now
    for now, event in events:
        assert event.eta == pytest.approx(finish - now, rel=1e-6, abs=1e-6)
    assert events[0][1].fraction < events[-1][1].fraction == 1.0
    assert events[-1][1].total_steps == sum(stage.steps for stage in plan.stages)


def test_a_stage_that_settles_early_shortens_the_plan(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(report.time, "perf_counter", clock)
    plan = make_plan(Settings(size=100, steps=10), (100, 100), tiling=Tiling(core_side=512), deepest="relu5_1")
    assert len(plan.stages) == 1
    reporter = report.ProgressClock(plan, preview_every=5, started=0.0)
    reporter.begin_stage(0)
    clock.now = 1.0
    reporter.iteration({"total": 1.0})
    reporter.end_stage_early(2)
    clock.now = 2.0
    event = reporter.iteration({"total": 1.0})
    assert event.total_steps == 2 and event.fraction == 1.0 and event.eta == 0.0
    assert reporter.wants_preview(4, last=False) and not reporter.wants_preview(3, last=False)


def test_partway_through_an_iteration_counts_its_share_of_the_work(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(report.time, "perf_counter", clock)
    plan = make_plan(Settings(size=100, steps=4), (100, 100), tiling=Tiling(core_side=512), deepest="relu5_1")
    [stage] = plan.stages
    reporter = report.ProgressClock(plan, preview_every=0, started=0.0)
    reporter.begin_stage(0)
    clock.now = 1.0
    first = reporter.iteration({"total": 1.0})
    clock.now = 1.5
    half = reporter.partway(0.5, {"total": 1.0})
    assert (half.step, half.within) == (1, 0.5)  # the iteration it is in is not counted as done
    assert half.fraction == pytest.approx(first.fraction + 0.5 * stage.work / plan.work)
    assert half.eta == pytest.approx(stage.steps - 1.5)  # at the pace since the first iteration: 1 s each


def test_the_first_iterations_set_up_costs_do_not_slow_the_pace(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(report.time, "perf_counter", clock)
    plan = make_plan(Settings(size=100, steps=5), (100, 100), tiling=Tiling(core_side=512), deepest="relu5_1")
    [stage] = plan.stages
    reporter = report.ProgressClock(plan, preview_every=0, started=0.0)
    reporter.begin_stage(0)
    clock.now = 3.0  # the targets and a first iteration that pays for the kernels' set-up
    reporter.iteration({"total": 1.0})
    clock.now = 4.0  # then 1 s an iteration
    second = reporter.iteration({"total": 1.0})
    assert second.eta == pytest.approx(stage.steps - 2)


def test_a_tiled_stage_reports_after_each_tile(content_image, style_image):
    """A real run whose last stage is cut into tiles: events within its iterations, in order."""
    from style_core.job import Job

    heard = []
    job = Job(content_image, style_image, {"size": 160, "start_size": 160, "steps": 2, "tile_size": 64})
    [stage] = job.plan.stages
    assert len(stage.tiles) > 2
    events = [event for event in job.run(partway=heard.append) if hasattr(event, "within")]
    assert len(heard) == 2 * len(stage.tiles)  # the gathering pass, then each tile but the last, per iteration
    assert all(0 < event.within < 1 and event.preview is None for event in heard)
    fractions = [event.fraction for event in sorted(heard + events, key=lambda event: event.elapsed)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
