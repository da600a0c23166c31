"""Video in this process: decoding and encoding with PyAV, DIS flow and its consistency mask,
chunk planning, the frame loop's coherence, the command, resuming after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from fixtures.clips import moving_disc_clip, write_clip
from fixtures.pictures import swirl_painting
from style_core.cli.video import main
from style_core.events import Progress
from style_core.image import load_image
from style_core.settings import Settings
from style_core.video import job as video_job
from style_core.video.chunks import Chunk, lead_share, missing_runs, plan_chunks
from style_core.video.flow import motion, warp, warping_error
from style_core.video.frames import FrameStylist, StylizedFrame, with_motion
from style_core.video.media import probe, read_frames, working_size, write_video
from style_core.video.workdir import decode_png

#: Small and quick, but real: 96x64 frames, three full-size iterations a frame.
QUICK = ["--size", "96", "--start-size", "64", "--steps", "3", "--preview-every", "0"]
FRAMES = 24


@pytest.fixture(scope="module")
def clip():
    return moving_disc_clip(96, 64, FRAMES)


@pytest.fixture(scope="module")
def files(tmp_path_factory, clip) -> tuple[Path, Path]:
    """The clip as a real .mp4 with an AAC tone, and a style image."""
    folder = tmp_path_factory.mktemp("video")
    video, style = folder / "clip.mp4", folder / "style.png"
    write_clip(video, clip)
    swirl_painting(128).save(style)
    return video, style


def audio_packets(path: Path) -> tuple[str, list[bytes]]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return stream.codec_context.name, [bytes(p) for p in container.demux(stream) if p.size]


def decoded(path: Path) -> tuple[list[np.ndarray], Fraction]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)], stream.average_rate


def true_warping_error(clip, frames: list[np.ndarray]) -> float:
    """Flicker measured with the clip's exact motion: stylized frame t against t-1 carried by
    the true flow, on the pixels visible in both."""
    errors = []
    for t in range(1, len(frames)):
        flow, trusted = clip.true_motion(t)
        now = frames[t].astype(np.float32) / 255
        carried = warp(frames[t - 1].astype(np.float32) / 255, flow)
        errors.append(float((trusted[..., None] * (now - carried) ** 2).sum() / (3 * trusted.sum())))
    return float(np.mean(errors))


# -- chunks ---------------------------------------------------------------------------------------


def test_one_worker_paints_one_sequence_and_continues_after_done_frames():
    assert plan_chunks(set(), 24, workers=1, overlap=4) == [Chunk(0, 0, 24, continues=False)]
    done = set(range(10)) | {15, 16}
    assert missing_runs(done, 24) == [(10, 15), (17, 24)]
    assert plan_chunks(done, 24, workers=1, overlap=4) == [
        Chunk(10, 10, 15, continues=True),
        Chunk(17, 17, 24, continues=True),
    ]
    assert plan_chunks(set(range(24)), 24, workers=3, overlap=4) == []


def test_chunks_for_several_workers_have_lead_ins_that_never_meet():
    chunks = plan_chunks(set(), 24, workers=3, overlap=4)
    assert [(c.start, c.stop) for c in chunks] == [(0, 8), (8, 16), (16, 24)]
    assert [c.lead for c in chunks] == [0, 4, 4]
    assert not any(c.continues for c in chunks)
    owned = [i for c in chunks for i in range(c.start, c.stop)]
    assert owned == list(range(24))  # every frame owned once
    # Tiny chunks are merged so that a piece is longer than the overlap.
    assert all(c.stop - c.start > 4 for c in plan_chunks(set(), 12, workers=8, overlap=4))
    # After finished frames, the first piece continues from them; the next has a lead-in.
    chunks = plan_chunks(set(range(6)), 24, workers=2, overlap=4)
    assert chunks == [Chunk(6, 6, 15, continues=True), Chunk(11, 15, 24, continues=False)]
    assert [(c.start, c.stop) for c in plan_chunks(set(), 24, workers=1, overlap=4, chunk_frames=8)] == [
        (0, 8),
        (8, 16),
        (16, 24),
    ]


def test_lead_in_shares_rise_evenly():
    assert [lead_share(i, 4) for i in range(4)] == [0.2, 0.4, 0.6, 0.8]


# -- flow -------------------------------------------------------------------------------------------


def test_the_time_left_counts_the_frame_in_hand_by_the_engines_estimate(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(video_job.time, "perf_counter", lambda: now[0])
    clock = video_job._Clock(work=10, started=0.0)

    def during(elapsed: float, eta: float) -> float:
        event = Progress(1, 9, 1, 1, 96, 64, {"total": 1.0}, elapsed=elapsed, fraction=0.1, eta=eta)
        return clock.progress(event, frame=0).eta

    now[0] = 4.0  # the first frame's engine expects 10 s for it (1 s gone, 9 s left)
    assert during(1.0, 9.0) == pytest.approx(9 + 9 * 10)
    now[0] = 20.0  # it took 20 s: the frames after it are counted at that pace
    clock.frame_done()
    assert clock.times() == (20.0, pytest.approx(9 * 20))
    assert during(1.0, 2.0) == pytest.approx(2 + 8 * 20)


def test_dis_flow_follows_the_disc_and_the_mask_finds_what_it_uncovers(clip):
    for t in (1, 12, 23):
        step = motion(clip.frames[t - 1], clip.frames[t])
        flow, trusted = clip.true_motion(t)
        disc = clip.disc(t)
        assert np.abs(step.backward[disc] - flow[disc]).mean() < 0.3  # pixels; the disc moves (2, 1) a frame
        assert np.abs(step.backward[~disc]).mean() < 0.1
        uncovered = clip.disc(t - 1) & ~disc & (trusted == 0)
        assert step.mask[uncovered].mean() < 0.3  # most uncovered pixels are marked untrusted
        assert step.mask[trusted > 0].mean() > 0.85
        warped = step.warp(clip.frames[t - 1].astype(np.float32))
        error = np.abs(warped - clip.frames[t]).mean(-1)
        assert error[step.mask > 0].mean() < 0.5 * error[step.mask == 0].mean()


def test_flow_computed_ahead_is_the_same_flow(clip):
    frames = list(enumerate(clip.frames[:4]))
    here = list(with_motion(frames, None))
    ahead = list(with_motion(frames, None, ahead=True))
    assert [i for i, _, _ in ahead] == [0, 1, 2, 3] and ahead[0][2] is None
    for (_, _, a), (_, _, b) in zip(here[1:], ahead[1:], strict=True):
        assert np.array_equal(a.backward, b.backward) and np.array_equal(a.mask, b.mask)
    continued = list(with_motion(frames[1:], clip.frames[0], ahead=True))
    assert np.array_equal(continued[0][2].mask, here[1][2].mask)


# -- media ----------------------------------------------------------------------------------------


def test_probe_and_read_frames(files, clip):
    video, _ = files
    info = probe(video)
    assert (info.width, info.height, info.frames, info.frame_rate, info.audio) == (96, 64, FRAMES, 24, "aac")
    frames = list(read_frames(video, (96, 64), 5, 8))
    assert [i for i, _ in frames] == [5, 6, 7]
    assert np.abs(frames[0][1].astype(int) - clip.frames[5]).mean() < 3  # nearly lossless
    assert working_size(1920, 1080, 0) == (1920, 1080)
    assert working_size(1920, 1080, 255) == (254, 142)  # even sides for 4:2:0


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov", ".webm"])
def test_written_video_keeps_rate_and_audio(tmp_path, files, clip, suffix):
    video, _ = files
    out = write_video(tmp_path / f"out{suffix}", iter(clip.frames), frame_rate=Fraction(24), audio_from=video)
    frames, rate = decoded(out)
    assert len(frames) == FRAMES and rate == 24
    assert np.abs(frames[10].astype(int) - clip.frames[10]).mean() < 6
    codec, packets = audio_packets(out)
    source_codec, source_packets = audio_packets(video)
    if suffix == ".webm":  # WebM takes no AAC: re-encoded to Opus, about as long
        assert codec == "opus"
        with av.open(str(out)) as container:
            assert abs(container.duration / 1e6 - 1.0) < 0.1
    else:  # copied packet for packet
        assert codec == source_codec == "aac"
        assert packets == source_packets
    assert not list(tmp_path.glob(".*part"))


# -- the frame loop ------------------------------------------------------------------------------


def test_video_mode_flickers_at_most_half_as_much_as_frames_alone(files, clip, tmp_path):
    """The issue's figure: the warping error of the video command's frames against frames
    stylized one by one, measured with the exact motion and with DIS's."""
    video, style = files
    out = tmp_path / "out.mp4"
    assert main([str(video), "--style", str(style), "-o", str(out), "--keep-frames", *QUICK]) == 0
    coherent = [decode_png(out.with_name("out.mp4.frames") / f"frame-{i:06d}.png") for i in range(FRAMES)]

    settings = Settings(size=96, start_size=64, steps=3, preview_every=0)
    stylist = FrameStylist([load_image(style).rgb], settings, temporal_weight=0.0)
    alone = [
        event.image
        for index, frame in read_frames(video, (96, 64))
        for event in stylist.run([(index, frame)])
        if isinstance(event, StylizedFrame)
    ]
    sources = [frame for _, frame in read_frames(video, (96, 64))]
    true_ratio = true_warping_error(clip, coherent) / true_warping_error(clip, alone)
    dis_ratio = warping_error(sources, coherent) / warping_error(sources, alone)
    print(f"warping error, video / frames alone: {true_ratio:.3f} (true motion), {dis_ratio:.3f} (DIS)")
    assert true_ratio <= 0.5 and dis_ratio <= 0.5
    # The frames are painted, not copies of the photo: the style changed them.
    assert np.abs(coherent[12].astype(int) - sources[12]).mean() > 20


