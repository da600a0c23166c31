from style_core.schedule import schedule, stage_sizes


def test_stages_grow_by_root_two_to_the_requested_size():
    assert stage_sizes(512, 128) == [128, 181, 256, 362, 512]
    assert stage_sizes(100, 128) == [100]


def test_coarser_stages_get_more_iterations():
    stages = schedule(512, 128, 10)
    assert stages[-1].steps == 10
    assert [s.steps for s in stages] == sorted((s.steps for s in stages), reverse=True)
