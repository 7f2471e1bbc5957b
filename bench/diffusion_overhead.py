"""What the engine costs on top of diffusers: one txt2img through the node graph vs the bare
StableDiffusionPipeline, same model, settings and seed, in one process.

    python bench/diffusion_overhead.py [--size 256] [--steps 8] [--repeat 5] [--device cpu]

The engine run goes through everything a job goes through: validation and planning in main,
the node runner's thread, the model manager's lease and device lock, CLIPTextEncode (twice),
EmptyLatentImage, KSampler (progress every step, previews off, as the bare pipeline has none)
and VAEDecode. Every run changes the prompts and the seed, so the engine's cache cannot skip
work the bare pipeline does. Runs alternate between the two and the median of each is
reported; both produce the same image (checked). The last line is one JSON object.

The model is the tiny random-weight one (`rxgen models create-tiny`), built on first use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import reactivex
import torch
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
from drivers.diffusion.samplers import make_scheduler
from drivers.diffusion.tiny import ensure_tiny_sd
from drivers.entropy import entropy_driver
from drivers.nodes.context import accepts_context
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import OutputStore
from rxcore import Source, run

TERMINAL = (JobFinished, JobFailed, JobCancelled, JobRejected)


def workflow(prompt: str, seed: int, size: int, steps: int) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "model"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": size, "height": size, "batch_size": 1},
        },
        "5": {
            "class_type": "KSampler",
            "inputs": {
                "model": ["1", 0],
                "positive": ["2", 0],
                "negative": ["3", 0],
                "latent_image": ["4", 0],
                "seed": seed,
                "steps": steps,
                "cfg": 7.5,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
    }


class Engine:
    """The app with its drivers, kept running across jobs as a server keeps it."""

    def __init__(self, manager: ModelManager) -> None:
        self.store = OutputStore(max_bytes=1 << 30)
        nodes = DiffusionNodes(manager, preview_every=0)
        self.inside_s = 0.0
        timed = {name: self._timed(fn) for name, fn in registry(nodes.implementations()).items()}
        self.runner = NodeRunner(timed, self.store)
        self.jobs: reactivex.subject.Subject[Any] = reactivex.subject.Subject()
        self.waiting: dict[str, asyncio.Future[Any]] = {}

    def _timed(self, fn: Any) -> Any:
        """``fn`` with the seconds spent inside it added to ``inside_s`` (node work)."""
        wants_context = accepts_context(fn)

        def timed(inputs: Any, ctx: Any = None) -> Any:
            start = time.perf_counter()
            try:
                return fn(inputs, ctx) if wants_context else fn(inputs)
            finally:
                self.inside_s += time.perf_counter() - start

        return timed

    def events(self, sink: Observable[Any]) -> Source:
        def note(event: Any) -> None:
            if isinstance(event, TERMINAL) and event.job_id in self.waiting:
                self.waiting.pop(event.job_id).set_result(event)

        sink.subscribe(note)
        return Source(reactivex.never())

    def start(self) -> Any:
        drivers = {
            "jobs": lambda sink: Source(self.jobs),
            "nodes": self.runner,
            "entropy": entropy_driver(),
            "events": self.events,
        }
        return run(main, drivers)

    async def generate(self, job_id: str, prompt: dict[str, Any]) -> np.ndarray[Any, Any]:
        done = asyncio.get_running_loop().create_future()
        self.waiting[job_id] = done
        self.jobs.on_next(SubmitJob(job_id=job_id, prompt=prompt, outputs=("6",)))
        outcome = await done
        if not isinstance(outcome, JobFinished):
            raise RuntimeError(f"engine job failed: {outcome}")
        key = self._key_of(job_id)
        (image,) = self.store.get(key) or (None,)
        assert isinstance(image, torch.Tensor)
        return image[0].numpy()

    def _key_of(self, job_id: str) -> str:
        # The newest entry is VAEDecode's: the last node to finish.
        return self.store.keys()[-1]


def bare(manager: ModelManager, prompt: str, seed: int, size: int, steps: int) -> Any:
    model = manager.load("model")
    pipe = model.pipeline(make_scheduler("euler", "normal", model.scheduler_config))
    return pipe(
        prompt,
        negative_prompt="blurry",
        num_inference_steps=steps,
        guidance_scale=7.5,
        height=size,
        width=size,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="np",
    ).images[0]


async def measure(args: argparse.Namespace, manager: ModelManager) -> dict[str, Any]:
    engine = Engine(manager)
    runtime = engine.start()
    engine_s: list[float] = []
    bare_s: list[float] = []
    plumbing_s: list[float] = []
    worst = 0.0
    try:
        for index in range(args.repeat + 1):  # the first pair warms up
            prompt = f"a red fox in the snow, take {index}"
            seed = 1000 + index
            inside_before = engine.inside_s
            start = time.perf_counter()
            ours = await engine.generate(f"j{index}", workflow(prompt, seed, args.size, args.steps))
            middle = time.perf_counter()
            plumbing = (middle - start) - (engine.inside_s - inside_before)
            theirs = bare(manager, prompt, seed, args.size, args.steps)
            end = time.perf_counter()
            worst = max(worst, float(np.abs(ours - theirs).max()))
            if index:
                engine_s.append(middle - start)
                bare_s.append(end - middle)
                plumbing_s.append(plumbing)
    finally:
        runtime.dispose()
    engine_median, bare_median = statistics.median(engine_s), statistics.median(bare_s)
    return {
        "size": args.size,
        "steps": args.steps,
        "device": str(manager.device),
        "torch_threads": torch.get_num_threads(),
        "engine_s": round(engine_median, 4),
        "bare_s": round(bare_median, 4),
        "overhead_ratio": round(engine_median / bare_median, 4),
        "overhead_ms": round((engine_median - bare_median) * 1000, 2),
        "max_abs_pixel_diff": worst,
        # Engine time outside node implementations: scheduling, validation, store, thread hops.
        # Unlike the ratio, it does not swing with how fast the (shared) machine runs torch.
        "plumbing_ms": round(statistics.median(plumbing_s) * 1000, 2),
        "plumbing_fraction": round(statistics.median(plumbing_s) / engine_median, 4),
    }


def main_cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model", type=Path, help="a diffusers directory (default: tiny model)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        source = args.model or ensure_tiny_sd(Path(tmp) / "tiny")
        store = ModelStore(Path(tmp) / "models")
        store.add(str(source), "model", link=True)
        manager = ModelManager(store, device=args.device, allow_hub=False)
        figures = asyncio.run(measure(args, manager))
    print(
        f"txt2img {figures['size']}x{figures['size']}, {figures['steps']} steps on "
        f"{figures['device']}: engine {figures['engine_s'] * 1000:.1f} ms, bare diffusers "
        f"{figures['bare_s'] * 1000:.1f} ms, ratio {figures['overhead_ratio']:.4f} "
        f"({figures['overhead_ms']:+.1f} ms); images differ by at most "
        f"{figures['max_abs_pixel_diff']:.2e}; engine time outside the nodes "
        f"{figures['plumbing_ms']:.1f} ms ({figures['plumbing_fraction']:.2%})"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main_cli()