def test_a_cut_starts_a_new_shot_painted_afresh(clip, files):
    """After a cut the flow finds little of the frame before: that frame is painted coarse to
    fine, not from a picture of the other shot."""
    other = moving_disc_clip(96, 64, 2, seed=5).frames
    frames = list(enumerate([clip.frames[0], clip.frames[1], other[0], other[1]]))
    settings = Settings(size=96, start_size=64, steps=1, preview_every=0)
    stylist = FrameStylist([load_image(files[1]).rgb], settings, temporal_weight=40.0)
    steps = [event.steps for event in stylist.run(frames) if isinstance(event, StylizedFrame)]
    assert steps[1] == steps[3] == 1 and steps[0] == steps[2] > 1


# -- the command ----------------------------------------------------------------------------------


def run_command(*args: str, cwd: Path) -> subprocess.Popen:
    env = os.environ | {"STYLE_CORE_WEIGHTS": "offline"}
    command = [sys.executable, "-m", "style_core.video", *args]
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_killed_run_resumes_where_it_stopped(files, tmp_path, capsys):
    video, style = files
    out = tmp_path / "out.mkv"
    args = [str(video), "--style", str(style), "-o", str(out), "--json", *QUICK]
    process = run_command(*args, cwd=tmp_path)
    finished = []
    for line in process.stdout:
        record = json.loads(line)
        if record["event"] == "frame":
            finished.append(record["frame"])
            assert Path(record["path"]).is_file()  # the preview of the frame just finished
            if len(finished) == 5:
                process.send_signal(signal.SIGKILL)
                break
    process.wait(timeout=60)
    folder = tmp_path / "out.mkv.frames"
    kept = sorted(int(p.stem.split("-")[1]) for p in folder.glob("frame-*.png"))
    assert kept[:5] == [0, 1, 2, 3, 4] and kept == list(range(len(kept))) and not out.exists()

    # Without --resume the frames are not touched: one line saying what to do.
    assert main(args) == 2
    assert "add --resume to continue it" in capsys.readouterr().err
    # With other settings, the resume is refused, naming what changed.
    assert main([*args, "--resume", "--seed", "7"]) == 2
    assert "settings.seed (0 then, 7 now)" in capsys.readouterr().err

    assert main([*args, "--resume"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0]["event"] == "video" and records[0]["done"] == len(kept)
    assert records[0]["work"] == FRAMES - len(kept)
    painted = [r["frame"] for r in records if r["event"] == "frame"]
    assert painted == list(range(len(kept), FRAMES))  # each missing frame once, none again
    assert records[-1]["event"] == "video-done"
    frames, rate = decoded(out)
    assert len(frames) == FRAMES and rate == 24
    assert audio_packets(out) == audio_packets(video)
    assert not folder.exists()  # removed once the video is written
    with av.open(str(out)) as container:
        recipe = json.loads(container.metadata["COMMENT"])
    assert recipe["settings"]["steps"] == 3 and recipe["temporal_weight"] == 40


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda v, s, t: [str(t / "nope.mp4"), "--style", str(s), "-o", str(t / "o.mp4")], "no such file"),
        (lambda v, s, t: [str(t / "bad.mp4"), "--style", str(s), "-o", str(t / "o.mp4")], "not a video FFmpeg"),
        (lambda v, s, t: [str(v), "--style", str(s), "-o", str(t / "o.avi")], "can't write a video as '.avi'"),
        (lambda v, s, t: [str(v), "--style", str(s), "-o", str(t / "o.mp4"), "--temporal-weight", "-1"], "outside"),
        (lambda v, s, t: [str(v), "--style", str(t / "x.png"), "-o", str(t / "o.mp4")], "style image 1"),
        (lambda v, s, t: [str(s), "--style", str(s), "-o", str(t / "o.mp4")], "a still picture, not a video"),
    ],
)
def test_user_errors_are_one_line(files, tmp_path, capsys, make_args, message):
    video, style = files
    (tmp_path / "bad.mp4").write_bytes(b"not a video at all")
    assert main(make_args(video, style, tmp_path)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("style-core: error:") and message in lines[0], lines


def test_a_missing_extra_names_the_install(tmp_path):
    code = "import sys; sys.modules['av'] = None; from style_core.cli.video import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", code, "in.mp4", "--style", "s.png", "-o", "o.mp4"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "pip install 'style-core[video]'" in proc.stderr and "Traceback" not in proc.stderr
