"""Implementations of the nodes defined in ``components/nodes/video.py``.

Most nodes only compose lazy recipes and return at once; the frames are computed when a
consuming node pulls them: SaveVideo (progress after every encoded frame), ImagesFromVideo,
VideoReverse (which stores its input first). Those check for cancellation between chunks.

Stored frames go to a chunk store: ``chunk_root`` if given to :class:`VideoOps`, else
``video_chunks`` under the node context's temp directory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, cast

import numpy as np
import torch

from components.nodes.video import VIDEO_CODECS, VIDEO_FORMATS
from drivers.nodes.context import NodeContext, NodeImplementation, NodeResult
from drivers.nodes.input_ops import resolve_input
from drivers.nodes.output_ops import expand_prefix, next_counter, resolve_prefix
from drivers.video import codec, transforms, transitions
from drivers.video.chunks import (
    DEFAULT_CHUNK_FRAMES,
    ChunkStore,
    Video,
    VideoInputError,
    check_fps,
    drain,
    from_frames,
)

DEFAULT_MAX_IMAGE_BYTES: Final = 4 << 30  # ImagesFromVideo: beyond this, ask for a slice


@contextmanager
def _named(node: str) -> Iterator[None]:
    """Prefix the node type to input errors raised by the library below."""
    try:
        yield
    except VideoInputError as error:
        text = str(error)
        if text.startswith(f"{node}: "):
            raise
        raise VideoInputError(f"{node}: {text}") from None


def _video(inputs: Mapping[str, Any], node: str, name: str = "video") -> Video:
    value = inputs.get(name)
    if value is None:
        raise VideoInputError(f"{node}: required input {name!r} was not given; link a VIDEO")
    if not isinstance(value, Video):
        raise VideoInputError(
            f"{node}: input {name!r} must be a VIDEO, got {type(value).__name__}; link the "
            "output of LoadVideo, VideoFromImages or another video node"
        )
    return value


def _int(inputs: Mapping[str, Any], node: str, name: str, default: int) -> int:
    value = inputs.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise VideoInputError(f"{node}: input {name!r} must be a whole number, got {value!r}")
    return int(value)


def _float(inputs: Mapping[str, Any], node: str, name: str, default: float) -> float:
    value = inputs.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VideoInputError(f"{node}: input {name!r} must be a number, got {value!r}")
    return float(value)


def _str(inputs: Mapping[str, Any], name: str, default: str) -> str:
    return str(inputs.get(name, default))


class VideoOps:
    """The video node implementations, writing stored chunks under ``chunk_root``."""

    def __init__(
        self,
        chunk_root: str | Path | None = None,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
        max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES,
    ) -> None:
        if chunk_frames < 1:
            raise ValueError(f"VideoOps: chunk_frames must be at least 1, got {chunk_frames}")
        self.chunk_root = Path(chunk_root) if chunk_root is not None else None
        self.chunk_frames = chunk_frames
        self.max_image_bytes = max_image_bytes

    def implementations(self) -> Mapping[str, NodeImplementation]:
        return {
            "LoadVideo": self.load_video,
            "SaveVideo": self.save_video,
            "VideoFromImages": self.video_from_images,
            "ImagesFromVideo": self.images_from_video,
            "VideoInfo": self.video_info,
            "VideoSlice": self.video_slice,
            "VideoReverse": self.video_reverse,
            "VideoConcat": self.video_concat,
            "VideoLoop": self.video_loop,
            "VideoResize": self.video_resize,
            "VideoChangeFps": self.video_change_fps,
            "VideoInterpolate": self.video_interpolate,
            "VideoTransition": self.video_transition,
            "VideoFade": self.video_fade,
        }

    def store(self, ctx: NodeContext, node: str) -> ChunkStore:
        root = self.chunk_root
        if root is None and ctx.temp_dir is not None:
            root = ctx.temp_dir / "video_chunks"
        if root is None:
            raise RuntimeError(
                f"{node}: no place to store video frames; pass temp_dir= to the NodeRunner or "
                "chunk_root= to VideoOps"
            )
        return ChunkStore(root)

    # --- files --------------------------------------------------------------------------------

    def load_video(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        node = "LoadVideo"
        name = inputs.get("file")
        if not isinstance(name, str) or not name:
            raise VideoInputError(f"{node}: input 'file' must name a video in the input directory")
        path = resolve_input(name, ctx.input_dir, node)
        force_rate = _float(inputs, node, "force_rate", 0.0)
        with _named(node):
            if force_rate:
                check_fps(force_rate, "force_rate")
            video = codec.open_video(path, self.chunk_frames, force_rate)
        return (video, video.frame_count, video.fps)

    def save_video(self, inputs: Mapping[str, Any], ctx: NodeContext) -> NodeResult:
        node = "SaveVideo"
        if ctx.output_dir is None:
            raise RuntimeError(
                f"{node}: no output directory is configured; pass output_dir= to the NodeRunner"
            )
        video = _video(inputs, node)
        fmt = self._format(inputs, node)
        crf = _int(inputs, node, "crf", -1)
        preset = _str(inputs, "preset", codec.DEFAULT_PRESET)
        prefix = _str(inputs, "filename_prefix", "video/rxgen")
        folder, subfolder, stem = resolve_prefix(
            expand_prefix(prefix, video.width, video.height), ctx.output_dir, node
        )
        folder.mkdir(parents=True, exist_ok=True)
        path = _claim(folder, stem, fmt)
        try:
            with _named(node):
                codec.encode(
                    video, path, fmt, crf=None if crf < 0 else crf, preset=preset, monitor=ctx
                )
        except BaseException:
            path.unlink(missing_ok=True)  # the claimed name, if encode failed before opening it
            raise
        entry = {"filename": path.name, "subfolder": subfolder, "type": "output"}
        detail = {
            **entry,
            "format": codec.MIME[fmt],
            "frame_rate": video.fps,
            "frame_count": video.frame_count,
        }
        # ComfyUI's own SaveVideo reports "images" with "animated"; VideoHelperSuite clients
        # read "gifs"; rxgen's client reads "videos".
        return NodeResult(
            outputs=(),
            ui={"videos": [detail], "gifs": [detail], "images": [entry], "animated": [True]},
        )

    def _format(self, inputs: Mapping[str, Any], node: str) -> codec.Format:
        fmt = _str(inputs, "format", "auto")
        wanted = _str(inputs, "codec", "auto")
        if fmt not in VIDEO_FORMATS:
            raise VideoInputError(f"{node}: format {fmt!r} is not one of {VIDEO_FORMATS}")
        if wanted not in VIDEO_CODECS:
            raise VideoInputError(f"{node}: codec {wanted!r} is not one of {VIDEO_CODECS}")
        if fmt == "auto":
            by_codec = {c: f for f, c in codec.CODECS.items()}
            fmt = by_codec.get(wanted, "mp4")
        chosen = cast(codec.Format, fmt)
        if wanted not in ("auto", codec.CODECS[chosen]):
            raise VideoInputError(
                f"{node}: codec {wanted!r} does not go in {fmt}; {fmt} takes "
                f"{codec.CODECS[chosen]} (set codec to auto)"
            )
        return chosen

    # --- IMAGE <-> VIDEO ----------------------------------------------------------------------

    def video_from_images(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        node = "VideoFromImages"
        images = inputs.get("images")
        if not isinstance(images, torch.Tensor):
            raise VideoInputError(f"{node}: input 'images' must be an IMAGE, got {images!r:.60}")
        fps = _float(inputs, node, "fps", 24.0)
        with _named(node):
            check_fps(fps)
            frames = transforms.images_to_frames(images)
            if len(frames) == 0:
                raise VideoInputError("input 'images' is an empty batch; a video needs a frame")
            # Stored, not kept as a tensor: the handle must not hold the pixels (the output
            # store counts handles as a few bytes).
            video = from_frames(frames, fps, self.store(ctx, node), self.chunk_frames)
        ctx.progress(video.frame_count, video.frame_count)
        return (video,)

    def images_from_video(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        node = "ImagesFromVideo"
        video = _video(inputs, node)
        needed = video.frame_count * video.height * video.width * 3 * 4
        if needed > self.max_image_bytes:
            raise VideoInputError(
                f"{node}: {video.frame_count} frames of {video.width}x{video.height} would take "
                f"{needed / 2**30:.1f} GiB as images (limit {self.max_image_bytes / 2**30:.1f} "
                "GiB); select fewer frames with VideoSlice or make them smaller with VideoResize"
            )
        images = torch.empty((video.frame_count, video.height, video.width, 3))
        at = 0

        def put(chunk: np.ndarray) -> None:
            nonlocal at
            images[at : at + len(chunk)] = transforms.frames_to_images(chunk)
            at += len(chunk)

        with _named(node):
            drain(video, ctx, put)
        return (images, video.frame_count, video.fps)

    def video_info(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        video = _video(inputs, "VideoInfo")
        return (video.frame_count, video.fps, video.width, video.height, video.duration)

    # --- transforms ---------------------------------------------------------------------------

    def video_slice(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoSlice"
        video = _video(inputs, node)
        start, count = _int(inputs, node, "start", 0), _int(inputs, node, "count", 0)
        step = _int(inputs, node, "step", 1)
        with _named(node):
            return (transforms.slice_video(video, start, count, step),)

    def video_reverse(self, inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[Any, ...]:
        node = "VideoReverse"
        video = _video(inputs, node)
        with _named(node):
            return (transforms.reverse(video, self.store(ctx, node), ctx),)

    def video_concat(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoConcat"
        first, second = _video(inputs, node, "video_1"), _video(inputs, node, "video_2")
        with _named(node):
            return (transforms.concat(first, second, _str(inputs, "size_mismatch", "error")),)

    def video_loop(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoLoop"
        video = _video(inputs, node)
        with _named(node):
            return (transforms.loop(video, _int(inputs, node, "times", 2)),)

    def video_resize(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoResize"
        video = _video(inputs, node)
        width, height = _int(inputs, node, "width", 512), _int(inputs, node, "height", 512)
        with _named(node):
            resized = transforms.resize(
                video,
                width,
                height,
                _str(inputs, "method", "bilinear"),
                _str(inputs, "fit", "stretch"),
                _int(inputs, node, "pad_color", 0),
            )
        return (resized,)

    def video_change_fps(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoChangeFps"
        video = _video(inputs, node)
        fps = _float(inputs, node, "fps", 24.0)
        with _named(node):
            return (transforms.change_fps(video, fps, _str(inputs, "method", "nearest")),)

    def video_interpolate(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoInterpolate"
        video = _video(inputs, node)
        multiplier = _int(inputs, node, "multiplier", 2)
        with _named(node):
            return (
                transforms.interpolate(video, multiplier, bool(inputs.get("adjust_fps", True))),
            )

    def video_transition(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoTransition"
        a, b = _video(inputs, node, "video_a"), _video(inputs, node, "video_b")
        with _named(node):
            mixed = transitions.transition(
                a,
                b,
                _str(inputs, "transition", "crossfade"),
                _int(inputs, node, "frames", 15),
                _str(inputs, "direction", "left"),
                _int(inputs, node, "color", 0),
                _str(inputs, "size_mismatch", "error"),
            )
        return (mixed,)

    def video_fade(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        node = "VideoFade"
        video = _video(inputs, node)
        with _named(node):
            faded = transitions.fade(
                video,
                _str(inputs, "mode", "in"),
                _int(inputs, node, "frames", 15),
                _int(inputs, node, "color", 0),
            )
        return (faded,)


def _claim(folder: Path, stem: str, fmt: str) -> Path:
    """A new file ``{stem}_{counter:05}_.{fmt}``, created exclusively so that concurrent saves
    with the same prefix (or a planted symlink) take the next counter instead."""
    counter = next_counter(folder, stem)
    while True:
        path = folder / f"{stem}_{counter:05}_.{fmt}"
        try:
            with open(path, "xb"):
                return path
        except FileExistsError:
            counter += 1


VIDEO_OPS: Final[Mapping[str, NodeImplementation]] = VideoOps().implementations()
