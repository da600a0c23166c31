#!/usr/bin/env python3
"""Filters > Artistic > Neural Style Transfer…: repaint a layer in the style of a painting.

A GIMP 3 plug-in for style_core (Gatys et al. 2015, pixels optimised against VGG-19).

GIMP's own Python has no torch, so the work runs in the Python environment that has
style_core: ``style-core gimp install`` copies this file to ``plug-ins/style-core/`` and
records that Python in ``engine.json`` beside it. Each run exports the layer (or the part
under the selection) to a PNG, runs style_core's CLI with ``--json`` in a subprocess and
turns its JSON event stream into a progress bar, status text and a preview layer. The
result becomes a new layer above the source, in one undo step; the source is not touched.

Arguments are the same in the dialog and in the PDB (``python-fu-neural-style-transfer``),
and the defaults mirror ``style_core.settings.Settings`` (tests/test_gimp.py checks that).
"""

import contextlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Gtk", "3.0")
from gi.repository import Gegl, Gimp, GimpUi, Gio, GLib, GObject, Gtk, Pango  # noqa: E402

PROC_NAME = "python-fu-neural-style-transfer"
PLUG_IN_BINARY = "style-core"
TITLE = "Neural Style Transfer"
CONFIG_FILE = "engine.json"
#: Overrides the Python recorded in engine.json (a path to an interpreter with style_core).
PYTHON_ENV = "STYLE_CORE_GIMP_PYTHON"

#: The engine's defaults, mirrored from style_core.settings.Settings: this file runs in GIMP's
#: Python, which cannot import style_core. tests/test_gimp.py fails when they drift apart.
ENGINE_DEFAULTS = {
    "size": 512,
    "quality": "balanced",
    "style_strength": 1.0,
    "style_scale": 1.0,
    "preserve_colors": "off",
}
QUALITIES = {
    "draft": "Draft (fastest)",
    "balanced": "Balanced",
    "high": "High (slowest)",
}
PRESERVE_COLORS = {
    "off": "Off: paint in the style's colours",
    "luminance": "Luminance: keep the layer's colours",
    "match": "Match: recolour the style to the layer's colours",
}
MIN_SIZE, MAX_SIZE = 64, 8192  # style_core.settings.MIN_SIZE, MAX_SIZE
MIN_SIDE = 16  # style_core.image.MIN_SIDE: the engine refuses smaller images
MAX_STYLES = 3
WEIGHT_LABELS = {2: "_Amount of style 2", 3: "Amou_nt of style 3"}  # mnemonics unique in the dialog
POLL_SECONDS = 0.05

# Runs in the engine's Python before style_core's CLI: when the plug-in goes away (its end of
# our stdin closes, also when GIMP kills it), the engine removes the plug-in's scratch folder
# (its working directory) and exits at once instead of running on.
ENGINE_BOOTSTRAP = """\
import json, os, shutil, sys, threading

def _exit_with_parent():
    try:
        while os.read(0, 4096):  # the raw fd: a buffered read would block interpreter shutdown
            pass
    finally:
        if os.path.basename(os.getcwd()).startswith("style-core-gimp-"):
            shutil.rmtree(os.getcwd(), ignore_errors=True)
        os._exit(143)

threading.Thread(target=_exit_with_parent, daemon=True).start()
try:
    from style_core.cli import main
except (ImportError, OSError) as exc:
    message = f"{sys.executable} cannot import style_core ({exc})"
    print(json.dumps({"event": "error", "kind": "import", "message": message}), flush=True)
    sys.exit(3)
sys.exit(main(sys.argv[1:]))
"""

REINSTALL_HINT = (
    "In a terminal, in the Python environment where you installed style_core (for example "
    "after 'source .venv/bin/activate'), run:\n\n    style-core gimp install\n\nthen restart GIMP."
)


class UserError(Exception):
    """A problem to show the user in one message; the image is left as it was."""


class Cancelled(Exception):
    """The user pressed Cancel."""


