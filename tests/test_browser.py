"""The web app in a real headless Chromium (Debian's, driven by Playwright; no browser is
downloaded): upload a photo and a painting, press Run, watch the result form; Stop a run.

Chromium comes from ``scripts/provision-browser.sh``; without it this test fails.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.register_assert_rewrite("conftest_app")  # before it is imported, as a plugin too
from conftest_app import Served  # noqa: E402

pytest_plugins = ["conftest_app"]  # the fixtures: served, examples_dir

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
#: Keep Chromium quiet and local on a closed network, and runnable as root in a container.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
#: Records each new ``src`` of the result image, with the time it appeared.
WATCH_OUTPUT = """() => {
    window.outputSrcs = [];
    const box = document.querySelector('#output');
    const note = () => {
        const img = box.querySelector('img');
        const last = window.outputSrcs[window.outputSrcs.length - 1];
        if (img && img.src && (!last || last.src !== img.src)) {
            window.outputSrcs.push({src: img.src, t: performance.now()});
        }
    };
    new MutationObserver(note).observe(box, {subtree: true, childList: true, attributes: true});
}"""


@pytest.fixture(scope="module")
def page(served: Served, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/provision-browser.sh"
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium")),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(served.url)
            page.wait_for_selector("#run")
            yield page
        finally:
            context.close()


def _set_number(page, elem_id: str, value: int) -> None:
    field = page.locator(f"#{elem_id} input[type=number]")
    field.fill(str(value))
    field.press("Enter")


def _srcs(page) -> list[str]:
    return [entry["src"] for entry in page.evaluate("window.outputSrcs")]


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_upload_run_and_watch_the_result_form(page, served: Served):
    photo, painting = (Path(p) for p in served.examples[1][:2])  # not the ones already in the page
    page.set_input_files("#content input[type=file]", str(photo))
    page.set_input_files("#style1 input[type=file]", str(painting))
    page.wait_for_selector(f"#content img[src*='{photo.stem}']")
    page.wait_for_selector(f"#style1 img[src*='{painting.stem}']")
    _set_number(page, "size", 96)
    page.evaluate(WATCH_OUTPUT)
    runs_before = len(served.engine.runs)

    page.click("#run")
    _wait_for(lambda: any("stylized.png" in s for s in _srcs(page)), 90, "the final image")

    srcs = _srcs(page)
    previews = srcs[: next(i for i, s in enumerate(srcs) if "stylized.png" in s)]
    assert len(set(previews)) >= 2, f"the result changed fewer than twice before the end: {srcs}"
    assert len(served.engine.runs) == runs_before + 1 and served.engine.runs[-1].done
    page.wait_for_selector("#status :text('Done in')")
    page.wait_for_selector("#download a[href*='stylized.png']")

    shot = Image.open(io.BytesIO(page.locator("#output img").screenshot())).convert("RGB")
    pixels = np.asarray(shot, dtype=np.float32)
    assert min(shot.size) > 50 and pixels.std() > 10, "the result on the page looks blank"


def test_stop_ends_a_run(page, served: Served):
    _set_number(page, "size", 128)
    page.get_by_label("High (slow)").check()
    page.evaluate(WATCH_OUTPUT)
    runs_before = len(served.engine.runs)

    page.click("#run")
    _wait_for(lambda: len(_srcs(page)) >= 1, 60, "a first preview")
    page.click("#stop")
    run = served.engine.runs[runs_before]
    assert served.engine.wait_for_end(run, timeout=10), "the engine kept running after Stop"
    assert not run.done and run.steps < run.total_steps
    page.wait_for_selector("#status :text('Stopped')")

    seen = _srcs(page)
    time.sleep(1.0)
    assert _srcs(page) == seen, "the result kept changing after Stop"
    assert not any("stylized.png" in s for s in seen)
