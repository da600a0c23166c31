"""The web app in a real headless Chromium (Debian's, driven by Playwright; no browser is
downloaded): upload a photo and a painting, press Run, watch the result form; refine it; the
advanced settings; Stop a run; paint two regions with the mouse, in two colours, and watch each
painting repaint its own.

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

from style_app.regions import COLOURS, EDITOR_SIDE  # noqa: E402

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
    """Type ``value`` into a number box and leave it; again if the box was drawn anew meanwhile
    (an accordion that has just opened may redraw its settings with their defaults)."""
    field = page.locator(f"#{elem_id} input[type=number]")
    for _ in range(3):
        field.fill(str(value))
        field.press("Tab")  # a number box takes its value when it loses focus
        page.wait_for_timeout(300)
        if field.input_value() == str(value):
            return
    raise AssertionError(f"#{elem_id} does not keep {value}")


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


def _photo_on_the_canvas(page, aspect: float) -> dict[str, float]:
    """Where the editor draws the photo, in the window's pixels (the editor scrolled into view),
    once it shows a photo of ``aspect`` (width / height): centred on its canvas,
    :data:`EDITOR_SIDE` pixels on its long side at the zoom it shows; its top and bottom edges
    found down the canvas's middle column (the toolbars lie on the canvas's sides)."""
    page.locator("#regions_editor").scroll_into_view_if_needed()
    canvas = page.locator("#regions_editor canvas").first
    deadline = time.monotonic() + 30
    while True:
        box = canvas.bounding_box()
        zoom = float(page.locator("#regions_editor .zoom-number").inner_text().strip().rstrip("%")) / 100
        shot = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("RGB"), dtype=np.int16)
        middle = shot[:, shot.shape[1] // 2]
        rows = np.nonzero(np.abs(middle - shot[-1, shot.shape[1] // 2]).sum(-1) > 40)[0]
        if rows.size:
            height = (rows.max() + 1 - rows.min()) * box["height"] / shot.shape[0]
            expected = EDITOR_SIDE * zoom / max(aspect, 1)
            if abs(height / expected - 1) < 0.03:
                width = height * aspect
                x, y = box["x"] + (box["width"] - width) / 2, box["y"] + (box["height"] - height) / 2
                return {"x": x, "y": y, "width": width, "height": height}
        assert time.monotonic() < deadline, "the editor did not show the photo"
        time.sleep(0.2)


def _paint(page, photo: dict[str, float], columns: tuple[float, float], strokes: int = 10) -> None:
    """Horizontal strokes with the mouse over the photo, from and to a fraction of its width."""
    for k in range(strokes):
        y = photo["y"] + photo["height"] * (k + 0.5) / strokes
        page.mouse.move(photo["x"] + photo["width"] * columns[0], y)
        page.mouse.down()
        page.mouse.move(photo["x"] + photo["width"] * columns[1], y, steps=12)
        page.mouse.up()


def _brush_colour(page, slot: int) -> None:
    """Choose painting ``slot``'s colour in the editor's palette."""
    page.click("#regions_editor button[aria-label=Color]")
    swatch = page.locator("#regions_editor .swatch button.color").nth(slot - 1)
    swatch.wait_for()
    assert COLOURS[slot].css in swatch.get_attribute("style")
    swatch.click()
    page.wait_for_function(
        f"document.querySelector('#regions_editor button[aria-label=Color]').style.color === '{COLOURS[slot].css}'"
    )


def test_paint_two_regions_in_two_colours_and_watch_them_form(page, served: Served, tmp_path):
    photo, first, second = served.examples[3]  # Tübingen, Starry Night, The Scream
    page.set_input_files("#content input[type=file]", photo)
    page.set_input_files("#style_1 input[type=file]", first)
    if not page.locator("#style_2").is_visible():
        page.click("#blend button")
    page.set_input_files("#style_2 input[type=file]", second)
    page.wait_for_selector("#style_2 img[src*='the-scream']")
    _open_advanced(page)
    _set_number(page, "size", 128)
    _set_number(page, "steps", 12)
    page.locator("#regions button").first.click()
    with Image.open(photo) as image:
        width, height = image.size
    on_canvas = _photo_on_the_canvas(page, width / height)

    _paint(page, on_canvas, (0.03, 0.3))  # red: painting 1 on the left
    _brush_colour(page, 2)
    _paint(page, on_canvas, (0.7, 0.97))  # blue: painting 2 on the right; the middle stays the photo
    runs_before = len(served.engine.runs)
    page.evaluate(WATCH_OUTPUT)
    page.click("#run")
    _wait_for(lambda: len(_srcs(page)) >= 2, 90, "the regions forming")
    page.wait_for_function("() => { const i = document.querySelector('#output img'); return i && i.complete; }")
    mid_run = tmp_path / "regions-mid-run.png"
    page.screenshot(path=str(mid_run), full_page=True)
    _wait_for(lambda: any("stylized.png" in s for s in _srcs(page)), 120, "the final image")
    page.wait_for_selector("#status :text('done in')")

    assert len(served.engine.runs) == runs_before + 1
    run = served.engine.runs[-1]
    assert run.done and [Path(p).name for p in run.options["styles"]] == ["starry-night.jpg", "the-scream.jpg"]
    left, right = run.options["masks"]
    assert left.shape == right.shape == (height, width), "a mask is the photo's size"
    parts = [slice(0, width // 4), slice(2 * width // 5, 3 * width // 5), slice(3 * width // 4, width)]
    covered = [[float((mask[:, part] > 127).mean()) for part in parts] for mask in (left, right)]
    assert covered[0][0] > 0.95 and covered[0][1:] == [0, 0], f"painting 1's region (red, left): {covered[0]}"
    assert covered[1][2] > 0.95 and covered[1][:2] == [0, 0], f"painting 2's region (blue, right): {covered[1]}"
    previews = _srcs(page)[: next(i for i, s in enumerate(_srcs(page)) if "stylized.png" in s)]
    assert len(set(previews)) >= 2, "the result changed fewer than twice before the end"
    shot = np.asarray(Image.open(mid_run).convert("RGB"), dtype=np.float32)
    assert shot.std() > 10, "the page looks blank mid-run"
