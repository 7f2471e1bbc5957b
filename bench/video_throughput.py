"""Video throughput at 512x512: transitions, H.264 encode and decode, a minute of content end
to end, and peak memory for a long clip.

    python bench/video_throughput.py [--minutes M] [--seconds S] [--frames N] [--repeat R]

The issue's memory figure is for a 10-minute clip: ``--minutes 10`` (about 4 more minutes of
writing and processing on two cores); the default, 2, keeps the whole run to a few minutes.

Clips are synthetic: a gradient with a fine texture, moving diagonally, so the encoder has
motion and detail to work on. Transition figures mix two clips held in memory over their whole
length (crossfade, and a left wipe); encode and decode figures use the nodes' default H.264
settings. End to end is what a workflow does: LoadVideo twice (two clips of S/2 seconds at
30 fps), VideoTransition (crossfade over one second), SaveVideo to MP4, through the node
implementations, streaming; it is reported as seconds per minute of content, with SaveVideo's
default preset (veryfast) and again with ultrafast. The memory figure
runs the same pipeline on an M-minute clip in a fresh process and reads its peak resident set
(VmHWM). Best of R runs for the short measurements. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.nodes.context import NodeContext
from drivers.video import codec
from drivers.video.chunks import Chunk, LazySource, NullMonitor, Video, drain
from drivers.video.nodes import VideoOps
from drivers.video.transitions import transition

SIZE = 512
FPS = 30.0
CHUNK = 16
TARGETS = {"transition_fps": 120.0, "encode_fps": 60.0, "seconds_per_minute": 30.0}


def _texture(size: int, seed: int) -> np.ndarray:
    """A gradient twice the frame size with a little fixed noise; frames are moving windows."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0 : 2 * size, 0 : 2 * size].astype(np.float32)
    base = np.stack(
        [128 + 100 * np.sin(x / 97 + seed), 128 + 100 * np.cos(y / 71), (x + y) / 8 % 256],
        axis=-1,
    )
    base += rng.normal(0, 6, base.shape).astype(np.float32)
    return np.asarray(np.clip(base, 0, 255), dtype=np.uint8)


def synthetic(frames: int, seed: int = 0, size: int = SIZE) -> Video:
    texture = _texture(size, seed)

    def chunks() -> Iterator[Chunk]:
        for start in range(0, frames, CHUNK):
            count = min(CHUNK, frames - start)
            chunk = np.empty((count, size, size, 3), dtype=np.uint8)
            for i in range(count):
                t = start + i
                dy, dx = (t * 3) % size, (t * 5) % size
                chunk[i] = texture[dy : dy + size, dx : dx + size]
            yield chunk

    return Video(size, size, FPS, frames, LazySource(chunks, "synthetic"), CHUNK)


def in_memory(video: Video) -> Video:
    """The same frames, computed once and kept: timing then leaves out making them."""
    kept = list(video.chunks())
    return video.derive(LazySource(lambda: iter(kept), "in memory"))


def timed_drain(video: Video) -> float:
    start = time.perf_counter()
    drain(video, NullMonitor(), lambda chunk: None)
    return time.perf_counter() - start


def transition_fps(kind: str, direction: str, frames: int, repeat: int) -> float:
    a, b = in_memory(synthetic(frames, 1)), in_memory(synthetic(frames, 2))
    mixed = transition(a, b, kind, frames, direction)  # every frame is a mixed frame
    return frames / min(timed_drain(mixed) for _ in range(repeat))


def encode_fps(path: Path, frames: int, repeat: int) -> float:
    clip = in_memory(synthetic(frames, 3))
    best = float("inf")
    for _ in range(repeat):
        path.unlink(missing_ok=True)
        start = time.perf_counter()
        codec.encode(clip, path, "mp4")  # SaveVideo's defaults: crf 19, preset veryfast
        best = min(best, time.perf_counter() - start)
    return frames / best


def decode_fps(path: Path, repeat: int) -> float:
    video = codec.open_video(path, CHUNK)
    return video.frame_count / min(timed_drain(video) for _ in range(repeat))


def write_clip(path: Path, frames: int, seed: int) -> None:
    # ultrafast: making the inputs is not what is measured.
    codec.encode(synthetic(frames, seed), path, "mp4", preset="ultrafast", crf=18)


