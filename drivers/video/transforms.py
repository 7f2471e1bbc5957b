"""Operations on videos: each returns a new :class:`Video` whose lazy source wraps its input's.

Nothing is computed when an operation is applied (apart from :func:`reverse`, which needs the
frames stored first); the work happens chunk by chunk when the result is consumed. Each stage
holds at most one input chunk plus a frame of look-ahead, so a pipeline's memory grows with its
depth, never with the length of the video.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F

from components.nodes.video import FIT_MODES, FPS_METHODS, RESIZE_METHODS, SIZE_POLICIES
from drivers.video.chunks import (
    MAX_FRAMES,
    Chunk,
    ChunkStore,
    LazySource,
    Monitor,
    StoredChunks,
    Video,
    VideoInputError,
    check_fps,
    materialize,
)

# --- selection --------------------------------------------------------------------------------


def slice_video(video: Video, start: int = 0, count: int = 0, step: int = 1) -> Video:
    """Frames ``start, start + step, ...``; at most ``count`` of them (0: all that remain)."""
    if step < 1:
        raise VideoInputError(f"step must be at least 1, got {step}")
    if count < 0:
        raise VideoInputError(f"count must be 0 (all) or more, got {count}")
    if not 0 <= start < video.frame_count:
        raise VideoInputError(
            f"start {start} is outside the video, which has frames 0 to {video.frame_count - 1}"
        )
    selected = len(range(start, video.frame_count, step))
    if count:
        selected = min(selected, count)
    stop = start + (selected - 1) * step + 1  # one past the last selected frame

    def frames() -> Iterator[Chunk]:
        source = video.source
        # A stored video skips the chunks before ``start`` without reading them.
        chunks = source.chunks_from(start) if isinstance(source, StoredChunks) else video.chunks()
        offset = start if isinstance(source, StoredChunks) else 0
        try:
            for chunk in chunks:
                end = offset + len(chunk)
                if end > start:
                    first = max(start, offset)
                    first += (start - first) % step  # the next selected frame in this chunk
                    if first < min(end, stop):
                        yield chunk[first - offset : min(end, stop) - offset : step]
                offset = end
                if offset >= stop:
                    return  # stop decoding: nothing further is selected
        finally:
            chunks.close()

    return video.derive(LazySource(frames, "slice"), frame_count=selected)


def reverse(video: Video, store: ChunkStore, monitor: Monitor | None = None) -> Video:
    """The frames last to first. The video is stored first (progress reports that), since
    decoders only run forwards; then each chunk is read backwards, one at a time."""
    stored = materialize(video, store, monitor)
    source = stored.source
    assert isinstance(source, StoredChunks)
    return stored.derive(LazySource(source.chunks_reversed, "reverse"))


def concat(first: Video, second: Video, size_mismatch: str = "error") -> Video:
    """``first`` then ``second``, at ``first``'s frame rate; ``second`` is fitted to ``first``'s
    size by ``size_mismatch`` (see :func:`conform`)."""
    second = conform(second, first, size_mismatch, "video_2", "video_1")
    total = first.frame_count + second.frame_count

    def frames() -> Iterator[Chunk]:
        yield from first.chunks()
        yield from second.chunks()

    return first.derive(LazySource(frames, "concat"), frame_count=total)


def loop(video: Video, times: int) -> Video:
    """``video`` played ``times`` times in a row."""
    if times < 1:
        raise VideoInputError(f"times must be at least 1, got {times}")
    if video.frame_count * times > MAX_FRAMES:
        raise VideoInputError(
            f"looping {video.frame_count} frames {times} times exceeds {MAX_FRAMES} frames; "
            "loop fewer times"
        )

    def frames() -> Iterator[Chunk]:
        for _ in range(times):
            yield from video.chunks()

    return video.derive(LazySource(frames, "loop"), frame_count=video.frame_count * times)


# --- size -------------------------------------------------------------------------------------


def resize(
    video: Video,
    width: int,
    height: int,
    method: str = "bilinear",
    fit: str = "stretch",
    pad_color: int = 0,
) -> Video:
    """Every frame scaled to ``width`` x ``height``.

    ``fit``: ``stretch`` ignores the aspect ratio, ``crop`` cuts the centre to the target's
    aspect first, ``pad`` scales to fit inside and fills the rest with ``pad_color`` (0xRRGGBB).
    """
    if method not in RESIZE_METHODS:
        raise VideoInputError(f"method {method!r} is not one of {', '.join(RESIZE_METHODS)}")
    if fit not in FIT_MODES:
        raise VideoInputError(f"fit {fit!r} is not one of {', '.join(FIT_MODES)}")
    if width < 1 or height < 1:
        raise VideoInputError(f"width and height must be at least 1, got {width}x{height}")
    if (width, height) == (video.width, video.height):
        return video
    color = rgb(pad_color)

    def frames() -> Iterator[Chunk]:
        for chunk in video.chunks():
            yield fit_chunk(chunk, width, height, method, fit, color)

    return video.derive(LazySource(frames, "resize"), width=width, height=height)


def conform(video: Video, like: Video, policy: str, name: str, other: str) -> Video:
    """``video`` at ``like``'s size: unchanged if it already is, else per ``policy``."""
    if (video.width, video.height) == (like.width, like.height):
        return video
    if policy not in SIZE_POLICIES:
        raise VideoInputError(f"size_mismatch {policy!r} is not one of {', '.join(SIZE_POLICIES)}")
    if policy == "error":
        raise VideoInputError(
            f"input {name!r} is {video.width}x{video.height} but {other!r} is "
            f"{like.width}x{like.height}; set size_mismatch to stretch, crop or pad, or resize "
            "one of them with VideoResize first"
        )
    return resize(video, like.width, like.height, "bilinear", policy)


