"""The whole engine as `rxgen run` and the server wire it: the app's main, the real node runner,
a byte-budgeted output store. Covers what only shows end to end: evicted outputs recomputed with
identical results, cancellation of a running job, and the engine working on afterwards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from reactivex.subject import Subject

from components.workflow.protocol import (
    CancelJob,
    JobCancelled,
    JobEvent,
    JobFinished,
    JobStarted,
    SubmitJob,
)
from drivers.nodes.runner import NodeRunner
from tests.engine_harness import Recorder, engine

IMAGE = 96 * 64 * 3 * 4  # bytes of one 96x64 RGB float32 image


def pipeline(prefix: str, flips: int = 3) -> dict[str, Any]:
    prompt: dict[str, Any] = {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 96, "height": 64, "batch_size": 1, "color": 0x3366CC},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
    }
    last = "2"
    for n in range(flips):
        node_id = str(10 + n)
        method = "x-axis: vertically" if n % 2 else "y-axis: horizontally"
        prompt[node_id] = {
            "class_type": "ImageFlip",
            "inputs": {"image": [last, 0], "flip_method": method},
        }
        last = node_id
    prompt["9"] = {
        "class_type": "SaveImage",
        "inputs": {"images": [last, 0], "filename_prefix": prefix},
    }
    return prompt


def pixels(path: Path) -> np.ndarray[Any, Any]:
    with Image.open(path) as picture:
        return np.asarray(picture.convert("RGB"))


def test_outputs_evicted_under_a_small_budget_are_recomputed_identically(tmp_path: Path) -> None:
    async def scenario(jobs: Subject[Any], events: Recorder, nodes: NodeRunner) -> None:
        jobs.on_next(SubmitJob(job_id="a", prompt=pipeline("a")))
        assert isinstance(await events.outcome("a"), JobFinished)
        evicted = nodes.store.evictions
        assert evicted > 0, "a budget of two images must push earlier outputs out"
        # Same graph, new prefix: only SaveImage's input changed, but what it reads was evicted,
        # so the engine recomputes it rather than failing.
        jobs.on_next(SubmitJob(job_id="b", prompt=pipeline("b")))
        done = await events.outcome("b")
        assert isinstance(done, JobFinished), done
        started = next(e for e in events.seen if isinstance(e, JobStarted) and e.job_id == "b")
        assert "9" in started.to_run

    engine(tmp_path, scenario, budget=2 * IMAGE + 64)
    first = pixels(tmp_path / "output/a_00001_.png")
    second = pixels(tmp_path / "output/b_00001_.png")
    assert first.shape == (64, 96, 3)
    assert np.array_equal(first, second)
    # Float -> 8-bit truncates (as ComfyUI's SaveImage does), so an inverted channel may be 1 low.
    expected = np.array([255 - 0x33, 255 - 0x66, 255 - 0xCC])
    assert np.abs(first[0, 0].astype(int) - expected).max() <= 1


def test_a_cancelled_job_stops_and_the_next_one_runs(tmp_path: Path) -> None:
    async def scenario(jobs: Subject[Any], events: Recorder, nodes: NodeRunner) -> None:
        jobs.on_next(SubmitJob(job_id="long", prompt=pipeline("long", flips=200)))
        await events.next(lambda e: isinstance(e, JobStarted) and e.job_id == "long")
        jobs.on_next(CancelJob(job_id="long"))
        cancelled = await events.outcome("long")
        assert isinstance(cancelled, JobCancelled)
        jobs.on_next(SubmitJob(job_id="after", prompt=pipeline("after")))
        assert isinstance(await events.outcome("after"), JobFinished)

    engine(tmp_path, scenario, budget=64 * IMAGE)
    assert not (tmp_path / "output/long_00001_.png").exists()
    assert (tmp_path / "output/after_00001_.png").exists()


def test_resubmitting_an_unchanged_workflow_runs_nothing(tmp_path: Path) -> None:
    async def scenario(jobs: Subject[Any], events: Recorder, nodes: NodeRunner) -> None:
        jobs.on_next(SubmitJob(job_id="a", prompt=pipeline("same")))
        await events.outcome("a")
        ran = sum(isinstance(e, JobEvent) and e.job_id == "a" for e in events.seen)
        assert ran > 0
        jobs.on_next(SubmitJob(job_id="b", prompt=pipeline("same")))
        assert isinstance(await events.outcome("b"), JobFinished)
        started = next(e for e in events.seen if isinstance(e, JobStarted) and e.job_id == "b")
        assert started.to_run == ()

    engine(tmp_path, scenario, budget=64 * IMAGE)
    assert sorted(p.name for p in (tmp_path / "output").glob("*.png")) == ["same_00001_.png"]
