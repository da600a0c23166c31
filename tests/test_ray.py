"""Batch and video on a real Ray: a local Ray with two CPUs for the module, then a cluster of
two nodes of which one is removed mid-run."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import av
import numpy as np
import pytest
import ray
from PIL import Image
from ray.cluster_utils import Cluster

from fixtures.clips import moving_disc_clip, write_clip
from fixtures.pictures import example_content, swirl_painting
from style_core.cli.batch import main as batch_main
from style_core.cli.video import main as video_main
from style_core.cluster import plan_pool
from style_core.output import read_recipe
from style_core.video.events import FrameDone, VideoDone, VideoPlanned
from style_core.video.job import stylize_video

QUICK = ["--size", "96", "--start-size", "64", "--steps", "3", "--preview-every", "0"]
FRAMES = 24


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("ray")
    photos = folder / "photos"
    photos.mkdir()
    for name in ("chelsea", "coffee", "astronaut"):
        example_content(name).resize((72, 48)).save(photos / f"{name}.jpg")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), np.uint8)).save(photos / "noise.png")
    swirl_painting(128).save(folder / "style.png")
    write_clip(folder / "clip.mp4", moving_disc_clip(96, 64, FRAMES))
    return {"photos": photos, "style": folder / "style.png", "video": folder / "clip.mp4"}


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_pool_is_one_actor_per_gpu_or_cpu_slot():
    assert plan_pool({"CPU": 16, "GPU": 4}, items=100, workers=None, cpus_per_worker=1) == plan_pool(
        {"CPU": 64, "GPU": 4}, items=100, workers=None, cpus_per_worker=4
    )
    pool = plan_pool({"CPU": 16, "GPU": 4}, items=100, workers=None, cpus_per_worker=1)
    assert (pool.actors, pool.gpus, pool.cpus) == (4, 1.0, 1.0)
    pool = plan_pool({"CPU": 16}, items=100, workers=None, cpus_per_worker=4)
    assert (pool.actors, pool.gpus, pool.cpus) == (4, 0.0, 4.0)
    assert plan_pool({"CPU": 16}, items=3, workers=None, cpus_per_worker=1).actors == 3
    assert plan_pool({"CPU": 2}, items=100, workers=8, cpus_per_worker=1).actors == 8  # an autoscaler adds nodes


def test_without_ray_or_its_cluster_the_error_is_one_line(files, tmp_path, capsys, monkeypatch):
    args = [str(files["photos"]), "--style", str(files["style"]), "-o", str(tmp_path / "out"), *QUICK]
    assert batch_main([*args, "--ray", "127.0.0.1:1"]) == 2  # nothing listens on port 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "can't reach a Ray cluster at '127.0.0.1:1'" in err[0]
    assert batch_main([*args, "--ray", ""]) == 2  # an empty address is not "here"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ray was given an empty address" in err[0]
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    video = [str(files["video"]), "--style", str(files["style"]), "-o", str(tmp_path / "o.mp4"), "--ray"]
    for main in (batch_main, video_main):
        assert main([*(args if main is batch_main else video), "--ray"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "needs Ray, which is not installed" in err[0]
        assert "pip install 'style-core[ray]'" in err[0]
    assert not (tmp_path / "out").exists() and not (tmp_path / "o.mp4.frames").exists()


def test_batch_on_local_ray(local_ray, files, tmp_path, capsys):
    out = tmp_path / "out"
    args = [str(files["photos"]), "--style", str(files["style"]), "-o", str(out), "--ray", "--json", *QUICK]
    assert batch_main(args) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    images = [r for r in records if r["event"] == "image"]
    assert sorted(r["index"] for r in images) == [1, 2, 3, 4]  # each picture once
    assert records[-1]["event"] == "batch-done" and records[-1]["done"] == 4
    for name in ("astronaut", "chelsea", "coffee", "noise"):
        recipe = read_recipe(out / f"{name}.png")
        assert recipe["settings"]["steps"] == 3 and recipe["weights"]["source"] == "offline"
        assert Image.open(out / f"{name}.png").size[0] == 96


def test_video_on_local_ray_in_two_chunks(local_ray, files, tmp_path, capsys):
    out = tmp_path / "out.webm"
    args = [str(files["video"]), "--style", str(files["style"]), "-o", str(out), "--ray", "--json", *QUICK]
    assert video_main([*args, "--keep-frames"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    planned = records[0]
    assert planned["event"] == "video" and planned["chunks"] == 2 and planned["work"] == FRAMES + 4
    assert "Ray, 2 workers" in planned["workers"]
    frames = [(r["frame"], r["lead_into"]) for r in records if r["event"] == "frame"]
    assert Counter(frames) == Counter([(i, None) for i in range(FRAMES)] + [(i, 12) for i in range(8, 12)])
    folder = tmp_path / "out.webm.frames"
    assert sorted(p.name for p in folder.glob("lead-*")) == [f"lead-{i:06d}-000012.png" for i in range(8, 12)]
    assert decoded_frames(out) == FRAMES
    with av.open(str(out)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"  # AAC can't go in WebM


def test_cluster_loses_a_node_mid_run_and_the_video_still_completes(files, tmp_path):
    """Two nodes with one CPU each, so one actor each; the second node goes once the first
    frame is back. Ray restarts the lost actor's chunk elsewhere; every frame is written once."""
    if ray.is_initialized():
        ray.shutdown()  # this test needs its own cluster
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker = cluster.add_node(num_cpus=1)
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        settings = {"size": 96, "start_size": 64, "steps": 3, "preview_every": 0}
        out = tmp_path / "out.mp4"
        events = stylize_video(files["video"], files["style"], out, ray=True, **settings)
        written, removed = [], False
        for event in events:
            if isinstance(event, VideoPlanned):
                assert event.chunks == 2 and "2 workers" in event.workers
            if isinstance(event, FrameDone):
                written.append((event.frame, event.lead_into))
                if not removed:  # both chunks are under way, one on each node
                    cluster.remove_node(worker)
                    removed = True
                    assert sum(node["Alive"] for node in ray.nodes()) == 1
        assert removed and isinstance(event, VideoDone)
        assert len(written) == len(set(written)) == FRAMES + 4  # nothing lost, nothing written twice
        assert decoded_frames(out) == FRAMES
    finally:
        ray.shutdown()
        cluster.shutdown()
