"""Hostile and careless input to the CLI and the API (issue 16): each case works or ends fast
with one line naming the problem and the way out, and the exit status that says so.

The commands run in this process (``main(argv)``, as ``style-core`` runs them) unless the case
needs a process of its own: signals, the encoding of stdout.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from style_core.batch import stylize_batch
from style_core.cli import main
from style_core.engine.weights import load_weights
from style_core.errors import (
    ImageError,
    InvalidSettingError,
    OutputError,
    StyleCoreError,
    UsageError,
    WeightsUnavailableError,
)
from style_core.job import Job
from style_core.output import read_recipe, save_image
from style_core.video import stylize_video

QUICK = ["--size", "64", "--start-size", "64", "--steps", "1", "--preview-every", "0"]


def one_line(capsys, status: int, code: int, pattern: str) -> str:
    """The one stderr line of a command that ended with ``code``; checks it matches ``pattern``."""
    lines = capsys.readouterr().err.strip().splitlines()
    assert status == code, lines
    assert len(lines) == 1 and lines[0].startswith("style-core: error: "), lines
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def assert_one_line(error: StyleCoreError, pattern: str) -> None:
    assert len(str(error).splitlines()) == 1, str(error)
    assert re.search(pattern, str(error)), str(error)


@pytest.fixture
def pictures(tmp_path: Path, content_image, style_image) -> tuple[Path, Path]:
    content, style = tmp_path / "photo.png", tmp_path / "style.png"
    content_image.save(content)
    style_image.save(style)
    return content, style


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.png"
    os.mkfifo(path)
    return path


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny PNG file whose header says ``width`` x ``height`` (a decompression bomb's shape)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    path.write_bytes(bytes(data))
    return path


# -- runaway and hangs -----------------------------------------------------------------------------


def test_batch_refuses_a_device_without_reading_it(pictures, tmp_path, capsys):
    status = main(["batch", "/dev/zero", "--style", str(pictures[1]), "-o", str(tmp_path / "out"), *QUICK])
    one_line(capsys, status, 2, r"input '/dev/zero': is not a regular file .*; save what it holds to a file first")


@pytest.mark.parametrize("door", ["picture", "batch", "video", "mask", "style"])
def test_every_door_refuses_a_fifo_at_once(door, pictures, fifo, tmp_path, capsys):
    content, style = map(str, pictures)
    argv = {
        "picture": [str(fifo), style, "-o", str(tmp_path / "r.png")],
        "batch": ["batch", str(fifo), "--style", style, "-o", str(tmp_path / "out")],
        "video": ["video", str(fifo), "--style", style, "-o", str(tmp_path / "o.mp4")],
        "mask": [content, style, "--mask", str(fifo), "-o", str(tmp_path / "r.png")],
        "style": ["batch", content, "--style", str(fifo), "-o", str(tmp_path / "out")],
    }[door]
    started = time.monotonic()
    status = main([*argv, *QUICK])
    assert time.monotonic() - started < 60  # no writer ever comes: a read would wait forever
    one_line(capsys, status, 2, r"pipe.png'?: is not a regular file")


def test_the_file_rule_reads_no_more_than_its_limit(tmp_path):
    from style_core.image import read_file

    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * 2048)
    with pytest.raises(ImageError, match="2,048 bytes is more than the limit of 1,000") as caught:
        read_file(big, "image 'big.png'", max_bytes=1000)
    assert_one_line(caught.value, "shrink it")
    assert read_file(big, "image", max_bytes=2048) == b"\0" * 2048


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("as_json", [True, False])
def test_a_stop_signal_ends_like_ctrl_c_with_its_status(stop, as_json, pictures, tmp_path):
    content, style = map(str, pictures)
    argv = [content, style, "-o", str(tmp_path / "r.png"), "--size", "256", "--steps", "200", "--json"]
    env = os.environ | {"STYLE_CORE_WEIGHTS": "offline", "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        [sys.executable, "-m", "style_core", *argv[: None if as_json else -1]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip
    try:
        if as_json:
            first = process.stdout.readline()
            assert json.loads(first)["event"] == "progress", first
        else:
            while "%|" not in process.stderr.read(64):  # the bar is drawn: the run is under way
                assert process.poll() is None
        process.send_signal(stop)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    name = signal.Signals(stop).name
    assert process.returncode == 128 + stop, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith(f"style-core: error: cancelled by {name}")
    if as_json:
        last = json.loads(out.splitlines()[-1])
        assert last == {"event": "error", "kind": "Cancelled", "message": f"cancelled by {name}", "hint": ""}
    assert not (tmp_path / "r.png").exists()


def test_a_reader_that_goes_away_ends_the_run_in_one_line(pictures, tmp_path):
    """``style-core --json ... | head -1``: the pipe closes after the first record."""
    argv = [*map(str, pictures), "-o", str(tmp_path / "r.png"), "--size", "128", "--steps", "50", "--json"]
    env = os.environ | {"STYLE_CORE_WEIGHTS": "offline", "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen([sys.executable, "-m", "style_core", *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)  # fmt: skip
    try:
        assert json.loads(process.stdout.readline())["event"] == "progress"
        process.stdout.close()
        err = process.stderr.read()
        process.wait(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 128 + signal.SIGPIPE and "Traceback" not in err, err
    assert (
        err.strip().splitlines()[-1] == "style-core: error: stopped: the reader of the output went away (a closed pipe)"
    )


def test_a_ray_address_where_no_ray_answers_fails_in_seconds(pictures, tmp_path, capsys):
    """A port where something listens but never speaks (Ray itself would retry for minutes)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        status = main(["batch", str(pictures[0]), "--style", str(pictures[1]), "-o", str(tmp_path / "o"),
                       "--ray", address, *QUICK])  # fmt: skip
        assert time.monotonic() - started < 15
    one_line(capsys, status, 2, f"something listens at '{address}' but no Ray head node: it answered nothing")


