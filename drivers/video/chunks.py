"""The VIDEO value: an immutable handle to frames that are streamed chunk by chunk.

A :class:`Video` carries its size, frame rate, frame count and metadata, and a *source* that
yields its frames as uint8 chunks ``(t, height, width, 3)``. Two kinds of source exist:

- :class:`StoredChunks`: frames already written to a :class:`ChunkStore`, one ``.npy`` file per
  chunk, named by the hash of its content (identical chunks are written once). A stored video
  can be read from any chunk, forwards or backwards.
- :class:`LazySource`: a recipe, a function that returns a fresh chunk iterator each time it is
  called (decode a file, then slice, then blend with another clip, ...). Operations on a video
  wrap its source in another lazy source, so a workflow becomes one streaming pipeline that the
  consuming node (SaveVideo, ImagesFromVideo) pulls through, one chunk at a time.

Either way a consumer holds a few chunks at once, whatever the length of the video, and the
handle itself is a few hundred bytes: that is what the node runner's output store accounts for.
Chunks are shared, read-only by convention: a transform never writes into a chunk it was given.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Protocol

import numpy as np
import numpy.typing as npt

from components.nodes.video import MAX_FPS, MAX_SIDE, MIN_FPS
from drivers.nodes.light_ops import NodeInputError

Chunk = npt.NDArray[np.uint8]  # (t, height, width, 3)
Chunks = Generator[Chunk, None, None]

DEFAULT_CHUNK_FRAMES: Final = 16  # 12 MiB at 512x512: small enough to hold several at once
MAX_FRAMES: Final = 10_000_000  # about 3.8 days at 30 fps: beyond it a count is a mistake


class VideoInputError(NodeInputError):
    """A video a node cannot work with; the message names the input and what to do."""


def check_fps(fps: float, name: str = "fps") -> float:
    """``fps`` as a float, or a VideoInputError naming ``name`` when it is not a usable rate."""
    if not isinstance(fps, int | float) or not np.isfinite(fps):
        raise VideoInputError(f"{name} must be a number of frames per second, got {fps!r}")
    if not MIN_FPS <= fps <= MAX_FPS:
        raise VideoInputError(
            f"{name} {fps:g} is out of range; use a frame rate between {MIN_FPS:g} and "
            f"{MAX_FPS:g} frames per second"
        )
    return float(fps)


class Monitor(Protocol):
    """What long operations report to: :class:`drivers.nodes.context.NodeContext` fits."""

    def progress(self, value: int, max: int, preview: str | None = None) -> None: ...

    def raise_if_cancelled(self) -> None: ...


class NullMonitor:
    """Progress goes nowhere and nothing is ever cancelled (library use, tests)."""

    def progress(self, value: int, max: int, preview: str | None = None) -> None:
        pass

    def raise_if_cancelled(self) -> None:
        pass


class FrameSource(Protocol):
    def chunks(self) -> Iterator[Chunk]:
        """A fresh iterator over the frames, in order, as non-empty chunks."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class Video:
    """Frames ``(frame_count, height, width, 3)`` uint8 at ``fps``, streamed from ``source``.

    Compared by identity: two handles with the same frames are still two values (content
    equality would mean reading every frame).
    """

    width: int
    height: int
    fps: float
    frame_count: int
    source: FrameSource = field(repr=False)
    chunk_frames: int = DEFAULT_CHUNK_FRAMES
    metadata: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not (1 <= self.width <= MAX_SIDE and 1 <= self.height <= MAX_SIDE):
            raise VideoInputError(
                f"a video must be between 1x1 and {MAX_SIDE}x{MAX_SIDE} pixels, "
                f"got {self.width}x{self.height}"
            )
        if self.frame_count < 1:
            raise VideoInputError(
                "a video needs at least one frame, got none; check the range you selected"
            )
        if self.frame_count > MAX_FRAMES:
            raise VideoInputError(
                f"{self.frame_count} frames is more than the {MAX_FRAMES} rxgen handles; "
                "use fewer loops, a lower frame rate or a shorter range"
            )
        if self.chunk_frames < 1:
            raise ValueError(f"chunk_frames must be at least 1, got {self.chunk_frames}")
        check_fps(self.fps)
        if not isinstance(self.metadata, MappingProxyType):
            object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.frame_count / self.fps

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        return (self.height, self.width, 3)

    def chunks(self) -> Chunks:
        """The frames in order, checked against the handle's size and count as they pass."""
        return _checked(self)

    def derive(self, source: FrameSource, **changes: Any) -> Video:
        """A video like this one (size, rate, metadata) with another source and ``changes``."""
        return replace(self, source=source, **changes)


