"""One run: a checked request, the pixels exported, the engine followed, the result layer added or refined.

A result layer carries its recipe in a parasite (kept in XCF files): the source layer's tattoo, the
area and its masks, the style images, the engine options and the iterations so far. Refining reads
it: the source is the content again, the result's pixels are the start (``--init``), and only the
full-size stage runs, with the iterations asked for.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
import time
import zlib
from dataclasses import dataclass
from typing import Any

import arguments as args
import layers
from clock import RunClock
from engine import Engine, EngineConfig, PluginError, explain
from gi.repository import Gimp
from regions import Area, area_of

#: Seconds between pulses of the progress bar while the engine starts, and between ticks of the clock.
PULSE_SECONDS, TICK_SECONDS = 0.2, 1.0
#: Extensions of the picture files the engine reads itself (Pillow); others are converted by GIMP.
ENGINE_READS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp", ".gif")
#: The long side, in pixels, of the dialog's quick preview (a draft of a few seconds).
DRAFT_SIDE = 256
#: The request's fields a result's recipe keeps as they are.
RECORDED = ("styles", "options", "size", "quality")


@dataclass(frozen=True)
class PaintingRequest:
    """A checked run: paint ``area`` of ``source`` with ``styles`` (paths) and the engine ``options``
    at a long side of ``size`` px, as a new layer named ``name``; with a ``target``, refine that
    result layer (which had ``iterations`` so far) with ``steps`` more."""

    image: Gimp.Image
    source: Gimp.Layer
    area: Area
    styles: tuple[str, ...]
    options: tuple[str, ...]
    size: int
    quality: str
    steps: int
    preview: bool
    name: str
    target: Gimp.Layer | None = None
    iterations: int = 0

    def estimate(self, config: EngineConfig) -> float:
        """About how many seconds the run takes here: what the dialog shows, and where the run's
        clock starts (see :meth:`EngineConfig.estimate_seconds`)."""
        width, height = args.output_dimensions(self.area.width, self.area.height, self.size)
        return config.estimate_seconds(self.quality, self.steps, width, height, refine=self.target is not None)

    def headline(self) -> str:
        """What is being painted, for the progress window."""
        if self.target is None:
            text = f"Painting '{self.source.get_name()}' as '{self.name}'. "
        else:
            text = f"Refining '{self.name}' ({self.iterations} iterations so far). "
        return text + "Cancel leaves the image as it was."

    def recipe(self, iterations: int) -> bytes:
        """How the result was made, for a later refinement (see the module's docstring)."""

        def packed(data: bytes) -> str:
            return base64.b64encode(zlib.compress(data)).decode("ascii")

        area = self.area
        record = {key: getattr(self, key) for key in RECORDED} | {
            "source": self.source.get_tattoo(),
            "area": [area.x, area.y, area.width, area.height],
            "masks": None if area.masks is None else [packed(mask) for mask in area.masks],
            "cover": None if area.cover is None else packed(area.cover),
            "iterations": iterations,
        }
        return json.dumps(record).encode("utf-8")


def paint_request(
    image: Gimp.Image,
    layer: Gimp.Layer,
    arguments: list[args.Argument],
    schema: dict[str, dict[str, Any]],
    config: EngineConfig,
    values: dict[str, Any],
) -> PaintingRequest:
    """The request to paint ``layer`` with the procedure's ``values``.

    Raises :class:`PluginError` for what can be known before the engine starts: no style image, a
    selection or region that paints nothing or too little, a list naming an unknown layer.
    """
    styles = args.styles(values)
    if not styles:
        raise PluginError("Choose a style image (a painting) under 'Style image', with a weight above 0.")
    area = area_of(image, layer, styles, config.min_side)
    size = args.paint_size(values["size"], area.width, area.height, config.max_size)
    try:
        options = args.engine_options(arguments, schema, values, size, blend=area.masks is None)
    except args.InvalidValue as exc:
        raise PluginError(str(exc)) from None
    name = "Style: " + " + ".join(style.name for style in styles)
    paths = tuple(style.path or keep_painting(style.source) for style in styles)
    return PaintingRequest(
        image, layer, area, paths, tuple(options), size, values["quality"], values["steps"], values["preview"], name
    )


def keep_painting(source: Gimp.Image | Gimp.Drawable) -> str:
    """An open image (as it shows) or a layer used as a painting, saved as a PNG in GIMP's profile
    (``style-core/paintings``, named by its pixels), so that a refinement finds it after it is closed."""
    folder = os.path.join(Gimp.directory(), "style-core", "paintings")
    os.makedirs(folder, exist_ok=True)
    scratch = os.path.join(folder, f"new-{os.getpid()}.png")
    if isinstance(source, Gimp.Image):
        layers.export_visible(source, scratch)
    else:
        layers.export_drawable(source, 0, 0, source.get_width(), source.get_height(), scratch)
    with open(scratch, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()[:16]
    path = os.path.join(folder, f"{digest}.png")
    os.replace(scratch, path)
    return path


def refine_request(image: Gimp.Image, layer: Gimp.Layer, values: dict[str, Any]) -> PaintingRequest:
    """The request to refine the result layer ``layer`` with ``values["steps"]`` more iterations."""
    data = layers.read_recipe(layer)
    if data is None:
        raise PluginError(
            f"'{layer.get_name()}' holds no record of a Neural Style Transfer: select a layer the filter made "
            "('Style: …') and refine that."
        )
    recipe = json.loads(data)
    source = image.get_layer_by_tattoo(recipe["source"])
    if source is None:
        raise PluginError(f"The layer '{layer.get_name()}' was painted from is gone: Refine repaints from it.")
    if (source.get_width(), source.get_height()) != (layer.get_width(), layer.get_height()):
        raise PluginError(
            f"'{layer.get_name()}' and the layer it was painted from, '{source.get_name()}', are no longer the same "
            "size: Refine needs them as they were (undo the scaling, or paint it anew)."
        )

    def unpacked(text: str) -> bytes:
        return zlib.decompress(base64.b64decode(text))

    masks = None if recipe["masks"] is None else tuple(unpacked(mask) for mask in recipe["masks"])
    area = Area(*recipe["area"], masks=masks, cover=None if recipe["cover"] is None else unpacked(recipe["cover"]))
    kept = {key: recipe[key] for key in RECORDED}
    return PaintingRequest(
        image, source, area, **kept, steps=values["steps"], preview=values["preview"], name=layer.get_name(),
        target=layer, iterations=recipe["iterations"],
    )  # fmt: skip


def run(request: PaintingRequest, config: EngineConfig, labels: dict[str, str], progress: Any) -> None:
    """Paint, showing progress on ``progress``; the result is added (or refined) in one undo step.
    ``labels`` names the settings in messages, as the dialog does."""
    config.check_python()
    clock = RunClock(request.estimate(config), time.monotonic())
    workdir = tempfile.mkdtemp(prefix="style-core-gimp-")
    try:
        words = command(request, workdir, previews=request.preview and progress.shows_pictures)
        engine = Engine(config.python, words + config.options(), workdir)
        try:
            output, steps = follow(engine, progress, clock, labels)
        finally:
            engine.stop()
        progress.update(1.0, "adding the result…")
        recipe = request.recipe(request.iterations + steps)
        if request.target is None:
            layers.add_result(request.image, request.source, request.area, output, request.name, recipe)
        else:
            layers.replace_area(request.target, request.source, request.area, output, recipe)
    finally:
        Gimp.displays_flush()
        shutil.rmtree(workdir, ignore_errors=True)


def draft_request(request: PaintingRequest) -> PaintingRequest:
    """``request`` at a long side of at most :data:`DRAFT_SIDE` px, with its other settings."""
    side = min(DRAFT_SIDE, request.size)
    options = list(request.options)
    options[options.index("--size") + 1] = str(side)
    return dataclasses.replace(request, options=tuple(options), size=side, target=None, iterations=0)


def draft(request: PaintingRequest, config: EngineConfig, labels: dict[str, str], progress: Any, path: str) -> None:
    """A quick look: :func:`draft_request` painted and written to ``path`` (a PNG); the image is
    not touched."""
    small = draft_request(request)
    config.check_python()
    clock = RunClock(small.estimate(config), time.monotonic())
    workdir = tempfile.mkdtemp(prefix="style-core-gimp-")
    try:
        engine = Engine(config.python, command(small, workdir, previews=False) + config.options(), workdir)
        try:
            output, _ = follow(engine, progress, clock, labels)
        finally:
            engine.stop()
        shutil.copyfile(output, path + ".partial")
        os.replace(path + ".partial", path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def command(request: PaintingRequest, workdir: str, previews: bool) -> list[str]:
    """The engine's arguments, with the files it reads exported into ``workdir`` (style files it
    reads itself are handed over as they are)."""
    area = request.area
    content = os.path.join(workdir, "content.png")
    layers.export_area(request.source, area, content)
    styles = []
    for index, source in enumerate(request.styles, start=1):
        if source.lower().endswith(ENGINE_READS):
            styles.append(source)
        else:
            styles.append(os.path.join(workdir, f"style-{index}.png"))
            layers.export_style(source, styles[-1])
    words = [content, *styles, "-o", os.path.join(workdir, "result.png"), "--json", *request.options]
    for index, mask in enumerate(area.masks or (), start=1):
        path = os.path.join(workdir, f"mask-{index}.pgm")
        layers.write_mask(mask, area.width, area.height, path)
        words += ["--mask", path]
    if request.target is not None:
        init = os.path.join(workdir, "init.png")
        layers.export_area(request.target, area, init)
        words += ["--init", init, "--steps", str(request.steps)]  # the last --steps counts
    if previews:
        words += ["--save-every", os.path.join(workdir, "previews")]
    return words


def follow(engine: Engine, progress: Any, clock: RunClock, labels: dict[str, str]) -> tuple[str, int]:
    """The engine's records turned into progress (the clock ticking every second in between) and
    pictures; its result's path and iterations."""
    last_pulse = last_tick = -math.inf
    done: dict[str, Any] = {}

    def show(now: float) -> None:
        nonlocal last_tick
        progress.update(clock.fraction if clock.record is not None else None, clock.status(now))
        last_tick = now

    def tick() -> None:  # between records: let the person cancel, keep the clock going
        nonlocal last_pulse
        progress.check()
        now = time.monotonic()
        if clock.record is None and now - last_pulse >= PULSE_SECONDS:  # show life while the engine starts
            progress.pulse()
            last_pulse = now
        if now - last_tick >= TICK_SECONDS:
            show(now)

    for record in engine.records(tick):
        kind = record.get("event")
        if kind == "progress":
            clock.hear(record, time.monotonic())
            show(clock.record_at)
            if record.get("preview"):
                progress.show_picture(record["preview"])
        elif kind == "done":
            done = record
        elif kind == "error":
            raise explain(record, labels)
    returncode = engine.wait()
    if returncode != 0 or not done.get("output") or not os.path.isfile(done["output"]):
        raise engine.failure(returncode)
    return done["output"], int(done.get("steps", 0))