def test_zeroed_weights_of_the_right_shapes_are_refused(pictures, tmp_path, capsys):
    from safetensors.torch import save_file

    from style_core.engine.weights import conv_shapes

    state = {}
    for index, (c_out, c_in) in zip((0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34),
                                    conv_shapes().values(), strict=True):  # fmt: skip
        state[f"features.{index}.weight"] = torch.zeros(c_out, c_in, 3, 3)
        state[f"features.{index}.bias"] = torch.zeros(c_out)
    save_file(state, tmp_path / "zero.safetensors")
    status = main([*map(str, pictures), "--weights", str(tmp_path / "zero.safetensors"), *QUICK])
    one_line(capsys, status, 2, r"zero.safetensors: conv1_1 gives the same value everywhere on a test picture")


def test_a_dead_layer_deep_down_is_found_too():
    from style_core.engine.weights import check_activations, load_offline

    convs = dict(load_offline().convs)
    weight, bias = convs["conv4_2"]
    convs["conv4_2"] = (weight, bias - 1e6)  # every unit below zero: ReLU outputs nothing
    with pytest.raises(StyleCoreError, match="conv4_2 gives the same value everywhere"):
        check_activations(convs, "test")


def test_a_pickle_that_holds_code_is_said_to_hold_code(pictures, tmp_path, capsys):
    import pickle

    class Payload:
        def __reduce__(self):
            return (os.system, ("echo this must never run",))

    (tmp_path / "w.pth").write_bytes(pickle.dumps({"conv1_1.weight": Payload()}, protocol=4))
    status = main([*map(str, pictures), "--weights", str(tmp_path / "w.pth"), *QUICK])
    line = one_line(capsys, status, 2, r"w.pth: holds code to run \(posix.system\), not only weights")
    assert "damaged" not in line


# -- wrong or silent results -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "height", "size", "smallest"),
    [(9000, 100, "64", 1395), (16, 5000, "64", 4844), (9000, 100, "512", 1395)],
)
def test_an_output_under_the_minimum_side_is_refused_with_the_size_that_works(
    width, height, size, smallest, tmp_path, pictures, capsys
):
    """The smallest size is where the short side rounds to 16 (100 * 1395 / 9000 = 15.5 → 16)."""
    Image.new("RGB", (width, height), "teal").save(tmp_path / "thin.png")
    status = main([str(tmp_path / "thin.png"), str(pictures[1]), "-o", str(tmp_path / "r.png"), "--size", size])
    one_line(capsys, status, 2, rf"each side of a result must be at least 16 pixels; choose a size of {smallest} ")
    assert not (tmp_path / "r.png").exists()


