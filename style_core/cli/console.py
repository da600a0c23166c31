"""What a ``style-core`` command prints and how it ends, the same for every command.

With ``--json``, every record goes to stdout as one JSON line (:mod:`style_core.protocol`)
and every failure, a bad option included, ends the stream with an error record; otherwise a
progress bar and one-line messages go to stderr. Exit statuses: 0 done, 2 a problem with the
input (one line says which), 3 some items of a batch failed, 1 a bug; stopped, 128 + the
signal's number: 130 for Ctrl-C (SIGINT), 143 for SIGTERM (a server or a batch system stopping
the work), 129 for SIGHUP (a closed terminal), each ending like Ctrl-C, with a ``Cancelled``
record or line; 141 (as SIGPIPE) when the reader of stdout went away, with a line on stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from .. import protocol
from ..errors import StyleCoreError

EXIT_BUG = 1
EXIT_USER_ERROR = 2
EXIT_SOME_FAILED = 3
EXIT_CANCELLED = 128 + signal.SIGINT
#: The status of a command whose stdout was closed by its reader (``style-core --json | head``),
#: as if SIGPIPE had stopped it.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE
#: Signals that stop a command as Ctrl-C does.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Stopped(KeyboardInterrupt):
    """A stop signal, raised wherever the command is, as Ctrl-C raises KeyboardInterrupt (so no
    ``except Exception`` on the way swallows it); ``signum`` is its number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def _stop(signum: int, frame: object) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Stopped` inside the block (in the main thread; elsewhere
    signals can't be caught); the handlers before are restored after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {number: signal.signal(number, _stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


def exit_status(interrupt: KeyboardInterrupt) -> int:
    """128 + the number of the signal that stopped the command (SIGINT for Ctrl-C)."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)


Describe = Callable[[dict[str, Any]], str]


class Reporter:
    """Shows records as JSON lines on stdout, or a bar and lines on stderr.

    Args:
        as_json: print JSON lines.
        describe: one line of status per record (:func:`style_core.protocol.describe`, or a
            command's own for its records).
        lines: record kinds worth a line of their own above the bar (the others only move it).
    """

    def __init__(self, as_json: bool, describe: Describe = protocol.describe, lines: frozenset[str] = frozenset()):
        self.as_json, self.describe, self.lines = as_json, describe, lines
        self.bar = None

    def show(self, data: dict[str, Any]) -> None:
        if self.as_json:
            print(protocol.encode(data), flush=True)
            return
        progress = "fraction" in data
        if not progress:  # a last record: the bar is done
            self.close()
        if data["event"] in self.lines or not progress:
            failed = data["event"] in ("failed", "error")
            self.line("style-core: " + ("error: " if failed else "") + self.describe(data))
        if progress:
            self._bar(data)

    def line(self, text: str) -> None:
        """A line above the bar, which stays."""
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def _bar(self, data: dict[str, Any]) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=1000, bar_format="{percentage:3.0f}%|{bar:24}| {desc}", file=sys.stderr)
        self.bar.set_description_str(self.describe(data), refresh=False)
        self.bar.update(round(data["fraction"] * 1000) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def error(self, error: BaseException) -> None:
        """The error record on stdout (JSON mode) and its line on stderr."""
        self.close()
        data = protocol.error_record(error)
        if isinstance(error, Stopped):
            data["message"] = f"cancelled by {signal.Signals(error.signum).name}"
        if self.as_json:
            print(protocol.encode(data), flush=True)
        print(f"style-core: error: {protocol.describe(data)}", file=sys.stderr)


def run_command(reporter: Reporter, body: Callable[[], int]) -> int:
    """Run a command's ``body`` (which returns its exit status); every failure ends as an error
    record and line, with its exit status."""
    logging.basicConfig(level=logging.WARNING, format="style-core: %(message)s")
    with stop_signals():
        return _run(reporter, body)


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of the closed pipe fails
    no more (Python's advice for SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _run(reporter: Reporter, body: Callable[[], int]) -> int:
    try:
        return body()
    except KeyboardInterrupt as exc:  # Ctrl-C, or a stop signal (Stopped)
        reporter.error(exc)
        return exit_status(exc)
    except BrokenPipeError:  # whoever read stdout went away: nobody is left to read a record
        _drop_stdout()
        with contextlib.suppress(OSError):
            print("style-core: error: stopped: the reader of the output went away (a closed pipe)", file=sys.stderr)
        return EXIT_BROKEN_PIPE
    except StyleCoreError as exc:
        reporter.error(exc)
        return EXIT_USER_ERROR
    except Exception as exc:  # a bug: the traceback for the report, and the stream still ends
        traceback.print_exc()
        reporter.error(exc)
        return EXIT_BUG
