"""Pixels in and out of GIMP: the region to paint, the files the engine reads, the preview, the result.

The image is touched only twice, and leaves a trace only once:

- the preview layer (optional) is added, updated and removed with the undo stack frozen and the
  image's clean state restored, so a cancelled or failed run leaves no undo step and does not mark
  a clean image as changed;
- the result is added in one undo group, opened only once the engine's picture is on disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from engine import PluginError
from gi.repository import Gegl, Gimp, Gio


@dataclass(frozen=True)
class Region:
    """The part of the layer to paint: ``x``, ``y`` (in the layer's coordinates), ``width`` x
    ``height`` pixels; ``selection`` when a selection limits it."""

    x: int
    y: int
    width: int
    height: int
    selection: bool


def region_of(image: Gimp.Image, layer: Gimp.Layer, min_side: int) -> Region:
    """The layer's part under the selection (all of it without one), checked against the engine's
    smallest side."""
    ok, x, y, width, height = layer.mask_intersect()
    if not ok:
        raise PluginError("The selection does not overlap the layer: select part of it, or nothing.")
    if min(width, height) < min_side:
        raise PluginError(
            f"The area to paint is {width}x{height} pixels; each side must be at least {min_side}. "
            "Select a larger area, or none."
        )
    return Region(x, y, width, height, not Gimp.Selection.is_empty(image))


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
def scratch_image(width: int, height: int) -> Iterator[Gimp.Image]:
    """A hidden 8-bit RGB image without undo, deleted afterwards."""
    scratch = Gimp.Image.new(width, height, Gimp.ImageBaseType.RGB)
    scratch.undo_disable()
    try:
        yield scratch
    finally:
        scratch.delete()


def export_region(layer: Gimp.Layer, region: Region, path: str) -> None:
    """Write the region of the layer as an 8-bit RGB(A) PNG, whatever the image's type."""
    with scratch_image(region.width, region.height) as scratch:
        copy = Gimp.Layer.new_from_drawable(layer, scratch)
        scratch.insert_layer(copy, None, 0)
        normalise(copy)
        copy.set_offsets(-region.x, -region.y)
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


def place(layer: Gimp.Layer, source: Gimp.Layer, region: Region) -> None:
    """Scale ``layer`` to the region (when the engine painted at another size) and put it over it."""
    if (layer.get_width(), layer.get_height()) != (region.width, region.height):
        layer.scale(region.width, region.height, False)
    _, off_x, off_y = source.get_offsets()
    layer.set_offsets(off_x + region.x, off_y + region.y)


def insert_above(image: Gimp.Image, layer: Gimp.Layer, below: Gimp.Layer) -> None:
    image.insert_layer(layer, below.get_parent(), image.get_item_position(below))


class Preview:
    """One preview layer above the source, its pixels replaced by each new preview; untracked."""

    NAME = "Neural Style Transfer (preview)"

    def __init__(self, image: Gimp.Image, source: Gimp.Layer, region: Region) -> None:
        self.image, self.source, self.region = image, source, region
        self.layer: Gimp.Layer | None = None

    def show(self, path: str) -> None:
        if not os.path.isfile(path):
            return
        with untracked(self.image):
            if self.layer is None:
                self.layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, self.image, gfile(path))
                self.layer.set_name(self.NAME)
                insert_above(self.image, self.layer, self.source)
                place(self.layer, self.source, self.region)
                if self.region.selection:
                    self.layer.add_mask(self.layer.create_mask(Gimp.AddMaskType.SELECTION))
            else:
                self._replace_pixels(path)
        Gimp.displays_flush()

    def _replace_pixels(self, path: str) -> None:
        width, height = self.region.width, self.region.height
        loaded = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, gfile(path))
        try:
            loaded.undo_disable()
            loaded.scale(width, height)
            source = loaded.get_layers()[0].get_buffer()
            target = self.layer.get_buffer()
            rect = Gegl.Rectangle.new(0, 0, width, height)
            source.copy(rect, Gegl.AbyssPolicy.NONE, target, rect)
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


def add_result(image: Gimp.Image, source: Gimp.Layer, region: Region, path: str, name: str) -> Gimp.Layer:
    """The engine's picture as a new layer above ``source`` with its size, offsets and alpha, in
    one undo step; the pixels outside the region are the source's."""
    if not (image.is_valid() and source.is_valid()):
        raise PluginError("The image or the layer was closed or deleted while it was being painted.")
    image.undo_group_start()
    created = []
    try:
        # A copy of the source supplies the exact alpha and the pixels outside the region; the
        # engine's picture is merged onto it, clipped to the copy's alpha.
        base = Gimp.Layer.new_from_drawable(source, image)
        insert_above(image, base, source)
        created.append(base)
        normalise(base)
        painted = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image, gfile(path))
        insert_above(image, painted, base)
        created.append(painted)
        place(painted, source, region)
        if painted.has_alpha():  # opaque, so that the merge takes its colours wholly
            painted.curves_spline(Gimp.HistogramChannel.ALPHA, [0.0, 1.0, 1.0, 1.0])
        painted.set_composite_mode(Gimp.LayerCompositeMode.CLIP_TO_BACKDROP)
        result = image.merge_down(painted, Gimp.MergeType.CLIP_TO_BOTTOM_LAYER)
        created.append(result)
        if not source.has_alpha() and result.has_alpha():
            result.flatten()  # merging adds alpha; the source had none (all opaque here)
        result.set_name(name)
        if region.selection:
            result.add_mask(result.create_mask(Gimp.AddMaskType.SELECTION))
        image.set_selected_layers([result])
        return result
    except Exception:
        for layer in created:  # leave the image as it was
            if layer.is_valid():
                image.remove_layer(layer)
        raise
    finally:
        image.undo_group_end()
