"""Pixels in and out of GIMP: the files the engine reads, the pictures it writes, the result.

Pixels go through files the plug-in writes and reads itself (:func:`write_png`, GdkPixbuf),
never through GIMP's file plug-ins: those show "Opening '…'" with GIMP's own Cancel in the image
window (which kills the plug-in) and warn on GIMP's console when they end. A style image file
the engine reads itself is handed over as it is (see ``painting``).

The image is touched once: the result is composed in a hidden image, then added as a new layer
(or, when refining, written into the result layer) in one undo step, once the engine's picture
is on disk. Nothing is shown in the image while the engine runs (the progress window shows the
picture forming), so a cancelled or failed run leaves no layer, undo step or change mark.
"""

from __future__ import annotations

import array
import contextlib
import os
import struct
import zlib
from collections.abc import Iterator
from typing import Any

from engine import PluginError
from gi.repository import GdkPixbuf, Gegl, Gimp, Gio, GLib

#: The parasite on a result layer that records how it was made (see ``painting``).
RECIPE = "style-core-recipe"
#: Babl formats of 8-bit pixels, by whether they hold alpha, and PNG's colour types for them.
FORMATS = {False: ("R'G'B' u8", 3, 2), True: ("R'G'B'A u8", 4, 6)}


def normalise(layer: Gimp.Layer) -> None:
    """Plain, visible, fully opaque normal layer without a mask: what an export or merge should see."""
    if layer.get_mask() is not None:
        layer.remove_mask(Gimp.MaskApplyMode.DISCARD)
    layer.set_opacity(100.0)
    layer.set_mode(Gimp.LayerMode.NORMAL)
    layer.set_composite_mode(Gimp.LayerCompositeMode.AUTO)
    layer.set_visible(True)


@contextlib.contextmanager
def scratch_image(
    width: int, height: int, base: Gimp.ImageBaseType = Gimp.ImageBaseType.RGB, precision: Any = None
) -> Iterator[Gimp.Image]:
    """A hidden image without undo (8-bit RGB unless told), deleted afterwards."""
    scratch = Gimp.Image.new_with_precision(width, height, base, precision or Gimp.Precision.U8_NON_LINEAR)
    scratch.undo_disable()
    try:
        yield scratch
    finally:
        scratch.delete()


def write_png(pixels: bytes, width: int, height: int, alpha: bool, path: str) -> None:
    """8-bit RGB(A) pixels, row by row, as a PNG file (written to a temporary name, then renamed)."""
    _, channels, colour_type = FORMATS[alpha]
    stride = width * channels
    rows = b"".join(b"\x00" + pixels[row * stride : (row + 1) * stride] for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 3)) + chunk(b"IEND", b"")
    partial = path + ".partial"
    with open(partial, "wb") as file:
        file.write(data)
    os.replace(partial, path)


def export_drawable(drawable: Gimp.Drawable, x: int, y: int, width: int, height: int, path: str) -> None:
    """The drawable's own pixels (no mask, opacity or mode) in the rectangle, as an 8-bit PNG."""
    alpha = drawable.has_alpha()
    rect = Gegl.Rectangle.new(x, y, width, height)
    pixels = drawable.get_buffer().get(rect, 1.0, FORMATS[alpha][0], Gegl.AbyssPolicy.NONE)
    write_png(pixels, width, height, alpha, path)


def export_area(layer: Gimp.Layer, area: Any, path: str) -> None:
    """Write the area of the layer (its own pixels) as an 8-bit RGB(A) PNG, whatever the image's type."""
    export_drawable(layer, area.x, area.y, area.width, area.height, path)


def export_visible(image: Gimp.Image, path: str) -> None:
    """Write what ``image`` shows (its visible layers merged) as an 8-bit RGB(A) PNG."""
    with scratch_image(image.get_width(), image.get_height()) as scratch:
        visible = Gimp.Layer.new_from_visible(image, scratch, "visible")
        scratch.insert_layer(visible, None, 0)
        export_drawable(visible, 0, 0, visible.get_width(), visible.get_height(), path)


def export_style(source: str, path: str) -> None:
    """Read a style image the engine can't (GIMP opens more formats) and write what it shows as a PNG.

    Only for such files: GIMP's loader shows "Opening '…'" in the image window meanwhile.
    """
    try:
        loaded = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(source))
    except Exception as exc:  # GLib.Error: GIMP's own message names the problem
        loaded, problem = None, f" ({getattr(exc, 'message', exc)})"
    else:
        problem = ""
    if loaded is None:
        raise PluginError(f"GIMP can't open the style image '{source}'{problem}. Choose another image.")
    try:
        export_visible(loaded, path)
    finally:
        loaded.delete()


def load_picture(path: str) -> GdkPixbuf.Pixbuf:
    """A PNG the engine wrote, read in this process (a :class:`PluginError` if it can't be)."""
    try:
        return GdkPixbuf.Pixbuf.new_from_file(path)
    except GLib.Error as exc:
        raise PluginError(f"The engine's picture {path} can't be read ({exc.message}).") from None


def layer_from_png(image: Gimp.Image, path: str, name: str) -> Gimp.Layer:
    """A new layer of ``image`` (not inserted) holding the 8-bit PNG at ``path``."""
    picture = load_picture(path)
    width, height, alpha = picture.get_width(), picture.get_height(), picture.get_has_alpha()
    grey = image.get_base_type() == Gimp.ImageBaseType.GRAY  # the pixels are converted as they are set
    kinds = {(False, False): "RGB_IMAGE", (False, True): "RGBA_IMAGE", (True, False): "GRAY_IMAGE"}
    kind = getattr(Gimp.ImageType, kinds.get((grey, alpha), "GRAYA_IMAGE"))
    layer = Gimp.Layer.new(image, name, width, height, kind, 100.0, Gimp.LayerMode.NORMAL)
    row = width * FORMATS[alpha][1]
    pixels = picture.read_pixel_bytes().get_data()
    stride = picture.get_rowstride()
    if stride != row:
        pixels = b"".join(pixels[y * stride : y * stride + row] for y in range(height))
    buffer = layer.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, width, height), FORMATS[alpha][0], pixels)
    buffer.flush()
    return layer


