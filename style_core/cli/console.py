"""What a ``style-core`` command prints and how it ends, the same for every command.

With ``--json``, every record goes to stdout as one JSON line (:mod:`style_core.protocol`)
and every failure, a bad option included, ends the stream with an error record; otherwise a
progress bar and one-line messages go to stderr. Exit statuses: 0 done, 2 a problem with the
input (one line says which), 3 some items of a batch failed, 130 cancelled, 1 a bug.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from typing import Any

from .. import protocol
from ..errors import StyleCoreError

EXIT_BUG = 1
EXIT_USER_ERROR = 2
EXIT_SOME_FAILED = 3
EXIT_CANCELLED = 130

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
        if self.as_json:
            print(protocol.encode(data), flush=True)
        print(f"style-core: error: {protocol.describe(data)}", file=sys.stderr)


def run_command(reporter: Reporter, body: Callable[[], int]) -> int:
    """Run a command's ``body`` (which returns its exit status); every failure ends as an error
    record and line, with its exit status."""
    logging.basicConfig(level=logging.WARNING, format="style-core: %(message)s")
    try:
        return body()
    except KeyboardInterrupt as exc:
        reporter.error(exc)
        return EXIT_CANCELLED
    except StyleCoreError as exc:
        reporter.error(exc)
        return EXIT_USER_ERROR
    except Exception as exc:  # a bug: the traceback for the report, and the stream still ends
        traceback.print_exc()
        reporter.error(exc)
        return EXIT_BUG
