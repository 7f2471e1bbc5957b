"""Long videos flow through in chunks: memory stays bounded by a few chunks, progress arrives
for every frame, and a cancel stops the work between two chunks."""

from __future__ import annotations

import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from components.workflow.protocol import NodeProgress
from drivers.nodes.context import NodeContext
from drivers.video import codec, transforms
from drivers.video.chunks import ChunkStore, NullMonitor, drain
from drivers.video.nodes import VideoOps
from drivers.video.transitions import transition
from rxcore.driver import Context, RequestCancelled
from rxcore.message import Request
from tests.drivers.video.clips import Tracked


class Channel:
    """A real rxcore request context whose events land in a list; it can cancel itself once
    progress reaches ``cancel_at``."""

    def __init__(self, cancel_at: int | None = None) -> None:
        self.events: list[Any] = []
        self.cancel_at = cancel_at
        self.context: Context[Request] = Context(Request(request_id="r1"), self._post)

    def _post(self, event: Any) -> None:
        self.events.append(event)
        if self.cancel_at is not None and event.value >= self.cancel_at:
            self.context._cancel()

    def node(self, tmp_path: Path, node_type: str) -> NodeContext:
        return NodeContext(
            job_id="J",
            node_id="7",
            node_type=node_type,
            request_id="r1",
            output_dir=tmp_path / "output",
            temp_dir=tmp_path / "temp",
            channel=self.context,
        )

    def progress(self) -> list[tuple[int, int]]:
        return [(e.value, e.max) for e in self.events if isinstance(e, NodeProgress)]


def test_a_long_pipeline_holds_a_few_chunks_at_a_time() -> None:
    width, height, chunk = 128, 96, 8
    a = Tracked(480, chunk, width, height)
    b = Tracked(480, chunk, width, height)
    chunk_bytes = chunk * width * height * 3
    pipeline = transforms.change_fps(
        transition(transforms.slice_video(a.video(), 5), b.video(), "wipe", 40), 45, "blend"
    )
    frames = 0

    def consume(part: Any) -> None:
        nonlocal frames
        frames += len(part)

    tracemalloc.start()
    try:
        drain(pipeline, NullMonitor(), consume)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert frames == pipeline.frame_count == 1373  # ceil((475 + 480 - 40) * 1.5)
    assert a.made == b.made == 60  # every chunk of both, each made once
    assert a.max_alive <= 3 and b.max_alive <= 3
    whole = 960 * width * height * 3
    # A few chunks in flight plus the mixing temporaries (uint16: twice a chunk each), against
    # 120 chunks in the two clips.
    assert peak < 16 * chunk_bytes, (peak, chunk_bytes)
    assert peak < whole / 10


def test_save_video_reports_every_frame(tmp_path: Path) -> None:
    clip = Tracked(45, chunk_frames=8)
    channel = Channel()
    ops = VideoOps(chunk_frames=8)
    result = ops.save_video(
        {"video": clip.video(), "filename_prefix": "clip", "format": "mp4", "codec": "auto"},
        channel.node(tmp_path, "SaveVideo"),
    )
    assert channel.progress() == [(v, 45) for v in range(1, 46)]
    (saved,) = result.ui["videos"]
    assert saved["filename"] == "clip_00001_.mp4" and saved["format"] == "video/h264-mp4"
    assert codec.open_video(tmp_path / "output" / saved["filename"], 8).frame_count == 45


def test_a_cancelled_save_stops_between_chunks_and_leaves_no_file(tmp_path: Path) -> None:
    clip = Tracked(400, chunk_frames=8)
    channel = Channel(cancel_at=20)
    ops = VideoOps(chunk_frames=8)
    with pytest.raises(RequestCancelled):
        ops.save_video(
            {"video": clip.video(), "filename_prefix": "cut", "format": "webm", "codec": "auto"},
            channel.node(tmp_path, "SaveVideo"),
        )
    assert clip.made == 3  # the chunk holding frame 20 was finished, then the cancel was seen
    assert channel.progress()[-1] == (24, 400)
    assert list((tmp_path / "output").iterdir()) == []


def test_reverse_stores_with_progress_and_can_be_cancelled(tmp_path: Path) -> None:
    channel = Channel()
    ops = VideoOps(chunk_frames=8)
    (reversed_video,) = ops.video_reverse(
        {"video": Tracked(20, 8).video()}, channel.node(tmp_path, "VideoReverse")
    )
    assert channel.progress() == [(8, 20), (16, 20), (20, 20)]
    assert reversed_video.frame_count == 20
    assert len(list((tmp_path / "temp" / "video_chunks").rglob("*.npy"))) == 3

    stopping = Channel(cancel_at=8)
    clip = Tracked(200, 8)
    with pytest.raises(RequestCancelled):
        ops.video_reverse({"video": clip.video()}, stopping.node(tmp_path, "VideoReverse"))
    assert clip.made == 1


def test_materialising_a_long_video_holds_a_few_chunks(tmp_path: Path) -> None:
    clip = Tracked(300, chunk_frames=5)
    # Regrouped into chunks of 8 on the way in: at most two source chunks meet in one.
    video = transforms.reverse(
        clip.video().derive(clip.video().source, chunk_frames=8), ChunkStore(tmp_path)
    )
    assert video.frame_count == 300
    assert clip.max_alive <= 3
