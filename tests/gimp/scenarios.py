"""Batch script for tests/test_gimp.py: runs inside GIMP 3 (python-fu-eval), not under pytest.

The test prepends ``PARAMS = {...}`` (paths of the input images, the output folder, the
installed plug-in's engine.json, a stand-in Python that interrupts the engine) and feeds the
whole text to ``gimp-console-3.0 -b -``. Each scenario builds a small, clean image, calls the
plug-in non-interactively, exports the pixels to compare as PNGs, and records what happened;
the findings go to ``PARAMS["out"]/results.json``. A failing scenario is recorded with its
traceback, so one problem does not hide the others.
"""

import json
import os
import shutil
import sys
import time
import traceback

from gi.repository import Gegl, Gimp, Gio

PARAMS = globals().get("PARAMS", {})
PROC_NAME = "python-fu-neural-style-transfer"
REFINE_NAME = "python-fu-neural-style-transfer-refine"
#: Images a scenario made besides its own, deleted at the end.
OTHERS = []
OUT = PARAMS.get("out", "/tmp")
#: One stage at the layer's own size (48x40); previews at steps 5 and 6 (a new layer, then in place).
QUICK = {"steps": 6}


def gfile(path):
    return Gio.File.new_for_path(path)


def describe(layer, image):
    _, x, y = layer.get_offsets()
    mask = layer.get_mask()
    return {
        "id": layer.get_id(),
        "name": layer.get_name(),
        "offsets": [x, y],
        "size": [layer.get_width(), layer.get_height()],
        "has_alpha": layer.has_alpha(),
        "type": layer.type().value_nick,
        "position": image.get_item_position(layer),
        "has_mask": mask is not None,
    }


def export_layer(layer, path):
    """The layer's own pixels (size and type kept, mask not applied) as a PNG."""
    image = layer.get_image()
    scratch = Gimp.Image.new(layer.get_width(), layer.get_height(), image.get_base_type())
    try:
        copy = Gimp.Layer.new_from_drawable(layer, scratch)
        scratch.insert_layer(copy, None, 0)
        if copy.get_mask() is not None:
            copy.remove_mask(Gimp.MaskApplyMode.DISCARD)
        copy.set_offsets(0, 0)
        Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, scratch, gfile(path), None)
    finally:
        scratch.delete()
    return path


def export_visible(image, path):
    """What the image looks like (all visible layers composited) as a PNG."""
    scratch = Gimp.Image.new(image.get_width(), image.get_height(), image.get_base_type())
    try:
        visible = Gimp.Layer.new_from_visible(image, scratch, "visible")
        scratch.insert_layer(visible, None, 0)
        Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, scratch, gfile(path), None)
    finally:
        scratch.delete()
    return path


def make_image(base_type, content_png, offsets, size=(80, 64)):
    """A canvas (80x64) with the content PNG as one layer at ``offsets``, marked clean."""
    image = Gimp.Image.new(*size, base_type)
    layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, gfile(content_png))
    image.insert_layer(layer, None, 0)
    layer.set_offsets(*offsets)
    layer.set_name("source")
    image.clean_all()
    return image, layer


def call(image, layer, procedure_name=PROC_NAME, **arguments):
    """Run a procedure non-interactively with named arguments; (status nick, error message)."""
    procedure = Gimp.get_pdb().lookup_procedure(procedure_name)
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [layer])
    for name, value in arguments.items():
        if name.startswith("style-file"):
            value = gfile(value)
        config.set_property(name, value)
    time.sleep(1.0)  # what GIMP's other processes print as the scenario's own exports end, before the mark
    sys.stderr.write(f"@@ start {procedure_name}\n")
    sys.stderr.flush()
    result = procedure.run(config)
    time.sleep(1.0)  # what GIMP's other processes print as the call ends, before the end mark
    sys.stderr.write(f"@@ end {procedure_name}\n")
    sys.stderr.flush()
    status = result.index(0)
    message = result.index(1) if status != Gimp.PDBStatusType.SUCCESS and result.length() > 1 else None
    return status.value_nick, (str(message) if message is not None else None)


