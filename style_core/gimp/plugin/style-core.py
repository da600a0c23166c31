#!/usr/bin/env python3
"""Filters > Artistic > Neural Style Transfer…: repaint a layer in the style of a painting.

A GIMP 3 plug-in for style_core (Gatys et al. 2015: pixels optimised against VGG-19). GIMP's
Python has no torch, so the work runs in the Python environment that has style_core:
``style-core gimp install`` copies this folder to ``plug-ins/style-core/`` and writes beside it
``schema.json`` (the engine's settings), ``protocol.py`` (the engine's record format) and
``engine.json`` (its Python, weights, device, size cap and timings).

Two procedures: one paints the layer (within the selection, each style in its region) as a new
layer above it; the other refines such a result with more iterations, in place. Each is one undo
step. Modules: this file registers and runs them; ``arguments`` builds their arguments from the
schema and turns values back into engine options; ``dialog`` is the dialogs; ``regions`` turns the
selection and channels into masks; ``engine`` is the engine client; ``layers`` the pixels in and
out of GIMP; ``painting`` one run; ``progress`` the progress window.
"""

import os
import sys
import traceback

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gegl", "0.4")
gi.require_version("Gtk", "3.0")

import arguments as args  # noqa: E402 - after gi's versions are chosen
from engine import EngineConfig, PluginCancelled, PluginError  # noqa: E402
from gi.repository import Gimp, GimpUi, GLib, GObject  # noqa: E402

PAINT = "python-fu-neural-style-transfer"
REFINE = "python-fu-neural-style-transfer-refine"
HERE = os.path.dirname(os.path.abspath(__file__))
FLAGS = GObject.ParamFlags.READWRITE


def load_arguments(name: str) -> tuple[list, dict, EngineConfig]:
    """The procedure's arguments from the installed schema and engine facts (a PluginError if not installed)."""
    config = EngineConfig.load(HERE)
    try:
        schema = args.load_schema(HERE)
    except (OSError, ValueError, KeyError) as exc:
        raise PluginError(f"{os.path.join(HERE, args.SCHEMA_FILE)} can't be read ({exc}).") from None
    arguments = args.build_refine(schema) if name == REFINE else args.build(schema, config.max_size, config.device_kind)
    return arguments, schema, config


def add_argument(procedure: Gimp.Procedure, argument: args.Argument) -> None:
    """Declare one argument on ``procedure`` as :mod:`arguments` describes it."""
    name, nick, blurb = argument.name, argument.nick, argument.help
    if argument.kind == "file":
        procedure.add_file_argument(name, nick, blurb, Gimp.FileChooserAction.OPEN, True, None, FLAGS)
    elif argument.kind == "image":
        procedure.add_image_argument(name, nick, blurb, True, FLAGS)
    elif argument.kind == "layer":
        procedure.add_layer_argument(name, nick, blurb, True, FLAGS)
    elif argument.kind == "channel":
        procedure.add_channel_argument(name, nick, blurb, True, FLAGS)
    elif argument.kind == "int":
        low, high = int(argument.minimum), int(argument.maximum)
        procedure.add_int_argument(name, nick, blurb, low, high, int(argument.default), FLAGS)
    elif argument.kind == "float":
        procedure.add_double_argument(name, nick, blurb, argument.minimum, argument.maximum, argument.default, FLAGS)
    elif argument.kind == "choice":
        choice = Gimp.Choice.new()
        for index, (value, label) in enumerate(argument.choices):
            choice.add(value, index, label, "")
        procedure.add_choice_argument(name, nick, blurb, choice, argument.default, FLAGS)
    elif argument.kind == "boolean":
        procedure.add_boolean_argument(name, nick, blurb, argument.default, FLAGS)
    else:
        procedure.add_string_argument(name, nick, blurb, argument.default, FLAGS)


def failure(procedure: Gimp.Procedure, status: Gimp.PDBStatusType, message: str):
    error = GLib.Error.new_literal(Gimp.PlugIn.error_quark(), message, 0)
    return procedure.new_return_values(status, error)


