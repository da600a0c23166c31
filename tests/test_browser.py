"""The web app in a real headless Chromium (Debian's, driven by Playwright; no browser is
downloaded): upload a photo and a painting, press Run, watch the result form; refine it; the
advanced settings; Stop a run.

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

pytest_plugins = ["conftest_app"]  # the fixture: served

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
    field.press("Tab")  # a number box takes its value when it loses focus


def _open_advanced(page) -> None:
    """Open the Advanced accordion (its settings are drawn only when it is open)."""
    if not page.locator("#steps").is_visible():
        page.click("#advanced button")
        page.locator("#steps").wait_for()


def _srcs(page) -> list[str]:
    return [entry["src"] for entry in page.evaluate("window.outputSrcs")]


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _run_and_wait(page, button: str) -> list[str]:
    """Press ``button`` and wait for the final image; the result's sources, previews first."""
    page.evaluate(WATCH_OUTPUT)
    page.click(button)
    _wait_for(lambda: any("stylized.png" in s for s in _srcs(page)), 90, "the final image")
    page.wait_for_selector("#status :text('done in')")
    return _srcs(page)


def test_upload_run_and_watch_the_result_form(page, served: Served):
    photo, painting = (Path(p) for p in served.examples[2][:2])  # not the ones already in the page
    page.set_input_files("#content input[type=file]", str(photo))
    page.set_input_files("#style_1 input[type=file]", str(painting))
    page.wait_for_selector(f"#content img[src*='{photo.stem}']")
    page.wait_for_selector(f"#style_1 img[src*='{painting.stem}']")
    _set_number(page, "size", 96)
    runs_before = len(served.engine.runs)

    srcs = _run_and_wait(page, "#run")

    previews = srcs[: next(i for i, s in enumerate(srcs) if "stylized.png" in s)]
    assert len(set(previews)) >= 2, f"the result changed fewer than twice before the end: {srcs}"
    assert len(served.engine.runs) == runs_before + 1 and served.engine.runs[-1].done
    assert served.engine.runs[-1].options["size"] == 96
    page.wait_for_selector("#download a[href*='stylized.png']")

    shot = Image.open(io.BytesIO(page.locator("#output img").screenshot())).convert("RGB")
    pixels = np.asarray(shot, dtype=np.float32)
    assert min(shot.size) > 50 and pixels.std() > 10, "the result on the page looks blank"


def test_refine_the_result_runs_again_from_it(page, served: Served):
    """After the run above: Refine starts from its result, at full size only."""
    _open_advanced(page)
    _set_number(page, "steps", 2)
    runs_before = len(served.engine.runs)

    _run_and_wait(page, "#refine")

    assert len(served.engine.runs) == runs_before + 1
    run = served.engine.runs[-1]
    assert run.done and Path(run.options["init"]).name == "stylized.png"
    assert run.total_steps == 2, "a refinement runs the full size only"
    page.wait_for_selector("#status :text('2 iterations')")


def test_advanced_settings_come_from_the_schema(page, served: Served):
    _open_advanced(page)
    page.get_by_label("Wasserstein-2 (Gaussian)").wait_for()
    page.get_by_label("Gram matrices").check()
    assert page.locator("#seed input[type=number]").input_value() == "0"
    assert page.locator("#size input[type=range]").get_attribute("max") == str(served.limits.max_size)


def test_stop_ends_a_run(page, served: Served):
    _open_advanced(page)
    _set_number(page, "size", 128)
    _set_number(page, "steps", 400)
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
