"""A video job: :func:`stylize_video` checks everything, plans the chunks, runs them (in this
process or on Ray), keeps each finished frame on disk and writes the video at the end.

Data flow: the video is probed (size, rate, frames) → the work folder says which frames are
done → the frames left are cut into chunks (:mod:`~style_core.video.chunks`) → workers
stylize them (:mod:`~style_core.video.worker`) and this process writes every frame they
return, once → when all are on disk, they are blended across lead-ins and encoded with the
source's audio (:mod:`~style_core.video.media`) → the work folder is removed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._version import __version__
from ..cluster import Placement
from ..errors import OutputError, StyleCoreError, UsageError
from ..events import Progress
from ..image import ImageInput
from ..job import job_from_keywords, load_styles
from ..settings import Settings
from .chunks import Chunk, plan_chunks
from .events import Encoding, FrameDone, FrameProgress, VideoDone, VideoEvent, VideoPlanned
from .media import VideoInfo, check_video_output, probe, working_size, write_video
from .options import OVERLAP, TEMPORAL_WEIGHT
from .workdir import WorkFolder, decode_png, encode_png

#: Settings that don't change the pictures: a resume may change them.
_NOT_IN_MANIFEST = ("device", "preview_every")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class VideoJob:
    """A video to stylize, checked; :meth:`run` paints it (see :func:`stylize_video`).

    Args:
        video: the source video file.
        styles: one style image or a list of them.
        settings: a :class:`~style_core.settings.Settings` or a mapping of its fields.
        output: the video to write (frame rate and audio of the source).
        temporal_weight: how strongly a frame holds to the previous one where the flow is
            trusted (0: it only starts from it).
        resume: continue from the frames an earlier run of the same job left on disk.
        keep_frames: keep the finished frames (PNGs in ``OUTPUT.frames/``) after writing.
        ray: None runs here; True or ``"local"`` on a local Ray; else a Ray address.
        workers: Ray actors (default: one per GPU, else one per ``cpus_per_worker`` CPUs).
        chunk_frames: frames per chunk on Ray (default: the frames left over the workers); in
            this process the frames are painted in one sequence.
        cpus_per_worker: CPUs each Ray actor reserves on machines without GPUs.
        overlap: lead-in frames blended where two chunks meet.
    """

    def __init__(
        self,
        video: str | os.PathLike,
        styles: ImageInput | Sequence[ImageInput],
        output: str | os.PathLike,
        settings: Settings | Mapping[str, Any] | None = None,
        *,
        temporal_weight: float = TEMPORAL_WEIGHT.default,
        resume: bool = False,
        keep_frames: bool = False,
        ray: str | bool | None = None,
        workers: int | None = None,
        cpus_per_worker: int = 1,
        chunk_frames: int | None = None,
        overlap: int = OVERLAP.default,
    ) -> None:
        loaded, self.settings = load_styles(styles, settings)
        self.temporal_weight = TEMPORAL_WEIGHT.check(temporal_weight)
        self.styles = [style.rgb for style in loaded]
        for name, value in (("video", video), ("output", output)):
            if not isinstance(value, (str, os.PathLike)):
                raise UsageError(f"{name} must be a file's path; got {value!r:.60}")
        self.video = Path(video)
        self.output = check_video_output(output)
        if self.output.exists() and self.video.exists() and self.output.samefile(self.video):
            raise OutputError(f"output '{self.output}' is the input video", hint="choose another name")
        self.placement = Placement.checked(ray, workers, cpus_per_worker)
        self.info: VideoInfo = probe(self.video, f"video '{self.video}'")
        self.size = working_size(self.info.width, self.info.height, self.settings.size)
        self.resume, self.keep_frames = resume, keep_frames
        self.chunk_frames, self.overlap = chunk_frames, OVERLAP.check(overlap)
        self.folder = WorkFolder(self.output)
        self.folder.open(self.manifest(), resume=resume)

    def manifest(self) -> dict[str, Any]:
        """What the frames are made from; a resume must match it."""
        settings = {k: v for k, v in self.settings.as_dict().items() if k not in _NOT_IN_MANIFEST}
        return {
            "video": {"bytes": self.video.stat().st_size, "sha256": _sha256_file(self.video)},
            "styles": [hashlib.sha256(s.numpy().tobytes()).hexdigest() for s in self.styles],
            "settings": settings,
            "temporal_weight": self.temporal_weight,
            "size": list(self.size),
            "frames": self.info.frames,
        }

    def recipe(self) -> dict[str, Any]:
        """Stored in the video's ``comment`` tag."""
        return {
            "settings": self.settings.as_dict(),
            "temporal_weight": self.temporal_weight,
            "versions": {"style_core": __version__},
        }

    def run(self) -> Iterator[VideoEvent]:
        """Stylize what is left, then write the video; see the module's docstring."""
        started = time.perf_counter()
        done = self.folder.done()
        self.folder.discard_unfinished_leads(done)
        if self.placement.ray is None:
            yield from self._run_here(done, started)
        else:
            from ..cluster import connected

            with connected(self.placement.address):
                yield from self._run_on_ray(done, started)
        missing = self.info.frames - len(self.folder.done())
        if missing:
            raise StyleCoreError(f"{missing} frames are missing after the run", hint="run again with --resume")
        yield Encoding(str(self.output.resolve()))
        frames = self.folder.final_frames(self.info.frames)
        comment = json.dumps(self.recipe(), sort_keys=True)
        write_video(
            self.output, frames, frame_rate=self.info.frame_rate, audio_from=self.video, metadata={"comment": comment}
        )
        if not self.keep_frames:
            self.folder.remove()
        width, height = self.size
        yield VideoDone(str(self.output.resolve()), self.info.frames, width, height, time.perf_counter() - started)

    def _planned(self, done: set[int], chunks: list[Chunk], workers: str) -> VideoPlanned:
        width, height = self.size
        work = sum(chunk.work for chunk in chunks)
        rate = float(self.info.frame_rate)
        folder = str(self.folder.path)
        return VideoPlanned(self.info.frames, len(done), work, width, height, rate, len(chunks), workers, folder)

    def _worker_arguments(self, source: Any) -> dict[str, Any]:
        return {
            "source": source,
            "styles": self.styles,
            "settings": self.settings,
            "temporal_weight": self.temporal_weight,
            "size": self.size,
        }

    def _run_here(self, done: set[int], started: float) -> Iterator[VideoEvent]:
        from .worker import ChunkWorker

        chunks = plan_chunks(done, self.info.frames, workers=1, overlap=self.overlap)  # one sequence per gap
        yield self._planned(done, chunks, "this machine (one process)")
        if not chunks:
            return
        worker = ChunkWorker(**self._worker_arguments(self.video))
        clock = _Clock(sum(chunk.work for chunk in chunks), started)
        for chunk in chunks:
            painting = chunk.lead_start
            for event in worker.frames(chunk, self._previous(chunk)):
                if isinstance(event, Progress):
                    yield clock.progress(event, painting)
                    continue
                painting = event.index + 1
                into = chunk.start if event.index < chunk.start else None
                finished = self._keep(event.index, into, encode_png(event.image), event.steps, event.elapsed, clock)
                if finished is not None:
                    yield finished

    def _run_on_ray(self, done: set[int], started: float) -> Iterator[VideoEvent]:
        from ..cluster import stream
        from .worker import ChunkWorker

        left = self.info.frames - len(done)
        pool = self.placement.pool(max(1, left))
        chunks = plan_chunks(
            done, self.info.frames, workers=pool.actors, overlap=self.overlap, chunk_frames=self.chunk_frames
        )
        pool = dataclasses.replace(pool, actors=min(pool.actors, max(1, len(chunks))))
        yield self._planned(done, chunks, f"Ray, {pool.describe()}")
        if not chunks:
            return
        rows = []
        for chunk in chunks:
            previous = self.folder.frame_path(chunk.lead_start - 1).read_bytes() if chunk.continues else b""
            rows.append({"lead_start": chunk.lead_start, "start": chunk.start, "stop": chunk.stop,
                         "continues": chunk.continues, "previous": previous})  # fmt: skip
        clock = _Clock(sum(chunk.work for chunk in chunks), started)
        arguments = self._worker_arguments(self.video.read_bytes())
        for row in stream(ChunkWorker, arguments, rows, pool):
            into = None if row["into"] < 0 else row["into"]
            finished = self._keep(row["frame"], into, row["png"], row["steps"], row["seconds"], clock)
            if finished is not None:
                yield finished

    def _previous(self, chunk: Chunk) -> np.ndarray | None:
        return decode_png(self.folder.frame_path(chunk.lead_start - 1)) if chunk.continues else None

    def _keep(
        self, index: int, into: int | None, png: bytes, steps: int, seconds: float, clock: _Clock
    ) -> FrameDone | None:
        """Write a frame that came back, unless it is on disk already (a retried chunk's)."""
        path = self.folder.frame_path(index) if into is None else self.folder.lead_path(index, into)
        if not self.folder.write(path, png):
            return None
        clock.frame_done()
        elapsed, eta = clock.times()
        fraction = clock.frames_done / clock.work
        return FrameDone(index, into, clock.frames_done, clock.work, fraction, steps, seconds, elapsed, eta, str(path))