def coverage(image, layer, path, drawable=None):
    """The selection's (or a channel's) coverage over the layer, 8-bit, as a PGM: what the tests
    call inside (255) and outside (0)."""
    drawable = drawable or image.get_selection()
    _, x, y = layer.get_offsets()
    rect = Gegl.Rectangle.new(x, y, layer.get_width(), layer.get_height())
    data = drawable.get_buffer().get(rect, 1.0, "Y u8", Gegl.AbyssPolicy.NONE)
    with open(path, "wb") as file:
        file.write(b"P5\n%d %d\n255\n" % (layer.get_width(), layer.get_height()) + data)
    return path


def select(image, rect, feather=0.0):
    image.select_rectangle(Gimp.ChannelOps.REPLACE, *rect)
    if feather:
        Gimp.Selection.feather(image, feather)


def save_channel(image, name, rect, feather=0.0):
    """A channel (a saved selection) of ``rect`` in image coordinates; the selection is cleared."""
    select(image, rect, feather)
    channel = Gimp.Selection.save(image)
    channel.set_name(name)
    Gimp.Selection.none(image)
    return channel


def recipe_of(layer):
    parasite = layer.get_parasite("style-core-recipe")
    return None if parasite is None else json.loads(bytes(value & 255 for value in parasite.get_data()))


def run_scenario(
    name, base_type, content_png, arguments, prepare=None, procedure=PROC_NAME, size=(80, 64), dirty=False
):
    """One call on a fresh image; ``prepare(image, layer)`` may set a selection and return more
    arguments (channels) and the layer to call on; with ``dirty`` its changes stay unsaved."""
    image, layer = make_image(base_type, content_png, offsets=(5, 7), size=size)
    try:
        target = layer
        if prepare is not None:
            extra, target = prepare(image, layer)
            arguments = {**arguments, **extra}
            if not dirty:
                image.clean_all()
        images_before = len(Gimp.get_images())
        before = [describe(item, image) for item in image.get_layers()]
        source_png = export_layer(layer, os.path.join(OUT, f"{name}-source-before.png"))
        visible_png = export_visible(image, os.path.join(OUT, f"{name}-visible-before.png"))
        dirty_before = image.is_dirty()
        status, message = call(image, target, procedure, **arguments)
        after = [describe(item, image) for item in image.get_layers()]
        record = {
            "status": status,
            "message": message,
            "dirty_before": dirty_before,
            "before": before,
            "after": after,
            "dirty_after": image.is_dirty(),
            "leftover_images": len(Gimp.get_images()) - images_before,
            "source_before": source_png,
            "source_after": export_layer(layer, os.path.join(OUT, f"{name}-source-after.png")),
            "visible_before": visible_png,
            "visible_after": export_visible(image, os.path.join(OUT, f"{name}-visible-after.png")),
            "coverage": coverage(image, layer, os.path.join(OUT, f"{name}-coverage.pgm")),
        }
        old_ids = {item["id"] for item in before}
        new_layers = [item for item in image.get_layers() if item.get_id() not in old_ids]
        if len(new_layers) == 1:
            record["result_png"] = export_layer(new_layers[0], os.path.join(OUT, f"{name}-result.png"))
            record["recipe"] = recipe_of(new_layers[0])
        return record
    finally:
        image.delete()


def feathered(rect, radius):
    def prepare(image, layer):
        select(image, rect, radius)
        return {}, layer

    return prepare


def two_regions(image, layer):
    """Left and right halves of the layer as channels, with soft edges, for two styles."""
    _, x, y = layer.get_offsets()
    half = layer.get_width() // 2
    left = save_channel(image, "left", (x, y, half, layer.get_height()), 4.0)
    right = save_channel(image, "right", (x + half, y, layer.get_width() - half, layer.get_height()), 4.0)
    return {"style-region": left, "style-region-2": right}, layer


def channel_outside_the_selection(image, layer):
    _, x, y = layer.get_offsets()
    right = save_channel(image, "right", (x + 30, y, 18, 40))
    select(image, (x, y, 20, 40))
    return {"style-region": right}, layer


