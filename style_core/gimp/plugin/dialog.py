"""The dialogs: GIMP's procedure dialogs laid out from the arguments, with the plug-in's style choosers.

- Each style image sits beside its weight and its region (GIMP's channel chooser, with a button
  back to none). GIMP 3.0's file widget offers no file filter, no preview and no starting folder
  (its file dialog opens on Recent), so the style choosers are the plug-in's own: a file button
  with an image filter, a preview of the painting, and a start in the folder of the last style
  image, else the image's folder, else the Pictures folder.
- The meaning of 0 (size, iterations) is written under the field, as the schema says it (``zero``).
- The estimated time, from the timings measured at install, follows the settings as they change.
- Each style may instead be an open image (as it shows) or a layer of one, on a row below its file.
- Preview paints a small draft (:func:`painting.draft`, a few seconds) with the chosen settings
  and shows it in the dialog; the image is not touched.
- Advanced settings sit in a collapsed section, the second and third style in another.
- Refining has its own small dialog: the iterations, the preview and the estimate.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from typing import Any

import arguments as args
import painting
import protocol
from engine import EngineConfig, PluginCancelled, PluginError
from gi.repository import GdkPixbuf, Gimp, GimpUi, GLib, Gtk
from painting import PaintingRequest
from progress import TITLE, picture
from regions import selection_bounds

PREVIEW_SIDE = 160
#: Ranges wider than this get a labelled spin button: a slider over them is useless.
SLIDER_MAX_RANGE = 100_000
#: Widths in pixels of a style's file button and of its weight beside it.
FILE_WIDTH, WEIGHT_WIDTH = 180, 220


def start_folder(config: Gimp.ProcedureConfig, image: Gimp.Image) -> str:
    """Where a style chooser opens: the last style image's folder, the image's, or Pictures."""
    candidates = [config.get_property("style-file"), image.get_file(), image.get_imported_file()]
    for file in candidates:
        path = file.get_path() if file is not None else None
        if path and os.path.isdir(os.path.dirname(path)):
            return os.path.dirname(path)
    return GLib.get_user_special_dir(GLib.UserDirectory.DIRECTORY_PICTURES) or GLib.get_home_dir()


class StyleChooser:
    """A style image's label and file button (with an image filter and a preview), kept in step
    with the config's file argument; the optional slots get a button that leaves the style out."""

    def __init__(self, config: Gimp.ProcedureConfig, argument: args.Argument, folder: str) -> None:
        self.config, self.name = config, argument.name
        self.button = Gtk.FileChooserButton(title=f"{TITLE}: {argument.label}", action=Gtk.FileChooserAction.OPEN)
        self.button.set_tooltip_text(argument.help)
        self.button.set_size_request(FILE_WIDTH, -1)
        images = Gtk.FileFilter()
        images.set_name("Images")
        images.add_pixbuf_formats()
        images.add_mime_type("image/*")
        everything = Gtk.FileFilter()
        everything.set_name("All files")
        everything.add_pattern("*")
        self.button.add_filter(images)
        self.button.add_filter(everything)
        self.button.set_filter(images)
        self.preview = Gtk.Image()
        self.button.set_preview_widget(self.preview)
        self.button.set_use_preview_label(False)
        self.button.connect("update-preview", self._on_update_preview)
        self.button.set_current_folder(folder)
        self._show(config.get_property(self.name))
        self.button.connect("file-set", self._on_file_set)
        config.connect(f"notify::{self.name}", lambda *_: self._show(config.get_property(self.name)))

        label = Gtk.Label.new_with_mnemonic(argument.nick)
        label.set_mnemonic_widget(self.button)
        label.set_xalign(0.0)
        self.widget = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
        self.widget.pack_start(label, False, False, 0)
        self.widget.pack_start(self.button, True, True, 0)
        if argument.slot > 1:
            self.widget.pack_start(clear_button("Leave this style out", config, self.name), False, False, 0)
        self.widget.show_all()

    def _show(self, file: Any) -> None:
        current = self.button.get_file()
        if file is None:
            if current is not None:
                self.button.unselect_all()
        elif current is None or not current.equal(file):
            self.button.set_file(file)

    def _on_file_set(self, button: Gtk.FileChooserButton) -> None:
        self.config.set_property(self.name, button.get_file())

    def _on_update_preview(self, chooser: Gtk.FileChooser) -> None:
        path = chooser.get_preview_filename()
        try:
            pixbuf = GdkPixbuf.Pixbuf.new_from_file_at_scale(path, PREVIEW_SIDE, PREVIEW_SIDE, True)
        except (GLib.Error, TypeError):
            chooser.set_preview_widget_active(False)
            return
        self.preview.set_from_pixbuf(pixbuf)
        chooser.set_preview_widget_active(True)


