"""Regions: which part of the photo each painting repaints, painted on the photo or given as masks.

The page shows the photo in an image editor whose brush has one colour per painting slot
(:data:`COLOURS`: red for painting 1, blue for 2, yellow for 3) and an eraser. Each slot's
mask is the part painted in its colour, a greyscale picture of the photo's size (white = this
painting, black = not); where nothing is painted the photo is kept as it is. A mask may also be
uploaded per slot (the API's ``mask_1`` .. ``mask_3``). With no region at all, every painting
repaints the whole photo, blended by its weight.

The rules, each refused in one line: once any region is given, every painting needs one (else
"painting 2 has no region"); a region needs its painting; a slot takes a painted region or an
uploaded mask, not both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import gradio as gr
import numpy as np
import PIL.Image
from gradio.data_classes import FileData
from PIL import ImageOps

from .controls import SLOTS
from .limits import Limits
from .messages import visitor_error


@dataclass(frozen=True)
class Colour:
    """The brush colour of one painting slot."""

    name: str  #: as the page names it ("red")
    rgb: tuple[int, int, int]

    @property
    def css(self) -> str:
        return f"rgb({self.rgb[0]}, {self.rgb[1]}, {self.rgb[2]})"


#: The brush colour of each painting slot (1-based): far apart, so that each painted pixel is
#: told by its nearest colour.
COLOURS: dict[int, Colour] = {
    1: Colour("red", (220, 50, 47)),
    2: Colour("blue", (38, 139, 210)),
    3: Colour("yellow", (230, 190, 0)),
}
#: The brush's opacity, so that the photo shows through the paint. A layer's alpha is this
#: where painted once; a mask is the alpha over it (at most 1).
BRUSH_OPACITY = 0.6
#: The long side of the photo in the editor, pixels (its masks are scaled to the photo's size).
EDITOR_SIDE = 768
#: The editor's layers: one, painted in every slot's colour (``layers=False``).
EDITOR_LAYERS = 1
#: The brush's radius in the editor's pixels: a stroke about 1/12 of its side wide, a region in a few strokes.
BRUSH_RADIUS = 32

REGIONS_PARAMETER = (
    "regions",
    "the regions painted on the page's editor (an ImageEditor value: the photo with one layer painted "
    + ", ".join(f"{c.name} for painting {slot}" for slot, c in COLOURS.items())
    + "); scripts pass mask_1 .. mask_3 instead",
)
MASK_PARAMETERS = tuple(
    (
        f"mask_{slot}",
        f"where painting {slot} repaints the photo (a greyscale image of the photo's size: white = painting {slot}, "
        "black = not, grey blends); the photo is kept where no mask covers. With masks, every painting needs one "
        "and the style_blend weights are not used",
    )
    for slot in range(1, SLOTS + 1)
)

LEGEND = (
    "Paint over the photo where each painting goes: "
    + " · ".join(
        f'<span style="color: {c.css}">■</span> **{c.name}** for painting {slot}' for slot, c in COLOURS.items()
    )
    + ". The rest of the photo is kept. Nothing painted: each painting repaints the whole photo."
)


def editor(photo: str | None, limits: Limits, **options: Any) -> gr.ImageEditor:
    """The editor: the photo as its background (see :func:`editor_value`), a brush of the
    slots' colours only, an eraser; no cropping, no other background, no layers. Each image
    it is sent is read only if it has at most ``limits.max_pixels`` (:func:`_checked_reading`);
    what a page may leave waiting on the server is bounded (:func:`_bound_blobs`)."""
    box = gr.ImageEditor(
        editor_value(photo, limits.max_pixels),
        type="pil",
        image_mode="RGBA",
        sources=(),
        transforms=(),
        layers=False,
        brush=gr.Brush(
            colors=[(c.css, BRUSH_OPACITY) for c in COLOURS.values()],
            color_mode="fixed",
            default_size=BRUSH_RADIUS,
        ),
        eraser=gr.Eraser(default_size=BRUSH_RADIUS),
        **options,
    )
    box.convert_and_format_image = _checked_reading(box.convert_and_format_image, limits.max_pixels)
    _bound_blobs(box, waiting=limits.queue_size + 1)
    return box


def _bound_blobs(box: gr.ImageEditor, waiting: int) -> None:
    """Bound what a page may leave on the server for ``box``. Gradio's editor takes its images
    as bytes too (its ``accept_blobs`` endpoint, which any visitor can call), keeps them by an id
    until a run reads them, and makes room for a layer at whatever index it is told (an index of
    10**9 would take gigabytes). Here a layer's index is below :data:`EDITOR_LAYERS`, at most
    ``waiting`` ids are kept (the oldest dropped), and a run whose images were dropped is told
    to run again rather than run without its regions."""
    accept, preprocess = box.accept_blobs, box.preprocess

    def accept_blobs(data: Any) -> None:
        index = data.data.get("index")
        if index not in (None, "", "null") and not (str(index).isdigit() and int(index) < EDITOR_LAYERS):
            raise visitor_error(f"regions: the editor has {EDITOR_LAYERS} layer; got layer index {str(index)[:20]!r}")
        accept(data)
        while len(box.blob_storage) > waiting:
            box.blob_storage.pop(next(iter(box.blob_storage)))

    def checked(payload: Any) -> Any:
        if payload is not None and payload.id is not None and payload.id not in box.blob_storage:
            raise visitor_error("regions: the painted regions did not reach the server; press Run again")
        return preprocess(payload)

    accept_blobs._is_server_fn = True  # type: ignore[attr-defined]  # as gradio's @server marks it
    box.accept_blobs, box.preprocess = accept_blobs, checked


def _checked_reading(read: Callable[..., Any], max_pixels: int) -> Callable[..., Any]:
    """``read`` (the editor's reading of one of its images: an uploaded file, or the bytes the
    page sent) after a look at the image's header: a :class:`gr.Error` for one that is not an
    image or has more than ``max_pixels``, before it is decoded. (Wraps this one instance's
    method, as :func:`style_app.uploads.image_input` does.)"""

    def checked(file: FileData | bytes | None, flatten_on_white: bool = False) -> Any:
        if file is None:
            return read(file, flatten_on_white=flatten_on_white)
        try:
            with PIL.Image.open(file.path if isinstance(file, FileData) else BytesIO(file)) as image:
                width, height = image.size
            if width * height <= max_pixels:
                return read(file, flatten_on_white=flatten_on_white)
        except PIL.Image.DecompressionBombError as exc:
            raise visitor_error(f"regions: an image has more pixels than this server reads ({max_pixels:,})") from exc
        except (PIL.UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise visitor_error(
                "regions: an image (background, layer or composite) is not a picture Pillow reads"
            ) from exc
        raise visitor_error(
            f"regions: an image of {width}x{height} = {width * height:,} pixels is more than this server "
            f"reads ({max_pixels:,}); paint on the page, or send masks (mask_1 .. mask_3)"
        )

    return checked


def upright_size(photo: str) -> tuple[int, int] | None:
    """The photo's (width, height) as the engine reads it (EXIF orientation applied), or None
    when it can't be read (the engine then says what is wrong with it)."""
    try:
        with PIL.Image.open(photo) as image:
            width, height = image.size
            turned = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)  # orientations that swap the sides
    except (OSError, ValueError, PIL.Image.DecompressionBombError):
        return None
    return (height, width) if turned else (width, height)


