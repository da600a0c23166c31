"""Reading and writing video files with PyAV (FFmpeg): frames in as RGB arrays, frames out with
the source's frame rate and its audio.

- :func:`probe` reads a video's size, frame rate and frame count (by decoding it once: the
  count in a container's header is missing or wrong often enough).
- :func:`read_frames` decodes frames ``start..stop`` resized to the working size.
- :func:`write_video` encodes frames into ``.mp4``/``.mov``/``.mkv`` (H.264) or ``.webm``
  (VP9) at the source's frame rate, copying the source's audio packets unchanged when the
  container takes their codec, else re-encoding them (to AAC, or Opus for WebM). The file
  appears complete or not at all (:func:`style_core.output.replacing`).

A source is a path or the file's bytes (a Ray worker gets the bytes, not the path).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..errors import ImageError, OutputError
from ..image import DEFAULT_MAX_PIXELS, MIN_SIDE, output_size, regular_file
from ..output import check_writable, replacing

#: A video file: its path, or its bytes.
VideoSource = str | os.PathLike | bytes

#: Per output suffix: FFmpeg's container name, the video encoder, its options, the audio codecs
#: whose packets the container takes as they are (None: any), and the audio encoder for the others.
CONTAINERS: dict[str, tuple[str, str, dict[str, str], frozenset[str] | None, str]] = {
    ".mp4": (
        "mp4",
        "libx264",
        {"crf": "18", "preset": "medium"},
        frozenset({"aac", "mp3", "opus", "flac", "alac", "ac3"}),
        "aac",
    ),
    ".mov": (
        "mov",
        "libx264",
        {"crf": "18", "preset": "medium"},
        frozenset({"aac", "mp3", "alac", "ac3", "pcm_s16le"}),
        "aac",
    ),
    ".mkv": ("matroska", "libx264", {"crf": "18", "preset": "medium"}, None, "aac"),
    ".webm": ("webm", "libvpx-vp9", {"crf": "24", "b": "0", "row-mt": "1"}, frozenset({"opus", "vorbis"}), "libopus"),
}


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` found.

    Attributes:
        width, height: the frame size in pixels.
        frame_rate: frames per second (exact, e.g. ``Fraction(30000, 1001)``).
        frames: the number of frames (decoded and counted).
        audio: the audio codec's name (``aac``, ``opus``, ...) or None when there is no audio.
    """

    width: int
    height: int
    frame_rate: Fraction
    frames: int
    audio: str | None


def _open(source: VideoSource, what: str) -> av.container.InputContainer:
    """The container of ``source``; ``what`` names it in errors. A path must be a regular file
    (:func:`~style_core.image.regular_file`: FFmpeg would wait forever on a FIFO)."""
    if not isinstance(source, bytes):
        regular_file(Path(source), what, max_bytes=None)
    file = io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)
    try:
        return av.open(file, "r")
    except (av.FFmpegError, OSError) as exc:
        raise ImageError(f"{what}: not a video FFmpeg can read ({exc})") from exc


def _is_still_picture(container: av.container.InputContainer) -> bool:
    """Whether FFmpeg read the file as a picture (its image2 and ``*_pipe`` demuxers): a JPEG
    or a PNG opens as a video of one frame. An animated GIF is a video."""
    name = container.format.name
    return name == "image2" or name.endswith("_pipe")


def probe(source: VideoSource, what: str = "video", *, max_pixels: int = DEFAULT_MAX_PIXELS) -> VideoInfo:
    """Size, frame rate, frame count and audio codec of a video; :class:`ImageError` if it has no
    frames, can't be read, or its frames have more than ``max_pixels`` (said before any is decoded)."""
    with _open(source, what) as container:
        if not container.streams.video:
            raise ImageError(f"{what}: the file has no video stream")
        if _is_still_picture(container):
            raise ImageError(
                f"{what}: the file is a still picture, not a video",
                hint="paint a picture with style-core PICTURE STYLE, many with style-core batch",
            )
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > max_pixels:
            raise ImageError(
                f"{what}: frames of {width}x{height} = {width * height:,} pixels are more than the limit of "
                f"{max_pixels:,}",
                hint="shrink the video first",
            )
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        frames = 0
        try:
            for _ in container.decode(stream):
                frames += 1
        except av.FFmpegError as exc:
            raise ImageError(f"{what}: the video is corrupt or truncated after frame {frames} ({exc})") from exc
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        width, height = stream.codec_context.width, stream.codec_context.height
    if frames == 0:
        raise ImageError(f"{what}: the video has no frames")
    if min(width, height) < MIN_SIDE:
        raise ImageError(f"{what}: {width}x{height} is too small; each side must be at least {MIN_SIDE} pixels")
    return VideoInfo(width, height, Fraction(rate), frames, audio)


def working_size(width: int, height: int, size: int) -> tuple[int, int]:
    """The frame size stylized and encoded: long side ``size`` (0 keeps the video's), each side
    rounded down to an even number (H.264 and VP9 in 4:2:0 need even sides); a size that would
    leave a side under :data:`~style_core.image.MIN_SIDE` is refused, as for pictures
    (:func:`~style_core.image.output_size`)."""
    width, height = output_size(width, height, size, "the video")
    return width - width % 2, height - height % 2


