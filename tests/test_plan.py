from style_core.plan import QUALITY_STEPS, make_plan, stage_sides
from style_core.settings import Settings


def test_stages_grow_by_root_two_to_the_requested_size():
    assert stage_sides(512, 128) == [128, 181, 256, 362, 512]
    assert stage_sides(100, 128) == [100]


def test_coarser_stages_get_more_iterations():
    stages = make_plan(Settings(steps=10), (640, 480)).stages
    assert stages[-1].steps == 10 and (stages[-1].width, stages[-1].height) == (512, 384)
    assert [s.steps for s in stages] == sorted((s.steps for s in stages), reverse=True)


def test_size_zero_keeps_the_content_size_and_quality_sets_the_steps():
    plan = make_plan(Settings(size=0), (300, 200))
    assert (plan.width, plan.height) == (300, 200)
    assert plan.stages[-1].steps == QUALITY_STEPS["balanced"]


def test_refining_runs_the_full_size_only():
    plan = make_plan(Settings(size=256), (640, 480), refine=True)
    assert [(s.width, s.height) for s in plan.stages] == [(256, 192)]
