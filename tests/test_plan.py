import itertools

from style_core.engine.plan import (
    DETAIL_CONTENT_LAYER,
    DETAIL_PASS_COST,
    DETAIL_STEPS,
    LAYOUT_SIDE,
    MIN_FINAL_STEPS,
    QUALITY_STEPS,
    detail_sides,
    make_plan,
    pass_cost,
    stage_sides,
)
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


def test_big_pictures_spend_their_iterations_where_they_are_cheap():
    """The composition settles cheaply; the first detail stage gets the most iterations, the
    biggest only sharpen in a few."""
    small, big = (make_plan(Settings(size=size), (4000, 3000), **TILES) for size in (1024, 4096))
    assert small.stages[-1].steps == big.stages[-3].steps == DETAIL_STEPS["balanced"]
    assert big.stages[-1].steps == MIN_FINAL_STEPS <= big.stages[-2].steps < big.stages[-3].steps
    assert big.stages[0].steps == small.stages[0].steps  # 128 px gets the same at any output size
    assert len(big.stages[-1].tiles) > 1 and len(big.stages[0].tiles) == 1
    last = big.stages[-1]
    assert last.work > last.pass_cost * last.pixels  # margins and the gathering pass cost extra


def test_refining_runs_the_full_size_only():
    plan = make_plan(Settings(size=256), (640, 480), refine=True, **TILES)
    assert [(s.width, s.height) for s in plan.stages] == [(256, 192)]


def test_big_pictures_begin_as_the_512_px_run_and_refine_only_the_detail():
    """The layout stages of a 2048 px run are the 512 px run's stages; above them the network is
    cut after the fine layers, and tiles need only their margins."""
    small, big = (make_plan(Settings(size=size), (4000, 3000), **TILES) for size in (512, 2048))
    layout = [s for s in big.stages if not s.detail]
    assert [(s.width, s.steps, s.deepest) for s in layout] == [(s.width, s.steps, s.deepest) for s in small.stages]
    detail = [s for s in big.stages if s.detail]
    assert [max(s.width, s.height) for s in detail] == [1024, 2048]
    assert all(max(s.width, s.height) <= LAYOUT_SIDE for s in layout)
    assert DETAIL_CONTENT_LAYER in ("relu1_1", "relu2_1")
    assert [s.deepest for s in detail] == ["relu3_1", "relu2_1"]  # later stages sharpen the finest layers
    assert [s.detail_layers for s in detail] == [("relu1_1", "relu2_1", "relu3_1"), ("relu1_1", "relu2_1")]
    # Max pooling's gradient leaves a lattice of dots that the enlarged stages magnify.
    assert {s.pooling for s in layout} == {"max"} and {s.pooling for s in detail} == {"avg"}
    assert [s.steps for s in detail] == sorted((s.steps for s in detail), reverse=True)
    inner = [t for t in detail[-1].tiles if t.crop.left > 0 and t.crop.right < detail[-1].width]
    margins = {t.crop.width - t.core.width for t in inner}
    assert margins == {12}  # 6 px each side (relu2_1's receptive field), not relu5_1's 96
    assert detail[-1].pass_cost == DETAIL_PASS_COST * pass_cost("relu2_1") < DETAIL_PASS_COST * 0.5


def test_detail_stages_start_at_twice_the_layout_and_grow_to_the_output_by_at_most_two():
    assert detail_sides(800) == [800]
    assert detail_sides(2048) == [1024, 2048]
    assert detail_sides(1448) == [1024, 1448]
    assert detail_sides(2896) == [1024, 1722, 2896]
    assert detail_sides(4096) == [1024, 2048, 4096]


def test_a_bigger_picture_is_not_less_work():
    """A picture between two of the detail stages' sizes runs the smaller one's plan and one stage
    more: the work grows with the side (the GIMP plug-in's estimate reads it so), but for a few
    percent where a late stage splits in two (high: 60 iterations at 1024 px, then 8 at 2037 px;
    or 8 at 1466 px and 2 at 2098 px)."""
    for quality in ("draft", "balanced", "high"):
        settings = [Settings(size=side, quality=quality) for side in range(512, 6000, 61)]
        work = [make_plan(s, (4000, 4000), **TILES).work for s in settings]
        assert all(b > 0.96 * a for a, b in itertools.pairwise(work)), quality


def test_detail_stages_after_the_first_keep_a_coarse_layer_when_no_finer_one_is_used():
    plan = make_plan(Settings(size=2048, style_layers=("relu3_1", "relu4_1")), (4000, 3000), **TILES)
    detail = [s for s in plan.stages if s.detail]
    assert [s.detail_layers for s in detail] == [("relu3_1",), ("relu3_1",)]


def test_without_fine_style_layers_every_stage_paints_the_layout():
    plan = make_plan(Settings(size=1024, style_layers=("relu4_1", "relu5_1")), (4000, 3000), **TILES)
    assert not any(s.detail for s in plan.stages) and plan.stages[-1].deepest == "relu5_1"


def test_the_cost_of_a_pass_grows_with_its_depth():
    costs = [pass_cost(name) for name in ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")]
    assert costs == sorted(costs) and costs[-1] == 1.0 and costs[1] < 0.5