class _Clock:
    """Progress over the frames of a job. The time left is the frames left at the pace of those
    finished so far; while a frame is painted in this process, its own time left (the engine's
    estimate) plus the frames after it at that pace, or, before any has finished, at the pace
    the engine expects of this one."""

    def __init__(self, work: int, started: float) -> None:
        self.work = work
        self.started = started
        self.painting_since = time.perf_counter()
        self.finished_at = self.painting_since
        self.frames_done = 0

    def frame_done(self) -> None:
        """One more frame came back."""
        self.frames_done += 1
        self.finished_at = time.perf_counter()

    def _pace(self) -> float | None:
        """Seconds per frame over the frames finished so far (None before the first)."""
        return (self.finished_at - self.painting_since) / self.frames_done if self.frames_done else None

    def times(self) -> tuple[float, float]:
        """Seconds since the job started, and seconds left."""
        pace = self._pace() or 0.0
        return time.perf_counter() - self.started, max(0.0, (self.work - self.frames_done) * pace)

    def progress(self, event: Progress, frame: int) -> FrameProgress:
        """Where the job stands during an iteration of ``frame``."""
        pace = self._pace()
        if pace is None:
            pace = event.elapsed + event.eta
        eta = event.eta + max(0, self.work - self.frames_done - 1) * pace
        fraction = (self.frames_done + event.fraction) / self.work
        return FrameProgress(frame, event.step, event.total_steps, fraction, time.perf_counter() - self.started, eta)


def stylize_video(
    video: str | os.PathLike,
    styles: ImageInput | Sequence[ImageInput],
    output: str | os.PathLike,
    **options: Any,
) -> Iterator[VideoEvent]:
    """Stylize ``video`` into ``output`` (.mp4, .mov, .mkv or .webm) with ``styles``, each frame
    tied to the one before (Ruder et al. 2016); yields :mod:`~style_core.video.events`.

    ``options`` are :class:`VideoJob`'s keywords and the settings' fields (``size=512``, ...).

    Everything is checked when this is called (bad input raises a
    :class:`~style_core.errors.StyleCoreError` before any work); the frames are painted as
    the returned iterator is consumed.
    """
    return job_from_keywords(VideoJob, video, styles, output, options=options).run()
