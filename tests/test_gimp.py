"""The GIMP 3 plug-in: installed by ``style-core gimp install`` and run in a real, headless GIMP.

Tests marked ``gimp`` start ``gimp-console-3.0`` in batch mode through scripts/gimp-run.sh,
with a throw-away profile into which the plug-in is installed. GIMP 3 comes from
scripts/provision-gimp.sh (idempotent; scripts/test.sh runs it first, and so does the fixture):
when it is missing, these tests fail rather than skip. One GIMP run plays every scenario of
tests/gimp/scenarios.py; the tests below each check one part of its findings.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_core import gimp_install
from style_core.color import PRESERVE_COLORS
from style_core.examples import swirl_painting
from style_core.image import MIN_SIDE
from style_core.settings import MAX_SIZE, MIN_SIZE, QUALITY_STEPS, Settings

REPO = Path(__file__).resolve().parent.parent
PLUGIN = REPO / "plugin" / "style-core" / "style-core.py"
SCENARIOS = REPO / "tests" / "gimp" / "scenarios.py"
GIMP_TIMEOUT_S = 600
BATCH = ["gimp-console-3.0", "-i", "-n", "--batch-interpreter=python-fu-eval", "-b", "-", "--quit"]


def plugin_constants() -> dict:
    """Module-level constants of the plug-in, read without importing it (it needs GIMP)."""
    values = {}
    for node in ast.parse(PLUGIN.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            names = [target] if isinstance(target, ast.Name) else getattr(target, "elts", [])
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            if isinstance(target, ast.Name):
                values[target.id] = value
            elif len(names) == len(value):
                values.update({name.id: item for name, item in zip(names, value, strict=True)})
    return values


def load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


# -- without GIMP -----------------------------------------------------------------------------


def test_plugin_defaults_mirror_the_engine_settings():
    constants = plugin_constants()
    settings = Settings()
    for name, value in constants["ENGINE_DEFAULTS"].items():
        assert getattr(settings, name) == value, name
    assert tuple(constants["QUALITIES"]) == tuple(QUALITY_STEPS)
    assert tuple(constants["PRESERVE_COLORS"]) == tuple(PRESERVE_COLORS)
    assert (constants["MIN_SIZE"], constants["MAX_SIZE"], constants["MIN_SIDE"]) == (MIN_SIZE, MAX_SIZE, MIN_SIDE)


def test_plugin_is_an_executable_file_in_a_folder_of_its_name():
    assert PLUGIN.parent.name == PLUGIN.stem
    assert os.access(PLUGIN, os.X_OK)
    assert PLUGIN.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n")


def test_install_copies_the_plugin_and_records_this_python(tmp_path: Path):
    assert gimp_install.main(["install", "--gimp-dir", str(tmp_path), "--weights", "offline"]) == 0
    folder = tmp_path / "plug-ins" / "style-core"
    installed = folder / "style-core.py"
    assert installed.read_bytes() == PLUGIN.read_bytes()
    assert os.access(installed, os.X_OK)
    settings = json.loads((folder / "engine.json").read_text())
    assert settings["python"] == os.path.abspath(sys.executable)
    assert settings["weights"] == "offline"
    assert gimp_install.main(["uninstall", "--gimp-dir", str(tmp_path)]) == 0
    assert not folder.exists()


def test_install_refuses_a_python_without_style_core(tmp_path: Path, capsys):
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\necho 'No module named torch' >&2\nexit 1\n")
    python.chmod(0o755)
    assert gimp_install.main(["install", "--gimp-dir", str(tmp_path), "--python", str(python)]) == 2
    assert "cannot import style_core" in capsys.readouterr().err
    assert not (tmp_path / "plug-ins").exists()


def test_install_follows_gimp3_directory(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("GIMP3_DIRECTORY", str(tmp_path / "profile"))
    assert gimp_install.main(["path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "profile" / "plug-ins" / "style-core")


def test_style_core_gimp_command_dispatches_to_the_installer(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "style_core", "gimp", "path", "--gimp-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(tmp_path / "plug-ins" / "style-core")


# -- in GIMP ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gimp_results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Provision GIMP 3, install the plug-in into a fresh profile and play every scenario once."""
    provision = subprocess.run(
        ["bash", str(REPO / "scripts" / "provision-gimp.sh")], capture_output=True, text=True, timeout=1800
    )
    assert provision.returncode == 0, f"provisioning GIMP 3 failed:\n{provision.stdout}\n{provision.stderr}"

    base = tmp_path_factory.mktemp("gimp")
    profile, out = base / "profile", base / "out"
    out.mkdir()
    assert gimp_install.main(["install", "--gimp-dir", str(profile), "--weights", "offline", "--no-check"]) == 0

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:40, 0:48]
    rgb = np.stack([x * 5, y * 6, 255 - x * 4], axis=-1) + rng.integers(0, 30, (40, 48, 3))
    alpha = np.clip(x * 8 - 40, 0, 255)  # transparent, half-transparent and opaque columns
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(base / "content-rgb.png")
    rgba = np.dstack([np.clip(rgb, 0, 255), alpha]).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(base / "content-rgba.png")
    swirl_painting(96).save(base / "style.png")
    Image.fromarray(np.tile(np.array([[[200, 30, 30]], [[30, 30, 200]]], np.uint8), (32, 64, 1))).save(
        base / "stripes.png"
    )
    (base / "corrupt.png").write_text("this is not a PNG\n")

    params = {
        "out": str(out),
        "content_rgb": str(base / "content-rgb.png"),
        "content_rgba": str(base / "content-rgba.png"),
        "style": str(base / "style.png"),
        "style2": str(base / "stripes.png"),
        "missing": str(base / "no-such-painting.png"),
        "corrupt": str(base / "corrupt.png"),
        "engine_json": str(profile / "plug-ins" / "style-core" / "engine.json"),
    }
    script = f"PARAMS = {params!r}\n" + SCENARIOS.read_text(encoding="utf-8")
    env = os.environ | {
        "GIMP3_DIRECTORY": str(profile),
        "STYLE_CORE_WEIGHTS": "offline",
        "STYLE_CORE_PYTHON": sys.executable,
        "STYLE_CORE_GIMP_BIND": str(base),
    }
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "gimp-run.sh"), *BATCH],
        input=script,
        capture_output=True,
        text=True,
        cwd=base,
        env=env,
        timeout=GIMP_TIMEOUT_S,
    )
    log = f"exit {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    assert done.returncode == 0, log
    results_file = out / "results.json"
    assert results_file.is_file(), log
    results = json.loads(results_file.read_text())
    results["_log"] = log
    return results