def read_frames(
    source: VideoSource, size: tuple[int, int], start: int = 0, stop: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, frame)`` for frames ``start`` to ``stop`` (exclusive), each (H, W, 3) uint8 RGB
    resized to ``size`` (width, height) with area averaging. Earlier frames are decoded and
    skipped: frame numbers are the decoder's order, the same on every machine."""
    width, height = size
    with _open(source, "video") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if stop is not None and index >= stop:
                return
            if index >= start:
                yield index, frame.to_ndarray(format="rgb24", width=width, height=height, interpolation="AREA")


class _Audio:
    """The source's audio into an output container: packets copied when the container takes the
    codec, else decoded and re-encoded. :meth:`until` writes what belongs before a time."""

    def __init__(
        self, source: VideoSource, output: av.container.OutputContainer, copyable: frozenset[str] | None, fallback: str
    ) -> None:
        self.input = _open(source, "video")
        self.stream_in = self.input.streams.audio[0]
        self.copy = copyable is None or self.stream_in.codec_context.name in copyable
        if self.copy:
            self.stream_out = output.add_stream_from_template(self.stream_in)
        else:
            context = self.stream_in.codec_context
            self.stream_out = output.add_stream(fallback, rate=48000 if fallback == "libopus" else context.sample_rate)
            self.stream_out.layout = context.layout.name if context.layout.nb_channels <= 2 else "stereo"
            self.resampler = av.AudioResampler(
                format=self.stream_out.codec_context.codec.audio_formats[0].name,
                layout=self.stream_out.layout,
                rate=self.stream_out.rate,
            )
        self.output = output
        self.packets = self.input.demux(self.stream_in)
        self.pending: av.Packet | None = None
        self.done = False

    def until(self, seconds: float | None) -> None:
        """Write the audio up to ``seconds`` (all of it when None)."""
        while not self.done:
            packet = self.pending or next(self.packets, None)
            self.pending = None
            if packet is None:
                self.done = True
                if not self.copy:
                    self._encode(None)
                break
            if packet.dts is None and packet.size == 0:  # the demuxer's flush packet
                continue
            if seconds is not None and packet.pts is not None and float(packet.pts * packet.time_base) > seconds:
                self.pending = packet
                break
            if self.copy:
                packet.stream = self.stream_out
                self.output.mux(packet)
            else:
                for frame in packet.decode():
                    self._encode(frame)

    def _encode(self, frame: av.AudioFrame | None) -> None:
        frames = self.resampler.resample(frame)
        for resampled in [*frames, None] if frame is None else frames:
            self.output.mux(self.stream_out.encode(resampled))

    def close(self) -> None:
        self.input.close()


def check_video_output(path: str | Path) -> Path:
    """``path`` if a video can be written there (a known suffix, an existing writable folder);
    else :class:`OutputError` naming the allowed suffixes."""
    path = Path(path)
    if path.suffix.lower() not in CONTAINERS:
        raise OutputError(
            f"output '{path}': can't write a video as '{path.suffix or path.name}'",
            hint=f"use one of {', '.join(CONTAINERS)}",
        )
    if path.is_dir():
        raise OutputError(f"output '{path}' is a folder", hint="give a file name such as clip.mp4")
    if not path.parent.is_dir():
        raise OutputError(f"output '{path}': the folder '{path.parent}' does not exist", hint="create it first")
    check_writable(path.parent, f"output '{path}'", path.name)
    return path


def write_video(
    path: str | Path,
    frames: Iterable[np.ndarray],
    *,
    frame_rate: Fraction,
    audio_from: VideoSource | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Encode ``frames`` ((H, W, 3) uint8 RGB, even sides, all one size) at ``frame_rate`` into
    ``path``, with the audio of ``audio_from`` (if it has any) and container ``metadata``."""
    path = check_video_output(path)
    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise OutputError(f"can't write '{path}': there are no frames")
    try:
        with replacing(path) as temporary:
            _encode(temporary, path.suffix.lower(), _chain(first, frames), frame_rate, audio_from, metadata or {})
    except av.FFmpegError as exc:
        raise OutputError(f"can't encode '{path}': {exc}", hint="try another container (.mp4, .mkv, .webm)") from exc
    return path


def _encode(
    temporary: Path,
    suffix: str,
    frames: Iterator[np.ndarray],
    frame_rate: Fraction,
    audio_from: VideoSource | None,
    metadata: dict[str, str],
) -> None:
    container_name, codec, options, copyable, audio_codec = CONTAINERS[suffix]
    with av.open(os.fspath(temporary), "w", format=container_name) as output:
        output.metadata.update(metadata)
        stream = None
        audio = None
        try:
            for index, array in enumerate(frames):
                if stream is None:
                    stream = output.add_stream(codec, rate=frame_rate, options=options)
                    stream.width, stream.height, stream.pix_fmt = array.shape[1], array.shape[0], "yuv420p"
                    stream.codec_context.time_base = 1 / Fraction(frame_rate)
                    if audio_from is not None and _has_audio(audio_from):
                        audio = _Audio(audio_from, output, copyable, audio_codec)
                frame = av.VideoFrame.from_ndarray(array, format="rgb24")
                frame.pts = index
                output.mux(stream.encode(frame))
                if audio is not None:
                    audio.until((index + 1) / frame_rate)
            output.mux(stream.encode(None))
            if audio is not None:
                audio.until(None)
        finally:
            if audio is not None:
                audio.close()


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def _has_audio(source: VideoSource) -> bool:
    with _open(source, "video") as container:
        return bool(container.streams.audio)