@dataclass
class Options:
    """The procedure's arguments, checked."""

    styles: list  # [(path, weight)]
    style_strength: float
    style_scale: float
    size: int
    quality: str
    steps: int
    preserve_colors: str
    preview: bool

    @classmethod
    def from_config(cls, config):
        styles = []
        for index in range(1, MAX_STYLES + 1):
            suffix = "" if index == 1 else f"-{index}"
            style_file = config.get_property(f"style-file{suffix}")
            weight = config.get_property(f"style-weight{suffix}")
            if style_file is None or weight <= 0:
                continue
            path = style_file.get_path()
            if path is None:
                raise UserError(f"The style image {style_file.get_uri()} is not a local file.")
            if not os.path.isfile(path):
                raise UserError(f"The style image '{path}' does not exist.")
            styles.append((path, weight))
        if not styles:
            raise UserError("Choose a style image (a painting) under 'Style image'.")
        return cls(
            styles=styles,
            style_strength=config.get_property("style-strength"),
            style_scale=config.get_property("style-scale"),
            size=config.get_property("size"),
            quality=config.get_property("quality"),
            steps=config.get_property("steps"),
            preserve_colors=config.get_property("preserve-colors"),
            preview=config.get_property("preview"),
        )

    def engine_size(self, width, height):
        """The long side the engine paints at: the layer's (at most the default) or the chosen one."""
        size = self.size or min(max(width, height), ENGINE_DEFAULTS["size"])
        return max(MIN_SIZE, min(size, MAX_SIZE))

    def layer_name(self):
        names = [os.path.splitext(os.path.basename(path))[0] for path, _ in self.styles]
        return "Style: " + " + ".join(names)


def engine_python():
    """(python, settings) of the environment that has style_core, or a UserError saying what to do."""
    here = os.path.dirname(os.path.abspath(__file__))
    config_path = os.path.join(here, CONFIG_FILE)
    settings = {}
    if os.environ.get(PYTHON_ENV):
        python = os.environ[PYTHON_ENV]
        origin = f"the environment variable {PYTHON_ENV}"
    else:
        try:
            with open(config_path, encoding="utf-8") as file:
                settings = json.load(file)
        except FileNotFoundError:
            raise UserError(
                "Neural Style Transfer needs the Python environment that has style_core and torch "
                f"(GIMP's own Python has no torch), and none is set up: {config_path} is missing.\n" + REINSTALL_HINT
            ) from None
        except (OSError, ValueError) as exc:
            raise UserError(f"{config_path} can't be read ({exc}).\n" + REINSTALL_HINT) from None
        python = settings.get("python") if isinstance(settings, dict) else None
        origin = config_path
    if not python or not os.path.isfile(python) or not os.access(python, os.X_OK):
        raise UserError(
            f"The Python that runs style_core, '{python}' (from {origin}), is missing: was its "
            "virtual environment moved or deleted?\n" + REINSTALL_HINT
        )
    return python, settings


def engine_message(message):
    """The engine's one-line error, in the dialog's words."""
    message = (message or "the engine failed").strip()
    if "out of memory" in message.lower():
        return (
            "Out of memory. Choose a smaller 'Output size' (or a lower 'Quality'), close other programs, and try again."
        )
    if "cannot import style_core" in message:
        return f"{message}.\n{REINSTALL_HINT}"
    return message[:1].upper() + message[1:]


def format_seconds(seconds):
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def describe(event):
    """Status text for a progress event: stage, size, step and time left."""
    text = (
        f"{TITLE}: stage {event['stage']}/{event['num_stages']} "
        f"({event['width']}x{event['height']}), step {event['step']}/{event['total_steps']}"
    )
    fraction, elapsed = event.get("fraction") or 0.0, event.get("elapsed") or 0.0
    if 0.0 < fraction < 1.0 and event["step"] > 1:
        text += f", about {format_seconds(elapsed * (1 - fraction) / fraction)} left"
    return text


