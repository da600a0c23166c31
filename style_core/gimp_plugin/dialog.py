"""The dialog: GIMP's procedure dialog laid out from the arguments, with the plug-in's style choosers.

- Each style image sits beside its weight. GIMP 3.0's file widget offers no file filter, no
  preview and no starting folder (its file dialog opens on Recent), so the style choosers are the
  plug-in's own: a file button with an image filter, a preview of the painting, and a start in the
  folder of the last style image, else the image's folder, else the Pictures folder.
- The meaning of 0 (size, iterations) is written under the field.
- The estimated time, from the timings measured at install, follows the settings as they change.
- Advanced settings sit in a collapsed section, the second and third style in another.
"""

from __future__ import annotations

import math
import os
from typing import Any

import arguments as args
import protocol
from engine import EngineConfig
from gi.repository import GdkPixbuf, Gimp, GimpUi, GLib, Gtk
from layers import Region
from progress import TITLE

PREVIEW_SIDE = 160
#: Ranges wider than this get a labelled spin button: a slider over them is useless.
SLIDER_MAX_RANGE = 100_000
#: Width in pixels of a style's weight, beside its file button.
WEIGHT_WIDTH = 220


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
            clear = Gtk.Button.new_from_icon_name("edit-clear", Gtk.IconSize.BUTTON)
            clear.set_tooltip_text("Leave this style out")
            clear.connect("clicked", lambda *_: config.set_property(self.name, None))
            self.widget.pack_start(clear, False, False, 0)
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


class Estimate:
    """The line under the settings: the size the engine paints at and about how long it takes."""

    def __init__(
        self, dialog: GimpUi.ProcedureDialog, config: Gimp.ProcedureConfig, engine: EngineConfig, region: Region
    ):
        self.config, self.engine, self.region = config, engine, region
        self.label = dialog.get_label("estimate", "", True, False)
        self.label.set_xalign(0.0)
        self.label.set_line_wrap(True)
        self.label.set_max_width_chars(70)
        self.update()
        config.connect("notify", lambda *_: self.update())

    def update(self) -> None:
        region = self.region
        side = args.paint_size(self.config.get_property("size"), region.width, region.height, self.engine.max_size)
        width, height = args.output_dimensions(region.width, region.height, side)
        seconds = self.engine.estimate_seconds(
            self.config.get_property("quality"), self.config.get_property("steps"), width, height
        )
        scaled = " (the result is scaled to fit the layer)" if side != max(region.width, region.height) else ""
        self.label.set_markup(
            f"Paints {width}x{height} px{scaled}: about <b>{protocol.format_seconds(seconds)}</b> on this "
            f"computer's {self.engine.device_kind} (estimated from a test run at install time)."
        )


def run_dialog(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    arguments: list[args.Argument],
    engine: EngineConfig,
    image: Gimp.Image,
    region: Region,
) -> bool:
    """Show the dialog; True when the person pressed OK (the config then holds their values)."""
    dialog = GimpUi.ProcedureDialog.new(procedure, config, TITLE)
    by_name = {a.name: a for a in arguments}
    folder = start_folder(config, image)
    widgets = {a.name: number_widget(dialog, a) for a in arguments if a.kind in ("int", "float")}

    def with_captions(names: list[str]) -> list[str]:
        filled = []
        for name in names:
            filled.append(name)
            caption = by_name[name].caption
            if caption:
                text = f"<small>{GLib.markup_escape_text(caption)}</small>"
                dialog.get_label(f"{name}-caption", text, True, False).set_xalign(0.0)
                filled.append(f"{name}-caption")
        return filled

    def style_row(slot: int) -> str:
        suffix = args.slot_suffix(slot)
        row_id = f"style-row{suffix}"
        row = dialog.fill_box(row_id, [f"style-weight{suffix}"])
        row.set_orientation(Gtk.Orientation.HORIZONTAL)
        row.set_spacing(12)
        widgets[f"style-weight{suffix}"].set_size_request(WEIGHT_WIDTH, -1)
        chooser = StyleChooser(config, by_name[f"style-file{suffix}"], folder)
        row.pack_start(chooser.widget, True, True, 0)
        row.reorder_child(chooser.widget, 0)
        return row_id

    def section(section_id: str, title: str, names: list[str]) -> str:
        nick = args.section_nicks(arguments)[title]
        label = dialog.get_label(f"{section_id}-title", nick, False, True)
        dialog.fill_box(f"{section_id}-box", names)
        expander = dialog.fill_expander(section_id, f"{section_id}-title", False, f"{section_id}-box")
        label.set_mnemonic_widget(expander)
        return section_id

    parts = args.layout(arguments)
    styles = [style_row(1)]
    more = [style_row(slot) for slot in range(2, args.STYLE_SLOTS + 1)]
    basic = [name for name in parts.main if not by_name[name].slot]
    Estimate(dialog, config, engine, region)
    dialog.fill(
        [
            *styles,
            *with_captions(basic),
            "estimate",
            section("more-styles", args.MORE_STYLES, more),
            section("advanced", args.ADVANCED, with_captions(parts.advanced)),
        ]
    )
    accepted = dialog.run()
    dialog.destroy()
    return accepted
