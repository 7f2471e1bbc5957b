"""The engine wired as `rxgen run` and the server wire it, for end-to-end tests: the app's main,
a real node runner over given implementations, and a recorder of job events to await."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import reactivex
from reactivex import Observable
from reactivex.subject import Subject

from components.app import main
from components.workflow.protocol import JobCancelled, JobFailed, JobFinished, JobRejected
from drivers.entropy import entropy_driver
from drivers.nodes.context import NodeImplementation
from drivers.nodes.registry import registry
from drivers.nodes.runner import NodeRunner
from drivers.nodes.store import OutputStore
from rxcore import Source, run

TERMINAL = (JobFinished, JobFailed, JobCancelled, JobRejected)

Scenario = Callable[[Subject[Any], "Recorder", NodeRunner], Awaitable[None]]


class Recorder:
    """A driver that keeps every sink value, with a way to await one."""

    def __init__(self) -> None:
        self.seen: list[Any] = []
        self._waiters: list[tuple[Callable[[Any], bool], asyncio.Future[Any]]] = []

    def __call__(self, sink: Observable[Any]) -> Source:
        sink.subscribe(self._note)
        return Source(reactivex.never())

    def _note(self, value: Any) -> None:
        self.seen.append(value)
        for test, future in list(self._waiters):
            if not future.done() and test(value):
                future.set_result(value)

    def next(self, test: Callable[[Any], bool], timeout: float = 60) -> Awaitable[Any]:
        """The first value, seen already or still to come, that passes ``test``."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        seen = next((value for value in self.seen if test(value)), None)
        if seen is not None:
            future.set_result(seen)
        self._waiters.append((test, future))
        return asyncio.wait_for(future, timeout)

    def outcome(self, job_id: str, timeout: float = 60) -> Awaitable[Any]:
        """The job's terminal event (finished, failed, cancelled or rejected)."""
        return self.next(lambda e: isinstance(e, TERMINAL) and e.job_id == job_id, timeout)

    def dispose(self) -> None:
        pass


def engine(
    tmp_path: Path,
    scenario: Scenario,
    *,
    budget: int = 1 << 30,
    extra: Mapping[str, NodeImplementation] | None = None,
    max_workers: int = 1,
) -> None:
    """Run ``scenario(jobs, events, runner)`` against a fresh engine writing into ``tmp_path``."""

    async def go() -> None:
        jobs: Subject[Any] = Subject()
        events = Recorder()
        nodes = NodeRunner(
            registry(extra),
            OutputStore(max_bytes=budget),
            output_dir=tmp_path / "output",
            temp_dir=tmp_path / "temp",
            input_dir=tmp_path / "input",
            max_workers=max_workers,
        )
        drivers = {
            "jobs": lambda sink: Source(jobs),
            "nodes": nodes,
            "entropy": entropy_driver(),
            "events": events,
        }
        runtime = run(main, drivers)
        try:
            await scenario(jobs, events, nodes)
        finally:
            runtime.dispose()
        assert not runtime.faults

    asyncio.run(go())