class Engine:
    """style_core's CLI as a subprocess; its JSON lines arrive in a queue read by the main thread."""

    def __init__(self, python, args, workdir):
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONEXECUTABLE")
        }
        env.update(PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
        self.log_path = os.path.join(workdir, "engine.log")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - open while the engine runs
        self._events = queue.Queue()
        try:
            self._proc = subprocess.Popen(
                [python, "-c", ENGINE_BOOTSTRAP, *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._log,
                cwd=workdir,
                env=env,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        except OSError as exc:
            self._log.close()
            raise UserError(f"Could not start {python} ({exc}).\n" + REINSTALL_HINT) from None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in iter(self._proc.stdout.readline, b""):
            try:
                event = json.loads(raw.decode("utf-8", "replace"))
            except ValueError:
                continue
            if isinstance(event, dict):
                self._events.put(event)
        self._events.put(None)

    def events(self, tick):
        """Yield the engine's events until it closes its output; call tick() in between."""
        while True:
            tick()
            try:
                event = self._events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
            if event is None:
                return
            yield event

    def wait(self):
        try:
            return self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.stop()
            return self._proc.returncode

    def stop(self):
        """End the engine (promptly, if it still runs) and release its pipes."""
        with contextlib.suppress(OSError):
            self._proc.stdin.close()  # the bootstrap's watcher exits on this alone
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._reader.join(timeout=5)  # it ends at the end of the output, now closed
        self._log.close()

    def failure(self, returncode):
        """Why the engine stopped without a result, from its exit status and stderr."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as file:
                lines = [line.strip() for line in file if line.strip()]
        except OSError:
            lines = []
        if returncode is not None and returncode < 0:
            what = f"was killed by signal {-returncode}"
            if -returncode == 9:
                what += " (often the system ran out of memory: try a smaller 'Output size')"
        else:
            what = f"stopped with exit status {returncode}"
        detail = f" Last output: {' | '.join(lines[-3:])}" if lines else ""
        return f"The style_core engine {what} before it finished.{detail}"


class PdbProgress:
    """Progress through Gimp.progress_*: the caller's progress bar in non-interactive runs."""

    def start(self, text):
        Gimp.progress_init(text)

    def update(self, fraction, text):
        Gimp.progress_update(fraction)
        Gimp.progress_set_text(text)

    def pulse(self):
        Gimp.progress_pulse()

    def check(self):
        """Raise Cancelled when the user asked to stop (never, here)."""

    def close(self):
        Gimp.progress_end()


class ProgressWindow:
    """A small window with a progress bar, the engine's status and a Cancel button.

    For runs a person watches. Two facts of GIMP 3.0 make it the plug-in's own window rather
    than the image window's status bar: Cancel in the status bar makes GIMP kill the plug-in
    (GP_QUIT, then SIGKILL 10 ms later), so it could not remove its preview or say anything;
    and GimpUi.ProgressBar, which would take Gimp.progress_* calls, is not installed by GIMP
    3.0.4's core (it expects an int "command" argument; libgimp declares an enum). Cancelling
    here stops the engine, removes the preview and leaves the image as it was.
    """

    def __init__(self, text):
        self.cancelled = False
        self.dialog = GimpUi.Dialog(title=TITLE, role=f"{PLUG_IN_BINARY}-progress")
        self.dialog.add_button("_Cancel", Gtk.ResponseType.CANCEL)
        self.dialog.connect("response", self._on_response)
        self.dialog.connect("delete-event", self._on_delete)
        box = self.dialog.get_content_area()
        box.set_border_width(12)
        box.set_spacing(12)
        label = Gtk.Label(label=text, xalign=0.0)
        label.set_line_wrap(True)
        label.set_max_width_chars(60)
        box.pack_start(label, False, False, 0)
        self.bar = Gtk.ProgressBar(show_text=True, ellipsize=Pango.EllipsizeMode.END)
        self.bar.set_size_request(460, -1)
        box.pack_start(self.bar, False, False, 0)
        GimpUi.window_set_transient(self.dialog)
        self.dialog.show_all()
        self.pump()

    def _on_response(self, dialog, response):
        self.cancelled = True
        dialog.set_response_sensitive(Gtk.ResponseType.CANCEL, False)
        self.bar.set_text(f"{TITLE}: cancelling…")

    def _on_delete(self, dialog, event):
        self._on_response(dialog, Gtk.ResponseType.CANCEL)
        return True

    def pump(self):
        while Gtk.events_pending():
            Gtk.main_iteration_do(False)

    def start(self, text):
        self.bar.set_text(text)
        self.pump()

    def update(self, fraction, text):
        if not self.cancelled:
            self.bar.set_fraction(fraction)
            self.bar.set_text(text)
        self.pump()

    def pulse(self):
        self.bar.pulse()
        self.pump()

    def check(self):
        self.pump()
        if self.cancelled:
            raise Cancelled

    def close(self):
        self.dialog.destroy()
        self.pump()


class Job:
    """One run: export the layer, follow the engine, build the result layer."""

    def __init__(self, image, layer, options, progress):
        self.image, self.layer, self.options, self.progress = image, layer, options, progress
        ok, x, y, width, height = layer.mask_intersect()
        if not ok:
            raise UserError("The selection does not overlap the layer: select part of it, or nothing.")
        if min(width, height) < MIN_SIDE:
            raise UserError(f"The area to paint is {width}x{height} pixels; each side must be at least {MIN_SIDE}.")
        self.region = (x, y, width, height)
        self.selection = not Gimp.Selection.is_empty(image)
        self.preview_layer = None
        self.undo_open = False
        self.started = False
        self.last_pulse = 0.0

    def run(self):
        python, settings = engine_python()
        workdir = tempfile.mkdtemp(prefix="style-core-gimp-")
        try:
            content = os.path.join(workdir, "content.png")
            self.export_region(content)
            engine = Engine(python, self.engine_args(content, workdir, settings), workdir)
            try:
                output = self.follow(engine)
            finally:
                engine.stop()
            self.finish(output)
        finally:
            self.remove_preview()
            self.end_undo()
            Gimp.displays_flush()
            shutil.rmtree(workdir, ignore_errors=True)

    def engine_args(self, content, workdir, settings):
        opts = self.options
        _, _, width, height = self.region
        args = [content, *(path for path, _ in opts.styles)]
        args += ["-o", os.path.join(workdir, "result.png"), "--json"]
        args += ["--size", str(opts.engine_size(width, height)), "--quality", opts.quality]
        args += ["--style-strength", repr(opts.style_strength), "--style-scale", repr(opts.style_scale)]
        args += ["--preserve-colors", opts.preserve_colors]
        if len(opts.styles) > 1:
            args += ["--style-weights", *(repr(weight) for _, weight in opts.styles)]
        if opts.steps > 0:
            args += ["--steps", str(opts.steps)]
        if opts.preview:
            previews = os.path.join(workdir, "previews")
            args += ["--save-every", previews]
        for key in ("weights", "device"):
            if settings.get(key):
                args += [f"--{key}", str(settings[key])]
        return args

    # -- talking to the engine -------------------------------------------------------------

    def follow(self, engine):
        self.progress.start(f"{TITLE}: starting the engine (loading VGG-19 and the style images)…")
        output = None
        for event in engine.events(self.tick):
            kind = event.get("event")
            if kind == "progress":
                self.started = True
                self.progress.update(min(1.0, max(0.0, float(event.get("fraction", 0.0)))), describe(event))
                if self.options.preview and event.get("preview"):
                    self.show_preview(event["preview"])
            elif kind == "done":
                output = event.get("output")
            elif kind == "error":
                raise UserError(engine_message(event.get("message")))
        returncode = engine.wait()
        if returncode != 0 or not output or not os.path.isfile(output):
            raise UserError(engine.failure(returncode))
        self.progress.update(1.0, f"{TITLE}: adding the result layer…")
        return output

    def tick(self):
        self.progress.check()
        now = time.monotonic()
        if not self.started and now - self.last_pulse > 0.2:
            self.progress.pulse()
            self.last_pulse = now

    # -- pixels in and out -------------------------------------------------------------------

    def export_region(self, path):
        """Write the part of the layer to paint as an 8-bit RGB(A) PNG, whatever the image's type."""
        x, y, width, height = self.region
        scratch = Gimp.Image.new(width, height, Gimp.ImageBaseType.RGB)
        scratch.undo_disable()
        try:
            copy = Gimp.Layer.new_from_drawable(self.layer, scratch)
            scratch.insert_layer(copy, None, 0)
            normalise(copy)
            copy.set_offsets(-x, -y)
            copy.resize_to_image_size()
            if not Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, scratch, Gio.File.new_for_path(path), None):
                raise UserError("GIMP could not export the layer for the engine.")
        finally:
            scratch.delete()

    def load_layer(self, path, below):
        """A layer from the engine's PNG, placed just above ``below``, over the painted region."""
        layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, self.image, Gio.File.new_for_path(path))
        self.insert_above(layer, below)
        self.fit(layer)
        return layer

    def fit(self, layer):
        x, y, width, height = self.region
        if (layer.get_width(), layer.get_height()) != (width, height):
            layer.scale(width, height, False)
        _, off_x, off_y = self.layer.get_offsets()
        layer.set_offsets(off_x + x, off_y + y)

    def insert_above(self, layer, below):
        self.begin_undo()
        self.image.insert_layer(layer, below.get_parent(), self.image.get_item_position(below))

    def check_still_there(self):
        if not (self.image.is_valid() and self.layer.is_valid()):
            raise UserError("The image or the layer was closed or deleted while it was being painted.")

    def show_preview(self, path):
        """Show an intermediate image: one preview layer, its pixels replaced each time."""
        if not os.path.isfile(path):
            return
        self.check_still_there()
        if self.preview_layer is None:
            layer = self.load_layer(path, self.layer)
            layer.set_name(f"{TITLE} (preview)")
            if self.selection:
                layer.add_mask(layer.create_mask(Gimp.AddMaskType.SELECTION))
            self.preview_layer = layer
        else:
            _, _, width, height = self.region
            loaded = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(path))
            try:
                loaded.undo_disable()
                loaded.scale(width, height)
                source = loaded.get_layers()[0].get_buffer()
                target = self.preview_layer.get_buffer()
                rect = Gegl.Rectangle.new(0, 0, width, height)
                source.copy(rect, Gegl.AbyssPolicy.NONE, target, rect)
                target.flush()
                self.preview_layer.update(0, 0, width, height)
            finally:
                loaded.delete()
        Gimp.displays_flush()

    def remove_preview(self):
        if self.preview_layer is not None:
            if self.preview_layer.is_valid():
                self.image.remove_layer(self.preview_layer)
            self.preview_layer = None

    def finish(self, output):
        """The result: a new layer above the source, same size, offsets and alpha."""
        self.remove_preview()
        self.check_still_there()
        # A copy of the source supplies the exact alpha and the pixels outside the painted
        # region; the engine's image is merged onto it clipped to the copy's alpha.
        base = Gimp.Layer.new_from_drawable(self.layer, self.image)
        self.insert_above(base, self.layer)
        painted = None
        try:
            normalise(base)
            painted = self.load_layer(output, base)
            if painted.has_alpha():  # opaque, so the merge takes its colours wholly
                painted.curves_spline(Gimp.HistogramChannel.ALPHA, [0.0, 1.0, 1.0, 1.0])
            painted.set_composite_mode(Gimp.LayerCompositeMode.CLIP_TO_BACKDROP)
            result = self.image.merge_down(painted, Gimp.MergeType.CLIP_TO_BOTTOM_LAYER)
        except Exception:
            for layer in (painted, base):  # leave the image as it was
                if layer is not None and layer.is_valid():
                    self.image.remove_layer(layer)
            raise
        if not self.layer.has_alpha() and result.has_alpha():
            result.flatten()  # merging adds alpha; the source had none (all opaque here)
        result.set_name(self.options.layer_name())
        if self.selection:
            result.add_mask(result.create_mask(Gimp.AddMaskType.SELECTION))
        self.image.set_selected_layers([result])

    # -- undo --------------------------------------------------------------------------------

    def begin_undo(self):
        """Open the undo group on the first change, so a run that fails early leaves no step."""
        if not self.undo_open:
            self.image.undo_group_start()
            self.undo_open = True

    def end_undo(self):
        if self.undo_open:
            self.image.undo_group_end()
            self.undo_open = False