class OpenChooser:
    """The open images and their layers (and none) in one list, kept in step with the config's
    image and layer arguments: choosing one clears the other."""

    def __init__(self, config: Gimp.ProcedureConfig, image: args.Argument, layer: args.Argument) -> None:
        self.config, self.image, self.layer = config, image.name, layer.name
        self.entries: list[tuple[str, Any]] = [("", None)]
        self.combo = Gtk.ComboBoxText()
        self.combo.append_text("(none: the file above)")
        for opened in Gimp.get_images():
            self.entries.append((self.image, opened))
            self.combo.append_text(f"{args.painting_name(opened)} (image {opened.get_id()})")
            for item in opened.get_layers():
                self.entries.append((self.layer, item))
                self.combo.append_text(f"    layer '{item.get_name()}'")
        self.combo.set_tooltip_text(f"{image.help}; or {layer.help[0].lower()}{layer.help[1:]}")
        self._show()
        self.combo.connect("changed", self._on_changed)
        for name in (self.image, self.layer):
            config.connect(f"notify::{name}", lambda *_: self._show())
        label = Gtk.Label.new_with_mnemonic(image.nick)
        label.set_mnemonic_widget(self.combo)
        self.widget = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
        self.widget.pack_start(label, False, False, 0)
        self.widget.pack_start(self.combo, True, True, 0)
        self.widget.show_all()

    def _show(self) -> None:
        chosen = self.config.get_property(self.layer) or self.config.get_property(self.image)
        index = next(
            (i for i, (_, item) in enumerate(self.entries) if chosen is not None and item is not None
             and item.get_id() == chosen.get_id()),
            0,
        )  # fmt: skip
        if self.combo.get_active() != index:
            self.combo.set_active(index)

    def _on_changed(self, combo: Gtk.ComboBoxText) -> None:
        name, item = self.entries[max(0, combo.get_active())]
        for argument in (self.image, self.layer):
            wanted = item if argument == name else None
            if self.config.get_property(argument) != wanted:
                self.config.set_property(argument, wanted)


class DraftProgress:
    """The Preview button's run: its status in a label of the dialog; the button stops it."""

    shows_pictures = False

    def __init__(self, button: Gtk.Button, label: Gtk.Label) -> None:
        self.button, self.label, self.stopped = button, label, False
        self.handler = button.connect("clicked", self._on_stop)
        button.set_label("Stop the preview")

    def _on_stop(self, *_: object) -> None:
        self.stopped = True

    def pump(self) -> None:
        while Gtk.events_pending():
            Gtk.main_iteration_do(False)

    def update(self, fraction: float | None, text: str) -> None:
        self.label.set_text(f"Preview: {text}")
        self.pump()

    def pulse(self) -> None:
        self.pump()

    def show_picture(self, path: str) -> None:
        """Only the finished draft is shown."""

    def check(self) -> None:
        self.pump()
        if self.stopped:
            raise PluginCancelled

    def close(self) -> None:
        self.button.disconnect(self.handler)
        self.button.set_label("Preview")


def add_preview(
    dialog: GimpUi.ProcedureDialog,
    config: Gimp.ProcedureConfig,
    arguments: list[args.Argument],
    schema: dict[str, dict[str, Any]],
    engine: EngineConfig,
    image: Gimp.Image,
    layer: Gimp.Layer,
) -> str:
    """A Preview button, its status line and the draft it paints (see :func:`painting.draft`)."""
    box = own_box(dialog, "preview-box")
    box.set_spacing(6)
    row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
    button = Gtk.Button.new_with_label("Preview")
    button.set_tooltip_text(
        f"Paint a small draft (at most {painting.DRAFT_SIDE} px) with these settings, to see the look first"
    )
    status = Gtk.Label(xalign=0.0)
    status.set_line_wrap(True)
    status.set_max_width_chars(60)
    row.pack_start(button, False, False, 0)
    row.pack_start(status, True, True, 0)
    shown = Gtk.Image()
    box.pack_start(row, False, False, 0)
    box.pack_start(shown, False, False, 0)
    box.show_all()
    labels = {name: spec["label"] for name, spec in schema.items()}
    running = False

    def on_preview(_: Gtk.Button) -> None:
        nonlocal running
        if running:  # the click that stops it is the DraftProgress's
            return
        running = True
        progress = DraftProgress(button, status)
        try:
            with tempfile.TemporaryDirectory(prefix="style-core-gimp-draft-") as folder:
                request = painting.paint_request(
                    image, layer, arguments, schema, engine, args.values_of(config, arguments)
                )
                path = f"{folder}/draft.png"
                painting.draft(request, engine, labels, progress, path)
                shown.set_from_pixbuf(picture(path, PREVIEW_SIDE * 2))
                status.set_text("Preview: a draft at a small size; the result is painted at full size.")
        except PluginCancelled:
            status.set_text("Preview stopped.")
        except (PluginError, args.InvalidValue) as exc:
            status.set_text(str(exc))
        finally:
            progress.close()
            running = False

    button.connect("clicked", on_preview)
    return "preview-box"