def end_to_end(
    folder: Path, first: str, second: str, preset: str = codec.DEFAULT_PRESET
) -> dict[str, float]:
    """LoadVideo x2 -> VideoTransition -> SaveVideo through the node implementations."""
    ops = VideoOps(chunk_root=folder / "chunks", chunk_frames=CHUNK)
    ctx = NodeContext(
        job_id="bench", node_id="1", output_dir=folder / "out", input_dir=folder, temp_dir=folder
    )
    start = time.perf_counter()
    a, _, _ = ops.load_video({"file": first}, ctx)
    b, _, _ = ops.load_video({"file": second}, ctx)
    (mixed,) = ops.video_transition(
        {"video_a": a, "video_b": b, "transition": "crossfade", "frames": int(FPS)}
    )
    result = ops.save_video(
        {
            "video": mixed,
            "filename_prefix": "e2e",
            "format": "mp4",
            "codec": "auto",
            "preset": preset,
        },
        ctx,
    )
    seconds = time.perf_counter() - start
    saved = folder / "out" / result.ui["videos"][0]["filename"]
    frames = mixed.frame_count
    saved.unlink()
    return {"seconds": seconds, "frames": frames, "content_s": frames / FPS}


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def rss_child(folder: str, first: str, second: str) -> None:
    """Run in a fresh process: the parent's own clips and arrays must not count."""
    before = peak_rss_mb()
    figures = end_to_end(Path(folder), first, second)
    print(json.dumps({**figures, "peak_rss_mb": peak_rss_mb(), "rss_after_imports_mb": before}))


def measure_rss(folder: Path, minutes: float) -> dict[str, Any]:
    frames = int(minutes * 60 * FPS)
    print(f"writing a {minutes:g}-minute clip ({frames} frames) for the memory run ...", flush=True)
    start = time.perf_counter()
    write_clip(folder / "long.mp4", frames, 5)
    print(f"  written in {time.perf_counter() - start:.1f} s", flush=True)
    child = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(folder), "long.mp4", "b.mp4"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if child.returncode != 0:
        raise RuntimeError(f"the memory run failed:\n{child.stderr}")
    (folder / "long.mp4").unlink()
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="clip length for memory")
    parser.add_argument("--seconds", type=float, default=60.0, help="end-to-end content length")
    parser.add_argument("--frames", type=int, default=240, help="frames per short measurement")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rss-child", nargs=3, metavar=("FOLDER", "FIRST", "SECOND"))
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return

    with tempfile.TemporaryDirectory(prefix="rxgen-video-bench-") as tmp:
        folder = Path(tmp)
        crossfade = transition_fps("crossfade", "left", args.frames, args.repeat)
        wipe = transition_fps("wipe", "left", args.frames, args.repeat)
        print(f"transitions at {SIZE}x{SIZE}: crossfade {crossfade:.0f} fps, wipe {wipe:.0f} fps")
        encoded = encode_fps(folder / "enc.mp4", args.frames, args.repeat)
        decoded = decode_fps(folder / "enc.mp4", args.repeat)
        print(
            f"H.264 ({codec.DEFAULT_PRESET}, crf 19): encode {encoded:.0f} fps, "
            f"decode {decoded:.0f} fps"
        )

        half = int(args.seconds / 2 * FPS)
        write_clip(folder / "a.mp4", half, 1)
        write_clip(folder / "b.mp4", half, 2)
        per_minute: dict[str, float] = {}
        for preset in (codec.DEFAULT_PRESET, "ultrafast"):
            runs = [end_to_end(folder, "a.mp4", "b.mp4", preset) for _ in range(args.repeat)]
            e2e = min(runs, key=lambda r: r["seconds"])
            per_minute[preset] = e2e["seconds"] * 60 / e2e["content_s"]
            print(
                f"end to end (decode -> crossfade -> encode, {preset}): {e2e['frames']:.0f} "
                f"frames ({e2e['content_s']:.1f} s of content) in {e2e['seconds']:.2f} s = "
                f"{per_minute[preset]:.1f} s per minute of content "
                f"({e2e['frames'] / e2e['seconds']:.0f} fps)"
            )
        rss = measure_rss(folder, args.minutes)
        print(
            f"memory: {rss['frames']:.0f} frames ({rss['content_s'] / 60:.1f} min) end to end in "
            f"{rss['seconds']:.1f} s; peak RSS {rss['peak_rss_mb']:.0f} MB "
            f"({rss['rss_after_imports_mb']:.0f} MB after imports)"
        )
    print(
        json.dumps(
            {
                "size": SIZE,
                "transition_fps": round(min(crossfade, wipe), 1),
                "crossfade_fps": round(crossfade, 1),
                "wipe_fps": round(wipe, 1),
                "encode_fps": round(encoded, 1),
                "decode_fps": round(decoded, 1),
                "preset": codec.DEFAULT_PRESET,
                "seconds_per_minute_of_content": round(per_minute[codec.DEFAULT_PRESET], 2),
                "seconds_per_minute_ultrafast": round(per_minute["ultrafast"], 2),
                "peak_rss_mb": round(rss["peak_rss_mb"], 1),
                "rss_after_imports_mb": round(rss["rss_after_imports_mb"], 1),
                "rss_clip_minutes": round(rss["content_s"] / 60, 2),
                "rss_run_seconds": round(rss["seconds"], 1),
                "targets": TARGETS | {"peak_rss_mb": 1024.0},
            }
        )
    )


if __name__ == "__main__":
    main_cli()
