"""The server's core end to end on the real node runner: jobs wait in the queue, users take
turns, a queued job can be cancelled, and a running one too, with the queue moving on."""

from __future__ import annotations

import asyncio
from typing import Any

from reactivex.subject import Subject

from components import queue
from components.app import server_main
from components.server_core import NewJob
from components.workflow.protocol import JobCancelled, JobFinished, JobStarted
from drivers.entropy import entropy_driver
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import OutputStore
from rxcore import Source, run
from tests.engine_harness import Recorder


def flips(n: int, color: int) -> dict[str, Any]:
    prompt: dict[str, Any] = {
        "0": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": color},
        }
    }
    for i in range(1, n + 1):
        prompt[str(i)] = {
            "class_type": "ImageFlip",
            "inputs": {"image": [str(i - 1), 0], "flip_method": "x-axis: vertically"},
        }
    return prompt


def new_job(job_id: str, user: str, number: int, prompt: dict[str, Any]) -> NewJob:
    entry = queue.Enqueue(job_id=job_id, user_id=user, number=number, submitted_at=0.0)
    return NewJob(job=entry, prompt=prompt, outputs=(str(len(prompt) - 1),))


def run_core(scenario: Any) -> tuple[Recorder, Recorder]:
    events, store = Recorder(), Recorder()

    async def go() -> None:
        intake: Subject[Any] = Subject()
        drivers = {
            "intake": lambda sink: Source(intake),
            "nodes": NodeRunner(registry(), OutputStore(max_bytes=1 << 28)),
            "entropy": entropy_driver(),
            "events": events,
            "store": store,
        }
        runtime = run(server_main, drivers)
        try:
            await scenario(intake, events)
        finally:
            runtime.dispose()
        assert not runtime.faults

    asyncio.run(go())
    return events, store


def test_users_take_turns_and_each_job_runs_once() -> None:
    async def scenario(intake: Subject[Any], events: Recorder) -> None:
        intake.on_next(new_job("a1", "ann", 1, flips(20, 1)))
        intake.on_next(new_job("a2", "ann", 2, flips(3, 2)))
        intake.on_next(new_job("a3", "ann", 3, flips(3, 3)))
        intake.on_next(new_job("b1", "bob", 4, flips(3, 4)))
        for job in ("a1", "a2", "a3", "b1"):
            assert isinstance(await events.outcome(job), JobFinished)

    events, store = run_core(scenario)
    started = [e.job_id for e in events.seen if isinstance(e, JobStarted)]
    assert started == ["a1", "b1", "a2", "a3"]  # bob's one job does not wait behind ann's
    persisted = [
        type(e).__name__
        for e in store.seen
        if (e.job.job_id if isinstance(e, queue.Queued) else getattr(e, "job_id", "")) == "b1"
    ]
    assert persisted == ["Queued", "StartJob", "Removed"]


def test_cancel_a_queued_job_and_a_running_one() -> None:
    async def scenario(intake: Subject[Any], events: Recorder) -> None:
        intake.on_next(new_job("long", "ann", 1, flips(400, 1)))
        intake.on_next(new_job("queued", "ann", 2, flips(2, 2)))
        intake.on_next(new_job("after", "bob", 3, flips(2, 3)))
        await events.next(lambda e: isinstance(e, JobStarted) and e.job_id == "long")
        intake.on_next(queue.Cancel(job_id="queued", by_user="ann"))
        intake.on_next(queue.Cancel(job_id="long", by_user="bob"))  # not bob's: refused
        intake.on_next(queue.Cancel(job_id="long", by_user="ann"))
        assert isinstance(await events.outcome("long"), JobCancelled)
        assert isinstance(await events.outcome("after"), JobFinished)
        await asyncio.sleep(0.05)

    events, store = run_core(scenario)
    assert not any(isinstance(e, JobStarted) and e.job_id == "queued" for e in events.seen)
    removed = {e.job_id: e.reason for e in store.seen if isinstance(e, queue.Removed)}
    assert removed == {"queued": "cancelled", "long": "cancelled", "after": "finished"}
    (refused,) = [e for e in store.seen if isinstance(e, queue.Rejected)]
    assert (refused.job_id, refused.reason) == ("long", "forbidden")
