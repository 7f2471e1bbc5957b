"""Small synthetic clips for the video tests: gradients that move, solid colours, and lazy
clips that record how many of their chunks are alive at once."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from drivers.video.chunks import Chunk, ChunkStore, LazySource, Video, from_frames

W, H = 64, 48


def gradient(count: int, width: int = W, height: int = H, shift: int = 0) -> Chunk:
    """Smooth frames (easy on lossy codecs) that change from one frame to the next."""
    y, x = np.mgrid[0:height, 0:width]
    frames = np.empty((count, height, width, 3), dtype=np.uint8)
    for i in range(count):
        t = i + shift
        frames[i, ..., 0] = (x * 160 // width + t * 3) % 256
        frames[i, ..., 1] = (y * 160 // height + 40 + t * 2) % 256
        frames[i, ..., 2] = (100 + t * 5) % 256
    return frames


def solid(count: int, color: tuple[int, int, int], width: int = W, height: int = H) -> Chunk:
    return np.broadcast_to(np.asarray(color, np.uint8), (count, height, width, 3)).copy()


def columns(count: int, base: int, width: int = W, height: int = H) -> Chunk:
    """Red channel ``base + x`` (so moved columns can be told apart), green ``base + y``."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.stack([base + x, base + y, np.full_like(x, base)], axis=-1).astype(np.uint8)
    return np.broadcast_to(frame, (count, height, width, 3)).copy()


def stored(frames: Chunk, root: Path, fps: float = 30.0, chunk_frames: int = 8) -> Video:
    return from_frames(frames, fps, ChunkStore(root), chunk_frames)


class Tracked:
    """A lazy clip whose chunks are watched: ``max_alive`` is the most that existed at once
    (counted when each new chunk is made), ``made`` how many were made."""

    def __init__(
        self, count: int, chunk_frames: int = 8, width: int = W, height: int = H, fps: float = 30
    ) -> None:
        self.count, self.chunk_frames = count, chunk_frames
        self.width, self.height, self.fps = width, height, fps
        self._alive: list[weakref.ref[Any]] = []
        self.max_alive = 0
        self.made = 0

    def _chunks(self) -> Iterator[Chunk]:
        for start in range(0, self.count, self.chunk_frames):
            size = min(self.chunk_frames, self.count - start)
            chunk = np.empty((size, self.height, self.width, 3), dtype=np.uint8)
            chunk[...] = (np.arange(start, start + size) % 256).astype(np.uint8)[
                :, None, None, None
            ]
            self._alive = [ref for ref in self._alive if ref() is not None]
            self._alive.append(weakref.ref(chunk))
            self.max_alive = max(self.max_alive, len(self._alive))
            self.made += 1
            yield chunk
            del chunk

    def video(self) -> Video:
        return Video(
            width=self.width,
            height=self.height,
            fps=self.fps,
            frame_count=self.count,
            source=LazySource(self._chunks, "tracked"),
            chunk_frames=self.chunk_frames,
        )