def editor_value(photo: str | None, max_pixels: int) -> dict[str, Any] | None:
    """The editor's value for a new photo: the photo upright, :data:`EDITOR_SIDE` pixels on its
    long side, with nothing painted (a new photo starts without regions). None for a photo that
    can't be read or has more than ``max_pixels`` (read only up to its header: Run says why)."""
    if not photo:
        return None
    try:
        with PIL.Image.open(photo) as image:
            if image.width * image.height > max_pixels:
                return None
            image.draft("RGB", (EDITOR_SIDE, EDITOR_SIDE))  # a JPEG decodes at a fraction of its size
            upright = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError, PIL.Image.DecompressionBombError):
        return None  # the engine says what is wrong with the photo
    scale = EDITOR_SIDE / max(upright.size)
    size = (max(1, round(upright.width * scale)), max(1, round(upright.height * scale)))
    return {"background": upright.resize(size, PIL.Image.Resampling.LANCZOS), "layers": [], "composite": None}


def painted_masks(value: Mapping[str, Any] | None, size: tuple[int, int] | None) -> dict[int, np.ndarray]:
    """The masks painted in the editor, by slot: (H, W) uint8 at ``size`` (width, height; None:
    the editor's own), for the slots whose colour was painted. Each pixel belongs to the slot of
    its nearest colour, as much as its alpha says (over :data:`BRUSH_OPACITY`, at most 1)."""
    layers = [layer for layer in (value or {}).get("layers") or [] if layer is not None]
    if not layers:
        return {}
    canvas = PIL.Image.new("RGBA", layers[0].size, (0, 0, 0, 0))
    for layer in layers:
        canvas = PIL.Image.alpha_composite(canvas, layer.convert("RGBA").resize(canvas.size))
    pixels = np.asarray(canvas, dtype=np.float32)
    palette = np.array([c.rgb for c in COLOURS.values()], dtype=np.float32)  # (slots, 3)
    nearest = np.square(pixels[..., None, :3] - palette).sum(-1).argmin(-1)  # (H, W): index into COLOURS
    cover = np.clip(pixels[..., 3] / (255 * BRUSH_OPACITY), 0, 1)
    masks = {}
    for index, slot in enumerate(COLOURS):
        mask = PIL.Image.fromarray(np.round(np.where(nearest == index, cover, 0) * 255).astype(np.uint8), "L")
        if size is not None and mask.size != size:
            mask = mask.resize(size, PIL.Image.Resampling.BILINEAR)
        values = np.asarray(mask)
        if values.any():
            masks[slot] = values
    return masks