def _checked(video: Video) -> Chunks:
    # A lazy recipe that yields the wrong shape or count is a bug in rxgen, not in the user's
    # input; failing here names it instead of producing a corrupt file further down.
    seen = 0
    iterator = video.source.chunks()
    try:
        for chunk in iterator:
            if chunk.ndim != 4 or chunk.shape[1:] != video.frame_shape or chunk.dtype != np.uint8:
                raise RuntimeError(
                    f"video source produced a chunk {chunk.shape} {chunk.dtype}; expected "
                    f"(t, {video.height}, {video.width}, 3) uint8"
                )
            if len(chunk) == 0:
                continue
            seen += len(chunk)
            if seen > video.frame_count:
                raise RuntimeError(f"video source produced more than {video.frame_count} frames")
            yield chunk
            del chunk  # not held while the source makes the next one
    finally:
        close(iterator)
    if seen != video.frame_count:
        raise RuntimeError(f"video source produced {seen} frames, expected {video.frame_count}")


@dataclass(frozen=True, slots=True, eq=False)
class LazySource:
    """Frames computed on demand: ``factory()`` returns a fresh iterator each time."""

    factory: Callable[[], Iterator[Chunk]]
    description: str = "lazy"

    def chunks(self) -> Iterator[Chunk]:
        return self.factory()


