"""Optical flow between frames, warping by it, and where it can be trusted (Ruder et al. 2016).

Flow comes from OpenCV's DIS (Kroeger et al. 2016: dense inverse search, classical, no weights).
A flow here is (H, W, 2) float32 in pixels, ``flow[y, x] = (dx, dy)``: pixel (x, y) of the
first frame is found at (x + dx, y + dy) in the second.

To carry frame t-1's picture onto frame t, the *backward* flow (t → t-1) is used: each pixel
of frame t fetches its colour from where it was. Where that fetch can't be trusted — the
pixel was hidden in frame t-1 (a disocclusion), sits on a motion boundary, or came from
outside the frame — the consistency mask is 0; elsewhere it is 1. The tests are Ruder et
al.'s (section 3.1, after Sundaram et al. 2010), with flows in pixels:

- forward-backward: ``|b + f(x + b)|² > 0.01 (|b|² + |f(x + b)|²) + 0.5``, where b is the
  backward flow at x and f the forward flow (t-1 → t) where b points;
- motion boundary: ``|∇b_x|² + |∇b_y|² > 0.01 |b|² + 0.002``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: DIS's speed/quality preset; its patches are made smaller and denser below (8 px every
#: 3 px), which halves the error on small moving objects.
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
DIS_PATCH, DIS_STRIDE = 8, 3
#: Frames up to this long side get their flow at full resolution; bigger ones at half (DIS's
#: default), which is fine enough there and four times cheaper. On the test clip, half
#: resolution underestimates a 28 px disc's motion by 40%; full resolution by 5%.
FULL_RESOLUTION_FLOW = 1024


@dataclass(frozen=True)
class Motion:
    """How frame t relates to frame t-1.

    Attributes:
        backward: (H, W, 2) flow from frame t to frame t-1, in pixels.
        mask: (H, W) float32, 1 where frame t-1 warped by ``backward`` can be trusted, else 0.
    """

    backward: np.ndarray
    mask: np.ndarray

    def warp(self, image: np.ndarray) -> np.ndarray:
        """Frame t-1's ``image`` (H, W, C) float32 carried onto frame t (bilinear)."""
        return warp(image, self.backward)


def grey(frame: np.ndarray) -> np.ndarray:
    """(H, W) uint8 luma of an (H, W, 3) uint8 RGB frame: what DIS reads."""
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def dis_flow(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """DIS flow (H, W, 2) float32 from ``first`` to ``second``, both (H, W) uint8 grey."""
    dis = cv2.DISOpticalFlow_create(DIS_PRESET)
    dis.setPatchSize(DIS_PATCH)
    dis.setPatchStride(DIS_STRIDE)
    dis.setFinestScale(0 if max(first.shape) <= FULL_RESOLUTION_FLOW else 1)
    return dis.calc(first, second, None)


def _sampling_grid(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return xs + flow[..., 0], ys + flow[..., 1]


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` (H, W[, C]) sampled at x + flow(x) (bilinear, edges replicated): the picture of
    the flow's second frame carried onto its first."""
    map_x, map_y = _sampling_grid(flow)
    return cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def consistency(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """(H, W) float32: 1 where the backward flow (t → t-1) is trusted, 0 at disocclusions, motion
    boundaries and pixels that came from outside the frame (tests in the module's docstring)."""
    height, width = backward.shape[:2]
    map_x, map_y = _sampling_grid(backward)
    forward_there = cv2.remap(forward, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    round_trip = np.square(backward + forward_there).sum(-1)
    lengths = np.square(backward).sum(-1) + np.square(forward_there).sum(-1)
    occluded = round_trip > 0.01 * lengths + 0.5
    gradients = sum(np.square(np.gradient(backward[..., c])).sum(0) for c in range(2))
    boundary = gradients > 0.01 * np.square(backward).sum(-1) + 0.002
    outside = (map_x < 0) | (map_x > width - 1) | (map_y < 0) | (map_y > height - 1)
    return (~(occluded | boundary | outside)).astype(np.float32)


def motion(previous: np.ndarray, current: np.ndarray) -> Motion:
    """The :class:`Motion` from ``previous`` to ``current``, both (H, W, 3) uint8 RGB frames."""
    before, now = grey(previous), grey(current)
    backward = dis_flow(now, before)
    return Motion(backward, consistency(backward, dis_flow(before, now)))


def warping_error(frames: list[np.ndarray], stylized: list[np.ndarray]) -> float:
    """How much a stylized clip flickers: the mean over t of the mean squared difference between
    stylized frame t and stylized frame t-1 warped onto it, on the pixels the flow of the
    source ``frames`` trusts. Frames are (H, W, 3) uint8; the error is in [0, 1]² units."""
    errors = []
    for t in range(1, len(frames)):
        step = motion(frames[t - 1], frames[t])
        now = stylized[t].astype(np.float32) / 255
        carried = step.warp(stylized[t - 1].astype(np.float32) / 255)
        held = step.mask.sum()
        if held:
            errors.append(float((step.mask[..., None] * np.square(now - carried)).sum() / (3 * held)))
    return float(np.mean(errors)) if errors else 0.0