def normalise(layer):
    """Plain, visible, fully opaque normal layer without a mask: what a merge should see."""
    if layer.get_mask() is not None:
        layer.remove_mask(Gimp.MaskApplyMode.DISCARD)
    layer.set_opacity(100.0)
    layer.set_mode(Gimp.LayerMode.NORMAL)
    layer.set_composite_mode(Gimp.LayerCompositeMode.AUTO)
    layer.set_visible(True)


def show_dialog(procedure, config):
    dialog = GimpUi.ProcedureDialog.new(procedure, config, TITLE)
    for name in ("style-strength", "style-scale"):
        dialog.get_spin_scale(name, 1.0)
    dialog.get_label("more-styles-label", "Blend in more styles (an amount of 0 leaves one out)", False, False)
    dialog.fill_box(
        "more-styles-box", ["style-weight", "style-file-2", "style-weight-2", "style-file-3", "style-weight-3"]
    )
    dialog.fill_frame("more-styles", "more-styles-label", False, "more-styles-box")
    dialog.fill(
        [
            "style-file",
            "style-strength",
            "size",
            "quality",
            "preserve-colors",
            "style-scale",
            "steps",
            "preview",
            "more-styles",
        ]
    )
    accepted = dialog.run()
    dialog.destroy()
    return accepted