def rgb(color: int) -> tuple[int, int, int]:
    """0xRRGGBB as (r, g, b)."""
    if not 0 <= int(color) <= 0xFFFFFF:
        raise VideoInputError(f"color {color} is not a 0xRRGGBB value (0 to {0xFFFFFF})")
    color = int(color)
    return (color >> 16) & 0xFF, (color >> 8) & 0xFF, color & 0xFF


def fit_chunk(
    chunk: Chunk, width: int, height: int, method: str, fit: str, color: tuple[int, int, int]
) -> Chunk:
    """One chunk resized (see :func:`resize`)."""
    _, old_h, old_w, _ = chunk.shape
    if fit == "crop":
        # The largest centred window with the target's aspect ratio.
        crop_w = min(old_w, max(1, round(old_h * width / height)))
        crop_h = min(old_h, max(1, round(old_w * height / width)))
        top, left = (old_h - crop_h) // 2, (old_w - crop_w) // 2
        return scale_chunk(
            chunk[:, top : top + crop_h, left : left + crop_w], width, height, method
        )
    if fit == "pad":
        factor = min(width / old_w, height / old_h)
        inner_w = min(width, max(1, round(old_w * factor)))
        inner_h = min(height, max(1, round(old_h * factor)))
        out = np.empty((len(chunk), height, width, 3), dtype=np.uint8)
        out[:] = np.asarray(color, dtype=np.uint8)
        top, left = (height - inner_h) // 2, (width - inner_w) // 2
        out[:, top : top + inner_h, left : left + inner_w] = scale_chunk(
            chunk, inner_w, inner_h, method
        )
        return out
    return scale_chunk(chunk, width, height, method)


def scale_chunk(chunk: Chunk, width: int, height: int, method: str) -> Chunk:
    if chunk.shape[1:3] == (height, width):
        return chunk
    samples = torch.from_numpy(np.ascontiguousarray(chunk)).permute(0, 3, 1, 2).float()
    # Antialiasing keeps downscaled frames from shimmering; it exists only for these modes.
    smooth = method in ("bilinear", "bicubic")
    scaled = F.interpolate(
        samples,
        size=(height, width),
        mode=method,
        **({"antialias": True, "align_corners": False} if smooth else {}),
    )
    out = scaled.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()
    return np.asarray(out.numpy(), dtype=np.uint8)


# --- time -------------------------------------------------------------------------------------


def change_fps(video: Video, fps: float, method: str = "nearest") -> Video:
    """The same duration at ``fps``: frames are dropped or repeated (``nearest``), or the two
    neighbours of each new frame's time are mixed (``blend``)."""
    fps = check_fps(fps)
    if method not in FPS_METHODS:
        raise VideoInputError(f"method {method!r} is not one of {', '.join(FPS_METHODS)}")
    step = _fraction(video.fps) / _fraction(fps)  # source frames per output frame
    if step == 1:
        return video.derive(video.source, fps=fps)  # 29.97 vs 30000/1001: the same rate
    count = math.ceil(video.frame_count / step)  # every output time that falls inside the clip
    if count > MAX_FRAMES:
        raise VideoInputError(f"{fps:g} fps would make {count} frames; use a lower rate")
    return resample(video, step, count, blend=method == "blend", fps=fps)