class ChunkStore:
    """Content-addressed chunk files under ``root``: ``root/ab/abcdef....npy``.

    Safe for concurrent writers (threads or processes): a chunk is written to a temporary file
    and renamed into place, so a reader never sees half a chunk, and two writers of the same
    chunk write the same bytes.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def put(self, chunk: Chunk) -> str:
        """Store ``chunk``; returns its key (the same for the same frames)."""
        data = np.ascontiguousarray(chunk, dtype=np.uint8)
        digest = hashlib.blake2b(repr(data.shape).encode(), digest_size=16)
        digest.update(data.data)
        key = digest.hexdigest()
        path = self.path(key)
        if path.exists():
            return key  # identical frames are stored once: loops and stills cost nothing more
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                np.save(file, data, allow_pickle=False)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> Chunk:
        path = self.path(key)
        try:
            chunk = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise FileNotFoundError(
                f"video chunk {key} is missing from {self.root}; the chunk store was cleaned "
                "while a video still used it: run the workflow again"
            ) from None
        if chunk.dtype != np.uint8 or chunk.ndim != 4:
            raise RuntimeError(f"video chunk {path} holds {chunk.dtype} {chunk.shape}, not frames")
        return np.asarray(chunk, dtype=np.uint8)


@dataclass(frozen=True, slots=True, eq=False)
class StoredChunks:
    """Frames held in a chunk store: ``keys[i]`` holds ``counts[i]`` frames."""

    store: ChunkStore
    keys: tuple[str, ...]
    counts: tuple[int, ...]

    def chunks(self) -> Chunks:
        for key in self.keys:
            yield self.store.get(key)

    def chunks_reversed(self) -> Chunks:
        """Chunks from the last to the first, each with its frames in reverse order."""
        for key in reversed(self.keys):
            yield self.store.get(key)[::-1]

    def chunks_from(self, frame: int) -> Chunks:
        """The frames from ``frame`` on, without reading the chunks before it."""
        start = 0
        for key, count in zip(self.keys, self.counts, strict=True):
            if start + count > frame:
                chunk = self.store.get(key)
                yield chunk[max(0, frame - start) :]
            start += count


class FrameReader:
    """Reads frames from a chunk iterator in any amounts, splitting chunks without copying."""

    def __init__(self, chunks: Iterator[Chunk]) -> None:
        self._chunks = chunks
        self._head: Chunk | None = None

    def available(self) -> int:
        """Frames readable without another pull beyond the current chunk; 0 at the end."""
        while self._head is None or len(self._head) == 0:
            self._head = None  # let the spent chunk go before the next one is made
            self._head = next(self._chunks, None)
            if self._head is None:
                return 0
        return len(self._head)

    def read(self, limit: int) -> Chunk | None:
        """Up to ``limit`` frames (at least one), or None at the end."""
        if self.available() == 0:
            return None
        assert self._head is not None
        out, self._head = self._head[:limit], self._head[limit:]
        return out

    def take(self, count: int) -> Iterator[Chunk]:
        """Exactly ``count`` frames as chunks; raises if the source ends first."""
        left = count
        while left > 0:
            chunk = self.read(left)
            if chunk is None:
                raise RuntimeError(f"video ended {left} frames early")
            left -= len(chunk)
            yield chunk

    def rest(self) -> Iterator[Chunk]:
        while (chunk := self.read(1 << 30)) is not None:
            yield chunk

    def close(self) -> None:
        close(self._chunks)


def close(iterator: Iterator[Chunk]) -> None:
    """Close ``iterator`` if it is a generator: its decoder or files are released now, not
    whenever the garbage collector gets to it."""
    closer = getattr(iterator, "close", None)
    if closer is not None:
        closer()


def rechunk(chunks: Iterator[Chunk], size: int) -> Chunks:
    """Chunks of exactly ``size`` frames (the last may be shorter), copying only to join."""
    reader = FrameReader(chunks)
    try:
        while reader.available():
            parts: list[Chunk] = []
            filled = 0
            while filled < size and (part := reader.read(size - filled)) is not None:
                parts.append(part)
                filled += len(part)
            # Drop the views before yielding: they would keep spent chunks alive while the
            # source makes the next ones.
            out = parts[0] if len(parts) == 1 else np.concatenate(parts)
            del parts, part
            yield out
            del out
    finally:
        reader.close()


def drain(
    video: Video, monitor: Monitor, on_chunk: Callable[[Chunk], None], per_frame: bool = False
) -> None:
    """Pull every chunk of ``video`` into ``on_chunk``: cancellation is checked between chunks,
    progress counts frames (after each chunk, or after each frame with ``per_frame``)."""
    done = 0
    total = video.frame_count
    monitor.raise_if_cancelled()
    iterator = video.chunks()
    try:
        for chunk in iterator:
            on_chunk(chunk)
            size = len(chunk)
            del chunk  # not held while the source makes the next one
            if per_frame:
                for _ in range(size):
                    done += 1
                    monitor.progress(done, total)
            else:
                done += size
                monitor.progress(done, total)
            monitor.raise_if_cancelled()
    finally:
        iterator.close()


def materialize(video: Video, store: ChunkStore, monitor: Monitor | None = None) -> Video:
    """``video`` with its frames written to ``store`` in chunks of ``video.chunk_frames``.

    Needed where frames must be read out of order (reverse) or where a value must not keep
    its inputs alive (frames made from an IMAGE tensor). A video already in ``store`` is
    returned as it is.
    """
    source = video.source
    if isinstance(source, StoredChunks) and source.store.root == store.root:
        return video
    keys: list[str] = []
    counts: list[int] = []

    def put(chunk: Chunk) -> None:
        keys.append(store.put(chunk))
        counts.append(len(chunk))

    regrouped = video.derive(LazySource(lambda: rechunk(video.chunks(), video.chunk_frames)))
    drain(regrouped, monitor or NullMonitor(), put)
    return video.derive(StoredChunks(store, tuple(keys), tuple(counts)))


def from_frames(
    frames: Chunk,
    fps: float,
    store: ChunkStore,
    chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    metadata: Mapping[str, str] | None = None,
) -> Video:
    """A stored video of ``frames`` ``(t, h, w, 3)`` uint8."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise VideoInputError(
            f"frames must be uint8 (t, h, w, 3), got {frames.dtype} {frames.shape}"
        )
    if len(frames) == 0:
        raise VideoInputError("frames is empty; a video needs at least one frame")
    keys: list[str] = []
    counts: list[int] = []
    for start in range(0, len(frames), chunk_frames):
        chunk = frames[start : start + chunk_frames]
        keys.append(store.put(chunk))
        counts.append(len(chunk))
    return Video(
        width=int(frames.shape[2]),
        height=int(frames.shape[1]),
        fps=check_fps(fps),
        frame_count=len(frames),
        source=StoredChunks(store, tuple(keys), tuple(counts)),
        chunk_frames=chunk_frames,
        metadata=metadata or {},
    )


def read_all(video: Video) -> Chunk:
    """Every frame in one array: only for short videos (tests, IMAGE conversion)."""
    out = np.empty((video.frame_count, *video.frame_shape), dtype=np.uint8)
    at = 0
    for chunk in video.chunks():
        out[at : at + len(chunk)] = chunk
        at += len(chunk)
    return out