def failure(procedure, status, message):
    error = GLib.Error.new_literal(Gimp.PlugIn.error_quark(), message, 0)
    return procedure.new_return_values(status, error)


def run(procedure, run_mode, image, drawables, config, data):
    if len(drawables) != 1:
        return failure(procedure, Gimp.PDBStatusType.CALLING_ERROR, f"{TITLE} works on one layer; select exactly one.")
    layer = drawables[0]
    if not isinstance(layer, Gimp.Layer) or layer.is_group():
        return failure(
            procedure,
            Gimp.PDBStatusType.CALLING_ERROR,
            f"{TITLE} paints a layer; select a layer (not a layer group, mask or channel).",
        )

    watched = run_mode != Gimp.RunMode.NONINTERACTIVE
    if watched:
        GimpUi.init(PLUG_IN_BINARY)
    if run_mode == Gimp.RunMode.INTERACTIVE and not show_dialog(procedure, config):
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)

    progress = None
    try:
        options = Options.from_config(config)
        job = Job(image, layer, options, None)
        if watched:
            styles = ", ".join(os.path.basename(path) for path, _ in options.styles)
            progress = ProgressWindow(
                f"Painting '{layer.get_name()}' in the style of {styles}. "
                + ("The preview layer shows the picture forming. " if options.preview else "")
                + "Cancel leaves the image as it was."
            )
        else:
            progress = PdbProgress()
        job.progress = progress
        job.run()
    except Cancelled:
        Gimp.message(f"{TITLE} was cancelled; the image is as it was.")
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
    except UserError as exc:
        return failure(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, str(exc))
    except Exception as exc:  # a bug: say so in GIMP rather than crash the plug-in
        import traceback

        traceback.print_exc()
        return failure(
            procedure,
            Gimp.PDBStatusType.EXECUTION_ERROR,
            f"{TITLE} failed unexpectedly: {type(exc).__name__}: {exc}",
        )
    finally:
        if progress is not None:
            progress.close()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)


