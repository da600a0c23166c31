"""Where each style paints: the selection and the styles' channels, as masks for the engine.

The selection is a real mask: its values, feathered edges included, go to the engine (``--mask``),
which paints only there, measures the photo's statistics there, and keeps the photo's pixels
wherever no mask covers. With channels (saved selections) as the styles' regions:

- a style with a channel paints that channel, within the selection if there is one (the smaller
  of the two values, GIMP's Intersect);
- the styles without a channel share the rest of the selection (of the layer, without one): what
  no channel covers (GIMP's Subtract). With no channel at all, that is the whole selection.

Styles that share a region divide it by their weights, so the masks add up to the region: the
photo is kept exactly where the region ends, and each style counts by its weight (the engine
weighs a region's statistics by its mask's mass).

The arithmetic is GIMP's channel operations in a hidden linear 8-bit image, where a channel's
stored value is its coverage. The selection and the channels are read as coverage (``Y u8``), so
a channel saved from a selection gives back that selection.

The engine is given the regions' bounds and a margin of context around them, within the layer, so
that the painting near a region's edge sees what surrounds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from arguments import Style, numbered
from engine import PluginError
from gi.repository import Gegl, Gimp
from layers import scratch_image

#: The margin of context around the regions: this share of their long side, at least MIN_CONTEXT px.
CONTEXT, MIN_CONTEXT = 1 / 8, 16


@dataclass(frozen=True)
class Area:
    """The part of a layer the engine paints: ``x``, ``y`` in the layer's coordinates, ``width`` x
    ``height`` pixels. ``masks``: one per style, 8-bit coverage row by row (``width * height``
    bytes), or None to paint all of it; ``cover``: where any style paints (their sum, up to 255)."""

    x: int
    y: int
    width: int
    height: int
    masks: tuple[bytes, ...] | None = None
    cover: bytes | None = None


def with_context(layer: Gimp.Layer, x: int, y: int, width: int, height: int) -> tuple[int, int, int, int]:
    """The rectangle grown by the margin of context, within the layer."""
    margin = max(MIN_CONTEXT, round(CONTEXT * max(width, height)))
    left, top = max(0, x - margin), max(0, y - margin)
    return (
        left,
        top,
        min(layer.get_width(), x + width + margin) - left,
        min(layer.get_height(), y + height + margin) - top,
    )


def selection_bounds(image: Gimp.Image, layer: Gimp.Layer) -> tuple[int, int, int, int]:
    """The selection's bounds on the layer with their context (all of the layer without a selection)."""
    ok, x, y, width, height = layer.mask_intersect()
    if not ok:
        raise PluginError("The selection does not overlap the layer: select part of it, or nothing.")
    return (x, y, width, height) if Gimp.Selection.is_empty(image) else with_context(layer, x, y, width, height)


def area_of(image: Gimp.Image, layer: Gimp.Layer, styles: list[Style], min_side: int) -> Area:
    """The area and masks that paint ``styles`` on ``layer`` (see the module's docstring).

    Raises :class:`PluginError` for a channel of another image, a style whose region is empty,
    and an area smaller than ``min_side``.
    """
    x, y, width, height = selection_bounds(image, layer)
    selected = not Gimp.Selection.is_empty(image)
    if not selected and not any(style.region for style in styles):
        return checked(Area(x, y, width, height), min_side)
    for style in styles:
        if style.region is not None and style.region.get_image().get_id() != image.get_id():
            raise PluginError(
                f"'{numbered('Region', style.slot)}' is the channel '{style.region.get_name()}' of another image: "
                "choose a channel of this image, or none."
            )
    _, layer_x, layer_y = layer.get_offsets()

    def coverage(drawable: Gimp.Drawable) -> bytes:
        _, dx, dy = drawable.get_offsets()
        rect = Gegl.Rectangle.new(layer_x + x - dx, layer_y + y - dy, width, height)
        return drawable.get_buffer().get(rect, 1.0, "Y u8", Gegl.AbyssPolicy.NONE)

    with scratch_image(width, height, Gimp.ImageBaseType.GRAY, Gimp.Precision.U8_LINEAR) as scratch:

        def channel(data: bytes) -> Gimp.Channel:
            made = Gimp.Channel.new(scratch, "region", width, height, 100.0, Gegl.Color.new("black"))
            scratch.insert_channel(made, None, 0)
            buffer = made.get_buffer()
            buffer.set(Gegl.Rectangle.new(0, 0, width, height), "Y u8", data)
            buffer.flush()
            return made

        base = coverage(image.get_selection()) if selected else b"\xff" * (width * height)
        selection = channel(base) if selected else None
        rest, cover = channel(base), channel(bytes(width * height))
        regions = []
        for style in styles:
            if style.region is None:
                regions.append(rest)
                continue
            region = channel(coverage(style.region))
            if selection is not None:
                region.combine_masks(selection, Gimp.ChannelOps.INTERSECT, 0, 0)
            rest.combine_masks(region, Gimp.ChannelOps.SUBTRACT, 0, 0)
            cover.combine_masks(region, Gimp.ChannelOps.ADD, 0, 0)
            regions.append(region)
        if rest in regions:
            cover.combine_masks(rest, Gimp.ChannelOps.ADD, 0, 0)
        scratch.select_item(Gimp.ChannelOps.REPLACE, cover)
        _, painted, x1, y1, x2, y2 = Gimp.Selection.bounds(scratch)
        bounds = with_context(layer, x + x1, y + y1, x2 - x1, y2 - y1) if painted else (x, y, width, height)

        def crop(made: Gimp.Channel) -> bytes:
            rect = Gegl.Rectangle.new(bounds[0] - x, bounds[1] - y, bounds[2], bounds[3])
            return made.get_buffer().get(rect, 1.0, "Y u8", Gegl.AbyssPolicy.NONE)

        shared = sum(style.weight for style, region in zip(styles, regions, strict=True) if region is rest)
        masks = []
        for style, region in zip(styles, regions, strict=True):
            mask = crop(region)
            if region is rest and style.weight != shared:  # its share of the rest, by weight
                mask = mask.translate(bytes(round(value * style.weight / shared) for value in range(256)))
            if mask.count(0) == len(mask):
                raise empty_region(style, selected)
            masks.append(mask)
        return checked(Area(*bounds, masks=tuple(masks), cover=crop(cover)), min_side)


def empty_region(style: Style, selected: bool) -> PluginError:
    where = "the selection" if selected else "the layer"
    if style.region is not None:
        return PluginError(
            f"'{numbered('Region', style.slot)}', the channel '{style.region.get_name()}', does not overlap "
            f"{where}: choose another channel, or none."
        )
    return PluginError(
        f"'{numbered('Style image', style.slot)}' has nowhere to paint: the other styles' channels cover all of "
        f"{where}. Give it a channel under '{numbered('Region', style.slot)}', or leave it out."
    )


def checked(area: Area, min_side: int) -> Area:
    if min(area.width, area.height) < min_side:
        raise PluginError(
            f"The area to paint is {area.width}x{area.height} pixels; each side must be at least {min_side}. "
            "Select a larger area, or none."
        )
    return area
