"""Transitions between two clips, and fades of one clip from or to a colour.

A transition of ``frames`` frames overlaps the end of clip A with the start of clip B: the
result is A's first ``n_a - frames`` frames, ``frames`` mixed frames, then the rest of B
(``n_a + n_b - frames`` frames in all). Mixed frame ``i`` is drawn at progress
``p = (i + 1) / (frames + 1)``, so no mixed frame is a plain copy of A or B, and with an odd
``frames`` the middle one is at exactly ``p = 1/2``.

Directions say where the moving edge goes: a ``left`` wipe or slide brings B in from the right
edge, moving leftwards. The kernels work on whole chunks; the per-frame loops are over at most
a chunk's frames, each step a vectorised numpy operation on a full frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import numpy as np

from components.nodes.video import DIRECTIONS, FADE_MODES, TRANSITIONS
from drivers.video.chunks import Chunk, FrameReader, LazySource, Video, VideoInputError
from drivers.video.transforms import conform, mix, rgb, scale_chunk

# kernel(a, b, p, direction, color) -> the mixed chunk; p has one progress value per frame.
Kernel = Callable[[Chunk, Chunk, np.ndarray, str, tuple[int, int, int]], Chunk]


def crossfade(a: Chunk, b: Chunk, p: np.ndarray, direction: str, color: tuple[int, ...]) -> Chunk:
    return mix(a, b, p)


def fade_to_color(
    a: Chunk, b: Chunk, p: np.ndarray, direction: str, color: tuple[int, ...]
) -> Chunk:
    """A fades to ``color`` over the first half, B fades in from it over the second."""
    solid = np.broadcast_to(np.asarray(color, dtype=np.uint8), a.shape)
    out = np.empty_like(a)
    first = p <= 0.5
    if first.any():
        out[first] = mix(a[first], solid[first], p[first] * 2)
    if (~first).any():
        out[~first] = mix(solid[~first], b[~first], p[~first] * 2 - 1)
    return out


def _edge(p: float, size: int) -> int:
    """How many rows or columns of B show at progress ``p``."""
    return min(size, max(0, round(p * size)))


def wipe(a: Chunk, b: Chunk, p: np.ndarray, direction: str, color: tuple[int, ...]) -> Chunk:
    """B is revealed behind an edge that sweeps across the frame."""
    out = a.copy()
    height, width = a.shape[1:3]
    for i, progress in enumerate(p):
        if direction in ("left", "right"):
            k = _edge(progress, width)
            cols = slice(width - k, width) if direction == "left" else slice(0, k)
            out[i, :, cols] = b[i, :, cols]
        else:
            k = _edge(progress, height)
            rows = slice(height - k, height) if direction == "up" else slice(0, k)
            out[i, rows] = b[i, rows]
    return out


def slide(a: Chunk, b: Chunk, p: np.ndarray, direction: str, color: tuple[int, ...]) -> Chunk:
    """B slides in over A, which stays where it is."""
    return _move(a, b, p, direction, push=False)


def push(a: Chunk, b: Chunk, p: np.ndarray, direction: str, color: tuple[int, ...]) -> Chunk:
    """B slides in and pushes A out ahead of it."""
    return _move(a, b, p, direction, push=True)


def _move(a: Chunk, b: Chunk, p: np.ndarray, direction: str, push: bool) -> Chunk:
    out = a.copy()
    height, width = a.shape[1:3]
    for i, progress in enumerate(p):
        # Work on columns; up/down are the same moves on the transposed frame views.
        fa, fb, fo = a[i], b[i], out[i]
        if direction in ("up", "down"):
            fa, fb, fo = fa.swapaxes(0, 1), fb.swapaxes(0, 1), fo.swapaxes(0, 1)
        size = height if direction in ("up", "down") else width
        k = _edge(progress, size)
        if k == 0:
            continue
        if direction in ("left", "up"):  # B enters at the far edge
            fo[:, size - k :] = fb[:, :k]
            if push:
                fo[:, : size - k] = fa[:, k:]
        else:  # B enters at the near edge
            fo[:, :k] = fb[:, size - k :]
            if push:
                fo[:, k:] = fa[:, : size - k]
    return out


def zoom_in(a: Chunk, b: Chunk, p: np.ndarray, direction: str, color: tuple[int, ...]) -> Chunk:
    """B grows from the centre until it fills the frame."""
    return _zoom(a, b, p)


def zoom_out(a: Chunk, b: Chunk, p: np.ndarray, direction: str, color: tuple[int, ...]) -> Chunk:
    """A shrinks into the centre, uncovering B."""
    return _zoom(b, a, 1.0 - p)


def _zoom(back: Chunk, front: Chunk, scale: np.ndarray) -> Chunk:
    out = back.copy()
    height, width = back.shape[1:3]
    for i, s in enumerate(scale):
        w, h = _edge(float(s), width), _edge(float(s), height)
        if w == 0 or h == 0:
            continue
        top, left = (height - h) // 2, (width - w) // 2
        out[i, top : top + h, left : left + w] = scale_chunk(front[i : i + 1], w, h, "bilinear")[0]
    return out


KERNELS: Final[dict[str, Kernel]] = {
    "crossfade": crossfade,
    "fade_to_color": fade_to_color,
    "wipe": wipe,
    "slide": slide,
    "push": push,
    "zoom_in": zoom_in,
    "zoom_out": zoom_out,
}


def transition(
    a: Video,
    b: Video,
    kind: str = "crossfade",
    frames: int = 15,
    direction: str = "left",
    color: int = 0,
    size_mismatch: str = "error",
) -> Video:
    """A then B, the last ``frames`` of A mixed with the first ``frames`` of B by ``kind``.

    The result has A's frame rate and metadata; B is fitted to A's size by ``size_mismatch``
    (``error``, ``stretch``, ``crop`` or ``pad``).
    """
    kernel = KERNELS.get(kind)
    if kernel is None:
        raise VideoInputError(f"transition {kind!r} is not one of {', '.join(TRANSITIONS)}")
    if direction not in DIRECTIONS:
        raise VideoInputError(f"direction {direction!r} is not one of {', '.join(DIRECTIONS)}")
    fill = rgb(color)
    b = conform(b, a, size_mismatch, "video_b", "video_a")
    shortest = min(a.frame_count, b.frame_count)
    if not 1 <= frames <= shortest:
        raise VideoInputError(
            f"frames {frames} must be between 1 and {shortest}, the length of the shorter clip "
            f"(video_a has {a.frame_count}, video_b {b.frame_count}); use fewer frames"
        )
    overlap, lead = frames, a.frame_count - frames

    def mixed() -> Iterator[Chunk]:
        first, second = FrameReader(a.chunks()), FrameReader(b.chunks())
        try:
            yield from first.take(lead)
            done = 0
            while done < overlap:
                k = min(overlap - done, first.available(), second.available())
                if k == 0:
                    raise RuntimeError("a clip ended inside the transition")
                part_a, part_b = first.read(k), second.read(k)
                assert part_a is not None and part_b is not None
                p = (np.arange(done, done + k, dtype=np.float64) + 1) / (overlap + 1)
                yield kernel(part_a, part_b, p, direction, fill)
                done += k
            first.close()  # A is finished: release its decoder before B's long tail
            yield from second.rest()
        finally:
            first.close()
            second.close()

    total = a.frame_count + b.frame_count - overlap
    return a.derive(LazySource(mixed, f"transition {kind}"), frame_count=total)


def fade(video: Video, mode: str = "in", frames: int = 15, color: int = 0) -> Video:
    """``in``: the first ``frames`` come up from ``color`` (frame 0 is the plain colour);
    ``out``: the last ``frames`` go down to it (the last frame is the plain colour)."""
    if mode not in FADE_MODES:
        raise VideoInputError(f"mode {mode!r} is not one of {', '.join(FADE_MODES)}")
    if not 1 <= frames <= video.frame_count:
        raise VideoInputError(
            f"frames {frames} must be between 1 and the clip's length, {video.frame_count}"
        )
    fill = np.asarray(rgb(color), dtype=np.uint8)
    total = video.frame_count

    def faded() -> Iterator[Chunk]:
        offset = 0
        chunks = video.chunks()
        try:
            for chunk in chunks:
                index = np.arange(offset, offset + len(chunk), dtype=np.float64)
                offset += len(chunk)
                if mode == "in":
                    toward_color = np.clip(1.0 - index / frames, 0.0, 1.0)
                else:
                    toward_color = np.clip((index - (total - frames) + 1) / frames, 0.0, 1.0)
                if not toward_color.any():
                    yield chunk
                    continue
                solid = np.broadcast_to(fill, chunk.shape)
                yield mix(chunk, solid, toward_color)
        finally:
            chunks.close()

    return video.derive(LazySource(faded, f"fade {mode}"))
