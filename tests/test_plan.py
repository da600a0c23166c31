from style_core.engine.plan import MIN_FINAL_STEPS, QUALITY_STEPS, make_plan, stage_sides
from style_core.engine.tiles import Tiling
from style_core.settings import Settings

TILES = {"tiling": Tiling(core_side=700), "deepest": "relu5_1"}


def test_stages_grow_by_root_two_to_the_requested_size():
    assert stage_sides(512, 128) == [128, 181, 256, 362, 512]
    assert stage_sides(100, 128) == [100]


def test_coarser_stages_get_more_iterations():
    stages = make_plan(Settings(steps=10), (640, 480), **TILES).stages
    assert stages[-1].steps == 10 and (stages[-1].width, stages[-1].height) == (512, 384)
    assert [s.steps for s in stages] == sorted((s.steps for s in stages), reverse=True)


def test_size_zero_keeps_the_content_size_and_quality_sets_the_steps():
    plan = make_plan(Settings(size=0), (300, 200), **TILES)
    assert (plan.width, plan.height) == (300, 200)
    assert make_plan(Settings(size=512), (300, 200), **TILES).stages[-1].steps == QUALITY_STEPS["balanced"]


def test_big_pictures_spend_their_iterations_at_the_coarse_stages():
    """The composition settles cheaply; the big stages refine the texture in a few iterations."""
    small, big = (make_plan(Settings(size=size), (4000, 3000), **TILES) for size in (1024, 4096))
    assert big.stages[-1].steps == MIN_FINAL_STEPS < small.stages[-1].steps < QUALITY_STEPS["balanced"]
    assert big.stages[0].steps == small.stages[0].steps  # 128 px gets the same at any output size
    assert len(big.stages[-1].tiles) > 1 and len(big.stages[0].tiles) == 1
    assert big.stages[-1].work > big.stages[-1].pixels  # margins and the gathering pass cost extra


def test_refining_runs_the_full_size_only():
    plan = make_plan(Settings(size=256), (640, 480), refine=True, **TILES)
    assert [(s.width, s.height) for s in plan.stages] == [(256, 192)]
