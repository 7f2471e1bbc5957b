"""The job store driver: what the queue and the executor decide about jobs, written to the
database in order, so a restart (even after ``kill -9``) finds queued jobs queued and running
jobs marked.

Its sink takes the queue's effects (a job started, a job removed) and the executor's terminal
job events (finished with outputs, failed with errors, cancelled, rejected); ``record`` also
takes each node's ``NodeExecuted``, whose files become readable by name for the job's owner.
Writes go through one task in arrival order: a job's "running" is never written after its
"finished". A write that fails is logged with the job id and does not stop the ones after it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import reactivex
from reactivex import Observable
from reactivex.abc import DisposableBase

from components import queue
from components.workflow.protocol import (
    JobCancelled,
    JobFailed,
    JobFinished,
    JobRejected,
    NodeExecuted,
)
from drivers.store import jobs as job_rows
from drivers.store.artifacts import ArtifactStore
from drivers.store.database import Database
from drivers.store.file_owners import FILE_KINDS, record_job_files
from drivers.store.job_outputs import archive_outputs, file_key, named_files
from rxcore.source import Source

log = logging.getLogger(__name__)


class JobStore:
    """Driver writing job state changes to ``database``."""

    def __init__(
        self,
        database: Database,
        artifacts: ArtifactStore | None = None,
        output_dir: Path | None = None,
    ) -> None:
        self.database = database
        self.artifacts = artifacts
        self.output_dir = output_dir
        self._writes: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._subscription: DisposableBase | None = None
        self.failures = 0

    def __call__(self, sink: Observable[Any]) -> Source:
        self._task = asyncio.get_running_loop().create_task(self._write_all())
        self._subscription = sink.subscribe(self._writes.put_nowait)
        return Source(reactivex.never())

    def record(self, event: Any) -> None:
        """Also persist ``event`` (terminal job events arrive this way from the event hub)."""
        self._writes.put_nowait(event)

    async def drain(self) -> None:
        """Wait until every write handed over so far is done."""
        await self._writes.join()

    def dispose(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
        if self._task is not None:
            self._task.cancel()

    async def _write_all(self) -> None:
        while True:
            event = await self._writes.get()
            try:
                async with self.database.transaction() as session:
                    await _write(session, event)
                    await self._archive(session, event)
            except Exception:
                self.failures += 1
                log.exception("could not record %s for job %s", type(event).__name__, _job(event))
            finally:
                self._writes.task_done()

    async def _archive(self, session: Any, event: Any) -> None:
        outputs = getattr(event, "outputs", None)
        if self.artifacts is None or self.output_dir is None or not isinstance(outputs, dict):
            return
        await archive_outputs(session, self.artifacts, self.output_dir, event.job_id, outputs)


async def _write(session: Any, event: Any) -> None:
    if isinstance(event, queue.StartJob):
        await job_rows.mark_running(session, event.job_id)
    elif isinstance(event, queue.Removed) and event.reason != queue.FINISHED:
        # Cancelled while waiting, or dropped after an interruption: the executor never saw it.
        await job_rows.mark_cancelled(session, event.job_id)
    elif isinstance(event, JobFinished):
        await job_rows.mark_finished(session, event.job_id, _plain(event.outputs))
    elif isinstance(event, JobFailed):
        error = {"type": "node_failed", "errors": dict(event.errors)}
        await job_rows.mark_failed(session, event.job_id, error)
    elif isinstance(event, JobCancelled):
        await job_rows.mark_cancelled(session, event.job_id)
    elif isinstance(event, JobRejected):
        await job_rows.mark_failed(session, event.job_id, dict(event.error))
    elif isinstance(event, NodeExecuted):
        files = [(kind, file_key(sub, name)) for kind, sub, name in named_files(event.ui)]
        files = [(kind, path) for kind, path in files if kind in FILE_KINDS]
        if files:
            await record_job_files(session, event.job_id, files)


def _plain(outputs: dict[str, Any]) -> dict[str, Any]:
    return {node: dict(ui) for node, ui in outputs.items()}


def _job(event: Any) -> str:
    return str(getattr(event, "job_id", None) or getattr(getattr(event, "job", None), "job_id", ""))