def nowhere_to_paint(image, layer):
    _, x, y = layer.get_offsets()
    everything = save_channel(image, "everything", (x, y, layer.get_width(), layer.get_height()))
    return {"style-region": everything}, layer


def channel_of_another_image(image, layer):
    other = Gimp.Image.new(image.get_width(), image.get_height(), Gimp.ImageBaseType.RGB)
    channel = save_channel(other, "elsewhere", (0, 0, 20, 20))
    OTHERS.append(other)
    return {"style-region": channel}, layer


def refine_scenario(name, content_png, arguments, refine_steps):
    """Paint within a feathered selection, refine the result, then try to refine what can't be."""
    image, layer = make_image(Gimp.ImageBaseType.RGB, content_png, offsets=(5, 7))
    try:
        select(image, (12, 14, 30, 24), 4.0)
        record = {"coverage": coverage(image, layer, os.path.join(OUT, f"{name}-coverage.pgm"))}
        record["source"] = export_layer(layer, os.path.join(OUT, f"{name}-source.png"))
        record["paint"] = call(image, layer, PROC_NAME, **arguments)
        [result] = [item for item in image.get_layers() if item.get_id() != layer.get_id()]
        record["first"] = export_layer(result, os.path.join(OUT, f"{name}-first.png"))
        record["first_recipe"] = recipe_of(result)
        Gimp.Selection.none(image)  # refining needs no selection: the masks are in the recipe
        image.clean_all()
        record["refine"] = call(image, result, REFINE_NAME, steps=refine_steps, preview=True)
        record["refined"] = export_layer(result, os.path.join(OUT, f"{name}-refined.png"))
        record["refined_recipe"] = recipe_of(result)
        record["layers_after"] = [describe(item, image) for item in image.get_layers()]
        record["dirty_after_refine"] = image.is_dirty()
        record["not_a_result"] = call(image, layer, REFINE_NAME, steps=2)
        image.remove_layer(layer)
        record["source_gone"] = call(image, result, REFINE_NAME, steps=2)
        return record
    finally:
        image.delete()


def describe_argument(spec):
    """A procedure argument as GIMP holds it: name, label, help, type, range, default, choices."""
    record = {"name": spec.name, "nick": spec.get_nick(), "blurb": spec.get_blurb(), "type": spec.value_type.name}
    for field in ("minimum", "maximum", "default_value"):
        if hasattr(spec, field):
            value = getattr(spec, field)
            record[field] = value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
    if isinstance(spec, Gimp.ParamChoice):
        choice = Gimp.param_spec_choice_get_choice(spec)
        record["choices"] = [[nick, choice.get_label(nick)] for nick in choice.list_nicks()]
        record["default_value"] = Gimp.param_spec_choice_get_default(spec)
    return record


def registration():
    procedures = {}
    for name in (PROC_NAME, REFINE_NAME):
        procedure = Gimp.get_pdb().lookup_procedure(name)
        procedures[name] = procedure is not None and {
            "menu_paths": list(procedure.get_menu_paths()),
            "menu_label": procedure.get_menu_label(),
            "image_types": procedure.get_image_types(),
            "arguments": [describe_argument(spec) for spec in procedure.get_arguments()],
        }
    return procedures


def with_engine_python(python, function):
    """Run ``function`` while the installed plug-in's engine.json names ``python``."""
    config = PARAMS["engine_json"]
    saved = config + ".saved"
    shutil.copyfile(config, saved)
    try:
        with open(saved, encoding="utf-8") as file:
            engine = json.load(file)
        with open(config, "w", encoding="utf-8") as file:
            json.dump({**engine, "python": python}, file)
        return function()
    finally:
        shutil.move(saved, config)


def plugin():
    """The installed plug-in's modules, imported here, in GIMP's Python: (arguments, engine, painting)."""
    folder = os.path.dirname(PARAMS["engine_json"])
    if folder not in sys.path:
        sys.path.insert(0, folder)
    import arguments
    import engine
    import painting

    return arguments, engine, painting


