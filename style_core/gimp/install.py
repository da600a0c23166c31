"""``style-core gimp install|uninstall|path``: put the GIMP 3 plug-in where GIMP finds it.

GIMP 3 loads a plug-in from ``<profile>/plug-ins/NAME/NAME.py`` (an executable file in a folder
of the same name); the plug-in's other modules sit beside it. The plug-in ships in this package
(``style_core/gimp/plugin/``, package data), so a wheel installs it as well as a checkout.

GIMP's own Python has no torch, so the plug-in runs style_core's CLI in the environment that has
it (this one, unless ``--python``). ``install`` first runs ``style-core gimp probe`` there
(:mod:`style_core.gimp.probe`): it loads the weights (so missing weights are refused now, not at
the first run), and measures what the plug-in needs. Then it writes, beside the plug-in:

- ``schema.json``: the settings schema, from which the plug-in builds its arguments;
- ``protocol.py``: a copy of :mod:`style_core.protocol`, with which it reads the engine's records;
- ``engine.json``: the Python to run, the weights and device to pass, the device's size cap, the
  smallest side, and the timings for the dialog's estimate.

The folder is replaced as a whole, so a failed install leaves the previous one as it was.

The profile folder is ``--gimp-dir``, else ``$GIMP3_DIRECTORY``, else GIMP 3's per-user folder
(``~/.config/GIMP/3.0`` on Linux, ``~/Library/Application Support/GIMP/3.0`` on macOS,
``%APPDATA%\\GIMP\\3.0`` on Windows).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

from .. import protocol
from .._version import __version__
from ..errors import StyleCoreError

PLUG_IN_NAME = "style-core"
ENTRY = f"{PLUG_IN_NAME}.py"
CONFIG_FILE = "engine.json"
SCHEMA_FILE = "schema.json"
PROTOCOL_FILE = "protocol.py"
FLATPAK_PROFILE = Path.home() / ".var/app/org.gimp.GIMP/config/GIMP/3.0"
#: Loading the weights may download them (about 550 MB) the first time.
PROBE_TIMEOUT_S = 900
#: Variables the plug-in removes before it starts the engine; the probe runs without them too.
SCRUBBED_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE")


class InstallError(Exception):
    """A problem the user can fix, described in one line."""


def default_gimp_dir() -> Path:
    """GIMP 3's per-user profile folder: $GIMP3_DIRECTORY or the platform's default."""
    if os.environ.get("GIMP3_DIRECTORY"):
        return Path(os.environ["GIMP3_DIRECTORY"]).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData/Roaming")) / "GIMP" / "3.0"
    if sys.platform == "darwin":
        return Path.home() / "Library/Application Support/GIMP/3.0"
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "GIMP" / "3.0"


def plugin_dir(gimp_dir: Path) -> Path:
    return gimp_dir / "plug-ins" / PLUG_IN_NAME


def plugin_sources() -> list[Path]:
    """The plug-in's modules, as installed with this package (``style_core/gimp/plugin/*.py``)."""
    folder = Path(str(resources.files(__package__).joinpath("plugin")))
    sources = sorted(folder.glob("*.py"))
    if not any(path.name == ENTRY for path in sources):
        raise InstallError(f"this installation of style_core has no GIMP plug-in in {folder}; reinstall style_core")
    return sources


def run_probe(python: str, weights: str | None, device: str | None) -> dict[str, Any]:
    """``style-core gimp probe`` in ``python``'s environment, as the plug-in will start it."""
    if not Path(python).is_file():
        raise InstallError(f"no Python at '{python}'")
    command = [python, "-m", "style_core", "gimp", "probe"]
    command += ["--weights", weights] if weights else []
    command += ["--device", device] if device else []
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED_ENV}
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),  # `-m` imports from the working folder first: not a checkout's
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"could not run '{python}': {exc}") from exc
    wall = time.perf_counter() - started
    lines = done.stdout.strip().splitlines()
    record = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
    if record is not None and record.get("event") == "error":
        raise InstallError(protocol.describe(record))
    if done.returncode != 0 or record is None:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise InstallError(
            f"'{python}' cannot run style_core ({last}); pass --python with the interpreter of the "
            "environment where style_core and torch are installed"
        )
    if record["style_core_version"] != __version__:
        raise InstallError(
            f"'{python}' has style_core {record['style_core_version']}, this command is {__version__}; "
            f"run '{python} -m style_core gimp install' instead"
        )
    record["timing"]["startup_s"] += wall - record.pop("elapsed_s")  # the interpreter's own start
    return record