def interpolate(video: Video, multiplier: int, adjust_fps: bool = True) -> Video:
    """``multiplier - 1`` linearly blended frames between each pair of neighbours.

    ``(n - 1) * multiplier + 1`` frames; with ``adjust_fps`` the rate is multiplied too, so the
    clip lasts as long and moves more smoothly, else it plays slower.
    """
    if multiplier < 1:
        raise VideoInputError(f"multiplier must be at least 1, got {multiplier}")
    count = (video.frame_count - 1) * multiplier + 1
    fps = video.fps * multiplier if adjust_fps else video.fps
    if adjust_fps:
        fps = check_fps(fps, f"the new frame rate ({video.fps:g} x {multiplier})")
    if count > MAX_FRAMES:
        raise VideoInputError(f"x{multiplier} would make {count} frames; use a lower multiplier")
    return resample(video, Fraction(1, multiplier), count, blend=True, fps=fps)


def resample(video: Video, step: Fraction, count: int, blend: bool, fps: float) -> Video:
    """Output frame ``j`` shows source time ``j * step`` (in source frames): the frame at its
    floor, or with ``blend`` that frame mixed with the next by the fractional part."""
    num, den = step.numerator, step.denominator
    batch = video.chunk_frames
    total = video.frame_count

    def frames() -> Iterator[Chunk]:
        produced = 0  # output frames yielded so far
        offset = 0  # source index of the current chunk's first frame
        previous: Chunk | None = None  # the frame before it: blends may straddle two chunks
        chunks = video.chunks()
        try:
            for chunk in chunks:
                end = offset + len(chunk)
                # Every output whose frames are in hand: all of them at the last chunk, else
                # those whose floor (and, blending, the frame after it) is before ``end``.
                limit = end - 1 if blend else end
                ready = count if end >= total else min(count, -(-limit * den // num))
                for first in range(produced, ready, batch):
                    j = np.arange(first, min(first + batch, ready), dtype=np.int64)
                    index = (j * num) // den
                    a = _gather(chunk, previous, index - offset)
                    weight = ((j * num) % den) / den
                    if blend and weight.any():
                        after = np.minimum(index + 1, total - 1)
                        a = mix(a, _gather(chunk, previous, after - offset), weight)
                    yield a
                produced = max(produced, ready)
                previous, offset = chunk[-1:], end
        finally:
            chunks.close()

    return video.derive(LazySource(frames, "resample"), frame_count=count, fps=fps)


def _gather(chunk: Chunk, previous: Chunk | None, local: np.ndarray) -> Chunk:
    # Fancy indexing copies just the selected frames; -1 means the previous chunk's last frame.
    out: Chunk = chunk[np.maximum(local, 0)]
    before = local < 0
    if before.any():
        assert previous is not None
        out[before] = previous
    return out


def mix(a: Chunk, b: Chunk, weight: np.ndarray) -> Chunk:
    """Per frame ``a + (b - a) * weight`` in 8-bit fixed point: ``(a (256 - w) + b w + 128) >> 8``
    with ``w = round(256 weight)``; exact at 0, 1/2 (rounds halves up) and 1."""
    w = np.rint(np.asarray(weight, dtype=np.float64) * 256).astype(np.uint16)
    w = w.reshape(-1, *([1] * (a.ndim - 1)))
    # In place where possible: the uint16 temporaries are twice the chunk's size each.
    out = a.astype(np.uint16)
    out *= 256 - w
    other = b.astype(np.uint16)
    other *= w
    out += other
    del other
    out += 128
    out >>= 8
    return out.astype(np.uint8)


def _fraction(fps: float) -> Fraction:
    # Rates come from headers and widgets as floats; 29.97 should mean 30000/1001.
    return Fraction(fps).limit_denominator(1001)


# --- IMAGE conversion -------------------------------------------------------------------------


def frames_to_images(frames: Chunk) -> torch.Tensor:
    """uint8 ``(t, h, w, 3)`` -> IMAGE float32 ``(t, h, w, 3)`` in 0..1."""
    return torch.from_numpy(np.ascontiguousarray(frames)).to(torch.float32).div_(255.0)


def images_to_frames(images: torch.Tensor) -> Chunk:
    """IMAGE -> uint8, rounding (so frames -> images -> frames is exact); greyscale is
    repeated to RGB and alpha dropped."""
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise VideoInputError(f"images must be an IMAGE [B,H,W,C], got {tuple(images.shape)}")
    pixels = images.detach().to("cpu", torch.float32)
    if pixels.shape[-1] == 1:
        pixels = pixels.expand(*pixels.shape[:-1], 3)
    pixels = torch.nan_to_num(pixels[..., :3]).mul(255.0).round_().clamp_(0, 255)
    return np.ascontiguousarray(pixels.to(torch.uint8).numpy(), dtype=np.uint8)