def write_mask(coverage: bytes, width: int, height: int, path: str) -> None:
    """8-bit coverage (row by row) as a greyscale picture the engine reads as a mask (binary PGM)."""
    with open(path, "wb") as file:
        file.write(b"P5\n%d %d\n255\n" % (width, height) + coverage)


def set_mask(layer: Gimp.Layer, coverage: bytes) -> None:
    """Give ``layer`` a layer mask holding ``coverage`` (8-bit, the layer's size, row by row)."""
    mask = layer.create_mask(Gimp.AddMaskType.BLACK)
    layer.add_mask(mask)
    buffer = mask.get_buffer()
    buffer.set(Gegl.Rectangle.new(0, 0, layer.get_width(), layer.get_height()), "Y u8", coverage)
    buffer.flush()
    mask.update(0, 0, layer.get_width(), layer.get_height())


def place(layer: Gimp.Layer, area: Any, x: int = 0, y: int = 0) -> bool:
    """Scale ``layer`` to the area (when the engine painted at another size) and put it over it, for a
    layer at ``x``, ``y``; True when it was scaled."""
    scaled = (layer.get_width(), layer.get_height()) != (area.width, area.height)
    if scaled:
        layer.scale(area.width, area.height, False)
    layer.set_offsets(x + area.x, y + area.y)
    return scaled


def insert_above(image: Gimp.Image, layer: Gimp.Layer, below: Gimp.Layer) -> None:
    image.insert_layer(layer, below.get_parent(), image.get_item_position(below))


@contextlib.contextmanager
def composed(source: Gimp.Layer, area: Any, path: str) -> Iterator[Gimp.Layer]:
    """The source with the engine's picture over the area, in a hidden image of the source's type:
    the source's alpha throughout, and its own pixels wherever no style paints."""
    image = source.get_image()
    if not (image.is_valid() and source.is_valid()):
        raise PluginError("The image or the layer was closed or deleted while it was being painted.")
    width, height = source.get_width(), source.get_height()
    with scratch_image(width, height, image.get_base_type(), image.get_precision()) as scratch:
        base = Gimp.Layer.new_from_drawable(source, scratch)
        scratch.insert_layer(base, None, 0)
        normalise(base)
        base.set_offsets(0, 0)
        painted = layer_from_png(scratch, path, "painted")
        scratch.insert_layer(painted, None, 0)
        if painted.has_alpha():  # opaque, so that the merge takes its colours wholly
            painted.curves_spline(Gimp.HistogramChannel.ALPHA, [0.0, 1.0, 1.0, 1.0])
        # The engine keeps the photo outside the masks at the size it paints at; scaled up, that
        # would be a blurred photo, so the layer's own pixels are kept through the masks here.
        if place(painted, area) and area.cover is not None:
            set_mask(painted, area.cover)
        painted.set_composite_mode(Gimp.LayerCompositeMode.CLIP_TO_BACKDROP)
        result = scratch.merge_down(painted, Gimp.MergeType.CLIP_TO_BOTTOM_LAYER)
        if not source.has_alpha() and result.has_alpha():
            result.flatten()  # merging adds alpha; the source had none (all opaque here)
        yield result


def attach_recipe(layer: Gimp.Layer, recipe: bytes) -> None:
    flags = Gimp.PARASITE_PERSISTENT | Gimp.PARASITE_UNDOABLE
    layer.attach_parasite(Gimp.Parasite.new(RECIPE, flags, list(memoryview(recipe).cast("b"))))


def read_recipe(layer: Gimp.Layer) -> bytes | None:
    parasite = layer.get_parasite(RECIPE)
    return None if parasite is None else array.array("b", parasite.get_data()).tobytes()


def add_result(image: Gimp.Image, source: Gimp.Layer, area: Any, path: str, name: str, recipe: bytes) -> None:
    """The engine's picture as a new layer above ``source``, with its size, offsets and alpha, in one
    undo step; the pixels where no style paints are the source's."""
    with composed(source, area, path) as result:
        layer = Gimp.Layer.new_from_drawable(result, image)
        layer.set_name(name)
        layer.set_offsets(*source.get_offsets()[1:])
        image.undo_group_start()
        try:
            insert_above(image, layer, source)
            attach_recipe(layer, recipe)
            image.set_selected_layers([layer])
        finally:
            image.undo_group_end()


def replace_area(target: Gimp.Layer, source: Gimp.Layer, area: Any, path: str, recipe: bytes) -> None:
    """The engine's picture over the area of ``target`` (a result of ``source``), in one undo step."""
    with composed(source, area, path) as result:
        if not target.is_valid():
            raise PluginError("The layer was deleted while it was being refined.")
        image = target.get_image()
        rect = Gegl.Rectangle.new(area.x, area.y, area.width, area.height)
        image.undo_group_start()
        try:
            shadow = target.get_shadow_buffer()
            result.get_buffer().copy(rect, Gegl.AbyssPolicy.NONE, shadow, rect)
            shadow.flush()
            target.merge_shadow(True)
            target.update(area.x, area.y, area.width, area.height)
            attach_recipe(target, recipe)
        finally:
            image.undo_group_end()