def test_an_init_of_another_shape_is_refused(pictures, tmp_path, capsys):
    Image.new("RGB", (300, 300), "grey").save(tmp_path / "square.png")
    status = main([*map(str, pictures), "--init", str(tmp_path / "square.png"), *QUICK])
    one_line(capsys, status, 2, r"init image is 300x300, another shape than the photo's 451x300")


def test_example_with_pictures_is_refused(pictures, capsys):
    status = main(["--example", *map(str, pictures), *QUICK])
    one_line(capsys, status, 2, r"--example paints the shipped photo and painting; it takes no pictures")


# -- outputs that can't be written -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (lambda c, s: [c, s, "-o", "/proc/result.png"], r"output '/proc/result.png': can't write into '/proc'"),
        (lambda c, s: [c, s, "--save-every", "/proc/previews"], r"--save-every '/proc/previews' can't be created"),
        (lambda c, s: ["batch", c, "--style", s, "-o", "/proc/painted"], r"output folder '/proc/painted' can't be"),
        (lambda c, s: ["video", c, "--style", s, "-o", "/proc/o.mp4"], r"output '/proc/o.mp4': can't write into"),
        (lambda c, s: ["batch", c, "--style", s, "-o", "/sys/painted"], r"output folder '/sys/painted' can't be"),
    ],
)
def test_an_unwritable_destination_is_tried_before_the_work(argv, pattern, pictures, capsys):
    started = time.monotonic()
    status = main([*argv(*map(str, pictures)), *QUICK])
    assert time.monotonic() - started < 30
    line = one_line(capsys, status, 2, pattern)
    assert "free some space" not in line and "choose another folder" in line


def test_an_output_name_too_long_is_refused_before_the_work_and_one_near_the_limit_is_not(pictures, tmp_path, capsys):
    from style_core.output import check_output

    status = main([*map(str, pictures), "-o", str(tmp_path / ("a" * 300 + ".png")), *QUICK])
    one_line(capsys, status, 2, r"can't write into .* \(File name too long\); the name is too long: choose a shorter")
    near = tmp_path / ("b" * 250 + ".png")  # its temporary name must fit too
    assert check_output(near) == near
    save_image(near, torch.rand(1, 3, 20, 20))
    assert near.is_file()


def test_the_hint_follows_the_reason():
    import errno

    from style_core.output import hint_for

    assert "free some space" in hint_for(OSError(errno.ENOSPC, "No space left on device"))
    assert "read-only" in hint_for(OSError(errno.EROFS, "Read-only file system"))
    assert "permissions" in hint_for(OSError(errno.EACCES, "Permission denied"))


@pytest.mark.parametrize(("width", "height"), [(10_000, 10_000), (30_000, 30_000)])
def test_a_decompression_bomb_as_a_mask_is_one_line(width, height, pictures, tmp_path, capsys):
    bomb = png_claiming(tmp_path / "bomb.png", width, height)
    status = main([*map(str, pictures), "--mask", str(bomb), "-o", str(tmp_path / "r.png"), *QUICK])
    one_line(capsys, status, 2, r"mask 1 '.*bomb.png': (.* pixels is more than the limit|too many pixels)")


