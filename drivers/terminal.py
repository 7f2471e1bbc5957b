"""Job events rendered on a terminal: a progress bar, node by node, and the final outcome.

The driver only draws; the `rxgen run` command awaits :attr:`JobReporter.outcome` to know when
the job it submitted is over.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

import reactivex
from reactivex import Observable
from reactivex.abc import DisposableBase

from components.workflow.protocol import (
    JobCancelled,
    JobEvent,
    JobFailed,
    JobFinished,
    JobProgress,
    JobRejected,
    JobStarted,
    NodeCached,
    NodeFailed,
)
from rxcore.source import Source

_WIDTH = 24
_TERMINAL = (JobFinished, JobFailed, JobCancelled, JobRejected)


def bar(done: int, total: int) -> str:
    filled = _WIDTH * done // total if total else _WIDTH
    return "[" + "#" * filled + "-" * (_WIDTH - filled) + "]"


class JobReporter:
    """Writes job events to ``stream`` (redrawing one line on a terminal)."""

    def __init__(self, stream: TextIO | None = None, *, job_id: str | None = None) -> None:
        self._stream = stream or sys.stderr
        self._job_id = job_id
        self._live = self._stream.isatty()
        self._subscription: DisposableBase | None = None
        self.outcome: asyncio.Future[JobEvent] | None = None

    def __call__(self, sink: Observable[Any]) -> Source:
        self.outcome = asyncio.get_running_loop().create_future()
        self._subscription = sink.subscribe(self._on_event)
        return Source(reactivex.never())

    def _write(self, text: str, *, transient: bool = False) -> None:
        if self._live:
            self._stream.write("\r\033[K" + text + ("" if transient else "\n"))
        elif not transient:
            self._stream.write(text + "\n")
        self._stream.flush()

    def _on_event(self, event: Any) -> None:
        if not isinstance(event, JobEvent):
            return
        if self._job_id is not None and event.job_id != self._job_id:
            return
        if isinstance(event, JobStarted):
            self._write(
                f"job {event.job_id}: {len(event.to_run)} nodes to run, "
                f"{len(event.cached)} from cache"
            )
        elif isinstance(event, NodeCached):
            pass
        elif isinstance(event, JobProgress):
            node = ""
            if event.node_id is not None and event.node_max:
                node = f"  node {event.node_id} {event.node_value}/{event.node_max}"
            self._write(
                f"{bar(event.done, event.total)} {event.done}/{event.total} nodes{node}",
                transient=True,
            )
        elif isinstance(event, NodeFailed):
            self._write(f"node {event.node_id} failed: {event.error}: {event.message}")
        if isinstance(event, _TERMINAL):
            self._finish(event)

    def _finish(self, event: JobEvent) -> None:
        if isinstance(event, JobFinished):
            self._write(f"job {event.job_id} finished")
        elif isinstance(event, JobFailed):
            self._write(f"job {event.job_id} failed")
        elif isinstance(event, JobCancelled):
            self._write(f"job {event.job_id} cancelled")
        elif isinstance(event, JobRejected):
            self._write(f"job {event.job_id} rejected: the workflow is not valid\n{event.text}")
        if self.outcome is not None and not self.outcome.done():
            self.outcome.set_result(event)

    def dispose(self) -> None:
        if self._subscription is not None:
            self._subscription.dispose()
            self._subscription = None
