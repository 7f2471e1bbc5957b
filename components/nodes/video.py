"""Definitions of the frame-sequence nodes that ``drivers/video/nodes.py`` runs.

A VIDEO is a sequence of RGB frames with a frame rate, streamed chunk by chunk, so a node that
passes a VIDEO on holds a handle, not the pixels. LoadVideo and SaveVideo keep the input names
of ComfyUI's nodes of the same name (``file``; ``video``, ``filename_prefix``, ``format``,
``codec``); the rest are rxgen's own. The choice lists live here, and the drivers read them
from here, so the editor and the implementation cannot disagree.
"""

from __future__ import annotations

from typing import Final

from components.nodes.schema import (
    InputSpec,
    NodeDef,
    bool_input,
    combo,
    float_input,
    int_input,
    output,
    socket,
    string_input,
)
from components.nodes.types import SocketType as T

INPUT_VIDEOS: Final = "input_videos"  # dynamic list: video files in the input directory
MIN_FPS: Final = 0.01
MAX_FPS: Final = 1000.0
MAX_SIDE: Final = 16384
MAX_LOOPS: Final = 10_000
MAX_MULTIPLIER: Final = 16
MAX_TRANSITION_FRAMES: Final = 100_000

VIDEO_FORMATS: Final = ("auto", "mp4", "webm", "gif")
VIDEO_CODECS: Final = ("auto", "h264", "vp9", "gif")
X264_PRESETS: Final = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)
RESIZE_METHODS: Final = ("nearest-exact", "bilinear", "area", "bicubic")
FIT_MODES: Final = ("stretch", "crop", "pad")
SIZE_POLICIES: Final = ("error", *FIT_MODES)
FPS_METHODS: Final = ("nearest", "blend")
TRANSITIONS: Final = ("crossfade", "fade_to_color", "wipe", "slide", "push", "zoom_in", "zoom_out")
DIRECTIONS: Final = ("left", "right", "up", "down")
FADE_MODES: Final = ("in", "out")

_CATEGORY = "video"
_MODULE = "rxgen.video"


def _video(name: str = "video") -> InputSpec:
    return socket(name, T.VIDEO)


def _color(name: str = "color") -> InputSpec:
    return int_input(name, 0, min=0, max=0xFFFFFF, step=1, display="color")


def _size_mismatch() -> InputSpec:
    return combo(
        "size_mismatch",
        SIZE_POLICIES,
        default="error",
        tooltip="What to do when the second clip's size differs: fail, or fit it to the first.",
    )


LOAD_VIDEO = NodeDef(
    name="LoadVideo",
    display_name="Load Video",
    category=_CATEGORY,
    description="Decodes a video file from the input directory (MP4, WebM, MOV, MKV, GIF).",
    python_module=_MODULE,
    required=(combo("file", choices_from=INPUT_VIDEOS),),
    optional=(
        float_input(
            "force_rate",
            0.0,
            min=0.0,
            max=MAX_FPS,
            step=0.01,
            tooltip="Frames per second to assume instead of the file's; 0 keeps the file's.",
        ),
    ),
    outputs=(output(T.VIDEO), output(T.INT, "frame_count"), output(T.FLOAT, "fps")),
)

SAVE_VIDEO = NodeDef(
    name="SaveVideo",
    display_name="Save Video",
    category=_CATEGORY,
    description=(
        "Encodes the video into the output directory: MP4 (H.264; odd sizes are padded by "
        "one pixel), WebM (VP9) or an animated GIF."
    ),
    python_module=_MODULE,
    output_node=True,
    required=(
        _video(),
        string_input("filename_prefix", "video/rxgen"),
        combo("format", VIDEO_FORMATS, default="auto", tooltip="auto: MP4"),
        combo("codec", VIDEO_CODECS, default="auto", tooltip="auto: the format's codec"),
    ),
    optional=(
        int_input(
            "crf",
            -1,
            min=-1,
            max=63,
            tooltip="Quality, lower is better: H.264 0-51, VP9 0-63; -1 uses the default.",
        ),
        combo("preset", X264_PRESETS, default="veryfast", tooltip="Encoder speed."),
    ),
)

VIDEO_FROM_IMAGES = NodeDef(
    name="VideoFromImages",
    display_name="Video from Images",
    category=_CATEGORY,
    description="Makes a video of a batch of images, one frame each.",
    python_module=_MODULE,
    required=(
        socket("images", T.IMAGE),
        float_input("fps", 24.0, min=MIN_FPS, max=MAX_FPS, step=0.01),
    ),
    outputs=(output(T.VIDEO),),
)

IMAGES_FROM_VIDEO = NodeDef(
    name="ImagesFromVideo",
    display_name="Images from Video",
    category=_CATEGORY,
    description="Every frame as a batch of images (use VideoSlice first for long videos).",
    python_module=_MODULE,
    required=(_video(),),
    outputs=(output(T.IMAGE), output(T.INT, "frame_count"), output(T.FLOAT, "fps")),
)

VIDEO_INFO = NodeDef(
    name="VideoInfo",
    display_name="Video Info",
    category=_CATEGORY,
    python_module=_MODULE,
    required=(_video(),),
    outputs=(
        output(T.INT, "frame_count"),
        output(T.FLOAT, "fps"),
        output(T.INT, "width"),
        output(T.INT, "height"),
        output(T.FLOAT, "duration"),
    ),
)

VIDEO_SLICE = NodeDef(
    name="VideoSlice",
    display_name="Video Slice",
    category=_CATEGORY,
    description="Frames start, start + step, ...; at most count of them (0: to the end).",
    python_module=_MODULE,
    required=(
        _video(),
        int_input("start", 0, min=0, max=2**31 - 1),
        int_input("count", 0, min=0, max=2**31 - 1),
        int_input("step", 1, min=1, max=10_000),
    ),
    outputs=(output(T.VIDEO),),
)

