"""Slice, reverse, concat, loop, resize, frame rate changes and interpolation: what frames
come out, and in what order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from drivers.video import transforms
from drivers.video.chunks import (
    ChunkStore,
    StoredChunks,
    Video,
    VideoInputError,
    materialize,
    read_all,
)
from tests.drivers.video.clips import H, Tracked, W, columns, gradient, solid, stored


def numbered(count: int) -> np.ndarray:
    """Frames whose every pixel is the frame's index: easy to read back."""
    return np.broadcast_to(
        np.arange(count, dtype=np.uint8)[:, None, None, None], (count, H, W, 3)
    ).copy()


def ids(video: Video) -> list[int]:
    return [int(frame[0, 0, 0]) for frame in read_all(video)]


def test_slice_with_start_count_and_step(tmp_path: Path) -> None:
    video = stored(numbered(30), tmp_path / "c")
    assert ids(transforms.slice_video(video, 3, 5, 4)) == [3, 7, 11, 15, 19]
    assert ids(transforms.slice_video(video, 25)) == [25, 26, 27, 28, 29]
    assert ids(transforms.slice_video(video, 0, 0, 7)) == [0, 7, 14, 21, 28]
    assert transforms.slice_video(video, 28, 10).frame_count == 2


def test_slice_of_a_lazy_video_stops_pulling_after_its_last_frame() -> None:
    clip = Tracked(200, chunk_frames=8)
    assert ids(transforms.slice_video(clip.video(), 10, 3)) == [10, 11, 12]
    assert clip.made == 2  # frames 0-15: nothing after the chunk holding frame 12


def test_slice_outside_the_video_is_an_error(tmp_path: Path) -> None:
    video = stored(numbered(10), tmp_path / "c")
    with pytest.raises(VideoInputError, match="start 10 is outside the video"):
        transforms.slice_video(video, 10)
    with pytest.raises(VideoInputError, match="step must be at least 1"):
        transforms.slice_video(video, 0, 0, 0)


def test_reverse_stores_then_reads_backwards(tmp_path: Path) -> None:
    clip = Tracked(21, chunk_frames=4)
    reversed_video = transforms.reverse(clip.video(), ChunkStore(tmp_path / "c"))
    assert ids(reversed_video) == list(range(20, -1, -1))
    again = transforms.reverse(reversed_video, ChunkStore(tmp_path / "c"))
    assert ids(again) == list(range(21))


def test_concat_then_loop(tmp_path: Path) -> None:
    a = stored(numbered(5), tmp_path / "c")
    b = transforms.slice_video(stored(numbered(12), tmp_path / "c"), 9)
    joined = transforms.concat(a, b)
    assert ids(joined) == [0, 1, 2, 3, 4, 9, 10, 11]
    looped = transforms.loop(joined, 3)
    assert looped.frame_count == 24
    assert ids(looped) == [0, 1, 2, 3, 4, 9, 10, 11] * 3


def test_concat_of_different_sizes_needs_a_policy(tmp_path: Path) -> None:
    a = stored(solid(3, (10, 20, 30)), tmp_path / "c")
    b = stored(solid(2, (200, 100, 0), width=32, height=24), tmp_path / "c")
    with pytest.raises(VideoInputError, match=r"'video_2' is 32x24 but 'video_1' is 64x48"):
        transforms.concat(a, b)
    joined = read_all(transforms.concat(a, b, "stretch"))
    assert joined.shape == (5, H, W, 3)
    assert np.array_equal(joined[4], solid(1, (200, 100, 0))[0])


