"""Coalescing sampler requests from concurrent jobs, on the tiny random-weight model.

Jobs queued together through the whole engine share one sampler call, and each still gets its
unbatched image, its own progress and previews, and its own cancel; requests that cannot share
a call (other steps, other size, a batch-2 latent) run alone.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image
from reactivex.subject import Subject

from components.workflow.protocol import (
    CancelJob,
    JobCancelled,
    JobFinished,
    JobProgress,
    SubmitJob,
)
from drivers.diffusion.batching import SampleRequest, compatibility_key
from drivers.diffusion.conditioning import Conditioning
from drivers.diffusion.manager import ModelManager
from drivers.diffusion.models import ModelStore
from drivers.diffusion.nodes import DiffusionNodes, OutOfMemory
from drivers.diffusion.sampling import SamplingCancelled
from drivers.diffusion.values import ModelRef
from drivers.nodes.runner import NodeRunner
from tests.engine_harness import Recorder, engine

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.usefixtures("one_torch_thread"),  # byte-equal images need it
]

SIZE = 64
PROMPTS = ("a red fox", "a blue cat", "a green horse", "a city at night")


@pytest.fixture
def manager(tmp_path: Path, tiny_sd_dir: Path) -> ModelManager:
    store = ModelStore(tmp_path / "models")
    store.add(str(tiny_sd_dir), "tiny", link=True)
    return ModelManager(store, device="cpu", allow_hub=False)


def txt2img(
    text: str, seed: int, *, steps: int = 4, size: int = SIZE, batch: int = 1, prefix: str = "gen"
) -> dict[str, Any]:
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "tiny"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["1", 1]}},
        "3": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["1", 1]}},
        "4": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": size, "height": size, "batch_size": batch},
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
                "sampler_name": "euler_ancestral",  # draws noise every step: seeds matter
                "scheduler": "normal",
                "denoise": 1.0,
            },
        },
        "6": {"class_type": "VAEDecode", "inputs": {"samples": ["5", 0], "vae": ["1", 2]}},
        "7": {"class_type": "SaveImage", "inputs": {"images": ["6", 0], "filename_prefix": prefix}},
    }


def images(folder: Path, done: Any) -> list[np.ndarray[Any, Any]]:
    assert isinstance(done, JobFinished), done
    return [
        np.asarray(Image.open(folder / "output" / image["subfolder"] / image["filename"]))
        for image in done.outputs["7"]["images"]
    ]


def run_together(
    tmp_path: Path, nodes: DiffusionNodes, prompts: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], Recorder]:
    """Submit every prompt at once; their outcomes by job id, and the events."""
    outcomes: dict[str, Any] = {}
    recorder: list[Recorder] = []

    async def scenario(jobs: Subject[Any], events: Recorder, runner: NodeRunner) -> None:
        recorder.append(events)
        waits = [events.outcome(job_id) for job_id in prompts]
        for job_id, prompt in prompts.items():
            jobs.on_next(SubmitJob(job_id=job_id, prompt=prompt))
        for job_id, outcome in zip(prompts, await asyncio.gather(*waits), strict=True):
            outcomes[job_id] = outcome

    workers = len(prompts) + 2
    engine(tmp_path, scenario, extra=nodes.implementations(), max_workers=workers)
    return outcomes, recorder[0]


def unbatched(
    tmp_path: Path, manager: ModelManager, prompt: dict[str, Any]
) -> np.ndarray[Any, Any]:
    (image,) = images(
        tmp_path, run_together(tmp_path, DiffusionNodes(manager), {"a": prompt})[0]["a"]
    )
    return image


def close(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> bool:
    return a.shape == b.shape and int(np.abs(a.astype(int) - b.astype(int)).max()) <= 2


def test_queued_jobs_share_one_call_and_each_gets_its_unbatched_image(
    tmp_path: Path, manager: ModelManager
) -> None:
    n = len(PROMPTS)
    nodes = DiffusionNodes(manager, preview_every=2, batch_window_s=5.0, max_batch=n)
    prompts = {
        f"j{i}": txt2img(text, seed=100 + i, prefix=f"j{i}") for i, text in enumerate(PROMPTS)
    }
    outcomes, events = run_together(tmp_path / "batched", nodes, prompts)

    assert nodes.batcher is not None
    assert nodes.batcher.stats().batches == (n,), "one UNet batch for all four jobs"
    batched = {job_id: images(tmp_path / "batched", done)[0] for job_id, done in outcomes.items()}
    for i, (job_id, prompt) in enumerate(prompts.items()):
        alone = unbatched(tmp_path / f"alone{i}", manager, prompt)
        assert close(batched[job_id], alone), job_id
    assert not close(batched["j0"], batched["j1"]), "different seeds and prompts differ"

    # Progress and previews stay per job: every job sees its own 1..4, with its own previews.
    finals = set()
    for job_id in prompts:
        steps = [e for e in events.seen if isinstance(e, JobProgress) and e.job_id == job_id]
        steps = [e for e in steps if e.node_id == "5"]
        assert [(e.node_value, e.node_max) for e in steps] == [(1, 4), (2, 4), (3, 4), (4, 4)]
        assert steps[1].preview is not None and steps[3].preview is not None
        finals.add((tmp_path / "batched" / "temp" / steps[3].preview).read_bytes())
    assert len(finals) == n, "each job's preview shows its own item of the batch"


def test_incompatible_requests_are_not_coalesced(tmp_path: Path, manager: ModelManager) -> None:
    nodes = DiffusionNodes(manager, preview_every=0, batch_window_s=1.0, max_batch=2)
    prompts = {
        "a": txt2img("a red fox", 1, prefix="a"),
        "b": txt2img("a blue cat", 2, prefix="b"),  # compatible with a
        "steps": txt2img("a red fox", 3, steps=3, prefix="steps"),
        "size": txt2img("a red fox", 4, size=SIZE * 2, prefix="size"),
        "pair": txt2img("a red fox", 5, batch=2, prefix="pair"),
    }
    outcomes, _ = run_together(tmp_path / "batched", nodes, prompts)
    assert all(isinstance(done, JobFinished) for done in outcomes.values()), outcomes

    assert nodes.batcher is not None
    stats = nodes.batcher.stats()
    assert sorted(stats.batches) == [1, 1, 2]
    # A batch-2 latent draws both items' noise from one generator: it always runs alone.
    assert stats.alone == 1
    for job_id in ("steps", "pair"):
        alone = images(
            tmp_path / job_id,
            run_together(tmp_path / job_id, DiffusionNodes(manager), {job_id: prompts[job_id]})[0][
                job_id
            ],
        )
        got = images(tmp_path / "batched", outcomes[job_id])
        assert len(got) == len(alone) and all(close(x, y) for x, y in zip(got, alone, strict=True))


def test_cancelling_one_member_leaves_the_others_running(
    tmp_path: Path, manager: ModelManager
) -> None:
    steps = 40
    nodes = DiffusionNodes(manager, preview_every=0, batch_window_s=5.0, max_batch=3)
    prompts = {f"j{i}": txt2img(PROMPTS[i], 10 + i, steps=steps, prefix=f"j{i}") for i in range(3)}
    outcomes: dict[str, Any] = {}
    order: list[str] = []

    async def scenario(jobs: Subject[Any], events: Recorder, runner: NodeRunner) -> None:
        waits = [events.outcome(job_id) for job_id in prompts]
        for job_id, prompt in prompts.items():
            jobs.on_next(SubmitJob(job_id=job_id, prompt=prompt))
        await events.next(
            lambda e: isinstance(e, JobProgress) and e.job_id == "j1" and e.node_id == "5"
        )
        jobs.on_next(CancelJob(job_id="j1"))
        for job_id, outcome in zip(prompts, await asyncio.gather(*waits), strict=True):
            outcomes[job_id] = outcome
        order.extend(e.job_id for e in events.seen if isinstance(e, JobFinished | JobCancelled))
        cancelled_at = max(
            e.node_value
            for e in events.seen
            if isinstance(e, JobProgress) and e.job_id == "j1" and e.node_id == "5"
        )
        assert cancelled_at < steps // 2, "the cancel landed within a few steps"

    engine(tmp_path / "batched", scenario, extra=nodes.implementations(), max_workers=5)

    assert isinstance(outcomes["j1"], JobCancelled)
    assert order[0] == "j1", "the cancelled job stopped waiting before the batch ended"
    assert nodes.batcher is not None and nodes.batcher.stats().batches == (3,)
    for job_id in ("j0", "j2"):
        (alone,) = images(
            tmp_path / job_id,
            run_together(tmp_path / job_id, DiffusionNodes(manager), {job_id: prompts[job_id]})[0][
                job_id
            ],
        )
        (got,) = images(tmp_path / "batched", outcomes[job_id])
        assert close(got, alone), job_id
    assert not list((tmp_path / "batched" / "output").glob("j1_*"))


# --- the batcher on its own -------------------------------------------------------------------


def _requests(
    nodes: DiffusionNodes, count: int, *, steps: int = 30, **callbacks: Any
) -> list[SampleRequest]:
    model, clip, _ = nodes.checkpoint_loader({"ckpt_name": "tiny"})
    (negative,) = nodes.clip_text_encode({"text": "", "clip": clip})
    out = []
    for i in range(count):
        (positive,) = nodes.clip_text_encode({"text": PROMPTS[i], "clip": clip})
        out.append(
            SampleRequest(
                unet=model,
                positive=positive,
                negative=negative,
                latents=torch.zeros(1, 4, SIZE // 8, SIZE // 8),
                seed=i,
                steps=steps,
                cfg=5.0,
                sampler_name="euler",
                scheduler_name="normal",
                **callbacks,
            )
        )
    return out


def _submit_all(nodes: DiffusionNodes, requests: list[SampleRequest]) -> list[Any]:
    assert nodes.batcher is not None
    batcher = nodes.batcher
    results: list[Any] = [None] * len(requests)

    def go(index: int) -> None:
        try:
            results[index] = batcher.submit(requests[index])
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_a_batch_whose_members_are_all_cancelled_stops(manager: ModelManager) -> None:
    nodes = DiffusionNodes(manager, preview_every=0, batch_window_s=5.0, max_batch=2)
    stop = threading.Event()
    seen: list[int] = []

    def on_step(step: int, total: int, denoised: torch.Tensor) -> None:
        seen.append(step)
        if step == 2:
            stop.set()

    requests = _requests(nodes, 2, on_step=on_step, cancelled=stop.is_set)
    results = _submit_all(nodes, requests)
    assert all(isinstance(r, SamplingCancelled) for r in results), results
    assert nodes.batcher is not None and nodes.batcher.stats().batches == (2,)
    # The batch itself stopped too: no step ran after the one where both were cancelled.
    assert max(seen) <= 3


def test_a_failing_batch_fails_every_member_and_the_next_one_runs(manager: ModelManager) -> None:
    nodes = DiffusionNodes(manager, preview_every=0, batch_window_s=5.0, max_batch=2)
    requests = _requests(nodes, 2, steps=2)
    unet = manager.load("tiny").unet
    real_forward = unet.forward
    calls = {"n": 0}

    def exhausted(*args: Any, **kwargs: Any) -> Any:
        # Fault injection: the allocator's own error, raised where a real one would be.
        calls["n"] += 1
        if calls["n"] == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return real_forward(*args, **kwargs)

    unet.forward = exhausted
    failed = _submit_all(nodes, requests)
    assert all(isinstance(r, OutOfMemory) for r in failed), failed
    assert "lower the size or batch" in str(failed[0])
    done = _submit_all(nodes, _requests(nodes, 2, steps=2))
    assert all(isinstance(r, torch.Tensor) and r.shape == (1, 4, 8, 8) for r in done), done


def test_what_may_share_a_call() -> None:
    ref = ModelRef("tiny", "abc", "unet")
    cond = Conditioning(torch.zeros(1, 77, 32))
    base = SampleRequest(
        unet=ref,
        positive=cond,
        negative=cond,
        latents=torch.zeros(1, 4, 8, 8),
        seed=1,
        steps=4,
        cfg=5.0,
        sampler_name="euler",
        scheduler_name="normal",
        options={"denoise": 1.0},
    )

    def key(**changes: Any) -> Any:
        fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
        return compatibility_key(SampleRequest(**{**fields, **changes}))

    assert key(seed=2, positive=Conditioning(torch.ones(1, 77, 32))) == key()
    assert key(steps=5) != key()
    assert key(latents=torch.zeros(1, 4, 8, 16)) != key()
    assert key(latents=torch.ones(1, 4, 8, 8)) != key(), "txt2img never shares with img2img"
    assert key(options={"denoise": 0.5}) != key()
    assert key(latents=torch.zeros(2, 4, 8, 8)) is None
    assert key(noise_mask=torch.ones(8, 8)) is None
    assert key(sampler_name="dpmpp_sde") is None
    assert key(positive=Conditioning(torch.zeros(2, 77, 32))) is None
