"""The event hub: resume after a reconnect loses nothing, slow clients get coalesced progress,
a client a whole buffer behind is told to resume instead of growing memory."""

from __future__ import annotations

import asyncio

import pytest

from components.workflow.protocol import JobFinished, JobProgress, JobStarted
from drivers.event_hub import EventHub, Overflow


def progress(job: str, done: int) -> JobProgress:
    return JobProgress(job_id=job, done=done, total=100)


def test_resume_from_a_seq_gets_everything_after_it() -> None:
    async def scenario() -> None:
        hub = EventHub(retain=50)
        for n in range(10):
            hub.publish(progress("a", n))
        sub = hub.subscribe(lambda e: True, after=6)
        assert not sub.gap
        batch = await sub.next_batch()
        assert [item.seq for item in batch] == [7, 8, 9, 10]
        hub.publish(JobFinished(job_id="a", outputs={}))
        assert [item.seq for item in await sub.next_batch()] == [11]

    asyncio.run(scenario())


def test_resuming_from_before_the_window_reports_a_gap() -> None:
    async def scenario() -> None:
        hub = EventHub(retain=5)
        for n in range(20):
            hub.publish(progress("a", n))
        sub = hub.subscribe(lambda e: True, after=3)
        assert sub.gap
        assert [item.seq for item in await sub.next_batch()] == [16, 17, 18, 19, 20]
        assert not hub.subscribe(lambda e: True, after=20).gap

    asyncio.run(scenario())


def test_a_slow_client_gets_the_latest_progress_and_every_result() -> None:
    async def scenario() -> None:
        hub = EventHub(client_buffer=8)
        sub = hub.subscribe(lambda e: e.job_id in {"a", "b"})
        hub.publish(JobStarted(job_id="a", to_run=("1",), cached=()))
        for n in range(200):
            hub.publish(progress("a", n))
            hub.publish(progress("b", n))
            hub.publish(progress("c", n))  # not subscribed
        hub.publish(JobFinished(job_id="a", outputs={}))
        batch = [item.event for item in await sub.next_batch()]
        assert isinstance(batch[0], JobStarted) and isinstance(batch[-1], JobFinished)
        latest = {e.job_id: e.done for e in batch if isinstance(e, JobProgress)}
        assert latest == {"a": 199, "b": 199}
        assert len(batch) <= 8 and sub.coalesced > 300

    asyncio.run(scenario())


def test_a_client_a_whole_buffer_of_results_behind_is_told_to_resume() -> None:
    async def scenario() -> None:
        hub = EventHub(client_buffer=4)
        sub = hub.subscribe(lambda e: True)
        for n in range(6):
            hub.publish(JobFinished(job_id=f"j{n}", outputs={}))
        with pytest.raises(Overflow):
            await sub.next_batch()
        resumed = hub.subscribe(lambda e: True, after=0)
        assert [item.seq for item in await resumed.next_batch()] == [1, 2, 3, 4, 5, 6]

    asyncio.run(scenario())
