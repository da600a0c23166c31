"""Pixels in and out of GIMP: the files the engine reads, the preview, the result.

The image is touched only twice, and leaves a trace only once:

- the preview layer (optional) is added, updated and removed with the undo stack frozen and the
  image's clean state restored, so a cancelled or failed run leaves no undo step and does not mark
  a clean image as changed;
- the result is composed in a hidden image, then added as a new layer (or, when refining, written
  into the result layer) in one undo step, once the engine's picture is on disk.
"""

from __future__ import annotations

import array
import contextlib
import os
from collections.abc import Iterator
from typing import Any

from engine import PluginError
from gi.repository import Gegl, Gimp, Gio

#: The parasite on a result layer that records how it was made (see ``painting``).
RECIPE = "style-core-recipe"


def gfile(path: str) -> Gio.File:
    return Gio.File.new_for_path(path)


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


def export_area(layer: Gimp.Layer, area: Any, path: str) -> None:
    """Write the area of the layer as an 8-bit RGB(A) PNG, whatever the image's type."""
    with scratch_image(area.width, area.height) as scratch:
        copy = Gimp.Layer.new_from_drawable(layer, scratch)
        scratch.insert_layer(copy, None, 0)
        normalise(copy)
        copy.set_offsets(-area.x, -area.y)
        copy.resize_to_image_size()
        if not Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, scratch, gfile(path), None):
            raise PluginError("GIMP could not export the layer for the engine.")


def export_style(source: str, path: str) -> None:
    """Read a style image with GIMP (any format GIMP opens) and write what it shows as an 8-bit RGB PNG."""
    try:
        loaded = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, gfile(source))
    except Exception as exc:  # GLib.Error: GIMP's own message names the problem
        loaded, problem = None, f" ({getattr(exc, 'message', exc)})"
    else:
        problem = ""
    if loaded is None:
        raise PluginError(f"GIMP can't open the style image '{source}'{problem}. Choose another image.")
    try:
        with scratch_image(loaded.get_width(), loaded.get_height()) as scratch:
            scratch.insert_layer(Gimp.Layer.new_from_visible(loaded, scratch, "style"), None, 0)
            if not Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, scratch, gfile(path), None):
                raise PluginError(f"GIMP could not convert the style image '{source}' for the engine.")
    finally:
        loaded.delete()


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


@contextlib.contextmanager
def untracked(image: Gimp.Image) -> Iterator[None]:
    """Changes that leave no undo step and, if the image was clean, leave it clean.

    A frozen undo stack records nothing but still marks the image as changed, hence the
    ``clean_all``. It runs only when the image was clean just before this change, so an edit the
    person makes while the engine runs keeps the image marked as changed.
    """
    was_clean = not image.is_dirty()
    image.undo_freeze()
    try:
        yield
    finally:
        image.undo_thaw()
        if was_clean:
            image.clean_all()


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


class Preview:
    """One preview layer over the area of ``above``, its pixels replaced by each new preview; untracked."""

    NAME = "Neural Style Transfer (preview)"

    def __init__(self, image: Gimp.Image, above: Gimp.Layer, area: Any) -> None:
        self.image, self.above, self.area = image, above, area
        self.layer: Gimp.Layer | None = None

    def show(self, path: str) -> None:
        if not os.path.isfile(path):
            return
        with untracked(self.image):
            if self.layer is None:
                self.layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, self.image, gfile(path))
                self.layer.set_name(self.NAME)
                insert_above(self.image, self.layer, self.above)
                place(self.layer, self.area, *self.above.get_offsets()[1:])
                if self.area.cover is not None:
                    set_mask(self.layer, self.area.cover)
            else:
                self._replace_pixels(path)
        Gimp.displays_flush()

    def _replace_pixels(self, path: str) -> None:
        width, height = self.area.width, self.area.height
        loaded = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, gfile(path))
        try:
            loaded.undo_disable()
            loaded.scale(width, height)
            rect = Gegl.Rectangle.new(0, 0, width, height)
            target = self.layer.get_buffer()
            loaded.get_layers()[0].get_buffer().copy(rect, Gegl.AbyssPolicy.NONE, target, rect)
            target.flush()
            self.layer.update(0, 0, width, height)
        finally:
            loaded.delete()

    def remove(self) -> None:
        if self.layer is not None and self.layer.is_valid():
            with untracked(self.image):
                self.image.remove_layer(self.layer)
            Gimp.displays_flush()
        self.layer = None


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
        painted = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, scratch, gfile(path))
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
