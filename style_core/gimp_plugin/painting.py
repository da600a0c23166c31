"""One run: check the request, export the pixels, follow the engine, add the result layer."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

import arguments as args
import layers
import protocol
from engine import Engine, EngineConfig, PluginError, explain
from gi.repository import Gimp


class Painting:
    """A checked request to paint ``layer`` of ``image`` with the dialog's ``values``.

    Raises :class:`PluginError` for what can be known before the engine starts: no style image,
    a selection that misses the layer or is too small, a list naming an unknown layer.
    """

    def __init__(
        self,
        image: Gimp.Image,
        layer: Gimp.Layer,
        arguments: list[args.Argument],
        schema: dict[str, dict[str, Any]],
        config: EngineConfig,
        values: dict[str, Any],
    ) -> None:
        self.image, self.layer, self.config = image, layer, config
        self.styles = args.styles(values)
        if not self.styles:
            raise PluginError("Choose a style image (a painting) under 'Style image', with a weight above 0.")
        self.region = layers.region_of(image, layer, config.min_side)
        self.size = args.paint_size(values["size"], self.region.width, self.region.height, config.max_size)
        try:
            self.options = args.engine_options(arguments, schema, values, self.size)
        except args.InvalidValue as exc:
            raise PluginError(str(exc)) from None
        self.values = values
        self.labels = {a.setting: a.label for a in arguments if a.setting}
        self.show_preview = bool(values["preview"])
        self.started = False
        self.last_pulse = 0.0

    @property
    def style_names(self) -> list[str]:
        return [os.path.splitext(os.path.basename(path))[0] for path, _ in self.styles]

    def estimate(self) -> str:
        """About how long the run takes here (see :meth:`EngineConfig.estimate_seconds`)."""
        width, height = args.output_dimensions(self.region.width, self.region.height, self.size)
        seconds = self.config.estimate_seconds(self.values["quality"], self.values["steps"], width, height)
        return protocol.format_seconds(seconds)

    def headline(self) -> str:
        """What is being painted, for the progress window."""
        text = f"Painting '{self.layer.get_name()}' in the style of {', '.join(self.style_names)}. "
        if self.show_preview:
            text += "The preview layer shows the picture forming. "
        return text + "Cancel leaves the image as it was."

    def run(self, progress) -> None:
        """Paint, showing progress on ``progress``; the result is a new layer in one undo step."""
        self.config.check_python()
        workdir = tempfile.mkdtemp(prefix="style-core-gimp-")
        preview = layers.Preview(self.image, self.layer, self.region) if self.show_preview else None
        try:
            engine = Engine(self.config.python, self.engine_args(workdir, preview is not None), workdir)
            try:
                output = self.follow(engine, progress, preview)
            finally:
                engine.stop()
            progress.update(1.0, "adding the result layer…")
            if preview is not None:
                preview.remove()
            name = "Style: " + " + ".join(self.style_names)
            layers.add_result(self.image, self.layer, self.region, output, name)
        finally:
            if preview is not None:
                preview.remove()
            Gimp.displays_flush()
            shutil.rmtree(workdir, ignore_errors=True)

    def engine_args(self, workdir: str, previews: bool) -> list[str]:
        content = os.path.join(workdir, "content.png")
        layers.export_region(self.layer, self.region, content)
        style_files = []
        for index, (path, _) in enumerate(self.styles, start=1):
            style_files.append(os.path.join(workdir, f"style-{index}.png"))
            layers.export_style(path, style_files[-1])
        command = [content, *style_files, "-o", os.path.join(workdir, "result.png"), "--json"]
        command += self.options + self.config.options()
        if previews:
            command += ["--save-every", os.path.join(workdir, "previews")]
        return command

    def follow(self, engine: Engine, progress, preview: layers.Preview | None) -> str:
        """The engine's records turned into progress and previews; the path of its result."""
        output = None
        for record in engine.records(lambda: self.tick(progress)):
            kind = record.get("event")
            if kind == "progress":
                self.started = True
                progress.update(min(1.0, max(0.0, float(record["fraction"]))), protocol.describe(record))
                if preview is not None and record.get("preview"):
                    self.check_still_there()
                    preview.show(record["preview"])
            elif kind == "done":
                output = record.get("output")
            elif kind == "error":
                raise explain(record, self.labels)
        returncode = engine.wait()
        if returncode != 0 or not output or not os.path.isfile(output):
            raise engine.failure(returncode)
        return output

    def tick(self, progress) -> None:
        """Between records: let the person cancel, and show life while the engine starts."""
        progress.check()
        now = time.monotonic()
        if not self.started and now - self.last_pulse > 0.2:
            progress.pulse()
            self.last_pulse = now

    def check_still_there(self) -> None:
        if not (self.image.is_valid() and self.layer.is_valid()):
            raise PluginError("The image or the layer was closed or deleted while it was being painted.")
