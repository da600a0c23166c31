"""``style-core gimp install|uninstall|path``: put the GIMP 3 plug-in where GIMP finds it.

GIMP 3 loads a plug-in from ``<profile>/plug-ins/NAME/NAME.py`` (an executable file in a folder
of the same name). GIMP's own Python has no torch, so ``install`` also writes ``engine.json``
beside the plug-in naming the Python that has style_core (this one, unless ``--python``); the
plug-in runs style_core's CLI with ``--json`` (as ``python -m style_core`` does) in it.

The profile folder is ``--gimp-dir``, else ``$GIMP3_DIRECTORY``, else GIMP 3's per-user folder
(``~/.config/GIMP/3.0`` on Linux, ``~/Library/Application Support/GIMP/3.0`` on macOS,
``%APPDATA%\\GIMP\\3.0`` on Windows).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
from importlib import resources
from pathlib import Path

from . import __version__

PLUG_IN_NAME = "style-core"
CONFIG_FILE = "engine.json"
FLATPAK_PROFILE = Path.home() / ".var/app/org.gimp.GIMP/config/GIMP/3.0"
CHECK_TIMEOUT_S = 300


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


def plugin_source() -> Path:
    """The plug-in file: in the repository's ``plugin/`` folder (editable installs), else as
    the package data ``style_core.gimp_plugin`` (wheels built with that mapping)."""
    name = f"{PLUG_IN_NAME}.py"
    candidates = [Path(__file__).resolve().parent.parent / "plugin" / PLUG_IN_NAME / name]
    with contextlib.suppress(ImportError, TypeError, ValueError):
        candidates.append(Path(str(resources.files(f"{__package__}.gimp_plugin").joinpath(name))))
    for path in candidates:
        if path.is_file():
            return path
    raise InstallError(
        f"the plug-in file {name} is not part of this installation (looked in "
        f"{', '.join(str(p.parent) for p in candidates)}); install style_core from its repository "
        "with 'pip install -e .'"
    )


def plugin_dir(gimp_dir: Path) -> Path:
    return gimp_dir / "plug-ins" / PLUG_IN_NAME


def check_python(python: str) -> str:
    """The style_core version that ``python`` imports (torch included), or an InstallError."""
    if not Path(python).is_file():
        raise InstallError(f"no Python at '{python}'")
    code = "import torch, style_core; print(style_core.__version__)"
    try:
        done = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=CHECK_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"could not run '{python}': {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise InstallError(
            f"'{python}' cannot import style_core and torch ({last}); pass --python with the "
            "interpreter of the environment where style_core is installed"
        )
    return done.stdout.strip()


def install(
    gimp_dir: Path, python: str, *, weights: str | None = None, device: str | None = None, check: bool = True
) -> Path:
    """Copy the plug-in into ``gimp_dir`` and record ``python``; return the installed file."""
    python = os.path.abspath(python)
    version = check_python(python) if check else __version__
    source = plugin_source()
    target_dir = plugin_dir(gimp_dir)
    target = target_dir / source.name
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        mode = target.stat().st_mode
        target.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        settings = {"python": python, "style_core_version": version}
        if weights:
            settings["weights"] = weights
        if device:
            settings["device"] = device
        (target_dir / CONFIG_FILE).write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InstallError(f"could not write the plug-in into '{target_dir}': {exc}") from exc
    return target


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
    p_install = sub.add_parser("install", help="copy the plug-in into GIMP's plug-in folder")
    p_install.add_argument("--gimp-dir", type=Path, default=None, help=gimp_dir_help)
    p_install.add_argument(
        "--python", default=sys.executable, help="the Python with style_core and torch (default: this one)"
    )
    p_install.add_argument("--weights", default=None, help="weights the plug-in passes to the engine (e.g. offline)")
    p_install.add_argument("--device", default=None, help="device the plug-in passes to the engine (cpu, cuda, mps)")
    p_install.add_argument("--no-check", action="store_true", help="don't check that --python imports style_core")
    p_uninstall = sub.add_parser("uninstall", help="remove the plug-in")
    p_uninstall.add_argument("--gimp-dir", type=Path, default=None, help=gimp_dir_help)
    p_path = sub.add_parser("path", help="print the folder the plug-in goes into")
    p_path.add_argument("--gimp-dir", type=Path, default=None, help=gimp_dir_help)
    return parser


def main(argv: list[str]) -> int:
    """Entry point of ``style-core gimp ...``; returns the exit status."""
    args = build_parser().parse_args(argv)
    gimp_dir = args.gimp_dir.expanduser() if args.gimp_dir else default_gimp_dir()
    try:
        if args.command == "path":
            print(plugin_dir(gimp_dir))
        elif args.command == "uninstall":
            removed = uninstall(gimp_dir)
            print(f"removed {plugin_dir(gimp_dir)}" if removed else f"nothing to remove in {plugin_dir(gimp_dir)}")
        else:
            target = install(gimp_dir, args.python, weights=args.weights, device=args.device, check=not args.no_check)
            print(f"installed the GIMP plug-in: {target}")
            print(f"it runs style_core with: {os.path.abspath(args.python)}")
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
