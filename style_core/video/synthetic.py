"""A synthetic clip whose motion is known exactly: a textured disc gliding over a still,
textured background, written as a real video file with a tone on its audio track.

The tests and the benchmark use it: the true backward flow and the pixels each frame
uncovers are known, so flicker can be measured without trusting any flow estimate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np


@dataclass(frozen=True)
class Clip:
    """Frames and their true motion.

    Attributes:
        frames: (H, W, 3) uint8 RGB frames.
        centres: the disc's centre (x, y) in each frame, in pixels.
        radius: the disc's radius in pixels.
        frame_rate: frames per second.
        pan: how far the background moves left each frame, in pixels (0: a still camera).
    """

    frames: list[np.ndarray]
    centres: list[tuple[float, float]]
    radius: float
    frame_rate: Fraction
    pan: float = 0.0

    def disc(self, t: int) -> np.ndarray:
        """(H, W) bool: the disc's pixels in frame ``t``."""
        height, width = self.frames[0].shape[:2]
        ys, xs = np.mgrid[0:height, 0:width]
        cx, cy = self.centres[t]
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= self.radius**2

    def true_motion(self, t: int, margin: int = 2) -> tuple[np.ndarray, np.ndarray]:
        """Frame t's exact backward flow (H, W, 2) to frame t-1, and its trusted pixels (H, W)
        float32: all but those uncovered since t-1 (behind the disc, or coming in at the
        frame's edge) and a ``margin`` around the disc's edge."""
        inside = self.disc(t)
        (x1, y1), (x0, y0) = self.centres[t], self.centres[t - 1]
        flow = np.zeros((*inside.shape, 2), np.float32)
        flow[..., 0] = self.pan
        flow[inside] = (x0 - x1, y0 - y1)
        height, width = inside.shape
        ys, xs = np.mgrid[0:height, 0:width]
        came_from = self.disc(t - 1)[ys, np.clip(np.round(xs + flow[..., 0]).astype(int), 0, width - 1)]
        near_edge = np.abs(np.hypot(xs - x1, ys - y1) - self.radius) <= margin
        near_edge |= np.abs(np.hypot(xs - x0, ys - y0) - self.radius) <= margin
        outside = xs + flow[..., 0] > width - 1 - margin
        trusted = ~((came_from & ~inside) | near_edge | outside)
        return flow, trusted.astype(np.float32)


def _texture(height: int, width: int, rng: np.random.Generator, cells: int) -> np.ndarray:
    """Smooth colour noise: random values on a coarse grid, upsampled bilinearly (H, W, 3) in [0, 1]."""
    grid = rng.random((cells + 1, cells + 1, 3))
    ys = np.linspace(0, cells, height)
    xs = np.linspace(0, cells, width)
    y0, x0 = np.floor(ys).astype(int).clip(0, cells - 1), np.floor(xs).astype(int).clip(0, cells - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


def moving_disc_clip(width: int = 96, height: int = 64, frames: int = 24, *, speed: float = 2.0, seed: int = 0) -> Clip:
    """A still background (soft colour blobs and thin diagonal stripes) with a striped disc
    moving ``speed`` pixels per frame to the right and gently down. Sizes in pixels."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    background = 0.25 + 0.5 * _texture(height, width, rng, 4)
    background += 0.12 * np.sin((xs + ys) * 0.9)[..., None]
    radius = 0.22 * min(width, height)
    pattern = _texture(64, 64, rng, 3)
    images, centres = [], []
    for t in range(frames):
        cx = radius + 2 + speed * t
        cy = height / 2 + 0.5 * speed * t - 0.25 * speed * frames
        image = background.copy()
        inside = (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2
        u, v = xs - cx, ys - cy  # the disc's texture moves with it
        stripes = 0.5 + 0.5 * np.sin(u * 1.3) * np.cos(v * 0.7)
        colour = np.stack([0.9 * stripes, 0.3 + 0.2 * stripes, 0.2 + 0.6 * (1 - stripes)], axis=-1)
        tint = pattern[(v.astype(int) % 64), (u.astype(int) % 64)]
        image[inside] = (0.8 * colour + 0.2 * tint)[inside]
        images.append((image.clip(0, 1) * 255).round().astype(np.uint8))
        centres.append((cx, cy))
    return Clip(images, centres, radius, Fraction(24))


def panning_clip(photo: np.ndarray, width: int, height: int, frames: int, *, pan: float = 1.5, seed: int = 0) -> Clip:
    """A camera panning right across ``photo`` ((H, W, 3) uint8, at least ``width`` + ``pan`` x
    ``frames`` wide) by ``pan`` pixels a frame, with :func:`moving_disc_clip`'s disc crossing
    it: the motions of real footage (everything moves, and an object uncovers what is behind
    it). The disc's centres are in frame coordinates."""
    import cv2

    disc = moving_disc_clip(width, height, frames, speed=2.0 * width / 96, seed=seed)
    inside = [disc.disc(t) for t in range(frames)]
    images = []
    for t in range(frames):
        shift = np.float32([[1, 0, -pan * t], [0, 1, 0]])
        view = cv2.warpAffine(photo, shift, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        view[inside[t]] = disc.frames[t][inside[t]]
        images.append(view)
    return Clip(images, disc.centres, disc.radius, disc.frame_rate, pan)


def write_clip(path: str | os.PathLike, clip: Clip, *, audio: bool = True, codec: str | None = None) -> None:
    """Write ``clip`` as a video file (H.264 in 4:4:4 for .mp4/.mkv/.mov, VP9 for .webm, nearly
    lossless) with a 440 Hz tone as its audio (AAC, or Opus for .webm) when ``audio``."""
    path = os.fspath(path)
    webm = path.endswith(".webm")
    height, width = clip.frames[0].shape[:2]
    with av.open(path, "w") as output:
        video = output.add_stream(codec or ("libvpx-vp9" if webm else "libx264"), rate=clip.frame_rate)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p" if webm else "yuv444p"
        video.options = {"crf": "4"} if webm else {"qp": "0"}
        sound = None
        if audio:
            sound = output.add_stream("libopus" if webm else "aac", rate=48000)
            sound.layout = "mono"
        for index, array in enumerate(clip.frames):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if sound is not None:
            seconds = len(clip.frames) / clip.frame_rate
            samples = int(48000 * seconds)
            tone = (0.3 * np.sin(np.arange(samples) * 2 * np.pi * 440 / 48000)).astype(np.float32)[None]
            for start in range(0, samples, 960):
                frame = av.AudioFrame.from_ndarray(tone[:, start : start + 960].copy(), format="flt", layout="mono")
                frame.sample_rate, frame.pts = 48000, start
                output.mux(sound.encode(frame))
            output.mux(sound.encode(None))
