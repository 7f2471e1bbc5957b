"""The video nodes as the engine runs them: catalog and registry agree, errors name the node,
the input and what to do, and a whole workflow (two files, a transition, a saved MP4) runs end
to end through the real engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from reactivex.subject import Subject

from components.nodes import default_catalog
from components.nodes.video import VIDEO_NODES
from components.workflow.protocol import JobFinished, JobProgress, SubmitJob
from drivers.nodes.context import NodeContext, accepts_context
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import size_of
from drivers.video import codec
from drivers.video.chunks import Video, VideoInputError, read_all
from drivers.video.nodes import VideoOps
from tests.drivers.video.clips import H, W, gradient, solid, stored
from tests.engine_harness import Recorder, engine


def context(tmp_path: Path) -> NodeContext:
    return NodeContext(
        job_id="J",
        node_id="1",
        output_dir=tmp_path / "output",
        temp_dir=tmp_path / "temp",
        input_dir=tmp_path / "input",
    )


def write_clip(path: Path, frames: np.ndarray, fps: float = 30.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    codec.encode(stored(frames, path.parent / ".chunks", fps), path, "mp4")


def test_every_defined_video_node_has_an_implementation() -> None:
    # TextToVideo runs a model, so the diffusion driver implements it (it needs the manager).
    from drivers.diffusion.manager import ModelManager
    from drivers.diffusion.models import ModelStore
    from drivers.diffusion.nodes import DiffusionNodes

    catalog = default_catalog()
    models = DiffusionNodes(ModelManager(ModelStore("unused"), device="cpu")).implementations()
    implementations = registry(models)
    for definition in VIDEO_NODES:
        assert definition.name in catalog
        assert definition.name in implementations, definition.name
    frames_only = {d.name for d in VIDEO_NODES} - {"TextToVideo"}
    assert set(VideoOps().implementations()) == frames_only
    assert "TextToVideo" in models


def test_a_video_handle_is_small_in_the_output_store(tmp_path: Path) -> None:
    video = stored(gradient(64), tmp_path / "c")
    assert size_of((video,)) < 1024  # the handle, not 64 frames of pixels
    assert size_of((read_all(video),)) == 64 * H * W * 3


def test_frames_from_images_and_back(tmp_path: Path) -> None:
    ops = VideoOps(chunk_frames=4)
    images = torch.rand(10, H, W, 3)
    (video,) = ops.video_from_images({"images": images, "fps": 12.0}, context(tmp_path))
    assert (video.frame_count, video.fps, video.width, video.height) == (10, 12.0, W, H)
    back, count, fps = ops.images_from_video({"video": video}, context(tmp_path))
    assert (count, fps) == (10, 12.0)
    assert back.shape == images.shape and back.dtype == torch.float32
    assert torch.allclose(back, images, atol=0.5 / 255 + 1e-6)  # 8-bit rounding only
    assert ops.video_info({"video": video}) == (10, 12.0, W, H, pytest.approx(10 / 12))


@pytest.mark.parametrize(
    ("node", "inputs", "message"),
    [
        ("LoadVideo", {"file": "notes.mp4"}, r"LoadVideo: notes\.mp4 is not a video file"),
        ("LoadVideo", {"file": "missing.mp4"}, r"LoadVideo: no file 'missing\.mp4'.*upload"),
        ("LoadVideo", {"file": "../x.mp4"}, "not a file inside the input directory"),
        (
            "LoadVideo",
            {"file": "clip.mp4", "force_rate": 5000.0},
            r"LoadVideo: force_rate 5000 is out of range",
        ),
        (
            "VideoFromImages",
            {"images": torch.zeros(0, 8, 8, 3), "fps": 24.0},
            r"VideoFromImages: input 'images' is an empty batch",
        ),
        (
            "VideoFromImages",
            {"images": torch.zeros(2, 8, 8, 3), "fps": 0.0},
            r"VideoFromImages: fps 0 is out of range",
        ),
        (
            "VideoChangeFps",
            {"video": "CLIP", "fps": -3.0},
            r"VideoChangeFps: fps -3 is out of range; use a frame rate between",
        ),
        (
            "VideoConcat",
            {"video_1": "CLIP", "video_2": "SMALL", "size_mismatch": "error"},
            r"VideoConcat: input 'video_2' is 32x24 but 'video_1' is 64x48; set size_mismatch",
        ),
        (
            "VideoTransition",
            {"video_a": "CLIP", "video_b": "SMALL", "transition": "wipe", "frames": 2},
            r"VideoTransition: input 'video_b' is 32x24.*VideoResize",
        ),
        ("VideoSlice", {"video": "CLIP", "start": 99}, r"VideoSlice: start 99 is outside"),
        ("VideoSlice", {"video": 3}, r"VideoSlice: input 'video' must be a VIDEO, got int"),
        (
            "SaveVideo",
            {"video": "CLIP", "format": "webm", "codec": "h264"},
            r"SaveVideo: codec 'h264' does not go in webm",
        ),
    ],
)
def test_bad_inputs_are_named(
    tmp_path: Path, node: str, inputs: dict[str, Any], message: str
) -> None:
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "notes.mp4").write_text("not a video")
    write_clip(tmp_path / "input" / "clip.mp4", gradient(3))
    clips = {
        "CLIP": stored(gradient(6), tmp_path / "c"),
        "SMALL": stored(solid(6, (1, 2, 3), width=32, height=24), tmp_path / "c"),
    }
    resolved = {k: clips.get(v, v) if isinstance(v, str) else v for k, v in inputs.items()}
    fn = VideoOps().implementations()[node]
    with pytest.raises(ValueError, match=message):
        if accepts_context(fn):
            fn(resolved, context(tmp_path))
        else:
            fn(resolved)
    assert not (tmp_path / "output").exists() or not any((tmp_path / "output").rglob("*.*"))


def test_images_from_a_huge_video_asks_for_a_slice(tmp_path: Path) -> None:
    ops = VideoOps(max_image_bytes=1 << 20)
    video = stored(gradient(40), tmp_path / "c")
    with pytest.raises(VideoInputError, match=r"ImagesFromVideo: .*select fewer frames"):
        ops.images_from_video({"video": video}, context(tmp_path))


def test_load_transition_save_through_the_engine(tmp_path: Path) -> None:
    first, second = gradient(20), solid(16, (30, 200, 90))
    write_clip(tmp_path / "input" / "first.mp4", first)
    write_clip(tmp_path / "input" / "second.mp4", second)
    prompt = {
        "1": {"class_type": "LoadVideo", "inputs": {"file": "first.mp4"}},
        "2": {"class_type": "LoadVideo", "inputs": {"file": "second.mp4"}},
        "3": {
            "class_type": "VideoTransition",
            "inputs": {
                "video_a": ["1", 0],
                "video_b": ["2", 0],
                "transition": "wipe",
                "frames": 5,
                "direction": "left",
                "color": 0,
                "size_mismatch": "error",
            },
        },
        "4": {
            "class_type": "SaveVideo",
            "inputs": {
                "video": ["3", 0],
                "filename_prefix": "edits/joined",
                "format": "mp4",
                "codec": "auto",
            },
        },
    }
    finished: list[JobFinished] = []

    async def scenario(jobs: Subject[Any], events: Recorder, nodes: NodeRunner) -> None:
        jobs.on_next(SubmitJob(job_id="v", prompt=prompt))
        done = await events.outcome("v", timeout=120)
        assert isinstance(done, JobFinished), done
        finished.append(done)
        saving = [
            e for e in events.seen if isinstance(e, JobProgress) and e.node_id == "4" and e.node_max
        ]
        assert [e.node_value for e in saving][-1] == 31 and saving[-1].node_max == 31
        assert len(saving) >= 20  # per frame, not once at the end

    engine(tmp_path, scenario)
    (video_ui,) = finished[0].outputs["4"]["videos"]
    assert video_ui["subfolder"] == "edits" and video_ui["type"] == "output"
    assert video_ui["frame_count"] == 31 and video_ui["frame_rate"] == 30.0
    saved = codec.open_video(tmp_path / "output" / "edits" / video_ui["filename"], 8)
    assert isinstance(saved, Video) and saved.frame_count == 31
    frames = read_all(saved).astype(int)
    assert np.abs(frames[:15] - first[:15]).mean() < 4  # A before the overlap
    middle = frames[17]  # overlap frames 15..19, the middle one half A (left), half B (right)
    assert np.abs(middle[:, 36:] - np.array([30, 200, 90])).mean() < 4
    assert np.abs(middle[:, :28] - first[17][:, :28]).mean() < 4
    assert np.abs(frames[20:] - np.array([30, 200, 90])).mean() < 4