def install(gimp_dir: Path, python: str, *, weights: str | None = None, device: str | None = None) -> Path:
    """Install the plug-in into ``gimp_dir`` to run style_core with ``python``; return its entry file."""
    python = os.path.abspath(python)
    facts = run_probe(python, weights, device)
    engine = {
        "python": python,
        "style_core_version": facts["style_core_version"],
        "weights": weights,
        "device": device,
        **{key: facts[key] for key in ("device_kind", "max_size", "min_side", "timing")},
    }
    files = {
        SCHEMA_FILE: json.dumps(facts["schema"], indent=1) + "\n",
        PROTOCOL_FILE: facts["protocol"],
        CONFIG_FILE: json.dumps(engine, indent=1) + "\n",
    }
    target = plugin_dir(gimp_dir)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{PLUG_IN_NAME}-", dir=target.parent))
        staging.chmod(0o755)  # mkdtemp makes it private
        try:
            for source in plugin_sources():
                shutil.copyfile(source, staging / source.name)
            for name, text in files.items():
                (staging / name).write_text(text, encoding="utf-8")
            entry = staging / ENTRY
            entry.chmod(entry.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            replace_folder(staging, target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise InstallError(f"could not write the plug-in into '{target}': {exc}") from exc
    return target / ENTRY


def replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` in ``target``'s place by renames, so that either the old or the new one is there."""
    old = target.with_name(f".{target.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def uninstall(gimp_dir: Path) -> bool:
    """Remove the plug-in's folder from ``gimp_dir``; False when it was not there."""
    target_dir = plugin_dir(gimp_dir)
    if not target_dir.exists():
        return False
    try:
        shutil.rmtree(target_dir)
    except OSError as exc:
        raise InstallError(f"could not remove '{target_dir}': {exc}") from exc
    return True


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="style-core gimp", description="Install the GIMP 3 plug-in (Filters > Artistic > Neural Style Transfer)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    gimp_dir_help = "GIMP 3 profile folder (default: $GIMP3_DIRECTORY or ~/.config/GIMP/3.0)"
    weights_help = (
        "weights the plug-in passes to the engine: offline, hub, auto or a file (default: $STYLE_CORE_WEIGHTS)"
    )
    device_help = "device the plug-in passes to the engine: cpu, cuda, cuda:N or mps (default: the best available)"
    p_install = sub.add_parser("install", help="copy the plug-in into GIMP's plug-in folder")
    p_install.add_argument("--gimp-dir", type=Path, default=None, help=gimp_dir_help)
    p_install.add_argument(
        "--python", default=sys.executable, help="the Python with style_core and torch (default: this one)"
    )
    p_install.add_argument("--weights", default=os.environ.get("STYLE_CORE_WEIGHTS"), help=weights_help)
    p_install.add_argument("--device", default=None, help=device_help)
    p_uninstall = sub.add_parser("uninstall", help="remove the plug-in")
    p_uninstall.add_argument("--gimp-dir", type=Path, default=None, help=gimp_dir_help)
    p_path = sub.add_parser("path", help="print the folder the plug-in goes into")
    p_path.add_argument("--gimp-dir", type=Path, default=None, help=gimp_dir_help)
    p_probe = sub.add_parser("probe", help="print, as JSON, what the plug-in needs to know about this engine")
    p_probe.add_argument("--weights", default=None, help=weights_help)
    p_probe.add_argument("--device", default=None, help=device_help)
    return parser


def probe_main(weights: str | None, device: str | None) -> int:
    """``style-core gimp probe``: the facts as one JSON line, or an error record."""
    from .probe import probe

    try:
        print(json.dumps(probe(weights, device)))
    except StyleCoreError as exc:
        print(protocol.encode(protocol.error_record(exc)))
        return 2
    return 0


def main(argv: list[str]) -> int:
    """Entry point of ``style-core gimp ...``; returns the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "probe":
        return probe_main(args.weights, args.device)
    gimp_dir = args.gimp_dir.expanduser() if args.gimp_dir else default_gimp_dir()
    try:
        if args.command == "path":
            print(plugin_dir(gimp_dir))
        elif args.command == "uninstall":
            removed = uninstall(gimp_dir)
            print(f"removed {plugin_dir(gimp_dir)}" if removed else f"nothing to remove in {plugin_dir(gimp_dir)}")
        else:
            print(f"checking the engine in {args.python} (loading the weights, a short test run)…")
            target = install(gimp_dir, args.python, weights=args.weights, device=args.device)
            engine = json.loads((target.parent / CONFIG_FILE).read_text(encoding="utf-8"))
            print(f"installed the GIMP plug-in: {target}")
            print(
                f"it runs style_core with {engine['python']} on {engine['device_kind']} "
                f"(a layer's own size up to {engine['max_size']} px)"
            )
            print("restart GIMP, then use Filters > Artistic > Neural Style Transfer…")
            if args.gimp_dir is None and "GIMP3_DIRECTORY" not in os.environ and FLATPAK_PROFILE.is_dir():
                print(
                    "note: the Flatpak GIMP (org.gimp.GIMP) can't run this Python from its sandbox; "
                    "use your distribution's GIMP 3 package",
                    file=sys.stderr,
                )
    except InstallError as exc:
        print(f"style-core gimp: error: {exc}", file=sys.stderr)
        return 2
    return 0
