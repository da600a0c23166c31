"""One style_core run with its default settings, in its own process (so its peak RSS is its own).

Usage: run_style_core.py CONTENT STYLE OUT_DIR SIZE. Writes OUT_DIR/result.png, a PNG for each
preview and OUT_DIR/events.json: [{"step", "stage", "elapsed", "image"}, ...].
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.perf_counter()  # before the imports: start-up counts, as it does for pastiche

from style_core import stylize_iter  # noqa: E402


def main(content: str, style: str, out_dir: str, size: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    events = []
    for event in stylize_iter(content, style, size=int(size), weights="offline", preview_every=2):
        if event.image is None:
            continue
        path = out / ("result.png" if event.done else f"step-{event.step:04d}.png")
        event.image.save(path)
        elapsed = time.perf_counter() - started
        events.append({"step": event.step, "stage": event.stage, "elapsed": elapsed, "image": str(path)})
    (out / "events.json").write_text(json.dumps(events))


if __name__ == "__main__":
    main(*sys.argv[1:5])
