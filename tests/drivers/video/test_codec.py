"""Encoding and decoding with real PyAV on real files: round trips, and files that are not
what LoadVideo needs."""

from __future__ import annotations

import os
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from drivers.video import codec
from drivers.video.chunks import VideoInputError, check_fps, read_all
from tests.drivers.video.clips import H, W, gradient, stored


def _error(frames: np.ndarray, back: np.ndarray) -> tuple[float, int]:
    diff = np.abs(frames.astype(np.int16) - back.astype(np.int16))
    return float(diff.mean()), int(diff.max())


@pytest.mark.parametrize(("fmt", "fps"), [("mp4", 30.0), ("mp4", 24.0), ("webm", 30.0)])
def test_lossy_round_trip_keeps_count_size_rate_and_pixels(
    tmp_path: Path, fmt: codec.Format, fps: float
) -> None:
    frames = gradient(20)
    path = tmp_path / f"clip.{fmt}"
    codec.encode(stored(frames, tmp_path / "chunks", fps), path, fmt)
    back = codec.open_video(path, chunk_frames=8)
    assert (back.width, back.height, back.frame_count) == (W, H, 20)
    assert back.fps == pytest.approx(fps)
    decoded = read_all(back)
    mean, worst = _error(frames, decoded)
    assert mean < 2.5, (mean, worst)  # codec tolerance on smooth gradients
    assert worst < 40
    assert back.metadata["source"] == path.name


def test_ntsc_rate_survives_as_30000_over_1001(tmp_path: Path) -> None:
    path = tmp_path / "ntsc.mp4"
    codec.encode(stored(gradient(6), tmp_path / "c", 30000 / 1001), path, "mp4")
    with av.open(str(path)) as container:
        assert container.streams.video[0].average_rate == Fraction(30000, 1001)
    assert codec.open_video(path, 8).fps == pytest.approx(29.97, abs=0.001)


def test_gif_round_trip_within_palette_tolerance(tmp_path: Path) -> None:
    frames = gradient(12)
    path = tmp_path / "clip.gif"
    # GIF delays are whole centiseconds: 25 fps (4 cs) is exact, 30 fps is not.
    codec.encode(stored(frames, tmp_path / "chunks", 25.0), path, "gif")
    back = codec.open_video(path, chunk_frames=5)
    assert (back.width, back.height, back.frame_count) == (W, H, 12)
    assert back.fps == pytest.approx(25.0)
    mean, worst = _error(frames, read_all(back))
    assert mean < 6.0, (mean, worst)
    assert worst < 64


def test_odd_sizes_are_padded_by_one_pixel_for_h264(tmp_path: Path) -> None:
    frames = gradient(4, width=33, height=25)
    path = tmp_path / "odd.mp4"
    codec.encode(stored(frames, tmp_path / "c"), path, "mp4")
    back = codec.open_video(path, 8)
    assert (back.width, back.height) == (34, 26)
    decoded = read_all(back)
    assert _error(frames, decoded[:, :25, :33])[0] < 3
    # The padding repeats the edge rather than adding a black line.
    assert _error(decoded[:, :25, 33], decoded[:, :25, 32])[0] < 4


def test_webm_keeps_odd_sizes(tmp_path: Path) -> None:
    path = tmp_path / "odd.webm"
    codec.encode(stored(gradient(3, width=33, height=25), tmp_path / "c"), path, "webm")
    back = codec.open_video(path, 8)
    assert (back.width, back.height, back.frame_count) == (33, 25, 3)


def test_not_a_video_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are not the frames you are looking for")
    with pytest.raises(VideoInputError, match=r"notes\.mp4 is not a video file.*upload an MP4"):
        codec.open_video(path, 8)


def test_a_still_image_is_refused_with_a_pointer_to_load_image(tmp_path: Path) -> None:
    path = tmp_path / "still.png"
    Image.new("RGB", (16, 16), "red").save(path)
    with pytest.raises(VideoInputError, match="still image; load it with LoadImage"):
        codec.open_video(path, 8)


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=44100)
        for _ in range(4):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate = 44100
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(VideoInputError, match="no video stream"):
        codec.open_video(path, 8)


def test_a_video_with_zero_frames(tmp_path: Path) -> None:
    path = tmp_path / "empty.mkv"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    with pytest.raises(VideoInputError, match="no frames"):
        codec.open_video(path, 8)


@pytest.mark.parametrize("fps", [0.0, -5.0, float("nan"), float("inf"), 1e6])
def test_absurd_frame_rates_are_refused(fps: float) -> None:
    with pytest.raises(VideoInputError, match="fps"):
        check_fps(fps)


def test_a_file_changed_after_loading_is_refused_when_read(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    codec.encode(stored(gradient(5), tmp_path / "c"), path, "mp4")
    video = codec.open_video(path, 8)
    with path.open("ab") as file:
        file.write(b"\0" * 10)
    with pytest.raises(VideoInputError, match="changed since LoadVideo read it"):
        read_all(video)


def test_decoder_count_is_conformed_to_the_header(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    codec.encode(stored(gradient(6), tmp_path / "c"), path, "mp4")
    info = codec.probe(path)
    longer = list(codec.decode_chunks(path, replace(info, frame_count=9), chunk_frames=4))
    assert [len(c) for c in longer] == [4, 4, 1]
    assert np.array_equal(longer[2][0], longer[1][1])  # missing frames repeat the last one
    shorter = list(codec.decode_chunks(path, replace(info, frame_count=3), chunk_frames=2))
    assert [len(c) for c in shorter] == [2, 1]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preset": "warp"}, "preset 'warp'"),
        ({"crf": 60}, "crf 60 is out of range for mp4"),
    ],
)
def test_bad_encoder_options_leave_no_file(
    tmp_path: Path, options: dict[str, object], message: str
) -> None:
    path = tmp_path / "x.mp4"
    video = stored(gradient(2), tmp_path / "c")
    with pytest.raises(VideoInputError, match=message):
        codec.encode(video, path, "mp4", **options)  # type: ignore[arg-type]
    assert not path.exists()
    assert os.listdir(tmp_path) == ["c"]