def scenario(results: dict, name: str) -> dict:
    record = results[name]
    assert "exception" not in record, record.get("exception")
    return record


def new_layers(record: dict) -> list[dict]:
    old = {layer["id"] for layer in record["before"]}
    return [layer for layer in record["after"] if layer["id"] not in old]


def assert_image_unchanged(record: dict) -> None:
    assert record["after"] == record["before"]
    assert record["leftover_images"] == 0
    assert np.array_equal(load(record["source_after"]), load(record["source_before"]))
    assert np.array_equal(load(record["visible_after"]), load(record["visible_before"]))


@pytest.mark.gimp
def test_procedure_is_registered_under_filters_artistic(gimp_results):
    record = scenario(gimp_results, "registration")
    assert record["registered"], gimp_results["_log"]
    assert "<Image>/Filters/Artistic" in record["menu_paths"]
    assert record["menu_label"].startswith("Neural Style Transfer")
    assert record["image_types"] == "RGB*, GRAY*"
    for name in ("style-file", "style-strength", "size", "quality", "preserve-colors", "style-file-2", "preview"):
        assert name in record["arguments"]


@pytest.mark.gimp
def test_adds_one_stylised_layer_above_the_source_with_its_size_offsets_and_alpha(gimp_results):
    record = scenario(gimp_results, "rgba")
    assert record["status"] == "success", record["message"]
    [source] = record["before"]
    [layer] = new_layers(record)
    assert len(record["after"]) == 2
    assert layer["position"] == 0 and record["after"][1]["id"] == source["id"]
    assert layer["name"] == "Style: style"
    assert (layer["size"], layer["offsets"], layer["has_alpha"]) == (source["size"], source["offsets"], True)
    assert not layer["has_mask"]
    assert record["leftover_images"] == 0

    before, result = load(record["source_before"]), load(record["result_png"])
    assert result.shape == before.shape == (40, 48, 4)
    assert np.array_equal(result[..., 3], before[..., 3])  # the source's alpha, exactly
    opaque = before[..., 3] > 0
    change = np.abs(result[..., :3].astype(int) - before[..., :3].astype(int))[opaque].mean()
    assert change > 5, f"the result barely differs from the source (mean change {change:.2f})"
    assert np.array_equal(load(record["source_after"]), before)  # the source is untouched