class Recording:
    """A progress that records what it is told, when, and how many layers the image has then."""

    shows_pictures = True

    def __init__(self, image):
        self.image, self.updates, self.pictures, self.started = image, [], [], time.monotonic()

    def update(self, fraction, text):
        self.updates.append([time.monotonic() - self.started, fraction, text, len(self.image.get_layers())])

    def pulse(self):
        pass

    def check(self):
        pass

    def show_picture(self, path):
        self.pictures.append(path)


def request_for(image, layer, **values):
    """The plug-in's painting request for ``layer`` with its arguments' defaults and ``values``."""
    arguments, engine, painting = plugin()
    folder = os.path.dirname(PARAMS["engine_json"])
    config = engine.EngineConfig.load(folder)
    schema = arguments.load_schema(folder)
    built = arguments.build(schema, config.max_size, config.device_kind)
    chosen = {argument.name: argument.default for argument in built} | values
    request = painting.paint_request(image, layer, built, schema, config, chosen)
    return request, config, {name: spec["label"] for name, spec in schema.items()}


def cadence():
    """painting.run with records held back 2.5 s each: what the progress is told, and when."""
    _, _, painting = plugin()
    image, layer = make_image(Gimp.ImageBaseType.RGB, PARAMS["content_rgb"], offsets=(5, 7))
    try:
        request, config, labels = request_for(image, layer, **{"style-file": PARAMS["style"], "steps": 3})
        progress = Recording(image)
        layers_before = len(image.get_layers())

        def paint():
            fresh = painting.EngineConfig.load(os.path.dirname(PARAMS["engine_json"]))
            painting.run(request, fresh, labels, progress)

        with_engine_python(PARAMS["slow_python"], paint)
        return {
            "estimate": request.estimate(config),
            "updates": progress.updates,
            "pictures": progress.pictures,
            "layers_before": layers_before,
            "layers_after": len(image.get_layers()),
        }
    finally:
        image.delete()


def draft():
    """The dialog's Preview: painting.draft on a layer bigger than a draft, timed."""
    _, _, painting = plugin()
    image, layer = make_image(Gimp.ImageBaseType.RGB, PARAMS["content_wide"], offsets=(0, 0), size=(96, 64))
    try:
        layer.scale(1024, 683, False)  # much bigger than DRAFT_SIDE: the draft is smaller than the layer
        image.resize_to_layers()
        image.clean_all()
        request, config, labels = request_for(image, layer, **{"style-file": PARAMS["style"], "quality": "draft"})
        before = [describe(item, image) for item in image.get_layers()]
        path = os.path.join(OUT, "draft.png")
        started = time.monotonic()
        painting.draft(request, config, labels, Recording(image), path)
        return {
            "seconds": time.monotonic() - started,
            "estimate": painting.draft_request(request).estimate(config),
            "full_estimate": request.estimate(config),
            "draft": path,
            "draft_side": painting.DRAFT_SIDE,
            "layer_size": [layer.get_width(), layer.get_height()],
            "before": before,
            "after": [describe(item, image) for item in image.get_layers()],
            "dirty_after": image.is_dirty(),
        }
    finally:
        image.delete()


def open_painting(scenario_name, argument):
    """Paint with the style taken from an open image (``style-image``) or its layer (``style-layer``)."""
    painting_image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, gfile(PARAMS["style"]))
    OTHERS.append(painting_image)
    [painting_layer] = painting_image.get_layers()
    if argument == "style-layer":  # an image goes by its only layer's name, here the file's
        painting_layer.set_name("starry")
    source = painting_image if argument == "style-image" else painting_layer
    return run_scenario(scenario_name, Gimp.ImageBaseType.RGB, PARAMS["content_rgba"], {argument: source, **QUICK})


def modified_then_cancelled():
    """A cancelled run on an image with unsaved changes: they stay, and so does the change mark."""

    def prepare(image, layer):
        image.undo_group_start()
        layer.set_name("source")  # a change, in an undo step
        layer.set_offsets(5, 7)
        image.undo_group_end()
        return {}, layer

    record = with_engine_python(
        PARAMS["interrupting_python"],
        lambda: run_scenario(
            "modified_cancelled",
            Gimp.ImageBaseType.RGB,
            PARAMS["content_rgba"],
            {"style-file": PARAMS["style"], "steps": 40},
            prepare=prepare,
            dirty=True,
        ),
    )
    return record


