"""Reading and writing video files with PyAV (FFmpeg), streaming chunk by chunk.

Decoding is lazy: :func:`open_video` probes the file (format, size, rate, frame count, one
decodable frame) and returns a :class:`Video` whose source decodes the file again each time it
is iterated, so nothing but the handle is kept between nodes. Encoding pulls a video's chunks
and writes MP4 (H.264, yuv420p), WebM (VP9) or GIF (a palette per frame). GIF delays are whole
centiseconds, so a GIF plays at 100/k frames per second: 25 fps exactly, 30 fps as 33.3.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, Literal, cast

import av
import av.container
import av.error
import av.video.stream
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image

from components.nodes.video import X264_PRESETS
from drivers.video.chunks import (
    Chunk,
    LazySource,
    Monitor,
    NullMonitor,
    Video,
    VideoInputError,
    check_fps,
    drain,
)

logger = logging.getLogger("rxgen.video")

Format = Literal["mp4", "webm", "gif"]
FORMATS: Final[tuple[Format, ...]] = ("mp4", "webm", "gif")
CODECS: Final[Mapping[Format, str]] = {"mp4": "h264", "webm": "vp9", "gif": "gif"}
MIME: Final[Mapping[Format, str]] = {
    "mp4": "video/h264-mp4",
    "webm": "video/webm",
    "gif": "image/gif",
}
PRESETS: Final = X264_PRESETS
# veryfast encodes 512x512 at about 150 frames/s on 2 cores here: twice the 60 needed to keep
# up with decoding, with files a third the size of ultrafast's.
DEFAULT_PRESET: Final = "veryfast"
DEFAULT_CRF: Final[Mapping[Format, int]] = {"mp4": 19, "webm": 31, "gif": 0}
MAX_CRF: Final[Mapping[Format, int]] = {"mp4": 51, "webm": 63, "gif": 0}
# Still-image demuxers: FFmpeg opens a PNG as a one-frame "video", which is never what
# LoadVideo was meant for.
_STILL_FORMATS: Final = ("image2", "png_pipe", "jpeg_pipe", "webp_pipe", "bmp_pipe", "tiff_pipe")


@dataclass(frozen=True, slots=True)
class Probe:
    width: int
    height: int
    fps: float
    frame_count: int
    metadata: Mapping[str, str]


def probe(path: Path, force_rate: float = 0.0) -> Probe:
    """What :func:`open_video` needs to know, read without decoding the whole file."""
    name = path.name
    try:
        container = av.open(str(path), "r")
    except av.error.EOFError:
        raise VideoInputError(
            f"{name} ends before its first frame (it has no frames, or was cut short); "
            "upload a video with at least one frame"
        ) from None
    except (av.FFmpegError, OSError) as error:
        raise VideoInputError(
            f"{name} is not a video file FFmpeg can read ({_reason(error)}); "
            "upload an MP4, WebM, MOV, MKV or GIF"
        ) from None
    with container:
        if not container.streams.video:
            raise VideoInputError(f"{name} has no video stream (audio only?); upload a video")
        format_name = container.format.name
        if any(still in format_name.split(",") for still in _STILL_FORMATS):
            raise VideoInputError(f"{name} is a still image; load it with LoadImage instead")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        first = _first_frame(container, stream, name)
        width, height = width or first.width, height or first.height
        fps = float(force_rate) if force_rate else _rate(stream, name)
        count = stream.frames or _count_packets(path)
        if count < 1:
            raise VideoInputError(f"{name} has no frames; upload a video with at least one")
        metadata = {
            "source": name,
            "container": format_name,
            "codec": stream.codec_context.name,
            **{str(k): str(v)[:200] for k, v in list(container.metadata.items())[:16]},
        }
    return Probe(width, height, fps, count, metadata)


def _first_frame(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, name: str
) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.FFmpegError as error:
        raise VideoInputError(
            f"{name} could not be decoded ({_reason(error)}); the file is damaged or "
            "incomplete: upload it again"
        ) from None
    raise VideoInputError(f"{name} has no frames; upload a video with at least one")


def _rate(stream: av.video.stream.VideoStream, name: str) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    try:
        return check_fps(fps, "frame rate")
    except VideoInputError as error:
        raise VideoInputError(
            f"{name}: the file's {error}; set force_rate to the real rate"
        ) from None


def _count_packets(path: Path) -> int:
    # WebM headers rarely store a frame count; demuxing without decoding is fast (one packet
    # per frame for every codec LoadVideo accepts).
    with av.open(str(path), "r") as container:
        return sum(1 for packet in container.demux(video=0) if packet.size)


def open_video(path: Path, chunk_frames: int, force_rate: float = 0.0) -> Video:
    """A lazy video of the file at ``path``: each iteration decodes it again."""
    info = probe(path, force_rate)
    stat = path.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)

    def decode() -> Iterator[Chunk]:
        return decode_chunks(path, info, chunk_frames, stamp)

    return Video(
        width=info.width,
        height=info.height,
        fps=info.fps,
        frame_count=info.frame_count,
        source=LazySource(decode, f"decode {path.name}"),
        chunk_frames=chunk_frames,
        metadata=info.metadata,
    )


def decode_chunks(
    path: Path, info: Probe, chunk_frames: int, stamp: tuple[int, int] | None = None
) -> Iterator[Chunk]:
    """Exactly ``info.frame_count`` RGB frames of ``path``, ``chunk_frames`` at a time.

    A file whose decoder gives a few frames more or fewer than its header said (edit lists,
    a truncated last GOP) is conformed: extra frames are dropped, missing ones repeat the last.
    """
    if stamp is not None:
        stat = path.stat()
        if (stat.st_size, stat.st_mtime_ns) != stamp:
            raise VideoInputError(
                f"{path.name} changed since LoadVideo read it; load the new file under a new "
                "name so that cached results of the old one are not mixed with it"
            )
    total, width, height = info.frame_count, info.width, info.height
    buffer = np.empty((min(chunk_frames, total), height, width, 3), dtype=np.uint8)
    filled = done = 0
    last: Chunk | None = None
    with av.open(str(path), "r") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads: about 1.7x on two cores
        # One converter for the whole file: frame.to_ndarray(format=...) builds a new
        # (threaded) swscale context for every frame, which halved the decode rate.
        converter = VideoReformatter()
        try:
            for frame in container.decode(stream):
                rgb = converter.reformat(frame, width=width, height=height, format="rgb24")
                buffer[filled] = rgb.to_ndarray()
                filled += 1
                if filled == len(buffer):
                    yield buffer
                    last, done, filled = buffer[-1:], done + filled, 0
                    if done == total:
                        return
                    # A new buffer per chunk: the one just yielded may still be held downstream.
                    buffer = np.empty(
                        (min(chunk_frames, total - done), height, width, 3), dtype=np.uint8
                    )
        except av.FFmpegError as error:
            raise VideoInputError(
                f"{path.name} could not be decoded past frame {done + filled} "
                f"({_reason(error)}); the file is damaged: upload it again"
            ) from None
    if filled:
        last = buffer[filled - 1 : filled]
    if last is None:
        raise VideoInputError(f"{path.name} has no decodable frames; upload it again")
    missing = total - done - filled
    logger.warning("%s: decoder gave %d frames fewer than its header said", path.name, missing)
    buffer[filled:] = last
    yield buffer
    done += len(buffer)
    while done < total:
        size = min(chunk_frames, total - done)
        yield np.broadcast_to(last, (size, height, width, 3))
        done += size


def _reason(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


# --- encoding ---------------------------------------------------------------------------------


def encode(
    video: Video,
    path: Path,
    format: Format,
    *,
    crf: int | None = None,
    preset: str = DEFAULT_PRESET,
    monitor: Monitor | None = None,
) -> None:
    """Write ``video`` to ``path`` (which must not be in use); progress after every frame.

    MP4 is H.264 yuv420p, which needs even sizes: an odd width or height is padded by one
    row or column repeating the edge. A cancelled or failed encode leaves no file behind.
    """
    if format not in FORMATS:
        raise VideoInputError(f"format {format!r} is not one of {', '.join(FORMATS)}")
    if preset not in PRESETS:
        raise VideoInputError(f"preset {preset!r} is not one of {', '.join(PRESETS)}")
    # GIF has no quality knob (a palette per frame); a crf left over from MP4 is ignored.
    crf = DEFAULT_CRF[format] if crf is None or format == "gif" else int(crf)
    if not 0 <= crf <= MAX_CRF[format]:
        raise VideoInputError(f"crf {crf} is out of range for {format}; use 0 to {MAX_CRF[format]}")
    monitor = monitor or NullMonitor()
    rate = Fraction(video.fps).limit_denominator(1001)  # 29.97 -> 30000/1001 exactly
    width, height = video.width, video.height
    if format == "mp4":
        width, height = width + width % 2, height + height % 2
    try:
        with av.open(str(path), "w", format=format) as container:
            stream = _add_stream(container, format, rate, width, height, crf, preset)
            done = 0

            def write(chunk: Chunk) -> None:
                nonlocal done
                if chunk.shape[1:3] != (height, width):
                    chunk = _pad_even(chunk, height, width)
                for pixels in chunk:
                    frame = _to_frame(pixels, format)
                    container.mux(stream.encode(frame))
                    done += 1
                    monitor.progress(done, video.frame_count)

            drain(video, _CancelOnly(monitor), write)
            container.mux(stream.encode(None))
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class _CancelOnly:
    """Passes cancellation checks through but not chunk progress: encode reports per frame."""

    def __init__(self, monitor: Monitor) -> None:
        self._monitor = monitor

    def progress(self, value: int, max: int, preview: str | None = None) -> None:
        pass

    def raise_if_cancelled(self) -> None:
        self._monitor.raise_if_cancelled()


def _add_stream(
    container: av.container.OutputContainer,
    format: Format,
    rate: Fraction,
    width: int,
    height: int,
    crf: int,
    preset: str,
) -> Any:
    if format == "mp4":
        stream = container.add_stream("h264", rate=rate)
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
    elif format == "webm":
        stream = container.add_stream("libvpx-vp9", rate=rate)
        stream.pix_fmt = "yuv420p"
        # Constant quality (b=0 with crf), realtime speed scaled by the preset, rows in
        # parallel: libvpx's defaults are several times too slow for long clips.
        speed = max(2, 8 - PRESETS.index(preset))
        stream.options = {
            "crf": str(crf),
            "b": "0",
            "deadline": "realtime",
            "cpu-used": str(speed),
            "row-mt": "1",
        }
    else:
        stream = container.add_stream("gif", rate=rate)
        stream.pix_fmt = "pal8"
    stream.width, stream.height = width, height
    return stream


def _pad_even(chunk: Chunk, height: int, width: int) -> Chunk:
    pad_h, pad_w = height - chunk.shape[1], width - chunk.shape[2]
    return np.pad(chunk, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def _to_frame(pixels: Chunk, format: Format) -> av.VideoFrame:
    if format != "gif":
        return av.VideoFrame.from_ndarray(pixels, format="rgb24")
    # An adaptive palette per frame (octree: fast, and far better than FFmpeg's fixed 3-3-2
    # palette); one palette for the whole clip would need every frame before the first write.
    picture = Image.fromarray(pixels).quantize(256, method=Image.Quantize.FASTOCTREE)
    indices = np.asarray(picture, dtype=np.uint8)
    palette = np.zeros((256, 4), dtype=np.uint8)
    rgb = np.frombuffer(bytes(picture.getpalette() or []), dtype=np.uint8)[: 256 * 3]
    palette[: len(rgb) // 3, 1:] = rgb.reshape(-1, 3)
    palette[:, 0] = 255  # ARGB: opaque
    # The stubs do not know the (indices, palette) form that pal8 takes.
    return av.VideoFrame.from_ndarray(cast(Any, (indices, palette)), format="pal8")