def masks_for(values: Mapping[str, Any], slots: Sequence[int]) -> list[str | np.ndarray] | None:
    """The engine's ``masks`` for the paintings in ``slots``: one per painting, painted (an
    array) or uploaded (a path); None when no region is given. A :class:`gr.Error` when the
    regions don't match the paintings."""
    painted = painted_masks(values.get("regions"), upright_size(values["content"]))
    uploaded = {slot: values[f"mask_{slot}"] for slot in range(1, SLOTS + 1) if values.get(f"mask_{slot}")}
    if not painted and not uploaded:
        return None
    if both := sorted(painted.keys() & uploaded.keys()):
        colour = COLOURS[both[0]].name
        raise visitor_error(
            f"painting {both[0]} has a painted region ({colour}) and an uploaded mask: "
            f"erase the {colour} paint or remove mask {both[0]}"
        )
    given = painted | uploaded
    if alone := sorted(given.keys() - set(slots)):
        slot = alone[0]
        if slot in painted:
            region, way_out = f"the {COLOURS[slot].name} region", f"erase the {COLOURS[slot].name} paint"
        else:
            region, way_out = f"mask {slot}", f"remove mask {slot}"
        raise visitor_error(f"{region} has no painting: add painting {slot}, or {way_out}")
    if missing := [slot for slot in slots if slot not in given]:
        slot = missing[0]
        raise visitor_error(
            f"painting {slot} has no region: paint its region ({COLOURS[slot].name}) or upload mask {slot}, "
            f"or remove painting {slot} (with regions, each painting repaints only its own)"
        )
    return [given[slot] for slot in slots]