def choice(values):
    result = Gimp.Choice.new()
    for index, (nick, label) in enumerate(values.items()):
        result.add(nick, index, label, "")
    return result


class NeuralStyleTransfer(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PROC_NAME]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label(f"{TITLE}…")
        procedure.add_menu_path("<Image>/Filters/Artistic")
        procedure.set_documentation(
            "Repaint the layer in the style of a painting (neural style transfer)",
            "Optimises the layer's pixels so that their VGG-19 features keep the layer's content "
            "and take on the textures and colours of one or more style images (Gatys et al. 2015). "
            "The result is a new layer above the source; with a selection it is masked to it. "
            "Runs style_core in the Python environment recorded by 'style-core gimp install'.",
            name,
        )
        procedure.set_attribution("style_core contributors", "style_core contributors", "2025")

        rw = GObject.ParamFlags.READWRITE
        open_file = Gimp.FileChooserAction.OPEN
        procedure.add_file_argument(
            "style-file", "St_yle image", "The painting whose style to use", open_file, True, None, rw
        )
        procedure.add_double_argument(
            "style-weight", "Amount of style _1", "Share of the first style when blending several", 0.0, 100.0, 1.0, rw
        )
        for index in range(2, MAX_STYLES + 1):
            procedure.add_file_argument(
                f"style-file-{index}",
                f"Style image _{index}",
                "Another style image to blend in (optional)",
                open_file,
                True,
                None,
                rw,
            )
            procedure.add_double_argument(
                f"style-weight-{index}", WEIGHT_LABELS[index], "Its share in the blend", 0.0, 100.0, 1.0, rw
            )
        procedure.add_double_argument(
            "style-strength",
            "Style s_trength",
            "How strongly the style is imposed; 1 is the usual look, 0 keeps the layer",
            0.0,
            10.0,
            ENGINE_DEFAULTS["style_strength"],
            rw,
        )
        procedure.add_int_argument(
            "size",
            "Output si_ze",
            f"Long side, in pixels, to paint at; 0: the layer's size, at most {ENGINE_DEFAULTS['size']}. "
            "The result is scaled to the layer's size. Larger is slower.",
            0,
            MAX_SIZE,
            0,
            rw,
        )
        procedure.add_choice_argument(
            "quality", "_Quality", "Number of iterations", choice(QUALITIES), ENGINE_DEFAULTS["quality"], rw
        )
        procedure.add_choice_argument(
            "preserve-colors",
            "_Preserve colours",
            "Keep the layer's colours and take only the style's brushwork",
            choice(PRESERVE_COLORS),
            ENGINE_DEFAULTS["preserve_colors"],
            rw,
        )
        procedure.add_double_argument(
            "style-scale",
            "_Brush scale",
            "Size of the style's features relative to the output (0.5: finer, 2: coarser)",
            0.1,
            4.0,
            ENGINE_DEFAULTS["style_scale"],
            rw,
        )
        procedure.add_int_argument(
            "steps", "_Iterations", "Iterations at full size; 0: set by Quality", 0, 10000, 0, rw
        )
        procedure.add_boolean_argument(
            "preview", "Show progress in a previe_w layer", "Update a preview layer while painting", True, rw
        )
        return procedure


Gimp.main(NeuralStyleTransfer.__gtype__, sys.argv)
