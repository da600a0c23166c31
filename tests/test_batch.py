"""Batches in this process: inputs from files, folders and globs, results named after them,
a failed picture reported while the others go on, resuming a stopped batch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fixtures.pictures import example_content, swirl_painting
from style_core.batch import stylize_batch
from style_core.batch.events import ImageDone, ImageProgress, ImageSkipped
from style_core.batch.inputs import collect_inputs
from style_core.cli.batch import main
from style_core.cli.console import EXIT_SOME_FAILED
from style_core.errors import ImageError, UsageError
from style_core.output import read_recipe
from style_core.protocol import record

QUICK = ["--size", "64", "--start-size", "64", "--steps", "2", "--preview-every", "0"]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """Four small pictures in a folder (one in a subfolder) and a style image beside them."""
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    for name in ("chelsea", "coffee", "astronaut"):
        example_content(name).resize((72, 48)).save(folder / f"{name}.jpg")
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), np.uint8)).save(folder / "more" / "noise.png")
    swirl_painting(96).save(tmp_path / "style.png")
    return folder


def test_inputs_from_files_folders_and_globs(photos: Path, tmp_path: Path):
    out = tmp_path / "out"
    items = collect_inputs([str(photos)], out)
    assert [i.source.name for i in items] == ["astronaut.jpg", "chelsea.jpg", "coffee.jpg"]  # not recursive
    assert items[0].output == out / "astronaut.png"
    items = collect_inputs([str(photos / "**" / "*.*")], out, "tif")
    outputs = sorted(i.output.relative_to(out).as_posix() for i in items)
    assert outputs == [
        "astronaut.tif",
        "chelsea.tif",
        "coffee.tif",
        "more/noise.tif",
    ]  # the folders below the root kept
    items = collect_inputs([str(photos / "chelsea.jpg"), str(photos / "*.jpg")], out)
    assert len(items) == 3  # a picture named twice is painted once
    # Results inside an input folder are never taken as inputs.
    assert len(collect_inputs([str(photos / "**" / "*.*")], photos / "more")) == 3


def test_inputs_that_name_nothing_or_collide_are_refused_up_front(photos: Path, tmp_path: Path):
    out = tmp_path / "out"
    with pytest.raises(ImageError, match="no such file or folder"):
        collect_inputs([str(tmp_path / "nope.jpg")], out)
    with pytest.raises(ImageError, match="matches no pictures"):
        collect_inputs([str(tmp_path / "*.gif")], out)
    example_content("chelsea").resize((40, 30)).save(photos / "more" / "chelsea.png")
    with pytest.raises(UsageError, match="would both be written to"):
        collect_inputs([str(photos / "chelsea.jpg"), str(photos / "more" / "chelsea.png")], out)


def test_a_failed_picture_is_reported_and_the_others_go_on(photos: Path, tmp_path: Path, capsys):
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "out"
    code = main([str(photos), "--style", str(tmp_path / "style.png"), "-o", str(out), *QUICK])
    assert code == EXIT_SOME_FAILED
    err = capsys.readouterr().err
    failures = [line for line in err.splitlines() if line.startswith("style-core: error:")]
    assert len(failures) == 1 and "broken.jpg': not an image" in failures[0]
    assert "3 made, 0 already done, 1 failed" in err
    for name in ("astronaut", "chelsea", "coffee"):
        result = out / f"{name}.png"
        assert Image.open(result).size == (64, 43)
        assert read_recipe(result)["settings"]["steps"] == 2
    assert not list(out.glob(".*part"))


def test_json_records_and_resume_after_a_stop(photos: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    style = tmp_path / "style.png"
    inputs = [str(photos / "**" / "*.*")]
    settings = {"size": 64, "start_size": 64, "steps": 2, "preview_every": 0}
    events = stylize_batch(inputs, style, out, **settings)
    made = []
    for event in events:  # stopped after two pictures, as a kill would
        json.dumps(record(event))  # every event is a JSON-ready record
        if isinstance(event, ImageDone):
            made.append(event.output)
            if len(made) == 2:
                events.close()
                break
    assert sorted(p.name for p in out.rglob("*.png")) == sorted(Path(p).name for p in made)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.png")}

    code = main([*inputs, "--style", str(style), "-o", str(out), "--resume", "--json", *QUICK])
    assert code == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    kinds = [r["event"] for r in records if r["event"] != "image-progress"]
    assert kinds.count("skipped") == 2 and kinds.count("image") == 2 and kinds[-1] == "batch-done"
    assert records[-1] | {"elapsed": 0} == {
        "event": "batch-done", "done": 2, "skipped": 2, "failed": 0, "elapsed": 0, "output": str(out),
    }  # fmt: skip
    progress = [r for r in records if r["event"] == "image-progress"]
    assert progress and all(0 <= r["fraction"] <= 1 for r in progress)
    assert {p: p.stat().st_mtime_ns for p in before} == before  # finished results untouched
    assert len(list(out.rglob("*.png"))) == 4


def test_sixteen_bit_tiff_results(photos: Path, tmp_path: Path):
    out = tmp_path / "out"
    events = list(
        stylize_batch(
            [photos / "chelsea.jpg"], tmp_path / "style.png", out, result_type="tif", bit_depth=16,
            size=64, start_size=64, steps=1,
        )
    )  # fmt: skip
    events = [e for e in events if not isinstance(e, ImageProgress)]
    assert isinstance(events[0], ImageDone) and events[0].output == str(out / "chelsea.tif")
    raw = (out / "chelsea.tif").read_bytes()
    assert raw[:4] == b"II*\x00" and b"\x10\x00\x10\x00\x10\x00" in raw  # 16 bits in each of 3 samples
    again = list(stylize_batch([photos / "chelsea.jpg"], tmp_path / "style.png", out, result_type="tif",
                               bit_depth=16, resume=True, size=64, start_size=64, steps=1))  # fmt: skip
    assert isinstance(again[0], ImageSkipped)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--type", "jpg", "--bit-depth", "16"], "can't be 16-bit jpg"),
        (["--size", "99999"], "--size: 99999 is outside 0 to 8192"),
        (["--workers", "0"], "--workers: 0 is less than 1"),
    ],
)
def test_user_errors_are_one_line(photos: Path, tmp_path: Path, capsys, args, message):
    code = main([str(photos), "--style", str(tmp_path / "style.png"), "-o", str(tmp_path / "out"), *args])
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