def own_box(dialog: GimpUi.ProcedureDialog, box_id: str) -> Gtk.Box:
    """A box the dialog knows as ``box_id``, for the plug-in's own widgets. (GIMP fills a box
    given no names with every argument, so it is given an empty label.)"""
    dialog.get_label(f"{box_id}-start", "", False, False)
    return dialog.fill_box(box_id, [f"{box_id}-start"])


def clear_button(tooltip: str, config: Gimp.ProcedureConfig, name: str) -> Gtk.Button:
    """A button that sets the argument ``name`` to None."""
    button = Gtk.Button.new_from_icon_name("edit-clear", Gtk.IconSize.BUTTON)
    button.set_tooltip_text(tooltip)
    button.connect("clicked", lambda *_: config.set_property(name, None))
    button.show()
    return button


def number_widget(dialog: GimpUi.ProcedureDialog, argument: args.Argument) -> Gtk.Widget:
    """A spin scale (a labelled spin button for huge ranges) stepping by the schema's step."""
    if argument.maximum - argument.minimum > SLIDER_MAX_RANGE:
        widget = dialog.get_widget(argument.name, GimpUi.LabelSpin.__gtype__)
    else:
        widget = dialog.get_spin_scale(argument.name, 1.0)
    if argument.step:
        widget.set_increments(argument.step, argument.step * 10)
        if argument.kind == "float":
            widget.set_digits(max(0, -math.floor(math.log10(argument.step))))
    return widget


def estimate_line(
    engine: EngineConfig,
    width: int,
    height: int,
    side: int,
    quality: str,
    steps: int,
    refine: bool = False,
    selected: bool = False,
) -> str:
    """The line under the settings: the size the engine paints a ``width`` x ``height`` area (the
    layer, or with ``selected`` the selection's box) at (long side ``side``) and about how long it
    takes here: the estimate the run's clock starts from."""
    out_width, out_height = args.output_dimensions(width, height, side)
    seconds = engine.estimate_seconds(quality, steps, out_width, out_height, refine)
    fitted = "the selection's box" if selected else "the layer"
    scaled = f" (the result is scaled to fit {fitted})" if side != max(width, height) else ""
    return (
        f"Paints {out_width}x{out_height} px{scaled}: about <b>{protocol.format_seconds(seconds)}</b> on this "
        f"computer's {engine.device_kind} (estimated from a test run at install time)."
    )


def add_estimate(dialog: GimpUi.ProcedureDialog, config: Gimp.ProcedureConfig, markup: Callable[[], str]) -> str:
    """A label ``estimate`` showing ``markup()``, kept up to date as the settings change."""
    label = dialog.get_label("estimate", markup(), True, False)
    label.set_xalign(0.0)
    label.set_line_wrap(True)
    label.set_max_width_chars(70)
    config.connect("notify", lambda *_: label.set_markup(markup()))
    return "estimate"


def with_captions(dialog: GimpUi.ProcedureDialog, arguments: list[args.Argument], names: list[str]) -> list[str]:
    """``names`` with, under each argument that has one, its caption (what 0 means)."""
    by_name = {a.name: a for a in arguments}
    filled = []
    for name in names:
        filled.append(name)
        if by_name[name].kind in ("int", "float"):
            number_widget(dialog, by_name[name])
        if by_name[name].caption:
            text = f"<small>{GLib.markup_escape_text(by_name[name].caption)}</small>"
            dialog.get_label(f"{name}-caption", text, True, False).set_xalign(0.0)
            filled.append(f"{name}-caption")
    return filled