def test_json_records_are_written_when_stdout_is_not_utf8(pictures, tmp_path):
    missing = tmp_path / "café.png"
    env = os.environ | {"PYTHONIOENCODING": "ascii", "STYLE_CORE_WEIGHTS": "offline", "PYTHONPATH": os.getcwd()}
    proc = subprocess.run(
        [sys.executable, "-m", "style_core", str(missing), str(pictures[1]), "--json", *QUICK],
        capture_output=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr, proc.stderr
    record = json.loads(proc.stdout.decode("ascii").splitlines()[-1])
    assert record == {"event": "error", "kind": "ImageError", "message": f"content image '{missing}': no such file",
                      "hint": ""}  # fmt: skip


# -- video --resume on a damaged work folder -------------------------------------------------------


def test_a_damaged_job_description_says_what_to_delete(tmp_path):
    from style_core.video.workdir import WorkFolder

    folder = WorkFolder(tmp_path / "o.mp4")
    folder.open({"frames": 3}, resume=False)
    (folder.path / "job.json").write_text('{"frames": 3, "sett')
    with pytest.raises(UsageError, match=r"job.json' is damaged .*; delete that folder to start again") as caught:
        folder.open({"frames": 3}, resume=True)
    assert_one_line(caught.value, "o.mp4.frames")


def test_video_resume_with_a_damaged_job_description_is_one_line(pictures, tmp_path, capsys):
    from fixtures.clips import moving_disc_clip, write_clip

    write_clip(tmp_path / "clip.mp4", moving_disc_clip(96, 64, 2))
    (tmp_path / "o.mp4.frames").mkdir()
    (tmp_path / "o.mp4.frames" / "job.json").write_bytes(b"\x00\xff not json")
    argv = ["video", str(tmp_path / "clip.mp4"), "--style", str(pictures[1]), "-o", str(tmp_path / "o.mp4")]
    status = main([*argv, "--resume", *QUICK])
    one_line(capsys, status, 2, r"job.json' is damaged .*; delete that folder to start again")


def test_a_truncated_frame_is_removed_and_painted_again(tmp_path, caplog):
    from style_core.video.workdir import WorkFolder, encode_png

    folder = WorkFolder(tmp_path / "o.mp4")
    folder.open({"frames": 3}, resume=False)
    frame = encode_png(np.full((32, 48, 3), 120, np.uint8))
    for index in range(3):
        folder.write(folder.frame_path(index), frame)
    folder.frame_path(1).write_bytes(frame[: len(frame) // 2])
    folder.open({"frames": 3}, resume=True)
    assert folder.done() == {0, 2}  # frame 1 is missing now: the run paints it again
    assert "1 damaged frame files" in caplog.text and "frame-000001.png" in caplog.text


# -- the API's raw exceptions ----------------------------------------------------------------------


def test_a_closed_pil_image_is_one_line(content_image, style_image):
    closed = content_image.copy()
    closed.close()
    with pytest.raises(ImageError) as caught:
        Job(closed, style_image, {"size": 64})
    assert_one_line(caught.value, "content image: the PIL image is closed")


def test_a_lazily_opened_truncated_picture_is_one_line(tmp_path, content_image, style_image):
    content_image.save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    lazy = Image.open(tmp_path / "cut.png")
    for call in (lambda: Job(lazy, style_image, {"size": 64}), lambda: Job(content_image, lazy, {"size": 64})):
        with pytest.raises(ImageError) as caught:
            call()
        assert_one_line(caught.value, "corrupt or truncated")


@pytest.mark.parametrize(
    ("call", "kind", "pattern"),
    [
        (lambda c, s: Job(c, s, 5), InvalidSettingError, r"settings must be a Settings or a mapping .* got a int"),
        (lambda c, s: Job(c, s, "size=64"), InvalidSettingError, r"got a str \('size=64'\)"),
        (lambda c, s: Job(c, s, {3: 1}), InvalidSettingError, r"setting names are text; got 3"),
        (lambda c, s: Job(c, s, max_pixels="abc"), InvalidSettingError, r"max_pixels must be a whole number"),
        (lambda c, s: Job(c, s, max_pixels=0), InvalidSettingError, r"max_pixels must be a whole number"),
        (lambda c, s: Job(c, [s, s], style_masks="m.png"), ImageError, r"^1 style masks for 2 style images"),
        (lambda c, s: Job(c, s, masks=5), ImageError, r"masks: got a int; expected a picture or a list"),
        (lambda c, s: Job(c, {"a": s}), ImageError, r"styles: got a dict"),
    ],
)
def test_wrong_types_in_the_api_are_one_line(call, kind, pattern, content_image, style_image):
    with pytest.raises(kind) as caught:
        call(content_image, style_image)
    assert_one_line(caught.value, pattern)


def test_style_masks_may_be_a_generator_or_one_mask(content_image, style_image):
    mask = np.ones((style_image.height, style_image.width), np.float32)
    assert Job(content_image, style_image, {"size": 64}, style_masks=(m for m in [mask])).style_masks[0] is not None
    assert Job(content_image, style_image, {"size": 64}, style_masks=mask).style_masks[0] is not None


def test_stylize_batch_takes_one_input_and_refuses_no_folder(pictures, tmp_path):
    from style_core.batch.events import BatchDone, ImageDone

    with pytest.raises(UsageError) as caught:
        stylize_batch([pictures[0]], pictures[1], None)
    assert_one_line(caught.value, "out_dir must be a folder's path; got None")
    events = list(stylize_batch(str(pictures[0]), pictures[1], tmp_path / "out", size=64, start_size=64, steps=1))
    assert [type(e) for e in events if not hasattr(e, "step")] == [ImageDone, BatchDone]  # one picture, not 9


def test_read_recipe_says_what_is_wrong(tmp_path):
    info = __import__("PIL.PngImagePlugin", fromlist=["PngInfo"]).PngInfo()
    info.add_itxt("style_core", '{"settings": ')
    Image.new("RGB", (20, 20)).save(tmp_path / "bad.png", pnginfo=info)
    (tmp_path / "text.png").write_text("not a picture")
    for name, pattern in [("bad.png", "its recipe is not valid JSON"), ("text.png", "not an image"),
                          ("missing.png", "no such file")]:  # fmt: skip
        with pytest.raises(ImageError) as caught:
            read_recipe(tmp_path / name)
        assert re.search(pattern, str(caught.value)) and len(str(caught.value).splitlines()) == 1
    save_image(tmp_path / "good.png", torch.rand(1, 3, 20, 20), recipe={"seed": 3})
    assert read_recipe(tmp_path / "good.png") == {"seed": 3}


# -- messages that mislead -------------------------------------------------------------------------


def test_a_coloured_mask_must_be_greyscale_and_a_paletted_grey_one_is_read(pictures, tmp_path, capsys):
    content = pictures[0]
    Image.new("RGB", (451, 300), (255, 0, 0)).save(tmp_path / "red.png")
    status = main([*map(str, pictures), "--mask", str(tmp_path / "red.png"), *QUICK])
    line = one_line(capsys, status, 2, r"mask 1 '.*red.png' has colours; a mask must be greyscale")
    assert "save it as PNG" not in line
    grey = Image.fromarray(np.tile(np.linspace(0, 255, 451).astype(np.uint8), (300, 1))).convert("P")
    grey.save(tmp_path / "grey-palette.png")
    assert Image.open(tmp_path / "grey-palette.png").mode == "P"
    job = Job(content, pictures[1], {"size": 64}, masks=[tmp_path / "grey-palette.png"])
    assert job.masks[0].shape == (1, 1, 300, 451) and float(job.masks[0][0, 0, 0, -1]) == 1.0


def test_a_folder_as_a_mask_is_called_a_folder(pictures, tmp_path, capsys):
    status = main([*map(str, pictures), "--mask", str(tmp_path), *QUICK])
    one_line(capsys, status, 2, r"mask 1 '.*': is a folder, not a file")


def test_a_missing_video_is_named_once(pictures, tmp_path, capsys):
    status = main(["video", str(tmp_path / "gone.mp4"), "--style", str(pictures[1]), "-o", str(tmp_path / "o.mp4")])
    line = one_line(capsys, status, 2, r"video '.*gone.mp4': no such file")
    assert line.count("gone.mp4") == 1


# -- the command line's help (issue 19) ------------------------------------------------------------


def help_of(*argv: str, capsys) -> str:
    with pytest.raises(SystemExit):
        main([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_help_shows_one_default_per_option_and_no_label_that_repeats_its_value(capsys):
    text = help_of(capsys=capsys)
    for option in ("--weights", "--style-layer-weights", "--device"):
        described = text.split(f"{option} ", 2)[-1].split(" --", 1)[0]
        assert described.count("(default:") == 1, described
    assert "(default: $STYLE_CORE_WEIGHTS, else auto)" in text
    assert "--device DEVICE cuda, cuda:N, mps or cpu (default: the best available)" in text
    assert not re.search(r"\b(\w+) = \1\b", text, flags=re.IGNORECASE), re.search(r"\b(\w+) = \1\b", text, re.I)
    assert "avg = Average" in text and "max = Max" not in text and "noise = Noise" not in text


def test_main_help_names_every_gimp_command(capsys):
    from style_core.gimp.install import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert "{" + ",".join(commands) + "}" in help_of(capsys=capsys)


def test_video_help_puts_chunks_and_overlap_in_the_ray_group(capsys):
    with pytest.raises(SystemExit):
        main(["video", "--help"])
    out = capsys.readouterr().out
    ray = out.split("Ray (pip install", 1)[1].split("\n\n", 1)[0]
    assert "--chunk-frames N" in ray and "--overlap 0-100" in ray


@pytest.mark.parametrize("command", ["batch", "video"])
def test_a_picture_swallowed_by_style_is_explained(command, capsys):
    status = main([command, "--style", "a.jpg", "photo.jpg", "-o", "out"])
    what = "INPUT" if command == "batch" else "IN"
    one_line(capsys, status, 2, rf"no {what}: --style took every name after it \(a.jpg photo.jpg\); put the {what} "
             rf"first \(style-core {command} photo.jpg --style a.jpg -o OUT\), or last after --")  # fmt: skip


def test_the_two_ways_the_hint_shows_both_work(tmp_path):
    from style_core.cli.batch import build_parser

    for argv in (["photo.jpg", "--style", "a.jpg", "-o", "OUT"], ["--style", "a.jpg", "-o", "OUT", "--", "photo.jpg"]):
        args = build_parser().parse_args(argv)
        assert args.inputs == ["photo.jpg"] and args.styles == ["a.jpg"]


# -- a second round, invented here ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "kind", "pattern"),
    [
        (lambda t, p, s: save_image(t / "a\0.png", torch.rand(1, 3, 20, 20)), OutputError, "holds a NUL character"),
        (lambda t, p, s: save_image(t / "a.png", np.zeros((20, 20, 3))), ImageError, r"rgb must be a \(1, 3, H, W\)"),
        (lambda t, p, s: save_image(t / "a.png", torch.rand(20, 20)), ImageError, r"got \(20, 20\)"),
        (lambda t, p, s: read_recipe(None), ImageError, "read_recipe: can't read a NoneType"),
        (lambda t, p, s: save_image(None, torch.rand(1, 3, 20, 20)), OutputError, "the path must be text or a Path"),
        (lambda t, p, s: load_weights("/dev/zero"), WeightsUnavailableError, "'/dev/zero': is not a regular file"),
        (lambda t, p, s: load_weights(t), WeightsUnavailableError, "is a folder"),
        (lambda t, p, s: stylize_batch([], s, t / "o"), UsageError, "no inputs given"),
        (lambda t, p, s: stylize_batch(5, s, t / "o"), UsageError, "inputs must be paths, folders or globs; got a int"),
        (lambda t, p, s: stylize_video(None, s, t / "o.mp4"), UsageError, "video must be a file's path; got None"),
        (lambda t, p, s: stylize_video(p, s, None), UsageError, "output must be a file's path; got None"),
        (lambda t, p, s: Job(p, s, init="/dev/zero"), ImageError, "init image '/dev/zero': is not a regular file"),
    ],
)
def test_second_round_api_cases_are_one_line(call, kind, pattern, tmp_path, pictures):
    with pytest.raises(kind) as caught:
        call(tmp_path, *pictures)
    assert_one_line(caught.value, pattern)
    assert not list(tmp_path.glob(".*.part"))  # nothing half-written left behind


def test_a_file_over_the_byte_limit_is_refused_unread(pictures, tmp_path, capsys):
    big = tmp_path / "big.png"
    with open(big, "wb") as file:
        file.truncate((1 << 30) + 1)  # sparse: no disk used, and nothing may read it
    status = main([str(big), str(pictures[1]), "-o", str(tmp_path / "r.png"), *QUICK])
    one_line(capsys, status, 2, r"big.png': 1,073,741,825 bytes is more than the limit of 1,073,741,824")


def test_a_symlink_to_a_device_is_refused_like_the_device(pictures, tmp_path, capsys):
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    status = main(["batch", str(tmp_path / "zero.png"), "--style", str(pictures[1]), "-o", str(tmp_path / "o")])
    one_line(capsys, status, 2, r"zero.png': is not a regular file")


def test_a_video_of_too_many_pixels_is_refused_before_decoding(tmp_path):
    from fixtures.clips import moving_disc_clip, write_clip
    from style_core.video.media import probe

    write_clip(tmp_path / "clip.mp4", moving_disc_clip(96, 64, 2))
    with pytest.raises(ImageError, match=r"frames of 96x64 = 6,144 pixels are more than the limit of 1,000"):
        probe(tmp_path / "clip.mp4", "video 'clip.mp4'", max_pixels=1000)
    assert probe(tmp_path / "clip.mp4").frames == 2
