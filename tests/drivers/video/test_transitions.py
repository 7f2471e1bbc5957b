"""Each transition at its first, middle and last mixed frame, against values worked out by
hand. Overlaps are 5 frames, so mixed frames sit at p = 1/6, 2/6, 3/6 (the middle), 4/6, 5/6,
and frames 0..6 of the 12 before the overlap are A's own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivers.video.chunks import Video, VideoInputError, read_all
from drivers.video.transitions import fade, transition
from tests.drivers.video.clips import H, W, columns, gradient, solid, stored

A_COLOR, B_COLOR = (200, 40, 10), (20, 220, 120)
N_A, N_B, D = 12, 9, 5
START, MIDDLE, END = N_A - D, N_A - D + 2, N_A - 1  # output indices of mixed frames 0, 2, 4


def clips(tmp_path: Path, kind: str = "solid") -> tuple[Video, Video]:
    if kind == "solid":
        a, b = solid(N_A, A_COLOR), solid(N_B, B_COLOR)
    else:
        a, b = columns(N_A, 0), columns(N_B, 100)
    # Chunks of 4 do not line up with the overlap: the mixing must split and pair them.
    return stored(a, tmp_path / "c", chunk_frames=4), stored(b, tmp_path / "c", chunk_frames=3)


def run(tmp_path: Path, kind: str, direction: str = "left", clip: str = "solid") -> np.ndarray:
    a, b = clips(tmp_path, clip)
    video = transition(a, b, kind, D, direction, 0x102030)
    assert video.frame_count == N_A + N_B - D
    frames = read_all(video)
    # Outside the overlap the clips pass through untouched.
    assert np.array_equal(frames[:START], read_all(a)[:START])
    assert np.array_equal(frames[N_A:], read_all(b)[D:])
    return frames


def lerp(a: tuple[int, ...], b: tuple[int, ...], p: float) -> np.ndarray:
    start, stop = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.asarray(np.rint(start + (stop - start) * p), dtype=np.float64)


def test_crossfade(tmp_path: Path) -> None:
    frames = run(tmp_path, "crossfade")
    mean = (np.asarray(A_COLOR) + np.asarray(B_COLOR) + 1) // 2
    assert list(frames[MIDDLE, 5, 5]) == list(mean)
    assert np.abs(frames[START, 0, 0] - lerp(A_COLOR, B_COLOR, 1 / 6)).max() <= 1
    assert np.abs(frames[END, 0, 0] - lerp(A_COLOR, B_COLOR, 5 / 6)).max() <= 1


def test_crossfade_middle_is_the_mean_of_two_pictures(tmp_path: Path) -> None:
    a = stored(gradient(7), tmp_path / "c", chunk_frames=2)
    b = stored(gradient(7, shift=40)[::-1].copy(), tmp_path / "c", chunk_frames=5)
    frames = read_all(transition(a, b, "crossfade", 3))
    expected = (read_all(a)[5].astype(int) + read_all(b)[1] + 1) // 2  # overlap: a 4..6, b 0..2
    assert np.array_equal(frames[5], expected)


def test_fade_to_color_goes_through_the_colour(tmp_path: Path) -> None:
    frames = run(tmp_path, "fade_to_color")
    color = (0x10, 0x20, 0x30)
    assert list(frames[MIDDLE, 0, 0]) == list(color)
    assert np.abs(frames[START, 0, 0] - lerp(A_COLOR, color, 2 / 6)).max() <= 1
    assert np.abs(frames[END, 0, 0] - lerp(color, B_COLOR, 4 / 6)).max() <= 1


@pytest.mark.parametrize(
    ("direction", "b_region"),
    [
        ("left", (slice(None), slice(W // 2, None))),  # B comes in from the right
        ("right", (slice(None), slice(None, W // 2))),
        ("up", (slice(H // 2, None), slice(None))),
        ("down", (slice(None, H // 2), slice(None))),
    ],
)
def test_wipe(tmp_path: Path, direction: str, b_region: tuple[slice, slice]) -> None:
    frames = run(tmp_path, "wipe", direction)
    middle = frames[MIDDLE]
    expected = np.broadcast_to(np.asarray(A_COLOR, np.uint8), middle.shape).copy()
    expected[b_region] = B_COLOR
    assert np.array_equal(middle, expected)
    size = W if direction in ("left", "right") else H
    # p = 1/6 and 5/6 of the width (or height) is B.
    for index, p in ((START, 1 / 6), (END, 5 / 6)):
        b_pixels = np.all(frames[index] == B_COLOR, axis=-1).sum()
        assert b_pixels == round(p * size) * (H if size == W else W)


def test_slide_left_moves_b_over_a(tmp_path: Path) -> None:
    frames = run(tmp_path, "slide", "left", clip="columns")
    row = frames[MIDDLE, 0, :, 0]
    assert list(row[:32]) == list(range(32))  # A stays where it was
    assert list(row[32:]) == list(range(100, 132))  # B's left half, at the right
    assert list(frames[START, 0, -11:, 0]) == list(range(100, 111))  # round(64/6) = 11 columns


def test_slide_down_moves_b_in_from_the_top(tmp_path: Path) -> None:
    frames = run(tmp_path, "slide", "down", clip="columns")
    column = frames[MIDDLE, :, 0, 1]
    assert list(column[:24]) == list(range(124, 148))  # B's bottom half, at the top
    assert list(column[24:]) == list(range(24, 48))


def test_push_right_moves_both(tmp_path: Path) -> None:
    frames = run(tmp_path, "push", "right", clip="columns")
    row = frames[MIDDLE, 0, :, 0]
    assert list(row[:32]) == list(range(132, 164))  # B's right half enters at the left
    assert list(row[32:]) == list(range(32))  # A's left half pushed to the right
    assert list(frames[END, 0, :53, 0]) == list(range(111, 164))  # round(5/6 * 64) = 53


def test_zoom_in_grows_b_from_the_centre(tmp_path: Path) -> None:
    frames = run(tmp_path, "zoom_in")
    for index, (w, h) in ((START, (11, 8)), (MIDDLE, (32, 24)), (END, (53, 40))):
        b_pixels = np.all(frames[index] == B_COLOR, axis=-1)
        assert b_pixels.sum() == w * h
        rows, cols = np.nonzero(b_pixels)
        assert (rows.min(), cols.min()) == ((H - h) // 2, (W - w) // 2)  # centred
        assert np.all(frames[index][~b_pixels] == A_COLOR)


def test_zoom_out_shrinks_a_into_the_centre(tmp_path: Path) -> None:
    frames = run(tmp_path, "zoom_out")
    a_pixels = np.all(frames[MIDDLE] == A_COLOR, axis=-1)
    assert a_pixels.sum() == 32 * 24 and a_pixels[12:36, 16:48].all()
    assert np.all(frames[END][~np.all(frames[END] == A_COLOR, axis=-1)] == B_COLOR)
    assert np.all(frames[END] == A_COLOR, axis=-1).sum() == 11 * 8  # 1/6 of each side left


def test_fade_in_and_out_of_one_clip(tmp_path: Path) -> None:
    video = stored(solid(10, (200, 100, 50)), tmp_path / "c", chunk_frames=3)
    faded_in = read_all(fade(video, "in", 4, 0x000000))
    assert [int(f[0, 0, 0]) for f in faded_in[:5]] == [0, 50, 100, 150, 200]
    faded_out = read_all(fade(video, "out", 4, 0xFFFFFF))
    assert list(faded_out[-1, 0, 0]) == [255, 255, 255]
    assert list(faded_out[5, 0, 0]) == [200, 100, 50]  # before the fade starts
    assert list(faded_out[7, 0, 0]) == list((np.array([200, 100, 50]) + 255 + 1) // 2)


def test_transition_errors_name_the_input(tmp_path: Path) -> None:
    a, b = clips(tmp_path)
    with pytest.raises(VideoInputError, match=r"frames 10 must be between 1 and 9"):
        transition(a, b, "crossfade", 10)
    small = stored(solid(9, B_COLOR, width=32, height=24), tmp_path / "c")
    with pytest.raises(VideoInputError, match=r"'video_b' is 32x24 but 'video_a' is 64x48.*size"):
        transition(a, small, "wipe", 3)
    fitted = transition(a, small, "crossfade", 3, size_mismatch="pad")
    assert read_all(fitted).shape == (18, H, W, 3)
    with pytest.raises(VideoInputError, match="transition 'dissolve'"):
        transition(a, b, "dissolve", 3)
    with pytest.raises(VideoInputError, match="direction 'diagonal'"):
        transition(a, b, "wipe", 3, "diagonal")