def run_dialog(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    arguments: list[args.Argument],
    schema: dict[str, dict[str, Any]],
    engine: EngineConfig,
    image: Gimp.Image,
    layer: Gimp.Layer,
) -> bool:
    """Show the painting dialog; True when the person pressed OK (the config then holds their values)."""
    _, _, width, height = selection_bounds(image, layer)
    selected = not Gimp.Selection.is_empty(image)
    dialog = GimpUi.ProcedureDialog.new(procedure, config, TITLE)
    by_name = {a.name: a for a in arguments}
    folder = start_folder(config, image)
    parts = args.sections(arguments)
    nicks = args.nicks(arguments)

    def style_row(slot: int) -> str:
        """The slot's painting (a file, or an open image or layer), weight and region: the plug-in's
        own widgets (GIMP's would each need a mnemonic of their own, and letters run out)."""
        suffix = args.slot_suffix(slot)
        weight = by_name[f"style-weight{suffix}"]
        spin = GimpUi.prop_scale_entry_new(config, weight.name, weight.nick, 1.0, False, 0.0, 0.0)
        spin.set_increments(weight.step, weight.step * 10)
        spin.set_digits(max(0, -math.floor(math.log10(weight.step))))
        spin.set_size_request(WEIGHT_WIDTH, -1)
        region = by_name[f"style-region{suffix}"]
        regions = GimpUi.prop_drawable_chooser_new(config, region.name, region.nick)
        row = own_box(dialog, f"style-row{suffix}")
        row.set_orientation(Gtk.Orientation.HORIZONTAL)
        row.set_spacing(12)
        chooser = StyleChooser(config, by_name[f"style-file{suffix}"], folder)
        for widget in (chooser.widget, spin, regions):
            row.pack_start(widget, widget is chooser.widget, True, 0)
        row.pack_start(clear_button("No region: paint the rest", config, region.name), False, False, 0)
        opened = OpenChooser(config, by_name[f"style-image{suffix}"], by_name[f"style-layer{suffix}"])
        slot_box = dialog.fill_box(f"style-slot{suffix}", [f"style-row{suffix}"])
        slot_box.pack_start(opened.widget, False, False, 0)
        slot_box.show_all()
        return f"style-slot{suffix}"

    def section(title: str, names: list[str]) -> str:
        section_id = title.lower().replace(" ", "-")
        label = dialog.get_label(f"{section_id}-title", nicks[title], False, True)
        dialog.fill_box(f"{section_id}-box", names)
        expander = dialog.fill_expander(section_id, f"{section_id}-title", False, f"{section_id}-box")
        label.set_mnemonic_widget(expander)
        return section_id

    def estimate() -> str:
        side = args.paint_size(config.get_property("size"), width, height, engine.max_size)
        quality, steps = config.get_property("quality"), config.get_property("steps")
        line = estimate_line(engine, width, height, side, quality, steps, selected=selected)
        regions = [config.get_property(f"style-region{args.slot_suffix(s)}") for s in range(1, args.STYLE_SLOTS + 1)]
        return line.replace("Paints", "Paints at most", 1) if any(regions) else line

    basic = [name for name in parts[""] if not by_name[name].slot]
    dialog.fill(
        [
            style_row(1),
            *with_captions(dialog, arguments, basic),
            add_estimate(dialog, config, estimate),
            add_preview(dialog, config, arguments, schema, engine, image, layer),
            section(args.MORE_STYLES, [style_row(slot) for slot in range(2, args.STYLE_SLOTS + 1)]),
            section(args.ADVANCED, with_captions(dialog, arguments, parts[args.ADVANCED])),
        ]
    )
    accepted = dialog.run()
    dialog.destroy()
    return accepted


def run_refine_dialog(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    arguments: list[args.Argument],
    engine: EngineConfig,
    request: PaintingRequest,
) -> bool:
    """Show the refining dialog for ``request`` (as recorded); True when the person pressed OK."""
    dialog = GimpUi.ProcedureDialog.new(procedure, config, f"{TITLE}: Refine")
    area = request.area

    def estimate() -> str:
        steps = config.get_property("steps")
        return estimate_line(engine, area.width, area.height, request.size, request.quality, steps, refine=True)

    intro = f"Refines '{request.name}' ({request.iterations} iterations so far) at full size, from its pixels."
    dialog.get_label("intro", GLib.markup_escape_text(intro), True, False).set_xalign(0.0)
    names = [a.name for a in arguments]
    dialog.fill(["intro", *with_captions(dialog, arguments, names), add_estimate(dialog, config, estimate)])
    accepted = dialog.run()
    dialog.destroy()
    return accepted