def run(procedure, run_mode, image, drawables, config, data):
    import dialog  # GTK, only when run
    import painting
    import progress as progress_ui
    import protocol

    refine = procedure.get_name() == REFINE
    if len(drawables) != 1 or not isinstance(drawables[0], Gimp.Layer) or drawables[0].is_group():
        what = "the result layer to refine" if refine else "one layer"
        message = f"Select {what} (not a group, mask or channel)."
        return failure(procedure, Gimp.PDBStatusType.CALLING_ERROR, message)
    layer = drawables[0]
    progress = None
    try:
        arguments, schema, engine = load_arguments(procedure.get_name())
        if run_mode != Gimp.RunMode.NONINTERACTIVE:
            GimpUi.init("style-core")
        if run_mode == Gimp.RunMode.INTERACTIVE:
            if refine:  # what is refined is checked before the dialog, which estimates from it
                recorded = painting.refine_request(image, layer, args.values_of(config, arguments))
                shown = dialog.run_refine_dialog(procedure, config, arguments, engine, recorded)
            else:
                shown = dialog.run_dialog(procedure, config, arguments, schema, engine, image, layer)
            if not shown:
                raise PluginCancelled
        values = args.values_of(config, arguments)
        if refine:
            request = painting.refine_request(image, layer, values)
        else:
            request = painting.paint_request(image, layer, arguments, schema, engine, values)
        status = f"starting the engine… (about {protocol.format_seconds(request.estimate(engine))} in all)"
        if run_mode == Gimp.RunMode.NONINTERACTIVE:
            progress = progress_ui.PdbProgress(status)
        else:
            progress = progress_ui.ProgressWindow(request.headline(), status)
        painting.run(request, engine, {name: spec["label"] for name, spec in schema.items()}, progress)
    except PluginCancelled:
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
    except (PluginError, args.InvalidValue) as exc:
        return failure(procedure, Gimp.PDBStatusType.EXECUTION_ERROR, str(exc))
    except Exception as exc:  # a bug: say so in GIMP rather than crash the plug-in
        traceback.print_exc()
        return failure(
            procedure,
            Gimp.PDBStatusType.EXECUTION_ERROR,
            f"Neural Style Transfer failed unexpectedly ({type(exc).__name__}: {exc}); please report this bug.",
        )
    finally:
        if progress is not None:
            progress.close()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)


DOCUMENTATION = {
    PAINT: (
        "Neural Style Transfer…",
        "Repaint the layer in the style of a painting (neural style transfer)",
        "Optimises the layer's pixels so that their VGG-19 features keep the layer's content and take on the "
        "textures and colours of one or more style images (Gatys et al. 2015). Only the selection is repainted "
        "(its feathered edge blends), and each style may paint its own region (a channel). The result is a new "
        "layer above the source.",
    ),
    REFINE: (
        "Neural Style Transfer: Refine…",
        "Refine a Neural Style Transfer result with more iterations",
        "Runs the engine again on a result layer made by Neural Style Transfer, starting from its pixels, at "
        "full size only, with the same styles, regions and settings; the layer is updated in place.",
    ),
}


class NeuralStyleTransfer(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PAINT, REFINE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        label, blurb, help_text = DOCUMENTATION[name]
        procedure.set_menu_label(label)
        procedure.add_menu_path("<Image>/Filters/Artistic")
        procedure.set_documentation(
            blurb, help_text + " Runs style_core in the Python environment recorded by 'style-core gimp install'.", name
        )
        procedure.set_attribution("style_core contributors", "style_core contributors", "2025")
        try:
            arguments = load_arguments(name)[0]
        except PluginError:  # not installed: the procedure exists, and running it says what to do
            arguments = []
        for argument in arguments:
            add_argument(procedure, argument)
        return procedure


Gimp.main(NeuralStyleTransfer.__gtype__, sys.argv)