@pytest.mark.gimp
def test_greyscale_layer_without_alpha_gets_a_greyscale_layer_without_alpha(gimp_results):
    record = scenario(gimp_results, "grey")
    assert record["status"] == "success", record["message"]
    [source] = record["before"]
    [layer] = new_layers(record)
    assert (layer["type"], layer["has_alpha"]) == (source["type"], False)
    assert (layer["size"], layer["offsets"]) == (source["size"], source["offsets"])
    before, result = load(record["source_before"]), load(record["result_png"])
    assert result.shape == before.shape == (40, 48)
    assert np.abs(result.astype(int) - before.astype(int)).mean() > 5
    assert np.array_equal(load(record["source_after"]), before)


@pytest.mark.gimp
def test_selection_limits_the_effect(gimp_results):
    record = scenario(gimp_results, "selection")
    assert record["status"] == "success", record["message"]
    [layer] = new_layers(record)
    assert layer["has_mask"]
    before, after = load(record["visible_before"]), load(record["visible_after"])
    inside = np.zeros(before.shape[:2], bool)
    inside[17 : 17 + 16, 15 : 15 + 20] = True  # the selected rectangle, in image coordinates
    assert np.array_equal(after[~inside], before[~inside])
    opaque = inside & (before[..., 3] > 0)
    assert np.abs(after[..., :3].astype(int) - before[..., :3].astype(int))[opaque].mean() > 5
    assert np.array_equal(load(record["source_after"]), load(record["source_before"]))


@pytest.mark.gimp
def test_blends_several_styles_by_weight(gimp_results):
    record = scenario(gimp_results, "two_styles")
    assert record["status"] == "success", record["message"]
    [layer] = new_layers(record)
    assert layer["name"] == "Style: style + stripes"


@pytest.mark.gimp
def test_missing_style_file_fails_with_a_message_and_leaves_the_image_as_it_was(gimp_results):
    record = scenario(gimp_results, "missing_style")
    # GIMP itself checks that a file argument of an "open" chooser exists, before the plug-in runs.
    assert record["status"] in ("calling-error", "execution-error")
    assert "style-file" in record["message"] or "no-such-painting.png" in record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
def test_unreadable_style_file_fails_with_the_engines_message(gimp_results):
    record = scenario(gimp_results, "corrupt_style")
    assert record["status"] == "execution-error"
    assert "corrupt.png" in record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
def test_missing_engine_python_says_how_to_install(gimp_results):
    record = scenario(gimp_results, "missing_python")
    assert record["status"] == "execution-error"
    assert "/nonexistent/bin/python" in record["message"]
    assert "style-core gimp install" in record["message"]
    assert_image_unchanged(record)