VIDEO_REVERSE = NodeDef(
    name="VideoReverse",
    display_name="Video Reverse",
    category=_CATEGORY,
    python_module=_MODULE,
    required=(_video(),),
    outputs=(output(T.VIDEO),),
)

VIDEO_CONCAT = NodeDef(
    name="VideoConcat",
    display_name="Video Concatenate",
    category=_CATEGORY,
    description="video_1 then video_2, at video_1's frame rate.",
    python_module=_MODULE,
    required=(_video("video_1"), _video("video_2"), _size_mismatch()),
    outputs=(output(T.VIDEO),),
)

VIDEO_LOOP = NodeDef(
    name="VideoLoop",
    display_name="Video Loop",
    category=_CATEGORY,
    python_module=_MODULE,
    required=(_video(), int_input("times", 2, min=1, max=MAX_LOOPS)),
    outputs=(output(T.VIDEO),),
)

VIDEO_RESIZE = NodeDef(
    name="VideoResize",
    display_name="Video Resize",
    category=_CATEGORY,
    description="stretch ignores the aspect ratio, crop cuts the centre, pad letterboxes.",
    python_module=_MODULE,
    required=(
        _video(),
        int_input("width", 512, min=1, max=MAX_SIDE, step=1),
        int_input("height", 512, min=1, max=MAX_SIDE, step=1),
        combo("method", RESIZE_METHODS, default="bilinear"),
        combo("fit", FIT_MODES, default="stretch"),
    ),
    optional=(_color("pad_color"),),
    outputs=(output(T.VIDEO),),
)

VIDEO_CHANGE_FPS = NodeDef(
    name="VideoChangeFps",
    display_name="Video Change FPS",
    category=_CATEGORY,
    description=(
        "The same duration at another frame rate: frames dropped or repeated (nearest), or "
        "neighbours mixed (blend)."
    ),
    python_module=_MODULE,
    required=(
        _video(),
        float_input("fps", 24.0, min=MIN_FPS, max=MAX_FPS, step=0.01),
        combo("method", FPS_METHODS, default="nearest"),
    ),
    outputs=(output(T.VIDEO),),
)

VIDEO_INTERPOLATE = NodeDef(
    name="VideoInterpolate",
    display_name="Video Interpolate",
    category=_CATEGORY,
    description="Inserts multiplier - 1 linearly blended frames between neighbouring frames.",
    python_module=_MODULE,
    required=(
        _video(),
        int_input("multiplier", 2, min=1, max=MAX_MULTIPLIER),
        bool_input("adjust_fps", True, tooltip="Multiply the frame rate too (same duration)."),
    ),
    outputs=(output(T.VIDEO),),
)

VIDEO_TRANSITION = NodeDef(
    name="VideoTransition",
    display_name="Video Transition",
    category=_CATEGORY,
    description=(
        "video_a, then video_b, the last frames of a mixed with the first frames of b. "
        "direction is where the moving edge goes (wipe, slide, push)."
    ),
    python_module=_MODULE,
    required=(
        _video("video_a"),
        _video("video_b"),
        combo("transition", TRANSITIONS, default="crossfade"),
        int_input("frames", 15, min=1, max=MAX_TRANSITION_FRAMES, tooltip="Overlap length."),
        combo("direction", DIRECTIONS, default="left"),
        _color(),
        _size_mismatch(),
    ),
    outputs=(output(T.VIDEO),),
)

VIDEO_FADE = NodeDef(
    name="VideoFade",
    display_name="Video Fade",
    category=_CATEGORY,
    description="in: the first frames come up from the colour; out: the last go down to it.",
    python_module=_MODULE,
    required=(
        _video(),
        combo("mode", FADE_MODES, default="in"),
        int_input("frames", 15, min=1, max=MAX_TRANSITION_FRAMES),
        _color(),
    ),
    outputs=(output(T.VIDEO),),
)

TEXT_TO_VIDEO = NodeDef(
    name="TextToVideo",
    display_name="Text to Video (ModelScope)",
    category="video/generate",
    description=(
        "Generates a clip from a prompt with a text-to-video model (ModelScope's architecture, "
        "diffusers' TextToVideoSDPipeline)."
    ),
    python_module=_MODULE,
    required=(
        combo("model", choices_from="checkpoints", tooltip="A text-to-video model."),
        string_input("prompt", "", multiline=True, dynamic_prompts=True),
        string_input("negative_prompt", "", multiline=True),
        int_input("frames", 16, min=1, max=256, tooltip="Number of frames."),
        float_input("fps", 8.0, min=MIN_FPS, max=MAX_FPS, step=0.01),
        int_input("width", 256, min=64, max=2048, step=8),
        int_input("height", 256, min=64, max=2048, step=8),
        int_input("steps", 25, min=1, max=500),
        float_input("guidance", 9.0, min=0.0, max=100.0, step=0.1),
        int_input("seed", 0, min=0, max=0xFFFF_FFFF_FFFF_FFFF, control_after_generate=True),
    ),
    outputs=(output(T.VIDEO),),
)

VIDEO_NODES: Final = (
    TEXT_TO_VIDEO,
    LOAD_VIDEO,
    SAVE_VIDEO,
    VIDEO_FROM_IMAGES,
    IMAGES_FROM_VIDEO,
    VIDEO_INFO,
    VIDEO_SLICE,
    VIDEO_REVERSE,
    VIDEO_CONCAT,
    VIDEO_LOOP,
    VIDEO_RESIZE,
    VIDEO_CHANGE_FPS,
    VIDEO_INTERPOLATE,
    VIDEO_TRANSITION,
    VIDEO_FADE,
)