def main():
    rgb, grey = Gimp.ImageBaseType.RGB, Gimp.ImageBaseType.GRAY
    style = {"style-file": PARAMS["style"], **QUICK}
    # From noise, so that the palettes show within a few iterations.
    palettes = {"style-file": PARAMS["warm"], "style-file-2": PARAMS["cold"], "steps": 12, "start": "noise"}
    scenarios = {
        "registration": registration,
        "rgba": lambda: run_scenario("rgba", rgb, PARAMS["content_rgba"], style),
        "grey": lambda: run_scenario(
            "grey", grey, PARAMS["content_rgb"], {**style, "preview": False, "style-strength": 3.0, "steps": 20}
        ),
        "feathered": lambda: run_scenario(
            "feathered", rgb, PARAMS["content_wide"], style, prepare=feathered((30, 20, 30, 24), 6.0), size=(112, 80)
        ),
        "upscaled": lambda: run_scenario(  # painted at 32 px, scaled up, merged through the mask
            "upscaled", rgb, PARAMS["content_rgb"], {**style, "size": 32}, prepare=feathered((14, 16, 26, 22), 6.0)
        ),
        "two_styles": lambda: run_scenario(
            "two_styles",
            rgb,
            PARAMS["content_rgb"],
            {
                **style,
                "style-file-2": PARAMS["style2"],
                "style-weight-2": 0.5,
                "preserve-colors": "luminance",
                "content-layers": "relu3_1, relu4_2",
                "style-loss": "w2",
            },
            prepare=feathered((14, 16, 26, 22), 6.0),
        ),
        "regions": lambda: run_scenario(
            "regions", rgb, PARAMS["content_regions"], palettes, prepare=two_regions, size=(112, 80)
        ),
        "refine": lambda: refine_scenario("refine", PARAMS["content_rgb"], style, refine_steps=5),
        "unknown_layer": lambda: run_scenario(
            "unknown_layer", rgb, PARAMS["content_rgba"], {**style, "style-layers": "relu1_1 relu9_9"}
        ),
        "missing_style": lambda: run_scenario(
            "missing_style", rgb, PARAMS["content_rgba"], {**style, "style-file": PARAMS["missing"]}
        ),
        "corrupt_style": lambda: run_scenario(
            "corrupt_style", rgb, PARAMS["content_rgba"], {**style, "style-file": PARAMS["corrupt"]}
        ),
        "region_of_another_image": lambda: run_scenario(
            "region_of_another_image", rgb, PARAMS["content_rgb"], style, prepare=channel_of_another_image
        ),
        "region_outside_the_selection": lambda: run_scenario(
            "region_outside_the_selection", rgb, PARAMS["content_rgb"], style, prepare=channel_outside_the_selection
        ),
        "nowhere_to_paint": lambda: run_scenario(
            "nowhere_to_paint",
            rgb,
            PARAMS["content_rgb"],
            {**style, "style-file-2": PARAMS["style2"]},
            prepare=nowhere_to_paint,
        ),
        "missing_python": lambda: with_engine_python(
            "/nonexistent/bin/python",
            lambda: run_scenario("missing_python", rgb, PARAMS["content_rgba"], style),
        ),
        "open_image": lambda: open_painting("open_image", "style-image"),
        "open_layer": lambda: open_painting("open_layer", "style-layer"),
        "cadence": cadence,
        "draft": draft,
        "modified_cancelled": modified_then_cancelled,
        "cancelled": lambda: with_engine_python(
            PARAMS["interrupting_python"],
            lambda: run_scenario("cancelled", rgb, PARAMS["content_rgba"], {**style, "steps": 40}),
        ),
    }
    results = {}
    for name, scenario in scenarios.items():
        if PARAMS.get("only") and name not in PARAMS["only"]:
            continue
        try:
            results[name] = scenario()
        except Exception:
            results[name] = {"exception": traceback.format_exc()}
    for image in OTHERS:
        image.delete()
    with open(os.path.join(OUT, "results.json"), "w", encoding="utf-8") as file:
        json.dump(results, file, indent=2)


main()
