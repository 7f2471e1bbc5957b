"""Images per second for queued txt2img jobs, sampled one by one vs coalesced into batches.

    python bench/batching.py [--jobs 8] [--size 256] [--steps 8] [--repeat 3] [--window-ms 5]

JOBS txt2img jobs (different prompts and seeds, same model, size, steps, sampler, scheduler and
cfg) are submitted at once to an engine wired as `rxgen run` wires it, with as many runner
workers as jobs, so every job's nodes may run concurrently. Timed from the submission of the
first job to the last job's VAEDecode, once with sampler batching off (the KSamplers take turns
on the device, one sampler call per job) and once with it on (compatible KSamplers queued
together, or within the window, share one batched sampler call; everything else is the same).
Each mode runs REPEAT times on a fresh engine (cold node cache, model already loaded) after a
warm-up, alternating modes; the best run of each is reported. Every coalesced image is checked
against the sequential run's (max abs difference, in [0, 1] pixel units), and the batch sizes
of the coalesced run's sampler calls are reported. The last line is one JSON object; `speedup`
is coalesced images/s over sequential images/s.

The model is the tiny random-weight one (`rxgen models create-tiny`), built on first use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import reactivex
import torch

# The same txt2img workflow as the overhead benchmark (this folder is on sys.path when run).
from diffusion_overhead import workflow
from reactivex import Observable

from components.app import main
from components.workflow.protocol import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobRejected,
    SubmitJob,
)
from drivers.diffusion.manager import ModelManager
from drivers.diffusion.models import ModelStore
from drivers.diffusion.nodes import DiffusionNodes
from drivers.diffusion.tiny import ensure_tiny_sd
from drivers.entropy import entropy_driver
from drivers.nodes.context import NodeContext
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import OutputStore
from rxcore import Source, run

TERMINAL = (JobFinished, JobFailed, JobCancelled, JobRejected)
WORDS = ("fox", "cat", "horse", "city", "forest", "river", "mountain", "street", "sky", "dog")


async def one_run(
    manager: ModelManager, args: argparse.Namespace, window_s: float, take: int
) -> tuple[float, dict[str, torch.Tensor], tuple[int, ...]]:
    """Seconds for all jobs, each job's image, and the coalesced sampler calls' batch sizes."""
    nodes = DiffusionNodes(manager, preview_every=0, batch_window_s=window_s, max_batch=args.jobs)
    decoded: dict[str, torch.Tensor] = {}

    def vae_decode(inputs: Mapping[str, Any], ctx: NodeContext) -> tuple[torch.Tensor]:
        # Keeps the image by job without writing files, which both modes would pay alike.
        (image,) = nodes.vae_decode(inputs)
        decoded[ctx.job_id] = image
        return (image,)

    runner = NodeRunner(
        registry({**nodes.implementations(), "VAEDecode": vae_decode}),
        OutputStore(max_bytes=1 << 30),
        max_workers=args.jobs,
    )
    jobs: reactivex.subject.Subject[Any] = reactivex.subject.Subject()
    waiting: dict[str, asyncio.Future[Any]] = {}

    def events(sink: Observable[Any]) -> Source:
        def note(event: Any) -> None:
            if isinstance(event, TERMINAL) and event.job_id in waiting:
                waiting.pop(event.job_id).set_result(event)

        sink.subscribe(note)
        return Source(reactivex.never())

    drivers = {
        "jobs": lambda sink: Source(jobs),
        "nodes": runner,
        "entropy": entropy_driver(),
        "events": events,
    }
    runtime = run(main, drivers)
    loop = asyncio.get_running_loop()
    try:
        futures = []
        for index in range(args.jobs):
            job_id = f"j{index}"
            waiting[job_id] = loop.create_future()
            futures.append(waiting[job_id])
        start = time.perf_counter()
        for index in range(args.jobs):
            # Prompts and seeds change with every run, so no node output is reused.
            prompt = f"a {WORDS[index % len(WORDS)]} at dusk, take {take}"
            job = workflow(prompt, 1000 * take + index, args.size, args.steps)
            jobs.on_next(SubmitJob(job_id=f"j{index}", prompt=job, outputs=("6",)))
        outcomes = await asyncio.gather(*futures)
        elapsed = time.perf_counter() - start
    finally:
        runtime.dispose()
    for outcome in outcomes:
        if not isinstance(outcome, JobFinished):
            raise RuntimeError(f"a benchmark job did not finish: {outcome}")
    batches = nodes.batcher.stats().batches if nodes.batcher is not None else ()
    return elapsed, decoded, batches


async def measure(args: argparse.Namespace, manager: ModelManager) -> dict[str, Any]:
    window_s = args.window_ms / 1000
    await one_run(manager, args, 0.0, take=0)  # warm-up: model load, first-call costs
    await one_run(manager, args, window_s, take=0)
    sequential: list[float] = []
    coalesced: list[float] = []
    worst = 0.0
    batch_sizes: tuple[int, ...] = ()
    for take in range(1, args.repeat + 1):
        seconds, alone, _ = await one_run(manager, args, 0.0, take)
        sequential.append(seconds)
        seconds, batched, sizes = await one_run(manager, args, window_s, take)
        if seconds <= min(coalesced, default=float("inf")):
            batch_sizes = sizes
        coalesced.append(seconds)
        for job_id, image in batched.items():
            worst = max(worst, float((image - alone[job_id]).abs().max()))
    seq_ips = args.jobs / min(sequential)
    coal_ips = args.jobs / min(coalesced)
    return {
        "jobs": args.jobs,
        "size": args.size,
        "steps": args.steps,
        "window_ms": args.window_ms,
        "device": str(manager.device),
        "torch_threads": torch.get_num_threads(),
        "sequential_s": round(min(sequential), 4),
        "coalesced_s": round(min(coalesced), 4),
        "sequential_images_per_s": round(seq_ips, 3),
        "coalesced_images_per_s": round(coal_ips, 3),
        "speedup": round(coal_ips / seq_ips, 3),
        "batch_sizes": list(batch_sizes),
        "max_abs_pixel_diff": worst,
    }


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window-ms", type=float, default=5.0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", type=Path, help="a diffusers directory (default: tiny model)")
    args = parser.parse_args()
    if args.window_ms <= 0:
        parser.error("--window-ms must be > 0: a window of 0 turns coalescing off")

    with tempfile.TemporaryDirectory() as tmp:
        source = args.model or ensure_tiny_sd(Path(tmp) / "tiny")
        store = ModelStore(Path(tmp) / "models")
        store.add(str(source), "model", link=True)
        manager = ModelManager(store, device=args.device, allow_hub=False)
        figures = asyncio.run(measure(args, manager))
    for mode in ("sequential", "coalesced"):
        print(
            f"{mode}: {figures['jobs']} txt2img jobs of {figures['size']}x{figures['size']}, "
            f"{figures['steps']} steps on {figures['device']} in {figures[mode + '_s']:.3f} s, "
            f"{figures[mode + '_images_per_s']:.2f} images/s"
        )
    print(
        f"speedup {figures['speedup']:.2f}x; sampler calls of batch {figures['batch_sizes']}; "
        f"images differ by at most {figures['max_abs_pixel_diff']:.2e}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main_cli()
