"""The command line, run as a user runs it: a subprocess."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from style_core.output import read_recipe

QUICK = ["--size", "64", "--steps", "2", "--preview-every", "1"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"STYLE_CORE_WEIGHTS": "offline"}
    return subprocess.run(
        [sys.executable, "-m", "style_core", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


@pytest.fixture
def images(tmp_path: Path, content_image, style_image) -> tuple[Path, Path]:
    content, style = tmp_path / "content.jpg", tmp_path / "style.png"
    content_image.save(content)
    style_image.save(style)
    return content, style


def test_json_stream_parses_and_previews_are_written(tmp_path: Path, images):
    content, style = images
    out = tmp_path / "out.png"
    proc = run_cli(
        str(content), str(style), "-o", str(out), "--json", "--save-every", str(tmp_path / "p"), *QUICK, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [e["event"] for e in events[:-1]] == ["progress"] * (len(events) - 1)
    assert events[-1]["event"] == "done" and events[-1]["output"] == str(out.resolve())
    assert [e["step"] for e in events[:-1]] == list(range(1, len(events)))
    previews = [e["preview"] for e in events if "preview" in e]
    assert previews and all(Path(p).is_file() for p in previews)
    assert Image.open(out).size == (64, 43)
    recipe = read_recipe(out)
    assert recipe["settings"]["steps"] == 2 and recipe["weights"]["source"] == "offline"


def test_sixteen_bit_output(tmp_path: Path, images):
    out = tmp_path / "out16.png"
    proc = run_cli(*map(str, images), "-o", str(out), "--bit-depth", "16", *QUICK, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[24] == 16  # IHDR bit depth


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda c, s, t: [str(t / "nope.jpg"), str(s)], "content image '.*nope.jpg': no such file"),
        (lambda c, s, t: [str(c), str(t / "zero.png")], "empty"),
        (lambda c, s, t: [str(c), str(s), "--size", "99999"], "--size: 99999 is outside 0 to 8192"),
        (lambda c, s, t: [str(c), str(s), "--steps", "-1"], "--steps: -1 is outside 0 to 10000"),
        (lambda c, s, t: [str(c), str(s), "-o", str(t / "x.bmpx")], "can't be written as '.bmpx'; use one of"),
        (lambda c, s, t: [str(c), str(s), "--weights", str(t / "w.pth")], "no such file"),
    ],
)
def test_user_errors_are_one_line_without_traceback(tmp_path: Path, images, make_args, message):
    content, style = images
    (tmp_path / "zero.png").write_bytes(b"")
    proc = run_cli(*QUICK, *make_args(content, style, tmp_path), cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("style-core: error:")
    assert re.search(message, lines[0]), lines[0]


def test_never_overwrites_an_input(tmp_path: Path, images):
    content, style = images
    before = content.read_bytes()
    proc = run_cli(str(content), str(style), "-o", str(content), *QUICK, cwd=tmp_path)
    assert proc.returncode == 2 and "is one of the input images" in proc.stderr
    assert content.read_bytes() == before


def test_json_errors_are_events_too(tmp_path: Path, images):
    proc = run_cli(str(tmp_path / "missing.png"), str(images[1]), "--json", *QUICK, cwd=tmp_path)
    assert proc.returncode == 2
    assert json.loads(proc.stdout.splitlines()[-1]) == {
        "event": "error",
        "kind": "ImageError",
        "message": f"content image '{tmp_path / 'missing.png'}': no such file",
        "hint": "",
    }


@pytest.mark.parametrize(
    ("args", "kind", "message"),
    [
        (["--sizee", "3"], "UsageError", "unrecognized arguments: --sizee 3"),
        (["--size", "9000"], "UsageError", "argument --size: 9000 is outside 0 to 8192"),
        (["--quality", "best"], "UsageError", "argument --quality: invalid choice: 'best'"),
        (["-o", "out.jpg", "--bit-depth", "16"], "OutputError", "output 'out.jpg': 16-bit pictures can't be"),
    ],
)
def test_json_mode_ends_every_failure_with_an_error_event(tmp_path: Path, images, args, kind, message):
    proc = run_cli(*map(str, images), "--json", *args, cwd=tmp_path)
    assert proc.returncode == 2
    last = json.loads(proc.stdout.splitlines()[-1])
    assert last["event"] == "error" and last["kind"] == kind and last["message"].startswith(message), last
    assert last["hint"]
    assert "Traceback" not in proc.stderr


def test_output_problems_are_found_before_any_work(tmp_path: Path, images):
    (tmp_path / "previews").write_text("a file where the previews' folder should be")
    proc = run_cli(*map(str, images), "--save-every", str(tmp_path / "previews"), *QUICK, cwd=tmp_path)
    assert proc.returncode == 2 and "is a file, not a folder" in proc.stderr
    proc = run_cli(*map(str, images), "-o", str(tmp_path), *QUICK, cwd=tmp_path)
    assert proc.returncode == 2 and "is a folder; give a file name" in proc.stderr


def test_options_are_generated_from_the_schema():
    from style_core.cli.picture import build_parser
    from style_core.settings import SCHEMA

    actions = {action.dest: action for action in build_parser()._actions}
    for spec in SCHEMA:
        action = actions[spec.name]
        assert action.option_strings == ["--" + spec.name.replace("_", "-")]
        assert action.default is None  # the default is the schema's, applied by Settings
        if spec.choices is not None:
            assert list(action.choices) == list(spec.choices)
        if spec.kind in ("int", "float"):
            assert action.type(str(spec.maximum)) == spec.maximum
            with pytest.raises(argparse.ArgumentTypeError):
                action.type(str(spec.maximum + 1))


def test_example_runs_without_any_image(tmp_path: Path):
    proc = run_cli("--example", *QUICK, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert Image.open(tmp_path / "result.png").size == (64, 48)