def test_resize_fit_modes(tmp_path: Path) -> None:
    video = stored(columns(2, 0, width=64, height=32), tmp_path / "c")
    stretched = read_all(transforms.resize(video, 32, 32, "nearest-exact"))
    assert stretched.shape == (2, 32, 32, 3)
    assert list(stretched[0, 0, :3, 0]) == [1, 3, 5]  # every second column (nearest-exact)
    cropped = read_all(transforms.resize(video, 32, 32, "nearest-exact", "crop"))
    assert cropped[0, 0, 0, 0] == 16 and cropped[0, 0, -1, 0] == 47  # the centre 32 columns
    padded = read_all(transforms.resize(video, 32, 32, "nearest-exact", "pad", 0xFF0000))
    assert list(padded[0, 0, 0]) == [255, 0, 0]  # letterbox bar in the pad colour
    assert list(padded[0, 8:24, 0, 1]) != [0] * 16  # the picture is in the middle rows
    with pytest.raises(VideoInputError, match="fit 'squash'"):
        transforms.resize(video, 8, 8, fit="squash")


def test_change_fps_nearest_drops_and_repeats_frames(tmp_path: Path) -> None:
    video = stored(numbered(10), tmp_path / "c", fps=30)
    half = transforms.change_fps(video, 15)
    assert (half.fps, ids(half)) == (15.0, [0, 2, 4, 6, 8])
    double = transforms.change_fps(video, 60)
    assert double.frame_count == 20
    assert ids(double) == [i // 2 for i in range(20)]
    odd = transforms.change_fps(stored(numbered(11), tmp_path / "c", 30), 15)
    assert ids(odd) == [0, 2, 4, 6, 8, 10]  # the last source frame still has its moment


def test_change_fps_blend_mixes_neighbours(tmp_path: Path) -> None:
    frames = np.broadcast_to(
        (np.arange(6, dtype=np.uint8) * 40)[:, None, None, None], (6, H, W, 3)
    ).copy()
    video = stored(frames, tmp_path / "c", fps=10)
    blended = transforms.change_fps(video, 20, "blend")
    assert ids(blended) == [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 200]


def test_interpolate_inserts_linear_blends(tmp_path: Path) -> None:
    frames = np.broadcast_to(
        (np.arange(4, dtype=np.uint8) * 60)[:, None, None, None], (4, H, W, 3)
    ).copy()
    video = stored(frames, tmp_path / "c", fps=8, chunk_frames=3)
    tripled = transforms.interpolate(video, 3)
    assert (tripled.frame_count, tripled.fps) == (10, 24.0)
    assert ids(tripled) == [0, 20, 40, 60, 80, 100, 120, 140, 160, 180]
    slower = transforms.interpolate(video, 2, adjust_fps=False)
    assert (slower.frame_count, slower.fps) == (7, 8.0)


def test_interpolation_across_many_chunks_keeps_memory_bounded() -> None:
    clip = Tracked(64, chunk_frames=4)
    video = transforms.interpolate(clip.video(), 4)
    out = [int(frame[0, 0, 0]) for chunk in video.chunks() for frame in chunk]
    assert out[:6] == [0, 0, 1, 1, 1, 1]  # 0, 0.25, 0.5 (rounds up), 0.75, 1, 1.25
    assert len(out) == 253
    assert clip.max_alive <= 2  # the chunk in use and the one before it (for its last frame)


def test_images_round_trip(tmp_path: Path) -> None:
    frames = gradient(3)
    images = transforms.frames_to_images(frames)
    assert images.dtype == torch.float32 and images.shape == (3, H, W, 3)
    assert np.array_equal(transforms.images_to_frames(images), frames)
    grey = torch.full((1, 4, 4, 1), 0.5)
    assert transforms.images_to_frames(grey).shape == (1, 4, 4, 3)


def test_materialize_dedups_identical_chunks(tmp_path: Path) -> None:
    store = ChunkStore(tmp_path / "c")
    looped = transforms.loop(stored(solid(8, (1, 2, 3)), tmp_path / "other", chunk_frames=8), 5)
    kept = materialize(looped, store)
    assert isinstance(kept.source, StoredChunks)
    assert len(kept.source.keys) == 5 and len(set(kept.source.keys)) == 1
    assert len(list((tmp_path / "c").rglob("*.npy"))) == 1
    assert read_all(kept).shape == (40, H, W, 3)
